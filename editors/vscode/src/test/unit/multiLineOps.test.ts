import { test } from "node:test";
import assert from "node:assert/strict";
import type { BatchEdit, LineSource } from "../../lineOps";
import { multiEdit, type Sel } from "../../multiCursor";
import { mergeSels, multiLineBatch } from "../../multiLineOps";
import { WordRules } from "../../words";

const p = (line: number, character: number) => ({ line, character });
const c = (line: number, character: number): Sel => ({ anchor: null, cursor: p(line, character) });

function source(lines: string[]): LineSource {
  return { lastLine: lines.length - 1, text: (n) => lines[n] ?? null };
}

/** The text after a batch (ranges of the text before it, ascending), applied last first. */
function apply(lines: string[], edits: BatchEdit[]): string[] {
  let text = lines.join("\n");
  const offset = (q: { line: number; character: number }) => lines.slice(0, q.line).reduce((n, l) => n + l.length + 1, 0) + q.character;
  for (const e of [...edits].reverse()) text = text.slice(0, offset(e.start)) + e.text + text.slice(offset(e.end));
  return text.split("\n");
}

const doc = ["a0", "b1", "c2", "d3", "e4", "f5"];

test("Ctrl+Shift+K at two cursors: both lines go in one batch; each cursor on the line that takes its place", () => {
  const r = multiLineBatch("deleteLines", [c(1, 1), c(3, 5)], source(doc))!;
  assert.deepEqual(apply(doc, r.edits), ["a0", "c2", "e4", "f5"]);
  assert.deepEqual(r.sels, [c(1, 1), c(2, 2)]);
  // Adjacent lines merge into one block: one cursor (the first selection's column).
  const m = multiLineBatch("deleteLines", [c(2, 1), c(1, 0)], source(doc))!;
  assert.deepEqual(apply(doc, m.edits), ["a0", "d3", "e4", "f5"]);
  assert.deepEqual(mergeSels(m.sels), [c(1, 0)]);
  // The last line: the break before it goes.
  const e = multiLineBatch("deleteLines", [c(5, 1), c(0, 0)], source(doc))!;
  assert.deepEqual(apply(doc, e.edits), ["b1", "c2", "d3", "e4"]);
});

test("Alt+Down / Alt+Up at several cursors: each block swaps with its neighbour; one at the edge stays", () => {
  const r = multiLineBatch("moveDown", [c(0, 1), c(3, 0)], source(doc))!;
  assert.deepEqual(apply(doc, r.edits), ["b1", "a0", "c2", "e4", "d3", "f5"]);
  assert.deepEqual(r.sels, [c(1, 1), c(4, 0)]);
  const u = multiLineBatch("moveUp", [c(0, 0), c(2, 1)], source(doc))!;
  assert.deepEqual(apply(doc, u.edits), ["a0", "c2", "b1", "d3", "e4", "f5"]);
  assert.deepEqual(u.sels, [c(0, 0), c(1, 1)]);
  // Touching lines move together.
  const t = multiLineBatch("moveDown", [c(1, 0), c(2, 0)], source(doc))!;
  assert.deepEqual(apply(doc, t.edits), ["a0", "d3", "b1", "c2", "e4", "f5"]);
  assert.deepEqual(t.sels, [c(2, 0), c(3, 0)]);
  assert.equal(multiLineBatch("moveUp", [c(0, 0)], source(doc)), null);
});

test("Shift+Alt+Down / Up at several cursors: each line copied once, the cursors on the copies below", () => {
  const r = multiLineBatch("copyDown", [c(1, 1), c(2, 0)], source(doc))!;
  assert.deepEqual(apply(doc, r.edits), ["a0", "b1", "b1", "c2", "c2", "d3", "e4", "f5"]);
  assert.deepEqual(r.sels, [c(2, 1), c(4, 0)]);
  const u = multiLineBatch("copyUp", [c(1, 1), c(3, 0), c(3, 2)], source(doc))!;
  assert.deepEqual(apply(doc, u.edits), ["a0", "b1", "b1", "c2", "d3", "d3", "e4", "f5"]);
  assert.deepEqual(u.sels, [c(1, 1), c(4, 0), c(4, 2)]);
});

test("Ctrl+Enter / Ctrl+Shift+Enter at several cursors: a line each, the cursors on them", () => {
  const r = multiLineBatch("insertBelow", [c(0, 1), c(2, 0)], source(doc))!;
  assert.deepEqual(apply(doc, r.edits), ["a0", "", "b1", "c2", "", "d3", "e4", "f5"]);
  assert.deepEqual(r.sels, [c(1, 0), c(4, 0)]);
  const u = multiLineBatch("insertAbove", [c(0, 1), c(2, 0)], source(doc))!;
  assert.deepEqual(apply(doc, u.edits), ["", "a0", "b1", "", "c2", "d3", "e4", "f5"]);
  assert.deepEqual(u.sels, [c(0, 0), c(3, 0)]);
});

test("cursors that meet merge (VS Code): same place, overlapping or touching selections; the primary stays first", () => {
  assert.deepEqual(mergeSels([c(1, 2), c(0, 0), c(1, 2)]), [c(1, 2), c(0, 0)]);
  const s = (a: [number, number], b: [number, number]): Sel => ({ anchor: p(...a), cursor: p(...b) });
  assert.deepEqual(mergeSels([s([0, 0], [0, 4]), s([0, 3], [0, 6])]), [s([0, 0], [0, 6])]);
  // Touching non-empty selections stay apart; an empty one at the edge merges.
  assert.deepEqual(mergeSels([s([0, 0], [0, 3]), s([0, 3], [0, 6])]).length, 2);
  assert.deepEqual(mergeSels([c(0, 3), s([0, 0], [0, 3])]), [s([0, 0], [0, 3])]);
  // Backwards selections keep their direction.
  assert.deepEqual(mergeSels([s([0, 5], [0, 2]), s([0, 3], [0, 1])]), [s([0, 5], [0, 1])]);
});

test("Ctrl+Delete at several cursors: each deletes to its word's end; at a line's end the break and the next line's blanks", () => {
  const w = new WordRules();
  const lines = ["foo bar", "  baz qux"];
  const info = (n: number) => (lines[n] === undefined ? undefined : { length: lines[n].length, hasBreak: n < lines.length - 1, text: lines[n] });
  const k = { kind: "deleteWordRight" as const, to: (t: string, col: number) => w.deleteRightTo(t, col), skipBlanks: (t: string) => w.nextWord(t, 0)?.start ?? t.length };
  const r = multiEdit([c(0, 0), c(0, 7), c(1, 6)], k, info);
  assert.deepEqual(apply(lines, r.edits), [" bar" + "baz "]);
  assert.deepEqual(r.cursors, [p(0, 0), p(0, 4), p(0, 8)]);
});
