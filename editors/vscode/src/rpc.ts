// A JSON-RPC 2.0 client for `tome serve`, with LSP's Content-Length framing, over a child
// process's stdio. Pure Node (no `vscode` import) so that unit tests and the browser-test
// harness use exactly the code the extension uses.
//
// Why not vscode-languageclient: it attaches to text documents and sends didOpen/didChange with
// the whole text, which is exactly what a multi-GB file must avoid. The protocol here is small.

import { spawn, ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import { Readable, Writable } from "node:stream";
import {
  ErrorCodes,
  WORK_DONE_PROGRESS_CREATE,
  type ErrorObject,
  type InitializeParams,
  type InitializeResult,
  type ProgressParams,
  type Requester,
  type ServerNotification,
  type ServerNotifications,
  type TomeMethod,
  type TomeParams,
  type TomeResult,
} from "./protocol";

export class RpcError extends Error {
  readonly code: number;
  readonly data: unknown;
  constructor(e: ErrorObject) {
    super(e.message);
    this.name = "RpcError";
    this.code = e.code;
    this.data = e.data;
  }
  get kind(): string | undefined {
    const d = this.data as { kind?: unknown } | undefined;
    return d && typeof d.kind === "string" ? d.kind : undefined;
  }
}

/** Splits a byte stream into Content-Length framed messages. */
export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0);

  /** Feeds bytes; returns the complete message bodies (as strings) now available. */
  push(chunk: Buffer): string[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: string[] = [];
    for (;;) {
      const headerEnd = this.buf.indexOf("\r\n\r\n");
      if (headerEnd < 0) break;
      const header = this.buf.subarray(0, headerEnd).toString("ascii");
      let length = -1;
      for (const line of header.split("\r\n")) {
        const m = /^content-length:\s*(\d+)\s*$/i.exec(line);
        if (m) length = Number(m[1]);
      }
      if (length < 0) {
        // Not a frame we understand: drop the header and go on.
        this.buf = this.buf.subarray(headerEnd + 4);
        continue;
      }
      const start = headerEnd + 4;
      if (this.buf.length < start + length) break;
      out.push(this.buf.subarray(start, start + length).toString("utf8"));
      this.buf = this.buf.subarray(start + length);
    }
    return out;
  }
}

export function encodeFrame(message: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(message), "utf8");
  return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, "ascii"), body]);
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void; method: string };

/**
 * A JSON-RPC connection over a readable/writable pair. Events:
 * `notification` (method, params), `progress` (token, value), `close` (error?).
 */
export class RpcConnection extends EventEmitter {
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private decoder = new FrameDecoder();
  private closed = false;
  /** Handlers for server→client requests; unknown ones are answered -32601. */
  readonly requestHandlers = new Map<string, (params: unknown) => unknown>();

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
  ) {
    super();
    input.on("data", (chunk: Buffer) => {
      for (const body of this.decoder.push(chunk)) this.dispatch(body);
    });
    input.on("close", () => this.dispose(new Error("the server closed its output")));
    output.on("error", (e: Error) => this.dispose(e));
    // Answer the index progress token creation (docs/protocol.md, "progress").
    this.requestHandlers.set(WORK_DONE_PROGRESS_CREATE, () => null);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private dispatch(body: string): void {
    let msg: {
      id?: number | string | null;
      method?: string;
      params?: unknown;
      result?: unknown;
      error?: ErrorObject;
    };
    try {
      msg = JSON.parse(body);
    } catch {
      return;
    }
    if (typeof msg.method === "string") {
      if (msg.id !== undefined && msg.id !== null) {
        const handler = this.requestHandlers.get(msg.method);
        if (handler) {
          let result: unknown = null;
          try {
            result = handler(msg.params) ?? null;
          } catch (e) {
            this.write({ jsonrpc: "2.0", id: msg.id, error: { code: ErrorCodes.InternalError, message: String(e) } });
            return;
          }
          this.write({ jsonrpc: "2.0", id: msg.id, result });
        } else {
          this.write({
            jsonrpc: "2.0",
            id: msg.id,
            error: { code: ErrorCodes.MethodNotFound, message: `method not found: ${msg.method}` },
          });
        }
        return;
      }
      if (msg.method === "$/progress") {
        const p = msg.params as ProgressParams;
        this.emit("progress", p.token, p.value);
      }
      this.emit("notification", msg.method, msg.params);
      return;
    }
    if (typeof msg.id !== "number") return;
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.error) p.reject(new RpcError(msg.error));
    else p.resolve(msg.result);
  }

  private write(message: unknown): void {
    if (this.closed) return;
    this.output.write(encodeFrame(message));
  }

  /**
   * Sends a request; `signal` aborts it with `$/cancelRequest`. Any method: the transport does
   * not know Tome's (TomeServer.request is typed by protocol.ts's method table).
   */
  request(method: string, params?: unknown, signal?: AbortSignal): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error("the Tome server is not running"));
    const id = this.nextId++;
    if (this.nextId > 0x7fffffff) this.nextId = 1;
    return new Promise<unknown>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      this.write({ jsonrpc: "2.0", id, method, params: params ?? {} });
      if (signal) {
        const onAbort = (): void => this.notify("$/cancelRequest", { id });
        if (signal.aborted) onAbort();
        else signal.addEventListener("abort", onAbort, { once: true });
      }
    });
  }

  notify(method: string, params?: unknown): void {
    this.write({ jsonrpc: "2.0", method, params: params ?? {} });
  }

  dispose(reason?: Error): void {
    if (this.closed) return;
    this.closed = true;
    const err = reason ?? new Error("connection closed");
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.emit("close", reason);
  }
}

