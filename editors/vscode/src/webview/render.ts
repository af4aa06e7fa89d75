// Drawing: the rows on screen, the selection, the cursor, the find match, the scrollbar and the
// status line, from the state (state.ts); nothing here fetches. Also what the status bar of the
// host and the saved state are told.

import type { CursorStatus, ViewLine } from "../protocol";
import { lineSpan, selectedLineCount } from "../selection";
import { scrollHeight, targetToScroll } from "../viewport";
import { cursorEl, input, linesEl, matchEl, scroller, selectionEl, spacer, statusEl } from "./dom";
import { postToHost, saveState } from "./host";
import { drawExtra } from "./multi";
import { pipeline, scrollState, selection, state, topLine, visibleCols, type SavedState } from "./state";

/** The status last posted to the host (posted again only when it changes). */
let lastPosted = "";

export function measure(): void {
  const probe = document.createElement("span");
  probe.className = "tx";
  probe.textContent = "0".repeat(100);
  probe.style.position = "absolute";
  probe.style.visibility = "hidden";
  linesEl.appendChild(probe);
  const r = probe.getBoundingClientRect();
  state.charWidth = r.width / 100 || 8;
  state.lineHeight = Math.ceil(r.height) || 18;
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

function rowElement(l: ViewLine): HTMLElement {
  const row = document.createElement("div");
  row.className = "row";
  if (l.number === state.cursor.line) row.classList.add("current");
  const ln = document.createElement("span");
  ln.className = "ln";
  ln.textContent = l.number === null ? "…" : String(l.number + 1);
  const tx = document.createElement("span");
  tx.className = "tx";
  // Columns before the window's start (a character split by it) are padded.
  tx.textContent = " ".repeat(Math.max(0, l.startColumn - state.leftCol)) + l.text;
  if (l.cutAfter) row.classList.add("cut-after");
  if (l.invalid) row.classList.add("invalid");
  row.dataset.line = l.number === null ? "" : String(l.number);
  row.append(ln, tx);
  return row;
}

/** x of column `col` (absolute, UTF-16) in row `idx` of the frame, in #lines coordinates. */
function columnX(idx: number, col: number): number {
  const row = linesEl.children[idx] as HTMLElement;
  const tx = row.querySelector(".tx") as HTMLElement;
  const l = state.frame[idx];
  let x = tx.offsetLeft + (col - state.leftCol) * state.charWidth;
  const node = tx.firstChild;
  // Offset in the row's text node: padding before a window start inside a character, then text.
  const textCol = Math.max(0, l.startColumn - state.leftCol) + col - l.startColumn;
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

/** Paints the selected part of each row on screen (the selection may go on far above/below). */
function drawSelection(): void {
  const r = selection();
  const boxes: HTMLElement[] = [];
  if (r) {
    state.frame.forEach((l, idx) => {
      const span = l.number === null ? null : lineSpan(r, l.number);
      if (!span) return;
      const row = linesEl.children[idx] as HTMLElement;
      const minX = columnX(idx, state.leftCol);
      const x0 = Math.max(minX, columnX(idx, Math.max(span.from, state.leftCol)));
      const endCol = span.to ?? Math.max(l.length, span.from);
      let x1 = Math.max(minX, columnX(idx, Math.max(endCol, state.leftCol)));
      if (span.withBreak) x1 += state.charWidth / 2; // the line break is selected too
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
  const idx = m ? state.frame.findIndex((l) => l.number === m.start.line) : -1;
  if (!m || idx < 0) {
    matchEl.style.display = "none";
    return;
  }
  const row = linesEl.children[idx] as HTMLElement;
  const endCol = m.end.line === m.start.line ? m.end.character : state.frame[idx].length;
  const x0 = columnX(idx, m.start.character);
  const x1 = columnX(idx, Math.max(endCol, m.start.character));
  matchEl.style.display = "block";
  matchEl.style.left = `${x0}px`;
  matchEl.style.width = `${Math.max(2, x1 - x0)}px`;
  matchEl.style.top = `${row.offsetTop}px`;
  matchEl.style.height = `${state.lineHeight}px`;
}

function drawCursor(): void {
  const idx = state.frame.findIndex((l) => l.number === state.cursor.line);
  const col = state.cursor.character - state.leftCol;
  if (idx < 0 || col < 0 || col > visibleCols() + 1) {
    cursorEl.style.display = "none";
    return;
  }
  const row = linesEl.children[idx] as HTMLElement;
  const x = columnX(idx, state.cursor.character);
  cursorEl.style.display = "block";
  cursorEl.style.left = `${x}px`;
  cursorEl.style.top = `${row.offsetTop}px`;
  cursorEl.style.height = `${state.lineHeight}px`;
  input.style.left = cursorEl.style.left;
  input.style.top = cursorEl.style.top;
}

export function drawStatus(): void {
  if (!state.info) return;
  const r = selection();
  const selected = r ? selectedLineCount(r) : 0;
  const idx = state.info.indexComplete ? "" : ` · indexing ${state.info.indexPercent}%`;
  const lines = state.info.lineCount.exact ? `${state.info.lineCount.known} lines` : `~${state.info.lineCount.estimate} lines`;
  const sel = r ? ` (${selected} line${selected === 1 ? "" : "s"} selected)` : "";
  const extra = [state.following ? "following" : "", state.notice, state.lastError].filter(Boolean).join(" · ");
  statusEl.textContent = `Ln ${state.cursor.line + 1}, Col ${state.cursor.character + 1}${sel} · ${lines}${idx} · v${pipeline.version}${extra ? " · " + extra : ""}`;
  const t = topLine();
  if (t !== null) saveState<SavedState>({ top: t, cursor: state.cursor });
  document.body.dataset.version = String(pipeline.version); // as predicted (echo.ts)
  document.body.dataset.cursor = `${state.cursor.line}:${state.cursor.character}`;
  document.body.dataset.selection = r ? `${r.start.line}:${r.start.character}-${r.end.line}:${r.end.character}` : "";
  document.body.dataset.following = String(state.following);
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
