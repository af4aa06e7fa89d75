// The custom editor: a CustomDocument per open file (holding the server's document id) and a
// webview per editor, wired to VS Code's undo/redo, dirty marker, save, save as, revert,
// hot-exit backup, the clipboard, and changes of the file on disk.

import * as fs from "node:fs/promises";
import * as vscode from "vscode";
import { EditHistory } from "./editHistory";
import { ErrorCodes, RpcError, TomeServer } from "./rpc";
import { DocSession, type CursorStatus, type EditedEvent, type HostMessage, type WebviewMessage } from "./session";
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

/** `tome/didChangeOnDisk` params (docs/protocol.md). */
export interface DiskChange {
  doc: number;
  change: "appended" | "rewritten" | "truncated" | "replaced" | "deleted";
  message: string;
}

export class TomeDocument implements vscode.CustomDocument {
  /** A backup marker VS Code still holds: keep the journal when disposed (hot exit). */
  backupAlive = false;
  /** What the active webview last reported (cursor, selection, follow mode). */
  cursorStatus: CursorStatus | undefined;
  readonly panels = new Set<vscode.WebviewPanel>();
  private disposed = false;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    readonly uri: vscode.Uri,
    readonly server: TomeServer,
    readonly session: DocSession,
    readonly history: EditHistory,
  ) {}

  /**
   * Runs undo, redo and revert one at a time. VS Code does not wait for a revert to finish
   * before it sends the next undo, and a revert may take several server round trips.
   */
  serially<T>(task: () => Promise<T>): Promise<T> {
    const run = this.chain.then(task, task);
    this.chain = run.catch(() => undefined);
    return run;
  }

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
  /** Runs `task` under a progress UI fed by `$/progress` on `token` (default: a notification). */
  withServerProgress<T>(token: string, title: string, task: () => Promise<T>, location?: vscode.ProgressLocation): Promise<T>;
  sessions: Map<number, TomeDocument>;
  /** Shows the status of `document` in the status bar (undefined: hides it). */
  showStatus(document: TomeDocument | undefined): void;
  /** Posts to the webview of the active Tome editor. */
  activePost?: (m: HostMessage) => void;
  /** A line in the "Tome" output channel. */
  log(message: string): void;
}

const REVERT_COMMAND = "workbench.action.files.revert";
let tokenSeq = 1;

