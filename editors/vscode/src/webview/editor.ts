// The webview: renders only the visible lines of the document, fetched from the host (which
// relays to `tome serve`) as the user scrolls; cursor, selection, typing, Backspace/Delete,
// Enter, cut/copy/paste, keyboard navigation, Ctrl+G, find, follow mode. Bundled by esbuild
// into out/webview/editor.js.

import { ErrorCodes, type CursorStatus, type DocInfo, type Match, type Position, type Range, type SearchResult, type ViewLine, type ViewportResult, type ViewportWindow } from "../protocol";
import { editOverSelection, lineSpan, selectedLineCount, selectionRange, wholeLine } from "../selection";
import { LineCache, scrollHeight, scrollToTarget, targetToScroll, translateEdit, totalLines, type CursorEdit, type ScrollState } from "../viewport";
import { RequestError, cancellable, loadState, onHostMessage, postToHost, request, saveState } from "./host";

/** What survives the webview being hidden and shown again (VS Code reloads it). */
interface SavedState {
  top: number;
  cursor: Position;
}

const $ = (id: string): HTMLElement => document.getElementById(id)!;
const editorEl = $("editor");
const linesEl = $("lines");
const selectionEl = $("selection");
const cursorEl = $("cursor");
const matchEl = $("match");
const scroller = $("scroller");
const spacer = $("spacer");
const input = $("input") as HTMLTextAreaElement;
const gotoEl = $("goto");
const gotoInput = $("goto-input") as HTMLInputElement;
const statusEl = $("status");

// ---------------------------------------------------------------------------------------------
// State

let info: DocInfo | null = null;
const cache = new LineCache(4000);
/** The lines on screen, top first. */
let frame: ViewLine[] = [];
/** Top of the screen: a line number (line mode) or, past the index frontier, a byte offset. */
let top: { line: number } | { offset: number } = { line: 0 };
let cursor: Position = { line: 0, character: 0 };
/** Where the selection started (Shift+motion, drag); null: nothing selected. */
let anchor: Position | null = null;
let goalColumn = -1;
let leftCol = 0; // first column shown (UTF-16 units)
let lineHeight = 18;
let charWidth = 8;
let renderSeq = 0;
let lastError = "";
let notice = "";
/** Follow mode: the view stays at the end as the file grows (Tome: Follow End). */
let following = false;
/** Ctrl+End ran while the last line had no number yet: put the cursor there once indexed. */
let endPending = false;

function visibleLines(): number {
  return Math.max(1, Math.floor(linesEl.clientHeight / lineHeight));
}
function visibleCols(): number {
  const gutter = 10 * charWidth;
  return Math.max(10, Math.floor((linesEl.clientWidth - gutter) / charWidth));
}
function scrollState(): ScrollState {
  const i = info!;
  return { size: i.size, lineCount: i.lineCount, indexComplete: i.indexComplete, visibleLines: visibleLines(), lineHeight };
}
function lastLine(): number {
  return totalLines(scrollState()) - 1;
}
function windowParam(): ViewportWindow {
  return { start: leftCol, width: visibleCols() + 2, unit: "encoding" };
}
function selection(): Range | null {
  return selectionRange(anchor, cursor);
}

function measure(): void {
  const probe = document.createElement("span");
  probe.className = "tx";
  probe.textContent = "0".repeat(100);
  probe.style.position = "absolute";
  probe.style.visibility = "hidden";
  linesEl.appendChild(probe);
  const r = probe.getBoundingClientRect();
  charWidth = r.width / 100 || 8;
  lineHeight = Math.ceil(r.height) || 18;
  probe.remove();
  document.documentElement.style.setProperty("--tome-line-height", `${lineHeight}px`);
}

/**
 * Takes a newer document state. When the index has just completed, lines shown without
 * numbers (read by byte offset before) are read again to get them: a view left at the end
 * while indexing would otherwise keep showing `…` for line numbers.
 */
function setInfo(next: DocInfo): void {
  const wasComplete = info ? info.indexComplete : next.indexComplete;
  info = next;
  if (!wasComplete && next.indexComplete) onIndexComplete();
}

function onIndexComplete(): void {
  syncScrollbar();
  if (endPending) schedule(goToEnd);
  else if (!("line" in top) || frame.some((l) => l.number === null)) schedule(redraw);
}

// ---------------------------------------------------------------------------------------------
// Fetching and drawing

function applyResult(r: ViewportResult): void {
  if (info) {
    const complete = info.indexComplete || r.lineCount.exact;
    setInfo({ ...info, lineCount: r.lineCount, indexComplete: complete });
  }
  cache.put(r, leftCol);
}

