// Keyboard and mouse: keys become motions (queued, with Shift extending the selection), edits
// and commands; typing, paste, copy and cut through the hidden textarea; clicks, drags, the
// wheel, the scrollbar; the go-to-line box and the Ctrl+G/Ctrl+F shortcuts.

import type { Position } from "../protocol";
import { scrollToTarget } from "../viewport";
import { editorEl, findEl, gotoEl, gotoInput, input, linesEl, scroller } from "./dom";
import { homeNow, lineCommand, lineCommandNow, tabNow, wordDeleteNow, wordMoveNow } from "./commands";
import { multiLine, multiMotion, type MultiMotion } from "./multiMotion";
import type { MultiLineCommand } from "../multiLineOps";
import { applyEdit, copy, cut, editKey } from "./editing";
import { addCursorAt, addCursorVertical, addNextOccurrence, clearExtra, editAtCursors, hasExtra, oneCursor, selectAllOccurrences } from "./multi";
import { openFind } from "./find";
import { goToEnd, goToLine, moveCursor, motion, redraw, scrollBy, selectAll, showAround, showLine, stopFollowing } from "./navigation";
import { postToHost } from "./host";
import { schedule } from "./queue";
import { columnAtX, draw, drawStatus, fail } from "./render";
import { cache, scrollState, selection, state, visibleLines } from "./state";
import { applyWrap, endRow, moveRows, positionInRow, toggleWrap } from "./wrapping";

/** A mouse drag is selecting. */
let dragging = false;
/** Where the drag is, not yet applied (moves are coalesced). */
let dragTarget: Position | null = null;

// In VS Code, Ctrl+G, Ctrl+F, Ctrl+H and Alt+Z pressed here are handled at once by the page and
// come back a little later as `gotoLine`/`find`/`replace`/`toggleWrap` from the extension's
// keybindings. Each such echo is dropped: it used to reopen the go-to box after a quick
// "digits, Enter" and take the next keys typed for the document (and would toggle word wrap back).
const pendingEchoes = { gotoLine: 0, find: 0, replace: 0, toggleWrap: 0 };
type Shortcut = keyof typeof pendingEchoes;

function open(kind: Shortcut): void {
  if (kind === "gotoLine") openGoto();
  else if (kind === "toggleWrap") schedule(async () => void toggleWrap());
  else openFind(kind === "replace");
}

function shortcut(kind: Shortcut): void {
  // A filter view in VS Code: Ctrl+F is the extension's (a filter of the view's lines, as the
  // server's search runs over documents), which sends no `find` back.
  if (kind === "find" && state.filter !== null && state.echoesShortcuts) return;
  if (state.echoesShortcuts) pendingEchoes[kind]++;
  open(kind);
}

/** A `gotoLine`/`find`/`replace`/`toggleWrap` from the host: the echo of a key handled here, or a command. */
export function fromHost(kind: Shortcut): void {
  if (pendingEchoes[kind] > 0) {
    pendingEchoes[kind]--;
    return;
  }
  open(kind);
}

