//! Saving over a file in place: for files a rename would harm (one with other hard links: the
//! new file would have only the one name, and the other names would keep the old content; one
//! owned by another user: the new file would be ours, and only root may give it back), and,
//! chosen by [`crate::save`], for an edit near the end of a big file, where writing only the
//! changed tail costs a fraction of writing the whole file.
//!
//! Only **ranges** of the file are touched ([`Plan`]), one of two shapes:
//!
//! - **the tail**: from `start`, the first changed byte ([`super::unchanged`]) rounded down
//!   to a block of [`BLOCK`] bytes, to the end. Every byte before it is the same in the old
//!   and the new content and stays where it is, on disk and in the document's mapping.
//! - **changed blocks**, for an edit that kept the length (an overwrite, a same-length
//!   replace-all): each run of the document that may differ from the file
//!   ([`super::unchanged::changed_runs`]) widened to whole [`BLOCK`]s, touching ones merged,
//!   is backed up, and only the runs themselves are written. Every byte outside them stays
//!   where it is. Chosen when the document is exactly as long as
//!   the file, the ranges are at most [`MAX_BLOCK_RANGES`] after merging (and the runs at most
//!   16 times that before), and the blocks add up
//!   to less than half of the tail ([`BLOCKS_FRACTION`]); otherwise (many scattered changes)
//!   the tail is written: one sequential write then costs about what scattered blocks do, and
//!   the backup record stays small.
//!
//! The steps, each durable before the next:
//!
//! 0. **May we?** The file is opened for writing first: a file this process may not write is
//!    refused (`PermissionDenied`) before anything is made.
//! 1. **Backup.** The file's bytes in the ranges (for the tail, `[start, old length)`) are
//!    copied one after the other (a reflink where the filesystem shares extents, else
//!    `copy_file_range`) into a temporary file (mode 0600) in its directory, which takes the
//!    file's modification time, is synced, and is then renamed to `.NAME.tome-backup.PID`: the
//!    name appears only once the copy is whole. Then a **record** of it (with the ranges) is
//!    written to the user's state directory and synced ([`crate::backup_record`]): the only
//!    thing that makes a later open trust this backup.
//! 2. **Detach.** The mapping of the ranges, in every source the document reads of this
//!    file, is moved onto the backup
//!    ([`Source::detach_ranges`](crate::source::Source::detach_ranges)), so that undo history
//!    and other threads go on reading the old bytes while they are overwritten; the mapping
//!    elsewhere stays on the file, whose bytes there do not change.
//! 3. **Write.** The new content is written over the file (the tail from the first changed
//!    byte on, or each changed run), the file is cut to its new length and synced. The inode
//!    (and so every hard link, the owner, the mode and the extended attributes) stays.
//! 4. **Commit.** The backup is removed and the directory synced, then the record.
//!
//! If step 3 fails (disk full, I/O error, cancel), the backup is copied back over every range
//! and the file cut to its old length, and the error returned. If the process dies during steps
//! 2–4, the backup is still there, and the next open of the file finds it through its record
//! ([`find_interrupted`]) — but does not act on it: [`Document::open`](crate::Document::open)
//! fails with [`Error::InterruptedSave`] until the user chooses. [`InterruptedSave::restore`]
//! copies the backup back over every range and cuts the file to its old length, with its
//! modification time, so that the file is wholly the old one again and the edit journal,
//! written against the old file, still fits it: the unsaved edits are offered for recovery as
//! after any crash. [`InterruptedSave::discard`] keeps the file as it is. Whether another
//! program wrote the file since is told ([`InterruptedSave::changed_since`]). A process killed
//! after step 4 leaves the new file.
//!
//! **What is trusted.** A file named like a backup proves nothing: the directory may be shared
//! (`/tmp`, a group's directory), and anyone may plant `.NAME.tome-backup.PID` there. A backup
//! is used only when a record in this user's state directory names it by device and inode and
//! it is still a regular file of this user with mode 0600; anything else named like a backup of
//! the file is reported ([`IgnoredBackup`]) and left alone, never restored, never removed.
//!
//! **What it does not give** (why it is not always chosen): other programs reading the file
//! while it is written see it part old, part new (a rename save swaps whole files), and
//! programs that map the file see its bytes change under them (and fault past a shortened
//! end); after a crash the file stays part old, part new until Tome is asked to restore it.
//!
//! Cost: the bytes of the ranges copied once to the backup (free with reflinks) and the new
//! bytes written, and room on disk for the backup; nothing for the bytes outside them. For the
//! tail that is everything from the first changed block to the end; for an edit that kept the
//! length, one [`BLOCK`] (64 KiB) or two per changed run backed up and the run written,
//! wherever it is in the file.
//!
//! `TOME_TEST_SAVE_FAULT` points: `after-backup`, `mid-write` (after the first piece),
//! `after-write`, `after-sync` (written and synced, backup not removed).

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::backup_record::{self, is_private_to_us, open_no_follow, read_block, BackupRecord};
use crate::save::write::{
    check_free_space, check_sources_unchanged, file_name, resolve_symlink, temp_prefix, write_from,
    SaveMethod, SaveReport, WithPath,
};
use crate::sys::{
    directory_of, effective_uid, kernel_copy, page_size, process_alive, reflink, set_times,
    sync_dir,
};
use crate::view::View;
use crate::{Control, Error, Result};

