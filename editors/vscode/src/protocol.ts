// Every message the extension exchanges: with `tome serve` (the `tome/*` methods of
// docs/protocol.md: params and result per method, notifications, error codes) and between the
// extension host and its webview (WebviewMessage, HostMessage). The RPC client (rpc.ts), the
// host side (session.ts, editor.ts, extension.ts) and the webview (webview/*.ts) all import
// these types from here: none of them declares a wire type of its own. Types and constants
// only (no Node, no DOM, no `vscode`), so the webview bundle can import it too.

import type { Appearance } from "./appearance";
import type { WrapSettings } from "./wrap";

// ---------------------------------------------------------------------------------------------
// Concepts (docs/protocol.md, "Concepts")

/** `{line, character}`, zero-based; `character` in the negotiated encoding (UTF-16 here). */
export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

/** Byte offsets into the document's current text. */
export interface Offsets {
  start: number;
  end: number;
}

export interface LineCount {
  /** Lines counted so far (a lower bound until `exact`). */
  known: number;
  estimate: number;
  exact: boolean;
}

export type LineEnding = "lf" | "crlf" | "cr";

/** Id of a progress report: any string or integer. */
export type ProgressToken = string | number;

// ---------------------------------------------------------------------------------------------
// Errors (docs/protocol.md, "Errors")

/** The error codes of `tome serve`, and JSON-RPC's. */
export const ErrorCodes = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  /** JSON-RPC's internal error: what the client answers when its own handler throws. */
  InternalError: -32603,
  ServerNotInitialized: -32002,
  RequestCancelled: -32800,
  RequestFailed: -32803,
  UnknownDocument: -33001,
  OutOfBounds: -33002,
  StaleVersion: -33003,
  InvalidRegex: -33004,
  FileNotFound: -33005,
  PermissionDenied: -33006,
  NotRegularFile: -33007,
  NotIndexedYet: -33008,
  OverlappingEdits: -33009,
  FileChanged: -33010,
  DiskFull: -33011,
  Io: -33012,
  Busy: -33013,
  InterruptedSave: -33014,
  PatternTooLong: -33015,
  /** `tome/filter`: more than 64 filters open. */
  TooManyFilters: -33017,
  /** The filter id is not (or no longer) open. */
  UnknownFilter: -33018,
  /** `tome/seekTime`: no timestamps found in the document's sample. */
  NoTimestamps: -33019,
  /** The document is a compressed file, opened read-only: only reads are accepted. */
  ReadOnlyDocument: -33020,
  /** An edit's text holds a character the document's encoding cannot represent. */
  Unrepresentable: -33021,
  /** The encoding is known but documents cannot be edited in it yet (UTF-16, UTF-32). */
  UnsupportedEncoding: -33022,
  /** `tome/reopenWithEncoding` on a document with unsaved changes. */
  Dirty: -33023,
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** `data.kind` of Tome's own errors. */
export type ErrorKind =
  | "invalidParams"
  | "requestFailed"
  | "unknownDocument"
  | "outOfBounds"
  | "staleVersion"
  | "invalidRegex"
  | "fileNotFound"
  | "permissionDenied"
  | "notRegularFile"
  | "notIndexedYet"
  | "overlappingEdits"
  | "fileChanged"
  | "diskFull"
  | "io"
  | "busy"
  | "interruptedSave"
  | "patternTooLong";

/** Codes of the host's own errors to the webview (not the server's). */
export const HostErrorCodes = {
  /** A copy refused for its size (the message says why); `data: {bytes, limit}`. */
  CopyTooLarge: -32001,
  /**
   * An edit computed before a change the host made itself (undo, redo, revert, reload): its
   * positions may be wrong, so it is not sent. The webview reads the document again (the host
   * also sends `refresh`).
   */
  StaleEpoch: -32004,
} as const;

/** A JSON-RPC error object. */
export interface ErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

/** `data` of -33003 `staleVersion`. */
export interface StaleVersionData {
  kind: "staleVersion";
  given: number;
  current: number;
}

