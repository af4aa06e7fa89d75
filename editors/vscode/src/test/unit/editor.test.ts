// The custom editor provider (src/editor.ts) against the real `tome serve`, with a stub of the
// `vscode` module and a model of VS Code's undo stack (fakes.ts): undo/redo, save, revert and
// undo after it, hot-exit backup, changes of the file on disk, and (as root) a journal whose
// disk is full.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as stub from "./vscodeStub";
stub.install();
import type * as vscode from "vscode";
import { TomeServer } from "../../rpc";
import type { ServerHost, TomeDocument, TomeEditorProvider as Provider } from "../../editor";
import type { HostMessage, SaveResult } from "../../protocol";
import { FakeWorkbench, fakePanel, recordMethods, until } from "./fakes";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { TomeEditorProvider, VIEW_TYPE } = require("../../editor") as { TomeEditorProvider: typeof Provider; VIEW_TYPE: string };

const binary = process.env.TOME_BIN ?? path.resolve(__dirname, "../../../../../target/release/tome");
const skip = !fs.existsSync(binary) && "no tome binary";
const none = new stub.CancellationTokenSource().token as unknown as vscode.CancellationToken;
const cancel = none;

function host(server: () => TomeServer): ServerHost {
  return {
    sessions: new Map(),
    get: async () => server(),
    withServerProgress: (_t, _title, task) => task(),
    showStatus: () => undefined,
    log: () => undefined,
  };
}

async function lines(d: TomeDocument, first = 0, count = 2): Promise<string[]> {
  const r = await d.server.request("tome/viewport", { doc: d.session.doc, first, count });
  return r.lines.map((l) => l.text);
}

let reqId = 1;
/** An edit as the webview sends it, at the document's current version. */
async function edit(d: TomeDocument, line: number, character: number, text: string, endCharacter = character): Promise<void> {
  const posted: HostMessage[] = [];
  const range = { start: { line, character }, end: { line, character: endCharacter } };
  await d.session.handle(
    { type: "request", reqId: reqId++, method: "edit", params: { version: d.session.info.version, edits: [{ range, text }], epoch: d.session.epoch } },
    (m) => void posted.push(m),
  );
  const r = posted[0];
  assert.ok(r?.type === "response" && !r.error, `edit failed: ${JSON.stringify(r)}`);
}

