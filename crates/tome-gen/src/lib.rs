//! Deterministic generator of large, log-like text inputs for Tome's tests
//! and benchmarks.
//!
//! Big fixtures are never committed; they are produced on demand by this
//! crate instead. Given a [`GenConfig`], the output is a pure function of the
//! configuration: the same configuration always yields byte-for-byte the same
//! output, on every platform, in every run.
//!
//! A typical line looks like this (one line; wrapped here for width):
//!
//! ```text
//! 2026-11-27T00:00:00.096Z INFO  [worker-48] seq=11 POST /api/v1/carts/60474 status=200
//!     latency_ms=288 req_id=232b1440 user=u1234
//! ```
//!
//! Fields: timestamp, level (`INFO`, `DEBUG`, `WARN`, `ERROR`, `TRACE`),
//! worker, `seq=N`, then (if this is a needle line) the needle, then one of
//! several event kinds (HTTP request, `db query …`, `cache hit|miss …`,
//! `heartbeat …`, free text `msg="…"`), then optional `user=…` and, in
//! unicode mode, `note="…"` fields.
//!
//! # Guarantees
//!
//! * **Exact size.** The output is exactly [`GenConfig::size`] bytes. Lines are
//!   generated in full until the next one would not fit; that last line is
//!   then cut short as described on [`GenConfig::size`].
//! * **Recoverable line numbers.** Every line contains the field `seq=N` where
//!   `N` is its 0-based line number, so a test can check that "line N" really
//!   is line `N`. The first field of every line is a UTC timestamp that never
//!   decreases from one line to the next.
//! * **Prefix stability.** For a fixed configuration, changing only `size`
//!   changes only the last (cut) line: every complete line of a smaller output
//!   is also, at the same offset, a complete line of a bigger one.
//! * **Line lengths** vary between about 55 and 200 bytes (terminator
//!   excluded), about 105 bytes on average (a little more as the `seq`
//!   numbers grow); a needle or a non-ASCII note makes a line longer.
//! * **Character set.** With [`GenConfig::unicode`] off the output is pure
//!   ASCII; with it on, about one line in four carries a `note="…"` field with
//!   multibyte UTF-8 (2-, 3- and 4-byte sequences such as `é`, `漢字` and the
//!   emoji `🦀`, which is 2 UTF-16 code units). The output is always valid
//!   UTF-8, even when the cut of the last line falls inside a character.
//! * **Rare matches.** With [`GenConfig::needle`] set, the needle is inserted
//!   into line `N` exactly when `(N + 1) % needle_every == 0`; the number of
//!   copies actually written is reported in [`GenStats::needles`]. The
//!   generated text never contains the character `#`, so a needle that starts
//!   and ends with `#` (such as [`DEFAULT_NEEDLE`]) occurs in the output
//!   exactly [`GenStats::needles`] times.
//!
//! # Example
//!
//! ```
//! use tome_gen::{generate_vec, write, GenConfig, LineEnding, DEFAULT_NEEDLE};
//!
//! let cfg = GenConfig {
//!     size: 64 * 1024,
//!     seed: 7,
//!     line_ending: LineEnding::CrLf,
//!     unicode: true,
//!     needle: Some(DEFAULT_NEEDLE.to_string()),
//!     needle_every: 100,
//! };
//!
//! // In memory, for small inputs:
//! let bytes = generate_vec(&cfg);
//! assert_eq!(bytes.len(), 64 * 1024);
//! assert!(std::str::from_utf8(&bytes).is_ok());
//!
//! // Streaming into any `io::Write` (use `write_file` for big files); the
//! // returned statistics say how many lines and needles were written.
//! let mut out = Vec::new();
//! let stats = write(&cfg, &mut out).unwrap();
//! assert_eq!(out, bytes);
//! assert_eq!(stats.bytes, 64 * 1024);
//! let text = std::str::from_utf8(&out).unwrap();
//! assert_eq!(text.matches(DEFAULT_NEEDLE).count() as u64, stats.needles);
//! assert!(text.starts_with("2026-11-27T"));
//! assert!(text.lines().nth(3).unwrap().contains(" seq=3 "));
//! ```
//!
//! # Performance
//!
//! Lines are formatted without `format!` (hand-written integer and hex
//! formatting, fixed-size copies of padded tokens, an in-place decimal
//! counter for `seq`) straight into a reusable 1 MiB buffer, which is handed
//! to the writer in one `write_all` call whenever it fills up. Generation
//! alone runs at about 3 GB/s on one core; [`write_file`] overlaps it with
//! the file writes and is usually bound by the page cache (1–2 GB/s
//! measured). `examples/gen_speed.rs` measures both:
//!
//! ```text
//! cargo run -p tome-gen --release --example gen_speed [GiB] [path]
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::sync::mpsc;

