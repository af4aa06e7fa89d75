// Word wrap in the webview: `editor.wordWrap` and Alt+Z, the frame as visual rows (the top of the
// screen is a line and a row within it), rows of long lines read a row range at a time, and the
// motions that go by rows (Up/Down, Home/End, PageUp/PageDown, the wheel) as VS Code's editor
// does them with wrapping on. The layout itself (which columns each row shows) is ../wrap.ts.
//
// Cost: lines are read from column 0 over WORD_WRAP_MAX columns (a short line whole, so its
// word breaks are exact); a longer line's rows beyond that are read as one window per line on
// screen, the rows shown plus a screen above and below: a 1 GiB line costs what is on screen.

import type { Position, ViewLine } from "../protocol";
import {
  BreakClasses,
  DEFAULT_WRAP,
  columnAtVisible,
  compareRows,
  lineRows,
  stepRows,
  toggled,
  visibleColumn,
  wrapColumn,
  type LineRows,
  type RowPos,
  type WrapSettings,
} from "../wrap";
import { smartHome } from "../words";
import { request } from "./host";
import { fetchLines, lineAt, moveCursor, redraw } from "./navigation";
import { schedule } from "./queue";
import { draw } from "./render";
import { cache, lastLine, pipeline, state, topLine, visibleCols, visibleLines, windowParam } from "./state";

/** A row of the frame: its line's fields, with `text`/`startColumn` those of the row. */
export interface RowLine extends ViewLine {
  row: number;
  /** The column after the row's last character (the next row's start). */
  rowEnd: number;
  lastRow: boolean;
}

let settings: WrapSettings = DEFAULT_WRAP;
/** Alt+Z's choice for this view, until the settings change (null: as the settings say). */
let override: WrapSettings | null = null;
let classes = new BreakClasses(DEFAULT_WRAP.breakBefore, DEFAULT_WRAP.breakAfter);

/** Characters of text the viewport replies brought (`data-fetched-chars`: what the e2e test checks). */
let fetchedChars = 0;
export function countFetched(lines: ViewLine[]): void {
  for (const l of lines) fetchedChars += l.text.length;
  document.body.dataset.fetchedChars = String(fetchedChars);
}

/** `editor.wordWrap` and its companions (the host's `init` and `wrap`); Alt+Z's choice goes. */
export function setWrapSettings(s: WrapSettings | undefined): void {
  settings = s ?? DEFAULT_WRAP;
  override = null;
  classes = new BreakClasses(settings.breakBefore, settings.breakAfter);
  applyWrap();
}

/** Alt+Z: wrapping off, or on at the viewport's width when it was off. */
export function toggleWrap(): void {
  override = toggled(override ?? settings);
  applyWrap();
}

/**
 * The wrap column for the current settings and viewport (also after a resize). Going between
 * wrapped and not changes the window the lines are read with: the cache is emptied.
 */