/** A started and initialized `tome serve`. */
export class TomeServer implements Requester {
  private constructor(
    readonly process: ChildProcess,
    readonly connection: RpcConnection,
    readonly initializeResult: InitializeResult,
    private readonly stderrTail: () => string,
  ) {}

  get stderr(): string {
    return this.stderrTail();
  }

  /**
   * Starts `binary serve` and runs `initialize`/`initialized`, negotiating UTF-16 positions
   * (the unit of JavaScript strings, so webview columns go to the server unchanged).
   */
  static async start(binary: string, opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<TomeServer> {
    const child = spawn(binary, ["serve"], {
      stdio: ["pipe", "pipe", "pipe"],
      env: opts.env ?? process.env,
      cwd: opts.cwd,
    });
    let tail = "";
    child.stderr!.on("data", (d: Buffer) => {
      tail = (tail + d.toString("utf8")).slice(-8192);
    });
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", () => resolve());
      child.once("error", (e: NodeJS.ErrnoException) => {
        if (e.code === "ENOENT") {
          reject(new Error(`cannot find the Tome server \`${binary}\` (install \`tome\` on PATH or set "tome.serverPath")`));
        } else reject(e);
      });
    });
    const conn = new RpcConnection(child.stdout!, child.stdin!);
    child.on("exit", (code, sig) => conn.dispose(new Error(`the Tome server exited (${sig ?? code})`)));
    const params: InitializeParams = {
      processId: process.pid,
      clientInfo: { name: "tome-vscode" },
      capabilities: {
        general: { positionEncodings: ["utf-16"] },
        window: { workDoneProgress: true },
      },
    };
    const init = (await conn.request("initialize", params)) as InitializeResult;
    if (init.capabilities.positionEncoding !== "utf-16") {
      child.kill();
      throw new Error(`the Tome server chose position encoding ${init.capabilities.positionEncoding}, not utf-16`);
    }
    conn.notify("initialized", {});
    return new TomeServer(child, conn, init, () => tail);
  }

  /** Sends a `tome/*` request, typed by protocol.ts's method table. */
  request<M extends TomeMethod>(method: M, params: TomeParams<M>, signal?: AbortSignal): Promise<TomeResult<M>> {
    return this.connection.request(method, params, signal) as Promise<TomeResult<M>>;
  }

  /** Calls `handler` with the params of each `method` notification from the server. */
  onNotification<M extends ServerNotification>(method: M, handler: (params: ServerNotifications[M]) => void): void {
    this.connection.on("notification", (m: string, params: unknown) => {
      if (m === method) handler(params as ServerNotifications[M]);
    });
  }

  /** `shutdown` then `exit`; kills the process if it does not stop within `timeoutMs`. */
  async stop(timeoutMs = 2000): Promise<void> {
    if (this.connection.isClosed) return;
    const exited = new Promise<void>((r) => this.process.once("exit", () => r()));
    const timer = setTimeout(() => this.process.kill("SIGKILL"), timeoutMs);
    try {
      await Promise.race([this.connection.request("shutdown"), exited]);
      this.connection.notify("exit");
    } catch {
      /* already gone */
    }
    await exited;
    clearTimeout(timer);
  }
}