/// A needle that never occurs in generated text by itself: it starts and ends
/// with `#`, a character the generator never emits. With this needle,
/// [`GenStats::needles`] equals the number of occurrences in the output.
///
/// Cost: a constant; free.
pub const DEFAULT_NEEDLE: &str = "#TOME-NEEDLE#";

/// Line terminator style of the generated text.
///
/// Cost: a plain `Copy` enum; free to copy and compare.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum LineEnding {
    /// Every line ends with `\n` (Unix). The output contains no `\r`.
    #[default]
    Lf,
    /// Every line ends with `\r\n` (Windows): every `\n` is preceded by `\r`
    /// and every `\r` is followed by `\n`. A cut last line gets either its
    /// full `\r\n` or no terminator at all, never half of it.
    CrLf,
    /// Every line ends with a lone `\r` (classic Mac OS). The output contains
    /// no `\n`.
    Cr,
    /// Each line independently ends with `\n` (about 1/2 of the lines),
    /// `\r\n` (about 1/4) or a lone `\r` (about 1/4), chosen from the seed.
    /// A lone `\r` is never followed by `\n` (lines start with a digit), so
    /// line boundaries are unambiguous.
    Mixed,
}

/// What to generate. Build it with struct-update syntax over
/// [`GenConfig::default`].
///
/// Cost: constructing and cloning it is cheap (one optional `String`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenConfig {
    /// Exact number of bytes to produce.
    ///
    /// Lines are generated in order and written in full (content followed by
    /// its terminator) while they fit. Let `r` be the number of bytes still
    /// missing when the next line (content of `c` bytes plus a terminator of
    /// `t` bytes) does not fit, i.e. `0 < r < c + t`. That last line is cut:
    ///
    /// * if `r > t`, its first `r - t` content bytes are written, followed by
    ///   its full terminator;
    /// * otherwise (`r <= t`), its first `r` content bytes are written and
    ///   the output ends without a terminator.
    ///
    /// So a non-empty output ends with a terminator unless the cut line had
    /// room for `t` bytes or fewer (e.g. always when `size` is 1). If a cut
    /// splits a multibyte UTF-8 character, the bytes of that partial
    /// character are replaced by `.` (same count), so the output stays valid
    /// UTF-8. A cut line is always at least one byte long; no empty line is
    /// ever produced.
    ///
    /// `0` produces an empty output. Default: 1 MiB.
    pub size: u64,
    /// Seed of the pseudo-random generator; every choice (levels, lengths,
    /// numbers, words, timestamps, mixed terminators) derives from it.
    /// Different seeds give different outputs. Default: `0`.
    pub seed: u64,
    /// Line terminator style. Default: [`LineEnding::Lf`].
    pub line_ending: LineEnding,
    /// When `true`, about one line in four carries multibyte UTF-8 text
    /// (`é`, `漢字`, `🦀`, …). When `false`, the output is pure ASCII.
    /// Default: `false`.
    pub unicode: bool,
    /// Text to insert into every `needle_every`-th line (as its own
    /// space-separated field right after `seq=N`), so that tests and
    /// benchmarks know how many rare matches exist. It must be non-empty and
    /// contain no `\r` or `\n`; otherwise [`write`] fails with
    /// [`io::ErrorKind::InvalidInput`]. Use a needle that starts and ends
    /// with `#` (e.g. [`DEFAULT_NEEDLE`]) to be sure it never occurs anywhere
    /// else. Default: `None`.
    pub needle: Option<String>,
    /// Insert the needle into line `N` (0-based) when
    /// `(N + 1) % needle_every == 0`, i.e. into lines `needle_every - 1`,
    /// `2 * needle_every - 1`, …; so `k` complete lines hold
    /// `k / needle_every` needles. `0` disables insertion. Ignored when
    /// `needle` is `None`. Default: `1000`.
    pub needle_every: u64,
}