/// True if saving over a file with `meta` must keep its inode: it has other hard links, or it
/// belongs to another user and this process is not root (so a new file could not be given back
/// to its owner).
pub fn is_needed(meta: &std::fs::Metadata) -> bool {
    let euid = effective_uid();
    meta.nlink() > 1 || (euid != 0 && meta.uid() != euid)
}

/// The unit the backed-up tail starts on: a multiple of the page size (its mapping is moved
/// onto the backup) and of filesystem blocks (the backup's copy can share extents).
pub const BLOCK: u64 = 64 << 10;

/// Most ranges of changed blocks an in-place save writes; past that, the tail.
pub const MAX_BLOCK_RANGES: usize = 256;

/// Changed blocks are written instead of the tail when they add up to less than the tail's
/// length divided by this.
pub const BLOCKS_FRACTION: u64 = 2;

fn block_size() -> u64 {
    BLOCK.max(page_size() as u64)
}

/// Where the backed-up and rewritten tail starts for a first changed byte at `first`.
pub(crate) fn tail_start(first: u64) -> u64 {
    first - first % block_size()
}

/// What an in-place save backs up and writes. See the module documentation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Plan {
    /// The first byte that may differ (the report's `from`).
    pub first: u64,
    /// `(start, len)` of the old file backed up: sorted, disjoint, within the old length.
    pub ranges: Vec<(u64, u64)>,
    /// `(start, end)` of the new content written over the file: from the first changed byte
    /// to the new end, or each changed run (within the blocks backed up).
    pub writes: Vec<(u64, u64)>,
    /// The file's length before the save.
    old: u64,
    /// Changed blocks rather than the tail.
    blocks: bool,
}

impl Plan {
    /// The tail from the block of `first` (see the module documentation).
    fn tail(first: u64, old: u64, new: u64) -> Plan {
        let start = tail_start(first);
        Plan {
            first,
            ranges: vec![(start, old - start)],
            writes: vec![(first, new)],
            old,
            blocks: false,
        }
    }