/** A fresh stub, and a fresh directory holding `a.txt` (`text`), removed after `run`; `env` names a state directory in it. */
async function withDir(prefix: string, text: string | Buffer, run: (t: { dir: string; file: string; env: NodeJS.ProcessEnv }) => Promise<void>): Promise<void> {
  stub.reset();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const env = { ...process.env, TOME_STATE_DIR: path.join(dir, "state") };
  const file = path.join(dir, "a.txt");
  fs.writeFileSync(file, text);
  try {
    await run({ dir, file, env });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function newProvider(server: () => TomeServer): Provider {
  const ctx = { extensionUri: stub.Uri.file("/ext") } as unknown as vscode.ExtensionContext;
  return new TomeEditorProvider(ctx, host(server));
}

/** A server and a provider on it, for `run`; the server is stopped after. */
async function withProvider(env: NodeJS.ProcessEnv, run: (server: TomeServer, provider: Provider) => Promise<void>): Promise<void> {
  const server = await TomeServer.start(binary, { env });
  try {
    await run(
      server,
      newProvider(() => server),
    );
  } finally {
    await server.stop();
  }
}

/** Opens a file (a path) or a URI as VS Code does, optionally from a hot-exit backup. */
function openDoc(provider: Provider, target: string | vscode.Uri, backupId?: string): Promise<TomeDocument> {
  const uri = typeof target === "string" ? (stub.Uri.file(target) as unknown as vscode.Uri) : target;
  return provider.openCustomDocument(uri, { backupId, untitledDocumentData: undefined }, none);
}

/**
 * An earlier session opens `file`, inserts "X" at its start, waits for the journal to be
 * synced, then `dies` (default: killed): the journal is left for the next open.
 */
async function editThenDie(env: NodeJS.ProcessEnv, file: string, dies: (s: TomeServer, doc: number) => Promise<void> = kill): Promise<void> {
  const earlier = await TomeServer.start(binary, { env });
  const { doc } = await earlier.request("tome/open", { path: file });
  await earlier.request("tome/edit", { doc, version: 0, edits: [{ offsets: { start: 0, end: 0 }, text: "X" }] });
  await new Promise((r) => setTimeout(r, 500)); // the journal syncs every 200 ms
  await dies(earlier, doc);
}

async function kill(server: TomeServer): Promise<void> {
  server.process.kill("SIGKILL");
  await new Promise((r) => server.process.once("exit", r));
}

/** A fresh directory, file, server and provider; `run` gets them and everything is cleaned up. */
async function withEditor(
  text: string,
  run: (t: { file: string; dir: string; provider: Provider; doc: TomeDocument; server: () => TomeServer; restart(): Promise<void> }) => Promise<void>,
): Promise<void> {
  await withDir("tome-vsc-ed-", text, async ({ dir, file, env }) => {
    let server = await TomeServer.start(binary, { env });
    const provider = newProvider(() => server);
    try {
      const doc = await openDoc(provider, file);
      const restart = async (): Promise<void> => {
        await kill(server);
        server = await TomeServer.start(binary, { env });
      };
      await run({ file, dir, provider, doc, server: () => server, restart });
    } finally {
      await server.stop();
    }
  });
}

/** Routes the server's `tome/didChangeOnDisk` to the provider, as extension.ts does. */
function followDisk(server: TomeServer, provider: Provider): Promise<void>[] {
  const handled: Promise<void>[] = [];
  server.onNotification("tome/didChangeOnDisk", (params) => handled.push(provider.onDiskChange(params, true)));
  return handled;
}

test("edits, undo/redo, save, revert and hot-exit backup", { skip }, async () => {
  await withEditor("abc\ndef\n", async ({ file, dir, provider, doc, restart }) => {
    const wb = new FakeWorkbench(provider, doc);
    const posted: HostMessage[] = [];
    doc.session.attach((m) => void posted.push(m));
    await edit(doc, 0, 3, "!");
    assert.equal(wb.entries, 1);
    assert.equal((await lines(doc))[0], "abc!");
    await wb.undo();
    assert.equal((await lines(doc))[0], "abc");
    assert.equal(posted.at(-1)?.type, "refresh", "webviews are told to redraw");
    await wb.redo();
    assert.equal((await lines(doc))[0], "abc!");

    await wb.save();
    assert.equal(fs.readFileSync(file, "utf8"), "abc!\ndef\n");

    await edit(doc, 0, 4, "!");
    assert.equal((await lines(doc))[0], "abc!!");
    wb.revert();
    await Promise.all(wb.pending);
    assert.equal((await lines(doc))[0], "abc!");
    assert.equal(doc.session.info.dirty, false);

    // Hot exit: back up, the server dies, VS Code reopens from the backup.
    await edit(doc, 0, 4, "!");
    const dest = stub.Uri.file(path.join(dir, "backup")) as unknown as vscode.Uri;
    const backup = await provider.backupCustomDocument(doc, { destination: dest }, none);
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, "backup"), "utf8")).tomeBackup, 1);
    doc.dispose(); // keeps the journal: a backup is alive
    await new Promise((r) => setTimeout(r, 400)); // the journal syncs every 200 ms
    await restart();
    const restored = await openDoc(provider, file, backup.id);
    assert.equal((await lines(restored))[0], "abc!!");
    assert.equal(restored.session.info.dirty, true);
    assert.equal(fs.readFileSync(file, "utf8"), "abc!\ndef\n", "the file itself is untouched");
    // Revert of a restored document: VS Code has no entry for the recovered change.
    await provider.revertCustomDocument(restored, cancel);
    assert.equal((await lines(restored))[0], "abc!");
    assert.equal(restored.session.info.dirty, false);
    backup.delete();
  });
});

