import { test } from "node:test";
import assert from "node:assert/strict";
import { DocSession, type EditedEvent } from "../../session";
import { RpcError } from "../../rpc";
import { FIRST_LINES, FIRST_LINES_WIDTH, HostErrorCodes, type DocInfo, type HostMessage, type WebviewMessage } from "../../protocol";

const info = { doc: 3, version: 0, undoSteps: 0, redoSteps: 0 } as DocInfo;

/** A fake server: versions and undo steps as `tome serve` counts them, typing joining when told. */
function fakeServer(joinNext: () => boolean) {
  const calls: [string, unknown][] = [];
  let state = { ...info };
  const server = {
    async request<T>(method: string, params?: unknown): Promise<T> {
      calls.push([method, params]);
      if (method === "tome/edit") {
        state = { ...state, version: state.version + 1, undoSteps: state.undoSteps + (joinNext() ? 0 : 1) };
        return { version: state.version, undoSteps: state.undoSteps } as T;
      }
      if (method === "tome/replaceAll") {
        state = { ...state, version: state.version + 1, undoSteps: state.undoSteps + 1 };
        return { count: 2, version: state.version } as T;
      }
      if (method === "tome/undo") {
        state = { ...state, version: state.version + 1, undoSteps: state.undoSteps - 1, redoSteps: state.redoSteps + 1 };
        return { changed: true, version: state.version, offset: 0 } as T;
      }
      if (method === "tome/viewport") throw new RpcError({ code: -33002, message: "out", data: { kind: "outOfBounds" } });
      return state as T;
    },
  };
  return { server, calls };
}

test("requests are relayed with the doc id; only relayed methods", async () => {
  const { server, calls } = fakeServer(() => false);
  const s = new DocSession(server, info);
  const posted: HostMessage[] = [];
  const post = (m: HostMessage): void => void posted.push(m);
  await s.handle({ type: "request", reqId: 2, method: "viewport", params: { first: 99 } }, post);
  await s.handle({ type: "request", reqId: 3, method: "save", params: {} } as unknown as WebviewMessage, post);
  await s.handle({ type: "request", reqId: 4, method: "copy", params: {} } as unknown as WebviewMessage, post);
  assert.deepEqual(calls[0], ["tome/viewport", { first: 99, doc: 3 }]);
  assert.equal((posted[0] as { error: { code: number } }).error.code, -33002);
  assert.equal((posted[1] as { error: { code: number } }).error.code, -32601, "save is not relayed from the webview");
  assert.equal((posted[2] as { error: { code: number } }).error.code, -32601, "no clipboard given: copy is refused");
  assert.equal(calls.length, 1);
});

test("an edit is announced as a new undo step unless its reply says the server joined it to the last one", async () => {
  let join = false;
  const { server, calls } = fakeServer(() => join);
  const s = new DocSession(server, { ...info });
  const edited: EditedEvent[] = [];
  s.on("edited", (e: EditedEvent) => edited.push(e));
  const post = (): void => undefined;
  const edit = (reqId: number, version: number): Promise<void> => s.handle({ type: "request", reqId, method: "edit", params: { version, edits: [], epoch: 0 } }, post);
  await edit(1, 0);
  join = true;
  await edit(2, 1); // joined: undoSteps stays 1
  await s.handle({ type: "request", reqId: 3, method: "replaceAll", params: { query: { pattern: "x" }, replacement: "" } }, post);
  await edit(4, 3); // joined, but the steps at version 3 (after replaceAll) were never read: a new step
  await edit(5, 4); // joined, and the steps at version 4 came with the last reply
  join = false;
  await edit(6, 5); // a new step
  // An undo this session did not hear of (no tome/info since): the version tells.
  await server.request("tome/undo", { doc: 3 });
  join = true;
  await edit(7, 7);
  assert.deepEqual(
    calls.map((c) => c[0]),
    ["tome/edit", "tome/edit", "tome/replaceAll", "tome/edit", "tome/edit", "tome/edit", "tome/undo", "tome/edit"],
    "no tome/info around edits: the edit's reply says it all",
  );
  assert.deepEqual(calls[0], ["tome/edit", { version: 0, edits: [], doc: 3 }]);
  assert.deepEqual(
    edited.map((e) => [e.method, e.versionBefore, e.version, e.newStep]),
    [
      ["tome/edit", 0, 1, true],
      ["tome/edit", 1, 2, false],
      ["tome/replaceAll", 2, 3, true],
      ["tome/edit", 3, 4, true],
      ["tome/edit", 4, 5, false],
      ["tome/edit", 5, 6, true],
      ["tome/edit", 7, 8, true],
    ],
  );
  assert.equal(s.info.version, 8);
  assert.equal(s.info.undoSteps, 2);

  // After tome/info the steps at that version are known again: a joined edit adds no entry.
  await s.refreshInfo();
  await edit(8, 8);
  assert.deepEqual(edited.at(-1), { method: "tome/edit", versionBefore: 8, version: 9, newStep: false });
});

