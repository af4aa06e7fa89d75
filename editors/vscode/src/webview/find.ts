// The find widget, as VS Code's: Match Case / Whole Word / Regex toggles (Alt+C/W/R), all
// matches on screen highlighted and the current one distinct, Enter/Shift+Enter and
// F3/Shift+F3, "N of M" counted by the server chunk by chunk (find/counter.ts; "?" until
// known, with the share counted), history (Up/Down in the input), Replace and Replace All
// (`tome/replaceAll`, one undo step), Find in Selection (Alt+L). The counted matches fill the
// overview ruler's density (ruler.ts). The current match is `state.match` (render.ts draws it)
// and is selected, as VS Code selects it. Typing in the box or flipping a toggle moves to the
// nearest match at or after where the cursor was when the widget opened (or where the user put
// it since), as VS Code's incremental find. Ctrl+F seeds the box from the selection (on one
// line) or the word at the cursor; Ctrl+H also shows the replace row. Whole Word follows
// `editor.wordSeparators`, checked by the server (find/query.ts).

import { ErrorCodes, type FindToggles, type Match, type Offsets, type Position, type SearchResult, type ViewLine } from "../protocol";
import {
  findCase,
  findCount,
  findEl,
  findInput,
  findNext as findNextButton,
  findPrev,
  findRegex,
  findSelection,
  findWord,
  findClose,
  findToggleReplace,
  input,
  replaceAllButton,
  replaceInput,
  replaceOneButton,
  replaceRow,
} from "./dom";
import { rowText, setHighlight } from "./colours";
import { countLabel, MatchCounter, PAGE } from "./find/counter";
import { FindHistory } from "./find/history";
import { escapeRegex, serverQuery, type FindOptions } from "./find/query";
import { RequestError, cancellable, postToHost, request } from "./host";
import { redraw, reveal, showAround, showLine, stopFollowing } from "./navigation";
import { schedule } from "./queue";
import { afterDraw, drawMatch, fail } from "./render";
import { drawRuler, matchDensity } from "./ruler";
import { cache, pipeline, selection, state, topLine, visibleLines } from "./state";

const history = new FindHistory();
/** Bytes per counting request: a few per second on a big file, so the count visibly grows. */
const CHUNK = 16 << 20;

/** The count running or done for the current options and version, if any. */
let counting: { counter: MatchCounter; version: number; key: string; cancel(): void } | null = null;
let countTimer: ReturnType<typeof setTimeout> | undefined;
/** The current match's number (1-based) once known. */
let current: { offsets: Offsets; n: number | null } | null = null;
/** The next/previous searches, one after the other (not in the key queue). */
let searching: Promise<void> = Promise.resolve();
/** Find in Selection: the byte range searched (taken when the toggle is turned on). */
let scope: Offsets | null = null;
/** Matches on screen: what they were read for, and their offsets. */
let onScreen: { key: string; matches: Match[] } | null = null;
let screenReq: { key: string; cancel(): void } | null = null;

function options(): FindOptions {
  return { pattern: findInput.value, regex: findRegex.checked, caseSensitive: findCase.checked, wholeWord: findWord.checked };
}
/** The query searched, counted and replaced by the server (Whole Word by `editor.wordSeparators`). */
function query() {
  return serverQuery(options(), state.settings.wordSeparators);
}
function optionsKey(): string {
  return JSON.stringify([options(), state.settings.wordSeparators, scope]);
}

/** Where incremental find searches from: the cursor when the widget opened, or as the user moved it since. */
let findStart: Position = { line: 0, character: 0 };
/** The cursor as find last put it (a move of find's own is not the user's). */
let cursorByFind = "";
const posKey = (p: Position): string => `${p.line}:${p.character}`;

function showReplace(on: boolean): void {
  replaceRow.hidden = !on;
  findToggleReplace.setAttribute("aria-expanded", String(on));
}