impl Default for GenConfig {
    /// 1 MiB of ASCII text with `\n` terminators, seed 0, no needle
    /// (`needle_every` = 1000).
    ///
    /// Cost: free (no allocation).
    fn default() -> Self {
        GenConfig {
            size: 1 << 20,
            seed: 0,
            line_ending: LineEnding::Lf,
            unicode: false,
            needle: None,
            needle_every: 1000,
        }
    }
}

/// What a generation run produced.
///
/// Cost: a plain `Copy` struct; free.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct GenStats {
    /// Bytes written; always equal to [`GenConfig::size`].
    pub bytes: u64,
    /// Number of line terminators written (`\r\n` counts once), plus one if
    /// the output is non-empty and does not end with a terminator. In other
    /// words, the number of lines holding at least one byte, counting a cut
    /// last line. `0` for an empty output.
    pub lines: u64,
    /// Number of complete copies of the needle written. A copy cut off by
    /// the end of the output is not counted. `0` when no needle is set.
    pub needles: u64,
}

/// Streams the output described by `cfg` into `w` and returns what was
/// written.
///
/// The text is built in a 1 MiB buffer that is passed to `w.write_all` each
/// time it fills up (so `w` needs no extra buffering), and `w.flush()` is
/// called once at the end. Everything runs on the calling thread. Pass
/// `&mut w` to keep using the writer afterwards.
///
/// Cost: `O(cfg.size)` time (generation runs at a few GB/s, plus whatever `w`
/// costs), about 1 MiB of memory (plus the needle length).
///
/// # Errors
///
/// [`io::ErrorKind::InvalidInput`] if the needle is empty or contains `\r` or
/// `\n` (nothing is written then); otherwise any error returned by `w`.
pub fn write<W: Write>(cfg: &GenConfig, mut w: W) -> io::Result<GenStats> {
    let stats = drive(cfg, CHUNK, |buf: &mut Vec<u8>, len: usize| {
        w.write_all(&buf[..len])
    })?;
    w.flush()?;
    Ok(stats)
}

/// Creates (or truncates) the file at `path` and writes the output described
/// by `cfg` into it; the bytes and the returned statistics are identical to
/// what [`write`] produces.
///
/// Generation and file writes overlap: a helper thread (scoped; joined before
/// returning) writes each 1 MiB chunk while the calling thread generates the
/// next one. The data is not `fsync`ed: it is in the page cache when this
/// returns.
///
/// Cost: `O(cfg.size)` time, bounded by the slower of generation and the
/// file system's write speed (typically 1–2 GB/s to the page cache); one
/// extra thread; at most 3 MiB of buffers (plus the needle length).
///
/// # Errors
///
/// Errors from creating or writing the file, and the needle errors of
/// [`write`] (checked before the file is created).
pub fn write_file<P: AsRef<Path>>(cfg: &GenConfig, path: P) -> io::Result<GenStats> {
    validate(cfg)?;
    let mut file = File::create(path)?;
    let (full_tx, full_rx) = mpsc::sync_channel::<(Vec<u8>, usize)>(1);
    let (free_tx, free_rx) = mpsc::channel::<Vec<u8>>();
    let writer_gone =
        || io::Error::new(io::ErrorKind::BrokenPipe, "tome-gen writer thread stopped");
    std::thread::scope(|s| {
        let writer = s.spawn(move || -> io::Result<()> {
            for (buf, len) in full_rx {
                file.write_all(&buf[..len])?;
                // The generator may be done and gone; then the buffer is dropped.
                let _ = free_tx.send(buf);
            }
            file.flush()
        });
        // Up to 3 buffers: one being filled, one queued, one being written.
        let mut spare_buffers = 2;
        let gen = drive(cfg, CHUNK, |buf: &mut Vec<u8>, len: usize| {
            let next = match free_rx.try_recv() {
                Ok(b) => b,
                Err(_) if spare_buffers > 0 => {
                    spare_buffers -= 1;
                    vec![0; buf.len()]
                }
                Err(_) => free_rx.recv().map_err(|_| writer_gone())?,
            };
            let full = std::mem::replace(buf, next);
            full_tx.send((full, len)).map_err(|_| writer_gone())
        });
        drop(full_tx); // lets the writer finish
        let written = writer
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        // A writer error explains a generator-side `BrokenPipe`: report it first.
        written?;
        gen
    })
}

