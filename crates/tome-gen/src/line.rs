//! Line generation: the pseudo-random generator and [`Generator`], which appends one line at
//! a time (timestamp, level, worker, `seq=N`, needle, event, optional fields, terminator).
//!
//! Every choice derives from the seed, so a configuration always gives the same lines. Cost:
//! a few dozen nanoseconds a line; no allocation.

use crate::format::{date_prefix, days_from_civil, put2, Out};
use crate::words::{LEVELS, METHODS, NOTES, RESOURCES, STATUSES, TABLES, WORDS};
use crate::{GenConfig, LineEnding};

/// What `Generator::line` reports about the line it appended.
pub(crate) struct LineInfo {
    /// The terminator that ends the line.
    pub(crate) term: &'static [u8],
    /// Offset, relative to the line start, just past the needle copy.
    pub(crate) needle_end: Option<usize>,
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
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    #[inline(always)]
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

pub(crate) const MS_PER_DAY: u32 = 86_400_000;

pub(crate) struct Generator<'a> {
    pub(crate) rng: SplitMix64,
    /// `seq=N ` of the current line: `seq_text[..seq_len]` is `seq=N` and
    /// `seq_text[seq_len]` is a space. Incremented in place.
    pub(crate) seq_text: [u8; 32],
    pub(crate) seq_len: usize,
    /// Days since 1970-01-01 of the current timestamp.
    pub(crate) day: i64,
    /// `YYYY-MM-DDTHH:MM:SS.mmmZ ` template; the date part is kept current.
    pub(crate) ts: [u8; 25],
    pub(crate) ms_of_day: u32,
    pub(crate) unicode: bool,
    pub(crate) line_ending: LineEnding,
    pub(crate) needle: Option<&'a [u8]>,
    pub(crate) needle_every: u64,
    /// Lines left until (and including) the next needle line.
    pub(crate) needle_countdown: u64,
}

impl<'a> Generator<'a> {
    pub(crate) fn new(cfg: &'a GenConfig) -> Self {
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
    pub(crate) fn bump_seq(&mut self) {
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
    pub(crate) fn line(&mut self, buf: &mut [u8], pos: &mut usize) -> LineInfo {
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
