//! Search over a document's bytes: literal and regex (`regex::bytes`), forward and backward, with
//! progress and cancellation; and the planning of replace-all.
//!
//! In a document that is not UTF-8, regular expressions, case-insensitive text and whole words
//! run on its text decoded window by window ([`crate::decoded`], `scan_decoded`): the same
//! windows, units and joins as below, with each match mapped back to the file's bytes.
//!
//! The document is searched in windows of [`WINDOW`] bytes. A window that lies inside one piece
//! (the usual case for the original file) is searched in place, with no copy; one that spans
//! pieces is copied into a buffer that the search reuses and frees when it ends. Consecutive
//! windows overlap by [`MAX_MATCH`] bytes (by the pattern's length for longer literal text), so
//! any match of up to that length is found whole, even across piece and window boundaries;
//! a longer regex match is cut at a window's end. `^`, `$` and `\b` see the bytes before a
//! window (`find_at`), so they behave as on the whole text.
//!
//! Engines, chosen for time linear in the text whatever the pattern:
//! * case-sensitive literal text: `memchr::memmem` (Two-Way with SIMD prefilters), O(n + m)
//!   for a pattern of up to [`MAX_LITERAL`] bytes; no regex is built;
//! * regular expressions and case-insensitive text: `regex::bytes`, whose lazy DFA is linear
//!   in the text as long as its states fit in its cache. Patterns whose automaton would not
//!   (long patterns, big repetitions of Unicode classes like `\w{500}`) make the engine fall
//!   back to an O(n·m) simulation that runs for minutes, so patterns longer than
//!   [`MAX_REGEX_PATTERN`] bytes, or compiling to more than 2 MiB, are refused at once
//!   ([`Error::PatternTooLong`], [`Error::InvalidRegex`] "too complex"), and the DFA cache
//!   gets 16 MiB, enough for every pattern within those limits.
//!
//! What is found is what `regex` finds over the whole text, with multi-line and CRLF mode on:
//! `^` and `$` match at the starts and ends of lines as Tome counts them (a line ends at LF,
//! CRLF or a lone CR, and nothing matches between the CR and the LF of a CRLF; `.` matches
//! neither CR nor LF); `$` and `\z` also match at the very end of the document, and `^` at the
//! start of the empty line after a final line break, so `^` matches once per line.
//!
//! Empty matches (of `x*`, `^`, `(?:)`…) land only on character boundaries, as with `regex`'s
//! `find_iter` over a `&str`: a position inside a UTF-8 character is never a match, so a
//! replace-all never inserts text between the bytes of a character; nor between the CR and
//! the LF of a CRLF (one line break), so it never splits one. An invalid byte counts as
//! one character, as everywhere in Tome (it shows as one U+FFFD).

use std::ops::Range;

use regex::bytes::{Regex, RegexBuilder};

use crate::charset::Charset;
use crate::decoded::{self, Decoded};
use crate::lines::{line_start_at, next_line_start, Scope};
use crate::plan::{Plan, PlanBuilder};
use crate::text::{is_char_boundary, next_char_boundary};
use crate::view::View;
use crate::words::WordSeparators;
use crate::{Control, Error, Result};

/// Bytes searched per window.
pub const WINDOW: usize = 4 << 20;
/// The longest regex match found whole; also the overlap between windows (at least).
pub const MAX_MATCH: usize = 64 << 10;
/// The longest case-sensitive literal pattern, in bytes. Windows overlap by the pattern's
/// length when it is longer than [`MAX_MATCH`], so it is found whole anywhere; the window stays
/// at least four times the overlap.
pub const MAX_LITERAL: usize = 1 << 20;
/// The longest pattern given to the regex engine, in bytes: regular expressions and
/// case-insensitive text. Measured: a case-insensitive pattern of 4 KiB that nearly matches
/// everywhere searches 4 MiB in 0.2 s with the DFA cache below (8 KiB: 0.8 s); at 16 KiB the
/// cache no longer holds its states and the same search ran past 100 s.
pub const MAX_REGEX_PATTERN: usize = 4 << 10;
/// Bytes the compiled program of a regex may take; larger ones are refused as too complex.
/// `\w` alone takes 50 KB (it is all of Unicode's word characters), so this admits `\w{40}`
/// and refuses `\w{50}` (and the probe's `\w{500}z`, 25 MB): a margin below where the DFA
/// runs out of cache (`\w{60}z` with regex's default 2 MiB cache: 7 s on 4 MB of words instead
/// of 10 ms).
const REGEX_SIZE_LIMIT: usize = 2 << 20;
/// Bytes of lazy DFA cache a search may fill (regex's default is 2 MiB, which `\w{60}z` or a
/// case-insensitive pattern of 4 KiB overflow). It is filled only as states are needed, and
/// freed with the matcher.
const REGEX_DFA_LIMIT: usize = 16 << 20;
/// Bytes before a window that assertions (`^`, `\b`) may look at; also enough to tell whether
/// a position is inside a character.
const CONTEXT: usize = 8;
/// Kept runs shorter than this between two replacements are rewritten with them.
pub use crate::plan::MERGE_GAP;

/// What to look for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    /// The text or regular expression.
    pub pattern: String,
    /// True for a regular expression (Rust `regex` syntax), false for literal text.
    pub regex: bool,
    /// True to ignore case (Unicode-aware).
    pub case_insensitive: bool,
}

/// Direction of a search.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Towards the end.
    Forward,
    /// Towards the start.
    Backward,
}

/// A compiled query.
#[derive(Clone, Debug)]
pub struct Matcher {
    engine: Engine,
    regex: bool,
    query: Query,
    /// Bytes searched per window.
    window: usize,
    /// Overlap between windows: the longest match found whole.
    overlap: usize,
    /// Only whole words by these separators (see [`Matcher::whole_words`]).
    words: Option<WordSeparators>,
    /// The encoding the pattern was written in ([`Matcher::new_in`]).
    charset: Charset,
    /// True when the engine runs on the document's text decoded into UTF-8 (windows of
    /// `charset` decoded by [`crate::decoded`]) rather than on its bytes.
    decoded: bool,
}

