//! Finding the first line at or after a time by searching over byte offsets (interpolation
//! with a bisection fallback): no line index, O(log size) probes, each reading a few hundred
//! bytes.
//!
//! A **probe** at offset `x` (bounded by `to`) finds the first line that starts at or after
//! `x` and has a timestamp: it reads forward to the next line start (LF, CRLF and a lone CR
//! end lines, as everywhere in Tome), then on from line to line, skipping lines without a
//! timestamp, reading at most [`PROBE_LIMIT`] bytes past `x`. The text is borrowed in place
//! from the mapping when one piece holds it; otherwise copied in windows of [`FIRST_READ`]
//! bytes, doubled as needed.
//!
//! **The bisection** keeps `lo ≤ hi` and the timestamped line `B` that is the first one
//! starting at or after `hi` (none at first: `hi` is the end). A probe in the middle that
//! finds a line with `ts < T` moves `lo` past that line's start; one that finds `ts ≥ T`, or
//! no timestamped line before `hi`, moves `hi` to the middle (and `B` to that line). When
//! `lo ≥ hi` no timestamped line starts between the last line seen with `ts < T` and `B`.
//!
//! **The rule for logs that are not quite sorted**: the line `B` found has `ts(B) ≥ T` and
//! the timestamped line before it has `ts < T` (or `B` is the first timestamped line); in a
//! sorted log that is exactly the first line at or after `T`. In a log with local disorder
//! (threads writing slightly out of order) a line at or after `T` may come just before a late
//! line; so the answer moves back to the **first line with `ts ≥ T` among the timestamped
//! lines that start in the [`DISORDER_WINDOW`] bytes before `B`** (or stays `B`). Guarantee:
//! `ts(answer) ≥ T`, and every timestamped line starting between `start(B) −
//! DISORDER_WINDOW` and the answer has `ts < T`. With disorder wider than the window, or a
//! log that is not sorted at all, the answer is still a line at or after `T` that follows a
//! line before `T`, but not necessarily the first such line in the file. When no line
//! satisfies this (the last timestamped line is before `T`), the answer is the end of the
//! document.
//!
//! **Runs without timestamps**: a probe that reads [`PROBE_LIMIT`] bytes without meeting a
//! timestamped line start narrows the search to before it (as if the run were after `T`), and
//! the result is marked `approximate`: a run of more than 1 MiB of lines without timestamps
//! (a huge stack trace or binary blob) can hide the true answer. Otherwise the guarantee
//! above holds exactly.
//!
//! **Where it probes** ([`NextProbe`]): the first timestamp, one near the end, then brackets
//! around the offset interpolated from the times at the bounds, falling back to halving the
//! range where the log does not grow steadily.
//!
//! Cost: on a log whose lines grow steadily in time, about 6–10 probes at 4 GiB (most of them
//! within pages the previous ones read); at worst about three times `log2(size)`; each reads
//! usually one or two lines, plus one scan of at most [`DISORDER_WINDOW`] bytes at the end; no
//! allocation when the text is one piece.

use super::detect::{TimeLayout, LINE_PREFIX};
use super::text::{TimeText, Window};
use crate::view::View;
use crate::Result;

/// How far past its start a probe reads looking for a timestamped line.
pub const PROBE_LIMIT: usize = 1 << 20;
/// How far before the line the bisection found the answer may move back (local disorder).
pub const DISORDER_WINDOW: usize = 64 << 10;
/// The first window a probe reads (doubled up to what the probe may need).
pub const FIRST_READ: usize = 16 << 10;

/// A line with a timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StampedLine {
    /// Offset of the line's start.
    pub start: usize,
    /// Offset of the timestamp's first byte.
    pub at: usize,
    /// Length of the timestamp's text.
    pub len: usize,
    /// The time, in milliseconds (see `super::format`).
    pub ms: i64,
}

/// The answer of [`seek_time`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeSeek {
    /// The line found, or `None` when every line (by the rule) is before the time: then the
    /// answer is the end of the document.
    pub line: Option<StampedLine>,
    /// A probe met a run of more than [`PROBE_LIMIT`] bytes without a timestamped line: the
    /// answer may not be the first line by the rule.
    pub approximate: bool,
    /// How many probes the search made (for tests and benchmarks).
    pub probes: usize,
    /// How many of them were made while the bounds were more than 256 KiB apart: on a cold
    /// page cache, the ones that each wait for a random read of the disk.
    pub far_probes: usize,
}

enum Probe {
    /// The first timestamped line starting in `[from, to)`.
    Found(StampedLine),
    /// No timestamped line starts in `[from, to)`.
    None,
    /// [`PROBE_LIMIT`] bytes read without finding one, before `to`.
    Truncated,
}

