//! The wire types of the `tome/*` methods and notifications: parameters and results, exactly
//! as documented in docs/protocol.md. Field names are camelCase on the wire. Unknown fields are ignored (so
//! clients may send more than a server knows); missing required fields and wrong types are
//! answered with -32602 by the framework before any handler runs.

use serde::{Deserialize, Serialize};
use tower_lsp_server::ls_types::notification::Notification;
use tower_lsp_server::ls_types::ProgressToken;

/// Most lines one `tome/viewport` returns.
pub const MAX_VIEWPORT_LINES: usize = 1000;
/// Widest column window of one line.
pub const MAX_WINDOW_WIDTH: usize = 16 * 1024;
/// Most columns (lines × width) in one viewport: keeps a reply to a few MiB.
pub const MAX_VIEWPORT_CELLS: usize = 1 << 20;
/// Most bytes of one line, and of all lines together, a viewport reads whole (`wholeLines`).
pub const MAX_WHOLE_BYTES: usize = 16 << 20;
/// Most matches in one page of `tome/search`.
pub const MAX_MATCHES: usize = 10_000;

/// A line/character position; `character` counts units of the negotiated position encoding.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub struct Position {
    /// Zero-based line.
    pub line: u64,
    /// Zero-based column in the negotiated encoding.
    pub character: u64,
}

/// A range of positions.
#[derive(Clone, Copy, Debug, Deserialize, Serialize)]
pub struct Range {
    /// Start (inclusive).
    pub start: Position,
    /// End (exclusive).
    pub end: Position,
}

/// A range of byte offsets.
#[derive(Clone, Copy, Debug, Deserialize, Serialize)]
pub struct Offsets {
    /// First byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
}

/// `tome/open` parameters.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenParams {
    /// Absolute (or server-relative) path of the file.
    pub path: String,
    /// What to do with the backup of an interrupted in-place save of the file, once the user
    /// chose (after an `interruptedSave` error): `"restore"`, `"discard"` or `"keep"`.
    #[serde(default)]
    pub interrupted_save: Option<InterruptedSaveChoice>,
    /// The first lines to show, as `tome/viewport`'s params without `doc`: answered in the
    /// reply's `viewport`, so that the first screen costs one round trip.
    #[serde(default)]
    pub viewport: Option<serde_json::Map<String, serde_json::Value>>,
    /// The file's encoding as a WHATWG label (`"windows-1252"`, `"shift_jis"`, `"gbk"`…, or
    /// `"utf-8"`, `"binary"`), instead of the one detected.
    #[serde(default)]
    pub encoding: Option<String>,
}

/// `tome/reopenWithEncoding`: read a document's bytes in another encoding.
#[derive(Debug, Deserialize)]
pub struct ReopenWithEncodingParams {
    /// The id `tome/open` returned.
    pub doc: u64,
    /// A WHATWG label, as `tome/open`'s `encoding`.
    pub encoding: String,
}

/// The user's choice about an interrupted save's backup.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum InterruptedSaveChoice {
    /// Put the file as it was before that save back.
    Restore,
    /// Keep the file as it is and delete the backup.
    Discard,
    /// Open the file as it is and leave the backup (asked again at the next open).
    Keep,
}

/// Something the user should know about a document just opened.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Warning {
    /// Stable name: `"ignoredBackup"`, `"journalInUse"`, `"noJournal"`.
    pub kind: &'static str,
    /// For people.
    pub message: String,
    /// The file concerned (the ignored backup), when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// Which document a request is about.
#[derive(Debug, Deserialize)]
pub struct DocParams {
    /// The id `tome/open` returned.
    pub doc: u64,
}

/// Line count as known so far.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LineCount {
    /// Lines known for certain (a lower bound until `exact`).
    pub known: u64,
    /// Estimate of the total.
    pub estimate: u64,
    /// True once the index is complete.
    pub exact: bool,
}

