// Multiple cursors: one edit typed at every cursor (typing, Enter, Backspace, Delete,
// Ctrl+Backspace) becomes one batch of range edits (one `tome/edit`, one undo step), and the
// cursors go where VS Code's would. Pure logic, shared with the unit tests.

import type { Position } from "./protocol";
import type { BatchEdit } from "./lineOps";
import { comparePositions } from "./selection";
import { cursorAfterInsert } from "./viewport";

export interface Sel {
  anchor: Position | null;
  cursor: Position;
}

export interface LineInfo {
  /** Length in UTF-16 units. */
  length: number;
  /** Whether a line break follows (false on the last line). */
  hasBreak: boolean;
  /** The line's text when cached whole (for surrogate pairs and word deletes). */
  text?: string;
}

export type MultiKind =
  | { kind: "insert"; text: string }
  | { kind: "deleteBackward" }
  | { kind: "deleteForward" }
  | { kind: "deleteWordLeft"; from: (text: string, col: number) => number }
  /** `to`: where a word delete from a column ends; `skipBlanks`: the leading blanks of a line (after a line break). */
  | { kind: "deleteWordRight"; to: (text: string, col: number) => number; skipBlanks: (text: string) => number };

function ordered(s: Sel): { start: Position; end: Position } {
  if (!s.anchor || comparePositions(s.anchor, s.cursor) <= 0) return { start: s.anchor ?? s.cursor, end: s.cursor };
  return { start: s.cursor, end: s.anchor };
}

/** The range one selection's edit replaces, or null when it changes nothing (start of document…). */
function rangeFor(s: Sel, k: MultiKind, line: (n: number) => LineInfo | undefined): BatchEdit | null {
  const { start, end } = ordered(s);
  const text = k.kind === "insert" ? k.text : "";
  if (comparePositions(start, end) !== 0) return { start, end, text };
  const at = s.cursor;
  const l = line(at.line);
  const unit = (i: number): number => l?.text?.charCodeAt(i) ?? 0;
  switch (k.kind) {
    case "insert":
      return { start: at, end: at, text };
    case "deleteBackward":
    case "deleteWordLeft": {
      if (at.character === 0) {
        if (at.line === 0) return null;
        const prev = line(at.line - 1);
        if (!prev) return null;
        return { start: { line: at.line - 1, character: prev.length }, end: at, text: "" };
      }
      if (k.kind === "deleteWordLeft" && l?.text !== undefined) return { start: { line: at.line, character: k.from(l.text, at.character) }, end: at, text: "" };
      const pair = at.character >= 2 && (unit(at.character - 1) & 0xfc00) === 0xdc00 && (unit(at.character - 2) & 0xfc00) === 0xd800;
      return { start: { line: at.line, character: at.character - (pair ? 2 : 1) }, end: at, text: "" };
    }
    case "deleteWordRight": {
      if (!l) return null;
      if (at.character >= l.length) {
        // At a line's end: the break and the blanks before the next line's first word (VS Code).
        if (!l.hasBreak) return null;
        const next = line(at.line + 1);
        return { start: at, end: { line: at.line + 1, character: next?.text !== undefined ? k.skipBlanks(next.text) : 0 }, text: "" };
      }
      if (l.text === undefined) return null;
      return { start: at, end: { line: at.line, character: k.to(l.text, at.character) }, text: "" };
    }
    case "deleteForward": {
      if (!l) return null;
      if (at.character >= l.length) return l.hasBreak ? { start: at, end: { line: at.line + 1, character: 0 }, text: "" } : null;
      const pair = (unit(at.character) & 0xfc00) === 0xd800 && (unit(at.character + 1) & 0xfc00) === 0xdc00;
      return { start: at, end: { line: at.line, character: at.character + (pair ? 2 : 1) }, text: "" };
    }
  }
}

/**
 * The batch for an edit at every selection (`sels[0]` is the primary): ranges sorted, overlapping
 * ones merged, and the cursors after it (empty selections), the primary's first.
 */
export function multiEdit(sels: Sel[], k: MultiKind, line: (n: number) => LineInfo | undefined): { edits: BatchEdit[]; cursors: Position[] } {
  const items = sels.map((s, i) => ({ i, e: rangeFor(s, k, line) })).filter((x): x is { i: number; e: BatchEdit } => x.e !== null);
  items.sort((a, b) => comparePositions(a.e.start, b.e.start));
  // Merge overlapping ranges (two cursors deleting the same character): one edit.
  const merged: { owners: number[]; e: BatchEdit }[] = [];
  for (const it of items) {
    const last = merged[merged.length - 1];
    if (last && comparePositions(it.e.start, last.e.end) < 0) {
      if (comparePositions(it.e.end, last.e.end) > 0) last.e = { ...last.e, end: it.e.end };
      last.owners.push(it.i);
    } else merged.push({ owners: [it.i], e: { ...it.e } });
  }
  const cursors: Position[] = new Array<Position>(sels.length);
  let lineDelta = 0;
  let lastEndLine = -1;
  let colDelta = 0;
  for (const m of merged) {
    const { start, end, text } = m.e;
    const newStart = { line: start.line + lineDelta, character: start.character + (start.line === lastEndLine ? colDelta : 0) };
    const after = cursorAfterInsert(newStart, text);
    for (const o of m.owners) cursors[o] = after;
    lineDelta += text.split("\n").length - 1 - (end.line - start.line);
    colDelta = after.character - end.character;
    lastEndLine = end.line;
  }
  // Selections whose edit did nothing keep their cursor, moved by the edits before it.
  const out: Position[] = [];
  const seen = new Set<string>();
  sels.forEach((s, i) => {
    const p = cursors[i] ?? shiftBy(s.cursor, merged);
    const key = `${p.line}:${p.character}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(p);
    }
  });
  return { edits: merged.map((m) => m.e), cursors: out };
}

function shiftBy(p: Position, merged: { e: BatchEdit }[]): Position {
  let line = p.line;
  let ch = p.character;
  for (const { e } of merged) {
    if (comparePositions(e.end, p) > 0) break;
    const parts = e.text.split("\n");
    const dl = parts.length - 1 - (e.end.line - e.start.line);
    if (e.end.line === p.line) {
      const endCol = parts.length > 1 ? parts[parts.length - 1].length : e.start.character + e.text.length;
      ch = ch - e.end.character + endCol;
    }
    line += dl;
  }
  return { line, character: ch };
}

/** Sorts and drops duplicate cursors, keeping `primary` first. */
export function normalizeSels(primary: Sel, extra: Sel[]): Sel[] {
  const key = (s: Sel): string => `${s.cursor.line}:${s.cursor.character}`;
  const seen = new Set([key(primary)]);
  const out: Sel[] = [];
  for (const s of extra) {
    if (seen.has(key(s))) continue;
    seen.add(key(s));
    out.push(s);
  }
  out.sort((a, b) => comparePositions(a.cursor, b.cursor));
  return out;
}
