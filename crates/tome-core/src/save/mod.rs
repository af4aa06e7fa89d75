//! Saving a document over a file, one of two ways:
//!
//! - **Rename save** (atomic): write a temporary file in the target's directory, fsync it, give
//!   it the target's permissions, rename it over the target, fsync the directory. Pieces of the
//!   original file are copied by the kernel (`copy_file_range`: no copy through user space,
//!   and a reflink on filesystems that share extents); inserted text is written.
//! - **In-place save** ([`in_place`]): write over the file itself, only from the first changed
//!   byte on ([`unchanged`]) — or, for an edit that kept the length, only the changed blocks —
//!   behind a backup of just what it overwrites and a record of it in the state directory. Its
//!   cost is in proportion to that, not to the file.
//!
//! **Which one.** [`SaveChoice::Auto`] (a plain save) writes in place when all of these hold,
//! else renames:
//!
//! - the target exists, is at least [`AUTO_IN_PLACE_MIN`] bytes (below that a rename save takes
//!   milliseconds and its stronger guarantees cost nothing), and this process may write it;
//! - what in place would back up and write ([`in_place::Plan`]: from the block holding the
//!   first changed byte to the end of the longer of the old and the new content, or, for an
//!   edit that kept the length, only the changed blocks) is less than a quarter of the file
//!   ([`AUTO_IN_PLACE_FRACTION`]): beyond that the backup and the write together cost about
//!   what a rename save does, which then gives more;
//! - there is a state directory for the backup's record (without one a crash would leave a
//!   backup no later open may trust);
//! - the filesystem cannot share extents (ext4 and others), or the plan is only the changed
//!   blocks of an edit that kept the length. On XFS, btrfs and bcachefs the rename save's
//!   `copy_file_range` of the unchanged prefix (same offsets in the old and the new file) is
//!   already a reflink, not a copy (measured on XFS: 1 GiB at the same offsets in 4 ms;
//!   shifted by 7 bytes, 6.9 s), so a rename save costs the tail there too, and keeps its
//!   stronger guarantees. `FICLONERANGE` would add nothing. But after an overwrite the rest of
//!   the file is one piece at an offset no longer block-aligned, which the kernel copies
//!   rather than clones (4 GiB on XFS, 7 bytes overwritten at 50 %: 4.2 s by rename, against
//!   a few milliseconds for the changed block in place).
//!
//! What a rename save gives that in place does not: other programs see the old file or the new
//! one, never a mix while the save writes; programs that have the old file open or mapped keep
//! reading the old content (an in-place save changes it under them, and one that maps the
//! file faults past a shortened end); after a crash the file is whole (in place, it is part old,
//! part new until the next open of the file in Tome restores it — the file is never lost: the
//! backup and its record are synced before the first byte is overwritten). What in place gives
//! that a rename does not: the inode stays, so hard links, the owner, ACLs and the file's other
//! names are kept — which is why a file with other hard links, or owned by another user, is
//! always written in place ([`in_place::is_needed`]), even when a rename is asked for.
//! [`SaveChoice::Rename`] and [`SaveChoice::InPlace`] force one way (the protocol's `method`).
//!
//! Both ways: a save through a symbolic link writes the link's target. The new file gets the old
//! one's mode, owner (where the process may set it) and extended attributes. Before the file
//! is replaced or overwritten, every file the document reads from is checked against its
//! sampled blocks: if another program rewrote it meanwhile, the save stops rather than write
//! changed bytes. If anything fails the target is left as it was (the temporary file is
//! removed, or the backup copied back), and the error says what happened; a temporary file
//! left by a killed process (its name carries the pid) is removed by the next open or save.
//!
//! Files: this module (the rename save, and the choice between the two), `unchanged.rs` (the
//! first changed byte), `write.rs` (what both share: writing a view, checks, temp names; fault
//! points are in `crate::fault`) and `in_place.rs`.
//!
//! Kill the process at any moment of a rename save and the target is wholly the old file or
//! wholly the new one. `TOME_TEST_SAVE_FAULT` (`mid-write`, `after-write`, `after-sync`,
//! `after-rename`) aborts the process at that point; the crash tests use it.
//! `fail-mid-write` makes the write fail there instead.

pub mod in_place;
pub(crate) mod unchanged;
mod write;

use std::fs::Permissions;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Instant;

use crate::sys;
use crate::view::View;
use crate::{Control, Error, Result};
use write::{
    check_free_space, check_sources_unchanged, file_name, resolve_symlink, temp_prefix, write_from,
    WithPath,
};

pub use write::{SaveChoice, SaveMethod, SaveReport};

/// Smallest file [`SaveChoice::Auto`] writes in place (16 MiB).
pub const AUTO_IN_PLACE_MIN: u64 = 16 << 20;
/// [`SaveChoice::Auto`] writes in place when the tail to rewrite is less than the file's size
/// divided by this.
pub const AUTO_IN_PLACE_FRACTION: u64 = 4;

/// Writes `view` to `target`, by rename or in place as `choice` and the file say. See the
/// module documentation.
pub fn save_file(
    view: View<'_>,
    target: &Path,
    choice: SaveChoice,
    control: &Control,
) -> Result<SaveReport> {
    save_file_after(view, target, choice, control, None)
}