/// Result of `tome/open` and `tome/info`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DocInfo {
    /// Document id for later requests.
    pub doc: u64,
    /// The path it saves to.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Number of lines.
    pub line_count: LineCount,
    /// True once the line index covers the file.
    pub index_complete: bool,
    /// Percentage of the file indexed.
    pub index_percent: u32,
    /// `"lf"`, `"crlf"`, `"cr"`.
    pub line_ending: &'static str,
    /// Encoding seen at open (`"utf-8"`, …).
    pub encoding: &'static str,
    /// The file's permissions forbid writing it.
    pub read_only: bool,
    /// The document reads a reflink snapshot of its file taken at open (XFS, btrfs): outside
    /// writes and truncations cannot change what it shows.
    pub snapshot: bool,
    /// The current version (0 at open).
    pub version: u64,
    /// Differs from the file on disk.
    pub dirty: bool,
    /// Undo and redo steps available.
    pub undo_steps: u64,
    /// Redo steps available.
    pub redo_steps: u64,
    /// The `$/progress` token on which indexing is reported, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index_progress_token: Option<String>,
    /// Unsaved changes of an earlier session (crashed or killed) that can be recovered with
    /// `tome/recover`, or dropped with `tome/discardRecovery`.
    pub recovery: Option<RecoveryInfo>,
    /// Where the line index came from (only in `tome/open`'s reply): `"hit"` (the index
    /// cache: complete at once), `"grown"` (the cache, for the part before an append),
    /// `"miss"` (built from the file), `"off"` (no cache).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index_cache: Option<&'static str>,
    /// What the user should know about this document (only in `tome/open`'s reply).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
    /// Why the journal stopped recording edits (its disk is full or failing), or `null`:
    /// edits made since are not protected against a crash until a save or reload restarts
    /// the journal.
    pub journal_error: Option<String>,
    /// Only in `tome/open`'s reply: the bookmarks stored for this file, if it is unchanged
    /// since they were stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bookmarks: Option<Vec<BookmarkOut>>,
    /// Only in `tome/open`'s reply: bookmarks were stored for this file but not offered (the
    /// file changed since, or what was stored was damaged or not ours).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bookmarks_dropped: Option<bool>,
    /// Only in `tome/open`'s reply, when it asked for `viewport`: those lines, as
    /// `tome/viewport` answers; `null` if they could not be read (the document is open all
    /// the same: ask `tome/viewport`, which says why).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub viewport: Option<Option<ViewportResult>>,
    /// A compressed file opened read-only (`"gzip"`, `"zstd"`): absent for plain files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compression: Option<&'static str>,
    /// A compressed file whose data is damaged or truncated: why decompression stopped (the
    /// text before that point is readable). Absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compression_error: Option<String>,
}

/// A bookmark on the wire.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BookmarkOut {
    /// Its name.
    pub name: String,
    /// Its byte offset now.
    pub offset: u64,
    /// Its position now, or null where the index does not know the line yet.
    pub position: Option<Position>,
}

/// `tome/setBookmark` parameters.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetBookmarkParams {
    /// Document id.
    pub doc: u64,
    /// The bookmark's name.
    pub name: String,
    /// Where: exactly one of a position and an offset.
    #[serde(flatten)]
    pub at: From,
    /// The version `position` or `offset` refers to (optional: the current one).
    pub version: Option<u64>,
}

/// `tome/deleteBookmark` parameters.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteBookmarkParams {
    /// Document id.
    pub doc: u64,
    /// The bookmark's name.
    pub name: String,
}

/// Result of `tome/setBookmark`, `tome/deleteBookmark` and `tome/bookmarks`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BookmarksResult {
    /// The version the offsets and positions are of.
    pub version: u64,
    /// Every bookmark of the document, by name.
    pub bookmarks: Vec<BookmarkOut>,
    /// Set and delete: whether the bookmarks were written to the state directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub persisted: Option<bool>,
    /// Delete: whether the bookmark existed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted: Option<bool>,
}

/// A journal of an earlier session, found at open.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecoveryInfo {
    /// Changes it holds.
    pub changes: u64,
    /// Whether the file is still the one the journal was written against: `true`, recover it
    /// with `tome/recover`; `false` (the file changed since), only `tome/recoverAsNew`.
    pub fits: bool,
}