/**
 * The text Ctrl+F/Ctrl+H put in the box (VS Code's getSelectionSearchString): the selection when
 * it is on one line; with nothing selected, the word at the cursor (Ctrl+F only); else null.
 */
function seedText(withWord: boolean): string | null {
  const r = selection();
  if (r && r.start.line !== r.end.line) return null;
  const l = cache.get(state.cursor.line);
  if (!l) return null;
  if (r) {
    const a = r.start.character - l.startColumn;
    const b = r.end.character - l.startColumn;
    return a >= 0 && b <= l.text.length && b > a ? l.text.slice(a, b) : null;
  }
  if (!withWord) return null;
  const w = state.words.wordAt(l.text, state.cursor.character - l.startColumn);
  return w ? l.text.slice(w.start, w.end) : null;
}

/**
 * Ctrl+F (`replace` false) and Ctrl+H (true), as VS Code's StartFindAction and
 * StartFindReplaceAction: seeded from the selection or the word at the cursor
 * (`editor.find.seedSearchStringFromSelection` "always", VS Code's default; Ctrl+H only from a
 * selection and not while the box has the focus); Ctrl+H shows the replace row and focuses it
 * when the box was seeded or had the focus; Ctrl+F on a closed widget hides the replace row.
 * In VS Code a shortcut reaches the page twice (the page's own key handler, then the
 * extension's keybinding as a message): input.ts drops the echo.
 */
export function openFind(replace = false): void {
  const wasOpen = !findEl.hidden;
  const boxFocused = wasOpen && document.activeElement === findInput;
  const seed = replace && boxFocused ? null : seedText(!replace);
  if (seed !== null) findInput.value = findRegex.checked ? escapeRegex(seed) : seed;
  if (replace) showReplace(true);
  else if (!wasOpen) showReplace(false);
  findEl.hidden = false;
  if (!wasOpen) {
    findStart = { ...state.cursor };
    cursorByFind = "";
  }
  if (replace && (seed !== null || boxFocused)) {
    replaceInput.focus();
    replaceInput.select();
  } else {
    findInput.focus();
    findInput.select();
  }
  if (findInput.value && (!wasOpen || seed !== null)) {
    state.match = null;
    restart();
    refreshScreenMatches();
  }
}

/** After each draw: a cursor the user moved (not find) is where incremental find starts. */
function trackStart(): void {
  if (findEl.hidden) return;
  const k = posKey(state.cursor);
  if (k !== cursorByFind) {
    findStart = { ...state.cursor };
    cursorByFind = k;
  }
}

function closeFind(): void {
  findEl.hidden = true;
  state.match = null;
  counting?.cancel();
  counting = null;
  matchDensity.clear();
  paintMatches();
  drawMatch();
  drawRuler();
  input.focus();
}

/** The options or the document changed: count again, after a pause in typing. */
function restart(): void {
  clearTimeout(countTimer);
  countTimer = setTimeout(() => void count(), 150);
}

function showCount(): void {
  const c = counting?.counter ?? null;
  findCount.textContent = findInput.value ? countLabel(current?.n ?? null, c) : "";
  findEl.dataset.total = c?.done ? String(c.total) : "";
}

async function count(): Promise<void> {
  counting?.cancel();
  counting = null;
  current = state.match ? { offsets: state.match.offsets, n: null } : null;
  matchDensity.clear();
  onScreen = null;
  paintMatches();
  drawRuler();
  if (!findInput.value || !state.info) {
    showCount();
    return;
  }
  const size = state.info.size;
  const counter = new MatchCounter(scope ?? { start: 0, end: size }, CHUNK);
  let stopped = false;
  let running: { cancel(): void } | null = null;
  const mine = {
    counter,
    version: pipeline.version,
    key: optionsKey(),
    cancel() {
      stopped = true;
      running?.cancel();
    },
  };
  counting = mine;
  showCount();
  try {
    for (let req = counter.request(); req && !stopped; req = counter.request()) {
      const c = cancellable("search", { query: query(), mode: "all", offsets: req.offsets, limit: PAGE });
      running = c;
      const r = await c.promise;
      if (stopped) return;
      for (const m of counter.record(
        req,
        r.matches!.map((x) => x.offsets),
        r.resumeAt ?? null,
      ))
        matchDensity.add(size ? m.start / size : 0);
      showCount();
      drawRuler();
      void numberCurrent();
    }
    if (counter.capped && !stopped) {
      // Too many to page through: the server counts the rest at once (the ruler keeps what
      // was paged).
      const c = cancellable("search", { query: query(), mode: "count" });
      running = c;
      counter.finish((await c.promise).count ?? counter.total);
    }
    showCount();
    void numberCurrent();
  } catch (e) {
    if (counting === mine && !(e instanceof RequestError && e.code === ErrorCodes.RequestCancelled)) findCount.textContent = (e as Error).message;
  }
}

