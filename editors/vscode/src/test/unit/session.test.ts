import { test } from "node:test";
import assert from "node:assert/strict";
import { DocSession, type HostMessage } from "../../session";
import { RpcError } from "../../rpc";
import type { DocInfo } from "../../viewport";

const info = { doc: 3, version: 0 } as DocInfo;

test("requests are relayed with the doc id; edits that change the version are announced", async () => {
  const calls: [string, unknown][] = [];
  const server = {
    async request<T>(method: string, params?: unknown): Promise<T> {
      calls.push([method, params]);
      if (method === "tome/edit") return { version: 1 } as T;
      if (method === "tome/replaceAll") return { count: 0, version: 1 } as T;
      if (method === "tome/viewport") throw new RpcError({ code: -33002, message: "out", data: { kind: "outOfBounds" } });
      return info as T;
    },
  };
  const s = new DocSession(server, info);
  const edited: unknown[] = [];
  s.on("edited", (e) => edited.push(e));
  const posted: HostMessage[] = [];
  const post = (m: HostMessage): void => void posted.push(m);
  await s.handle({ type: "request", reqId: 1, method: "edit", params: { version: 0, edits: [] } }, post);
  await s.handle({ type: "request", reqId: 2, method: "viewport", params: { first: 99 } }, post);
  await s.handle({ type: "request", reqId: 3, method: "save", params: {} }, post);
  await s.handle({ type: "request", reqId: 4, method: "replaceAll", params: { query: { pattern: "x" } } }, post);
  assert.deepEqual(calls[0], ["tome/edit", { version: 0, edits: [], doc: 3 }]);
  assert.deepEqual(edited, [{ method: "tome/edit", versionBefore: 0, version: 1 }]);
  assert.deepEqual(posted[0], { type: "response", reqId: 1, result: { version: 1 } });
  assert.equal((posted[1] as { error: { code: number } }).error.code, -33002);
  assert.equal((posted[2] as { error: { code: number } }).error.code, -32601, "save is not relayed from the webview");
  assert.equal(calls.length, 3);
  assert.equal(edited.length, 1, "a replaceAll that kept the version is no undo step");
});
