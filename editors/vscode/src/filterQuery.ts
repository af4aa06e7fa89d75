// What "Tome: Filter Lines…" accepts, turned into the server's query tree (`tome/filter`,
// docs/protocol.md "Filter views"). Pure: no `vscode`, unit-tested.
//
// Syntax (VS Code's find widget defaults: plain text, any case, anywhere in a word):
//   [-rcwv] TERM [&& TERM]… [|| TERM [&& TERM]…]…
// Leading flags, as one word: `r` regular expression, `c` match case, `w` whole word (as the
// find widget's Alt+R, Alt+C, Alt+W), `v` lines that do NOT match (`grep -v`). `--` ends the
// flags (`-- -v` filters lines holding "-v"). ` && ` and ` || ` (with their spaces) join terms,
// AND before OR; a term starting with `!` is negated (`\!` for a literal `!`). Everything else
// is the pattern as typed, spaces included.

import type { FilterQuery } from "./protocol";

export interface FilterOptions {
  regex: boolean;
  caseSensitive: boolean;
  wholeWord: boolean;
}

export const DEFAULT_OPTIONS: FilterOptions = { regex: false, caseSensitive: false, wholeWord: false };

/** The query, or a message saying what is wrong with the input. */
export type ParsedFilter = { query: FilterQuery } | { error: string };

/** Parses the input box's text; `defaults` are the toggles' state (flags in the text turn them on). */
export function parseFilter(input: string, defaults: FilterOptions = DEFAULT_OPTIONS): ParsedFilter {
  let text = input;
  const opts = { ...defaults };
  let invert = false;
  const flags = /^-([rcwv]+)(?: |$)/.exec(text);
  if (text.startsWith("-- ")) text = text.slice(3);
  else if (flags) {
    for (const f of flags[1]) {
      if (f === "r") opts.regex = true;
      else if (f === "c") opts.caseSensitive = true;
      else if (f === "w") opts.wholeWord = true;
      else invert = true;
    }
    text = text.slice(flags[0].length);
  }
  const groups: FilterQuery[] = [];
  for (const group of text.split(" || ")) {
    const terms: FilterQuery[] = [];
    for (const raw of group.split(" && ")) {
      const negated = raw.startsWith("!");
      const pattern = negated ? raw.slice(1) : raw.startsWith("\\!") ? raw.slice(1) : raw;
      if (pattern === "") return { error: input.trim() === "" ? "Type a pattern to filter by." : `An empty term in "${input}".` };
      const leaf: FilterQuery = { pattern, regex: opts.regex, caseSensitive: opts.caseSensitive, wholeWord: opts.wholeWord };
      terms.push(negated ? { not: leaf } : leaf);
    }
    groups.push(terms.length === 1 ? terms[0] : { and: terms });
  }
  const query = groups.length === 1 ? groups[0] : { or: groups };
  return { query: invert ? { not: query } : query };
}

/** A short name for the filter's tab (no `/`: the tab shows the URI's last path segment). */
export function filterLabel(input: string, options: FilterOptions = DEFAULT_OPTIONS): string {
  const on = [options.regex ? "r" : "", options.caseSensitive ? "c" : "", options.wholeWord ? "w" : ""].join("");
  const text = (on ? `-${on} ` : "") + input.trim();
  const short = text.length > 40 ? `${text.slice(0, 39)}…` : text;
  return short.replace(/\//g, "∕");
}
