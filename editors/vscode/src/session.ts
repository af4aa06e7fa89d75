// The host side of one open document: relays the webview's messages to `tome serve` (adding
// the document id), copies selections to the clipboard, and tells the owner about changes. Pure
// Node, no `vscode` import: the extension (src/editor.ts) and the browser-test harness
// (test/browser/harness.mjs) run this same code, so the harness relays exactly what the
// extension relays.

import { EventEmitter } from "node:events";
import {
  ErrorCodes,
  FIRST_LINES,
  FIRST_LINES_WIDTH,
  HostErrorCodes,
  RELAYED,
  type Bookmark,
  type CursorStatus,
  type DocInfo,
  type EditorSettings,
  type EditParams,
  type EditResult,
  type ErrorObject,
  type FindToggles,
  type HostMessage,
  type Range,
  type Requester,
  type RuleStyle,
  type ViewportResult,
  type WebviewMessage,
  type WebviewRequest,
  type WebviewResult,
} from "./protocol";
import { linesOf } from "./bookmarks";
import { RpcError } from "./rpc";
import { RangeTooLargeError, readRange } from "./textRange";
import type { WrapSettings } from "./wrap";

/** Relayed methods that report `$/progress` on a `workDoneToken`, and their progress titles. */
const WITH_PROGRESS = {
  "tome/search": "Searching",
  "tome/replaceAll": "Replacing",
} as const;

/** A change made from the webview. */
type ChangeMethod = "tome/edit" | "tome/replaceAll";

export interface EditedEvent {
  method: ChangeMethod;
  versionBefore: number;
  version: number;
  /**
   * Whether the server recorded a new undo step. Typing and single-character deletes join the
   * previous step on the server; VS Code's undo stack must not get an entry for those, or one
   * Ctrl+Z would undo several of VS Code's entries at once and the two stacks would drift.
   */
  newStep: boolean;
}

/** What the owner provides; the harness leaves out what it does not need. */
export interface SessionHooks {
  /** Shows `title` in the progress UI while `task` runs, fed by `$/progress` on `token`. */
  progress?<T>(token: string, title: string, task: () => Promise<T>): Promise<T>;
  clipboard?: { writeText(text: string): PromiseLike<void> };
  /**
   * Whether Ctrl+G and Ctrl+F pressed in the webview also come back as `gotoLine`/`find`
   * messages (VS Code: the page forwards keys to the workbench, where the extension's
   * keybindings run its commands).
   */
  echoesShortcuts?: boolean;
  /** `tome.highlighting`: colours in the webview (default on). */
  highlighting?: () => boolean;
  /** `tome.highlightRules`: how each rule's matches are drawn (the server has the rules). */
  rules?: () => RuleStyle[];
  /** VS Code's editor settings, read when a webview starts. */
  settings?: () => EditorSettings;
  /** `editor.wordWrap` and its companions for the document, read when a webview starts. */
  wrap?: () => WrapSettings;
  /** The find toggles remembered for the workspace, and where a change of them goes. */
  findToggles?: { get(): FindToggles | undefined; set(t: FindToggles): void };
}

let tokenSeq = 1;

/**
 * After edits, one `tome/info` to learn whether the journal still records them (its disk may
 * have filled up: `journalError`). The server writes the journal every 200 ms: the info is asked
 * once edits have paused for `settleMs` (so the last one was written), and at least every
 * `everyMs` while they go on; at most one such request is pending.
 */
export const JOURNAL_CHECK = { settleMs: 300, everyMs: 1000 };

/**
 * Events: `edited` (EditedEvent) after a change made from the webview, `changed` after any
 * other change its webviews were told of (undo, redo, revert, reload, a change on disk), `status` (CursorStatus),
 * `info` (DocInfo) when the document's state was read again (also when a check after edits
 * found `journalError` changed), `warning` (message).
 */
