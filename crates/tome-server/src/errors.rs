//! Error codes of the protocol and the mapping of engine errors onto them.
//!
//! Codes are part of the contract (docs/protocol.md): clients branch on them, so they never
//! change meaning. JSON-RPC and LSP reserve -32768..=-32000 and -32899..=-32800; Tome's own
//! codes live in -33099..=-33001. Every error also carries `data.kind`, a stable name.

use serde_json::json;
use tome_core::Error as CoreError;
use tower_lsp_server::jsonrpc::{Error, ErrorCode};

/// JSON-RPC: the body is not JSON (or not a usable frame).
pub const PARSE_ERROR: i64 = -32700;
/// JSON-RPC: JSON, but not a request/notification/response.
pub const INVALID_REQUEST: i64 = -32600;
/// JSON-RPC: no such method (only for `$/…` requests; the framework answers the others).
pub const METHOD_NOT_FOUND: i64 = -32601;
/// LSP: a request came before `initialize` was answered.
pub const SERVER_NOT_INITIALIZED: i64 = -32002;
/// LSP: the request failed for a reason not covered by a more precise code.
pub const REQUEST_FAILED: i64 = -32803;

/// The document id is not (or no longer) open.
pub const UNKNOWN_DOCUMENT: i64 = -33001;
/// A line, column, offset or range lies outside the document.
pub const OUT_OF_BOUNDS: i64 = -33002;
/// The request names a document version that is not the current one.
pub const STALE_VERSION: i64 = -33003;
/// The search pattern does not compile.
pub const INVALID_REGEX: i64 = -33004;
/// The path does not exist.
pub const FILE_NOT_FOUND: i64 = -33005;
/// The operating system refused access.
pub const PERMISSION_DENIED: i64 = -33006;
/// The path is a directory, device, FIFO…
pub const NOT_REGULAR_FILE: i64 = -33007;
/// The line index has not reached the requested line or offset yet.
pub const NOT_INDEXED_YET: i64 = -33008;
/// Edits of one batch overlap.
pub const OVERLAPPING_EDITS: i64 = -33009;
/// The file changed on disk under the document.
pub const FILE_CHANGED: i64 = -33010;
/// The disk filled up while saving.
pub const DISK_FULL: i64 = -33011;
/// Any other I/O failure.
pub const IO_ERROR: i64 = -33012;
/// A save of this document is already running.
pub const BUSY: i64 = -33013;
/// An in-place save of the file was interrupted; the user must choose what to do with its
/// backup before the file opens.
pub const INTERRUPTED_SAVE: i64 = -33014;
/// The search pattern is longer than the engine takes (`data.bytes`, `data.limit`).
pub const PATTERN_TOO_LONG: i64 = -33015;
/// The clip id is not (or no longer) kept by this session.
pub const UNKNOWN_CLIP: i64 = -33016;
/// The request would take more than a documented limit allows.
pub const TOO_LARGE: i64 = -33017;

/// A JSON-RPC or LSP error of the protocol's own (no `data`).
pub fn plain(code: i64, message: &'static str) -> Error {
    Error {
        code: ErrorCode::from(code),
        message: message.into(),
        data: None,
    }
}

/// Builds an error with a code, a message for people and a `data` object whose `kind` names
/// the error for programs.
pub fn error(code: i64, kind: &str, message: impl Into<String>) -> Error {
    with_data(code, message, json!({ "kind": kind }))
}

/// Like [`error`], with extra fields in `data` (which must be an object holding `kind`).
pub fn with_data(code: i64, message: impl Into<String>, data: serde_json::Value) -> Error {
    Error {
        code: ErrorCode::from(code),
        message: message.into().into(),
        data: Some(data),
    }
}

/// -32602 for parameters that parse but make no sense (the framework answers the ones that do
/// not parse).
pub fn invalid_params(message: impl Into<String>) -> Error {
    error(-32602, "invalidParams", message)
}

/// -33001.
pub fn unknown_document(doc: u64) -> Error {
    error(
        UNKNOWN_DOCUMENT,
        "unknownDocument",
        format!("no open document with id {doc}"),
    )
}

/// -33016.
pub fn unknown_clip(clip: u64) -> Error {
    error(
        UNKNOWN_CLIP,
        "unknownClip",
        format!("no clip with id {clip} (never taken, dropped, or evicted by newer ones)"),
    )
}

