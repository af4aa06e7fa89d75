// What a tokenizer gives: spans of a line's visible text, each of one kind (a colour). Pure:
// no DOM, unit-tested with `node --test`. Every tokenizer reads its text once, left to right,
// with bounded look-ahead (linear), and only the first MAX_TOKENIZE characters of it: a line
// is coloured within its window (what `tome/viewport` sent), never as a whole.

export type TokenKind = "error" | "warn" | "info" | "debug" | "time" | "string" | "number" | "keyword" | "key" | "value" | "punct" | "col0" | "col1" | "col2" | "col3";

export const TOKEN_KINDS: readonly TokenKind[] = [
  "error",
  "warn",
  "info",
  "debug",
  "time",
  "string",
  "number",
  "keyword",
  "key",
  "value",
  "punct",
  "col0",
  "col1",
  "col2",
  "col3",
];

/** `[start, end)` in UTF-16 units of the text given. */
export interface Token {
  start: number;
  end: number;
  kind: TokenKind;
}

/** Characters of a window coloured at most (a window is a screen wide; this bounds the rest). */
export const MAX_TOKENIZE = 16384;

export function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}
export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** End of a quoted string starting at `i` (the quote), backslash escapes; unterminated: `n`. */
export function quotedEnd(text: string, i: number, n: number): number {
  const q = text.charCodeAt(i);
  let j = i + 1;
  while (j < n) {
    const c = text.charCodeAt(j);
    if (c === 92) j += 2;
    else if (c === q) return j + 1;
    else j++;
  }
  return n;
}

/** End of a number at `i` (-?digits[.digits][e±digits], or 0x…), or -1; not inside a word. */
export function numberEnd(text: string, i: number, n: number): number {
  let j = i;
  if (text.charCodeAt(j) === 45) j++; // -
  if (j >= n || !isDigit(text.charCodeAt(j))) return -1;
  if (text.charCodeAt(j) === 48 && (text.charCodeAt(j + 1) | 32) === 120) {
    let k = j + 2;
    while (k < n && /[0-9a-fA-F]/.test(text[k])) k++;
    if (k > j + 2 && !(k < n && isWordChar(text.charCodeAt(k)))) return k;
    return -1;
  }
  while (j < n && isDigit(text.charCodeAt(j))) j++;
  if (text.charCodeAt(j) === 46 && isDigit(text.charCodeAt(j + 1))) {
    j++;
    while (j < n && isDigit(text.charCodeAt(j))) j++;
  }
  const e = text.charCodeAt(j) | 32;
  if (e === 101) {
    let k = j + 1;
    const s = text.charCodeAt(k);
    if (s === 43 || s === 45) k++;
    if (isDigit(text.charCodeAt(k))) {
      while (k < n && isDigit(text.charCodeAt(k))) k++;
      j = k;
    }
  }
  if (j < n && isWordChar(text.charCodeAt(j))) return -1;
  return j;
}
