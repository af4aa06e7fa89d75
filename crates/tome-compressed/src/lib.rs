//! Random access into the decompressed bytes of a gzip or zstd file, without decompressing it
//! whole first: the read-only documents of Tome's compressed logs.
//!
//! [`Compressed::open`] starts one background thread, the *pass*, that decompresses the file
//! once from its start and records **restart points** as it goes (the zran method of zlib's
//! `examples/zran.c`, as indexed_gzip and lnav use it):
//!
//! * gzip: every [`Options::span`] bytes of output (4 MiB by default), at the next deflate
//!   block boundary, the compressed bit offset and the 32 KiB of output before it (the window
//!   back-references reach into), stored compressed; and the start of each gzip member (a
//!   member needs no window). Multi-member files (`cat a.gz b.gz`, pigz, bgzip) are read as
//!   `zcat` reads them; bytes after the last member that are not a gzip header are ignored
//!   (as gzip does with trailing zeros).
//! * zstd: frame boundaries (frames are independent: no window). A file of several frames,
//!   including the seekable format (its frames are found by the pass; its seek table is a
//!   skippable frame and is skipped), is read from the frame before the wanted offset. **A
//!   single-frame file has one restart point, its start**: a read at offset `x` decompresses
//!   `x` bytes first (about 1 s per GiB on one core). Correct, slow at the end of big files.
//!
//! With each point the pass records the number of line feeds before it, and publishes its
//! progress (decompressed bytes, line feeds, points) every block, so the start of the file is
//! readable at once and the rest as the pass reaches it. Reads past what the pass has reached
//! return [`Error::NotYet`].
//!
//! Costs:
//! * the pass: one decompression of the file (gzip -1 logs: ~300-400 MB/s of output on one
//!   core with zlib-rs), plus `memchr` over the output;
//! * memory: per GiB of output with the default span, 256 points × (48 bytes + the window
//!   compressed at zlib level 1: 3-10 KiB for logs, at most 32 KiB) ≈ 1-3 MiB for logs
//!   (measured: 2.4 MiB per GiB of `tome gen` log), 8 MiB at worst (random data); plus a
//!   cache of the [`CACHED_SPANS`] spans last decompressed
//!   (4 MiB each by default: 16 MiB at most);
//! * a read at offset `x`: decompresses from the point before `x`, i.e. at most one span
//!   (~10 ms for 4 MiB), nothing if that span is cached.
//!
//! Line breaks are line feeds (`\n`); a `\r` before one belongs to the break (CRLF). A lone
//! `\r` does not end a line here (unlike Tome's plain documents).
//!
//! Thread-safe: a [`Compressed`] is `Send + Sync`; reads from several threads decompress in
//! parallel (each has its own decoder; the point list and cache are locked briefly).

mod encode;
mod zlib;

pub use encode::{target_of, Encoder, Target};

use std::collections::VecDeque;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// How many decompressed spans are kept (least recently used out).
pub const CACHED_SPANS: usize = 4;
/// Spans longer than this (zstd single frames) are not cached: they are decompressed from
/// their start for every read.
const MAX_CACHED_SPAN: u64 = 64 << 20;
/// Compressed bytes read at a time.
const READ_BUF: usize = 256 << 10;
/// A line longer than this is not read to its end by [`Compressed::lines`] (its length is then
/// a lower bound).
pub const MAX_LINE_SCAN: u64 = 64 << 20;

/// A compression format recognised by its magic bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// gzip (RFC 1952), one member or several.
    Gzip,
    /// Zstandard (RFC 8878), one frame or several.
    Zstd,
}

impl Format {
    /// The name on the wire: `"gzip"` or `"zstd"`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Gzip => "gzip",
            Format::Zstd => "zstd",
        }
    }
}

/// Opens `path` for reading if it is a regular file: without waiting (`O_NONBLOCK`, so that a
/// FIFO without a writer, or a device, never blocks the open), then checked on the descriptor
/// opened. Anything else is an `InvalidInput` error.
fn open_regular(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} is not a regular file", path.display()),
        ));
    }
    Ok(file)
}