/** Shows lines from `line` on (line mode). Waits for the index if needed. */
async function showLine(line: number): Promise<void> {
  const seq = ++renderSeq;
  const n = visibleLines();
  const last = lastLine();
  const first = Math.max(0, Math.min(line, Math.max(0, last - n + 1)));
  const want = { first: Math.max(0, first - 2), count: n + 4 };
  if (!cache.has(first, Math.min(n, last - first + 1))) {
    let r: ViewportResult;
    try {
      r = await request("viewport", { ...want, window: windowParam() });
    } catch (e) {
      if (e instanceof RequestError && e.code === ErrorCodes.OutOfBounds) {
        // Past the last line (the estimate was high): show the end instead.
        return showEnd();
      }
      throw e;
    }
    if (seq !== renderSeq) return;
    applyResult(r);
  }
  if (seq !== renderSeq) return;
  top = { line: first };
  frame = [];
  for (let i = first; i < first + n; i++) {
    const l = cache.get(i);
    if (!l) break;
    frame.push(l);
  }
  draw();
}

/** Shows the lines around a scrollbar fraction or a byte offset (never waits for the index). */
async function showAround(p: { fraction: number } | { around: number }, before = 0): Promise<void> {
  const seq = ++renderSeq;
  const r = await request("viewport", { ...p, before, count: visibleLines(), window: windowParam() });
  if (seq !== renderSeq) return;
  applyResult(r);
  frame = r.lines;
  const t = frame[0];
  top = t && t.number !== null ? { line: t.number } : { offset: t ? t.offset : 0 };
  draw();
}

async function showEnd(): Promise<void> {
  if (info!.indexComplete && info!.lineCount.exact) return showLine(info!.lineCount.known - visibleLines());
  return showAround({ fraction: 1 }, visibleLines() - 1);
}

async function redraw(): Promise<void> {
  if ("line" in top) return showLine(top.line);
  return showAround({ around: top.offset });
}

/** The scrollTop we last set ourselves: its scroll event is not a user's drag. */
let expectedScroll = -1;
function syncScrollbar(): void {
  if (!info) return;
  const s = scrollState();
  spacer.style.height = `${scrollHeight(s)}px`;
  const max = scroller.scrollHeight - scroller.clientHeight;
  const t = frame[0];
  const pos = targetToScroll(t ? t.number : 0, t ? t.offset : 0, max, s);
  if (Math.abs(scroller.scrollTop - pos) > 1) {
    scroller.scrollTop = pos;
    expectedScroll = scroller.scrollTop; // as clamped by the browser
  }
}

function draw(): void {
  const frag = document.createDocumentFragment();
  for (const l of frame) frag.appendChild(rowElement(l));
  linesEl.replaceChildren(frag);
  syncScrollbar();
  drawSelection();
  drawCursor();
  drawMatch();
  drawStatus();
}

function rowElement(l: ViewLine): HTMLElement {
  const row = document.createElement("div");
  row.className = "row";
  if (l.number === cursor.line) row.classList.add("current");
  const ln = document.createElement("span");
  ln.className = "ln";
  ln.textContent = l.number === null ? "…" : String(l.number + 1);
  const tx = document.createElement("span");
  tx.className = "tx";
  // Columns before the window's start (a character split by it) are padded.
  tx.textContent = " ".repeat(Math.max(0, l.startColumn - leftCol)) + l.text;
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
  const l = frame[idx];
  let x = tx.offsetLeft + (col - leftCol) * charWidth;
  const node = tx.firstChild;
  // Offset in the row's text node: padding before a window start inside a character, then text.
  const textCol = Math.max(0, l.startColumn - leftCol) + col - l.startColumn;
  if (node && node.nodeType === Node.TEXT_NODE) {
    const len = (node as Text).length;
    const off = Math.min(len, Math.max(0, textCol));
    const range = document.createRange();
    range.setStart(node, off);
    range.setEnd(node, off);
    const rect = range.getBoundingClientRect();
    const base = linesEl.getBoundingClientRect();
    if (rect.width !== 0 || rect.left !== 0) x = rect.left - base.left + (textCol - off) * charWidth;
  }
  return x;
}

/** Column (absolute, UTF-16) under a mouse x in a row. */
function columnAtX(row: HTMLElement, clientX: number): number {
  const tx = row.querySelector(".tx") as HTMLElement;
  return Math.max(0, Math.round((clientX - tx.getBoundingClientRect().left) / charWidth)) + leftCol;
}