#[derive(Clone, Debug)]
enum Engine {
    /// Case-sensitive literal text, never empty (boxed: a finder is 288 bytes).
    Literal(Box<memchr::memmem::Finder<'static>>),
    /// A regular expression, or case-insensitive text.
    Regex(Regex),
}

impl Matcher {
    /// Compiles `query`. Cost: O(m) for literal text; a regex compiles in time and memory
    /// bounded by the limits above.
    ///
    /// Errors: [`Error::InvalidRegex`] for an empty pattern, one that does not parse (with the
    /// parser's explanation) or one too complex to run in linear time;
    /// [`Error::PatternTooLong`] past [`MAX_LITERAL`] (case-sensitive text) or
    /// [`MAX_REGEX_PATTERN`] (regular expressions, case-insensitive text).
    pub fn new(query: &Query) -> Result<Matcher> {
        let bytes = query.pattern.len();
        if bytes == 0 {
            return Err(Error::InvalidRegex("the pattern is empty".into()));
        }
        if !query.regex && !query.case_insensitive {
            if bytes > MAX_LITERAL {
                return Err(Error::PatternTooLong {
                    bytes,
                    limit: MAX_LITERAL,
                    what: "case-sensitive text",
                });
            }
            return Ok(Matcher::literal(query, query.pattern.as_bytes()));
        }
        if bytes > MAX_REGEX_PATTERN {
            return Err(Error::PatternTooLong {
                bytes,
                limit: MAX_REGEX_PATTERN,
                what: "regular expressions and case-insensitive text",
            });
        }
        let pattern = if query.regex {
            query.pattern.clone()
        } else {
            regex::escape(&query.pattern)
        };
        let re = build_regex(&pattern, query.case_insensitive, REGEX_SIZE_LIMIT)?;
        Ok(Matcher::with(Engine::Regex(re), query, 0))
    }

    /// Compiles `query` for a document whose bytes are in `charset` (see [`crate::charset`]).
    /// In UTF-8, [`Matcher::new`]. In another encoding:
    /// * case-sensitive text: the pattern is written in that encoding and searched as bytes,
    ///   and a match counts only where a character starts (in a multi-byte encoding a
    ///   pattern's bytes can also appear across two characters: each hit is checked from its
    ///   line's start, O(line));
    /// * regular expressions and case-insensitive text: compiled as by [`Matcher::new`] and
    ///   run on the document decoded window by window into UTF-8 ([`crate::decoded`]), each
    ///   match mapped back to the file's bytes (it starts and ends on characters of the
    ///   file). Cost: the decoding (O(bytes searched)) and the offset map's memory (see
    ///   [`crate::decoded`]) on top of the regex's.
    ///
    /// Errors: as [`Matcher::new`]; [`Error::Unrepresentable`] if the encoding cannot write
    /// the (case-sensitive, literal) pattern: no text of the file can match it.
    pub fn new_in(query: &Query, charset: Charset) -> Result<Matcher> {
        if charset.is_utf8() {
            return Matcher::new(query);
        }
        if query.regex || query.case_insensitive {
            let mut m = Matcher::new(query)?;
            m.charset = charset;
            m.decoded = true;
            return Ok(m);
        }
        let bytes = charset
            .encode(&query.pattern)
            .map_err(|character| Error::Unrepresentable {
                encoding: charset.name().to_owned(),
                character,
                what: ", in the search pattern: no text of this file can match it".into(),
            })?;
        if bytes.is_empty() {
            return Err(Error::InvalidRegex("the pattern is empty".into()));
        }
        if bytes.len() > MAX_LITERAL {
            return Err(Error::PatternTooLong {
                bytes: bytes.len(),
                limit: MAX_LITERAL,
                what: "case-sensitive text",
            });
        }
        let mut m = Matcher::literal(query, &bytes);
        m.charset = charset;
        Ok(m)
    }

    fn literal(query: &Query, bytes: &[u8]) -> Matcher {
        let finder = memchr::memmem::Finder::new(bytes).into_owned();
        Matcher::with(Engine::Literal(Box::new(finder)), query, bytes.len())
    }

    fn with(engine: Engine, query: &Query, literal_len: usize) -> Matcher {
        let overlap = MAX_MATCH.max(literal_len);
        Matcher {
            engine,
            regex: query.regex,
            query: query.clone(),
            window: WINDOW.max(4 * overlap),
            overlap,
            words: None,
            charset: Charset::Utf8,
            decoded: false,
        }
    }

    /// Keeps only the matches that are whole words as an editor with these word separators
    /// defines them (VS Code's Whole Word: see [`crate::words`]), in every search, count and
    /// replace-all made with this matcher. A rejected match is skipped and the search goes on
    /// after it, as VS Code's does. Cost: O(1) per match.
    ///
    /// In an encoding other than UTF-8 the check needs the characters around a match: a
    /// case-sensitive literal matcher then searches the decoded text too (as regular
    /// expressions do there, see [`Matcher::new_in`]).
    pub fn whole_words(mut self, words: Option<WordSeparators>) -> Matcher {
        if words.is_some() && !self.charset.is_utf8() && !self.decoded {
            let pattern = self.query.pattern.as_bytes();
            let finder = memchr::memmem::Finder::new(pattern).into_owned();
            let mut m = Matcher::with(
                Engine::Literal(Box::new(finder)),
                &self.query,
                2 * pattern.len(),
            );
            m.charset = self.charset;
            m.decoded = true;
            self = m;
        }
        self.words = words;
        self
    }

    /// True when the engine runs on the document's text decoded into UTF-8 (see
    /// [`Matcher::new_in`]) rather than on its bytes.
    pub(crate) fn is_decoded(&self) -> bool {
        self.decoded
    }

    /// The query this matcher was compiled from.
    pub fn query(&self) -> &Query {
        &self.query
    }

    /// For tests: searches windows of `window` bytes overlapping by `overlap` instead of
    /// [`WINDOW`] and [`MAX_MATCH`], so that small texts cross window boundaries. The overlap
    /// stays at least a literal pattern's length and at least 4 bytes (one UTF-8 character:
    /// an empty match near a window's end is judged by the whole character around it, which
    /// the real 64 KiB overlap always holds), the window at least twice the overlap.
    #[doc(hidden)]
    pub fn with_windows(mut self, window: usize, overlap: usize) -> Matcher {
        let literal = match &self.engine {
            // Decoded: a character of the file takes up to twice its UTF-8 bytes.
            Engine::Literal(f) if self.decoded => 2 * f.needle().len(),
            Engine::Literal(f) => f.needle().len(),
            Engine::Regex(_) => 0,
        };
        self.overlap = overlap.max(literal).max(4);
        self.window = window.max(2 * self.overlap);
        self
    }

    /// The leftmost match starting at or after `at` in `hay`, the bytes before `at` counting
    /// as context for assertions.
    pub(crate) fn find_at(&self, hay: &[u8], at: usize) -> Option<Range<usize>> {
        match &self.engine {
            Engine::Literal(finder) => {
                let start = at + finder.find(hay.get(at..)?)?;
                Some(start..start + finder.needle().len())
            }
            Engine::Regex(re) => re.find_at(hay, at).map(|m| m.range()),
        }
    }

