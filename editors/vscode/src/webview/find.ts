// The find bar: count as the pattern is typed, next/previous match (Enter, Shift+Enter),
// replace all; the match shown is `state.match` (drawn by render.ts).

import { ErrorCodes, type Match, type SearchResult } from "../protocol";
import { findCase, findCount, findEl, findInput, findNext as findNextButton, findPrev, findRegex, findClose, input, replaceAllButton, replaceInput } from "./dom";
import { RequestError, cancellable, request } from "./host";
import { redraw, reveal, showAround, showLine, stopFollowing } from "./navigation";
import { schedule } from "./queue";
import { drawMatch, fail } from "./render";
import { cache, pipeline, state, topLine, visibleLines } from "./state";

/** The count request running, if any (a newer one cancels it). */
let counting: { cancel(): void } | null = null;
let countTimer: ReturnType<typeof setTimeout> | undefined;
/** The next/previous searches, one after the other (not in the key queue). */
let searching: Promise<void> = Promise.resolve();

function query(): { pattern: string; regex: boolean; caseSensitive: boolean } {
  return { pattern: findInput.value, regex: findRegex.checked, caseSensitive: findCase.checked };
}

// In VS Code a shortcut reaches the page twice (the page's own key handler, then the
// extension's keybinding as a message): opening a box that is already open must not reset it.
export function openFind(): void {
  if (!findEl.hidden) {
    findInput.focus();
    return;
  }
  findEl.hidden = false;
  findInput.focus();
  findInput.select();
}

function closeFind(): void {
  findEl.hidden = true;
  state.match = null;
  drawMatch();
  input.focus();
}

function scheduleCount(): void {
  clearTimeout(countTimer);
  countTimer = setTimeout(() => void count(), 200);
}

async function count(): Promise<void> {
  counting?.cancel();
  if (!findInput.value) {
    findCount.textContent = "";
    return;
  }
  const c = cancellable("search", { query: query(), mode: "count" });
  counting = c;
  findCount.textContent = "…";
  try {
    const r = await c.promise;
    if (counting === c) findCount.textContent = r.count === 1 ? "1 match" : `${r.count} matches`;
  } catch (e) {
    if (counting === c && !(e instanceof RequestError && e.code === ErrorCodes.RequestCancelled)) findCount.textContent = (e as Error).message;
  }
}

/**
 * Next/previous match. The search runs outside the key queue, so that keys typed while it
 * runs (a search of a big file takes a while) are not held behind it; only moving to the
 * match is queued.
 */
function findNext(backward: boolean): void {
  // One search after the other (each starts from the match the one before showed).
  searching = searching
    .then(async () => {
      const r = await startSearch(backward);
      if (r) await new Promise<void>((shown) => schedule(() => showFound(r).finally(shown)));
    })
    .catch(fail);
}

async function startSearch(backward: boolean): Promise<SearchResult | null> {
  if (!findInput.value) return null;
  // Forward: from the end of the current match (else the cursor). Backward: before the match.
  const from = state.match
    ? { offset: backward ? state.match.offsets.start : state.match.offsets.end }
    : { position: { line: state.cursor.line, character: state.cursor.character } };
  let r: SearchResult;
  try {
    r = await request("search", {
      query: query(),
      mode: "next",
      from,
      direction: backward ? "backward" : "forward",
      wrap: true,
    });
  } catch (e) {
    findCount.textContent = (e as Error).message;
    return null;
  }
  return r;
}

async function showFound(r: SearchResult): Promise<void> {
  if (!r.found) {
    findCount.textContent = "no matches";
    state.match = null;
    drawMatch();
    return;
  }
  await showMatch(r.found);
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
  state.cursor = { ...f.range.start };
  state.goalColumn = -1;
  const n = visibleLines();
  const t = topLine();
  if (t === null || state.cursor.line < t || state.cursor.line >= t + n) await showLine(Math.max(0, state.cursor.line - Math.floor(n / 3)));
  await reveal();
}

async function replaceAll(): Promise<void> {
  if (!findInput.value) return;
  // A count still to come would overwrite "replaced N" with a count of the old text.
  clearTimeout(countTimer);
  counting?.cancel();
  counting = null;
  // A change of the whole document: after the edits in flight, and what follows waits for it
  // (the version it leads to is known only from its reply).
  await pipeline.settled();
  try {
    const r = await request("replaceAll", { query: query(), replacement: replaceInput.value });
    findCount.textContent = `replaced ${r.count}`;
    pipeline.reset(r.version);
  } catch (e) {
    findCount.textContent = (e as Error).message;
    pipeline.broken = true; // a cancelled replace may still have been applied
    return;
  }
  state.match = null;
  state.anchor = null;
  cache.clear();
  await redraw();
}

/** Wires the find bar's fields and buttons. */
export function installFind(): void {
  findInput.addEventListener("input", () => {
    state.match = null;
    scheduleCount();
  });
  findCase.addEventListener("change", scheduleCount);
  findRegex.addEventListener("change", scheduleCount);
  findInput.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      findNext(e.shiftKey);
    }
  });
  replaceInput.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      schedule(replaceAll);
    }
  });
  // Escape closes the bar from any of its fields and buttons.
  findEl.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.preventDefault();
      closeFind();
    }
  });
  findNextButton.addEventListener("click", () => findNext(false));
  findPrev.addEventListener("click", () => findNext(true));
  replaceAllButton.addEventListener("click", () => schedule(replaceAll));
  findClose.addEventListener("click", closeFind);
}