/// -32803, for failures inside the server (a panic caught, a task that died).
pub fn internal(message: impl Into<String>) -> Error {
    error(REQUEST_FAILED, "requestFailed", message)
}

/// Maps an engine error to its protocol error.
pub fn from_core(e: CoreError) -> Error {
    let message = e.to_string();
    match e {
        CoreError::NotFound(p) => with_data(
            FILE_NOT_FOUND,
            message,
            json!({"kind": "fileNotFound", "path": p}),
        ),
        CoreError::PermissionDenied(p) => with_data(
            PERMISSION_DENIED,
            message,
            json!({"kind": "permissionDenied", "path": p}),
        ),
        CoreError::NotRegularFile(p) => with_data(
            NOT_REGULAR_FILE,
            message,
            json!({"kind": "notRegularFile", "path": p}),
        ),
        CoreError::KernelFile(p) => with_data(
            NOT_REGULAR_FILE,
            message,
            json!({"kind": "notRegularFile", "path": p}),
        ),
        CoreError::InterruptedSave(save) => with_data(
            INTERRUPTED_SAVE,
            message,
            json!({
                "kind": "interruptedSave",
                "path": save.target,
                "backup": save.backup,
                "backupStart": save.backup_start,
                "backupRanges": save.ranges.len(),
                "pid": save.pid,
                "savedMtimeMs": (save.saved_mtime_ns / 1_000_000) as i64,
                "changedSince": save.changed_since,
            }),
        ),
        CoreError::OutOfBounds(_) => error(OUT_OF_BOUNDS, "outOfBounds", message),
        CoreError::TooLarge(_) => error(TOO_LARGE, "tooLarge", message),
        CoreError::NotIndexedYet { indexed_lines, .. } => with_data(
            NOT_INDEXED_YET,
            message,
            json!({"kind": "notIndexedYet", "indexedLines": indexed_lines}),
        ),
        CoreError::InvalidRegex(_) => error(INVALID_REGEX, "invalidRegex", message),
        CoreError::PatternTooLong { bytes, limit, .. } => with_data(
            PATTERN_TOO_LONG,
            message,
            json!({"kind": "patternTooLong", "bytes": bytes, "limit": limit}),
        ),
        // The framework answers cancelled requests itself; this one is reached only when the
        // work noticed the cancel before the framework dropped the handler.
        CoreError::Cancelled => error(-32800, "cancelled", "cancelled"),
        CoreError::OverlappingEdits(_) => error(OVERLAPPING_EDITS, "overlappingEdits", message),
        CoreError::FileChanged(_) => error(FILE_CHANGED, "fileChanged", message),
        CoreError::DiskFull(p) => {
            with_data(DISK_FULL, message, json!({"kind": "diskFull", "path": p}))
        }
        CoreError::Io { .. } => error(IO_ERROR, "io", message),
        // A replace-all planned on an older version (the handler plans again; not seen by
        // clients in practice).
        CoreError::Stale(_) => error(STALE_VERSION, "staleVersion", message),
        // Not a version in the request, but the same answer: the journal applies to version 0
        // of the file as opened, and the document has moved on. Editors branch on -33003 here
        // (nvim's `:TomeRecover` explains it), so the code stays; `kind` says which case.
        CoreError::EditedBeforeRecovery => error(STALE_VERSION, "editedBeforeRecovery", message),
        // `tome/open` turns a failure to start the journal into a `noJournal` warning, so
        // clients do not see this as an error today; as one, it is a file that could not be
        // locked: an I/O error, with its own kind.
        CoreError::JournalInUse(p) => with_data(
            IO_ERROR,
            message,
            json!({"kind": "journalInUse", "path": p}),
        ),
        CoreError::Unrepresentable {
            encoding,
            character,
            ..
        } => with_data(
            UNREPRESENTABLE,
            message,
            json!({
                "kind": "unrepresentable",
                "encoding": encoding,
                "character": character.to_string(),
                "codePoint": character as u32,
            }),
        ),
        CoreError::UnsupportedEncoding(encoding) => with_data(
            UNSUPPORTED_ENCODING,
            message,
            json!({"kind": "unsupportedEncoding", "encoding": encoding}),
        ),
        CoreError::Dirty(_) => error(DIRTY, "dirty", message),
    }
}

