// Fetching and moving: reads the lines to show from the host (`viewport`), scrolls, moves the
// cursor and the selection, goes to a line or the end, follows the end of a growing file.

import { ErrorCodes, type DocInfo, type Position, type ViewLine, type ViewportResult, type WebviewParams } from "../protocol";
import { RequestError, request } from "./host";
import { schedule } from "./queue";
import { draw, drawStatus, note, syncScrollbar } from "./render";
import { cache, lastLine, pipeline, selection, state, topLine, visibleCols, visibleLines, windowParam } from "./state";
import { countFetched, revealRow, scrollRows, showRows, showRowsAbove } from "./wrapping";

/**
 * Takes a newer document state. When the index has just completed, lines shown without
 * numbers (read by byte offset before) are read again to get them: a view left at the end
 * while indexing would otherwise keep showing `…` for line numbers.
 */
export function setInfo(next: DocInfo): void {
  const wasComplete = state.info ? state.info.indexComplete : next.indexComplete;
  state.info = next;
  if (!wasComplete && next.indexComplete) onIndexComplete();
}

/** Who waits for the index to complete (Ctrl+A). */
const indexWaiters: (() => void)[] = [];

function onIndexComplete(): void {
  for (const w of indexWaiters.splice(0)) w();
  syncScrollbar();
  if (state.endPending) schedule(goToEnd);
  else if (!("line" in state.top) || state.frame.some((l) => l.number === null)) schedule(redraw);
}

/**
 * Takes a viewport reply into the cache, if it was read at the version the cache predicts
 * (echo.ts): a reply read before edits still in flight would bring back text they changed.
 * Returns whether it was taken.
 */
function applyResult(r: ViewportResult): boolean {
  countFetched(r.lines);
  if (!pipeline.accepts(r.version)) return false;
  if (state.info) {
    const complete = state.info.indexComplete || r.lineCount.exact;
    setInfo({ ...state.info, lineCount: r.lineCount, indexComplete: complete });
  }
  cache.put(r, state.leftCol);
  return true;
}

/**
 * Takes the first lines the host sent with `init` into the cache (not with word wrap, whose
 * rows are read wider: see windowParam), so that the first screen needs no request.
 */
export function seedLines(r: ViewportResult | undefined): void {
  if (r && state.wrapColumn === 0 && state.leftCol === 0) applyResult(r);
}

/**
 * Reads lines into the cache. Waits for the edits in flight first, so that the reply is read
 * at the predicted version; reads again (a few times) if more edits went out meanwhile.
 */
export async function fetchLines(p: WebviewParams<"viewport">): Promise<ViewportResult> {
  for (let attempt = 0; ; attempt++) {
    await pipeline.settled();
    const r = await request("viewport", p);
    if (applyResult(r) || attempt >= 3) return r;
  }
}

/** Shows lines from `line` on (line mode). Waits for the index if needed. */
export async function showLine(line: number): Promise<void> {
  // Word wrap: from the line's first row (the row shown stays when it is the top line already).
  if (state.wrapColumn > 0) return showRows({ line, row: line === topLine() ? state.topRow : 0 });
  const seq = ++state.renderSeq;
  const n = visibleLines();
  const last = lastLine();
  const first = Math.max(0, Math.min(line, Math.max(0, last - n + 1)));
  // A margin around the screen: typing Enter or joining lines at the bottom needs no read.
  const want = { first: Math.max(0, first - 8), count: n + 16 };
  if (!cache.has(first, Math.min(n, last - first + 1))) {
    try {
      await fetchLines({ ...want, window: windowParam() });
    } catch (e) {
      if (e instanceof RequestError && e.code === ErrorCodes.OutOfBounds) {
        // Past the last line (the estimate was high): show the end instead.
        return showEnd();
      }
      throw e;
    }
    if (seq !== state.renderSeq) return;
  }
  if (seq !== state.renderSeq) return;
  state.top = { line: first };
  state.frame = [];
  for (let i = first; i < first + n; i++) {
    const l = cache.get(i);
    if (!l) break;
    state.frame.push(l);
  }
  draw();
}