/** "N" of the current match, once the count has passed it: matches before it + 1. */
async function numberCurrent(): Promise<void> {
  const cur = current;
  const c = counting;
  if (!cur || cur.n !== null || !c || c.counter.capped) return;
  const at = c.counter.locate(cur.offsets.start);
  if (!at) return;
  let before = at.before;
  let from = at.start;
  for (let page = 0; page < 20 && from < cur.offsets.start; page++) {
    const r = await request("search", { query: query(), mode: "all", offsets: { start: from, end: cur.offsets.start }, limit: PAGE });
    before += r.matches!.length;
    if (r.resumeAt === null || r.resumeAt === undefined) break;
    from = r.resumeAt;
  }
  if (current === cur && counting === c) {
    cur.n = before + 1;
    showCount();
  }
}

/** A search of the incremental find in flight (the next key cancels it). */
let incrementalReq: { cancel(): void } | null = null;

/**
 * VS Code's research with moveCursor: the box or a toggle changed, so move to the first match at
 * or after `findStart` (wrapping), as the user types. In the key queue: keys pressed after it
 * (Escape, then typing over the match) act on the match it selects, as in VS Code where it is
 * immediate. The next change cancels it (the queue then moves on at once).
 */
function incremental(): void {
  incrementalReq?.cancel();
  incrementalReq = null;
  if (!findInput.value || scope) return;
  const key = optionsKey();
  const c = cancellable("search", { query: query(), mode: "next", from: { position: findStart }, direction: "forward", wrap: true });
  const mine = { cancel: () => c.cancel() };
  incrementalReq = mine;
  schedule(async () => {
    try {
      const f: Match | null = (await c.promise).found ?? null;
      if (incrementalReq !== mine || key !== optionsKey() || !f) return;
      await showFound(f);
    } catch (e) {
      if (!(e instanceof RequestError && e.code === ErrorCodes.RequestCancelled)) fail(e);
    }
  });
}

/**
 * Next/previous match. The search runs outside the key queue, so that keys typed while it
 * runs (a search of a big file takes a while) are not held behind it; only moving to the
 * match is queued.
 */
function findNext(backward: boolean): void {
  if (!findInput.value) return;
  // Enter/F3 search on their own: a move of the incremental find still searching is dropped, so
  // that keys typed next are not held behind it (a long search).
  incrementalReq?.cancel();
  incrementalReq = null;
  history.add(findInput.value);
  if (!counting || counting.key !== optionsKey() || counting.version !== pipeline.version) {
    clearTimeout(countTimer);
    void count();
  }
  // The move holds the key queue for up to HOLD_MS: a quick search (most) is shown before the
  // keys typed after Enter (Escape, then typing over the match, as in VS Code); a longer one lets
  // them go on and is shown when it answers. The next search starts once this one is shown.
  let shown!: () => void;
  const done = new Promise<void>((r) => (shown = r));
  const found = searching.then(() => startSearch(backward));
  searching = done;
  const show = (f: Match | null | undefined): Promise<void> => (f === undefined ? Promise.resolve() : showFound(f)).catch(fail).finally(shown);
  schedule(async () => {
    const late = Symbol();
    const r = await Promise.race([found, new Promise<typeof late>((t) => setTimeout(() => t(late), HOLD_MS))]);
    if (r !== late) return show(r);
    void found.then((f) => schedule(() => show(f)));
  });
}

