//! Search over a document's bytes: literal and regex (`regex::bytes`), forward and backward, with
//! progress and cancellation; and the planning of replace-all.
//!
//! The document is searched in windows of [`WINDOW`] bytes. A window that lies inside one piece
//! (the usual case for the original file) is searched in place, with no copy; one that spans
//! pieces is copied into a reused buffer. Consecutive windows overlap by [`MAX_MATCH`] bytes, so
//! any match of up to that length is found whole, even across piece and window boundaries;
//! a longer match is cut at a window's end. `^`, `$` and `\b` see the bytes before a window
//! (`find_at`), so they behave as on the whole text. `^` and `$` match at line starts and ends.
//!
//! Empty matches (of `x*`, `^`, `(?:)`…) land only on character boundaries, as with `regex`'s
//! `find_iter` over a `&str`: a position inside a UTF-8 character is never a match, so a
//! replace-all never inserts text between the bytes of a character. An invalid byte counts as
//! one character, as everywhere in Tome (it shows as one U+FFFD).

use std::ops::Range;

use regex::bytes::{Regex, RegexBuilder};

use crate::text::{is_char_boundary, next_char_boundary};
use crate::tree::Piece;
use crate::view::View;
use crate::{Control, Error, Result};

/// Bytes searched per window.
pub const WINDOW: usize = 4 << 20;
/// The longest match found whole; also the overlap between windows.
pub const MAX_MATCH: usize = 64 << 10;
/// Bytes before a window that assertions (`^`, `\b`) may look at.
const CONTEXT: usize = 8;
/// In replace-all, runs of kept text shorter than this are rewritten together with the
/// replacements around them instead of becoming pieces of their own.
pub const MERGE_GAP: usize = 1024;

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
    re: Regex,
    regex: bool,
    query: Query,
}

impl Matcher {
    /// Compiles `query`. Errors: [`Error::InvalidRegex`] with the parser's explanation.
    pub fn new(query: &Query) -> Result<Matcher> {
        let pattern = if query.regex {
            query.pattern.clone()
        } else {
            regex::escape(&query.pattern)
        };
        if pattern.is_empty() {
            return Err(Error::InvalidRegex("the pattern is empty".into()));
        }
        let re = RegexBuilder::new(&pattern)
            .case_insensitive(query.case_insensitive)
            .multi_line(true)
            .crlf(true)
            .size_limit(64 << 20)
            .build()
            .map_err(|e| Error::InvalidRegex(e.to_string()))?;
        Ok(Matcher {
            re,
            regex: query.regex,
            query: query.clone(),
        })
    }

    /// The query this matcher was compiled from.
    pub fn query(&self) -> &Query {
        &self.query
    }
}

/// A page of matches from [`View::find_all`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatchPage {
    /// Byte ranges of the matches, in order.
    pub matches: Vec<Range<usize>>,
    /// Where to continue for the next page, if the range was not searched to its end.
    pub resume_at: Option<usize>,
}

/// Scans `[start, end)` forward, calling `found(match, haystack, haystack_start)` for each match
/// until it returns false. Returns where scanning stopped (the end of the last match handed out
/// when stopped early, else `end`).
fn scan(
    view: View<'_>,
    m: &Matcher,
    start: usize,
    end: usize,
    control: &Control,
    mut found: impl FnMut(Range<usize>, &[u8], usize) -> bool,
) -> Result<usize> {
    let len = view.len();
    let mut pos = start;
    let mut buf = Vec::new();
    let mut last_end: Option<usize> = None;
    while pos < end || (pos == end && start == end) {
        control.check()?;
        control.set_progress((pos - start) as u64, (end - start) as u64);
        let w_start = pos.saturating_sub(CONTEXT);
        let w_end = (pos + WINDOW).min(len);
        let accept_below = if w_end == len {
            len + 1
        } else {
            w_end - MAX_MATCH
        };
        let hay = view.contiguous(w_start, w_end, &mut buf);
        let mut at = pos - w_start;
        while at <= hay.len() {
            let Some(hit) = m.re.find_at(hay, at) else {
                break;
            };
            let range = w_start + hit.start()..w_start + hit.end();
            if range.start >= accept_below || range.end > end || range.start >= end.max(start + 1) {
                break;
            }
            // An empty match right after the previous match, or inside a character, is not one:
            // look again from the next character.
            if range.is_empty()
                && (last_end == Some(range.start) || !is_char_boundary(hay, hit.start()))
            {
                at = next_char_boundary(hay, hit.start());
                continue;
            }
            last_end = Some(range.end);
            if !found(range.clone(), hay, w_start) {
                view.intact()?;
                return Ok(range.end);
            }
            at = if hit.is_empty() {
                next_char_boundary(hay, hit.end())
            } else {
                hit.end()
            };
        }
        if w_end == len || accept_below > end {
            break;
        }
        pos = accept_below.max(last_end.unwrap_or(0));
    }
    control.set_progress((end - start) as u64, (end - start) as u64);
    view.intact()?;
    Ok(end)
}

