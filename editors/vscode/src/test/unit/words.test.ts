import { test } from "node:test";
import assert from "node:assert/strict";
import { WordRules, columnAt, smartHome, visibleColumn } from "../../words";
import { copyLines, deleteLines, moveLines, shiftLines, type LineSource } from "../../lineOps";
import { multiEdit } from "../../multiCursor";

const w = new WordRules();
const p = (line: number, character: number) => ({ line, character });

// Expected columns are what VS Code's editor does (checked by the differential test, test/diff).
test("Ctrl+Right goes to word ends, skipping a single separator glued to a word", () => {
  const t = "function alpha(beta, gamma) {";
  assert.equal(w.wordEndRight(t, 0), 8);
  assert.equal(w.wordEndRight(t, 8), 14);
  assert.equal(w.wordEndRight(t, 14), 19); // "(beta": past the "("
  assert.equal(w.wordEndRight(t, 19), 20); // "," then a blank: stops after it
  assert.equal(w.wordEndRight(t, 29), 29);
});

test("Ctrl+Left goes to word starts; a single separator after a word is skipped", () => {
  const t = "function alpha(beta, gamma) {";
  assert.equal(w.wordStartLeft(t, 29), 28);
  assert.equal(w.wordStartLeft(t, 28), 21); // ")" after "gamma": skipped
  assert.equal(w.wordStartLeft(t, 21), 15); // "," after "beta"
  assert.equal(w.wordStartLeft(t, 15), 9);
  assert.equal(w.wordStartLeft(t, 0), 0);
});

test("editor.wordSeparators: _ is a word character by default, and the set can change", () => {
  assert.equal(w.wordEndRight("foo_bar baz-qux", 0), 7);
  assert.equal(new WordRules("_").wordEndRight("foo_bar baz-qux", 0), 3);
});

test("Ctrl+Backspace and Ctrl+Delete take two or more blanks alone, else the word", () => {
  assert.equal(w.deleteLeftFrom("a = b  ", 7), 5);
  assert.equal(w.deleteLeftFrom("beta + gamma;", 13), 12);
  assert.equal(w.deleteLeftFrom("beta + gamma", 12), 7);
  assert.equal(w.deleteRightTo("    const delta", 0), 4);
  assert.equal(w.deleteRightTo("const delta", 5), 11); // one blank: it and the word
});

test("smart Home, visible columns, the word at the cursor", () => {
  assert.equal(smartHome("    abc", 7), 4);
  assert.equal(smartHome("    abc", 4), 0);
  assert.equal(smartHome("   ", 2), 0);
  assert.equal(visibleColumn("\tab", 2, 4), 5);
  assert.equal(columnAt("    const", 5, 4), 5);
  assert.equal(columnAt("\tx", 4, 4), 1);
  assert.deepEqual(w.wordAt("foo bar", 5), { start: 4, end: 7 });
  assert.equal(w.wordAt("a  b", 2), null);
});

const src = (lines: string[]): LineSource => ({ text: (n) => lines[n] ?? null, lastLine: lines.length - 1 });

test("line operations are one batch each, with the cursor where VS Code puts it", () => {
  const doc = src(["a", "bb", "ccc"]);
  assert.deepEqual(deleteLines(doc, null, p(1, 1)), { edits: [{ start: p(1, 0), end: p(2, 0), text: "" }], cursor: p(1, 1), anchor: null });
  assert.deepEqual(deleteLines(doc, null, p(2, 2)).edits, [{ start: p(1, 2), end: p(2, 3), text: "" }]);
  assert.deepEqual(moveLines(doc, null, p(0, 1), 1), { edits: [{ start: p(0, 0), end: p(1, 2), text: "bb\na" }], cursor: p(1, 1), anchor: null });
  assert.equal(moveLines(doc, null, p(0, 0), -1), null);
  assert.deepEqual(copyLines(doc, p(0, 0), p(1, 1), 1).edits, [{ start: p(1, 2), end: p(1, 2), text: "\na\nbb" }]);
  const ind = { tabSize: 4, insertSpaces: false };
  assert.deepEqual(shiftLines(src(["    x", "", "  y"]), p(0, 0), p(2, 1), 1, ind)!.edits, [
    { start: p(0, 0), end: p(0, 4), text: "\t\t" },
    { start: p(2, 0), end: p(2, 2), text: "\t" },
  ]);
  assert.deepEqual(shiftLines(src(["  y"]), null, p(0, 3), -1, ind), { edits: [{ start: p(0, 0), end: p(0, 2), text: "" }], cursor: p(0, 1), anchor: null });
});

test("a multi-cursor edit is one batch: ranges sorted and merged, cursors moved by the edits before them", () => {
  const lines = ["abc", "de", "fgh"];
  const info = (n: number) => (lines[n] === undefined ? undefined : { length: lines[n].length, hasBreak: n < lines.length - 1, text: lines[n] });
  // Typing "XY" at (0,1), (0,2) and (2,0): the second cursor moves by the first's insertion.
  const t = multiEdit(
    [
      { anchor: null, cursor: p(2, 0) },
      { anchor: null, cursor: p(0, 1) },
      { anchor: null, cursor: p(0, 2) },
    ],
    { kind: "insert", text: "XY" },
    info,
  );
  assert.deepEqual(t.edits, [
    { start: p(0, 1), end: p(0, 1), text: "XY" },
    { start: p(0, 2), end: p(0, 2), text: "XY" },
    { start: p(2, 0), end: p(2, 0), text: "XY" },
  ]);
  assert.deepEqual(t.cursors, [p(2, 2), p(0, 3), p(0, 6)]);
  // Backspace at (1,0) and (1,1): joined lines and a merged range.
  const b = multiEdit(
    [
      { anchor: null, cursor: p(1, 0) },
      { anchor: null, cursor: p(2, 1) },
    ],
    { kind: "deleteBackward" },
    info,
  );
  assert.deepEqual(b.edits, [
    { start: p(0, 3), end: p(1, 0), text: "" },
    { start: p(2, 0), end: p(2, 1), text: "" },
  ]);
  assert.deepEqual(b.cursors, [p(0, 3), p(1, 0)]);
  // Enter at two cursors on one line: the second lands on the line the first made.
  const e = multiEdit(
    [
      { anchor: null, cursor: p(0, 1) },
      { anchor: null, cursor: p(0, 2) },
    ],
    { kind: "insert", text: "\n" },
    info,
  );
  assert.deepEqual(e.cursors, [p(1, 0), p(2, 0)]);
});
