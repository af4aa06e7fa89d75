// Pure decisions behind opening big files with Tome by themselves (`tome.threshold`): which
// file a text tab should give to Tome, and which value of VS Code's own large-file limit keeps
// its text editor from reading such a file first. No `vscode` import, so unit tests run them
// directly; src/autoOpen.ts applies them to VS Code's tabs and settings.

export const MIB = 1024 * 1024;

/** `tome.threshold` (MiB) in bytes; 0, negative or not a number: automatic reopening is off. */
export function thresholdBytes(mib: unknown): number {
  return typeof mib === "number" && Number.isFinite(mib) && mib > 0 ? Math.round(mib * MIB) : 0;
}

export interface OpenedFile {
  /** The URI's scheme: Tome opens files of this machine only (`file:`). */
  scheme: string;
  /** From a stat of the file; `undefined` when the stat failed (then VS Code's editor keeps it). */
  size: number | undefined;
  isFile: boolean;
}

/** Whether a file VS Code opened in its text editor should be reopened with Tome. */
export function shouldReopen(file: OpenedFile, threshold: number, declined: boolean): boolean {
  if (threshold <= 0 || declined || file.scheme !== "file" || !file.isFile || file.size === undefined) return false;
  return file.size > threshold;
}

/** `workbench.editorLargeFileConfirmation` as `WorkspaceConfiguration.inspect` reports it (MB). */
export interface LimitInspect {
  defaultValue?: number;
  globalValue?: number;
  workspaceValue?: number;
  workspaceFolderValue?: number;
}

/**
 * The value (MB) to write into the user's `workbench.editorLargeFileConfirmation`, or
 * `undefined` to leave it alone.
 *
 * VS Code's text editor reads a file whole before an extension can swap its tab, unless the
 * file is over this limit: then it stops at a stat and shows a "very large" placeholder, which
 * Tome replaces. Its default is 1024 MB for local files in desktop VS Code (10 MB remote, 50 MB
 * in a browser), so a 500 MB file would be read into memory for nothing. The limit is lowered to
 * the threshold, only when the user set no value of their own (`ours` is the value this
 * extension wrote last, kept in its global state; a value equal to it follows the threshold).
 */
export function limitToWrite(limit: LimitInspect, thresholdMiB: number, ours: number | undefined): number | undefined {
  if (!(thresholdMiB > 0)) return undefined;
  const want = Math.max(1, Math.floor(thresholdMiB));
  if (limit.workspaceValue !== undefined || limit.workspaceFolderValue !== undefined) return undefined;
  if (limit.globalValue !== undefined) {
    // The user's own value wins; ours follows the threshold.
    return limit.globalValue === ours && ours !== want ? want : undefined;
  }
  if (limit.defaultValue !== undefined && limit.defaultValue <= want) return undefined;
  return want;
}
