// Word wrap: which part of a line each visual row shows, and how the cursor moves between rows.
// Pure logic shared by the webview (bundled) and the unit tests; no DOM, no `vscode`.
//
// The rule (also in editors/vscode/README.md):
//
// * A line of at most WORD_WRAP_MAX columns (UTF-16 units) is wrapped as VS Code's editor wraps
//   it (its monospace line breaker): a row ends where the next character would pass the wrap
//   column, at the last break opportunity within the row (after `wordWrapBreakAfterCharacters`
//   such as a space, before `wordWrapBreakBeforeCharacters`, around CJK ideographs; never before
//   a space), else inside the word. Tabs count to the next tab stop, full-width characters two
//   columns, as VS Code counts them. Such a line is read whole (the webview reads every line from
//   column 0 over WORD_WRAP_MAX columns while wrapping), so its breaks are exact.
// * A longer line is cut into rows of exactly the wrap column's width, whatever the words: row r
//   shows columns [r × W, (r + 1) × W). Word breaks there would need the line's text from its
//   start (a 1 GiB line), where this rule needs only the length the server reports: any row of a
//   huge line is found, and read, by itself.

/** Lines longer than this (UTF-16 units) wrap at a fixed width (see above). */
export const WORD_WRAP_MAX = 10_000;

export type WordWrapMode = "off" | "on" | "wordWrapColumn" | "bounded";

/** `editor.wordWrap` and the settings that shape the rows, for one document. */
export interface WrapSettings {
  wordWrap: WordWrapMode;
  wordWrapColumn: number;
  breakBefore: string;
  breakAfter: string;
}

/** VS Code's defaults (editorOptions.ts of VS Code 1.100). */
export const DEFAULT_WRAP: WrapSettings = {
  wordWrap: "off",
  wordWrapColumn: 80,
  breakBefore: "([{‘“〈《「『【〔（［｛｢£¥＄￡￥+＋",
  breakAfter:
    " \t})]?|/&.,;¢°′″‰℃、。｡､￠，．：；？！％・･ゝゞヽヾーァィゥェォッャュョヮヵヶぁぃぅぇぉっゃゅょゎゕゖㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿ々〻ｧｨｩｪｫｬｭｮｯｰ”〉》」』】〕）］｝｣",
};

/** Alt+Z as VS Code's `editor.action.toggleWordWrap`: wrapping turns off, else on at the viewport. */
export function toggled(s: WrapSettings): WrapSettings {
  return { ...s, wordWrap: s.wordWrap === "off" ? "on" : "off" };
}

/** Columns per row for `s` in a viewport `viewportCols` wide; 0: no wrapping. */
export function wrapColumn(s: WrapSettings, viewportCols: number): number {
  const col = Math.max(1, Math.floor(s.wordWrapColumn) || 80);
  const view = Math.max(1, viewportCols);
  switch (s.wordWrap) {
    case "on":
      return view;
    case "wordWrapColumn":
      return col;
    case "bounded":
      return Math.min(view, col);
    default:
      return 0;
  }
}

// ---------------------------------------------------------------------------------------------
// Character widths and classes

const TAB = 9;
const SPACE = 32;

/** East Asian wide and full-width ranges (what VS Code's `isFullWidthCharacter` covers). */
function isFullWidth(c: number): boolean {
  return (
    (c >= 0x1100 && c <= 0x115f) ||
    (c >= 0x2e80 && c <= 0xa4cf && c !== 0x303f) ||
    (c >= 0xac00 && c <= 0xd7a3) ||
    (c >= 0xf900 && c <= 0xfaff) ||
    (c >= 0xfe30 && c <= 0xfe4f) ||
    (c >= 0xff00 && c <= 0xff60) ||
    (c >= 0xffe0 && c <= 0xffe6)
  );
}

/** Columns taken by the UTF-16 unit `c` at visible column `col` (tabs to the next stop). */
export function charColumns(c: number, col: number, tabSize: number): number {
  if (c === TAB) return tabSize - (col % tabSize);
  if (isFullWidth(c) || c < 32) return 2;
  return 1;
}

const enum Kind {
  None,
  Before,
  After,
  Ideograph,
}

