//! Highlight rules: user patterns (ERROR, a request id) whose matches an editor colours on the
//! lines it shows.
//!
//! A [`RuleSet`] is compiled once (one `regex` per rule, literal text escaped) and then run on
//! the part of each line a viewport shows. Cost per line: the shown bytes plus [`CONTEXT`]
//! bytes on each side, once per rule; nothing else of the line is read, so a rule costs the
//! same on a line of 100 bytes and on one of gigabytes.
//!
//! **The slice rule.** A line is searched from [`CONTEXT`] bytes before the shown part to
//! [`CONTEXT`] bytes after it (within the line), and a match is reported if it overlaps the
//! shown part, clipped to it. So a match that crosses the window's edge is found whole (and
//! clipped) as long as it lies within that context; `^`, `$`, `\b` and whole-word checks see
//! the real line there (one more byte of the line is given to the engine as look-around
//! context past each end of the searched bytes, so `^` and `$` never match where the search
//! was merely cut). A match that would need more than [`CONTEXT`] bytes beyond the window's
//! edge may be found shorter or not at all.
//!
//! **Other encodings.** In a file that is not UTF-8 (a legacy encoding, UTF-16) the searched
//! bytes are decoded first and the rules run on the text as the viewport shows it: the same
//! matches and columns as for that text in a UTF-8 file.
//!
//! **Limitations.** Empty matches are never reported. Matches are within one line (the text
//! searched holds no line break). A match whose ends fall inside a character (a regex of
//! single bytes such as `(?-u:\x82)`) is widened to whole characters, as shown.

use std::ops::Range;

use regex::bytes::Regex;

use crate::search::{build_regex, MAX_REGEX_PATTERN};
use crate::text::{count_columns, floor_boundary, is_char_boundary, next_char_boundary};
use crate::view::{Line, View};
use crate::words::is_grep_word;
use crate::{Error, PositionEncoding, Result};

/// Most rules in one set.
pub const MAX_RULES: usize = 32;
/// Longest pattern of one rule, in bytes (that of regular expressions in `tome/search`).
pub const MAX_RULE_PATTERN: usize = MAX_REGEX_PATTERN;
/// Bytes of the line searched on each side of the shown part (see the slice rule above).
pub const CONTEXT: usize = 256;
/// Bytes the compiled program of one rule may take (2 MiB, as in search: `\w{40}` compiles,
/// `\w{50}` does not). The lazy DFA cache keeps regex's default (2 MiB): lines are short.
const RULE_SIZE_LIMIT: usize = 2 << 20;

/// One rule as the user wrote it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// Literal text, or a regular expression (Rust `regex` syntax) when `regex`.
    pub pattern: String,
    /// True for a regular expression.
    pub regex: bool,
    /// False to ignore case (Unicode-aware).
    pub case_sensitive: bool,
    /// Only matches neither preceded nor followed by a word character (`\w`) on the line.
    pub whole_word: bool,
}

/// Why a rule was refused: its index in the list, and the engine's error.
#[derive(Debug)]
pub struct RuleError {
    /// Index of the rule in the list given.
    pub index: usize,
    /// [`Error::InvalidRegex`], [`Error::PatternTooLong`] or [`Error::TooLarge`] (too many rules).
    pub error: Error,
}

/// A match of one rule on a line, in columns of the line (in the encoding asked).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Highlight {
    /// Index of the rule in its set.
    pub rule: usize,
    /// Column where the match starts (within the shown part).
    pub start: usize,
    /// Column where it ends (exclusive; at most the shown part's end).
    pub end: usize,
}

/// Compiled rules.
#[derive(Clone, Debug)]
pub struct RuleSet {
    rules: Vec<(Regex, bool)>,
}

