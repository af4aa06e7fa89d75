//! What both kinds of save share: writing a document's text into a file (kernel copies of the
//! original's spans, writes of the rest), the checks made before a file is replaced or
//! overwritten, the names of temporary files, and the crash tests' fault points.
//!
//! Used by the rename save ([`super`], which also chooses between the two) and the in-place
//! save ([`super::in_place`]); depends on neither, so the in-place save never imports the
//! module that calls it.
//!
//! Cost of [`write_all`]: one `copy_file_range` per piece of the original (no copy through user
//! space) and one write per piece of inserted text; the other functions are a few system calls.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::source::DiskChange;
use crate::sys;
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

/// The start of the name of a temporary file of a save of `target` by process `pid`.
pub(crate) fn temp_prefix(target: &Path, pid: u32) -> String {
    format!(".{}.tome-save.{pid}.", file_name(target))
}

/// The last component of `target`, lossily as text (the stem of our temp and backup names).
pub(crate) fn file_name(target: &Path) -> String {
    target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Refuses to finish a save if a file the document reads from was rewritten in place or
/// truncated meanwhile: the bytes just copied from it may not be the ones the user saw.
pub(crate) fn check_sources_unchanged(view: &View<'_>) -> Result<()> {
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

/// Refuses a save that cannot fit: fewer than `need` bytes free for this user where `target`
/// is written (in `dir`). Where the free space cannot be told, the write itself will say.
pub(crate) fn check_free_space(dir: &Path, need: u64, target: &Path) -> Result<()> {
    match sys::free_space(dir) {
        Some(free) if free < need => Err(Error::DiskFull(target.to_path_buf())),
        _ => Ok(()),
    }
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
                sys::kernel_copy(
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
            crate::fault::abort_at("mid-write");
            crate::fault::error_at("mid-write")?;
        }
        at += piece.len() as u64;
        control.set_progress(at, total);
    }
    Ok(())
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
