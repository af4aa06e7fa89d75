// Encodings and compressed files in the extension: the Quick Pick of "Reopen with Encoding"
// (VS Code's labels, the current one marked), the status bar's encoding item and compressed
// marker; then, with the stub `vscode` module and the real `tome serve` on small files written
// here, the command reopening a Windows-1252 file as Shift JIS (lines compared with Node's
// TextDecoder), its refusal on a dirty document, an unrepresentable character refused with a
// message, and a .gz file read-only (its lines are gunzip's; edits refused once with a message).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";
import * as stub from "./vscodeStub";
stub.install();
import type * as vscode from "vscode";
import type { TomeDocument, TomeEditorProvider } from "../../editor";
import type { DocInfo, ViewportResult } from "../../protocol";
import { fakePanel, until } from "./fakes";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const extension = require("../../extension") as typeof import("../../extension");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const E = require("../../encodings") as typeof import("../../encodings");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { formatStatus } = require("../../statusBar") as typeof import("../../statusBar");

const binary = process.env.TOME_BIN ?? path.resolve(__dirname, "../../../../../target/release/tome");
const none = new stub.CancellationTokenSource().token as unknown as vscode.CancellationToken;

test("encodingPicks: VS Code's long labels, the current encoding marked and first", () => {
  const picks = E.encodingPicks("windows-1252");
  assert.equal(picks[0].label, "Western (Windows 1252)");
  assert.equal(picks[0].current, true);
  assert.equal(picks[0].description, "windows-1252 · current");
  assert.equal(picks.filter((p) => p.current).length, 1);
  assert.equal(picks.length, E.ENCODINGS.length);
  assert.equal(new Set(picks.map((p) => p.label)).size, picks.length, "labels are unique");
  const labels = picks.map((p) => p.label);
  for (const want of ["UTF-8", "Japanese (Shift JIS)", "Simplified Chinese (GBK)", "Traditional Chinese (Big5)", "Cyrillic (KOI8-R)", "Korean (EUC-KR)"]) {
    assert.ok(labels.includes(want), want);
  }
  // The server's names, in any case; a UTF-8 file with a BOM is current on UTF-8.
  assert.equal(E.encodingPicks("Shift_JIS")[0].label, "Japanese (Shift JIS)");
  assert.equal(E.encodingPicks("GBK")[0].entry.label, "gbk");
  assert.equal(E.encodingPicks("UTF-16LE")[0].label, "UTF-16 LE");
  assert.equal(E.encodingPicks("utf-8-bom")[0].label, "UTF-8");
  assert.equal(E.encodingPicks(undefined)[0].label, "UTF-8");
  // An encoding not offered (binary): nothing is marked, UTF-8 first.
  assert.equal(E.encodingPicks("binary").filter((p) => p.current).length, 0);
  assert.equal(E.encodingPicks("binary")[0].label, "UTF-8");
});

test("the status bar's names: VS Code's short labels; the encoding has its own item", () => {
  assert.equal(E.encodingShortLabel("utf-8"), "UTF-8");
  assert.equal(E.encodingShortLabel("utf-8-bom"), "UTF-8 with BOM");
  assert.equal(E.encodingShortLabel("windows-1252"), "Windows 1252");
  assert.equal(E.encodingShortLabel("Shift_JIS"), "Shift JIS");
  assert.equal(E.encodingShortLabel("EUC-KR"), "EUC-KR");
  assert.equal(E.encodingShortLabel("UTF-16LE"), "UTF-16 LE");
  assert.equal(E.encodingShortLabel("UTF-16BE"), "UTF-16 BE");
  assert.equal(E.encodingShortLabel("binary"), "Binary");
  assert.equal(E.encodingShortLabel("x-user-defined"), "X-USER-DEFINED");
  assert.equal(E.compressionMarker("gzip"), "$(lock) gzip");
  assert.equal(E.compressionMarker(undefined), "");
  const info = { lineCount: { known: 3, estimate: 3, exact: true }, indexComplete: true, indexPercent: 100, lineEnding: "lf", encoding: "windows-1252" } as DocInfo;
  assert.equal(formatStatus(info, undefined), "3 lines · LF");
});

/** The text of lines [0, count) of `doc` as the server shows them. */
async function lines(doc: TomeDocument, count: number): Promise<string[]> {
  const r = (await doc.server.request("tome/viewport", { doc: doc.session.doc, first: 0, count })) as ViewportResult;
  return r.lines.map((l) => l.text);
}