/** `data` of -33014 `interruptedSave` (`tome/open`). */
export interface InterruptedSaveData {
  kind: "interruptedSave";
  path: string;
  backup: string;
  pid: number;
  /** The file's modification time before the interrupted save. */
  savedMtimeMs: number;
  /** Another program wrote the file since: restoring would lose that. */
  changedSince: boolean;
}

// ---------------------------------------------------------------------------------------------
// Lifecycle

export interface InitializeParams {
  processId: number;
  clientInfo: { name: string; version?: string };
  capabilities: {
    general: { positionEncodings: ("utf-8" | "utf-16" | "utf-32")[] };
    window: { workDoneProgress: boolean };
  };
}

export interface InitializeResult {
  capabilities: {
    positionEncoding: string;
    experimental?: { tome?: { protocolVersion: number; methods: string[]; limits: Record<string, number> } };
  };
  serverInfo?: { name: string; version: string };
}

// ---------------------------------------------------------------------------------------------
// Documents: tome/open, tome/info, tome/reload, tome/close

export interface DocParams {
  doc: number;
}

export interface OpenParams {
  path: string;
  /** The user's answer after a -33014 `interruptedSave`. */
  interruptedSave?: "restore" | "discard" | "keep";
  /** The first lines to show, answered in the reply's `viewport` (`tome/viewport`'s params without `doc`). */
  viewport?: Omit<ViewportParams, "doc">;
}

/** The `tome/info` result (and the part of `tome/open`'s the client uses). */
export interface DocInfo {
  doc: number;
  /** The path it saves to ("" for an untitled document of `tome/recoverAsNew`). */
  path: string;
  size: number;
  lineCount: LineCount;
  indexComplete: boolean;
  indexPercent: number;
  lineEnding: LineEnding;
  /**
   * The file's encoding: "utf-8", "utf-8-bom", "binary", or the WHATWG name ("windows-1252",
   * "Shift_JIS"…), detected at open or named by `tome/reopenWithEncoding`.
   */
  encoding?: string;
  /** Only for a compressed file (read-only: changes are refused with -33020): "gzip" or "zstd". */
  compression?: string;
  /** Only for a compressed file found damaged or truncated: what is wrong, and where. */
  compressionError?: string;
  version: number;
  dirty: boolean;
  readOnly: boolean;
  /** The document reads a reflink snapshot of its file. */
  snapshot?: boolean;
  undoSteps: number;
  redoSteps: number;
  /** Present when indexing progress will be reported on this token. */
  indexProgressToken?: string;
  /**
   * Null, or why the journal stopped recording edits (its disk is full or failing): unsaved
   * changes are not protected against a crash until a save or `tome/reload` restarts it.
   */
  journalError: string | null;
  /** Only in `tome/open`: the bookmarks kept for this file (unchanged since). */
  bookmarks?: Bookmark[];
  /** Only in `tome/open`: bookmarks were kept but the file changed since: dropped. */
  bookmarksDropped?: boolean;
  /** Only in `tome/open`, when it asked for `viewport`: those lines, or null if they could not be read. */
  viewport?: ViewportResult | null;
}

export interface Warning {
  kind: "ignoredBackup" | "journalInUse" | "noJournal";
  message: string;
  path?: string;
}

/** The `tome/open` result. */
export interface OpenResult extends DocInfo {
  /** A journal of an earlier session: `fits` false when the file changed since. */
  recovery: { changes: number; fits?: boolean } | null;
  /** What the user should know (an ignored backup, a file journaled by another session). */
  warnings?: Warning[];
}

export interface CloseResult {
  /** Unsaved changes were dropped. */
  discarded: boolean;
}

// ---------------------------------------------------------------------------------------------
// Reading: tome/viewport, tome/getText

export interface ViewportWindow {
  start: number;
  width: number;
  unit: "encoding" | "bytes";
}

