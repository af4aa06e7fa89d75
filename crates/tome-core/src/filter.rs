//! Filter views: the lines of a document that match a query tree, as a compact list of
//! (source line start, source line number), built by scanning a snapshot.
//!
//! A [`FilterQuery`] is a tree: leaves are searches ([`Query`] plus `whole_word`), inner
//! nodes combine them per line with AND, OR and NOT. A line is in the filter when the tree is
//! true of it; a leaf is true of a line when it matches within that line, as `grep` matches
//! each line alone: the matcher runs over many lines at once, and a match that runs on past
//! its line's end (a regex matching a line break, such as `a\sb`) is looked for again in its
//! line alone. So a line's membership depends on its bytes only, never on where a scan cut
//! the text, which lets a scan run on every core ([`LineFilter::scan_parallel`]).
//!
//! The scan reuses the search engine ([`Matcher`], [`View::contiguous`] windows): the text is
//! cut into chunks of about [`WINDOW`] bytes ending at a line break, each chunk borrowed in
//! place when one piece holds it (the original file: no copy) or copied once. In a chunk each
//! leaf is searched once, skipping to the next line after each hit, giving a sorted list of
//! line starts; AND intersects them, OR merges them, NOT takes the complement among the
//! chunk's lines. Line numbers are counted as the scan goes (`bytecount` over the chunk, CR
//! and CRLF counted as Tome counts them), so the filter needs no line index.
//!
//! Memory: [`MatchList`] stores each matched line as two varint deltas (its start offset and
//! its line number after the previous one's), about 3 to 5 bytes for usual log lines, plus 24
//! bytes per [`BLOCK`] lines for random access. Nothing of the lines' text is kept.

use crate::charset::Charset;
use std::ops::Range;

use crate::breaks::count_global;
use crate::search::{Matcher, Query, WINDOW};
use crate::text::next_char_boundary;
use crate::view::View;
use crate::words::is_grep_word;
use crate::{Control, Error, Result};

/// The deepest query tree accepted (a leaf alone has depth 1).
pub const MAX_DEPTH: usize = 16;
/// The most leaves (searches) in one query tree.
pub const MAX_LEAVES: usize = 64;
/// Entries per block of a [`MatchList`] (the unit of random access).
pub const BLOCK: usize = 64;

/// A query tree over lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FilterQuery {
    /// Lines on which a match of `query` starts; with `whole_word`, a match that is neither
    /// preceded nor followed by a word character on its line (as `grep -w`).
    Match {
        /// What to look for.
        query: Query,
        /// Only whole words.
        whole_word: bool,
    },
    /// Lines every child matches (none: every line).
    And(Vec<FilterQuery>),
    /// Lines some child matches (none: no line).
    Or(Vec<FilterQuery>),
    /// Lines the child does not match.
    Not(Box<FilterQuery>),
}

impl FilterQuery {
    /// Depth of the tree (a leaf is 1). Recursive: call only on trees built within
    /// [`MAX_DEPTH`] (the server's parser bounds the depth before building one).
    pub fn depth(&self) -> usize {
        match self {
            FilterQuery::Match { .. } => 1,
            FilterQuery::And(c) | FilterQuery::Or(c) => {
                1 + c.iter().map(FilterQuery::depth).max().unwrap_or(0)
            }
            FilterQuery::Not(c) => 1 + c.depth(),
        }
    }
}

/// A compiled [`FilterQuery`].
#[derive(Clone, Debug)]
pub struct LineFilter {
    root: Node,
    /// The document's encoding, when the leaves run on its text decoded chunk by chunk (see
    /// [`LineFilter::new_in`]); `None`: on its bytes.
    decoded: Option<Charset>,
}

#[derive(Clone, Debug)]
enum Node {
    /// A search; true: only whole words (`grep -w`).
    Leaf(Box<Matcher>, bool),
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
}

impl LineFilter {
    /// Compiles every leaf. Cost: the leaves' compilation (see [`Matcher::new`]).
    ///
    /// Errors: [`Error::InvalidRegex`] for a tree deeper than [`MAX_DEPTH`] or with more than
    /// [`MAX_LEAVES`] leaves (checked before anything is compiled), and the leaves' own errors
    /// ([`Error::InvalidRegex`], [`Error::PatternTooLong`]).
    pub fn new(query: &FilterQuery) -> Result<LineFilter> {
        LineFilter::new_in(query, Charset::Utf8)
    }

    /// [`LineFilter::new`] for a document in `charset`. Case-sensitive text without
    /// `whole_word` in an ASCII-compatible encoding is encoded and matched on the file's bytes
    /// ([`Matcher::new_in`]; a line's match in a multi-byte legacy encoding is not checked to
    /// start on a character: a pattern's bytes inside two characters select the line). Any
    /// other tree in an encoding that is not UTF-8 (a regex, ignored case or whole words in
    /// it, or any filter of a UTF-16 document) runs on the text **decoded chunk by chunk**
    /// ([`crate::decoded`]): a chunk of whole lines is decoded into UTF-8, the leaves (compiled
    /// as for UTF-8) select its lines as in a UTF-8 file, and each line start is mapped back to
    /// the file's offset, so the lines selected are those of the same text in UTF-8.
    pub fn new_in(query: &FilterQuery, charset: Charset) -> Result<LineFilter> {
        let mut leaves = 0;
        check_shape(query, 1, &mut leaves)?;
        if !charset.is_utf8() && (charset.is_utf16() || needs_decoding(query, charset)?) {
            return Ok(LineFilter {
                root: compile(query, Charset::Utf8)?,
                decoded: Some(charset),
            });
        }
        Ok(LineFilter {
            root: compile(query, charset)?,
            decoded: None,
        })
    }

    /// Scans `view` from `from` (a line start, on line `line`) to its end, handing `found`
    /// each chunk's matched lines `(line start, line number)` in order, with where the scan
    /// got to and the line number there; `found` returns false to stop. Returns where the
    /// scan stopped and the line number there (the end of the document, unless stopped).
    ///
    /// Cost: O(bytes scanned) time, O([`WINDOW`] + longest line) memory for a chunk that
    /// spans pieces (none for one inside the original file). Cancellable through `control`,
    /// which also receives progress (bytes scanned of bytes to scan).
    ///
    /// From [`PARALLEL_MIN`] bytes on, the scan runs on every core
    /// ([`LineFilter::scan_parallel`]); `found` is still called in order, on the calling
    /// thread, and the first lines still come from the first [`UNIT`] bytes.
    pub fn scan(
        &self,
        view: View<'_>,
        from: usize,
        line: usize,
        control: &Control,
        found: impl FnMut(&[(u64, u64)], usize, usize) -> bool,
    ) -> Result<(usize, usize)> {
        let len = view.len();
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        if threads > 1 && len.saturating_sub(from) >= PARALLEL_MIN {
            return self.scan_parallel(view, from, line, threads, UNIT, control, found);
        }
        self.scan_to(view, from, len, line, control, found)
    }

