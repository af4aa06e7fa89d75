// Drawing: the rows on screen, the selection, the cursor, the find match, the scrollbar and the
// status line, from the state (state.ts); nothing here fetches. Also what the status bar of the
// host and the saved state are told.

import type { CursorStatus, Position, ViewLine } from "../protocol";
import { lineSpan, selectedLineCount } from "../selection";
import { scrollHeight, targetToScroll } from "../viewport";
import { cursorEl, input, linesEl, matchEl, scroller, selectionEl, spacer, statusEl } from "./dom";
import { postToHost, saveState } from "./host";
import { drawExtra } from "./multi";
import { pipeline, rowLeft, scrollState, selection, state, topLine, visibleCols, type SavedState } from "./state";
import type { RowLine } from "./wrapping";

/** The status last posted to the host (posted again only when it changes). */
let lastPosted = "";

/**
 * How the settings shape the text and the cursors (appearance.ts sets these; kept here so that
 * this module imports nothing that imports it back). `lineHeight` 0: as measured.
 */
export const look = {
  lineHeight: 0,
  /** Places a cursor whose column's left edge is at `left` in a row at `top`; `ch`: the character under it. */
  placeCursor(el: HTMLElement, left: number, top: number, _charWidth: number, _ch: string): void {
    el.style.left = `${left}px`;
    el.style.top = `${top}px`;
    el.style.height = `${state.lineHeight}px`;
  },
};

export function measure(): void {
  const probe = document.createElement("span");
  probe.className = "tx";
  probe.textContent = "0".repeat(100);
  probe.style.position = "absolute";
  probe.style.visibility = "hidden";
  linesEl.appendChild(probe);
  const r = probe.getBoundingClientRect();
  state.charWidth = r.width / 100 || 8;
  state.lineHeight = look.lineHeight || Math.ceil(r.height) || 18;
  probe.remove();
  document.documentElement.style.setProperty("--tome-line-height", `${state.lineHeight}px`);
}

export function syncScrollbar(): void {
  if (!state.info) return;
  const s = scrollState();
  spacer.style.height = `${scrollHeight(s)}px`;
  const max = scroller.scrollHeight - scroller.clientHeight;
  const t = state.frame[0];
  const pos = targetToScroll(t ? t.number : 0, t ? t.offset : 0, max, s);
  if (Math.abs(scroller.scrollTop - pos) > 1) {
    scroller.scrollTop = pos;
    state.expectedScroll = scroller.scrollTop; // as clamped by the browser
  }
}

export function draw(): void {
  const frag = document.createDocumentFragment();
  for (const l of state.frame) frag.appendChild(rowElement(l));
  linesEl.replaceChildren(frag);
  syncScrollbar();
  drawSelection();
  drawCursor();
  drawExtra();
  drawMatch();
  drawStatus();
  for (const h of afterDraw) h();
}

/** Painters run after each draw (colours.ts, find.ts, ruler.ts): they add to the rows drawn. */
export const afterDraw: Array<() => void> = [];

/** Lines holding bookmarks (the host's `bookmarks` message): marked in the gutter. */
const bookmarkLines = new Set<number>();

/** Marks the gutter of `lines` (and only those) as holding bookmarks, on the rows drawn and later. */
export function setBookmarkLines(lines: number[]): void {
  bookmarkLines.clear();
  for (const l of lines) bookmarkLines.add(l);
  for (const row of Array.from(linesEl.children) as HTMLElement[]) {
    const ln = row.querySelector(".ln");
    const line = row.dataset.line ? Number(row.dataset.line) : null;
    ln?.classList.toggle("bookmark", line !== null && bookmarkLines.has(line) && ln.textContent !== "");
  }
}