impl View<'_> {
    /// The next match from byte `from` (forward: starting at or after `from`; backward: starting
    /// before `from`), wrapping around the document's end if `wrap`. Cost: O(bytes searched);
    /// cancellable through `control`, which also receives progress.
    pub fn find(
        &self,
        m: &Matcher,
        from: usize,
        direction: Direction,
        wrap: bool,
        control: &Control,
    ) -> Result<Option<Range<usize>>> {
        self.check_range(from, from)?;
        let first = match direction {
            Direction::Forward => self.find_forward(m, from, self.len(), control)?,
            Direction::Backward => self.find_backward(m, 0, from, control)?,
        };
        if first.is_some() || !wrap {
            return Ok(first);
        }
        match direction {
            Direction::Forward => self.find_forward(m, 0, from, control),
            Direction::Backward => self.find_backward(m, from, self.len() + 1, control),
        }
    }

    fn find_forward(
        &self,
        m: &Matcher,
        start: usize,
        end: usize,
        control: &Control,
    ) -> Result<Option<Range<usize>>> {
        let mut hit = None;
        scan(*self, m, start, end, control, |r, _, _| {
            hit = Some(r);
            false
        })?;
        Ok(hit)
    }

    /// The last match starting in `[lo, before)`.
    fn find_backward(
        &self,
        m: &Matcher,
        lo: usize,
        before: usize,
        control: &Control,
    ) -> Result<Option<Range<usize>>> {
        let mut cursor = before.min(self.len() + 1);
        while cursor > lo {
            let w_start = cursor.saturating_sub(WINDOW).max(lo);
            let w_end = (cursor + MAX_MATCH).min(self.len());
            let mut last = None;
            scan(*self, m, w_start, w_end, control, |r, _, _| {
                if r.start < cursor {
                    last = Some(r);
                    true
                } else {
                    false
                }
            })?;
            if last.is_some() {
                return Ok(last);
            }
            cursor = w_start;
        }
        Ok(None)
    }

    /// Up to `limit` matches in bytes `range`, in order, and where to resume if there are more.
    pub fn find_all(
        &self,
        m: &Matcher,
        range: Range<usize>,
        limit: usize,
        control: &Control,
    ) -> Result<MatchPage> {
        self.check_range(range.start, range.end)?;
        let mut matches = Vec::new();
        let mut resume_at = None;
        scan(*self, m, range.start, range.end, control, |r, _, _| {
            if matches.len() == limit {
                resume_at = Some(r.start);
                return false;
            }
            matches.push(r);
            true
        })?;
        Ok(MatchPage { matches, resume_at })
    }

    /// Counts matches in the whole document.
    pub fn count_matches(&self, m: &Matcher, control: &Control) -> Result<usize> {
        let mut n = 0;
        scan(*self, m, 0, self.len(), control, |_, _, _| {
            n += 1;
            true
        })?;
        Ok(n)
    }
}

/// One stretch of the document after a replace-all.
pub(crate) enum Part {
    /// Existing pieces, kept.
    Keep(Vec<Piece>),
    /// New text: replacements, with the short runs of kept text between them.
    Text(Vec<u8>),
}

/// The plan of a replace-all: the new document as stretches, and the number of replacements.
pub(crate) struct Plan {
    pub parts: Vec<Part>,
    pub count: usize,
    pub first: usize,
}

/// Plans a replace-all over `view`.
pub(crate) fn plan_replace_all(
    view: View<'_>,
    m: &Matcher,
    replacement: &[u8],
    control: &Control,
) -> Result<Plan> {
    let expand = m.regex && replacement.contains(&b'$');
    let mut parts = Vec::new();
    let mut text = Vec::new();
    let mut kept_to = 0;
    let mut count = 0;
    let mut first = None;
    let keep = |parts: &mut Vec<Part>, text: &mut Vec<u8>, from: usize, to: usize| {
        if to - from < MERGE_GAP {
            text.extend(view.chunks(from, to).flatten());
        } else {
            if !text.is_empty() {
                parts.push(Part::Text(std::mem::take(text)));
            }
            parts.push(Part::Keep(view.tree.pieces_in(from, to, &view.bufs)));
        }
    };
    scan(view, m, 0, view.len(), control, |r, hay, hay_start| {
        first.get_or_insert(r.start);
        keep(&mut parts, &mut text, kept_to, r.start);
        if expand {
            if let Some(caps) = m.re.captures_at(hay, r.start - hay_start) {
                caps.expand(replacement, &mut text);
            }
        } else {
            text.extend_from_slice(replacement);
        }
        kept_to = r.end;
        count += 1;
        true
    })?;
    keep(&mut parts, &mut text, kept_to, view.len());
    if !text.is_empty() {
        parts.push(Part::Text(text));
    }
    Ok(Plan {
        parts,
        count,
        first: first.unwrap_or(0),
    })
}
