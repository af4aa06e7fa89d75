//! `tome cat`, `tome grep`, `tome replace`: Unix commands for scripts, on the engine.
//!
//! Each command opens the file as a [`Document`] (mapped, never read whole), does its one job
//! with the engine's own API (line index, parallel line filter, planned replace-all, atomic
//! save) and ends with a Unix exit code. This module holds what they share: opening with clear
//! errors, the line-break rule, writing exact bytes and JSON lines. One submodule per command.
//!
//! Lines are the engine's: LF, CRLF and a lone CR each end a line (sed and grep end lines at
//! LF only, so they differ on files with lone CRs). A file ending in a line break has no empty
//! line after it (as for sed), although the engine numbers one.

use std::io::{self, Write};
use std::path::Path;

use tome_core::{Document, Encoding, OnInterruptedSave, View};

pub mod cat;
pub mod grep;
pub mod replace;

/// Exit code: success (grep: a line was selected; replace: something was replaced).
pub const OK: u8 = 0;
/// Exit code: nothing found (grep: no line selected; replace: no match, file untouched).
pub const NONE: u8 = 1;
/// Exit code: an error (missing file, bad range or pattern…); nothing was changed.
pub const ERROR: u8 = 2;
/// Exit code of `tome replace` when the save failed: the file is as it was (sed's I/O error).
pub const SAVE_FAILED: u8 = 4;

/// A failed command: its exit code and the message for stderr.
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    pub fn new(code: u8, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
        }
    }
}

/// An engine error about `path`, as a usage error (exit 2). The engine's messages already
/// name the file where it matters (not found, permission denied, not a regular file).
pub fn engine_error(path: &Path, e: tome_core::Error) -> Failure {
    let msg = e.to_string();
    let shown = path.display().to_string();
    if msg.contains(&shown) {
        Failure::new(ERROR, msg)
    } else {
        Failure::new(ERROR, format!("{shown}: {msg}"))
    }
}

/// Opens `path` for a command: a directory, a missing or unreadable file, a file an
/// interrupted save left half-written (its backup is offered by the next open in an editor)
/// and, unless `text` (`-a`), a binary file are refused with a clear message. `cache`: use the
/// index cache of the state directory (reading by line number: a second run on the same file
/// needs no indexing). Cost: O(1) in the file's size (the index builds in the background).
pub fn open(path: &Path, text: bool, cache: bool) -> Result<Document, Failure> {
    if path.is_dir() {
        return Err(Failure::new(
            ERROR,
            format!("{}: is a directory", path.display()),
        ));
    }
    let cache = if cache {
        // An optimisation only: without a usable state directory the file is indexed anew.
        tome_core::journal::state_dir()
            .and_then(|state| tome_core::IndexCache::from_env(&state).ok().flatten())
    } else {
        None
    };
    let mut doc = Document::open_cached(path, OnInterruptedSave::Refuse, cache.as_ref())
        .map_err(|e| engine_error(path, e))?;
    match doc.encoding() {
        _ if !text && has_nul_near_start(&doc) => {
            return Err(Failure::new(
                ERROR,
                format!(
                    "{}: binary file (a NUL byte in its first 64 KiB); pass -a (--text) to \
                     read it as text anyway",
                    path.display()
                ),
            ));
        }
        Encoding::Binary | Encoding::Unsupported(_) if !text => {
            return Err(Failure::new(
                ERROR,
                format!(
                    "{}: binary file ({}: a NUL byte or bytes that are not text near its \
                     start); pass -a (--text) to read it as text anyway",
                    path.display(),
                    doc.encoding().name()
                ),
            ));
        }
        // Bytes are matched and written as they are, read as UTF-8 (as grep and sed in a
        // UTF-8 locale): a legacy-encoded file is searched byte for byte.
        Encoding::Utf8 | Encoding::Utf8Bom => {}
        _ => doc
            .set_encoding(Encoding::Utf8)
            .map_err(|e| engine_error(path, e))?,
    }
    Ok(doc)
}

/// True if the first 64 KiB hold a NUL byte: what GNU grep takes for binary data (NUL is valid
/// UTF-8, so the engine's detection reads such a file as text). O(64 KiB).
fn has_nul_near_start(doc: &Document) -> bool {
    let view = doc.view();
    view.chunks(0, view.len().min(64 << 10))
        .any(|c| memchr::memchr(0, c).is_some())
}

/// Where the line starting at `start` ends: `(end of its text, start of the next line)`; both
/// `view.len()` for a last line without a break. O(line length).
pub fn line_end(view: &View<'_>, start: usize) -> (usize, usize) {
    let mut pos = start;
    for chunk in view.chunks(start, view.len()) {
        if let Some(i) = memchr::memchr2(b'\n', b'\r', chunk) {
            let brk = pos + i;
            let crlf = chunk[i] == b'\r' && view.byte_at(brk + 1) == Some(b'\n');
            return (brk, brk + 1 + usize::from(crlf));
        }
        pos += chunk.len();
    }
    (view.len(), view.len())
}

/// Writes `view[start..end)` to `out` as it is, chunk by chunk (no copy of the range).
pub fn write_range(
    out: &mut impl Write,
    view: &View<'_>,
    start: usize,
    end: usize,
) -> io::Result<()> {
    for chunk in view.chunks(start, end) {
        out.write_all(chunk)?;
    }
    Ok(())
}

/// One line as a JSON object (a line of JSON-lines output): `line` (1-based), `offset` (of
/// its first byte), `text` (its text without the break; invalid UTF-8 as U+FFFD) and, only
/// when the text is not valid UTF-8, `base64` (its exact bytes).
pub fn line_json(line: usize, offset: usize, bytes: &[u8]) -> serde_json::Value {
    let mut v = serde_json::json!({
        "line": line,
        "offset": offset,
        "text": String::from_utf8_lossy(bytes),
    });
    if std::str::from_utf8(bytes).is_err() {
        v["base64"] = tome_server::base64::encode(bytes).into();
    }
    v
}

/// Turns the outcome of writing output into an exit: a closed pipe (`| head`) ends the command
/// quietly with `ok`, as for grep killed by SIGPIPE in a pipeline; another write error is an
/// error (exit 2).
pub fn output_result(r: io::Result<()>, ok: u8) -> Result<u8, Failure> {
    match r {
        Ok(()) => Ok(ok),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(ok),
        Err(e) => Err(Failure::new(ERROR, format!("write error: {e}"))),
    }
}