/// The format of the file at `path`, from its first 4 bytes (not its name): `None` for
/// anything else, a file that is not a regular one included (a FIFO is never waited for).
/// Cost: one open and one read of 4 bytes.
pub fn sniff(path: &Path) -> std::io::Result<Option<Format>> {
    let file = match open_regular(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut magic = [0u8; 4];
    let n = file.read_at(&mut magic, 0)?;
    Ok(format_of(&magic[..n]))
}

/// The format whose magic `head` starts with.
pub fn format_of(head: &[u8]) -> Option<Format> {
    if head.starts_with(&[0x1f, 0x8b]) {
        Some(Format::Gzip)
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Some(Format::Zstd)
    } else {
        None
    }
}

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading the file failed.
    #[error("cannot read the compressed file: {0}")]
    Io(#[from] std::io::Error),
    /// The compressed data is damaged or cut short; the text before the damage stays readable.
    #[error("{0}")]
    Corrupt(String),
    /// The pass has not reached this offset or line yet: ask again later.
    #[error("not decompressed yet")]
    NotYet,
    /// Past the end of the decompressed text.
    #[error("out of bounds: {0}")]
    OutOfBounds(String),
    /// Stopped by its cancellation check.
    #[error("cancelled")]
    Cancelled,
}

/// A result of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Settings for [`Compressed::open_with`].
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Output bytes between gzip restart points: the most a read decompresses before its
    /// first byte, and (with the cache) the memory cost: [`Compressed`]'s docs.
    pub span: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options { span: 4 << 20 }
    }
}

/// A place decompression can start from.
struct Point {
    /// Offset in the decompressed text.
    out: u64,
    /// Offset in the compressed file of the first byte to feed.
    input: u64,
    /// gzip inside a member: bits of the byte before `input` still to be fed (0-7).
    bits: u8,
    /// gzip inside a member: the 32 KiB before `out`, packed ([`zlib::pack`]). `None`: the
    /// point is the start of a gzip member or a zstd frame.
    window: Option<Box<[u8]>>,
    /// Line feeds in `[0, out)`.
    lines_before: u64,
}

/// What the pass has found so far.
#[derive(Default)]
struct State {
    points: Vec<Arc<Point>>,
    /// Per point: the offset of the first line feed at or after it, once seen.
    first_nl: Vec<Option<u64>>,
    /// Decompressed bytes decoded so far (all of them once `done`).
    out: u64,
    /// Compressed bytes consumed so far.
    input: u64,
    /// Line feeds in `[0, out)`.
    lines: u64,
    /// The last byte decoded was a line feed (or nothing was decoded).
    ends_with_nl: bool,
    /// The pass ended (whole file, damage, or cancelled).
    done: bool,
    /// Why the pass stopped before the end.
    error: Option<String>,
}

struct Shared {
    file: File,
    format: Format,
    compressed_len: u64,
    options: Options,
    state: Mutex<State>,
    /// Signalled whenever the pass publishes.
    advanced: Condvar,
    /// Stops the pass (set when the [`Compressed`] is dropped).
    stop: AtomicBool,
    cache: Mutex<VecDeque<(usize, Arc<Vec<u8>>)>>,
}

/// Progress of the pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Decompressed bytes decoded so far.
    pub decoded: u64,
    /// Compressed bytes consumed so far.
    pub consumed: u64,
    /// Size of the compressed file.
    pub compressed_len: u64,
    /// The pass has ended; `decoded` is the text's length.
    pub done: bool,
    /// Why it ended before the end of the data (damaged or truncated file).
    pub error: Option<String>,
    /// Restart points recorded.
    pub points: usize,
    /// Bytes the restart points take (their packed windows and bookkeeping).
    pub index_bytes: u64,
}

impl Progress {
    /// Percentage of the compressed file consumed (100 once done).
    pub fn percent(&self) -> u32 {
        if self.done || self.compressed_len == 0 {
            100
        } else {
            (self.consumed.min(self.compressed_len) as u128 * 100 / self.compressed_len as u128)
                as u32
        }
    }
}

/// The number of lines (line feeds + 1, as Tome counts them: a text ending with a line feed
/// has an empty last line).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineCount {
    /// Lines known for certain.
    pub known: u64,
    /// An estimate of the total from the compression ratio so far (= `known` once exact).
    pub estimate: u64,
    /// The pass has counted every line.
    pub exact: bool,
}

/// A line read by [`Compressed::lines`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// Its number (0-based).
    pub number: u64,
    /// Offset of its first byte.
    pub start: u64,
    /// Its length in bytes, without the line break (a lower bound when `!len_known`).
    pub len: u64,
    /// 0 (last line), 1 (`\n`) or 2 (`\r\n`).
    pub break_len: u8,
    /// Its first bytes, at most the `keep` asked for.
    pub text: Vec<u8>,
    /// False when its end lies past what the pass has reached, or past [`MAX_LINE_SCAN`].
    pub len_known: bool,
}

/// A compressed file opened for random access to its decompressed text. Dropping it stops
/// its pass.
pub struct Compressed {
    shared: Arc<Shared>,
}

impl Drop for Compressed {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
    }
}

/// A cancellation check: returns true to stop.
pub type Cancel<'a> = &'a (dyn Fn() -> bool + Sync);

/// Never cancels.
pub fn never() -> bool {
    false
}

