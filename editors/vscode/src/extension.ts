// Entry point: starts `tome serve` on first use (the binary from `serverPath.ts`), registers the
// custom editor, the commands, the associations setting and the reopening of files over
// `tome.threshold` (`autoOpen.ts`), and routes the server's notifications (progress, changes on
// disk).

import * as vscode from "vscode";
import { AutoOpen } from "./autoOpen";
import { TomeEditorProvider, VIEW_TYPE, type ServerHost, type TomeDocument } from "./editor";
import { ProgressRelay } from "./progress";
import type { ProgressToken, ProgressValue } from "./protocol";
import { TomeServer } from "./rpc";
import { resolveServerPath, type ResolvedServer } from "./serverPath";
import { TomeStatusBar } from "./statusBar";

let server: TomeServer | undefined;
let starting: Promise<TomeServer> | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel("Tome");
  const status = new TomeStatusBar();
  const sessions = new Map<number, TomeDocument>();
  let shown: TomeDocument | undefined; // the document whose status the status bar shows
  const progress = new ProgressRelay((doc, percent) => {
    const document = sessions.get(doc);
    // The views are told; at the end the session reads the exact line count (its `info` event
    // updates the status bar).
    void document?.session.indexProgress(percent).catch(() => undefined);
    if (percent !== null && document && shown === document) host.showStatus(document);
  });
  context.subscriptions.push(output, status);

  async function startServer(): Promise<TomeServer> {
    let s: TomeServer;
    let binary: ResolvedServer;
    try {
      binary = resolveServerPath({
        configured: vscode.workspace.getConfiguration("tome").get<string>("serverPath"),
        extensionPath: context.extensionPath,
        platform: process.platform,
        env: process.env,
      });
      s = await TomeServer.start(binary.path);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      void vscode.window.showErrorMessage(msg, "Open Settings").then((pick) => {
        if (pick) void vscode.commands.executeCommand("workbench.action.openSettings", "tome.serverPath");
      });
      throw e;
    }
    output.appendLine(`started ${binary.path} serve (${binary.source}; ${s.initializeResult.serverInfo?.version ?? "?"})`);
    s.connection.on("progress", (token: ProgressToken, value: ProgressValue) => progress.onServerProgress(token, value));
    s.onNotification("tome/didChangeOnDisk", (params) => {
      const follow = vscode.workspace.getConfiguration("tome").get<boolean>("follow", true);
      provider.onDiskChange(params, follow).catch((e: unknown) => output.appendLine(`change on disk: ${String(e)}`));
    });
    s.connection.on("close", (reason?: Error) => {
      output.appendLine(`server stopped: ${reason?.message ?? ""}\n${s.stderr}`);
      if (server === s) server = undefined;
      if (sessions.size) void vscode.window.showErrorMessage(`The Tome server stopped: ${reason?.message ?? ""}. Reopen the files.`);
    });
    return s;
  }

  const host: ServerHost = {
    sessions,
    async get() {
      if (server && !server.connection.isClosed) return server;
      starting ??= startServer().finally(() => (starting = undefined));
      server = await starting;
      return server;
    },
    withServerProgress(token, title, task, location = vscode.ProgressLocation.Notification) {
      return progress.run(token, location, title, task);
    },
    log(message) {
      output.appendLine(`${new Date().toISOString()} ${message}`);
    },
    showStatus(document) {
      shown = document;
      if (!document) return status.hide();
      status.showDocument(document.session.info, document.cursorStatus, progress.indexPercent.get(document.session.doc));
    },
  };

  const provider = new TomeEditorProvider(context, host);
  context.subscriptions.push(
    vscode.window.registerCustomEditorProvider(VIEW_TYPE, provider, {
      webviewOptions: { retainContextWhenHidden: false },
      supportsMultipleEditorsPerDocument: true,
    }),
    vscode.commands.registerCommand("tome.openLargeFile", async () => {
      const picked = await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: "Open with Tome" });
      if (picked?.[0]) await vscode.commands.executeCommand("vscode.openWith", picked[0], VIEW_TYPE);
    }),
    vscode.commands.registerCommand("tome.goToLine", () => host.activePost?.({ type: "gotoLine" })),
    vscode.commands.registerCommand("tome.find", () => host.activePost?.({ type: "find" })),
    vscode.commands.registerCommand("tome.followEnd", () => host.activePost?.({ type: "follow", on: "toggle" })),
    vscode.commands.registerCommand("tome.openWithTome", async (uri?: vscode.Uri) => {
      const target = uri ?? vscode.window.activeTextEditor?.document.uri;
      if (target) await vscode.commands.executeCommand("vscode.openWith", target, VIEW_TYPE);
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("tome.associations")) void syncAssociations();
      if (e.affectsConfiguration("tome.highlighting")) {
        const highlighting = vscode.workspace.getConfiguration("tome").get<boolean>("highlighting", true);
        for (const d of sessions.values()) d.session.broadcast({ type: "settings", highlighting });
      }
      if (e.affectsConfiguration("tome.serverPath") && server) {
        void vscode.window.showInformationMessage("Tome: the new server path applies when the server next starts.");
      }
    }),
    new AutoOpen(context, (message) => host.log(message)),
    {
      dispose: () => {
        sessions.clear();
      },
    },
  );
  void syncAssociations();
}

/** Writes `tome.associations` patterns into `workbench.editorAssociations` (global). */
async function syncAssociations(): Promise<void> {
  const patterns = vscode.workspace.getConfiguration("tome").get<string[]>("associations", []);
  if (!patterns.length) return;
  const wb = vscode.workspace.getConfiguration("workbench");
  const current = { ...(wb.get<Record<string, string>>("editorAssociations") ?? {}) };
  let changed = false;
  for (const p of patterns) {
    if (current[p] !== VIEW_TYPE) {
      current[p] = VIEW_TYPE;
      changed = true;
    }
  }
  if (changed) await wb.update("editorAssociations", current, vscode.ConfigurationTarget.Global);
}

export async function deactivate(): Promise<void> {
  // shutdown + exit: dirty documents keep their journals (hot exit restores them).
  await server?.stop();
  server = undefined;
}