    /// [`LineFilter::scan`] on `threads` threads (at most [`crate::units::MAX_THREADS`]), in units of about
    /// `unit` bytes (tests use tiny ones).
    ///
    /// The bytes from `from` are cut into units of `unit` bytes, each moved to a line start:
    /// unit `i` holds the lines that *start* in its nominal range (from the first line start
    /// in it to the first line start at or after its end; none for a range inside one long
    /// line). A filter is per line (see [`LineFilter`]: a match never counts across a line
    /// break), so units cut at line starts need no overlap or resync: their lines, numbered
    /// from 0 in each unit, are exactly the sequential scan's once offset by the lines of the
    /// units before. Workers ([`crate::units::in_order`]) take the next unit in order and send its
    /// lines and line count to this thread, which hands them to `found` in order (unit `k`
    /// once units before it are handed), numbered, with the progress (the bytes handed) and
    /// the caller's cancellation passed to the workers every 10 ms. Memory: the lines of the
    /// units done but not handed yet (a worker does not start a unit more than [`crate::units::AHEAD`]
    /// units per worker past the one awaited, so a slow unit, such as one long line, does not
    /// let the others buffer the rest of the file), plus a window per worker; the finished list is the same as the sequential one. Cost: O(bytes / threads),
    /// plus O(one line) per unit to find its ends.
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    pub fn scan_parallel(
        &self,
        view: View<'_>,
        from: usize,
        line: usize,
        threads: usize,
        unit: usize,
        control: &Control,
        mut found: impl FnMut(&[(u64, u64)], usize, usize) -> bool,
    ) -> Result<(usize, usize)> {
        let len = view.len();
        let from = from.min(len);
        let total = len - from;
        let unit = unit.max(1);
        let units = total.div_ceil(unit).max(1);
        let (mut pos, mut line) = (from, line);
        let mut out = Vec::new();
        let outcome = crate::units::in_order(
            units,
            threads,
            control,
            |i, inner| self.scan_unit(view, from, unit, i, inner),
            |_, part| {
                let Some(part) = part else { return Ok(true) };
                out.clear();
                out.extend(part.lines.iter().map(|&(o, l)| (o, l + line as u64)));
                line += part.breaks;
                pos = part.end;
                control.set_progress((pos - from) as u64, total as u64);
                Ok(found(&out, pos, line))
            },
        );
        control.set_progress(total as u64, total as u64);
        outcome?;
        view.intact()?;
        Ok((pos, line))
    }

    /// Scans unit `i` of [`LineFilter::scan_parallel`]: `None` when no line starts in it.
    fn scan_unit(
        &self,
        view: View<'_>,
        from: usize,
        unit: usize,
        i: usize,
        control: &Control,
    ) -> Result<Option<Part>> {
        let len = view.len();
        let lo = from + i * unit;
        let hi = lo.saturating_add(unit).min(len);
        let start = if i == 0 {
            Some(from)
        } else {
            first_line_start(&view, lo, hi)
        };
        let Some(start) = start else {
            return Ok(None);
        };
        let end = if hi >= len {
            len
        } else {
            first_line_start(&view, hi, len).unwrap_or(len)
        };
        let mut lines = Vec::new();
        let (_, breaks) = self.scan_to(view, start, end, 0, control, |f, _, _| {
            lines.extend_from_slice(f);
            true
        })?;
        Ok(Some(Part { end, lines, breaks }))
    }

    /// [`LineFilter::scan`] of `from..to` only; `to` must be a line start (or the end).
    fn scan_to(
        &self,
        view: View<'_>,
        from: usize,
        to: usize,
        line: usize,
        control: &Control,
        mut found: impl FnMut(&[(u64, u64)], usize, usize) -> bool,
    ) -> Result<(usize, usize)> {
        let len = view.len();
        let to = to.min(len);
        let total = to.saturating_sub(from) as u64;
        let (mut pos, mut line) = (from.min(to), line);
        let unit = view.newlines().unit();
        let mut buf = Vec::new();
        let mut dec = crate::decoded::Decoded::default();
        let mut starts = Vec::new();
        let mut out = Vec::new();
        while pos < to {
            control.check()?;
            control.set_progress((pos - from) as u64, total);
            let end = chunk_end(&view, pos, to);
            // One unit more: whether a CR at the cut starts a CRLF (for the line count).
            let hay = view.contiguous(pos, (end + unit).min(len), &mut buf);
            let cut = end - pos;
            out.clear();
            if let Some(cs) = self.decoded {
                // Whole lines: the chunk ends at a character boundary, nothing is left out.
                dec.decode(cs, &hay[..cut], pos, true);
                let text = dec.text();
                let after = match view.newlines().first_unit(&hay[cut..]) {
                    b'\n' => Some(b'\n'),
                    _ if cut < hay.len() => Some(0),
                    _ => None,
                };
                line = self.number(text, end == len, after, line, &mut starts, &mut out, |s| {
                    dec.to_file(s) as u64
                });
            } else {
                let after = hay.get(cut).copied();
                line = self.number(
                    &hay[..cut],
                    pos + cut == len,
                    after,
                    line,
                    &mut starts,
                    &mut out,
                    |s| (pos + s) as u64,
                );
            }
            view.release(pos, end);
            pos = end;
            if !found(&out, pos, line) {
                break;
            }
        }
        control.set_progress(total, total);
        view.intact()?;
        Ok((pos, line))
    }
}

impl LineFilter {
    /// The lines of `hay` (whole lines; `at_end`: it ends the document) this filter selects,
    /// numbered on from `line`, into `out` as (`offset(start in hay)`, number); `after`: the
    /// byte after `hay` (b'\n' when an LF follows, for a CR at its end). Returns the line
    /// number at `hay`'s end.
    #[allow(clippy::too_many_arguments)]
    fn number(
        &self,
        hay: &[u8],
        at_end: bool,
        after: Option<u8>,
        mut line: usize,
        starts: &mut Vec<usize>,
        out: &mut Vec<(u64, u64)>,
        offset: impl Fn(usize) -> u64,
    ) -> usize {
        starts.clear();
        self.root.lines(hay, at_end, starts);
        let mut prev = 0;
        for &s in starts.iter() {
            line += count_global(&hay[prev..s], hay.get(s).copied());
            prev = s;
            out.push((offset(s), line as u64));
        }
        line + count_global(&hay[prev..], after)
    }
}

/// Whether `query` must run on decoded text in `charset` (not UTF-8): a leaf that is a regex,
/// ignores case or wants whole words (a word's letters are characters, not bytes).
fn needs_decoding(query: &FilterQuery, charset: Charset) -> Result<bool> {
    Ok(match query {
        FilterQuery::Match { query, whole_word } => {
            *whole_word || Matcher::new_in(query, charset)?.is_decoded()
        }
        FilterQuery::And(c) | FilterQuery::Or(c) => {
            let mut any = false;
            for q in c {
                any |= needs_decoding(q, charset)?;
            }
            any
        }
        FilterQuery::Not(c) => needs_decoding(c, charset)?,
    })
}

