// Filter views (src/filterQuery.ts, src/filterSession.ts, src/filterCommand.ts): the input's
// syntax as a query tree, and against the real `tome serve` on a generated log: the view's
// lines and gutter numbers equal a linear scan (the oracle: JavaScript's own matching of each
// line), reads by scrollbar fraction, an edit through the view lands on the source line (one
// undo step of the source), a nested filter, a bad regex, closing frees the filter.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseFilter, filterLabel, DEFAULT_OPTIONS } from "../../filterQuery";
import { FilterSession, byteColumn, filterDocInfo, toViewLine } from "../../filterSession";
import { filterLines, type FilterCommandDeps } from "../../filterCommand";
import { filterUriNonce, filterUriParts, parseFilterUri } from "../../filterUri";
import { DocSession, type EditedEvent } from "../../session";
import type { FilterInfo, HostMessage, ViewportResult, WebviewMessage } from "../../protocol";
import { TomeServer } from "../../rpc";

const binary = process.env.TOME_BIN ?? path.resolve(__dirname, "../../../../../target/release/tome");

test("parseFilter: flags, AND before OR, negation, escapes, errors", () => {
  const leaf = (pattern: string, o: Partial<typeof DEFAULT_OPTIONS> = {}) => ({ pattern, ...DEFAULT_OPTIONS, ...o });
  assert.deepEqual(parseFilter("connection refused"), { query: leaf("connection refused") });
  assert.deepEqual(parseFilter("-rcw a.c"), { query: leaf("a.c", { regex: true, caseSensitive: true, wholeWord: true }) });
  assert.deepEqual(parseFilter("-v debug"), { query: { not: leaf("debug") } });
  assert.deepEqual(parseFilter("-- -v x"), { query: leaf("-v x") });
  assert.deepEqual(parseFilter("-x y"), { query: leaf("-x y") }, "unknown flags are text");
  assert.deepEqual(parseFilter("a && !b || c"), { query: { or: [{ and: [leaf("a"), { not: leaf("b") }] }, leaf("c")] } });
  assert.deepEqual(parseFilter("\\!important"), { query: leaf("!important") });
  assert.deepEqual(parseFilter("x", { regex: true, caseSensitive: false, wholeWord: false }), { query: leaf("x", { regex: true }) });
  assert.ok("error" in parseFilter("a && "));
  assert.ok("error" in parseFilter("!"));
  assert.equal(filterLabel("a/b", { regex: true, caseSensitive: false, wholeWord: true }), "-rw a∕b");
});

test("toViewLine and byteColumn: the window, the gutter, the end", () => {
  const l = { index: 4, line: 70, offset: 1000, text: "héllo wörld", byteLength: 13, cutAfter: false, invalid: false };
  const v = toViewLine(l, { start: 2, width: 3 }, false);
  assert.deepEqual([v.number, v.gutter, v.text, v.startColumn, v.length, v.cutBefore, v.cutAfter, v.breakLength], [4, 70, "llo", 2, 11, true, true, 1]);
  assert.equal(toViewLine(l, undefined, true).breakLength, 0);
  assert.equal(byteColumn(l.text, 2), 3);
  const f: FilterInfo = {
    filter: 1,
    doc: 2,
    version: 5,
    matched: 10,
    complete: false,
    cancelled: false,
    stale: false,
    scannedBytes: 25,
    totalBytes: 100,
    memoryBytes: 0,
  };
  const i = filterDocInfo(f, { lineEnding: "lf", readOnly: false, path: "/x" } as never);
  assert.deepEqual([i.lineCount.known, i.lineCount.estimate, i.lineCount.exact, i.indexPercent, i.indexComplete, i.size], [10, 40, false, 25, false, 100]);
});

