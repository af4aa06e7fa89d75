// Reading ranges for Copy (src/textRange.ts) against the real `tome serve`: the exact bytes of
// the file (a lone CR in an LF file, CRLF, multi-byte text, characters outside the BMP), in one
// part or in many (parts end on character boundaries, inside lines too), a range over 16 MiB
// read in parts and compared with the file byte for byte, and the size cap.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { TomeServer } from "../../rpc";
import type { Position, Requester, TomeMethod, TomeParams, TomeResult } from "../../protocol";
import { PART_BYTES, RangeTooLargeError, readRange } from "../../textRange";

const binary = process.env.TOME_BIN ?? path.resolve(__dirname, "../../../../../target/release/tome");
const skip = !fs.existsSync(binary) && "no tome binary";

// 1023 and 16383 put a surrogate pair across column 1024 and 16384.
const long = "a".repeat(1023) + "🦀" + "b".repeat(16383 - 1025) + "🦀" + "c".repeat(30000) + "🦀z";
// An LF file with one lone CR (a line break for the server, kept as a CR) and one CRLF.
const lines = ["héllo wörld", "lone cr", "crlf line", long, "", "é🦀x", "last"];
const breaks = ["\n", "\r", "\r\n", "\n", "\n", "\n", ""];

/** The byte offset of a position in a file made of `ls` and `bs` (UTF-16 columns = string indices). */
function byteOffset(ls: string[], bs: string[], p: Position): number {
  let n = 0;
  for (let i = 0; i < p.line; i++) n += Buffer.byteLength(ls[i] + bs[i]);
  return n + Buffer.byteLength(ls[p.line].slice(0, p.character));
}