/// Result of `tome/recoverAsNew`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecoverAsNewResult {
    /// The new, untitled document (its `path` is empty: save it with `tome/saveAs`).
    pub document: DocInfo,
    /// Changes applied.
    pub applied: u64,
    /// Why replay stopped before the journal's end (a torn tail, or a change that falls
    /// outside the file as it is now), if it did.
    pub stopped_early: Option<String>,
}

/// Result of `tome/recover`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecoverResult {
    /// Changes applied.
    pub applied: u64,
    /// Why replay stopped before the journal's end (a torn or corrupted tail), if it did.
    pub stopped_early: Option<String>,
    /// The document's version after recovery.
    pub version: u64,
}

/// A column window: which part of each line to show.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Window {
    /// First column shown.
    #[serde(default)]
    pub start: u64,
    /// Most columns shown (clamped to the limits).
    pub width: Option<u64>,
    /// `"encoding"` (default: the negotiated position encoding) or `"bytes"`.
    #[serde(default)]
    pub unit: Unit,
}

/// What columns count.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum Unit {
    /// Units of the negotiated position encoding.
    #[default]
    Encoding,
    /// Bytes of the line.
    Bytes,
}

/// `tome/viewport` parameters: exactly one of `first`, `around` and `fraction`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ViewportParams {
    /// Document id.
    pub doc: u64,
    /// First line (zero-based).
    pub first: Option<u64>,
    /// A byte offset: show the line holding it, after `before` lines.
    pub around: Option<u64>,
    /// A fraction of the file's bytes in [0, 1]: like `around` at that offset.
    pub fraction: Option<f64>,
    /// Lines shown before the one holding `around`/`fraction`.
    #[serde(default)]
    pub before: u64,
    /// Number of lines.
    pub count: u64,
    /// Column window (default: from column 0, as wide as the limits allow).
    pub window: Option<Window>,
    /// With `first`: wait for the index to reach the line (default) or fail at once.
    #[serde(default = "yes")]
    pub wait: bool,
    /// Lines short enough are sent whole, whatever `window` says.
    pub whole_lines: Option<WholeLinesIn>,
    /// Lines whose `text` is not their exact bytes (`invalid`) also carry them in `base64`.
    #[serde(default)]
    pub raw_bytes: bool,
    /// Report the highlight rules' matches on the lines (default: when rules are set).
    #[serde(default = "yes")]
    pub highlights: bool,
}

/// `tome/viewport`'s `wholeLines`: lines of at most `maxLineBytes` are sent whole while the
/// lines sent whole hold at most `maxBytes` (both clamped to [`MAX_WHOLE_BYTES`]).
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WholeLinesIn {
    /// Longest line sent whole (bytes, without its break).
    pub max_line_bytes: u64,
    /// Most bytes of whole lines in the reply.
    pub max_bytes: u64,
}

fn yes() -> bool {
    true
}

/// One line of a viewport.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LineOut {
    /// Zero-based line number, or null where the index does not know it yet.
    pub number: Option<u64>,
    /// Byte offset of the line's start.
    pub offset: u64,
    /// The text shown (invalid bytes as one U+FFFD each).
    pub text: String,
    /// Column (in the window's unit) of the first character of `text`.
    pub start_column: u64,
    /// Length of the whole line in the window's unit (without the line break).
    pub length: u64,
    /// Length of the whole line in bytes.
    pub byte_length: u64,
    /// Bytes of the line break that ends it: 0, 1 or 2.
    pub break_length: u8,
    /// The line has text before the window.
    pub cut_before: bool,
    /// The line has text after the window.
    pub cut_after: bool,
    /// `text` holds replacement characters for invalid UTF-8.
    pub invalid: bool,
    /// With `rawBytes`, on `invalid` lines: the exact bytes `text` shows, in base64.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base64: Option<String>,
    /// False for a line so long that its end was not read and the index has not reached it
    /// yet: `length` and `byteLength` are then lower bounds, `breakLength` is 0, `cutAfter` is
    /// true, and it is the last line of the reply. Ask again once indexed for the exact values.
    pub length_known: bool,
}