export class DocSession extends EventEmitter {
  private posts = new Set<(m: HostMessage) => void>();
  private aborts = new Map<number, AbortController>();
  /**
   * The server's undo steps at recent versions, as read (`tome/info`, edits' replies): an
   * edit's reply says whether it opened a step when compared with the steps at the version it
   * was based on. Kept for a few versions, since pipelined edits and reads cross.
   */
  private steps = new Map<number, number>();
  /** Replies of pipelined edits are accounted in the order the edits were sent. */
  private edits: Promise<unknown> = Promise.resolve();
  /**
   * Bumped by each change the host makes itself (undo, redo, revert, reload): edits the
   * webview computed before it heard of that change are refused (HostErrorCodes.StaleEpoch).
   * Their predicted version could match the server's by chance and land in the wrong place.
   */
  private _epoch = 0;
  /** The pending journal check after edits (JOURNAL_CHECK), and when edits were last made. */
  private journalCheck: { timer: NodeJS.Timeout; since: number } | null = null;
  private editedAt = 0;

  constructor(
    readonly server: Requester,
    public info: DocInfo,
    protected readonly hooks: SessionHooks = {},
  ) {
    super();
    this.noteSteps(info.version, info.undoSteps);
  }

  get epoch(): number {
    return this._epoch;
  }

  /**
   * Call before the host changes the document itself (undo, redo, revert, reload): edits still
   * on their way from the webview are refused from now on, until it has read the new state
   * (`refresh`, which carries the new epoch).
   */
  beginChange(): void {
    this._epoch++;
  }

  private noteSteps(version: number, undoSteps: number): void {
    this.steps.set(version, undoSteps);
    if (this.steps.size > 256) this.steps.delete(this.steps.keys().next().value as number);
  }

  get doc(): number {
    return this.info.doc;
  }

  /** Adds a webview; returns a function that removes it. */
  attach(post: (m: HostMessage) => void): () => void {
    this.posts.add(post);
    return () => this.posts.delete(post);
  }

  /** Posts to every webview; a `refresh` or `diskChange` also emits `changed` (filter views follow the document). */
  broadcast(m: HostMessage): void {
    for (const p of this.posts) p(m);
    if (m.type === "refresh" || m.type === "diskChange") this.emit("changed");
  }

  /** The lines holding bookmarks (bookmarks.ts), marked in the gutter; a webview that opens later gets them at `ready`. */
  private bookmarkLines: number[] = [];
  /** How many bookmarks the document has (some may have no line yet): none, no refresh after edits. */
  private bookmarkCount = 0;
  /** Some bookmarks lie past what the index has counted (no line yet): asked for again as it advances. */
  private bookmarksUnplaced = false;
  /** A `tome/bookmarks` request is on its way (index progress does not send another). */
  private bookmarksAsked = false;

  /** Marks the lines of `bookmarks` in every webview of the document. */
  setBookmarks(bookmarks: Bookmark[]): void {
    this.bookmarkCount = bookmarks.length;
    this.bookmarksUnplaced = bookmarks.some((b) => !b.position);
    this.bookmarkLines = linesOf(bookmarks);
    this.broadcast({ type: "bookmarks", lines: this.bookmarkLines });
  }

  /** After an edit: asks the server where the bookmarks are now, if there are any. */
  refreshBookmarks(): void {
    if (this.bookmarkCount === 0) return;
    this.bookmarksAsked = true;
    void this.server.request("tome/bookmarks", { doc: this.doc }).then(
      (r) => {
        this.bookmarksAsked = false;
        this.setBookmarks(r.bookmarks);
      },
      () => {
        this.bookmarksAsked = false;
      },
    );
  }

  /** An `editor.*` setting changed: the webviews apply the settings read again, at once. */
  editorSettingsChanged(): void {
    const settings = this.hooks.settings?.();
    if (settings) this.broadcast({ type: "editorSettings", settings });
  }

  protected setInfo(info: DocInfo): DocInfo {
    // Replies come in any order: an info read before the index completed must not undo what a
    // later one said (the status bar stayed at "indexing 36%" after such a reply).
    if (this.info.indexComplete && !info.indexComplete && info.version <= this.info.version) {
      info = { ...info, indexComplete: true, indexPercent: 100, lineCount: info.version === this.info.version ? this.info.lineCount : info.lineCount };
    }
    this.info = info;
    if (info.indexComplete && this.bookmarksUnplaced && !this.bookmarksAsked) this.refreshBookmarks();
    this.noteSteps(info.version, info.undoSteps);
    this.emit("info", info);
    return info;
  }

  async refreshInfo(): Promise<DocInfo> {
    return this.setInfo(await this.server.request("tome/info", { doc: this.doc }));
  }