/** How long Enter/F3 hold the keys typed after them for their move (see findNext). */
const HOLD_MS = 200;

async function startSearch(backward: boolean): Promise<Match | null | undefined> {
  try {
    if (scope) return await searchInScope(backward);
    // Forward: from the end of the current match (else the cursor). Backward: before the match.
    const from = state.match
      ? { offset: backward ? state.match.offsets.start : state.match.offsets.end }
      : { position: { line: state.cursor.line, character: state.cursor.character } };
    const r: SearchResult = await request("search", { query: query(), mode: "next", from, direction: backward ? "backward" : "forward", wrap: true });
    return r.found ?? null;
  } catch (e) {
    findCount.textContent = (e as Error).message;
    return undefined;
  }
}

/** Next/previous within the selection's bytes (mode "all" over part of the scope; wraps). */
async function searchInScope(backward: boolean): Promise<Match | null> {
  const s = scope!;
  const at = state.match ? (backward ? state.match.offsets.start : state.match.offsets.end) : s.start;
  const first = async (start: number, end: number) => (await request("search", { query: query(), mode: "all", offsets: { start, end }, limit: 1 })).matches![0] ?? null;
  const last = async (start: number, end: number): Promise<Match | null> => {
    let found: Match | null = null;
    for (let from = start; ;) {
      const r = await request("search", { query: query(), mode: "all", offsets: { start: from, end }, limit: PAGE });
      found = r.matches![r.matches!.length - 1] ?? found;
      if (r.resumeAt === null || r.resumeAt === undefined) return found;
      from = r.resumeAt;
    }
  };
  if (!backward) return (await first(Math.max(s.start, at), s.end)) ?? (await first(s.start, s.end));
  return (at > s.start ? await last(s.start, at) : null) ?? (await last(s.start, s.end));
}

async function showFound(f: Match | null): Promise<void> {
  if (!f) {
    state.match = null;
    current = null;
    drawMatch();
    // Known without the count (which may have been stopped by closing the widget).
    findCount.textContent = "No results";
    return;
  }
  current = { offsets: f.offsets, n: null };
  showCount();
  void numberCurrent();
  await showMatch(f);
}

async function showMatch(f: Match): Promise<void> {
  stopFollowing();
  state.anchor = null;
  if (!f.range) {
    // Past the index frontier: show it, by offset.
    state.match = null;
    await showAround({ around: f.offsets.start }, 3);
    return;
  }
  state.match = { start: f.range.start, end: f.range.end, offsets: f.offsets };
  // Selected, as VS Code selects the match (typing replaces it, Escape leaves it selected).
  state.anchor = { ...f.range.start };
  state.cursor = { ...f.range.end };
  cursorByFind = posKey(state.cursor);
  state.goalColumn = -1;
  const n = visibleLines();
  const t = topLine();
  if (t === null || f.range.start.line < t || state.cursor.line >= t + n) await showLine(Math.max(0, f.range.start.line - Math.floor(n / 3)));
  await reveal();
}

/** Replace All (in the selection with Find in Selection): one change, one undo step. */
async function replaceAll(offsets: Offsets | null = scope): Promise<number | null> {
  if (!findInput.value) return null;
  clearTimeout(countTimer);
  counting?.cancel();
  counting = null;
  // A change of the whole document: after the edits in flight, and what follows waits for it
  // (the version it leads to is known only from its reply).
  await pipeline.settled();
  let replaced: number;
  try {
    const r = await request("replaceAll", { query: query(), replacement: replaceInput.value, ...(offsets ? { offsets } : {}) });
    replaced = r.count;
    pipeline.reset(r.version);
  } catch (e) {
    findCount.textContent = (e as Error).message;
    pipeline.broken = true; // a cancelled replace may still have been applied
    return null;
  }
  state.match = null;
  state.anchor = null;
  current = null;
  cache.clear();
  await redraw();
  findEl.dataset.replaced = String(replaced);
  return replaced;
}

