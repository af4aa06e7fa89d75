// Highlight rules (`tome.highlightRules`): the server reports each rule's matches on the lines
// of every viewport reply (LineCache.put keeps them on their lines as `marks`); this paints
// them on the rows on screen with the CSS Custom Highlight API (one `Highlight` per rule,
// `::highlight(tome-rule-N)` in a style sheet made from the rule's colours), as colours.ts
// paints tokens, and lists the rows that have some for the overview ruler (ruler.ts). Only
// lines on screen are known, so the ruler marks the current screen's matches.

import type { RuleStyle } from "../protocol";
import { rowText, setHighlight } from "./colours";
import { afterDraw } from "./render";
import { state } from "./state";

let styles: RuleStyle[] = [];
let sheet: HTMLStyleElement | null = null;
/** Rules with a Highlight registered (cleared when the rules change). */
let painted = 0;

/** [line number or null, offset, colour] of each row on screen with a match (the first rule's colour). */
export const ruleMarks: Array<{ line: number | null; offset: number; colour: string }> = [];

/** The rules' styles changed (or first arrived): a style sheet with one rule each. */
export function setRuleStyles(next: RuleStyle[]): void {
  styles = next;
  sheet ??= document.head.appendChild(document.createElement("style"));
  sheet.id = "tome-rules";
  sheet.textContent = next
    .map((s, i) => {
      const decl = [
        s.color ? `color: ${s.color};` : "",
        s.backgroundColor ? `background-color: ${s.backgroundColor};` : "",
        // (a highlight cannot change the font: bold is drawn as a heavier stroke)
        s.fontWeight === "bold" ? "text-shadow: 0.5px 0 0 currentColor;" : "",
      ].join(" ");
      return `::highlight(tome-rule-${i}) { ${decl} }`;
    })
    .join("\n");
  paintRules();
}

/** The colour a rule is marked with in the overview ruler. */
function markColour(i: number): string {
  const s = styles[i];
  return s?.backgroundColor ?? s?.color ?? "rgba(209, 134, 22, 0.8)";
}

export function paintRules(): void {
  ruleMarks.length = 0;
  if (typeof CSS === "undefined" || !("highlights" in CSS)) return;
  const byRule: Range[][] = styles.map(() => []);
  const spans: Array<[number | null, number, number, number]> = [];
  state.frame.forEach((l, idx) => {
    if (!l.marks?.length) return;
    const t = rowText(idx);
    if (!t) return;
    // (a wrapped row shows [startColumn, startColumn + text.length) of its line)
    const from = l.startColumn;
    const to = l.startColumn + l.text.length;
    let first = -1;
    for (const [rule, start, end] of l.marks) {
      const s = Math.max(start, from);
      const e = Math.min(end, to);
      if (e <= s || !byRule[rule]) continue;
      const r = document.createRange();
      r.setStart(t.node, Math.min(t.node.length, t.pad + s - from));
      r.setEnd(t.node, Math.min(t.node.length, t.pad + e - from));
      byRule[rule].push(r);
      spans.push([l.number, s, e, rule]);
      if (first < 0 || rule < first) first = rule;
    }
    if (first >= 0) ruleMarks.push({ line: l.number, offset: l.offset, colour: markColour(first) });
  });
  byRule.forEach((ranges, i) => setHighlight(`tome-rule-${i}`, ranges));
  for (let i = byRule.length; i < painted; i++) setHighlight(`tome-rule-${i}`, []);
  painted = byRule.length;
  // For the e2e test: [line, start, end, rule] of every span painted.
  document.body.dataset.ruleSpans = JSON.stringify(spans);
}

afterDraw.push(paintRules);