impl Compressed {
    /// Opens `path` (gzip or zstd, by its magic) with the default [`Options`] and starts its
    /// pass on a thread of its own. Cost: one 4-byte read and a thread start.
    pub fn open(path: &Path) -> Result<Compressed> {
        Self::open_with(path, Options::default())
    }

    /// [`Compressed::open`] with `options`.
    pub fn open_with(path: &Path, options: Options) -> Result<Compressed> {
        let file = open_regular(path)?;
        let mut magic = [0u8; 4];
        let n = file.read_at(&mut magic, 0)?;
        let format = format_of(&magic[..n])
            .ok_or_else(|| Error::Corrupt("not a gzip or zstd file".into()))?;
        let compressed_len = file.metadata()?.len();
        let options = Options {
            span: options.span.max(zlib::WINDOW as u64),
        };
        let shared = Arc::new(Shared {
            file,
            format,
            compressed_len,
            options,
            state: Mutex::new(State {
                ends_with_nl: true,
                ..State::default()
            }),
            advanced: Condvar::new(),
            stop: AtomicBool::new(false),
            cache: Mutex::new(VecDeque::new()),
        });
        let pass = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("tome-unzip".into())
            .spawn(move || {
                let outcome = match pass.format {
                    Format::Gzip => gzip_pass(&pass),
                    Format::Zstd => zstd_pass(&pass),
                };
                let mut st = pass.lock();
                st.done = true;
                if let Err(e) = outcome {
                    st.error = Some(e);
                }
                drop(st);
                pass.advanced.notify_all();
            })?;
        Ok(Compressed { shared })
    }

    /// The format.
    pub fn format(&self) -> Format {
        self.shared.format
    }

    /// The pass's progress. Cost: a lock and a sum over the points.
    pub fn progress(&self) -> Progress {
        let st = self.shared.lock();
        Progress {
            decoded: st.out,
            consumed: st.input,
            compressed_len: self.shared.compressed_len,
            done: st.done,
            error: st.error.clone(),
            points: st.points.len(),
            index_bytes: st
                .points
                .iter()
                .map(|p| 64 + p.window.as_ref().map_or(0, |w| w.len() as u64))
                .sum(),
        }
    }

    /// The decompressed length, once the pass has ended (`None` before). Cost: a lock.
    pub fn len_known(&self) -> Option<u64> {
        let st = self.shared.lock();
        st.done.then_some(st.out)
    }

    /// The bytes decoded so far (the length once done). Cost: a lock.
    pub fn decoded(&self) -> u64 {
        self.shared.lock().out
    }