/** Paints the selected part of each row on screen (the selection may go on far above/below). */
function drawSelection(): void {
  const r = selection();
  const boxes: HTMLElement[] = [];
  if (r) {
    frame.forEach((l, idx) => {
      const span = l.number === null ? null : lineSpan(r, l.number);
      if (!span) return;
      const row = linesEl.children[idx] as HTMLElement;
      const minX = columnX(idx, leftCol);
      const x0 = Math.max(minX, columnX(idx, Math.max(span.from, leftCol)));
      const endCol = span.to ?? Math.max(l.length, span.from);
      let x1 = Math.max(minX, columnX(idx, Math.max(endCol, leftCol)));
      if (span.withBreak) x1 += charWidth / 2; // the line break is selected too
      const box = document.createElement("div");
      box.className = "sel";
      box.style.left = `${x0}px`;
      box.style.width = `${Math.max(0, Math.min(x1, linesEl.clientWidth) - x0)}px`;
      box.style.top = `${row.offsetTop}px`;
      box.style.height = `${lineHeight}px`;
      boxes.push(box);
    });
  }
  selectionEl.replaceChildren(...boxes);
}

function drawMatch(): void {
  const m = match;
  const idx = m ? frame.findIndex((l) => l.number === m.start.line) : -1;
  if (!m || idx < 0) {
    matchEl.style.display = "none";
    return;
  }
  const row = linesEl.children[idx] as HTMLElement;
  const endCol = m.end.line === m.start.line ? m.end.character : frame[idx].length;
  const x0 = columnX(idx, m.start.character);
  const x1 = columnX(idx, Math.max(endCol, m.start.character));
  matchEl.style.display = "block";
  matchEl.style.left = `${x0}px`;
  matchEl.style.width = `${Math.max(2, x1 - x0)}px`;
  matchEl.style.top = `${row.offsetTop}px`;
  matchEl.style.height = `${lineHeight}px`;
}

function drawCursor(): void {
  const idx = frame.findIndex((l) => l.number === cursor.line);
  const col = cursor.character - leftCol;
  if (idx < 0 || col < 0 || col > visibleCols() + 1) {
    cursorEl.style.display = "none";
    return;
  }
  const row = linesEl.children[idx] as HTMLElement;
  const x = columnX(idx, cursor.character);
  cursorEl.style.display = "block";
  cursorEl.style.left = `${x}px`;
  cursorEl.style.top = `${row.offsetTop}px`;
  cursorEl.style.height = `${lineHeight}px`;
  input.style.left = cursorEl.style.left;
  input.style.top = cursorEl.style.top;
}

let lastPosted = "";
function drawStatus(): void {
  if (!info) return;
  const r = selection();
  const selected = r ? selectedLineCount(r) : 0;
  const idx = info.indexComplete ? "" : ` · indexing ${info.indexPercent}%`;
  const lines = info.lineCount.exact ? `${info.lineCount.known} lines` : `~${info.lineCount.estimate} lines`;
  const sel = r ? ` (${selected} line${selected === 1 ? "" : "s"} selected)` : "";
  const extra = [following ? "following" : "", notice, lastError].filter(Boolean).join(" · ");
  statusEl.textContent = `Ln ${cursor.line + 1}, Col ${cursor.character + 1}${sel} · ${lines}${idx} · v${cache.version}${extra ? " · " + extra : ""}`;
  const t = topLine();
  if (t !== null) saveState<SavedState>({ top: t, cursor });
  document.body.dataset.version = String(cache.version);
  document.body.dataset.cursor = `${cursor.line}:${cursor.character}`;
  document.body.dataset.selection = r ? `${r.start.line}:${r.start.character}-${r.end.line}:${r.end.character}` : "";
  document.body.dataset.following = String(following);
  postStatus({ cursor, selectedLines: selected, following });
}

/** Tells the host what its status bar shows, when it changed. */
function postStatus(s: CursorStatus): void {
  const key = JSON.stringify(s);
  if (key === lastPosted) return;
  lastPosted = key;
  postToHost({ type: "status", ...s });
}

function fail(e: unknown): void {
  lastError = e instanceof Error ? e.message : String(e);
  drawStatus();
}

/** A short message in the status line (e.g. what Copy did), until the next one or an edit. */
function note(text: string): void {
  notice = text;
  lastError = "";
  drawStatus();
}

// ---------------------------------------------------------------------------------------------
// Cursor and scrolling

function topLine(): number | null {
  return "line" in top ? top.line : frame[0]?.number ?? null;
}