/// Returns the whole output described by `cfg` as a byte vector; for small
/// in-memory inputs. The bytes are identical to what [`write`] produces.
///
/// Cost: `O(cfg.size)` time and one zero-initialised allocation of
/// `cfg.size` bytes plus 512 bytes and the needle length.
///
/// # Panics
///
/// If the needle is invalid (see [`GenConfig::needle`]), or if `cfg.size`
/// does not fit in memory.
pub fn generate_vec(cfg: &GenConfig) -> Vec<u8> {
    let mut out = Vec::new();
    let result = drive(cfg, usize::MAX, |buf: &mut Vec<u8>, len: usize| {
        // Only called once, at the end (the threshold is never reached).
        buf.truncate(len);
        out = std::mem::take(buf);
        Ok(())
    });
    if let Err(e) = result {
        panic!("tome_gen::generate_vec: {e}");
    }
    out
}

/// Computes the [`GenStats`] that [`write`] would return for `cfg` (line and
/// needle counts included) without keeping the output.
///
/// Cost: a full generation run into a discarding sink: `O(cfg.size)` time at
/// generation speed (a few GB/s), about 1 MiB of memory.
///
/// # Errors
///
/// The needle errors of [`write`].
pub fn stats(cfg: &GenConfig) -> io::Result<GenStats> {
    write(cfg, io::sink())
}

// ---------------------------------------------------------------------------
// Implementation
// ---------------------------------------------------------------------------

/// Flush threshold of the output buffer.
const CHUNK: usize = 1 << 20;
/// Upper bound on the bytes a line (needle excluded) may occupy in the
/// buffer, counting the over-long fixed-size copies of [`Out`].
const MAX_LINE: usize = 512;

fn validate(cfg: &GenConfig) -> io::Result<()> {
    if let Some(n) = &cfg.needle {
        if n.is_empty() || n.bytes().any(|b| b == b'\r' || b == b'\n') {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "needle must be non-empty and contain no \\r or \\n",
            ));
        }
    }
    Ok(())
}

/// Runs the generator. Text is built in a zero-filled buffer of fixed length
/// (`flush_at` plus room for one line, or the whole output when `flush_at`
/// exceeds `cfg.size`); `flush(buf, len)` receives it with `len` valid bytes
/// whenever `len >= flush_at`, and once at the end (possibly with `len == 0`).
/// `flush` may swap `buf` for another buffer of the same length.
fn drive<F>(cfg: &GenConfig, flush_at: usize, mut flush: F) -> io::Result<GenStats>
where
    F: FnMut(&mut Vec<u8>, usize) -> io::Result<()>,
{
    validate(cfg)?;
    let size = cfg.size;
    let mut g = Generator::new(cfg);
    let slack = MAX_LINE + g.needle.map_or(0, <[u8]>::len);
    let body = match usize::try_from(size) {
        Ok(s) if s < flush_at => s,
        Ok(_) => flush_at,
        Err(_) if flush_at == usize::MAX => panic!("GenConfig::size does not fit in usize"),
        Err(_) => flush_at,
    };
    let mut buf = vec![0u8; body.checked_add(slack).expect("GenConfig::size too large")];
    let mut pos = 0;
    let mut flushed: u64 = 0; // bytes handed to `flush` so far
    let mut stats = GenStats::default();
    loop {
        let start = pos;
        let done = flushed + start as u64;
        if done >= size {
            break;
        }
        let info = g.line(&mut buf, &mut pos);
        let line_len = pos - start;
        debug_assert!(line_len + 32 <= slack);
        let remaining = size - done;
        if (line_len as u64) <= remaining {
            stats.lines += 1;
            stats.needles += info.needle_end.is_some() as u64;
        } else {
            // Cut the last line; `remaining < line_len` so it fits in usize.
            let r = remaining as usize;
            let t = info.term.len();
            let keep = if r > t { r - t } else { r };
            debug_assert!(keep > 0 && keep < line_len - t);
            fix_utf8_tail(&mut buf[start..start + keep]);
            pos = start + keep;
            if r > t {
                buf[pos..pos + t].copy_from_slice(info.term);
                pos += t;
            }
            stats.lines += 1;
            if let Some(end) = info.needle_end {
                stats.needles += (end <= keep) as u64;
            }
            break;
        }
        if pos >= flush_at {
            flush(&mut buf, pos)?;
            flushed += pos as u64;
            pos = 0;
        }
    }
    flush(&mut buf, pos)?;
    stats.bytes = size;
    Ok(stats)
}

