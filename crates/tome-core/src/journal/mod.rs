//! The edit journal: every change to a document, appended to a file under the user's state
//! directory, so that a crash (even `kill -9`) loses nothing that was synced.
//!
//! Layout (little-endian):
//!
//! ```text
//! header:  "TOMEJRN1" | version u32 | salt u64 | dev u64 | ino u64 | size u64 | mtime_ns i128
//!          | n u32 | n × (offset u64, hash u64) | path_len u32 | path | crc32c u32
//! record:  len u32 | crc32c u32 | seq u64 | kind u8 | payload[len]
//! ```
//!
//! A record's CRC covers the salt, its sequence number, its kind and its payload, so a record
//! from another journal or an old run, or a torn or corrupted tail, never passes. Replay stops
//! at the first bad record. Appends are buffered and written and `fdatasync`ed by a background
//! thread every [`SYNC_INTERVAL`], so typing never waits for the disk; what was acknowledged
//! before the last sync survives a crash.
//!
//! The journal describes changes against its **base**: the file as it was when the journal
//! started (at open, after each save, after a reload). Text that the base file holds is
//! recorded by file range, other text by value. A journal is replayed only onto the same file
//! (device, inode) whose sampled blocks still match; otherwise it is not applied.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::source::{sample_hashes, FileIdentity, Source};
use crate::{Error, Result};

mod format;

pub use format::check;
use format::{encode, header, record_crc};
pub(crate) use format::{read, Reader, Replay};

/// How often buffered records are written and synced.
pub const SYNC_INTERVAL: Duration = Duration::from_millis(200);
const MAGIC: &[u8; 8] = b"TOMEJRN1";
const VERSION: u32 = 1;
/// Largest record accepted on replay (a bigger length field means a corrupt tail).
const MAX_RECORD: usize = 1 << 30;

/// What a record does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Record {
    /// Splices applied in order, as one undo step: at `at`, remove `remove` bytes, insert parts.
    Splices(Vec<Splice>),
    /// Undo of a step that replaced the whole tree, replayed with `undo`. No longer written
    /// (the replayed history's steps are not the live ones, so it could undo another step:
    /// such undos are recorded as splices, see `document::rejournal`); still read, so that a
    /// journal of an older version recovers as it did.
    Undo,
    /// Redo of such a step; no longer written either.
    Redo,
    /// A replace-all of `query`, in a scope (every match of the document, a range of lines,
    /// the first match of each line).
    ReplaceAll {
        query: crate::search::Query,
        replacement: Vec<u8>,
        scope: crate::lines::Scope,
    },
    /// The deletion of the lines of a scope on which `query` matches (or, `invert`, does
    /// not).
    DeleteLines {
        query: crate::search::Query,
        scope: crate::lines::Scope,
        invert: bool,
    },
    /// The file grew by an append, followed up to this file offset.
    Appended { upto: u64 },
}

/// One splice of a [`Record::Splices`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Splice {
    pub at: u64,
    pub remove: u64,
    pub parts: Vec<Part>,
}

/// Inserted text: by value, or by range of the base file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Part {
    Bytes(Vec<u8>),
    File { offset: u64, len: u64 },
}

/// A journal's state, behind two locks so that logging an edit never waits for the disk: the
/// flusher holds `file` across its write and sync, and takes `records` only to swap the
/// buffer out. Lock order: `file`, then `records`.
struct Inner {
    /// The journal file, held by whoever writes it (the flusher, a sync, a restart).
    file: Mutex<File>,
    records: Mutex<Records>,
}

/// What logging an edit touches.
struct Records {
    /// Encoded records not written yet.
    pending: Vec<u8>,
    seq: u64,
    salt: u64,
    /// Why writing failed: from then on records are dropped (the buffer would only grow)
    /// until the journal is restarted; [`Journal::failure`] says so.
    failed: Option<String>,
}

/// An open journal, appending.
pub(crate) struct Journal {
    path: PathBuf,
    inner: Arc<Inner>,
}