  /**
   * Schedules the journal check after an edit (see JOURNAL_CHECK). Only `journalError` is taken
   * from its reply: the rest of the info may be older than edits answered meanwhile.
   */
  private checkJournalSoon(): void {
    this.editedAt = Date.now();
    if (this.journalCheck) return;
    const tick = (): void => {
      const now = Date.now();
      const quiet = now - this.editedAt;
      const check = this.journalCheck!;
      if (quiet < JOURNAL_CHECK.settleMs && now - check.since < JOURNAL_CHECK.everyMs) {
        check.timer = setTimeout(tick, JOURNAL_CHECK.settleMs - quiet);
        check.timer.unref?.();
        return;
      }
      this.journalCheck = null;
      this.server.request("tome/info", { doc: this.doc }).then(
        (info) => {
          const journalError = info.journalError ?? null;
          if (journalError === (this.info.journalError ?? null)) return;
          this.info = { ...this.info, journalError };
          this.emit("info", this.info);
        },
        () => undefined, // closed meanwhile, or the server stopped (reported elsewhere)
      );
    };
    this.journalCheck = { timer: setTimeout(tick, JOURNAL_CHECK.settleMs), since: Date.now() };
    this.journalCheck.timer.unref?.();
  }

  /** Stops the pending journal check (the document is closed). */
  dispose(): void {
    if (this.journalCheck) clearTimeout(this.journalCheck.timer);
    this.journalCheck = null;
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
  }

  /** Re-reads the document state and tells every webview to redraw (after undo, revert…). */
  async refresh(reveal?: number | null): Promise<void> {
    const info = await this.refreshInfo();
    this.broadcast({ type: "refresh", info, reveal, epoch: this._epoch });
  }

  /**
   * Indexing progress (`$/progress` on the document's index token): the webviews are told (their
   * scrollbar switches to lines once it is done); at the end the info is read again, for the
   * exact line count, and passed on.
   */
  async indexProgress(percent: number | null): Promise<void> {
    // Bookmarks reopened before the index reached them have no line: each step may place them.
    if (this.bookmarksUnplaced && (!this.bookmarksAsked || percent === null)) this.refreshBookmarks();
    if (percent !== null) {
      this.info = { ...this.info, indexPercent: percent };
      this.broadcast({ type: "index", percent });
      return;
    }
    const info = await this.refreshInfo();
    this.broadcast({ type: "index", percent: null, info });
  }

  async handle(msg: WebviewMessage, post: (m: HostMessage) => void): Promise<void> {
    switch (msg.type) {
      case "ready": {
        const [info, first] = await Promise.all([this.refreshInfo(), this.firstLines()]);
        post({
          type: "init",
          info,
          first,
          echoesShortcuts: !!this.hooks.echoesShortcuts,
          epoch: this._epoch,
          highlighting: this.hooks.highlighting?.() ?? true,
          rules: this.hooks.rules?.(),
          settings: this.hooks.settings?.(),
          wrap: this.hooks.wrap?.(),
          findToggles: this.hooks.findToggles?.get(),
          ...this.initExtra(),
        });
        post({ type: "bookmarks", lines: this.bookmarkLines });
        return;
      }
      case "status":
        this.emit("status", { cursor: msg.cursor, selectedLines: msg.selectedLines, following: msg.following } satisfies CursorStatus);
        return;
      case "cancel":
        this.aborts.get(msg.reqId)?.abort();
        return;
      case "request":
        return this.answer(msg, post);
      case "reveal":
        return; // filter views only (filterSession.ts)
      case "findToggles":
        this.hooks.findToggles?.set(msg.toggles);
        return;
    }
  }

  /**
   * The first lines for the webview's `init` (see `first` there), read at the same time as
   * the info; none if that fails (the page then asks as usual).
   */
  protected async firstLines(): Promise<ViewportResult | undefined> {
    try {
      const result = await this.server.request(RELAYED.viewport, {
        doc: this.doc,
        first: 0,
        count: FIRST_LINES,
        window: { start: 0, width: FIRST_LINES_WIDTH, unit: "encoding" },
      });
      this.noteLineCount(result);
      return result;
    } catch {
      return undefined;
    }
  }

  /** What a subclass adds to the webview's `init` (a filter view says it is one). */
  protected initExtra(): { filter?: string } {
    return {};
  }

  /** Frees the document on the server (`tome/close` deletes its journal: not while a hot-exit backup needs it). */
  closeOnServer(): Promise<unknown> {
    return this.server.request("tome/close", { doc: this.doc });
  }

