//! Atomic save: write a temporary file in the target's directory, fsync it, give it the target's
//! permissions, rename it over the target, fsync the directory.
//!
//! Pieces of the original file are copied by the kernel (`copy_file_range`: no copy through user
//! space, and a reflink on filesystems that share extents); inserted text is written. A save
//! through a symbolic link writes the link's target. The new file gets the old one's mode,
//! owner (where the process may set it) and extended attributes. Before the rename, every file
//! the document reads from is checked against its sampled blocks: if another program rewrote it
//! meanwhile, the save stops rather than write changed bytes. If anything fails the temporary
//! file is removed, the target is untouched, and the error says what happened; a temporary file
//! left by a killed process (its name carries the pid) is removed by the next open or save.
//!
//! A file with other hard links, or whose owner this process could not give back to a new file,
//! is written in place instead (see [`crate::in_place`]): a rename would detach it from its
//! other names or hand it to us.
//!
//! Kill the process at any moment and the target is wholly the old file or wholly the new one.
//! `TOME_TEST_SAVE_FAULT` (`mid-write`, `after-write`, `after-sync`, `after-rename`) aborts the process at that
//! point; the crash tests use it. `fail-mid-write` makes the write fail there instead.

use std::fs::{File, Permissions};
use std::os::unix::fs::{FileExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::in_place;
use crate::tree::Src;
use crate::view::View;
use crate::{Control, Error, Result};

/// What a save did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaveReport {
    /// The file written (the symlink's target when saving through a link).
    pub path: PathBuf,
    /// Bytes in the saved file.
    pub bytes: u64,
    /// Bytes copied by the kernel from the original file.
    pub copied_by_kernel: u64,
    /// Bytes written from memory (inserted text, and original text where the kernel could not
    /// copy).
    pub written: u64,
    /// Wall time of the save.
    pub elapsed: Duration,
}

/// Writes `view` to `target` atomically. See the module documentation.
pub fn save_atomically(view: View<'_>, target: &Path, control: &Control) -> Result<SaveReport> {
    let started = Instant::now();
    let target = resolve_symlink(target)?;
    let dir = directory_of(&target);
    let existing = std::fs::metadata(&target).ok();
    if existing.as_ref().is_some_and(|m| !m.is_file()) {
        return Err(Error::NotRegularFile(target));
    }
    if let Some(meta) = existing.as_ref().filter(|m| in_place::is_needed(m)) {
        return in_place::save(view, &target, meta, control, started);
    }
    check_free_space(&dir, view.len() as u64, &target)?;
    remove_stale_temps(&target);
    let tmp = tempfile::Builder::new()
        .prefix(&temp_prefix(&target, std::process::id()))
        .tempfile_in(&dir)
        .map_err(|e| Error::io(&dir, "cannot create a temporary file in", e))?;
    let mut report = SaveReport {
        path: target.clone(),
        bytes: view.len() as u64,
        copied_by_kernel: 0,
        written: 0,
        elapsed: Duration::ZERO,
    };
    write_all(view, tmp.as_file(), &mut report, control).map_err(|e| e.with_path(&target))?;
    view.intact()?;
    fault("after-write");
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io(&target, "cannot flush", e))?;
    fault("after-sync");
    let mode = existing
        .as_ref()
        .map_or_else(default_mode, |m| m.permissions().mode());
    tmp.as_file()
        .set_permissions(Permissions::from_mode(mode))
        .map_err(|e| Error::io(&target, "cannot set permissions on", e))?;
    if let Some(meta) = &existing {
        keep_owner_and_xattrs(meta, &target, tmp.path());
    }
    control.check()?;
    check_sources_unchanged(&view)?;
    tmp.persist(&target)
        .map_err(|e| Error::io(&target, "cannot replace", e.error))?;
    fault("after-rename");
    sync_dir(&dir);
    report.elapsed = started.elapsed();
    Ok(report)
}

/// The start of the name of a temporary file of a save of `target` by process `pid`.
pub(crate) fn temp_prefix(target: &Path, pid: u32) -> String {
    format!(".{}.tome-save.{pid}.", file_name(target))
}

