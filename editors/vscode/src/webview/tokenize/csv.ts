// CSV / TSV: each field coloured by its column (four colours in turn), separators as
// punctuation; quoted fields may hold the separator ("" is a quote). Columns count from the
// window's start: a window scrolled right (`cutBefore`) starts its colours at its first field.

import { MAX_TOKENIZE, type Token, type TokenKind } from "./token";

const COLUMNS: TokenKind[] = ["col0", "col1", "col2", "col3"];

export function tokenizeCsv(text: string, separator: string): Token[] {
  const n = Math.min(text.length, MAX_TOKENIZE);
  const sep = separator.charCodeAt(0);
  const out: Token[] = [];
  let col = 0;
  let i = 0;
  while (i <= n) {
    let j = i;
    if (text.charCodeAt(j) === 34) {
      j++;
      while (j < n) {
        if (text.charCodeAt(j) === 34) {
          if (text.charCodeAt(j + 1) === 34) j += 2;
          else {
            j++;
            break;
          }
        } else j++;
      }
    }
    while (j < n && text.charCodeAt(j) !== sep) j++;
    if (j > i) out.push({ start: i, end: j, kind: COLUMNS[col % COLUMNS.length] });
    if (j >= n) break;
    out.push({ start: j, end: j + 1, kind: "punct" });
    col++;
    i = j + 1;
  }
  return out;
}