  private refreshTimer: NodeJS.Timeout | null = null;

  /**
   * The document changed by another way than these webviews' edits (a filter view edited it):
   * once such changes pause, the webviews read their screen again.
   */
  refreshSoon(delayMs = 200): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      this.refreshQuietly().catch(() => undefined); // closed meanwhile
    }, delayMs);
    this.refreshTimer.unref?.();
  }

  /** `refresh` without starting a change: edits of the webviews in flight still count. */
  protected async refreshQuietly(): Promise<void> {
    const info = await this.refreshInfo();
    this.broadcast({ type: "refresh", info, epoch: this._epoch });
  }

  private async answer(msg: WebviewRequest, post: (m: HostMessage) => void): Promise<void> {
    const ac = new AbortController();
    this.aborts.set(msg.reqId, ac);
    try {
      const result = await this.relay(msg, ac.signal);
      post({ type: "response", reqId: msg.reqId, result });
    } catch (e) {
      post({ type: "response", reqId: msg.reqId, error: errorObject(e) });
    } finally {
      this.aborts.delete(msg.reqId);
    }
  }

  /** Answers a webview request: `copy` here, the others relayed to the server (RELAYED) with the doc id. */
  protected async relay(msg: WebviewRequest, signal: AbortSignal): Promise<WebviewResult<WebviewRequest["method"]>> {
    const doc = this.doc;
    // The page is not trusted to send only the methods it is typed for.
    if (msg.method !== "copy" && !Object.hasOwn(RELAYED, msg.method)) {
      throw new RpcError({ code: ErrorCodes.MethodNotFound, message: `not relayed: ${String(msg.method)}` });
    }
    switch (msg.method) {
      case "copy":
        return this.copy(msg.params, signal);
      case "edit": {
        const { epoch, ...params } = msg.params;
        if (epoch !== this._epoch) {
          throw new RpcError({ code: HostErrorCodes.StaleEpoch, message: "the document was changed meanwhile (undo, redo, revert or reload): edit not sent" });
        }
        return this.edit({ ...params, doc }, signal);
      }
      case "info":
        return this.setInfo(await this.server.request(RELAYED.info, { ...msg.params, doc }, signal));
      case "viewport": {
        const result = await this.server.request(RELAYED.viewport, { ...msg.params, doc }, signal);
        this.noteLineCount(result);
        return result;
      }
      case "search":
        return this.withProgress(RELAYED.search, (token) => this.server.request(RELAYED.search, { ...msg.params, doc, workDoneToken: token }, signal));
      case "replaceAll": {
        const { params } = msg;
        const result = await this.withProgress(RELAYED.replaceAll, (token) => this.server.request(RELAYED.replaceAll, { ...params, doc, workDoneToken: token }, signal));
        this.noteChange(RELAYED.replaceAll, params.version, result.version, true);
        return result;
      }
    }
  }

  private toldReadOnly = false;

  /**
   * An edit the server refused for a reason the user must hear of (the page shows it in its
   * status line and reads its lines again): a character the file's encoding cannot represent
   * (every time), or a compressed document, which is read-only (once). Emits `refused`.
   */
  private noteRefusedEdit(e: unknown): void {
    if (!(e instanceof RpcError)) return;
    if (e.code === ErrorCodes.Unrepresentable) {
      this.emit("refused", `Tome: ${e.message}. The change was not made: the file keeps its encoding.`);
    } else if (e.code === ErrorCodes.ReadOnlyDocument && !this.toldReadOnly) {
      this.toldReadOnly = true;
      const kind = (e.data as { compression?: string } | undefined)?.compression ?? "compressed";
      this.emit("refused", `Tome: this file is ${kind}-compressed and opened read-only: edits are not made.`);
    }
  }

  /** Sends `request` with a progress token when the owner shows progress, else without one. */
  private withProgress<T>(method: keyof typeof WITH_PROGRESS, request: (token: string | undefined) => Promise<T>): Promise<T> {
    if (!this.hooks.progress) return request(undefined);
    const token = `tome/client/${tokenSeq++}`;
    return this.hooks.progress(token, WITH_PROGRESS[method], () => request(token));
  }

  /**
   * Sends an edit. Its reply carries the server's undo steps after it: one more than before
   * when the edit opened a new step, the same when it joined the previous one (typing). The
   * steps before are those at the version the edit was based on (an edit at another version
   * fails as stale, so nothing came in between); when they are unknown the edit counts as a
   * new step, as edits do by default. The webview pipelines edits, and replies may come in any
   * order: they are accounted in the order the edits were sent, so that each finds the steps
   * its predecessor left, and VS Code's undo entries are made in order. Filter views of the
   * document edit it through here too (filterSession.ts), so their edits are its undo steps.
   */
  edit(params: EditParams, signal?: AbortSignal): Promise<EditResult> {
    const reply = this.server.request("tome/edit", params, signal) as Promise<{ version: number; undoSteps?: number }>;
    reply.catch((e: unknown) => this.noteRefusedEdit(e));
    const accounted = this.edits.then(async () => {
      const result = await reply;
      const before = this.steps.get(params.version);
      const joined = typeof result.undoSteps === "number" && before === result.undoSteps;
      if (typeof result.undoSteps === "number") {
        this.noteSteps(result.version, result.undoSteps);
        if (this.info.version <= result.version) this.info = { ...this.info, undoSteps: result.undoSteps, redoSteps: 0 };
      }
      if (result.version === params.version + 1) this.noteLines(params);
      this.noteChange("tome/edit", params.version, result.version, !joined);
      return result as EditResult;
    });
    this.edits = accounted.catch(() => undefined);
    return accounted;
  }

  /**
   * The line count (status bar) after an applied edit, without asking the server: lines its
   * text adds less lines its ranges remove (the webview no longer reads the screen after each
   * edit, so `noteLineCount` does not see it).
   */
  private noteLines(params: EditParams): void {
    let delta = 0;
    for (const e of params.edits) {
      if (!("range" in e) || !("text" in e)) return; // by offsets or bytes: not counted here
      delta += (e.text.match(/\r\n|\r|\n/g)?.length ?? 0) - (e.range.end.line - e.range.start.line);
    }
    if (delta === 0) return;
    const lc = this.info.lineCount;
    this.info = { ...this.info, lineCount: { ...lc, known: lc.known + delta, estimate: lc.estimate + delta } };
    this.emit("info", this.info);
  }

  /** Keeps the line count (status bar) current from the views' reads, with no extra request. */
  private noteLineCount(r: ViewportResult): void {
    const lc = r.lineCount;
    if (!lc || r.version !== this.info.version) return;
    const old = this.info.lineCount;
    if (old && old.known === lc.known && old.estimate === lc.estimate && old.exact === lc.exact) return;
    this.info = { ...this.info, lineCount: lc };
    this.emit("info", this.info);
  }

  private noteChange(method: ChangeMethod, sentVersion: number | undefined, version: number | undefined, newStep: boolean): void {
    if (typeof version !== "number") return;
    // Without a version (replaceAll), compare with the last version this session saw.
    const before = typeof sentVersion === "number" ? sentVersion : this.info.version;
    if (version === before) return;
    if (this.info.version < version) this.info = { ...this.info, version, dirty: true };
    this.emit("edited", { method, versionBefore: before, version, newStep } satisfies EditedEvent);
    this.checkJournalSoon();
  }

  /** Copies a range to the clipboard, reading it from the server (it may span millions of lines). */
  private async copy(r: Range, signal: AbortSignal): Promise<WebviewResult<"copy">> {
    const clipboard = this.hooks.clipboard;
    if (!clipboard) throw new RpcError({ code: ErrorCodes.MethodNotFound, message: "no clipboard here" });
    const read = (): Promise<string> => readRange(this.server, this.doc, r, undefined, signal);
    let text: string;
    try {
      text = this.hooks.progress ? await this.hooks.progress(`tome/client/${tokenSeq++}`, "Copying", read) : await read();
    } catch (e) {
      if (e instanceof RangeTooLargeError) {
        this.emit("warning", e.message);
        throw new RpcError({ code: HostErrorCodes.CopyTooLarge, message: e.message, data: { bytes: e.bytes, limit: e.limit } });
      }
      throw e;
    }
    await clipboard.writeText(text);
    return { characters: text.length };
  }
}

function errorObject(e: unknown): ErrorObject {
  return e instanceof RpcError
    ? { code: e.code, message: e.message, data: e.data }
    : { code: ErrorCodes.InternalError, message: e instanceof Error ? e.message : String(e) };
}