    /// The regex, when `$1`-style groups can be expanded in replacements.
    fn groups(&self) -> Option<&Regex> {
        match &self.engine {
            Engine::Regex(re) if self.regex => Some(re),
            _ => None,
        }
    }
}

/// Compiles `pattern` (regex syntax; escape literal text first) as Tome searches: multi-line
/// and CRLF mode, a compiled program of at most `size_limit` bytes (else refused as too complex,
/// see [`REGEX_SIZE_LIMIT`]) and a lazy DFA cache of up to [`REGEX_DFA_LIMIT`].
pub(crate) fn build_regex(
    pattern: &str,
    case_insensitive: bool,
    size_limit: usize,
) -> Result<Regex> {
    RegexBuilder::new(pattern)
        .case_insensitive(case_insensitive)
        .multi_line(true)
        .crlf(true)
        .size_limit(size_limit)
        .dfa_size_limit(REGEX_DFA_LIMIT)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(_) => Error::InvalidRegex(format!(
                "the pattern is too complex: compiled, it would take more than {} MiB, and \
                 searching with it could take minutes; use smaller repetition counts or \
                 narrower classes (such as [a-z] or (?-u:\\w) instead of \\w)",
                size_limit >> 20
            )),
            other => Error::InvalidRegex(other.to_string()),
        })
}

/// A page of matches from [`View::find_all`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatchPage {
    /// Byte ranges of the matches, in order.
    pub matches: Vec<Range<usize>>,
    /// Where to continue for the next page, if the range was not searched to its end.
    pub resume_at: Option<usize>,
}

/// Which matches a [`scan`] hands out.
#[derive(Clone, Copy, Debug)]
struct Span {
    /// Where the search starts: matches start here or later, as `regex`'s `find_at` finds them
    /// (the bytes before still count for `^`, `\b`…).
    from: usize,
    /// Matches must start before this. `len + 1` takes in an empty match at the very end.
    starts_before: usize,
    /// Matches must end by this.
    ends_by: usize,
}

/// Hands `found(match)` the matches of `span` in order, the same
/// ones `regex`'s iterator finds searching the whole text from `span.from`, until `found`
/// returns false or there are no more. Returns where the search for the next match would
/// start: after the last match handed out or skipped (a match rejected as not a whole word
/// is skipped whole), so that a scan of the text after a cut can tell whether it continues
/// this one ([`join_unit`]). Windows of [`WINDOW`] bytes overlapping by
/// [`MAX_MATCH`] (more for long literals); a window is borrowed when one piece holds it, else
/// copied into one buffer that the scan reuses and frees when it returns. Cost: O(bytes
/// searched). A decoded matcher (see [`Matcher::new_in`]) runs [`scan_decoded`] instead.
fn scan(
    view: View<'_>,
    m: &Matcher,
    span: Span,
    control: &Control,
    mut found: impl FnMut(Range<usize>) -> bool,
) -> Result<usize> {
    if m.decoded {
        return scan_decoded(view, m, span, control, found);
    }
    let len = view.len();
    let Span {
        from,
        starts_before,
        ends_by,
    } = span;
    let total = starts_before.min(len).saturating_sub(from) as u64;
    let mut pos = from;
    let mut buf = Vec::new();
    let mut last_end: Option<usize> = None;
    // Where the last search for a match started (see the return value).
    let chain = loop {
        control.check()?;
        control.set_progress((pos - from) as u64, total);
        let w_start = pos.saturating_sub(CONTEXT);
        // No further than the longest match starting before `starts_before` reaches: a scan
        // of a part (a unit of a parallel scan) does not read a window past it.
        let w_end = pos
            .saturating_add(m.window)
            .min(len)
            .min(starts_before.saturating_add(m.overlap).max(pos));
        let last = w_end == len;
        // Matches starting here or later are left to the next window, which sees them whole.
        let accept_below = if last { len + 1 } else { w_end - m.overlap };
        let hay = view.contiguous(w_start, w_end, &mut buf);
        let mut at = pos - w_start;
        let mut done = false;
        while at <= hay.len() {
            let Some(hit) = m.find_at(hay, at) else {
                break;
            };
            let range = w_start + hit.start..w_start + hit.end;
            if range.start >= accept_below {
                break;
            }
            if range.start >= starts_before || range.end > ends_by {
                // Every later match starts later still.
                done = true;
                break;
            }
            // An empty match right after the previous match, or inside a character, is not one:
            // look again from the next character.
            if range.is_empty()
                && (last_end == Some(range.start)
                    || !is_char_boundary(hay, hit.start)
                    || inside_crlf(hay, hit.start))
            {
                at = next_char_boundary(hay, hit.start);
                continue;
            }
            if let Some(words) = &m.words {
                if !words.is_whole_word(&view, hay, w_start, &range) {
                    at = if hit.is_empty() {
                        next_char_boundary(hay, hit.end)
                    } else {
                        hit.end
                    };
                    continue;
                }
            }
            // In UTF-16 a match starts a character iff it is at an even offset (the pattern
            // was encoded from text: its first unit is never the low half of a pair). In a
            // multi-byte legacy encoding the bytes may start inside a character.
            let misplaced = if m.charset.is_utf16() {
                range.start % 2 != 0
            } else {
                m.charset.context_before().is_none() && !view.is_char_start(range.start)
            };
            if misplaced {
                at = hit.start + 1;
                continue;
            }
            last_end = Some(range.end);
            let go_on = found(range.clone());
            at = if hit.is_empty() {
                next_char_boundary(hay, hit.end)
            } else {
                hit.end
            };
            if !go_on {
                view.intact()?;
                return Ok(w_start + at);
            }
        }
        if done || last || accept_below >= starts_before {
            view.release(w_start, w_end);
            break w_start + at;
        }
        pos = accept_below.max(last_end.unwrap_or(0));
        // Behind the scan: what the next window does not read again.
        view.release(w_start, pos.saturating_sub(CONTEXT));
    };
    control.set_progress(total, total);
    view.intact()?;
    Ok(chain)
}

