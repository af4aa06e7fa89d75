import { test } from "node:test";
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { FrameDecoder, RpcConnection, RpcError, TomeServer, encodeFrame } from "../../rpc";

test("frames are split whatever the chunking, with multi-byte bodies", () => {
  const a = encodeFrame({ jsonrpc: "2.0", id: 1, result: "🦀é" });
  const b = encodeFrame({ jsonrpc: "2.0", method: "x" });
  const all = Buffer.concat([a, b]);
  for (let cut = 1; cut < all.length; cut++) {
    const d = new FrameDecoder();
    const out = [...d.push(all.subarray(0, cut)), ...d.push(all.subarray(cut))];
    assert.equal(out.length, 2, `cut at ${cut}`);
    assert.equal(JSON.parse(out[0]).result, "🦀é");
  }
});

test("header names are case-insensitive and unknown headers ignored", () => {
  const d = new FrameDecoder();
  const body = '{"a":1}';
  const out = d.push(Buffer.from(`content-type: x\r\nCONTENT-LENGTH: ${body.length}\r\n\r\n${body}`));
  assert.deepEqual(out, [body]);
});

function pair(): { conn: RpcConnection; toClient: PassThrough; fromClient: PassThrough; sent: () => unknown[] } {
  const toClient = new PassThrough();
  const fromClient = new PassThrough();
  const conn = new RpcConnection(toClient, fromClient);
  const dec = new FrameDecoder();
  const msgs: unknown[] = [];
  fromClient.on("data", (c: Buffer) => msgs.push(...dec.push(c).map((s) => JSON.parse(s))));
  return { conn, toClient, fromClient, sent: () => msgs };
}

test("replies are matched by id in any order; errors become RpcError", async () => {
  const { conn, toClient } = pair();
  const p1 = conn.request("a");
  const p2 = conn.request("b");
  toClient.write(encodeFrame({ jsonrpc: "2.0", id: 2, result: "two" }));
  toClient.write(encodeFrame({ jsonrpc: "2.0", id: 1, error: { code: -33003, message: "stale", data: { kind: "staleVersion", given: 0, current: 2 } } }));
  assert.equal(await p2, "two");
  await assert.rejects(p1, (e: unknown) => e instanceof RpcError && e.code === -33003 && e.kind === "staleVersion");
});

test("server requests are answered; progress and notifications are emitted; abort sends $/cancelRequest", async () => {
  const { conn, toClient, sent } = pair();
  const progress: unknown[] = [];
  conn.on("progress", (token, value) => progress.push([token, value.kind]));
  toClient.write(encodeFrame({ jsonrpc: "2.0", id: 0, method: "window/workDoneProgress/create", params: { token: "t" } }));
  toClient.write(encodeFrame({ jsonrpc: "2.0", id: 5, method: "unknown/thing" }));
  toClient.write(encodeFrame({ jsonrpc: "2.0", method: "$/progress", params: { token: "t", value: { kind: "begin" } } }));
  const ac = new AbortController();
  const p = conn.request("slow", {}, ac.signal);
  ac.abort();
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(progress, [["t", "begin"]]);
  const msgs = sent() as { id?: number; method?: string; result?: unknown; error?: { code: number }; params?: { id: number } }[];
  assert.deepEqual(
    msgs.find((m) => m.id === 0 && !m.method),
    { jsonrpc: "2.0", id: 0, result: null },
  );
  assert.equal(msgs.find((m) => m.id === 5 && !m.method)?.error?.code, -32601);
  const req = msgs.find((m) => m.method === "slow")!;
  assert.equal(msgs.find((m) => m.method === "$/cancelRequest")?.params?.id, req.id);
  toClient.end();
  await assert.rejects(p);
});

const binary = process.env.TOME_BIN ?? path.resolve(__dirname, "../../../../../target/release/tome");

test("against the real tome serve: open, viewport, edit, save", { skip: !fs.existsSync(binary) && "no tome binary" }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tome-vsc-"));
  const file = path.join(dir, "a.txt");
  fs.writeFileSync(file, "one\ntwo 🦀\nthree\n");
  const s = await TomeServer.start(binary, { env: { ...process.env, TOME_STATE_DIR: dir } });
  try {
    assert.equal(s.initializeResult.capabilities.positionEncoding, "utf-16");
    const info = await s.request("tome/open", { path: file });
    const vp = await s.request("tome/viewport", { doc: info.doc, first: 1, count: 1 });
    assert.equal(vp.lines[0].text, "two 🦀");
    assert.equal(vp.lines[0].length, 6, "UTF-16 units");
    await s.request("tome/edit", {
      doc: info.doc,
      version: 0,
      edits: [{ range: { start: { line: 1, character: 6 }, end: { line: 1, character: 6 } }, text: "!" }],
    });
    await s.request("tome/save", { doc: info.doc });
    assert.equal(fs.readFileSync(file, "utf8"), "one\ntwo 🦀!\nthree\n");
    await assert.rejects(s.request("tome/viewport", { doc: 999, first: 0, count: 1 }), (e: unknown) => e instanceof RpcError && e.code === -33001);
  } finally {
    await s.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a missing binary gives a clear message", async () => {
  await assert.rejects(TomeServer.start("/nonexistent/tome"), /cannot find the Tome server/);
});
