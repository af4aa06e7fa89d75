// VS Code's editor appearance settings as the Tome webview applies them: the font (family, size,
// weight, line height, letter spacing), the cursor (style, blinking, width) and which whitespace
// is drawn (`editor.renderWhitespace`). Pure logic shared by the host (reading and validating
// the settings: a settings.json may hold anything), the webview (appearance.ts there applies
// them to the page) and the unit tests. The rules follow VS Code's own: fontInfo.ts (line
// height), viewCursor.ts (cursor geometry), viewLineRenderer.ts (which whitespace is drawn).

export type CursorStyle = "line" | "block" | "underline" | "line-thin" | "block-outline" | "underline-thin";
export type CursorBlinking = "blink" | "smooth" | "phase" | "expand" | "solid";
export type RenderWhitespace = "none" | "boundary" | "selection" | "trailing" | "all";

/** The appearance part of `EditorSettings` (protocol.ts), validated. */
export interface Appearance {
  fontFamily: string;
  fontSize: number;
  fontWeight: string;
  /** As set: 0 derives it from the font size, 1..7 is too small and becomes 8 (see `lineHeightPx`). */
  lineHeight: number;
  letterSpacing: number;
  renderWhitespace: RenderWhitespace;
  cursorStyle: CursorStyle;
  cursorBlinking: CursorBlinking;
  cursorWidth: number;
}

const CURSOR_STYLES: readonly CursorStyle[] = ["line", "block", "underline", "line-thin", "block-outline", "underline-thin"];
const BLINKING: readonly CursorBlinking[] = ["blink", "smooth", "phase", "expand", "solid"];
const WHITESPACE: readonly RenderWhitespace[] = ["none", "boundary", "selection", "trailing", "all"];

/** VS Code's defaults on Linux and Windows (editorOptions.ts). */
export const DEFAULT_APPEARANCE: Appearance = {
  fontFamily: "'Droid Sans Mono', 'monospace', monospace",
  fontSize: 14,
  fontWeight: "normal",
  lineHeight: 0,
  letterSpacing: 0,
  renderWhitespace: "selection",
  cursorStyle: "line",
  cursorBlinking: "blink",
  cursorWidth: 0,
};

const oneOf = <T extends string>(v: unknown, allowed: readonly T[], def: T): T => (allowed.includes(v as T) ? (v as T) : def);
const num = (v: unknown, min: number, max: number, def: number): number => {
  const n = typeof v === "number" ? v : typeof v === "string" ? Number(v) : NaN;
  return Number.isFinite(n) ? Math.min(max, Math.max(min, n)) : def;
};

/**
 * The appearance from `editor.*` values as `getConfiguration('editor', uri).get` returns them,
 * clamped as VS Code clamps them (fontSize 6..100, lineHeight 0..150, letterSpacing -5..20,
 * fontWeight a CSS weight); anything else falls back to the default.
 */
export function readAppearance(get: (key: string) => unknown): Appearance {
  const d = DEFAULT_APPEARANCE;
  const family = get("fontFamily");
  const weight = get("fontWeight");
  const w = typeof weight === "number" ? String(weight) : typeof weight === "string" ? weight.trim() : "";
  return {
    fontFamily: typeof family === "string" && family.trim() ? family : d.fontFamily,
    fontSize: num(get("fontSize"), 6, 100, d.fontSize),
    fontWeight: /^(normal|bold|bolder|lighter|[1-9]00?|1000|[1-9]\d{0,2})$/.test(w) ? w : d.fontWeight,
    lineHeight: num(get("lineHeight"), 0, 150, d.lineHeight),
    letterSpacing: num(get("letterSpacing"), -5, 20, d.letterSpacing),
    renderWhitespace: oneOf(get("renderWhitespace"), WHITESPACE, d.renderWhitespace),
    cursorStyle: oneOf(get("cursorStyle"), CURSOR_STYLES, d.cursorStyle),
    cursorBlinking: oneOf(get("cursorBlinking"), BLINKING, d.cursorBlinking),
    cursorWidth: Math.round(num(get("cursorWidth"), 0, 1e6, d.cursorWidth)),
  };
}

/**
 * The line height in pixels, as VS Code's BareFontInfo computes it: 0 means the font size times
 * 1.35 (1.5 on macOS), rounded; below 8 it is 8. (Newer VS Code also reads values below 8 as a
 * multiple of the font size; the 1.100 this extension targets does not.)
 */
export function lineHeightPx(a: Pick<Appearance, "fontSize" | "lineHeight">, mac = false): number {
  let h = a.lineHeight;
  if (h === 0) h = Math.round((mac ? 1.5 : 1.35) * a.fontSize);
  else if (h < 8) h = 8;
  return Math.round(h);
}