/**
 * After a local edit: the frame from the cache, at the same top (not drawn). False when the
 * cache lacks a line of it (the caller reads the screen).
 */
export function reframe(): boolean {
  if (state.wrapColumn > 0) return false; // the rows are laid out again by showLine
  const t = topLine();
  if (t === null || !("line" in state.top)) return false;
  const n = Math.min(visibleLines(), lastLine() - t + 1);
  const frame: ViewLine[] = [];
  for (let i = t; i < t + n; i++) {
    const l = cache.get(i);
    if (!l) return false;
    frame.push(l);
  }
  state.frame = frame;
  return true;
}

/**
 * Reads again the lines on screen that a local edit could not patch exactly (a line cut by the
 * window that got shorter, a line with invalid bytes), once every edit has its reply. Not in
 * the key queue: typing goes on meanwhile (a reply made stale by it is dropped; the next pause
 * reads again).
 */
export async function refreshStale(): Promise<void> {
  const t = topLine();
  if (t === null || pipeline.inFlight > 0) return;
  const stale = cache.staleIn(t, visibleLines());
  if (!stale.length) return;
  const r = await request("viewport", { first: stale[0], count: stale[stale.length - 1] - stale[0] + 1, window: windowParam() });
  if (applyResult(r) && topLine() === t) await showLine(t);
}

/** Reads line `n` again (at the predicted version: after the edits in flight). */
export async function readLine(n: number): Promise<void> {
  await fetchLines({ first: n, count: 1, window: windowParam() });
}

/** After the index completed: the exact line count, read at the predicted version. */
export async function refreshCount(): Promise<void> {
  const t = topLine() ?? 0;
  await fetchLines({ first: t, count: 1, window: windowParam() });
  drawStatus();
}

/** Shows the lines around a scrollbar fraction or a byte offset (never waits for the index). */
export async function showAround(p: { fraction: number } | { around: number }, before = 0): Promise<void> {
  const seq = ++state.renderSeq;
  await pipeline.settled();
  const r = await request("viewport", { ...p, before, count: visibleLines(), window: windowParam() });
  if (seq !== state.renderSeq) return;
  applyResult(r); // shown even if not cached: these lines are read by offset
  // `before` lines come on top of `count`: keep a screenful (PageDown moves by the screen).
  state.frame = r.lines.slice(0, visibleLines());
  const t = state.frame[0];
  state.top = t && t.number !== null ? { line: t.number } : { offset: t ? t.offset : 0 };
  draw();
}

export async function showEnd(): Promise<void> {
  if (state.info!.indexComplete && state.info!.lineCount.exact) return showLine(state.info!.lineCount.known - visibleLines());
  return showAround({ fraction: 1 }, visibleLines() - 1);
}

export async function redraw(): Promise<void> {
  if ("line" in state.top) return showLine(state.top.line);
  return showAround({ around: state.top.offset });
}

export async function scrollBy(lines: number): Promise<void> {
  const t = topLine();
  if (t !== null && state.wrapColumn > 0) return scrollRows(lines); // by visual rows
  if (t !== null) return showLine(Math.max(0, t + lines));
  // Past the index frontier: move by byte offsets of the lines on screen.
  if (lines > 0) {
    const target = state.frame[Math.min(state.frame.length - 1, lines)];
    if (target) return showAround({ around: target.offset });
  } else if (state.frame[0]) {
    return showAround({ around: state.frame[0].offset }, -lines);
  }
}

/** Scrolls so that the cursor's line is on screen. */
export async function reveal(): Promise<void> {
  if (state.wrapColumn > 0 && topLine() !== null) return revealRow();
  const t = topLine();
  const n = visibleLines();
  if (t === null || state.cursor.line < t) return showLine(Math.max(0, state.cursor.line - Math.floor(n / 3)));
  if (state.cursor.line >= t + n) return showLine(state.cursor.line - n + 1);
  // Horizontal: keep the cursor within the window.
  const cols = visibleCols();
  let newLeft = state.leftCol;
  if (state.cursor.character < state.leftCol) newLeft = Math.max(0, state.cursor.character - Math.floor(cols / 4));
  else if (state.cursor.character > state.leftCol + cols - 1) newLeft = state.cursor.character - Math.floor((cols * 3) / 4);
  if (newLeft !== state.leftCol) {
    state.leftCol = newLeft;
    cache.clear();
    return showLine(t);
  }
  draw();
}

