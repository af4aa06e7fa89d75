// The editing commands of VS Code's editor, on the webview's state: word motions and deletes
// (Ctrl+Left/Right, Ctrl+Backspace/Delete, with editor.wordSeparators: words.ts), smart Home,
// line operations (Ctrl+Shift+K, Alt+Up/Down, Shift+Alt+Up/Down, Ctrl+Enter, Ctrl+Shift+Enter,
// Ctrl+L: lineOps.ts), Tab and Shift+Tab. Each runs from the key queue (queue.ts), reading the
// cursor when it runs; edits go out as one batch (editing.ts).

import { copyLines, coveredLines, deleteLines, expandLineSelection, insertLine, moveLines, shiftLines } from "../lineOps";
import type { Position, ViewLine } from "../protocol";
import { smartHome } from "../words";
import { applyEdit, batchOver, lineSource } from "./editing";
import { lineAt, motion, moveCursor, stopFollowing } from "./navigation";
import { schedule } from "./queue";
import { draw } from "./render";
import { selection, state } from "./state";
import { homeRow } from "./wrapping";

/** A line's cached text and the column it starts at (a long line: its window). */
function textOf(l: ViewLine | undefined): { text: string; from: number } {
  return l ? { text: l.text, from: l.startColumn } : { text: "", from: 0 };
}

/**
 * Ctrl+Right (dir 1) / Ctrl+Left (-1): where the cursor goes, as VS Code's word rules say. With
 * several cursors (`multi`) Ctrl+Left does not skip a single separator before a word (VS Code's
 * moveWordLeft: "avoid having multiple cursors stop at different locations").
 */
export async function wordTarget(p: Position, dir: 1 | -1, multi = false): Promise<Position> {
  let { line, character: col } = p;
  let l = await lineAt(line);
  if (dir > 0 && l && col >= l.length && l.breakLength > 0) {
    line++;
    col = 0;
    l = await lineAt(line);
  } else if (dir < 0 && col === 0 && line > 0) {
    line--;
    l = await lineAt(line);
    col = l ? l.length : 0;
  }
  const { text, from } = textOf(l);
  const rel = Math.max(0, Math.min(text.length, col - from));
  const to = dir > 0 ? state.words.wordEndRight(text, rel) : multi ? (state.words.previousWord(text, rel)?.start ?? 0) : state.words.wordStartLeft(text, rel);
  return { line, character: to + from };
}

export function wordMove(dir: 1 | -1, extend: boolean): void {
  stopFollowing();
  schedule(() => wordMoveNow(dir, extend));
}

export function wordMoveNow(dir: 1 | -1, extend: boolean): Promise<void> {
  return motion(extend, async () => moveCursor(await wordTarget(state.cursor, dir)));
}

/** Ctrl+Backspace (dir -1) / Ctrl+Delete (1): a selection is deleted as it is. */
export function wordDelete(dir: 1 | -1): void {
  stopFollowing();
  schedule(() => wordDeleteNow(dir));
}

export async function wordDeleteNow(dir: 1 | -1): Promise<void> {
  {
    const at = { ...state.cursor };
    if (selection()) return applyEdit({ kind: dir < 0 ? "deleteBackward" : "deleteForward", at });
    const l = await lineAt(at.line);
    if (!l) return;
    const { text, from } = textOf(l);
    const rel = Math.max(0, Math.min(text.length, at.character - from));
    if (dir < 0) {
      if (at.character === 0) return applyEdit({ kind: "deleteBackward", at });
      const start = { line: at.line, character: state.words.deleteLeftFrom(text, rel) + from };
      return applyEdit({ kind: "replace", start, end: at, text: "" }, true);
    }
    if (at.character >= l.length) {
      if (l.breakLength === 0) return;
      // At the end of a line: the break and the blanks before the next line's first word.
      const next = textOf(await lineAt(at.line + 1));
      const w = state.words.nextWord(next.text, 0);
      const end = { line: at.line + 1, character: (w ? w.start : next.text.length) + next.from };
      return applyEdit({ kind: "replace", start: at, end, text: "" }, true);
    }
    const end = { line: at.line, character: state.words.deleteRightTo(text, rel) + from };
    return applyEdit({ kind: "replace", start: at, end, text: "" }, true); // each word delete: a step of its own, as VS Code
  }
}

/** Home: to the first non-blank, or column 0 when there already. */
export function home(extend: boolean): void {
  stopFollowing();
  schedule(() => homeNow(extend));
}

export function homeNow(extend: boolean): Promise<void> {
  return motion(extend, async () => {
    if (state.wrapColumn > 0) return homeRow(); // by visual rows (wrapping.ts)
    const l = await lineAt(state.cursor.line);
    const col = l && l.startColumn === 0 ? smartHome(l.text, state.cursor.character) : 0;
    await moveCursor({ line: state.cursor.line, character: col });
  });
}

export type LineCommand = "deleteLines" | "moveUp" | "moveDown" | "copyUp" | "copyDown" | "insertBelow" | "insertAbove" | "expandLine" | "indent" | "outdent";

export function lineCommand(cmd: LineCommand): void {
  stopFollowing();
  schedule(() => lineCommandNow(cmd));
}

export async function lineCommandNow(cmd: LineCommand): Promise<void> {
  {
    const { first, last } = coveredLines(state.anchor, state.cursor);
    const a = state.anchor;
    const c = state.cursor;
    const ind = { tabSize: state.settings.tabSize, insertSpaces: state.settings.insertSpaces };
    switch (cmd) {
      case "deleteLines":
        return batchOver(first, last, (src) => deleteLines(src, a, c));
      case "moveUp":
      case "moveDown":
        return batchOver(first, last, (src) => moveLines(src, a, c, cmd === "moveUp" ? -1 : 1));
      case "copyUp":
      case "copyDown":
        return batchOver(first, last, (src) => copyLines(src, a, c, cmd === "copyUp" ? -1 : 1));
      case "insertBelow":
      case "insertAbove":
        return batchOver(c.line, c.line, (src) => insertLine(src, c, cmd === "insertBelow"));
      case "expandLine": {
        const src = await lineSource(c.line, Math.max(c.line, a?.line ?? c.line) + 1);
        const r = expandLineSelection(src, a, c);
        state.anchor = r.anchor;
        await moveCursor(r.cursor);
        draw();
        return;
      }
      case "indent":
      case "outdent":
        return batchOver(first, last, (src) => shiftLines(src, a, c, cmd === "indent" ? 1 : -1, ind));
    }
  }
}

/** Tab: indents the lines of a selection over several lines, else inserts a tab (or spaces). */
export async function tabNow(): Promise<void> {
  const r = selection();
  if (r && r.start.line !== r.end.line) return lineCommandNow("indent");
  {
    let text = "\t";
    if (state.settings.insertSpaces) {
      const l = await lineAt(state.cursor.line);
      const before = l && l.startColumn === 0 ? l.text.slice(0, state.cursor.character) : "";
      let w = 0;
      for (const ch of before) w = ch === "\t" ? w + state.settings.tabSize - (w % state.settings.tabSize) : w + 1;
      text = " ".repeat(state.settings.tabSize - (w % state.settings.tabSize));
    }
    await applyEdit({ kind: "insert", at: state.cursor, text });
  }
}
