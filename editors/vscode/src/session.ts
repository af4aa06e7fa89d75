// The host side of one open document: relays the webview's messages to `tome serve` (adding
// the document id), copies selections to the clipboard, and tells the owner about changes. Pure
// Node, no `vscode` import: the extension (src/editor.ts) and the browser-test harness
// (test/browser/harness.mjs) run this same code, so the harness relays exactly what the
// extension relays.

import { EventEmitter } from "node:events";
import { RpcError } from "./rpc";
import type { Range } from "./selection";
import { RangeTooLargeError, readRange } from "./textRange";
import type { DocInfo, Position, ViewportResult } from "./viewport";

export interface Requester {
  request<T = unknown>(method: string, params?: unknown, signal?: AbortSignal): Promise<T>;
}

/** What the webview reports for the status bar. */
export interface CursorStatus {
  cursor: Position;
  /** Lines touched by the selection; 0 without one. */
  selectedLines: number;
  /** Follow mode (the view stays at the end of a growing file). */
  following: boolean;
}

/** Messages the webview posts. */
export type WebviewMessage =
  | { type: "ready" }
  | { type: "request"; reqId: number; method: string; params: Record<string, unknown> }
  | { type: "cancel"; reqId: number }
  | ({ type: "status" } & CursorStatus);

/** Messages the host posts to the webview. */
export type HostMessage =
  | { type: "init"; info: DocInfo; echoesShortcuts: boolean }
  | { type: "response"; reqId: number; result?: unknown; error?: { code: number; message: string; data?: unknown } }
  | { type: "refresh"; info: DocInfo; reveal?: number | null }
  | { type: "diskChange"; change: string; message: string; info: DocInfo; follow: boolean }
  | { type: "follow"; on: boolean | "toggle" }
  | { type: "gotoLine" }
  | { type: "find" };

/** Webview method → server method. Only these are relayed. */
export const RELAYED: Record<string, string> = {
  viewport: "tome/viewport",
  edit: "tome/edit",
  info: "tome/info",
  search: "tome/search",
  replaceAll: "tome/replaceAll",
};

/** Relayed methods that report `$/progress` on a `workDoneToken`, and their progress titles. */
const WITH_PROGRESS: Record<string, string> = {
  "tome/search": "Searching",
  "tome/replaceAll": "Replacing",
};

/** Error code of a copy refused for its size (the message says why). */
export const COPY_TOO_LARGE = -32001;

export interface EditedEvent {
  method: string;
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
}

let tokenSeq = 1;

/**
 * Events: `edited` (EditedEvent) after a change made from the webview, `status` (CursorStatus),
 * `info` (DocInfo) when the document's state was read again, `warning` (message).
 */
export class DocSession extends EventEmitter {
  private posts = new Set<(m: HostMessage) => void>();
  private aborts = new Map<number, AbortController>();
  /** The server's undo steps at a version, as last read (`tome/info`, or an edit's reply). */
  private steps: { version: number; undoSteps: number } | null;

  constructor(
    readonly server: Requester,
    public info: DocInfo,
    private readonly hooks: SessionHooks = {},
  ) {
    super();
    this.steps = { version: info.version, undoSteps: info.undoSteps };
  }

  get doc(): number {
    return this.info.doc;
  }

  /** Adds a webview; returns a function that removes it. */
  attach(post: (m: HostMessage) => void): () => void {
    this.posts.add(post);
    return () => this.posts.delete(post);
  }

  broadcast(m: HostMessage): void {
    for (const p of this.posts) p(m);
  }

  private setInfo(info: DocInfo): DocInfo {
    this.info = info;
    this.steps = { version: info.version, undoSteps: info.undoSteps };
    this.emit("info", info);
    return info;
  }

  async refreshInfo(): Promise<DocInfo> {
    return this.setInfo(await this.server.request<DocInfo>("tome/info", { doc: this.doc }));
  }

  /** Re-reads the document state and tells every webview to redraw (after undo, revert…). */
  async refresh(reveal?: number | null): Promise<void> {
    const info = await this.refreshInfo();
    this.broadcast({ type: "refresh", info, reveal });
  }

  async handle(msg: WebviewMessage, post: (m: HostMessage) => void): Promise<void> {
    switch (msg.type) {
      case "ready":
        post({ type: "init", info: await this.refreshInfo(), echoesShortcuts: !!this.hooks.echoesShortcuts });
        return;
      case "status":
        this.emit("status", { cursor: msg.cursor, selectedLines: msg.selectedLines, following: msg.following } satisfies CursorStatus);
        return;
      case "cancel":
        this.aborts.get(msg.reqId)?.abort();
        return;
      case "request":
        return this.answer(msg, post);
    }
  }

