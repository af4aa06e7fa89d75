// Colours: the rows on screen tokenized (tokenize/*) and painted with the CSS Custom Highlight
// API (one `Highlight` per token kind, `::highlight(tome-KIND)` in media/editor.css), so the
// rows keep one text node each (render.ts measures columns on it). Only the text each row
// holds is read: a line of 1 GiB is coloured within its window. The format is chosen once per
// document (sniff.ts) from its path and the first lines drawn.

import { tokenize } from "./tokenize";
import { sniffFormat, type Format } from "./tokenize/sniff";
import { TOKEN_KINDS } from "./tokenize/token";
import { linesEl } from "./dom";
import { afterDraw } from "./render";
import { rowLeft, state } from "./state";

let enabled = true;
let format: Format | null = null;

export function setHighlighting(on: boolean): void {
  enabled = on;
  document.body.dataset.format = "";
  paintColours();
}

/** The text node of row `idx` and how many padding columns precede the line's text in it. */
export function rowText(idx: number): { node: Text; pad: number } | null {
  const row = linesEl.children[idx] as HTMLElement | undefined;
  const node = row?.querySelector(".tx")?.firstChild;
  if (!node || node.nodeType !== Node.TEXT_NODE) return null;
  return { node: node as Text, pad: Math.max(0, state.frame[idx].startColumn - rowLeft(state.frame[idx])) };
}

/** Sets the ranges of the named highlight (`::highlight(NAME)` in the CSS). */
export function setHighlight(name: string, ranges: Range[]): void {
  (CSS.highlights as unknown as Map<string, Highlight>).set(name, new Highlight(...ranges));
}

export function paintColours(): void {
  if (typeof CSS === "undefined" || !("highlights" in CSS)) return;
  const byKind = new Map<string, Range[]>(TOKEN_KINDS.map((k) => [k, []]));
  if (enabled && state.info && state.frame.length) {
    format ??= sniffFormat(
      state.info.path,
      state.frame.map((l) => l.text),
    );
    document.body.dataset.format = format.kind;
    state.frame.forEach((l, idx) => {
      const t = rowText(idx);
      if (!t) return;
      const len = t.node.length;
      for (const tok of tokenize(format!, l.text)) {
        const r = document.createRange();
        r.setStart(t.node, Math.min(len, t.pad + tok.start));
        r.setEnd(t.node, Math.min(len, t.pad + tok.end));
        byKind.get(tok.kind)!.push(r);
      }
    });
  }
  for (const [kind, ranges] of byKind) setHighlight(`tome-${kind}`, ranges);
  document.body.dataset.colourRanges = String([...byKind.values()].reduce((n, r) => n + r.length, 0));
}

afterDraw.push(paintColours);