function rowElement(l: ViewLine): HTMLElement {
  const row = document.createElement("div");
  row.className = "row";
  if (l.number === state.cursor.line) row.classList.add("current");
  const ln = document.createElement("span");
  ln.className = "ln";
  // With word wrap the number is on a line's first row only.
  // A filter view's lines show their source line (`gutter`); bookmarks are marked in the file's own editor.
  ln.textContent = l.number === null ? "…" : (l as RowLine).row > 0 ? "" : String((l.gutter ?? l.number) + 1);
  if (l.number !== null && l.gutter === undefined && ln.textContent !== "" && bookmarkLines.has(l.number)) ln.classList.add("bookmark");
  const tx = document.createElement("span");
  tx.className = "tx";
  // Columns before the window's start (a character split by it) are padded.
  tx.textContent = " ".repeat(Math.max(0, l.startColumn - rowLeft(l))) + l.text;
  if (l.cutAfter) row.classList.add("cut-after");
  if (l.invalid) row.classList.add("invalid");
  row.dataset.line = l.number === null ? "" : String(l.number);
  row.dataset.left = String(rowLeft(l));
  row.append(ln, tx);
  return row;
}

/** x of column `col` (absolute, UTF-16) in row `idx` of the frame, in #lines coordinates. */
function columnX(idx: number, col: number): number {
  const row = linesEl.children[idx] as HTMLElement;
  const tx = row.querySelector(".tx") as HTMLElement;
  const l = state.frame[idx];
  const left = rowLeft(l);
  let x = tx.offsetLeft + (col - left) * state.charWidth;
  const node = tx.firstChild;
  // Offset in the row's text node: padding before a window start inside a character, then text.
  const textCol = Math.max(0, l.startColumn - left) + col - l.startColumn;
  if (node && node.nodeType === Node.TEXT_NODE) {
    const len = (node as Text).length;
    const off = Math.min(len, Math.max(0, textCol));
    const range = document.createRange();
    range.setStart(node, off);
    range.setEnd(node, off);
    const rect = range.getBoundingClientRect();
    const base = linesEl.getBoundingClientRect();
    if (rect.width !== 0 || rect.left !== 0) x = rect.left - base.left + (textCol - off) * state.charWidth;
  }
  return x;
}

/** Column (absolute, UTF-16) under a mouse x in a row. */
export function columnAtX(row: HTMLElement, clientX: number): number {
  const tx = row.querySelector(".tx") as HTMLElement;
  return Math.max(0, Math.round((clientX - tx.getBoundingClientRect().left) / state.charWidth)) + state.leftCol;
}

/** The row of the frame showing `p` (with word wrap, `atEnd`: at the end of a row rather than the start of the next). */
export function rowIndexAt(p: Position, atEnd = false): number {
  return state.frame.findIndex((l) => {
    if (l.number !== p.line) return false;
    if (state.wrapColumn === 0) return true;
    const r = l as RowLine;
    if (p.character < r.startColumn) return false;
    return p.character < r.rowEnd || (p.character === r.rowEnd && (r.lastRow || atEnd));
  });
}

/** Paints the selected part of each row on screen (the selection may go on far above/below). */
function drawSelection(): void {
  const r = selection();
  const boxes: HTMLElement[] = [];
  if (r) {
    state.frame.forEach((l, idx) => {
      const span = l.number === null ? null : lineSpan(r, l.number);
      if (!span) return;
      const row = linesEl.children[idx] as HTMLElement;
      const left = rowLeft(l);
      // With word wrap a row shows [startColumn, rowEnd): the selection is clipped to it.
      const wrapped = state.wrapColumn > 0 ? (l as RowLine) : null;
      const right = wrapped ? wrapped.rowEnd : Number.MAX_SAFE_INTEGER;
      const endCol = span.to ?? Math.max(l.length, span.from);
      if (wrapped && (span.from > right || endCol < left || (span.from === right && !wrapped.lastRow))) return;
      const minX = columnX(idx, left);
      const x0 = Math.max(minX, columnX(idx, Math.max(span.from, left)));
      let x1 = Math.max(minX, columnX(idx, Math.max(Math.min(endCol, right), left)));
      if (span.withBreak && (!wrapped || wrapped.lastRow)) x1 += state.charWidth / 2; // the line break is selected too
      const box = document.createElement("div");
      box.className = "sel";
      box.style.left = `${x0}px`;
      box.style.width = `${Math.max(0, Math.min(x1, linesEl.clientWidth) - x0)}px`;
      box.style.top = `${row.offsetTop}px`;
      box.style.height = `${state.lineHeight}px`;
      boxes.push(box);
    });
  }
  selectionEl.replaceChildren(...boxes);
}

