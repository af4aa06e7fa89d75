//! Reading a document: bytes, chunks, lines with a column window, line/offset/position
//! conversions. A [`View`] borrows one version of a document (the live one, or a
//! [`crate::Snapshot`]), so every read it answers is consistent.

use crate::breaks::Newlines;
use crate::charset::Charset;
use crate::text::{PositionEncoding, Walk};
use crate::tree::{Bufs, PieceIter, PieceTree, Seek, Src};
use crate::{Error, Result};

/// Bytes of a line scanned for its end before asking the line index instead.
const SCAN_LIMIT: usize = 64 * 1024;

/// A line/column position; the column counts units of a [`PositionEncoding`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    /// Zero-based line.
    pub line: usize,
    /// Zero-based column, in the encoding's units.
    pub column: usize,
}

/// A window of columns within a line, in bytes of the line: show `[start, start + len)`.
/// Both ends are moved back to character boundaries, so a window never splits a character.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ColumnWindow {
    /// First byte of the line to show.
    pub start: usize,
    /// Most bytes to show.
    pub len: usize,
}

/// Lines read whole when short enough, whatever the column window: each line of at most
/// `max_line` bytes is read whole (from its first byte, `window` ignored) while the bytes spent
/// on whole lines stay within `max_total`; other lines are cut to the window as usual. Bytes
/// scanned only to learn whether a line fits (a line past the index frontier found longer than
/// `max_line`) count against `max_total` too, so a viewport reads at most `max_total` bytes more
/// than its window would.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WholeLines {
    /// Longest line (bytes, without its break) read whole.
    pub max_line: usize,
    /// Most bytes spent on whole lines in one read.
    pub max_total: usize,
}

/// One line as read for display.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// Zero-based line number, when the index knows it.
    pub number: Option<usize>,
    /// Byte offset of the line's first byte in the document.
    pub start: usize,
    /// Length in bytes, without the line break; a lower bound when `!len_known`.
    pub len: usize,
    /// False for a line longer than what was read of it, whose end the line index has not
    /// reached yet: `len` is then what was scanned, `break_len` is 0, and the line is the last
    /// one returned. Lines are never scanned far past the window asked for, so that a viewport
    /// costs what it shows even on a line of gigabytes.
    pub len_known: bool,
    /// Bytes of the line break after it: 0 (end of document), 1 (LF or CR) or 2 (CRLF).
    pub break_len: usize,
    /// The text shown: the window (or the whole line), invalid bytes as U+FFFD, one per byte.
    pub text: String,
    /// Byte column of the first byte of `text` within the line.
    pub text_start: usize,
    /// Bytes of the line that `text` covers.
    pub text_bytes: usize,
    /// True if the line has bytes before the window.
    pub cut_before: bool,
    /// True if the line has bytes after the window.
    pub cut_after: bool,
    /// True if `text` holds replacement characters for invalid UTF-8.
    pub invalid: bool,
    /// True if the line was read whole under a [`WholeLines`] budget (`text` is the whole line,
    /// the window was not applied).
    pub whole: bool,
}

/// The number of lines of a document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineCount {
    /// Lines known for certain (line breaks + 1): exact when `exact`, else a lower bound.
    pub known: usize,
    /// An estimate of the total (equal to `known` when exact).
    pub estimate: usize,
    /// True once every line break is counted.
    pub exact: bool,
}

/// A borrowed, consistent view of one version of a document.
#[derive(Clone, Copy)]
pub struct View<'a> {
    /// How the bytes read as text (the document's encoding).
    pub(crate) charset: Charset,
    pub(crate) tree: &'a PieceTree,
    pub(crate) bufs: Bufs<'a>,
}

impl<'a> View<'a> {
    /// How this view's bytes read as text: the document's encoding. O(1).
    pub fn charset(&self) -> Charset {
        self.charset
    }

    /// Length in bytes. O(1).
    pub fn len(&self) -> usize {
        self.tree.len()
    }

    /// True for an empty document.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The byte at `at`, or `None` past the end. O(log n).
    pub fn byte_at(&self, at: usize) -> Option<u8> {
        let (p, start) = self.tree.pieces_from(at).next()?;
        self.bufs.bytes(&p).get(at - start).copied()
    }

