//! The one error type of the engine. Every variant carries a message a person understands;
//! the server maps each variant to a stable JSON-RPC code.

use std::path::PathBuf;

/// Everything that can go wrong in the engine.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The path does not exist.
    #[error("file not found: {}", .0.display())]
    NotFound(PathBuf),
    /// The operating system refused access.
    #[error("permission denied: {}", .0.display())]
    PermissionDenied(PathBuf),
    /// The path names a directory, a device, a FIFO or another non-regular file.
    #[error("not a regular file: {}", .0.display())]
    NotRegularFile(PathBuf),
    /// The path names a file of a kernel interface (`/proc`, `/sys`…): its size is not its
    /// content, so it cannot be opened as a document.
    #[error("{} is a kernel interface file (procfs, sysfs…) whose content is made when read; Tome opens regular files only", .0.display())]
    KernelFile(PathBuf),
    /// A request would take more than a documented limit allows (the message says which).
    #[error("too large: {0}")]
    TooLarge(String),
    /// A byte offset, line or column lies outside the document.
    #[error("out of bounds: {0}")]
    OutOfBounds(String),
    /// The line index has not reached the requested line yet; the position is known only once
    /// indexing gets there (see [`crate::Document::wait_for_line`]).
    #[error("{what} is not indexed yet ({indexed_lines} lines indexed so far)")]
    NotIndexedYet {
        /// What was asked for ("line 12345", "offset 678").
        what: String,
        /// Lines known so far (a lower bound of the total).
        indexed_lines: usize,
    },
    /// The search pattern does not compile.
    #[error("invalid regex: {0}")]
    InvalidRegex(String),
    /// The search pattern is longer than its engine takes: search time would no longer be
    /// linear in the text (see [`crate::search::MAX_LITERAL`] and
    /// [`crate::search::MAX_REGEX_PATTERN`]).
    #[error("pattern too long ({bytes} bytes; the limit is {limit} for {what})")]
    PatternTooLong {
        /// Bytes of the pattern.
        bytes: usize,
        /// The most this kind of pattern may have.
        limit: usize,
        /// Which kind of pattern ("case-sensitive text", "regular expressions and
        /// case-insensitive text").
        what: &'static str,
    },
    /// The operation was cancelled through its [`crate::Control`].
    #[error("cancelled")]
    Cancelled,
    /// Edits in one batch overlap each other.
    #[error("overlapping edits: {0}")]
    OverlappingEdits(String),
    /// The file on disk changed in a way that makes the mapped bytes unreliable.
    #[error("file changed on disk: {0}")]
    FileChanged(String),
    /// The document changed since the operation was prepared on one of its versions (a
    /// replace-all planned on a snapshot, applied after another change): nothing was done.
    /// The server answers it as a stale version.
    #[error("{0}")]
    Stale(String),
    /// A journal was to be recovered into a document that was already edited (or has undo
    /// history): its changes apply to the file as opened, so nothing was done.
    #[error("recover before editing: the journal's changes apply to the file as opened")]
    EditedBeforeRecovery,
    /// The journal file is locked by another live session of the same file, which keeps
    /// journaling it; this document gets no journal.
    #[error("{} is in use by another session of this file", .0.display())]
    JournalInUse(PathBuf),
    /// Text holds a character the document's encoding cannot represent (an edit's text, a
    /// replacement, a search pattern): nothing was done, nothing was replaced silently.
    #[error("{} cannot represent {:?} (U+{:04X}){}", .encoding, .character, *.character as u32, .what)]
    Unrepresentable {
        /// The document's encoding (`windows-1252`, `Shift_JIS`…).
        encoding: String,
        /// The first character it cannot represent.
        character: char,
        /// Where the character is (", in the pattern"…), or empty.
        what: String,
    },
    /// The encoding was recognised but a document cannot be read or edited in it (yet):
    /// UTF-32, ISO-2022-JP. The name is the encoding's.
    #[error("{0} files cannot be edited yet: Tome's line index counts single-byte or UTF-16 line breaks (open with encoding \"binary\" to see the raw bytes)")]
    UnsupportedEncoding(String),
    /// The operation needs the document to have no unsaved changes.
    #[error("{0}")]
    Dirty(String),
    /// The disk is full.
    #[error("disk full while writing {}", .0.display())]
    DiskFull(PathBuf),
    /// An in-place save of this file was interrupted (the process died) and left the file's
    /// earlier content in a backup: the user must choose to restore it or not
    /// ([`crate::Document::open_with`]).
    #[error("{}", interrupted_message(.0))]
    InterruptedSave(Box<InterruptedSave>),
    /// Any other I/O failure, with what was being done.
    #[error("{context}: {source}")]
    Io {
        /// What the engine was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// A backup that an interrupted in-place save of this file left, proven ours by its record in
/// the state directory (`backup_record`). Nothing is done with it until the user chooses:
/// [`InterruptedSave::restore`] or [`InterruptedSave::discard`] (in
/// [`crate::save::in_place`], which also re-exports it). It lives here, with the error that
/// carries it, so that this module does not depend on the save modules that depend on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterruptedSave {
    /// The file that was being saved (one of its names).
    pub target: PathBuf,
    /// The backup: the file's bytes in `ranges` as they were before that save (the save wrote
    /// nothing outside them, except past the old end).
    pub backup: PathBuf,
    /// The offset in the file of the backup's first byte (0: the whole file).
    pub backup_start: u64,
    /// The ranges `(start, len)` of the file the backup holds, one after the other (one range
    /// to the old end for a tail; several blocks for an edit that kept the length).
    pub ranges: Vec<(u64, u64)>,
    /// The file's length before that save (a restore cuts it back to this).
    pub old_size: u64,
    /// The process that was saving.
    pub pid: u32,
    /// The file's modification time before that save (nanoseconds since the epoch); the backup
    /// carries it.
    pub saved_mtime_ns: i128,
    /// True if the file now holds something other than what the interrupted save leaves (its
    /// new content up to some point, the old content after it): another program wrote it
    /// since. Restoring would then lose that program's changes.
    pub changed_since: bool,
    /// The record that vouches for the backup (see `backup_record`).
    pub(crate) record: PathBuf,
}

