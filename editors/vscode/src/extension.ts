// Entry point: starts `tome serve` on first use (the binary from `serverPath.ts`), registers the
// custom editor, the commands, the associations setting and the reopening of files over
// `tome.threshold` (`autoOpen.ts`), and routes the server's notifications (progress, changes on
// disk).

import * as vscode from "vscode";
import { AutoOpen } from "./autoOpen";
import { dirtyReopenMessage, encodingPicks } from "./encodings";
import { goToBookmark, listBookmarks, stepBookmark, toggleBookmark, type BookmarkTarget } from "./bookmarks";
import { goToTime, PROMPT } from "./goToTime";
import { FILTER_PROMPT, FIND_IN_FILTER_PROMPT, filterLines } from "./filterCommand";
import { askFilter } from "./filterInput";
import { parseRules } from "./highlightRules";
import { TomeEditorProvider, VIEW_TYPE, WRAP_SETTINGS, readWrapSettings, type ServerHost, type TomeDocument } from "./editor";
import { ProgressRelay } from "./progress";
import { FilterSession } from "./filterSession";
import { ErrorCodes, type Bookmark, type FindToggles, type HostMessage, type ProgressToken, type ProgressValue, type RuleStyle } from "./protocol";

/** Where the find widget's toggles are remembered (workspace state, as VS Code's find controller does). */
const FIND_TOGGLES_KEY = "tome.findToggles";
import { RpcError, TomeServer } from "./rpc";
import { resolveServerPath, type ResolvedServer } from "./serverPath";
import { TomeStatusBar } from "./statusBar";

let server: TomeServer | undefined;
let starting: Promise<TomeServer> | undefined;
/** How the rules the server has are drawn (empty: none set, or the server refused them). */
let ruleStyles: RuleStyle[] = [];

/**
 * Sends `tome.highlightRules` to `s` (for the whole session). Returns the styles to draw them
 * with, or null when the server refused them (the message, naming the rule, is shown; the
 * rules it had stay).
 */