/// [`scan`] for a matcher that runs on decoded text: the same windows (in the file's bytes,
/// overlapping by the matcher's overlap), each decoded into UTF-8 from a character boundary at
/// least [`CONTEXT`] bytes before where its search starts (the characters before count for
/// `^`, `\b`), the engine run on the decoded text, and each match mapped back to the file's
/// bytes ([`crate::decoded`]). What is found is what the engine finds on the whole document
/// decoded, from the first character starting at or after `span.from`. Cost: O(bytes
/// searched) plus the decoding; the first window of a multi-byte legacy encoding also walks
/// the line before `span.from` from its start ([`crate::decoded::floor_boundary`]).
fn scan_decoded(
    view: View<'_>,
    m: &Matcher,
    span: Span,
    control: &Control,
    mut found: impl FnMut(Range<usize>) -> bool,
) -> Result<usize> {
    let cs = m.charset;
    let len = view.len();
    let Span {
        from,
        starts_before,
        ends_by,
    } = span;
    let total = starts_before.min(len).saturating_sub(from) as u64;
    let mut pos = from.min(len);
    let mut buf = Vec::new();
    let mut dec = Decoded::default();
    let mut last_end: Option<usize> = None;
    // Where the window decodes from: a character boundary at least CONTEXT bytes before
    // `pos` (or the start), found from the line's start for the first window, then from the
    // last window's map.
    let mut w_start = decoded::floor_boundary(&view, cs, pos.saturating_sub(CONTEXT));
    let chain = loop {
        control.check()?;
        control.set_progress((pos - from.min(pos)) as u64, total);
        let w_end = pos
            .saturating_add(m.window)
            .min(len)
            .min(starts_before.saturating_add(m.overlap).max(pos));
        let last = w_end == len;
        let accept_below = if last { len + 1 } else { w_end - m.overlap };
        let bytes = view.contiguous(w_start, w_end, &mut buf);
        dec.decode(cs, bytes, w_start, last);
        let hay = dec.text();
        let mut at = dec.to_text(pos);
        let mut done = false;
        while at <= hay.len() {
            let Some(hit) = m.find_at(hay, at) else {
                break;
            };
            let range = dec.file_range(hit.clone());
            if range.start >= accept_below {
                break;
            }
            if range.start >= starts_before || range.end > ends_by {
                done = true;
                break;
            }
            // As in `scan`: an empty match right after the last one, inside a character or
            // inside a CRLF is not one. (The decoded text is UTF-8: a character of it is one
            // of the file.)
            if range.is_empty()
                && (last_end == Some(range.start)
                    || !is_char_boundary(hay, hit.start)
                    || inside_crlf(hay, hit.start))
            {
                at = next_char_boundary(hay, hit.start);
                continue;
            }
            if let Some(words) = &m.words {
                let after = || {
                    let mut b = Vec::new();
                    let bytes = view.contiguous(range.end, (range.end + 4).min(len), &mut b);
                    cs.decode_lossy(bytes).0.chars().next()
                };
                let at_start = range.start == 0;
                if !words.is_whole_word_text(hay, hit.clone(), at_start, range.end >= len, after) {
                    at = if hit.is_empty() {
                        next_char_boundary(hay, hit.end)
                    } else {
                        hit.end
                    };
                    continue;
                }
            }
            last_end = Some(range.end);
            let go_on = found(range);
            at = if hit.is_empty() {
                next_char_boundary(hay, hit.end)
            } else {
                hit.end
            };
            if !go_on {
                view.intact()?;
                return Ok(dec.to_file(at));
            }
        }
        if done || last || accept_below >= starts_before {
            view.release(w_start, w_end);
            break dec.to_file(at);
        }
        pos = accept_below.max(last_end.unwrap_or(0));
        let next = dec.floor_file(pos.saturating_sub(CONTEXT));
        view.release(w_start, next);
        w_start = next;
    };
    control.set_progress(total, total);
    view.intact()?;
    Ok(chain)
}

/// Whether `at` lies between the CR and the LF of a CRLF (one line break: an empty match there
/// would split it; the byte before `at` is in `hay` whenever a match can start there, see
/// [`CONTEXT`]).
fn inside_crlf(hay: &[u8], at: usize) -> bool {
    at > 0 && hay[at - 1] == b'\r' && hay.get(at) == Some(&b'\n')
}

