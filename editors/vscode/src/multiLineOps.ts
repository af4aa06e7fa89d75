// Line operations and cursor merging with several cursors, as VS Code's editor does them: each
// selection covers whole lines (lineOps.ts `coveredLines`); the operation runs on each block of
// lines and all the edits go out as one batch (one `tome/edit`, one undo step), with every
// cursor where VS Code puts it. Blocks: Ctrl+Shift+K and Alt+Up/Down merge selections whose
// lines overlap or touch (DeleteLinesAction merges them so; moved together, touching blocks
// stay in order); Shift+Alt+Up/Down only drop a selection that would copy a line another one
// copies (CopyLinesAction); Ctrl+Enter/Ctrl+Shift+Enter insert one line per cursor line. Pure
// logic, shared with the unit tests.

import { coveredLines, type BatchEdit, type LineSource, LineUnavailable } from "./lineOps";
import type { Sel } from "./multiCursor";
import type { Position } from "./protocol";
import { comparePositions } from "./selection";

export type MultiLineCommand = "deleteLines" | "moveUp" | "moveDown" | "copyUp" | "copyDown" | "insertBelow" | "insertAbove";

const pos = (line: number, character: number): Position => ({ line, character });

function need(src: LineSource, n: number): string {
  const t = src.text(n);
  if (t === null) throw new LineUnavailable(n);
  return t;
}

interface Block {
  first: number;
  last: number;
  /** Indexes into the selections. */
  owners: number[];
}

/** Selections grouped by the lines they cover, top first; `touching` merges adjacent blocks too. */
function blocks(sels: Sel[], touching: boolean): Block[] {
  const items = sels.map((s, i) => ({ ...coveredLines(s.anchor, s.cursor), owners: [i] }));
  items.sort((a, b) => a.first - b.first || a.last - b.last);
  const out: Block[] = [];
  for (const it of items) {
    const prev = out[out.length - 1];
    if (prev && (touching ? prev.last + 1 >= it.first : prev.last >= it.first)) {
      prev.last = Math.max(prev.last, it.last);
      prev.owners.push(...it.owners);
    } else out.push({ ...it, owners: [...it.owners] });
  }
  return out;
}

const moveSel = (s: Sel, d: number): Sel => ({
  anchor: s.anchor ? pos(s.anchor.line + d, s.anchor.character) : null,
  cursor: pos(s.cursor.line + d, s.cursor.character),
});

/**
 * The batch for a line operation at every selection (`sels[0]` the primary), and the selections
 * after it in the same order (merged ones may then coincide: `mergeSels`). Null when nothing
 * changes. Throws LineUnavailable for a line that is not held whole.
 */