/** Replace: the current match (the next one first if none is shown), then on to the next. */
async function replaceOne(): Promise<void> {
  const m = state.match;
  if (!m) {
    findNext(false);
    return;
  }
  const after = m.offsets.start;
  // Only the match that starts at the current match's start.
  const n = await replaceAll({ start: after, end: after + 1 });
  if (n === null) return;
  state.cursor = { ...m.start };
  restart();
  findNext(false);
}

/** The selection's bytes, for Find in Selection (whole lines past what is cached). */
async function selectionOffsets(): Promise<Offsets | null> {
  const r = selection();
  if (!r) return null;
  const at = async (line: number, character: number): Promise<number> => {
    const v = await request("viewport", { first: line, count: 1, window: { start: 0, width: character + 1, unit: "encoding" } });
    const l: ViewLine | undefined = v.lines[0];
    if (!l) return state.info?.size ?? 0;
    return l.offset + new TextEncoder().encode(l.text.slice(0, Math.min(character, l.length))).length;
  };
  return { start: await at(r.start.line, r.start.character), end: await at(r.end.line, r.end.character) };
}

async function toggleSelectionScope(): Promise<void> {
  scope = findSelection.checked ? await selectionOffsets() : null;
  if (findSelection.checked && !scope) findSelection.checked = false;
  state.match = null;
  restart();
}

// ---------------------------------------------------------------------------------------------
// Matches on screen: read for the lines shown (mode "all" over their bytes), painted with the
// CSS Custom Highlight API (`::highlight(tome-find)`), read again when the screen, the version
// or the options change.

function screenKey(): string {
  const f = state.frame;
  if (!f.length) return "";
  const last = f[f.length - 1];
  return JSON.stringify([optionsKey(), state.settings.wordSeparators, pipeline.version, f[0].offset, last.offset + last.byteLength + last.breakLength]);
}

function paintMatches(): void {
  if (typeof CSS === "undefined" || !("highlights" in CSS)) return;
  const ranges: Range[] = [];
  if (!findEl.hidden && findInput.value && onScreen && onScreen.key === screenKey()) {
    state.frame.forEach((l, idx) => {
      const t = rowText(idx);
      if (!t) return;
      const lineEnd = l.offset + l.byteLength;
      for (const m of onScreen!.matches) {
        if (m.offsets.end < l.offset || m.offsets.start > lineEnd || (m.offsets.start === m.offsets.end && m.offsets.start === lineEnd && l.breakLength)) continue;
        const col = (offset: number, pos: { line: number; character: number } | undefined): number => {
          if (offset <= l.offset) return 0;
          if (offset >= lineEnd) return l.length;
          if (pos && pos.line === l.number) return pos.character;
          return offset - l.offset; // past the index frontier: columns as bytes (ASCII)
        };
        const s = col(m.offsets.start, m.range?.start);
        const e = col(m.offsets.end, m.range?.end);
        const len = t.node.length;
        const a = Math.min(len, Math.max(0, t.pad + s - l.startColumn));
        const b = Math.min(len, Math.max(0, t.pad + e - l.startColumn));
        if (b <= a) continue;
        const r = document.createRange();
        r.setStart(t.node, a);
        r.setEnd(t.node, b);
        ranges.push(r);
      }
    });
  }
  setHighlight("tome-find", ranges);
  document.body.dataset.findHighlights = String(ranges.length);
}