  private async answer(msg: { reqId: number; method: string; params: Record<string, unknown> }, post: (m: HostMessage) => void): Promise<void> {
    const ac = new AbortController();
    this.aborts.set(msg.reqId, ac);
    try {
      const result = msg.method === "copy" ? await this.copy(msg.params as unknown as Range, ac.signal) : await this.relay(msg.method, msg.params, ac.signal);
      post({ type: "response", reqId: msg.reqId, result });
    } catch (e) {
      post({ type: "response", reqId: msg.reqId, error: errorObject(e) });
    } finally {
      this.aborts.delete(msg.reqId);
    }
  }

  private async relay(webviewMethod: string, params: Record<string, unknown>, signal: AbortSignal): Promise<unknown> {
    const method = RELAYED[webviewMethod];
    if (!method) throw new RpcError({ code: -32601, message: `not relayed: ${webviewMethod}` });
    const full = { ...params, doc: this.doc };
    if (method === "tome/edit") return this.edit(full, signal);
    const title = WITH_PROGRESS[method];
    const result = title && this.hooks.progress ? await this.withProgress(method, title, full, signal) : await this.server.request<Record<string, unknown>>(method, full, signal);
    if (method === "tome/info") this.setInfo(result as unknown as DocInfo);
    if (method === "tome/viewport") this.noteLineCount(result as unknown as ViewportResult);
    if (method === "tome/replaceAll") this.noteChange(method, params.version, result, true);
    return result;
  }

  private withProgress(method: string, title: string, params: Record<string, unknown>, signal: AbortSignal): Promise<Record<string, unknown>> {
    const token = `tome/client/${tokenSeq++}`;
    return this.hooks.progress!(token, title, () => this.server.request<Record<string, unknown>>(method, { ...params, workDoneToken: token }, signal));
  }

  /**
   * Sends an edit. Its reply carries the server's undo steps after it: one more than before
   * when the edit opened a new step, the same when it joined the previous one (typing). The
   * steps before are known when the edit was made at the version they were last seen at (an
   * edit at another version fails as stale, so nothing came in between); otherwise the edit
   * counts as a new step, as edits do by default.
   */
  private async edit(params: Record<string, unknown>, signal: AbortSignal): Promise<unknown> {
    // Read before sending: an info answered meanwhile may already count this edit.
    const before = this.steps;
    const result = await this.server.request<{ version: number; undoSteps?: number }>("tome/edit", params, signal);
    const joined = typeof result.undoSteps === "number" && before !== null && before.version === params.version && result.undoSteps === before.undoSteps;
    if (typeof result.undoSteps === "number") {
      this.steps = { version: result.version, undoSteps: result.undoSteps };
      if (this.info.version <= result.version) this.info = { ...this.info, undoSteps: result.undoSteps, redoSteps: 0 };
    }
    this.noteChange("tome/edit", params.version, result, !joined);
    return result;
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

  private noteChange(method: string, sentVersion: unknown, result: unknown, newStep: boolean): void {
    const version = (result as { version?: unknown }).version;
    if (typeof version !== "number") return;
    // Without a version (replaceAll), compare with the last version this session saw.
    const before = typeof sentVersion === "number" ? sentVersion : this.info.version;
    if (version === before) return;
    if (this.info.version < version) this.info = { ...this.info, version, dirty: true };
    this.emit("edited", { method, versionBefore: before, version, newStep } satisfies EditedEvent);
  }

  /** Copies a range to the clipboard, reading it from the server (it may span millions of lines). */
  private async copy(r: Range, signal: AbortSignal): Promise<{ characters: number }> {
    const clipboard = this.hooks.clipboard;
    if (!clipboard) throw new RpcError({ code: -32601, message: "no clipboard here" });
    const read = (): Promise<string> => readRange(this.server, this.doc, r, undefined, signal);
    let text: string;
    try {
      text = this.hooks.progress ? await this.hooks.progress(`tome/client/${tokenSeq++}`, "Copying", read) : await read();
    } catch (e) {
      if (e instanceof RangeTooLargeError) {
        this.emit("warning", e.message);
        throw new RpcError({ code: COPY_TOO_LARGE, message: e.message, data: { bytes: e.bytes, limit: e.limit } });
      }
      throw e;
    }
    await clipboard.writeText(text);
    return { characters: text.length };
  }
}

function errorObject(e: unknown): { code: number; message: string; data?: unknown } {
  return e instanceof RpcError ? { code: e.code, message: e.message, data: e.data } : { code: -32603, message: e instanceof Error ? e.message : String(e) };
}
