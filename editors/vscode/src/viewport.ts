// Pure logic shared by the webview (bundled into out/webview/editor.js) and the extension:
// a line cache keyed by document version, the mapping between the scrollbar and a position in
// the file, and the translation of the webview's cursor edits into `tome/edit` params.
// No DOM, no `vscode`, no Node: unit-tested with `node --test`.

import type { Edit, LineCount, LineEnding, Position, ViewLine, ViewportResult } from "./protocol";

// ---------------------------------------------------------------------------------------------
// Line cache

/**
 * Lines by line number, for one document version and one horizontal window. Storing a reply of
 * a newer version (or another window) drops everything older; replies of an older version are
 * refused, so a late reply never shows text from before an edit.
 */
export class LineCache {
  private lines = new Map<number, ViewLine>();
  /** Lines patched locally whose text may differ from the server's (echo.ts): read again. */
  private staleLines = new Set<number>();
  private _version = -1;
  private _windowStart = 0;
  private _width = Number.MAX_SAFE_INTEGER;

  constructor(private readonly capacity = 5000) {}

  get version(): number {
    return this._version;
  }
  get windowStart(): number {
    return this._windowStart;
  }
  /** Columns per line the last reply was read with (lines longer are cut). */
  get width(): number {
    return this._width;
  }
  get size(): number {
    return this.lines.size;
  }

  /** Forgets everything (e.g. after undo, reload); the next reply of any version is taken. */
  clear(): void {
    this.lines.clear();
    this.staleLines.clear();
    this._version = -1;
  }

  /** Stores a reply; returns false (and stores nothing) when it is older than the cache. */
  put(result: ViewportResult, windowStart = 0): boolean {
    if (result.version < this._version) return false;
    if (result.version !== this._version || windowStart !== this._windowStart) {
      this.lines.clear();
      this.staleLines.clear();
      this._version = result.version;
      this._windowStart = windowStart;
    }
    if (result.width > 0) this._width = result.width;
    // The highlight rules' matches go with their lines (a line read again brings its own).
    for (const h of result.highlights ?? []) {
      const l = result.lines[h.line];
      if (l) (l.marks ??= []).push([h.rule, h.start, h.end]);
    }
    for (const l of result.lines) {
      if (l.number === null) continue;
      this.lines.delete(l.number); // re-insert: Map order is our LRU order
      this.lines.set(l.number, l);
      this.staleLines.delete(l.number);
    }
    while (this.lines.size > this.capacity) {
      const oldest = this.lines.keys().next().value as number;
      this.lines.delete(oldest);
    }
    return true;
  }

  /**
   * A local edit (echo.ts) at version `version`: lines [first, first + count) become `made`,
   * the lines after are renumbered and their offsets moved by `byteDelta`.
   */
  splice(first: number, count: number, made: ViewLine[], byteDelta: number, version = this._version + 1): void {
    const shift = made.length - count;
    const next = new Map<number, ViewLine>();
    for (const [n, l] of this.lines) {
      if (n < first) next.set(n, l);
      else if (n >= first + count) next.set(n + shift, shift === 0 && byteDelta === 0 ? l : { ...l, number: n + shift, offset: l.offset + byteDelta });
    }
    for (const l of made) next.set(l.number!, l);
    this.lines = next;
    const stale = new Set<number>();
    for (const n of this.staleLines) {
      if (n < first) stale.add(n);
      else if (n >= first + count) stale.add(n + shift);
    }
    this.staleLines = stale;
    this._version = version;
  }

  /** Marks lines whose cached text may not be the server's (read them again when it can). */
  markStale(lines: number[]): void {
    for (const n of lines) if (this.lines.has(n)) this.staleLines.add(n);
  }

  /** Stale lines within [first, first + count), in order. */
  staleIn(first: number, count: number): number[] {
    return [...this.staleLines].filter((n) => n >= first && n < first + count).sort((a, b) => a - b);
  }