    /// Chooses between the tail and the changed blocks for saving `view` over the file `meta`
    /// describes (last written as `saved`, see [`super::unchanged`]), whose first change is at
    /// `first`. Cost: a walk over the pieces after `first`
    /// when the lengths are equal, else O(1).
    pub(crate) fn choose(
        view: &View<'_>,
        meta: &std::fs::Metadata,
        saved: Option<&super::unchanged::Saved>,
        first: u64,
    ) -> Plan {
        let (old, new) = (meta.len(), view.len() as u64);
        let first = first.min(old).min(new);
        let tail = Plan::tail(first, old, new);
        if old != new || first >= old {
            return tail;
        }
        let Some(runs) =
            super::unchanged::changed_runs(view, meta, saved, first, MAX_BLOCK_RANGES * 16)
        else {
            return tail;
        };
        let block = block_size();
        let mut blocks: Vec<(u64, u64)> = Vec::new();
        for &(s, e) in &runs {
            let (s, e) = (
                s - s % block,
                e.div_ceil(block).saturating_mul(block).min(old),
            );
            match blocks.last_mut() {
                Some(last) if last.1 >= s => last.1 = last.1.max(e),
                _ => blocks.push((s, e)),
            }
        }
        let bytes: u64 = blocks.iter().map(|(s, e)| e - s).sum();
        if blocks.len() > MAX_BLOCK_RANGES || bytes >= tail.span() / BLOCKS_FRACTION {
            return tail;
        }
        Plan {
            first,
            ranges: blocks.iter().map(|&(s, e)| (s, e - s)).collect(),
            writes: runs,
            old,
            blocks: true,
        }
    }

    /// Bytes of the file the save touches: from the tail's start to the end of the longer of
    /// the old and the new content, or the changed blocks.
    pub(crate) fn span(&self) -> u64 {
        let end = self.writes.last().map_or(0, |w| w.1);
        self.backed_up() + end.saturating_sub(self.old)
    }

    /// True when the plan writes only the changed blocks (an edit that kept the length), not
    /// the tail.
    pub(crate) fn is_blocks(&self) -> bool {
        self.blocks
    }

    /// Bytes backed up.
    fn backed_up(&self) -> u64 {
        self.ranges.iter().map(|r| r.1).sum()
    }
}

/// Writes `view` over `target` in place, as `plan` says (see [`Plan::choose`]). See the
/// module documentation.
pub(crate) fn save(
    view: View<'_>,
    target: &Path,
    meta: &std::fs::Metadata,
    plan: &Plan,
    control: &Control,
    started: Instant,
) -> Result<SaveReport> {
    let dir = directory_of(target);
    let new_len = view.len() as u64;
    // Opened for writing first: a file we may not write is refused before anything is made
    // (a backup of a file we cannot write could never be put back).
    let out = OpenOptions::new()
        .write(true)
        .open(target)
        .map_err(|e| Error::io(target, "cannot open for writing", e))?;
    // Room for the backup (a full copy of the ranges where the filesystem cannot share
    // extents) and growth.
    check_free_space(
        &dir,
        plan.backed_up() + new_len.saturating_sub(meta.len()),
        target,
    )?;
    control.check()?;
    check_sources_unchanged(&view)?;
    let backup = Backup::create(target, &dir, meta, &plan.ranges)?;
    let record = match backup.record(target, meta, &view, plan) {
        Ok(record) => record,
        Err(e) => {
            backup.remove(&dir);
            return Err(e);
        }
    };
    crate::fault::abort_at("after-backup");
    let mut report = SaveReport::new(target, new_len, SaveMethod::InPlace, plan.first);
    report.backed_up = plan.backed_up();
    let written = detach_sources(&view, meta, &backup)
        .and_then(|()| write_over(view, &out, target, &plan.writes, &mut report, control));
    if let Err(e) = written {
        return Err(match backup.restore(target) {
            Ok(()) => {
                forget(record.as_deref());
                e
            }
            Err(restore) => Error::Io {
                context: format!(
                    "{e}; and {} could not be restored ({restore}): its old content from byte \
                     {} on ({} ranges) is in {}",
                    target.display(),
                    backup.start(),
                    backup.ranges.len(),
                    backup.path.display()
                ),
                source: restore,
            },
        });
    }
    crate::fault::abort_at("after-sync");
    backup.remove(&dir);
    forget(record.as_deref());
    report.elapsed = started.elapsed();
    Ok(report)
}

/// Removes a backup record once its backup is gone.
fn forget(record: Option<&Path>) {
    if let Some(path) = record {
        let _ = std::fs::remove_file(path);
    }
}

pub use crate::error::InterruptedSave;

/// Something that looks like an in-place save's backup of this file but that Tome does not
/// trust, so it is neither restored nor removed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IgnoredBackup {
    /// The file.
    pub path: PathBuf,
    /// Why it is not trusted.
    pub reason: String,
}

