// Local echo (src/echo.ts): cached lines patched by an edit, and versions predicted across
// pipelined edits. The patch is checked against the real `tome serve`: random typing (letters,
// multi-byte and astral characters, Enter, Backspace, Delete, paste of several lines) is applied
// to a cache and sent to the server without waiting, and the cache must then equal what the
// server shows, field by field (text, lengths, offsets, numbers), in LF and CRLF files. Also a
// refused edit and an interleaved change of the server's own (lines appended to the file).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { EditPipeline, needsFresh, patchLines, utf8Length } from "../../echo";
import type { ViewLine, ViewportResult } from "../../protocol";
import { TomeServer } from "../../rpc";
import { LineCache, lineBreak, translateEdit, type CursorEdit } from "../../viewport";

const binary = process.env.TOME_BIN ?? path.resolve(__dirname, "../../../../../target/release/tome");
const skip = !fs.existsSync(binary) && "no tome binary";

function line(number: number, text: string, extra: Partial<ViewLine> = {}): ViewLine {
  return {
    number,
    offset: 0,
    text,
    startColumn: 0,
    length: text.length,
    byteLength: Buffer.byteLength(text),
    breakLength: 1,
    cutBefore: false,
    cutAfter: false,
    invalid: false,
    ...extra,
  };
}

/** A cache holding `texts` as whole LF lines from line 0, at version `version`. */
function cacheOf(texts: string[], version = 0): LineCache {
  const c = new LineCache();
  let offset = 0;
  const lines = texts.map((t, i) => {
    const l = line(i, t, { offset, breakLength: i === texts.length - 1 ? 0 : 1 });
    offset += l.byteLength + l.breakLength;
    return l;
  });
  c.put({ version, width: 1000, lineCount: { known: texts.length, estimate: texts.length, exact: true }, lines });
  return c;
}
const texts = (c: LineCache, n: number): (string | undefined)[] => Array.from({ length: n }, (_, i) => c.get(i)?.text);

test("utf8Length counts UTF-8 bytes, astral characters as 4", () => {
  assert.equal(utf8Length("aé€🦀"), 1 + 2 + 3 + 4);
  assert.equal(utf8Length("\ud800x"), 4); // a lone surrogate is written as U+FFFD
});

test("typing, Enter and Backspace at column 0 patch the cached lines and renumber the rest", () => {
  const c = cacheOf(["hello", "world", "end"]);
  assert.deepEqual(patchLines(c, { start: { line: 0, character: 5 }, end: { line: 0, character: 5 }, text: "!" }, "\n", 1), { lineDelta: 0, byteDelta: 1, stale: [] });
  assert.deepEqual(texts(c, 3), ["hello!", "world", "end"]);
  assert.equal(c.version, 1);
  patchLines(c, { start: { line: 0, character: 2 }, end: { line: 0, character: 2 }, text: "\n" }, "\n", 2);
  assert.deepEqual(texts(c, 5), ["he", "llo!", "world", "end", undefined]);
  assert.deepEqual(
    [1, 2, 3].map((n) => [c.get(n)!.number, c.get(n)!.offset]),
    [
      [1, 3],
      [2, 8],
      [3, 14],
    ],
  );
  // Backspace at the start of line 1: joins it to line 0.
  const r = patchLines(c, { start: { line: 0, character: 2 }, end: { line: 1, character: 0 }, text: "" }, "\n", 3);
  assert.deepEqual(r, { lineDelta: -1, byteDelta: -1, stale: [] });
  assert.deepEqual(texts(c, 4), ["hello!", "world", "end", undefined]);
  assert.equal(c.get(2)!.breakLength, 0, "the last line keeps its (absent) break");
});

