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
import type { LineCache } from "./viewport";

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
  /** Bytes added or removed (approximate on lines with invalid bytes: see `exact`). */
  byteDelta: number;
  /**
   * Lines (new numbers) whose patched text is not all the server would show: a line cut by
   * the window that got shorter (the characters that slide in are not cached), or a line with
   * invalid bytes (byte counts are estimates). Read them again once the edits are answered.
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
 * lies outside its line's window, or a multi-line change on lines cut by the window or with
 * the view scrolled sideways. The caller then waits for the server instead.
 */
export function patchLines(cache: LineCache, e: RangeEdit, breakText: string, version: number): Patched | null {
  const { start, end } = e;
  const first = cache.get(start.line);
  const last = cache.get(end.line);
  if (!first || !last || first.number === null || !inWindow(first, start.character) || !inWindow(last, end.character)) return null;
  const parts = e.text.split(breakText);
  const multi = start.line !== end.line || parts.length > 1;
  const cut = (l: ViewLine): boolean => l.startColumn > 0 || l.cutAfter || l.lengthKnown === false;
  if (multi && (cache.windowStart > 0 || cut(first) || cut(last))) return null;
  // Bytes removed: the rest of the first line, the lines in between, the start of the last.
  let removed: number;
  let invalid = first.invalid || last.invalid;
  if (start.line === end.line) {
    removed = utf8Length(first.text.slice(start.character - first.startColumn, end.character - first.startColumn));
  } else {
    removed = utf8Length(first.text.slice(start.character)) + first.breakLength + utf8Length(last.text.slice(0, end.character));
    for (let n = start.line + 1; n < end.line; n++) {
      const l = cache.get(n);
      if (!l || cut(l)) return null;
      invalid ||= l.invalid;
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
    const text = (isFirst ? prefix : "") + p + (isLast ? suffix : "");
    const startColumn = isFirst ? first.startColumn : 0;
    const length = (isFirst ? start.character : 0) + p.length + (isLast ? last.length - end.character : 0);
    const line: ViewLine = {
      number: start.line + i,
      offset,
      text,
      startColumn,
      length,
      // One line changed within itself: its count less what went plus what came. Otherwise
      // (lines split or joined) the lines are whole (see above): count the text.
      byteLength: start.line === end.line && parts.length === 1 ? first.byteLength - removed + added : utf8Length(text),
      breakLength: isLast ? last.breakLength : brkBytes,
      cutBefore: isFirst ? first.cutBefore : false,
      cutAfter: isLast ? last.cutAfter : false,
      invalid: (isFirst && first.invalid) || (isLast && last.invalid),
    };
    if (isLast && last.lengthKnown !== undefined) line.lengthKnown = last.lengthKnown;
    made.push(line);
    offset += line.byteLength + line.breakLength;
  });
  const line = made[0];
  const stale: number[] = [];
  if (parts.length === 1 && first.cutAfter) {
    // The window keeps its width: what is pushed past its end is no longer shown, and what a
    // deletion pulls in from past it is not cached (read again later).
    const width = first.text.length;
    if (line.text.length > width) line.text = line.text.slice(0, width);
    else if (line.text.length < width) stale.push(line.number!);
  }
  if (invalid) for (const l of made) stale.push(l.number!);
  cache.splice(start.line, end.line - start.line + 1, made, added - removed, version);
  cache.markStale(stale);
  return { lineDelta: parts.length - 1 - (end.line - start.line), byteDelta: added - removed, stale: [...new Set(stale)] };
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