impl View<'_> {
    /// The next match from byte `from`, wrapping around the document's end if `wrap`.
    ///
    /// Forward: the match `regex`'s `find_at` finds from `from` (it starts at or after
    /// `from`; an empty match at the very end counts); wrapping, the first match of the whole
    /// document (it starts before `from`). Backward: the last match that starts before `from`,
    /// as a search from the start of the document finds them (in a document longer than a
    /// window, from the start of the window searched, so overlapping candidates may pair up
    /// differently); wrapping, the last match at or after `from`. Cost: O(bytes searched);
    /// cancellable through `control`, which also receives progress.
    ///
    /// On a document of at least [`PARALLEL_MIN`] bytes, the search past its first window runs
    /// on every core ([`View::find_on`]), with the same answer.
    pub fn find(
        &self,
        m: &Matcher,
        from: usize,
        direction: Direction,
        wrap: bool,
        control: &Control,
    ) -> Result<Option<Range<usize>>> {
        let threads = if self.len() >= PARALLEL_MIN {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            1
        };
        self.find_on(m, from, direction, wrap, threads, control)
    }

    /// [`View::find`] on `threads` threads, whatever the document's length (for tests).
    ///
    /// The first window from `from` is searched alone (a match nearby costs what it costs on
    /// one thread); then, forward, units of four [`Matcher`] windows scanned on every core and
    /// joined in order as [`View::find_all_on`] joins a page (the first match of the join is
    /// the one-thread search's; it stops the units after it); backward, rounds of one window
    /// per thread, each searched on its own thread, the answer being the hit of the window
    /// nearest `from`: the very windows the one-thread search takes ([`Matcher`] windows stepping
    /// back from `from`, each searched from its start), so overlapping candidates pair up as
    /// they do there. Progress sums the windows'; cancellation stops them all.
    #[doc(hidden)]
    pub fn find_on(
        &self,
        m: &Matcher,
        from: usize,
        direction: Direction,
        wrap: bool,
        threads: usize,
        control: &Control,
    ) -> Result<Option<Range<usize>>> {
        self.check_range(from, from)?;
        let threads = threads.clamp(1, MAX_THREADS);
        let end = self.len() + 1;
        let first = match direction {
            Direction::Forward => self.find_forward_on(m, from, end, threads, control)?,
            Direction::Backward => self.find_backward_on(m, 0, from, threads, control)?,
        };
        if first.is_some() || !wrap {
            return Ok(first);
        }
        match direction {
            Direction::Forward => self.find_forward_on(m, 0, from, threads, control),
            Direction::Backward => self.find_backward_on(m, from, end, threads, control),
        }
    }

    /// [`View::find_forward`] in parallel rounds (see [`View::find_on`]).
    fn find_forward_on(
        &self,
        m: &Matcher,
        from: usize,
        before: usize,
        threads: usize,
        control: &Control,
    ) -> Result<Option<Range<usize>>> {
        let limit = before.min(self.len() + 1);
        let head = from.saturating_add(m.window).min(limit);
        if threads == 1 || head >= limit {
            return self.find_forward(m, from, before, control);
        }
        if let Some(hit) = self.find_forward(m, from, head, control)? {
            return Ok(Some(hit));
        }
        // The rest in units of four windows on every core, joined in order as a page of one
        // match ([`scan_units`]): workers run on through the units without waiting for each
        // other (rounds of one unit per thread waited for the slowest unit each time, and cost
        // a third more than a count of the same bytes), and the first unit with a match stops
        // the scan, at most [`crate::units::AHEAD`] units per thread past it.
        let span = Span {
            from: head,
            starts_before: limit,
            ends_by: self.len(),
        };
        let unit = m.window.saturating_mul(4);
        let mut hit = None;
        scan_units(*self, m, span, (unit, threads), 1, true, control, |f| {
            if let Found::Match(r) = f {
                hit = Some(r);
                return false;
            }
            true
        })?;
        Ok(hit)
    }

    /// The last match starting in `[lo, before)` (`before` up to `len + 1`, to take in an
    /// empty match at the end). Scans back a window at a time, each from its start: the
    /// nearest window alone, then rounds of `threads` windows (see [`View::find_on`]).
    fn find_backward_on(
        &self,
        m: &Matcher,
        lo: usize,
        before: usize,
        threads: usize,
        control: &Control,
    ) -> Result<Option<Range<usize>>> {
        let mut cursor = before.min(self.len() + 1);
        // The first round is the nearest window alone.
        let mut round = 1;
        while cursor > lo {
            // The windows the one-thread search takes, nearest first.
            let mut ends = vec![cursor];
            while ends.len() <= round {
                let w_start = ends[ends.len() - 1].saturating_sub(m.window).max(lo);
                ends.push(w_start);
                if w_start == lo {
                    break;
                }
            }
            let windows = ends.len() - 1;
            let results = if windows == 1 {
                vec![self.last_in(m, ends[1], ends[0], control)]
            } else {
                let progress = (0, 0);
                on_threads(windows, control, progress, |k, controls| {
                    self.last_in(m, ends[k + 1], ends[k], &controls[k])
                })
            };
            for hit in results {
                if let Some(hit) = hit? {
                    return Ok(Some(hit));
                }
            }
            cursor = ends[windows];
            round = threads;
        }
        Ok(None)
    }

    /// The first match from `from` that starts before `before`.
    fn find_forward(
        &self,
        m: &Matcher,
        from: usize,
        before: usize,
        control: &Control,
    ) -> Result<Option<Range<usize>>> {
        let mut hit = None;
        let span = Span {
            from,
            starts_before: before,
            ends_by: self.len(),
        };
        scan(*self, m, span, control, |r| {
            hit = Some(r);
            false
        })?;
        Ok(hit)
    }

    /// The last match starting in `[w_start, before)`, as a search from `w_start` finds them.
    fn last_in(
        &self,
        m: &Matcher,
        w_start: usize,
        before: usize,
        control: &Control,
    ) -> Result<Option<Range<usize>>> {
        let span = Span {
            from: w_start,
            starts_before: before,
            ends_by: self.len(),
        };
        let mut last = None;
        scan(*self, m, span, control, |r| {
            last = Some(r);
            true
        })?;
        Ok(last)
    }

    /// Up to `limit` matches in bytes `range` (starting in it and ending by its end; an empty
    /// match at the document's end counts when the range reaches it), in order, and where to
    /// resume if there are more: pages from each `resume_at` join up to all the matches.
    /// Cost: O(bytes up to the first match left for the next page, or to the range end).
    ///
    /// A range of at least [`PARALLEL_MIN`] bytes that reaches the document's end is searched
    /// on every core ([`View::find_all_on`]), with the same page.
    pub fn find_all(
        &self,
        m: &Matcher,
        range: Range<usize>,
        limit: usize,
        control: &Control,
    ) -> Result<MatchPage> {
        let threads = threads_for(self, range.start);
        self.find_all_on(m, range, limit, threads, UNIT, control)
    }

    /// [`View::find_all`] on `threads` threads in units of `unit` bytes, whatever the range's
    /// length (for tests: small units cut texts at every kind of place). With one thread, or
    /// a range that ends before the document does, the one-thread scan.
    ///
    /// The range is cut into units, scanned nearest first on the threads of
    /// [`crate::units::in_order`], each keeping at most `limit + 1` matches, and joined in
    /// order on this thread into exactly the one-thread scan's matches (see
    /// [`View::count_matches_on`] for the join). Once the page is full and every unit before
    /// its last match is joined, the scan stops: it goes at most [`crate::units::AHEAD`] units
    /// per thread past the page's end. Memory: O(`limit`) per unit in flight.
    #[doc(hidden)]
    pub fn find_all_on(
        &self,
        m: &Matcher,
        range: Range<usize>,
        limit: usize,
        threads: usize,
        unit: usize,
        control: &Control,
    ) -> Result<MatchPage> {
        self.check_range(range.start, range.end)?;
        let mut matches = Vec::new();
        let mut resume_at = None;
        let span = Span {
            from: range.start,
            starts_before: if range.end == self.len() {
                range.end + 1
            } else {
                range.end
            },
            ends_by: range.end,
        };
        let mut take = |r: Range<usize>| {
            if matches.len() == limit {
                resume_at = Some(r.start);
                return false;
            }
            matches.push(r);
            true
        };
        if threads > 1 && range.end == self.len() {
            let keep = limit.saturating_add(1);
            scan_units(*self, m, span, (unit, threads), keep, true, control, |f| {
                match f {
                    Found::Match(r) => take(r),
                    // Units stop at `keep` matches: none are left uncounted.
                    Found::More(_) => true,
                }
            })?;
        } else {
            scan(*self, m, span, control, &mut take)?;
        }
        Ok(MatchPage { matches, resume_at })
    }

    /// Counts matches in the whole document: the count a search from its start finds. On a
    /// document of at least [`PARALLEL_MIN`] bytes the scan is split across the machine's
    /// cores (see [`View::count_matches_on`]). Cost: O(document), memory O(one window per
    /// core).
    pub fn count_matches(&self, m: &Matcher, control: &Control) -> Result<usize> {
        self.count_matches_on(m, threads_for(self, 0), UNIT, control)
    }

    /// [`View::count_matches`] on `threads` threads, in units of `unit` bytes whatever the
    /// document's length (tests cut small texts at every kind of place).
    ///
    /// The document is cut into units, each scanned from its start on the threads of
    /// [`crate::units::in_order`] (nearest first), keeping its first [`HEAD`] matches, its
    /// count and where its search stopped. Then, in order on this thread, each unit is joined
    /// to the ones before it: it is taken as it is when the one-thread search, as far as it
    /// has got, next searches from the unit's start or before it (a search from an offset
    /// finds what a search from further back finds there, when nothing before it matched: it
    /// depends on nothing before it but the bytes), unless its first match is an empty one
    /// where the last match ended (not one). Otherwise (a match across the cut, overlapping
    /// candidates that pair up differently, a rejected whole-word candidate across the cut)
    /// the unit is searched again from where the one-thread search is, until a match equals
    /// one the unit's scan kept: from there on both find the same. So the count is exactly the
    /// one-thread count, for matches up to [`MAX_MATCH`] bytes, as everywhere. Progress: the
    /// units joined; cancellation stops them all. Cost: O(document / threads), plus what the
    /// joins search again (usually a few matches' worth; at worst a unit).
    #[doc(hidden)]
    pub fn count_matches_on(
        &self,
        m: &Matcher,
        threads: usize,
        unit: usize,
        control: &Control,
    ) -> Result<usize> {
        let mut n = 0;
        scan_units(
            *self,
            m,
            Span::whole(self),
            (unit, threads),
            HEAD,
            false,
            control,
            |f| {
                n += match f {
                    Found::Match(_) => 1,
                    Found::More(k) => k,
                };
                true
            },
        )?;
        Ok(n)
    }
}