/// What [`find_interrupted`] found next to a file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Interrupted {
    /// Backups of interrupted saves of this file that are provably ours.
    pub saves: Vec<InterruptedSave>,
    /// Files named like backups of this file that are not.
    pub ignored: Vec<IgnoredBackup>,
}

/// Looks for backups left by interrupted in-place saves of the file at `path` (through any of
/// its names), using the records in `records` (the state directory's `backups/`). Reads a few
/// blocks of the file and of each trusted backup; changes nothing except removing records
/// whose backup is already gone (the save finished but died before removing its record).
/// Backups of saves still running (their process is alive) are left out.
pub fn find_interrupted(path: &Path, records: Option<&Path>) -> Interrupted {
    let mut found = Interrupted::default();
    let Ok(target) = resolve_symlink(path) else {
        return found;
    };
    let Ok(meta) = std::fs::metadata(&target) else {
        return found;
    };
    let id = (meta.dev(), meta.ino());
    let mut trusted = Vec::new();
    for (record_path, record) in records.map(BackupRecord::load_all).unwrap_or_default() {
        if record.target_id != id || process_alive(record.pid) {
            continue;
        }
        match verify_backup(&record) {
            Ok(Some(file)) => {
                trusted.push(record.backup_id);
                found.saves.push(InterruptedSave {
                    target: target.clone(),
                    backup: record.backup.clone(),
                    backup_start: record.backup_start(),
                    ranges: record.ranges.clone(),
                    old_size: record.old_size,
                    pid: record.pid,
                    saved_mtime_ns: record.old_mtime_ns,
                    changed_since: !consistent_with_interrupted_write(&target, &file, &record),
                    record: record_path,
                });
            }
            Ok(None) => forget(Some(&record_path)),
            Err(reason) => found.ignored.push(IgnoredBackup {
                path: record.backup.clone(),
                reason,
            }),
        }
    }
    // Anything else named like a backup of this file is reported, never used.
    let dir = directory_of(&target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let entry_name = entry.file_name().to_string_lossy().into_owned();
        let Some((saved_as, pid)) = backup_name_parts(&entry_name) else {
            continue;
        };
        let of_this_file =
            std::fs::metadata(dir.join(saved_as)).is_ok_and(|m| (m.dev(), m.ino()) == id);
        let entry_meta = entry.metadata().ok();
        let ours = entry_meta
            .as_ref()
            .is_some_and(|m| trusted.contains(&(m.dev(), m.ino())));
        if !of_this_file || ours || process_alive(pid) {
            continue;
        }
        let reason = match entry_meta {
            Some(m) if !m.is_file() => "not a regular file".to_string(),
            Some(m) if m.uid() != effective_uid() => format!(
                "owned by another user (uid {}): not made by this user's Tome",
                m.uid()
            ),
            _ => "no record of it in this user's state directory: not made by a save of \
                  this user's Tome, or already dealt with"
                .to_string(),
        };
        found.ignored.push(IgnoredBackup {
            path: entry.path(),
            reason,
        });
    }
    found
}

/// Opens the backup a record names if it is still that file and private to us. `Ok(None)` if
/// it no longer exists; `Err(why)` if something else is there.
fn verify_backup(record: &BackupRecord) -> std::result::Result<Option<File>, String> {
    let file = match open_no_follow(&record.backup) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot be opened: {e}")),
    };
    let meta = file.metadata().map_err(|e| e.to_string())?;
    if (meta.dev(), meta.ino()) != record.backup_id {
        return Err("not the file the backup record names (replaced)".into());
    }
    if !is_private_to_us(&meta) {
        return Err("no longer private to this user (owner or mode changed)".into());
    }
    if meta.len() != record.backup_len() {
        return Err(format!(
            "{} bytes, but the {} ranges of the file it backs up (from byte {}) were {} bytes \
             before the save",
            meta.len(),
            record.ranges.len(),
            record.backup_start(),
            record.backup_len()
        ));
    }
    Ok(Some(file))
}