test("while the scan runs the view reads its screen again (first screen before the end), then stops; a change of the source refreshes it", async () => {
  // A fake server: the scan is done at the third filterInfo; then a change moves the version.
  let reads = 0;
  let version = 0;
  const base: FilterInfo = {
    filter: 7,
    doc: 1,
    version: 0,
    matched: 0,
    complete: false,
    cancelled: false,
    stale: false,
    scannedBytes: 0,
    totalBytes: 1000,
    memoryBytes: 0,
  };
  const server = {
    async request<T>(method: string): Promise<T> {
      if (method === "tome/filterInfo") {
        reads++;
        const complete = reads >= 3;
        return { ...base, version, matched: reads * 10, complete, scannedBytes: complete ? 1000 : reads * 300 } as T;
      }
      return { ...base } as T;
    },
  };
  const source = new DocSession(server, { doc: 1, version: 0, undoSteps: 0, redoSteps: 0, lineEnding: "lf", readOnly: false, path: "/x" } as never);
  const view = new FilterSession(server, source, base, "x");
  const posted: HostMessage[] = [];
  view.attach((m) => void posted.push(m));
  const refreshes = () => posted.filter((m): m is Extract<HostMessage, { type: "refresh" }> => m.type === "refresh");
  const until = async (cond: () => boolean) => {
    for (let i = 0; i < 100 && !cond(); i++) await new Promise((r) => setTimeout(r, 50));
  };
  await until(() => refreshes().some((m) => m.info.indexComplete));
  assert.deepEqual(
    refreshes().map((m) => [m.info.lineCount.known, m.info.indexComplete]),
    [
      [10, false],
      [20, false],
      [30, true],
    ],
  );
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(refreshes().length, 3, "no reads once the scan is complete");
  version = 1;
  source.emit("edited", { method: "tome/edit", versionBefore: 0, version: 1, newStep: true } satisfies EditedEvent);
  await until(() => refreshes().length === 4);
  assert.equal(refreshes()[3].info.version, 1, "a change of the source: the view reads again");
  view.dispose();
  source.dispose();
});