fn interrupted_message(save: &InterruptedSave) -> String {
    format!(
        "a save of {} was interrupted (process {} died while writing it); the file as it was \
         before that save is in {}{}{}. Restore it (unsaved edits are then offered from the \
         journal) or keep the file as it is",
        save.target.display(),
        save.pid,
        save.backup.display(),
        if save.ranges.len() > 1 {
            format!(
                " ({} ranges from byte {} on; the bytes between them were not touched)",
                save.ranges.len(),
                save.backup_start
            )
        } else if save.backup_start > 0 {
            format!(
                " (from byte {} on; the bytes before it were not touched)",
                save.backup_start
            )
        } else {
            String::new()
        },
        if save.changed_since {
            "; the file has been changed by another program since, and restoring would lose \
             those changes"
        } else {
            ""
        }
    )
}

/// The engine's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps an I/O error on `path`, choosing the precise variant where one fits.
    pub fn io(path: &std::path::Path, what: &str, err: std::io::Error) -> Error {
        use std::io::ErrorKind;
        match (err.kind(), err.raw_os_error()) {
            (ErrorKind::NotFound, _) => Error::NotFound(path.to_path_buf()),
            // EPERM (an immutable or append-only file, a kernel file) and EROFS (a read-only
            // mount) are refusals to write, like EACCES.
            (ErrorKind::PermissionDenied, _) | (_, Some(libc::EPERM)) | (_, Some(libc::EROFS)) => {
                Error::PermissionDenied(path.to_path_buf())
            }
            (_, Some(libc::ENOSPC)) | (_, Some(libc::EDQUOT)) => {
                Error::DiskFull(path.to_path_buf())
            }
            _ => Error::Io {
                context: format!("{what} {}", path.display()),
                source: err,
            },
        }
    }
}