/// Where the file's byte `at` is in a backup of `ranges`, and how many of the range's bytes
/// are left from there; `None` if no range holds it.
fn in_backup(ranges: &[(u64, u64)], at: u64) -> Option<(u64, u64)> {
    let mut offset = 0;
    for &(start, len) in ranges {
        if (start..start + len).contains(&at) {
            return Some((offset + (at - start), start + len - at));
        }
        offset += len;
    }
    None
}

/// True if the target holds what a save killed part-way leaves: each sampled block (all are
/// in the part the save writes) is the new content's or the backup's (one block may straddle
/// the point where writing stopped), and its length lies between the old and the new length.
fn consistent_with_interrupted_write(target: &Path, backup: &File, record: &BackupRecord) -> bool {
    let Ok(file) = File::open(target) else {
        return false;
    };
    let Ok(len) = file.metadata().map(|m| m.len()) else {
        return false;
    };
    let (lo, hi) = if record.old_size <= record.new_size {
        (record.old_size, record.new_size)
    } else {
        (record.new_size, record.old_size)
    };
    if len < lo || len > hi {
        return false;
    }
    let mut straddling = 0;
    for &(at, new_crc) in &record.new_samples {
        let want = (len.saturating_sub(at).min(4096)) as usize;
        let Ok(now) = read_block(&file, at, want) else {
            return false;
        };
        if crc32c::crc32c(&now) == new_crc {
            continue;
        }
        let old = match in_backup(&record.ranges, at) {
            Some((in_backup, left)) => {
                read_block(backup, in_backup, want.min(left as usize)).unwrap_or_default()
            }
            // Past the old end: the file grew there, no old bytes.
            None if at >= record.old_size => Vec::new(),
            None => return false,
        };
        if old != now {
            straddling += 1;
        }
    }
    straddling <= 1
}

impl InterruptedSave {
    /// Puts the old file back: copies the backup over the file (same inode), with its
    /// modification time, syncs, removes the backup and its record. The edit journal written
    /// against the old file fits it again, so unsaved edits are then offered as after any
    /// crash. On failure the backup stays.
    pub fn restore(&self) -> Result<()> {
        let file = open_no_follow(&self.backup)
            .map_err(|e| Error::io(&self.backup, "cannot open the backup", e))?;
        let backup = Backup {
            path: self.backup.clone(),
            file,
            ranges: self.ranges.clone(),
            old_size: self.old_size,
        };
        backup
            .restore(&self.target)
            .map_err(|e| Error::io(&self.target, "cannot restore the backup over", e))?;
        forget(Some(&self.record));
        Ok(())
    }

    /// Keeps the file as it is: removes the backup and its record.
    pub fn discard(&self) -> Result<()> {
        std::fs::remove_file(&self.backup)
            .or_else(|e| match e.kind() {
                io::ErrorKind::NotFound => Ok(()),
                _ => Err(e),
            })
            .map_err(|e| Error::io(&self.backup, "cannot remove the backup", e))?;
        sync_dir(&directory_of(&self.backup));
        forget(Some(&self.record));
        Ok(())
    }
}

/// For a backup name `.NAME.tome-backup.PID`, `NAME` and `PID`.
fn backup_name_parts(entry: &str) -> Option<(&str, u32)> {
    let (name, pid) = entry.strip_prefix('.')?.rsplit_once(".tome-backup.")?;
    Some((name, pid.parse::<u32>().ok()?))
}

/// The old file's bytes in some ranges, one after the other, under its final name once
/// complete.
struct Backup {
    path: PathBuf,
    file: File,
    /// `(start, len)` of the target held, in order.
    ranges: Vec<(u64, u64)>,
    /// The target's length before the save.
    old_size: u64,
}

