//! Saving over a file in place, for files a rename would harm: one with other hard links (the
//! new file would have only the one name, and the other names would keep the old content) or
//! one owned by another user (the new file would be ours; only root may give it back).
//!
//! The steps, each durable before the next:
//!
//! 1. **Backup.** The file is copied (a reflink where the filesystem shares extents, else
//!    `copy_file_range`) into a temporary file in its directory, which takes the file's
//!    modification time, is synced, and is then renamed to `.NAME.tome-backup.PID`: the name
//!    appears only once the copy is whole.
//! 2. **Detach.** Every mapping of the file the document reads is moved onto the backup
//!    ([`Source::detach`](crate::source::Source::detach)), so that undo history and other
//!    threads go on reading the old bytes while the file itself is overwritten.
//! 3. **Write.** The new content is written over the file from offset 0, the file is cut to its
//!    new length and synced. The inode (and so every hard link, the owner, the mode and the
//!    extended attributes) stays.
//! 4. **Commit.** The backup is removed and the directory synced.
//!
//! If step 3 fails (disk full, I/O error, cancel), the file is copied back from the backup and
//! the error returned. If the process dies during steps 2–4, the backup is still there: the next
//! [`recover_interrupted`] (run by every open) copies it back over the file, with its
//! modification time, so that the file is wholly the old one again and the edit journal, written
//! against the old file, still fits it: the unsaved edits are offered for recovery as after any
//! crash. A process killed after step 4 leaves the new file.
//!
//! Cost: twice the I/O of a rename save (the backup copy, free with reflinks, and the write),
//! and room on disk for the backup.
//!
//! `TOME_TEST_SAVE_FAULT` points: `after-backup`, `mid-write` (after the first piece),
//! `after-write`, `after-sync` (written and synced, backup not removed).

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::save::{
    check_free_space, check_sources_unchanged, directory_of, fault, file_name, kernel_copy,
    process_alive, reflink, resolve_symlink, sync_dir, temp_prefix, write_all, SaveReport,
    WithPath,
};
use crate::view::View;
use crate::{Control, Error, Result};

/// True if saving over a file with `meta` must keep its inode: it has other hard links, or it
/// belongs to another user and this process is not root (so a new file could not be given back
/// to its owner).
pub fn is_needed(meta: &std::fs::Metadata) -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    meta.nlink() > 1 || (euid != 0 && meta.uid() != euid)
}

/// Writes `view` over `target` in place. See the module documentation.
pub(crate) fn save(
    view: View<'_>,
    target: &Path,
    meta: &std::fs::Metadata,
    control: &Control,
    started: Instant,
) -> Result<SaveReport> {
    let dir = directory_of(target);
    let new_len = view.len() as u64;
    // Room for the backup (a full copy where the filesystem cannot share extents) and growth.
    check_free_space(
        &dir,
        meta.len() + new_len.saturating_sub(meta.len()),
        target,
    )?;
    control.check()?;
    check_sources_unchanged(&view)?;
    let backup = Backup::create(target, &dir, meta)?;
    fault("after-backup");
    let mut report = SaveReport {
        path: target.to_path_buf(),
        bytes: new_len,
        copied_by_kernel: 0,
        written: 0,
        elapsed: std::time::Duration::ZERO,
    };
    let written = detach_sources(&view, meta, &backup)
        .and_then(|()| write_over(view, target, &mut report, control));
    if let Err(e) = written {
        return Err(match backup.restore(target) {
            Ok(()) => e,
            Err(restore) => Error::Io {
                context: format!(
                    "{e}; and {} could not be restored ({restore}): its old content is in {}",
                    target.display(),
                    backup.path.display()
                ),
                source: restore,
            },
        });
    }
    fault("after-sync");
    backup.remove(&dir);
    report.elapsed = started.elapsed();
    Ok(report)
}

/// Puts back a file whose in-place save was interrupted (the process died with a backup in
/// place): copies the backup over it, with its modification time, and removes the backup.
/// Finds backups made through any name of the file in its directory (another hard link in the
/// same directory); backups of live processes are left alone. Returns whether a file was put
/// back. Run before the file is opened; best effort (a backup that cannot be copied back stays
/// for the next try).
pub fn recover_interrupted(path: &Path) -> bool {
    let Ok(target) = resolve_symlink(path) else {
        return false;
    };
    let Ok(meta) = std::fs::metadata(&target) else {
        return false;
    };
    let dir = directory_of(&target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return false;
    };
    let mut restored = false;
    for entry in entries.flatten() {
        let entry_name = entry.file_name().to_string_lossy().into_owned();
        let Some(saved_as) = interrupted_backup_of(&entry_name) else {
            continue;
        };
        // The backup is of `saved_as`; it concerns us if that is a name of our file.
        let same_file = std::fs::metadata(dir.join(saved_as))
            .is_ok_and(|m| (m.dev(), m.ino()) == (meta.dev(), meta.ino()));
        if !same_file {
            continue;
        }
        let Ok(file) = File::open(entry.path()) else {
            continue;
        };
        let backup = Backup {
            path: entry.path(),
            file,
        };
        restored |= backup.restore(&target).is_ok();
    }
    restored
}

