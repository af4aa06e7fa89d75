// The host side of a filter view: the same webview as a document's (src/webview/), fed from a
// filter of `tome serve` (docs/protocol.md, "Filter views") instead of the document. The
// webview's line n is the filter's line n; its `viewport` reads become `tome/filterLines` (only
// what is on screen is read, whatever the filter's size), and each line carries its source line
// for the gutter. Edits go to the source document as `tome/edit` by byte offsets (the filter
// line's source offset plus the byte column) at the version the lines were read at, through
// the source's DocSession: one undo step of the source, as if typed there. Pure Node, no
// `vscode` import (unit-tested against the real server).

import {
  ErrorCodes,
  type DocInfo,
  type Edit,
  type EditParams,
  type FilterInfo,
  type FilterQuery,
  type FilterLine,
  type HighlightOut,
  type Requester,
  type ViewLine,
  type ViewportResult,
  type WebviewMessage,
  type WebviewRequest,
  type WebviewResult,
} from "./protocol";
import { RpcError } from "./rpc";
import { DocSession, type SessionHooks } from "./session";

/** Bytes of a line read at most (whole lines are what edits need; the server caps count × this at 16 MiB). */
const MAX_LINE_BYTES = 65536;
/** The server's cap on lines per `tome/filterLines`. */
const MAX_COUNT = 1000;
/** While the scan runs, the view reads its screen again this often (the first screen comes before the scan ends). */
export const SCAN_POLL_MS = 400;
/** Lines of a copy (read 1000 at a time). */
const MAX_COPY_LINES = 100_000;

export interface FilterHooks extends SessionHooks {
  /** Shows source line `line` (byte offset `offset`) in the source's editor. */
  reveal?(line: number, offset: number): void;
}

/** The filter as a document for the webview: its lines, scan progress as "indexing". */
export function filterDocInfo(f: FilterInfo, source: DocInfo): DocInfo {
  // While the scan runs, the count so far projected over the whole source sizes the scrollbar.
  const estimate = f.complete || f.scannedBytes === 0 ? f.matched : Math.round((f.matched * f.totalBytes) / f.scannedBytes);
  return {
    doc: f.doc,
    path: source.path,
    size: f.totalBytes,
    lineCount: { known: f.matched, estimate: Math.max(f.matched, estimate), exact: f.complete },
    indexComplete: f.complete,
    indexPercent: f.totalBytes === 0 ? 100 : Math.floor((f.scannedBytes * 100) / f.totalBytes),
    lineEnding: source.lineEnding,
    encoding: source.encoding,
    version: f.version,
    dirty: false,
    readOnly: source.readOnly || f.stale,
    undoSteps: 0,
    redoSteps: 0,
    journalError: null,
  };
}

/**
 * A filter line as the webview's ViewLine: numbered by its filter index, `gutter` its source
 * line, the text cut to the window [start, start + width) in UTF-16 units. The last line of a
 * complete filter has no line break (the webview's "end of the document").
 */
export function toViewLine(l: FilterLine, window: { start: number; width: number } | undefined, last: boolean): ViewLine {
  const start = Math.min(window?.start ?? 0, l.text.length);
  const end = window ? Math.min(l.text.length, start + window.width) : l.text.length;
  return {
    number: l.index,
    gutter: l.line,
    offset: l.offset,
    text: l.text.slice(start, end),
    startColumn: start,
    length: l.text.length,
    byteLength: l.byteLength,
    breakLength: last ? 0 : 1,
    cutBefore: start > 0,
    cutAfter: end < l.text.length || l.cutAfter,
    invalid: l.invalid,
    lengthKnown: !l.cutAfter,
  };
}

/**
 * The source's highlight rules' matches (columns from each filter line's start, as the server
 * gives them) on the lines as cut to the window: clipped to each line's shown columns
 * [startColumn, startColumn + text length), as `tome/viewport` clips them to its window.
 */
export function clipHighlights(marks: HighlightOut[], lines: ViewLine[]): HighlightOut[] {
  const out: HighlightOut[] = [];
  for (const h of marks) {
    const l = lines[h.line];
    if (!l) continue;
    const start = Math.max(h.start, l.startColumn);
    const end = Math.min(h.end, l.startColumn + l.text.length);
    if (start < end) out.push({ ...h, start, end });
  }
  return out;
}

/** UTF-8 bytes of the first `units` UTF-16 units of `text`. */
export function byteColumn(text: string, units: number): number {
  return Buffer.byteLength(text.slice(0, units), "utf8");
}

/** A line as last read (or as edited through this view since), for turning columns into offsets. */
interface KnownLine {
  offset: number;
  text: string;
  /** Shown whole and as it is (`cutAfter`, `invalid` false): only such lines are edited here. */
  editable: boolean;
}