/// [`save_file`] by a document that has not moved onto the file its last save wrote yet
/// (`saved`: that save's text, see [`unchanged`]), so that this save too costs only what
/// changed since.
pub(crate) fn save_file_after(
    view: View<'_>,
    target: &Path,
    choice: SaveChoice,
    control: &Control,
    saved: Option<&unchanged::Saved>,
) -> Result<SaveReport> {
    let started = Instant::now();
    let (target, existing) = resolve_target(target)?;
    if let Some(meta) = &existing {
        let first = unchanged::first_change(&view, meta, saved);
        let plan = in_place::Plan::choose(&view, meta, saved, first);
        if in_place::is_needed(meta) || in_place_pays(meta, &plan, &target, choice) {
            return in_place::save(view, &target, meta, &plan, control, started);
        }
    }
    save_by_rename(view, &target, existing.as_ref(), control, started)
}

/// The file a save of `target` writes (a symbolic link's target) and what is there now, if
/// anything: refused if it is not a regular file.
fn resolve_target(target: &Path) -> Result<(std::path::PathBuf, Option<std::fs::Metadata>)> {
    let target = resolve_symlink(target)?;
    let existing = std::fs::metadata(&target).ok();
    if existing.as_ref().is_some_and(|m| !m.is_file()) {
        return Err(Error::NotRegularFile(target));
    }
    Ok((target, existing))
}

/// True if `choice` asks for an in-place save, or leaves it to us and the file is one where it
/// is safe and much cheaper (see the module documentation).
fn in_place_pays(
    meta: &std::fs::Metadata,
    plan: &in_place::Plan,
    target: &Path,
    choice: SaveChoice,
) -> bool {
    match choice {
        SaveChoice::InPlace => true,
        SaveChoice::Rename => false,
        SaveChoice::Auto => {
            let old = meta.len();
            old >= AUTO_IN_PLACE_MIN
                && plan.span() < old / AUTO_IN_PLACE_FRACTION
                && crate::backup_record::default_dir().is_some()
                && sys::writable(target)
                && (plan.is_blocks()
                    || !std::fs::File::open(target).is_ok_and(|f| sys::can_reflink(&f)))
        }
    }
}

/// The rename save. See the module documentation.
fn save_by_rename(
    view: View<'_>,
    target: &Path,
    existing: Option<&std::fs::Metadata>,
    control: &Control,
    started: Instant,
) -> Result<SaveReport> {
    let len = view.len() as u64;
    let mut report = SaveReport::new(target, len, SaveMethod::Rename, 0);
    rename_into(
        target,
        existing,
        len,
        control,
        |file| {
            write_from(view, file, 0, len, &mut report, control)
                .map_err(|e| e.with_path(target))?;
            view.intact()
        },
        || check_sources_unchanged(&view),
    )?;
    report.elapsed = started.elapsed();
    Ok(report)
}

/// Writes a new file at `target` (through a symbolic link, its target) with what `fill`
/// writes into the file it is given, by the rename save's steps: a temporary file beside the
/// target, synced, given the old file's mode, owner and extended attributes, renamed over the
/// target, the directory synced. Killed at any moment, the target is wholly the old file or
/// wholly the new one; on an error it is left as it was. `fill` returns how many bytes it
/// wrote; `need` is checked against the free space first. For text that is not a document's
/// own (a compressed file's text, saved as a plain or recompressed copy). Cost: what `fill`
/// costs, one `fsync` of the file and one of the directory.
pub fn save_new_file(
    target: &Path,
    need: u64,
    control: &Control,
    fill: impl FnOnce(&std::fs::File) -> Result<u64>,
) -> Result<SaveReport> {
    let started = Instant::now();
    let (target, existing) = resolve_target(target)?;
    let mut written = 0;
    rename_into(
        &target,
        existing.as_ref(),
        need,
        control,
        |file| {
            written = fill(file)?;
            Ok(())
        },
        || Ok(()),
    )?;
    let mut report = SaveReport::new(&target, written, SaveMethod::Rename, 0);
    report.written = written;
    report.elapsed = started.elapsed();
    Ok(report)
}

/// The steps of a rename save around the writing of the new text (`fill`) and the last check
/// before the rename (`check`). See [`save_new_file`].
fn rename_into(
    target: &Path,
    existing: Option<&std::fs::Metadata>,
    need: u64,
    control: &Control,
    fill: impl FnOnce(&std::fs::File) -> Result<()>,
    check: impl FnOnce() -> Result<()>,
) -> Result<()> {
    let target = target.to_path_buf();
    let dir = sys::directory_of(&target);
    check_free_space(&dir, need, &target)?;
    remove_stale_temps(&target);
    let tmp = tempfile::Builder::new()
        .prefix(&temp_prefix(&target, std::process::id()))
        .tempfile_in(&dir)
        .map_err(|e| Error::io(&dir, "cannot create a temporary file in", e))?;
    fill(tmp.as_file())?;
    crate::fault::abort_at("after-write");
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io(&target, "cannot flush", e))?;
    crate::fault::abort_at("after-sync");
    let mode = existing.map_or_else(default_mode, |m| m.permissions().mode());
    tmp.as_file()
        .set_permissions(Permissions::from_mode(mode))
        .map_err(|e| Error::io(&target, "cannot set permissions on", e))?;
    if let Some(meta) = existing {
        keep_owner_and_xattrs(meta, &target, tmp.path());
    }
    control.check()?;
    check()?;
    tmp.persist(&target)
        .map_err(|e| Error::io(&target, "cannot replace", e.error))?;
    crate::fault::abort_at("after-rename");
    sys::sync_dir(&dir);
    Ok(())
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
