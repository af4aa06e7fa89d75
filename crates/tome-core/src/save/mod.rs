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
//! is written in place instead (see [`in_place`]): a rename would detach it from its
//! other names or hand it to us.
//!
//! Files: this module (the rename save, and the choice between the two), `write.rs` (what both
//! share: writing a view, checks, temp names; fault points are in `crate::fault`) and `in_place.rs`.
//!
//! Kill the process at any moment and the target is wholly the old file or wholly the new one.
//! `TOME_TEST_SAVE_FAULT` (`mid-write`, `after-write`, `after-sync`, `after-rename`) aborts the process at that
//! point; the crash tests use it. `fail-mid-write` makes the write fail there instead.

pub mod in_place;
mod write;

use std::fs::Permissions;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::sys;
use crate::view::View;
use crate::{Control, Error, Result};
use write::{
    check_free_space, check_sources_unchanged, file_name, resolve_symlink, temp_prefix, write_all,
    WithPath,
};

pub use write::SaveReport;

/// Writes `view` to `target` atomically. See the module documentation.
pub fn save_atomically(view: View<'_>, target: &Path, control: &Control) -> Result<SaveReport> {
    let started = Instant::now();
    let target = resolve_symlink(target)?;
    let dir = sys::directory_of(&target);
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
    crate::fault::abort_at("after-write");
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io(&target, "cannot flush", e))?;
    crate::fault::abort_at("after-sync");
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
    crate::fault::abort_at("after-rename");
    sys::sync_dir(&dir);
    report.elapsed = started.elapsed();
    Ok(report)
}

/// Removes temporary files of earlier saves of `target` whose process is gone (killed in the
/// middle of a save). Best effort.
pub fn remove_stale_temps(target: &Path) {
    let dir = sys::directory_of(target);
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
        if !pid.is_some_and(sys::process_alive) {
            let _ = std::fs::remove_file(entry.path());
        }
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

fn default_mode() -> u32 {
    0o644
}
