// VS Code's editor appearance on the page: the font (CSS variables that media/editor.css reads
// for the rows, the cursors and the whitespace marks), the line height, the cursor's shape and
// blinking, and the whitespace marks (`editor.renderWhitespace`). The rules are in
// ../appearance.ts; this module only applies them. Applied at `init` and again whenever the host
// says an `editor.*` setting changed; the font is then measured again (render.ts `measure`) and
// the screen fetched again (the number of rows may change).

import { cursorBox, DEFAULT_APPEARANCE, lineHeightPx, whitespaceRuns, type Appearance } from "../appearance";
import type { EditorSettings } from "../protocol";
import { lineSpan, selectionRange } from "../selection";
import { WordRules } from "../words";
import { rowText } from "./colours";
import { editorEl, linesEl } from "./dom";
import { redraw } from "./navigation";
import { afterDraw, fail, look, measure } from "./render";
import { state } from "./state";
import { applyWrap, type RowLine } from "./wrapping";

/** VS Code's ViewCursors.BLINK_INTERVAL: blink half-period, and the rest before an animation starts. */
const BLINK_MS = 500;

let current: Appearance = DEFAULT_APPEARANCE;
const mac = /Mac/.test(navigator.platform);

/** The whitespace marks, over the rows (pointer events go through to them). */
const wsEl = document.createElement("div");

/**
 * Applies `editor.*` settings (the host's `init`, then `editorSettings` on each change). With
 * `rerender`, the font is measured again and the screen redrawn at once; in any case again once
 * the fonts are loaded.
 */
export function applySettings(s: EditorSettings, rerender: boolean): void {
  state.settings = s;
  state.words = new WordRules(s.wordSeparators);
  current = s.appearance ?? DEFAULT_APPEARANCE;
  look.lineHeight = lineHeightPx(current, mac);
  const root = document.documentElement.style;
  root.setProperty("--tome-font-family", current.fontFamily);
  root.setProperty("--tome-font-size", `${current.fontSize}px`);
  root.setProperty("--tome-font-weight", current.fontWeight);
  root.setProperty("--tome-letter-spacing", `${current.letterSpacing}px`);
  root.setProperty("--tome-tab-size", String(s.tabSize));
  editorEl.dataset.cursorStyle = current.cursorStyle;
  editorEl.dataset.cursorBlinking = current.cursorBlinking;
  editorEl.dataset.renderWhitespace = current.renderWhitespace;
  restartBlink();
  const again = (): void => {
    if (!state.info) return;
    measure();
    // The width in characters changed: wrapping at the viewport's width takes the new column.
    if (!applyWrap()) void redraw().catch(fail);
  };
  if (rerender) again();
  // A font named for the first time may still be loading: its real widths come later.
  void document.fonts?.ready.then(again, fail);
}

/**
 * Places a cursor element (the primary one or a secondary) whose column's left edge is at
 * `left` in a row whose top is `top`: its shape from `editor.cursorStyle`/`cursorWidth`
 * (viewCursor.ts), with the character under it drawn inside when the style shows it.
 * `charWidth`: the width of that character (a tab is wider), `ch`: the character ("" at the end).
 */
function placeCursor(el: HTMLElement, left: number, top: number, charWidth: number, ch: string): void {
  const w = charWidth > 0.5 ? charWidth : state.charWidth;
  const b = cursorBox(current.cursorStyle, current.cursorWidth, w, state.lineHeight, left < 1);
  el.style.left = `${left + b.dx}px`;
  el.style.top = `${top + b.dy}px`;
  el.style.width = `${b.width}px`;
  el.style.height = `${b.height}px`;
  el.dataset.paint = b.paint;
  const text = b.showsChar && ch !== "\t" ? ch : "";
  if (el.textContent !== text) el.textContent = text;
}

// ---------------------------------------------------------------------------------------------
// Blinking (viewCursors.ts): "blink" hides and shows the cursors every 500 ms, by a timer (as
// VS Code, to spare the battery); the other styles start a CSS animation (media/editor.css)
// after 500 ms at rest. Moving the cursor shows it again and restarts the wait.