export async function lineAt(n: number): Promise<ViewLine | undefined> {
  if (!cache.get(n) && n >= 0) {
    try {
      await fetchLines({ first: Math.max(0, n - 1), count: 3, window: windowParam() });
    } catch {
      return undefined;
    }
  }
  return cache.get(n);
}

/** Moves the cursor to `p` (`rowEnd`: drawn at the end of its row with word wrap, see state.ts). */
export async function moveCursor(p: Position & { rowEnd?: boolean }, keepGoal = false): Promise<void> {
  state.endPending = false;
  state.cursorRowEnd = !!p.rowEnd;
  const last = lastLine();
  const ln = Math.max(0, Math.min(p.line, last));
  const l = await lineAt(ln);
  let ch = p.character;
  if (keepGoal) {
    if (state.goalColumn < 0) state.goalColumn = state.cursor.character;
    ch = state.goalColumn;
  } else state.goalColumn = -1;
  ch = Math.max(0, l ? Math.min(ch, l.length) : ch);
  state.cursor = { line: ln, character: ch };
  await reveal();
}

export async function goToLine(n: number): Promise<void> {
  state.endPending = false;
  state.cursor = { line: Math.max(0, n), character: 0 };
  state.goalColumn = -1;
  if (state.leftCol !== 0) {
    state.leftCol = 0;
    cache.clear();
  }
  // With word wrap a third of the screen is counted in rows (lines above may take many).
  if (state.wrapColumn > 0) return showRowsAbove({ line: state.cursor.line, row: 0 }, Math.floor(visibleLines() / 3));
  await showLine(Math.max(0, state.cursor.line - Math.floor(visibleLines() / 3)));
}

/** Ctrl+End: the last lines on screen, the cursor at the very end (once the line is numbered). */
export async function goToEnd(): Promise<void> {
  await showEnd();
  const last = state.frame[state.frame.length - 1];
  state.endPending = !last || last.number === null;
  state.goalColumn = -1;
  if (state.endPending) return draw();
  state.cursor = { line: last.number!, character: last.length };
  await reveal(); // horizontally: the last line may be shorter than where the view was scrolled
}

/** Runs a motion; with Shift it extends the selection from where the cursor was, else drops it. */
export async function motion(extend: boolean, move: () => Promise<void>): Promise<void> {
  state.newUndoStep = true;
  if (extend) state.anchor ??= { ...state.cursor };
  else state.anchor = null;
  await move();
  if (state.anchor && selection() === null) state.anchor = null;
  draw();
}

/**
 * Waits until the line index is complete (the last line's number is needed): told by the
 * host's `index` message (from `$/progress`), with a slow `tome/info` in case none comes (a
 * server that reports no progress).
 */
async function indexed(): Promise<void> {
  while (!state.info!.indexComplete) {
    note("waiting for the index…");
    await new Promise<void>((r) => {
      indexWaiters.push(r);
      setTimeout(r, 2000);
    });
    if (!state.info!.indexComplete) setInfo(await request("info", {}));
  }
}

/** Ctrl+A: from the start of the document to the end of its last line (not rendered: no matter). */
export async function selectAll(): Promise<void> {
  await indexed();
  const last = state.info!.lineCount.known - 1;
  const l = await lineAt(last);
  state.anchor = { line: 0, character: 0 };
  state.cursor = { line: last, character: l ? l.length : 0 };
  state.goalColumn = -1;
  note("");
  draw();
}

export function stopFollowing(): void {
  state.following = false;
}

export function setFollowing(on: boolean): void {
  state.following = on;
  if (on) schedule(goToEnd);
  else drawStatus();
}
