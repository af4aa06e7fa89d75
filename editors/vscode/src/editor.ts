// The custom editor: a CustomDocument per open file (holding the server's document id) and a
// webview per editor, wired to VS Code's undo/redo, dirty marker, save, save as, revert and
// hot-exit backup.

import * as fs from "node:fs/promises";
import * as vscode from "vscode";
import { TomeServer } from "./rpc";
import { DocSession, type EditedEvent, type HostMessage, type WebviewMessage } from "./session";
import type { DocInfo } from "./viewport";
import { makeNonce, renderHtml } from "./webviewHtml";

export const VIEW_TYPE = "tome.largeFile";

interface OpenResult extends DocInfo {
  recovery: { changes: number } | null;
}

/** What a hot-exit backup file holds: the changes themselves live in Tome's journal. */
interface BackupMarker {
  tomeBackup: 1;
  path: string;
  version: number;
}

export class TomeDocument implements vscode.CustomDocument {
  /** A backup marker VS Code still holds: keep the journal when disposed (hot exit). */
  backupAlive = false;
  private disposed = false;

  constructor(
    readonly uri: vscode.Uri,
    readonly server: TomeServer,
    readonly session: DocSession,
  ) {}

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    // `tome/close` deletes the journal: keep it while VS Code holds a backup of this document.
    if (!this.backupAlive) void this.server.request("tome/close", { doc: this.session.doc }).catch(() => undefined);
  }
}

export interface ServerHost {
  /** The running server, started on first use. Throws with a message for people. */
  get(): Promise<TomeServer>;
  /** Runs `task` under a progress notification fed by `$/progress` on `token`. */
  withServerProgress<T>(token: string, title: string, task: () => Promise<T>): Promise<T>;
  sessions: Map<number, TomeDocument>;
  setStatus(text: string | undefined): void;
  /** Posts to the webview of the active Tome editor. */
  activePost?: (m: HostMessage) => void;
}

let tokenSeq = 1;