async function withServer(content: Buffer | string, run: (server: TomeServer, doc: number, file: string) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tome-vsc-range-"));
  const file = path.join(dir, "a.txt");
  fs.writeFileSync(file, content);
  const server = await TomeServer.start(binary, { env: { ...process.env, TOME_STATE_DIR: path.join(dir, "state") } });
  try {
    const { doc } = await server.request("tome/open", { path: file });
    await run(server, doc, file);
  } finally {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Counts the `tome/getText` requests and the largest part asked for. */
function counting(server: Requester): Requester & { parts: number; largest: number } {
  const c = {
    parts: 0,
    largest: 0,
    request<M extends TomeMethod>(method: M, params: TomeParams<M>, signal?: AbortSignal): Promise<TomeResult<M>> {
      const o = (params as { offsets?: { start: number; end: number } }).offsets;
      if (method === "tome/getText" && o) {
        c.parts++;
        c.largest = Math.max(c.largest, o.end - o.start);
      }
      return server.request(method, params, signal);
    },
  };
  return c;
}

test("readRange gives the file's exact bytes: lone CR, CRLF, multi-byte, long lines; in one part or many", { skip }, async () => {
  const content = lines.map((l, i) => l + breaks[i]).join("");
  const file = Buffer.from(content);
  await withServer(content, async (server, doc) => {
    const last = lines.length - 1;
    const ranges: [Position, Position][] = [
      [
        { line: 0, character: 0 },
        { line: last, character: 4 },
      ], // everything
      [
        { line: 0, character: 3 },
        { line: 3, character: 1030 },
      ], // into the long line, past a pair on a boundary
      [
        { line: 1, character: 2 },
        { line: 2, character: 3 },
      ], // across the lone CR
      [
        { line: 1, character: 7 },
        { line: 2, character: 0 },
      ], // the lone CR alone
      [
        { line: 2, character: 0 },
        { line: 3, character: 0 },
      ], // a CRLF line, break included
      [
        { line: 3, character: 2000 },
        { line: last, character: 2 },
      ], // starting far right in a line
      [
        { line: 3, character: 16000 },
        { line: 3, character: 17000 },
      ], // within one line
      [
        { line: 3, character: long.length - 3 },
        { line: 4, character: 0 },
      ], // the last pair of the line
      [
        { line: 5, character: 1 },
        { line: 5, character: 3 },
      ], // one pair
      [
        { line: 4, character: 0 },
        { line: 4, character: 0 },
      ], // empty
    ];
    for (const [start, end] of ranges) {
      const want = file.subarray(byteOffset(lines, breaks, start), byteOffset(lines, breaks, end));
      const what = JSON.stringify([start, end]);
      const text = await readRange(server, doc, { start, end });
      assert.ok(Buffer.from(text).equals(want), `bytes of ${what}: ${JSON.stringify(text.slice(0, 40))}`);
      // Small parts: boundaries fall inside é, 🦀 and next to the CRLF; each part must end on a
      // character boundary or the joined text would hold U+FFFD.
      const size = want.length > 2000 ? 4099 : 7;
      const small = counting(server);
      const parts = await readRange(small, doc, { start, end }, undefined, undefined, size);
      assert.ok(Buffer.from(parts).equals(want), `bytes of ${what} in parts of ${size} bytes`);
      assert.ok(small.largest <= size, `parts of at most ${size} bytes, got ${small.largest}`);
      if (want.length > 20) assert.ok(small.parts >= want.length / size, `${what}: read in ${small.parts} parts`);
    }
    assert.ok(!(await readRange(server, doc, { start: { line: 0, character: 0 }, end: { line: last, character: 4 } })).includes("\r\r"));
    await assert.rejects(readRange(server, doc, { start: { line: 0, character: 0 }, end: { line: last, character: 4 } }, 1000), (e: unknown) => {
      assert.ok(e instanceof RangeTooLargeError);
      assert.equal(e.bytes, file.length, "the exact size of the range");
      assert.match(e.message, /at most 0\.0 MiB/);
      return true;
    });
  });
});

test("readRange reads a range over 16 MiB in parts of at most 16 MiB, byte for byte", { skip }, async () => {
  // Short lines with every kind of break, one line of 18 MiB (a pair across its 4 Mi-th UTF-16
  // unit; 3-byte characters, so 16 MiB part ends fall inside characters), short lines again.
  const ls: string[] = [];
  const bs: string[] = [];
  const kinds = ["\n", "\r\n", "\r"];
  for (let i = 0; i < 200_000; i++) {
    ls.push(`line ${i} é🦀 ${"x".repeat(i % 17)}`);
    bs.push(kinds[i % 3]);
  }
  const big = ls.length;
  const M = 1024 * 1024;
  ls.push("€".repeat(4 * M - 1) + "🦀" + "€".repeat(2 * M));
  bs.push("\n");
  for (let i = 0; i < 200_000; i++) {
    ls.push(`tail ${i} ü ${"y".repeat(i % 13)}`);
    bs.push(kinds[(i + 1) % 3]);
  }
  bs[bs.length - 1] = "";
  const file = Buffer.from(ls.map((l, i) => l + bs[i]).join(""));
  assert.ok(file.length > PART_BYTES + PART_BYTES / 2, `a file of ${file.length} bytes`);
  await withServer(file, async (server, doc) => {
    const all: [Position, Position] = [
      { line: 0, character: 0 },
      { line: ls.length - 1, character: ls.at(-1)!.length },
    ];
    // Starting 18 MiB into the long line: measuring that column takes several requests too.
    const inLong: [Position, Position] = [
      { line: big, character: 6 * M - 10 },
      { line: big + 1000, character: 3 },
    ];
    for (const [start, end] of [all, inLong]) {
      const want = file.subarray(byteOffset(ls, bs, start), byteOffset(ls, bs, end));
      const c = counting(server);
      const text = await readRange(c, doc, { start, end });
      const got = Buffer.from(text);
      assert.equal(got.length, want.length, `length of ${JSON.stringify([start, end])}`);
      assert.ok(got.equals(want), `bytes of ${JSON.stringify([start, end])}`);
      assert.ok(c.largest <= PART_BYTES, `no part over 16 MiB (${c.largest})`);
      if (want.length > PART_BYTES) assert.ok(c.parts >= 2, `read in ${c.parts} parts`);
    }
  });
});
