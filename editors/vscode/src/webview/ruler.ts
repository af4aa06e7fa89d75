// The overview ruler, on the scrollbar as VS Code's: the current search's match density over
// the whole file (find.ts fills `matchDensity` as the count goes on), the lines edited since
// the last save, the rows of the current screen holding a highlight rule's match (rules.ts),
// and the cursor. Positions are fractions of the file: of the lines once the
// index is complete, of the bytes before (as the scrollbar itself, viewport.ts). Memory is the
// buckets' (buckets.ts), whatever the number of matches or edits.

import { Buckets } from "./buckets";
import { rulerEl, scroller, sliderEl } from "./dom";
import { afterDraw } from "./render";
import { ruleMarks } from "./rules";
import { lastLine, pipeline, state } from "./state";

const BUCKETS = 512;
export const matchDensity = new Buckets(BUCKETS);
const edits = new Buckets(BUCKETS);
let seenVersion = -1;
let queued = false;

/** Where `line` (or, before the index is complete, `offset`) is, as a fraction of the file. */
export function fractionOf(line: number | null, offset: number | null): number {
  const i = state.info;
  if (!i) return 0;
  if (line !== null && i.indexComplete) return line / Math.max(1, lastLine() + 1);
  if (offset !== null) return i.size ? offset / i.size : 0;
  return line !== null ? line / Math.max(1, i.lineCount.estimate) : 0;
}

function cursorFraction(): number {
  const l = state.frame.find((x) => x.number === state.cursor.line);
  return fractionOf(state.cursor.line, l ? l.offset : null);
}

/** The document was saved: no unsaved edits to mark. */
export function clearEditMarks(): void {
  edits.clear();
  drawRuler();
}

function colour(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

/** Redraws at the next frame (several changes in one frame draw once). */
export function drawRuler(): void {
  if (queued) return;
  queued = true;
  requestAnimationFrame(() => {
    queued = false;
    paint();
  });
}

function paint(): void {
  const w = rulerEl.clientWidth;
  const h = rulerEl.clientHeight;
  if (!w || !h) return;
  const dpr = window.devicePixelRatio || 1;
  if (rulerEl.width !== Math.round(w * dpr) || rulerEl.height !== Math.round(h * dpr)) {
    rulerEl.width = Math.round(w * dpr);
    rulerEl.height = Math.round(h * dpr);
  }
  const g = rulerEl.getContext("2d");
  if (!g) return;
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  const band = (marks: Array<[number, number, number]>, x: number, width: number, fill: string) => {
    g.fillStyle = fill;
    for (const [from, to, share] of marks) {
      g.globalAlpha = 0.35 + 0.65 * share;
      const y = Math.floor(from * h);
      g.fillRect(x, y, width, Math.max(2, Math.ceil(to * h) - y));
    }
    g.globalAlpha = 1;
  };
  // As VS Code's lanes: edits on the left, find matches in the middle, the cursor across.
  band(edits.marks(), 0, Math.ceil(w / 3), colour("--vscode-editorOverviewRuler-modifiedForeground", "rgba(12, 125, 157, 0.8)"));
  band(matchDensity.marks(), Math.floor(w / 3), Math.ceil(w / 3), colour("--vscode-editorOverviewRuler-findMatchForeground", "rgba(209, 134, 22, 0.8)"));
  // Highlight rules, on the right: the rows of the current screen with a match.
  for (const m of ruleMarks) {
    g.fillStyle = m.colour.startsWith("var(") ? colour(m.colour.slice(4, -1).trim(), "rgba(209, 134, 22, 0.8)") : m.colour;
    g.fillRect(Math.floor((2 * w) / 3), Math.floor(fractionOf(m.line, m.offset) * h), Math.ceil(w / 3), 2);
  }
  rulerEl.dataset.ruleMarks = String(ruleMarks.length);
  g.fillStyle = colour("--vscode-editorCursor-foreground", "#aeafad");
  g.fillRect(0, Math.min(h - 2, Math.floor(cursorFraction() * h)), w, 2);
  rulerEl.dataset.matchBuckets = String(matchDensity.marks().length);
  rulerEl.dataset.editBuckets = String(edits.marks().length);
  rulerEl.dataset.cursor = cursorFraction().toFixed(4);
}

// The slider: the scrollbar's thumb, drawn here at least 20 px tall (the native one of an
// 8 M px tall scroll area is a pixel), dragged by setting the native scroller's position
// (input.ts maps that to a line or a fraction of the bytes, as for a native drag).
const MIN_SLIDER = 20;
function placeSlider(): void {
  const track = scroller.clientHeight;
  const max = scroller.scrollHeight - track;
  if (max <= 0) {
    sliderEl.style.display = "none";
    return;
  }
  const h = Math.max(MIN_SLIDER, (track * track) / scroller.scrollHeight);
  sliderEl.style.display = "block";
  sliderEl.style.height = `${h}px`;
  sliderEl.style.top = `${(scroller.scrollTop / max) * (track - h)}px`;
}
scroller.addEventListener("scroll", placeSlider);
sliderEl.addEventListener("mousedown", (e) => e.stopPropagation());
sliderEl.addEventListener("pointerdown", (e) => {
  e.preventDefault();
  e.stopPropagation();
  sliderEl.setPointerCapture(e.pointerId);
  sliderEl.classList.add("active");
  const grab = e.clientY - sliderEl.getBoundingClientRect().top;
  const move = (ev: PointerEvent) => {
    const track = scroller.clientHeight;
    const h = sliderEl.offsetHeight;
    const top = scroller.getBoundingClientRect().top;
    const f = Math.min(1, Math.max(0, (ev.clientY - grab - top) / Math.max(1, track - h)));
    scroller.scrollTop = f * (scroller.scrollHeight - track);
  };
  const up = () => {
    sliderEl.classList.remove("active");
    sliderEl.removeEventListener("pointermove", move);
    sliderEl.removeEventListener("pointerup", up);
  };
  sliderEl.addEventListener("pointermove", move);
  sliderEl.addEventListener("pointerup", up);
});

afterDraw.push(() => {
  placeSlider();
  // An edit since the last draw (local echo moves the version): mark the cursor's line.
  if (seenVersion >= 0 && pipeline.version > seenVersion && state.info?.dirty) edits.add(cursorFraction());
  seenVersion = pipeline.version;
  drawRuler();
});
