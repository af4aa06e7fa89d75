// The activated extension (src/extension.ts) with the stub `vscode` module and the real
// `tome serve`, on a generated 200 MiB file: indexing, search and save progress in VS Code's
// progress UI, the status bar item, Copy through VS Code's clipboard and its size cap, and the
// follow command.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as stub from "./vscodeStub";
stub.install();
import type * as vscode from "vscode";
import type { TomeDocument, TomeEditorProvider } from "../../editor";
import type { DocInfo } from "../../protocol";
import { ask, fakePanel, until } from "./fakes";
import { DEFAULT_WRAP } from "../../wrap";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const extension = require("../../extension") as typeof import("../../extension");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { formatStatus } = require("../../statusBar") as typeof import("../../statusBar");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { indexedDoc, ProgressRelay } = require("../../progress") as typeof import("../../progress");

const binary = process.env.TOME_BIN ?? path.resolve(__dirname, "../../../../../target/release/tome");
const SIZE = process.env.TOME_TEST_SIZE ?? "200M";
const none = new stub.CancellationTokenSource().token as unknown as vscode.CancellationToken;

/** Occurrences of `needle` in the file, counted here (not by Tome). */
function countInFile(file: string, needle: string): number {
  const data = fs.readFileSync(file);
  let n = 0;
  for (let i = data.indexOf(needle); i !== -1; i = data.indexOf(needle, i + 1)) n++;
  return n;
}

/** The file's first `count` lines, as text, read here (not by Tome). */
function firstLines(file: string, count: number): string[] {
  const fd = fs.openSync(file, "r");
  const buf = Buffer.alloc(16 << 20);
  const n = fs.readSync(fd, buf, 0, buf.length, 0);
  fs.closeSync(fd);
  const lines = buf.subarray(0, n).toString("utf8").split("\n");
  assert.ok(lines.length > count, "read enough of the file");
  return lines.slice(0, count);
}

test("formatStatus: position, selection, line count, indexing, line ending, follow (the encoding has its own item)", () => {
  const info = {
    lineCount: { known: 1952490, estimate: 1952490, exact: true },
    indexComplete: true,
    indexPercent: 100,
    lineEnding: "crlf",
    encoding: "utf-8",
  } as DocInfo;
  assert.equal(formatStatus(info, { cursor: { line: 11, character: 4 }, selectedLines: 0, following: false }), "Ln 12, Col 5 · 1,952,490 lines · CRLF");
  const indexing = { ...info, lineCount: { known: 1000, estimate: 2000000, exact: false }, indexComplete: false, lineEnding: "lf" } as DocInfo;
  assert.equal(
    formatStatus(indexing, { cursor: { line: 0, character: 0 }, selectedLines: 3, following: true }, 42),
    "Ln 1, Col 1 (3 lines selected) · ~2,000,000 lines · indexing 42% · LF · following",
  );
});

test("index progress tokens name their document, after open and after reload", () => {
  assert.equal(indexedDoc("tome/index/3"), 3);
  assert.equal(indexedDoc("tome/index/3/17"), 3);
  assert.equal(indexedDoc("tome/save/3"), null);
  assert.equal(indexedDoc(7), null);
});

test("a delayed progress notification: none for quick work, the latest value for slow work", async () => {
  stub.reset();
  const relay = new ProgressRelay();
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  // Quick: done before the delay, so nothing is shown (and nothing is left registered).
  const quick = await relay.run(
    "t/quick",
    stub.ProgressLocation.Notification,
    "Quick",
    async () => {
      relay.onServerProgress("t/quick", { kind: "begin", title: "q", percentage: 0 });
      relay.onServerProgress("t/quick", { kind: "end" });
      return 7;
    },
    200,
  );
  assert.equal(quick, 7);
  assert.equal(stub.progress.length, 0, "no notification for a quick task");
  // Slow: shown after the delay with the percentage reached before it, then closed.
  await relay.run(
    "t/slow",
    stub.ProgressLocation.Notification,
    "Slow",
    async () => {
      relay.onServerProgress("t/slow", { kind: "begin", title: "s", percentage: 0 });
      relay.onServerProgress("t/slow", { kind: "report", percentage: 40 });
      await until(() => stub.progress.length === 1, "the notification after the delay");
      relay.onServerProgress("t/slow", { kind: "report", percentage: 70 });
      await sleep(10);
    },
    50,
  );
  assert.equal(stub.progress.length, 1);
  const shown = stub.progress[0];
  assert.equal(shown.title, "Slow");
  assert.deepEqual(
    shown.reports.map((r) => r.message),
    ["40%", "70%"],
    "the value before the delay, then the later ones",
  );
  await until(() => shown.done, "closed at the end");
  // Without a delay the UI is up before the task starts.
  await relay.run("t/now", stub.ProgressLocation.Window, "Now", async () => {
    assert.equal(stub.progress.length, 2, "shown before the task");
  });
});

