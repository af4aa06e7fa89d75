// "Tome: Go to Time…": asks for a time, finds the first line at or after it on the server
// (`tome/seekTime`: the log's timestamp format is detected there, and a binary search over the
// file's bytes finds the line at once, even before the line index is done), then tells the
// active webview to put the cursor at that line's start.
import type { HostMessage, Requester, SeekTimeResult } from "./protocol";
import { RpcError } from "./rpc";

/** What the command needs of VS Code and of the active Tome editor (faked in unit tests). */
export interface GoToTimeDeps {
  /** The active Tome editor's document and a way to post to its webview; undefined when none. */
  active(): { doc: number; server: Requester; post(m: HostMessage): void } | undefined;
  /** Asks for the time (an input box); undefined when dismissed. */
  ask(): Thenable<string | undefined>;
  /** Reports an error to the user. */
  error(message: string): void;
  /** Tells the user something (the time found). */
  info(message: string): void;
}

export const PROMPT = "Time (2026-11-26T12:00, 2026-11-26 12:00:00, Nov 26 12:00, 1795694400…)";

/** Runs the command; returns the server's answer (undefined when nothing was done). */
export async function goToTime(d: GoToTimeDeps): Promise<SeekTimeResult | undefined> {
  const target = d.active();
  if (!target) return undefined;
  const time = (await d.ask())?.trim();
  if (!time) return undefined;
  let r: SeekTimeResult;
  try {
    r = await target.server.request("tome/seekTime", { doc: target.doc, time });
  } catch (e) {
    d.error(`Tome: ${e instanceof RpcError ? e.message : String(e)}`);
    return undefined;
  }
  target.post({ type: "gotoOffset", offset: r.offset, line: r.line, end: r.time === null });
  if (r.time === null) d.info(`Tome: no line at or after ${time} (${r.format}): at the end`);
  else if (r.approximate) d.info(`Tome: ${r.time} (long stretches without timestamps: maybe not the first line at or after ${time})`);
  return r;
}
