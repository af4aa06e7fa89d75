//! The original file: a read-only memory mapping, and the only module that reads it.
//!
//! Every byte of the original that the engine looks at comes through [`Source::slice`] and
//! [`Source::byte`] (from the mapping), apart from the sample read at open. Guarding the original
//! against a file that changes under the mapping therefore touches this module only.
//!
//! Opening costs a `stat`, an `mmap` and a 64 KiB sample read; nothing in proportion to the size.

use std::fs::File;
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::Mmap;

use crate::guard::Guard;
use crate::line_index::LineIndex;
use crate::{Error, Result};

/// The size of the sample read at open to detect line endings and encoding.
const SAMPLE: usize = 64 * 1024;

/// The dominant line ending of a file, from a sample of its start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineEnding {
    /// `\n`
    Lf,
    /// `\r\n`
    CrLf,
    /// A lone `\r`.
    Cr,
}

impl LineEnding {
    /// The bytes of this line ending.
    pub fn as_bytes(self) -> &'static [u8] {
        match self {
            LineEnding::Lf => b"\n",
            LineEnding::CrLf => b"\r\n",
            LineEnding::Cr => b"\r",
        }
    }

    /// A short name: `lf`, `crlf` or `cr`.
    pub fn name(self) -> &'static str {
        match self {
            LineEnding::Lf => "lf",
            LineEnding::CrLf => "crlf",
            LineEnding::Cr => "cr",
        }
    }
}

/// The text encoding seen in the sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// Valid UTF-8 (ASCII included), without a byte-order mark.
    Utf8,
    /// UTF-8 starting with a byte-order mark (kept as content).
    Utf8Bom,
    /// The sample holds bytes that are not UTF-8; they are shown as U+FFFD and saved unchanged.
    Binary,
}

impl Encoding {
    /// A short name: `utf-8`, `utf-8-bom` or `binary`.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Utf8Bom => "utf-8-bom",
            Encoding::Binary => "binary",
        }
    }
}

/// Who the file was when it was opened: enough to notice that it changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileIdentity {
    /// Device number.
    pub dev: u64,
    /// Inode number.
    pub ino: u64,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, nanoseconds since the epoch.
    pub mtime_ns: i128,
    /// Permission bits.
    pub mode: u32,
}

impl FileIdentity {
    fn of(meta: &std::fs::Metadata) -> FileIdentity {
        FileIdentity {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
            mode: meta.mode(),
        }
    }
}

/// An opened original file: the read-only mapping, its descriptor and its line index.
///
/// Cheap to share (`Arc<Source>`); immutable after open.
#[derive(Debug)]
pub struct Source {
    path: PathBuf,
    file: File,
    /// Declared before `map`: it must be unregistered before the mapping goes away.
    guard: Option<Guard>,
    map: Option<Mmap>,
    len: usize,
    identity: FileIdentity,
    line_ending: LineEnding,
    encoding: Encoding,
    index: LineIndex,
}

impl Source {
    /// Opens `path` read-only, maps it, samples its start and starts the background line index.
    ///
    /// Cost: O(1) in the file's size. Errors: [`Error::NotFound`],
    /// [`Error::PermissionDenied`], [`Error::NotRegularFile`], [`Error::Io`].
    pub fn open(path: &Path) -> Result<Arc<Source>> {
        let file = File::open(path).map_err(|e| Error::io(path, "cannot open", e))?;
        let meta = file
            .metadata()
            .map_err(|e| Error::io(path, "cannot stat", e))?;
        if !meta.is_file() {
            return Err(Error::NotRegularFile(path.to_path_buf()));
        }
        let len = usize::try_from(meta.len())
            .map_err(|_| Error::OutOfBounds(format!("{} is too large", path.display())))?;
        let map = if len == 0 {
            None
        } else {
            Some(map_read_only(&file).map_err(|e| Error::io(path, "cannot map", e))?)
        };
        let guard = map
            .as_ref()
            .and_then(|m| Guard::register(m.as_ptr() as usize, m.len()));
        let mut sample = vec![0; SAMPLE.min(len)];
        read_fully_at(&file, &mut sample, 0).map_err(|e| Error::io(path, "cannot read", e))?;
        let source = Arc::new(Source {
            path: path.to_path_buf(),
            file,
            guard,
            map,
            len,
            identity: FileIdentity::of(&meta),
            line_ending: detect_line_ending(&sample),
            encoding: detect_encoding(&sample, len > SAMPLE),
            index: LineIndex::new(len),
        });
        LineIndex::spawn_builder(&source);
        Ok(source)
    }

    /// The path the file was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Length in bytes (as of open).
    pub fn len(&self) -> usize {
        self.len
    }