async function scrollBy(lines: number): Promise<void> {
  const t = topLine();
  if (t !== null) return showLine(Math.max(0, t + lines));
  // Past the index frontier: move by byte offsets of the lines on screen.
  if (lines > 0) {
    const target = frame[Math.min(frame.length - 1, lines)];
    if (target) return showAround({ around: target.offset });
  } else if (frame[0]) {
    return showAround({ around: frame[0].offset }, -lines);
  }
}

/** Scrolls so that the cursor's line is on screen. */
async function reveal(): Promise<void> {
  const t = topLine();
  const n = visibleLines();
  if (t === null || cursor.line < t) return showLine(Math.max(0, cursor.line - Math.floor(n / 3)));
  if (cursor.line >= t + n) return showLine(cursor.line - n + 1);
  // Horizontal: keep the cursor within the window.
  const cols = visibleCols();
  let newLeft = leftCol;
  if (cursor.character < leftCol) newLeft = Math.max(0, cursor.character - Math.floor(cols / 4));
  else if (cursor.character > leftCol + cols - 1) newLeft = cursor.character - Math.floor((cols * 3) / 4);
  if (newLeft !== leftCol) {
    leftCol = newLeft;
    cache.clear();
    return showLine(t);
  }
  draw();
}

async function lineAt(n: number): Promise<ViewLine | undefined> {
  if (!cache.get(n) && n >= 0) {
    try {
      applyResult(await request("viewport", { first: Math.max(0, n - 1), count: 3, window: windowParam() }));
    } catch {
      return undefined;
    }
  }
  return cache.get(n);
}

async function moveCursor(p: Position, keepGoal = false): Promise<void> {
  endPending = false;
  const last = lastLine();
  const ln = Math.max(0, Math.min(p.line, last));
  const l = await lineAt(ln);
  let ch = p.character;
  if (keepGoal) {
    if (goalColumn < 0) goalColumn = cursor.character;
    ch = goalColumn;
  } else goalColumn = -1;
  ch = Math.max(0, l ? Math.min(ch, l.length) : ch);
  cursor = { line: ln, character: ch };
  await reveal();
}

async function goToLine(n: number): Promise<void> {
  endPending = false;
  cursor = { line: Math.max(0, n), character: 0 };
  goalColumn = -1;
  if (leftCol !== 0) {
    leftCol = 0;
    cache.clear();
  }
  await showLine(Math.max(0, cursor.line - Math.floor(visibleLines() / 3)));
}

/** Ctrl+End: the last lines on screen, the cursor at the very end (once the line is numbered). */
async function goToEnd(): Promise<void> {
  await showEnd();
  const last = frame[frame.length - 1];
  endPending = !last || last.number === null;
  goalColumn = -1;
  if (endPending) return draw();
  cursor = { line: last.number!, character: last.length };
  await reveal(); // horizontally: the last line may be shorter than where the view was scrolled
}

/** Runs a motion; with Shift it extends the selection from where the cursor was, else drops it. */
async function motion(extend: boolean, move: () => Promise<void>): Promise<void> {
  if (extend) anchor ??= { ...cursor };
  else anchor = null;
  await move();
  if (anchor && selection() === null) anchor = null;
  draw();
}

/** Waits until the line index is complete (the last line's number is needed), polling `tome/info`. */
async function indexed(): Promise<void> {
  while (!info!.indexComplete) {
    note("waiting for the index…");
    await new Promise((r) => setTimeout(r, 100));
    setInfo(await request("info", {}));
  }
}

// In VS Code, Ctrl+G and Ctrl+F pressed here are handled at once by the page and come back a
// little later as `gotoLine`/`find` from the extension's keybindings. Each such echo is
// dropped: it used to reopen the go-to box after a quick "digits, Enter" and take the next
// keys typed for the document.
let echoesShortcuts = false;
const pendingEchoes = { gotoLine: 0, find: 0 };

function shortcut(kind: "gotoLine" | "find"): void {
  if (echoesShortcuts) pendingEchoes[kind]++;
  if (kind === "gotoLine") openGoto();
  else openFind();
}

/** A `gotoLine`/`find` from the host: the echo of a key handled here, or a command. */
function fromHost(kind: "gotoLine" | "find"): void {
  if (pendingEchoes[kind] > 0) {
    pendingEchoes[kind]--;
    return;
  }
  if (kind === "gotoLine") openGoto();
  else openFind();
}

/** Ctrl+A: from the start of the document to the end of its last line (not rendered: no matter). */
async function selectAll(): Promise<void> {
  await indexed();
  const last = info!.lineCount.known - 1;
  const l = await lineAt(last);
  anchor = { line: 0, character: 0 };
  cursor = { line: last, character: l ? l.length : 0 };
  goalColumn = -1;
  note("");
  draw();
}