/** Motions by key; each reads `cursor` when it runs, after the actions queued before it. */
function keyMotion(e: KeyboardEvent): (() => Promise<void>) | null {
  const ctrl = e.ctrlKey || e.metaKey;
  const n = visibleLines();
  if (state.wrapColumn > 0 && !e.altKey) {
    // Word wrap: by visual rows (wrapping.ts).
    if (e.key === "ArrowUp" || e.key === "ArrowDown") return () => moveRows(e.key === "ArrowUp" ? -1 : 1);
    if (e.key === "End" && !ctrl) return endRow;
    if (e.key === "PageDown" || e.key === "PageUp") {
      const d = e.key === "PageDown" ? n - 1 : -(n - 1);
      return async () => {
        await scrollBy(d);
        await moveRows(d);
      };
    }
  }
  switch (e.key) {
    case "ArrowUp":
      return () => moveCursor({ line: state.cursor.line - 1, character: state.cursor.character }, true);
    case "ArrowDown":
      return () => moveCursor({ line: state.cursor.line + 1, character: state.cursor.character }, true);
    case "ArrowLeft":
      return async () => {
        if (state.cursor.character > 0) await moveCursor({ line: state.cursor.line, character: state.cursor.character - 1 });
        else if (state.cursor.line > 0) await moveCursor({ line: state.cursor.line - 1, character: Number.MAX_SAFE_INTEGER });
      };
    case "ArrowRight":
      return () => {
        const l = cache.get(state.cursor.line);
        if (l && state.cursor.character >= l.length && l.breakLength > 0) return moveCursor({ line: state.cursor.line + 1, character: 0 });
        return moveCursor({ line: state.cursor.line, character: state.cursor.character + 1 });
      };
    case "Home":
      return ctrl ? () => goToLine(0) : null; // smart Home: commands.ts
    case "End":
      return ctrl ? goToEnd : () => moveCursor({ line: state.cursor.line, character: Number.MAX_SAFE_INTEGER });
    case "PageDown":
      return async () => {
        await scrollBy(n - 1);
        await moveCursor({ line: state.cursor.line + n - 1, character: state.cursor.character }, true);
      };
    case "PageUp":
      return async () => {
        await scrollBy(-(n - 1));
        await moveCursor({ line: state.cursor.line - (n - 1), character: state.cursor.character }, true);
      };
  }
  return null;
}

/** Edits and commands by key; false when the key is not ours (typing goes through `input`). */
function keyCommand(e: KeyboardEvent): boolean {
  const ctrl = e.ctrlKey || e.metaKey;
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  if (e.altKey && !ctrl && !e.shiftKey && e.code === "KeyZ") shortcut("toggleWrap");
  else if (ctrl && key === "g") shortcut("gotoLine");
  else if (ctrl && key === "f") shortcut("find");
  else if (ctrl && !e.shiftKey && !e.altKey && key === "h") shortcut("replace");
  else if (ctrl && key === "a") schedule(selectAll);
  else if (ctrl)
    return false; // Ctrl+C/X/V come as copy/cut/paste events; the rest is VS Code's
  else if (["Backspace", "Delete", "Enter"].includes(key)) return editKey(key);
  else if (key === "Escape" && state.anchor) schedule(() => motion(false, async () => undefined));
  else return false;
  return true;
}

/** VS Code on Linux binds Shift+Alt+Up/Down to add cursors, elsewhere to copy lines. */
const linux = /Linux/.test(navigator.userAgent) && !/Android/.test(navigator.userAgent);

/** Keys that edit at every cursor while there are several (multi.ts); false for the others. */
function multiCommand(e: KeyboardEvent, ctrl: boolean, key: string): boolean {
  if (e.altKey) return false;
  if (key === "Escape" && !ctrl) {
    schedule(async () => {
      if (hasExtra()) clearExtra();
      else state.anchor = null;
      draw();
    });
  } else if (!ctrl && !e.shiftKey && key === "Backspace") editAtCursors({ kind: "deleteBackward" }, () => applyEdit({ kind: "deleteBackward", at: state.cursor }));
  else if (!ctrl && !e.shiftKey && key === "Delete") editAtCursors({ kind: "deleteForward" }, () => applyEdit({ kind: "deleteForward", at: state.cursor }));
  else if (!ctrl && !e.shiftKey && key === "Enter") editAtCursors({ kind: "insert", text: "\n" }, () => applyEdit({ kind: "newline", at: state.cursor }));
  else if (ctrl && !e.shiftKey && key === "Backspace")
    editAtCursors({ kind: "deleteWordLeft", from: (t, c) => state.words.deleteLeftFrom(t, c) }, () => wordDeleteNow(-1));
  else if (ctrl && !e.shiftKey && key === "Delete")
    editAtCursors(
      {
        kind: "deleteWordRight",
        to: (t, c) => state.words.deleteRightTo(t, c),
        skipBlanks: (t) => state.words.nextWord(t, 0)?.start ?? t.length,
      },
      () => wordDeleteNow(1),
    );
  else if (!ctrl && !e.shiftKey && key === "Tab") editAtCursors({ kind: "insert", text: "\t" }, tabNow);
  else return false;
  return true;
}