test("an edit the cache cannot tell is refused and changes nothing", () => {
  const c = cacheOf(["a", "b"]);
  assert.equal(patchLines(c, { start: { line: 0, character: 0 }, end: { line: 5, character: 0 }, text: "" }, "\n", 1), null, "a line of the range is not cached");
  const cut = new LineCache();
  cut.put({ version: 0, width: 4, lineCount: { known: 1, estimate: 1, exact: true }, lines: [line(0, "abcd", { cutAfter: true, length: 10, byteLength: 10 })] });
  assert.equal(patchLines(cut, { start: { line: 0, character: 8 }, end: { line: 0, character: 8 }, text: "x" }, "\n", 1), null, "outside the window");
  assert.equal(cut.get(0)!.text, "abcd");
  assert.equal(cut.version, 0);
  const sideways = new LineCache();
  sideways.put(
    {
      version: 0,
      width: 4,
      lineCount: { known: 1, estimate: 1, exact: true },
      lines: [line(0, "efgh", { startColumn: 4, cutBefore: true, cutAfter: true, length: 10, byteLength: 10 })],
    },
    4,
  );
  assert.equal(
    patchLines(sideways, { start: { line: 0, character: 5 }, end: { line: 0, character: 5 }, text: "\n" }, "\n", 1),
    null,
    "a split of a line scrolled sideways",
  );
  const invalid = cacheOf(["a\ufffdb"]);
  invalid.put({ version: 0, width: 100, lineCount: { known: 1, estimate: 1, exact: true }, lines: [line(0, "a\ufffdb", { invalid: true, byteLength: 3 })] });
  assert.equal(
    patchLines(invalid, { start: { line: 0, character: 1 }, end: { line: 0, character: 2 }, text: "" }, "\n", 1),
    null,
    "an invalid byte removed: one byte or three",
  );
});

test("a line cut by the window keeps its width; a deletion marks it stale (the text that slides in is not cached)", () => {
  const c = new LineCache();
  c.put({
    version: 0,
    width: 4,
    lineCount: { known: 2, estimate: 2, exact: true },
    lines: [line(0, "abcd", { cutAfter: true, length: 10, byteLength: 10 }), line(1, "next")],
  });
  assert.deepEqual(patchLines(c, { start: { line: 0, character: 1 }, end: { line: 0, character: 1 }, text: "X" }, "\n", 1)?.stale, []);
  assert.equal(c.get(0)!.text, "aXbc");
  assert.equal(c.get(0)!.length, 11);
  assert.deepEqual(patchLines(c, { start: { line: 0, character: 0 }, end: { line: 0, character: 1 }, text: "" }, "\n", 2)?.stale, [0]);
  assert.equal(c.get(0)!.text, "Xbc");
  assert.deepEqual(c.staleIn(0, 2), [0]);
  c.put({ version: 2, width: 4, lineCount: { known: 2, estimate: 2, exact: true }, lines: [line(0, "Xbcd", { cutAfter: true, length: 10, byteLength: 10 })] });
  assert.deepEqual(c.staleIn(0, 2), [], "read again: no longer stale");
});

test("the pipeline predicts versions and resynchronises after a refused edit, ignoring the replies it made stale", async () => {
  const p = new EditPipeline(5);
  const a = p.send();
  const b = p.send();
  const c = p.send();
  assert.deepEqual([a.base, b.base, c.base, p.version, p.inFlight], [5, 6, 7, 8, 3]);
  assert.equal(p.replied(a, 6), "ok");
  assert.equal(p.accepts(7), false, "a read older than the edits in flight is not cached");
  assert.equal(p.accepts(8), true, "a read at the predicted version is");
  // b is refused (out of bounds, say): c, based on it, is refused as stale too.
  assert.equal(p.failed(b), "resync");
  assert.equal(p.accepts(6), false, "nothing is cached while edits are in flight");
  let settled = false;
  const waiting = p.settled().then(() => (settled = true));
  await Promise.resolve();
  assert.equal(settled, false);
  assert.equal(p.failed(c), "resync");
  await waiting;
  assert.equal(p.accepts(6), true, "resynchronising: the server's version, as read, is taken");
  assert.equal(p.version, 6);
  assert.equal(p.send().base, 6);
});

test("the pipeline: a reply off the prediction (a change on disk in between) resyncs; after reset old replies are ignored", () => {
  const p = new EditPipeline(0);
  const a = p.send();
  assert.equal(p.replied(a, 2), "resync", "the server counted a change of its own");
  assert.equal(p.accepts(2), true);
  const b = p.send();
  p.reset(10); // undo: the state was read again, with b in it
  assert.equal(p.failed(b), "ignore");
  assert.equal(p.replied(p.send(), 11), "ok");
  assert.equal(p.accepts(12), true, "nothing in flight: the server moved by itself (an append)");
  assert.equal(p.version, 12);
});

