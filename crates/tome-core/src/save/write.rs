//! What both kinds of save share: writing a document's text into a file (kernel copies of the
//! original's spans, writes of the rest), the checks made before a file is replaced or
//! overwritten, the names of temporary files, and the crash tests' fault points.
//!
//! Used by the rename save ([`super`], which also chooses between the two) and the in-place
//! save ([`super::in_place`]); depends on neither, so the in-place save never imports the
//! module that calls it.
//!
//! Cost of [`write_from`]: one `copy_file_range` per long piece of the original (no copy
//! through user space), and one write per MiB of the rest (inserted text and short pieces of
//! the original, gathered); the other functions are a few system calls.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::source::DiskChange;
use crate::sys;
use crate::tree::Src;
use crate::view::View;
use crate::{Control, Error, Result};

/// How a save wrote the file (see [`crate::save`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaveMethod {
    /// A new file, renamed over the target.
    Rename,
    /// Over the target itself, from the first changed block, behind a backup of what it
    /// overwrote.
    InPlace,
}

impl SaveMethod {
    /// The protocol's name: `rename` or `inPlace`.
    pub fn name(self) -> &'static str {
        match self {
            SaveMethod::Rename => "rename",
            SaveMethod::InPlace => "inPlace",
        }
    }
}

/// Which way a save may write the file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SaveChoice {
    /// The cheaper one where it is safe (see [`crate::save`]).
    #[default]
    Auto,
    /// A rename save, unless the file must keep its inode (other hard links, another owner).
    Rename,
    /// In place, where the file exists.
    InPlace,
}

/// What a save did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaveReport {
    /// The file written (the symlink's target when saving through a link).
    pub path: PathBuf,
    /// Bytes in the saved file.
    pub bytes: u64,
    /// How it was written.
    pub method: SaveMethod,
    /// Offset of the first byte written (0 for a rename save; in place, the first byte that
    /// may differ from the file as it was: every byte before it was left as it was).
    pub from: u64,
    /// Bytes of the old file copied to a backup first (in place only).
    pub backed_up: u64,
    /// Bytes copied by the kernel into the saved file (from the original file or a backup).
    pub copied_by_kernel: u64,
    /// Bytes written from memory (inserted text, and original text where the kernel could not
    /// copy).
    pub written: u64,
    /// Wall time of the save.
    pub elapsed: Duration,
}

impl SaveReport {
    pub(crate) fn new(path: &Path, bytes: u64, method: SaveMethod, from: u64) -> SaveReport {
        SaveReport {
            path: path.to_path_buf(),
            bytes,
            method,
            from,
            backed_up: 0,
            copied_by_kernel: 0,
            written: 0,
            elapsed: Duration::ZERO,
        }
    }

    /// Bytes put into the saved file, by the kernel or from memory.
    pub fn total_written(&self) -> u64 {
        self.copied_by_kernel + self.written
    }
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

/// Pieces of the original at least this long are copied by the kernel; shorter ones, like
/// inserted text, are gathered into [`Staging`] and written in large aligned writes. (A
/// replace-all of a million matches leaves a million short pieces: one `copy_file_range` or
/// `write` each, most starting and ending inside a page, cost 3x the whole save in system
/// calls and partial-page zeroing on ext4.)
const KERNEL_COPY_MIN: usize = 256 << 10;

/// The staging buffer's size, and the alignment (in the file) of the writes it makes.
const STAGING: usize = 1 << 20;

/// Bytes on their way to `out`: gathered, then written in runs that end on a [`STAGING`]
/// boundary of the file (so every write but a save's first and last covers whole pages).
struct Staging<'f> {
    out: &'f File,
    /// Where `buf[0]` goes in the file.
    at: u64,
    buf: Vec<u8>,
}

impl Staging<'_> {
    /// Adds `bytes`, which go at `at` (right after what is gathered), writing what reached a
    /// boundary.
    fn push(&mut self, at: u64, bytes: &[u8]) -> std::io::Result<()> {
        if self.buf.is_empty() {
            self.at = at;
        }
        debug_assert_eq!(self.at + self.buf.len() as u64, at);
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= STAGING {
            let end = self.at + self.buf.len() as u64;
            let cut = (end - end % STAGING as u64 - self.at) as usize;
            self.out.write_all_at(&self.buf[..cut], self.at)?;
            self.buf.drain(..cut);
            self.at += cut as u64;
        }
        Ok(())
    }

    /// Writes everything gathered.
    fn flush(&mut self) -> std::io::Result<()> {
        if !self.buf.is_empty() {
            self.out.write_all_at(&self.buf, self.at)?;
            self.at += self.buf.len() as u64;
            self.buf.clear();
        }
        Ok(())
    }
}

/// Writes bytes `[from, to)` of `view` into `out` at the same offsets: the original's spans
/// of at least [`KERNEL_COPY_MIN`] bytes by `copy_file_range` (from wherever
/// [`Source::copy_runs`](crate::source::Source::copy_runs) says they are now), the rest
/// (inserted text, short spans) gathered and written in aligned runs of [`STAGING`] bytes.
/// `[0, len)` for a whole file. Memory: [`STAGING`] bytes at most, twice.
pub(crate) fn write_from(
    view: View<'_>,
    out: &File,
    from: u64,
    to: u64,
    report: &mut SaveReport,
    control: &Control,
) -> std::io::Result<()> {
    let total = to.min(view.len() as u64);
    let mut staging = Staging {
        out,
        at: from,
        buf: Vec::new(),
    };
    let mut first = true;
    for (piece, start) in view.tree.pieces_from(from as usize) {
        if start as u64 >= total {
            break;
        }
        if control.is_cancelled() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::Interrupted,
                "save cancelled",
            ));
        }
        // The first piece may start before `from`, the last end after `to`: only their parts
        // in between are written.
        let skip = (from as usize).saturating_sub(start);
        let keep = piece.len().min((total as usize) - start);
        let at = (start + skip) as u64;
        let len = (keep - skip) as u64;
        let copied = match piece.src {
            Src::Original(s) if keep - skip >= KERNEL_COPY_MIN => {
                staging.flush()?;
                let mut dst = at;
                view.bufs.sources[s as usize].copy_runs(
                    piece.start + skip,
                    piece.start + keep,
                    |file, offset, run| {
                        let done = sys::kernel_copy(file, offset, out, dst, run)?;
                        dst += done;
                        Ok(done)
                    },
                )?
            }
            // Short spans of the original are read through the mapping, which shows the
            // same bytes as `copy_runs` (detached ranges are mapped from their copies).
            _ => 0,
        };
        let rest = &view.bufs.bytes(&piece)[skip + copied as usize..keep];
        staging.push(at + copied, rest)?;
        report.copied_by_kernel += copied;
        report.written += rest.len() as u64;
        if first {
            first = false;
            // The crash tests' "a part of the file is written": what was gathered goes out
            // first, so that the point is after a real write.
            staging.flush()?;
            crate::fault::abort_at("mid-write");
            crate::fault::error_at("mid-write")?;
        }
        control.set_progress(at + len - from, total - from);
    }
    staging.flush()
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