/** VS Code's editing commands (commands.ts, multi.ts); false when the key is not one of them. */
function editorCommand(e: KeyboardEvent): boolean {
  const ctrl = e.ctrlKey || e.metaKey;
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  const alt = e.altKey;
  const vertical = key === "ArrowUp" || key === "ArrowDown";
  const up = key === "ArrowUp";
  if (multiCommand(e, ctrl, key)) return true;
  if (vertical && alt && ((linux && e.shiftKey && !ctrl) || (ctrl && !e.shiftKey))) addCursorVertical(up ? -1 : 1);
  else if (ctrl && !alt && !e.shiftKey && key === "d") addNextOccurrence();
  else if (ctrl && !alt && e.shiftKey && key === "l") selectAllOccurrences();
  else if (!isOneCursorCommand(e, ctrl, key, alt)) return false;
  else if (ctrl && !alt && (key === "ArrowLeft" || key === "ArrowRight")) {
    const dir = key === "ArrowLeft" ? -1 : 1;
    atCursors(
      () => multiMotion(dir < 0 ? "wordLeft" : "wordRight", e.shiftKey),
      () => wordMoveNow(dir, e.shiftKey),
    );
  } else if (!ctrl && !alt && key === "Home")
    atCursors(
      () => multiMotion("home", e.shiftKey),
      () => homeNow(e.shiftKey),
    );
  else if (ctrl && e.shiftKey && !alt && key === "k") lineAtCursors("deleteLines");
  else if (alt && vertical && e.shiftKey) lineAtCursors(up ? "copyUp" : "copyDown");
  else if (alt && vertical) lineAtCursors(up ? "moveUp" : "moveDown");
  else if (ctrl && !alt && key === "Enter") lineAtCursors(e.shiftKey ? "insertAbove" : "insertBelow");
  else {
    // Ctrl+L and Shift+Tab act on the primary cursor only: the others go (see the README).
    oneCursor();
    if (ctrl && !alt && !e.shiftKey && key === "l") lineCommand("expandLine");
    else lineCommand("outdent");
  }
  return true;
}

/** Queues `multi` if there are several cursors when the key's turn comes, else `single`. */
function atCursors(multi: () => Promise<void>, single: () => Promise<void>): void {
  stopFollowing();
  schedule(() => (hasExtra() ? multi() : single()));
}

function lineAtCursors(cmd: MultiLineCommand): void {
  atCursors(
    () => multiLine(cmd),
    () => lineCommandNow(cmd),
  );
}

/** The motions that move every cursor (arrows, End; Home and Ctrl+arrows are editorCommand's). */
function multiMotionOf(e: KeyboardEvent): MultiMotion | null {
  if (e.ctrlKey || e.metaKey || e.altKey) return null;
  const m: Record<string, MultiMotion> = { ArrowLeft: "left", ArrowRight: "right", ArrowUp: "up", ArrowDown: "down", End: "end" };
  return m[e.key] ?? null;
}

/** Whether the key is one of commands.ts's (word motions and deletes, Home, line operations, Tab). */
function isOneCursorCommand(e: KeyboardEvent, ctrl: boolean, key: string, alt: boolean): boolean {
  if (ctrl && !alt && (key === "ArrowLeft" || key === "ArrowRight")) return true;
  if (ctrl && !alt && !e.shiftKey && (key === "Backspace" || key === "Delete")) return true;
  if (!ctrl && !alt && key === "Home") return true;
  if (ctrl && e.shiftKey && !alt && key === "k") return true;
  if (alt && (key === "ArrowUp" || key === "ArrowDown")) return !e.shiftKey ? !ctrl : linux ? ctrl : !ctrl;
  if (ctrl && !alt && key === "Enter") return true;
  if (ctrl && !alt && !e.shiftKey && key === "l") return true;
  return !ctrl && !alt && key === "Tab";
}