/// Replaces the bytes of a trailing incomplete UTF-8 character by `.`.
fn fix_utf8_tail(s: &mut [u8]) {
    let n = s.len();
    // Look back at most 4 bytes for the lead byte of the last character.
    for back in 1..=n.min(4) {
        let b = s[n - back];
        if b & 0xC0 == 0x80 {
            continue; // continuation byte
        }
        let want = if b < 0x80 {
            1
        } else if b >= 0xF0 {
            4
        } else if b >= 0xE0 {
            3
        } else {
            2
        };
        if want > back {
            s[n - back..].fill(b'.');
        }
        return;
    }
}

/// What `Generator::line` reports about the line it appended.
struct LineInfo {
    /// The terminator that ends the line.
    term: &'static [u8],
    /// Offset, relative to the line start, just past the needle copy.
    needle_end: Option<usize>,
}

/// A small deterministic random number generator (splitmix64) for tests and benchmarks that
/// need reproducible random positions. Cost: a few nanoseconds a number.
///
/// ```
/// let mut rng = tome_gen::Rng::new(42);
/// let n = rng.below(10);
/// assert!(n < 10);
/// assert_eq!(tome_gen::Rng::new(42).below(10), n);
/// ```
pub struct Rng(SplitMix64);

impl Rng {
    /// A generator whose sequence is fixed by `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(SplitMix64(seed))
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.0.next() % n.max(1) as u64) as usize
    }
}

/// splitmix64: tiny, fast, and good enough for test data.
struct SplitMix64(u64);

impl SplitMix64 {
    #[inline(always)]
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// A short token stored zero-padded to 16 bytes, so that it can be copied
/// with one fixed-size (inlined) 16-byte move.
#[derive(Clone, Copy)]
struct Tok {
    bytes: [u8; 16],
    len: u8,
}

const fn toks<const N: usize>(src: [&[u8]; N]) -> [Tok; N] {
    let mut out = [Tok {
        bytes: [0; 16],
        len: 0,
    }; N];
    let mut i = 0;
    while i < N {
        let s = src[i];
        assert!(s.len() <= 16);
        let mut j = 0;
        while j < s.len() {
            out[i].bytes[j] = s[j];
            j += 1;
        }
        out[i].len = s.len() as u8;
        i += 1;
    }
    out
}

/// Write cursor over a buffer with enough slack for one line: the fixed-size
/// copies below may write up to 16 bytes past the logical end; those bytes
/// are overwritten by what follows or lie beyond the valid length.
struct Out<'b> {
    buf: &'b mut [u8],
    pos: usize,
}

impl Out<'_> {
    #[inline(always)]
    fn lit<const N: usize>(&mut self, s: &[u8; N]) {
        self.buf[self.pos..self.pos + N].copy_from_slice(s);
        self.pos += N;
    }

    #[inline(always)]
    fn byte(&mut self, b: u8) {
        self.buf[self.pos] = b;
        self.pos += 1;
    }

    #[inline(always)]
    fn tok(&mut self, t: &Tok) {
        self.buf[self.pos..self.pos + 16].copy_from_slice(&t.bytes);
        self.pos += t.len as usize;
    }

    #[inline]
    fn bytes(&mut self, s: &[u8]) {
        self.buf[self.pos..self.pos + s.len()].copy_from_slice(s);
        self.pos += s.len();
    }

    /// Decimal representation of `n`.
    #[inline(always)]
    fn dec(&mut self, mut n: u64) {
        let len = n.checked_ilog10().unwrap_or(0) as usize + 1;
        let d = &mut self.buf[self.pos..self.pos + len];
        let mut i = len;
        while n >= 100 {
            let k = (n % 100) as usize * 2;
            n /= 100;
            i -= 2;
            d[i] = DIGITS2[k];
            d[i + 1] = DIGITS2[k + 1];
        }
        if n >= 10 {
            let k = n as usize * 2;
            d[0] = DIGITS2[k];
            d[1] = DIGITS2[k + 1];
        } else {
            d[0] = b'0' + n as u8;
        }
        self.pos += len;
    }

    /// `v` as 8 lowercase hex digits.
    #[inline]
    fn hex8(&mut self, v: u32) {
        let d = &mut self.buf[self.pos..self.pos + 8];
        for (k, b) in v.to_be_bytes().into_iter().enumerate() {
            d[2 * k] = HEX2[2 * b as usize];
            d[2 * k + 1] = HEX2[2 * b as usize + 1];
        }
        self.pos += 8;
    }
}