/// Documents shorter than this are filtered on one thread (splitting costs more than it
/// gains).
pub const PARALLEL_MIN: usize = crate::search::PARALLEL_MIN;
/// Bytes of a unit of a parallel filter scan: what a worker takes at a time, and how often
/// lines are handed out (the first lines come after the first unit is scanned).
pub const UNIT: usize = 4 * WINDOW;

/// What a worker found in one unit of a parallel scan.
struct Part {
    /// Where the unit ends (a line start, or the end).
    end: usize,
    /// Matched lines, numbered from 0 at the unit's start.
    lines: Vec<(u64, u64)>,
    /// Line breaks in the unit.
    breaks: usize,
}

/// The first line start `p` with `at <= p < before` (`0 < at`), or `None`. A line starts
/// after an LF, a CRLF or a lone CR. Cost: O(bytes from `at - 1` to the first line break).
fn first_line_start(view: &View<'_>, at: usize, before: usize) -> Option<usize> {
    // From the unit holding `at - 1` (UTF-16: breaks are units; each chunk starts at one).
    let nl = view.newlines();
    let mut pos = (at - 1) - (at - 1) % nl.unit();
    for chunk in view.chunks(pos, before) {
        if let Some(i) = nl.find(chunk) {
            let p = pos + i + view.break_len_at(pos + i);
            return (p < before).then_some(p);
        }
        pos += chunk.len();
    }
    None
}

/// What a change of the source does to a filter's list: drop the entries at offsets
/// `from..old_to`, put `found` in their place, and shift the entries after by `bytes` and
/// `lines` ([`MatchList::splice`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Update {
    /// First offset whose entries are replaced (a line start, in both versions).
    pub from: u64,
    /// End of the replaced entries' offsets, in the version before.
    pub old_to: u64,
    /// The matched lines of `from..` the new end, in the version after.
    pub found: Vec<(u64, u64)>,
    /// How far the entries after move, in bytes.
    pub bytes: i64,
    /// How far they move, in lines.
    pub lines: i64,
}