function onKey(e: KeyboardEvent): void {
  if (!state.info) return; // not initialized yet
  if (state.filter !== null && e.key === "Enter" && !e.ctrlKey && !e.metaKey && !e.altKey && !e.shiftKey) {
    // A filter view: Enter shows the line in the source (once the moves queued before it are done).
    e.preventDefault();
    schedule(async () => postToHost({ type: "reveal", line: state.cursor.line }));
    return;
  }
  if (editorCommand(e)) {
    e.preventDefault();
    return;
  }
  const mm = multiMotionOf(e);
  const single = keyMotion(e);
  if (mm && single) {
    // Left/Right without Shift on a selection go to its start/end (as VS Code); with several
    // cursors, each does (multiMotion.ts).
    stopFollowing();
    const extend = e.shiftKey;
    schedule(async () => {
      if (hasExtra()) return multiMotion(mm, extend);
      const r = selection();
      if (r && !extend && (mm === "left" || mm === "right")) return motion(false, () => moveCursor(mm === "left" ? r.start : r.end));
      return motion(extend, single);
    });
    e.preventDefault();
    return;
  }
  const move = single;
  if (move) oneCursor(); // Page Up/Down, Ctrl+Home/End: back to one cursor, as VS Code
  let handled = true;
  if (move) {
    stopFollowing();
    schedule(() => motion(e.shiftKey, move));
  } else handled = keyCommand(e);
  if (handled) e.preventDefault();
}

function openGoto(): void {
  if (!gotoEl.hidden) {
    gotoInput.focus();
    return;
  }
  gotoEl.hidden = false;
  gotoInput.value = "";
  gotoInput.focus();
}

/** The document position under the mouse, if it is over a numbered line. */
function positionAt(e: MouseEvent): (Position & { rowEnd?: boolean }) | null {
  const row = (e.target as HTMLElement).closest?.(".row") as HTMLElement | null;
  if (!row || !row.dataset.line) return null;
  if (state.wrapColumn > 0) {
    // Word wrap: the column in this visual row (a click past its end stays on it).
    const idx = Array.prototype.indexOf.call(linesEl.children, row);
    const tx = row.querySelector(".tx") as HTMLElement;
    if (idx >= 0 && state.frame[idx]) return positionInRow(idx, e.clientX - tx.getBoundingClientRect().left);
  }
  return { line: Number(row.dataset.line), character: columnAtX(row, e.clientX) };
}

/** Text typed or pasted: at the cursor, or at every cursor. */
function typed(text: string): void {
  editAtCursors({ kind: "insert", text }, () => applyEdit({ kind: "insert", at: state.cursor, text }));
}

