// Opens big files with Tome by themselves: a file over `tome.threshold` that VS Code opened in
// its text editor, however it was opened (explorer, Quick Open, `code FILE`, drag and drop, a
// terminal link, a restored tab), is reopened in a Tome tab at once and the text tab closed.
//
// VS Code lets no extension choose the editor of a file by its size: the editor is picked from
// `workbench.editorAssociations` (glob patterns) and the editors' priorities before any
// extension hears of it. What an extension does hear is the tab (`window.tabGroups`), once the
// workbench opened it. So the text tab is swapped; `largeFiles.limitToWrite` makes VS Code's
// text editor stop at a stat for such files (its "very large" placeholder) instead of reading them.

import * as fs from "node:fs";
import * as vscode from "vscode";
import { VIEW_TYPE } from "./editor";
import { limitToWrite, shouldReopen, thresholdBytes } from "./largeFiles";

const LIMIT_KEY = "tome.editorLargeFileConfirmationWritten";

export class AutoOpen implements vscode.Disposable {
  private readonly subscriptions: vscode.Disposable[] = [];
  /** URIs being reopened (one swap at a time per file). */
  private readonly pending = new Set<string>();
  /** URIs the user reopened in the text editor on purpose: left there for this session. */
  private readonly declined = new Set<string>();

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: (message: string) => void,
  ) {
    this.subscriptions.push(
      vscode.window.tabGroups.onDidChangeTabs((e) => {
        // `changed` covers a background tab becoming active, and a preview tab's new file.
        for (const tab of [...e.opened, ...e.changed]) this.consider(tab);
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration("tome.threshold")) void this.alignLimit();
      }),
    );
    // Tabs opened before activation (a file given on the command line, restored tabs).
    for (const group of vscode.window.tabGroups.all) for (const tab of group.tabs) this.consider(tab);
    void this.alignLimit();
  }

  dispose(): void {
    for (const d of this.subscriptions) d.dispose();
  }

  private threshold(): number {
    return thresholdBytes(vscode.workspace.getConfiguration("tome").get<number>("threshold", 50));
  }

  /** Runs synchronously up to the stat: whether the user chose the text editor is read from the tabs as they are now. */
  private consider(tab: vscode.Tab): void {
    if (!(tab.input instanceof vscode.TabInputText) || !tab.isActive || tab.isDirty) return;
    const uri = tab.input.uri;
    const key = uri.toString();
    if (uri.scheme !== "file" || this.pending.has(key) || this.declined.has(key)) return;
    // "Reopen Editor With… → Text Editor" on a Tome tab opens the text tab beside it first, then
    // closes the Tome tab: a text tab next to a Tome tab of the same file is the user's choice.
    const besideTome = tab.group.tabs.some((t) => t.input instanceof vscode.TabInputCustom && t.input.viewType === VIEW_TYPE && t.input.uri.toString() === key);
    if (besideTome) {
      this.declined.add(key);
      this.log(`${uri.fsPath}: reopened in the text editor by the user; not taken back`);
      return;
    }
    const threshold = this.threshold();
    if (threshold <= 0) return;
    this.pending.add(key);
    void this.reopenIfLarge(tab, uri, threshold).finally(() => this.pending.delete(key));
  }

  private async reopenIfLarge(tab: vscode.Tab, uri: vscode.Uri, threshold: number): Promise<void> {
    const seen = Date.now();
    // Node's own stat: a `file:` URI is on this machine (the extension host's), and each
    // millisecond here is one VS Code's text editor may use to paint its large-file placeholder.
    const stat = await fs.promises.stat(uri.fsPath).catch(() => undefined);
    const file = { scheme: uri.scheme, size: stat?.size, isFile: stat?.isFile() ?? false };
    if (!shouldReopen(file, threshold, this.declined.has(uri.toString()))) return;
    const column = tab.group.viewColumn;
    const key = uri.toString();
    // Looked up afresh each time: the Tab and TabGroup objects of an event may have been replaced.
    const findTab = (input: typeof vscode.TabInputText | typeof vscode.TabInputCustom) =>
      vscode.window.tabGroups.all
        .find((g) => g.viewColumn === column)
        ?.tabs.find((t) => t.input instanceof input && t.input.uri.toString() === key && (!(t.input instanceof vscode.TabInputCustom) || t.input.viewType === VIEW_TYPE));
    try {
      // Tome's tab first, then the text tab closes: the group never shows another file between.
      // `vscode.openWith` settles only once the document is open (the server started, the file
      // mapped), so the text tab is closed as soon as Tome's tab exists, not then.
      const opened = Promise.resolve(
        vscode.commands.executeCommand("vscode.openWith", uri, VIEW_TYPE, { viewColumn: column, preserveFocus: !tab.group.isActive, preview: tab.isPreview }),
      );
      await this.tabAppears(() => findTab(vscode.TabInputCustom) !== undefined, opened);
      // A preview text tab is already gone: Tome's preview tab took its place.
      const text = findTab(vscode.TabInputText);
      if (text) await Promise.resolve(vscode.window.tabGroups.close(text, true)).catch(() => undefined);
      if (findTab(vscode.TabInputText)) throw new Error("the text tab could not be closed");
      this.log(`${uri.fsPath}: ${file.size} bytes > tome.threshold, reopened with Tome (text tab replaced ${Date.now() - seen} ms after it opened)`);
      await opened;
    } catch (e) {
      this.log(`${uri.fsPath}: reopening with Tome failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Resolves once `present()` holds (checked now and after each change of the tabs), or `until` settles (rejecting with it). */
  private async tabAppears(present: () => boolean, until: Promise<unknown>): Promise<void> {
    if (present()) return;
    let sub: vscode.Disposable | undefined;
    try {
      await Promise.race([
        until,
        new Promise<void>((resolve) => {
          sub = vscode.window.tabGroups.onDidChangeTabs(() => present() && resolve());
        }),
      ]);
    } finally {
      sub?.dispose();
    }
  }

  /** Lowers VS Code's own large-file limit to the threshold when the user has not set one (see `limitToWrite`). */
  private async alignLimit(): Promise<void> {
    const mib = vscode.workspace.getConfiguration("tome").get<number>("threshold", 50);
    const wb = vscode.workspace.getConfiguration("workbench");
    const inspect = wb.inspect<number>("editorLargeFileConfirmation");
    if (!inspect) return;
    const value = limitToWrite(inspect, mib, this.context.globalState.get<number>(LIMIT_KEY));
    if (value === undefined) return;
    try {
      await wb.update("editorLargeFileConfirmation", value, vscode.ConfigurationTarget.Global);
      await this.context.globalState.update(LIMIT_KEY, value);
      this.log(`workbench.editorLargeFileConfirmation set to ${value} MB (tome.threshold), so VS Code's text editor does not read files Tome opens`);
    } catch (e) {
      this.log(`could not set workbench.editorLargeFileConfirmation: ${String(e)}`);
    }
  }
}
