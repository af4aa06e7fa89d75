import { test } from "node:test";
import assert from "node:assert/strict";
import { Buckets } from "../../webview/buckets";
import { MatchCounter, OVERLAP, countLabel } from "../../webview/find/counter";
import { FindHistory } from "../../webview/find/history";
import { escapeRegex, serverQuery } from "../../webview/find/query";

test("query: options to the server's query; Whole Word sends editor.wordSeparators for the server to check", () => {
  const o = { pattern: "a.b", regex: false, caseSensitive: false, wholeWord: false };
  assert.deepEqual(serverQuery(o, "-."), { pattern: "a.b", regex: false, caseSensitive: false });
  assert.deepEqual(serverQuery({ ...o, wholeWord: true }, "-."), { pattern: "a.b", regex: false, caseSensitive: false, wordSeparators: "-." });
  assert.deepEqual(serverQuery({ ...o, pattern: "x|y", regex: true, wholeWord: true, caseSensitive: true }, ""), {
    pattern: "x|y",
    regex: true,
    caseSensitive: true,
    wordSeparators: "",
  });
  assert.equal(escapeRegex("a+b(c)[d]{e}^$|?*\\.#&-~"), "a\\+b\\(c\\)\\[d\\]\\{e\\}\\^\\$\\|\\?\\*\\\\\\.\\#\\&\\-\\~");
});

test("history: Up walks back (recording what is typed), Down forward and past the newest to empty", () => {
  const h = new FindHistory(3);
  h.add("a");
  h.add("b");
  h.add("a"); // moved to the end
  assert.deepEqual(h.entries, ["b", "a"]);
  assert.equal(h.previous("a"), "b");
  assert.equal(h.previous("b"), null);
  assert.equal(h.next(), "a");
  assert.equal(h.next(), "");
  assert.equal(h.next(), null);
  // Typed text not in the history is kept, so Down brings it back.
  assert.equal(h.previous("typed"), "a");
  assert.deepEqual(h.entries, ["b", "a", "typed"]);
  assert.equal(h.next(), "typed");
  h.add("c");
  assert.deepEqual(h.entries, ["a", "typed", "c"]); // at most 3
});

/** Runs a counter over `text` with a plain substring search standing in for the server. */
function runCounter(text: string, needle: string, chunkBytes: number, pageLimit: number, cap = 1e9): { counter: MatchCounter; requests: number } {
  const all: Array<{ start: number; end: number }> = [];
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length)) all.push({ start: i, end: i + needle.length });
  const c = new MatchCounter({ start: 0, end: text.length }, chunkBytes, cap);
  let requests = 0;
  for (let r = c.request(); r; r = c.request()) {
    requests++;
    assert.ok(r.offsets.end <= text.length && r.offsets.end - r.offsets.start <= chunkBytes + OVERLAP);
    // The server: matches that start in the range and end by its end, a page at a time.
    const from = r.offsets.start;
    const inRange = [];
    for (let i = text.indexOf(needle, from); i >= 0 && i + needle.length <= r.offsets.end; i = text.indexOf(needle, i + needle.length))
      inRange.push({ start: i, end: i + needle.length });
    const page = inRange.slice(0, pageLimit);
    c.record(r, page, inRange.length > pageLimit ? page[page.length - 1].end : null);
    assert.ok(requests < 10000);
  }
  assert.ok(c.done || c.capped);
  if (c.done) assert.equal(c.total, all.length);
  return { counter: c, requests };
}

test("counter: chunked counting finds every match once, across chunk ends and pages", () => {
  const text = "xx ab abab ".repeat(500) + "ab";
  const expected = text.split("ab").length - 1;
  for (const [chunk, page] of [
    [7, 2],
    [100, 3],
    [1000, 10000],
    [1 << 20, 5],
  ]) {
    const { counter } = runCounter(text, "ab", chunk, page);
    assert.equal(counter.total, expected, `chunk ${chunk}, page ${page}`);
    assert.equal(counter.fraction, 1);
    // locate: the matches before an offset = chunks before + those in its chunk before it.
    const starts = (from: number, to: number) => {
      let n = 0;
      for (let i = text.indexOf("ab", from); i >= 0 && i < to; i = text.indexOf("ab", i + 2)) n++;
      return n;
    };
    for (const off of [0, 4, 5, 333, 2000, text.length - 1]) {
      const l = counter.locate(off)!;
      assert.equal(l.before + starts(l.start, off), starts(0, off), `offset ${off}`);
    }
  }
});

test("counter: progress while counting, the cap, and the labels", () => {
  const text = "a".repeat(1000);
  const c = new MatchCounter({ start: 0, end: 1000 }, 100, 250);
  assert.equal(countLabel(null, c), "? of 0+ (0%)");
  const r = c.request()!;
  c.record(
    r,
    Array.from({ length: 100 }, (_, i) => ({ start: i, end: i + 1 })),
    null,
  );
  assert.equal(c.fraction, 0.1);
  assert.equal(countLabel(null, c), "? of 100+ (10%)");
  assert.equal(countLabel(7, c), "7 of 100+ (10%)");
  assert.equal(c.locate(50)?.before, 0);
  assert.equal(c.locate(500), null);
  for (let i = 0; i < 2; i++) {
    const q = c.request()!;
    c.record(
      q,
      Array.from({ length: 100 }, (_, k) => ({ start: q.offsets.start + k, end: q.offsets.start + k + 1 })),
      null,
    );
  }
  assert.ok(c.capped && !c.done && c.request() === null);
  c.finish(text.length);
  assert.equal(countLabel(3, c), "3 of 1000");
  const none = new MatchCounter({ start: 0, end: 10 }, 100);
  none.record(none.request()!, [], null);
  assert.equal(countLabel(null, none), "No results");
});

test("buckets: bounded density, normalised marks", () => {
  const b = new Buckets(4);
  for (let i = 0; i < 1000; i++) b.add(0.1);
  b.add(0.99);
  b.add(1.5); // clamped into the last bucket
  assert.deepEqual(Array.from(b.counts), [1000, 0, 0, 2]);
  assert.deepEqual(b.marks(), [
    [0, 0.25, 1],
    [0.75, 1, 0.002],
  ]);
  b.clear();
  assert.deepEqual(b.marks(), []);
});