/** Wires the keys, the textarea, the go-to box, the mouse, the wheel and the scrollbar. */
export function installInput(): void {
  gotoInput.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      const n = parseInt(gotoInput.value, 10);
      gotoEl.hidden = true;
      input.focus();
      if (Number.isFinite(n) && n > 0) schedule(() => motion(false, () => goToLine(n - 1)));
      e.preventDefault();
    } else if (e.key === "Escape") {
      gotoEl.hidden = true;
      input.focus();
      e.preventDefault();
    }
  });

  input.addEventListener("keydown", (e) => {
    if (e.isComposing) return;
    onKey(e);
  });
  // Keys that reach the page while the focus is not in the textarea (VS Code may focus the
  // webview's body) still drive the editor; the textarea takes the focus back for typing.
  document.addEventListener("keydown", (e) => {
    const t = e.target as Node;
    if (findEl.contains(t) && (e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && (e.key.toLowerCase() === "f" || e.key.toLowerCase() === "h")) {
      // Ctrl+F/Ctrl+H in the find widget itself (Ctrl+H there shows and focuses the replace row).
      e.preventDefault();
      shortcut(e.key.toLowerCase() === "f" ? "find" : "replace");
      return;
    }
    if (t === input || findEl.contains(t) || gotoEl.contains(t)) return;
    input.focus();
    onKey(e);
  });
  input.addEventListener("input", () => {
    if ((input as unknown as { isComposing?: boolean }).isComposing) return;
    const text = input.value;
    input.value = "";
    if (text) typed(text);
  });
  input.addEventListener("compositionend", () => {
    const text = input.value;
    input.value = "";
    if (text) typed(text);
  });
  input.addEventListener("paste", (e) => {
    const text = e.clipboardData?.getData("text/plain") ?? "";
    e.preventDefault();
    if (text) typed(text);
  });
  // Copy and cut never use the page's own clipboard data: the host fetches the text (see above).
  input.addEventListener("copy", (e) => {
    e.preventDefault();
    schedule(async () => void (await copy()));
  });
  input.addEventListener("cut", (e) => {
    e.preventDefault();
    schedule(cut);
  });

  editorEl.addEventListener("mousedown", (e) => {
    if (e.button !== 0 || (e.target as HTMLElement).closest("#scroller")) return; // the scrollbar drags natively
    // Keep the focus in the textarea. Letting the browser focus #editor and refocusing later
    // loses the keys pressed in between (Ctrl+End right after a click went nowhere, 1 run in 8).
    e.preventDefault();
    input.focus();
    stopFollowing();
    const p = positionAt(e);
    if (!p) return;
    if (e.altKey && !e.shiftKey) return addCursorAt(p);
    oneCursor();
    dragging = true;
    schedule(() => motion(e.shiftKey, () => moveCursor(p)));
    // A plain click starts a selection that a drag extends.
    if (!e.shiftKey) schedule(async () => void (state.anchor = { ...state.cursor }));
    // A filter view: a double-click shows the line in the source. Counted on mousedown (`detail`):
    // the first click redraws the rows, and a `dblclick` needs both clicks on the same element.
    if (state.filter !== null && e.detail === 2 && !e.shiftKey) schedule(async () => postToHost({ type: "reveal", line: state.cursor.line }));
  });

  window.addEventListener("mousemove", (e) => {
    if (!dragging || !(e.buttons & 1)) return;
    const p = positionAt(e);
    if (!p) return;
    // Coalesce: only the latest position is applied once the queue gets to it.
    const scheduled = dragTarget !== null;
    dragTarget = p;
    if (!scheduled) {
      schedule(async () => {
        const to = dragTarget!;
        dragTarget = null;
        await motion(true, () => moveCursor(to));
      });
    }
  });

  window.addEventListener("mouseup", () => {
    if (!dragging) return;
    dragging = false;
    schedule(async () => {
      if (state.anchor && selection() === null) state.anchor = null;
      drawStatus();
    });
  });

  editorEl.addEventListener(
    "wheel",
    (e) => {
      e.preventDefault();
      stopFollowing();
      const dy = e.deltaMode === 1 ? e.deltaY : e.deltaY / state.lineHeight;
      const lines = Math.trunc(dy) || Math.sign(dy);
      if (lines) void scrollBy(lines).catch(fail);
      if (e.deltaX && state.wrapColumn === 0) {
        const d = Math.trunc(e.deltaX / state.charWidth) || Math.sign(e.deltaX);
        state.leftCol = Math.max(0, state.leftCol + d);
        cache.clear();
        void redraw().catch(fail);
      }
    },
    { passive: false },
  );

  scroller.addEventListener("scroll", () => {
    if (Math.abs(scroller.scrollTop - state.expectedScroll) <= 1) return;
    state.expectedScroll = -1;
    if (!state.info) return;
    stopFollowing();
    const max = scroller.scrollHeight - scroller.clientHeight;
    const t = scrollToTarget(scroller.scrollTop, max, scrollState());
    const p = t.kind === "line" ? showLine(t.line) : showAround({ fraction: t.fraction });
    void p.catch(fail);
  });

  window.addEventListener("resize", () => {
    if (!applyWrap()) void redraw().catch(fail); // a new wrap column redraws by itself
  });
}