/// Finds the first line at or after `target` ms by the rule of this module. `Err` only when
/// the document's file was truncated under it ([`View::intact`]).
pub fn seek_time(view: &View<'_>, layout: &TimeLayout, target: i64) -> Result<TimeSeek> {
    let text = TimeText::of(view);
    let found = seek_in(&text, layout, target)?;
    Ok(TimeSeek {
        line: found.line.map(|l| in_file(&text, l)),
        ..found
    })
}

/// A line found in the narrowed text, with the file's offsets.
fn in_file(text: &TimeText<'_>, l: StampedLine) -> StampedLine {
    let at = text.offset(l.at);
    StampedLine {
        start: text.offset(l.start),
        at,
        len: text.offset(l.at + l.len) - at,
        ms: l.ms,
    }
}

/// [`seek_time`] in the narrowed text (its offsets).
fn seek_in(view: &TimeText<'_>, layout: &TimeLayout, target: i64) -> Result<TimeSeek> {
    let mut buf = Window::default();
    let (mut lo, mut hi) = (0, view.len());
    let mut best: Option<StampedLine> = None;
    let mut approximate = false;
    let mut probes = 0;
    let mut far_probes = 0;
    let mut next = NextProbe::default();
    while lo < hi {
        let mid = next.choose(lo, hi, target, view.len());
        probes += 1;
        far_probes += usize::from(hi - lo > INTERPOLATE_ABOVE);
        match probe(view, layout, mid, hi, PROBE_LIMIT, &mut buf) {
            Probe::Found(l) if l.ms >= target => {
                hi = mid;
                next.hi_ms = Some(l.ms);
                best = Some(l);
            }
            Probe::Found(l) => {
                lo = l.start + 1;
                next.lo_ms = Some(l.ms);
            }
            Probe::None => hi = mid,
            // The first probe only looks for the first time; a long run without timestamps
            // at the start is left to the bisection, as anywhere else.
            Probe::Truncated if probes == 1 => {}
            Probe::Truncated => {
                approximate = true;
                hi = mid;
            }
        }
    }
    // Local disorder: the first line at or after the time in the window before `best`.
    if let Some(b) = best {
        let mut at = b.start.saturating_sub(DISORDER_WINDOW);
        while let Probe::Found(l) = probe(view, layout, at, b.start, DISORDER_WINDOW, &mut buf) {
            if l.ms >= target {
                best = Some(l);
                break;
            }
            at = l.start + 1;
        }
    }
    view.intact()?;
    Ok(TimeSeek {
        line: best,
        approximate,
        probes,
        far_probes,
    })
}

/// Below this many bytes between the bounds, probes bisect (they read pages already read).
const INTERPOLATE_ABOVE: usize = 256 << 10;
/// Where the first probe from the end looks: this many bytes before it.
const TAIL_PROBE: usize = 64 << 10;

/// Chooses where the next probe goes. Any offset in `[lo, hi)` keeps the bisection correct
/// (its invariant does not depend on where it probes); the choice only decides how many probes
/// it takes. Each probe on a cold page cache is a random read of the disk (5–40 ms), so instead
/// of halving the range 32 times this first reads the first timestamp and one near the end,
/// then **interpolates**: timestamps grow about linearly with the offset in most logs, so the
/// answer is near `lo + (T − ts(lo)) / (ts(hi) − ts(lo)) · (hi − lo)`. It probes a bracket
/// around that guess, `guess − d` then `guess + d` with `d` = 1/256 of the range: on a log
/// that grows steadily both land on either side of the answer and the range shrinks 128-fold
/// for two probes. A bracket that did not at least halve the range (a burst of lines, a gap in
/// time) is followed by one bisection, so the worst case stays O(log size) probes (at most
/// about three times the bisection's).
#[derive(Default)]
struct NextProbe {
    /// The time of the timestamped line `lo` was last moved past.
    lo_ms: Option<i64>,
    /// The time of the line found at the last probe that moved `hi`.
    hi_ms: Option<i64>,
    /// The other side of the current bracket, and the range's size when it was chosen.
    pending: Option<(usize, usize)>,
    /// The last bracket did not halve the range: bisect once.
    bisect: bool,
    /// The probe at the start was made.
    start_done: bool,
    /// The probe from the end was made.
    tail_done: bool,
}