let blinkTimer: ReturnType<typeof setInterval> | undefined;
let animateTimer: ReturnType<typeof setTimeout> | undefined;
let lastCursor = "";

function restartBlink(): void {
  clearInterval(blinkTimer);
  clearTimeout(animateTimer);
  editorEl.classList.remove("cursor-off", "cursor-animate");
  const mode = current.cursorBlinking;
  if (mode === "solid") return;
  if (mode === "blink") blinkTimer = setInterval(() => editorEl.classList.toggle("cursor-off"), BLINK_MS);
  else animateTimer = setTimeout(() => editorEl.classList.add("cursor-animate"), BLINK_MS);
}

// ---------------------------------------------------------------------------------------------
// Whitespace marks: a middle dot over each space drawn, an arrow at each tab, in
// `--vscode-editorWhitespace-foreground`, laid over the rows' own text (the rows keep one text
// node each: render.ts and colours.ts measure and paint on it). Each run of spaces is one
// element, placed by the browser's own layout of that run (a Range's rectangles), so tabs, wide
// characters and wrapped rows are where the text is.

/** The selected part of row `idx` in its text's units, for "selection". */
function selectedParts(line: number, startColumn: number): Array<[number, number]> {
  const parts: Array<[number, number]> = [];
  const sels = [selectionRange(state.anchor, state.cursor), ...state.extra.map((s) => selectionRange(s.anchor, s.cursor))];
  for (const r of sels) {
    const span = r ? lineSpan(r, line) : null;
    if (span) parts.push([span.from - startColumn, (span.to ?? Number.MAX_SAFE_INTEGER) - startColumn]);
  }
  return parts;
}

function paintWhitespace(): void {
  const mode = current.renderWhitespace;
  if (mode === "none" || (mode === "selection" && !state.anchor && !state.extra.some((s) => s.anchor))) {
    if (wsEl.firstChild) wsEl.replaceChildren();
    return;
  }
  const base = linesEl.getBoundingClientRect();
  const marks: HTMLElement[] = [];
  state.frame.forEach((l, idx) => {
    const t = rowText(idx);
    if (!t || l.number === null) return;
    // Word wrap: VS Code decides per visual row (a view line), and draws no "trailing" marks on a
    // row the line continues after.
    const row = state.wrapColumn > 0 ? (l as RowLine) : null;
    if (row && mode === "trailing" && !row.lastRow) return;
    const runs = whitespaceRuns(l.text, mode, {
      atLineStart: row ? true : l.startColumn === 0,
      atLineEnd: row ? true : !l.cutAfter && l.lengthKnown !== false,
      selections: mode === "selection" ? selectedParts(l.number, l.startColumn) : undefined,
    });
    const len = t.node.length;
    for (const run of runs) {
      const range = document.createRange();
      range.setStart(t.node, Math.min(len, t.pad + run.start));
      range.setEnd(t.node, Math.min(len, t.pad + run.end));
      for (const rect of Array.from(range.getClientRects())) {
        if (rect.width <= 0) continue;
        const m = document.createElement("span");
        m.className = run.tab ? "wsm tab" : "wsm";
        m.style.left = `${rect.left - base.left}px`;
        m.style.top = `${rect.top - base.top}px`;
        m.style.width = `${rect.width}px`;
        m.style.height = `${state.lineHeight}px`;
        m.textContent = run.tab ? "\u2192" : "\u00b7".repeat(Math.max(1, Math.round(rect.width / state.charWidth)));
        marks.push(m);
      }
    }
  });
  wsEl.replaceChildren(...marks);
  wsEl.dataset.marks = String(marks.length);
}

/** Adds the whitespace layer and the painters; called once by the entry point (editor.ts). */
export function installAppearance(): void {
  wsEl.id = "ws";
  wsEl.setAttribute("aria-hidden", "true");
  linesEl.after(wsEl);
  look.placeCursor = placeCursor;
  afterDraw.push(() => {
    paintWhitespace();
    const at = `${state.cursor.line}:${state.cursor.character}`;
    if (at !== lastCursor) {
      lastCursor = at;
      restartBlink();
    }
  });
}
