// Multiple cursors in the webview: the secondary cursors (`state.extra`; the primary is
// `state.cursor`/`state.anchor`), added with Alt+Click, Shift+Alt+Up/Down (Linux; Ctrl+Alt+Up/Down
// elsewhere), Ctrl+D (the next occurrence, found by the server's `tome/search`) and Ctrl+Shift+L
// (all occurrences, up to SELECT_ALL_LIMIT); edits typed then go to every cursor as one batch
// (multiCursor.ts), echoed locally like any edit (editing.ts). Escape, a click or a motion key
// go back to one cursor.

import { multiEdit, normalizeSels, type LineInfo, type MultiKind, type Sel } from "../multiCursor";
import type { Position, Query, Range } from "../protocol";
import { selectionRange } from "../selection";
import { columnAt, visibleColumn } from "../words";
import { extraEl, linesEl } from "./dom";
import { applyBatch } from "./editing";
import { request } from "./host";
import { lineAt, reveal, stopFollowing } from "./navigation";
import { schedule } from "./queue";
import { draw, fail, look, note, rowIndexAt } from "./render";
import { cache, selection, state } from "./state";
import { aimGoal } from "./multiMotion";
import { rowsOf } from "./wrapping";

/** Ctrl+Shift+L selects at most this many occurrences (a huge file may hold millions). */
export const SELECT_ALL_LIMIT = 10000;

export function hasExtra(): boolean {
  return state.extra.length > 0;
}

export function clearExtra(): void {
  state.extra = [];
}

function all(): Sel[] {
  return [{ anchor: state.anchor, cursor: state.cursor }, ...state.extra];
}

function lineInfo(n: number): LineInfo | undefined {
  const l = cache.get(n);
  if (!l) return undefined;
  const whole = l.startColumn === 0 && !l.cutAfter && l.lengthKnown !== false;
  return { length: l.length, hasBreak: l.breakLength > 0, text: whole ? l.text : undefined };
}

/**
 * A key that edits: at every cursor as one batch when there are several when it runs, else
 * `single`. Decided when the key's turn comes in the queue (a Ctrl+D before it may still be
 * searching when the key is pressed).
 */
export function editAtCursors(k: MultiKind, single: () => Promise<void>): void {
  stopFollowing();
  schedule(() => (hasExtra() ? runMulti(k) : single()));
}

/** Queued before a command that acts on the primary cursor only: the others go. */
export function oneCursor(): void {
  schedule(async () => {
    if (hasExtra()) {
      clearExtra();
      draw();
    }
  });
}

async function runMulti(k: MultiKind): Promise<void> {
  {
    const sels = all();
    for (const s of sels) {
      await lineAt(s.cursor.line);
      if (s.cursor.line > 0) await lineAt(s.cursor.line - 1);
      if (k.kind === "deleteWordRight") await lineAt(s.cursor.line + 1);
    }
    const { edits, cursors } = multiEdit(sels, k, lineInfo);
    if (!edits.length) return;
    const [primary, ...rest] = cursors;
    // Typing at several cursors joins the step before (as typing does); a cursor added since
    // (state.newUndoStep) starts a new one.
    await applyBatch({ edits, cursor: primary, anchor: null }, k.kind === "deleteWordLeft" || k.kind === "deleteWordRight", k.kind === "insert");
    state.extra = rest.map((c) => ({ anchor: null, cursor: c }));
    draw();
  }
}

/**
 * Shift+Alt+Down/Up: a cursor on the line below the lowest (above the highest) cursor; by
 * document lines also with word wrap, as VS Code's insertCursorBelow (its `logicalLine`).
 */
export function addCursorVertical(dir: 1 | -1): void {
  stopFollowing();
  schedule(async () => {
    const sels = all();
    const edge = sels.reduce((a, b) => (dir > 0 ? (b.cursor.line > a.cursor.line ? b : a) : b.cursor.line < a.cursor.line ? b : a));
    const line = edge.cursor.line + dir;
    if (line < 0) return;
    const l = await lineAt(line);
    if (!l) return;
    // The same visible column (tabs count to the next tab stop), as VS Code.
    const from = await lineAt(edge.cursor.line);
    const v = from ? visibleColumn(from.text, edge.cursor.character - from.startColumn, state.settings.tabSize) : edge.cursor.character;
    const col = l.startColumn === 0 ? columnAt(l.text, v, state.settings.tabSize) : Math.min(edge.cursor.character, l.length);
    const at = { line, character: col };
    state.extra = normalizeSels({ anchor: state.anchor, cursor: state.cursor }, [...state.extra, { anchor: null, cursor: at }]);
    // Up/Down then aim at the column aimed at here (VS Code's leftoverVisibleColumns); with word
    // wrap, counted within the row: the same when the cursor is on its line's first row.
    if (state.wrapColumn === 0 || rowsOf(line)?.rowOf(col) === 0) aimGoal(sels, at, v);
    state.newUndoStep = true;
    draw();
  });
}

/** Alt+Click: a cursor more. */
export function addCursorAt(p: Position): void {
  stopFollowing();
  schedule(async () => {
    const l = await lineAt(p.line);
    const at = { line: p.line, character: Math.min(p.character, l ? l.length : p.character) };
    state.extra = normalizeSels({ anchor: state.anchor, cursor: state.cursor }, [...state.extra, { anchor: null, cursor: at }]);
    draw();
  });
}

/** What Ctrl+D and Ctrl+Shift+L look for: the primary selection's text, or the word at the cursor. */
let wholeWordSearch = false;