test("typing the server joins into one undo step makes one VS Code undo entry", { skip }, async () => {
  await withEditor("abc\ndef\n", async ({ provider, doc }) => {
    const wb = new FakeWorkbench(provider, doc);
    const sent = recordMethods(doc.server);
    await edit(doc, 0, 3, "x");
    await edit(doc, 0, 4, "y");
    await edit(doc, 0, 5, "z");
    await edit(doc, 1, 0, "W"); // elsewhere: a new step
    assert.deepEqual(sent, ["tome/edit", "tome/edit", "tome/edit", "tome/edit"], "the edit's reply tells new step from joined: no tome/info around it");
    assert.equal(wb.entries, 2);
    await wb.undo();
    assert.deepEqual(await lines(doc), ["abcxyz", "def"]);
    await wb.undo();
    assert.deepEqual(await lines(doc), ["abc", "def"]);
    assert.equal(doc.session.info.dirty, false);
    assert.equal(wb.dirty, false, "VS Code and the server agree the document is clean");
    await wb.redo();
    assert.deepEqual(await lines(doc), ["abcxyz", "def"]);
  });
});

test("Revert undoes back to the save; Undo right after Revert undoes the edit before the save", { skip }, async () => {
  await withEditor("abc\ndef\n", async ({ file, provider, doc }) => {
    const wb = new FakeWorkbench(provider, doc);
    await edit(doc, 0, 0, "A");
    await edit(doc, 1, 0, "B");
    await wb.save();
    await edit(doc, 0, 4, "C");
    await edit(doc, 1, 4, "D");
    assert.deepEqual(await lines(doc), ["AabcC", "BdefD"]);
    wb.revert(); // VS Code does not wait for the provider's revert…
    const undo = wb.undo(); // …before an Undo pressed right after it
    await Promise.all([...wb.pending, undo]);
    assert.deepEqual(await lines(doc), ["Aabc", "def"], "C and D reverted, then B undone");
    assert.equal(fs.readFileSync(file, "utf8"), "Aabc\nBdef\n", "the file is as saved");
    assert.equal(doc.session.info.dirty, true);
    assert.equal(wb.dirty, true);
    await wb.redo();
    assert.deepEqual(await lines(doc), ["Aabc", "Bdef"]);
    assert.equal(doc.session.info.dirty, false);
    assert.equal(wb.dirty, false);
    await wb.undo();
    await wb.undo();
    await wb.undo(); // nothing left: does nothing
    assert.deepEqual(await lines(doc), ["abc", "def"]);
  });
});

test("after Reload on a change on disk, older undo entries do nothing", { skip }, async () => {
  await withEditor("abc\ndef\n", async ({ file, provider, doc, server }) => {
    const wb = new FakeWorkbench(provider, doc);
    const handled = followDisk(server(), provider);
    const { panel } = fakePanel();
    await provider.resolveCustomEditor(doc, panel, none);
    stub.window.tabGroups.activeTabGroup.activeTab = { input: new stub.TabInputCustom(stub.Uri.file(file), VIEW_TYPE) };
    stub.commands.registerCommand("workbench.action.files.revert", () => wb.revert());
    await edit(doc, 0, 0, "A");
    await wb.save();
    await edit(doc, 1, 0, "B");
    // Another program rewrites the file in place (same size).
    const fd = fs.openSync(file, "r+");
    fs.writeSync(fd, "XYZW", 0);
    fs.closeSync(fd);
    stub.answers.push("Reload");
    await until(() => handled.length > 0, "tome/didChangeOnDisk");
    await Promise.all(handled);
    await Promise.all(wb.pending);
    const prompt = stub.messages.at(-1)!;
    assert.deepEqual(prompt.items, ["Reload", "Keep Mine"]);
    assert.match(prompt.text, /changed in place/);
    assert.deepEqual(await lines(doc), ["XYZW", "def"], "the file's new content");
    assert.ok(
      stub.executed.some((c) => c.command === "workbench.action.files.revert"),
      "VS Code's revert clears its dirty state",
    );
    assert.equal(wb.dirty, false);
    await wb.undo(); // the entry of "A", from before the reload
    assert.deepEqual(await lines(doc), ["XYZW", "def"], "an entry from before the reload is a no-op");
  });
});

