import { test } from "node:test";
import assert from "node:assert/strict";
import { tokenize } from "../../webview/tokenize";
import { tokenizeCsv } from "../../webview/tokenize/csv";
import { tokenizeJson } from "../../webview/tokenize/json";
import { tokenizeLog } from "../../webview/tokenize/log";
import { sniffFormat } from "../../webview/tokenize/sniff";
import { MAX_TOKENIZE, type Token } from "../../webview/tokenize/token";

/** The tokens as `kind:text` strings, for readable assertions. */
function show(text: string, tokens: Token[]): string[] {
  return tokens.map((t) => `${t.kind}:${text.slice(t.start, t.end)}`);
}

function assertOrdered(tokens: Token[], len: number): void {
  let at = 0;
  for (const t of tokens) {
    assert.ok(t.start >= at && t.end > t.start && t.end <= len, `token ${JSON.stringify(t)} after ${at}`);
    at = t.end;
  }
}

test("log: timestamp, level, bracketed word, key=value, numbers, strings", () => {
  const line = '2026-11-27T00:00:00.016Z ERROR [worker-57] seq=1 msg="a b" took 12.5 ms user=u30933';
  const t = tokenizeLog(line);
  assertOrdered(t, line.length);
  assert.deepEqual(show(line, t), [
    "time:2026-11-27T00:00:00.016Z",
    "error:ERROR",
    "key:seq",
    "punct:=",
    "number:1",
    "key:msg",
    "punct:=",
    'string:"a b"',
    "number:12.5",
    "key:user",
    "punct:=",
    "value:u30933",
  ]);
});

test("log: levels in capitals or bracketed in any case; not inside words or names", () => {
  assert.deepEqual(show("[warn] x", tokenizeLog("[warn] x")), ["warn:warn"]);
  assert.deepEqual(show("INFO DEBUG TRACE FATAL", tokenizeLog("INFO DEBUG TRACE FATAL")), ["info:INFO", "debug:DEBUG", "debug:TRACE", "error:FATAL"]);
  assert.deepEqual(tokenizeLog("an error happened, ERRORS, my.ERROR.x"), []);
});

test("log: times, numbers not inside words, apostrophes are not strings", () => {
  const line = "at 12:30:45.123 id abc123 don't 0x1F -4 1e9";
  assert.deepEqual(show(line, tokenizeLog(line)), ["time:12:30:45.123", "number:0x1F", "number:-4", "number:1e9"]);
  assert.deepEqual(show("say 'hi' now", tokenizeLog("say 'hi' now")), ["string:'hi'"]);
});

test("log: an unterminated string runs to the end of the window", () => {
  const line = 'x="abc';
  assert.deepEqual(show(line, tokenizeLog(line)), ["key:x", "punct:=", 'string:"abc']);
});

test("json: keys, strings, numbers, keywords, punctuation", () => {
  const line = '{"a": "x\\"y", "n": -1.5e3, "ok": true, "z": null, "l": [1, false]}';
  const t = tokenizeJson(line);
  assertOrdered(t, line.length);
  assert.deepEqual(
    show(line, t).filter((s) => !s.startsWith("punct")),
    ['key:"a"', 'string:"x\\"y"', 'key:"n"', "number:-1.5e3", 'key:"ok"', "keyword:true", 'key:"z"', "keyword:null", 'key:"l"', "number:1", "keyword:false"],
  );
  assert.equal(t.filter((x) => x.kind === "punct").length, 14);
});

test("csv: columns in turn, quoted separators, empty fields, TSV", () => {
  const line = 'a,"b,c",,d,"e""f",g';
  const t = tokenizeCsv(line, ",");
  assertOrdered(t, line.length);
  assert.deepEqual(
    show(line, t).filter((s) => !s.startsWith("punct")),
    ["col0:a", 'col1:"b,c"', "col3:d", 'col0:"e""f"', "col1:g"],
  );
  assert.deepEqual(show("x\ty", tokenizeCsv("x\ty", "\t")), ["col0:x", "punct:\t", "col1:y"]);
});

test("sniff: by file name, then by content", () => {
  assert.deepEqual(sniffFormat("/a/b.jsonl", []), { kind: "json" });
  assert.deepEqual(sniffFormat("/a/b.tsv", []), { kind: "csv", separator: "\t" });
  assert.deepEqual(sniffFormat("/a/b.csv", ["a;b;c", "1;2;3"]), { kind: "csv", separator: ";" });
  assert.deepEqual(sniffFormat("/a/data", ['{"a":1}', '{"a":2}', ""]), { kind: "json" });
  assert.deepEqual(sniffFormat("/a/data.txt", ["id,name,n", "1,x,2", '2,"y,z",3']), { kind: "csv", separator: "," });
  assert.deepEqual(sniffFormat("/a/app.log", ["2026-01-01 INFO a, b", "2026-01-01 WARN c"]), { kind: "log" });
  assert.deepEqual(sniffFormat("/a/x", []), { kind: "log" });
});

test("tokenizers are bounded: a huge window is coloured only up to MAX_TOKENIZE, in linear time", () => {
  const big = 'k=v "s" 12 '.repeat(200_000); // 2.2 M characters
  for (const f of [{ kind: "log" as const }, { kind: "json" as const }, { kind: "csv" as const, separator: "," }]) {
    const s = Date.now();
    const t = tokenize(f, big);
    assert.ok(Date.now() - s < 500, `${f.kind} took ${Date.now() - s} ms`);
    assert.ok(t.length > 0 && t[t.length - 1].end <= MAX_TOKENIZE, `${f.kind}: last token ends at ${t[t.length - 1]?.end}`);
  }
  // Pathological input for the look-aheads: quotes never closed, long digit runs, spaces.
  for (const s of ['"'.repeat(1e6), "9".repeat(1e6), " ".repeat(1e6) + ":", "1-".repeat(5e5)]) {
    const t0 = Date.now();
    tokenizeLog(s);
    tokenizeJson(s);
    tokenizeCsv(s, ",");
    assert.ok(Date.now() - t0 < 500, `took ${Date.now() - t0} ms`);
  }
});