/** Lines sent whole whatever the window, within byte budgets (each clamped to 16 MiB). */
export interface WholeLines {
  maxLineBytes: number;
  maxBytes: number;
}

/** Exactly one of `first`, `around`, `fraction`. `rawBytes`: `invalid` lines carry `base64`. */
export type ViewportParams = DocParams & {
  count?: number;
  before?: number;
  window?: ViewportWindow;
  wait?: boolean;
  wholeLines?: WholeLines;
  rawBytes?: boolean;
  /** Report the highlight rules' matches (default true, when rules are set). */
  highlights?: boolean;
} & ({ first: number } | { around: number } | { fraction: number });

/** One line of a `tome/viewport` reply. */
export interface ViewLine {
  /** Null past the index frontier. */
  number: number | null;
  offset: number;
  text: string;
  startColumn: number;
  length: number;
  byteLength: number;
  breakLength: number;
  cutBefore: boolean;
  cutAfter: boolean;
  invalid: boolean;
  /** With `rawBytes`, on `invalid` lines: the exact bytes `text` shows, in base64. */
  base64?: string;
  /** False for a line whose end was not read: `length`, `byteLength` are lower bounds. */
  lengthKnown?: boolean;
  /** Not on the wire: the reply's `highlights` on this line, [rule, start, end] (LineCache.put). */
  marks?: Array<[number, number, number]>;
  /**
   * Not from the server: the zero-based number the gutter shows instead of `number`. A filter
   * view (filterSession.ts) numbers its lines by filter index and shows the source line here.
   */
  gutter?: number;
}

/** A match of a highlight rule in a viewport: `line` indexes the reply's `lines`. */
export interface HighlightOut {
  rule: number;
  line: number;
  start: number;
  end: number;
}

export interface ViewportResult {
  version: number;
  lines: ViewLine[];
  width: number;
  lineCount: LineCount;
  /** With highlight rules set: their matches on `lines`. */
  highlights?: HighlightOut[];
  highlightsCut?: boolean;
}

/** One highlight rule as the server takes it (`tome/setHighlightRules`). */
export interface HighlightRuleIn {
  id?: string;
  pattern: string;
  regex?: boolean;
  caseSensitive?: boolean;
  wholeWord?: boolean;
}

export interface SetHighlightRulesParams {
  doc?: number;
  rules: HighlightRuleIn[] | null;
}

/** How the webview draws a rule's matches (from `tome.highlightRules`). */
export interface RuleStyle {
  color?: string;
  backgroundColor?: string;
  fontWeight?: string;
}

export type GetTextParams = DocParams & { version?: number; maxBytes?: number; rawBytes?: boolean } & ({ range: Range } | { offsets: Offsets });

export interface GetTextResult {
  text: string;
  bytes: number;
  invalid: boolean;
  /** With `rawBytes`, when `invalid`: the exact bytes, in base64. */
  base64?: string;
  version: number;
}

// ---------------------------------------------------------------------------------------------
// Changes: tome/edit, tome/undo, tome/redo

/** The new text as `text`, or as exact bytes (any, invalid UTF-8 included) in `base64`. */
export type Edit = { range: Range; text: string } | { offsets: Offsets; text: string } | { range: Range; base64: string } | { offsets: Offsets; base64: string };

export interface EditParams extends DocParams {
  version: number;
  edits: Edit[];
  /**
   * Which undo step the batch goes in: "auto" (default: typing and single-character deletes
   * join the step before), "new" (its own step) or "join" (the step before, whatever it is).
   */
  undo?: "auto" | "new" | "join";
}

export interface EditResult {
  version: number;
  /** Undo steps after the edit (one more than before when it started a step). */
  undoSteps: number;
}

export interface UndoRedoParams extends DocParams {
  version?: number;
}

export interface UndoRedoResult {
  changed: boolean;
  version: number;
  /** Byte offset where the restored change starts. */
  offset: number | null;
}

// ---------------------------------------------------------------------------------------------
// Search: tome/search, tome/replaceAll