function refreshScreenMatches(): void {
  const key = screenKey();
  if (findEl.hidden || !findInput.value || !key) {
    paintMatches();
    return;
  }
  if (onScreen?.key === key || screenReq?.key === key) {
    paintMatches();
    return;
  }
  screenReq?.cancel();
  const f = state.frame;
  const last = f[f.length - 1];
  const offsets = { start: f[0].offset, end: last.offset + last.byteLength + last.breakLength };
  const c = cancellable("search", { query: query(), mode: "all", offsets, limit: 1000 });
  const mine = { key, cancel: () => c.cancel() };
  screenReq = mine;
  paintMatches(); // the old ones go while the new ones are read
  c.promise.then(
    (r) => {
      if (screenReq !== mine) return;
      screenReq = null;
      onScreen = { key, matches: r.matches ?? [] };
      paintMatches();
    },
    () => {
      if (screenReq === mine) screenReq = null;
    },
  );
}

afterDraw.push(refreshScreenMatches, trackStart);

function toggle(box: HTMLInputElement): void {
  box.checked = !box.checked;
  box.dispatchEvent(new Event("change"));
}

/** Sets the toggles as they were left in the workspace's last Tome editor (VS Code's behaviour). */
export function setFindToggles(t: FindToggles | undefined): void {
  if (!t) return;
  findCase.checked = !!t.matchCase;
  findWord.checked = !!t.wholeWord;
  findRegex.checked = !!t.isRegex;
}

/** Wires the find widget's fields, buttons and keys. */
export function installFind(): void {
  findInput.addEventListener("input", () => {
    state.match = null;
    current = null;
    restart();
    refreshScreenMatches();
    incremental();
  });
  for (const box of [findCase, findRegex, findWord])
    box.addEventListener("change", () => {
      postToHost({ type: "findToggles", toggles: { matchCase: findCase.checked, wholeWord: findWord.checked, isRegex: findRegex.checked } });
      state.match = null;
      current = null;
      restart();
      refreshScreenMatches();
      incremental();
    });
  findToggleReplace.addEventListener("click", () => showReplace(replaceRow.hidden));
  findSelection.addEventListener("change", () => void toggleSelectionScope().catch(fail));
  findInput.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.ctrlKey && !e.altKey) {
      e.preventDefault();
      findNext(e.shiftKey);
    } else if (e.key === "ArrowUp" || e.key === "ArrowDown") {
      e.preventDefault();
      const v = e.key === "ArrowUp" ? history.previous(findInput.value) : history.next();
      if (v !== null) {
        findInput.value = v;
        findInput.dispatchEvent(new Event("input"));
      }
    }
  });
  replaceInput.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      if (e.ctrlKey && e.altKey) schedule(() => replaceAll().then(() => restart()));
      else schedule(replaceOne);
    }
  });
  // Escape closes the widget from any of its fields and buttons.
  findEl.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.preventDefault();
      closeFind();
    }
  });
  // F3/Shift+F3 and the Alt toggles work from the editor too while the widget is open.
  document.addEventListener(
    "keydown",
    (e) => {
      if (findEl.hidden) return;
      const k = e.key.toLowerCase();
      if (e.key === "F3" && !e.ctrlKey && !e.altKey) findNext(e.shiftKey);
      else if (e.altKey && !e.ctrlKey && !e.metaKey && (e.code === "KeyC" || k === "c")) toggle(findCase);
      else if (e.altKey && !e.ctrlKey && !e.metaKey && (e.code === "KeyW" || k === "w")) toggle(findWord);
      else if (e.altKey && !e.ctrlKey && !e.metaKey && (e.code === "KeyR" || k === "r")) toggle(findRegex);
      else if (e.altKey && !e.ctrlKey && !e.metaKey && (e.code === "KeyL" || k === "l")) toggle(findSelection);
      else if (e.ctrlKey && e.altKey && e.key === "Enter") schedule(() => replaceAll().then(() => restart()));
      else return;
      e.preventDefault();
      e.stopPropagation();
    },
    true,
  );
  findNextButton.addEventListener("click", () => findNext(false));
  findPrev.addEventListener("click", () => findNext(true));
  replaceOneButton.addEventListener("click", () => schedule(replaceOne));
  replaceAllButton.addEventListener("click", () => schedule(() => replaceAll().then(() => restart())));
  findClose.addEventListener("click", closeFind);
}