test("the activated extension: progress, status bar, copy, follow", { skip: !fs.existsSync(binary) && "no tome binary" }, async () => {
  stub.reset();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tome-vsc-ext-"));
  const file = path.join(dir, "big.log");
  execFileSync(binary, ["gen", file, "--size", SIZE], { stdio: "ignore" });
  const prevState = process.env.TOME_STATE_DIR;
  process.env.TOME_STATE_DIR = path.join(dir, "state"); // the extension starts the server with our env
  stub.settings["tome.serverPath"] = binary;
  stub.settings["tome.notificationDelay"] = 0; // the save's notification is checked below
  // A Memento as VS Code gives every extension (the find toggles are kept in workspaceState).
  const memento = (): { get<T>(key: string): T | undefined; update(key: string, value: unknown): Promise<void> } => {
    const values = new Map<string, unknown>();
    return {
      get: <T>(key: string) => values.get(key) as T | undefined,
      update: async (key: string, value: unknown) => void values.set(key, value),
    };
  };
  const ctx = {
    subscriptions: [] as { dispose(): void }[],
    extensionUri: stub.Uri.file("/ext"),
    extensionPath: "/ext",
    workspaceState: memento(),
    globalState: memento(),
  };
  extension.activate(ctx as unknown as vscode.ExtensionContext);
  try {
    const provider = stub.providers.get("tome.largeFile") as TomeEditorProvider;
    const doc: TomeDocument = await provider.openCustomDocument(
      stub.Uri.file(file) as unknown as vscode.Uri,
      { backupId: undefined, untitledDocumentData: undefined },
      none,
    );
    assert.equal(doc.session.info.indexComplete, false, "200 MiB is not indexed by the time tome/open answers");
    const view = fakePanel();
    await provider.resolveCustomEditor(doc, view.panel, none);
    const status = stub.statusBarItems[0];
    assert.ok(status.visible && /indexing \d+%/.test(status.text), `status while indexing: ${status.text}`);

    // Indexing shows in the progress UI until it ends; then the status has the exact count.
    const indexing = await until(() => stub.progress.find((p) => p.title === "Tome: indexing"), "indexing progress");
    assert.equal(indexing.location, stub.ProgressLocation.Window);
    await until(() => indexing.done, "indexing progress to end", 60000);
    const total = (countInFile(file, "\n") + 1).toLocaleString("en-US");
    await until(() => status.text.includes(`${total} lines`), `status with ${total} lines`);
    assert.doesNotMatch(status.text, /indexing/);
    assert.match(status.text, / lines · LF/);
    const encodingItem = stub.statusBarItems.find((i) => i.name === "Tome Encoding");
    assert.ok(encodingItem?.visible && encodingItem.text === "UTF-8", `the encoding item: ${encodingItem?.text}`);
    const reports = indexing.reports.reduce((s, r) => s + (r.increment ?? 0), 0);
    assert.ok(reports <= 100, `increments add up to at most 100 (${reports})`);

    // The cursor and selection the webview reports.
    view.send({ type: "status", cursor: { line: 4, character: 2 }, selectedLines: 3, following: false });
    await until(() => status.text.startsWith("Ln 5, Col 3 (3 lines selected) · "), "cursor in the status bar");

    // Search: progress in the status bar area, and the count is right.
    const needle = "seq=12345";
    const counted = await ask(view, "search", { query: { pattern: needle }, mode: "count" });
    assert.equal(counted.count, countInFile(file, needle));
    const searching = stub.progress.find((p) => p.title === "Tome: searching…");
    assert.ok(searching && searching.done && searching.location === stub.ProgressLocation.Window, "search progress shown and ended");

    // Copy of 50 000 lines, none of them on screen, through VS Code's clipboard.
    const start = { line: 10, character: 3 };
    const end = { line: 50000, character: 7 };
    const copied = await ask(view, "copy", { start, end });
    const want = firstLines(file, end.line + 1);
    const expected = [want[start.line].slice(start.character), ...want.slice(start.line + 1, end.line), want[end.line].slice(0, end.character)].join("\n");
    const clip = await stub.env.clipboard.readText();
    assert.equal(copied.characters, expected.length);
    assert.ok(clip === expected, `clipboard holds the range (${clip.length} vs ${expected.length} characters)`);
    assert.ok(
      stub.progress.some((p) => p.title === "Tome: copying…" && p.done),
      "copy progress",
    );

    // Everything (200 MiB) is over the cap: refused with a message, clipboard untouched.
    const last = doc.session.info.lineCount.known - 1;
    await assert.rejects(ask(view, "copy", { start: { line: 0, character: 0 }, end: { line: last, character: 0 } }), /at most 64\.0 MiB/);
    assert.ok(
      stub.messages.some((m) => m.kind === "warning" && /at most 64\.0 MiB/.test(m.text)),
      "a warning says why",
    );
    assert.ok((await stub.env.clipboard.readText()) === expected);

    // Save: a notification with progress. VS Code may ask for a second save while one runs and
    // cancel the first: the second must still succeed (the server answers the cancelled one
    // before it has stopped writing, and refuses a save while one runs).
    await ask(view, "edit", {
      version: doc.session.info.version,
      edits: [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, text: "S" }],
      epoch: 0,
    });
    const first = new stub.CancellationTokenSource();
    const saving1 = provider.saveCustomDocument(doc, first.token as unknown as vscode.CancellationToken);
    await until(() => stub.progress.some((p) => p.title.startsWith("Saving ")), "the first save to start");
    const saving2 = provider.saveCustomDocument(doc, none);
    first.cancel();
    await saving1.catch(() => undefined); // cancelled, or done before the cancel arrived
    await saving2;
    const saving = stub.progress.find((p) => p.title.startsWith("Saving "));
    assert.ok(saving && saving.done && saving.location === stub.ProgressLocation.Notification, "save progress");
    assert.equal(
      fs
        .readFileSync(file)
        .subarray(0, want[0].length + 1)
        .toString(),
      "S" + want[0],
    );
    assert.equal(fs.statSync(file).size, doc.session.info.size, "the whole document was written");
    assert.equal(doc.session.info.dirty, false);

    // Tome: Follow End reaches the active editor's webview.
    await stub.commands.executeCommand("tome.followEnd");
    assert.deepEqual(view.posted.at(-1), { type: "follow", on: "toggle" });

    // Word wrap: the settings at open (in `init`), a change of them, and Alt+Z's command.
    view.send({ type: "ready" });
    const init = await until(() => view.posted.find((m) => m.type === "init"), "init");
    assert.ok(init && init.type === "init" && init.wrap?.wordWrap === "off" && init.wrap.wordWrapColumn === 80, `init's wrap: ${JSON.stringify(init)}`);
    stub.settings["editor.wordWrap"] = "bounded";
    stub.settings["editor.wordWrapColumn"] = 40;
    stub.changeSettings(["editor.wordWrapColumn"]);
    assert.deepEqual(view.posted.at(-1), { type: "wrap", wrap: { ...DEFAULT_WRAP, wordWrap: "bounded", wordWrapColumn: 40 } });
    const before = view.posted.length;
    stub.changeSettings(["editor.fontSize"]);
    // Other editor settings send the appearance (editorSettings), not the wrap settings.
    assert.deepEqual(
      view.posted.slice(before).map((m) => m.type),
      ["editorSettings"],
      "other settings send no wrap",
    );
    await stub.commands.executeCommand("tome.toggleWordWrap");
    assert.deepEqual(view.posted.at(-1), { type: "toggleWrap" });
  } finally {
    await extension.deactivate();
    for (const d of ctx.subscriptions) d.dispose();
    if (prevState === undefined) delete process.env.TOME_STATE_DIR;
    else process.env.TOME_STATE_DIR = prevState;
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