/// A journal found at open, set aside until the user recovers or discards it.
#[derive(Clone, Debug)]
pub struct Recoverable {
    /// Where the set-aside journal is.
    pub path: PathBuf,
    /// Records that passed their checks.
    pub records: usize,
    /// Whether the file is still the one the journal was written against. One that no longer
    /// fits (the file was changed by another program since) is an orphan: it is never applied
    /// to the document, only replayed into a new unsaved one
    /// ([`Document::recover_as_new`](crate::Document::recover_as_new)), and stays until
    /// discarded.
    pub fits: bool,
}

/// The user's state directory, which only this user may write and which Tome therefore trusts
/// (journals, backup records): `$TOME_STATE_DIR`, else `$XDG_STATE_HOME/tome`, else
/// `~/.local/state/tome`.
pub fn state_dir() -> Option<PathBuf> {
    std::env::var_os("TOME_STATE_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_STATE_HOME").map(|d| PathBuf::from(d).join("tome")))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state/tome")))
}

/// The directory journals live in: `journal/` below [`state_dir`].
pub fn default_dir() -> Option<PathBuf> {
    Some(state_dir()?.join("journal"))
}

/// The journal file for the document at `path`.
pub(crate) fn journal_path(dir: &Path, path: &Path) -> PathBuf {
    let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    // FNV-1a: stable across runs and builds (unlike the std hasher).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in real.as_os_str().as_encoded_bytes() {
        h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
    }
    dir.join(format!("{h:016x}.journal"))
}

fn random_salt() -> u64 {
    let mut bytes = [0u8; 8];
    if let Ok(mut f) = File::open("/dev/urandom") {
        let _ = std::io::Read::read_exact(&mut f, &mut bytes);
    }
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    u64::from_le_bytes(bytes) ^ t ^ u64::from(std::process::id()).rotate_left(32)
}

impl Journal {
    /// Starts a journal for a document whose base is `base`, replacing any journal at `path`.
    /// Fails with [`Error::JournalInUse`] if another live session (this process or another)
    /// has the journal open: each journal is held with an exclusive `flock` while in use.
    pub fn create(path: PathBuf, base: &Source) -> Result<Journal> {
        if let Some(dir) = path.parent() {
            // Private: journals hold the user's unsaved text.
            std::os::unix::fs::DirBuilderExt::mode(
                std::fs::DirBuilder::new().recursive(true),
                0o700,
            )
            .create(dir)
            .map_err(|e| Error::io(dir, "cannot create", e))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(|e| Error::io(&path, "cannot create journal", e))?;
        if file.try_lock().is_err() {
            return Err(Error::JournalInUse(path));
        }
        let inner = Arc::new(Inner {
            file: Mutex::new(file),
            records: Mutex::new(Records {
                pending: Vec::new(),
                seq: 0,
                salt: 0,
                failed: None,
            }),
        });
        // Not synced here: the open does not wait for the disk. A new journal is worth
        // something only once it holds a record, and the flusher's sync of the first record
        // makes the header before it durable too (`fdatasync` covers the whole file). A crash
        // before that leaves no records to replay whatever survived (a journal with records
        // was set aside before this create: `set_aside`).
        start(&inner, base, false).map_err(|e| Error::io(&path, "cannot write journal", e))?;
        flusher::register(Arc::downgrade(&inner));
        Ok(Journal { path, inner })
    }

    /// Starts again from a new base (after a save or a reload): the old records are dropped.
    pub fn restart(&mut self, base: &Source) -> Result<()> {
        // Synced: until the new header is on disk, the old records (of the old base) could
        // come back after a crash and be replayed onto the new one.
        start(&self.inner, base, true).map_err(|e| Error::io(&self.path, "cannot write journal", e))
    }

    /// Buffers a record; the flusher writes and syncs it within [`SYNC_INTERVAL`].
    pub fn log(&self, record: &Record) {
        let mut inner = self.inner.lock_records();
        if inner.failed.is_some() {
            return;
        }
        inner.seq += 1;
        let (seq, salt) = (inner.seq, inner.salt);
        let (kind, payload) = encode(record);
        let crc = record_crc(salt, seq, kind, &payload);
        let out = &mut inner.pending;
        out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&seq.to_le_bytes());
        out.push(kind);
        out.extend_from_slice(&payload);
    }