export class FilterSession extends DocSession {
  /** Lines by filter index at `linesVersion`, kept in step with this view's own edits. */
  private known = new Map<number, KnownLine>();
  private linesVersion = -1;
  private scanTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly unsubscribe: () => void;
  /** The whole filter's query tree (its parents' joined by AND), to make it again (filterUri.ts). */
  query: FilterQuery | undefined;

  constructor(
    server: Requester,
    readonly source: DocSession,
    public filter: FilterInfo,
    readonly label: string,
    private readonly filterHooks: FilterHooks = {},
  ) {
    super(server, filterDocInfo(filter, source.info), filterHooks);
    // The server keeps the filter live: any change of the source shows once changes pause.
    const onSourceChange = (): void => this.refreshSoon();
    source.on("edited", onSourceChange);
    source.on("changed", onSourceChange);
    this.unsubscribe = () => {
      source.off("edited", onSourceChange);
      source.off("changed", onSourceChange);
    };
    if (!filter.complete) this.pollScan();
  }

  get filterId(): number {
    return this.filter.filter;
  }

  protected override initExtra(): { filter?: string } {
    return { filter: this.label };
  }

  /** None: the page reads a filter's lines through `tome/filterLines` itself. */
  protected override firstLines(): Promise<ViewportResult | undefined> {
    return Promise.resolve(undefined);
  }

  override async refreshInfo(): Promise<DocInfo> {
    return this.note(await this.server.request("tome/filterInfo", { filter: this.filterId }));
  }

  private note(f: FilterInfo): DocInfo {
    this.filter = f;
    return this.setInfo(filterDocInfo(f, this.source.info));
  }

  /** While the scan runs: the views read their screen again every SCAN_POLL_MS, until it is complete. */
  private pollScan(): void {
    this.scanTimer = setTimeout(() => {
      this.scanTimer = null;
      if (this.closed) return;
      this.refreshQuietly().then(
        () => {
          if (!this.filter.complete && !this.filter.cancelled && !this.filter.error) this.pollScan();
        },
        () => undefined, // closed meanwhile
      );
    }, SCAN_POLL_MS);
    this.scanTimer.unref?.();
  }

  override async handle(msg: WebviewMessage, post: Parameters<DocSession["handle"]>[1]): Promise<void> {
    if (msg.type !== "reveal") return super.handle(msg, post);
    // Read afresh: the line's source number as it is now (edits may have moved it).
    const l = (await this.readLines({ first: msg.line, count: 1 }))[0];
    if (l) this.filterHooks.reveal?.(l.line, l.offset);
  }

  protected override async relay(msg: WebviewRequest, signal: AbortSignal): Promise<WebviewResult<WebviewRequest["method"]>> {
    switch (msg.method) {
      case "viewport": {
        const p = msg.params;
        const count = Math.max(1, Math.min(MAX_COUNT, (p.count ?? 1) + ("first" in p ? 0 : (p.before ?? 0))));
        const where =
          "first" in p
            ? { first: p.first }
            : "around" in p
              ? { around: p.around, before: p.before }
              : { around: Math.round(p.fraction * this.filter.totalBytes), before: p.before };
        const r = await this.server.request(
          "tome/filterLines",
          {
            filter: this.filterId,
            count,
            maxLineBytes: Math.min(MAX_LINE_BYTES, Math.floor((16 << 20) / count)),
            ...(p.highlights === false ? { highlights: false } : {}),
            ...where,
          },
          signal,
        );
        this.note(r.info);
        this.remember(r.lines, r.info.version);
        const lastIndex = r.info.complete ? r.info.matched - 1 : -1;
        const window = p.wholeLines ? undefined : p.window;
        const lines = r.lines.map((l) => toViewLine(l, window, l.index === lastIndex));
        return {
          version: r.info.version,
          lines,
          width: window?.width ?? 0,
          lineCount: this.info.lineCount,
          ...(r.highlights ? { highlights: clipHighlights(r.highlights, lines) } : {}),
          ...(r.highlightsCut ? { highlightsCut: true } : {}),
        } satisfies ViewportResult;
      }
      case "edit": {
        const { epoch, ...params } = msg.params;
        if (epoch !== this.epoch) throw new RpcError({ code: ErrorCodes.StaleVersion, message: "the filter view was read again meanwhile: edit not sent" });
        const result = await this.source.edit({ ...this.translate(params), doc: this.source.doc }, signal);
        this.source.refreshSoon(); // the source's own editors read their screen again
        return result;
      }
      case "info":
        return this.refreshInfo();
      case "copy":
        return this.copyLines(msg.params.start.line, msg.params.start.character, msg.params.end.line, msg.params.end.character);
      case "search":
      case "replaceAll":
        throw new RpcError({
          code: ErrorCodes.MethodNotFound,
          message: "Find works in the source's editor; in a filter view, Tome: Filter Lines… filters its lines further",
        });
    }
  }

