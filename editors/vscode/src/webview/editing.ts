// Editing: operations are queued and applied one at a time, each translated against the
// freshest cache (so a Backspace at column 0 knows the previous line's length after the edits
// before it). Also the clipboard: the host reads the range from the server and writes the
// clipboard, so a selection of millions of lines copies without ever being on screen (up to a
// cap, see textRange.ts).

import type { Range } from "../protocol";
import { editOverSelection, wholeLine } from "../selection";
import { translateEdit, type CursorEdit } from "../viewport";
import { request } from "./host";
import { lineAt, redraw, reveal, stopFollowing } from "./navigation";
import { schedule } from "./queue";
import { fail, note } from "./render";
import { cache, selection, state } from "./state";

export function enqueue(e: CursorEdit): void {
  schedule(() => applyEdit(e));
}

async function applyEdit(e: CursorEdit): Promise<void> {
  // The position is taken when the edit runs, from the cursor as moved by earlier actions; a
  // selection is replaced as a whole (one edit).
  const op = editOverSelection(e.kind === "replace" ? e : { ...e, at: { ...state.cursor } }, selection());
  if ("at" in op) {
    await lineAt(op.at.line);
    if (op.kind === "deleteBackward" && op.at.character === 0) await lineAt(op.at.line - 1);
  }
  const t = translateEdit(op, cache.version, (n) => cache.get(n), state.info!.lineEnding);
  if (!t) return;
  try {
    await request("edit", t.params);
    state.lastError = "";
    state.notice = "";
  } catch (err) {
    // Stale or out of bounds: drop the cache so that the next action reads afresh.
    cache.clear();
    throw err;
  }
  cache.clear();
  state.cursor = t.cursor;
  state.anchor = null;
  state.goalColumn = -1;
  state.info!.dirty = true;
  await redraw(); // refetches the screen at the new version
  await reveal();
}

/** The selection, or with none the cursor's whole line (VS Code's behaviour). */
async function clipboardRange(): Promise<Range> {
  const r = selection();
  if (r) return r;
  const l = await lineAt(state.cursor.line);
  return wholeLine(state.cursor.line, !l || l.breakLength === 0, l?.length ?? 0);
}

export async function copy(): Promise<boolean> {
  const r = await clipboardRange();
  note("copying…");
  const res = await request("copy", { start: r.start, end: r.end }).catch((e: unknown) => {
    state.notice = "";
    fail(e);
    return null;
  });
  if (res) note(`copied ${res.characters} characters`);
  return !!res;
}

export async function cut(): Promise<void> {
  const r = await clipboardRange();
  if (await copy()) await applyEdit({ kind: "replace", start: r.start, end: r.end, text: "" });
}

/** Backspace, Delete, Enter and Tab: one edit each, over the selection if there is one. */
export function editKey(key: string): true {
  stopFollowing();
  if (key === "Backspace") enqueue({ kind: "deleteBackward", at: state.cursor });
  else if (key === "Delete") enqueue({ kind: "deleteForward", at: state.cursor });
  else if (key === "Enter") enqueue({ kind: "newline", at: state.cursor });
  else if (key === "Tab") enqueue({ kind: "insert", at: state.cursor, text: "\t" });
  return true;
}
