// Entry point: starts `tome serve` on first use, registers the custom editor, the commands and
// the associations setting, shows progress and reacts to changes on disk.

import * as vscode from "vscode";
import { TomeServer, type ProgressValue } from "./rpc";
import { TomeDocument, TomeEditorProvider, VIEW_TYPE, type ServerHost } from "./editor";
import type { DocInfo } from "./viewport";

let server: TomeServer | undefined;
let starting: Promise<TomeServer> | undefined;

interface DiskChange {
  doc: number;
  change: "appended" | "rewritten" | "truncated" | "replaced" | "deleted";
  message: string;
}

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel("Tome");
  const status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Right, 100);
  const sessions = new Map<number, TomeDocument>();
  /** `$/progress` tokens → the callbacks of the progress UI showing them. */
  const progress = new Map<string | number, (v: ProgressValue) => void>();
  context.subscriptions.push(output, status);

  function showProgress(token: string | number, location: vscode.ProgressLocation, title: string): Promise<void> {
    return new Promise<void>((started) => {
      void vscode.window.withProgress({ location, title }, (p) => {
        started();
        let last = 0;
        return new Promise<void>((done) => {
          progress.set(token, (v) => {
            if (v.kind === "end") {
              progress.delete(token);
              done();
            } else if (typeof v.percentage === "number" && v.percentage > last) {
              p.report({ increment: v.percentage - last, message: v.message });
              last = v.percentage;
            }
          });
        });
      });
    });
  }

  async function startServer(): Promise<TomeServer> {
    const configured = vscode.workspace.getConfiguration("tome").get<string>("serverPath") || "tome";
    let s: TomeServer;
    try {
      s = await TomeServer.start(configured);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      void vscode.window.showErrorMessage(msg, "Open Settings").then((pick) => {
        if (pick) void vscode.commands.executeCommand("workbench.action.openSettings", "tome.serverPath");
      });
      throw e;
    }
    output.appendLine(`started ${configured} serve (${s.initializeResult.serverInfo?.version ?? "?"})`);
    s.connection.on("progress", (token: string | number, value: ProgressValue) => {
      if (value.kind === "begin" && !progress.has(token) && String(token).startsWith("tome/index/")) {
        void showProgress(token, vscode.ProgressLocation.Window, "Tome: indexing");
      }
      progress.get(token)?.(value);
    });
    s.connection.on("notification", (method: string, params: unknown) => {
      if (method === "tome/didChangeOnDisk") void onDiskChange(params as DiskChange);
    });
    s.connection.on("close", (reason?: Error) => {
      output.appendLine(`server stopped: ${reason?.message ?? ""}\n${s.stderr}`);
      if (server === s) server = undefined;
      if (sessions.size) void vscode.window.showErrorMessage(`The Tome server stopped: ${reason?.message ?? ""}. Reopen the files.`);
    });
    return s;
  }

  async function onDiskChange(p: DiskChange): Promise<void> {
    const document = sessions.get(p.doc);
    if (!document) return;
    const info = await document.session.refreshInfo();
    const follow = vscode.workspace.getConfiguration("tome").get<boolean>("follow", true);
    if (p.change === "appended") {
      document.session.broadcast({ type: "diskChange", change: p.change, message: p.message, info, follow });
      return;
    }
    const name = document.uri.fsPath;
    if (p.change === "deleted") {
      void vscode.window.showWarningMessage(`${name} was deleted on disk. Saving writes it again.`);
      return;
    }
    const pick = await vscode.window.showWarningMessage(`${name}: ${p.message}`, "Reload from Disk", "Keep Mine");
    if (pick === "Reload from Disk") {
      await document.server.request<DocInfo>("tome/reload", { doc: p.doc });
      await document.session.refresh();
    }
  }

  const host: ServerHost = {
    sessions,
    async get() {
      if (server && !server.connection.isClosed) return server;
      starting ??= startServer().finally(() => (starting = undefined));
      server = await starting;
      return server;
    },
    async withServerProgress(token, title, task) {
      await showProgress(token, vscode.ProgressLocation.Notification, title);
      try {
        return await task();
      } finally {
        progress.get(token)?.({ kind: "end" });
      }
    },
    setStatus(text) {
      if (text) {
        status.text = `$(file-binary) ${text}`;
        status.show();
      } else status.hide();
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
    vscode.commands.registerCommand("tome.openWithTome", async (uri?: vscode.Uri) => {
      const target = uri ?? vscode.window.activeTextEditor?.document.uri;
      if (target) await vscode.commands.executeCommand("vscode.openWith", target, VIEW_TYPE);
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("tome.associations")) void syncAssociations();
      if (e.affectsConfiguration("tome.serverPath") && server) {
        void vscode.window.showInformationMessage("Tome: the new server path applies when the server next starts.");
      }
    }),
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