test("deleted on disk: Keep Mine writes the document there again; appended: the views extend", { skip }, async () => {
  await withEditor("abc\ndef\n", async ({ file, provider, doc, server }) => {
    const wb = new FakeWorkbench(provider, doc);
    const handled = followDisk(server(), provider);
    const posted: HostMessage[] = [];
    doc.session.attach((m) => void posted.push(m));
    fs.appendFileSync(file, "ghi\n");
    await until(() => posted.find((m) => m.type === "diskChange"), "diskChange");
    const change = posted.find((m) => m.type === "diskChange") as Extract<HostMessage, { type: "diskChange" }>;
    assert.equal(change.change, "appended");
    assert.equal(change.follow, true);
    assert.equal(change.info.lineCount.known, 4);
    assert.deepEqual(await lines(doc, 2, 1), ["ghi"]);
    assert.equal(stub.messages.length, 0, "an append asks nothing");

    await edit(doc, 0, 0, "M");
    stub.hooks.save = () => wb.save(); // VS Code's workspace.save runs the provider's save
    stub.answers.push("Keep Mine");
    fs.rmSync(file);
    await until(() => handled.length > 1, "the deleted notice");
    await Promise.all(handled);
    assert.deepEqual(stub.messages.at(-1)!.items, ["Keep Mine"], "nothing to reload from");
    assert.equal(fs.readFileSync(file, "utf8"), "Mabc\ndef\nghi\n");
    assert.equal(wb.dirty, false);
  });
});