test("Reopen with Encoding, dirty refusal, unrepresentable characters, a read-only .gz", { skip: !fs.existsSync(binary) && "no tome binary" }, async () => {
  stub.reset();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tome-vsc-enc-"));
  const prevState = process.env.TOME_STATE_DIR;
  process.env.TOME_STATE_DIR = path.join(dir, "state");
  stub.settings["tome.serverPath"] = binary;
  // Shift_JIS bytes (日本語のテキスト, カタカナ), long enough to be read as a legacy encoding:
  // opened as windows-1252 (the default guess), then reopened as Shift JIS.
  const sjis = Buffer.from("93fa967b8cea82cc8365834c83588367", "hex");
  const kana = Buffer.from("834a835e834a8369", "hex");
  const parts: Buffer[] = [];
  for (let i = 0; i < 6; i++) parts.push(sjis, Buffer.from("\n"), kana, Buffer.from("\n"));
  const sjisFile = path.join(dir, "sjis.txt");
  fs.writeFileSync(sjisFile, Buffer.concat(parts));
  const gzFile = path.join(dir, "log.txt.gz");
  const plain = Array.from({ length: 500 }, (_, i) => `line ${i} of a compressed log`).join("\n") + "\n";
  fs.writeFileSync(gzFile, zlib.gzipSync(plain));
  const memento = () => {
    const values = new Map<string, unknown>();
    return { get: <T>(key: string) => values.get(key) as T | undefined, update: async (key: string, value: unknown) => void values.set(key, value) };
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
    const open = async (file: string) => {
      const doc: TomeDocument = await provider.openCustomDocument(
        stub.Uri.file(file) as unknown as vscode.Uri,
        { backupId: undefined, untitledDocumentData: undefined },
        none,
      );
      const view = fakePanel();
      await provider.resolveCustomEditor(doc, view.panel, none);
      return { doc, view };
    };
    const item = (name: string) => stub.statusBarItems.find((i) => i.name === name)!;

    const { doc, view } = await open(sjisFile);
    const enc = item("Tome Encoding");
    await until(() => enc.visible && enc.text === "Windows 1252", "the encoding item");
    assert.equal(enc.command, "tome.reopenWithEncoding", "a click reopens with an encoding");
    assert.equal(enc.tooltip, "Select Encoding");
    assert.equal(item("Tome Compression").visible, false, "no compression marker");

    // The command: the Quick Pick opens on the current encoding; Japanese (Shift JIS) is picked.
    stub.quickPickAnswers.push((items) => (items as { label: string }[]).find((i) => i.label === "Japanese (Shift JIS)"));
    await stub.commands.executeCommand("tome.reopenWithEncoding");
    const shown = stub.quickPicks[0];
    assert.equal((shown.items[0] as { label: string; description: string }).description, "windows-1252 · current");
    assert.equal((shown.options as { placeHolder: string }).placeHolder, "Select File Encoding to Reopen File");
    assert.equal(doc.session.info.encoding, "Shift_JIS");
    await until(() => enc.text === "Shift JIS", "the encoding item after the reopen");
    assert.ok(
      view.posted.some((m) => m.type === "refresh"),
      "the view reads its lines again",
    );
    const decoded = new TextDecoder("shift_jis").decode(Buffer.concat(parts)).split("\n");
    assert.deepEqual(await lines(doc, 4), decoded.slice(0, 4), "lines as Node's Shift_JIS decoder reads them");

    // A character Shift_JIS cannot represent: refused, with a message naming it.
    const at = { line: 0, character: 0 };
    await assert.rejects(doc.session.edit({ doc: doc.session.doc, version: doc.session.info.version, edits: [{ range: { start: at, end: at }, text: "€" }] }));
    await until(() => stub.messages.find((m) => m.kind === "error" && /Shift_JIS cannot represent '€' \(U\+20AC\)/.test(m.text)), "the unrepresentable message");
    assert.deepEqual(await lines(doc, 1), decoded.slice(0, 1), "nothing changed");

    // Dirty: refused as VS Code refuses, no Quick Pick.
    await doc.session.edit({ doc: doc.session.doc, version: doc.session.info.version, edits: [{ range: { start: at, end: at }, text: "テ" }] });
    await stub.commands.executeCommand("tome.reopenWithEncoding");
    assert.equal(stub.quickPicks.length, 1, "no second Quick Pick");
    assert.ok(
      stub.messages.some((m) => m.kind === "warning" && m.text === E.dirtyReopenMessage("sjis.txt")),
      JSON.stringify(stub.messages),
    );
    assert.equal(doc.session.info.encoding, "Shift_JIS");

    // A .gz file: read-only, marked; its lines are gunzip's; an edit is refused once with a message.
    const gz = await open(gzFile);
    const marker = item("Tome Compression");
    await until(() => marker.visible && marker.text === "$(lock) gzip", "the compression marker");
    assert.match(marker.tooltip, /gzip-compressed file, opened read-only/);
    assert.equal(gz.doc.session.info.readOnly, true);
    assert.deepEqual(await lines(gz.doc, 3), plain.split("\n").slice(0, 3));
    for (let i = 0; i < 2; i++) {
      await assert.rejects(gz.doc.session.edit({ doc: gz.doc.session.doc, version: 0, edits: [{ range: { start: at, end: at }, text: "x" }] }));
    }
    await until(() => stub.messages.some((m) => /gzip-compressed and opened read-only/.test(m.text)), "the read-only message");
    assert.equal(stub.messages.filter((m) => /gzip-compressed and opened read-only/.test(m.text)).length, 1, "told once");
    assert.deepEqual(await lines(gz.doc, 1), plain.split("\n").slice(0, 1), "unchanged");
    gz.doc.dispose();
    doc.dispose();
  } finally {
    await extension.deactivate();
    if (prevState === undefined) delete process.env.TOME_STATE_DIR;
    else process.env.TOME_STATE_DIR = prevState;
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
