import { test } from "node:test";
import assert from "node:assert/strict";
import { parseRules } from "../../highlightRules";
import { LineCache } from "../../viewport";
import type { ViewportResult } from "../../protocol";

test("tome.highlightRules: wire rules and styles; bad entries and unsafe colours dropped", () => {
  const { rules, styles } = parseRules([
    { pattern: "ERROR", color: "#f14c4c", fontWeight: "bold" },
    { pattern: "req=[0-9a-f]+", regex: true, caseSensitive: false, backgroundColor: "rgba(255, 200, 0, 0.4)" },
    { pattern: "" },
    { regex: true },
    "ERROR",
    { pattern: "x", color: "red; background: url(evil)", wholeWord: true },
  ]);
  assert.deepEqual(rules, [
    { id: "ERROR", pattern: "ERROR", regex: false, caseSensitive: true, wholeWord: false },
    { id: "req=[0-9a-f]+", pattern: "req=[0-9a-f]+", regex: true, caseSensitive: false, wholeWord: false },
    { id: "x", pattern: "x", regex: false, caseSensitive: true, wholeWord: true },
  ]);
  assert.deepEqual(styles, [
    { color: "#f14c4c", fontWeight: "bold" },
    { backgroundColor: "rgba(255, 200, 0, 0.4)" },
    { backgroundColor: "var(--vscode-editor-findMatchHighlightBackground)" },
  ]);
  assert.deepEqual(parseRules(undefined), { rules: [], styles: [] });
});

test("LineCache.put keeps a reply's highlights on their lines", () => {
  const l = (number: number, text: string) => ({
    number,
    offset: 0,
    text,
    startColumn: 0,
    length: text.length,
    byteLength: text.length,
    breakLength: 1,
    cutBefore: false,
    cutAfter: false,
    invalid: false,
  });
  const r: ViewportResult = {
    version: 0,
    width: 100,
    lineCount: { known: 3, estimate: 3, exact: true },
    lines: [l(5, "a ERROR"), l(6, "ok"), l(7, "ERROR ERROR")],
    highlights: [
      { rule: 0, line: 0, start: 2, end: 7 },
      { rule: 0, line: 2, start: 0, end: 5 },
      { rule: 1, line: 2, start: 6, end: 11 },
    ],
  };
  const c = new LineCache();
  c.put(r);
  assert.deepEqual(c.get(5)?.marks, [[0, 2, 7]]);
  assert.equal(c.get(6)?.marks, undefined);
  assert.deepEqual(c.get(7)?.marks, [
    [0, 0, 5],
    [1, 6, 11],
  ]);
});
