//! The original file: a read-only memory mapping, and the only module that reads it.
//!
//! Every byte of the original that the engine looks at comes through [`Source::slice`] and
//! [`Source::byte`] (from the mapping), apart from the sample read at open. Guarding the original
//! against a file that changes under the mapping therefore touches this module only.
//!
//! Opening costs a `stat`, an `mmap` and a 64 KiB sample read; nothing in proportion to the size.

use std::fs::File;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use memmap2::Mmap;

use crate::breaks::Newlines;
use crate::charset::Encoding;
use crate::guard::Guard;
use crate::index_cache::{CacheUse, IndexCache, Stamp};
use crate::line_index::{Indexed, LineIndex};
use crate::sys;
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

    /// The break's bytes in a document whose breaks are `newlines` (UTF-16's are 2 or 4).
    pub fn bytes_in(self, newlines: Newlines) -> &'static [u8] {
        match (newlines, self) {
            (Newlines::Byte, _) => self.as_bytes(),
            (Newlines::Utf16Le, LineEnding::Lf) => b"\n\0",
            (Newlines::Utf16Le, LineEnding::CrLf) => b"\r\0\n\0",
            (Newlines::Utf16Le, LineEnding::Cr) => b"\r\0",
            (Newlines::Utf16Be, LineEnding::Lf) => b"\0\n",
            (Newlines::Utf16Be, LineEnding::CrLf) => b"\0\r\0\n",
            (Newlines::Utf16Be, LineEnding::Cr) => b"\0\r",
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

/// How a file on disk changed since it was mapped, as [`Source::disk_change`] sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiskChange {
    /// Same file, same size, same modification time, same sampled blocks.
    Unchanged,
    /// Same file, grown, the old sampled blocks unchanged: something appended (a log).
    Appended {
        /// The new size.
        len: u64,
    },
    /// Same file, changed in place (a sampled block differs, or it was written without growing).
    Rewritten,
    /// Same file, shorter (log rotation with copytruncate, or a rewrite with `O_TRUNC`).
    Truncated {
        /// The new size.
        len: u64,
    },
    /// Another file now has the path (an editor's save by rename, or a rotated log).
    Replaced,
    /// Nothing has the path any more.
    Deleted,
}