/// Documents shorter than this are searched on one thread (splitting costs more than it
/// gains).
pub const PARALLEL_MIN: usize = 64 << 20;
/// Bytes of a unit of a parallel search (a page of matches, a count, a replace-all): what a
/// thread scans at a time, and how often the calling thread joins results and reports
/// progress.
pub const UNIT: usize = 4 * WINDOW;
/// The most threads a search uses.
const MAX_THREADS: usize = crate::units::MAX_THREADS;
/// Matches at the start of a unit kept to join it with the units before it (counts).
const HEAD: usize = 256;

/// The threads a scan of `view` from `from` to its end uses: every core from
/// [`PARALLEL_MIN`] bytes on, else one.
fn threads_for(view: &View<'_>, from: usize) -> usize {
    if view.len().saturating_sub(from) >= PARALLEL_MIN {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        1
    }
}

/// Runs `work(k, controls)` for each `k` in `0..n` on scoped threads, each with its own
/// control (`controls[k]`; a part may cancel others through them), and returns their results
/// in order. Every 10 ms the calling thread passes the caller's cancellation on and reports
/// progress: `progress.0` plus the parts' progress, of `progress.1` (none when that is 0).
/// A part that panicked reads as cancelled.
fn on_threads<T: Send>(
    n: usize,
    control: &Control,
    progress: (u64, u64),
    work: impl Fn(usize, &[Control]) -> Result<T> + Sync,
) -> Vec<Result<T>> {
    let controls: Vec<Control> = (0..n).map(|_| Control::new()).collect();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n)
            .map(|k| {
                let (work, controls, tx) = (&work, &controls, tx.clone());
                scope.spawn(move || {
                    let r = work(k, controls);
                    // The receiver lives until every part has sent (or the scope ends).
                    let _ = tx.send(());
                    r
                })
            })
            .collect();
        drop(tx);
        let mut finished = 0;
        while finished < n {
            match rx.recv_timeout(std::time::Duration::from_millis(10)) {
                Ok(()) => finished += 1,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                // A part panicked before sending.
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            }
            if progress.1 > 0 {
                let done: u64 = controls.iter().map(|c| c.progress().0).sum();
                control.set_progress((progress.0 + done).min(progress.1), progress.1);
            }
            if control.is_cancelled() {
                controls.iter().for_each(Control::cancel);
            }
        }
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(Err(Error::Cancelled)))
            .collect()
    })
}

/// What one unit's scan found: the matches starting in `lo..hi` as a search from `lo` finds
/// them.
struct UnitScan {
    lo: usize,
    hi: usize,
    /// The first matches found, up to what the caller keeps.
    kept: Vec<Range<usize>>,
    /// How many matches were found, kept or not.
    count: usize,
    /// The end of the last match found.
    last_end: Option<usize>,
    /// False when the scan stopped once it had kept enough (pages): what follows the kept
    /// matches is not known.
    whole: bool,
    /// Where the search for the next match would start (see [`scan`]).
    chain: usize,
}

/// How far the one-thread search has got, joining units in order.
#[derive(Clone, Copy, Debug)]
struct Chain {
    /// Where its next search starts.
    at: usize,
    /// The end of the last match it found.
    last_end: Option<usize>,
}

/// What [`scan_units`] hands out.
enum Found {
    /// The next match.
    Match(Range<usize>),
    /// This many next matches, not kept (counts).
    More(usize),
}

/// Hands `found` the matches of `span`, in order, exactly those [`scan`] finds (for matches up
/// to [`MAX_MATCH`] bytes), until it returns false. `span` is cut into units of `unit.0`
/// bytes scanned on `unit.1` threads ([`crate::units::in_order`]), each keeping its first
/// `keep` matches (and stopping there if `stop_at_keep`), joined in order on this thread
/// ([`join_unit`]; see [`View::count_matches_on`]). Progress: the bytes of the units joined.
#[allow(clippy::too_many_arguments)]
fn scan_units(
    view: View<'_>,
    m: &Matcher,
    span: Span,
    (unit, threads): (usize, usize),
    keep: usize,
    stop_at_keep: bool,
    control: &Control,
    mut found: impl FnMut(Found) -> bool,
) -> Result<()> {
    let len = view.len();
    let end = span.starts_before.min(len + 1).max(span.from);
    let total = end - span.from;
    let unit = unit.max(1);
    let units = total.div_ceil(unit).max(1);
    let progress_total = (end.min(len) - span.from) as u64;
    let mut chain = Chain {
        at: span.from,
        last_end: None,
    };
    crate::units::in_order(
        units,
        threads,
        control,
        |i, inner| {
            let lo = span.from + i * unit;
            let hi = lo.saturating_add(unit).min(end);
            let part = Span {
                from: lo,
                starts_before: hi,
                ends_by: span.ends_by,
            };
            scan_unit(view, m, part, keep.max(1), stop_at_keep, inner)
        },
        |_, u| {
            control.set_progress((u.hi.min(len) - span.from) as u64, progress_total);
            join_unit(view, m, &u, span.ends_by, &mut chain, control, &mut found)
        },
    )?;
    control.set_progress(progress_total, progress_total);
    view.intact()
}

/// Scans one unit (`span`) from its start, keeping its first `keep` matches.
fn scan_unit(
    view: View<'_>,
    m: &Matcher,
    span: Span,
    keep: usize,
    stop_at_keep: bool,
    control: &Control,
) -> Result<UnitScan> {
    let (mut kept, mut count, mut last_end, mut whole) = (Vec::new(), 0, None, true);
    let chain = scan(view, m, span, control, |r| {
        count += 1;
        last_end = Some(r.end);
        if kept.len() < keep {
            kept.push(r);
        }
        if stop_at_keep && kept.len() == keep {
            whole = false;
            return false;
        }
        true
    })?;
    Ok(UnitScan {
        lo: span.from,
        hi: span.starts_before,
        kept,
        count,
        last_end,
        whole,
        chain,
    })
}