/// Result of `tome/viewport`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ViewportResult {
    /// The version the lines were read from.
    pub version: u64,
    /// The lines (fewer than asked at the end of the document).
    pub lines: Vec<LineOut>,
    /// The width actually used (after clamping).
    pub width: u64,
    /// Line count as known when the lines were read.
    pub line_count: LineCount,
    /// The highlight rules' matches on `lines`, when rules apply to the document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub highlights: Option<Vec<HighlightOut>>,
    /// True when `highlights` stopped at its limit (more matches are on the lines).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub highlights_cut: bool,
}

/// A match of a highlight rule in a viewport.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct HighlightOut {
    /// Index of the rule in the list `tome/setHighlightRules` was given.
    pub rule: u64,
    /// Index of the line in the reply's `lines`.
    pub line: u64,
    /// First column (in the window's unit), within the line's `text`.
    pub start: u64,
    /// Column after the last (exclusive).
    pub end: u64,
}

/// One highlight rule.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HighlightRuleIn {
    /// The client's name for the rule, used in error messages.
    pub id: Option<String>,
    /// Literal text, or a regular expression with `regex`.
    pub pattern: String,
    /// `pattern` is a regular expression (Rust `regex` syntax).
    #[serde(default)]
    pub regex: bool,
    /// Match case (default true).
    #[serde(default = "yes")]
    pub case_sensitive: bool,
    /// Only whole words.
    #[serde(default)]
    pub whole_word: bool,
}

/// `tome/setHighlightRules` parameters.
#[derive(Debug, Deserialize)]
pub struct SetHighlightRulesParams {
    /// A document: its own rules; absent: the session's (for every document without its own).
    pub doc: Option<u64>,
    /// The rules, or null: none for the session / the document follows the session's again.
    pub rules: Option<Vec<HighlightRuleIn>>,
}

/// Result of `tome/setHighlightRules`.
#[derive(Debug, Serialize)]
pub struct SetHighlightRulesResult {
    /// Rules now set (for the document or the session).
    pub rules: u64,
}

/// One edit: `range` (positions) or `offsets` (bytes), and the new text as `text` or as exact
/// bytes in `base64` (exactly one of them).
#[derive(Debug, Deserialize)]
pub struct EditIn {
    /// Positions, in the negotiated encoding.
    pub range: Option<Range>,
    /// Byte offsets.
    pub offsets: Option<Offsets>,
    /// Replacement text.
    pub text: Option<String>,
    /// Replacement bytes (any bytes, e.g. invalid UTF-8), in base64.
    pub base64: Option<String>,
}

/// `tome/edit` parameters.
#[derive(Debug, Deserialize)]
pub struct EditParams {
    /// Document id.
    pub doc: u64,
    /// The version the edits were computed against: must be the current one.
    pub version: u64,
    /// The batch: ranges refer to the document before the batch and must not overlap.
    pub edits: Vec<EditIn>,
    /// Which undo step the batch goes in.
    #[serde(default)]
    pub undo: UndoGroup,
}

/// `undo` of `tome/edit`: which undo step a batch goes in.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum UndoGroup {
    /// The server decides: typing and single-character deletes join the step before.
    #[default]
    Auto,
    /// A step of its own (a client whose editor counts one step per command, as Vim does).
    New,
    /// The step before, whatever its shape (the rest of one command: Vim's whole insert).
    Join,
}

/// Result of `tome/edit`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionResult {
    /// The new version.
    pub version: u64,
    /// Undo steps after the edit: one more than before if the edit started a step, the same
    /// if it joined the previous one (typing).
    pub undo_steps: u64,
}