/// For a backup name `.NAME.tome-backup.PID` whose process is gone, `NAME`.
fn interrupted_backup_of(entry: &str) -> Option<&str> {
    let (name, pid) = entry.strip_prefix('.')?.rsplit_once(".tome-backup.")?;
    let pid = pid.parse::<u32>().ok()?;
    (!process_alive(pid)).then_some(name)
}

/// The whole old file, under its final name once complete.
struct Backup {
    path: PathBuf,
    file: File,
}

impl Backup {
    fn create(target: &Path, dir: &Path, meta: &std::fs::Metadata) -> Result<Backup> {
        let fail = |what: &str, e: io::Error| Error::io(target, what, e);
        let original = File::open(target).map_err(|e| fail("cannot open", e))?;
        let tmp = tempfile::Builder::new()
            .prefix(&temp_prefix(target, std::process::id()))
            .tempfile_in(dir)
            .map_err(|e| Error::io(dir, "cannot create a backup file in", e))?;
        copy_whole(&original, tmp.as_file(), meta.len()).map_err(|e| fail("cannot back up", e))?;
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
        Ok(Backup { path, file })
    }

    /// Copies the backup over `target` (same inode), gives it the backup's modification time,
    /// syncs it, and removes the backup.
    fn restore(&self, target: &Path) -> io::Result<()> {
        let out = OpenOptions::new().write(true).open(target)?;
        let meta = self.file.metadata()?;
        copy_whole(&self.file, &out, meta.len())?;
        out.set_len(meta.len())?;
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

/// Moves every mapping of the target (same device and inode) onto the backup.
fn detach_sources(view: &View<'_>, meta: &std::fs::Metadata, backup: &Backup) -> Result<()> {
    for src in view.bufs.sources {
        let id = src.identity();
        if (id.dev, id.ino) != (meta.dev(), meta.ino()) {
            continue;
        }
        let copy = backup
            .file
            .try_clone()
            .and_then(|f| src.detach(f))
            .map_err(|e| Error::io(src.path(), "cannot move the document onto the backup of", e));
        copy?;
    }
    Ok(())
}

fn write_over(
    view: View<'_>,
    target: &Path,
    report: &mut SaveReport,
    control: &Control,
) -> Result<()> {
    let out = OpenOptions::new()
        .write(true)
        .open(target)
        .map_err(|e| Error::io(target, "cannot open for writing", e))?;
    write_all(view, &out, report, control).map_err(|e| e.with_path(target))?;
    view.intact()?;
    fault("after-write");
    out.set_len(report.bytes)
        .map_err(|e| Error::io(target, "cannot cut", e))?;
    out.sync_all()
        .map_err(|e| Error::io(target, "cannot flush", e))?;
    Ok(())
}

/// Copies `len` bytes from the start of `from` to the start of `to`: a reflink where the
/// filesystem can (`FICLONE`, whole files only), else the kernel's copy, else through memory.
fn copy_whole(from: &File, to: &File, len: u64) -> io::Result<()> {
    if reflink(from, to) {
        return Ok(());
    }
    let mut done = kernel_copy(from, 0, to, 0, len)?;
    let mut buf = vec![0u8; 1 << 20];
    while done < len {
        let want = buf.len().min((len - done) as usize);
        let got = from.read_at(&mut buf[..want], done)?;
        if got == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the file shrank while it was copied",
            ));
        }
        to.write_all_at(&buf[..got], done)?;
        done += got as u64;
    }
    Ok(())
}

/// Gives `file` the access and modification times of `meta`, to the nanosecond.
fn set_times(file: &File, meta: &std::fs::Metadata) -> io::Result<()> {
    let times = [
        libc::timespec {
            tv_sec: meta.atime(),
            tv_nsec: meta.atime_nsec(),
        },
        libc::timespec {
            tv_sec: meta.mtime(),
            tv_nsec: meta.mtime_nsec(),
        },
    ];
    // SAFETY: the descriptor is open and `times` is an array of two valid timespecs.
    if unsafe { libc::futimens(file.as_raw_fd(), times.as_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
