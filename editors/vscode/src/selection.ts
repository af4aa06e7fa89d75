// Selections as the webview keeps them: an anchor (where Shift+motion or a drag started) and the
// cursor, both (line, UTF-16 column) positions that may lie on lines far from the screen. Pure
// logic shared by the webview and the host; unit-tested with `node --test`.

import type { Position, Range } from "./protocol";
import type { CursorEdit } from "./viewport";

export function comparePositions(a: Position, b: Position): number {
  return a.line !== b.line ? a.line - b.line : a.character - b.character;
}

/** The range between the anchor and the cursor, start first; null when nothing is selected. */
export function selectionRange(anchor: Position | null, cursor: Position): Range | null {
  if (!anchor || comparePositions(anchor, cursor) === 0) return null;
  return comparePositions(anchor, cursor) < 0 ? { start: anchor, end: cursor } : { start: cursor, end: anchor };
}

/** Lines the range touches (a range ending at column 0 of a line does not count that line). */
export function selectedLineCount(r: Range): number {
  return r.end.line - r.start.line + (r.end.character > 0 || r.end.line === r.start.line ? 1 : 0);
}

/**
 * The part of line `line` inside the range, to paint it: columns [from, to) (`to` null: up to
 * the end of the line) and whether the line break is selected too. Null when the line is outside.
 */
export function lineSpan(r: Range, line: number): { from: number; to: number | null; withBreak: boolean } | null {
  if (line < r.start.line || line > r.end.line) return null;
  const from = line === r.start.line ? r.start.character : 0;
  if (line === r.end.line) return r.end.character > from || line !== r.start.line ? { from, to: r.end.character, withBreak: false } : null;
  return { from, to: null, withBreak: true };
}

/**
 * With a selection, typing, Enter, Backspace, Delete and paste replace it: one `replace` edit
 * (so one `tome/edit` and one undo step) instead of the edit at the cursor.
 */
export function editOverSelection(e: CursorEdit, r: Range | null): CursorEdit {
  if (!r || e.kind === "replace") return e;
  switch (e.kind) {
    case "insert":
      return { kind: "replace", start: r.start, end: r.end, text: e.text };
    case "newline":
      return { kind: "replace", start: r.start, end: r.end, text: "\n" }; // normalized to the file's break
    case "deleteBackward":
    case "deleteForward":
      return { kind: "replace", start: r.start, end: r.end, text: "" };
  }
}

/** What Copy/Cut take with nothing selected: the cursor's whole line, break included (as VS Code). */
export function wholeLine(line: number, isLast: boolean, length: number): Range {
  return isLast ? { start: { line, character: 0 }, end: { line, character: length } } : { start: { line, character: 0 }, end: { line: line + 1, character: 0 } };
}