export function drawMatch(): void {
  const m = state.match;
  const idx = m ? rowIndexAt(m.start) : -1;
  if (!m || idx < 0) {
    matchEl.style.display = "none";
    return;
  }
  const row = linesEl.children[idx] as HTMLElement;
  const rowEnd = state.wrapColumn > 0 ? (state.frame[idx] as RowLine).rowEnd : Number.MAX_SAFE_INTEGER;
  const endCol = Math.min(rowEnd, m.end.line === m.start.line ? m.end.character : state.frame[idx].length);
  const x0 = columnX(idx, m.start.character);
  const x1 = columnX(idx, Math.max(endCol, m.start.character));
  matchEl.style.display = "block";
  matchEl.style.left = `${x0}px`;
  matchEl.style.width = `${Math.max(2, x1 - x0)}px`;
  matchEl.style.top = `${row.offsetTop}px`;
  matchEl.style.height = `${state.lineHeight}px`;
}

function drawCursor(): void {
  const idx = rowIndexAt(state.cursor, state.cursorRowEnd);
  const col = state.cursor.character - state.leftCol;
  if (idx < 0 || (state.wrapColumn === 0 && (col < 0 || col > visibleCols() + 1))) {
    cursorEl.style.display = "none";
    return;
  }
  const row = linesEl.children[idx] as HTMLElement;
  const x = columnX(idx, state.cursor.character);
  const l = state.frame[idx];
  const at = state.cursor.character - l.startColumn;
  const ch = at >= 0 && at < l.text.length ? l.text.slice(at, at + (/[\ud800-\udbff]/.test(l.text[at]) ? 2 : 1)) : "";
  cursorEl.style.display = "block";
  look.placeCursor(cursorEl, x, row.offsetTop, ch ? columnX(idx, state.cursor.character + ch.length) - x : state.charWidth, ch);
  input.style.left = `${x}px`;
  input.style.top = `${row.offsetTop}px`;
}

export function drawStatus(): void {
  if (!state.info) return;
  const r = selection();
  const selected = r ? selectedLineCount(r) : 0;
  const idx = state.info.indexComplete ? "" : ` · ${state.filter === null ? "indexing" : "filtering"} ${state.info.indexPercent}%`;
  const lines =
    (state.filter === null ? "" : `filter ${state.filter}: `) +
    (state.info.lineCount.exact ? `${state.info.lineCount.known} lines` : `~${state.info.lineCount.estimate} lines`);
  const sel = r ? ` (${selected} line${selected === 1 ? "" : "s"} selected)` : "";
  const extra = [state.following ? "following" : "", state.notice, state.lastError].filter(Boolean).join(" · ");
  statusEl.textContent = `Ln ${state.cursor.line + 1}, Col ${state.cursor.character + 1}${sel} · ${lines}${idx} · v${pipeline.version}${extra ? " · " + extra : ""}`;
  const t = topLine();
  if (t !== null) saveState<SavedState>({ top: t, cursor: state.cursor });
  document.body.dataset.version = String(pipeline.version); // as predicted (echo.ts)
  document.body.dataset.cursor = `${state.cursor.line}:${state.cursor.character}`;
  document.body.dataset.selection = r ? `${r.start.line}:${r.start.character}-${r.end.line}:${r.end.character}` : "";
  document.body.dataset.following = String(state.following);
  document.body.dataset.filter = state.filter ?? "";
  postStatus({ cursor: state.cursor, selectedLines: selected, following: state.following });
}

/** Tells the host what its status bar shows, when it changed. */
function postStatus(s: CursorStatus): void {
  const key = JSON.stringify(s);
  if (key === lastPosted) return;
  lastPosted = key;
  postToHost({ type: "status", ...s });
}

export function fail(e: unknown): void {
  state.lastError = e instanceof Error ? e.message : String(e);
  drawStatus();
}

/** A short message in the status line (e.g. what Copy did), until the next one or an edit. */
export function note(text: string): void {
  state.notice = text;
  state.lastError = "";
  drawStatus();
}
