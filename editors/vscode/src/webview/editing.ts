// Editing: operations are queued and applied one at a time, each translated against the
// freshest cache (so a Backspace at column 0 knows the previous line's length after the edits
// before it). Each edit is applied to the cached lines at once and drawn (local echo), and sent
// without waiting for the one before (pipelined, with predicted versions: echo.ts). Nothing is
// read again after an edit, except lines the cache could not patch exactly, and everything on
// screen when the server disagreed (a refused edit, a change on disk). Also the clipboard: the
// host reads the range from the server and writes the clipboard, so a selection of millions of
// lines copies without ever being on screen (up to a cap, see textRange.ts).

import { needsFresh, patchLines } from "../echo";
import { LineUnavailable, type Batch, type LineSource } from "../lineOps";
import { ErrorCodes, HostErrorCodes, type Edit, type EditResult, type Range } from "../protocol";
import { editOverSelection, wholeLine } from "../selection";
import { lineBreak, normalizeBreaks, translateEdit, type CursorEdit } from "../viewport";
import { RequestError, request } from "./host";
import { lineAt, readLine, redraw, refreshStale, reframe, reveal, showLine, stopFollowing } from "./navigation";
import { schedule } from "./queue";
import { drawStatus, fail, note } from "./render";
import { cache, lastLine, pipeline, selection, state, topLine } from "./state";

export function enqueue(e: CursorEdit): void {
  schedule(() => applyEdit(e));
}

/** A resync is queued (one is enough for any number of disagreeing replies). */
let resyncQueued = false;

/**
 * The server disagreed with the prediction: once every edit in flight has its reply, read the
 * screen again at the server's version. Queued with the keys, so keys typed meanwhile act on
 * what the server has.
 */
export function resync(): void {
  if (resyncQueued) return;
  resyncQueued = true;
  schedule(async () => {
    resyncQueued = false;
    await pipeline.settled();
    pipeline.broken = true;
    cache.clear();
    await redraw();
  });
}

let staleTimer: ReturnType<typeof setTimeout> | null = null;

/**
 * Reads the stale lines on screen once typing pauses: 50 ms after the last reply with nothing in
 * flight (a key pressed meanwhile, e.g. the Backspace that joins a line just split, usually
 * makes the read needless).
 */
function refreshStaleSoon(): void {
  if (staleTimer) clearTimeout(staleTimer);
  staleTimer = setTimeout(() => {
    staleTimer = null;
    if (pipeline.inFlight === 0) void refreshStale().catch(fail);
  }, 50);
}

/** Sends a translated edit at the predicted version; its reply is checked when it comes. */
/** The last edit sent was typing at several cursors (the next such batch joins its undo step). */
let lastWasMultiTyping = false;

function send(edits: Edit[], newStep = false, multiTyping = false): Promise<EditResult> {
  const ticket = pipeline.send();
  // Typing at several cursors is one batch per key, which the server would not join (only
  // single short edits join): joined here, as VS Code groups such typing, until the cursor moves.
  const undo = state.newUndoStep || newStep ? "new" : multiTyping && lastWasMultiTyping ? "join" : undefined;
  state.newUndoStep = false;
  lastWasMultiTyping = multiTyping;
  const reply = request("edit", { edits, version: ticket.base, epoch: state.epoch, ...(undo ? { undo } : {}) });
  reply.then(
    (r) => {
      if (pipeline.replied(ticket, r.version) === "resync") resync();
      else if (pipeline.inFlight === 0) refreshStaleSoon();
    },
    (err: unknown) => {
      if (pipeline.failed(ticket) !== "resync") return;
      resync();
      // Refused because the host undid or reloaded meanwhile: not an error the user made.
      if (!(err instanceof RequestError && (err.code === HostErrorCodes.StaleEpoch || err.code === ErrorCodes.StaleVersion))) fail(err);
    },
  );
  return reply;
}

