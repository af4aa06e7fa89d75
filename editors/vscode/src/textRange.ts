// Reads the text of a range of the document from `tome serve`, for Copy and Cut of selections
// that span lines far off screen. The protocol has no "get text" method: `tome/viewport` reads
// lines in a column window, at most 1000 lines and 1 M cells per request, so this reads in
// batches of lines and continues lines cut by the window. Pure Node (no `vscode`).

import type { Requester } from "./session";
import type { Range } from "./selection";
import type { ViewLine, ViewportResult } from "./viewport";

/** Copy refuses more than this: a clipboard of gigabytes would freeze VS Code and the OS. */
export const MAX_COPY_BYTES = 64 * 1024 * 1024;

const BATCH_LINES = 1000;
const BATCH_WIDTH = 1024; // 1000 × 1024 cells: within the server's 1 M cells per viewport
const LINE_WIDTH = 16384; // one line at a time: the widest window the server gives

export class RangeTooLargeError extends Error {
  constructor(readonly bytes: number, readonly limit: number) {
    super(`The selection holds about ${mib(bytes)}; Tome copies at most ${mib(limit)} to the clipboard.`);
    this.name = "RangeTooLargeError";
  }
}

function mib(n: number): string {
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

async function viewport(server: Requester, doc: number, first: number, count: number, start: number, width: number, signal?: AbortSignal): Promise<ViewLine[]> {
  const r = await server.request<ViewportResult>("tome/viewport", { doc, first, count, window: { start, width, unit: "encoding" } }, signal);
  return r.lines;
}

/** The size of the range in bytes, close enough to refuse huge copies before reading them. */
export async function estimateBytes(server: Requester, doc: number, r: Range): Promise<number> {
  const [a] = await viewport(server, doc, r.start.line, 1, 0, 1);
  const [b] = r.end.line === r.start.line ? [a] : await viewport(server, doc, r.end.line, 1, 0, 1);
  return Math.max(0, b.offset - a.offset + r.end.character - r.start.character);
}

/**
 * The text of line `l` from column `from` up to column `to` (null: the whole rest), reading
 * further windows while the server says the line goes on (`cutAfter`).
 */
async function lineText(server: Requester, doc: number, l: ViewLine, from: number, to: number | null, signal?: AbortSignal): Promise<string> {
  const take = (v: ViewLine): string => {
    const a = Math.max(0, from - v.startColumn);
    const b = to === null ? v.text.length : Math.max(a, to - v.startColumn);
    return v.text.slice(a, b);
  };
  let text = take(l);
  let v = l;
  while (v.cutAfter && v.text.length > 0 && (to === null || v.startColumn + v.text.length < to)) {
    const next = v.startColumn + v.text.length; // windows never split a character
    [v] = await viewport(server, doc, l.number!, 1, next, LINE_WIDTH, signal);
    text += take(v);
  }
  return text;
}

/** The line break to put after a line in copied text (the viewport gives only its length). */
function breakText(l: ViewLine, ending: "lf" | "crlf" | "cr"): string {
  if (l.breakLength === 2) return "\r\n";
  if (l.breakLength === 0) return "";
  return ending === "cr" ? "\r" : "\n";
}

/** The next lines of the range from `line` on: a batch, or the first line alone when the range starts far to its right. */
function readBatch(server: Requester, doc: number, r: Range, line: number, signal?: AbortSignal): Promise<ViewLine[]> {
  if (line === r.start.line && r.start.character >= BATCH_WIDTH) return viewport(server, doc, line, 1, r.start.character, LINE_WIDTH, signal);
  return viewport(server, doc, line, Math.min(BATCH_LINES, r.end.line - line + 1), 0, BATCH_WIDTH, signal);
}

/**
 * The text of `r` (UTF-16 columns), invalid bytes as U+FFFD as everywhere in the protocol.
 * Throws RangeTooLargeError above `limit` bytes, before reading when it can tell.
 */
export async function readRange(
  server: Requester,
  doc: number,
  r: Range,
  ending: "lf" | "crlf" | "cr",
  limit = MAX_COPY_BYTES,
  signal?: AbortSignal,
): Promise<string> {
  const estimate = await estimateBytes(server, doc, r);
  if (estimate > limit) throw new RangeTooLargeError(estimate, limit);
  const parts: string[] = [];
  let length = 0;
  for (let line = r.start.line; line <= r.end.line; ) {
    const lines = await readBatch(server, doc, r, line, signal);
    if (!lines.length) break; // past the end of the document
    for (const l of lines) {
      const n = l.number!;
      const to = n === r.end.line ? r.end.character : null;
      const text = (await lineText(server, doc, l, n === r.start.line ? r.start.character : 0, to, signal)) + (to === null ? breakText(l, ending) : "");
      parts.push(text);
      length += text.length;
      if (length > limit) throw new RangeTooLargeError(length, limit);
    }
    line += lines.length;
  }
  return parts.join("");
}
