// The status bar items of the active Tome editor: cursor, selection, line count, indexing and
// line ending, and a warning while the journal does not record edits; then, as in VS Code's own
// editor, the encoding (click: Reopen with Encoding), and a marker on a compressed document.

import * as vscode from "vscode";
import { compressionMarker, encodingShortLabel } from "./encodings";
import type { CursorStatus, DocInfo } from "./protocol";

const EOL_NAMES = { lf: "LF", crlf: "CRLF", cr: "CR" } as const;

function thousands(n: number): string {
  return n.toLocaleString("en-US");
}

/** The item's text, e.g. `Ln 12, Col 5 (3 lines selected) · 1,952,490 lines · LF` (the encoding has its own item). */
export function formatStatus(info: DocInfo, status: CursorStatus | undefined, indexPercent?: number): string {
  const parts: string[] = [];
  if (status) {
    const sel = status.selectedLines > 0 ? ` (${status.selectedLines === 1 ? "selection" : `${thousands(status.selectedLines)} lines selected`})` : "";
    parts.push(`Ln ${thousands(status.cursor.line + 1)}, Col ${status.cursor.character + 1}${sel}`);
  }
  const lc = info.lineCount;
  parts.push(lc.exact ? `${thousands(lc.known)} lines` : `~${thousands(Math.max(lc.known, lc.estimate))} lines`);
  if (!info.indexComplete) parts.push(`indexing ${indexPercent ?? info.indexPercent}%`);
  parts.push(EOL_NAMES[info.lineEnding] ?? info.lineEnding);
  if (status?.following) parts.push("following");
  return parts.join(" · ");
}

const TOOLTIP = "Tome: position, size, indexing and line ending of the file";

/** The tooltip of a compressed document's marker. */
export function compressionTooltip(info: DocInfo): string {
  const damaged = info.compressionError ? ` Damaged: ${info.compressionError}` : "";
  return `Tome: a ${info.compression}-compressed file, opened read-only (edits and saves are refused).${damaged}`;
}

/**
 * The warning shown while the journal does not record edits (`journalError`): unsaved changes
 * are not protected against a crash until a save restarts it.
 */
export function journalWarning(file: string, reason: string): string {
  return `Tome: unsaved changes to ${file} are not protected against a crash: the journal cannot be written (${reason}). Save to protect them.`;
}

export class TomeStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Right, 100);
  private readonly encodingItem = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Right, 99);
  private readonly compressionItem = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Right, 98);

  constructor() {
    this.item.name = "Tome";
    this.item.tooltip = TOOLTIP;
    this.encodingItem.name = "Tome Encoding";
    this.encodingItem.tooltip = "Select Encoding";
    this.encodingItem.command = "tome.reopenWithEncoding";
    this.compressionItem.name = "Tome Compression";
  }

  /** The encoding item's text ("Windows 1252"), and the compression marker's ("" when hidden). */
  get encodingText(): string {
    return this.encodingItem.text;
  }
  get compressionText(): string {
    return this.compressionItem.text;
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
    this.encodingItem.text = encodingShortLabel(info.encoding);
    this.encodingItem.show();
    this.compressionItem.text = compressionMarker(info.compression);
    if (info.compression) {
      this.compressionItem.tooltip = compressionTooltip(info);
      this.compressionItem.show();
    } else {
      this.compressionItem.hide();
    }
  }

  hide(): void {
    this.item.hide();
    this.encodingItem.hide();
    this.compressionItem.hide();
  }

  dispose(): void {
    this.item.dispose();
    this.encodingItem.dispose();
    this.compressionItem.dispose();
  }
}
