// The webview: renders only the visible lines of the document, fetched from the host (which
// relays to `tome serve`) as the user scrolls; cursor, typing, Backspace/Delete, Enter, paste,
// keyboard navigation, Ctrl+G. Bundled by esbuild into out/webview/editor.js.

import {
  LineCache,
  scrollHeight,
  scrollToTarget,
  targetToScroll,
  translateEdit,
  totalLines,
  type CursorEdit,
  type DocInfo,
  type Position,
  type ScrollState,
  type ViewLine,
  type ViewportResult,
} from "../viewport";

interface VsCodeApi {
  postMessage(m: unknown): void;
  getState(): unknown;
  setState(s: unknown): void;
}

/** What survives the webview being hidden and shown again (VS Code reloads it). */
interface SavedState {
  top: number;
  cursor: Position;
}
declare function acquireVsCodeApi(): VsCodeApi;

type HostMessage =
  | { type: "init"; info: DocInfo }
  | { type: "response"; reqId: number; result?: unknown; error?: { code: number; message: string; data?: unknown } }
  | { type: "refresh"; info: DocInfo; reveal?: number | null }
  | { type: "diskChange"; change: string; message: string; info: DocInfo; follow: boolean }
  | { type: "gotoLine" }
  | { type: "find" };

class RequestError extends Error {
  constructor(readonly code: number, message: string, readonly data?: unknown) {
    super(message);
  }
}

const vscode = acquireVsCodeApi();
const $ = (id: string): HTMLElement => document.getElementById(id)!;
const editorEl = $("editor");
const linesEl = $("lines");
const cursorEl = $("cursor");
const matchEl = $("match");
const scroller = $("scroller");
const spacer = $("spacer");
const input = $("input") as HTMLTextAreaElement;
const gotoEl = $("goto");
const gotoInput = $("goto-input") as HTMLInputElement;
const statusEl = $("status");

// ---------------------------------------------------------------------------------------------
// Requests to the host

let nextReq = 1;
const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

function request<T>(method: string, params: Record<string, unknown>): Promise<T> {
  return cancellable<T>(method, params).promise;
}

/** A request that can be cancelled (`$/cancelRequest` on the server; it then fails with -32800). */
function cancellable<T>(method: string, params: Record<string, unknown>): { promise: Promise<T>; cancel(): void } {
  const reqId = nextReq++;
  const promise = new Promise<T>((resolve, reject) => {
    pending.set(reqId, { resolve: resolve as (v: unknown) => void, reject });
    vscode.postMessage({ type: "request", reqId, method, params });
  });
  return { promise, cancel: () => vscode.postMessage({ type: "cancel", reqId }) };
}

// ---------------------------------------------------------------------------------------------
// State