export function applyWrap(): boolean {
  const col = wrapColumn(override ?? settings, visibleCols());
  if (col === state.wrapColumn) return false;
  const was = state.wrapColumn;
  state.wrapColumn = col;
  document.body.dataset.wrapColumn = String(col);
  if ((was === 0) !== (col === 0)) {
    cache.clear();
    state.leftCol = 0;
    state.topRow = 0;
  }
  state.goalColumn = -1;
  state.cursorRowEnd = false;
  if (state.info) schedule(redraw);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Layout of the cached lines

const layouts = new WeakMap<ViewLine, { key: string; rows: LineRows }>();

/** The rows of a cached line (memoized per line object: an edit makes a new one). */
export function rowsOfLine(l: ViewLine): LineRows {
  const key = `${state.wrapColumn}:${state.settings.tabSize}`;
  const m = layouts.get(l);
  if (m && m.key === key) return m.rows;
  const rows = lineRows(l, state.wrapColumn, state.settings.tabSize, classes);
  layouts.set(l, { key, rows });
  return rows;
}

export function rowsOf(line: number): LineRows | undefined {
  const l = cache.get(line);
  return l ? rowsOfLine(l) : undefined;
}

/** Windows of long lines read beyond the cache's (`line` → the reply's line), for one version. */
const segments = new Map<number, ViewLine>();
let segmentsVersion = -1;

function segment(line: number): ViewLine | undefined {
  if (segmentsVersion !== cache.version) {
    segments.clear();
    segmentsVersion = cache.version;
  }
  return segments.get(line);
}

/** Text of columns [s, e) of a line, if the cache or a segment holds them. */
function rowText(l: ViewLine, s: number, e: number): string | null {
  for (const src of [l, segment(l.number!)]) {
    if (!src) continue;
    const end = src.startColumn + src.text.length;
    if (src.startColumn <= s && (end >= e || !src.cutAfter)) return src.text.slice(s - src.startColumn, e - src.startColumn);
  }
  return null;
}

function rowLine(l: ViewLine, rows: LineRows, r: number, text: string): RowLine {
  const s = rows.start(r);
  return { ...l, text, startColumn: s, cutBefore: false, cutAfter: false, row: r, rowEnd: rows.end(r), lastRow: r === rows.count - 1 };
}

/** The rows from `top` down, at most `n`; `need` lists the long lines whose rows are not read. */
function build(top: RowPos, n: number): { rows: RowLine[]; need: Map<number, { from: number; to: number }>; complete: boolean } {
  const rows: RowLine[] = [];
  const need = new Map<number, { from: number; to: number }>();
  const last = lastLine();
  let complete = true;
  for (let line = top.line, r = top.row; rows.length < n && line <= last; line++, r = 0) {
    const l = cache.get(line);
    if (!l) {
      complete = false;
      break;
    }
    const lr = rowsOfLine(l);
    for (r = Math.min(r, lr.count - 1); r < lr.count && rows.length < n; r++) {
      const text = rowText(l, lr.start(r), lr.end(r));
      if (text === null) {
        const w = need.get(line);
        need.set(line, { from: w ? w.from : r, to: r });
      }
      rows.push(rowLine(l, lr, r, text ?? ""));
    }
  }
  return { rows, need, complete };
}

/** Reads, for each long line listed, the columns of its rows shown plus a screen above and below. */
async function readSegments(need: Map<number, { from: number; to: number }>): Promise<void> {
  const screen = visibleLines() * state.wrapColumn;
  for (const [line, { from, to }] of need) {
    const lr = rowsOf(line);
    if (!lr) continue;
    const start = Math.max(0, lr.start(from) - screen);
    const end = lr.end(to) + screen;
    await pipeline.settled();
    const r = await request("viewport", { first: line, count: 1, window: { start, width: end - start, unit: "encoding" } });
    countFetched(r.lines);
    const l = r.lines[0];
    if (!l || r.version !== cache.version || l.number !== line) continue;
    segment(line);
    segments.set(line, l);
  }
}

// ---------------------------------------------------------------------------------------------
// Showing and scrolling

/** Shows the screen from row `top.row` of line `top.line`. */
export async function showRows(top: RowPos): Promise<void> {
  const seq = ++state.renderSeq;
  const n = visibleLines();
  const last = lastLine();
  let t: RowPos = { line: Math.max(0, Math.min(top.line, last)), row: Math.max(0, top.row) };
  // Each line is at least one row: n lines from the top fill the screen.
  const count = Math.min(n, last - t.line + 1);
  if (!cache.has(t.line, count)) {
    await fetchLines({ first: Math.max(0, t.line - 8), count: n + 16, window: windowParam() });
    if (seq !== state.renderSeq) return;
  }
  let b = build(t, n);
  if (b.rows.length < n && (t.line > 0 || t.row > 0) && b.complete) {
    // The end of the document: the last row at the bottom, as far as the rows above are known.
    const up = stepRows(t, b.rows.length - n, last, rowsOf);
    if (up && compareRows(up, t) < 0) {
      t = up;
      b = build(t, n);
    }
  }
  if (b.need.size) {
    await readSegments(b.need);
    if (seq !== state.renderSeq) return;
    b = build(t, n);
  }
  state.top = { line: t.line };
  state.topRow = b.rows[0]?.row ?? 0;
  document.body.dataset.topRow = String(state.topRow);
  state.frame = b.rows;
  draw();
}

/** The position of the top of the screen. */
function topPos(): RowPos {
  return { line: topLine() ?? 0, row: state.topRow };
}

/** Steps `delta` rows from `from`, reading the lines it crosses when they are not cached. */
async function step(from: RowPos, delta: number): Promise<RowPos> {
  const last = lastLine();
  let to = stepRows(from, delta, last, rowsOf);
  if (to) return to;
  const span = Math.min(900, Math.abs(delta) + 16);
  const first = delta > 0 ? from.line : Math.max(0, from.line - span);
  await fetchLines({ first, count: Math.min(span, last - first + 1), window: windowParam() });
  to = stepRows(from, delta, last, rowsOf);
  return to ?? { line: Math.max(0, Math.min(last, from.line + delta)), row: 0 };
}

/** Shows `p` with `rows` visual rows above it (Ctrl+G: a third of the screen). */
export async function showRowsAbove(p: RowPos, rows: number): Promise<void> {
  return showRows(await step(p, -rows));
}

/** The wheel, PageUp/PageDown: by visual rows. */
export async function scrollRows(delta: number): Promise<void> {
  return showRows(await step(topPos(), delta));
}

/** The cursor's visual row (the cursor's line must be cached). */
export function cursorRow(): RowPos {
  const lr = rowsOf(state.cursor.line);
  return { line: state.cursor.line, row: lr ? lr.rowOf(state.cursor.character, state.cursorRowEnd) : 0 };
}

/** Scrolls as little as puts the cursor's row on screen (as VS Code reveals it). */
export async function revealRow(): Promise<void> {
  state.leftCol = 0;
  if (!(await lineAt(state.cursor.line))) return draw();
  const c = cursorRow();
  const top = topPos();
  const n = visibleLines();
  if (compareRows(c, top) < 0) return showRows(c);
  const bottom = stepRows(top, n - 1, lastLine(), rowsOf);
  if (bottom && compareRows(c, bottom) <= 0 && state.frame.length) return draw();
  if (c.line - top.line > 2 * n) return showRows(await step(c, -Math.floor(n / 3)));
  return showRows(await step(c, -(n - 1)));
}

// ---------------------------------------------------------------------------------------------
// Motions by rows

/** The row's text for visible columns: what is cached of it (columns outside count one each). */
function rowSource(line: number, s: number): { text: string; from: number } {
  const l = cache.get(line);
  const seg = segment(line);
  if (seg && seg.startColumn <= s && !(l && l.startColumn <= s && l.startColumn + l.text.length > s)) return { text: seg.text, from: seg.startColumn };
  return l ? { text: l.text, from: l.startColumn } : { text: "", from: 0 };
}

/** Up/Down by `delta` visual rows, keeping the visible column the motion started at. */
export async function moveRows(delta: number): Promise<void> {
  state.endPending = false;
  if (!(await lineAt(state.cursor.line))) return;
  const c = cursorRow();
  const lr = rowsOf(c.line)!;
  const tab = state.settings.tabSize;
  if (state.goalColumn < 0) {
    const src = rowSource(c.line, lr.start(c.row));
    state.goalColumn = visibleColumn(src.text, src.from, lr.start(c.row), state.cursor.character, tab);
  }
  const to = await step(c, delta);
  await lineAt(to.line);
  const tr = rowsOf(to.line);
  if (!tr) return;
  if (to.clamped) {
    // Past the first or last row: to the document's start or end, as VS Code's cursorUp/Down.
    const l = cache.get(to.line);
    state.cursor = { line: to.line, character: delta < 0 ? 0 : (l?.length ?? state.cursor.character) };
    state.cursorRowEnd = false;
    return revealRow();
  }
  const s = tr.start(to.row);
  const e = tr.end(to.row);
  const src = rowSource(to.line, s);
  const ch = columnAtVisible(src.text, src.from, s, e, state.goalColumn, tab);
  state.cursor = { line: to.line, character: ch };
  state.cursorRowEnd = ch === e && to.row < tr.count - 1;
  await revealRow();
}

/**
 * Position `p` moved `delta` visual rows, keeping visible column `goal` within the row (that of
 * `p` when undefined): Up/Down and Shift+Alt+Up/Down at each of several cursors, as VS Code's
 * moveUp/moveDown and addCursorDown on view lines. `atEnd`: `p` is at the end of its row (not
 * the next row's start). `clamped`: it stopped at the document's first or last row.
 */
export async function stepByRows(
  p: Position,
  delta: number,
  goal: number | undefined,
  atEnd = false,
): Promise<{ at: Position; goal: number; rowEnd: boolean; clamped: boolean }> {
  const tab = state.settings.tabSize;
  await lineAt(p.line);
  const lr = rowsOf(p.line);
  if (!lr) return { at: p, goal: goal ?? 0, rowEnd: false, clamped: true };
  const from = { line: p.line, row: lr.rowOf(p.character, atEnd) };
  let v = goal;
  if (v === undefined) {
    const src = rowSource(p.line, lr.start(from.row));
    v = visibleColumn(src.text, src.from, lr.start(from.row), p.character, tab);
  }
  const to = await step(from, delta);
  await lineAt(to.line);
  const tr = rowsOf(to.line);
  if (!tr) return { at: p, goal: v, rowEnd: false, clamped: true };
  if (to.clamped) {
    // Past the first or last row: to the document's start or end, as VS Code's cursorUp/Down.
    const l = cache.get(to.line);
    return { at: { line: to.line, character: delta < 0 ? 0 : (l?.length ?? p.character) }, goal: v, rowEnd: false, clamped: true };
  }
  const s = tr.start(to.row);
  const e = tr.end(to.row);
  const src = rowSource(to.line, s);
  const ch = columnAtVisible(src.text, src.from, s, e, v, tab);
  return { at: { line: to.line, character: ch }, goal: v, rowEnd: ch === e && to.row < tr.count - 1, clamped: false };
}

/**
 * Home with word wrap, as VS Code: on a continuation row, to the row's first non-blank; from
 * there (or on a line's first row), the line's smart Home.
 */
export async function homeRow(): Promise<void> {
  const l = await lineAt(state.cursor.line);
  if (!l) return;
  const c = cursorRow();
  const lr = rowsOfLine(l);
  if (c.row > 0) {
    const s = lr.start(c.row);
    const e = lr.end(c.row);
    const src = rowSource(c.line, s);
    let fnb = s;
    while (fnb < e && /[ \t]/.test(src.text.charAt(fnb - src.from))) fnb++;
    if (fnb === e) fnb = s;
    if (state.cursor.character !== fnb) return moveCursor({ line: c.line, character: fnb });
  }
  const col = l.startColumn === 0 ? smartHome(l.text, state.cursor.character) : 0;
  return moveCursor({ line: c.line, character: col });
}

/** End with word wrap, as VS Code: to the end of the row; at the end of a row, to the line's end. */
export async function endRow(): Promise<void> {
  const l = await lineAt(state.cursor.line);
  if (!l) return;
  const c = cursorRow();
  const lr = rowsOfLine(l);
  const e = lr.end(c.row);
  const atRowEnd = state.cursor.character === e && (state.cursorRowEnd || c.row === lr.count - 1);
  if (c.row < lr.count - 1 && !atRowEnd) return moveCursor({ line: c.line, character: e, rowEnd: true });
  return moveCursor({ line: c.line, character: l.length });
}

// ---------------------------------------------------------------------------------------------
// Mouse

/** The document position under x in a row of the frame (`idx`), with the row's end kept on it. */
export function positionInRow(idx: number, x: number): Position & { rowEnd: boolean } {
  const r = state.frame[idx] as RowLine;
  const v = Math.max(0, Math.round(x / state.charWidth));
  const ch = columnAtVisible(r.text, r.startColumn, r.startColumn, r.rowEnd, v, state.settings.tabSize);
  return { line: r.number!, character: ch, rowEnd: ch === r.rowEnd && !r.lastRow };
}