impl LineFilter {
    /// The update that brings a list of this filter's matches in `old` up to `new`, when
    /// `changed` covers every byte that differs ([`crate::Document::changed_since`]).
    ///
    /// The changed range is widened to whole lines (and one line more before it when it
    /// starts just after a CR, which an inserted LF would join), those lines of `new` are
    /// scanned, and the line shift is the difference of their line breaks in the two versions.
    /// Lines outside the range are not looked at (a line's membership depends on its bytes
    /// only).
    ///
    /// Cost: O(bytes of the changed lines, in both versions) + O(log pieces); no line index
    /// needed, except for the line number where the range starts: `None` when `new` is not
    /// indexed that far yet (the caller scans again from the start).
    pub fn rescan_change(
        &self,
        old: &View<'_>,
        new: &View<'_>,
        changed: crate::Changed,
        control: &Control,
    ) -> Result<Option<Update>> {
        let (olen, nlen) = (old.len(), new.len());
        if changed.old_end > olen
            || changed.new_end > nlen
            || changed.start > changed.old_end.min(changed.new_end)
            || olen - changed.old_end != nlen - changed.new_end
        {
            return Ok(None);
        }
        let mut from = crate::lines::line_start_at(old, changed.start);
        let u = old.newlines().unit();
        if from >= u && old.break_unit_at(from - u) == b'\r' {
            from = crate::lines::line_start_at(old, from - u);
        }
        let old_to = if changed.old_end >= olen {
            olen
        } else {
            crate::lines::next_line_start(old, changed.old_end)
        };
        let new_to = old_to - changed.old_end + changed.new_end;
        let first_line = match new.line_of(from) {
            Ok(l) => l,
            Err(Error::NotIndexedYet { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut found = Vec::new();
        let (_, end_line) = self.scan_to(*new, from, new_to, first_line, control, |f, _, _| {
            found.extend_from_slice(f);
            true
        })?;
        let old_lines = breaks_in(old, from, old_to)?;
        Ok(Some(Update {
            from: from as u64,
            old_to: old_to as u64,
            found,
            bytes: changed.new_end as i64 - changed.old_end as i64,
            lines: (end_line - first_line) as i64 - old_lines as i64,
        }))
    }
}

/// Line breaks in `from..to` of `view` (both line starts). O(bytes).
fn breaks_in(view: &View<'_>, from: usize, to: usize) -> Result<usize> {
    let nl = view.newlines();
    let mut info = crate::breaks::Info::EMPTY;
    for chunk in view.chunks(from, to) {
        info = info.concat(nl.info(chunk));
    }
    view.intact()?;
    Ok(info.breaks)
}

/// The part of the document a followed append may still change: `(start, breaks)`, where
/// `start` is where the last line starts when the document does not end with a line break (an
/// append may lengthen that line; a final CR may become a CRLF), else the document's length,
/// and `breaks` the line breaks counted from `start` to the end (1 for a final CR, else 0).
/// A filter holds back a match in that part and scans it again after an append. Cost:
/// O(last line's length).
pub fn open_tail(view: &View<'_>) -> (usize, usize) {
    let len = view.len();
    let u = view.newlines().unit();
    if !len.is_multiple_of(u) {
        // An odd last byte of UTF-16: inside the last line.
        return (crate::lines::line_start_at(view, len), 0);
    }
    match len.checked_sub(u).map(|last| view.break_unit_at(last)) {
        None | Some(b'\n') => (len, 0),
        Some(b'\r') => (crate::lines::line_start_at(view, len - u), 1),
        Some(_) => (crate::lines::line_start_at(view, len), 0),
    }
}

fn check_shape(q: &FilterQuery, depth: usize, leaves: &mut usize) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(Error::InvalidRegex(format!(
            "the filter query is nested deeper than {MAX_DEPTH} levels"
        )));
    }
    match q {
        FilterQuery::Match { .. } => {
            *leaves += 1;
            if *leaves > MAX_LEAVES {
                return Err(Error::InvalidRegex(format!(
                    "the filter query has more than {MAX_LEAVES} patterns"
                )));
            }
            Ok(())
        }
        FilterQuery::And(c) | FilterQuery::Or(c) => {
            c.iter().try_for_each(|c| check_shape(c, depth + 1, leaves))
        }
        FilterQuery::Not(c) => check_shape(c, depth + 1, leaves),
    }
}

fn compile(q: &FilterQuery, cs: Charset) -> Result<Node> {
    let all = |c: &[FilterQuery]| c.iter().map(|q| compile(q, cs)).collect::<Result<_>>();
    Ok(match q {
        FilterQuery::Match { query, whole_word } => {
            // (In a document not in UTF-8, `new_in` compiles for UTF-8 every tree that would
            // need a decoded matcher: this one runs on the bytes it is given.)
            Node::Leaf(Box::new(Matcher::new_in(query, cs)?), *whole_word)
        }
        FilterQuery::And(c) => Node::And(all(c)?),
        FilterQuery::Or(c) => Node::Or(all(c)?),
        FilterQuery::Not(c) => Node::Not(Box::new(compile(c, cs)?)),
    })
}

/// Where the next chunk from `pos` (a line start) ends: just after the last line break in the
/// [`WINDOW`] bytes from `pos` (a CRLF is never cut), or at the end of the line holding the
/// window's end when the window holds no break, or at `to` (a line start, or the end). Cost: O(bytes
/// scanned back to the break), O(line) for a line longer than the window.
fn chunk_end(view: &View<'_>, pos: usize, to: usize) -> usize {
    let end = pos.saturating_add(WINDOW).min(to);
    if end == to {
        return to;
    }
    let start = crate::lines::line_start_at(view, end);
    if start > pos {
        return start;
    }
    crate::lines::next_line_start(view, end)
        .max(end + 1)
        .min(to)
}

impl Node {
    /// The starts (offsets in `hay`) of the lines of `hay` this node is true of, in order.
    /// `hay` holds whole lines; `at_end`: it ends the document (an empty match at its very
    /// end is on its last line, if that line is not empty).
    fn lines(&self, hay: &[u8], at_end: bool, out: &mut Vec<usize>) {
        match self {
            Node::Leaf(m, whole_word) => leaf_lines(m, *whole_word, hay, at_end, out),
            Node::And(children) => {
                let Some((first, rest)) = children.split_first() else {
                    all_lines(hay, out);
                    return;
                };
                first.lines(hay, at_end, out);
                let mut other = Vec::new();
                for c in rest {
                    if out.is_empty() {
                        return;
                    }
                    other.clear();
                    c.lines(hay, at_end, &mut other);
                    intersect(out, &other);
                }
            }
            Node::Or(children) => {
                let mut acc = Vec::new();
                let mut other = Vec::new();
                for c in children {
                    other.clear();
                    c.lines(hay, at_end, &mut other);
                    acc = union(&acc, &other);
                }
                out.extend_from_slice(&acc);
            }
            Node::Not(c) => {
                let mut inner = Vec::new();
                c.lines(hay, at_end, &mut inner);
                let mut all = Vec::new();
                all_lines(hay, &mut all);
                let mut j = 0;
                for s in all {
                    while j < inner.len() && inner[j] < s {
                        j += 1;
                    }
                    if inner.get(j) != Some(&s) {
                        out.push(s);
                    }
                }
            }
        }
    }
}

fn leaf_lines(m: &Matcher, whole_word: bool, hay: &[u8], at_end: bool, out: &mut Vec<usize>) {
    let mut at = 0;
    // An empty match at the very end belongs to the last line only if that line has bytes
    // (the "line" after a final line break is not one).
    let last_open = at_end && !matches!(hay.last(), None | Some(b'\n' | b'\r'));
    while at < hay.len() || (last_open && at == hay.len()) {
        let Some(hit) = m.find_at(hay, at) else {
            return;
        };
        let s = hit.start;
        if s >= hay.len() && !(last_open && s == hay.len()) {
            return;
        }
        // A match running past its line's end (a pattern that matches a line break): as
        // `grep`, look at the line alone, from that match's start (nothing matched before it,
        // and cutting the text only takes matches away). So the lines found never depend on
        // where the scan cut the text.
        let (hay_here, hit) = match memchr::memchr2(b'\n', b'\r', &hay[s..hit.end]) {
            None => (hay, hit),
            Some(i) => {
                let line = &hay[..s + i];
                match m.find_at(line, s) {
                    Some(h) => (line, h),
                    None => {
                        at = next_line(hay, s);
                        continue;
                    }
                }
            }
        };
        let s = hit.start;
        if whole_word && !is_grep_word(hay_here, hit.clone()) {
            // As grep -w: look for another match further on the line.
            at = next_char_boundary(hay, s);
            continue;
        }
        let start = line_start(hay, s);
        if out.last() != Some(&start) {
            out.push(start);
        }
        at = next_line(hay, s);
        if at == s {
            return;
        }
    }
}

/// Start of the line holding `at` in `hay` (which starts at a line start).
fn line_start(hay: &[u8], at: usize) -> usize {
    let mut end = at.min(hay.len());
    if hay.get(end) == Some(&b'\n') && end > 0 && hay[end - 1] == b'\r' {
        end -= 1;
    }
    memchr::memrchr2(b'\n', b'\r', &hay[..end]).map_or(0, |i| i + 1)
}

/// Start of the line after the one holding `at` (or `hay.len()`).
fn next_line(hay: &[u8], at: usize) -> usize {
    match memchr::memchr2(b'\n', b'\r', hay.get(at..).unwrap_or_default()) {
        Some(i) => {
            let brk = at + i;
            brk + 1 + usize::from(hay[brk] == b'\r' && hay.get(brk + 1) == Some(&b'\n'))
        }
        None => hay.len(),
    }
}

/// Every line start in `hay` (not the empty "line" after a final break).
fn all_lines(hay: &[u8], out: &mut Vec<usize>) {
    let mut at = 0;
    while at < hay.len() {
        out.push(at);
        at = next_line(hay, at);
    }
}

fn intersect(a: &mut Vec<usize>, b: &[usize]) {
    let mut j = 0;
    a.retain(|&x| {
        while j < b.len() && b[j] < x {
            j += 1;
        }
        b.get(j) == Some(&x)
    });
}

fn union(a: &[usize], b: &[usize]) -> Vec<usize> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let x = match (a.get(i), b.get(j)) {
            (Some(&x), Some(&y)) if x == y => {
                i += 1;
                j += 1;
                x
            }
            (Some(&x), Some(&y)) if x < y => {
                i += 1;
                x
            }
            (Some(&x), None) => {
                i += 1;
                x
            }
            (_, Some(&y)) => {
                j += 1;
                y
            }
            (None, None) => break,
        };
        out.push(x);
    }
    out
}

/// Matched lines, `(line start, line number)` in increasing order, in a few bytes each: per
/// [`BLOCK`] entries one absolute head (24 bytes), the others as two LEB128 deltas.
#[derive(Clone, Debug, Default)]
pub struct MatchList {
    /// Per block: first entry's offset, line, and where the block's deltas start in `bytes`.
    heads: Vec<(u64, u64, usize)>,
    bytes: Vec<u8>,
    len: usize,
    last: (u64, u64),
}

impl MatchList {
    /// An empty list.
    pub fn new() -> MatchList {
        MatchList::default()
    }

    /// Entries held. O(1).
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes of memory held (capacity of the buffers). O(1).
    pub fn memory(&self) -> usize {
        self.heads.capacity() * std::mem::size_of::<(u64, u64, usize)>() + self.bytes.capacity()
    }

    /// Appends `(offset, line)`, which must follow the last entry (both larger). Amortised O(1).
    pub fn push(&mut self, offset: u64, line: u64) {
        if self.len.is_multiple_of(BLOCK) {
            self.heads.push((offset, line, self.bytes.len()));
        } else {
            put_varint(&mut self.bytes, offset.wrapping_sub(self.last.0));
            put_varint(&mut self.bytes, line.wrapping_sub(self.last.1));
        }
        self.last = (offset, line);
        self.len += 1;
    }