function stopFollowing(): void {
  following = false;
}

function setFollowing(on: boolean): void {
  following = on;
  if (on) schedule(goToEnd);
  else drawStatus();
}

// ---------------------------------------------------------------------------------------------
// Editing: operations are queued and applied one at a time, each translated against the
// freshest cache (so a Backspace at column 0 knows the previous line's length after the edits
// before it).

// Key actions (moves and edits) run one at a time, in order, each reading the cursor when it
// runs: a Home typed right after a Backspace acts on the line as the Backspace left it.
const queue: (() => Promise<void>)[] = [];
let running = false;

function schedule(action: () => Promise<void>): void {
  queue.push(action);
  if (!running) void drain();
}

async function drain(): Promise<void> {
  running = true;
  try {
    while (queue.length) {
      try {
        await queue.shift()!();
      } catch (e) {
        fail(e);
      }
    }
  } finally {
    running = false;
  }
}

function enqueue(e: CursorEdit): void {
  schedule(() => applyEdit(e));
}

async function applyEdit(e: CursorEdit): Promise<void> {
  // The position is taken when the edit runs, from the cursor as moved by earlier actions; a
  // selection is replaced as a whole (one edit).
  const op = editOverSelection(e.kind === "replace" ? e : { ...e, at: { ...cursor } }, selection());
  if ("at" in op) {
    await lineAt(op.at.line);
    if (op.kind === "deleteBackward" && op.at.character === 0) await lineAt(op.at.line - 1);
  }
  const t = translateEdit(op, cache.version, (n) => cache.get(n), info!.lineEnding);
  if (!t) return;
  try {
    await request("edit", t.params);
    lastError = "";
    notice = "";
  } catch (err) {
    // Stale or out of bounds: drop the cache so that the next action reads afresh.
    cache.clear();
    throw err;
  }
  cache.clear();
  cursor = t.cursor;
  anchor = null;
  goalColumn = -1;
  info!.dirty = true;
  await redraw(); // refetches the screen at the new version
  await reveal();
}

// ---------------------------------------------------------------------------------------------
// Clipboard: the host reads the range from the server and writes the clipboard, so a selection
// of millions of lines copies without ever being on screen (up to a cap, see textRange.ts).

/** The selection, or with none the cursor's whole line (VS Code's behaviour). */
async function clipboardRange(): Promise<Range> {
  const r = selection();
  if (r) return r;
  const l = await lineAt(cursor.line);
  return wholeLine(cursor.line, !l || l.breakLength === 0, l?.length ?? 0);
}

async function copy(): Promise<boolean> {
  const r = await clipboardRange();
  note("copying…");
  const res = await request("copy", { start: r.start, end: r.end }).catch((e: unknown) => {
    notice = "";
    fail(e);
    return null;
  });
  if (res) note(`copied ${res.characters} characters`);
  return !!res;
}

async function cut(): Promise<void> {
  const r = await clipboardRange();
  if (await copy()) await applyEdit({ kind: "replace", start: r.start, end: r.end, text: "" });
}

// ---------------------------------------------------------------------------------------------
// Find and replace all

let match: { start: Position; end: Position; offsets: { start: number; end: number } } | null = null;
const findEl = $("find");
const findInput = $("find-input") as HTMLInputElement;
const findCase = $("find-case") as HTMLInputElement;
const findRegex = $("find-regex") as HTMLInputElement;
const findCount = $("find-count");
const replaceInput = $("replace-input") as HTMLInputElement;

function query(): { pattern: string; regex: boolean; caseSensitive: boolean } {
  return { pattern: findInput.value, regex: findRegex.checked, caseSensitive: findCase.checked };
}

// In VS Code a shortcut reaches the page twice (the page's own key handler, then the
// extension's keybinding as a message): opening a box that is already open must not reset it.
function openFind(): void {
  if (!findEl.hidden) {
    findInput.focus();
    return;
  }
  findEl.hidden = false;
  findInput.focus();
  findInput.select();
}

function closeFind(): void {
  findEl.hidden = true;
  match = null;
  drawMatch();
  input.focus();
}

let counting: { cancel(): void } | null = null;
let countTimer: ReturnType<typeof setTimeout> | undefined;
function scheduleCount(): void {
  clearTimeout(countTimer);
  countTimer = setTimeout(() => void count(), 200);
}

