// The custom editor provider (src/editor.ts) against the real `tome serve`, with a stub of the
// `vscode` module: undo/redo through onDidChangeCustomDocument, save, revert, hot-exit backup.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as stub from "./vscodeStub";
stub.install();
import type * as vscode from "vscode";
import { TomeServer } from "../../rpc";
import type { ServerHost, TomeDocument, TomeEditorProvider as Provider } from "../../editor";
import type { HostMessage } from "../../session";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { TomeEditorProvider } = require("../../editor") as { TomeEditorProvider: typeof Provider };

const binary = process.env.TOME_BIN ?? path.resolve(__dirname, "../../../../../target/release/tome");
const none = {} as vscode.CancellationToken;
const cancel = { onCancellationRequested: () => ({ dispose() {} }) } as unknown as vscode.CancellationToken;

function host(server: () => TomeServer): ServerHost {
  return {
    sessions: new Map(),
    get: async () => server(),
    withServerProgress: (_t, _title, task) => task(),
    setStatus: () => undefined,
  };
}

async function line0(d: TomeDocument): Promise<string> {
  const r = await d.server.request<{ lines: { text: string }[] }>("tome/viewport", { doc: d.session.doc, first: 0, count: 1 });
  return r.lines[0].text;
}

test("edits, undo/redo, save, revert and hot-exit backup", { skip: !fs.existsSync(binary) && "no tome binary" }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tome-vsc-ed-"));
  const env = { ...process.env, TOME_STATE_DIR: path.join(dir, "state") };
  const file = path.join(dir, "a.txt");
  fs.writeFileSync(file, "abc\ndef\n");
  let server = await TomeServer.start(binary, { env });
  const ctx = { extensionUri: stub.Uri.file("/ext") } as unknown as vscode.ExtensionContext;
  const provider = new TomeEditorProvider(ctx, host(() => server));
  const uri = stub.Uri.file(file) as unknown as vscode.Uri;
  try {
    const doc = await provider.openCustomDocument(uri, { backupId: undefined, untitledDocumentData: undefined }, none);
    const events: vscode.CustomDocumentEditEvent<TomeDocument>[] = [];
    provider.onDidChangeCustomDocument((e) => events.push(e as vscode.CustomDocumentEditEvent<TomeDocument>));
    const posted: HostMessage[] = [];
    const post = (m: HostMessage): void => void posted.push(m);
    doc.session.attach(post);
    const edit = { range: { start: { line: 0, character: 3 }, end: { line: 0, character: 3 } }, text: "!" };
    await doc.session.handle({ type: "request", reqId: 1, method: "edit", params: { version: 0, edits: [edit] } }, post);
    assert.equal(events.length, 1);
    assert.equal(await line0(doc), "abc!");
    await events[0].undo();
    assert.equal(await line0(doc), "abc");
    assert.equal(posted.at(-1)?.type, "refresh", "webviews are told to redraw");
    await events[0].redo();
    assert.equal(await line0(doc), "abc!");

    await provider.saveCustomDocument(doc, cancel);
    assert.equal(fs.readFileSync(file, "utf8"), "abc!\ndef\n");

    await doc.session.handle({ type: "request", reqId: 2, method: "edit", params: { version: doc.session.info.version, edits: [edit] } }, post);
    assert.equal(await line0(doc), "abc!!");
    await provider.revertCustomDocument(doc, none);
    assert.equal(await line0(doc), "abc!");

    // Hot exit: back up, the server dies, VS Code reopens from the backup.
    await doc.session.handle({ type: "request", reqId: 3, method: "edit", params: { version: doc.session.info.version, edits: [edit] } }, post);
    const dest = stub.Uri.file(path.join(dir, "backup")) as unknown as vscode.Uri;
    const backup = await provider.backupCustomDocument(doc, { destination: dest }, none);
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, "backup"), "utf8")).tomeBackup, 1);
    doc.dispose(); // keeps the journal: a backup is alive
    await new Promise((r) => setTimeout(r, 400)); // the journal syncs every 200 ms
    server.process.kill("SIGKILL");
    await new Promise((r) => server.process.once("exit", r));
    server = await TomeServer.start(binary, { env });
    const restored = await provider.openCustomDocument(uri, { backupId: backup.id, untitledDocumentData: undefined }, none);
    assert.equal(await line0(restored), "abc!!");
    assert.equal(restored.session.info.dirty, true);
    assert.equal(fs.readFileSync(file, "utf8"), "abc!\ndef\n", "the file itself is untouched");
    backup.delete();
  } finally {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