export interface Query {
  pattern: string;
  regex?: boolean;
  caseSensitive?: boolean;
  /** Only whole words, by these separators and VS Code's rule (`editor.wordSeparators`). */
  wordSeparators?: string;
}

export interface SearchParams extends DocParams {
  query: Query;
  mode?: "next" | "all" | "count";
  from?: { position: Position } | { offset: number };
  direction?: "forward" | "backward";
  wrap?: boolean;
  offsets?: Offsets;
  limit?: number;
  workDoneToken?: ProgressToken;
}

export interface Match {
  offsets: Offsets;
  /** Null where the index has not reached the match yet. */
  range: Range | null;
}

/** By mode: `found` ("next"), `matches` and `resumeAt` ("all"), `count` ("count"). */
export interface SearchResult {
  version: number;
  found?: Match | null;
  matches?: Match[];
  resumeAt?: number | null;
  count?: number;
}

/** `tome/seekTime`: the first line at or after `time`. */
export interface SeekTimeParams extends DocParams {
  /** `2026-11-26T12:00`, `Nov 26 12:00:00`, `1795694400`…, or epoch milliseconds. */
  time: string | number;
  /** A format name to skip detection (`iso8601`, `datetime`, `syslog`, `commonLog`, `epochSeconds`, `epochMillis`). */
  format?: string;
}

export interface SeekTimeResult {
  version: number;
  /** Start of the line found; the document's length when every line is before the time. */
  offset: number;
  /** Its line number, when the index knows it already. */
  line: number | null;
  /** The timestamp as the line writes it; null at the end. */
  time: string | null;
  timeMs: number | null;
  format: string;
  /** The line's time is the asked time. */
  exact: boolean;
  /** Long stretches without timestamps: maybe not the first such line. */
  approximate: boolean;
}

// ---------------------------------------------------------------------------------------------
// Filter views: tome/filter, tome/filterLines, tome/filterInfo, tome/filterWait, tome/closeFilter

/** A leaf is `tome/search`'s query plus `wholeWord` (`grep -w`); inner nodes join leaves. */
export type FilterQuery = (Query & { wholeWord?: boolean }) | { and: FilterQuery[] } | { or: FilterQuery[] } | { not: FilterQuery };

/** Exactly one of `doc` (a filter of the document) and `filter` (a filter of that filter). */
export type FilterParams = ({ doc: number } | { filter: number }) & { query: FilterQuery; workDoneToken?: ProgressToken };

export interface FilterIdParams {
  filter: number;
}

export interface FilterInfo {
  filter: number;
  /** The source document. */
  doc: number;
  /** The source version the lines reflect. */
  version: number;
  matched: number;
  /** The whole source is scanned. */
  complete: boolean;
  cancelled: boolean;
  /** The source document was closed: the filter shows `version` for good. */
  stale: boolean;
  scannedBytes: number;
  totalBytes: number;
  memoryBytes: number;
  /** Why the scan failed (the file changed on disk). */
  error?: string;
}

/** Exactly one of `first` (a filter line) and `around` (a source byte offset). */
export type FilterLinesParams = FilterIdParams & {
  count: number;
  before?: number;
  maxLineBytes?: number;
  /** Report the source's highlight rules' matches (default true, when rules apply). */
  highlights?: boolean;
} & ({ first: number } | { around: number });

export interface FilterLine {
  /** The filter line (its index in the filter). */
  index: number;
  /** The source line number and the byte offset of its start: "jump to the source". */
  line: number;
  offset: number;
  /** At most `maxLineBytes` bytes of the line, invalid UTF-8 as U+FFFD. */
  text: string;
  byteLength: number;
  cutAfter: boolean;
  invalid: boolean;
}

export interface FilterLinesResult {
  lines: FilterLine[];
  info: FilterInfo;
  /** With highlight rules on the source: their matches on `lines` (columns from each line's start). */
  highlights?: HighlightOut[];
  highlightsCut?: boolean;
}