export function multiLineBatch(cmd: MultiLineCommand, sels: Sel[], src: LineSource): { edits: BatchEdit[]; sels: Sel[] } | null {
  const edits: BatchEdit[] = [];
  const after: Sel[] = sels.map((s) => ({ ...s }));
  if (cmd === "deleteLines") {
    let deleted = 0;
    for (const b of blocks(sels, true)) {
      let start = pos(b.first, 0);
      let end: Position;
      if (b.last < src.lastLine) end = pos(b.last + 1, 0);
      else {
        end = pos(b.last, need(src, b.last).length);
        if (b.first > 0) start = pos(b.first - 1, need(src, b.first - 1).length);
      }
      edits.push({ start, end, text: "" });
      // VS Code: the cursor keeps the column of the block's first selection, on the line that
      // takes the deleted lines' place (clamped to it).
      const line = start.line - deleted;
      const next = b.last < src.lastLine ? need(src, b.last + 1) : b.first > 0 ? need(src, b.first - 1) : "";
      const col = Math.min(sels[b.owners[0]].cursor.character, next.length);
      for (const o of b.owners) after[o] = { anchor: null, cursor: pos(line, col) };
      deleted += b.last - b.first + 1;
    }
    return { edits, sels: after };
  }
  if (cmd === "moveUp" || cmd === "moveDown") {
    const dir = cmd === "moveUp" ? -1 : 1;
    for (const b of blocks(sels, true)) {
      if (dir > 0 ? b.last >= src.lastLine : b.first <= 0) continue; // at the document's edge: stays
      const block: string[] = [];
      for (let n = b.first; n <= b.last; n++) block.push(need(src, n));
      const other = need(src, dir > 0 ? b.last + 1 : b.first - 1);
      edits.push(
        dir > 0
          ? { start: pos(b.first, 0), end: pos(b.last + 1, other.length), text: [other, ...block].join("\n") }
          : { start: pos(b.first - 1, 0), end: pos(b.last, block[block.length - 1].length), text: [...block, other].join("\n") },
      );
      for (const o of b.owners) after[o] = moveSel(sels[o], dir);
    }
    return edits.length ? { edits, sels: after } : null;
  }
  if (cmd === "copyUp" || cmd === "copyDown") {
    let added = 0;
    for (const b of blocks(sels, false)) {
      const block: string[] = [];
      for (let n = b.first; n <= b.last; n++) block.push(need(src, n));
      const n = b.last - b.first + 1;
      if (cmd === "copyDown") {
        const end = pos(b.last, block[block.length - 1].length);
        edits.push({ start: end, end, text: "\n" + block.join("\n") });
        for (const o of b.owners) after[o] = moveSel(sels[o], added + n);
      } else {
        edits.push({ start: pos(b.first, 0), end: pos(b.first, 0), text: block.join("\n") + "\n" });
        for (const o of b.owners) after[o] = moveSel(sels[o], added);
      }
      added += n;
    }
    return { edits, sels: after };
  }
  // insertBelow / insertAbove: one new line per line with a cursor.
  const lines = [...new Set(sels.map((s) => s.cursor.line))].sort((a, b) => a - b);
  const lineAfter = new Map<number, number>();
  lines.forEach((l, i) => {
    if (cmd === "insertBelow") {
      const at = pos(l, need(src, l).length);
      edits.push({ start: at, end: at, text: "\n" });
      lineAfter.set(l, l + i + 1);
    } else {
      edits.push({ start: pos(l, 0), end: pos(l, 0), text: "\n" });
      lineAfter.set(l, l + i);
    }
  });
  sels.forEach((s, i) => (after[i] = { anchor: null, cursor: pos(lineAfter.get(s.cursor.line)!, 0) }));
  return { edits, sels: after };
}

/**
 * VS Code's merge of cursors that meet (cursor.ts `_mergeCursorsIfNecessary`): sorted by start,
 * a selection that overlaps the one before it (or touches it, when either is empty) is merged
 * into it (their union; the merged selection points the way the earlier one did). The primary
 * (`sels[0]`) stays first: a merged selection that held it is the primary.
 */
export function mergeSels(sels: Sel[]): Sel[] {
  const items = sels.map((s, i) => {
    const a = s.anchor ?? s.cursor;
    const fwd = comparePositions(a, s.cursor) <= 0;
    return { start: fwd ? a : s.cursor, end: fwd ? s.cursor : a, fwd, empty: !s.anchor || comparePositions(a, s.cursor) === 0, primary: i === 0 };
  });
  items.sort((x, y) => comparePositions(x.start, y.start) || comparePositions(x.end, y.end));
  const out: typeof items = [];
  for (const it of items) {
    const prev = out[out.length - 1];
    const meets = prev && (prev.empty || it.empty ? comparePositions(it.start, prev.end) <= 0 : comparePositions(it.start, prev.end) < 0);
    if (!meets) {
      out.push({ ...it });
      continue;
    }
    if (comparePositions(it.end, prev.end) > 0) prev.end = it.end;
    if (prev.empty && !it.empty) prev.fwd = it.fwd;
    prev.empty = comparePositions(prev.start, prev.end) === 0;
    prev.primary ||= it.primary;
  }
  const sel = (x: (typeof items)[number]): Sel =>
    x.empty ? { anchor: null, cursor: x.end } : x.fwd ? { anchor: x.start, cursor: x.end } : { anchor: x.end, cursor: x.start };
  const p = out.findIndex((x) => x.primary);
  return [sel(out[p]), ...out.filter((_, i) => i !== p).map(sel)];
}
