import { test } from "node:test";
import assert from "node:assert/strict";
import { EditHistory } from "../../editHistory";
import { comparePositions, editOverSelection, lineSpan, selectedLineCount, selectionRange, wholeLine } from "../../selection";

const p = (line: number, character: number) => ({ line, character });

test("the selection range is ordered whichever way it was made, and empty is none", () => {
  assert.deepEqual(selectionRange(p(5, 2), p(3, 7)), { start: p(3, 7), end: p(5, 2) });
  assert.deepEqual(selectionRange(p(3, 7), p(5, 2)), { start: p(3, 7), end: p(5, 2) });
  assert.equal(selectionRange(p(4, 4), p(4, 4)), null);
  assert.equal(selectionRange(null, p(4, 4)), null);
  assert.ok(comparePositions(p(1, 9), p(2, 0)) < 0);
  assert.ok(comparePositions(p(2, 1), p(2, 0)) > 0);
});

test("lines of a selection: first from its column, middle whole with the break, last up to its column", () => {
  const r = { start: p(10, 4), end: p(13, 2) };
  assert.equal(lineSpan(r, 9), null);
  assert.deepEqual(lineSpan(r, 10), { from: 4, to: null, withBreak: true });
  assert.deepEqual(lineSpan(r, 11), { from: 0, to: null, withBreak: true });
  assert.deepEqual(lineSpan(r, 13), { from: 0, to: 2, withBreak: false });
  assert.equal(lineSpan(r, 14), null);
  assert.deepEqual(lineSpan({ start: p(3, 1), end: p(3, 5) }, 3), { from: 1, to: 5, withBreak: false });
  assert.equal(selectedLineCount(r), 4);
  assert.equal(selectedLineCount({ start: p(10, 0), end: p(13, 0) }), 3, "ending at column 0 does not count that line");
  assert.equal(selectedLineCount({ start: p(3, 1), end: p(3, 5) }), 1);
});

test("typing, Enter, Backspace and Delete over a selection become one replace", () => {
  const r = { start: p(2, 3), end: p(900, 1) };
  assert.deepEqual(editOverSelection({ kind: "insert", at: p(900, 1), text: "x" }, r), { kind: "replace", start: r.start, end: r.end, text: "x" });
  assert.deepEqual(editOverSelection({ kind: "newline", at: p(900, 1) }, r), { kind: "replace", start: r.start, end: r.end, text: "\n" });
  assert.deepEqual(editOverSelection({ kind: "deleteBackward", at: p(900, 1) }, r), { kind: "replace", start: r.start, end: r.end, text: "" });
  assert.deepEqual(editOverSelection({ kind: "deleteForward", at: p(2, 3) }, r), { kind: "replace", start: r.start, end: r.end, text: "" });
  const plain = { kind: "insert" as const, at: p(1, 1), text: "y" };
  assert.equal(editOverSelection(plain, null), plain, "no selection: the edit at the cursor");
});

test("copy with nothing selected takes the whole line, with its break unless it is the last", () => {
  assert.deepEqual(wholeLine(7, false, 30), { start: p(7, 0), end: p(8, 0) });
  assert.deepEqual(wholeLine(7, true, 30), { start: p(7, 0), end: p(7, 30) });
});

test("edit history: revert steps back to the save point; a reload makes older entries no-ops", () => {
  const h = new EditHistory();
  h.pushed();
  h.pushed();
  h.savedNow();
  h.pushed();
  assert.equal(h.dirty, true);
  assert.equal(h.stepsToSaved(), 1, "one undo back to the save");
  h.undone();
  h.undone();
  assert.equal(h.stepsToSaved(), -1, "one redo back to the save");
  h.reverted();
  assert.equal(h.dirty, false);
  h.undone();
  h.pushed(); // a new edit after undoing past the save: the saved state is gone
  assert.equal(h.stepsToSaved(), null);
  const g = h.generation;
  h.reloaded();
  assert.notEqual(h.generation, g);
  assert.equal(h.dirty, false);
  assert.equal(new EditHistory(true).stepsToSaved(), null, "a recovered document can only be reloaded");
});
