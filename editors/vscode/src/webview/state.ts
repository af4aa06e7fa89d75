// The webview's state: one object that the other modules read and write, the line cache, and
// what follows from them (lines and columns on screen, the selection, the top line).

import type { DocInfo, EditorSettings, Offsets, Position, Range, ViewLine, ViewportWindow } from "../protocol";
import { selectionRange } from "../selection";
import { EditPipeline } from "../echo";
import { LineCache, totalLines, type ScrollState } from "../viewport";
import { DEFAULT_WORD_SEPARATORS, WordRules } from "../words";
import { WORD_WRAP_MAX } from "../wrap";
import { linesEl } from "./dom";

/** What survives the webview being hidden and shown again (VS Code reloads it). */
export interface SavedState {
  top: number;
  cursor: Position;
}

export interface EditorState {
  /** The document's state as last heard; null until the host's `init`. */
  info: DocInfo | null;
  /** The lines on screen, top first. */
  frame: ViewLine[];
  /** Top of the screen: a line number (line mode) or, past the index frontier, a byte offset. */
  top: { line: number } | { offset: number };
  cursor: Position;
  /** Where the selection started (Shift+motion, drag); null: nothing selected. */
  anchor: Position | null;
  /** The column Up/Down keep going back to; -1: none. */
  goalColumn: number;
  /** First column shown (UTF-16 units). */
  leftCol: number;
  lineHeight: number;
  charWidth: number;
  /** Bumped by each fetch of the screen: a reply for an older one is dropped. */
  renderSeq: number;
  lastError: string;
  /** A short message in the status line (e.g. what Copy did). */
  notice: string;
  /** Follow mode: the view stays at the end as the file grows (Tome: Follow End). */
  following: boolean;
  /** Ctrl+End ran while the last line had no number yet: put the cursor there once indexed. */
  endPending: boolean;
  /** The scrollTop we last set ourselves: its scroll event is not a user's drag. */
  expectedScroll: number;
  /** Ctrl+G and Ctrl+F pressed here also come back from the host (input.ts). */
  echoesShortcuts: boolean;
  /** The host's epoch as last announced (`init`, `refresh`): sent with each edit. */
  epoch: number;
  /** The find match shown. */
  match: { start: Position; end: Position; offsets: Offsets } | null;
  /**
   * The next edit starts an undo step of its own (`tome/edit` undo "new"): set when the cursor
   * was moved (VS Code starts a new undo step then, where the server would join typing to the
   * step before).
   */
  newUndoStep: boolean;
  /** Secondary cursors (multi.ts); the primary is `cursor`/`anchor`. */
  extra: { anchor: Position | null; cursor: Position }[];
  /** VS Code's editor settings (the host's `init`). */
  settings: EditorSettings;
  /** Word rules from `settings.wordSeparators`. */
  words: WordRules;
  /** Word wrap (wrapping.ts): columns per row, 0 when off. */
  wrapColumn: number;
  /** With word wrap: the visual row of the top line shown first. */
  topRow: number;
  /**
   * With word wrap: the cursor sits at the end of its row, not at the start of the next one
   * (the same column): put there by End, Up/Down or a click past a row's end, as VS Code does.
   */
  cursorRowEnd: boolean;
  /**
   * A filter view (src/filterSession.ts): what it filters; null for a document. Its lines are
   * the filter's, the gutter shows their source lines, Enter and double-click reveal the line
   * in the source's editor.
   */
  filter: string | null;
}

export const state: EditorState = {
  info: null,
  frame: [],
  top: { line: 0 },
  cursor: { line: 0, character: 0 },
  anchor: null,
  goalColumn: -1,
  leftCol: 0,
  lineHeight: 18,
  charWidth: 8,
  renderSeq: 0,
  lastError: "",
  notice: "",
  following: false,
  endPending: false,
  expectedScroll: -1,
  echoesShortcuts: false,
  epoch: 0,
  match: null,
  newUndoStep: false,
  extra: [],
  settings: { wordSeparators: DEFAULT_WORD_SEPARATORS, tabSize: 4, insertSpaces: true },
  words: new WordRules(),
  wrapColumn: 0,
  topRow: 0,
  cursorRowEnd: false,
  filter: null,
};

export const cache = new LineCache(4000);
/** The version the next edit is based on, with edits in flight (echo.ts). */
export const pipeline = new EditPipeline(0);

export function visibleLines(): number {
  return Math.max(1, Math.floor(linesEl.clientHeight / state.lineHeight));
}
export function visibleCols(): number {
  const gutter = 10 * state.charWidth;
  return Math.max(10, Math.floor((linesEl.clientWidth - gutter) / state.charWidth));
}
export function scrollState(): ScrollState {
  const i = state.info!;
  return { size: i.size, lineCount: i.lineCount, indexComplete: i.indexComplete, visibleLines: visibleLines(), lineHeight: state.lineHeight };
}
export function lastLine(): number {
  return totalLines(scrollState()) - 1;
}
export function windowParam(): ViewportWindow {
  // With word wrap every line is read from column 0, wide enough to hold a line that wraps at
  // words whole (wrap.ts); longer lines are read further a row range at a time (wrapping.ts).
  if (state.wrapColumn > 0) return { start: 0, width: WORD_WRAP_MAX + 2, unit: "encoding" };
  return { start: state.leftCol, width: visibleCols() + 2, unit: "encoding" };
}
/** The column at the left edge of a row of the frame: its own start with word wrap, else the view's. */
export function rowLeft(l: ViewLine): number {
  return state.wrapColumn > 0 ? l.startColumn : state.leftCol;
}
export function selection(): Range | null {
  return selectionRange(state.anchor, state.cursor);
}

export function topLine(): number | null {
  return "line" in state.top ? state.top.line : (state.frame[0]?.number ?? null);
}