    /// The last entry's offset. O(1).
    pub fn last_offset(&self) -> Option<u64> {
        (self.len > 0).then_some(self.last.0)
    }

    /// Entries `range` (clamped to the list), in order. O(BLOCK + range length).
    pub fn get_range(&self, range: Range<usize>) -> Vec<(u64, u64)> {
        let end = range.end.min(self.len);
        let mut out = Vec::with_capacity(end.saturating_sub(range.start));
        self.walk(range.start, end, |off, line| out.push((off, line)));
        out
    }

    /// The index of the first entry whose offset is at least `offset`. O(log blocks + BLOCK).
    pub fn position_of(&self, offset: u64) -> usize {
        let b = self.heads.partition_point(|h| h.0 < offset);
        let from = b.saturating_sub(1) * BLOCK;
        let entries = self.get_range(from..(from + 2 * BLOCK).min(self.len));
        from + entries.partition_point(|e| e.0 < offset)
    }
}

impl MatchList {
    /// Calls `f` with every entry from index `from` on, in order. O(BLOCK + entries visited).
    pub fn for_each_from(&self, from: usize, f: impl FnMut(u64, u64)) {
        self.walk(from, self.len, f);
    }

    /// Calls `f` with entries `from..end` (`end` at most the length), in order, decoding from
    /// the head of `from`'s block. O(BLOCK + entries visited).
    fn walk(&self, from: usize, end: usize, mut f: impl FnMut(u64, u64)) {
        let mut i = from - from % BLOCK;
        while i < end {
            let (mut off, mut line, mut at) = self.heads[i / BLOCK];
            let block_end = (i + BLOCK).min(end);
            for k in i..block_end {
                if k > i {
                    off = off.wrapping_add(get_varint(&self.bytes, &mut at));
                    line = line.wrapping_add(get_varint(&self.bytes, &mut at));
                }
                if k >= from {
                    f(off, line);
                }
            }
            i = block_end;
        }
    }

    /// Applies an [`Update`]: entries before `from` stay, those in `from..old_to` are
    /// replaced by `found`, those after are shifted by (`bytes`, `lines`).
    ///
    /// Cost: the blocks before `from` are copied whole (a memcpy of their bytes); the entries
    /// after are decoded and encoded again (some 15 ns each: a shift of 1.85 M entries is
    /// about 30 ms, see docs/benchmarks.md). Memory: a second list while it runs.
    pub fn splice(&mut self, u: &Update) {
        let start = self.position_of(u.from);
        let end = self.position_of(u.old_to).max(start);
        let whole_blocks = start / BLOCK;
        let mut out = MatchList {
            heads: self.heads[..whole_blocks].to_vec(),
            bytes: match self.heads.get(whole_blocks) {
                Some(h) => self.bytes[..h.2].to_vec(),
                None => self.bytes.clone(),
            },
            len: whole_blocks * BLOCK,
            last: (0, 0),
        };
        if whole_blocks > 0 {
            // The last entry of the copied blocks: where the next delta starts from.
            let last = whole_blocks * BLOCK - 1;
            if let Some(&e) = self.get_range(last..last + 1).first() {
                out.last = e;
            }
        }
        for (o, l) in self.get_range(whole_blocks * BLOCK..start) {
            out.push(o, l);
        }
        for &(o, l) in &u.found {
            out.push(o, l);
        }
        if end < self.len {
            self.for_each_from(end, |o, l| {
                out.push(
                    o.wrapping_add(u.bytes as u64),
                    l.wrapping_add(u.lines as u64),
                )
            });
        }
        *self = out;
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(bytes: &[u8], at: &mut usize) -> u64 {
    let mut v = 0u64;
    let mut shift = 0;
    while let Some(&b) = bytes.get(*at) {
        *at += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            break;
        }
        shift += 7;
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Document, Edit};

    fn leaf(p: &str, regex: bool, ci: bool, ww: bool) -> FilterQuery {
        FilterQuery::Match {
            query: Query {
                pattern: p.into(),
                regex,
                case_insensitive: ci,
            },
            whole_word: ww,
        }
    }

    /// The model: split on Tome's line breaks, evaluate per line.
    fn model(text: &str, q: &FilterQuery) -> Vec<(u64, u64)> {
        fn eval(line: &str, q: &FilterQuery) -> bool {
            match q {
                FilterQuery::Match { query, whole_word } => {
                    let mut p = if query.regex {
                        query.pattern.clone()
                    } else {
                        regex::escape(&query.pattern)
                    };
                    if *whole_word {
                        p = format!(r"(?:^|\W)(?:{p})(?:\W|$)");
                    }
                    regex::RegexBuilder::new(&p)
                        .case_insensitive(query.case_insensitive)
                        .build()
                        .unwrap()
                        .is_match(line)
                }
                FilterQuery::And(c) => c.iter().all(|c| eval(line, c)),
                FilterQuery::Or(c) => c.iter().any(|c| eval(line, c)),
                FilterQuery::Not(c) => !eval(line, c),
            }
        }
        let b = text.as_bytes();
        let mut out = Vec::new();
        let (mut at, mut n) = (0, 0u64);
        while at < b.len() {
            let next = next_line(b, at);
            let mut end = next;
            while end > at && matches!(b[end - 1], b'\n' | b'\r') {
                end -= 1;
            }
            if eval(&text[at..end], q) {
                out.push((at as u64, n));
            }
            at = next;
            n += 1;
        }
        out
    }

    fn run(text: &str, q: &FilterQuery) -> Vec<(u64, u64)> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.txt");
        std::fs::write(&path, text).unwrap();
        let mut doc = Document::open(&path).unwrap();
        let snap = doc.snapshot();
        let f = LineFilter::new(q).unwrap();
        let mut got = Vec::new();
        f.scan(snap.view(), 0, 0, &Control::new(), |c, _, _| {
            got.extend_from_slice(c);
            true
        })
        .unwrap();
        got
    }

    #[test]
    fn matches_a_per_line_model() {
        let text = "alpha beta\nGamma\r\ndelta alpha\rbetamax\n\nalphabet\nbeta alpha gamma";
        let queries = [
            leaf("alpha", false, false, false),
            leaf("ALPHA", false, true, false),
            leaf("beta", false, false, true),
            leaf("^a", true, false, false),
            leaf("a$", true, false, false),
            leaf("x*", true, false, false),
            // Matches across a line break do not count (grep: each line alone).
            leaf(r"alpha\sbeta", true, false, false),
            leaf(r"a\s+b", true, false, false),
            leaf(r"a(\sb)?", true, false, false),
            FilterQuery::Not(Box::new(leaf("alpha", false, false, false))),
            FilterQuery::And(vec![
                leaf("alpha", false, false, false),
                leaf("beta", false, false, false),
            ]),
            FilterQuery::Or(vec![
                leaf("gamma", false, true, false),
                leaf("^$", true, false, false),
            ]),
            FilterQuery::And(vec![
                leaf("a", false, false, false),
                FilterQuery::Not(Box::new(FilterQuery::Or(vec![
                    leaf("beta", false, false, true),
                    leaf("delta", false, false, false),
                ]))),
            ]),
        ];
        for q in &queries {
            assert_eq!(run(text, q), model(text, q), "{q:?}");
        }
    }

