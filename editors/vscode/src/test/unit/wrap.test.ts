import { test } from "node:test";
import assert from "node:assert/strict";
import {
  BreakClasses,
  DEFAULT_WRAP,
  WORD_WRAP_MAX,
  columnAtVisible,
  compareRows,
  lineRows,
  stepRows,
  toggled,
  visibleColumn,
  wordBreaks,
  wrapColumn,
  type LineRows,
} from "../../wrap";

const classes = new BreakClasses(DEFAULT_WRAP.breakBefore, DEFAULT_WRAP.breakAfter);
const rowsText = (text: string, width: number, tabSize = 4): string[] => {
  const b = [0, ...wordBreaks(text, width, tabSize, classes), text.length];
  return b.slice(1).map((e, i) => text.slice(b[i], e));
};
const whole = (text: string) => ({ text, startColumn: 0, length: text.length, cutAfter: false });

test("wrap column: off, on (the viewport), wordWrapColumn, bounded (the smaller); Alt+Z toggles", () => {
  const s = { ...DEFAULT_WRAP, wordWrapColumn: 40 };
  assert.equal(wrapColumn(s, 120), 0);
  assert.equal(wrapColumn({ ...s, wordWrap: "on" }, 120), 120);
  assert.equal(wrapColumn({ ...s, wordWrap: "wordWrapColumn" }, 120), 40);
  assert.equal(wrapColumn({ ...s, wordWrap: "bounded" }, 120), 40);
  assert.equal(wrapColumn({ ...s, wordWrap: "bounded" }, 30), 30);
  assert.equal(toggled(s).wordWrap, "on");
  assert.equal(toggled({ ...s, wordWrap: "bounded" }).wordWrap, "off");
});

// Expected rows are what VS Code 1.100's editor shows with `editor.wordWrap: wordWrapColumn`
// (and `wrappingIndent: none`): breaks after spaces, the space staying at the row's end.
test("words: a row ends after the last space that fits; a word longer than a row is cut", () => {
  assert.deepEqual(rowsText("hello world foo bar", 10), ["hello ", "world foo ", "bar"]);
  assert.deepEqual(rowsText("abcdefghijklmnopqrstuvwxyz", 10), ["abcdefghij", "klmnopqrst", "uvwxyz"]);
  assert.deepEqual(rowsText("short", 10), ["short"]);
  assert.deepEqual(rowsText("exactly10c", 10), ["exactly10c"]);
  // a row may not break before a space, but a space that overflows a full row starts the next
  assert.deepEqual(rowsText("aaaaaaaaaa bbb", 10), ["aaaaaaaaaa", " bbb"]);
  // after punctuation and before an opening bracket
  assert.deepEqual(rowsText("foo.bar.baz.qux", 8), ["foo.bar.", "baz.qux"]);
  assert.deepEqual(rowsText("call(arg1,arg2)", 8), ["call", "(arg1,", "arg2)"]);
});

test("words: a word longer than a row goes to a row of its own, then is cut", () => {
  assert.deepEqual(rowsText("x abcdefghijkl", 10), ["x ", "abcdefghij", "kl"]);
});

test("words: tabs count to the next stop, full-width characters two columns, surrogate pairs stay whole", () => {
  assert.deepEqual(rowsText("\tab cd", 6, 4), ["\t", "ab cd"]); // a tab is a break opportunity
  assert.deepEqual(rowsText("漢字漢字漢字", 5), ["漢字", "漢字", "漢字"]);
  const astral = "😀😀😀😀";
  for (const r of rowsText(astral, 3)) assert.equal(r.length % 2, 0);
});

test("rows of a short line come from its words; a line over WORD_WRAP_MAX is cut at the width", () => {
  const r = lineRows(whole("hello world foo bar"), 10, 4, classes);
  assert.equal(r.fixed, false);
  assert.equal(r.count, 3);
  assert.deepEqual([r.start(1), r.end(1)], [6, 16]);
  assert.equal(r.rowOf(5), 0);
  assert.equal(r.rowOf(6), 1); // the boundary belongs to the next row...
  assert.equal(r.rowOf(6, true), 0); // ...unless the cursor was put at the row's end
  assert.equal(r.rowOf(19), 2);
  // a 1 GiB line: only its length is needed, and the cache holds only its start
  const huge = lineRows({ text: "x".repeat(WORD_WRAP_MAX + 2), startColumn: 0, length: 2 ** 30, cutAfter: true }, 100, 4, classes);
  assert.equal(huge.fixed, true);
  assert.equal(huge.count, Math.ceil(2 ** 30 / 100));
  assert.deepEqual([huge.start(5_000_000), huge.end(5_000_000)], [500_000_000, 500_000_100]);
  assert.equal(huge.rowOf(500_000_000), 5_000_000);
  assert.equal(huge.rowOf(500_000_000, true), 4_999_999);
  assert.equal(huge.end(huge.count - 1), 2 ** 30);
  // the same text just under the limit wraps at words
  const edge = lineRows(whole("ab ".repeat(WORD_WRAP_MAX / 3)), 10, 4, classes);
  assert.equal(edge.fixed, false);
  assert.equal(edge.start(1), 9);
});

