// JSON and JSON lines: keys (a string followed by ':'), strings, numbers, true/false/null,
// punctuation. One pass; a window that starts inside a string is coloured from its start.

import { MAX_TOKENIZE, isWordChar, numberEnd, quotedEnd, type Token } from "./token";

export function tokenizeJson(text: string): Token[] {
  const n = Math.min(text.length, MAX_TOKENIZE);
  const out: Token[] = [];
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      const e = quotedEnd(text, i, n);
      let k = e;
      while (k < n && (text.charCodeAt(k) === 32 || text.charCodeAt(k) === 9)) k++;
      out.push({ start: i, end: e, kind: text.charCodeAt(k) === 58 ? "key" : "string" });
      i = e;
      continue;
    }
    if (c === 45 || (c >= 48 && c <= 57)) {
      const e = numberEnd(text, i, n);
      if (e > 0) {
        out.push({ start: i, end: e, kind: "number" });
        i = e;
        continue;
      }
    }
    if (isWordChar(c)) {
      let j = i;
      while (j < n && isWordChar(text.charCodeAt(j))) j++;
      const w = text.slice(i, j);
      if (w === "true" || w === "false" || w === "null") out.push({ start: i, end: j, kind: "keyword" });
      i = j;
      continue;
    }
    if (c === 123 || c === 125 || c === 91 || c === 93 || c === 58 || c === 44) out.push({ start: i, end: i + 1, kind: "punct" });
    i++;
  }
  return out;
}