async function count(): Promise<void> {
  counting?.cancel();
  if (!findInput.value) {
    findCount.textContent = "";
    return;
  }
  const c = cancellable("search", { query: query(), mode: "count" });
  counting = c;
  findCount.textContent = "…";
  try {
    const r = await c.promise;
    if (counting === c) findCount.textContent = r.count === 1 ? "1 match" : `${r.count} matches`;
  } catch (e) {
    if (counting === c && !(e instanceof RequestError && e.code === ErrorCodes.RequestCancelled)) findCount.textContent = (e as Error).message;
  }
}

async function findNext(backward: boolean): Promise<void> {
  if (!findInput.value) return;
  // Forward: from the end of the current match (else the cursor). Backward: before the match.
  const from = match
    ? { offset: backward ? match.offsets.start : match.offsets.end }
    : { position: { line: cursor.line, character: cursor.character } };
  let r: SearchResult;
  try {
    r = await request("search", {
      query: query(),
      mode: "next",
      from,
      direction: backward ? "backward" : "forward",
      wrap: true,
    });
  } catch (e) {
    findCount.textContent = (e as Error).message;
    return;
  }
  if (!r.found) {
    findCount.textContent = "no matches";
    match = null;
    drawMatch();
    return;
  }
  await showMatch(r.found);
}

async function showMatch(f: Match): Promise<void> {
  stopFollowing();
  anchor = null;
  if (!f.range) {
    // Past the index frontier: show it, by offset.
    match = null;
    await showAround({ around: f.offsets.start }, 3);
    return;
  }
  match = { start: f.range.start, end: f.range.end, offsets: f.offsets };
  cursor = { ...f.range.start };
  goalColumn = -1;
  const n = visibleLines();
  const t = topLine();
  if (t === null || cursor.line < t || cursor.line >= t + n) await showLine(Math.max(0, cursor.line - Math.floor(n / 3)));
  await reveal();
}

async function replaceAll(): Promise<void> {
  if (!findInput.value) return;
  try {
    const r = await request("replaceAll", { query: query(), replacement: replaceInput.value });
    findCount.textContent = `replaced ${r.count}`;
  } catch (e) {
    findCount.textContent = (e as Error).message;
    return;
  }
  match = null;
  anchor = null;
  cache.clear();
  await redraw();
}

findInput.addEventListener("input", () => {
  match = null;
  scheduleCount();
});
findCase.addEventListener("change", scheduleCount);
findRegex.addEventListener("change", scheduleCount);
findInput.addEventListener("keydown", (e) => {
  if (e.key === "Enter") {
    e.preventDefault();
    schedule(() => findNext(e.shiftKey));
  }
});
replaceInput.addEventListener("keydown", (e) => {
  if (e.key === "Enter") {
    e.preventDefault();
    schedule(replaceAll);
  }
});
// Escape closes the bar from any of its fields and buttons.
findEl.addEventListener("keydown", (e) => {
  if (e.key === "Escape") {
    e.preventDefault();
    closeFind();
  }
});
$("find-next").addEventListener("click", () => schedule(() => findNext(false)));
$("find-prev").addEventListener("click", () => schedule(() => findNext(true)));
$("replace-all").addEventListener("click", () => schedule(replaceAll));
$("find-close").addEventListener("click", closeFind);

// ---------------------------------------------------------------------------------------------
// Keys

/** Motions by key; each reads `cursor` when it runs, after the actions queued before it. */
function keyMotion(e: KeyboardEvent): (() => Promise<void>) | null {
  const ctrl = e.ctrlKey || e.metaKey;
  const n = visibleLines();
  switch (e.key) {
    case "ArrowUp":
      return () => moveCursor({ line: cursor.line - 1, character: cursor.character }, true);
    case "ArrowDown":
      return () => moveCursor({ line: cursor.line + 1, character: cursor.character }, true);
    case "ArrowLeft":
      return async () => {
        if (cursor.character > 0) await moveCursor({ line: cursor.line, character: cursor.character - 1 });
        else if (cursor.line > 0) await moveCursor({ line: cursor.line - 1, character: Number.MAX_SAFE_INTEGER });
      };
    case "ArrowRight":
      return () => {
        const l = cache.get(cursor.line);
        if (l && cursor.character >= l.length && l.breakLength > 0) return moveCursor({ line: cursor.line + 1, character: 0 });
        return moveCursor({ line: cursor.line, character: cursor.character + 1 });
      };
    case "Home":
      return ctrl ? () => goToLine(0) : () => moveCursor({ line: cursor.line, character: 0 });
    case "End":
      return ctrl ? goToEnd : () => moveCursor({ line: cursor.line, character: Number.MAX_SAFE_INTEGER });
    case "PageDown":
      return async () => {
        await scrollBy(n - 1);
        await moveCursor({ line: cursor.line + n - 1, character: cursor.character }, true);
      };
    case "PageUp":
      return async () => {
        await scrollBy(-(n - 1));
        await moveCursor({ line: cursor.line - (n - 1), character: cursor.character }, true);
      };
  }
  return null;
}

