// The custom editor: a CustomDocument per open file (holding the server's document id) and a
// webview per editor, wired to VS Code's undo/redo, dirty marker, save, save as, revert,
// hot-exit backup, the clipboard, and changes of the file on disk.

import { randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import * as vscode from "vscode";
import { EditHistory } from "./editHistory";
import { DEFAULT_WORD_SEPARATORS } from "./words";
import { readAppearance } from "./appearance";
import {
  ErrorCodes,
  type CursorStatus,
  type DiskChange,
  type DocInfo,
  type FilterInfo,
  type FilterQuery,
  type FindToggles,
  type HostMessage,
  type InterruptedSaveData,
  type OpenResult,
  type SaveResult,
  type WebviewMessage,
  type RuleStyle,
} from "./protocol";
import { RpcError, TomeServer } from "./rpc";
import { FilterSession } from "./filterSession";
import { filterUriNonce, filterUriParts, parseFilterUri } from "./filterUri";
import { DocSession, type EditedEvent, type SessionHooks } from "./session";
import { journalWarning } from "./statusBar";
import { makeNonce, renderHtml } from "./webviewHtml";
import { DEFAULT_WRAP, type WordWrapMode, type WrapSettings } from "./wrap";

export const VIEW_TYPE = "tome.largeFile";

/**
 * The scheme of a recovered copy's editor: an untitled document of the server, opened in a new
 * Tome tab; its Save asks for a path (Save As).
 */
export const RECOVERED_SCHEME = "tome-recovered";

/**
 * The scheme of a filter view's editor (filterSession.ts): `tome-filter:<source path> [<label>]?…`,
 * the query holding what makes the view again after a window reload (filterUri.ts). The same
 * custom editor and webview as a file's, fed from a filter of the server; nothing of it is
 * saved (its edits, undo steps and saves are the source's).
 */
export const FILTER_SCHEME = "tome-filter";

/** A recovered copy made by `tome/recoverAsNew`, waiting for VS Code to open its editor. */
interface PendingCopy {
  info: DocInfo;
  /** The file's own document, which holds the journal (for `tome/discardRecovery`). */
  fromDoc: number;
  fromPath: string;
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
  /** What the active webview last reported (cursor, selection, follow mode). */
  cursorStatus: CursorStatus | undefined;
  readonly panels = new Set<vscode.WebviewPanel>();
  private disposed = false;
  private chain: Promise<unknown> = Promise.resolve();
  /**
   * A recovered copy (untitled on the server): Save asks for a path, and once saved the journal
   * it came from is discarded. Null for a file's own document.
   */
  recoveredCopy: { fromDoc: number; fromPath: string; savedTo: string | null } | null = null;
  /**
   * Opened with changes VS Code does not know of (recovered on the user's word, or a recovered
   * copy): its first editor tells VS Code the document is modified, so closing asks to save.
   */
  announceDirty = false;
  /** `journalError` as last told to the user (warned once each time it becomes set). */
  journalWarned: string | null = null;
  /** A filter view's source document (its settings are the source's); undefined for a file's own. */
  filterOf: TomeDocument | undefined;
  /** A filter view told VS Code it is dirty (its source is): see TomeEditorProvider.mirrorDirty. */
  markedDirty = false;
  /** A filter view's save (its source's) is under way. */
  saving = false;

  /** The resource whose `editor.*` settings apply. */
  get settingsUri(): vscode.Uri {
    return this.filterOf?.uri ?? this.uri;
  }

  constructor(
    readonly uri: vscode.Uri,
    readonly server: TomeServer,
    readonly session: DocSession,
    readonly history: EditHistory,
  ) {}

  /** A recovered copy not saved anywhere yet: Save must be Save As. */
  get needsSaveAs(): boolean {
    return !!this.recoveredCopy && this.recoveredCopy.savedTo === null;
  }

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
    this.session.dispose();
    // `tome/close` deletes the journal: keep it while VS Code holds a backup of this document.
    // A filter view's session closes the filter instead (`tome/closeFilter`).
    if (!this.backupAlive) void this.session.closeOnServer().catch(() => undefined);
    this.session.emit("closed");
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
  /** How the highlight rules the server has are drawn (`tome.highlightRules`). */
  ruleStyles?(): RuleStyle[];
  /** The find toggles remembered for the workspace (VS Code keeps its own in workspace storage). */
  findToggles?: { get(): FindToggles | undefined; set(t: FindToggles): void };
}

const REVERT_COMMAND = "workbench.action.files.revert";
let tokenSeq = 1;

export class TomeEditorProvider implements vscode.CustomEditorProvider<TomeDocument> {
  private readonly changed = new vscode.EventEmitter<vscode.CustomDocumentEditEvent<TomeDocument> | vscode.CustomDocumentContentChangeEvent<TomeDocument>>();
  readonly onDidChangeCustomDocument = this.changed.event;
  private activeDocument: TomeDocument | undefined;
  private activePanel: vscode.WebviewPanel | undefined;
  /** The document of the active Tome editor, if one is active. */
  get active(): TomeDocument | undefined {
    return this.activeDocument;
  }
  private readonly pendingCopies = new Map<number, PendingCopy>();
  /** Filter views made by `openFilter`, waiting for VS Code to open their editor (by their URI's nonce). */
  private readonly pendingFilters = new Map<string, { session: FilterSession; source: TomeDocument }>();
  /** The open filter views (not in `host.sessions`, which is by server document). */
  readonly filterViews = new Set<TomeDocument>();

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly host: ServerHost,
  ) {}

  async openCustomDocument(uri: vscode.Uri, openContext: vscode.CustomDocumentOpenContext, _token: vscode.CancellationToken): Promise<TomeDocument> {
    if (uri.scheme === RECOVERED_SCHEME) return this.openRecoveredCopy(uri);
    if (uri.scheme === FILTER_SCHEME) return this.openFilterView(uri);
    if (uri.scheme !== "file") throw new Error(`Tome opens files on this machine only, not ${uri.scheme}: URIs`);
    const started = Date.now();
    const server = await this.host.get();
    const info = await this.openAsking(server, uri);
    this.host.log(`tome/open ${uri.fsPath}: ${Date.now() - started} ms (server ready and the open's reply)`);
    for (const w of info.warnings ?? []) void vscode.window.showWarningMessage(`Tome: ${w.message}`);
    const session = this.newSession(server, info, uri);
    const recovered = info.recovery ? await this.offerRecovery(server, info, uri, openContext.backupId) : false;
    if (recovered) await session.refreshInfo();
    const document = this.newDocument(uri, server, session, recovered);
    // A hot-exit restore is modified in VS Code's eyes already.
    document.announceDirty = recovered && !openContext.backupId;
    return document;
  }

  /**
   * `tome/open`, asking the user first when an in-place save of the file was interrupted (the
   * server never restores its backup by itself): restore the file as it was before that save,
   * keep it as it is (the backup is deleted), or decide later (open it as it is; asked again
   * at the next open).
   */
  private async openAsking(server: TomeServer, uri: vscode.Uri): Promise<OpenResult> {
    try {
      return await server.request("tome/open", { path: uri.fsPath });
    } catch (e) {
      if (!(e instanceof RpcError) || e.code !== ErrorCodes.InterruptedSave) throw e;
      const d = e.data as InterruptedSaveData;
      const when = new Date(d.savedMtimeMs).toLocaleString();
      const detail =
        `A save of this file was interrupted (the Tome server died while writing it). The file as it was before ` +
        `that save (modified ${when}) is in ${d.backup}.` +
        (d.changedSince ? " The file has been changed by another program since: restoring would lose those changes." : "");
      const pick = await vscode.window.showWarningMessage(
        `${uri.fsPath}: an interrupted save left a backup.`,
        { modal: true, detail },
        "Restore Backup",
        "Keep File as It Is",
      );
      const choice = pick === "Restore Backup" ? "restore" : pick === "Keep File as It Is" ? "discard" : "keep";
      return server.request("tome/open", { path: uri.fsPath, interruptedSave: choice });
    }
  }

  private newSession(server: TomeServer, info: DocInfo, uri: vscode.Uri): DocSession {
    return new DocSession(server, info, this.sessionHooks(uri));
  }

  private sessionHooks(uri: vscode.Uri): SessionHooks {
    return {
      progress: (token, title, task) => this.host.withServerProgress(token, `Tome: ${title.toLowerCase()}…`, task, vscode.ProgressLocation.Window),
      clipboard: vscode.env.clipboard,
      echoesShortcuts: true, // package.json binds Ctrl+G, Ctrl+F and Ctrl+H to tome.goToLine, tome.find and tome.replace
      highlighting: () => vscode.workspace.getConfiguration("tome").get<boolean>("highlighting", true),
      rules: () => this.host.ruleStyles?.() ?? [],
      findToggles: this.host.findToggles,
      settings: () => {
        const c = vscode.workspace.getConfiguration("editor", uri);
        return {
          wordSeparators: c.get<string>("wordSeparators") ?? DEFAULT_WORD_SEPARATORS,
          tabSize: Math.max(1, Number(c.get("tabSize")) || 4),
          insertSpaces: c.get<boolean>("insertSpaces") ?? true,
          appearance: readAppearance((key) => c.get(key)),
        };
      },
      wrap: () => readWrapSettings(uri),
    };
  }

  /**
   * Opens the view of a filter of `root` (made by "Tome: Filter Lines…", filterCommand.ts) in
   * an editor beside the active one. Closing that editor closes the filter.
   */
  async openFilter(root: DocSession, info: FilterInfo, label: string, query: FilterQuery): Promise<void> {
    const source = this.host.sessions.get(root.doc);
    if (!source) {
      void this.host.get().then((s) => s.request("tome/closeFilter", { filter: info.filter }).catch(() => undefined));
      throw new Error("the source document is closed");
    }
    const session = this.newFilterSession(source, info, label, query);
    const nonce = `${info.filter}-${randomBytes(6).toString("hex")}`;
    this.pendingFilters.set(nonce, { session, source });
    const uri = vscode.Uri.from({ scheme: FILTER_SCHEME, ...filterUriParts({ path: source.uri.fsPath, label, query }, nonce) });
    try {
      await vscode.commands.executeCommand("vscode.openWith", uri, VIEW_TYPE, vscode.ViewColumn.Beside);
    } catch (e) {
      this.pendingFilters.delete(nonce);
      session.dispose();
      void session.closeOnServer().catch(() => undefined);
      throw e;
    }
  }

  private newFilterSession(source: TomeDocument, info: FilterInfo, label: string, query: FilterQuery): FilterSession {
    const session = new FilterSession(source.server, source.session, info, label, {
      ...this.sessionHooks(source.uri),
      reveal: (line, offset) => this.revealInSource(source, line, offset),
    });
    session.query = query;
    return session;
  }

  /**
   * The editor of a filter view: one `openFilter` asked VS Code to open, or one VS Code reopens
   * by itself (a window reload, a restart with hot exit), whose filter the server no longer
   * has: made again from its URI (filterUri.ts) on the source, whose editor is opened when it
   * is not (VS Code may be reopening it too: waited for a moment first).
   */
  private async openFilterView(uri: vscode.Uri): Promise<TomeDocument> {
    const nonce = filterUriNonce(uri.query);
    let pending = nonce === undefined ? undefined : this.pendingFilters.get(nonce);
    if (nonce !== undefined) this.pendingFilters.delete(nonce);
    if (!pending) {
      const spec = parseFilterUri(uri.query);
      if (!spec) throw new Error("This filter view is gone (the Tome server that held it has stopped). Run Tome: Filter Lines… again.");
      const source = await this.sourceDocument(spec.path);
      const info = await source.server.request("tome/filter", { doc: source.session.doc, query: spec.query });
      pending = { session: this.newFilterSession(source, info, spec.label, spec.query), source };
      this.host.log(`filter view of ${spec.path} [${spec.label}] made again (filter ${info.filter})`);
    }
    const document = new TomeDocument(uri, pending.source.server, pending.session, new EditHistory(false));
    document.filterOf = pending.source;
    this.filterViews.add(document);
    pending.session.once("closed", () => this.filterViews.delete(document));
    this.wire(document);
    this.mirrorDirty(document);
    return document;
  }

  /** The Tome document of file `path`: open already, opened by VS Code meanwhile, or opened here. */
  private async sourceDocument(path: string): Promise<TomeDocument> {
    const find = (): TomeDocument | undefined => [...this.host.sessions.values()].find((d) => d.uri.scheme === "file" && d.uri.fsPath === path && !d.recoveredCopy);
    const wait = async (ms: number): Promise<TomeDocument | undefined> => {
      for (let t = 0; t <= ms; t += 100) {
        const d = find();
        if (d) return d;
        await new Promise((r) => setTimeout(r, 100));
      }
      return undefined;
    };
    const soon = await wait(1500);
    if (soon) return soon;
    // A tab of the file shown in its group is being opened by VS Code itself (a window reload
    // opens the visible editors): opening it again then would race that open, so wait for it.
    // One hidden in its group is opened where it is (not as a second editor); else the file
    // opens beside.
    const tab = vscode.window.tabGroups.all
      .flatMap((g) => g.tabs)
      .find((t) => t.input instanceof vscode.TabInputCustom && t.input.viewType === VIEW_TYPE && t.input.uri.scheme === "file" && t.input.uri.fsPath === path);
    if (!tab?.isActive) {
      await vscode.commands.executeCommand("vscode.openWith", vscode.Uri.file(path), VIEW_TYPE, {
        viewColumn: tab?.group.viewColumn ?? vscode.ViewColumn.Beside,
        preserveFocus: true,
        preview: false,
      });
    }
    const opened = await wait(120_000);
    if (!opened) throw new Error(`${path} did not open: the filter view cannot be made again`);
    return opened;
  }

  /**
   * A filter view's tab shows its source's dirty state. VS Code marks a custom document dirty
   * only through its change events and clean only when it saves or reverts it: a content
   * change marks the view dirty when its source becomes so, and once the source is clean again
   * (saved from either tab, or undone back to its saved state) VS Code is asked to save the
   * view, which saves nothing of its own (saveCustomDocument) and so clears the marker.
   */
  private mirrorDirty(view: TomeDocument): void {
    const source = view.filterOf!;
    const sync = (): void => {
      if (source.history.dirty && !view.markedDirty) {
        view.markedDirty = true;
        this.changed.fire({ document: view });
      } else if (!source.history.dirty && view.markedDirty && !view.saving) {
        view.markedDirty = false;
        void Promise.resolve(vscode.workspace.save(view.uri)).catch(() => undefined);
      }
    };
    const events = ["edited", "info", "changed"] as const;
    for (const e of events) source.session.on(e, sync);
    view.session.once("closed", () => {
      for (const e of events) source.session.off(e, sync);
    });
    sync();
  }

  /**
   * Ctrl+Z / Ctrl+Y in a filter view: VS Code's Undo / Redo of the source's editor, which
   * is made active for it, then the view again. VS Code keeps one undo stack per document and
   * routes Undo to the active editor's; the view's edits are steps of the source (its stack
   * has them, in order with the edits made in the source's own editor), so undoing there keeps
   * that stack, the server's history and the source's dirty marker in step.
   */
  async undoInSource(redo: boolean): Promise<void> {
    const view = this.activeDocument;
    const back = this.activePanel;
    const source = view?.filterOf;
    if (!view || !source || !back) return;
    const panel = [...source.panels][0];
    if (!panel) {
      void vscode.window.showInformationMessage(`Tome: the editor of ${source.uri.fsPath} is closed; reopen it to undo there.`);
      return;
    }
    panel.reveal(panel.viewColumn, false);
    for (let t = 0; t < 40 && this.activeDocument !== source; t++) await new Promise((r) => setTimeout(r, 50));
    if (this.activeDocument !== source) return;
    await vscode.commands.executeCommand(redo ? "redo" : "undo");
    back.reveal(back.viewColumn, false);
  }

  /** A filter view's Enter or double-click: the source's editor shows source line `line`, with the cursor on it. */
  private revealInSource(source: TomeDocument, line: number, offset: number): void {
    const panel = [...source.panels][0];
    if (!panel) {
      void vscode.window.showInformationMessage(`Tome: the editor of ${source.uri.fsPath} is closed; reopen it to see line ${line + 1}.`);
      return;
    }
    panel.reveal(panel.viewColumn, false);
    void panel.webview.postMessage({ type: "gotoOffset", offset, line } satisfies HostMessage);
  }

  private newDocument(uri: vscode.Uri, server: TomeServer, session: DocSession, openedDirty: boolean): TomeDocument {
    const document = new TomeDocument(uri, server, session, new EditHistory(openedDirty));
    this.host.sessions.set(session.doc, document);
    this.wire(document);
    return document;
  }

  /** The editor of a recovered copy that `offerRecovery` asked VS Code to open. */
  private async openRecoveredCopy(uri: vscode.Uri): Promise<TomeDocument> {
    const id = Number(new URLSearchParams(uri.query).get("doc"));
    const pending = this.pendingCopies.get(id);
    if (!pending) {
      // VS Code restores such a tab after a restart; the server's untitled document is gone.
      throw new Error(
        "This recovered copy is gone (the Tome server that held it has stopped). Open the file again: Tome offers its unsaved changes until they are discarded.",
      );
    }
    this.pendingCopies.delete(id);
    const server = await this.host.get();
    const document = this.newDocument(uri, server, this.newSession(server, pending.info, uri), true);
    document.recoveredCopy = { fromDoc: pending.fromDoc, fromPath: pending.fromPath, savedTo: null };
    document.announceDirty = true;
    return document;
  }

  /**
   * A journal of unsaved changes was found. If it still fits the file: recover it (hot exit
   * restores silently), or ask. If the file changed since, it can only be replayed into a new
   * untitled document (`tome/recoverAsNew`), which opens in a tab of its own.
   */
  private async offerRecovery(server: TomeServer, info: OpenResult, uri: vscode.Uri, backupId: string | undefined): Promise<boolean> {
    const recovery = info.recovery!;
    if (recovery.fits === false) {
      await this.offerRecoveredCopy(server, info, uri);
      return false;
    }
    let recover: boolean;
    if (backupId) {
      recover = await isTomeBackup(backupId);
    } else {
      const pick = await vscode.window.showWarningMessage(`${uri.fsPath} has ${recovery.changes} unsaved change(s) from an earlier session.`, "Recover", "Discard");
      recover = pick === "Recover";
      if (pick === "Discard") await server.request("tome/discardRecovery", { doc: info.doc });
    }
    if (!recover) return false;
    const r = await server.request("tome/recover", { doc: info.doc });
    if (r.stoppedEarly) void vscode.window.showWarningMessage(`Tome recovered ${r.applied} change(s), then stopped: ${r.stoppedEarly}`);
    return true;
  }

  /**
   * The file changed since its journal was written: `tome/recover` would refuse (-33010). Offer
   * the changes as a copy (the file as it is now, with the journal's changes), or discarding
   * them. Dismissing the prompt keeps the journal: the next open asks again.
   */
  private async offerRecoveredCopy(server: TomeServer, info: OpenResult, uri: vscode.Uri): Promise<void> {
    const pick = await vscode.window.showWarningMessage(
      `${uri.fsPath} has ${info.recovery!.changes} unsaved change(s) from an earlier session, but the file changed since. ` +
        "They can be opened as a recovered copy (the file as it is now with those changes; check it before saving), or discarded.",
      "Open Recovered Copy",
      "Discard",
    );
    if (pick === "Discard") {
      await server.request("tome/discardRecovery", { doc: info.doc });
      return;
    }
    if (pick !== "Open Recovered Copy") return;
    const r = await server.request("tome/recoverAsNew", { doc: info.doc });
    if (r.stoppedEarly) void vscode.window.showWarningMessage(`Tome recovered ${r.applied} change(s) into the copy, then stopped: ${r.stoppedEarly}`);
    this.pendingCopies.set(r.document.doc, { info: r.document, fromDoc: info.doc, fromPath: uri.fsPath });
    const copy = vscode.Uri.from({ scheme: RECOVERED_SCHEME, path: recoveredName(uri.path), query: `doc=${r.document.doc}` });
    // Not awaited: VS Code opens the copy's editor once this document is open.
    void Promise.resolve(vscode.commands.executeCommand("vscode.openWith", copy, VIEW_TYPE)).catch((e: unknown) => {
      this.pendingCopies.delete(r.document.doc);
      void server.request("tome/close", { doc: r.document.doc }).catch(() => undefined);
      void vscode.window.showErrorMessage(`Tome: could not open the recovered copy: ${e instanceof Error ? e.message : String(e)}`);
    });
  }

  private wire(document: TomeDocument): void {
    const { session } = document;
    session.on("edited", (ev: EditedEvent) => {
      this.onEdited(document, ev);
      // (bookmarks move with the edits: the gutter follows)
      session.refreshBookmarks();
    });
    // (those the server kept for this file, in the open's reply)
    session.setBookmarks(session.info.bookmarks ?? []);
    session.on("status", (s: CursorStatus) => {
      document.cursorStatus = s;
      if (this.activeDocument === document) this.host.showStatus(document);
    });
    session.on("info", (info: DocInfo) => {
      this.noteJournal(document, info);
      if (this.activeDocument === document) this.host.showStatus(document);
    });
    this.noteJournal(document, session.info);
    session.on("warning", (message: string) => void vscode.window.showWarningMessage(message));
    session.on("refused", (message: string) => void vscode.window.showErrorMessage(message));
  }

  /**
   * The journal stopped recording edits (`journalError`: its disk is full or failing): a warning,
   * once each time it becomes set (the status bar shows a marker while it is set). A save or a
   * reload restarts it.
   */
  private noteJournal(document: TomeDocument, info: DocInfo): void {
    const reason = info.journalError ?? null;
    const was = document.journalWarned;
    document.journalWarned = reason;
    if (reason && !was) void vscode.window.showWarningMessage(journalWarning(document.uri.fsPath || info.path, reason));
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
      document.session.beginChange(); // edits the webview made before it hears of this: refused
      const r = await document.server.request(method, { doc: document.session.doc });
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
        this.activePanel = panel;
        this.host.showStatus(document);
        // (package.json binds Ctrl+Z and Ctrl+Y in a filter view to the source's undo and redo)
        void vscode.commands.executeCommand("setContext", "tome.filterView", document.session instanceof FilterSession);
      } else if (this.host.activePost === post) {
        this.host.activePost = undefined;
        this.activeDocument = undefined;
        this.host.showStatus(undefined);
      }
    };
    activate();
    panel.onDidChangeViewState(activate);
    if (document.announceDirty) {
      document.announceDirty = false;
      this.changed.fire({ document });
    }
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
    if (document.session instanceof FilterSession) {
      // Nothing of its own (its edits are the source's): Ctrl+S in the view saves the source,
      // through VS Code (so the source's tab is clean too); then VS Code clears the view's marker.
      const source = document.filterOf;
      if (!source || !source.history.dirty) return;
      document.saving = true;
      try {
        const saved = await vscode.workspace.save(source.uri);
        if (!saved && source.history.dirty) throw new Error(`Tome: ${source.uri.fsPath} was not saved`);
      } finally {
        document.saving = false;
      }
      document.markedDirty = false;
      return;
    }
    if (document.needsSaveAs) {
      // A recovered copy has no file yet: Save is Save As.
      const destination = await vscode.window.showSaveDialog({
        defaultUri: vscode.Uri.file(recoveredName(document.recoveredCopy!.fromPath)),
        saveLabel: "Save Recovered Copy",
        title: `Save the recovered changes of ${document.recoveredCopy!.fromPath}`,
      });
      if (!destination) throw new vscode.CancellationError();
      await this.saveCustomDocumentAs(document, destination, cancellation);
      return;
    }
    await this.save(document, "tome/save", {}, cancellation);
  }

  async saveCustomDocumentAs(document: TomeDocument, destination: vscode.Uri, cancellation: vscode.CancellationToken): Promise<void> {
    if (document.session instanceof FilterSession) throw new Error("Tome: a filter view is saved through its source's editor");
    if (destination.scheme !== "file") throw new Error("Tome saves to files on this machine only");
    // Note: tome/saveAs rebinds the server's document to the new path; VS Code then opens the
    // destination in a new editor.
    await this.save(document, "tome/saveAs", { path: destination.fsPath }, cancellation);
    const copy = document.recoveredCopy;
    if (copy && copy.savedTo === null) {
      copy.savedTo = destination.fsPath;
      // The changes are safe in the new file: the journal they came from is not needed any
      // more (else every open of the file would offer them again). Fails harmlessly when the
      // file's document was closed meanwhile.
      await document.server.request("tome/discardRecovery", { doc: copy.fromDoc }).catch(() => undefined);
    }
  }

  /**
   * Saves run one at a time per document (with undo, redo and revert). VS Code may ask for a
   * second save while one runs: it then cancels the first, whose reply (-32800) comes before
   * the server has stopped writing, so the second waits for the first and retries while the
   * server still says it is busy.
   */
  private save(document: TomeDocument, method: "tome/save" | "tome/saveAs", extra: { path?: string }, cancellation: vscode.CancellationToken): Promise<void> {
    return document.serially(async () => {
      if (cancellation.isCancellationRequested) throw new vscode.CancellationError();
      const token = `tome/save/${tokenSeq++}`;
      const ac = new AbortController();
      const sub = cancellation.onCancellationRequested(() => ac.abort());
      const started = Date.now();
      this.host.log(`${method} ${document.uri.fsPath}: started`);
      let saved: SaveResult;
      try {
        saved = await this.host.withServerProgress(token, `Saving ${document.uri.fsPath}`, () =>
          whileBusy(() => document.server.request(method, { doc: document.session.doc, workDoneToken: token, ...extra }, ac.signal), ac.signal),
        );
      } catch (e) {
        this.host.log(`${method} ${document.uri.fsPath}: ${e instanceof Error ? e.message : String(e)} after ${Date.now() - started} ms`);
        throw e;
      } finally {
        sub.dispose();
      }
      this.host.log(`${method} ${document.uri.fsPath}: done in ${Date.now() - started} ms${howSaved(saved)}`);
      document.history.savedNow();
      await document.session.refreshInfo();
      document.session.broadcast({ type: "saved" });
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
    // A recovered copy has no file to go back to (VS Code also reverts when its tab is closed
    // with "Don't Save": the copy is then just dropped).
    if (document.needsSaveAs || document.session instanceof FilterSession) return Promise.resolve();
    return document.serially(async () => {
      document.session.beginChange();
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
      const r = await document.server.request(method, { doc: document.session.doc });
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
    // (a filter view has no journal to keep: it is made again from its URI)
    if (!(document.session instanceof FilterSession)) document.backupAlive = true;
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
      document.session.beginChange();
      await document.server.request("tome/reload", { doc: document.session.doc });
      document.history.reloaded();
      await document.session.refresh();
    });
    // VS Code still counts its undo entries as unsaved changes: its own Revert clears them
    // (ours then finds the document clean and does nothing more).
    if (vscodeDirty) await this.revertInVsCode(document);
  }

  /**
   * Reads the document's bytes in another encoding (`tome/reopenWithEncoding`: offsets, lines,
   * the undo history and bookmarks stay); its views read their lines again. The server refuses
   * it while there are unsaved changes (-33023: they were typed as text of the old encoding).
   */
  async reopenWithEncoding(document: TomeDocument, encoding: string): Promise<DocInfo> {
    return document.serially(async () => {
      document.session.beginChange();
      try {
        return await document.server.request("tome/reopenWithEncoding", { doc: document.session.doc, encoding });
      } finally {
        await document.session.refresh();
      }
    });
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

/** How a save wrote the file, for the log: what it wrote in place and from where (nothing for a whole-file save). */
export function howSaved(r: SaveResult): string {
  if (r.method !== "inPlace" || r.written === undefined) return "";
  return ` (in place: ${r.written} bytes written from byte ${r.from ?? 0}, ${r.backedUp ?? 0} bytes backed up)`;
}

/** `/dir/a.log` → `/dir/a.recovered.log`: where a recovered copy is offered to be saved. */
export function recoveredName(p: string): string {
  const slash = p.lastIndexOf("/");
  const dot = p.lastIndexOf(".");
  return dot > slash + 1 ? `${p.slice(0, dot)}.recovered${p.slice(dot)}` : `${p}.recovered`;
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

/** `editor.wordWrap` and the settings that shape its rows, as they apply to the file (language and resource overrides included). */
export function readWrapSettings(uri: vscode.Uri): WrapSettings {
  const c = vscode.workspace.getConfiguration("editor", uri);
  const mode = c.get<string>("wordWrap");
  const modes: WordWrapMode[] = ["off", "on", "wordWrapColumn", "bounded"];
  return {
    wordWrap: modes.includes(mode as WordWrapMode) ? (mode as WordWrapMode) : DEFAULT_WRAP.wordWrap,
    wordWrapColumn: Math.max(1, Number(c.get("wordWrapColumn")) || DEFAULT_WRAP.wordWrapColumn),
    breakBefore: c.get<string>("wordWrapBreakBeforeCharacters") ?? DEFAULT_WRAP.breakBefore,
    breakAfter: c.get<string>("wordWrapBreakAfterCharacters") ?? DEFAULT_WRAP.breakAfter,
  };
}

/** The settings `readWrapSettings` reads: a change of any of them is sent to the webviews. */
export const WRAP_SETTINGS = ["editor.wordWrap", "editor.wordWrapColumn", "editor.wordWrapBreakBeforeCharacters", "editor.wordWrapBreakAfterCharacters"];
