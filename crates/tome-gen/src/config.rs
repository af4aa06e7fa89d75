//! What to generate ([`GenConfig`]), and what was generated ([`GenStats`]).
//!
//! Plain data: constructing, cloning and comparing these costs nothing in proportion to the
//! output.

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
    /// contain no `\r` or `\n`; otherwise [`write`](fn@crate::write) fails with
    /// [`io::ErrorKind::InvalidInput`](std::io::ErrorKind::InvalidInput). Use a needle that starts and ends
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

impl GenConfig {
    /// The default configuration with `size` bytes: what most tests want ("a log file of
    /// 64 MiB"). Change other fields with struct-update syntax:
    /// `GenConfig { unicode: true, ..GenConfig::sized(1 << 20) }`.
    ///
    /// Cost: free (no allocation).
    pub fn sized(size: u64) -> GenConfig {
        GenConfig {
            size,
            ..GenConfig::default()
        }
    }
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