impl RuleSet {
    /// Compiles `rules`. Cost: each regex compiles in time and memory bounded by the limits
    /// above (at most [`MAX_RULES`] × 2 MiB of programs, usually a few KiB each).
    ///
    /// Errors: more than [`MAX_RULES`] rules ([`Error::TooLarge`], index [`MAX_RULES`]); for
    /// the first bad rule, an empty pattern, one over [`MAX_RULE_PATTERN`] bytes, one that does
    /// not parse or is too complex.
    pub fn new(rules: &[Rule]) -> std::result::Result<RuleSet, RuleError> {
        if rules.len() > MAX_RULES {
            return Err(RuleError {
                index: MAX_RULES,
                error: Error::TooLarge(format!(
                    "{} highlight rules, more than {MAX_RULES}",
                    rules.len()
                )),
            });
        }
        let compiled = rules
            .iter()
            .enumerate()
            .map(|(index, r)| compile(r).map_err(|error| RuleError { index, error }))
            .collect::<std::result::Result<_, _>>()?;
        Ok(RuleSet { rules: compiled })
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// True without rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Appends to `out` the matches of every rule (rule by rule, each in order) that overlap
    /// bytes `shown` of `line` (relative to the line's start), clipped to them, as columns in
    /// `enc` counted from `start_column` (the column of `shown.start`). Stops once `out` holds
    /// `limit` highlights and then returns `false` (`true`: every match was added).
    ///
    /// Cost: one read of the shown bytes plus up to 2 × ([`CONTEXT`] + 1), then one search of
    /// them per rule, and a column count per match in non-UTF-8 encodings (O(shown) per rule).
    #[allow(clippy::too_many_arguments)] // (each is one fact about the line; a struct would only rename them)
    pub fn highlight_line(
        &self,
        view: &View<'_>,
        line: &Line,
        shown: Range<usize>,
        enc: PositionEncoding,
        start_column: usize,
        limit: usize,
        out: &mut Vec<Highlight>,
    ) -> Result<bool> {
        if self.rules.is_empty() || shown.is_empty() {
            return Ok(true);
        }
        let shown = shown.start..shown.end.min(line.len);
        let charset = view.charset();
        // Searched: `lo..hi`; read: one more character's worth (a byte, a UTF-16 unit) each
        // side where the line goes on.
        let unit = if charset.is_utf16() { 2 } else { 1 };
        let lo = shown.start.saturating_sub(CONTEXT);
        let hi = shown.end.saturating_add(CONTEXT).min(line.len);
        let read_lo = lo.saturating_sub(unit);
        let read_hi = (hi + unit).min(line.len);
        let hay = view.read(line.start + read_lo, line.start + read_hi)?;
        let search = (lo - read_lo)..(hi - read_lo);
        let shown_in = (shown.start - read_lo)..(shown.end - read_lo);
        if charset.is_utf8() {
            return Ok(self.highlight_bytes(&hay, search, shown_in, enc, start_column, limit, out));
        }
        // Another encoding: the rules run on the text as shown, decoded part by part so that
        // the parts' ends are known in it (a character cut at the context's outer edges reads
        // as U+FFFD there, as context only); columns are the decoded text's, as in viewports.
        let cuts = [
            0,
            search.start,
            shown_in.start,
            shown_in.end,
            search.end,
            hay.len(),
        ];
        let mut text = String::with_capacity(hay.len());
        let mut at = [0; 6];
        for k in 0..5 {
            at[k] = text.len();
            text.push_str(&charset.decode_lossy(&hay[cuts[k]..cuts[k + 1]]).0);
        }
        at[5] = text.len();
        Ok(self.highlight_bytes(
            text.as_bytes(),
            at[1]..at[4],
            at[2]..at[3],
            enc,
            start_column,
            limit,
            out,
        ))
    }

    /// [`RuleSet::highlight_line`] on bytes: `hay[search]` is searched (the bytes around it
    /// are look-around context only), matches overlapping `hay[shown]` are reported as columns
    /// from `start_column` at `shown.start`.
    #[allow(clippy::too_many_arguments)]
    pub fn highlight_bytes(
        &self,
        hay: &[u8],
        search: Range<usize>,
        shown: Range<usize>,
        enc: PositionEncoding,
        start_column: usize,
        limit: usize,
        out: &mut Vec<Highlight>,
    ) -> bool {
        // The engine sees `hay[..search.end + 1]` (one byte of context after), starting at
        // `search.start`: bytes before it are context for `^`, `\b` (find_at).
        let ctx_end = (search.end + 1).min(hay.len());
        let engine_hay = &hay[..ctx_end];
        for (rule, (re, whole_word)) in self.rules.iter().enumerate() {
            // Columns: a cursor moving forward through `hay[shown]` (matches come in order).
            let (mut at_byte, mut at_col) = (shown.start, start_column);
            let mut col_of = |b: usize| {
                if b < at_byte {
                    // (Clipped starts never go back: a match starts at or after the previous
                    // one's end, and clipping only moves starts forward.)
                    return start_column + count_columns(&hay[shown.start..b], enc);
                }
                at_col += count_columns(&hay[at_byte..b], enc);
                at_byte = b;
                at_col
            };
            let mut from = search.start;
            while from <= search.end {
                let Some(m) = re.find_at(engine_hay, from) else {
                    break;
                };
                if m.start() >= shown.end || m.start() >= search.end {
                    break;
                }
                let (s, e) = (m.start(), m.end().min(search.end));
                if *whole_word && !is_grep_word(hay, s..m.end()) {
                    // Look again from the next character: a later match may start inside.
                    from = next_char_boundary(hay, s);
                    continue;
                }
                from = if m.end() > s { m.end() } else { s + 1 };
                // Widen to whole characters, then clip to what is shown.
                let s = floor_boundary(hay, s).max(shown.start);
                let e = if is_char_boundary(hay, e) {
                    e
                } else {
                    next_char_boundary(hay, e)
                };
                let e = e.min(shown.end);
                if s >= e {
                    continue;
                }
                if out.len() >= limit {
                    return false;
                }
                let start = col_of(s);
                let end = col_of(e);
                out.push(Highlight { rule, start, end });
            }
        }
        true
    }
}

fn compile(r: &Rule) -> Result<(Regex, bool)> {
    let bytes = r.pattern.len();
    if bytes == 0 {
        return Err(Error::InvalidRegex("the pattern is empty".into()));
    }
    if bytes > MAX_RULE_PATTERN {
        return Err(Error::PatternTooLong {
            bytes,
            limit: MAX_RULE_PATTERN,
            what: "highlight rules",
        });
    }
    let pattern = if r.regex {
        r.pattern.clone()
    } else {
        regex::escape(&r.pattern)
    };
    let re = build_regex(&pattern, !r.case_sensitive, RULE_SIZE_LIMIT)?;
    Ok((re, r.whole_word))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Control, Document};

