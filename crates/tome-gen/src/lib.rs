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
//!
//! # Layout
//!
//! This file drives generation (buffers, flushing, the cut of the last line, the writer
//! thread of [`write_file`]); `config.rs` holds [`GenConfig`] and [`GenStats`]; `line.rs` the
//! random generator and the making of one line; `format.rs` the `format!`-free formatting
//! (tokens, digits, dates); `words.rs` the word tables.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod config;
mod format;
mod line;
mod words;

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::sync::mpsc;

use line::Generator;
#[cfg(test)]
use {
    format::{civil_from_days, date_prefix, days_from_civil, Out},
    line::MS_PER_DAY,
};

pub use config::{GenConfig, GenStats, LineEnding, DEFAULT_NEEDLE};
pub use line::Rng;

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

#[cfg(test)]
mod tests;