const MS_PER_DAY: u32 = 86_400_000;

struct Generator<'a> {
    rng: SplitMix64,
    /// `seq=N ` of the current line: `seq_text[..seq_len]` is `seq=N` and
    /// `seq_text[seq_len]` is a space. Incremented in place.
    seq_text: [u8; 32],
    seq_len: usize,
    /// Days since 1970-01-01 of the current timestamp.
    day: i64,
    /// `YYYY-MM-DDTHH:MM:SS.mmmZ ` template; the date part is kept current.
    ts: [u8; 25],
    ms_of_day: u32,
    unicode: bool,
    line_ending: LineEnding,
    needle: Option<&'a [u8]>,
    needle_every: u64,
    /// Lines left until (and including) the next needle line.
    needle_countdown: u64,
}

impl<'a> Generator<'a> {
    fn new(cfg: &'a GenConfig) -> Self {
        let needle = match (&cfg.needle, cfg.needle_every) {
            (Some(n), e) if e > 0 => Some(n.as_bytes()),
            _ => None,
        };
        let day = days_from_civil(2026, 11, 27);
        let mut ts = *b"YYYY-MM-DDT00:00:00.000Z ";
        ts[..11].copy_from_slice(&date_prefix(day));
        let mut seq_text = [b' '; 32];
        seq_text[..5].copy_from_slice(b"seq=0");
        Generator {
            // Mix the seed once so that nearby seeds diverge immediately.
            rng: SplitMix64(cfg.seed ^ 0x746F_6D65_2D67_656E), // "tome-gen"
            seq_text,
            seq_len: 5,
            day,
            ts,
            ms_of_day: 0,
            unicode: cfg.unicode,
            line_ending: cfg.line_ending,
            needle,
            needle_every: cfg.needle_every,
            needle_countdown: cfg.needle_every,
        }
    }

    /// Increments the decimal number in `seq_text`.
    #[inline]
    fn bump_seq(&mut self) {
        let mut i = self.seq_len - 1;
        loop {
            if self.seq_text[i] != b'9' {
                self.seq_text[i] += 1;
                return;
            }
            self.seq_text[i] = b'0';
            if i == 4 {
                // All nines: grow by one digit ("seq=99" -> "seq=100").
                self.seq_text[4] = b'1';
                self.seq_text[self.seq_len] = b'0';
                self.seq_len += 1;
                return;
            }
            i -= 1;
        }
    }

