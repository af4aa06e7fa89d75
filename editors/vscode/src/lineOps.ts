// Line operations as VS Code's editor does them, computed as one batch of range edits (one
// `tome/edit`, one undo step) plus where the cursor and the anchor go: delete line
// (Ctrl+Shift+K), move lines (Alt+Up/Down), copy lines (Shift+Alt+Up/Down), insert a line below or
// above (Ctrl+Enter, Ctrl+Shift+Enter), expand the selection by a line (Ctrl+L), indent and
// outdent (Tab, Shift+Tab: the leading blanks are rewritten to the next or previous tab stop, as
// VS Code's ShiftCommand does). Pure logic over whole lines' text; shared with the unit tests.

import type { Position } from "./protocol";
import { firstNonBlank } from "./words";

/** One edit of a batch: a range of the document before the batch, and its new text ("\n" breaks). */
export interface BatchEdit {
  start: Position;
  end: Position;
  text: string;
}

export interface Batch {
  edits: BatchEdit[];
  cursor: Position;
  anchor: Position | null;
}

export interface LineSource {
  /** The whole text of line `n`, or null when not available (not cached, too long). */
  text(n: number): string | null;
  lastLine: number;
}

export interface Indentation {
  tabSize: number;
  insertSpaces: boolean;
}

/** Thrown when a line the operation needs is not available whole. */
export class LineUnavailable extends Error {
  constructor(public line: number) {
    super(`line ${line + 1} is too long for this operation`);
  }
}

function need(src: LineSource, n: number): string {
  const t = src.text(n);
  if (t === null) throw new LineUnavailable(n);
  return t;
}

const pos = (line: number, character: number): Position => ({ line, character });

/** The lines a selection covers: a selection ending at column 0 of a later line leaves that line out. */
export function coveredLines(anchor: Position | null, cursor: Position): { first: number; last: number } {
  if (!anchor) return { first: cursor.line, last: cursor.line };
  const [s, e] = anchor.line < cursor.line || (anchor.line === cursor.line && anchor.character <= cursor.character) ? [anchor, cursor] : [cursor, anchor];
  const last = e.line > s.line && e.character === 0 ? e.line - 1 : e.line;
  return { first: s.line, last };
}

const shift = (p: Position | null, d: number): Position | null => (p ? pos(p.line + d, p.character) : null);

/** Ctrl+Shift+K. */
export function deleteLines(src: LineSource, anchor: Position | null, cursor: Position): Batch {
  const { first, last } = coveredLines(anchor, cursor);
  let edit: BatchEdit;
  let line: number;
  if (last < src.lastLine) {
    edit = { start: pos(first, 0), end: pos(last + 1, 0), text: "" };
    line = first;
  } else if (first > 0) {
    edit = { start: pos(first - 1, need(src, first - 1).length), end: pos(last, need(src, last).length), text: "" };
    line = first - 1;
  } else {
    edit = { start: pos(0, 0), end: pos(last, need(src, last).length), text: "" };
    line = 0;
  }
  // The cursor keeps its column on the line that takes the deleted lines' place.
  const next = last < src.lastLine ? need(src, last + 1) : first > 0 ? need(src, first - 1) : "";
  return { edits: [edit], cursor: pos(line, Math.min(cursor.character, next.length)), anchor: null };
}

/** Alt+Up (dir -1) and Alt+Down (dir 1); null at the document's edge. */
export function moveLines(src: LineSource, anchor: Position | null, cursor: Position, dir: 1 | -1): Batch | null {
  const { first, last } = coveredLines(anchor, cursor);
  if (dir > 0 ? last >= src.lastLine : first <= 0) return null;
  const block: string[] = [];
  for (let n = first; n <= last; n++) block.push(need(src, n));
  const other = need(src, dir > 0 ? last + 1 : first - 1);
  const edit =
    dir > 0
      ? { start: pos(first, 0), end: pos(last + 1, other.length), text: [other, ...block].join("\n") }
      : { start: pos(first - 1, 0), end: pos(last, block[block.length - 1].length), text: [...block, other].join("\n") };
  return { edits: [edit], cursor: shift(cursor, dir)!, anchor: shift(anchor, dir) };
}

