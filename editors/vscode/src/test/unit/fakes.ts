// Test doubles of the parts of VS Code around a custom editor: the workbench's undo stack of a
// custom document, and a webview panel. Used with the stub `vscode` module (vscodeStub.ts).
import type * as vscode from "vscode";
import type { TomeDocument, TomeEditorProvider } from "../../editor";
import type { HostMessage, Requester, WebviewMessage, WebviewMethod, WebviewParams, WebviewResult } from "../../protocol";
import * as stub from "./vscodeStub";

const none = new stub.CancellationTokenSource().token as unknown as vscode.CancellationToken;

/**
 * VS Code's undo stack of one custom document, as the workbench keeps it
 * (MainThreadCustomEditorModel in VS Code 1.100: a list of edits, the current index, a save
 * point; revert calls the provider without waiting and moves the index to the save point).
 */
export class FakeWorkbench {
  private edits: vscode.CustomDocumentEditEvent<TomeDocument>[] = [];
  private index = -1;
  private savePoint = -1;
  /** A change without an undo entry (CustomDocumentContentChangeEvent): modified until saved or reverted. */
  private contentChanged = false;
  /** Reverts VS Code started and did not wait for. */
  readonly pending: Promise<void>[] = [];

  constructor(
    private readonly provider: TomeEditorProvider,
    private readonly document: TomeDocument,
  ) {
    provider.onDidChangeCustomDocument((e) => {
      if (e.document !== document) return;
      if (!("undo" in e)) {
        this.contentChanged = true;
        return;
      }
      this.edits.splice(this.index + 1, this.edits.length, e as vscode.CustomDocumentEditEvent<TomeDocument>);
      this.index = this.edits.length - 1;
    });
  }

  get entries(): number {
    return this.edits.length;
  }
  get dirty(): boolean {
    return this.contentChanged || this.index !== this.savePoint;
  }

  async undo(): Promise<void> {
    if (this.index < 0) return;
    await this.edits[this.index--].undo();
  }

  async redo(): Promise<void> {
    if (this.index >= this.edits.length - 1) return;
    await this.edits[++this.index].redo();
  }

  async save(): Promise<void> {
    await this.provider.saveCustomDocument(this.document, none);
    this.savePoint = this.index;
    this.contentChanged = false;
  }

  /** Like VS Code: starts the provider's revert without waiting, then moves to the save point. */
  revert(): void {
    if (!this.dirty) return;
    this.contentChanged = false;
    this.pending.push(this.provider.revertCustomDocument(this.document, none));
    this.index = this.savePoint;
    this.edits.splice(this.index + 1);
  }
}

/** A webview panel: records what the host posts, lets the test post as the page would. */
export function fakePanel(): { panel: vscode.WebviewPanel; posted: HostMessage[]; send(m: WebviewMessage): void } {
  const posted: HostMessage[] = [];
  const received = new stub.EventEmitter<WebviewMessage>();
  const never = new stub.EventEmitter<void>();
  const webview = {
    options: {},
    html: "",
    cspSource: "test:",
    asWebviewUri: (u: unknown) => u,
    postMessage: async (m: HostMessage) => void posted.push(m),
    onDidReceiveMessage: received.event,
  };
  const panel = { active: true, reveal: () => undefined, webview, onDidChangeViewState: never.event, onDidDispose: never.event };
  return { panel: panel as unknown as vscode.WebviewPanel, posted, send: (m) => received.fire(m) };
}

let reqSeq = 1000;
/** Sends a request as the webview does and waits for its response. */
export async function ask<M extends WebviewMethod>(p: ReturnType<typeof fakePanel>, method: M, params: WebviewParams<M>): Promise<WebviewResult<M>> {
  const reqId = reqSeq++;
  p.send({ type: "request", reqId, method, params } as WebviewMessage);
  const r = await until(() => p.posted.find((m) => m.type === "response" && m.reqId === reqId), `reply to ${method}`);
  if (r.type === "response" && r.error) throw Object.assign(new Error(r.error.message), { code: r.error.code });
  return (r as { result: WebviewResult<M> }).result;
}

/** Records the method of every request `server` sends from now on (wraps its `request`). */
export function recordMethods(server: Requester): string[] {
  const sent: string[] = [];
  const request = server.request.bind(server);
  server.request = (method, params, signal) => {
    sent.push(method);
    return request(method, params, signal);
  };
  return sent;
}

export async function until<T>(f: () => T | undefined | null | false, what: string, timeout = 20000): Promise<T> {
  const end = Date.now() + timeout;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