impl NextProbe {
    fn choose(&mut self, lo: usize, hi: usize, target: i64, len: usize) -> usize {
        let width = hi - lo;
        if let Some((at, before)) = self.pending.take() {
            if lo <= at && at < hi {
                return at;
            }
            self.bisect = width * 2 > before;
        }
        if !self.start_done {
            self.start_done = true;
            return 0; // the first timestamped line
        }
        if !self.tail_done && hi == len && width > 2 * TAIL_PROBE {
            self.tail_done = true;
            return hi - TAIL_PROBE;
        }
        let mid = lo + width / 2;
        if std::mem::take(&mut self.bisect) || width <= INTERPOLATE_ABOVE {
            return mid;
        }
        let (Some(lo_ms), Some(hi_ms)) = (self.lo_ms, self.hi_ms) else {
            return mid;
        };
        if hi_ms <= lo_ms {
            return mid;
        }
        let frac = ((target.saturating_sub(lo_ms)) as f64 / (hi_ms - lo_ms) as f64).clamp(0.0, 1.0);
        let guess = lo + (frac * width as f64) as usize;
        let d = width / 256;
        let (left, right) = (guess.saturating_sub(d).max(lo), (guess + d).min(hi - 1));
        self.pending = Some((right, width));
        left
    }
}

/// Every timestamped line of `[from, to)` in order, by the same reading as the probes (for
/// linear scans: tests, and callers that want all of them). O(to − from).
pub fn stamped_lines<'v>(
    view: View<'v>,
    layout: &'v TimeLayout,
    from: usize,
    to: usize,
) -> impl Iterator<Item = StampedLine> + 'v {
    let text = TimeText::of(&view);
    let mut buf = Window::default();
    let (mut at, to) = (text.position(from), text.position(to));
    // Unbounded: a probe ends only at a timestamped line or at `to`.
    std::iter::from_fn(
        move || match probe(&text, layout, at, to, usize::MAX, &mut buf) {
            Probe::Found(l) => {
                at = l.start + 1;
                Some(in_file(&text, l))
            }
            Probe::None | Probe::Truncated => None,
        },
    )
}

/// The first timestamped line starting in `[from, to)`, reading at most `limit` bytes past
/// `from` for line starts.
fn probe(
    view: &TimeText<'_>,
    layout: &TimeLayout,
    from: usize,
    to: usize,
    limit: usize,
    buf: &mut Window,
) -> Probe {
    let len = view.len();
    let to = to.min(len);
    if from >= to {
        return Probe::None;
    }
    // Line starts are looked for below `bound`; the window must reach a line prefix past it.
    let bound = to.min(from.saturating_add(limit));
    let max_end = len.min(bound.saturating_add(LINE_PREFIX + 2));
    // One byte before `from`, to know whether `from` starts a line.
    let base = from.saturating_sub(1);
    let mut size = FIRST_READ;
    loop {
        let end = max_end.min(base.saturating_add(size));
        let window = view.read(base, end, buf);
        match scan(
            window,
            base,
            from,
            bound,
            end == len,
            end == max_end,
            layout,
        ) {
            Scan::Found(l) => return Probe::Found(l),
            Scan::Beyond if bound == to => return Probe::None,
            Scan::Beyond => return Probe::Truncated,
            Scan::More => size = size.saturating_mul(2),
        }
    }
}

enum Scan {
    Found(StampedLine),
    /// No timestamped line starts below `bound` (the document ends, or the next line start
    /// is at or past `bound`).
    Beyond,
    /// The window ended before an answer; read more.
    More,
}

/// The offset after the line break that ends the line holding `w[i]`, if the window holds it.
/// `Err(())`: the window ended first.
#[inline]
fn next_start(w: &[u8], i: usize) -> std::result::Result<usize, ()> {
    match memchr::memchr2(b'\n', b'\r', &w[i..]) {
        Some(k) => {
            let k = i + k;
            if w[k] == b'\n' {
                Ok(k + 1)
            } else if k + 1 < w.len() {
                Ok(k + 1 + usize::from(w[k + 1] == b'\n'))
            } else {
                // A CR at the window's end: it may be the first half of a CRLF.
                Err(())
            }
        }
        None => Err(()),
    }
}