/** Shift+Alt+Down (dir 1: the selection goes with the copy below) and Shift+Alt+Up (-1). */
export function copyLines(src: LineSource, anchor: Position | null, cursor: Position, dir: 1 | -1): Batch {
  const { first, last } = coveredLines(anchor, cursor);
  const block: string[] = [];
  for (let n = first; n <= last; n++) block.push(need(src, n));
  if (dir > 0) {
    const end = pos(last, block[block.length - 1].length);
    const n = last - first + 1;
    return { edits: [{ start: end, end, text: "\n" + block.join("\n") }], cursor: shift(cursor, n)!, anchor: shift(anchor, n) };
  }
  return { edits: [{ start: pos(first, 0), end: pos(first, 0), text: block.join("\n") + "\n" }], cursor, anchor };
}

/** Ctrl+Enter (below) and Ctrl+Shift+Enter (above): an empty line, the cursor on it. */
export function insertLine(src: LineSource, cursor: Position, below: boolean): Batch {
  if (below) {
    const at = pos(cursor.line, need(src, cursor.line).length);
    return { edits: [{ start: at, end: at, text: "\n" }], cursor: pos(cursor.line + 1, 0), anchor: null };
  }
  const at = pos(cursor.line, 0);
  return { edits: [{ start: at, end: at, text: "\n" }], cursor: at, anchor: null };
}

/** Ctrl+L: the whole line selected (break included), again: the next line added. Not an edit. */
export function expandLineSelection(src: LineSource, anchor: Position | null, cursor: Position): { anchor: Position; cursor: Position } {
  const [s, e] =
    !anchor || anchor.line < cursor.line || (anchor.line === cursor.line && anchor.character <= cursor.character) ? [anchor ?? cursor, cursor] : [cursor, anchor];
  const endLine = e.line;
  const end = endLine < src.lastLine ? pos(endLine + 1, 0) : pos(endLine, need(src, endLine).length);
  return { anchor: pos(s.line, 0), cursor: end };
}

/** Visible width of leading blanks (tabs to the next tab stop). */
function indentWidth(text: string, n: number, tabSize: number): number {
  let w = 0;
  for (let i = 0; i < n; i++) w = text[i] === "\t" ? w + tabSize - (w % tabSize) : w + 1;
  return w;
}

function indentString(width: number, ind: Indentation): string {
  if (ind.insertSpaces) return " ".repeat(width);
  return "\t".repeat(Math.floor(width / ind.tabSize)) + " ".repeat(width % ind.tabSize);
}

/** Where a position goes when its line's first `from` characters become `to` characters. */
function moved(p: Position, line: number, from: number, to: number): Position {
  if (p.line !== line) return p;
  if (p.character >= from) return pos(line, p.character - from + to);
  return pos(line, Math.min(p.character, to));
}

/**
 * Tab over a selection of lines (dir 1) or Shift+Tab (dir -1, also with no selection): each
 * line's leading blanks are rewritten to the next (previous) tab stop. Empty lines are left
 * alone when indenting several lines. Null when nothing changes.
 */
export function shiftLines(src: LineSource, anchor: Position | null, cursor: Position, dir: 1 | -1, ind: Indentation): Batch | null {
  const { first, last } = coveredLines(anchor, cursor);
  const edits: BatchEdit[] = [];
  let c = cursor;
  let a = anchor;
  for (let n = first; n <= last; n++) {
    const text = need(src, n);
    if (dir > 0 && text.length === 0 && first !== last) continue;
    const blanks = firstNonBlank(text);
    const w = indentWidth(text, blanks, ind.tabSize);
    const target = dir > 0 ? (Math.floor(w / ind.tabSize) + 1) * ind.tabSize : w === 0 ? 0 : Math.floor((w - 1) / ind.tabSize) * ind.tabSize;
    const repl = indentString(target, ind);
    if (repl === text.slice(0, blanks)) continue;
    edits.push({ start: pos(n, 0), end: pos(n, blanks), text: repl });
    // A selection's end at column 0 of an indented line moves with the text (VS Code: the start
    // stays at column 0 when the whole line is selected from there).
    c = moved(c, n, blanks, repl.length);
    a = a ? moved(a, n, blanks, repl.length) : null;
  }
  if (!edits.length) return null;
  return { edits, cursor: c, anchor: a };
}