export class TomeEditorProvider implements vscode.CustomEditorProvider<TomeDocument> {
  private readonly changed = new vscode.EventEmitter<vscode.CustomDocumentEditEvent<TomeDocument>>();
  readonly onDidChangeCustomDocument = this.changed.event;
  private activeDocument: TomeDocument | undefined;

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
    const session = new DocSession(server, info, {
      progress: (token, title, task) => this.host.withServerProgress(token, `Tome: ${title.toLowerCase()}…`, task, vscode.ProgressLocation.Window),
      clipboard: vscode.env.clipboard,
      echoesShortcuts: true, // package.json binds Ctrl+G and Ctrl+F to tome.goToLine and tome.find
    });
    const recovered = info.recovery ? await this.offerRecovery(server, info, uri, openContext.backupId) : false;
    if (recovered) await session.refreshInfo();
    const document = new TomeDocument(uri, server, session, new EditHistory(recovered));
    this.host.sessions.set(info.doc, document);
    this.wire(document);
    return document;
  }

  /** A journal of unsaved changes was found: recover it (hot exit restores silently), or ask. */
  private async offerRecovery(server: TomeServer, info: OpenResult, uri: vscode.Uri, backupId: string | undefined): Promise<boolean> {
    let recover: boolean;
    if (backupId) {
      recover = await isTomeBackup(backupId);
    } else {
      const pick = await vscode.window.showWarningMessage(
        `${uri.fsPath} has ${info.recovery!.changes} unsaved change(s) from an earlier session.`,
        "Recover",
        "Discard",
      );
      recover = pick === "Recover";
      if (pick === "Discard") await server.request("tome/discardRecovery", { doc: info.doc });
    }
    if (!recover) return false;
    const r = await server.request<{ applied: number; stoppedEarly: string | null }>("tome/recover", { doc: info.doc });
    if (r.stoppedEarly) void vscode.window.showWarningMessage(`Tome recovered ${r.applied} change(s), then stopped: ${r.stoppedEarly}`);
    return true;
  }

  private wire(document: TomeDocument): void {
    const { session } = document;
    session.on("edited", (ev: EditedEvent) => this.onEdited(document, ev));
    session.on("status", (s: CursorStatus) => {
      document.cursorStatus = s;
      if (this.activeDocument === document) this.host.showStatus(document);
    });
    session.on("info", () => {
      if (this.activeDocument === document) this.host.showStatus(document);
    });
    session.on("warning", (message: string) => void vscode.window.showWarningMessage(message));
  }

  /** One VS Code undo entry per server undo step (edits that joined the last step add none). */
  private onEdited(document: TomeDocument, ev: EditedEvent): void {
    if (!ev.newStep) return;
    document.history.pushed();
    const generation = document.history.generation;
    this.changed.fire({
      document,
      label: ev.method === "tome/replaceAll" ? "Replace All" : "Edit",
      undo: () => this.undoRedo(document, generation, "tome/undo"),
      redo: () => this.undoRedo(document, generation, "tome/redo"),
    });
  }

  private undoRedo(document: TomeDocument, generation: number, method: "tome/undo" | "tome/redo"): Promise<void> {
    return document.serially(async () => {
      // An entry from before a reload: the server no longer has its change.
      if (generation !== document.history.generation) return;
      if (method === "tome/undo") document.history.undone();
      else document.history.redone();
      const r = await document.server.request<{ changed: boolean; offset: number | null }>(method, { doc: document.session.doc });
      await document.session.refresh(r.offset);
    });
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
    document.panels.add(panel);
    const sub = webview.onDidReceiveMessage((m: WebviewMessage) => {
      document.session.handle(m, post).catch((e: unknown) => void vscode.window.showErrorMessage(`Tome: ${String(e)}`));
    });
    const activate = (): void => {
      if (panel.active) {
        this.host.activePost = post;
        this.activeDocument = document;
        this.host.showStatus(document);
      } else if (this.host.activePost === post) {
        this.host.activePost = undefined;
        this.activeDocument = undefined;
        this.host.showStatus(undefined);
      }
    };
    activate();
    panel.onDidChangeViewState(activate);
    panel.onDidDispose(() => {
      if (this.host.activePost === post) {
        this.host.activePost = undefined;
        this.activeDocument = undefined;
        this.host.showStatus(undefined);
      }
      document.panels.delete(panel);
      detach();
      sub.dispose();
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

  /**
   * Saves run one at a time per document (with undo, redo and revert). VS Code may ask for a
   * second save while one runs: it then cancels the first, whose reply (-32800) comes before
   * the server has stopped writing, so the second waits for the first and retries while the
   * server still says it is busy.
   */
  private save(document: TomeDocument, method: string, extra: Record<string, unknown>, cancellation: vscode.CancellationToken): Promise<void> {
    return document.serially(async () => {
      if (cancellation.isCancellationRequested) throw new vscode.CancellationError();
      const token = `tome/save/${tokenSeq++}`;
      const ac = new AbortController();
      const sub = cancellation.onCancellationRequested(() => ac.abort());
      const started = Date.now();
      this.host.log(`${method} ${document.uri.fsPath}: started`);
      try {
        await this.host.withServerProgress(token, `Saving ${document.uri.fsPath}`, () =>
          whileBusy(() => document.server.request(method, { doc: document.session.doc, workDoneToken: token, ...extra }, ac.signal), ac.signal),
        );
      } catch (e) {
        this.host.log(`${method} ${document.uri.fsPath}: ${e instanceof Error ? e.message : String(e)} after ${Date.now() - started} ms`);
        throw e;
      } finally {
        sub.dispose();
      }
      this.host.log(`${method} ${document.uri.fsPath}: done in ${Date.now() - started} ms`);
      document.history.savedNow();
      await document.session.refreshInfo();
    });
  }

  /**
   * Revert goes back to the saved state by undoing (or redoing) on the server as many steps as
   * VS Code moves back, so VS Code's remaining undo entries still match the server's history
   * and Undo after Revert undoes what it says. When that does not lead to a clean document
   * (after a reload, a recovery, or edits that dropped the saved state), `tome/reload` reads the
   * file again and VS Code's older entries become no-ops.
   */
  revertCustomDocument(document: TomeDocument, _cancellation: vscode.CancellationToken): Promise<void> {
    return document.serially(async () => {
      if (!(await this.stepBackToSaved(document))) {
        await document.server.request("tome/reload", { doc: document.session.doc });
        document.history.reloaded();
      }
      await document.session.refresh();
    });
  }

  /** Undoes/redoes to the saved state; true if the server then says the document is clean. */
  private async stepBackToSaved(document: TomeDocument): Promise<boolean> {
    const steps = document.history.stepsToSaved();
    if (steps === null) return false;
    const method = steps > 0 ? "tome/undo" : "tome/redo";
    for (let i = 0; i < Math.abs(steps); i++) {
      const r = await document.server.request<{ changed: boolean }>(method, { doc: document.session.doc });
      if (!r.changed) return false;
    }
    if ((await document.session.refreshInfo()).dirty) return false;
    document.history.reverted();
    return true;
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

  // -------------------------------------------------------------------------------------------
  // The file changed on disk (`tome/didChangeOnDisk`)

  async onDiskChange(p: DiskChange, follow: boolean): Promise<void> {
    const document = this.host.sessions.get(p.doc);
    if (!document) return;
    const info = await document.session.refreshInfo();
    if (p.change === "appended") {
      // The server already added the new bytes: the views extend (and follow the end).
      document.session.broadcast({ type: "diskChange", change: p.change, message: p.message, info, follow });
      return;
    }
    const name = document.uri.fsPath;
    // A deleted file has nothing to reload: only writing it again makes sense.
    const actions = p.change === "deleted" ? ["Keep Mine"] : ["Reload", "Keep Mine"];
    const pick = await vscode.window.showWarningMessage(`${name}: ${p.message}`, ...actions);
    try {
      if (pick === "Reload") await this.reloadFromDisk(document);
      else if (pick === "Keep Mine") await this.keepMine(document);
    } catch (e) {
      void vscode.window.showErrorMessage(`Tome: ${pick} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Takes the file's new content: unsaved edits and the undo history are dropped. */
  async reloadFromDisk(document: TomeDocument): Promise<void> {
    const vscodeDirty = document.history.dirty;
    await document.serially(async () => {
      await document.server.request<DocInfo>("tome/reload", { doc: document.session.doc });
      document.history.reloaded();
      await document.session.refresh();
    });
    // VS Code still counts its undo entries as unsaved changes: its own Revert clears them
    // (ours then finds the document clean and does nothing more).
    if (vscodeDirty) await this.revertInVsCode(document);
  }

  /** Runs VS Code's Revert on this document's editor, only if it is the active one. */
  private async revertInVsCode(document: TomeDocument): Promise<void> {
    const panel = [...document.panels][0];
    if (!panel) return;
    panel.reveal();
    const tab = vscode.window.tabGroups.activeTabGroup.activeTab;
    const input = tab?.input;
    if (input instanceof vscode.TabInputCustom && input.viewType === VIEW_TYPE && input.uri.toString() === document.uri.toString()) {
      await vscode.commands.executeCommand(REVERT_COMMAND);
    }
  }

  /** Writes this version over the file: through VS Code's save when it has unsaved changes. */
  async keepMine(document: TomeDocument): Promise<void> {
    if (document.history.dirty) {
      await vscode.workspace.save(document.uri);
      return;
    }
    await this.save(document, "tome/save", {}, new vscode.CancellationTokenSource().token);
  }
}

/** Runs `request` again while the server answers "busy" (a save still winding down), up to 10 s. */
async function whileBusy<T>(request: () => Promise<T>, signal: AbortSignal): Promise<T> {
  for (let waited = 0; ; waited += 50) {
    try {
      return await request();
    } catch (e) {
      if (!(e instanceof RpcError && e.code === ErrorCodes.Busy) || waited >= 10_000 || signal.aborted) throw e;
    }
    await new Promise((r) => setTimeout(r, 50));
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