/// `tome/getText` parameters.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetTextParams {
    /// Document id.
    pub doc: u64,
    /// If given, must be the current version (as for edits).
    pub version: Option<u64>,
    /// Positions, in the negotiated encoding.
    pub range: Option<Range>,
    /// Byte offsets.
    pub offsets: Option<Offsets>,
    /// Refuse ranges longer than this many bytes (at most, and by default, 16 MiB).
    pub max_bytes: Option<u64>,
    /// When the bytes are not valid UTF-8, also send them exactly, in `base64`.
    #[serde(default)]
    pub raw_bytes: bool,
}

/// Result of `tome/getText`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetTextResult {
    /// The text, line breaks as they are in the document; invalid UTF-8 as U+FFFD.
    pub text: String,
    /// The bytes read.
    pub bytes: u64,
    /// True if the bytes were not all valid UTF-8 (the text then differs from them).
    pub invalid: bool,
    /// With `rawBytes`, when `invalid`: the exact bytes, in base64.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base64: Option<String>,
    /// The version read.
    pub version: u64,
}

/// `tome/undo` and `tome/redo` parameters.
#[derive(Debug, Deserialize)]
pub struct UndoParams {
    /// Document id.
    pub doc: u64,
    /// When given, must be the current version.
    pub version: Option<u64>,
}

/// Result of `tome/undo` and `tome/redo`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UndoResult {
    /// False when there was nothing to undo (redo); the version is then unchanged.
    pub changed: bool,
    /// The (new) version.
    pub version: u64,
    /// Byte offset where the restored change starts (a place for the cursor).
    pub offset: Option<u64>,
}

/// A search query.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryIn {
    /// Text or regular expression.
    pub pattern: String,
    /// A Rust-syntax regular expression (default: literal text).
    #[serde(default)]
    pub regex: bool,
    /// Match case (default true).
    #[serde(default = "yes")]
    pub case_sensitive: bool,
    /// Only whole words, as an editor with these word separators defines them (VS Code's
    /// `editor.wordSeparators`; spaces, tabs and line breaks always separate).
    #[serde(default)]
    pub word_separators: Option<String>,
}

/// Where a search starts.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct From {
    /// A position.
    pub position: Option<Position>,
    /// A byte offset.
    pub offset: Option<u64>,
}

/// `tome/search` parameters.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchParams {
    /// Document id.
    pub doc: u64,
    /// What to look for.
    pub query: QueryIn,
    /// `"next"` (default), `"all"` (a page of matches) or `"count"`.
    #[serde(default)]
    pub mode: SearchMode,
    /// Start (default: the start of the document).
    pub from: Option<From>,
    /// `"forward"` (default) or `"backward"`; for `"next"`.
    #[serde(default)]
    pub direction: DirectionIn,
    /// Wrap around the end (start) of the document; for `"next"`.
    #[serde(default)]
    pub wrap: bool,
    /// Byte range searched by `"all"` (default: from `from` to the end).
    pub offsets: Option<Offsets>,
    /// Most matches in a page (default 1000, at most 10000).
    pub limit: Option<u64>,
    /// Token for `$/progress` reports.
    pub work_done_token: Option<ProgressToken>,
}

/// Search mode.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum SearchMode {
    /// The next match.
    #[default]
    Next,
    /// A page of matches.
    All,
    /// Number of matches in the document.
    Count,
}

/// Search direction.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum DirectionIn {
    /// Towards the end.
    #[default]
    Forward,
    /// Towards the start.
    Backward,
}

/// One match.
#[derive(Debug, Serialize)]
pub struct MatchOut {
    /// Byte offsets.
    pub offsets: Offsets,
    /// Positions, or null where the index does not know the line yet.
    pub range: Option<Range>,
}

/// Result of `tome/search`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchResult {
    /// The version searched.
    pub version: u64,
    /// `"next"`: the match or null.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found: Option<Option<MatchOut>>,
    /// `"all"`: the page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matches: Option<Vec<MatchOut>>,
    /// `"all"`: where the next page starts, null when the range is done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resume_at: Option<Option<u64>>,
    /// `"count"`: the number of matches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
}