export async function applyEdit(e: CursorEdit, newStep = false): Promise<void> {
  // The position is taken when the edit runs, from the cursor as moved by earlier actions; a
  // selection is replaced as a whole (one edit).
  const op = editOverSelection(e.kind === "replace" ? e : { ...e, at: { ...state.cursor } }, selection());
  if ("at" in op) {
    await lineAt(op.at.line);
    if (op.kind === "deleteBackward" && op.at.character === 0) await lineAt(op.at.line - 1);
    // A line a local edit left short of its window (echo.ts), edited near that end: the
    // characters the edit acts on may not be cached (one round trip, rare).
    if (needsFresh(cache, op)) await readLine(op.at.line);
  }
  const info = state.info!;
  const t = translateEdit(op, pipeline.version, (n) => cache.get(n), info.lineEnding);
  if (!t) return;
  const edit = t.params.edits[0] as { range: Range; text: string };
  const patched = patchLines(cache, { start: edit.range.start, end: edit.range.end, text: edit.text }, lineBreak(info.lineEnding), pipeline.version + 1);
  const reply = send(t.params.edits, newStep);
  state.cursor = t.cursor;
  state.anchor = null;
  state.goalColumn = -1;
  state.lastError = "";
  state.notice = "";
  info.dirty = true;
  if (patched) {
    const lc = info.lineCount;
    state.info = { ...info, size: info.size + patched.byteDelta, lineCount: { ...lc, known: lc.known + patched.lineDelta, estimate: lc.estimate + patched.lineDelta } };
    // Drawn from the cache (once): no read unless the screen now needs lines it does not hold.
    const top = topLine();
    if (!reframe() && top !== null) await showLine(top);
    await reveal();
    return;
  }
  // The cache could not tell the result (a range over lines not cached, lines cut by the
  // window): wait for the server and read the screen again.
  try {
    await reply;
  } catch {
    return; // `send` resynchronises
  }
  cache.clear();
  await redraw();
  await reveal();
  drawStatus();
}

/** Whole lines from the cache (read first when missing); null for a line cut by the window. */
export async function lineSource(first: number, last: number): Promise<LineSource> {
  for (let n = Math.max(0, first); n <= Math.min(last, lastLine()); n++) await lineAt(n);
  return {
    lastLine: lastLine(),
    text: (n) => {
      const l = cache.get(n);
      if (!l || l.startColumn !== 0 || l.cutAfter || l.lengthKnown === false || l.invalid) return null;
      return l.text;
    },
  };
}

/**
 * Runs a computation of a batch of edits (lineOps.ts) over lines first..last; a line too long
 * to hold whole is reported, nothing is changed.
 */
export async function batchOver(first: number, last: number, make: (src: LineSource) => Batch | null): Promise<void> {
  const src = await lineSource(first - 1, last + 1);
  let b: Batch | null;
  try {
    b = make(src);
  } catch (e) {
    if (e instanceof LineUnavailable) return note(e.message);
    throw e;
  }
  if (b) await applyBatch(b);
}

/**
 * Applies a batch of edits (ranges of the document before it, ascending, not overlapping) as one
 * `tome/edit` (one undo step): each is patched into the cache, last first so that the earlier
 * ranges still hold, and the cursor and anchor go where the batch says.
 */
export async function applyBatch(b: Batch, newStep = true, multiTyping = false): Promise<void> {
  const info = state.info!;
  const edits = b.edits
    .map((e) => ({ range: { start: e.start, end: e.end }, text: normalizeBreaks(e.text, info.lineEnding) }))
    .filter((e) => e.text !== "" || e.range.start.line !== e.range.end.line || e.range.start.character !== e.range.end.character);
  if (!edits.length) {
    state.cursor = b.cursor;
    state.anchor = b.anchor;
    return;
  }
  let patched = true;
  let byteDelta = 0;
  let lineDelta = 0;
  for (let i = edits.length - 1; i >= 0 && patched; i--) {
    const e = edits[i];
    const p = patchLines(cache, { start: e.range.start, end: e.range.end, text: e.text }, lineBreak(info.lineEnding), pipeline.version + 1);
    if (!p) patched = false;
    else {
      byteDelta += p.byteDelta;
      lineDelta += p.lineDelta;
    }
  }
  const reply = send(edits, newStep, multiTyping);
  state.cursor = b.cursor;
  state.anchor = b.anchor;
  state.goalColumn = -1;
  state.lastError = "";
  state.notice = "";
  info.dirty = true;
  if (patched) {
    const lc = info.lineCount;
    state.info = { ...info, size: info.size + byteDelta, lineCount: { ...lc, known: lc.known + lineDelta, estimate: lc.estimate + lineDelta } };
    const top = topLine();
    if (!reframe() && top !== null) await showLine(top);
    await reveal();
    return;
  }
  try {
    await reply;
  } catch {
    return;
  }
  cache.clear();
  await redraw();
  await reveal();
  drawStatus();
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