    /// Blocks until the pass has ended or `cancel` says stop (checked every 50 ms); the
    /// damage it stopped at, if any, as [`Error::Corrupt`].
    pub fn wait(&self, cancel: Cancel<'_>) -> Result<u64> {
        let mut st = self.shared.lock();
        while !st.done {
            if cancel() {
                return Err(Error::Cancelled);
            }
            st = self
                .shared
                .advanced
                .wait_timeout(st, std::time::Duration::from_millis(50))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        match &st.error {
            Some(e) => Err(Error::Corrupt(e.clone())),
            None => Ok(st.out),
        }
    }

    /// The line count so far. Cost: a lock.
    pub fn line_count(&self) -> LineCount {
        let st = self.shared.lock();
        let known = st.lines + 1;
        let exact = st.done;
        let estimate = if exact || st.input == 0 {
            known
        } else {
            let ratio = self.shared.compressed_len as f64 / st.input as f64;
            ((known as f64 * ratio) as u64).max(known)
        };
        LineCount {
            known,
            estimate,
            exact,
        }
    }

    /// Reads `len` bytes at `offset` (fewer at the end of the text). Errors: [`Error::NotYet`]
    /// past what the pass has reached (or the damage the pass stopped at, once it has).
    /// Cost: decompresses from the restart point before `offset` (at most a span, nothing if
    /// it is cached) to `offset + len`.
    pub fn read(&self, offset: u64, len: u64, cancel: Cancel<'_>) -> Result<Vec<u8>> {
        let end = offset.saturating_add(len);
        let frontier = self.frontier(offset)?;
        let end = end.min(frontier);
        let mut out = Vec::with_capacity((end - offset) as usize);
        if end > offset {
            self.stream(offset, end, cancel, &mut |_, chunk| {
                out.extend_from_slice(chunk);
                true
            })?;
        }
        Ok(out)
    }

    /// Where line `n` (0-based) starts. Errors: [`Error::NotYet`] while the pass has not
    /// counted that many line feeds, [`Error::OutOfBounds`] past the last line once done.
    /// Cost: a binary search of the points, then decompressing at most one span (nothing if
    /// cached) while counting line feeds.
    pub fn line_start(&self, n: u64, cancel: Cancel<'_>) -> Result<u64> {
        if n == 0 {
            return Ok(0);
        }
        let (point, frontier) = {
            let st = self.shared.lock();
            if n > st.lines {
                return Err(self.beyond(
                    &st,
                    format!("line {n}: the text has {} lines", st.lines + 1),
                ));
            }
            // The last point with fewer than `n` line feeds before it: the n-th one is after it.
            let i = st.points.partition_point(|p| p.lines_before < n) - 1;
            (Arc::clone(&st.points[i]), st.out)
        };
        let mut need = n - point.lines_before;
        let mut found = None;
        self.stream(point.out, frontier, cancel, &mut |at, chunk| {
            for (k, pos) in memchr::memchr_iter(b'\n', chunk).enumerate() {
                if k as u64 + 1 == need {
                    found = Some(at + pos as u64 + 1);
                    return false;
                }
            }
            need -= memchr::memchr_iter(b'\n', chunk).count() as u64;
            true
        })?;
        found.ok_or_else(|| Error::Corrupt("the line index does not match the text".into()))
    }

    /// The line holding `offset` (or starting there) and where it starts. Errors as
    /// [`Compressed::read`]. Cost: decompressing from the point before `offset` to it, and
    /// back span by span while no line feed is found (one span for lines shorter than a span).
    pub fn line_at(&self, offset: u64, cancel: Cancel<'_>) -> Result<(u64, u64)> {
        let frontier = self.frontier(offset)?;
        let offset = offset.min(frontier);
        let (points, i) = {
            let st = self.shared.lock();
            let i = st.points.partition_point(|p| p.out <= offset) - 1;
            (st.points[..=i].to_vec(), i)
        };
        let p = &points[i];
        let mut count = 0u64;
        let mut last_nl = None;
        if offset > p.out {
            self.stream(p.out, offset, cancel, &mut |at, chunk| {
                count += memchr::memchr_iter(b'\n', chunk).count() as u64;
                if let Some(k) = memchr::memrchr(b'\n', chunk) {
                    last_nl = Some(at + k as u64);
                }
                true
            })?;
        }
        let line = p.lines_before + count;
        if let Some(nl) = last_nl {
            return Ok((line, nl + 1));
        }
        // No line feed since the point: the line started in an earlier span.
        for j in (0..i).rev() {
            let q = &points[j];
            let mut last = None;
            self.stream(q.out, points[j + 1].out, cancel, &mut |at, chunk| {
                if let Some(k) = memchr::memrchr(b'\n', chunk) {
                    last = Some(at + k as u64);
                }
                true
            })?;
            if let Some(nl) = last {
                return Ok((line, nl + 1));
            }
        }
        Ok((line, 0))
    }

    /// Up to `count` lines from line `first`, each with at most `keep` bytes of text. Fewer at
    /// the end of the text or of what the pass has reached (the last then has
    /// `len_known: false` if its end is not decoded yet). Errors as [`Compressed::line_start`].
    /// Cost: [`Compressed::line_start`], then decompressing the lines (each read to its end,
    /// at most [`MAX_LINE_SCAN`] bytes).
    pub fn lines(
        &self,
        first: u64,
        count: usize,
        keep: usize,
        cancel: Cancel<'_>,
    ) -> Result<Vec<Line>> {
        let start = self.line_start(first, cancel)?;
        let (frontier, done) = {
            let st = self.shared.lock();
            (st.out, st.done)
        };
        let mut lines: Vec<Line> = Vec::with_capacity(count);
        if count == 0 {
            return Ok(lines);
        }
        let mut cur = Line {
            number: first,
            start,
            len: 0,
            break_len: 0,
            text: Vec::new(),
            len_known: false,
        };
        // The line was cut at MAX_LINE_SCAN: stop.
        let mut cut = false;
        // The line's last byte so far (a `\r` before the feed is part of a CRLF).
        let mut last = 0u8;
        self.stream(start, frontier, cancel, &mut |_, mut chunk| {
            while !chunk.is_empty() {
                let (piece, ended) = match memchr::memchr(b'\n', chunk) {
                    Some(k) => (&chunk[..k], true),
                    None => (chunk, false),
                };
                let room = keep.saturating_sub(cur.text.len()).min(piece.len());
                cur.text.extend_from_slice(&piece[..room]);
                cur.len += piece.len() as u64;
                if let Some(&b) = piece.last() {
                    last = b;
                }
                if ended {
                    chunk = &chunk[piece.len() + 1..];
                    cur.break_len = 1;
                    cur.len_known = true;
                    finish_crlf(&mut cur, last);
                    last = 0;
                    let next = Line {
                        number: cur.number + 1,
                        start: cur.start + cur.len + u64::from(cur.break_len),
                        len: 0,
                        break_len: 0,
                        text: Vec::new(),
                        len_known: false,
                    };
                    lines.push(std::mem::replace(&mut cur, next));
                    if lines.len() == count {
                        return false;
                    }
                } else {
                    chunk = &[];
                    if cur.len >= MAX_LINE_SCAN {
                        cut = true;
                        return false;
                    }
                }
            }
            true
        })?;
        if lines.len() < count {
            // The last line, without a break: complete if the text ends here.
            cur.len_known = done && !cut;
            if cur.len == 0 && !done {
                // Nothing of it decoded yet: not an empty line.
                if lines.is_empty() {
                    return Err(Error::NotYet);
                }
            } else {
                lines.push(cur);
            }
        }
        Ok(lines)
    }

    /// Line-aligned pieces covering the whole text, about one span each, for searches that
    /// split the text: each starts at a line start (after a line feed) and ends after a line
    /// feed or at the end. Errors: the pass's damage; [`Error::Cancelled`]. Cost: waits for
    /// the pass ([`Compressed::wait`]).
    pub fn chunks(&self, cancel: Cancel<'_>) -> Result<Vec<std::ops::Range<u64>>> {
        let len = self.wait(cancel)?;
        let st = self.shared.lock();
        let mut bounds = vec![0u64];
        for nl in st.first_nl.iter().skip(1).flatten() {
            let b = nl + 1;
            if b > *bounds.last().unwrap_or(&0) && b < len {
                bounds.push(b);
            }
        }
        bounds.push(len);
        Ok(bounds
            .windows(2)
            .map(|w| w[0]..w[1])
            .filter(|r| !r.is_empty())
            .collect())
    }

    /// Calls `f` with the text of `[from, to)` in pieces, in order, until it returns false.
    /// `to` is clamped to what the pass has reached. Cost: decompresses from the point before
    /// `from` to `to` (cached spans are not decompressed again).
    pub fn for_each_piece(
        &self,
        from: u64,
        to: u64,
        cancel: Cancel<'_>,
        f: &mut dyn FnMut(u64, &[u8]) -> bool,
    ) -> Result<()> {
        let frontier = self.frontier(from)?;
        self.stream(from, to.min(frontier), cancel, f)
    }

    /// The end of what can be read now, checking that `offset` is in it.
    fn frontier(&self, offset: u64) -> Result<u64> {
        let st = self.shared.lock();
        if offset > st.out || (offset == st.out && !st.done && offset > 0) {
            return Err(self.beyond(
                &st,
                format!("offset {offset}: the text has {} bytes", st.out),
            ));
        }
        Ok(st.out)
    }

    /// The error for something past what the pass reached.
    fn beyond(&self, st: &State, what: String) -> Error {
        match (&st.error, st.done) {
            (Some(e), _) => Error::Corrupt(e.clone()),
            (None, true) => Error::OutOfBounds(what),
            (None, false) => Error::NotYet,
        }
    }

    /// Calls `f(offset, bytes)` with the text of `[from, to)` in order until it returns false.
    fn stream(
        &self,
        from: u64,
        to: u64,
        cancel: Cancel<'_>,
        f: &mut dyn FnMut(u64, &[u8]) -> bool,
    ) -> Result<()> {
        let mut at = from;
        while at < to {
            if cancel() {
                return Err(Error::Cancelled);
            }
            let (i, point, next) = {
                let st = self.shared.lock();
                let i = st.points.partition_point(|p| p.out <= at) - 1;
                (
                    i,
                    Arc::clone(&st.points[i]),
                    st.points.get(i + 1).map(|p| p.out),
                )
            };
            match next {
                Some(end) if end - point.out <= MAX_CACHED_SPAN => {
                    let span = self.span(i, &point, end, cancel)?;
                    let stop = (to.min(end) - point.out) as usize;
                    let bytes = &span[(at - point.out) as usize..stop];
                    if !f(at, bytes) {
                        return Ok(());
                    }
                    at = point.out + stop as u64;
                }
                _ => {
                    let end = next.unwrap_or(u64::MAX).min(to);
                    let mut go_on = true;
                    decode(&self.shared, &point, cancel, &mut |pos, chunk| {
                        let chunk_end = pos + chunk.len() as u64;
                        if chunk_end <= at {
                            return true; // still before `at` (< end)
                        }
                        // Chunks are contiguous from the point, so `pos <= at` here.
                        let s = (at - pos) as usize;
                        let e = (end.min(chunk_end) - pos) as usize;
                        go_on = f(at, &chunk[s..e]);
                        at = pos + e as u64;
                        go_on && at < end
                    })?;
                    if !go_on {
                        return Ok(());
                    }
                    if at < end {
                        return Err(Error::Corrupt(format!(
                            "the compressed data ends at decompressed byte {at}"
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    /// Span `i` (from `point` to `end`) decompressed, from the cache or decoded and cached.
    fn span(&self, i: usize, point: &Point, end: u64, cancel: Cancel<'_>) -> Result<Arc<Vec<u8>>> {
        {
            let mut cache = self.shared.cache.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(k) = cache.iter().position(|(j, _)| *j == i) {
                let hit = cache.remove(k).map(|(_, s)| s);
                if let Some(s) = hit {
                    cache.push_front((i, Arc::clone(&s)));
                    return Ok(s);
                }
            }
        }
        let want = (end - point.out) as usize;
        let mut buf = Vec::with_capacity(want);
        decode(&self.shared, point, cancel, &mut |_, chunk| {
            let take = chunk.len().min(want - buf.len());
            buf.extend_from_slice(&chunk[..take]);
            buf.len() < want
        })?;
        if buf.len() < want {
            return Err(Error::Corrupt(format!(
                "the compressed data ends at decompressed byte {}",
                point.out + buf.len() as u64
            )));
        }
        let span = Arc::new(buf);
        let mut cache = self.shared.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.push_front((i, Arc::clone(&span)));
        cache.truncate(CACHED_SPANS);
        Ok(span)
    }
}

/// Moves the `\r` that ends a line (its `last` byte, before its line feed) from the line to
/// its break (CRLF).
fn finish_crlf(line: &mut Line, last: u8) {
    if line.break_len == 1 && line.len > 0 && last == b'\r' {
        line.len -= 1;
        if line.text.len() as u64 > line.len {
            line.text.pop();
        }
        line.break_len = 2;
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }

    /// Publishes `out` bytes decoded (with `new` just decoded) and `input` consumed.
    fn publish(&self, st: &mut State, new: &[u8], input: u64) {
        let n = memchr::memchr_iter(b'\n', new).count() as u64;
        let base = st.out;
        if let (Some(slot @ None), Some(k)) = (st.first_nl.last_mut(), memchr::memchr(b'\n', new)) {
            *slot = Some(base + k as u64);
        }
        st.lines += n;
        st.out += new.len() as u64;
        st.input = input;
        if let Some(&b) = new.last() {
            st.ends_with_nl = b == b'\n';
        }
    }

    fn push_point(&self, st: &mut State, input: u64, bits: u8, window: Option<Box<[u8]>>) {
        st.points.push(Arc::new(Point {
            out: st.out,
            input,
            bits,
            window,
            lines_before: st.lines,
        }));
        st.first_nl.push(None);
    }
}

/// Reads compressed bytes from a file offset on.
struct Input<'a> {
    file: &'a File,
    buf: Vec<u8>,
    /// File offset of `buf[0]`.
    base: u64,
    /// Consumed bytes of `buf`.
    used: usize,
    eof: bool,
}

impl<'a> Input<'a> {
    fn new(file: &'a File, at: u64) -> Input<'a> {
        Input {
            file,
            buf: Vec::new(),
            base: at,
            used: 0,
            eof: false,
        }
    }

    /// File offset of the next byte.
    fn pos(&self) -> u64 {
        self.base + self.used as u64
    }

    /// The unconsumed bytes, reading more when none are left (empty at the end of the file).
    fn available(&mut self) -> std::io::Result<&[u8]> {
        if self.used == self.buf.len() && !self.eof {
            self.base += self.used as u64;
            self.used = 0;
            self.buf.resize(READ_BUF, 0);
            let n = loop {
                match self.file.read_at(&mut self.buf, self.base) {
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    other => break other?,
                }
            };
            self.buf.truncate(n);
            self.eof = n == 0;
        }
        Ok(&self.buf[self.used..])
    }

    fn consume(&mut self, n: usize) {
        self.used += n;
    }

    /// Skips `n` bytes (a gzip trailer).
    fn skip(&mut self, mut n: usize) -> std::io::Result<()> {
        while n > 0 {
            let have = self.available()?.len();
            if have == 0 {
                return Ok(());
            }
            let k = have.min(n);
            self.consume(k);
            n -= k;
        }
        Ok(())
    }

    /// The next two bytes are a gzip header's magic.
    fn at_gzip_member(&mut self) -> std::io::Result<bool> {
        let mut head = [0u8; 2];
        let n = self.file.read_at(&mut head, self.pos())?;
        Ok(n == 2 && head == [0x1f, 0x8b])
    }
}

/// zlib's message for a failed step.
fn zlib_error(inf: &zlib::Inflater, code: i32, at: u64) -> String {
    let what = inf.message().unwrap_or_else(|| format!("zlib code {code}"));
    format!("the gzip data is damaged at decompressed byte {at}: {what}")
}

fn truncated(at: u64) -> String {
    format!("the compressed file is truncated: it ends inside its data, at decompressed byte {at}")
}

/// The gzip pass: decompresses the whole file once, recording restart points.
fn gzip_pass(shared: &Shared) -> std::result::Result<(), String> {
    let io = |e: std::io::Error| format!("cannot read the compressed file: {e}");
    let mut inf = zlib::Inflater::new(zlib::GZIP)?;
    let mut input = Input::new(&shared.file, 0);
    let mut ring = vec![0u8; zlib::WINDOW];
    // Total output, and where the last point was taken.
    let (mut out, mut last_point) = (0u64, 0u64);
    {
        let mut st = shared.lock();
        shared.push_point(&mut st, 0, 0, None);
    }
    loop {
        if shared.stopped() {
            return Ok(());
        }
        let pos = (out % zlib::WINDOW as u64) as usize;
        let avail = input.available().map_err(io)?;
        let at_eof = avail.is_empty();
        let step = inf.inflate(avail, &mut ring[pos..], libz_rs_sys::Z_BLOCK);
        input.consume(step.consumed);
        {
            let mut st = shared.lock();
            shared.publish(&mut st, &ring[pos..pos + step.produced], input.pos());
        }
        shared.advanced.notify_all();
        out += step.produced as u64;
        match step.code {
            libz_rs_sys::Z_OK | libz_rs_sys::Z_BUF_ERROR => {
                if at_eof && step.produced == 0 {
                    return Err(truncated(out));
                }
            }
            libz_rs_sys::Z_STREAM_END => {
                // The end of a member (its trailer checked): another may follow.
                if !input.at_gzip_member().map_err(io)? {
                    return Ok(());
                }
                inf.reset(zlib::GZIP)?;
                if out - last_point >= shared.options.span {
                    let mut st = shared.lock();
                    shared.push_point(&mut st, input.pos(), 0, None);
                    last_point = out;
                }
                continue;
            }
            code => return Err(zlib_error(&inf, code, out)),
        }
        let block_end = step.data_type & 128 != 0 && step.data_type & 64 == 0;
        if block_end && out - last_point >= shared.options.span {
            // The window: the last 32 KiB of output, oldest first.
            let end = (out % zlib::WINDOW as u64) as usize;
            let mut window = Vec::with_capacity(zlib::WINDOW);
            if out >= zlib::WINDOW as u64 {
                window.extend_from_slice(&ring[end..]);
            }
            window.extend_from_slice(&ring[..end]);
            let packed = zlib::pack(&window);
            let mut st = shared.lock();
            shared.push_point(
                &mut st,
                input.pos(),
                (step.data_type & 7) as u8,
                Some(packed),
            );
            last_point = out;
        }
    }
}

/// Decodes from `point` on, calling `f(offset, bytes)` until it returns false or the data
/// ends (as far as it is valid: damage is an error).
fn decode(
    shared: &Shared,
    point: &Point,
    cancel: Cancel<'_>,
    f: &mut dyn FnMut(u64, &[u8]) -> bool,
) -> Result<()> {
    match shared.format {
        Format::Gzip => gzip_decode(shared, point, cancel, f),
        Format::Zstd => zstd_decode(shared, point, cancel, f),
    }
}

fn gzip_decode(
    shared: &Shared,
    point: &Point,
    cancel: Cancel<'_>,
    f: &mut dyn FnMut(u64, &[u8]) -> bool,
) -> Result<()> {
    let mut input = Input::new(&shared.file, point.input);
    let mut raw = point.window.is_some();
    let mut inf = if raw {
        let mut inf = zlib::Inflater::new(zlib::RAW).map_err(Error::Corrupt)?;
        if point.bits > 0 {
            let mut byte = [0u8; 1];
            let at = point
                .input
                .checked_sub(1)
                .ok_or_else(|| Error::Corrupt("bad restart point".into()))?;
            shared.file.read_exact_at(&mut byte, at)?;
            inf.prime(point.bits, byte[0] >> (8 - point.bits))
                .map_err(Error::Corrupt)?;
        }
        let window =
            zlib::unpack(point.window.as_deref().unwrap_or(&[])).map_err(Error::Corrupt)?;
        inf.set_dictionary(&window).map_err(Error::Corrupt)?;
        inf
    } else {
        zlib::Inflater::new(zlib::GZIP).map_err(Error::Corrupt)?
    };
    let mut out = point.out;
    let mut buf = vec![0u8; 256 << 10];
    loop {
        if cancel() {
            return Err(Error::Cancelled);
        }
        let avail = input.available()?;
        let at_eof = avail.is_empty();
        let step = inf.inflate(avail, &mut buf, libz_rs_sys::Z_NO_FLUSH);
        input.consume(step.consumed);
        if step.produced > 0 {
            let go_on = f(out, &buf[..step.produced]);
            out += step.produced as u64;
            if !go_on {
                return Ok(());
            }
        }
        match step.code {
            libz_rs_sys::Z_OK | libz_rs_sys::Z_BUF_ERROR => {
                if at_eof && step.produced == 0 {
                    return Err(Error::Corrupt(truncated(out)));
                }
            }
            libz_rs_sys::Z_STREAM_END => {
                if raw {
                    // A raw inflater stops before the member's trailer (CRC and size).
                    input.skip(8)?;
                    raw = false;
                }
                if !input.at_gzip_member()? {
                    return Ok(());
                }
                inf.reset(zlib::GZIP).map_err(Error::Corrupt)?;
            }
            code => return Err(Error::Corrupt(zlib_error(&inf, code, out))),
        }
    }
}

/// The zstd pass: decodes the whole file once, recording frame starts as restart points.
fn zstd_pass(shared: &Shared) -> std::result::Result<(), String> {
    use zstd::zstd_safe::{DCtx, InBuffer, OutBuffer};
    let io = |e: std::io::Error| format!("cannot read the compressed file: {e}");
    let mut dctx = DCtx::try_create().ok_or("cannot start a zstd decoder")?;
    let mut input = Input::new(&shared.file, 0);
    let mut buf = vec![0u8; 256 << 10];
    let (mut out, mut last_point) = (0u64, 0u64);
    {
        let mut st = shared.lock();
        shared.push_point(&mut st, 0, 0, None);
    }
    // Between frames: nothing of the current frame decoded or pending.
    let mut between = true;
    loop {
        if shared.stopped() {
            return Ok(());
        }
        if input.available().map_err(io)?.is_empty() {
            return if between { Ok(()) } else { Err(truncated(out)) };
        }
        if between && out - last_point >= shared.options.span {
            let mut st = shared.lock();
            shared.push_point(&mut st, input.pos(), 0, None);
            last_point = out;
        }
        let avail = input.available().map_err(io)?;
        let mut inb = InBuffer::around(avail);
        let mut outb = OutBuffer::around(&mut buf[..]);
        let hint = dctx
            .decompress_stream(&mut outb, &mut inb)
            .map_err(|code| {
                format!(
                    "the zstd data is damaged at decompressed byte {out}: {}",
                    zstd::zstd_safe::get_error_name(code)
                )
            })?;
        let (consumed, produced) = (inb.pos(), outb.pos());
        input.consume(consumed);
        {
            let mut st = shared.lock();
            shared.publish(&mut st, &buf[..produced], input.pos());
        }
        shared.advanced.notify_all();
        out += produced as u64;
        // 0: a frame is decoded and flushed; the next byte starts another (or the end).
        between = hint == 0;
        if !between && consumed == 0 && produced == 0 {
            return Err(format!(
                "the zstd data is damaged at decompressed byte {out}"
            ));
        }
    }
}

fn zstd_decode(
    shared: &Shared,
    point: &Point,
    cancel: Cancel<'_>,
    f: &mut dyn FnMut(u64, &[u8]) -> bool,
) -> Result<()> {
    use zstd::zstd_safe::{DCtx, InBuffer, OutBuffer};
    let mut dctx =
        DCtx::try_create().ok_or_else(|| Error::Corrupt("cannot start a zstd decoder".into()))?;
    let mut input = Input::new(&shared.file, point.input);
    let mut buf = vec![0u8; 256 << 10];
    let mut out = point.out;
    let mut between = true;
    loop {
        if cancel() {
            return Err(Error::Cancelled);
        }
        let avail = input.available()?;
        if avail.is_empty() {
            return if between {
                Ok(())
            } else {
                Err(Error::Corrupt(truncated(out)))
            };
        }
        let mut inb = InBuffer::around(avail);
        let mut outb = OutBuffer::around(&mut buf[..]);
        let hint = dctx
            .decompress_stream(&mut outb, &mut inb)
            .map_err(|code| {
                Error::Corrupt(format!(
                    "the zstd data is damaged at decompressed byte {out}: {}",
                    zstd::zstd_safe::get_error_name(code)
                ))
            })?;
        let (consumed, produced) = (inb.pos(), outb.pos());
        input.consume(consumed);
        if produced > 0 {
            let go_on = f(out, &buf[..produced]);
            out += produced as u64;
            if !go_on {
                return Ok(());
            }
        }
        between = hint == 0;
        if !between && consumed == 0 && produced == 0 {
            return Err(Error::Corrupt(format!(
                "the zstd data is damaged at decompressed byte {out}"
            )));
        }
    }
}