  get(line: number): ViewLine | undefined {
    return this.lines.get(line);
  }

  /** Whether lines [first, first + count) are all cached (for `version`, when given). */
  has(first: number, count: number, version?: number): boolean {
    if (version !== undefined && version !== this._version) return false;
    for (let i = first; i < first + count; i++) if (!this.lines.has(i)) return false;
    return true;
  }

  /** The smallest range [first, first + n) covering the lines of [first, first + count) not cached. */
  missing(first: number, count: number): { first: number; count: number } | null {
    let lo = -1;
    let hi = -1;
    for (let i = first; i < first + count; i++) {
      if (!this.lines.has(i)) {
        if (lo < 0) lo = i;
        hi = i;
      }
    }
    return lo < 0 ? null : { first: lo, count: hi - lo + 1 };
  }
}

// ---------------------------------------------------------------------------------------------
// Scroll mapping

/**
 * Browsers cap element heights (Chromium ~33 M px, Firefox ~17 M px), far less than 40 M lines
 * × 18 px, so the scrollbar spans at most this many pixels and maps proportionally.
 */
export const MAX_SCROLL_PX = 8_000_000;

export interface ScrollState {
  size: number; // bytes
  lineCount: LineCount;
  indexComplete: boolean;
  visibleLines: number;
  lineHeight: number;
}

/** Where the scrollbar points: a line once the index is complete, else a fraction of the bytes. */
export type ScrollTarget = { kind: "line"; line: number } | { kind: "fraction"; fraction: number };

/** Total lines the scrollbar spans: exact when known, else the server's estimate. */
export function totalLines(s: ScrollState): number {
  return Math.max(1, s.lineCount.exact ? s.lineCount.known : Math.max(s.lineCount.known, s.lineCount.estimate));
}

/** Height of the scrollbar's content in px. */
export function scrollHeight(s: ScrollState): number {
  const natural = (totalLines(s) + s.visibleLines - 1) * s.lineHeight;
  return Math.min(MAX_SCROLL_PX, Math.max(natural, s.visibleLines * s.lineHeight));
}

/** The scrollbar position `scrollTop` (of `maxScroll` = scrollHeight − clientHeight) → file position. */
export function scrollToTarget(scrollTop: number, maxScroll: number, s: ScrollState): ScrollTarget {
  const f = maxScroll <= 0 ? 0 : Math.min(1, Math.max(0, scrollTop / maxScroll));
  if (s.indexComplete && s.lineCount.exact) {
    const last = Math.max(0, s.lineCount.known - 1);
    return { kind: "line", line: Math.min(last, Math.round(f * last)) };
  }
  return { kind: "fraction", fraction: f };
}

/**
 * The file position shown at the top → scrollbar position. `line` is the top line's number
 * (null past the index frontier), `offset` its byte offset.
 */
export function targetToScroll(line: number | null, offset: number, maxScroll: number, s: ScrollState): number {
  let f: number;
  if (s.indexComplete && s.lineCount.exact && line !== null) {
    const last = Math.max(0, s.lineCount.known - 1);
    f = last === 0 ? 0 : line / last;
  } else {
    f = s.size === 0 ? 0 : offset / s.size;
  }
  return Math.round(Math.min(1, Math.max(0, f)) * Math.max(0, maxScroll));
}

// ---------------------------------------------------------------------------------------------
// Edit translation

/** An edit as the webview expresses it: at the cursor, in UTF-16 columns. */
export type CursorEdit =
  | { kind: "insert"; at: Position; text: string }
  | { kind: "newline"; at: Position }
  | { kind: "deleteBackward"; at: Position }
  | { kind: "deleteForward"; at: Position }
  | { kind: "replace"; start: Position; end: Position; text: string };

export interface TranslatedEdit {
  /** `tome/edit` params without `doc`. */
  params: { version: number; edits: Edit[] };
  /** Where the cursor goes once the edit is applied. */
  cursor: Position;
}