/** Left/Right without Shift on a selection go to its start/end, as in VS Code. */
function collapseSelection(e: KeyboardEvent): boolean {
  const r = selection();
  if (!r || e.shiftKey || (e.key !== "ArrowLeft" && e.key !== "ArrowRight")) return false;
  const to = e.key === "ArrowLeft" ? r.start : r.end;
  schedule(() => motion(false, () => moveCursor(to)));
  return true;
}

/** Edits and commands by key; false when the key is not ours (typing goes through `input`). */
function keyCommand(e: KeyboardEvent): boolean {
  const ctrl = e.ctrlKey || e.metaKey;
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  if (ctrl && key === "g") shortcut("gotoLine");
  else if (ctrl && key === "f") shortcut("find");
  else if (ctrl && key === "a") schedule(selectAll);
  else if (ctrl) return false; // Ctrl+C/X/V come as copy/cut/paste events; the rest is VS Code's
  else if (["Backspace", "Delete", "Enter", "Tab"].includes(key)) return editKey(key);
  else if (key === "Escape" && anchor) schedule(() => motion(false, async () => undefined));
  else return false;
  return true;
}

/** Backspace, Delete, Enter and Tab: one edit each, over the selection if there is one. */
function editKey(key: string): true {
  stopFollowing();
  if (key === "Backspace") enqueue({ kind: "deleteBackward", at: cursor });
  else if (key === "Delete") enqueue({ kind: "deleteForward", at: cursor });
  else if (key === "Enter") enqueue({ kind: "newline", at: cursor });
  else if (key === "Tab") enqueue({ kind: "insert", at: cursor, text: "\t" });
  return true;
}

function onKey(e: KeyboardEvent): void {
  if (!info) return; // not initialized yet
  const move = keyMotion(e);
  let handled = true;
  if (collapseSelection(e)) stopFollowing();
  else if (move) {
    stopFollowing();
    schedule(() => motion(e.shiftKey, move));
  } else handled = keyCommand(e);
  if (handled) e.preventDefault();
}

function openGoto(): void {
  if (!gotoEl.hidden) {
    gotoInput.focus();
    return;
  }
  gotoEl.hidden = false;
  gotoInput.value = "";
  gotoInput.focus();
}

gotoInput.addEventListener("keydown", (e) => {
  if (e.key === "Enter") {
    const n = parseInt(gotoInput.value, 10);
    gotoEl.hidden = true;
    input.focus();
    if (Number.isFinite(n) && n > 0) schedule(() => motion(false, () => goToLine(n - 1)));
    e.preventDefault();
  } else if (e.key === "Escape") {
    gotoEl.hidden = true;
    input.focus();
    e.preventDefault();
  }
});

input.addEventListener("keydown", (e) => {
  if (e.isComposing) return;
  onKey(e);
});
// Keys that reach the page while the focus is not in the textarea (VS Code may focus the
// webview's body) still drive the editor; the textarea takes the focus back for typing.
document.addEventListener("keydown", (e) => {
  const t = e.target as Node;
  if (t === input || findEl.contains(t) || gotoEl.contains(t)) return;
  input.focus();
  onKey(e);
});
input.addEventListener("input", () => {
  if ((input as unknown as { isComposing?: boolean }).isComposing) return;
  const text = input.value;
  input.value = "";
  if (text) enqueue({ kind: "insert", at: cursor, text });
});
input.addEventListener("compositionend", () => {
  const text = input.value;
  input.value = "";
  if (text) enqueue({ kind: "insert", at: cursor, text });
});
input.addEventListener("paste", (e) => {
  const text = e.clipboardData?.getData("text/plain") ?? "";
  e.preventDefault();
  if (text) enqueue({ kind: "insert", at: cursor, text });
});
// Copy and cut never use the page's own clipboard data: the host fetches the text (see above).
input.addEventListener("copy", (e) => {
  e.preventDefault();
  schedule(async () => void (await copy()));
});
input.addEventListener("cut", (e) => {
  e.preventDefault();
  schedule(cut);
});

// ---------------------------------------------------------------------------------------------
// Mouse