test("the layout covers the line: rows are contiguous, non-empty and within the width", () => {
  let seed = 7;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const alphabet = "abc de(f).g,h/i j\t漢k";
  for (let trial = 0; trial < 300; trial++) {
    const text = Array.from({ length: rnd(120) }, () => alphabet[rnd(alphabet.length)]).join("");
    const width = 3 + rnd(30);
    const r = lineRows(whole(text), width, 4, classes);
    let at = 0;
    for (let i = 0; i < r.count; i++) {
      assert.equal(r.start(i), at);
      assert.ok(r.end(i) > r.start(i) || text.length === 0);
      for (let c = r.start(i); c < r.end(i); c++) assert.equal(r.rowOf(c), i);
      at = r.end(i);
    }
    assert.equal(at, text.length);
  }
});

test("visible columns within a row, and back (Up/Down's goal, clicks)", () => {
  const t = "ab\tcd漢x";
  assert.equal(visibleColumn(t, 0, 0, 3, 4), 4); // the tab reaches the stop
  assert.equal(visibleColumn(t, 0, 0, 6, 4), 8); // 漢 is two columns
  assert.equal(columnAtVisible(t, 0, 0, t.length, 4, 4), 3);
  assert.equal(columnAtVisible(t, 0, 0, t.length, 3, 4), 2); // in the middle of the tab: a tie goes left
  assert.equal(columnAtVisible(t, 0, 0, t.length, 99, 4), t.length);
  // from a row's start, in a window of the line that starts at column 1000
  assert.equal(visibleColumn("xyz", 1000, 1001, 1003, 4), 2);
  assert.equal(columnAtVisible("xyz", 1000, 1001, 1003, 1, 4), 1002);
});

test("stepping by rows crosses lines, stops at both ends, and asks for lines it lacks", () => {
  const layouts: Record<number, LineRows> = {
    0: lineRows(whole("one"), 10, 4, classes),
    1: lineRows(whole("hello world foo bar"), 10, 4, classes), // 3 rows
    2: lineRows(whole("x"), 10, 4, classes),
  };
  const of = (n: number) => layouts[n];
  assert.deepEqual(stepRows({ line: 0, row: 0 }, 1, 2, of), { line: 1, row: 0 });
  assert.deepEqual(stepRows({ line: 0, row: 0 }, 3, 2, of), { line: 1, row: 2 });
  assert.deepEqual(stepRows({ line: 0, row: 0 }, 4, 2, of), { line: 2, row: 0 });
  assert.deepEqual(stepRows({ line: 0, row: 0 }, 99, 2, of), { line: 2, row: 0, clamped: true });
  assert.deepEqual(stepRows({ line: 2, row: 0 }, -1, 2, of), { line: 1, row: 2 });
  assert.deepEqual(stepRows({ line: 1, row: 1 }, -2, 2, of), { line: 0, row: 0 }); // reached, not clamped
  assert.deepEqual(stepRows({ line: 1, row: 1 }, -99, 2, of), { line: 0, row: 0, clamped: true });
  assert.deepEqual(stepRows({ line: 0, row: 0 }, -1, 2, of), { line: 0, row: 0, clamped: true });
  assert.deepEqual(stepRows({ line: 2, row: 0 }, 1, 5, of), { line: 3, row: 0 }); // a line's first row needs no layout
  assert.equal(stepRows({ line: 2, row: 0 }, 2, 5, of), null); // line 3's rows are not known
  assert.ok(compareRows({ line: 1, row: 2 }, { line: 2, row: 0 }) < 0);
  assert.ok(compareRows({ line: 1, row: 2 }, { line: 1, row: 1 }) > 0);
});