    /// Writes one full line (content and terminator) at `buf[*pos..]` and
    /// advances `*pos` past it. `buf` must have [`MAX_LINE`] plus the needle
    /// length of room after `*pos`.
    #[inline]
    fn line(&mut self, buf: &mut [u8], pos: &mut usize) -> LineInfo {
        let start = *pos;
        let mut out = Out { buf, pos: start };
        let r1 = self.rng.next();
        let r2 = self.rng.next();

        // Timestamp: advances 0..=15 ms per line.
        self.ms_of_day += (r1 & 15) as u32;
        if self.ms_of_day >= MS_PER_DAY {
            self.ms_of_day -= MS_PER_DAY;
            self.day += 1;
            self.ts[..11].copy_from_slice(&date_prefix(self.day));
        }
        let ms = self.ms_of_day;
        let secs = ms / 1000;
        let milli = ms % 1000;
        let ts = &mut self.ts;
        put2(&mut ts[11..13], secs / 3600);
        put2(&mut ts[14..16], secs / 60 % 60);
        put2(&mut ts[17..19], secs % 60);
        ts[20] = b'0' + (milli / 100) as u8;
        put2(&mut ts[21..23], milli % 100);
        out.lit(ts);

        // Level, worker, sequence number.
        out.tok(&LEVELS[((r1 >> 4) & 63) as usize]);
        out.lit(b"[worker-");
        out.dec((r1 >> 10) & 63);
        out.lit(b"] ");
        out.lit(&self.seq_text);
        out.pos -= 32 - (self.seq_len + 1);
        self.bump_seq();

        // Needle.
        let mut needle_end = None;
        if let Some(n) = self.needle {
            self.needle_countdown -= 1;
            if self.needle_countdown == 0 {
                self.needle_countdown = self.needle_every;
                out.bytes(n);
                needle_end = Some(out.pos - start);
                out.byte(b' ');
            }
        }

        // Body.
        match (r1 >> 16) & 15 {
            0..=6 => {
                // HTTP request.
                out.tok(&METHODS[((r1 >> 20) & 7) as usize]);
                out.lit(b" /api/v1/");
                out.tok(&RESOURCES[((r1 >> 23) & 7) as usize]);
                out.byte(b'/');
                out.dec((r1 >> 26) & 0xFFFF);
                out.lit(b" status=");
                out.lit(STATUSES[((r1 >> 42) & 15) as usize]);
                out.lit(b" latency_ms=");
                // Skewed: mostly small, sometimes large.
                let shift = (r1 >> 46) & 7;
                out.dec(((r1 >> 49) & 31) << shift);
                if r1 & (1 << 55) != 0 {
                    out.lit(b" req_id=");
                    out.hex8(r2 as u32);
                }
            }
            7 | 8 => {
                out.lit(b"db query table=");
                out.tok(&TABLES[((r1 >> 20) & 7) as usize]);
                out.lit(b" rows=");
                out.dec((r1 >> 23) & 0x3FF);
                out.lit(b" took_ms=");
                out.dec((r1 >> 33) & 0xFF);
                out.lit(b" conn=");
                out.dec((r1 >> 41) & 0x3F);
            }
            9 | 10 => {
                if r1 & (1 << 20) != 0 {
                    out.lit(b"cache hit key=");
                } else {
                    out.lit(b"cache miss key=");
                }
                out.tok(&RESOURCES[((r1 >> 21) & 7) as usize]);
                out.byte(b':');
                out.dec((r1 >> 24) & 0xFFFFF);
                out.lit(b" ttl_s=");
                out.dec((r1 >> 44) & 0xFFF);
            }
            11 | 12 => {
                out.lit(b"heartbeat ok uptime_s=");
                out.dec((r1 >> 20) & 0xFF_FFFF);
            }
            _ => {
                // Free-text message of 1..=16 words (6.5 on average; half of
                // the messages have at most 8 words).
                out.lit(b"msg=\"");
                let mask = if r1 & (1 << 24) != 0 { 15 } else { 7 };
                let words = 1 + ((r1 >> 20) & mask) as u32;
                let mut bits = r2;
                for i in 0..words {
                    if i == 10 {
                        bits = self.rng.next();
                    }
                    out.tok(&WORDS[(bits & 63) as usize]);
                    out.byte(b' ');
                    bits >>= 6;
                }
                out.buf[out.pos - 1] = b'"';
            }
        }

        // Optional trailing fields.
        if (r1 >> 57) & 3 == 0 {
            out.lit(b" user=u");
            out.dec((r2 >> 40) & 0xFFFF);
        }
        if self.unicode && (r1 >> 59) & 3 == 0 {
            out.lit(b" note=\"");
            out.bytes(NOTES[((r2 >> 56) & 15) as usize].as_bytes());
            out.byte(b'"');
        }

        let term: &'static [u8] = match self.line_ending {
            LineEnding::Lf => b"\n",
            LineEnding::CrLf => b"\r\n",
            LineEnding::Cr => b"\r",
            LineEnding::Mixed => match r1 >> 62 {
                0 | 3 => b"\n",
                1 => b"\r\n",
                _ => b"\r",
            },
        };
        out.bytes(term);
        *pos = out.pos;
        LineInfo { term, needle_end }
    }
}

