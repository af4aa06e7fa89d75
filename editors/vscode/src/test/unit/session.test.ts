import { test } from "node:test";
import assert from "node:assert/strict";
import { DocSession, type EditedEvent, type HostMessage } from "../../session";
import { RpcError } from "../../rpc";
import type { DocInfo } from "../../viewport";

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
        return { version: state.version } as T;
      }
      if (method === "tome/replaceAll") {
        state = { ...state, version: state.version + 1, undoSteps: state.undoSteps + 1 };
        return { count: 2, version: state.version } as T;
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
  await s.handle({ type: "request", reqId: 3, method: "save", params: {} }, post);
  await s.handle({ type: "request", reqId: 4, method: "copy", params: {} }, post);
  assert.deepEqual(calls[0], ["tome/viewport", { first: 99, doc: 3 }]);
  assert.equal((posted[0] as { error: { code: number } }).error.code, -33002);
  assert.equal((posted[1] as { error: { code: number } }).error.code, -32601, "save is not relayed from the webview");
  assert.equal((posted[2] as { error: { code: number } }).error.code, -32601, "no clipboard given: copy is refused");
  assert.equal(calls.length, 1);
});

test("an edit is announced as a new undo step unless the server joined it to the last one", async () => {
  let join = false;
  const { server, calls } = fakeServer(() => join);
  const s = new DocSession(server, { ...info });
  const edited: EditedEvent[] = [];
  s.on("edited", (e: EditedEvent) => edited.push(e));
  const post = (): void => undefined;
  await s.handle({ type: "request", reqId: 1, method: "edit", params: { version: 0, edits: [] } }, post);
  join = true;
  await s.handle({ type: "request", reqId: 2, method: "edit", params: { version: 1, edits: [] } }, post);
  await s.handle({ type: "request", reqId: 3, method: "replaceAll", params: { query: { pattern: "x" } } }, post);
  assert.deepEqual(
    calls.slice(0, 3).map((c) => c[0]),
    ["tome/info", "tome/edit", "tome/info"],
    "the edit is sent between two infos, without waiting",
  );
  assert.deepEqual(calls[1], ["tome/edit", { version: 0, edits: [], doc: 3 }]);
  assert.deepEqual(
    edited.map((e) => [e.method, e.versionBefore, e.version, e.newStep]),
    [
      ["tome/edit", 0, 1, true],
      ["tome/edit", 1, 2, false],
      ["tome/replaceAll", 2, 3, true],
    ],
  );
  assert.equal(s.info.version, 3);
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
  await s.handle({ type: "request", reqId: 1, method: "replaceAll", params: { query: { pattern: "x" } } }, () => undefined);
  assert.equal(edited.length, 0);
});