async function selectedText(r: Range): Promise<string | null> {
  if (r.start.line !== r.end.line) return null;
  const l = await lineAt(r.start.line);
  if (!l || r.start.character < l.startColumn || r.end.character > l.startColumn + l.text.length) return null;
  return l.text.slice(r.start.character - l.startColumn, r.end.character - l.startColumn);
}

/** With nothing selected, selects the word at the cursor (true); else false. */
async function selectWord(): Promise<boolean> {
  if (selection()) return false;
  const l = await lineAt(state.cursor.line);
  if (!l) return true;
  const w = state.words.wordAt(l.text, state.cursor.character - l.startColumn);
  if (!w) return true;
  state.anchor = { line: state.cursor.line, character: w.start + l.startColumn };
  state.cursor = { line: state.cursor.line, character: w.end + l.startColumn };
  wholeWordSearch = true;
  return true;
}

function queryFor(text: string): Query {
  // From a word selected by Ctrl+D itself: whole word (by `editor.wordSeparators`) and case, as
  // VS Code does; else neither.
  return wholeWordSearch ? { pattern: text, caseSensitive: true, wordSeparators: state.settings.wordSeparators } : { pattern: text, regex: false, caseSensitive: false };
}

/** Ctrl+D: the word at the cursor, then the next occurrence of the selection as one more. */
export function addNextOccurrence(): void {
  stopFollowing();
  schedule(async () => {
    if (!hasExtra() && (await selectWord())) return draw();
    const r = selection();
    if (!r) return;
    const text = await selectedText(r);
    if (!text) return note("Ctrl+D: select text within one line");
    const sels = all();
    const lastEnd = sels
      .map((s) => selectionRange(s.anchor, s.cursor)?.end ?? s.cursor)
      .reduce((a, b) => (b.line > a.line || (b.line === a.line && b.character > a.character) ? b : a));
    const res = await request("search", { query: queryFor(text), mode: "next", from: { position: lastEnd }, direction: "forward", wrap: true }).catch((e: unknown) => {
      fail(e);
      return null;
    });
    const m = res?.found?.range;
    if (!m) return;
    if (sels.some((s) => s.cursor.line === m.end.line && s.cursor.character === m.end.character)) return note("no more occurrences");
    state.extra = normalizeSels({ anchor: state.anchor, cursor: state.cursor }, [...state.extra, { anchor: m.start, cursor: m.end }]);
    await lineAt(m.start.line);
    draw();
  });
}

/** Ctrl+Shift+L: every occurrence of the selection (up to SELECT_ALL_LIMIT) selected. */
export function selectAllOccurrences(): void {
  stopFollowing();
  schedule(async () => {
    if (!selection()) await selectWord();
    const r = selection();
    if (!r) return;
    const text = await selectedText(r);
    if (!text) return note("Ctrl+Shift+L: select text within one line");
    const res = await request("search", { query: queryFor(text), mode: "all", limit: SELECT_ALL_LIMIT }).catch((e: unknown) => {
      fail(e);
      return null;
    });
    const ranges = (res?.matches ?? []).map((m) => m.range).filter((x): x is Range => x !== null);
    if (!ranges.length) return;
    const [first, ...rest] = ranges;
    state.anchor = first.start;
    state.cursor = first.end;
    state.extra = normalizeSels(
      { anchor: state.anchor, cursor: state.cursor },
      rest.map((m) => ({ anchor: m.start, cursor: m.end })),
    );
    if (res?.resumeAt != null || ranges.length >= SELECT_ALL_LIMIT) note(`${ranges.length} occurrences selected (the first ${SELECT_ALL_LIMIT})`);
    await reveal();
    draw();
  });
}

/** Draws the secondary cursors and selections on the rows on screen (called by render.ts). */
export function drawExtra(): void {
  if (!state.extra.length && !extraEl.firstChild) return; // one cursor: nothing to draw (the common case, kept cheap)
  const boxes: HTMLElement[] = [];
  const rowOf = new Map<number, HTMLElement>();
  for (const el of Array.from(linesEl.children)) {
    const n = (el as HTMLElement).dataset.line;
    if (n) rowOf.set(Number(n), el as HTMLElement);
  }
  const x = (row: HTMLElement, col: number): number => {
    const tx = row.querySelector(".tx") as HTMLElement;
    const base = linesEl.getBoundingClientRect().left;
    return tx.getBoundingClientRect().left - base + (col - Number(row.dataset.left ?? state.leftCol)) * state.charWidth;
  };
  for (const s of state.extra) {
    const r = selectionRange(s.anchor, s.cursor);
    if (r && r.start.line === r.end.line) {
      const row = state.wrapColumn > 0 ? (linesEl.children[rowIndexAt(r.start)] as HTMLElement | undefined) : rowOf.get(r.start.line);
      if (row) {
        const b = document.createElement("div");
        b.className = "sel extra-sel";
        b.style.left = `${x(row, r.start.character)}px`;
        b.style.width = `${(r.end.character - r.start.character) * state.charWidth}px`;
        b.style.top = `${row.offsetTop}px`;
        b.style.height = `${state.lineHeight}px`;
        boxes.push(b);
      }
    }
    const row = state.wrapColumn > 0 ? (linesEl.children[rowIndexAt(s.cursor)] as HTMLElement | undefined) : rowOf.get(s.cursor.line); // word wrap: the row holding the column
    if (!row) continue;
    const c = document.createElement("div");
    c.className = "extra-cursor";
    look.placeCursor(c, x(row, s.cursor.character), row.offsetTop, state.charWidth, "");
    boxes.push(c);
  }
  extraEl.replaceChildren(...boxes);
}