impl Backup {
    fn create(
        target: &Path,
        dir: &Path,
        meta: &std::fs::Metadata,
        ranges: &[(u64, u64)],
    ) -> Result<Backup> {
        let fail = |what: &str, e: io::Error| Error::io(target, what, e);
        let original = File::open(target).map_err(|e| fail("cannot open", e))?;
        let tmp = tempfile::Builder::new()
            .prefix(&temp_prefix(target, std::process::id()))
            .tempfile_in(dir)
            .map_err(|e| Error::io(dir, "cannot create a backup file in", e))?;
        let mut at = 0;
        for &(start, len) in ranges {
            copy_range(&original, start, tmp.as_file(), at, len, meta.len())
                .map_err(|e| fail("cannot back up", e))?;
            at += len;
        }
        set_times(tmp.as_file(), meta).map_err(|e| fail("cannot back up", e))?;
        tmp.as_file()
            .sync_all()
            .map_err(|e| fail("cannot back up", e))?;
        let path = dir.join(format!(
            ".{}.tome-backup.{}",
            file_name(target),
            std::process::id()
        ));
        let file = tmp
            .persist(&path)
            .map_err(|e| fail("cannot back up", e.error))?;
        sync_dir(dir);
        Ok(Backup {
            path,
            file,
            ranges: ranges.to_vec(),
            old_size: meta.len(),
        })
    }

    /// The offset in the target of the backup's first byte.
    fn start(&self) -> u64 {
        self.ranges.first().map_or(self.old_size, |r| r.0)
    }

    /// Writes the record that lets a later open trust this backup (see
    /// [`crate::backup_record`]), durably, before the target is touched. `None` without a state
    /// directory: the save goes on, and a crash then leaves a backup that is only reported.
    fn record(
        &self,
        target: &Path,
        meta: &std::fs::Metadata,
        view: &View<'_>,
        plan: &Plan,
    ) -> Result<Option<PathBuf>> {
        let Some(dir) = backup_record::default_dir() else {
            return Ok(None);
        };
        let fail = |e: io::Error| Error::io(&dir, "cannot record the backup in", e);
        let mine = self.file.metadata().map_err(fail)?;
        let read = |at: u64, want: usize| {
            view.read(at as usize, at as usize + want)
                .map_err(|e| io::Error::other(e.to_string()))
        };
        let new_samples = if plan.blocks {
            sample_ranges(&plan.writes, &self.ranges, view.len() as u64, read)
        } else {
            // The tail: spread over it from the backup's start.
            backup_record::sample_blocks(self.start(), view.len() as u64, read)
        }
        .map_err(fail)?;
        let record = BackupRecord {
            pid: std::process::id(),
            target: target.to_path_buf(),
            target_id: (meta.dev(), meta.ino()),
            old_size: meta.len(),
            old_mtime_ns: crate::source::FileIdentity::of(meta).mtime_ns,
            backup: self.path.clone(),
            backup_id: (mine.dev(), mine.ino()),
            new_size: view.len() as u64,
            ranges: self.ranges.clone(),
            new_samples,
        };
        record.write(&dir).map(Some).map_err(fail)
    }

    /// Copies the backup over `target`'s ranges (same inode), cuts it to its old length, gives
    /// it the backup's modification time, syncs it, and removes the backup.
    fn restore(&self, target: &Path) -> io::Result<()> {
        let out = OpenOptions::new().write(true).open(target)?;
        let meta = self.file.metadata()?;
        let mut at = 0;
        for &(start, len) in &self.ranges {
            copy_back(&self.file, at, &out, start, len, meta.len())?;
            at += len;
        }
        out.set_len(self.old_size)?;
        set_times(&out, &meta)?;
        out.sync_all()?;
        self.remove(&directory_of(target));
        Ok(())
    }

    fn remove(&self, dir: &Path) {
        let _ = std::fs::remove_file(&self.path);
        sync_dir(dir);
    }
}