async function sendRules(s: TomeServer): Promise<RuleStyle[] | null> {
  const { rules, styles } = parseRules(vscode.workspace.getConfiguration("tome").get<unknown>("highlightRules", []));
  try {
    await s.request("tome/setHighlightRules", { rules: rules.length ? rules : null });
    return styles;
  } catch (e) {
    void vscode.window.showErrorMessage(`Tome: tome.highlightRules: ${e instanceof Error ? e.message : String(e)}`);
    return null;
  }
}

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
    ruleStyles = (await sendRules(s)) ?? [];
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
      // A notification only for work that takes a while (`tome.notificationDelay`): a toast
      // left by a quick save would also take the next Escape from the editor.
      const delay = location === vscode.ProgressLocation.Notification ? notificationDelay() : 0;
      return progress.run(token, location, title, task, delay);
    },
    log(message) {
      output.appendLine(`${new Date().toISOString()} ${message}`);
    },
    ruleStyles: () => ruleStyles,
    findToggles: {
      get: () => context.workspaceState.get<FindToggles>(FIND_TOGGLES_KEY),
      set: (t) => void context.workspaceState.update(FIND_TOGGLES_KEY, t),
    },
    showStatus(document) {
      shown = document;
      if (!document) return status.hide();
      status.showDocument(document.session.info, document.cursorStatus, progress.indexPercent.get(document.session.doc));
    },
  };

  const provider = new TomeEditorProvider(context, host);
  /** Every open document's and filter view's editors. */
  const views = (): TomeDocument[] => [...sessions.values(), ...provider.filterViews];
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
    vscode.commands.registerCommand("tome.goToTime", () =>
      goToTime({
        active: () => {
          const d = provider.active;
          const post = host.activePost;
          if (!d || !post) return undefined;
          // A filter view: the time is sought in its source; the view goes to its first line at
          // or after the line found (by offset: its line numbers are not the source's).
          const toView = d.session instanceof FilterSession ? (m: HostMessage) => post(m.type === "gotoOffset" ? { ...m, line: null } : m) : post;
          return { doc: d.session.doc, server: d.session.server, post: toView };
        },
        ask: () => vscode.window.showInputBox({ prompt: PROMPT, placeHolder: "2026-11-26T12:00" }),
        error: (m) => void vscode.window.showErrorMessage(m),
        info: (m) => void vscode.window.showInformationMessage(m),
      }),
    ),
    vscode.commands.registerCommand("tome.filterLines", (prompt?: unknown) =>
      filterLines({
        active: () => provider.active?.session,
        ask: () => askFilter(typeof prompt === "string" ? prompt : FILTER_PROMPT),
        error: (m) => void vscode.window.showErrorMessage(m),
        progress: (token, title, task) => host.withServerProgress(token, title, task),
        open: (root, info, label, query) => provider.openFilter(root, info, label, query),
      }).catch((e: unknown) => void vscode.window.showErrorMessage(`Tome: ${e instanceof Error ? e.message : String(e)}`)),
    ),
    ...bookmarkCommands(() => {
      const d = provider.active;
      const post = host.activePost;
      if (!d || !post) return undefined;
      const show = (bookmarks: Bookmark[]) => d.session.setBookmarks(bookmarks);
      return { doc: d.session.doc, server: d.session.server, cursor: d.cursorStatus?.cursor, post, show };
    }),
    // In a filter view, Find filters its lines further (a nested filter): the server's search
    // runs over documents, and the view's lines are a filter's.
    vscode.commands.registerCommand("tome.find", () =>
      provider.active?.session instanceof FilterSession ? vscode.commands.executeCommand("tome.filterLines", FIND_IN_FILTER_PROMPT) : host.activePost?.({ type: "find" }),
    ),
    vscode.commands.registerCommand("tome.reopenWithEncoding", () => reopenWithEncoding(provider)),
    vscode.commands.registerCommand("tome.undoInSource", () => provider.undoInSource(false)),
    vscode.commands.registerCommand("tome.redoInSource", () => provider.undoInSource(true)),
    vscode.commands.registerCommand("tome.replace", () => host.activePost?.({ type: "replace" })),
    vscode.commands.registerCommand("tome.followEnd", () => host.activePost?.({ type: "follow", on: "toggle" })),
    vscode.commands.registerCommand("tome.toggleWordWrap", () => host.activePost?.({ type: "toggleWrap" })),
    vscode.commands.registerCommand("tome.openWithTome", async (uri?: vscode.Uri) => {
      const target = uri ?? vscode.window.activeTextEditor?.document.uri;
      if (target) await vscode.commands.executeCommand("vscode.openWith", target, VIEW_TYPE);
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("tome.associations")) void syncAssociations();
      if (e.affectsConfiguration("tome.highlightRules") && server && !server.connection.isClosed) {
        // Applied live: the server compiles them, the views read their lines again.
        const s = server;
        void sendRules(s).then((styles) => {
          if (!styles || s !== server) return;
          ruleStyles = styles;
          for (const d of views()) d.session.broadcast({ type: "highlightRules", rules: styles });
        });
      }
      if (e.affectsConfiguration("tome.highlighting")) {
        const highlighting = vscode.workspace.getConfiguration("tome").get<boolean>("highlighting", true);
        for (const d of views()) d.session.broadcast({ type: "settings", highlighting });
      }
      // Font, cursor, whitespace, word separators, tab size: applied to the open editors at once
      // (per resource: a language or folder may set them differently).
      const touched = views().filter((d) => e.affectsConfiguration("editor", d.settingsUri));
      for (const d of touched) d.session.editorSettingsChanged();
      if (e.affectsConfiguration("editor")) host.log(`editor settings changed: applied to ${touched.length} Tome editor(s)`);
      for (const d of views()) {
        if (WRAP_SETTINGS.some((s) => e.affectsConfiguration(s, d.settingsUri))) d.session.broadcast({ type: "wrap", wrap: readWrapSettings(d.settingsUri) });
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

/** Tome: Toggle Bookmark, Next Bookmark, Previous Bookmark, List Bookmarks (bookmarks.ts). */
function bookmarkCommands(active: () => BookmarkTarget | undefined): vscode.Disposable[] {
  const command = (id: string, run: (t: BookmarkTarget) => Promise<unknown>) =>
    vscode.commands.registerCommand(id, async () => {
      const t = active();
      if (!t) return;
      try {
        await run(t);
      } catch (e) {
        void vscode.window.showErrorMessage(`Tome: ${e instanceof Error ? e.message : String(e)}`);
      }
    });
  return [
    command("tome.toggleBookmark", toggleBookmark),
    command("tome.nextBookmark", (t) => stepBookmark(t, 1)),
    command("tome.previousBookmark", (t) => stepBookmark(t, -1)),
    command("tome.listBookmarks", async (t) => {
      const all = await listBookmarks(t);
      if (all.length === 0) return void vscode.window.showInformationMessage("Tome: no bookmarks in this file");
      const items = all.map((b) => ({
        label: b.name,
        description: b.position ? `line ${b.position.line + 1}` : `byte ${b.offset}`,
        bookmark: b,
      }));
      const pick = await vscode.window.showQuickPick(items, { placeHolder: "Bookmarks (kept by Tome across sessions)" });
      if (pick) goToBookmark(t, pick.bookmark);
    }),
  ];
}

/**
 * Tome: Reopen with Encoding (also a click on the encoding in the status bar): a Quick Pick of
 * encodings with VS Code's labels, the current one marked; the document's bytes are then read
 * in the one picked. Refused, as VS Code refuses, while the document has unsaved changes.
 */
async function reopenWithEncoding(provider: TomeEditorProvider): Promise<void> {
  const d = provider.active;
  if (!d) return;
  const name = d.uri.fsPath.split(/[\\/]/).pop() || d.uri.fsPath;
  if (d.session instanceof FilterSession) {
    return void vscode.window.showInformationMessage("Tome: a filter view shows its file's text: reopen the file itself with another encoding.");
  }
  if (d.history.dirty || d.session.info.dirty) return void vscode.window.showWarningMessage(dirtyReopenMessage(name));
  const pick = await vscode.window.showQuickPick(encodingPicks(d.session.info.encoding), {
    placeHolder: "Select File Encoding to Reopen File",
    matchOnDescription: true,
  });
  if (!pick || pick.current) return;
  try {
    await provider.reopenWithEncoding(d, pick.entry.label);
  } catch (e) {
    if (e instanceof RpcError && e.code === ErrorCodes.Dirty) return void vscode.window.showWarningMessage(dirtyReopenMessage(name));
    void vscode.window.showErrorMessage(`Tome: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Milliseconds a save, filter or copy runs before its progress notification appears. */
function notificationDelay(): number {
  const ms = Number(vscode.workspace.getConfiguration("tome").get("notificationDelay", 1000));
  return Number.isFinite(ms) ? Math.max(0, ms) : 1000;
}