    fn rule(pattern: &str, regex: bool) -> Rule {
        Rule {
            pattern: pattern.into(),
            regex,
            case_sensitive: true,
            whole_word: false,
        }
    }

    /// Columns of `bytes` counted independently of `count_columns`: valid runs by their
    /// characters (UTF-16 units or code points), each invalid byte as one.
    fn oracle_columns(mut bytes: &[u8], enc: PositionEncoding) -> usize {
        let mut n = 0;
        loop {
            match std::str::from_utf8(bytes) {
                Ok(s) => return n + units(s, enc),
                Err(e) => {
                    let (ok, rest) = bytes.split_at(e.valid_up_to());
                    n += units(std::str::from_utf8(ok).unwrap(), enc);
                    let bad = e.error_len().unwrap_or(rest.len());
                    n += bad;
                    bytes = &rest[bad..];
                }
            }
        }
    }

    fn units(s: &str, enc: PositionEncoding) -> usize {
        match enc {
            PositionEncoding::Utf8 => s.len(),
            PositionEncoding::Utf16 => s.encode_utf16().count(),
            PositionEncoding::Utf32 => s.chars().count(),
        }
    }

    /// Lines of ASCII, multi-byte characters (é, 🦀), invalid bytes, CRLF and lone CR breaks.
    fn generated() -> Vec<u8> {
        let pieces: [&[u8]; 9] = [
            b"ERROR ",
            b"req=ab12 ",
            "é🦀 ".as_bytes(),
            b"\xFF\xFE ",
            b"errorERROR ",
            b"xx ",
            "ÉRROR ".as_bytes(),
            b"\xE2\x82 ",
            b"id=ERROR_1 ",
        ];
        let mut out = Vec::new();
        let mut seed = 7u64;
        for line in 0..400 {
            for _ in 0..(line % 23) {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                out.extend_from_slice(pieces[(seed >> 33) as usize % pieces.len()]);
            }
            out.extend_from_slice([&b"\n"[..], b"\r\n", b"\r"][line % 3]);
        }
        out
    }