/// Hands `found` the matches of unit `u` that the one-thread search finds, given how far it
/// has got (`chain`, brought up to the unit's end). Returns false if `found` said stop.
fn join_unit(
    view: View<'_>,
    m: &Matcher,
    u: &UnitScan,
    ends_by: usize,
    chain: &mut Chain,
    control: &Control,
    found: &mut impl FnMut(Found) -> bool,
) -> Result<bool> {
    if chain.at >= u.hi {
        // A match (or a rejected candidate) before the unit covers it.
        return Ok(true);
    }
    let empty_after_last = matches!(
        (u.kept.first(), chain.last_end),
        (Some(f), Some(e)) if f.is_empty() && f.start == e
    );
    let mut from_kept = 0;
    if chain.at > u.lo || empty_after_last {
        let again = Span {
            from: chain.at,
            starts_before: u.hi,
            ends_by,
        };
        match search_again(view, m, again, &u.kept, chain, control, found)? {
            Again::Stopped => return Ok(false),
            Again::Done => return Ok(true),
            Again::Joined(i) => from_kept = i,
        }
    }
    for r in &u.kept[from_kept..] {
        chain.last_end = Some(r.end);
        if !found(Found::Match(r.clone())) {
            return Ok(false);
        }
    }
    if u.whole {
        let more = u.count - u.kept.len();
        if more > 0 && !found(Found::More(more)) {
            return Ok(false);
        }
        chain.last_end = u.last_end.or(chain.last_end);
        chain.at = u.chain;
        return Ok(true);
    }
    // The unit stopped at its kept matches: go on from the last one.
    let Some(last) = u.kept.last() else {
        return Ok(true);
    };
    let again = Span {
        from: last.end,
        starts_before: u.hi,
        ends_by,
    };
    chain.last_end = Some(last.end);
    Ok(!matches!(
        search_again(view, m, again, &[], chain, control, found)?,
        Again::Stopped
    ))
}

/// How [`search_again`] ended.
enum Again {
    /// `found` said stop.
    Stopped,
    /// A match equal to `kept[i]` came up (not handed out): the unit's own scan goes on from
    /// there.
    Joined(usize),
    /// The span was searched to its end.
    Done,
}

/// Searches `span` as the one-thread search goes on from `chain` (`span.from` is
/// `chain.at`), handing `found` each match, until one equals a match in `kept` (sorted by
/// start). Updates `chain` with what it hands out, and where it ended when it reached the
/// span's end.
fn search_again(
    view: View<'_>,
    m: &Matcher,
    span: Span,
    kept: &[Range<usize>],
    chain: &mut Chain,
    control: &Control,
    found: &mut impl FnMut(Found) -> bool,
) -> Result<Again> {
    let after = chain.last_end;
    let mut any = false;
    let mut outcome = Again::Done;
    let at = scan(view, m, span, control, |r| {
        // An empty match where the last match ended is not one (as in `scan`).
        if !any && r.is_empty() && Some(r.start) == after {
            return true;
        }
        if let Ok(i) = kept.binary_search_by_key(&r.start, |k| k.start) {
            if kept[i] == r {
                outcome = Again::Joined(i);
                return false;
            }
        }
        any = true;
        chain.last_end = Some(r.end);
        if !found(Found::Match(r)) {
            outcome = Again::Stopped;
            return false;
        }
        true
    })?;
    if let Again::Done = outcome {
        chain.at = at;
    }
    Ok(outcome)
}

impl Span {
    /// Every match of the document.
    fn whole(view: &View<'_>) -> Span {
        Span {
            from: 0,
            starts_before: view.len() + 1,
            ends_by: view.len(),
        }
    }
}

/// Plans a replace-all over `view`: of every match in `scope` (or of the first one starting on
/// each of its lines). Cost: O(bytes of the scope), plus O(length of each line holding a match)
/// when `scope` is per line; on every core from [`PARALLEL_MIN`] bytes on ([`each_match`]).
pub(crate) fn plan_replace_all(
    view: View<'_>,
    m: &Matcher,
    replacement: &[u8],
    scope: &Scope,
    control: &Control,
) -> Result<Plan> {
    let threads = threads_for(&view, scope.starts(&view).0);
    plan_replace_all_on(view, m, replacement, scope, (UNIT, threads), control)
}

/// [`plan_replace_all`] with the matches collected on `threads.1` threads in units of
/// `threads.0` bytes (for tests).
pub(crate) fn plan_replace_all_on(
    view: View<'_>,
    m: &Matcher,
    replacement: &[u8],
    scope: &Scope,
    units: (usize, usize),
    control: &Control,
) -> Result<Plan> {
    let groups = m.groups().filter(|_| replacement.contains(&b'$'));
    // In a decoded search the groups are the decoded text's: expanded there (the replacement
    // read as text), then encoded into the file's encoding.
    let decoded_groups = match groups {
        Some(re) if m.decoded => Some((re, m.charset.decode_lossy(replacement).0)),
        _ => None,
    };
    let mut plan = PlanBuilder::new(view);
    let mut lines = LineTally::default();
    let (from, starts_before) = scope.starts(&view);
    let span = Span {
        from,
        starts_before,
        ends_by: view.len(),
    };
    let mut buf = Vec::new();
    let mut dec = crate::decoded::Decoded::default();
    let mut expanded = Vec::new();
    let mut failed = None;
    each_match(view, m, span, units, control, |r| {
        if !lines.take(&view, r.start, scope.first_per_line) {
            return true;
        }
        plan.keep_to(r.start);
        plan.skip_to(r.end);
        if let Some((re, text)) = &decoded_groups {
            expanded.clear();
            match decoded_captures(view, m.charset, re, &r, &mut buf, &mut dec) {
                Some(caps) => caps.expand(text.as_bytes(), &mut expanded),
                None => expanded.extend_from_slice(text.as_bytes()),
            }
            match m.charset.encode(&String::from_utf8_lossy(&expanded)) {
                Ok(bytes) => plan.write_with(|t| t.extend_from_slice(&bytes)),
                Err(character) => {
                    // (the plan is dropped with the error)
                    failed = Some(Error::Unrepresentable {
                        encoding: m.charset.name().to_owned(),
                        character,
                        what: ", in a replacement with its groups expanded".into(),
                    });
                    return false;
                }
            }
            return true;
        }
        match groups.and_then(|re| captures(view, re, &r, &mut buf)) {
            Some(caps) => plan.write_with(|text| caps.expand(replacement, text)),
            None => plan.write_with(|text| text.extend_from_slice(replacement)),
        }
        true
    })?;
    if let Some(e) = failed {
        return Err(e);
    }
    Ok(plan.finish(lines.count))
}