    #[test]
    fn whole_words_next_to_invalid_bytes_and_after_a_rejected_match() {
        // As `LC_ALL=C grep -nw error`: an invalid byte is not a word character; a match that is
        // not a whole word does not hide a later one on its line; `é` is a word character.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.txt");
        std::fs::write(
            &path,
            b"a \xfferror\xff b\nerrors error\n\xc3\xa9error\nerror_x\nx error\n",
        )
        .unwrap();
        let mut doc = Document::open(&path).unwrap();
        let snap = doc.snapshot();
        let f = LineFilter::new(&leaf("error", false, false, true)).unwrap();
        let mut lines = Vec::new();
        f.scan(snap.view(), 0, 0, &Control::new(), |c, _, _| {
            lines.extend(c.iter().map(|&(_, n)| n));
            true
        })
        .unwrap();
        assert_eq!(lines, vec![0, 1, 4]);
    }

    #[test]
    fn long_lines_and_many_chunks() {
        // Lines around and across the 4 MiB chunk size, one longer than a chunk.
        let mut text = String::new();
        for i in 0..120_000 {
            text.push_str(&format!(
                "line {i} {}\n",
                if i % 7 == 0 { "hit" } else { "miss" }
            ));
        }
        text.push_str(&"x".repeat(WINDOW + 10));
        text.push_str(" hit\n");
        for i in 0..50_000 {
            text.push_str(&format!(
                "tail {i} {}\r\n",
                if i % 3 == 0 { "hit" } else { "" }
            ));
        }
        let q = leaf("hit", false, false, false);
        assert_eq!(run(&text, &q), model(&text, &q));
    }

    /// The queries the parallel scan is checked with: overlapping candidates, a pattern that
    /// matches across line breaks, empty matches, multi-byte characters, case, whole words,
    /// and the combinations.
    fn varied_queries() -> Vec<FilterQuery> {
        vec![
            leaf("aa", false, false, false),
            leaf("ab", false, false, true),
            leaf("AB", false, true, false),
            leaf(r"a\sb", true, false, false),
            leaf(r"b\s*$", true, false, false),
            leaf("x*", true, false, false),
            leaf("^b", true, false, false),
            leaf("é", false, false, false),
            leaf("(?-u:\\xff)", true, false, false),
            FilterQuery::Not(Box::new(leaf("a", false, false, false))),
            FilterQuery::And(vec![
                leaf("a", false, false, false),
                FilterQuery::Not(Box::new(leaf("b", false, false, true))),
            ]),
            FilterQuery::Or(vec![
                leaf("é", false, false, false),
                leaf("^$", true, false, false),
            ]),
        ]
    }

    /// The lines a scan handed out, and where it ended (offset, line).
    type Scanned = (Vec<(u64, u64)>, (usize, usize));

    /// Every line found and the end reached, by the sequential scan and by the parallel one
    /// on `threads` threads in units of `unit` bytes, from line start `from`.
    fn both_scans(
        doc: &mut Document,
        f: &LineFilter,
        from: usize,
        threads: usize,
        unit: usize,
    ) -> [Scanned; 2] {
        let snap = doc.snapshot();
        let view = snap.view();
        let line = crate::lines::line_start_at(&view, from);
        assert_eq!(line, from, "a line start");
        let first = view.line_of(from).unwrap();
        let c = Control::new();
        let mut seq = Vec::new();
        let seq_end = f
            .scan_to(view, from, view.len(), first, &c, |x, _, _| {
                seq.extend_from_slice(x);
                true
            })
            .unwrap();
        let mut par = Vec::new();
        let mut last_pos = from;
        let par_end = f
            .scan_parallel(view, from, first, threads, unit, &c, |x, pos, _| {
                assert!(pos >= last_pos, "handed out in order");
                assert!(x.iter().all(|&(o, _)| (o as usize) < pos.max(1)));
                last_pos = pos;
                par.extend_from_slice(x);
                true
            })
            .unwrap();
        [(seq, seq_end), (par, par_end)]
    }