export interface ReplaceAllParams extends DocParams {
  version?: number;
  query: Query;
  replacement: string;
  workDoneToken?: ProgressToken;
}

export interface ReplaceAllResult {
  count: number;
  version: number;
}

// ---------------------------------------------------------------------------------------------
// Saving and recovery: tome/save, tome/saveAs, tome/recover, tome/recoverAsNew,
// tome/discardRecovery

export interface SaveParams extends DocParams {
  workDoneToken?: ProgressToken;
}

export interface SaveAsParams extends SaveParams {
  path: string;
}

export interface SaveResult {
  path: string;
  bytes: number;
  /** How the file was written (docs/protocol.md, tome/save): a whole new file renamed over it, or in place. */
  method?: "rename" | "inPlace";
  /** The first byte written (every byte before it was left as it was on disk). */
  from?: number;
  /** The bytes written from there. */
  written?: number;
  /** The bytes of the old file copied to a backup first (in place). */
  backedUp?: number;
  /** The version saved. */
  version: number;
  elapsedMs: number;
}

export interface RecoverResult {
  applied: number;
  stoppedEarly: string | null;
  version: number;
}

/** A new untitled document (path ""). */
export interface RecoverAsNewResult {
  document: OpenResult;
  applied: number;
  stoppedEarly: string | null;
}

export interface DiscardRecoveryResult {
  discarded: boolean;
}

// ---------------------------------------------------------------------------------------------
// The method table: what `TomeServer.request` (rpc.ts) is typed by.

export interface TomeMethods {
  initialize: { params: InitializeParams; result: InitializeResult };
  shutdown: { params: Record<string, never>; result: null };
  "tome/open": { params: OpenParams; result: OpenResult };
  "tome/close": { params: DocParams; result: CloseResult };
  "tome/info": { params: DocParams; result: DocInfo };
  "tome/viewport": { params: ViewportParams; result: ViewportResult };
  "tome/getText": { params: GetTextParams; result: GetTextResult };
  "tome/edit": { params: EditParams; result: EditResult };
  "tome/undo": { params: UndoRedoParams; result: UndoRedoResult };
  "tome/redo": { params: UndoRedoParams; result: UndoRedoResult };
  "tome/search": { params: SearchParams; result: SearchResult };
  "tome/replaceAll": { params: ReplaceAllParams; result: ReplaceAllResult };
  "tome/seekTime": { params: SeekTimeParams; result: SeekTimeResult };
  "tome/setHighlightRules": { params: SetHighlightRulesParams; result: { rules: number } };
  "tome/save": { params: SaveParams; result: SaveResult };
  "tome/saveAs": { params: SaveAsParams; result: SaveResult };
  "tome/reload": { params: DocParams; result: OpenResult };
  "tome/reopenWithEncoding": { params: DocParams & { encoding: string }; result: DocInfo };
  "tome/recover": { params: DocParams; result: RecoverResult };
  "tome/recoverAsNew": { params: DocParams; result: RecoverAsNewResult };
  "tome/discardRecovery": { params: DocParams; result: DiscardRecoveryResult };
  "tome/filter": { params: FilterParams; result: FilterInfo };
  "tome/filterLines": { params: FilterLinesParams; result: FilterLinesResult };
  "tome/filterInfo": { params: FilterIdParams; result: FilterInfo };
  "tome/filterWait": { params: FilterIdParams; result: FilterInfo };
  "tome/closeFilter": { params: FilterIdParams; result: boolean };
  "tome/setBookmark": { params: SetBookmarkParams; result: BookmarksResult };
  "tome/deleteBookmark": { params: DeleteBookmarkParams; result: BookmarksResult };
  "tome/bookmarks": { params: DocParams; result: BookmarksResult };
}

/** A bookmark (docs/protocol.md, "Bookmarks"): `position` null where the index does not reach yet. */
export interface Bookmark {
  name: string;
  offset: number;
  position: Position | null;
}

export type SetBookmarkParams = { doc: number; name: string; version?: number } & ({ offset: number } | { position: Position });