impl DiskChange {
    /// A short name: `unchanged`, `appended`, `rewritten`, `truncated`, `replaced`, `deleted`.
    pub fn name(self) -> &'static str {
        match self {
            DiskChange::Unchanged => "unchanged",
            DiskChange::Appended { .. } => "appended",
            DiskChange::Rewritten => "rewritten",
            DiskChange::Truncated { .. } => "truncated",
            DiskChange::Replaced => "replaced",
            DiskChange::Deleted => "deleted",
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
    pub(crate) fn of(meta: &std::fs::Metadata) -> FileIdentity {
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
/// Cheap to share (`Arc<Source>`); its content never changes after open. Where the filesystem
/// can share extents (XFS, btrfs), the mapping is of a reflink copy taken at open (a snapshot:
/// another program writing or truncating the file does not reach it); elsewhere it is of the
/// file itself. [`Source::detach_ranges`] moves the mapping of parts of the file onto a copy of them, for a save
/// that must write the file in place.
#[derive(Debug)]
pub struct Source {
    path: PathBuf,
    /// The file behind `path`, as opened: sampled to notice outside changes.
    file: File,
    /// The unnamed reflink copy that is mapped instead of `file`, where one could be made.
    snapshot: Option<File>,
    /// The ranges of the file whose mapping was moved onto copies by
    /// [`Source::detach_ranges`], sorted and disjoint: the source's bytes at file offsets
    /// `[start, end)` of an entry are in its copy from `offset`. Bytes outside every entry are
    /// still read from the file (never overwritten by our saves).
    detached: Mutex<Vec<Detached>>,
    /// Set when [`Source::detach_ranges`] succeeds, even with no range to move (an in-place save that
    /// wrote nothing still gives the file a new modification time): the file may now differ
    /// from what this source saw at open, by our own writing.
    written_over: AtomicBool,
    /// Offset in the file of this source's byte 0 (non-zero for a tail opened after an append).
    base: usize,
    /// Offset of byte 0 within the mapping (the mapping starts at a page boundary).
    delta: usize,
    /// Hashes of a few sampled 4 KiB blocks (file offset, hash), to tell an append from a rewrite.
    samples: Vec<(usize, u64)>,
    /// Declared before `map`: it must be unregistered before the mapping goes away.
    guard: Option<Guard>,
    map: Option<Mmap>,
    len: usize,
    identity: FileIdentity,
    line_ending: LineEnding,
    encoding: Encoding,
    /// Which units are line breaks: the index counts them (the detected encoding's, or the
    /// one the document was opened or saved in).
    newlines: Newlines,
    index: LineIndex,
    /// Opened by [`Source::open_tail`]: the next append replaces it with a longer one.
    is_tail: bool,
    /// The index cache this source's document uses (passed on to the sources opened after it).
    cache: Option<IndexCache>,
    /// The file's stamp at open, when this source is a whole file whose index may be cached.
    stamp: Option<Stamp>,
    /// How the index was obtained.
    cache_use: CacheUse,
}

/// A range of the file moved onto a copy (see [`Source::detach_ranges`]).
#[derive(Debug)]
struct Detached {
    start: u64,
    end: u64,
    copy: Arc<File>,
    /// Where the file's byte `start` is in `copy`.
    offset: u64,
}

/// What [`Source::open_tail`] expects of the file.
#[derive(Clone, Copy)]
struct Tail<'a> {
    /// The file must still be this one…
    expect: FileIdentity,
    /// …and longer than this offset.
    end: usize,
    /// The tail source being replaced (its bytes are the new one's first bytes).
    grows: Option<&'a Source>,
}

impl Source {
    /// Opens `path` read-only, maps it, samples its start and starts the background line index.
    ///
    /// Cost: O(1) in the file's size. Errors: [`Error::NotFound`],
    /// [`Error::PermissionDenied`], [`Error::NotRegularFile`], [`Error::Io`].
    pub fn open(path: &Path) -> Result<Arc<Source>> {
        Source::open_from(path, 0, None, None, None, None)
    }

    /// Opens `path` like [`Source::open`], taking its index from `cache` when the cache holds
    /// one for this very file (see [`crate::index_cache`]), and storing the index there once
    /// it is complete. Cost: also one read of the cache entry (40 bytes per 64 KiB).
    pub fn open_cached(path: &Path, cache: Option<&IndexCache>) -> Result<Arc<Source>> {
        Source::open_from(path, 0, None, None, cache, None)
    }

    /// [`Source::open_cached`] whose line index counts the breaks of `newlines` rather than
    /// those of the encoding detected from the file's start (a document opened in a named
    /// encoding, or saved in its own). Only the byte rule's indexes are cached.
    pub fn open_cached_as(
        path: &Path,
        cache: Option<&IndexCache>,
        newlines: Option<Newlines>,
    ) -> Result<Arc<Source>> {
        Source::open_from(path, 0, None, None, cache, newlines)
    }

    /// Opens `path` like [`Source::open`], taking only its first `upto` bytes (the extent a
    /// journal was written against, when the file has grown since).
    pub(crate) fn open_prefix(
        path: &Path,
        upto: usize,
        cache: Option<&IndexCache>,
    ) -> Result<Arc<Source>> {
        Source::open_from(path, 0, Some(upto), None, cache, None)
    }

    /// The bytes another program appended to the file of `newest` (the newest source of a
    /// document), up to file offset `upto` if given. If `newest` is itself such a tail, the
    /// result **replaces** it: it starts where `newest` starts, holds the same bytes first
    /// (the caller checked that the file was only appended to) and reuses its line counts, so
    /// a followed log keeps one tail source (one fd, one mapping, one guard slot, one index
    /// thread at most) however often it grows. Otherwise it is a new source starting where
    /// `newest` ends. Fails with [`Error::FileChanged`] if the file is no longer the one
    /// `newest` mapped (replaced) or is not longer than `newest`'s end.
    /// Cost: a mapping, and indexing only the bytes the tail did not have (from its last whole
    /// 64 KiB block).
    pub(crate) fn open_tail(newest: &Source, upto: Option<usize>) -> Result<Arc<Source>> {
        let end = newest.base + newest.len;
        let tail = Tail {
            expect: newest.identity,
            end,
            grows: newest.is_tail.then_some(newest),
        };
        let base = if newest.is_tail { newest.base } else { end };
        Source::open_from(
            &newest.path,
            base,
            upto,
            Some(tail),
            newest.cache.as_ref(),
            Some(newest.newlines),
        )
    }

    fn open_from(
        path: &Path,
        base: usize,
        upto: Option<usize>,
        tail: Option<Tail<'_>>,
        cache: Option<&IndexCache>,
        newlines: Option<Newlines>,
    ) -> Result<Arc<Source>> {
        // Before the open: a file changed after this instant has a later ctime.
        let before = std::time::SystemTime::now();
        let file = open_regular(path)?;
        let meta = file
            .metadata()
            .map_err(|e| Error::io(path, "cannot stat", e))?;
        let size = usize::try_from(meta.len())
            .map_err(|_| Error::OutOfBounds(format!("{} is too large", path.display())))?;
        let size = upto.map_or(size, |u| u.min(size));
        if let Some(Tail { expect, end, .. }) = tail {
            if (meta.dev(), meta.ino()) != (expect.dev, expect.ino) || size <= end {
                return Err(Error::FileChanged(format!(
                    "{} was replaced or shortened, not appended to",
                    path.display()
                )));
            }
        }
        let len = size - base;
        let aligned = base - base % sys::page_size();
        let snapshot = if len == 0 {
            None
        } else {
            reflink_snapshot(&file, path, &meta)
        };
        let content = snapshot.as_ref().unwrap_or(&file);
        let map = if len == 0 {
            None
        } else {
            Some(
                sys::map_read_only(content, aligned, size - aligned)
                    .map_err(|e| Error::io(path, "cannot map", e))?,
            )
        };
        let guard = map
            .as_ref()
            .and_then(|m| Guard::register(m.as_ptr() as usize, m.len()));
        let mut sample = vec![0; SAMPLE.min(len)];
        sys::read_fully_at(content, &mut sample, base)
            .map_err(|e| Error::io(path, "cannot read", e))?;
        let samples = sample_hashes(content, base, size);
        let encoding = Encoding::detect(&sample, len > SAMPLE);
        let newlines = newlines.unwrap_or(encoding.newlines());
        // Only whole files are cached: a tail or a prefix is not what a later open maps. The
        // cache holds counts of the byte rule only (its entries do not say which rule).
        let whole =
            base == 0 && upto.is_none() && tail.is_none() && len > 0 && newlines == Newlines::Byte;
        let stamp = cache
            .filter(|_| whole)
            .map(|c| Stamp::of(&meta, before, c.racy_margin()));
        let (cached, cache_use) = match (cache, &stamp) {
            (Some(c), Some(stamp)) => c.load(content, stamp, &samples, |old| {
                sample_hashes(content, 0, old)
            }),
            _ => (None, CacheUse::Off),
        };
        let source = Arc::new(Source {
            path: path.to_path_buf(),
            file,
            snapshot,
            detached: Mutex::new(Vec::new()),
            written_over: AtomicBool::new(false),
            base,
            delta: base - aligned,
            samples,
            guard,
            map,
            len,
            // The extent this source covers: with `upto`, less than the file's size, so that
            // `disk_change` sees the rest as appended rather than the file as rewritten.
            identity: FileIdentity {
                size: size as u64,
                ..FileIdentity::of(&meta)
            },
            line_ending: detect_line_ending(&sample, newlines),
            encoding,
            newlines,
            index: match (tail.and_then(|t| t.grows), cached) {
                (Some(shorter), _) => LineIndex::with_prefix(len, &shorter.index),
                (None, Some(cached)) => cached,
                (None, None) => LineIndex::new(len),
            },
            is_tail: tail.is_some(),
            cache: cache.cloned(),
            stamp: stamp.filter(|_| cache_use != CacheUse::Hit),
            cache_use,
        });
        LineIndex::spawn_builder(&source);
        Ok(source)
    }

    /// How the file on disk differs from what this source mapped: `stat` plus a re-read of the
    /// sampled blocks. Cost: one `stat` and up to [`SAMPLES`] reads of 4 KiB.
    /// A detached source no longer stands for the file: it reports `Unchanged`.
    pub fn disk_change(&self) -> DiskChange {
        if self.is_detached() {
            return DiskChange::Unchanged;
        }
        let meta = match std::fs::metadata(&self.path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return DiskChange::Deleted,
            Err(_) => return DiskChange::Rewritten,
        };
        let now = FileIdentity::of(&meta);
        let was = self.identity;
        if (now.dev, now.ino) != (was.dev, was.ino) {
            return DiskChange::Replaced;
        }
        if now.size < was.size {
            return DiskChange::Truncated { len: now.size };
        }
        // The file behind the path is the one we have open: read the samples through our fd.
        if self.samples != sample_hashes(&self.file, self.base, was.size as usize) {
            return DiskChange::Rewritten;
        }
        if now.size > was.size {
            return DiskChange::Appended { len: now.size };
        }
        if now.mtime_ns != was.mtime_ns {
            // Written without changing its size or any sampled block: it may have been rewritten
            // elsewhere, so it is not safe to call it unchanged.
            return DiskChange::Rewritten;
        }
        DiskChange::Unchanged
    }

    /// The index cache this source was opened with.
    pub(crate) fn index_cache(&self) -> Option<&IndexCache> {
        self.cache.as_ref()
    }

    /// How this source's index was obtained.
    pub fn cache_use(&self) -> CacheUse {
        self.cache_use
    }

    /// The file's stamp now (`fstat` of the descriptor opened), if it still has the size and
    /// mtime it had at open: then offsets in this source are offsets in the file. `None` for
    /// a changed file, or a tail (its file offsets are not its own).
    pub(crate) fn stamp_if_unchanged(&self) -> Option<Stamp> {
        if self.is_tail || self.is_detached() {
            return None;
        }
        let meta = self.file.metadata().ok()?;
        let now = FileIdentity::of(&meta);
        (now.size == self.identity.size && now.mtime_ns == self.identity.mtime_ns).then(|| {
            Stamp::of(
                &meta,
                std::time::SystemTime::UNIX_EPOCH,
                std::time::Duration::ZERO,
            )
        })
    }

    /// For the newest tail of a followed file: the file's stamp now and its sampled blocks
    /// over the whole file (as an open of it would take them), if the file has not changed
    /// since this tail was taken, so that it ends where this tail ends. Offsets
    /// ([`Source::file_offset`]) in the sources of that file are then offsets in the file as
    /// it is. `None` for a source that is not a tail, or a file changed again. Cost: one
    /// `fstat` and 8 reads of 4 KiB.
    pub(crate) fn grown_file_stamp(&self) -> Option<(Stamp, Vec<(usize, u64)>)> {
        if !self.is_tail || self.is_detached() {
            return None;
        }
        let meta = self.file.metadata().ok()?;
        let now = FileIdentity::of(&meta);
        let end = self.base + self.len;
        let same = now.size == self.identity.size
            && now.mtime_ns == self.identity.mtime_ns
            && usize::try_from(now.size).ok()? == end;
        same.then(|| {
            let stamp = Stamp::of(
                &meta,
                std::time::SystemTime::UNIX_EPOCH,
                std::time::Duration::ZERO,
            );
            (stamp, sample_hashes(&self.file, 0, end))
        })
    }

    /// The sampled blocks of this source's first `size` bytes, as an open of a file of that
    /// size takes them: to check something stored for the file before it grew. Cost: 8 reads
    /// of 4 KiB.
    pub(crate) fn samples_of(&self, size: usize) -> Vec<(usize, u64)> {
        let content = self.snapshot.as_ref().unwrap_or(&self.file);
        sample_hashes(content, self.base, self.base + size.min(self.len))
    }

    /// The sampled block hashes taken at open.
    pub(crate) fn samples(&self) -> &[(usize, u64)] {
        &self.samples
    }

    /// True for the bytes appended to a file after it was opened ([`Source::open_tail`]).
    pub(crate) fn is_tail(&self) -> bool {
        self.is_tail
    }

    /// Offset in the file of this source's byte `at`.
    pub(crate) fn file_offset(&self, at: usize) -> u64 {
        (self.base + at) as u64
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

    /// Which units of the file its line index counts as breaks.
    pub fn newlines(&self) -> Newlines {
        self.newlines
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

    /// Hands `f` the descriptors holding this source's bytes `[start, end)`, run by run, in
    /// order: `f(file, offset in that file, length)` returns how many bytes it took (its snapshot,
    /// the copies parts were detached onto, or the file), for `copy_file_range` on save.
    /// Stops at the first run `f` takes only part of; returns the bytes taken.
    pub(crate) fn copy_runs(
        &self,
        start: usize,
        end: usize,
        mut f: impl FnMut(&File, u64, u64) -> io::Result<u64>,
    ) -> io::Result<u64> {
        let (from, to) = (self.file_offset(start), self.file_offset(end));
        if let Some(snapshot) = &self.snapshot {
            return f(snapshot, from, to - from);
        }
        let detached = self.detached.lock().unwrap_or_else(PoisonError::into_inner);
        let mut at = from;
        while at < to {
            // The run holding `at`: the detached range holding it, else the file up to the
            // next detached range.
            let next = detached.partition_point(|d| d.end <= at);
            let (run, upper): ((&File, u64), u64) = match detached.get(next) {
                Some(d) if d.start <= at => ((&d.copy, d.offset + (at - d.start)), d.end),
                Some(d) => ((&self.file, at), d.start),
                None => ((&self.file, at), u64::MAX),
            };
            let len = to.min(upper) - at;
            let took = f(run.0, run.1, len)?;
            at += took;
            if took < len {
                break;
            }
        }
        Ok(at - from)
    }

    /// True if this source reads a reflink snapshot taken at open, so that no outside change
    /// of the file can reach its content.
    pub fn is_snapshot(&self) -> bool {
        self.snapshot.is_some()
    }

    /// True if this source reads bytes no other program can change (a snapshot, or copies it
    /// was detached onto).
    pub fn is_immune(&self) -> bool {
        self.snapshot.is_some() || self.is_detached()
    }

    /// True once [`Source::detach_ranges`] moved part of the mapping onto a copy, or was
    /// called with nothing to move: the source no longer stands for the file on disk.
    pub(crate) fn is_detached(&self) -> bool {
        self.written_over.load(Ordering::Acquire)
            || !self
                .detached
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .is_empty()
    }

    /// Moves the mapping of the file's ranges `(start, len)` (sorted, disjoint) onto `copy`,
    /// which holds them one after the other (a backup of those ranges: the first range's byte
    /// 0 at the copy's byte 0), so that the file can then be overwritten there while every
    /// reader (snapshots on other threads included) goes on reading the same content; bytes
    /// outside the ranges stay mapped from the file, which the caller does not change there.
    /// Every range starts at a multiple of the page size, and all but the last end at one (the
    /// last may end at the file's end). Parts already detached (by an earlier in-place save)
    /// stay on their copies: only the rest of each range moves. A range past the source's end
    /// is noted but maps nothing. The address range stays the same: slices borrowed from it
    /// stay valid. A snapshot keeps reading its snapshot. Either way the source no longer
    /// stands for the file on disk afterwards ([`Source::disk_change`] says `Unchanged`): the
    /// caller is about to change it.
    ///
    /// Errors if `copy` is too short or a remapping fails (ranges moved before it stay moved:
    /// their bytes are the same in the copy).
    pub(crate) fn detach_ranges(&self, ranges: &[(u64, u64)], copy: File) -> io::Result<()> {
        let copy = Arc::new(copy);
        let copy_len = copy.metadata()?.len();
        let mut detached = self.detached.lock().unwrap_or_else(PoisonError::into_inner);
        let mut in_copy = 0;
        for &(start, len) in ranges {
            let end = start + len;
            // The parts of [start, end) not detached yet.
            let mut gaps = Vec::new();
            let mut at = start;
            for d in detached.iter().filter(|d| d.end > start && d.start < end) {
                if d.start > at {
                    gaps.push((at, d.start));
                }
                at = at.max(d.end);
            }
            if at < end {
                gaps.push((at, end));
            }
            for (g_start, g_end) in gaps {
                let offset = in_copy + (g_start - start);
                if copy_len < offset + (g_end - g_start) {
                    return Err(io::Error::other("the copy is shorter than the ranges"));
                }
                if let (None, Some(map)) = (&self.snapshot, &self.map) {
                    // The mapping covers file offsets [aligned, aligned + map.len()).
                    let aligned = (self.base - self.delta) as u64;
                    let m_start = g_start.max(aligned);
                    let m_end = g_end.min(aligned + map.len() as u64);
                    if m_start < m_end {
                        sys::remap_fixed(
                            map,
                            (m_start - aligned) as usize,
                            (m_end - m_start) as usize,
                            &copy,
                            offset + (m_start - g_start),
                        )?;
                    }
                }
                let at = detached.partition_point(|d| d.start < g_start);
                detached.insert(
                    at,
                    Detached {
                        start: g_start,
                        end: g_end,
                        copy: Arc::clone(&copy),
                        offset,
                    },
                );
            }
            in_copy += len;
        }
        self.written_over.store(true, Ordering::Release);
        Ok(())
    }

    /// Bytes `[start, end)` of the original, from the mapping. Cost: O(1).
    ///
    /// Panics if the range is out of bounds: callers hold ranges of pieces, which the tree
    /// keeps within the source.
    pub(crate) fn slice(&self, start: usize, end: usize) -> &[u8] {
        match &self.map {
            Some(map) => &map[self.delta + start..self.delta + end],
            None => &[],
        }
    }

    /// Tells the kernel we are done with `[start, end)` of the mapping for now: it drops the
    /// page-table entries (the pages stay in the page cache), so a full scan by the line index
    /// does not leave the whole file counted in the process's resident memory. Best effort.
    pub(crate) fn release(&self, start: usize, end: usize) {
        if let Some(map) = &self.map {
            sys::release_pages(map, self.delta + start, end - start);
        }
    }

    /// Starts reading `[start, end)` of the original into the page cache (best effort).
    pub(crate) fn prefetch(&self, start: usize, end: usize) {
        if let Some(map) = &self.map {
            sys::prefetch_pages(map, self.delta + start, end.saturating_sub(start));
        }
    }
}

impl Indexed for Source {
    fn slice(&self, start: usize, end: usize) -> &[u8] {
        Source::slice(self, start, end)
    }

    fn following(&self, at: usize) -> &[u8] {
        let at = at.min(self.len);
        Source::slice(self, at, (at + 2).min(self.len))
    }

    fn newlines(&self) -> Newlines {
        self.newlines
    }

    fn release(&self, start: usize, end: usize) {
        Source::release(self, start, end)
    }

    fn prefetch(&self, start: usize, end: usize) {
        Source::prefetch(self, start, end)
    }

    fn is_damaged(&self) -> bool {
        Source::is_damaged(self)
    }

    fn path(&self) -> &Path {
        Source::path(self)
    }

    fn index(&self) -> &LineIndex {
        Source::index(self)
    }

    /// Stores the complete index in the cache, unless the bytes indexed may not be the file's
    /// as stamped at open (damaged by a truncation, detached for an in-place save; the cache
    /// also checks the file's stamp again).
    fn indexed_whole(&self) {
        if let (Some(cache), Some(stamp)) = (&self.cache, &self.stamp) {
            if !self.is_damaged() && !self.is_detached() {
                cache.store(
                    &self.file,
                    self.snapshot.as_ref().unwrap_or(&self.file),
                    stamp,
                    &self.samples,
                    &self.index,
                );
            }
        }
    }
}

/// An instant copy of `file` that shares its extents (`FICLONE` into an unnamed `O_TMPFILE` in
/// the same directory), or `None` where the filesystem cannot, the directory is not writable,
/// or the file changed while it was copied (`meta` is its state before).
fn reflink_snapshot(file: &File, path: &Path, meta: &std::fs::Metadata) -> Option<File> {
    use std::os::unix::fs::OpenOptionsExt;
    if std::env::var_os("TOME_NO_SNAPSHOT").is_some() || !sys::can_reflink(file) {
        return None;
    }
    let copy = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_TMPFILE)
        .mode(0o600)
        .open(sys::directory_of(path))
        .ok()?;
    if !sys::reflink(file, &copy) {
        return None;
    }
    let after = file.metadata().ok()?;
    let same = after.len() == meta.len()
        && after.mtime() == meta.mtime()
        && after.mtime_nsec() == meta.mtime_nsec()
        && copy.metadata().ok()?.len() == meta.len();
    same.then_some(copy)
}

/// Opens `path` for reading if it is a regular file with real content, without ever blocking
/// or touching anything else: the type is checked before opening (opening a FIFO waits for a
/// writer; opening a device may act on it), the open is non-blocking and the type checked
/// again on the descriptor (the name may have been swapped meanwhile). Files of the kernel's
/// own file systems (`/proc`, `/sys`…) are refused: their size says nothing of their content.
pub(crate) fn open_regular(path: &Path) -> Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let not_regular = || Error::NotRegularFile(path.to_path_buf());
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, "cannot open", e))?;
    if !meta.is_file() {
        return Err(not_regular());
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| Error::io(path, "cannot open", e))?;
    let meta = file
        .metadata()
        .map_err(|e| Error::io(path, "cannot stat", e))?;
    if !meta.is_file() {
        return Err(not_regular());
    }
    if sys::on_kernel_file_system(&file) {
        return Err(Error::KernelFile(path.to_path_buf()));
    }
    Ok(file)
}