test("a journal that no longer fits the file: Open Recovered Copy (never tome/recover), Save asks a path and writes it", { skip }, async () => {
  await withDir("tome-vsc-orphan-", "abc\ndef\n", async ({ dir, file, env }) => {
    // An earlier session edits, then dies without saving.
    await editThenDie(env, file);
    // Another program rewrites the file in place: same size, other bytes.
    const fd = fs.openSync(file, "r+");
    fs.writeSync(fd, "ABC\nDEF\n", 0);
    fs.closeSync(fd);

    await withProvider(env, async (server, provider) => {
      const sent = recordMethods(server);
      const text = async (d: TomeDocument): Promise<string> =>
        (await d.server.request("tome/getText", { doc: d.session.doc, offsets: { start: 0, end: (await d.session.refreshInfo()).size } })).text;
      stub.answers.push("Open Recovered Copy");
      const original = await openDoc(provider, file);
      const offer = stub.messages.at(-1)!;
      assert.deepEqual(offer.items, ["Open Recovered Copy", "Discard"], "no Recover: the file changed since");
      assert.match(offer.text, /changed since/);
      assert.ok(!sent.includes("tome/recover"), `tome/recover is not called (sent: ${sent.join(", ")})`);
      assert.ok(sent.includes("tome/recoverAsNew"));
      assert.equal(await text(original), "ABC\nDEF\n", "the file's own document is the file as it is now");
      assert.equal(original.session.info.dirty, false);

      // The copy opens in a new Tome tab, under an untitled URI.
      const open = await until(() => stub.executed.find((c) => c.command === "vscode.openWith"), "vscode.openWith of the copy");
      const copyUri = open.args[0] as vscode.Uri;
      assert.equal(copyUri.scheme, "tome-recovered");
      assert.equal(open.args[1], VIEW_TYPE);
      const copy = await openDoc(provider, copyUri);
      assert.notEqual(copy.session.doc, original.session.doc);
      assert.equal(copy.session.info.path, "", "an untitled document on the server");
      assert.equal(await text(copy), "XABC\nDEF\n", "the changed file plus the journal's edit");

      const wb = new FakeWorkbench(provider, copy);
      const { panel } = fakePanel();
      await provider.resolveCustomEditor(copy, panel, none);
      assert.equal(wb.dirty, true, "VS Code is told the copy is modified, so closing it asks to save");

      // Save is Save As: a path is asked for, then tome/saveAs writes there.
      const out = path.join(dir, "saved.txt");
      stub.saveDialogAnswers.push(out);
      await wb.save();
      assert.equal(stub.saveDialogs.length, 1, "Save asked for a path");
      assert.equal(stub.saveDialogs[0].defaultUri?.fsPath, path.join(dir, "a.recovered.txt"));
      assert.ok(sent.includes("tome/saveAs"));
      assert.ok(fs.readFileSync(out).equals(Buffer.from("XABC\nDEF\n")), "the saved copy, byte for byte");
      assert.ok(fs.readFileSync(file).equals(Buffer.from("ABC\nDEF\n")), "the file itself is untouched");
      assert.equal(wb.dirty, false);
      assert.equal(copy.session.info.dirty, false);
      // Once saved, the journal is discarded: the next session offers nothing.
      assert.ok(sent.includes("tome/discardRecovery"));
      const later = await TomeServer.start(binary, { env });
      try {
        const again = await later.request("tome/open", { path: file });
        assert.equal(again.recovery, null);
      } finally {
        await later.stop();
      }
      // A second Save writes to the same file, with no dialog.
      await edit(copy, 0, 0, "Y");
      await wb.save();
      assert.equal(stub.saveDialogs.length, 1);
      assert.equal(fs.readFileSync(out, "utf8"), "YXABC\nDEF\n");
    });
  });
});

test("a journal that no longer fits the file: Discard deletes it", { skip }, async () => {
  await withDir("tome-vsc-orphan-", "abc\ndef\n", async ({ file, env }) => {
    await editThenDie(env, file);
    fs.writeFileSync(file, "ABC\nDEF\n");
    await withProvider(env, async (_server, provider) => {
      stub.answers.push("Discard");
      const original = await openDoc(provider, file);
      assert.deepEqual(stub.messages.at(-1)!.items, ["Open Recovered Copy", "Discard"]);
      assert.ok(!stub.executed.some((c) => c.command === "vscode.openWith"), "no copy opened");
      assert.equal(original.session.info.dirty, false);
      const later = await TomeServer.start(binary, { env });
      try {
        assert.equal((await later.request("tome/open", { path: file })).recovery, null, "the journal is gone");
      } finally {
        await later.stop();
      }
    });
  });
});

test("an interrupted in-place save: a modal asks first; Restore Backup puts the file back and the edits are offered", { skip }, async () => {
  await withDir("tome-vsc-interrupted-", "abc\ndef\n".repeat(1000), async ({ dir, file, env }) => {
    fs.linkSync(file, path.join(dir, "second-name.txt")); // two names: saved in place
    const original = fs.readFileSync(file);
    // An earlier session edits, then dies in the middle of writing the file.
    await editThenDie({ ...env, TOME_TEST_SAVE_FAULT: "mid-write" }, file, async (earlier, doc) => {
      await earlier.request("tome/save", { doc }).catch(() => undefined);
      await new Promise((r) => (earlier.process.exitCode !== null || earlier.process.signalCode !== null ? r(null) : earlier.process.once("exit", r)));
    });
    assert.ok(!fs.readFileSync(file).equals(original), "half written");

    await withProvider(env, async (_server, provider) => {
      stub.answers.push("Restore Backup", "Recover");
      const doc = await openDoc(provider, file);
      const ask = stub.messages.find((m) => m.items.includes("Restore Backup"))!;
      assert.ok(ask, "asked about the backup");
      assert.equal(ask.modal, true);
      assert.deepEqual(ask.items, ["Restore Backup", "Keep File as It Is"]);
      assert.match(ask.detail ?? "", /tome-backup/);
      assert.doesNotMatch(ask.detail ?? "", /changed by another program/);
      assert.ok(fs.readFileSync(path.join(dir, "second-name.txt")).equals(original), "the file as it was before the save");
      assert.ok(
        stub.messages.some((m) => m.items.includes("Recover")),
        "then the journal's edit is offered",
      );
      const size = (await doc.session.refreshInfo()).size;
      const text = await doc.server.request("tome/getText", { doc: doc.session.doc, offsets: { start: 0, end: 4 } });
      assert.equal(size, original.length + 1);
      assert.equal(text.text, "Xabc", "recovered");
    });
  });
});