/// `tome/replaceAll` parameters.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplaceAllParams {
    /// Document id.
    pub doc: u64,
    /// When given, must be the current version.
    pub version: Option<u64>,
    /// What to replace.
    pub query: QueryIn,
    /// Replacement; `$1`, `${name}` expand for regex queries.
    pub replacement: String,
    /// Only matches starting in these bytes: whole lines, from a line start to the start of
    /// the line after the last one (default: the whole document).
    pub offsets: Option<Offsets>,
    /// `"all"` (default) or `"first"`: only the first match starting on each line.
    #[serde(default)]
    pub per_line: PerLine,
    /// Plan only: report `count` and `lines`, change nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// Token for `$/progress` reports.
    pub work_done_token: Option<ProgressToken>,
}

/// Which matches of a line `tome/replaceAll` replaces.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum PerLine {
    /// Every match.
    #[default]
    All,
    /// The first match starting on each line.
    First,
}

/// Result of `tome/replaceAll`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplaceAllResult {
    /// Replacements made.
    pub count: u64,
    /// On how many lines.
    pub lines: u64,
    /// The line (0-based, in the document after the change) where the last replacement
    /// starts: where Vim leaves the cursor. Null when nothing changed, on a dry run, or where
    /// the index has not reached it.
    pub last_line: Option<u64>,
    /// The version after (unchanged when `count` is 0).
    pub version: u64,
}

/// `tome/deleteLines` parameters.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteLinesParams {
    /// Document id.
    pub doc: u64,
    /// When given, must be the current version.
    pub version: Option<u64>,
    /// The lines to delete are those on which a match starts.
    pub query: QueryIn,
    /// Delete the lines on which no match starts instead.
    #[serde(default)]
    pub invert: bool,
    /// Only lines in these bytes (whole lines, as for `tome/replaceAll`); default: all.
    pub offsets: Option<Offsets>,
    /// Token for `$/progress` reports.
    pub work_done_token: Option<ProgressToken>,
}

/// Result of `tome/deleteLines`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteLinesResult {
    /// Lines deleted.
    pub count: u64,
    /// The line (0-based, after the change) that now stands where the last deleted line was:
    /// where Vim's `:g/pat/d` leaves the cursor. Null as for `tome/replaceAll`.
    pub last_line: Option<u64>,
    /// The version after (unchanged when `count` is 0).
    pub version: u64,
}

/// `tome/clip` parameters.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClipParams {
    /// Document id.
    pub doc: u64,
    /// When given, must be the current version.
    pub version: Option<u64>,
    /// Positions, in the negotiated encoding.
    pub range: Option<Range>,
    /// Byte offsets.
    pub offsets: Option<Offsets>,
    /// Whole lines (a linewise register): a range that does not end with a line break gets
    /// the document's.
    #[serde(default)]
    pub whole_lines: bool,
    /// Send the clip's first bytes too, at most this many (and at most 4096), for showing.
    #[serde(default)]
    pub preview_bytes: u64,
}

/// Result of `tome/clip`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClipResult {
    /// The clip's id, for `tome/paste` and `tome/dropClip`.
    pub clip: u64,
    /// Its length in bytes (an added line break included).
    pub bytes: u64,
    /// Its first bytes (`previewBytes` of them), invalid UTF-8 as U+FFFD.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preview: Option<String>,
    /// The version the clip was taken at.
    pub version: u64,
}

/// `tome/paste` parameters.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasteParams {
    /// Document id (any open document: a clip taken from another is pasted by value).
    pub doc: u64,
    /// The version `at` refers to: must be the current one.
    pub version: u64,
    /// The clip.
    pub clip: u64,
    /// Where, as a position (exactly one of `at` and `offset`).
    pub at: Option<Position>,
    /// Where, as a byte offset.
    pub offset: Option<u64>,
    /// How many copies, one after the other (default 1).
    #[serde(default = "one")]
    pub count: u64,
    /// Which undo step the paste goes in, as for `tome/edit`.
    #[serde(default)]
    pub undo: UndoGroup,
}

fn one() -> u64 {
    1
}

