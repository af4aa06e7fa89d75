// The journal stops recording edits (`journalError`: its disk is full or failing): the status
// bar item shows a warning marker while it is set, one warning message tells the user each time
// it becomes set, and edits are followed by a `tome/info` soon enough to learn it. With a fake
// server whose `journalError` the test sets (the real server's is tested in editor.test.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as stub from "./vscodeStub";
stub.install();
import type * as vscode from "vscode";
import type { ServerHost, TomeDocument, TomeEditorProvider as Provider } from "../../editor";
import type { DocInfo } from "../../protocol";
import type { TomeServer } from "../../rpc";
import { ask, fakePanel, until } from "./fakes";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { TomeEditorProvider } = require("../../editor") as { TomeEditorProvider: typeof Provider };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { TomeStatusBar } = require("../../statusBar") as typeof import("../../statusBar");

const none = new stub.CancellationTokenSource().token as unknown as vscode.CancellationToken;
const FILE = "/data/big.log";
const FULL = "No space left on device (os error 28)";

/** A server holding one document, whose `journalError` is what the test sets. */
class FakeServer {
  journalError: string | null = null;
  version = 0;
  readonly sent: string[] = [];

  info(): DocInfo {
    return {
      doc: 1,
      path: FILE,
      size: 8,
      lineCount: { known: 2, estimate: 2, exact: true },
      indexComplete: true,
      indexPercent: 100,
      lineEnding: "lf",
      encoding: "utf-8",
      version: this.version,
      dirty: this.version > 0,
      readOnly: false,
      undoSteps: this.version,
      redoSteps: 0,
      journalError: this.journalError,
    };
  }

  async request(method: string, params: { version?: number }): Promise<unknown> {
    this.sent.push(method);
    switch (method) {
      case "tome/open":
        return { ...this.info(), recovery: null };
      case "tome/info":
        return this.info();
      case "tome/edit":
        assert.equal(params.version, this.version, "edit at the current version");
        this.version++;
        return { version: this.version, undoSteps: this.version };
      case "tome/save":
        return { path: FILE, bytes: 8, elapsedMs: 1, version: this.version };
      case "tome/close":
        return { discarded: false };
    }
    throw new Error(`unexpected ${method}`);
  }
}

/** A provider on `server`, showing the active document's status as extension.ts does. */
function setup(server: FakeServer): { provider: Provider; status: stub.StatusBarItem } {
  const bar = new TomeStatusBar();
  const host: ServerHost = {
    sessions: new Map(),
    get: async () => server as unknown as TomeServer,
    withServerProgress: (_t, _title, task) => task(),
    showStatus: (d) => (d ? bar.showDocument(d.session.info, d.cursorStatus) : bar.hide()),
    log: () => undefined,
  };
  const ctx = { extensionUri: stub.Uri.file("/ext") } as unknown as vscode.ExtensionContext;
  return { provider: new TomeEditorProvider(ctx, host), status: stub.statusBarItems.filter((i) => i.name === "Tome").at(-1)! };
}

async function open(provider: Provider): Promise<{ doc: TomeDocument; view: ReturnType<typeof fakePanel> }> {
  const doc = await provider.openCustomDocument(stub.Uri.file(FILE) as unknown as vscode.Uri, { backupId: undefined, untitledDocumentData: undefined }, none);
  const view = fakePanel();
  await provider.resolveCustomEditor(doc, view.panel, none);
  return { doc, view };
}

function journalWarnings(): string[] {
  return stub.messages.filter((m) => m.kind === "warning" && m.text.includes("not protected against a crash")).map((m) => m.text);
}

let line = 0;
function edit(server: FakeServer, view: ReturnType<typeof fakePanel>): Promise<unknown> {
  const at = { line: line++ % 2, character: 0 };
  return ask(view, "edit", { version: server.version, edits: [{ range: { start: at, end: at }, text: "x" }], epoch: 0 });
}

test("journalError: a status bar marker while set, one warning each time it becomes set, gone after a save", async () => {
  stub.reset();
  const server = new FakeServer();
  const { provider, status } = setup(server);
  const { doc, view } = await open(provider);
  const background = (): string | undefined => status.backgroundColor?.id;
  assert.ok(status.visible);
  assert.doesNotMatch(status.text, /warning|not protected/, "no marker while the journal records");
  assert.equal(background(), undefined);
  const defaultTooltip = status.tooltip;
  assert.deepEqual(journalWarnings(), []);

  // The journal's disk fills up: the next edit leads to a `tome/info` that says so.
  server.journalError = FULL;
  const t0 = Date.now();
  await edit(server, view);
  await until(() => status.text.startsWith("$(warning) not protected · "), "the status bar marker", 5000);
  assert.ok(Date.now() - t0 < 2000, `learnt ${Date.now() - t0} ms after the edit`);
  assert.match(status.text, / · 2 lines · LF$/, "the usual status after the marker");
  assert.ok(status.tooltip.includes(FULL) && status.tooltip.includes("Save"), `tooltip: ${status.tooltip}`);
  assert.equal(background(), "statusBarItem.warningBackground");
  assert.equal(journalWarnings().length, 1);
  const [warning] = journalWarnings();
  assert.ok(warning.includes(FILE) && warning.includes(FULL) && warning.includes("Save to protect them"), warning);

  // A burst of edits: a few `tome/info` at most (not one per edit); no second warning while it
  // stays set, whatever reads the info again.
  const infosBefore = server.sent.filter((m) => m === "tome/info").length;
  for (let i = 0; i < 20; i++) await edit(server, view);
  await new Promise((r) => setTimeout(r, 700));
  const infos = server.sent.filter((m) => m === "tome/info").length - infosBefore;
  assert.ok(infos >= 1 && infos <= 2, `${infos} tome/info after 20 edits`);
  await doc.session.refreshInfo(); // as after an undo, or when a view asks for the info
  assert.equal(journalWarnings().length, 1, "told once while it stays set");
  assert.ok(status.text.startsWith("$(warning) not protected"), status.text);

  // A save restarts the journal: the marker goes, without another message.
  server.journalError = null;
  await provider.saveCustomDocument(doc, none);
  assert.doesNotMatch(status.text, /warning|not protected/, `after the save: ${status.text}`);
  assert.equal(status.tooltip, defaultTooltip);
  assert.equal(background(), undefined);
  assert.equal(journalWarnings().length, 1);

  // It fails again later: told again.
  server.journalError = "Input/output error (os error 5)";
  await edit(server, view);
  await until(() => journalWarnings().length === 2, "a second warning", 5000);
  assert.ok(journalWarnings()[1].includes("os error 5"), journalWarnings()[1]);
  assert.ok(status.tooltip.includes("os error 5"), status.tooltip);
  doc.dispose();
});

test("journalError set at open: warned at once, marker shown", async () => {
  stub.reset();
  const server = new FakeServer();
  server.journalError = FULL;
  const { provider, status } = setup(server);
  const { doc } = await open(provider);
  assert.equal(journalWarnings().length, 1);
  assert.ok(status.text.startsWith("$(warning) not protected · "), status.text);
  doc.dispose();
});

test("no edits, no journal checks", async () => {
  stub.reset();
  const server = new FakeServer();
  const { provider } = setup(server);
  const { doc } = await open(provider);
  const sent = server.sent.length;
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(server.sent.slice(sent), [], "an idle document sends nothing");
  doc.dispose();
});