export interface DeleteBookmarkParams {
  doc: number;
  name: string;
}

export interface BookmarksResult {
  version: number;
  bookmarks: Bookmark[];
  persisted?: boolean;
  deleted?: boolean;
}

export type TomeMethod = keyof TomeMethods;
export type TomeParams<M extends TomeMethod> = TomeMethods[M]["params"];
export type TomeResult<M extends TomeMethod> = TomeMethods[M]["result"];

/** What sends typed requests to `tome serve` (TomeServer, and the tests' fakes). */
export interface Requester {
  request<M extends TomeMethod>(method: M, params: TomeParams<M>, signal?: AbortSignal): Promise<TomeResult<M>>;
}

// ---------------------------------------------------------------------------------------------
// Notifications and requests from the server

export interface ProgressValue {
  kind: "begin" | "report" | "end";
  title?: string;
  percentage?: number;
  message?: string;
  cancellable?: boolean;
}

export interface ProgressParams {
  token: ProgressToken;
  value: ProgressValue;
}

export type DiskChangeKind = "appended" | "rewritten" | "truncated" | "replaced" | "deleted" | "followFailed";

/** `tome/didChangeOnDisk` params. */
export interface DiskChange {
  doc: number;
  change: DiskChangeKind;
  version: number;
  dirty: boolean;
  size: number;
  lineCount: number;
  message: string;
}

export interface ServerNotifications {
  "$/progress": ProgressParams;
  "tome/didChangeOnDisk": DiskChange;
}

export type ServerNotification = keyof ServerNotifications;

/** The server's request to create the token of index progress (answered `null`). */
export const WORK_DONE_PROGRESS_CREATE = "window/workDoneProgress/create";

// ---------------------------------------------------------------------------------------------
// Extension host ↔ webview (session.ts ↔ webview/host.ts)

/**
 * What the webview may ask the host: five methods relayed to the server (the host adds `doc`,
 * and a `workDoneToken` where it shows progress), and `copy`, which the host does itself (it
 * reads the range from the server and writes the clipboard).
 */
export interface WebviewMethods {
  viewport: { params: DistributiveOmit<ViewportParams, "doc">; result: ViewportResult };
  /** `epoch`: the last one the host announced (`init`, `refresh`); see HostErrorCodes.StaleEpoch. */
  edit: { params: Omit<EditParams, "doc"> & { epoch: number }; result: EditResult };
  info: { params: Record<string, never>; result: DocInfo };
  search: { params: Omit<SearchParams, "doc" | "workDoneToken">; result: SearchResult };
  replaceAll: { params: Omit<ReplaceAllParams, "doc" | "workDoneToken">; result: ReplaceAllResult };
  copy: { params: Range; result: CopyResult };
}

export type WebviewMethod = keyof WebviewMethods;
export type WebviewParams<M extends WebviewMethod> = WebviewMethods[M]["params"];
export type WebviewResult<M extends WebviewMethod> = WebviewMethods[M]["result"];

/** Webview method → server method. Only these are relayed. */
export const RELAYED = {
  viewport: "tome/viewport",
  edit: "tome/edit",
  info: "tome/info",
  search: "tome/search",
  replaceAll: "tome/replaceAll",
} as const satisfies Record<Exclude<WebviewMethod, "copy">, TomeMethod>;

export interface CopyResult {
  /** UTF-16 code units written to the clipboard. */
  characters: number;
}

/** What the webview reports for the status bar. */
export interface CursorStatus {
  cursor: Position;
  /** Lines touched by the selection; 0 without one. */
  selectedLines: number;
  /** Follow mode (the view stays at the end of a growing file). */
  following: boolean;
}

/** A request of the webview: `reqId` matches the host's `response`. */
export type WebviewRequest = { [M in WebviewMethod]: { type: "request"; reqId: number; method: M; params: WebviewParams<M> } }[WebviewMethod];