test("against the real tome serve: lines, gutter, fraction, edit, nested, bad regex, close", { skip: !fs.existsSync(binary) && "no tome binary" }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tome-vsc-filter-"));
  const file = path.join(dir, "app.log");
  const lines: string[] = [];
  for (let i = 0; i < 50_000; i++) lines.push(`${i} ${i % 7 === 0 ? "ERROR" : i % 3 === 0 ? "error" : "info"} é seq=${i % 11}`);
  fs.writeFileSync(file, lines.join("\n") + "\n");
  const server = await TomeServer.start(binary);
  try {
    const info = await server.request("tome/open", { path: file });
    const doc = new DocSession(server, info);
    const edited: EditedEvent[] = [];
    doc.on("edited", (e: EditedEvent) => edited.push(e));
    const opened: FilterSession[] = [];
    const errors: string[] = [];
    const deps = (active: DocSession, text: string): FilterCommandDeps => ({
      active: () => active,
      ask: () => Promise.resolve({ text, options: { ...DEFAULT_OPTIONS } }),
      error: (m) => void errors.push(m),
      progress: (_token, _title, task) => task(),
      open: async (root, f, label, query) => {
        const s = new FilterSession(server, root, f, label);
        s.query = query;
        opened.push(s);
      },
    });
    const grep = (src: string[], re: RegExp) => src.map((t, n) => ({ t, n })).filter((x) => re.test(x.t));

    // "error" in any case, as VS Code's find: lines 0, 3, 6, 7, 9, ….
    await filterLines(deps(doc, "error"));
    const view = opened[0];
    await server.request("tome/filterWait", { filter: view.filterId });
    const expected = grep(lines, /error/i);
    const posted: HostMessage[] = [];
    const post = (m: HostMessage): void => void posted.push(m);
    const ask = async (params: object): Promise<ViewportResult> => {
      posted.length = 0;
      await view.handle({ type: "request", reqId: 1, method: "viewport", params } as WebviewMessage, post);
      const r = posted[0] as { result?: ViewportResult; error?: unknown };
      assert.ok(r.result, JSON.stringify(r.error));
      return r.result;
    };
    for (const first of [0, 1000, expected.length - 5]) {
      const r = await ask({ first, count: 5, window: { start: 0, width: 200, unit: "encoding" } });
      assert.deepEqual(
        r.lines.map((l) => [l.number, l.gutter, l.text]),
        expected.slice(first, first + 5).map((x, i) => [first + i, x.n, x.t]),
      );
      assert.equal(r.lineCount.known, expected.length);
    }
    const mid = await ask({ fraction: 0.5, count: 3, window: { start: 0, width: 200, unit: "encoding" } });
    // The first matched line starting at or after the middle byte.
    const half = Math.round(info.size * 0.5);
    const starts: number[] = [];
    for (let i = 0, o = 0; i < lines.length; o += Buffer.byteLength(lines[i]) + 1, i++) starts.push(o);
    const firstAfter = expected.find((x) => starts[x.n] >= half);
    assert.equal(mid.lines[0].gutter, firstAfter?.n);

    // An edit through the view: "Ö" inserted after "é " of filter line 2 (source line 6).
    const target = expected[2];
    const col = target.t.indexOf("é") + 2;
    posted.length = 0;
    await view.handle(
      {
        type: "request",
        reqId: 2,
        method: "edit",
        params: { version: 0, epoch: 0, edits: [{ range: { start: { line: 2, character: col }, end: { line: 2, character: col } }, text: "Ö" }] },
      },
      post,
    );
    assert.deepEqual((posted[0] as { result: unknown }).result, { version: 1, undoSteps: 1 });
    assert.equal(edited.length, 1, "one undo step of the source");
    lines[target.n] = target.t.slice(0, col) + "Ö" + target.t.slice(col);
    const text = await server.request("tome/getText", { doc: info.doc, range: { start: { line: target.n, character: 0 }, end: { line: target.n + 1, character: 0 } } });
    assert.equal(text.text, lines[target.n] + "\n");
    // Joining two filter lines is refused.
    posted.length = 0;
    await view.handle(
      {
        type: "request",
        reqId: 3,
        method: "edit",
        params: { version: 1, epoch: 0, edits: [{ range: { start: { line: 2, character: 3 }, end: { line: 3, character: 0 } }, text: "" }] },
      },
      post,
    );
    assert.ok((posted[0] as { error?: unknown }).error);
    // The filter follows the source: after the edit the view shows the new text.
    const after = await ask({ first: 2, count: 1, window: { start: 0, width: 200, unit: "encoding" } });
    assert.equal(after.lines[0].text, lines[target.n]);
    assert.equal(after.version, 1);

    // Copy: from column 2 of filter line 0 to column 4 of filter line 2, lines joined by "\n".
    let clip = "";
    const copier = new FilterSession(server, doc, view.filter, view.label, { clipboard: { writeText: async (t) => void (clip = t) } });
    posted.length = 0;
    await copier.handle({ type: "request", reqId: 4, method: "copy", params: { start: { line: 0, character: 2 }, end: { line: 2, character: 4 } } }, post);
    assert.equal(clip, [expected[0].t.slice(2), expected[1].t, lines[expected[2].n].slice(0, 4)].join("\n"));
    copier.dispose();

    // Nested: lines of the view with "seq=3", as grep error | grep seq=3.
    await filterLines(deps(view, "seq=3"));
    const nested = opened[1];
    assert.equal(nested.source, doc);
    assert.match(nested.label, /error › seq=3/);
    const done = await server.request("tome/filterWait", { filter: nested.filterId });
    const nestedExpected = grep(lines, /error/i).filter((x) => /seq=3/.test(x.t));
    assert.equal(done.matched, nestedExpected.length);
    const r = await server.request("tome/filterLines", { filter: nested.filterId, first: 0, count: 1000 });
    assert.deepEqual(
      r.lines.slice(0, 20).map((l) => l.line),
      nestedExpected.slice(0, 20).map((x) => x.n),
    );
    // After a window reload the tab's URI makes it again (filterUri.ts): the whole query (the
    // parent's AND the nested one's) on the document gives the same lines.
    assert.ok(nested.query && view.query);
    const own = parseFilter("seq=3", { ...DEFAULT_OPTIONS });
    assert.ok("query" in own);
    assert.deepEqual(nested.query, { and: [view.query, own.query] });
    const parts = filterUriParts({ path: file, label: nested.label, query: nested.query }, "n1");
    const spec = parseFilterUri(parts.query);
    assert.deepEqual(spec, { path: file, label: nested.label, query: nested.query });
    assert.equal(filterUriNonce(parts.query), "n1");
    assert.equal(parseFilterUri("filter=3"), null, "an older URI: no spec");
    const again = await server.request("tome/filter", { doc: info.doc, query: spec!.query });
    await server.request("tome/filterWait", { filter: again.filter });
    const r2 = await server.request("tome/filterLines", { filter: again.filter, first: 0, count: 1000 });
    assert.deepEqual(
      r2.lines.map((l) => [l.line, l.text]),
      r.lines.map((l) => [l.line, l.text]),
    );

    // A bad regex: a clear error, no view.
    await filterLines({ ...deps(doc, "-r (unclosed"), ask: () => Promise.resolve({ text: "-r (unclosed", options: { ...DEFAULT_OPTIONS } }) });
    assert.equal(opened.length, 2);
    assert.match(errors[0], /regex/i);

    // Closing the view frees the filter.
    assert.equal(await nested.closeOnServer(), true);
    await assert.rejects(server.request("tome/filterInfo", { filter: nested.filterId }));
    view.dispose();
    nested.dispose();
  } finally {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test(
  "highlight rules: the view's marks are the document view's for the same lines and window, and a regex scan's",
  { skip: !fs.existsSync(binary) && "no tome binary" },
  async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tome-vsc-filter-hl-"));
    const file = path.join(dir, "app.log");
    const lines: string[] = [];
    for (let i = 0; i < 5000; i++) lines.push(`${i} ${i % 7 === 0 ? "ERROR" : "info"} é🦀 req=${(i * 7919).toString(16).padStart(6, "0")} ERROR-ish seq=${i % 11}`);
    fs.writeFileSync(file, lines.join("\n") + "\n");
    const server = await TomeServer.start(binary);
    try {
      const info = await server.request("tome/open", { path: file });
      const doc = new DocSession(server, info);
      await server.request("tome/setHighlightRules", { rules: [{ pattern: "ERROR" }, { pattern: "req=[0-9a-f]{3}", regex: true }] });
      const regexes = [/ERROR/g, /req=[0-9a-f]{3}/g];
      const f = await server.request("tome/filter", { doc: info.doc, query: { pattern: "seq=3" } });
      await server.request("tome/filterWait", { filter: f.filter });
      const view = new FilterSession(server, doc, f, "seq=3");
      const viaWebview = async (session: DocSession, params: object): Promise<ViewportResult> => {
        const posted: HostMessage[] = [];
        await session.handle({ type: "request", reqId: 1, method: "viewport", params } as WebviewMessage, (m) => void posted.push(m));
        const r = posted[0] as { result?: ViewportResult; error?: unknown };
        assert.ok(r.result, JSON.stringify(r.error));
        return r.result;
      };
      const marksOf = (r: ViewportResult) => (r.highlights ?? []).map((h) => [r.lines[h.line].number === null ? -1 : h.line, h.rule, h.start, h.end]);
      let total = 0;
      // Whole lines, then a window cutting through the matches (columns 9 to 9 + 14).
      for (const window of [
        { start: 0, width: 200, unit: "encoding" },
        { start: 9, width: 14, unit: "encoding" },
      ]) {
        const r = await viaWebview(view, { first: 10, count: 30, window });
        assert.equal(r.lines.length, 30);
        const want: number[][] = [];
        for (const [i, l] of r.lines.entries()) {
          // The document's own view of the source line, with the same window: the same marks.
          const d = await viaWebview(doc, { first: l.gutter, count: 1, window });
          assert.equal(d.lines[0].text, l.text);
          for (const [, rule, start, end] of marksOf(d)) want.push([i, rule, start, end]);
          // And a scan of the whole line, clipped to the shown columns.
          const full = lines[l.gutter!];
          const scan: number[][] = [];
          for (const [rule, re] of regexes.entries()) {
            for (const m of full.matchAll(re)) {
              const s = Math.max(m.index, l.startColumn);
              const e = Math.min(m.index + m[0].length, l.startColumn + l.text.length);
              if (s < e) scan.push([i, rule, s, e]);
            }
          }
          assert.deepEqual(
            marksOf(r).filter((m) => m[0] === i),
            scan,
            `line ${i}`,
          );
        }
        assert.deepEqual(marksOf(r), want);
        total += want.length;
      }
      assert.ok(total > 60, String(total));
      // `highlights: false` (the webview's colours off): none asked for.
      const off = await viaWebview(view, { first: 0, count: 5, window: { start: 0, width: 200, unit: "encoding" }, highlights: false });
      assert.equal(off.highlights, undefined);
      view.dispose();
    } finally {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);