/// Level column, padded to 5 characters plus a separating space.
/// Index by 6 random bits: INFO 38/64, DEBUG 14/64, WARN 7/64, ERROR 3/64,
/// TRACE 2/64.
const LEVELS: [Tok; 64] = {
    let mut t: [&[u8]; 64] = [b"INFO  "; 64];
    let mut i = 38;
    while i < 64 {
        t[i] = if i < 52 {
            b"DEBUG "
        } else if i < 59 {
            b"WARN  "
        } else if i < 62 {
            b"ERROR "
        } else {
            b"TRACE "
        };
        i += 1;
    }
    toks(t)
};

const METHODS: [Tok; 8] = toks([
    b"GET", b"GET", b"GET", b"GET", b"POST", b"PUT", b"DELETE", b"PATCH",
]);

const RESOURCES: [Tok; 8] = toks([
    b"items",
    b"users",
    b"orders",
    b"carts",
    b"invoices",
    b"sessions",
    b"files",
    b"search",
]);

const TABLES: [Tok; 8] = toks([
    b"items",
    b"users",
    b"orders",
    b"events",
    b"audit_log",
    b"metrics",
    b"jobs",
    b"leases",
]);

const STATUSES: [&[u8; 3]; 16] = [
    b"200", b"200", b"200", b"200", b"200", b"200", b"200", b"200", b"200", b"201", b"204", b"304",
    b"400", b"404", b"429", b"500",
];

const WORDS: [Tok; 64] = toks([
    b"connection",
    b"reset",
    b"by",
    b"peer",
    b"retrying",
    b"upstream",
    b"timeout",
    b"after",
    b"backoff",
    b"scheduled",
    b"job",
    b"completed",
    b"queue",
    b"depth",
    b"exceeded",
    b"threshold",
    b"user",
    b"session",
    b"expired",
    b"token",
    b"refreshed",
    b"cache",
    b"evicted",
    b"shard",
    b"rebalanced",
    b"lease",
    b"acquired",
    b"checkpoint",
    b"written",
    b"snapshot",
    b"compacted",
    b"segment",
    b"flushed",
    b"to",
    b"disk",
    b"slow",
    b"request",
    b"detected",
    b"handler",
    b"panicked",
    b"recovered",
    b"config",
    b"reloaded",
    b"from",
    b"etcd",
    b"tls",
    b"handshake",
    b"failed",
    b"for",
    b"client",
    b"worker",
    b"idle",
    b"gc",
    b"pause",
    b"ms",
    b"heap",
    b"grew",
    b"the",
    b"a",
    b"and",
    b"of",
    b"in",
    b"on",
    b"with",
]);

/// Non-ASCII snippets for `unicode` mode: 2-, 3- and 4-byte UTF-8.
const NOTES: [&str; 16] = [
    "café",
    "naïve résumé",
    "漢字",
    "日本語のログ",
    "🦀",
    "Zürich → München",
    "crab 🦀 rust",
    "Ελληνικά",
    "Привет, мир",
    "emoji 😀🎉",
    "漢字 and 🦀",
    "ñandú",
    "½ done…",
    "한국어",
    "façade",
    "𝄞 clef",
];

/// "00".."99" as pairs of ASCII digits.
const DIGITS2: [u8; 200] = {
    let mut t = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        t[2 * i] = b'0' + (i / 10) as u8;
        t[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    t
};

/// "00".."ff" as pairs of lowercase hex digits.
const HEX2: [u8; 512] = {
    let hex = b"0123456789abcdef";
    let mut t = [0u8; 512];
    let mut i = 0;
    while i < 256 {
        t[2 * i] = hex[i >> 4];
        t[2 * i + 1] = hex[i & 15];
        i += 1;
    }
    t
};

/// Writes `v` (< 100) as two digits.
#[inline(always)]
fn put2(dst: &mut [u8], v: u32) {
    let i = v as usize * 2;
    dst[0] = DIGITS2[i];
    dst[1] = DIGITS2[i + 1];
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`]: (year, month, day).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `YYYY-MM-DDT` for a day number (years 0..=9999).
fn date_prefix(day: i64) -> [u8; 11] {
    let (y, m, d) = civil_from_days(day);
    let y = y.clamp(0, 9999) as u32;
    let mut out = [0u8; 11];
    put2(&mut out[0..2], y / 100);
    put2(&mut out[2..4], y % 100);
    out[4] = b'-';
    put2(&mut out[5..7], m);
    out[7] = b'-';
    put2(&mut out[8..10], d);
    out[10] = b'T';
    out
}

#[cfg(test)]
mod tests;
