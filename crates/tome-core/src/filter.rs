//! Filter views: the lines of a document that match a query tree, as a compact list of
//! (source line start, source line number), built by scanning a snapshot.
//!
//! A [`FilterQuery`] is a tree: leaves are searches ([`Query`] plus `whole_word`), inner
//! nodes combine them per line with AND, OR and NOT. A line is in the filter when the tree is
//! true of it; a leaf is true of a line when one of its matches **starts** on that line (the
//! matcher runs over many lines at once, so a regex that can cross a line break, such as
//! `a\sb`, may match from one line into the next: it counts for the line it starts on).
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

use std::ops::Range;

use crate::breaks::count_global;
use crate::search::{Matcher, Query, WINDOW};
use crate::view::View;
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
}

#[derive(Clone, Debug)]
enum Node {
    Leaf(Box<Matcher>),
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
        let mut leaves = 0;
        check_shape(query, 1, &mut leaves)?;
        Ok(LineFilter {
            root: compile(query)?,
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
    pub fn scan(
        &self,
        view: View<'_>,
        from: usize,
        line: usize,
        control: &Control,
        mut found: impl FnMut(&[(u64, u64)], usize, usize) -> bool,
    ) -> Result<(usize, usize)> {
        let len = view.len();
        let total = len.saturating_sub(from) as u64;
        let (mut pos, mut line) = (from.min(len), line);
        let mut buf = Vec::new();
        let mut starts = Vec::new();
        let mut out = Vec::new();
        while pos < len {
            control.check()?;
            control.set_progress((pos - from) as u64, total);
            let end = chunk_end(&view, pos);
            // One byte more: whether a CR at the cut starts a CRLF (for the line count).
            let hay = view.contiguous(pos, (end + 1).min(len), &mut buf);
            let cut = end - pos;
            starts.clear();
            self.root.lines(
                &hay[..cut],
                cut == hay.len() && pos + cut == len,
                &mut starts,
            );
            out.clear();
            let mut prev = 0;
            for &s in &starts {
                line += count_global(&hay[prev..s], hay.get(s).copied());
                prev = s;
                out.push(((pos + s) as u64, line as u64));
            }
            line += count_global(&hay[prev..cut], hay.get(cut).copied());
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

/// The part of the document a followed append may still change: `(start, breaks)`, where
/// `start` is where the last line starts when the document does not end with a line break (an
/// append may lengthen that line; a final CR may become a CRLF), else the document's length,
/// and `breaks` the line breaks counted from `start` to the end (1 for a final CR, else 0).
/// A filter holds back a match in that part and scans it again after an append. Cost:
/// O(last line's length).
pub fn open_tail(view: &View<'_>) -> (usize, usize) {
    let len = view.len();
    match view.byte_at(len.wrapping_sub(1)) {
        None | Some(b'\n') => (len, 0),
        Some(b'\r') => (crate::lines::line_start_at(view, len - 1), 1),
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

fn compile(q: &FilterQuery) -> Result<Node> {
    Ok(match q {
        FilterQuery::Match { query, whole_word } => {
            let m = if *whole_word {
                let inner = if query.regex {
                    query.pattern.clone()
                } else {
                    regex::escape(&query.pattern)
                };
                if query.pattern.is_empty() {
                    return Err(Error::InvalidRegex("the pattern is empty".into()));
                }
                // A word: not preceded nor followed by a word character on its line (a line
                // break may not stand in for the non-word character: the match would start on
                // the line before).
                Matcher::new(&Query {
                    pattern: format!(r"(?:^|[^\w\r\n])(?:{inner})(?:[^\w\r\n]|$)"),
                    regex: true,
                    case_insensitive: query.case_insensitive,
                })?
            } else {
                Matcher::new(query)?
            };
            Node::Leaf(Box::new(m))
        }
        FilterQuery::And(c) => Node::And(c.iter().map(compile).collect::<Result<_>>()?),
        FilterQuery::Or(c) => Node::Or(c.iter().map(compile).collect::<Result<_>>()?),
        FilterQuery::Not(c) => Node::Not(Box::new(compile(c)?)),
    })
}

/// Where the next chunk from `pos` (a line start) ends: just after the last line break in the
/// [`WINDOW`] bytes from `pos` (a CRLF is never cut), or at the end of the line holding the
/// window's end when the window holds no break, or at the document's end. Cost: O(bytes
/// scanned back to the break), O(line) for a line longer than the window.
fn chunk_end(view: &View<'_>, pos: usize) -> usize {
    let len = view.len();
    let end = pos.saturating_add(WINDOW).min(len);
    if end == len {
        return len;
    }
    let start = crate::lines::line_start_at(view, end);
    if start > pos {
        return start;
    }
    crate::lines::next_line_start(view, end)
        .max(end + 1)
        .min(len)
}

impl Node {
    /// The starts (offsets in `hay`) of the lines of `hay` this node is true of, in order.
    /// `hay` holds whole lines; `at_end`: it ends the document (an empty match at its very
    /// end is on its last line, if that line is not empty).
    fn lines(&self, hay: &[u8], at_end: bool, out: &mut Vec<usize>) {
        match self {
            Node::Leaf(m) => leaf_lines(m, hay, at_end, out),
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

fn leaf_lines(m: &Matcher, hay: &[u8], at_end: bool, out: &mut Vec<usize>) {
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
        let mut i = range.start - range.start % BLOCK;
        while i < end {
            let (mut off, mut line, mut at) = self.heads[i / BLOCK];
            let block_end = (i + BLOCK).min(self.len);
            for k in i..block_end {
                if k > i {
                    off = off.wrapping_add(get_varint(&self.bytes, &mut at));
                    line = line.wrapping_add(get_varint(&self.bytes, &mut at));
                }
                if k >= end {
                    break;
                }
                if k >= range.start {
                    out.push((off, line));
                }
            }
            i = block_end;
        }
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
    use crate::Document;

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
}