/// The directory `target` lives in (`.` for a bare file name).
pub(crate) fn directory_of(target: &Path) -> PathBuf {
    match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The last component of `target`, lossily as text (the stem of our temp and backup names).
pub(crate) fn file_name(target: &Path) -> String {
    target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Makes a name change in `dir` durable (fsync of the directory). Best effort: a failure does
/// not undo the change.
pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// True if process `pid` may still be using files named after it: it is us, or it exists.
pub(crate) fn process_alive(pid: u32) -> bool {
    pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists()
}

/// The effective user id of this process (whose files it creates, and as whom it is allowed).
pub(crate) fn effective_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Makes `to` share `from`'s extents (`FICLONE`: an instant whole-file copy on XFS, btrfs,
/// bcachefs). False where the filesystem cannot.
pub(crate) fn reflink(from: &File, to: &File) -> bool {
    use std::os::fd::AsRawFd;
    // SAFETY: FICLONE takes the source descriptor as its argument; both descriptors are open
    // for the duration of the call.
    unsafe { libc::ioctl(to.as_raw_fd(), libc::FICLONE, from.as_raw_fd()) == 0 }
}

/// Removes temporary files of earlier saves of `target` whose process is gone (killed in the
/// middle of a save). Best effort.
pub fn remove_stale_temps(target: &Path) {
    let dir = directory_of(target);
    let start = format!(".{}.tome-save.", file_name(target));
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = file.strip_prefix(&start) else {
            continue;
        };
        let pid = rest.split('.').next().and_then(|p| p.parse::<u32>().ok());
        if !pid.is_some_and(process_alive) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The crash tests' fault points: abort here if `TOME_TEST_SAVE_FAULT` names this point.
pub(crate) fn fault(point: &str) {
    if std::env::var_os("TOME_TEST_SAVE_FAULT").is_some_and(|v| v == point) {
        std::process::abort();
    }
}

/// The tests' injected failure: an I/O error here if `TOME_TEST_SAVE_FAULT` is `fail-` and this
/// point's name (a disk filling up, say).
fn injected_error(point: &str) -> std::io::Result<()> {
    match std::env::var("TOME_TEST_SAVE_FAULT") {
        Ok(v) if v.strip_prefix("fail-") == Some(point) => Err(std::io::Error::other(
            "injected fault (TOME_TEST_SAVE_FAULT)",
        )),
        _ => Ok(()),
    }
}

/// Gives the new file the old one's owner and extended attributes, where allowed.
fn keep_owner_and_xattrs(old: &std::fs::Metadata, target: &Path, tmp: &Path) {
    use std::os::unix::fs::MetadataExt;
    // Only root (or the owner, for the group) may do this; elsewhere the file keeps ours.
    let _ = std::os::unix::fs::chown(tmp, Some(old.uid()), Some(old.gid()));
    if let Ok(names) = xattr::list(target) {
        for name in names {
            if let Ok(Some(value)) = xattr::get(target, &name) {
                let _ = xattr::set(tmp, &name, &value);
            }
        }
    }
}

/// Refuses to finish a save if a file the document reads from was rewritten in place or
/// truncated meanwhile: the bytes just copied from it may not be the ones the user saw.
pub(crate) fn check_sources_unchanged(view: &View<'_>) -> Result<()> {
    use crate::source::DiskChange;
    for src in view.bufs.sources.iter().filter(|s| !s.is_immune()) {
        match src.disk_change() {
            DiskChange::Rewritten | DiskChange::Truncated { .. } => {
                return Err(Error::FileChanged(format!(
                    "{} was changed by another program during the save; nothing was written",
                    src.path().display()
                )))
            }
            _ => {}
        }
    }
    Ok(())
}

/// Follows symbolic links so that a save writes the file they point at, not over the link.
pub(crate) fn resolve_symlink(path: &Path) -> Result<PathBuf> {
    let mut path = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = std::fs::read_link(&path)
                    .map_err(|e| Error::io(&path, "cannot read link", e))?;
                path = match path.parent() {
                    Some(parent) if target.is_relative() => parent.join(target),
                    _ => target,
                };
            }
            _ => return Ok(path),
        }
    }
    Err(Error::Io {
        context: format!("cannot save {}", path.display()),
        source: std::io::Error::other("too many levels of symbolic links"),
    })
}

fn default_mode() -> u32 {
    0o644
}