/// How many blocks are sampled to tell an append from a rewrite.
pub const SAMPLES: usize = 8;
const SAMPLE_BLOCK: usize = 4096;

/// Hashes of up to [`SAMPLES`] 4 KiB blocks spread evenly over `[base, size)`, the first and the
/// last included. Read with `pread` (a block that cannot be read hashes as empty).
pub(crate) fn sample_hashes(file: &File, base: usize, size: usize) -> Vec<(usize, u64)> {
    use std::hash::{Hash, Hasher};
    let len = size.saturating_sub(base);
    if len == 0 {
        return Vec::new();
    }
    let last = len.saturating_sub(SAMPLE_BLOCK);
    let mut offsets: Vec<usize> = (0..SAMPLES)
        .map(|i| base + last * i / (SAMPLES - 1))
        .collect();
    offsets.dedup();
    let mut buf = vec![0u8; SAMPLE_BLOCK];
    offsets
        .into_iter()
        .map(|at| {
            let want = SAMPLE_BLOCK.min(size - at);
            let got = sys::read_fully_at(file, &mut buf[..want], at).unwrap_or(0);
            let mut h = std::collections::hash_map::DefaultHasher::new();
            buf[..got].hash(&mut h);
            (at, h.finish())
        })
        .collect()
}

fn detect_line_ending(sample: &[u8], nl: Newlines) -> LineEnding {
    let (crlf, lf, cr) = if nl == Newlines::Byte {
        let crlf = memchr::memmem::find_iter(sample, b"\r\n").count();
        let lf = bytecount::count(sample, b'\n') - crlf;
        let cr = bytecount::count(sample, b'\r') - crlf;
        (crlf, lf, cr)
    } else {
        // Breaks (standalone: a CRLF counts at its CR) and LFs; the rest follows.
        let pairs = sample.len() / 2 * 2;
        let sample = &sample[..pairs];
        let breaks = nl.count_standalone(sample);
        let (mut lf_units, mut cr_units) = (0, 0);
        let mut at = 0;
        while let Some(i) = nl.find(&sample[at..]) {
            if nl.first_unit(&sample[at + i..]) == b'\n' {
                lf_units += 1;
            } else {
                cr_units += 1;
            }
            at += i + 2;
        }
        // Each CRLF is one LF unit and one CR unit but one break.
        let crlf = lf_units + cr_units - breaks;
        (crlf, lf_units - crlf, cr_units - crlf)
    };
    if crlf > lf && crlf >= cr {
        LineEnding::CrLf
    } else if cr > lf && cr > crlf {
        LineEnding::Cr
    } else {
        LineEnding::Lf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_line_endings() {
        let byte = Newlines::Byte;
        assert_eq!(detect_line_ending(b"a\r\nb\r\nc\n", byte), LineEnding::CrLf);
        assert_eq!(detect_line_ending(b"a\nb\nc\r\n", byte), LineEnding::Lf);
        assert_eq!(detect_line_ending(b"a\rb\rc\n", byte), LineEnding::Cr);
        assert_eq!(detect_line_ending(b"", byte), LineEnding::Lf);
        for (text, want) in [
            ("a\r\nb\r\n\u{A0D}c\n", LineEnding::CrLf),
            ("a\nb\n\u{D0A}\u{A0D}c\r\n", LineEnding::Lf),
            ("a\rb\rc\n", LineEnding::Cr),
        ] {
            let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
            let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
            assert_eq!(detect_line_ending(&le, Newlines::Utf16Le), want, "{text:?}");
            assert_eq!(detect_line_ending(&be, Newlines::Utf16Be), want, "{text:?}");
        }
    }
}