/** Mounts a 64 KiB tmpfs on `dir` (a state directory a 128 KiB edit fills); why not, if it cannot. */
function mountSmallTmpfs(dir: string): string | null {
  if (process.getuid?.() !== 0) return "not root (mount -t tmpfs needs it)";
  fs.mkdirSync(dir, { recursive: true });
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tome-journal-full", dir], { encoding: "utf8" });
  return r.status === 0 ? null : `mount -t tmpfs failed: ${r.stderr || r.error?.message}`;
}

test("a full journal disk: one warning, the document's journalError set after the edit, cleared by Save", { skip }, async (t) => {
  await withDir("tome-vsc-journal-", "a line\n".repeat(100), async ({ file, env }) => {
    const state = env.TOME_STATE_DIR!;
    const why = mountSmallTmpfs(state);
    if (why) return t.skip(why);
    try {
      await withProvider(env, async (_server, provider) => {
        const doc = await openDoc(provider, file);
        assert.equal(doc.session.info.journalError, null, "the journal records at open");
        const wb = new FakeWorkbench(provider, doc);
        // 128 KiB in one edit: more than the tmpfs holds. The session asks `tome/info` after it.
        await edit(doc, 0, 0, "x".repeat(128 << 10));
        await until(() => doc.session.info.journalError, "journalError after the edit", 10000);
        assert.match(doc.session.info.journalError!, /No space left/);
        const warnings = (): string[] => stub.messages.filter((m) => m.kind === "warning" && m.text.includes("not protected against a crash")).map((m) => m.text);
        assert.equal(warnings().length, 1, JSON.stringify(stub.messages));
        assert.ok(warnings()[0].includes(file) && warnings()[0].includes("No space left"), warnings()[0]);
        await edit(doc, 1, 0, "more ");
        await new Promise((r) => setTimeout(r, 600));
        assert.equal(warnings().length, 1, "told once");

        await wb.save(); // restarts the journal
        assert.equal(doc.session.info.journalError, null, "after the save");
        assert.equal(warnings().length, 1);
        assert.equal(fs.readFileSync(file, "utf8"), "x".repeat(128 << 10) + "a line\nmore a line\n" + "a line\n".repeat(98));
        doc.dispose();
      });
    } finally {
      spawnSync("umount", [state]);
    }
  });
});

test("the save's log line says what an in-place save wrote, and nothing more for a whole-file one", () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { howSaved } = require("../../editor") as { howSaved: (r: SaveResult) => string };
  const base = { path: "/f", bytes: 4096, version: 3, elapsedMs: 11 };
  assert.equal(howSaved({ ...base, method: "inPlace", from: 2048, written: 7, backedUp: 65536 }), " (in place: 7 bytes written from byte 2048, 65536 bytes backed up)");
  assert.equal(howSaved({ ...base, method: "rename", from: 0, written: 4096, backedUp: 0 }), "");
  assert.equal(howSaved(base), "", "an older server without method");
});
