// The find widget's options turned into the server's query (`tome/search`'s `query`). The
// server knows text and regex, with or without case; Whole Word is a regex with `\b` on the
// sides where the pattern starts or ends with a word character (as VS Code's find: a match
// that starts or ends with a separator needs no boundary there). Pure.

import type { Query } from "../../protocol";

export interface FindOptions {
  pattern: string;
  regex: boolean;
  caseSensitive: boolean;
  wholeWord: boolean;
}

/** Rust's `regex::escape` set: these, backslashed, match themselves. */
export function escapeRegex(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$#&\-~]/g, "\\$&");
}

const WORD = /^\w$/u;

export function serverQuery(o: FindOptions): Query {
  if (!o.wholeWord) return { pattern: o.pattern, regex: o.regex, caseSensitive: o.caseSensitive };
  if (o.regex) return { pattern: `\\b(?:${o.pattern})\\b`, regex: true, caseSensitive: o.caseSensitive };
  const chars = [...o.pattern];
  const left = chars.length > 0 && WORD.test(chars[0]) ? "\\b" : "";
  const right = chars.length > 0 && WORD.test(chars[chars.length - 1]) ? "\\b" : "";
  return { pattern: `${left}${escapeRegex(o.pattern)}${right}`, regex: true, caseSensitive: o.caseSensitive };
}

/**
 * The replacement as the server takes it: with Regex off it is literal, even when Whole Word
 * made the query a regex (`$` doubled, so `$1` is not a group).
 */
export function serverReplacement(o: FindOptions, replacement: string): string {
  return !o.regex && o.wholeWord ? replacement.replace(/\$/g, "$$$$") : replacement;
}

/** Two option sets find the same matches. */
export function sameQuery(a: FindOptions, b: FindOptions): boolean {
  return a.pattern === b.pattern && a.regex === b.regex && a.caseSensitive === b.caseSensitive && a.wholeWord === b.wholeWord;
}