test("a server whose edit reply has no undoSteps: every edit is a new step", async () => {
  const server = {
    version: 0,
    async request<T>(method: string): Promise<T> {
      return (method === "tome/edit" ? { version: ++this.version } : { ...info, version: this.version }) as T;
    },
  };
  const s = new DocSession(server, { ...info });
  const edited: EditedEvent[] = [];
  s.on("edited", (e: EditedEvent) => edited.push(e));
  await s.handle({ type: "request", reqId: 1, method: "edit", params: { version: 0, edits: [], epoch: 0 } }, () => undefined);
  await s.handle({ type: "request", reqId: 2, method: "edit", params: { version: 1, edits: [], epoch: 0 } }, () => undefined);
  assert.deepEqual(
    edited.map((e) => e.newStep),
    [true, true],
  );
});

test("a change that kept the version is no undo step", async () => {
  const server = {
    async request<T>(method: string): Promise<T> {
      return (method === "tome/replaceAll" ? { count: 0, version: 0 } : info) as T;
    },
  };
  const s = new DocSession(server, info);
  const edited: unknown[] = [];
  s.on("edited", (e) => edited.push(e));
  await s.handle({ type: "request", reqId: 1, method: "replaceAll", params: { query: { pattern: "x" }, replacement: "" } }, () => undefined);
  assert.equal(edited.length, 0);
});

test("pipelined edits whose replies come out of order: undo steps are accounted in the order sent", async () => {
  // Typing joins the step opened by the first key: three keys are one VS Code entry, whatever
  // order the replies come in (they may: docs/protocol.md).
  const replies: { version: number; undoSteps: number; resolve: (v: unknown) => void }[] = [];
  let version = 0;
  const server = {
    async request<T>(method: string): Promise<T> {
      if (method !== "tome/edit") return { ...info, version } as T;
      version++;
      const r = { version, undoSteps: 1, resolve: (_: unknown) => undefined as void };
      const p = new Promise<T>((res) => (r.resolve = res as (v: unknown) => void));
      replies.push(r);
      return p;
    },
  };
  const s = new DocSession(server, { ...info });
  const edited: EditedEvent[] = [];
  s.on("edited", (e: EditedEvent) => edited.push(e));
  const posted: HostMessage[] = [];
  const sent = [0, 1, 2].map((v) => s.handle({ type: "request", reqId: v + 1, method: "edit", params: { version: v, edits: [], epoch: 0 } }, (m) => void posted.push(m)));
  await new Promise((r) => setImmediate(r));
  assert.equal(replies.length, 3, "all three sent without waiting");
  for (const i of [2, 0, 1]) replies[i].resolve({ version: replies[i].version, undoSteps: 1 });
  await Promise.all(sent);
  assert.deepEqual(
    edited.map((e) => [e.versionBefore, e.version, e.newStep]),
    [
      [0, 1, true],
      [1, 2, false],
      [2, 3, false],
    ],
  );
});

test("an edit made before a change of the host's own (undo, revert, reload) is refused, not sent", async () => {
  const { server, calls } = fakeServer(() => false);
  const s = new DocSession(server, { ...info });
  const posted: HostMessage[] = [];
  const post = (m: HostMessage): void => void posted.push(m);
  s.attach(post);
  await s.handle({ type: "request", reqId: 1, method: "edit", params: { version: 0, edits: [], epoch: 0 } }, post);
  s.beginChange();
  await server.request("tome/undo", { doc: 3 });
  // Computed before the webview heard of the undo: its version (2) is the server's by chance.
  await s.handle({ type: "request", reqId: 2, method: "edit", params: { version: 2, edits: [], epoch: 0 } }, post);
  assert.equal((posted[1] as { error: { code: number } }).error.code, HostErrorCodes.StaleEpoch);
  assert.deepEqual(
    calls.map((c) => c[0]),
    ["tome/edit", "tome/undo"],
  );
  await s.refresh();
  const refresh = posted.find((m) => m.type === "refresh") as Extract<HostMessage, { type: "refresh" }>;
  assert.equal(refresh.epoch, 1, "the webview learns the new epoch with the new state");
  await s.handle({ type: "request", reqId: 3, method: "edit", params: { version: 2, edits: [], epoch: 1 } }, post);
  assert.equal(calls.at(-1)?.[0], "tome/edit");
});

