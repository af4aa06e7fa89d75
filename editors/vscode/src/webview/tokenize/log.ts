// Log lines: levels (ERROR, WARN, INFO, DEBUG, … in capitals, or any case in brackets),
// timestamps (ISO dates and times, HH:MM:SS), quoted strings, numbers, key=value.
// One pass; the timestamp patterns are anchored and bounded (at most ~40 characters each).

import { MAX_TOKENIZE, isDigit, isWordChar, numberEnd, quotedEnd, type Token, type TokenKind } from "./token";

const LEVELS: Record<string, TokenKind> = {
  FATAL: "error",
  PANIC: "error",
  CRITICAL: "error",
  CRIT: "error",
  ERROR: "error",
  ERR: "error",
  SEVERE: "error",
  WARNING: "warn",
  WARN: "warn",
  NOTICE: "info",
  INFO: "info",
  DEBUG: "debug",
  TRACE: "debug",
  VERBOSE: "debug",
  FINE: "debug",
};

// Sticky (anchored at lastIndex), bounded: no unbounded repetition, so each try is O(1).
const DATE_TIME = /\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?/y;
const TIME = /\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?/y;

function level(word: string, bracketed: boolean): TokenKind | null {
  if (word === word.toUpperCase()) return LEVELS[word] ?? null;
  return bracketed ? (LEVELS[word.toUpperCase()] ?? null) : null;
}

/** End of a timestamp at `i`, or -1. */
function timeEnd(text: string, i: number, n: number): number {
  for (const re of [DATE_TIME, TIME]) {
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) continue;
    const e = i + m[0].length;
    if (e <= n && !(e < n && isWordChar(text.charCodeAt(e)))) return e;
  }
  return -1;
}

export function tokenizeLog(text: string): Token[] {
  const n = Math.min(text.length, MAX_TOKENIZE);
  const out: Token[] = [];
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    const prevWord = i > 0 && isWordChar(text.charCodeAt(i - 1));
    if (c === 34 || (c === 39 && !prevWord)) {
      const e = quotedEnd(text, i, n);
      out.push({ start: i, end: e, kind: "string" });
      i = e;
      continue;
    }
    if (isDigit(c) && !prevWord) {
      const t = timeEnd(text, i, n);
      if (t > 0) {
        out.push({ start: i, end: t, kind: "time" });
        i = t;
        continue;
      }
    }
    if ((isDigit(c) || (c === 45 && isDigit(text.charCodeAt(i + 1)))) && !prevWord) {
      const e = numberEnd(text, i, n);
      if (e > 0) {
        out.push({ start: i, end: e, kind: "number" });
        i = e;
        continue;
      }
    }
    if (isWordChar(c)) {
      let j = i;
      while (j < n && (isWordChar(text.charCodeAt(j)) || text.charCodeAt(j) === 46 || text.charCodeAt(j) === 45)) j++;
      const next = text.charCodeAt(j);
      if (next === 61 && j + 1 < n) {
        // key=value: the key, then the value up to a space or comma (a quoted or numeric value
        // is coloured as such by the loop).
        out.push({ start: i, end: j, kind: "key" });
        out.push({ start: j, end: j + 1, kind: "punct" });
        let k = j + 1;
        const v = text.charCodeAt(k);
        if (v !== 34 && v !== 39 && numberEnd(text, k, n) < 0) {
          while (k < n && !/[\s,;]/.test(text[k])) k++;
          if (k > j + 1) out.push({ start: j + 1, end: k, kind: "value" });
        }
        i = k;
        continue;
      }
      // A level: a word alone (not part of a dotted name), e.g. "ERROR", "[warn]".
      let w = i;
      while (w < j && isWordChar(text.charCodeAt(w))) w++;
      if (w === j) {
        const bracketed = i > 0 && /[[(<]/.test(text[i - 1]);
        const k = level(text.slice(i, j), bracketed);
        if (k) out.push({ start: i, end: j, kind: k });
      }
      i = j;
      continue;
    }
    i++;
  }
  return out;
}