/// A document opened read-only (a compressed file): edits, saves and other changes are refused.
pub const READ_ONLY_DOCUMENT: i64 = -33020;

/// -33020 for document `doc` (compressed as `format`).
pub fn read_only_document(doc: u64, format: &str) -> Error {
    with_data(
        READ_ONLY_DOCUMENT,
        format!(
            "document {doc} is a {format}-compressed file, opened read-only: only tome/info, \
             tome/viewport, tome/getText, tome/search and tome/close are available for it"
        ),
        json!({"kind": "readOnlyDocument", "doc": doc, "compression": format}),
    )
}

/// -33003, with the version the client named and the current one.
pub fn stale_version(given: u64, current: u64) -> Error {
    with_data(
        STALE_VERSION,
        format!("the edit is based on version {given}, but the document is at version {current}"),
        json!({"kind": "staleVersion", "given": given, "current": current}),
    )
}

/// Text holds a character the document's encoding cannot represent (`data.encoding`,
/// `data.character`, `data.codePoint`).
pub const UNREPRESENTABLE: i64 = -33021;
/// The file's encoding is recognised but cannot be edited yet (UTF-16, UTF-32…): `data.encoding`.
pub const UNSUPPORTED_ENCODING: i64 = -33022;
/// The document has unsaved changes and the request needs it clean (`tome/reopenWithEncoding`).
pub const DIRTY: i64 = -33023;

/// -33018.
pub const UNKNOWN_FILTER: i64 = -33018;

/// -33018: no filter with that id.
pub fn unknown_filter(filter: u64) -> Error {
    error(
        UNKNOWN_FILTER,
        "unknownFilter",
        format!("no filter with id {filter} (never made, or closed)"),
    )
}

/// -33019.
pub const NO_TIMESTAMPS: i64 = -33019;

/// -33019: `tome/seekTime` found no timestamp (of the format asked, if one was) in the
/// document's sample.
pub fn no_timestamps(format: Option<&str>) -> Error {
    let message = match format {
        Some(f) => format!("no {f} timestamps found in the lines sampled at the start and middle of the document"),
        None => "no timestamps found in the lines sampled at the start and middle of the document (supported: ISO 8601, `YYYY-MM-DD HH:MM:SS`, syslog, common log, epoch seconds or milliseconds at the line start)".to_string(),
    };
    error(NO_TIMESTAMPS, "noTimestamps", message)
}

/// -32602 with kind `invalidTime`: the time asked is no supported form.
pub fn invalid_time(text: &str) -> Error {
    let shown: String = text.chars().take(64).collect();
    error(
        -32602,
        "invalidTime",
        format!("cannot read {shown:?} as a time (e.g. 2026-11-26T12:00, 2026-11-26 12:00:00, Nov 26 12:00:00, 1795694400)"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pattern_too_long_has_its_own_code_and_says_the_limit() {
        let e = from_core(CoreError::PatternTooLong {
            bytes: 5000,
            limit: 4096,
            what: "regular expressions and case-insensitive text",
        });
        assert_eq!(e.code, ErrorCode::from(PATTERN_TOO_LONG));
        assert_eq!(
            e.message,
            "pattern too long (5000 bytes; the limit is 4096 for regular expressions and \
             case-insensitive text)"
        );
        assert_eq!(
            e.data,
            Some(json!({"kind": "patternTooLong", "bytes": 5000, "limit": 4096}))
        );
    }

    #[test]
    fn each_former_stale_condition_has_its_code_and_kind() {
        let e = from_core(CoreError::EditedBeforeRecovery);
        assert_eq!(e.code, ErrorCode::from(STALE_VERSION));
        assert_eq!(e.data, Some(json!({"kind": "editedBeforeRecovery"})));
        let e = from_core(CoreError::JournalInUse("/j/x.journal".into()));
        assert_eq!(e.code, ErrorCode::from(IO_ERROR));
        assert_eq!(
            e.data,
            Some(json!({"kind": "journalInUse", "path": "/j/x.journal"}))
        );
        let e = from_core(CoreError::Stale("changed".into()));
        assert_eq!(e.code, ErrorCode::from(STALE_VERSION));
    }
}