test("the status bar's line count follows edits; an old info does not undo the end of indexing", async () => {
  let complete = false;
  let v = 0;
  const server = {
    async request<T>(method: string): Promise<T> {
      if (method === "tome/edit") return { version: ++v, undoSteps: 1 } as T;
      return { ...info, version: v, indexComplete: complete, indexPercent: complete ? 100 : 36, lineCount: { known: 10, estimate: 10, exact: complete } } as T;
    },
  };
  const s = new DocSession(server, { ...info, lineCount: { known: 10, estimate: 10, exact: false }, indexComplete: false, indexPercent: 0 });
  const posted: HostMessage[] = [];
  s.attach((m) => void posted.push(m));
  const stale = s.refreshInfo(); // asked while indexing…
  complete = true;
  await s.indexProgress(null); // …the end arrives first
  assert.deepEqual(posted.at(-1), { type: "index", percent: null, info: s.info });
  assert.equal(s.info.indexComplete, true);
  complete = false; // …then the reply read before the end
  await stale;
  await s.refreshInfo();
  assert.equal(s.info.indexComplete, true, "still complete");
  assert.equal(s.info.lineCount.exact, true);
  const range = { start: { line: 2, character: 0 }, end: { line: 4, character: 3 } };
  await s.handle({ type: "request", reqId: 1, method: "edit", params: { version: 0, edits: [{ range, text: "a\r\nb\nc" }], epoch: 0 } }, () => undefined);
  assert.equal(s.info.lineCount.known, 10, "two line breaks in, two out");
  await s.handle(
    { type: "request", reqId: 2, method: "edit", params: { version: 1, edits: [{ range: { start: range.start, end: range.start }, text: "\n" }], epoch: 0 } },
    () => undefined,
  );
  assert.equal(s.info.lineCount.known, 11);
});

test("bookmarks reopened before the index reached them get their lines as it advances", async () => {
  let placed = false;
  const calls: string[] = [];
  const server = {
    async request<T>(method: string): Promise<T> {
      calls.push(method);
      if (method === "tome/bookmarks") {
        return { version: 0, bookmarks: [{ name: "1", offset: 300, position: placed ? { line: 3, character: 0 } : null }] } as T;
      }
      return { ...info, indexComplete: placed } as T;
    },
  };
  const s = new DocSession(server, { ...info });
  const posted: HostMessage[] = [];
  s.attach((m: HostMessage) => void posted.push(m));
  const marked = (): unknown => (posted.filter((m) => m.type === "bookmarks").at(-1) as { lines: number[] }).lines;
  const asked = (): number => calls.filter((c) => c === "tome/bookmarks").length;
  const settle = (): Promise<void> => new Promise((r) => setImmediate(r));
  // As the open's reply gives them: the index has not counted line 4 yet.
  s.setBookmarks([{ name: "1", offset: 300, position: null }]);
  assert.deepEqual(marked(), []);
  await s.indexProgress(10);
  await settle();
  assert.equal(asked(), 1, "asked again at a progress step");
  assert.deepEqual(marked(), []);
  placed = true;
  await s.indexProgress(null);
  await settle();
  assert.equal(asked(), 2, "asked again when the index completed");
  assert.deepEqual(marked(), [3], "line 4 marked");
  await s.indexProgress(50);
  await settle();
  assert.equal(asked(), 2, "all placed: not asked again");
});

test("the webview's init brings the first lines, read with the info; without them if that read fails", async () => {
  const lines = { version: 0, lines: [{ number: 0, text: "first" }], lineCount: { count: 1, exact: true } };
  const calls: [string, unknown][] = [];
  let fail = false;
  const server = {
    async request<T>(method: string, params?: unknown): Promise<T> {
      calls.push([method, params]);
      if (method === "tome/viewport") {
        if (fail) throw new RpcError({ code: -33002, message: "out", data: { kind: "outOfBounds" } });
        return lines as T;
      }
      return info as T;
    },
  };
  const s = new DocSession(server, info);
  const posted: HostMessage[] = [];
  await s.handle({ type: "ready" }, (m) => void posted.push(m));
  const init = posted.find((m) => m.type === "init") as Extract<HostMessage, { type: "init" }>;
  assert.deepEqual(init.first, lines);
  assert.deepEqual(
    calls.find(([m]) => m === "tome/viewport"),
    ["tome/viewport", { doc: 3, first: 0, count: FIRST_LINES, window: { start: 0, width: FIRST_LINES_WIDTH, unit: "encoding" } }],
  );
  fail = true;
  posted.length = 0;
  await s.handle({ type: "ready" }, (m) => void posted.push(m));
  const again = posted.find((m) => m.type === "init") as Extract<HostMessage, { type: "init" }>;
  assert.equal(again.first, undefined);
  assert.deepEqual(again.info, info);
});