/** Messages the webview posts. */
/**
 * The find widget's toggles, remembered across editors of a workspace as VS Code's find
 * controller remembers them (`editor.matchCase`, `editor.wholeWord`, `editor.isRegex` in its
 * workspace storage): a file opened after Alt+W was pressed in another starts with Whole Word on.
 */
export interface FindToggles {
  matchCase: boolean;
  wholeWord: boolean;
  isRegex: boolean;
}

export type WebviewMessage =
  | { type: "ready" }
  /** A find toggle changed: the host remembers them for the next editor. */
  | { type: "findToggles"; toggles: FindToggles }
  | WebviewRequest
  | { type: "cancel"; reqId: number }
  | ({ type: "status" } & CursorStatus)
  /** A filter view's Enter or double-click: show line `line` of the view in the source editor. */
  | { type: "reveal"; line: number };

/** VS Code's editor settings the webview honours (`editor.*`, for the document's resource). */
export interface EditorSettings {
  wordSeparators: string;
  tabSize: number;
  insertSpaces: boolean;
  /** Font, cursor and whitespace drawing (appearance.ts); absent from an older host. */
  appearance?: Appearance;
}

/** Messages the host posts to the webview. */
export type HostMessage =
  | {
      type: "init";
      info: DocInfo;
      echoesShortcuts: boolean;
      epoch: number;
      highlighting?: boolean;
      settings?: EditorSettings;
      wrap?: WrapSettings;
      rules?: RuleStyle[];
      /** The find toggles as last left in any Tome editor of the workspace. */
      findToggles?: FindToggles;
      /** A filter view (filterSession.ts): what it filters, for the status line; Enter reveals the source line. */
      filter?: string;
      /**
       * The document's first lines (`FIRST_LINES`, from column 0, `FIRST_LINES_WIDTH` wide),
       * read while the page loaded: the first screen needs no request of its own.
       */
      first?: ViewportResult;
    }
  /** `tome.highlightRules` changed (and the server took them): the styles, by rule index; lines are read again. */
  | { type: "highlightRules"; rules: RuleStyle[] }
  /** `editor.wordWrap` and its companions changed for this document (wrap.ts). */
  | { type: "wrap"; wrap: WrapSettings }
  /** Alt+Z (Tome: Toggle Word Wrap), as VS Code's `editor.action.toggleWordWrap`; also the echo of the key handled in the page. */
  | { type: "toggleWrap" }
  /** The document was saved: the overview ruler's unsaved-edit marks go. */
  | { type: "saved" }
  /** An `editor.*` setting changed for the document's resource: applied at once. */
  | { type: "editorSettings"; settings: EditorSettings }
  /** `tome.highlighting` changed. */
  | { type: "settings"; highlighting: boolean }
  | { type: "response"; reqId: number; result?: unknown; error?: ErrorObject }
  | { type: "refresh"; info: DocInfo; reveal?: number | null; epoch: number }
  /** Indexing progress from `$/progress`: a percentage, or null once done (with the final info). */
  | { type: "index"; percent: number | null; info?: DocInfo }
  | { type: "diskChange"; change: DiskChangeKind; message: string; info: DocInfo; follow: boolean }
  | { type: "follow"; on: boolean | "toggle" }
  | { type: "gotoLine" }
  /** Moves the cursor to the start of the line at `offset` (`line`: its number, if known; `end`: to the end). */
  | { type: "gotoOffset"; offset: number; line: number | null; end?: boolean }
  /** The lines that hold bookmarks (bookmarks.ts): marked in the gutter. */
  | { type: "bookmarks"; lines: number[] }
  | { type: "find" }
  | { type: "find" }
  /** Ctrl+H (tome.replace): find with the replace row. */
  | { type: "replace" };

/** `Omit` applied to each member of a union (keeps `ViewportParams`' "exactly one of"). */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** How many lines the host reads for the webview's `init` (`first`): more than a screen holds. */
export const FIRST_LINES = 120;
/** Their width in columns: wider than a screen, so that no line is cut short on it. */
export const FIRST_LINES_WIDTH = 1024;
