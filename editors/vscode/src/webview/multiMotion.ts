// Motions and line operations at every cursor (the primary `state.cursor`/`state.anchor` and
// `state.extra`), as VS Code's editor moves them: arrows, Home (smart), End, Ctrl+Left/Right,
// each with Shift extending its own selection, then the cursors that meet merged
// (multiLineOps.ts `mergeSels`); Ctrl+Shift+K, Alt+Up/Down, Shift+Alt+Up/Down, Ctrl+Enter and
// Ctrl+Shift+Enter over every cursor's lines as one batch (one `tome/edit`, one undo step). Runs
// from the key queue; only used while there are several cursors (one cursor: navigation.ts,
// commands.ts). Up/Down go by document lines (with word wrap on, by visual rows: wrapping.ts)
// and keep each cursor's visible column (tabs counted to their stop) while they repeat, as VS
// Code's leftoverVisibleColumns.

import { coveredLines, LineUnavailable, type LineSource } from "../lineOps";
import type { Sel } from "../multiCursor";
import { mergeSels, multiLineBatch, type MultiLineCommand } from "../multiLineOps";
import type { Position } from "../protocol";
import { comparePositions, selectionRange } from "../selection";
import { columnAt, smartHome, visibleColumn } from "../words";
import { wordTarget } from "./commands";
import { applyBatch } from "./editing";
import { lineAt, reveal } from "./navigation";
import { draw, note } from "./render";
import { cache, lastLine, state } from "./state";
import { stepByRows } from "./wrapping";

export type MultiMotion = "left" | "right" | "up" | "down" | "home" | "end" | "wordLeft" | "wordRight";

/**
 * The visible columns Up/Down keep, for the cursors they last left (by position); with word
 * wrap, which of them they left at the end of a row (that column is also the next row's start).
 */
let goals: { key: string; columns: Array<number | undefined>; ends: boolean[] } | null = null;

/**
 * Add cursor above/below put a cursor at `at` aiming at visible column `v`: Up/Down keep that
 * column for it (the other cursors keep theirs). `before`: the cursors before it was added.
 */
export function aimGoal(before: Sel[], at: Position, v: number): void {
  const k = (p: Position): string => `${p.line}:${p.character}`;
  const known = new Map<string, number | undefined>();
  if (goals && goals.key === keyOf(before)) before.forEach((s, i) => known.set(k(s.cursor), goals!.columns[i]));
  known.set(k(at), v);
  const sels = all();
  goals = { key: keyOf(sels), columns: sels.map((s) => known.get(k(s.cursor))), ends: sels.map(() => false) };
}

const keyOf = (sels: Sel[]): string => sels.map((s) => `${s.cursor.line}:${s.cursor.character}`).join(",");

function all(): Sel[] {
  return [{ anchor: state.anchor, cursor: state.cursor }, ...state.extra];
}

function setAll(sels: Sel[]): void {
  const [p, ...rest] = sels;
  state.anchor = p.anchor;
  state.cursor = p.cursor;
  state.extra = rest;
}

/** A line's text when cached whole (else a window: columns then are approximate). */
async function textOf(n: number): Promise<{ text: string; from: number; length: number; hasBreak: boolean } | null> {
  const l = await lineAt(n);
  return l ? { text: l.text, from: l.startColumn, length: l.length, hasBreak: l.breakLength > 0 } : null;
}