/// Scans `w` (the document's bytes from `base`) for the first timestamped line starting in
/// `[from, bound)`. `at_doc_end`: the window ends where the document does; `full`: the window
/// is as large as the probe may read.
fn scan(
    w: &[u8],
    base: usize,
    from: usize,
    bound: usize,
    at_doc_end: bool,
    full: bool,
    layout: &TimeLayout,
) -> Scan {
    // When the window ends before a line's end: at the document's end the line ends there;
    // in a full window its next line starts past `bound`; otherwise read more.
    let short = if at_doc_end || full {
        Scan::Beyond
    } else {
        Scan::More
    };
    // The first line start at or after `from`, relative to the window.
    let mut s = if from == 0 {
        0
    } else {
        // `w[0]` is the byte before `from`.
        match w[0] {
            b'\n' => 1,
            b'\r' if w.get(1) == Some(&b'\n') => 2,
            b'\r' if w.len() > 1 || at_doc_end => 1,
            b'\r' => return short,
            _ => match next_start(w, 1) {
                Ok(i) => i,
                Err(()) => return short,
            },
        }
    };
    loop {
        if base + s >= bound || (s == w.len() && at_doc_end) {
            return Scan::Beyond;
        }
        let rest = &w[s..];
        let prefix = &rest[..rest.len().min(LINE_PREFIX)];
        let line_end = memchr::memchr2(b'\n', b'\r', prefix);
        if line_end.is_none() && prefix.len() < LINE_PREFIX && !at_doc_end {
            // The prefix is cut by the window (a full window always holds it).
            return short;
        }
        let line = &prefix[..line_end.unwrap_or(prefix.len())];
        if let Some((stamp, col)) = layout.stamp_of(line) {
            return Scan::Found(StampedLine {
                start: base + s,
                at: base + s + col,
                len: stamp.len,
                ms: stamp.ms,
            });
        }
        s = match next_start(w, s) {
            Ok(i) => i,
            Err(()) => return short,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timestamp::detect_layout;
    use crate::Document;

    /// A sorted log (epoch seconds, fixed width) whose rate changes: bursts of many lines in
    /// the same second, gaps of hours, runs of lines without a time (stack traces), and a
    /// header without times, so the interpolation guesses badly in places.
    fn bursty_log(seed: u64) -> Vec<u8> {
        let mut x = seed;
        let mut rnd = move |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let mut out = b"header line\nanother header\n".to_vec();
        let mut t: u64 = 1_700_000_000;
        while out.len() < 24 << 20 {
            match rnd(10) {
                0 => t += 3600 * (1 + rnd(5)),
                1 => {
                    for _ in 0..rnd(2000) {
                        out.extend_from_slice(format!("{t} burst\n").as_bytes());
                    }
                }
                2 => {
                    for _ in 0..rnd(50) {
                        out.extend_from_slice(b"    at some.trace.Line(Code.java:12)\n");
                    }
                }
                _ => {
                    for _ in 0..rnd(300) {
                        t += rnd(3);
                        out.extend_from_slice(format!("{t} event {}\n", rnd(1000)).as_bytes());
                    }
                }
            }
        }
        out
    }

    /// Seeks every target of `targets(first time, last time, stamped lines)` in `text` and
    /// compares each answer with a linear scan's; returns the far probes made, and what
    /// halving alone would make to bring the range under [`INTERPOLATE_ABOVE`].
    fn seek_all(
        text: &[u8],
        targets: impl Fn(i64, i64, &[StampedLine]) -> Vec<i64>,
    ) -> (usize, usize) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        std::fs::write(&path, text).unwrap();
        let mut doc = Document::open(&path).unwrap();
        let snap = doc.snapshot();
        let view = snap.view();
        let layout = detect_layout(&view, None, (2026, 11)).unwrap();
        let all: Vec<StampedLine> = stamped_lines(view, &layout, 0, view.len()).collect();
        let (first, last) = (all[0].ms, all[all.len() - 1].ms);
        let (mut far, mut bisection_far) = (0, 0);
        for target in targets(first, last, &all) {
            let want = all.iter().find(|l| l.ms >= target).copied();
            let got = seek_time(&view, &layout, target).unwrap();
            assert_eq!(got.line, want, "target {target}");
            assert!(!got.approximate);
            far += got.far_probes;
            bisection_far += (view.len() / INTERPOLATE_ABOVE).ilog2() as usize + 1;
        }
        (far, bisection_far)
    }

    #[test]
    fn interpolating_probes_find_what_a_linear_scan_finds() {
        for seed in 1..4u64 {
            let (far, bisection_far) = seek_all(&bursty_log(seed), |first, last, all| {
                let mut targets: Vec<i64> = (0..200)
                    .map(|i| first - 5000 + i * (last - first + 10_000) / 200)
                    .collect();
                targets.extend(all.iter().step_by(all.len() / 50).map(|l| l.ms));
                targets
            });
            // Not a timing: the far probes (random reads on a cold cache) stay within the
            // documented bound of three times the bisection's, on a log built to mislead
            // the interpolation.
            eprintln!("seed {seed}: {far} far probes, bisection {bisection_far}");
            assert!(far <= 3 * bisection_far, "{far} far probes");
        }
    }

    #[test]
    fn on_a_steady_log_one_bracket_finds_the_answer() {
        let mut text = Vec::new();
        let (mut t, mut x) = (1_700_000_000u64, 7u64);
        while text.len() < 24 << 20 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            t += (x >> 62) % 3;
            text.extend_from_slice(format!("{t} event {}\n", x >> 40).as_bytes());
        }
        let (far, bisection_far) = seek_all(&text, |first, last, _| {
            (0..100)
                .map(|i| first + i * (last - first) / 100 + 500)
                .collect()
        });
        // The start, the tail and one bracket that leaves under 256 KiB of 24 MiB (halving:
        // 7 probes to get there).
        eprintln!("steady: {far} far probes, bisection {bisection_far}");
        assert!(far <= 4 * 100, "{far} far probes");
    }
}