export function lineBreak(ending: LineEnding): string {
  return ending === "crlf" ? "\r\n" : ending === "cr" ? "\r" : "\n";
}

/** Text to insert: line breaks of any kind become the document's. */
export function normalizeBreaks(text: string, ending: LineEnding): string {
  return text.replace(/\r\n|\r|\n/g, lineBreak(ending));
}

/** Cursor after inserting `text` (already normalized) at `at`. */
export function cursorAfterInsert(at: Position, text: string): Position {
  const parts = text.split(/\r\n|\r|\n/);
  if (parts.length === 1) return { line: at.line, character: at.character + text.length };
  return { line: at.line + parts.length - 1, character: parts[parts.length - 1].length };
}

function isHigh(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}
function isLow(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** UTF-16 code unit at column `col` of the line, if the window holds it. */
function unitAt(l: ViewLine, col: number): number | undefined {
  const i = col - l.startColumn;
  return i >= 0 && i < l.text.length ? l.text.charCodeAt(i) : undefined;
}

/**
 * Translates a cursor edit into `tome/edit` params against `version`, using the cached lines
 * (`line(n)`). Returns null when nothing changes (Backspace at the start of the document,
 * Delete at its end) and throws when a line it needs is not cached.
 */
export function translateEdit(e: CursorEdit, version: number, line: (n: number) => ViewLine | undefined, ending: LineEnding): TranslatedEdit | null {
  const need = (n: number): ViewLine => {
    const l = line(n);
    if (!l) throw new Error(`line ${n} is not loaded`);
    return l;
  };
  const one = (start: Position, end: Position, text: string, cursor: Position): TranslatedEdit => ({
    params: { version, edits: [{ range: { start, end }, text }] },
    cursor,
  });
  switch (e.kind) {
    case "insert":
    case "newline": {
      const text = e.kind === "newline" ? lineBreak(ending) : normalizeBreaks(e.text, ending);
      if (text === "") return null;
      return one(e.at, e.at, text, cursorAfterInsert(e.at, text));
    }
    case "replace": {
      const text = normalizeBreaks(e.text, ending);
      const same = e.start.line === e.end.line && e.start.character === e.end.character;
      if (same && text === "") return null;
      return one(e.start, e.end, text, cursorAfterInsert(e.start, text));
    }
    case "deleteBackward": {
      const { line: ln, character: ch } = e.at;
      if (ch > 0) {
        const l = line(ln);
        let n = 1;
        if (l && ch >= 2 && isLow(unitAt(l, ch - 1) ?? 0) && isHigh(unitAt(l, ch - 2) ?? 0)) n = 2;
        const start = { line: ln, character: ch - n };
        return one(start, e.at, "", start);
      }
      if (ln === 0) return null;
      const prev = need(ln - 1);
      const start = { line: ln - 1, character: prev.length };
      return one(start, e.at, "", start);
    }
    case "deleteForward": {
      const { line: ln, character: ch } = e.at;
      const l = need(ln);
      if (ch < l.length) {
        const n = isHigh(unitAt(l, ch) ?? 0) && isLow(unitAt(l, ch + 1) ?? 0) ? 2 : 1;
        return one(e.at, { line: ln, character: ch + n }, "", e.at);
      }
      if (l.breakLength === 0) return null; // end of the document
      return one(e.at, { line: ln + 1, character: 0 }, "", e.at);
    }
  }
}

/** Clamps a cursor to the document's lines (as far as cached) and each line's length. */
export function clampCursor(p: Position, line: (n: number) => ViewLine | undefined, lastLine: number): Position {
  const ln = Math.max(0, Math.min(p.line, lastLine));
  const l = line(ln);
  const ch = Math.max(0, l ? Math.min(p.character, l.length) : p.character);
  return { line: ln, character: ch };
}