    /// Writes and syncs what is buffered now.
    pub fn sync(&self) {
        flush(&self.inner);
    }

    /// Why the journal stopped recording (a write or sync failed: disk full, I/O error), if
    /// it did. Edits made since are not protected against a crash. Cost: O(1).
    pub fn failure(&self) -> Option<String> {
        self.inner.lock_records().failed.clone()
    }

    /// Drops what is not synced yet and closes the journal, leaving the file as a crash would.
    pub fn abandon(self) {
        self.inner.lock_records().pending.clear();
    }

    /// Removes the journal file (the document was closed on purpose, or is clean). Records
    /// still buffered are not synced first: dropping the journal writes them to the removed
    /// file, where they are lost with it.
    pub fn remove(self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        flush(&self.inner);
        // The session's hold on the journal ends here, even while the flusher thread still has
        // the file open for a moment (it upgrades its handle to flush, and a slow `fdatasync`
        // can keep it a while): else a reopen of the same file in this process could find the
        // journal "in use" and go without one. Nothing is logged after this.
        let _ = self.inner.lock_file().unlock();
    }
}

impl Inner {
    fn lock_file(&self) -> std::sync::MutexGuard<'_, File> {
        self.file.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_records(&self) -> std::sync::MutexGuard<'_, Records> {
        self.records.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Starts the journal file afresh: a new header (new salt) for `base`, nothing after it, synced to disk
/// when `durable`. On failure the journal is marked failed (records are dropped until a
/// restart succeeds).
fn start(inner: &Inner, base: &Source, durable: bool) -> std::io::Result<()> {
    use std::io::Seek;
    let mut file = inner.lock_file();
    let salt = random_salt();
    {
        let mut records = inner.lock_records();
        records.salt = salt;
        records.seq = 0;
        records.pending.clear();
        records.failed = None;
    }
    let head = header(salt, base);
    // The new header is written over the old file's start, and the file cut after it only if
    // it was longer: records behind a new header never pass (their CRC covers the old salt),
    // and a header-only journal left by the last session (the usual case at open) is not
    // truncated at all. A truncation of a journal the last session wrote moments ago waits for
    // the filesystem to write that data out first (ext4's ordered mode: 5 ms of a 4 GiB file's
    // open, measured with `strace -T`).
    let len = head.len() as u64;
    let written = file
        .rewind()
        .and_then(|_| file.write_all(&head))
        .and_then(|()| file.metadata())
        .and_then(|m| {
            if m.len() > len {
                file.set_len(len)
            } else {
                Ok(())
            }
        })
        .and_then(|()| if durable { file.sync_data() } else { Ok(()) });
    if let Err(e) = &written {
        inner.lock_records().failed = Some(e.to_string());
    }
    written
}

/// True if a live session holds the journal at `path`.
pub(crate) fn in_use(path: &Path) -> bool {
    match File::open(path) {
        Ok(f) => f.try_lock().is_err(),
        Err(_) => false,
    }
}

/// One thread flushes every open journal of the process, so that a thousand open documents do
/// not cost a thousand threads. It starts with the first journal and keeps running; a journal
/// leaves its list when the last handle to it is dropped.
mod flusher {
    use super::{flush, Inner, SYNC_INTERVAL};
    use std::sync::{Mutex, OnceLock, Weak};

    static JOURNALS: OnceLock<Mutex<Vec<Weak<Inner>>>> = OnceLock::new();

    pub(super) fn register(journal: Weak<Inner>) {
        let mut started = false;
        let list = JOURNALS.get_or_init(|| {
            started = true;
            Mutex::new(Vec::new())
        });
        list.lock().unwrap_or_else(|p| p.into_inner()).push(journal);
        if started {
            // Without the thread, journals are still written at each save, close and drop
            // (`Journal::sync`); only the periodic sync is lost.
            let _ = std::thread::Builder::new()
                .name("tome-journal".into())
                .spawn(|| run(list));
        }
    }