/// `tome/readClip` parameters.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadClipParams {
    /// The clip.
    pub clip: u64,
    /// Bytes of the clip (default: all of it).
    pub offsets: Option<Offsets>,
    /// Refuse ranges longer than this many bytes (at most, and by default, 16 MiB).
    pub max_bytes: Option<u64>,
    /// When the bytes are not valid UTF-8, also send them exactly, in `base64`.
    #[serde(default)]
    pub raw_bytes: bool,
}

/// `tome/dropClip` parameters.
#[derive(Debug, Deserialize)]
pub struct DropClipParams {
    /// The clip to forget.
    pub clip: u64,
}

/// `tome/save` and `tome/saveAs` parameters.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SaveParams {
    /// Document id.
    pub doc: u64,
    /// `tome/saveAs` only: the new path.
    pub path: Option<String>,
    /// How to write the file: `auto` (the default), `rename` or `inPlace`.
    pub method: Option<String>,
    /// Token for `$/progress` reports.
    pub work_done_token: Option<ProgressToken>,
}

/// Result of a save.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SaveResult {
    /// Where it was written.
    pub path: String,
    /// Bytes in the saved file.
    pub bytes: u64,
    /// How it was written: `rename` or `inPlace`.
    pub method: &'static str,
    /// Offset of the first byte written: every byte before it was left as it was (0 for a
    /// rename save).
    pub from: u64,
    /// Bytes written into the file (from `from` on; all of them for a rename save).
    pub written: u64,
    /// Bytes of the old file backed up first (an in-place save's backup of what it overwrote).
    pub backed_up: u64,
    /// The version that was saved.
    pub version: u64,
    /// Milliseconds it took.
    pub elapsed_ms: u64,
}

/// Result of `tome/close`.
#[derive(Debug, Serialize)]
pub struct CloseResult {
    /// True if the document had unsaved changes (now discarded).
    pub discarded: bool,
}

/// `tome/didChangeOnDisk`: the file behind a document changed.
pub enum DidChangeOnDisk {}

/// Params of `tome/didChangeOnDisk`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiskNotice {
    /// The document.
    pub doc: u64,
    /// `appended`, `rewritten`, `truncated`, `replaced` or `deleted`.
    pub change: String,
    /// The document's version after handling the change.
    pub version: u64,
    /// Whether the document has unsaved edits.
    pub dirty: bool,
    /// The document's length in bytes.
    pub size: u64,
    /// Lines known so far.
    pub line_count: u64,
    /// For people.
    pub message: String,
}

impl Notification for DidChangeOnDisk {
    type Params = DiskNotice;
    const METHOD: &'static str = "tome/didChangeOnDisk";
}

/// Most matched lines one `tome/filterLines` returns.
pub const MAX_FILTER_LINES: usize = 1000;
/// Default and largest bytes of each line's text in `tome/filterLines`.
pub const DEFAULT_FILTER_LINE_BYTES: usize = 4096;

/// `tome/filter` parameters: exactly one of `doc` (a filter of a document) and `filter` (a
/// filter of a filter).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterParams {
    /// The document filtered.
    pub doc: Option<u64>,
    /// The filter filtered (its lines that also match `query`).
    pub filter: Option<u64>,
    /// The query tree (see docs/protocol.md): a leaf `{"pattern", "regex"?, "caseSensitive"?,
    /// "wholeWord"?}`, or `{"and": [..]}`, `{"or": [..]}`, `{"not": q}`.
    pub query: serde_json::Value,
    /// Progress of the scan, reported until it ends (after the reply).
    pub work_done_token: Option<ProgressToken>,
}

/// Which filter a request is about.
#[derive(Debug, Deserialize)]
pub struct FilterIdParams {
    /// The id `tome/filter` returned.
    pub filter: u64,
}

