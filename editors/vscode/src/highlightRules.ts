// `tome.highlightRules`: the user's highlight rules (ERROR in red, a request id), read from the
// setting into what the server takes (`tome/setHighlightRules`, for the session: it compiles
// them once and reports their matches in each viewport reply) and what the webview draws them
// with. Pure: no `vscode`, unit-tested.

import type { HighlightRuleIn, RuleStyle } from "./protocol";

/** A CSS colour the webview may put in a style sheet: names, #hex, rgb()/hsl() and the like, `var(--vscode-…)`. Nothing that could end the declaration. */
const COLOUR = /^[#a-zA-Z0-9(),.%\s-]{1,64}$/;

function colour(v: unknown): string | undefined {
  return typeof v === "string" && COLOUR.test(v) ? v.trim() : undefined;
}

/**
 * The rules of the setting's value (an array of `{pattern, regex?, caseSensitive?, wholeWord?,
 * color?, backgroundColor?, fontWeight?}`): entries without a string `pattern` are skipped,
 * colours that are not plain CSS colours are dropped. `rules[i]` is drawn with `styles[i]`.
 */
export function parseRules(value: unknown): { rules: HighlightRuleIn[]; styles: RuleStyle[] } {
  const rules: HighlightRuleIn[] = [];
  const styles: RuleStyle[] = [];
  if (!Array.isArray(value)) return { rules, styles };
  for (const r of value as Array<Record<string, unknown>>) {
    if (!r || typeof r !== "object" || typeof r.pattern !== "string" || r.pattern === "") continue;
    rules.push({
      id: r.pattern,
      pattern: r.pattern,
      regex: r.regex === true,
      caseSensitive: r.caseSensitive !== false,
      wholeWord: r.wholeWord === true,
    });
    const style: RuleStyle = {};
    const c = colour(r.color);
    const b = colour(r.backgroundColor);
    if (c) style.color = c;
    if (b) style.backgroundColor = b;
    if (r.fontWeight === "bold") style.fontWeight = "bold";
    // (a rule with no style at all is drawn as the find highlight)
    if (!c && !b && !style.fontWeight) style.backgroundColor = "var(--vscode-editor-findMatchHighlightBackground)";
    styles.push(style);
  }
  return { rules, styles };
}
