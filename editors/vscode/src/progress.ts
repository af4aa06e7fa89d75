// `$/progress` from `tome serve` (indexing, search, replace, save) shown in VS Code's progress
// UI through `vscode.window.withProgress`.

import * as vscode from "vscode";
import type { ProgressToken, ProgressValue } from "./protocol";

export class ProgressRelay {
  /** Tokens → the progress UI showing them. */
  private shown = new Map<ProgressToken, (v: ProgressValue) => void>();
  /** Index progress by document id (what the status bar shows). */
  readonly indexPercent = new Map<number, number>();

  constructor(private readonly onIndexProgress: (doc: number, percent: number | null) => void = () => undefined) {}

  /** Feeds one `$/progress` notification. */
  onServerProgress(token: ProgressToken, value: ProgressValue): void {
    const doc = indexedDoc(token);
    if (doc !== null) this.noteIndex(doc, value);
    if (doc !== null && value.kind === "begin" && !this.shown.has(token)) {
      void this.show(token, vscode.ProgressLocation.Window, "Tome: indexing");
    }
    this.shown.get(token)?.(value);
  }

  private noteIndex(doc: number, value: ProgressValue): void {
    const percent = value.kind === "end" ? null : (value.percentage ?? 0);
    if (percent === null) this.indexPercent.delete(doc);
    else this.indexPercent.set(doc, percent);
    this.onIndexProgress(doc, percent);
  }

  /**
   * Runs `task` (which sends a request with `workDoneToken: token`) under a progress UI fed by
   * that token's notifications. With `delayMs`, the UI comes up only if the task still runs
   * then, showing the latest value so far (VS Code's own slow-save notice waits the same way):
   * a quick save or filter leaves no notification behind. The token is registered before the
   * task starts, so `begin` is never missed.
   */
  async run<T>(token: string, location: vscode.ProgressLocation, title: string, task: () => Promise<T>, delayMs = 0): Promise<T> {
    let latest: ProgressValue | undefined;
    let opened = false;
    const open = async () => {
      opened = true;
      await this.show(token, location, title);
      if (latest) this.shown.get(token)?.(latest);
    };
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (delayMs > 0) {
      this.shown.set(token, (v) => (latest = v));
      timer = setTimeout(() => void open(), delayMs);
    } else {
      await open();
    }
    try {
      return await task();
    } finally {
      clearTimeout(timer);
      if (opened)
        this.shown.get(token)?.({ kind: "end" }); // a request that failed before `end`
      else this.shown.delete(token);
    }
  }

  /** Opens a progress UI for `token`; resolves once it is up (it closes on `end`). */
  private show(token: ProgressToken, location: vscode.ProgressLocation, title: string): Promise<void> {
    return new Promise<void>((started) => {
      void vscode.window.withProgress({ location, title }, (p) => {
        started();
        return new Promise<void>((done) =>
          this.shown.set(
            token,
            reporter(p, () => {
              this.shown.delete(token);
              done();
            }),
          ),
        );
      });
    });
  }
}

/** Turns `$/progress` values into `increment`s (VS Code adds them up) until `end`. */
function reporter(p: vscode.Progress<{ message?: string; increment?: number }>, end: () => void): (v: ProgressValue) => void {
  let last = 0;
  return (v) => {
    if (v.kind === "end") end();
    else if (typeof v.percentage === "number" && v.percentage > last) {
      p.report({ increment: v.percentage - last, message: `${v.percentage}%` });
      last = v.percentage;
    }
  };
}

/**
 * The document id of an index progress token, else null: `tome/index/<doc>` after `tome/open`,
 * `tome/index/<doc>/<version>` after `tome/reload` (docs/protocol.md).
 */
export function indexedDoc(token: ProgressToken): number | null {
  const m = /^tome\/index\/(\d+)(?:\/\d+)?$/.exec(String(token));
  return m ? Number(m[1]) : null;
}