    /// The text `[start, end)` as borrowed chunks, in order. O(log n) to start, O(1) a chunk.
    pub fn chunks(&self, start: usize, end: usize) -> Chunks<'a> {
        Chunks {
            pieces: self.tree.pieces_from(start),
            bufs: self.bufs,
            start,
            end: end.min(self.len()),
        }
    }

    /// Lets the kernel drop the pages of original files under `[start, end)` from the process's
    /// resident set: they stay in the page cache, and reading them again costs a minor fault.
    /// Whole-file scans (search, replace-all) call it behind them, so that after a scan of a
    /// 4 GiB file the server's resident set (what `top` shows) is not the file. Cost:
    /// O(log pieces + pieces in the range), no I/O.
    pub(crate) fn release(&self, start: usize, end: usize) {
        for (p, at) in self.tree.pieces_from(start) {
            if at >= end {
                break;
            }
            if let Src::Original(s) = p.src {
                let from = p.start + start.saturating_sub(at);
                let to = p.start + (end - at).min(p.len());
                self.bufs.sources[s as usize].release(from, to);
            }
        }
    }

    /// Copies out bytes `[start, end)`. Errors if the range is not within the document.
    pub fn read(&self, start: usize, end: usize) -> Result<Vec<u8>> {
        self.check_range(start, end)?;
        let mut out = Vec::with_capacity(end - start);
        for chunk in self.chunks(start, end) {
            out.extend_from_slice(chunk);
        }
        self.intact()?;
        Ok(out)
    }

    /// Bytes `[start, end)` as one slice: borrowed when one piece holds them, else copied into
    /// `buf`. The range must be within the document.
    pub(crate) fn contiguous<'b>(&self, start: usize, end: usize, buf: &'b mut Vec<u8>) -> &'b [u8]
    where
        'a: 'b,
    {
        let mut chunks = self.chunks(start, end);
        let first = chunks.next().unwrap_or_default();
        if first.len() == end - start {
            return first;
        }
        buf.clear();
        buf.extend_from_slice(first);
        for chunk in chunks {
            buf.extend_from_slice(chunk);
        }
        buf
    }

    /// `Err(FileChanged)` if a file this version reads from shrank under its mapping: whatever
    /// was just read from it may be zeros, and is not to be shown or saved.
    pub fn intact(&self) -> Result<()> {
        match self.bufs.sources.iter().find(|s| s.is_damaged()) {
            None => Ok(()),
            Some(s) => Err(Error::FileChanged(format!(
                "{} was truncated or rewritten by another program while open; reload it",
                s.path().display()
            ))),
        }
    }

    pub(crate) fn check_range(&self, start: usize, end: usize) -> Result<()> {
        if start > end || end > self.len() {
            return Err(Error::OutOfBounds(format!(
                "byte range {start}..{end} is outside the document (length {})",
                self.len()
            )));
        }
        Ok(())
    }

    /// The number of lines: exact once indexed, else a lower bound and an estimate. O(1) when
    /// exact; otherwise O(log n) per piece past the index frontier (there are few).
    pub fn line_count(&self) -> LineCount {
        let info = self.tree.info();
        if info.known {
            return LineCount {
                known: info.breaks + 1,
                estimate: info.breaks + 1,
                exact: true,
            };
        }
        let (mut known, mut estimate) = (info.breaks, info.breaks);
        for p in self.tree.unknown_pieces() {
            let Src::Original(s) = p.src else { continue };
            let src = &self.bufs.sources[s as usize];
            let index = src.index();
            let frontier = index.indexed_bytes().clamp(p.start, p.end());
            let counted = index
                .count_range(&**src, p.start, frontier)
                .unwrap_or_default();
            known += counted;
            let density = index.progress();
            estimate += if density.indexed_bytes == 0 {
                0
            } else {
                (density.breaks_so_far as u128 * p.len() as u128 / density.indexed_bytes as u128)
                    as usize
            };
        }
        LineCount {
            known: known + 1,
            estimate: estimate.max(known) + 1,
            exact: false,
        }
    }

    /// Which units of the document are line breaks. O(1).
    pub fn newlines(&self) -> Newlines {
        self.bufs.newlines()
    }

    /// `b'\n'` / `b'\r'` if the code unit at `at` (a unit boundary) is that break unit, else 0.
    /// O(log n).
    pub(crate) fn break_unit_at(&self, at: usize) -> u8 {
        let nl = self.newlines();
        let mut unit = [0u8; 2];
        for (k, b) in unit.iter_mut().enumerate().take(nl.unit()) {
            match self.byte_at(at + k) {
                Some(x) => *b = x,
                None => return 0,
            }
        }
        nl.first_unit(&unit[..nl.unit()])
    }

    /// Length in bytes of the line break starting at `at` (a unit boundary), 0 if none.
    /// O(log n).
    pub(crate) fn break_len_at(&self, at: usize) -> usize {
        let u = self.newlines().unit();
        match self.break_unit_at(at) {
            b'\n' => u,
            b'\r' if self.break_unit_at(at + u) == b'\n' => 2 * u,
            b'\r' => u,
            _ => 0,
        }
    }

    /// True if `at` lies between the CR and the LF of a CRLF. O(log n).
    pub(crate) fn inside_crlf(&self, at: usize) -> bool {
        let u = self.newlines().unit();
        at >= u && self.break_unit_at(at - u) == b'\r' && self.break_unit_at(at) == b'\n'
    }

    /// Byte offset where line `line` starts. O(log n) plus a scan of at most one index block.
    /// Errors: [`Error::OutOfBounds`] past the last line, [`Error::NotIndexedYet`].
    pub fn line_start(&self, line: usize) -> Result<usize> {
        if line == 0 {
            return Ok(0);
        }
        match self.tree.seek_line(line, &self.bufs) {
            Seek::At(x) => {
                let split_crlf = self.inside_crlf(x);
                Ok(x + if split_crlf {
                    self.newlines().unit()
                } else {
                    0
                })
            }
            Seek::Beyond => Err(Error::OutOfBounds(format!(
                "line {line} is past the end of the document ({} lines)",
                self.line_count().known
            ))),
            Seek::NotYet => Err(self.not_indexed(format!("line {line}"))),
        }
    }

    /// The line holding byte `at` (`at == len` is on the last line). O(log n).
    pub fn line_of(&self, at: usize) -> Result<usize> {
        self.check_range(at, at)?;
        let prefix = self
            .tree
            .prefix(at, &self.bufs)
            .ok_or_else(|| self.not_indexed(format!("offset {at}")))?;
        let inside_crlf = prefix.last_cr && self.break_unit_at(at) == b'\n';
        Ok(prefix.breaks - usize::from(inside_crlf))
    }

    fn not_indexed(&self, what: String) -> Error {
        Error::NotIndexedYet {
            what,
            indexed_lines: self.line_count().known,
        }
    }

    /// `(end of content, start of next line, exact, bytes scanned)` for the line starting at
    /// `start`: scans forward for the break, asking the index instead once the line proves
    /// longer than [`SCAN_LIMIT`] and its number is known (the index then says where the next
    /// line starts, or that there is none). While the index has not reached the line's end, the
    /// scan stops [`SCAN_LIMIT`] bytes past `need` (a byte offset within the line that the
    /// caller must see) and the end is reported inexact: the scanned length, a lower bound.
    /// Cost: O(min(line length, need + SCAN_LIMIT)) bytes, plus O(log n) index queries.
    fn line_bounds(
        &self,
        start: usize,
        line: Option<usize>,
        need: usize,
    ) -> (usize, usize, bool, usize) {
        let mut at = start;
        let mut next_check = SCAN_LIMIT;
        // A piece may be the whole file: look at it in SCAN_LIMIT slices.
        let slices = self
            .chunks(start, self.len())
            .flat_map(|chunk| chunk.chunks(SCAN_LIMIT));
        let nl = self.newlines();
        // (Pieces, and so chunks, start at unit boundaries; SCAN_LIMIT is a multiple of 2.)
        for chunk in slices {
            if let Some(i) = nl.find(chunk) {
                let brk = self.break_len_at(at + i);
                return (at + i, at + i + brk, true, at + i - start);
            }
            at += chunk.len();
            if at - start <= next_check {
                continue;
            }
            // Ask the index once per SCAN_LIMIT scanned (not per chunk: a chunk may be tiny).
            next_check = at - start + SCAN_LIMIT;
            match line.map(|l| self.tree.seek_line(l + 1, &self.bufs)) {
                Some(Seek::At(_)) => {
                    if let Some(next) = line.and_then(|l| self.line_start(l + 1).ok()) {
                        return (next - self.break_before(next), next, true, at - start);
                    }
                }
                // No next line: this one runs to the end of the document.
                Some(Seek::Beyond) => return (self.len(), self.len(), true, at - start),
                Some(Seek::NotYet) | None => {}
            }
            if at - start > need.saturating_add(SCAN_LIMIT) {
                return (at, at, false, at - start);
            }
        }
        (self.len(), self.len(), true, at - start)
    }

    /// Length of the line break that ends right before `at` (0 if none).
    fn break_before(&self, at: usize) -> usize {
        let u = self.newlines().unit();
        let unit = |back: usize| at.checked_sub(back).map_or(0, |p| self.break_unit_at(p));
        match (unit(2 * u), unit(u)) {
            (b'\r', b'\n') => 2 * u,
            (_, b'\n' | b'\r') => u,
            _ => 0,
        }
    }

    /// Reads `count` lines from line `first`, each cut to `window` if given. Stops early at the
    /// end of the document. Cost: O(log n) to find the first line, then O(bytes shown) per line
    /// (plus a scan of the line's length while the index does not know where the next one
    /// starts). Errors: as [`View::line_start`].
    pub fn lines(
        &self,
        first: usize,
        count: usize,
        window: Option<ColumnWindow>,
    ) -> Result<Vec<Line>> {
        self.lines_whole(first, count, window, None)
    }

    /// [`View::lines`], with the lines that fit `whole` read whole (see [`WholeLines`]).
    pub fn lines_whole(
        &self,
        first: usize,
        count: usize,
        window: Option<ColumnWindow>,
        whole: Option<WholeLines>,
    ) -> Result<Vec<Line>> {
        let start = self.line_start(first)?;
        let lines = self.lines_from(start, Some(first), count, window, whole);
        self.intact()?;
        Ok(lines)
    }

    /// Reads `count` lines starting with the line that holds byte `at`, preceded by up to
    /// `before` lines. Never waits for the index: line numbers are filled in where known.
    pub fn lines_around(
        &self,
        at: usize,
        before: usize,
        count: usize,
        window: Option<ColumnWindow>,
    ) -> Result<Vec<Line>> {
        self.lines_around_whole(at, before, count, window, None)
    }

    /// [`View::lines_around`], with the lines that fit `whole` read whole (see [`WholeLines`]).
    pub fn lines_around_whole(
        &self,
        at: usize,
        before: usize,
        count: usize,
        window: Option<ColumnWindow>,
        whole: Option<WholeLines>,
    ) -> Result<Vec<Line>> {
        self.check_range(at, at)?;
        // The index knows where the line starts without reading it (a line may be gigabytes
        // long); else scan back for the previous break.
        let mut start = match self.line_of(at).and_then(|l| self.line_start(l)) {
            Ok(s) => s,
            Err(_) => self.line_start_before(at),
        };
        for _ in 0..before {
            if start == 0 {
                break;
            }
            start = self.line_start_before(start - self.break_before(start));
        }
        let number = self.line_of(start).ok();
        let lines = self.lines_from(start, number, count + before, window, whole);
        self.intact()?;
        Ok(lines)
    }

    /// True if a character of the view's encoding starts at `at` (walked from the start of
    /// its line, where one always starts). O(line up to `at`).
    pub(crate) fn is_char_start(&self, at: usize) -> bool {
        let start = self.line_start_before(at);
        let mut buf = Vec::new();
        // A character crossing `at` is read whole (4 bytes at most).
        let bytes = self.contiguous(start, (at + 4).min(self.len()), &mut buf);
        self.charset.floor_boundary(bytes, at - start) == at - start
    }

    /// Start of the line holding byte `at`: scans back for the previous break.
    fn line_start_before(&self, at: usize) -> usize {
        const STEP: usize = 256 * 1024;
        let nl = self.newlines();
        let u = nl.unit();
        // A unit boundary at or before `at`: the scans start at one.
        let mut end = at - at % u;
        let mut buf = Vec::new();
        while end > 0 {
            let start = end.saturating_sub(STEP);
            let hay = self.contiguous(start, end, &mut buf);
            let mut search = hay;
            while let Some(i) = nl.rfind(search) {
                let pos = start + i;
                // A CR whose LF is at `at` ends its break after `at`: keep looking.
                let ends_after = nl.first_unit(&hay[i..]) == b'\r'
                    && pos + u == at
                    && self.break_unit_at(at) == b'\n';
                if !ends_after {
                    return pos + u;
                }
                search = &search[..i];
            }
            end = start;
        }
        0
    }

    fn lines_from(
        &self,
        mut start: usize,
        mut number: Option<usize>,
        count: usize,
        window: Option<ColumnWindow>,
        whole: Option<WholeLines>,
    ) -> Vec<Line> {
        let mut lines = Vec::with_capacity(count.min(1024));
        // Bytes of each line the caller must see: up to the window's end (every byte without
        // a window).
        let need = window.map_or(usize::MAX, |w| w.start.saturating_add(w.len));
        // What is left of the whole-line budget.
        let mut left = whole.map_or(0, |w| w.max_total);
        for _ in 0..count {
            // The longest line this one may be to be read whole; to know whether it is, its
            // end must be found (one byte past that suffices).
            let reach = whole.map_or(0, |w| w.max_line.min(left));
            let need_here = if whole.is_some() {
                need.max(reach.saturating_add(1))
            } else {
                need
            };
            let (end, next, exact, scanned) = self.line_bounds(start, number, need_here);
            let len = end - start;
            let take_whole = whole.is_some() && exact && len <= reach;
            let mut line = if take_whole {
                left -= len;
                self.make_line(start, end, next - end, number, None)
            } else {
                // Scanned further than a window alone would have (past the index frontier)
                // only to learn that the line does not fit.
                left = left.saturating_sub(scanned.saturating_sub(need.saturating_add(SCAN_LIMIT)));
                self.make_line(start, end, next - end, number, window)
            };
            line.whole = take_whole;
            line.len_known = exact;
            if !exact {
                line.cut_after = true;
            }
            lines.push(line);
            if next == end {
                break;
            }
            start = next;
            number = number.map(|n| n + 1);
        }
        lines
    }

    fn make_line(
        &self,
        start: usize,
        end: usize,
        break_len: usize,
        number: Option<usize>,
        window: Option<ColumnWindow>,
    ) -> Line {
        let len = end - start;
        let (from, to) = match window {
            None => (0, len),
            Some(w) => (w.start.min(len), w.start.saturating_add(w.len).min(len)),
        };
        // Fetch a few bytes either side so both ends can be moved back to a character start
        // (from the line's start in a multi-byte legacy encoding: see `Charset`).
        let cs = self.charset;
        let lo = cs.context_before().map_or(0, |n| from.saturating_sub(n));
        let hi = (to + 3).min(len);
        let mut buf = Vec::new();
        let bytes = self.contiguous(start + lo, start + hi, &mut buf);
        let from = cs.floor_boundary(bytes, from - lo) + lo;
        let to = if to == len {
            to
        } else if cs.context_before().is_some() {
            cs.floor_boundary(bytes, to - lo) + lo
        } else {
            // Walk on from `from`, a boundary, so the walk stays O(window).
            cs.floor_boundary(&bytes[from - lo..], to - from) + from
        };
        let (text, invalid) = cs.decode_lossy(&bytes[from - lo..to - lo]);
        Line {
            number,
            start,
            len,
            len_known: true,
            break_len,
            text,
            text_start: from,
            text_bytes: to - from,
            cut_before: from > 0,
            cut_after: to < len,
            invalid,
            whole: false,
        }
    }

    /// The byte offset of `pos`, whose column counts `enc` units. O(log n + column).
    /// Errors: line past the end, column past the end of the line or inside a character.
    pub fn offset_of(&self, pos: Position, enc: PositionEncoding) -> Result<usize> {
        let start = self.line_start(pos.line)?;
        let (end, _, _, _) = self.line_bounds(start, Some(pos.line), usize::MAX);
        let want = match enc {
            PositionEncoding::Utf8 if self.charset.is_utf8() => pos.column,
            _ => pos.column.saturating_mul(4),
        };
        let mut buf = Vec::new();
        let bytes = self.contiguous(
            start,
            end.min(start.saturating_add(want).saturating_add(4)),
            &mut buf,
        );
        let walked = self.charset.walk_columns(bytes, pos.column, enc);
        self.intact()?;
        match walked {
            Walk::At(i) => Ok(start + i),
            Walk::InsideChar => Err(Error::OutOfBounds(format!(
                "column {} of line {} is inside a character",
                pos.column, pos.line
            ))),
            Walk::Short(_) => Err(Error::OutOfBounds(format!(
                "column {} is past the end of line {} ({} {} long)",
                pos.column,
                pos.line,
                self.charset
                    .count_columns(&self.read(start, end).unwrap_or_default(), enc),
                enc.name()
            ))),
        }
    }

    /// The position of byte `at`, with the column in `enc` units. O(log n + column).
    pub fn position_of(&self, at: usize, enc: PositionEncoding) -> Result<Position> {
        let line = self.line_of(at)?;
        let start = self.line_start(line)?;
        let mut buf = Vec::new();
        let column = self
            .charset
            .count_columns(self.contiguous(start, at, &mut buf), enc);
        self.intact()?;
        Ok(Position { line, column })
    }
}

/// Borrowed chunks of a range of a document, in order; see [`View::chunks`].
pub struct Chunks<'a> {
    pieces: PieceIter<'a>,
    bufs: Bufs<'a>,
    start: usize,
    end: usize,
}

impl<'a> Iterator for Chunks<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let (p, at) = self.pieces.next()?;
        if at >= self.end {
            return None;
        }
        let from = self.start.saturating_sub(at);
        let to = (self.end - at).min(p.len());
        Some(&self.bufs.bytes(&p)[from..to])
    }
}
