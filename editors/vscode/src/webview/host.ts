// The webview's side of the message protocol with its host (src/session.ts): requests with
// replies matched by id, cancellation, and the state VS Code keeps while the webview is hidden.

import type { HostMessage, WebviewMessage, WebviewMethod, WebviewParams, WebviewResult } from "../protocol";

interface VsCodeApi {
  postMessage(m: unknown): void;
  getState(): unknown;
  setState(s: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

export class RequestError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

const vscode = acquireVsCodeApi();
let nextReq = 1;
const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

export function postToHost(m: WebviewMessage): void {
  vscode.postMessage(m);
}

export function request<M extends WebviewMethod>(method: M, params: WebviewParams<M>): Promise<WebviewResult<M>> {
  return cancellable(method, params).promise;
}

/** A request that can be cancelled (`$/cancelRequest` on the server; it then fails with -32800). */
export function cancellable<M extends WebviewMethod>(method: M, params: WebviewParams<M>): { promise: Promise<WebviewResult<M>>; cancel(): void } {
  const reqId = nextReq++;
  const promise = new Promise<WebviewResult<M>>((resolve, reject) => {
    pending.set(reqId, { resolve: resolve as (v: unknown) => void, reject });
    postToHost({ type: "request", reqId, method, params } as WebviewMessage);
  });
  return { promise, cancel: () => postToHost({ type: "cancel", reqId }) };
}

/** Settles the request a `response` answers. */
function settle(m: Extract<HostMessage, { type: "response" }>): void {
  const p = pending.get(m.reqId);
  if (!p) return;
  pending.delete(m.reqId);
  if (m.error) p.reject(new RequestError(m.error.code, m.error.message, m.error.data));
  else p.resolve(m.result);
}

/** Routes host messages: responses settle requests, the rest go to `handler`. */
export function onHostMessage(handler: (m: Exclude<HostMessage, { type: "response" }>) => void): void {
  window.addEventListener("message", (ev: MessageEvent) => {
    const m = ev.data as HostMessage;
    if (m.type === "response") settle(m);
    else handler(m);
  });
}

export function loadState<T>(): T | undefined {
  return vscode.getState() as T | undefined;
}

export function saveState<T>(s: T): void {
  vscode.setState(s);
}
