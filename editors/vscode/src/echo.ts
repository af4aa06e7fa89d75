// Local echo for the webview: an edit is applied to the cached lines at once (so a typed key is
// on screen without waiting for the server), and edits are pipelined with predicted versions.
// Pure logic (no DOM, no `vscode`), shared by the webview bundle and the unit tests.
//
// The server applies a document's edits in the order it receives them and each edit that
// changes something adds 1 to the version (docs/protocol.md, "Versions" and "Order"), so the
// webview can send an edit without waiting for the one before: it names the version the edit
// will be applied at. When the server disagrees (an edit refused, or a reply whose version is
// not the predicted one: a change on disk, an undo) the webview resynchronises: it waits for
// the replies of the edits in flight, then reads the screen again at the server's version.

import type { Position, ViewLine } from "./protocol";
import type { CursorEdit, LineCache } from "./viewport";

/** One range edit as sent (`tome/edit` with one `range` edit), in UTF-16 columns. */
export interface RangeEdit {
  start: Position;
  end: Position;
  /** Already normalized: its line breaks are the document's (`lineBreak`). */
  text: string;
}

export interface Patched {
  /** Lines added (> 0) or removed (< 0). */
  lineDelta: number;
  /** Bytes added or removed. */
  byteDelta: number;
  /**
   * Lines (new numbers) whose patched text is not all the server would show: a line cut by
   * the window that got shorter, or the second half of a split cut line (the characters that
   * come in from past the old window are not cached). Read them again once the edits are
   * answered.
   */
  stale: number[];
}

/** Bytes of `s` in UTF-8 (lone surrogates count 3, as TextEncoder writes U+FFFD for them). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Whether column `col` of `l` lies in the part of the line the cache holds (its window). */
function inWindow(l: ViewLine, col: number): boolean {
  return col >= l.startColumn && col <= l.startColumn + l.text.length;
}

/**
 * Applies `e` to the cached lines, as the server will apply it. Returns null (and changes
 * nothing) when the cache cannot tell the result: a line of the range is not cached, an end
 * lies outside its line's window, bytes it cannot count (invalid bytes removed, shown as
 * U+FFFD), or lines split or joined while the view is scrolled sideways. The caller then waits
 * for the server instead.
 */
export function patchLines(cache: LineCache, e: RangeEdit, breakText: string, version: number): Patched | null {
  const { start, end } = e;
  const first = cache.get(start.line);
  const last = cache.get(end.line);
  if (!first || !last || first.number === null || !inWindow(first, start.character) || !inWindow(last, end.character)) return null;
  const parts = e.text.split(breakText);
  const sameLine = start.line === end.line;
  // Lines split or joined: bytes are counted from the text before a column, so the first and
  // last lines must be shown from column 0 with their length known. A line cut after the
  // window is fine: its bytes after a column are its count less those before.
  const fromZero = (l: ViewLine): boolean => l.startColumn === 0 && l.lengthKnown !== false;
  if ((!sameLine || parts.length > 1) && (cache.windowStart > 0 || !fromZero(first) || !fromZero(last) || first.invalid || last.invalid)) return null;
  const before = (l: ViewLine, col: number): number => utf8Length(l.text.slice(0, col));
  const after = (l: ViewLine, col: number): number => l.byteLength - before(l, col);
  let removed: number;
  if (sameLine) {
    const gone = first.text.slice(start.character - first.startColumn, end.character - first.startColumn);
    if (first.invalid && gone.includes("\ufffd")) return null; // one byte or three: unknown
    removed = utf8Length(gone);
  } else {
    removed = after(first, start.character) + first.breakLength + before(last, end.character);
    for (let n = start.line + 1; n < end.line; n++) {
      const l = cache.get(n);
      if (!l || l.lengthKnown === false) return null;
      removed += l.byteLength + l.breakLength;
    }
  }
  const added = utf8Length(e.text);
  const prefix = first.text.slice(0, start.character - first.startColumn);
  const suffix = last.text.slice(end.character - last.startColumn);
  const made: ViewLine[] = [];
  const brkBytes = utf8Length(breakText);
  let offset = first.offset;
  parts.forEach((p, i) => {
    const isFirst = i === 0;
    const isLast = i === parts.length - 1;
    let byteLength: number;
    if (parts.length === 1) byteLength = sameLine ? first.byteLength - removed + added : before(first, start.character) + added + after(last, end.character);
    else byteLength = (isFirst ? before(first, start.character) : 0) + utf8Length(p) + (isLast ? after(last, end.character) : 0);
    const line: ViewLine = {
      number: start.line + i,
      offset,
      text: (isFirst ? prefix : "") + p + (isLast ? suffix : ""),
      startColumn: isFirst ? first.startColumn : 0,
      length: (isFirst ? start.character : 0) + p.length + (isLast ? last.length - end.character : 0),
      byteLength,
      breakLength: isLast ? last.breakLength : brkBytes,
      cutBefore: isFirst ? first.cutBefore : false,
      cutAfter: isLast ? last.cutAfter : false,
      invalid: (isFirst && first.invalid) || (isLast && last.invalid),
    };
    if (isLast && last.lengthKnown !== undefined) line.lengthKnown = last.lengthKnown;
    made.push(line);
    offset += line.byteLength + line.breakLength;
  });
  // Each line shows what the server would send: from its window's start, at most the width
  // of the window (never half a surrogate pair), cut when longer. A line that shows fewer
  // characters than that lacks what would come in from past the old window's end (after a
  // deletion, on the second half of a split line): it is read again later.
  const width = cache.width;
  const stale: number[] = [];
  for (const l of made) {
    let trimmedAtPair = false;
    if (l.text.length > width) {
      trimmedAtPair = (l.text.charCodeAt(width - 1) & 0xfc00) === 0xd800;
      l.text = l.text.slice(0, trimmedAtPair ? width - 1 : width);
    }
    if (l.lengthKnown === false) continue;
    const rest = l.length - l.startColumn;
    l.cutAfter = rest > width;
    if (l.text.length < Math.min(rest, width) && !trimmedAtPair) stale.push(l.number!);
  }
  cache.splice(start.line, end.line - start.line + 1, made, added - removed, version);
  cache.markStale(stale);
  return { lineDelta: parts.length - 1 - (end.line - start.line), byteDelta: added - removed, stale };
}

