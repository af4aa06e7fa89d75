// Reads the text of a range of the document from `tome serve`, for Copy and Cut of selections
// that span lines far off screen. `tome/getText` returns the bytes as they are (line breaks
// included: a lone CR in an LF file stays a CR), at most 16 MiB per request, so a larger range
// is read in parts by byte offsets, each part ending on a character boundary. Pure Node (no
// `vscode`).

import {
  ErrorCodes,
  type GetTextParams,
  type GetTextResult,
  type Position,
  type Range,
  type Requester,
  type StaleVersionData,
  type ViewLine,
  type ViewportParams,
} from "./protocol";
import { RpcError } from "./rpc";

/** Copy refuses more than this: a clipboard of gigabytes would freeze VS Code and the OS. */
export const MAX_COPY_BYTES = 64 * 1024 * 1024;

/** The most one `tome/getText` returns (the server's limit). */
export const PART_BYTES = 16 * 1024 * 1024;

/**
 * UTF-16 code units per `tome/getText` when measuring the start of a line longer than a part:
 * at most 3 bytes per code unit in UTF-8 (4 per surrogate pair), so 4 Mi units stay within
 * 12 MiB.
 */
const PREFIX_UNITS = 4 * 1024 * 1024;

export class RangeTooLargeError extends Error {
  constructor(
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(`The selection holds ${mib(bytes)}; Tome copies at most ${mib(limit)} to the clipboard.`);
    this.name = "RangeTooLargeError";
  }
}

function mib(n: number): string {
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

function getText(server: Requester, params: GetTextParams, signal?: AbortSignal): Promise<GetTextResult> {
  return server.request("tome/getText", params, signal);
}

async function viewLine(server: Requester, params: ViewportParams, signal?: AbortSignal): Promise<{ line: ViewLine; version: number }> {
  const r = await server.request("tome/viewport", { count: 1, ...params }, signal);
  if (!r.lines.length) throw new RpcError({ code: ErrorCodes.OutOfBounds, message: "the range lies past the end of the document" });
  return { line: r.lines[0], version: r.version };
}

/** The byte offset of a position (UTF-16 column) at `version`. */
async function offsetOf(server: Requester, doc: number, p: Position, version: number | undefined, signal?: AbortSignal): Promise<{ offset: number; version: number }> {
  const { line, version: v } = await viewLine(server, { doc, first: p.line, window: { start: 0, width: 1, unit: "encoding" } }, signal);
  if (version !== undefined && v !== version) throw staleError(version, v);
  if (p.character === 0) return { offset: line.offset, version: v };
  const prefix = (from: number, to: number): Promise<GetTextResult> =>
    getText(server, { doc, version: v, range: { start: { line: p.line, character: from }, end: { line: p.line, character: to } } }, signal);
  try {
    return { offset: line.offset + (await prefix(0, p.character)).bytes, version: v };
  } catch (e) {
    // The start of the line up to the column is over 16 MiB: measure it in parts.
    if (!(e instanceof RpcError && e.code === ErrorCodes.OutOfBounds) || line.byteLength <= PART_BYTES) throw e;
  }
  let bytes = 0;
  for (let c = 0; c < p.character;) {
    let to = Math.min(c + PREFIX_UNITS, p.character);
    // Never end a part between the two halves of a surrogate pair.
    const piece = await prefix(c, to).catch(async (e: unknown) => {
      if (!(e instanceof RpcError) || to === p.character) throw e;
      to--;
      return prefix(c, to);
    });
    bytes += piece.bytes;
    c = to;
  }
  return { offset: line.offset + bytes, version: v };
}

function staleError(given: number, current: number): RpcError {
  const data: StaleVersionData = { kind: "staleVersion", given, current };
  return new RpcError({ code: ErrorCodes.StaleVersion, message: `the document changed while copying (version ${given}, now ${current})`, data });
}

/**
 * The largest character boundary in (from, to]: the start of the line holding `to` when that is
 * past `from`, else (a line longer than a part) the start of the character at `to` in that line.
 */
async function boundaryAtOrBefore(server: Requester, doc: number, version: number, from: number, to: number, signal?: AbortSignal): Promise<number> {
  const { line, version: v } = await viewLine(server, { doc, around: to, before: 0, window: { start: 0, width: 1, unit: "bytes" } }, signal);
  if (v !== version) throw staleError(version, v);
  if (line.offset > from) return line.offset;
  // The window's start is moved back to the start of the character it falls in.
  const { line: at } = await viewLine(server, { doc, around: to, before: 0, window: { start: to - line.offset, width: 8, unit: "bytes" } }, signal);
  const b = line.offset + at.startColumn;
  if (b <= from) throw new Error(`no character boundary between bytes ${from} and ${to}`);
  return b;
}

/** The size of `r` in bytes and its byte offsets, all at one version. */
export async function measure(server: Requester, doc: number, r: Range, signal?: AbortSignal): Promise<{ start: number; end: number; version: number }> {
  const a = await offsetOf(server, doc, r.start, undefined, signal);
  const b = await offsetOf(server, doc, r.end, a.version, signal);
  return { start: a.offset, end: Math.max(a.offset, b.offset), version: a.version };
}

/**
 * The text of `r` (UTF-16 columns), exactly as the file holds it (invalid bytes as U+FFFD, as
 * everywhere in the protocol). Throws RangeTooLargeError above `limit` bytes, before reading.
 * All requests name the version the range was measured at: if the document changes meanwhile,
 * the copy fails (-33003) rather than mixing two versions.
 */
export async function readRange(server: Requester, doc: number, r: Range, limit = MAX_COPY_BYTES, signal?: AbortSignal, partBytes = PART_BYTES): Promise<string> {
  const { start, end, version } = await measure(server, doc, r, signal);
  if (end - start > limit) throw new RangeTooLargeError(end - start, limit);
  const parts: string[] = [];
  for (let at = start; at < end;) {
    const to = end - at <= partBytes ? end : await boundaryAtOrBefore(server, doc, version, at, at + partBytes, signal);
    parts.push((await getText(server, { doc, version, offsets: { start: at, end: to } }, signal)).text);
    at = to;
  }
  return parts.join("");
}