/** The document position under the mouse, if it is over a numbered line. */
function positionAt(e: MouseEvent): Position | null {
  const row = (e.target as HTMLElement).closest?.(".row") as HTMLElement | null;
  if (!row || !row.dataset.line) return null;
  return { line: Number(row.dataset.line), character: columnAtX(row, e.clientX) };
}

let dragging = false;
let dragTarget: Position | null = null;

editorEl.addEventListener("mousedown", (e) => {
  if (e.button !== 0 || (e.target as HTMLElement).closest("#scroller")) return; // the scrollbar drags natively
  // Keep the focus in the textarea. Letting the browser focus #editor and refocusing later
  // loses the keys pressed in between (Ctrl+End right after a click went nowhere, 1 run in 8).
  e.preventDefault();
  input.focus();
  stopFollowing();
  const p = positionAt(e);
  if (!p) return;
  dragging = true;
  schedule(() => motion(e.shiftKey, () => moveCursor(p)));
  // A plain click starts a selection that a drag extends.
  if (!e.shiftKey) schedule(async () => void (anchor = { ...cursor }));
});

window.addEventListener("mousemove", (e) => {
  if (!dragging || !(e.buttons & 1)) return;
  const p = positionAt(e);
  if (!p) return;
  // Coalesce: only the latest position is applied once the queue gets to it.
  const scheduled = dragTarget !== null;
  dragTarget = p;
  if (!scheduled) {
    schedule(async () => {
      const to = dragTarget!;
      dragTarget = null;
      await motion(true, () => moveCursor(to));
    });
  }
});

window.addEventListener("mouseup", () => {
  if (!dragging) return;
  dragging = false;
  schedule(async () => {
    if (anchor && selection() === null) anchor = null;
    drawStatus();
  });
});

editorEl.addEventListener(
  "wheel",
  (e) => {
    e.preventDefault();
    stopFollowing();
    const dy = e.deltaMode === 1 ? e.deltaY : e.deltaY / lineHeight;
    const lines = Math.trunc(dy) || Math.sign(dy);
    if (lines) void scrollBy(lines).catch(fail);
    if (e.deltaX) {
      const d = Math.trunc(e.deltaX / charWidth) || Math.sign(e.deltaX);
      leftCol = Math.max(0, leftCol + d);
      cache.clear();
      void redraw().catch(fail);
    }
  },
  { passive: false },
);

scroller.addEventListener("scroll", () => {
  if (Math.abs(scroller.scrollTop - expectedScroll) <= 1) return;
  expectedScroll = -1;
  if (!info) return;
  stopFollowing();
  const max = scroller.scrollHeight - scroller.clientHeight;
  const t = scrollToTarget(scroller.scrollTop, max, scrollState());
  const p = t.kind === "line" ? showLine(t.line) : showAround({ fraction: t.fraction });
  void p.catch(fail);
});

window.addEventListener("resize", () => void redraw().catch(fail));

// ---------------------------------------------------------------------------------------------
// Messages from the host

onHostMessage((m) => {
  switch (m.type) {
    case "init": {
      echoesShortcuts = m.echoesShortcuts;
      setInfo(m.info);
      measure();
      const saved = loadState<SavedState>();
      if (saved && typeof saved.top === "number") cursor = saved.cursor;
      void showLine(saved?.top ?? 0).then(() => input.focus(), fail);
      break;
    }
    case "refresh":
      // After undo/redo/revert/reload: positions of the old text mean nothing any more.
      setInfo(m.info);
      cache.clear();
      anchor = null;
      if (typeof m.reveal === "number") void showAround({ around: m.reveal }, 3).catch(fail);
      else void redraw().catch(fail);
      break;
    case "diskChange": {
      // Follow mode, or a view showing the end of a growing file (tome.follow): keep the end.
      const last = frame[frame.length - 1];
      const atEnd = !!last && last.breakLength === 0;
      setInfo(m.info);
      cache.clear();
      if (following || (m.follow && atEnd)) schedule(following ? goToEnd : showEnd);
      else schedule(redraw);
      break;
    }
    case "follow":
      setFollowing(m.on === "toggle" ? !following : m.on);
      break;
    case "gotoLine":
    case "find":
      fromHost(m.type);
      break;
  }
});

// Index progress: poll `tome/info` while indexing, so the scrollbar switches to lines.
setInterval(() => {
  if (!info || info.indexComplete) return;
  request("info", {})
    .then((i) => {
      setInfo(i);
      drawStatus();
    })
    .catch(() => undefined);
}, 500);

postToHost({ type: "ready" });