export class BreakClasses {
  private readonly map = new Map<number, Kind>();
  constructor(before: string, after: string) {
    for (const ch of before) this.map.set(ch.charCodeAt(0), Kind.Before);
    for (const ch of after) this.map.set(ch.charCodeAt(0), Kind.After);
  }
  kind(c: number): Kind {
    const k = this.map.get(c);
    if (k !== undefined) return k;
    return (c >= 0x3040 && c <= 0x30ff) || (c >= 0x3400 && c <= 0x4dbf) || (c >= 0x4e00 && c <= 0x9fff) ? Kind.Ideograph : Kind.None;
  }
  /** A row may start at `cur` (coming after `prev`): never at a space. */
  canBreak(prevKind: Kind, cur: number, curKind: Kind): boolean {
    if (cur === SPACE) return false;
    return (
      (prevKind === Kind.After && curKind !== Kind.After) ||
      (prevKind !== Kind.Before && curKind === Kind.Before) ||
      (prevKind === Kind.Ideograph && curKind !== Kind.After) ||
      (curKind === Kind.Ideograph && prevKind !== Kind.Before)
    );
  }
}

function isHigh(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

/**
 * Where the rows of `text` (a whole line) start after the first, wrapping at `width` columns:
 * the greedy rule of VS Code's monospace line breaker (no wrapped-line indent).
 */
export function wordBreaks(text: string, width: number, tabSize: number, classes: BreakClasses): number[] {
  const breaks: number[] = [];
  const len = text.length;
  if (len <= 1 || width <= 0) return breaks;
  let col = 0; // visible column after the characters so far, from the line's start
  let rowLimit = width; // a character ending past this column starts a new row
  let opportunity = -1; // the last place a row may start, in this row
  let opportunityCol = 0;
  let prevKind = Kind.None;
  for (let i = 0; i < len; i++) {
    const start = i;
    const c = text.charCodeAt(i);
    let w: number;
    let kind: Kind;
    if (isHigh(c) && i + 1 < len) {
      i++; // a surrogate pair is one character, never split
      w = 2;
      kind = Kind.None;
    } else {
      w = charColumns(c, col, tabSize);
      kind = classes.kind(c);
    }
    const rowStart = breaks.length ? breaks[breaks.length - 1] : 0;
    if (start > rowStart && classes.canBreak(prevKind, c, kind)) {
      opportunity = start;
      opportunityCol = col;
    }
    col += w;
    if (col > rowLimit && start > rowStart) {
      // This character does not fit: the row ends at the last opportunity, unless the rest
      // from there would not fit a row either (then inside the word, before this character).
      let at = opportunity;
      let atCol = opportunityCol;
      if (at < 0 || col - atCol > width) {
        at = start;
        atCol = col - w;
      }
      breaks.push(at);
      rowLimit = atCol + width;
      opportunity = -1;
    }
    prevKind = kind;
  }
  return breaks;
}

// ---------------------------------------------------------------------------------------------
// The rows of one line

/** What the layout needs of a line (a `ViewLine` of the cache). */
export interface LineText {
  text: string;
  startColumn: number;
  length: number;
  cutAfter: boolean;
}

/** The rows of one line: each row shows columns [start(r), end(r)). */
export interface LineRows {
  readonly count: number;
  /** Rows cut by the width (no word breaks): the line is longer than WORD_WRAP_MAX. */
  readonly fixed: boolean;
  start(r: number): number;
  /** The column after row r's last character: the next row's start, the line's length for the last. */
  end(r: number): number;
  /**
   * The row showing column `col`. A column at a row boundary is the next row's start, unless
   * `atEnd` (the cursor was put at the end of the row before: End, Up/Down, a click past it).
   */
  rowOf(col: number, atEnd?: boolean): number;
}

/** The rows of a line wrapped at `width` columns; `text` must hold the whole line when it is short. */
export function lineRows(l: LineText, width: number, tabSize: number, classes: BreakClasses): LineRows {
  const w = Math.max(1, width);
  if (l.length <= WORD_WRAP_MAX && l.startColumn === 0 && !l.cutAfter) return new WordRows(wordBreaks(l.text, w, tabSize, classes), l.length);
  return new FixedRows(w, l.length);
}

class WordRows implements LineRows {
  readonly fixed = false;
  constructor(
    private readonly breaks: number[],
    private readonly length: number,
  ) {}
  get count(): number {
    return this.breaks.length + 1;
  }
  start(r: number): number {
    return r <= 0 ? 0 : this.breaks[Math.min(r, this.breaks.length) - 1];
  }
  end(r: number): number {
    return r < this.breaks.length ? this.breaks[Math.max(0, r)] : this.length;
  }
  rowOf(col: number, atEnd = false): number {
    // Binary search: the number of breaks at or before col (strictly before with atEnd).
    let lo = 0;
    let hi = this.breaks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.breaks[mid] < col || (!atEnd && this.breaks[mid] === col)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

class FixedRows implements LineRows {
  readonly fixed = true;
  constructor(
    private readonly width: number,
    private readonly length: number,
  ) {}
  get count(): number {
    return Math.max(1, Math.ceil(this.length / this.width));
  }
  start(r: number): number {
    return Math.max(0, Math.min(r, this.count - 1)) * this.width;
  }
  end(r: number): number {
    return r >= this.count - 1 ? this.length : (Math.max(0, r) + 1) * this.width;
  }
  rowOf(col: number, atEnd = false): number {
    const c = Math.max(0, Math.min(col, this.length));
    let r = Math.floor(c / this.width);
    if (atEnd && r > 0 && c === r * this.width) r--;
    return Math.min(r, this.count - 1);
  }
}

// ---------------------------------------------------------------------------------------------
// Visible columns within a row (Up/Down keep one; a click gives one)

/**
 * The visible column of `col` in a row that starts at `rowStart`, counted from the row's start
 * as VS Code counts a view line's columns (tabs to stops from the row's start). `text` starts
 * at column `textStart` (a window of the line); columns outside it count one each.
 */
export function visibleColumn(text: string, textStart: number, rowStart: number, col: number, tabSize: number): number {
  let v = 0;
  for (let c = rowStart; c < col; c++) {
    const i = c - textStart;
    const code = i >= 0 && i < text.length ? text.charCodeAt(i) : 0x61;
    if (isHigh(code) && c + 1 < col) {
      c++;
      v += 2;
    } else v += charColumns(code, v, tabSize);
  }
  return v;
}

/** The column of row [rowStart, rowEnd] nearest to visible column `v` (VS Code's rounding). */
export function columnAtVisible(text: string, textStart: number, rowStart: number, rowEnd: number, v: number, tabSize: number): number {
  if (v <= 0) return rowStart;
  let before = 0;
  for (let c = rowStart; c < rowEnd; c++) {
    const i = c - textStart;
    const code = i >= 0 && i < text.length ? text.charCodeAt(i) : 0x61;
    const pair = isHigh(code) && c + 1 < rowEnd;
    const after = before + (pair ? 2 : charColumns(code, before, tabSize));
    const next = pair ? c + 2 : c + 1;
    if (after >= v) return after - v < v - before ? next : c;
    before = after;
    if (pair) c++;
  }
  return rowEnd;
}

// ---------------------------------------------------------------------------------------------
// Moving by rows

/** A visual row: row `row` of line `line`. */
export interface RowPos {
  line: number;
  row: number;
  /** Set by `stepRows` when it stopped at the document's first or last row before `delta`. */
  clamped?: boolean;
}

/**
 * The row `delta` rows away from `from`, stopping at the document's first row and at the last
 * line's last row. `rowsOf(n)` gives a line's rows, or undefined when it is not known (then
 * null: read the lines first).
 */
export function stepRows(from: RowPos, delta: number, lastLine: number, rowsOf: (line: number) => LineRows | undefined): RowPos | null {
  let { line, row } = from;
  let left = delta;
  while (left > 0) {
    const rows = rowsOf(line);
    if (!rows) return null;
    if (row + left < rows.count) return { line, row: row + left };
    if (line >= lastLine) return { line, row: rows.count - 1, clamped: true };
    left -= rows.count - row;
    line++;
    row = 0;
  }
  while (left < 0) {
    if (row + left >= 0) return { line, row: row + left };
    if (line <= 0) return { line: 0, row: 0, clamped: true };
    left += row + 1;
    line--;
    const rows = rowsOf(line);
    if (!rows) return null;
    row = rows.count - 1;
  }
  return { line, row };
}

/** Compares two rows: negative when `a` is above `b`. */
export function compareRows(a: RowPos, b: RowPos): number {
  return a.line !== b.line ? a.line - b.line : a.row - b.row;
}