/**
 * Whether an edit at the cursor needs its line read again first: a stale line (see `Patched`)
 * whose cached window ends within two columns of the cursor, so the characters the edit acts
 * on (Delete's next character, a surrogate pair) may not be cached.
 */
export function needsFresh(cache: LineCache, e: CursorEdit): boolean {
  if (!("at" in e)) return false;
  const l = cache.get(e.at.line);
  return !!l && l.cutAfter && cache.staleIn(e.at.line, 1).length > 0 && e.at.character + 2 > l.startColumn + l.text.length;
}

// ---------------------------------------------------------------------------------------------
// Pipelined edits with predicted versions

/** What to do with a reply. */
export type Verdict = "ok" | "resync" | "ignore";

/** An edit sent: the version it names, and the pipeline's generation then (see `reset`). */
export interface Ticket {
  base: number;
  generation: number;
}

/**
 * Predicts the document's version across edits in flight. `version` is the version the next
 * edit is based on: the server's version once every edit sent so far is applied.
 */
export class EditPipeline {
  private waiters: (() => void)[] = [];
  private _inFlight = 0;
  private generation = 0;
  /** Set when the server disagreed: the next read, once nothing is in flight, sets the version. */
  broken = false;

  constructor(public version: number) {}

  get inFlight(): number {
    return this._inFlight;
  }

  /** An edit is sent, based on `version`; the version after it is predicted one more. */
  send(): Ticket {
    this._inFlight++;
    return { base: this.version++, generation: this.generation };
  }

  /**
   * The reply of an edit: "resync" when the server did not do what was predicted (a change on
   * disk came in between), "ignore" for an edit sent before the last `reset` (that state was
   * read afresh, with it).
   */
  replied(t: Ticket, version: number): Verdict {
    this.answered();
    if (t.generation !== this.generation) return "ignore";
    if (version !== t.base + 1) this.broken = true;
    return this.broken ? "resync" : "ok";
  }

  /** The edit was refused (stale, out of bounds, …) or failed: nothing it predicted holds. */
  failed(t: Ticket): Verdict {
    this.answered();
    if (t.generation !== this.generation) return "ignore";
    this.broken = true;
    return "resync";
  }

  private answered(): void {
    this._inFlight--;
    if (this._inFlight === 0) for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves once every edit sent so far has its reply. */
  settled(): Promise<void> {
    if (this._inFlight === 0) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  /**
   * Whether a read made at the server's `version` can go into the cache. Equal to the
   * prediction: yes. Otherwise only once nothing is in flight, and then the prediction takes
   * the server's version: newer, the server changed by itself (lines appended to the file);
   * any, while resynchronising. An older read (made before edits still in flight), or a newer
   * one while edits are in flight: no (the caller reads again once they are answered).
   */
  accepts(version: number): boolean {
    if (version === this.version && !this.broken) return true;
    if (this._inFlight === 0 && (version > this.version || this.broken)) {
      this.version = version;
      this.broken = false;
      return true;
    }
    return false;
  }

  /**
   * The server's state was read afresh at `version` (after undo, redo, revert, reload), with
   * every edit sent before: their replies change nothing any more.
   */
  reset(version: number): void {
    this.version = version;
    this.broken = false;
    this.generation++;
  }
}