// ---------------------------------------------------------------------------------------------
// Against the real server

async function withServer(content: string, run: (server: TomeServer, doc: number, file: string) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tome-vsc-echo-"));
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

/** A seeded random generator (xorshift), so a failure can be replayed. */
function rng(seed: number): (n: number) => number {
  let s = seed >>> 0 || 1;
  return (n) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
}

const FIELDS = ["number", "offset", "text", "startColumn", "length", "byteLength", "breakLength", "cutAfter", "invalid"] as const;
function pick(l: ViewLine | undefined): unknown {
  return l && Object.fromEntries(FIELDS.map((f) => [f, l[f]]));
}

for (const [ending, width] of [
  ["lf", 1000],
  ["crlf", 1000],
  ["lf", 12],
] as const) {
  const cut = width < 100 ? ", lines cut by a window of 12 columns" : "";
  test(`random typing pipelined to the server: the patched cache equals what the server shows (${ending}${cut})`, { skip }, async () => {
    const brk = lineBreak(ending);
    const initial = Array.from({ length: 30 }, (_, i) => `line ${i} héllo 🦀 wörld`).join(brk) + brk;
    await withServer(initial, async (server, doc) => {
      const view = (): Promise<ViewportResult> => server.request("tome/viewport", { doc, first: 0, count: 200, window: { start: 0, width, unit: "encoding" } });
      const cache = new LineCache();
      const p = new EditPipeline(0);
      assert.ok(p.accepts((await view()).version));
      cache.put(await view());
      const random = rng(ending === "lf" ? 7 + width : 11);
      const chars = ["a", "é", "€", "🦀", " ", "x"];
      let cursor = { line: 3, character: 2 };
      const replies: Promise<void>[] = [];
      let slow = 0;
      let staled = 0;
      let lines = 31;
      for (let i = 0; i < 400; i++) {
        const k = random(10);
        const e: CursorEdit =
          k < 5
            ? { kind: "insert", at: cursor, text: chars[random(chars.length)] }
            : k === 5
              ? { kind: "newline", at: cursor }
              : k === 6
                ? { kind: "deleteBackward", at: cursor }
                : k === 7
                  ? { kind: "deleteForward", at: cursor }
                  : k === 8
                    ? { kind: "insert", at: cursor, text: "pasted\none\ntwo" }
                    : { kind: "insert", at: { line: random(lines - 1), character: 0 }, text: "<" };
        if (k === 9 && e.kind === "insert" && e.at.line === cursor.line) cursor = { ...cursor, character: cursor.character + 1 };
        if (needsFresh(cache, e)) {
          // As the editor does: a stale line whose window ends too soon is read again first.
          await p.settled();
          const v = await view();
          assert.ok(p.accepts(v.version));
          cache.put(v);
        }
        const t = translateEdit(e, p.version, (n) => cache.get(n), ending);
        if (!t) continue;
        const edit = t.params.edits[0] as { range: { start: typeof cursor; end: typeof cursor }; text: string };
        const patched = patchLines(cache, { start: edit.range.start, end: edit.range.end, text: edit.text }, brk, p.version + 1);
        const ticket = p.send();
        const reply = server
          .request("tome/edit", { doc, version: ticket.base, edits: t.params.edits })
          .then((r) => void assert.equal(p.replied(ticket, r.version), "ok"));
        replies.push(reply);
        if (patched) {
          lines += patched.lineDelta;
          staled += patched.stale.length;
        } else {
          // What the editor does then: wait for the server and read the lines again.
          assert.ok(width < 100, `edit ${i} (${e.kind}) could be patched`);
          slow++;
          await reply;
          await p.settled();
          const v = await view();
          assert.ok(p.accepts(v.version), "read at the predicted version");
          cache.clear();
          cache.put(v);
          lines = v.lineCount.known;
        }
        if (k !== 9) cursor = t.cursor;
        // Keep the cursor within its line's window (where the editor keeps it), never inside a
        // surrogate pair, and two columns before the end of a cut window (the editor scrolls
        // sideways before the cursor gets there: what lies past the window is not known).
        const l = cache.get(cursor.line)!;
        let ch = Math.max(0, Math.min(cursor.character, l.startColumn + l.text.length - (l.cutAfter ? 2 : 0)));
        if (ch > 0 && (l.text.charCodeAt(ch - 1) & 0xfc00) === 0xd800) ch--;
        cursor = { line: cursor.line, character: ch };
      }
      await Promise.all(replies);
      await p.settled();
      const r = await view();
      assert.equal(r.version, p.version, "the predicted version is the server's");
      assert.equal(r.lineCount.known, lines, "line count");
      const stale = new Set(cache.staleIn(0, 1000));
      if (width < 100) assert.ok(staled > 0, "some cut lines got shorter (and were marked to be read again)");
      assert.ok(slow < 40, `${slow} of 400 edits waited for the server`);
      for (const l of r.lines) {
        const mine = cache.get(l.number!);
        if (l.cutAfter || stale.has(l.number!)) {
          // A window's text: a prefix of the server's (up to a pair the window end would split).
          const { text, ...rest } = pick(mine) as ViewLine;
          const { text: theirs, ...want } = pick(l) as ViewLine;
          assert.deepEqual(rest, want, `line ${l.number}`);
          assert.ok(
            theirs.startsWith(text) && (stale.has(l.number!) || text.length >= theirs.length - 1),
            `line ${l.number}: ${JSON.stringify(text)} vs ${JSON.stringify(theirs)}`,
          );
        } else assert.deepEqual(pick(mine), pick(l), `line ${l.number}`);
      }
    });
  });
}

test("a refused edit and lines appended meanwhile: the pipeline says resync, and a read then matches the server", { skip }, async () => {
  await withServer("one\ntwo\n", async (server, doc, file) => {
    const view = (): Promise<ViewportResult> => server.request("tome/viewport", { doc, first: 0, count: 50 });
    const cache = new LineCache();
    const p = new EditPipeline(0);
    p.accepts((await view()).version);
    cache.put(await view());
    // An edit the cache believes in, but the server refuses (a column past the line's end, as
    // when the cache was wrong), then one based on it.
    const bad = p.send();
    patchLines(cache, { start: { line: 0, character: 1 }, end: { line: 0, character: 1 }, text: "X" }, "\n", p.version);
    const refused = server.request("tome/edit", {
      doc,
      version: bad.base,
      edits: [{ range: { start: { line: 0, character: 9 }, end: { line: 0, character: 9 } }, text: "X" }],
    });
    const next = p.send();
    const stale = server.request("tome/edit", {
      doc,
      version: next.base,
      edits: [{ range: { start: { line: 0, character: 2 }, end: { line: 0, character: 2 } }, text: "Y" }],
    });
    await assert.rejects(refused);
    assert.equal(p.failed(bad), "resync");
    await assert.rejects(stale, /stale|version/i);
    assert.equal(p.failed(next), "resync");
    // Meanwhile the file grows: the server appends the lines (a change of its own).
    fs.appendFileSync(file, "three\n");
    const grown = Date.now();
    let r = await view();
    while (r.lines.length < 4 && Date.now() - grown < 5000) {
      await new Promise((res) => setTimeout(res, 50));
      r = await view();
    }
    assert.ok(p.accepts(r.version), "resynchronising takes the server's version");
    cache.put(r);
    assert.deepEqual(texts(cache, 4), ["one", "two", "three", ""], "the server's text, without the refused edits");
    // Typing goes on from there, predicted again.
    const t = p.send();
    patchLines(cache, { start: { line: 2, character: 5 }, end: { line: 2, character: 5 }, text: "!" }, "\n", p.version);
    const res = await server.request("tome/edit", {
      doc,
      version: t.base,
      edits: [{ range: { start: { line: 2, character: 5 }, end: { line: 2, character: 5 } }, text: "!" }],
    });
    assert.equal(p.replied(t, res.version), "ok");
    const after = await view();
    for (const l of after.lines) assert.deepEqual(pick(cache.get(l.number!)), pick(l), `line ${l.number}`);
  });
});