/// [`captures`] for a decoded search: match `r` (file offsets) found again in its context
/// decoded ([`CONTEXT`] bytes either side, from a character boundary), its groups those of the
/// decoded text. `None` if the match is not found again exactly (the replacement is then used
/// without groups, as for a match cut at a window's end in [`captures`]). Cost: O(match
/// length + context).
fn decoded_captures<'d>(
    view: View<'_>,
    cs: crate::charset::Charset,
    re: &Regex,
    r: &Range<usize>,
    buf: &mut Vec<u8>,
    dec: &'d mut crate::decoded::Decoded,
) -> Option<regex::bytes::Captures<'d>> {
    let lo = crate::decoded::floor_boundary(&view, cs, r.start.saturating_sub(CONTEXT));
    let hi = r.end.saturating_add(CONTEXT).min(view.len());
    // With the context after the match; else (a match cut at a window's end, as in
    // `captures`) with the text cut at its end.
    for end in [hi, r.end] {
        let bytes = view.contiguous(lo, end, buf);
        dec.decode(cs, bytes, lo, end == view.len() || end == r.end);
        let at = dec.to_text(r.start);
        match re.find_at(dec.text(), at) {
            Some(found) if dec.file_range(found.range()) == *r => {
                return re.captures_at(dec.text(), at);
            }
            _ => {}
        }
    }
    None
}

/// The groups of match `r` of `re`: `re` run again at `r.start` over the match and
/// [`CONTEXT`] bytes either side (what `^`, `$` and `\b` look at). The match found is `r`
/// (a search from a match's start finds it again, and cutting the text after its end only
/// removes longer candidates), except for a match cut at a window's end, which is found
/// again with the text cut there too. Cost: O(match length).
fn captures<'b>(
    view: View<'b>,
    re: &Regex,
    r: &Range<usize>,
    buf: &'b mut Vec<u8>,
) -> Option<regex::bytes::Captures<'b>> {
    let lo = r.start.saturating_sub(CONTEXT);
    let hi = r.end.saturating_add(CONTEXT).min(view.len());
    let again = re.find_at(view.contiguous(lo, hi, buf), r.start - lo);
    let end = match again {
        Some(g) if lo + g.end() == r.end => hi,
        _ => r.end,
    };
    re.captures_at(view.contiguous(lo, end, buf), r.start - lo)
}

/// Hands `found` the matches of `span` in order until it returns false: what [`scan`] finds.
/// From [`PARALLEL_MIN`] bytes on, when the span reaches the document's end, collected on
/// `threads` threads in units of `unit` bytes ([`scan_units`]), `found` still being called in
/// order on this thread. Memory: the matches of the units scanned ahead (at most
/// [`crate::units::AHEAD`] per thread).
fn each_match(
    view: View<'_>,
    m: &Matcher,
    span: Span,
    (unit, threads): (usize, usize),
    control: &Control,
    mut found: impl FnMut(Range<usize>) -> bool,
) -> Result<()> {
    if threads > 1 && span.ends_by == view.len() {
        return scan_units(
            view,
            m,
            span,
            (unit, threads),
            usize::MAX,
            false,
            control,
            |f| {
                match f {
                    Found::Match(r) => found(r),
                    // Every match is kept.
                    Found::More(_) => true,
                }
            },
        );
    }
    scan(view, m, span, control, found).map(|_| ())
}

/// Plans deleting the lines of `scope` on which a match starts (or, `invert`, those on which
/// none does): Vim's `:g/pat/d` and `:v/pat/d`. Each line goes with its line break. The plan's
/// `count` and `lines` are the number of lines deleted. Cost: O(bytes of the scope), plus
/// O(length of each line holding a match), plus O(bytes deleted) when inverted; matches
/// collected on every core from [`PARALLEL_MIN`] bytes on ([`each_match`]).
pub(crate) fn plan_delete_lines(
    view: View<'_>,
    m: &Matcher,
    scope: &Scope,
    invert: bool,
    control: &Control,
) -> Result<Plan> {
    let (from, starts_before) = scope.starts(&view);
    // Where the scope's last line ends (the document's end for the whole document).
    let lines_end = scope
        .range
        .as_ref()
        .map_or(view.len(), |r| r.end.min(view.len()));
    let mut plan = PlanBuilder::new(view);
    let mut tally = LineTally::default();
    // Inverted: the lines from here to the next matched line go.
    let mut unmatched_from = from;
    let mut deleted = 0usize;
    let span = Span {
        from,
        starts_before,
        ends_by: view.len(),
    };
    let units = (UNIT, threads_for(&view, from));
    each_match(view, m, span, units, control, |r| {
        if !tally.take(&view, r.start, true) {
            return true;
        }
        // (`line_end` passes the end for the empty line after a final line break.)
        let line = line_start_at(&view, r.start)..tally.line_end.min(view.len());
        if invert {
            deleted += delete_lines(&mut plan, &view, unmatched_from..line.start);
            unmatched_from = line.end;
        } else {
            deleted += delete_lines(&mut plan, &view, line);
        }
        true
    })?;
    if invert {
        deleted += delete_lines(&mut plan, &view, unmatched_from..lines_end);
    }
    let mut plan = plan.finish(deleted);
    plan.count = deleted;
    Ok(plan)
}

/// Plans deleting the whole lines in `range`; returns how many there are.
fn delete_lines(plan: &mut PlanBuilder<'_>, view: &View<'_>, range: Range<usize>) -> usize {
    if range.is_empty() {
        return 0;
    }
    let n = count_lines(view, range.clone());
    plan.keep_to(range.start);
    plan.skip_to(range.end);
    n
}

/// How many lines the bytes `range` hold (each line break ends one; a last line without a
/// break counts too).
fn count_lines(view: &View<'_>, range: Range<usize>) -> usize {
    let mut n = 0;
    let mut pos = range.start;
    while pos < range.end {
        pos = next_line_start(view, pos).clamp(pos + 1, range.end);
        n += 1;
    }
    n
}

/// Which lines matches fall on, in order: whether a match starts a new line, and how many
/// lines have had one.
#[derive(Default)]
struct LineTally {
    /// Where the line after the last one counted starts.
    line_end: usize,
    count: usize,
    seen: bool,
}

impl LineTally {
    /// Takes a match starting at `start`: true if it is on a new line, or if `first_only` is
    /// false (every match counts, on a line counted once).
    fn take(&mut self, view: &View<'_>, start: usize, first_only: bool) -> bool {
        if self.seen && start < self.line_end {
            return !first_only;
        }
        self.seen = true;
        self.line_end = next_line_start(view, start).max(start + 1);
        self.count += 1;
        true
    }
}