pub(crate) fn check_free_space(dir: &Path, need: u64, target: &Path) -> Result<()> {
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()) else {
        return Ok(());
    };
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `c` is a valid NUL-terminated path and `st` points to writable memory of the
    // right type; statvfs only writes into it and we read it only when it succeeded.
    let ok = unsafe { libc::statvfs(c.as_ptr(), st.as_mut_ptr()) } == 0;
    if !ok {
        return Ok(());
    }
    // SAFETY: statvfs returned 0, so it initialised `st`.
    let st = unsafe { st.assume_init() };
    // Kernel file systems (/proc, /sys) report no blocks at all: they are not full, writing
    // there is refused for other reasons, which the write itself reports.
    if st.f_blocks == 0 {
        return Ok(());
    }
    // The field types differ between platforms (u32 on some 32-bit targets).
    #[allow(clippy::unnecessary_cast)]
    let free = st.f_bavail as u64 * st.f_frsize as u64;
    if free < need {
        return Err(Error::DiskFull(target.to_path_buf()));
    }
    Ok(())
}

/// True if this process may write the file at `path`, as `vim` decides `[RO]`: the OS grants
/// write access to our effective user (`faccessat(W_OK, AT_EACCESS)`; so a root-owned 0644
/// file opened by another user is read-only) and some write bit is set (root may write
/// anything, but a 0444 file is still shown read-only).
pub(crate) fn writable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()) else {
        return false;
    };
    // SAFETY: `c` is a valid NUL-terminated path; faccessat only reads it.
    let granted =
        unsafe { libc::faccessat(libc::AT_FDCWD, c.as_ptr(), libc::W_OK, libc::AT_EACCESS) } == 0;
    granted && std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o222 != 0)
}

pub(crate) fn write_all(
    view: View<'_>,
    out: &File,
    report: &mut SaveReport,
    control: &Control,
) -> std::io::Result<()> {
    let total = view.len() as u64;
    let mut at = 0u64;
    for (piece, _) in view.tree.pieces_from(0) {
        if control.is_cancelled() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::Interrupted,
                "save cancelled",
            ));
        }
        let copied = match piece.src {
            Src::Original(s) => {
                let src = &view.bufs.sources[s as usize];
                kernel_copy(
                    src.content_file(),
                    src.file_offset(piece.start),
                    out,
                    at,
                    piece.len() as u64,
                )?
            }
            Src::Add(_) => 0,
        };
        let rest = &view.bufs.bytes(&piece)[copied as usize..];
        out.write_all_at(rest, at + copied)?;
        report.copied_by_kernel += copied;
        report.written += rest.len() as u64;
        if at == 0 {
            fault("mid-write");
            injected_error("mid-write")?;
        }
        at += piece.len() as u64;
        control.set_progress(at, total);
    }
    Ok(())
}

/// Copies with `copy_file_range`; returns how much it copied (the caller writes the rest from
/// memory), 0 where the kernel or filesystem cannot do it.
pub(crate) fn kernel_copy(
    src: &File,
    from: u64,
    dst: &File,
    to: u64,
    len: u64,
) -> std::io::Result<u64> {
    use std::os::fd::AsRawFd;
    let mut done = 0u64;
    while done < len {
        let mut off_in = (from + done) as libc::loff_t;
        let mut off_out = (to + done) as libc::loff_t;
        let chunk = (len - done).min(1 << 30) as usize;
        // SAFETY: both descriptors are open for the duration of the call, and the offsets are
        // passed by pointer to locals, so the files' own positions are not used or changed.
        let n = unsafe {
            libc::copy_file_range(
                src.as_raw_fd(),
                &mut off_in,
                dst.as_raw_fd(),
                &mut off_out,
                chunk,
                0,
            )
        };
        if n > 0 {
            done += n as u64;
            continue;
        }
        if n == 0 {
            break; // The source is shorter than expected: let the caller's write report it.
        }
        let err = std::io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EXDEV | libc::ENOSYS | libc::EINVAL | libc::EOPNOTSUPP | libc::EPERM) => {
                break
            }
            _ => return Err(err),
        }
    }
    Ok(done)
}

pub(crate) trait WithPath {
    fn with_path(self, path: &Path) -> Error;
}

impl WithPath for std::io::Error {
    fn with_path(self, path: &Path) -> Error {
        if self.kind() == std::io::ErrorKind::Interrupted {
            return Error::Cancelled;
        }
        Error::io(path, "cannot write", self)
    }
}