    fn open_bytes(bytes: &[u8]) -> (tempfile::TempDir, Document) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.txt");
        std::fs::write(&path, bytes).unwrap();
        let mut doc = Document::open(&path).unwrap();
        doc.wait_for_index(&Control::new()).unwrap();
        (dir, doc)
    }

    #[test]
    fn parallel_scan_equals_the_sequential_one_in_any_units() {
        let mut text = Vec::new();
        for i in 0..40 {
            text.extend_from_slice(match i % 8 {
                0 => b"aaa ab\n".as_slice(),
                1 => b"a\r\nb ab\r",
                2 => b"\xffab\xc3\xa9\n",
                3 => b"\n\n",
                4 => b"AB b  \r\n",
                5 => b"x a\n\rb",
                6 => b"\xc3\xa9\xc3\xa9\xc3\xa9 b\n",
                _ => b"zz",
            });
        }
        let (_dir, mut doc) = open_bytes(&text);
        for q in varied_queries() {
            let f = LineFilter::new(&q).unwrap();
            for unit in (1..24).chain([37, 100, 1000, 1 << 20]) {
                for threads in [1, 2, 3, 5] {
                    for from in [0, 7] {
                        let [seq, par] = both_scans(&mut doc, &f, from, threads, unit);
                        assert_eq!(
                            par, seq,
                            "{q:?}, unit {unit}, {threads} threads, from {from}"
                        );
                    }
                }
            }
        }
        // Empty and tiny documents, and one line longer than many units.
        let long = [b"b ".repeat(300), b"ab\nab".to_vec()].concat();
        for bytes in [&b""[..], b"\n", b"\r", b"a", b"ab", &long] {
            let (_dir, mut doc) = open_bytes(bytes);
            for q in varied_queries() {
                let f = LineFilter::new(&q).unwrap();
                for unit in [1, 2, 3, 50] {
                    let [seq, par] = both_scans(&mut doc, &f, 0, 3, unit);
                    assert_eq!(par, seq, "{bytes:?} {q:?}, unit {unit}");
                }
            }
        }
    }

    #[test]
    fn parallel_scan_stops_when_asked_and_when_cancelled() {
        let text = "ab line\n".repeat(2000);
        let (_dir, mut doc) = open_bytes(text.as_bytes());
        let snap = doc.snapshot();
        let view = snap.view();
        let f = LineFilter::new(&leaf("ab", false, false, false)).unwrap();
        // `found` says stop after its third call: the scan ends where that call was.
        let (mut calls, mut got, mut at) = (0, 0, (0, 0));
        let end = f
            .scan_parallel(view, 0, 0, 2, 100, &Control::new(), |x, pos, line| {
                calls += 1;
                got += x.len();
                at = (pos, line);
                calls < 3
            })
            .unwrap();
        assert_eq!(calls, 3);
        assert_eq!(end, at);
        assert!(end.0 < view.len() && got == end.1);
        // Cancelled from outside while it runs: `Cancelled`, and no lines after.
        let c = Control::new();
        let mut calls = 0;
        let r = f.scan_parallel(view, 0, 0, 2, 100, &c, |_, _, _| {
            calls += 1;
            if calls == 2 {
                c.cancel();
            }
            true
        });
        assert!(matches!(r, Err(Error::Cancelled)), "{r:?}");
        assert_eq!(calls, 2);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// Random bytes of line breaks (LF, CR, CRLF), letters, a multi-byte character and
        /// an invalid byte, every query, random units and threads: the parallel scan equals
        /// the sequential one.
        #[test]
        fn parallel_scan_equals_sequential_on_random_text(
            pieces in proptest::collection::vec(0usize..10, 0..300),
            unit in 1usize..64,
            threads in 1usize..5,
        ) {
            const PIECES: [&[u8]; 10] =
                [b"a", b"b", b"ab", b" ", b"\n", b"\r", b"\r\n", b"\xc3\xa9", b"\xff", b"x"];
            let text: Vec<u8> = pieces.iter().flat_map(|&i| PIECES[i].iter().copied()).collect();
            let (_dir, mut doc) = open_bytes(&text);
            for q in varied_queries() {
                let f = LineFilter::new(&q).unwrap();
                let [seq, par] = both_scans(&mut doc, &f, 0, threads, unit);
                proptest::prop_assert_eq!(par, seq, "{:?}", q);
            }
        }
    }

    #[test]
    fn bounds_the_tree() {
        let mut q = leaf("a", false, false, false);
        for _ in 0..MAX_DEPTH {
            q = FilterQuery::Not(Box::new(q));
        }
        assert!(matches!(LineFilter::new(&q), Err(Error::InvalidRegex(_))));
        let wide = FilterQuery::Or(vec![leaf("a", false, false, false); MAX_LEAVES + 1]);
        assert!(matches!(
            LineFilter::new(&wide),
            Err(Error::InvalidRegex(_))
        ));
        assert!(LineFilter::new(&leaf("", false, false, true)).is_err());
    }

    #[test]
    fn match_list_round_trips() {
        let mut l = MatchList::new();
        let mut model = Vec::new();
        let (mut off, mut line) = (0u64, 0u64);
        for i in 0..10_000u64 {
            off += 1 + (i * 7919) % 100_000;
            line += 1 + i % 5;
            l.push(off, line);
            model.push((off, line));
        }
        assert_eq!(l.get_range(0..10_000), model);
        assert_eq!(l.get_range(63..130), model[63..130]);
        assert_eq!(l.get_range(9_990..20_000), model[9_990..]);
        for probe in [0, model[0].0, model[500].0, model[500].0 + 1, u64::MAX] {
            assert_eq!(l.position_of(probe), model.partition_point(|e| e.0 < probe));
        }
        assert!(l.memory() < 10_000 * 8, "{} bytes", l.memory());
    }

    /// The list of `f`'s matches in `view`, by a full scan.
    fn scanned(f: &LineFilter, view: View<'_>) -> MatchList {
        let mut list = MatchList::new();
        f.scan(view, 0, 0, &Control::new(), |c, _, _| {
            c.iter().for_each(|&(o, l)| list.push(o, l));
            true
        })
        .unwrap();
        list
    }

    /// Brings `list`, `f`'s matches in `snap`, up to `doc` as the server does (the changed
    /// range rescanned, the list spliced); returns the snapshot it is now of.
    fn follow(
        f: &LineFilter,
        doc: &mut Document,
        snap: crate::Snapshot,
        list: &mut MatchList,
    ) -> crate::Snapshot {
        let changed = doc.changed_since(snap.version()).expect("ranges are known");
        let next = doc.snapshot();
        let u = f
            .rescan_change(&snap.view(), &next.view(), changed, &Control::new())
            .unwrap()
            .expect("indexed");
        list.splice(&u);
        next
    }

    /// In UTF-16 (LE with a BOM, BE) and legacy encodings, a filter selects the lines the same
    /// filter selects in the same text in UTF-8 (offsets mapped, numbers equal): on the bytes
    /// (case-sensitive text in a legacy encoding) or decoded (everything else), sequentially
    /// and on several threads in units that cut characters; and kept up to date through edits
    /// it equals a fresh scan.
    #[test]
    fn other_encodings_filter_as_the_same_text_in_utf8() {
        use crate::Encoding;
        let queries = [
            leaf("hit", false, false, false),
            leaf("café", false, false, false),
            leaf("CAFÉ", false, true, false),
            leaf("hit", false, false, true),
            leaf(r"^\w+ é", true, false, false),
            leaf(r"\d{2} $", true, false, false),
            leaf("日本", false, false, false),
            FilterQuery::Not(Box::new(leaf("hit", false, false, false))),
            FilterQuery::And(vec![
                leaf("hit", false, false, false),
                FilterQuery::Not(Box::new(leaf(r"caf.", true, true, false))),
            ]),
            FilterQuery::Or(vec![
                leaf("^$", true, false, false),
                leaf("x{3}", true, false, false),
            ]),
        ];
        let words = [
            "hit", "café", "CAFÉ", "é", "日本", "hitter", "xxx", "42", "",
        ];
        for (label, bom) in [
            ("utf-16le", &b"\xFF\xFE"[..]),
            ("utf-16be", &b""[..]),
            ("windows-1252", &b""[..]),
            ("shift_jis", &b""[..]),
        ] {
            let enc = Encoding::from_label(label, false).unwrap();
            let cs = enc.charset();
            let mut seed = 7u64;
            let mut rnd = |n: usize| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (seed >> 33) as usize % n
            };
            let mut text = String::new();
            if !bom.is_empty() {
                text.push('\u{FEFF}');
            }
            for i in 0..600 {
                for _ in 0..rnd(6) {
                    let w = words[rnd(words.len())];
                    if cs.encode(w).is_ok() {
                        text.push_str(w);
                        text.push(' ');
                    }
                }
                if label.starts_with("utf-16") && i % 7 == 0 {
                    text.push('\u{0A0D}'); // the bytes of a CR and an LF
                }
                text.push_str(["\n", "\r\n", "\r"][rnd(3)]);
            }
            let text = if label == "shift_jis" {
                text.replace('é', "e").replace('É', "E")
            } else {
                text
            };
            // The file offset of each UTF-8 offset that starts a character (and the end).
            let mut at = vec![0u64; text.len() + 1];
            let mut file = 0u64;
            for (i, c) in text.char_indices() {
                at[i] = file;
                file += cs.encode(&c.to_string()).unwrap().len() as u64;
            }
            at[text.len()] = file;
            let (_d8, mut doc8) = open_bytes(text.as_bytes());
            let wide_bytes = {
                let body = text.strip_prefix('\u{FEFF}').unwrap_or(&text);
                [bom, &cs.encode(body).unwrap()[..]].concat()
            };
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("f.txt");
            std::fs::write(&path, &wide_bytes).unwrap();
            let mut doc =
                Document::open_cached_as(&path, Default::default(), None, Some(enc)).unwrap();
            doc.wait_for_index(&Control::new()).unwrap();
            let mut compared = 0;
            for (qi, q) in queries.iter().enumerate() {
                let f8 = LineFilter::new(q).unwrap();
                let f = match LineFilter::new_in(q, cs) {
                    Err(Error::Unrepresentable { .. }) => continue, // (日本 in windows-1252)
                    f => f.unwrap(),
                };
                let [(want, (end8, lines8)), _] = both_scans(&mut doc8, &f8, 0, 1, 1 << 20);
                let want: Vec<(u64, u64)> =
                    want.iter().map(|&(o, l)| (at[o as usize], l)).collect();
                compared += usize::from(!want.is_empty());
                for (threads, unit) in [(2, 37), (3, 101), (2, 4096)] {
                    let [seq, par] = both_scans(&mut doc, &f, 0, threads, unit);
                    for (kind, (got, end)) in [("sequential", seq), ("parallel", par)] {
                        assert_eq!(got, want, "{label} query {qi} {kind} {threads}x{unit}");
                        assert_eq!(
                            end,
                            (at[end8] as usize, lines8),
                            "{label} query {qi} {kind}"
                        );
                    }
                }
            }
            assert!(compared >= 7, "{label}: {compared} queries selected lines");
            // Kept up to date: lines inserted and deleted at line starts, several at a time.
            let f = LineFilter::new_in(&queries[8], cs).unwrap();
            let mut snap = doc.snapshot();
            let mut list = scanned(&f, snap.view());
            for round in 0..60 {
                for _ in 0..1 + rnd(3) {
                    let view = doc.view();
                    let lines = view.line_count().known;
                    let a = view.line_start(rnd(lines.max(1))).unwrap();
                    if rnd(2) == 0 {
                        let t = ["hit café\n", "\r\n", "hit xxx 日本\r", "CAFÉ hit\n"][rnd(4)];
                        let t = if label == "shift_jis" {
                            t.replace('é', "e").replace('É', "E")
                        } else {
                            t.into()
                        };
                        if let Ok(bytes) = cs.encode(&t) {
                            doc.insert(a, bytes).unwrap();
                        }
                    } else {
                        let b = crate::lines::next_line_start(&view, a);
                        doc.delete(a..b).unwrap();
                    }
                }
                snap = follow(&f, &mut doc, snap, &mut list);
                let mut fresh = Vec::new();
                f.scan_to(
                    snap.view(),
                    0,
                    snap.view().len(),
                    0,
                    &Control::new(),
                    |c, _, _| {
                        fresh.extend_from_slice(c);
                        true
                    },
                )
                .unwrap();
                assert_eq!(
                    list.get_range(0..list.len()),
                    fresh,
                    "{label} round {round}"
                );
            }
        }
    }

    /// A filter kept up to date through random edits, undo and redo (several between two
    /// updates at times) equals a fresh scan of the edited text and the per-line model.
    #[test]
    fn follows_random_edits() {
        let queries = [
            leaf("hit", false, false, false),
            leaf("^a.*z$", true, false, false),
            FilterQuery::And(vec![
                leaf("hit", false, false, false),
                FilterQuery::Not(Box::new(leaf("x", false, false, false))),
            ]),
            leaf("x*", true, false, false),
        ];
        let pieces = [
            "hit", "\n", "\r", "\r\n", "a", "z", "x", "hit\n", "\nhit", "azz\n", "", "q",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut rnd = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n.max(1) as u64) as usize
        };
        for (qi, q) in queries.iter().enumerate() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("f.txt");
            let mut text = String::new();
            for i in 0..300 {
                text.push_str(match i % 5 {
                    0 => "a hit z\n",
                    1 => "miss\r\n",
                    2 => "azhitz\r",
                    3 => "x hit\n",
                    _ => "\n",
                });
            }
            std::fs::write(&path, &text).unwrap();
            let mut doc = Document::open(&path).unwrap();
            doc.wait_for_index(&Control::new()).unwrap();
            let f = LineFilter::new(q).unwrap();
            let mut snap = doc.snapshot();
            let mut list = scanned(&f, snap.view());
            for round in 0..300 {
                for _ in 0..1 + rnd(3) {
                    let len = doc.len();
                    match rnd(10) {
                        0 => {
                            doc.undo();
                        }
                        1 => {
                            doc.redo();
                        }
                        2 => {
                            // A batch of two edits apart.
                            let a = rnd(len + 1);
                            let b = a + rnd(len - a + 1);
                            let t = pieces[rnd(pieces.len())];
                            doc.apply(vec![
                                Edit::insert(a, t),
                                Edit::delete(b..(b + 2).min(len).max(b)),
                            ])
                            .unwrap();
                        }
                        _ => {
                            let at = rnd(len + 1);
                            let end = (at + rnd(12)).min(len);
                            let mut t = String::new();
                            for _ in 0..rnd(3) {
                                t.push_str(pieces[rnd(pieces.len())]);
                            }
                            doc.replace(at..end, t).unwrap();
                        }
                    }
                }
                snap = follow(&f, &mut doc, snap, &mut list);
                let now =
                    String::from_utf8(snap.view().read(0, snap.view().len()).unwrap()).unwrap();
                assert_eq!(
                    list.get_range(0..list.len()),
                    model(&now, q),
                    "query {qi}, round {round}"
                );
            }
        }
    }

    #[test]
    fn splice_keeps_blocks_and_shifts() {
        let mut l = MatchList::new();
        let mut m = Vec::new();
        for i in 0..1000u64 {
            l.push(i * 10, i * 2);
            m.push((i * 10, i * 2));
        }
        for (from, to, found, db, dl) in [
            (0u64, 0u64, vec![], 5i64, 1i64),
            (640, 700, vec![(641, 129)], -3, 0),
            (9_000, 20_000, vec![(9_001, 1_801), (9_002, 1_802)], 0, 0),
            (100, 5_000, vec![], -1, -1),
        ] {
            let u = Update {
                from,
                old_to: to,
                found: found.clone(),
                bytes: db,
                lines: dl,
            };
            l.splice(&u);
            let mut next: Vec<(u64, u64)> = m.iter().copied().filter(|e| e.0 < from).collect();
            next.extend(found);
            next.extend(
                m.iter()
                    .filter(|e| e.0 >= to)
                    .map(|e| ((e.0 as i64 + db) as u64, (e.1 as i64 + dl) as u64)),
            );
            m = next;
            assert_eq!(l.get_range(0..l.len()), m);
            assert_eq!(l.len(), m.len());
        }
    }
}