async function target(m: MultiMotion, s: Sel, extend: boolean, goal: number | undefined, atEnd: boolean): Promise<{ at: Position; goal?: number; rowEnd?: boolean }> {
  const r = selectionRange(s.anchor, s.cursor);
  const c = s.cursor;
  switch (m) {
    case "left":
    case "right": {
      // Without Shift, a selection collapses to its start (Left) or end (Right).
      if (r && !extend) return { at: m === "left" ? r.start : r.end };
      const l = await textOf(c.line);
      if (m === "left") {
        if (c.character > 0) {
          const i = c.character - 1 - (l?.from ?? 0);
          const pair = !!l && i > 0 && (l.text.charCodeAt(i) & 0xfc00) === 0xdc00 && (l.text.charCodeAt(i - 1) & 0xfc00) === 0xd800;
          return { at: { line: c.line, character: c.character - (pair ? 2 : 1) } };
        }
        if (c.line === 0) return { at: c };
        const p = await textOf(c.line - 1);
        return { at: { line: c.line - 1, character: p?.length ?? 0 } };
      }
      if (l && c.character >= l.length) return l.hasBreak ? { at: { line: c.line + 1, character: 0 } } : { at: c };
      const i = c.character - (l?.from ?? 0);
      const pair = !!l && (l.text.charCodeAt(i) & 0xfc00) === 0xd800 && (l.text.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
      return { at: { line: c.line, character: c.character + (pair ? 2 : 1) } };
    }
    case "up":
    case "down": {
      // VS Code (MoveOperations.moveUp/moveDown): without Shift, from the selection's start
      // (Up) or end (Down); past the first line to its start, past the last to its end.
      const from = r && !extend ? (m === "up" ? r.start : r.end) : c;
      if (state.wrapColumn > 0) {
        // Word wrap: by visual rows, the visible column counted within the row (VS Code's view lines).
        const t = await stepByRows(from, m === "up" ? -1 : 1, goal, atEnd && from === c);
        return { at: t.at, goal: t.goal, rowEnd: t.rowEnd };
      }
      const l = await textOf(from.line);
      const v = goal ?? (l && l.from === 0 ? visibleColumn(l.text, from.character, state.settings.tabSize) : from.character);
      const line = from.line + (m === "up" ? -1 : 1);
      if (line < 0) return { at: { line: 0, character: 0 }, goal: v };
      if (line > lastLine()) return { at: { line: from.line, character: l?.length ?? from.character }, goal: v };
      const t = await textOf(line);
      const col = t && t.from === 0 ? columnAt(t.text, v, state.settings.tabSize) : Math.min(v, t?.length ?? v);
      return { at: { line, character: col }, goal: v };
    }
    case "home": {
      const l = await textOf(c.line);
      return { at: { line: c.line, character: l && l.from === 0 ? smartHome(l.text, c.character) : 0 } };
    }
    case "end": {
      const l = await textOf(c.line);
      return { at: { line: c.line, character: l?.length ?? c.character } };
    }
    case "wordLeft":
    case "wordRight":
      return { at: await wordTarget(c, m === "wordLeft" ? -1 : 1, true) };
  }
}

/** A motion at every cursor; with `extend` each selection grows from its own anchor. */
export async function multiMotion(m: MultiMotion, extend: boolean): Promise<void> {
  const sels = all();
  const vertical = m === "up" || m === "down";
  const kept = vertical && goals && goals.key === keyOf(sels) ? goals : null;
  const next: Sel[] = [];
  const columns: number[] = [];
  const ends: boolean[] = [];
  for (let i = 0; i < sels.length; i++) {
    const s = sels[i];
    const atEnd = kept ? kept.ends[i] : i === 0 && state.cursorRowEnd;
    const t = await target(m, s, extend, kept?.columns[i], atEnd);
    const anchor = extend ? (s.anchor ?? s.cursor) : null;
    next.push({ anchor: anchor && comparePositions(anchor, t.at) !== 0 ? anchor : null, cursor: t.at });
    columns.push(t.goal ?? 0);
    ends.push(t.rowEnd ?? false);
  }
  goals = vertical ? { key: keyOf(next), columns, ends } : null;
  const merged = mergeSels(next);
  // Goals follow the cursors that survive the merge (by position; merged ones drop theirs).
  if (goals && merged.length !== next.length) {
    const byKey = new Map(next.map((s, i) => [`${s.cursor.line}:${s.cursor.character}`, i]));
    const at = (s: Sel): number => byKey.get(`${s.cursor.line}:${s.cursor.character}`) ?? -1;
    goals = { key: keyOf(merged), columns: merged.map((s) => columns[at(s)] ?? 0), ends: merged.map((s) => ends[at(s)] ?? false) };
  }
  setAll(merged);
  // The primary cursor left at the end of a wrapped row is drawn there (render.ts).
  state.cursorRowEnd = goals?.ends[0] ?? false;
  state.newUndoStep = true;
  state.goalColumn = -1;
  await reveal();
  draw();
}

/** A line operation over every cursor's lines, as one batch. */
export async function multiLine(cmd: MultiLineCommand): Promise<void> {
  const sels = all();
  // The lines each selection covers and one on each side (not those between the cursors).
  for (const s of sels) {
    const { first, last } = coveredLines(s.anchor, s.cursor);
    for (let n = Math.max(0, first - 1); n <= Math.min(last + 1, lastLine()); n++) await lineAt(n);
  }
  const src: LineSource = {
    lastLine: lastLine(),
    text: (n) => {
      const l = cache.get(n);
      return !l || l.startColumn !== 0 || l.cutAfter || l.lengthKnown === false || l.invalid ? null : l.text;
    },
  };
  let r: ReturnType<typeof multiLineBatch>;
  try {
    r = multiLineBatch(cmd, sels, src);
  } catch (e) {
    if (e instanceof LineUnavailable) return note(e.message);
    throw e;
  }
  if (!r) return;
  const merged = mergeSels(r.sels);
  await applyBatch({ edits: r.edits, cursor: merged[0].cursor, anchor: merged[0].anchor });
  state.extra = merged.slice(1);
  draw();
}