export class TomeEditorProvider implements vscode.CustomEditorProvider<TomeDocument> {
  private readonly changed = new vscode.EventEmitter<vscode.CustomDocumentEditEvent<TomeDocument>>();
  readonly onDidChangeCustomDocument = this.changed.event;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly host: ServerHost,
  ) {}

  async openCustomDocument(
    uri: vscode.Uri,
    openContext: vscode.CustomDocumentOpenContext,
    _token: vscode.CancellationToken,
  ): Promise<TomeDocument> {
    if (uri.scheme !== "file") throw new Error(`Tome opens files on this machine only, not ${uri.scheme}: URIs`);
    const server = await this.host.get();
    const info = await server.request<OpenResult>("tome/open", { path: uri.fsPath });
    const session = new DocSession(server, info);
    const document = new TomeDocument(uri, server, session);
    this.host.sessions.set(info.doc, document);

    if (info.recovery) {
      let recover = false;
      if (openContext.backupId) {
        // Hot exit: VS Code restores the backup; the changes are in Tome's journal.
        recover = await isTomeBackup(openContext.backupId);
      } else {
        const pick = await vscode.window.showWarningMessage(
          `${uri.fsPath} has ${info.recovery.changes} unsaved change(s) from an earlier session.`,
          "Recover",
          "Discard",
        );
        recover = pick === "Recover";
        if (pick === "Discard") await server.request("tome/discardRecovery", { doc: info.doc });
      }
      if (recover) {
        const r = await server.request<{ applied: number; stoppedEarly: string | null }>("tome/recover", { doc: info.doc });
        if (r.stoppedEarly) void vscode.window.showWarningMessage(`Tome recovered ${r.applied} change(s), then stopped: ${r.stoppedEarly}`);
        await session.refreshInfo();
      }
    }

    session.on("edited", (ev: EditedEvent) => {
      this.changed.fire({
        document,
        label: ev.method === "tome/replaceAll" ? "Replace All" : "Edit",
        undo: () => this.undoRedo(document, "tome/undo"),
        redo: () => this.undoRedo(document, "tome/redo"),
      });
    });
    session.on("status", (text: string) => this.host.setStatus(text));
    return document;
  }

  private async undoRedo(document: TomeDocument, method: "tome/undo" | "tome/redo"): Promise<void> {
    const r = await document.server.request<{ changed: boolean; offset: number | null }>(method, { doc: document.session.doc });
    await document.session.refresh(r.offset);
  }

  async resolveCustomEditor(document: TomeDocument, panel: vscode.WebviewPanel, _token: vscode.CancellationToken): Promise<void> {
    const webview = panel.webview;
    const root = this.context.extensionUri;
    webview.options = {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(root, "out", "webview"), vscode.Uri.joinPath(root, "media")],
    };
    webview.html = renderHtml({
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(root, "out", "webview", "editor.js")).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(root, "media", "editor.css")).toString(),
      cspSource: webview.cspSource,
      nonce: makeNonce(),
    });
    const post = (m: HostMessage): void => void webview.postMessage(m);
    const detach = document.session.attach(post);
    const sub = webview.onDidReceiveMessage((m: WebviewMessage) => {
      document.session.handle(m, post).catch((e: unknown) => this.host.setStatus(String(e)));
    });
    if (panel.active) this.host.activePost = post;
    panel.onDidChangeViewState(() => {
      if (panel.active) this.host.activePost = post;
      else {
        if (this.host.activePost === post) this.host.activePost = undefined;
        this.host.setStatus(undefined);
      }
    });
    panel.onDidDispose(() => {
      if (this.host.activePost === post) this.host.activePost = undefined;
      detach();
      sub.dispose();
      this.host.setStatus(undefined);
    });
  }

  async saveCustomDocument(document: TomeDocument, cancellation: vscode.CancellationToken): Promise<void> {
    await this.save(document, "tome/save", {}, cancellation);
  }

  async saveCustomDocumentAs(document: TomeDocument, destination: vscode.Uri, cancellation: vscode.CancellationToken): Promise<void> {
    if (destination.scheme !== "file") throw new Error("Tome saves to files on this machine only");
    // Note: tome/saveAs rebinds the server's document to the new path; VS Code then opens the
    // destination in a new editor.
    await this.save(document, "tome/saveAs", { path: destination.fsPath }, cancellation);
  }

  private async save(
    document: TomeDocument,
    method: string,
    extra: Record<string, unknown>,
    cancellation: vscode.CancellationToken,
  ): Promise<void> {
    const token = `tome/save/${tokenSeq++}`;
    const ac = new AbortController();
    const sub = cancellation.onCancellationRequested(() => ac.abort());
    try {
      await this.host.withServerProgress(token, `Saving ${document.uri.fsPath}`, () =>
        document.server.request(method, { doc: document.session.doc, workDoneToken: token, ...extra }, ac.signal),
      );
    } finally {
      sub.dispose();
    }
    await document.session.refreshInfo();
  }

  async revertCustomDocument(document: TomeDocument, _cancellation: vscode.CancellationToken): Promise<void> {
    await document.server.request("tome/reload", { doc: document.session.doc });
    await document.session.refresh();
  }

  /**
   * Hot exit. Writing a multi-GB file on every backup (VS Code backs up ~1 s after each change)
   * would be far too slow, and `tome/saveAs` would rebind the document to the backup path. The
   * unsaved changes are already in Tome's journal (fsynced every 200 ms), so the backup is a
   * small marker naming the file; on restore, `tome/open` reports the journal and we
   * `tome/recover` it. While the marker lives the document keeps its journal when disposed.
   */
  async backupCustomDocument(
    document: TomeDocument,
    context: vscode.CustomDocumentBackupContext,
    _cancellation: vscode.CancellationToken,
  ): Promise<vscode.CustomDocumentBackup> {
    const marker: BackupMarker = { tomeBackup: 1, path: document.uri.fsPath, version: document.session.info.version };
    await vscode.workspace.fs.writeFile(context.destination, Buffer.from(JSON.stringify(marker)));
    document.backupAlive = true;
    return {
      id: context.destination.toString(),
      delete: () => {
        document.backupAlive = false;
        void vscode.workspace.fs.delete(context.destination).then(undefined, () => undefined);
      },
    };
  }
}

async function isTomeBackup(backupId: string): Promise<boolean> {
  try {
    const uri = vscode.Uri.parse(backupId);
    const text = uri.scheme === "file" ? await fs.readFile(uri.fsPath, "utf8") : Buffer.from(await vscode.workspace.fs.readFile(uri)).toString("utf8");
    return (JSON.parse(text) as Partial<BackupMarker>).tomeBackup === 1;
  } catch {
    return false;
  }
}