    fn run(list: &Mutex<Vec<Weak<Inner>>>) {
        loop {
            std::thread::sleep(SYNC_INTERVAL);
            // Flush outside the list's lock: a slow disk must not stop journals from opening.
            let live: Vec<_> = {
                let mut list = list.lock().unwrap_or_else(|p| p.into_inner());
                list.retain(|w| w.strong_count() > 0);
                list.iter().filter_map(Weak::upgrade).collect()
            };
            for inner in live {
                flush(&inner);
            }
        }
    }
}

/// Writes and syncs the pending records. Holds the file's lock throughout (so records reach
/// the file in order) but the records' lock only to take the buffer: an edit logged meanwhile
/// goes into a fresh buffer without waiting for the disk.
fn flush(inner: &Inner) {
    let mut file = inner.lock_file();
    let pending = {
        let mut records = inner.lock_records();
        if records.pending.is_empty() || records.failed.is_some() {
            return;
        }
        std::mem::take(&mut records.pending)
    };
    let written = file.write_all(&pending).and_then(|()| {
        crate::fault::slow_journal_sync();
        file.sync_data()
    });
    if let Err(e) = written {
        let mut records = inner.lock_records();
        records.failed = Some(e.to_string());
        records.pending = Vec::new();
    }
    // A big record (a paste from another document, a huge insertion) held its bytes two or
    // three times while it was encoded and buffered: give that memory back to the system.
    if pending.len() > BIG_WRITE {
        drop(pending);
        crate::trim_freed_memory();
    }
}

/// A write past this size returns the allocator's free memory to the system after it.
const BIG_WRITE: usize = 16 << 20;

/// Whether the file at `path` is still the base a journal describes (same inode, not shorter,
/// sampled blocks of the base's extent unchanged).
pub(crate) fn base_matches(replay: &Replay, path: &Path) -> bool {
    let Ok(file) = File::open(path) else {
        return false;
    };
    let Ok(meta) = file.metadata() else {
        return false;
    };
    let now = FileIdentity::of(&meta);
    let was = &replay.identity;
    if (now.dev, now.ino) != (was.dev, was.ino) || now.size < was.size {
        return false;
    }
    // Grown: an append changes the time; the sampled blocks say whether the old part stayed.
    if now.size == was.size && now.mtime_ns != was.mtime_ns {
        return false;
    }
    sample_hashes(&file, 0, was.size as usize) == replay.samples
}

// Files of journals set aside: a journal of an earlier session is renamed `.recover` (it fits
// the file) or `.orphan` (it does not) until recovered or discarded; one displaced by a newer
// one is kept as `.<ext>.<time>.old`, which no open looks at.

/// The journal at `path`, if there is one that holds changes.
fn read_changes(path: &Path) -> Option<Replay> {
    let bytes = std::fs::read(path).ok()?;
    read(&bytes).filter(|r| !r.records.is_empty())
}

/// The journal set aside as `found`, read back (an error if it is gone or unreadable).
pub(crate) fn load_journal(found: &Recoverable) -> Result<Replay> {
    let bytes = std::fs::read(&found.path).map_err(|e| Error::io(&found.path, "cannot read", e))?;
    read(&bytes).ok_or_else(|| Error::FileChanged("the journal is unreadable".into()))
}

/// Sets aside the journal at `jpath` left by an earlier session, if it holds changes: as
/// `.recover` when it still fits the file at `path`, else as `.orphan`. One set aside earlier
/// under that name (offered then, neither recovered nor discarded) is kept as `.<time>.old`
/// rather than overwritten.
pub(crate) fn set_aside(jpath: &Path, path: &Path) -> Result<Option<Recoverable>> {
    let Some(replay) = read_changes(jpath) else {
        return Ok(None);
    };
    let fits = base_matches(&replay, path);
    let aside = jpath.with_extension(if fits { "recover" } else { "orphan" });
    keep_older(&aside);
    std::fs::rename(jpath, &aside).map_err(|e| Error::io(jpath, "cannot set aside", e))?;
    Ok(Some(Recoverable {
        path: aside,
        records: replay.records.len(),
        fits,
    }))
}

/// Moves `aside` (if there) out of the way, to a name no open looks at, so that it is not lost.
fn keep_older(aside: &Path) {
    if aside.exists() {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let ext = aside
            .extension()
            .map(|e| e.to_string_lossy().into_owned())
            .unwrap_or_default();
        let _ = std::fs::rename(aside, aside.with_extension(format!("{ext}.{secs}.old")));
    }
}

/// A journal set aside by an earlier open and neither recovered nor discarded: offered again.
/// A `.recover` that no longer fits the file (it changed since) becomes an `.orphan`, and an
/// `.orphan` that fits again (the file was put back as it was, say by restoring the backup of
/// an interrupted save) becomes a `.recover`.
pub(crate) fn set_aside_earlier(jpath: &Path, path: &Path) -> Option<Recoverable> {
    for ext in ["recover", "orphan"] {
        let aside = jpath.with_extension(ext);
        let Some(replay) = read_changes(&aside) else {
            continue;
        };
        let fits = base_matches(&replay, path);
        let belongs = jpath.with_extension(if fits { "recover" } else { "orphan" });
        let aside = if belongs != aside {
            keep_older(&belongs);
            std::fs::rename(&aside, &belongs).ok()?;
            belongs
        } else {
            aside
        };
        return Some(Recoverable {
            path: aside,
            records: replay.records.len(),
            fits,
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Logging an edit never waits for the disk: with the file held as a slow sync holds it,
    /// a record is still logged at once (it used to wait for the sync).
    #[test]
    fn logging_does_not_wait_for_a_write_in_progress() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("base.txt");
        std::fs::write(&file, b"base\n").unwrap();
        let base = Source::open(&file).unwrap();
        let journal = Journal::create(dir.path().join("j.journal"), &base).unwrap();
        let held = journal.inner.lock_file();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::scope(|scope| {
            scope.spawn(|| {
                journal.log(&Record::Undo);
                tx.send(()).unwrap();
            });
            let logged = rx.recv_timeout(std::time::Duration::from_secs(10));
            drop(held);
            assert!(logged.is_ok(), "log() waited for the file's lock");
        });
        journal.sync();
        assert!(journal.failure().is_none());
    }

    /// A dropped journal is not in use any more, even while another handle to it (the
    /// flusher's, during a flush) keeps its file open.
    #[test]
    fn a_dropped_journal_is_free_while_the_flusher_still_holds_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("base.txt");
        std::fs::write(&file, b"base\n").unwrap();
        let base = Source::open(&file).unwrap();
        let path = dir.path().join("j.journal");
        let journal = Journal::create(path.clone(), &base).unwrap();
        let flusher = Arc::clone(&journal.inner);
        assert!(in_use(&path));
        drop(journal);
        assert!(!in_use(&path), "still locked by the flusher's handle");
        drop(flusher);
    }

    /// A journal starts afresh over whatever its file held: after a restart (a save) the old
    /// records are gone, not merely outdated by the new salt, and a journal created over a
    /// header-only journal of an earlier session (which is written over, not truncated) holds
    /// just its own header, with a new salt.
    #[test]
    fn a_start_leaves_only_the_new_header() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("base.txt");
        std::fs::write(&file, b"base\n").unwrap();
        let base = Source::open(&file).unwrap();
        let path = dir.path().join("j.journal");
        let mut journal = Journal::create(path.clone(), &base).unwrap();
        let header_only = std::fs::read(&path).unwrap();
        for _ in 0..50 {
            journal.log(&Record::Undo);
        }
        journal.sync();
        let logged = std::fs::read(&path).unwrap();
        assert!(logged.len() > header_only.len());
        assert_eq!(check(&logged), Some(50));

        journal.restart(&base).unwrap();
        let restarted = std::fs::read(&path).unwrap();
        assert_eq!(
            restarted.len(),
            header_only.len(),
            "old records left behind"
        );
        assert_eq!(check(&restarted), Some(0));
        assert_ne!(restarted, header_only, "same salt after a restart");

        drop(journal);
        let again = Journal::create(path.clone(), &base).unwrap();
        let created = std::fs::read(&path).unwrap();
        assert_eq!(created.len(), header_only.len());
        assert_eq!(check(&created), Some(0));
        assert_ne!(created, restarted, "same salt in a new journal");
        again.remove();
    }
}
