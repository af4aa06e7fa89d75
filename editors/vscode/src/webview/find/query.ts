// The find widget's options turned into the server's query (`tome/search`'s `query`). The
// server knows text and regex, with or without case, and Whole Word by `editor.wordSeparators`
// with VS Code's rule (`wordSeparators`: a match that starts or ends with a separator needs no
// boundary on that side; `_`, digits and non-ASCII characters such as `€` are word
// characters), so what it counts, lists and replaces is what VS Code's find does. Pure.

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

/** The query of the find widget's options; `separators` is `editor.wordSeparators`. */
export function serverQuery(o: FindOptions, separators: string): Query {
  const q: Query = { pattern: o.pattern, regex: o.regex, caseSensitive: o.caseSensitive };
  return o.wholeWord ? { ...q, wordSeparators: separators } : q;
}

/** Two option sets find the same matches. */
export function sameQuery(a: FindOptions, b: FindOptions): boolean {
  return a.pattern === b.pattern && a.regex === b.regex && a.caseSensitive === b.caseSensitive && a.wholeWord === b.wholeWord;
}