/// Result of `tome/filter`, `tome/filterInfo` and `tome/filterWait`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterInfo {
    /// The filter's id.
    pub filter: u64,
    /// The source document.
    pub doc: u64,
    /// The source version the filter reflects.
    pub version: u64,
    /// Lines matched so far.
    pub matched: u64,
    /// True once the whole source (as of `version`) is scanned.
    pub complete: bool,
    /// The scan was cancelled (`$/cancelRequest` of a `tome/filterWait`): `matched` holds the
    /// lines found before it stopped.
    pub cancelled: bool,
    /// The source changed since `version` other than by followed appends (or was closed): the
    /// filter no longer reflects it; create a new one.
    pub stale: bool,
    /// Source bytes scanned so far, of `totalBytes`.
    pub scanned_bytes: u64,
    /// Bytes of the source as of `version`.
    pub total_bytes: u64,
    /// Bytes of memory the list of matched lines takes.
    pub memory_bytes: u64,
    /// Why the scan failed (the file changed on disk under it), if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `tome/filterLines` parameters: `first` (a filter line) or `around` (a source byte offset:
/// from the first matched line at or after it, after `before` lines).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterLinesParams {
    /// Filter id.
    pub filter: u64,
    /// First filter line (zero-based).
    pub first: Option<u64>,
    /// A source byte offset.
    pub around: Option<u64>,
    /// Lines before the one at `around`.
    #[serde(default)]
    pub before: u64,
    /// Number of lines (at most 1000).
    pub count: u64,
    /// Most bytes of each line's text (default 4096, at most 16 MiB / `count`).
    pub max_line_bytes: Option<u64>,
    /// Report the source document's highlight rules' matches on the lines (default: when
    /// rules apply to it).
    #[serde(default = "yes")]
    pub highlights: bool,
}

/// One line of a filter.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterLineOut {
    /// Its index in the filter (zero-based).
    pub index: u64,
    /// Its line number in the source (zero-based).
    pub line: u64,
    /// The byte offset of its start in the source (as of the filter's `version`).
    pub offset: u64,
    /// The text (up to `maxLineBytes`; invalid bytes as U+FFFD each).
    pub text: String,
    /// Bytes of the line (without its break); a lower bound when `cutAfter` and not known.
    pub byte_length: u64,
    /// The text stops before the line's end.
    pub cut_after: bool,
    /// `text` holds replacement characters for invalid UTF-8.
    pub invalid: bool,
}

/// Result of `tome/filterLines`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterLinesResult {
    /// The lines (fewer than asked past the last line matched so far).
    pub lines: Vec<FilterLineOut>,
    /// The filter's state when they were read.
    pub info: FilterInfo,
    /// The source's highlight rules' matches on `lines` (`line`: the index in `lines`), when
    /// rules apply to the source document; as `tome/viewport`'s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub highlights: Option<Vec<HighlightOut>>,
    /// True when `highlights` stopped at its limit.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub highlights_cut: bool,
}

/// The time `tome/seekTime` looks for: text in any supported form, or epoch milliseconds.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum TimeIn {
    /// Milliseconds since the epoch (UTC).
    Ms(i64),
    /// `2026-11-26T12:00`, `Nov 26 12:00:00`, `1795694400`… (docs/protocol.md).
    Text(String),
}

/// `tome/seekTime` parameters.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeekTimeParams {
    /// Document id.
    pub doc: u64,
    /// The time.
    pub time: TimeIn,
    /// A format name (`iso8601`, `datetime`, `syslog`, `commonLog`, `epochSeconds`,
    /// `epochMillis`) to skip detection of the format (its place in the line is still
    /// detected).
    pub format: Option<String>,
}

/// Result of `tome/seekTime`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SeekTimeResult {
    /// The version searched.
    pub version: u64,
    /// Start of the line found; the document's length when every line is before the time.
    pub offset: u64,
    /// Its line number, when the index already knows it (null before).
    pub line: Option<u64>,
    /// The timestamp's text as the line writes it (null at the end).
    pub time: Option<String>,
    /// The timestamp in milliseconds since the epoch (zoneless logs: as if UTC).
    pub time_ms: Option<i64>,
    /// The format of the log's timestamps.
    pub format: &'static str,
    /// The line's time is the asked time (to the millisecond).
    pub exact: bool,
    /// A run of more than 1 MiB without timestamps was met: the line may not be the first
    /// one at or after the time.
    pub approximate: bool,
}