    /// True for an empty file.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Identity at open.
    pub fn identity(&self) -> FileIdentity {
        self.identity
    }

    /// Dominant line ending in the sample (LF when the sample has none).
    pub fn line_ending(&self) -> LineEnding {
        self.line_ending
    }

    /// Encoding seen in the sample.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// True once a read of the mapping faulted because the file shrank under it: bytes read
    /// since may be zeros, and every reader reports [`Error::FileChanged`] instead of content.
    pub fn is_damaged(&self) -> bool {
        self.guard.as_ref().is_some_and(Guard::is_damaged)
    }

    /// The line index of this file.
    pub fn index(&self) -> &LineIndex {
        &self.index
    }

    /// The open descriptor (for `copy_file_range` on save).
    pub(crate) fn file(&self) -> &File {
        &self.file
    }

    /// Bytes `[start, end)` of the original, from the mapping. Cost: O(1).
    ///
    /// Panics if the range is out of bounds: callers hold ranges of pieces, which the tree
    /// keeps within the source.
    pub(crate) fn slice(&self, start: usize, end: usize) -> &[u8] {
        match &self.map {
            Some(map) => &map[start..end],
            None => &[],
        }
    }

    /// Tells the kernel we are done with `[start, end)` of the mapping for now: it drops the
    /// page-table entries (the pages stay in the page cache), so a full scan by the line index
    /// does not leave the whole file counted in the process's resident memory. Best effort.
    pub(crate) fn release(&self, start: usize, end: usize) {
        if let Some(map) = &self.map {
            // SAFETY: the mapping is a read-only, shared mapping of a file. MADV_DONTNEED on it
            // only drops page-table entries; the next access faults the same bytes back in from
            // the page cache, so slices borrowed elsewhere keep reading the file's contents (the
            // hazard memmap2 warns of concerns private or anonymous mappings, which lose data).
            let _ = unsafe {
                map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start, end - start)
            };
        }
    }

    /// One byte of the original, or `None` past the end.
    pub(crate) fn byte(&self, at: usize) -> Option<u8> {
        self.map.as_ref().and_then(|m| m.get(at).copied())
    }
}

fn read_fully_at(file: &File, buf: &mut [u8], offset: usize) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], (offset + done) as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

fn map_read_only(file: &File) -> io::Result<Mmap> {
    // SAFETY: the mapping is read-only (PROT_READ) and private to this process; the engine never
    // writes through it. Another process may still change the file underneath: an in-place write
    // changes the bytes we see and a truncation makes reads of lost pages fault (SIGBUS). All
    // reads go through this module so that the file-safety layer can guard them in one place.
    unsafe { Mmap::map(file) }
}

fn detect_line_ending(sample: &[u8]) -> LineEnding {
    let crlf = memchr::memmem::find_iter(sample, b"\r\n").count();
    let lf = bytecount::count(sample, b'\n') - crlf;
    let cr = bytecount::count(sample, b'\r') - crlf;
    if crlf > lf && crlf >= cr {
        LineEnding::CrLf
    } else if cr > lf && cr > crlf {
        LineEnding::Cr
    } else {
        LineEnding::Lf
    }
}

fn detect_encoding(sample: &[u8], truncated: bool) -> Encoding {
    let valid = match std::str::from_utf8(sample) {
        Ok(_) => true,
        // A sample cut in the middle of a character is still UTF-8.
        Err(e) => truncated && e.error_len().is_none(),
    };
    match (valid, sample.starts_with(b"\xEF\xBB\xBF")) {
        (false, _) => Encoding::Binary,
        (true, true) => Encoding::Utf8Bom,
        (true, false) => Encoding::Utf8,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_line_endings() {
        assert_eq!(detect_line_ending(b"a\r\nb\r\nc\n"), LineEnding::CrLf);
        assert_eq!(detect_line_ending(b"a\nb\nc\r\n"), LineEnding::Lf);
        assert_eq!(detect_line_ending(b"a\rb\rc\n"), LineEnding::Cr);
        assert_eq!(detect_line_ending(b""), LineEnding::Lf);
    }

    #[test]
    fn detects_encoding() {
        assert_eq!(detect_encoding("héllo".as_bytes(), false), Encoding::Utf8);
        assert_eq!(detect_encoding(b"\xEF\xBB\xBFx", false), Encoding::Utf8Bom);
        assert_eq!(detect_encoding(b"a\xFFb", false), Encoding::Binary);
        assert_eq!(detect_encoding(b"ab\xC3", true), Encoding::Utf8);
        assert_eq!(detect_encoding(b"ab\xC3", false), Encoding::Binary);
    }
}
