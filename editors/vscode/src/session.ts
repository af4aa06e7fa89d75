// The host side of one open document: relays the webview's messages to `tome serve` (adding
// the document id) and tells the owner about changes. Pure Node, no `vscode` import: the
// extension (src/editor.ts) and the browser-test harness (test/browser/harness.mjs) run this
// same code, so the harness relays exactly what the extension relays.

import { EventEmitter } from "node:events";
import { RpcError } from "./rpc";
import type { DocInfo } from "./viewport";

export interface Requester {
  request<T = unknown>(method: string, params?: unknown, signal?: AbortSignal): Promise<T>;
}

/** Messages the webview posts. */
export type WebviewMessage =
  | { type: "ready" }
  | { type: "request"; reqId: number; method: string; params: Record<string, unknown> }
  | { type: "cancel"; reqId: number }
  | { type: "status"; text: string };

/** Messages the host posts to the webview. */
export type HostMessage =
  | { type: "init"; info: DocInfo }
  | { type: "response"; reqId: number; result?: unknown; error?: { code: number; message: string; data?: unknown } }
  | { type: "refresh"; info: DocInfo; reveal?: number | null }
  | { type: "diskChange"; change: string; message: string; info: DocInfo; follow: boolean }
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

export interface EditedEvent {
  method: string;
  versionBefore: number;
  version: number;
}

/**
 * Events: `edited` (EditedEvent) after a change made from the webview, `status` (text).
 */
export class DocSession extends EventEmitter {
  private posts = new Set<(m: HostMessage) => void>();
  private aborts = new Map<number, AbortController>();

  constructor(readonly server: Requester, public info: DocInfo) {
    super();
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

  async refreshInfo(): Promise<DocInfo> {
    this.info = await this.server.request<DocInfo>("tome/info", { doc: this.doc });
    return this.info;
  }

  /** Re-reads the document state and tells every webview to redraw (after undo, revert…). */
  async refresh(reveal?: number | null): Promise<void> {
    const info = await this.refreshInfo();
    this.broadcast({ type: "refresh", info, reveal });
  }

  async handle(msg: WebviewMessage, post: (m: HostMessage) => void): Promise<void> {
    switch (msg.type) {
      case "ready":
        post({ type: "init", info: await this.refreshInfo() });
        return;
      case "status":
        this.emit("status", msg.text);
        return;
      case "cancel":
        this.aborts.get(msg.reqId)?.abort();
        return;
      case "request": {
        const method = RELAYED[msg.method];
        if (!method) {
          post({ type: "response", reqId: msg.reqId, error: { code: -32601, message: `not relayed: ${msg.method}` } });
          return;
        }
        const ac = new AbortController();
        this.aborts.set(msg.reqId, ac);
        try {
          const result = await this.server.request<Record<string, unknown>>(method, { ...msg.params, doc: this.doc }, ac.signal);
          if ((method === "tome/edit" || method === "tome/replaceAll") && typeof result.version === "number") {
            // Without a version (replaceAll), compare with the last version this session saw.
            const before = typeof msg.params.version === "number" ? msg.params.version : this.info.version;
            if (result.version !== before) {
              this.info = { ...this.info, version: result.version, dirty: true };
              this.emit("edited", { method, versionBefore: before, version: result.version } satisfies EditedEvent);
            }
          }
          post({ type: "response", reqId: msg.reqId, result });
        } catch (e) {
          const error =
            e instanceof RpcError
              ? { code: e.code, message: e.message, data: e.data }
              : { code: -32603, message: e instanceof Error ? e.message : String(e) };
          post({ type: "response", reqId: msg.reqId, error });
        } finally {
          this.aborts.delete(msg.reqId);
        }
        return;
      }
    }
  }
}