/** Where the cursor is drawn relative to its column's left edge and its row's top, and how. */
export interface CursorBox {
  dx: number;
  width: number;
  dy: number;
  height: number;
  /** fill: a solid box; outline: a 1px frame (block-outline). */
  paint: "fill" | "outline";
  /** The character under the cursor is drawn inside it (block, or a line wider than 2px). */
  showsChar: boolean;
}

/**
 * VS Code's viewCursor.ts: a line cursor is `cursorWidth` wide (capped at a character; 0 is 2px)
 * and centred on the column's edge when it is 2px or more; line-thin is 1px; the block styles
 * cover the character (`charWidth`: the width of the character under the cursor, or a typical
 * one at the end of the line); underline styles are a 2px (thin: 1px) bar at the bottom.
 */
export function cursorBox(style: CursorStyle, cursorWidth: number, charWidth: number, lineHeight: number, atLeftEdge: boolean): CursorBox {
  if (style === "line" || style === "line-thin") {
    const lineWidth = Math.min(cursorWidth, charWidth);
    const width = style === "line" ? (lineWidth > 0 ? lineWidth : 2) : 1;
    const dx = width >= 2 && !atLeftEdge ? -1 : 0;
    return { dx, width, dy: 0, height: lineHeight, paint: "fill", showsChar: width > 2 };
  }
  if (style === "block") return { dx: 0, width: charWidth, dy: 0, height: lineHeight, paint: "fill", showsChar: true };
  if (style === "block-outline") return { dx: 0, width: charWidth, dy: 0, height: lineHeight, paint: "outline", showsChar: false };
  // Underline styles: the bottom 2px of the row (VS Code's box); the thin one paints its lower 1px.
  const h = style === "underline" ? 2 : 1;
  return { dx: 0, width: charWidth, dy: lineHeight - h, height: h, paint: "fill", showsChar: false };
}

/** A run of whitespace to draw: `[start, end)` in the text's UTF-16 units. */
export interface WhitespaceRun {
  start: number;
  end: number;
  tab: boolean;
}

export interface WhitespaceContext {
  /** The text starts at the line's start (not a window further right). */
  atLineStart: boolean;
  /** The text ends at the line's end (not cut). */
  atLineEnd: boolean;
  /** Selected parts of this text, `[from, to)` (for "selection"). */
  selections?: Array<[number, number]>;
}

const isWs = (c: number): boolean => c === 32 || c === 9;

/**
 * Which spaces and tabs of `text` `editor.renderWhitespace` draws, as runs (spaces grouped;
 * each tab a run of its own), following VS Code's viewLineRenderer: "all" every one; "boundary"
 * all but single spaces between words (leading and trailing whitespace, tabs, and runs of two
 * or more); "selection" those of "all" that are selected; "trailing" those after the line's last
 * other character (every one on a blank line). `text` may be a window of a longer line: leading
 * and trailing whitespace is only known at the line's real ends (`ctx`).
 */
export function whitespaceRuns(text: string, mode: RenderWhitespace, ctx: WhitespaceContext): WhitespaceRun[] {
  if (mode === "none") return [];
  const len = text.length;
  let first = 0;
  while (first < len && isWs(text.charCodeAt(first))) first++;
  let last = len - 1;
  while (last >= 0 && isWs(text.charCodeAt(last))) last--;
  // Outside the window the line goes on: whitespace at a window edge is not leading/trailing.
  const firstNonWs = ctx.atLineStart ? first : Math.min(first, 0);
  const lastNonWs = ctx.atLineEnd ? last : Math.max(last, len);
  const runs: WhitespaceRun[] = [];
  let was = false; // VS Code's wasInWhitespace: the character before was drawn
  for (let i = 0; i < len; i++) {
    const c = text.charCodeAt(i);
    let draw: boolean;
    if (!isWs(c)) draw = false;
    else if (i < firstNonWs || i > lastNonWs || c === 9) draw = true;
    else if (mode === "boundary") draw = was || (i + 1 < len && isWs(text.charCodeAt(i + 1)));
    else draw = true;
    if (draw && mode === "selection") draw = !!ctx.selections?.some(([a, b]) => a <= i && i < b);
    if (draw && mode === "trailing") draw = ctx.atLineEnd && i > last;
    was = draw;
    if (!draw) continue;
    const prev = runs[runs.length - 1];
    if (c === 32 && prev && !prev.tab && prev.end === i) prev.end = i + 1;
    else runs.push({ start: i, end: i + 1, tab: c === 9 });
  }
  return runs;
}