/// `(offset, crc32c)` of sampled blocks of the new content (`len` bytes) in the changed runs
/// `writes`, for up to [`backup_record`]'s sample count of them, spread evenly: the 4 KiB at
/// the run's start, moved back so that it stays within the run's backed-up block (`ranges`),
/// as [`consistent_with_interrupted_write`] reads it (4 KiB, less at the file's end).
fn sample_ranges(
    writes: &[(u64, u64)],
    ranges: &[(u64, u64)],
    len: u64,
    mut read: impl FnMut(u64, usize) -> io::Result<Vec<u8>>,
) -> io::Result<Vec<(u64, u32)>> {
    let n = writes.len().min(backup_record::SAMPLES);
    let mut picked: Vec<usize> = (0..n)
        .map(|i| {
            if n > 1 {
                i * (writes.len() - 1) / (n - 1)
            } else {
                0
            }
        })
        .collect();
    picked.dedup();
    let block = backup_record::SAMPLE_BLOCK as u64;
    picked
        .into_iter()
        .map(|i| {
            let start = writes[i].0;
            let (b_start, b_end) = ranges
                .iter()
                .find(|&&(s, l)| (s..s + l).contains(&start))
                .map_or((start, len), |&(s, l)| (s, s + l));
            let at = start.min(b_end.saturating_sub(block)).max(b_start);
            let want = block.min(len - at) as usize;
            Ok((at, crc32c::crc32c(&read(at, want)?)))
        })
        .collect()
}

/// Moves the mapping of the backed-up ranges, in every source of the target (same device and
/// inode), onto the backup.
fn detach_sources(view: &View<'_>, meta: &std::fs::Metadata, backup: &Backup) -> Result<()> {
    for src in view.bufs.sources {
        let id = src.identity();
        if (id.dev, id.ino) != (meta.dev(), meta.ino()) {
            continue;
        }
        let copy = backup
            .file
            .try_clone()
            .and_then(|f| src.detach_ranges(&backup.ranges, f))
            .map_err(|e| Error::io(src.path(), "cannot move the document onto the backup of", e));
        copy?;
    }
    Ok(())
}

/// Writes `writes` (`(start, end)` of the new content) over the file, cuts it to the new
/// length and syncs it.
fn write_over(
    view: View<'_>,
    out: &File,
    target: &Path,
    writes: &[(u64, u64)],
    report: &mut SaveReport,
    control: &Control,
) -> Result<()> {
    for &(start, end) in writes {
        write_from(view, out, start, end, report, control).map_err(|e| e.with_path(target))?;
    }
    view.intact()?;
    crate::fault::abort_at("after-write");
    out.set_len(report.bytes)
        .map_err(|e| Error::io(target, "cannot cut", e))?;
    out.sync_all()
        .map_err(|e| Error::io(target, "cannot flush", e))?;
    Ok(())
}

/// Copies `len` bytes of `from` (`size` bytes long) from offset `at` to `to` (the backup being
/// made) at `dst`: a reflink of the whole file where the filesystem can (`FICLONE`, for a
/// backup of all of it), else `copy_file_range` (which shares extents itself on XFS and
/// btrfs), else through memory.
fn copy_range(from: &File, at: u64, to: &File, dst: u64, len: u64, size: u64) -> io::Result<()> {
    if at == 0 && dst == 0 && len == size && reflink(from, to) {
        return Ok(());
    }
    copy_fully(from, at, to, dst, len)
}

/// Copies `len` bytes of the backup `from` (`size` bytes long) at `src` back into `to` at
/// `at`.
fn copy_back(from: &File, src: u64, to: &File, at: u64, len: u64, size: u64) -> io::Result<()> {
    if at == 0 && src == 0 && len == size && reflink(from, to) {
        return Ok(());
    }
    copy_fully(from, src, to, at, len)
}

/// Copies `len` bytes of `from` at `src` to `to` at `dst`: the kernel's copy, else through
/// memory.
fn copy_fully(from: &File, src: u64, to: &File, dst: u64, len: u64) -> io::Result<()> {
    let mut done = kernel_copy(from, src, to, dst, len)?;
    let mut buf = vec![0u8; 1 << 20];
    while done < len {
        let want = buf.len().min((len - done) as usize);
        let got = from.read_at(&mut buf[..want], src + done)?;
        if got == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the file shrank while it was copied",
            ));
        }
        to.write_all_at(&buf[..got], dst + done)?;
        done += got as u64;
    }
    Ok(())
}