  private async readLines(where: { first: number; count: number }): Promise<FilterLine[]> {
    const r = await this.server.request("tome/filterLines", { filter: this.filterId, maxLineBytes: MAX_LINE_BYTES, ...where });
    this.note(r.info);
    this.remember(r.lines, r.info.version);
    return r.lines;
  }

  private remember(lines: FilterLine[], version: number): void {
    if (version !== this.linesVersion) {
      this.known.clear();
      this.linesVersion = version;
    }
    for (const l of lines) this.known.set(l.index, { offset: l.offset, text: l.text, editable: !l.cutAfter && !l.invalid });
    if (this.known.size > 5000) this.known.clear();
  }

  /**
   * The webview's edit (positions in filter lines) as a `tome/edit` of the source by byte
   * offsets. Each range stays on one filter line (two filter lines are not neighbours in the
   * source). The lines known are moved on by the edit (the next one, sent before this one's
   * reply, is based on its result, as the webview predicts).
   */
  private translate(params: Omit<EditParams, "doc">): Omit<EditParams, "doc"> {
    if (params.version !== this.linesVersion) {
      throw new RpcError({ code: ErrorCodes.StaleVersion, message: "the filter changed meanwhile: edit not sent" });
    }
    const edits: Edit[] = [];
    const applied: { at: number; removed: number; added: number; line: number; text: string }[] = [];
    for (const e of params.edits) {
      if (!("range" in e) || !("text" in e)) throw new RpcError({ code: ErrorCodes.InvalidParams, message: "a filter view edits text at positions only" });
      const { start, end } = e.range;
      if (start.line !== end.line) {
        throw new RpcError({
          code: ErrorCodes.InvalidParams,
          message: "Tome: a filter view joins no lines (they are not neighbours in the source); edit in the source's editor",
        });
      }
      const l = this.known.get(start.line);
      if (!l || !l.editable) throw new RpcError({ code: ErrorCodes.StaleVersion, message: `filter line ${start.line + 1} is not loaded whole: edit not sent` });
      const s = l.offset + byteColumn(l.text, start.character);
      const t = l.offset + byteColumn(l.text, end.character);
      edits.push({ offsets: { start: s, end: t }, text: e.text });
      applied.push({
        at: s,
        removed: t - s,
        added: Buffer.byteLength(e.text, "utf8"),
        line: start.line,
        text: l.text.slice(0, start.character) + e.text + l.text.slice(end.character),
      });
    }
    // Move the known lines on, last edit first (offsets before it stay).
    for (const a of applied.sort((x, y) => y.at - x.at)) {
      for (const [i, l] of this.known) {
        if (i === a.line) this.known.set(i, /[\r\n]/.test(a.text) ? { ...l, editable: false } : { ...l, text: a.text });
        else if (l.offset > a.at) this.known.set(i, { ...l, offset: l.offset + a.added - a.removed });
      }
    }
    this.linesVersion = params.version + 1;
    return { version: params.version, edits, ...(params.undo ? { undo: params.undo } : {}) };
  }

  /** Copy: the selected part of the filter's lines, joined by line breaks. */
  private async copyLines(first: number, startCh: number, last: number, endCh: number): Promise<WebviewResult<"copy">> {
    if (last - first + 1 > MAX_COPY_LINES) {
      const message = `Tome: a filter view copies at most ${MAX_COPY_LINES} lines`;
      this.emit("warning", message);
      throw new RpcError({ code: ErrorCodes.InvalidParams, message });
    }
    const texts: string[] = [];
    for (let i = first; i <= last; i += MAX_COUNT) {
      const lines = await this.readLines({ first: i, count: Math.min(MAX_COUNT, last - i + 1) });
      if (!lines.length) break;
      texts.push(...lines.map((l) => l.text));
    }
    if (texts.length === last - first + 1) texts[texts.length - 1] = texts[texts.length - 1].slice(0, endCh);
    texts[0] = (texts[0] ?? "").slice(startCh);
    const text = texts.join("\n");
    const clipboard = this.hooks.clipboard;
    if (!clipboard) throw new RpcError({ code: ErrorCodes.MethodNotFound, message: "no clipboard here" });
    await clipboard.writeText(text);
    return { characters: text.length };
  }

  /** Stops the scan and frees the filter (the view was closed). */
  override closeOnServer(): Promise<unknown> {
    this.closed = true;
    return this.server.request("tome/closeFilter", { filter: this.filterId });
  }

  override dispose(): void {
    this.closed = true;
    if (this.scanTimer) clearTimeout(this.scanTimer);
    this.unsubscribe();
    super.dispose();
  }
}
