// The status bar item of the active Tome editor: cursor, selection, line count, indexing,
// encoding and line ending, and a warning while the journal does not record edits.

import * as vscode from "vscode";
import type { CursorStatus, DocInfo } from "./protocol";

const EOL_NAMES = { lf: "LF", crlf: "CRLF", cr: "CR" } as const;

function thousands(n: number): string {
  return n.toLocaleString("en-US");
}

/** The item's text, e.g. `Ln 12, Col 5 (3 lines selected) · 1,952,490 lines · UTF-8 · LF`. */
export function formatStatus(info: DocInfo, status: CursorStatus | undefined, indexPercent?: number): string {
  const parts: string[] = [];
  if (status) {
    const sel = status.selectedLines > 0 ? ` (${status.selectedLines === 1 ? "selection" : `${thousands(status.selectedLines)} lines selected`})` : "";
    parts.push(`Ln ${thousands(status.cursor.line + 1)}, Col ${status.cursor.character + 1}${sel}`);
  }
  const lc = info.lineCount;
  parts.push(lc.exact ? `${thousands(lc.known)} lines` : `~${thousands(Math.max(lc.known, lc.estimate))} lines`);
  if (!info.indexComplete) parts.push(`indexing ${indexPercent ?? info.indexPercent}%`);
  parts.push((info.encoding ?? "utf-8").toUpperCase());
  parts.push(EOL_NAMES[info.lineEnding] ?? info.lineEnding);
  if (status?.following) parts.push("following");
  return parts.join(" · ");
}

const TOOLTIP = "Tome: position, size, indexing, encoding and line ending of the file";

/**
 * The warning shown while the journal does not record edits (`journalError`): unsaved changes
 * are not protected against a crash until a save restarts it.
 */
export function journalWarning(file: string, reason: string): string {
  return `Tome: unsaved changes to ${file} are not protected against a crash: the journal cannot be written (${reason}). Save to protect them.`;
}

export class TomeStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Right, 100);

  constructor() {
    this.item.name = "Tome";
    this.item.tooltip = TOOLTIP;
  }

  get text(): string {
    return this.item.text;
  }

  /** Shows `text`; while `journalError` is set, after a warning marker (its reason in the tooltip). */
  show(text: string, journalError?: string | null): void {
    if (journalError) {
      this.item.text = `$(warning) not protected · ${text}`;
      this.item.tooltip = `Unsaved changes are not protected against a crash: Tome's journal cannot be written (${journalError}). Save to protect them.`;
      this.item.backgroundColor = new vscode.ThemeColor("statusBarItem.warningBackground");
    } else {
      this.item.text = text;
      this.item.tooltip = TOOLTIP;
      this.item.backgroundColor = undefined;
    }
    this.item.show();
  }

  /** Shows the status of a document: its info, the cursor its active view reports, indexing. */
  showDocument(info: DocInfo, status: CursorStatus | undefined, indexPercent?: number): void {
    this.show(formatStatus(info, status, indexPercent), info.journalError);
  }

  hide(): void {
    this.item.hide();
  }

  dispose(): void {
    this.item.dispose();
  }
}
