import { test } from "node:test";
import assert from "node:assert/strict";
import {
  LineCache,
  MAX_SCROLL_PX,
  cursorAfterInsert,
  normalizeBreaks,
  scrollHeight,
  scrollToTarget,
  targetToScroll,
  translateEdit,
  type ScrollState,
} from "../../viewport";
import type { ViewLine, ViewportResult } from "../../protocol";

function line(number: number | null, text: string, extra: Partial<ViewLine> = {}): ViewLine {
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

function result(version: number, first: number, texts: string[]): ViewportResult {
  return {
    version,
    width: 100,
    lineCount: { known: 100, estimate: 100, exact: true },
    lines: texts.map((t, i) => line(first + i, t)),
  };
}

test("cache stores lines by number for one version", () => {
  const c = new LineCache();
  assert.equal(c.put(result(0, 10, ["a", "b", "c"])), true);
  assert.equal(c.get(11)?.text, "b");
  assert.equal(c.has(10, 3), true);
  assert.equal(c.has(10, 4), false);
  assert.deepEqual(c.missing(9, 5), { first: 9, count: 5 });
  assert.deepEqual(c.missing(10, 3), null);
  assert.deepEqual(c.missing(10, 5), { first: 13, count: 2 });
});

test("a newer version drops the old lines; an older reply is refused", () => {
  const c = new LineCache();
  c.put(result(1, 0, ["x", "y"]));
  assert.equal(c.put(result(0, 5, ["old"])), false);
  assert.equal(c.get(5), undefined);
  assert.equal(c.put(result(2, 5, ["new"])), true);
  assert.equal(c.get(0), undefined, "lines of version 1 are gone");
  assert.equal(c.get(5)?.text, "new");
  assert.equal(c.version, 2);
  assert.equal(c.has(5, 1, 1), false, "asking for another version misses");
});

test("another horizontal window drops the lines; lines without numbers are not cached", () => {
  const c = new LineCache();
  c.put(result(0, 0, ["a"]), 0);
  c.put({ ...result(0, 3, ["b"]), lines: [line(null, "far")] }, 40);
  assert.equal(c.get(0), undefined);
  assert.equal(c.size, 0);
  assert.equal(c.windowStart, 40);
});

test("cache evicts least recently stored lines beyond capacity", () => {
  const c = new LineCache(3);
  c.put(result(0, 0, ["0", "1", "2", "3"]));
  assert.equal(c.size, 3);
  assert.equal(c.get(0), undefined);
  assert.equal(c.get(3)?.text, "3");
});

const base: ScrollState = {
  size: 1000,
  lineCount: { known: 10, estimate: 100, exact: false },
  indexComplete: false,
  visibleLines: 10,
  lineHeight: 20,
};

test("before the index is complete the scrollbar maps to a fraction of the bytes", () => {
  assert.deepEqual(scrollToTarget(0, 1000, base), { kind: "fraction", fraction: 0 });
  assert.deepEqual(scrollToTarget(250, 1000, base), { kind: "fraction", fraction: 0.25 });
  assert.deepEqual(scrollToTarget(5000, 1000, base), { kind: "fraction", fraction: 1 });
  assert.equal(targetToScroll(null, 500, 1000, base), 500);
  assert.equal(targetToScroll(3, 250, 1000, base), 250, "by offset even when the line is known");
});

test("once indexed the scrollbar maps to lines", () => {
  const s: ScrollState = { ...base, indexComplete: true, lineCount: { known: 101, estimate: 101, exact: true } };
  assert.deepEqual(scrollToTarget(0, 1000, s), { kind: "line", line: 0 });
  assert.deepEqual(scrollToTarget(500, 1000, s), { kind: "line", line: 50 });
  assert.deepEqual(scrollToTarget(1000, 1000, s), { kind: "line", line: 100 });
  assert.equal(targetToScroll(50, 0, 1000, s), 500);
  assert.equal(targetToScroll(100, 0, 1000, s), 1000);
  // Round trip.
  for (const l of [0, 1, 37, 99, 100]) {
    const px = targetToScroll(l, 0, 1000, s);
    assert.deepEqual(scrollToTarget(px, 1000, s), { kind: "line", line: l });
  }
});

test("scroll height is capped for huge files and never below one screen", () => {
  const huge: ScrollState = { ...base, lineCount: { known: 40_000_000, estimate: 40_000_000, exact: true } };
  assert.equal(scrollHeight(huge), MAX_SCROLL_PX);
  const tiny: ScrollState = { ...base, lineCount: { known: 1, estimate: 1, exact: true } };
  assert.equal(scrollHeight(tiny), 200);
  assert.equal(scrollHeight(base), (100 + 9) * 20, "uses the estimate while counting");
});

const doc = new Map<number, ViewLine>([
  [0, line(0, "hello")],
  [1, line(1, "a🦀b")],
  [2, line(2, "last", { breakLength: 0 })],
]);
const get = (n: number): ViewLine | undefined => doc.get(n);

test("typing inserts at the cursor, in UTF-16 columns", () => {
  const t = translateEdit({ kind: "insert", at: { line: 1, character: 3 }, text: "é" }, 7, get, "lf");
  assert.deepEqual(t, {
    params: { version: 7, edits: [{ range: { start: { line: 1, character: 3 }, end: { line: 1, character: 3 } }, text: "é" }] },
    cursor: { line: 1, character: 4 },
  });
});

test("Enter inserts the document's line break; paste normalizes breaks", () => {
  const t = translateEdit({ kind: "newline", at: { line: 0, character: 2 } }, 0, get, "crlf")!;
  assert.equal((t.params.edits[0] as { text: string }).text, "\r\n");
  assert.deepEqual(t.cursor, { line: 1, character: 0 });
  const p = translateEdit({ kind: "insert", at: { line: 0, character: 5 }, text: "x\r\ny\nzz" }, 0, get, "lf")!;
  assert.equal((p.params.edits[0] as { text: string }).text, "x\ny\nzz");
  assert.deepEqual(p.cursor, { line: 2, character: 2 });
  assert.equal(translateEdit({ kind: "insert", at: { line: 0, character: 0 }, text: "" }, 0, get, "lf"), null);
});

test("Backspace deletes a whole surrogate pair and joins lines at column 0", () => {
  const crab = translateEdit({ kind: "deleteBackward", at: { line: 1, character: 3 } }, 1, get, "lf")!;
  assert.deepEqual(crab.params.edits[0], { range: { start: { line: 1, character: 1 }, end: { line: 1, character: 3 } }, text: "" });
  assert.deepEqual(crab.cursor, { line: 1, character: 1 });
  const a = translateEdit({ kind: "deleteBackward", at: { line: 1, character: 1 } }, 1, get, "lf")!;
  assert.deepEqual(a.params.edits[0], { range: { start: { line: 1, character: 0 }, end: { line: 1, character: 1 } }, text: "" });
  const join = translateEdit({ kind: "deleteBackward", at: { line: 1, character: 0 } }, 1, get, "lf")!;
  assert.deepEqual(join.params.edits[0], { range: { start: { line: 0, character: 5 }, end: { line: 1, character: 0 } }, text: "" });
  assert.deepEqual(join.cursor, { line: 0, character: 5 });
  assert.equal(translateEdit({ kind: "deleteBackward", at: { line: 0, character: 0 } }, 1, get, "lf"), null);
  assert.throws(() => translateEdit({ kind: "deleteBackward", at: { line: 9, character: 0 } }, 1, get, "lf"), /not loaded/);
});

test("Delete removes the next character, the line break, or nothing at the end", () => {
  const crab = translateEdit({ kind: "deleteForward", at: { line: 1, character: 1 } }, 0, get, "lf")!;
  assert.deepEqual(crab.params.edits[0], { range: { start: { line: 1, character: 1 }, end: { line: 1, character: 3 } }, text: "" });
  const brk = translateEdit({ kind: "deleteForward", at: { line: 0, character: 5 } }, 0, get, "lf")!;
  assert.deepEqual(brk.params.edits[0], { range: { start: { line: 0, character: 5 }, end: { line: 1, character: 0 } }, text: "" });
  assert.equal(translateEdit({ kind: "deleteForward", at: { line: 2, character: 4 } }, 0, get, "lf"), null);
});

test("replace and helpers", () => {
  const r = translateEdit({ kind: "replace", start: { line: 0, character: 1 }, end: { line: 0, character: 3 }, text: "EY" }, 2, get, "lf")!;
  assert.deepEqual(r.cursor, { line: 0, character: 3 });
  assert.equal(normalizeBreaks("a\rb\r\nc\n", "crlf"), "a\r\nb\r\nc\r\n");
  assert.deepEqual(cursorAfterInsert({ line: 4, character: 2 }, "ab"), { line: 4, character: 4 });
});