    /// The highlights of whole lines equal a plain `find_iter` of each rule's regex over each
    /// line's bytes (non-empty matches), converted with an independent column count, in all
    /// three encodings.
    #[test]
    fn whole_lines_match_a_plain_regex_scan() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gen.log");
        let bytes = generated();
        std::fs::write(&path, &bytes).unwrap();
        let mut doc = Document::open(&path).unwrap();
        doc.wait_for_index(&Control::new()).unwrap();
        let rules = [
            rule("ERROR", false),
            rule(r"req=[a-z0-9]+", true),
            rule("🦀", false),
            rule(r"\w+$", true),
            rule(r"^.", true),
            Rule {
                case_sensitive: false,
                ..rule("error", false)
            },
        ];
        let set = RuleSet::new(&rules).unwrap();
        let oracles: Vec<Regex> = rules
            .iter()
            .map(|r| {
                let p = if r.regex {
                    r.pattern.clone()
                } else {
                    regex::escape(&r.pattern)
                };
                regex::bytes::RegexBuilder::new(&p)
                    .case_insensitive(!r.case_sensitive)
                    .build()
                    .unwrap()
            })
            .collect();
        let view = doc.view();
        let lines = view.lines(0, 500, None).unwrap();
        // (401 breaks, but a lone CR before an empty line's LF is one CRLF)
        assert!(lines.len() > 390, "{}", lines.len());
        let mut total = 0;
        for enc in [
            PositionEncoding::Utf8,
            PositionEncoding::Utf16,
            PositionEncoding::Utf32,
        ] {
            for line in &lines {
                let raw = view.read(line.start, line.start + line.len).unwrap();
                let mut got = Vec::new();
                assert!(set
                    .highlight_line(&view, line, 0..line.len, enc, 0, usize::MAX, &mut got)
                    .unwrap());
                let mut want = Vec::new();
                for (i, re) in oracles.iter().enumerate() {
                    for m in re.find_iter(&raw).filter(|m| !m.is_empty()) {
                        want.push(Highlight {
                            rule: i,
                            start: oracle_columns(&raw[..m.start()], enc),
                            end: oracle_columns(&raw[..m.end()], enc),
                        });
                    }
                }
                total += want.len();
                assert_eq!(got, want, "line {:?} {:?}", line.number, enc);
            }
        }
        assert!(total > 3000, "the generated lines hold matches: {total}");
    }

    /// In a legacy encoding and in UTF-16 the highlights of each line, whole and in windows,
    /// are those of the same text in a UTF-8 file (the rules run on the decoded text).
    #[test]
    fn other_encodings_highlight_as_the_same_text_in_utf8() {
        use crate::Encoding;
        let dir = tempfile::tempdir().unwrap();
        let rules = [
            rule("ERROR", false),
            rule(r"req=\w+", true),
            rule(r"\w+$", true),
            rule(r"^.", true),
            Rule {
                case_sensitive: false,
                ..rule("érror", false)
            },
            Rule {
                whole_word: true,
                ..rule("café", false)
            },
        ];
        let set = RuleSet::new(&rules).unwrap();
        let line = |i: usize, extra: &str| {
            format!(
                "{i} ERROR café req=ab{i} ÉRROR cafés {extra} café {}",
                "x".repeat(i % 7)
            )
        };
        for (label, extra, bom) in [
            ("windows-1252", "naïve", &b""[..]),
            ("shift_jis", "日本語のエラー", &b""[..]),
            ("utf-16le", "日本 🦀 \u{0A0A}", &b"\xFF\xFE"[..]),
            ("utf-16be", "🦀 ਊ", &b""[..]),
        ] {
            let enc = Encoding::from_label(label, false).unwrap();
            let mut text: String = (0..40).map(|i| line(i, extra) + "\r\n").collect();
            if label == "shift_jis" {
                // (no accented Latin letters in Shift_JIS)
                text = text.replace('é', "e").replace('É', "E");
            }
            let plain = dir.path().join(format!("{label}.utf8"));
            // (a BOM is the first line's first character, shown as U+FEFF: so in UTF-8 too)
            let bom_char = if bom.is_empty() { "" } else { "\u{FEFF}" };
            std::fs::write(&plain, format!("{bom_char}{text}")).unwrap();
            let wide = dir.path().join(format!("{label}.txt"));
            let mut bytes = bom.to_vec();
            bytes.extend(enc.charset().encode(&text).unwrap());
            std::fs::write(&wide, &bytes).unwrap();
            let want_doc = Document::open(&plain).unwrap();
            let doc = Document::open_cached_as(&wide, Default::default(), None, Some(enc)).unwrap();
            let (v8, v) = (want_doc.view(), doc.view());
            let (lines8, lines) = (
                v8.lines(0, 50, None).unwrap(),
                v.lines(0, 50, None).unwrap(),
            );
            assert_eq!(lines.len(), lines8.len(), "{label}");
            let mut total = 0;
            for pe in [PositionEncoding::Utf8, PositionEncoding::Utf16] {
                for (l8, l) in lines8.iter().zip(&lines) {
                    let (mut want, mut got) = (Vec::new(), Vec::new());
                    set.highlight_line(&v8, l8, 0..l8.len, pe, 0, usize::MAX, &mut want)
                        .unwrap();
                    set.highlight_line(&v, l, 0..l.len, pe, 0, usize::MAX, &mut got)
                        .unwrap();
                    assert_eq!(got, want, "{label} {pe:?} line {:?}", l.number);
                    total += want.len();
                }
            }
            assert!(total > 300, "{label}: {total}");
            // A window from the second word on (a character boundary in every encoding).
            let (l8, l) = (&lines8[12], &lines[12]);
            let w8 = "12 ".len();
            let w = enc.charset().encode("12 ").unwrap().len();
            let (mut want, mut got) = (Vec::new(), Vec::new());
            set.highlight_line(
                &v8,
                l8,
                w8..l8.len,
                PositionEncoding::Utf16,
                3,
                99,
                &mut want,
            )
            .unwrap();
            set.highlight_line(&v, l, w..l.len, PositionEncoding::Utf16, 3, 99, &mut got)
                .unwrap();
            assert_eq!(got, want, "{label} window");
        }
    }

    /// A window cut out of a long line: each match overlapping it is reported clipped to it,
    /// and found whole across the edge (within the context); `^` does not match at the cut.
    #[test]
    fn a_window_reports_matches_clipped_at_its_edges() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("long.log");
        let line: Vec<u8> = b"ERROR_".repeat(10_000);
        std::fs::write(&path, [&line[..], b"\n"].concat()).unwrap();
        let doc = Document::open(&path).unwrap();
        let view = doc.view();
        let l = &view.lines(0, 1, None).unwrap()[0];
        let set = RuleSet::new(&[rule("ROR_ER", false), rule("^E", true)]).unwrap();
        for (from, to) in [(1000usize, 1100usize), (1003, 1004), (59_990, 60_000)] {
            let mut got = Vec::new();
            set.highlight_line(
                &view,
                l,
                from..to,
                PositionEncoding::Utf8,
                from,
                1 << 20,
                &mut got,
            )
            .unwrap();
            // Oracle: every occurrence in the whole line, clipped.
            let mut want = Vec::new();
            let mut at = 0;
            while let Some(p) = memchr::memmem::find(&line[at..], b"ROR_ER") {
                let (s, e) = (at + p, at + p + 6);
                if s < to && e > from {
                    want.push(Highlight {
                        rule: 0,
                        start: s.max(from),
                        end: e.min(to),
                    });
                }
                at = s + 1;
            }
            assert_eq!(got, want, "window {from}..{to}");
        }
        // `^` only at the line's real start.
        let mut got = Vec::new();
        set.highlight_line(&view, l, 0..10, PositionEncoding::Utf8, 0, 100, &mut got)
            .unwrap();
        assert!(got.contains(&Highlight {
            rule: 1,
            start: 0,
            end: 1
        }));
    }

    #[test]
    fn whole_words_and_the_limit() {
        let set = RuleSet::new(&[Rule {
            whole_word: true,
            ..rule("ERROR", false)
        }])
        .unwrap();
        let hay = "ERROR xERROR ERRORx ERROR_ é ERROR,ÉERROR ERROR".as_bytes();
        let mut got = Vec::new();
        assert!(set.highlight_bytes(
            hay,
            0..hay.len(),
            0..hay.len(),
            PositionEncoding::Utf8,
            0,
            100,
            &mut got
        ));
        let starts: Vec<usize> = got.iter().map(|h| h.start).collect();
        let ends: Vec<usize> = hay
            .windows(5)
            .enumerate()
            .filter(|(_, w)| *w == b"ERROR")
            .map(|(i, _)| i)
            .collect();
        // Whole words: the first, the one before ',' and the last.
        assert_eq!(starts, vec![ends[0], ends[4], ends[6]]);
        let mut cut = Vec::new();
        assert!(!set.highlight_bytes(
            hay,
            0..hay.len(),
            0..hay.len(),
            PositionEncoding::Utf8,
            0,
            2,
            &mut cut
        ));
        assert_eq!(cut.len(), 2);
    }

    #[test]
    fn bad_rules_are_refused_naming_the_rule() {
        let e = RuleSet::new(&[rule("ok", false), rule("a(b", true)]).unwrap_err();
        assert_eq!(e.index, 1);
        assert!(matches!(e.error, Error::InvalidRegex(_)));
        let e = RuleSet::new(&[rule("", false)]).unwrap_err();
        assert!(matches!(e.error, Error::InvalidRegex(_)));
        let long = "a".repeat(MAX_RULE_PATTERN + 1);
        let e = RuleSet::new(&[rule("x", false), rule("y", true), rule(&long, false)]).unwrap_err();
        assert_eq!(e.index, 2);
        assert!(matches!(e.error, Error::PatternTooLong { .. }));
        let e = RuleSet::new(&[rule(r"\w{500}", true)]).unwrap_err();
        assert!(matches!(e.error, Error::InvalidRegex(m) if m.contains("too complex")));
        let many = vec![rule("x", false); MAX_RULES + 1];
        assert!(matches!(
            RuleSet::new(&many).unwrap_err().error,
            Error::TooLarge(_)
        ));
        assert_eq!(RuleSet::new(&many[..MAX_RULES]).unwrap().len(), MAX_RULES);
    }
}