let info: DocInfo | null = null;
const cache = new LineCache(4000);
/** The lines on screen, top first. */
let frame: ViewLine[] = [];
/** Top of the screen: a line number (line mode) or, past the index frontier, a byte offset. */
let top: { line: number } | { offset: number } = { line: 0 };
let cursor: Position = { line: 0, character: 0 };
let goalColumn = -1;
let leftCol = 0; // first column shown (UTF-16 units)
let lineHeight = 18;
let charWidth = 8;
let renderSeq = 0;
let lastError = "";

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
function windowParam(): Record<string, unknown> {
  return { start: leftCol, width: visibleCols() + 2, unit: "encoding" };
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

// ---------------------------------------------------------------------------------------------
// Fetching and drawing

function applyResult(r: ViewportResult): void {
  if (info) {
    info.lineCount = r.lineCount;
    if (r.lineCount.exact) info.indexComplete = true;
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
      r = await request<ViewportResult>("viewport", { ...want, window: windowParam() });
    } catch (e) {
      if (e instanceof RequestError && e.code === -33002) {
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
  const r = await request<ViewportResult>("viewport", { ...p, before, count: visibleLines(), window: windowParam() });
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
  for (const l of frame) {
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
    frag.appendChild(row);
  }
  linesEl.replaceChildren(frag);
  syncScrollbar();
  drawCursor();
  drawMatch();
  drawStatus();
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

function drawStatus(): void {
  if (!info) return;
  const idx = info.indexComplete ? "" : ` · indexing ${info.indexPercent}%`;
  const lines = info.lineCount.exact ? `${info.lineCount.known} lines` : `~${info.lineCount.estimate} lines`;
  const text = `Ln ${cursor.line + 1}, Col ${cursor.character + 1} · ${lines}${idx} · v${cache.version}${lastError ? " · " + lastError : ""}`;
  statusEl.textContent = text;
  const t = topLine();
  if (t !== null) vscode.setState({ top: t, cursor } satisfies SavedState);
  document.body.dataset.version = String(cache.version);
  document.body.dataset.cursor = `${cursor.line}:${cursor.character}`;
  vscode.postMessage({ type: "status", text });
}

function fail(e: unknown): void {
  lastError = e instanceof Error ? e.message : String(e);
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
      applyResult(await request<ViewportResult>("viewport", { first: Math.max(0, n - 1), count: 3, window: windowParam() }));
    } catch {
      return undefined;
    }
  }
  return cache.get(n);
}

async function moveCursor(p: Position, keepGoal = false): Promise<void> {
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
  cursor = { line: Math.max(0, n), character: 0 };
  goalColumn = -1;
  if (leftCol !== 0) {
    leftCol = 0;
    cache.clear();
  }
  await showLine(Math.max(0, cursor.line - Math.floor(visibleLines() / 3)));
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
  // The position is taken when the edit runs, from the cursor as moved by earlier actions.
  const op: CursorEdit = e.kind === "replace" ? e : { ...e, at: { ...cursor } };
  if ("at" in op) {
    await lineAt(op.at.line);
    if (op.kind === "deleteBackward" && op.at.character === 0) await lineAt(op.at.line - 1);
  }
  const t = translateEdit(op, cache.version, (n) => cache.get(n), info!.lineEnding);
  if (!t) return;
  try {
    await request<{ version: number }>("edit", t.params as unknown as Record<string, unknown>);
    lastError = "";
  } catch (err) {
    // Stale or out of bounds: drop the cache so that the next action reads afresh.
    cache.clear();
    throw err;
  }
  cache.clear();
  cursor = t.cursor;
  goalColumn = -1;
  info!.dirty = true;
  await redraw(); // refetches the screen at the new version
  await reveal();
}

// ---------------------------------------------------------------------------------------------
// Find and replace all

interface Match {
  offsets: { start: number; end: number };
  range: { start: Position; end: Position } | null;
}
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
  const c = cancellable<{ count: number }>("search", { query: query(), mode: "count" });
  counting = c;
  findCount.textContent = "…";
  try {
    const r = await c.promise;
    if (counting === c) findCount.textContent = r.count === 1 ? "1 match" : `${r.count} matches`;
  } catch (e) {
    if (counting === c && !(e instanceof RequestError && e.code === -32800)) findCount.textContent = (e as Error).message;
  }
}

async function findNext(backward: boolean): Promise<void> {
  if (!findInput.value) return;
  // Forward: from the end of the current match (else the cursor). Backward: before the match.
  const from = match
    ? { offset: backward ? match.offsets.start : match.offsets.end }
    : { position: { line: cursor.line, character: cursor.character } };
  let r: { found: Match | null };
  try {
    r = await request<{ found: Match | null }>("search", {
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
  const f = r.found;
  if (f.range) {
    match = { start: f.range.start, end: f.range.end, offsets: f.offsets };
    cursor = { ...f.range.start };
    goalColumn = -1;
    const n = visibleLines();
    const t = topLine();
    if (t === null || cursor.line < t || cursor.line >= t + n) await showLine(Math.max(0, cursor.line - Math.floor(n / 3)));
    await reveal();
  } else {
    // Past the index frontier: show it, by offset.
    match = null;
    await showAround({ around: f.offsets.start }, 3);
  }
}

async function replaceAll(): Promise<void> {
  if (!findInput.value) return;
  try {
    const r = await request<{ count: number; version: number }>("replaceAll", { query: query(), replacement: replaceInput.value });
    findCount.textContent = `replaced ${r.count}`;
  } catch (e) {
    findCount.textContent = (e as Error).message;
    return;
  }
  match = null;
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
  } else if (e.key === "Escape") {
    e.preventDefault();
    closeFind();
  }
});
replaceInput.addEventListener("keydown", (e) => {
  if (e.key === "Enter") {
    e.preventDefault();
    schedule(replaceAll);
  } else if (e.key === "Escape") {
    e.preventDefault();
    closeFind();
  }
});
$("find-next").addEventListener("click", () => schedule(() => findNext(false)));
$("find-prev").addEventListener("click", () => schedule(() => findNext(true)));
$("replace-all").addEventListener("click", () => schedule(replaceAll));
$("find-close").addEventListener("click", closeFind);

// ---------------------------------------------------------------------------------------------
// Input

function onKey(e: KeyboardEvent): void {
  const ctrl = e.ctrlKey || e.metaKey;
  const n = visibleLines();
  let handled = true;
  // Each action is a thunk, so it reads `cursor` when it runs, after the actions before it.
  const run = (p: () => Promise<void>): void => schedule(p);
  switch (e.key) {
    case "ArrowUp":
      run(() => moveCursor({ line: cursor.line - 1, character: cursor.character }, true));
      break;
    case "ArrowDown":
      run(() => moveCursor({ line: cursor.line + 1, character: cursor.character }, true));
      break;
    case "ArrowLeft":
      run(async () => {
        if (cursor.character > 0) await moveCursor({ line: cursor.line, character: cursor.character - 1 });
        else if (cursor.line > 0) await moveCursor({ line: cursor.line - 1, character: Number.MAX_SAFE_INTEGER });
      });
      break;
    case "ArrowRight":
      run(() => {
        const l = cache.get(cursor.line);
        if (l && cursor.character >= l.length && l.breakLength > 0) return moveCursor({ line: cursor.line + 1, character: 0 });
        return moveCursor({ line: cursor.line, character: cursor.character + 1 });
      });
      break;
    case "Home":
      if (ctrl) run(() => goToLine(0));
      else run(() => moveCursor({ line: cursor.line, character: 0 }));
      break;
    case "End":
      if (ctrl)
        run(
          async () => {
            await showEnd();
            const last = frame[frame.length - 1];
            if (last && last.number !== null) cursor = { line: last.number, character: last.length };
            draw();
          },
        );
      else run(() => moveCursor({ line: cursor.line, character: Number.MAX_SAFE_INTEGER }));
      break;
    case "PageDown":
      run(
        async () => {
          await scrollBy(n - 1);
          await moveCursor({ line: cursor.line + n - 1, character: cursor.character }, true);
        },
      );
      break;
    case "PageUp":
      run(
        async () => {
          await scrollBy(-(n - 1));
          await moveCursor({ line: cursor.line - (n - 1), character: cursor.character }, true);
        },
      );
      break;
    case "Backspace":
      enqueue({ kind: "deleteBackward", at: cursor });
      break;
    case "Delete":
      enqueue({ kind: "deleteForward", at: cursor });
      break;
    case "Enter":
      enqueue({ kind: "newline", at: cursor });
      break;
    case "Tab":
      enqueue({ kind: "insert", at: cursor, text: "\t" });
      break;
    default:
      if (ctrl && (e.key === "g" || e.key === "G")) openGoto();
      else if (ctrl && (e.key === "f" || e.key === "F")) openFind();
      else handled = false;
  }
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
    if (Number.isFinite(n) && n > 0) schedule(() => goToLine(n - 1));
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
input.addEventListener("copy", (e) => {
  // No selection yet: copy the current line, as VS Code does with an empty selection.
  const l = cache.get(cursor.line);
  if (l && e.clipboardData) {
    e.clipboardData.setData("text/plain", l.text + "\n");
    e.preventDefault();
  }
});

editorEl.addEventListener("mousedown", (e) => {
  const row = (e.target as HTMLElement).closest(".row") as HTMLElement | null;
  if (row && row.dataset.line) {
    const tx = row.querySelector(".tx") as HTMLElement;
    const col = Math.max(0, Math.round((e.clientX - tx.getBoundingClientRect().left) / charWidth)) + leftCol;
    schedule(() => moveCursor({ line: Number(row.dataset.line), character: col }));
  }
  setTimeout(() => input.focus(), 0);
});

editorEl.addEventListener(
  "wheel",
  (e) => {
    e.preventDefault();
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
  const max = scroller.scrollHeight - scroller.clientHeight;
  const t = scrollToTarget(scroller.scrollTop, max, scrollState());
  const p = t.kind === "line" ? showLine(t.line) : showAround({ fraction: t.fraction });
  void p.catch(fail);
});

window.addEventListener("resize", () => void redraw().catch(fail));

window.addEventListener("message", (ev: MessageEvent) => {
  const m = ev.data as HostMessage;
  switch (m.type) {
    case "init": {
      info = m.info;
      measure();
      const saved = vscode.getState() as SavedState | undefined;
      if (saved && typeof saved.top === "number") cursor = saved.cursor;
      void showLine(saved?.top ?? 0).then(() => input.focus(), fail);
      break;
    }
    case "response": {
      const p = pending.get(m.reqId);
      if (!p) return;
      pending.delete(m.reqId);
      if (m.error) p.reject(new RequestError(m.error.code, m.error.message, m.error.data));
      else p.resolve(m.result);
      break;
    }
    case "refresh":
      info = m.info;
      cache.clear();
      if (typeof m.reveal === "number") void showAround({ around: m.reveal }, 3).catch(fail);
      else void redraw().catch(fail);
      break;
    case "diskChange": {
      // Follow mode: a view showing the end of a growing file keeps showing the end.
      const last = frame[frame.length - 1];
      const atEnd = !!last && last.breakLength === 0;
      info = m.info;
      cache.clear();
      if (m.follow && atEnd) void showEnd().catch(fail);
      else void redraw().catch(fail);
      break;
    }
    case "gotoLine":
      openGoto();
      break;
    case "find":
      openFind();
      break;
  }
});

// Index progress: poll `tome/info` while indexing, so the scrollbar switches to lines.
setInterval(() => {
  if (!info || info.indexComplete) return;
  request<DocInfo>("info", {})
    .then((i) => {
      const wasComplete = info!.indexComplete;
      info = i;
      if (!wasComplete && i.indexComplete) syncScrollbar();
      drawStatus();
    })
    .catch(() => undefined);
}, 500);

vscode.postMessage({ type: "ready" });
