//! Read-only documents of compressed files (gzip, zstd), on top of `tome-compressed`: what
//! `tome/info`, `tome/viewport`, `tome/getText` and `tome/search` answer for them. Every other
//! request on such a document is refused with `-33020 readOnlyDocument` by the registry (see
//! `documents.rs`), so the plain-document handlers never see one.
//!
//! All functions here block (they decompress): call them on blocking threads. Costs are those
//! of `tome_compressed::Compressed`: a read decompresses from the restart point before it (at
//! most a span, 4 MiB, unless cached); a search decompresses the whole text once, in parallel
//! from restart points.

use std::ops::Range as Bytes;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use tome_compressed::{Cancel, Compressed, Error as ZError};
use tome_core::{count_columns, decode_lossy, Charset, PositionEncoding};
use tower_lsp_server::jsonrpc::{Error, Result};

use crate::base64;
use crate::columns;
use crate::convert::{usize_of, Start, ViewportRequest};
use crate::errors::{self, invalid_params};
use crate::protocol::*;

/// An open compressed document.
pub struct CompressedDoc {
    /// The path it was opened from.
    pub path: PathBuf,
    /// The decompressed text, random access.
    pub text: Compressed,
    /// Set by `tome/close`: waits give up.
    pub closed: AtomicBool,
}

/// The protocol error for an error of the compressed reader.
pub fn error_of(e: ZError) -> Error {
    let message = e.to_string();
    match e {
        ZError::NotYet => errors::with_data(
            errors::NOT_INDEXED_YET,
            "not decompressed that far yet",
            serde_json::json!({"kind": "notIndexedYet"}),
        ),
        ZError::OutOfBounds(_) => errors::error(errors::OUT_OF_BOUNDS, "outOfBounds", message),
        ZError::Cancelled => errors::error(-32800, "cancelled", "cancelled"),
        ZError::Io(_) => errors::error(errors::IO_ERROR, "io", message),
        ZError::Corrupt(_) => errors::error(errors::IO_ERROR, "corruptCompressedFile", message),
    }
}

/// `tome/info` for a compressed document. Cost: a few locks.
pub fn info(id: u64, doc: &CompressedDoc) -> DocInfo {
    let progress = doc.text.progress();
    let count = doc.text.line_count();
    DocInfo {
        doc: id,
        path: doc.path.display().to_string(),
        size: progress.decoded,
        line_count: LineCount {
            known: count.known,
            estimate: count.estimate,
            exact: count.exact,
        },
        index_complete: progress.done,
        index_percent: progress.percent(),
        line_ending: "lf",
        encoding: "utf-8",
        read_only: true,
        snapshot: false,
        version: 0,
        dirty: false,
        undo_steps: 0,
        redo_steps: 0,
        index_progress_token: None,
        recovery: None,
        index_cache: None,
        warnings: Vec::new(),
        journal_error: None,
        bookmarks: None,
        bookmarks_dropped: None,
        viewport: None,
        compression: Some(doc.text.format().name()),
        compression_error: progress.error,
    }
}

/// `tome/viewport` for a compressed document (no highlights: `highlights` is absent).
/// Cost: finding the first line (one span decompressed at most) and reading the lines.
/// With `full`, fewer lines than asked while the pass goes on is "not decompressed yet" (a
/// waiting viewport waits for all its lines, not only the first).
pub fn viewport(
    doc: &CompressedDoc,
    r: &ViewportRequest,
    full: bool,
    cancel: Cancel<'_>,
) -> Result<ViewportResult> {
    let text = &doc.text;
    let total = r.before + r.count;
    let (first, count) = match r.start {
        Start::Line(first) => (first as u64, r.count),
        Start::Offset(at) => {
            let (line, _) = text.line_at(at as u64, cancel).map_err(error_of)?;
            let first = line.saturating_sub(r.before as u64);
            (first, (line - first) as usize + r.count)
        }
        Start::Fraction(f) => {
            let len = text.decoded();
            let at = ((len as f64) * f).floor() as u64;
            let (line, _) = text.line_at(at.min(len), cancel).map_err(error_of)?;
            let first = line.saturating_sub(r.before as u64);
            (first, (line - first) as usize + r.count)
        }
    };
    let count = count.min(total.max(r.count));
    // Bytes kept per line: the window's end at 4 bytes a column, or a whole line's budget.
    let window_end = r
        .window_start
        .saturating_add(r.width)
        .saturating_mul(4)
        .saturating_add(4);
    let keep = r.whole.map_or(window_end, |w| w.max_line.max(window_end));
    let lines = text.lines(first, count, keep, cancel).map_err(error_of)?;
    let short = lines.len() < count || lines.last().is_some_and(|l| !l.len_known);
    if full && short && text.len_known().is_none() {
        return Err(error_of(ZError::NotYet));
    }
    let mut budget = r.whole.map_or(0, |w| w.max_total);
    let mut out = Vec::with_capacity(lines.len());
    for line in &lines {
        let complete = line.len_known && line.text.len() as u64 == line.len;
        let whole = r.whole.is_some_and(|w| {
            complete && line.text.len() <= w.max_line && line.text.len() <= budget
        });
        if whole {
            budget -= line.text.len();
        }
        out.push(line_out(line, r, whole, complete));
    }
    let c = text.line_count();
    Ok(ViewportResult {
        version: 0,
        lines: out,
        width: r.width as u64,
        line_count: LineCount {
            known: c.known,
            estimate: c.estimate,
            exact: c.exact,
        },
        highlights: None,
        highlights_cut: false,
    })
}

/// One line on the wire, cut to the request's window (or whole).
fn line_out(
    line: &tome_compressed::Line,
    r: &ViewportRequest,
    whole: bool,
    complete: bool,
) -> LineOut {
    let kept = &line.text;
    let fetch = |from: usize| {
        move |s: usize, e: usize| {
            kept[(from + s).min(kept.len())..(from + e).min(kept.len())].to_vec()
        }
    };
    let (from, to, start_column) = if whole {
        (0, kept.len(), 0)
    } else {
        let (from, start_column) =
            columns::walk(fetch(0), kept.len(), r.window_start, r.enc, Charset::Utf8);
        let (shown, _) = columns::walk(
            fetch(from),
            kept.len() - from,
            r.width,
            r.enc,
            Charset::Utf8,
        );
        (from, from + shown, start_column)
    };
    let bytes = &kept[from..to];
    let (text, invalid) = decode_lossy(bytes);
    let length = match r.enc {
        PositionEncoding::Utf8 => line.len as usize,
        enc if complete => count_columns(kept, enc),
        // Not all of it kept: an upper bound (its bytes), as plain documents do for very long
        // lines.
        _ => line.len as usize,
    };
    LineOut {
        number: Some(line.number),
        offset: line.start,
        text,
        start_column: start_column as u64,
        length: length as u64,
        byte_length: line.len,
        break_length: line.break_len,
        cut_before: from > 0,
        cut_after: (to as u64) < line.len || !line.len_known,
        invalid,
        base64: (invalid && r.raw_bytes).then(|| base64::encode(bytes)),
        length_known: line.len_known,
    }
}

/// The byte offset of a position. Cost: finding its line and reading it up to the column.
pub fn offset_of(
    doc: &CompressedDoc,
    p: Position,
    enc: PositionEncoding,
    cancel: Cancel<'_>,
) -> Result<u64> {
    let keep = usize_of(p.character)
        .saturating_mul(4)
        .saturating_add(4)
        .min(64 << 20);
    let lines = doc.text.lines(p.line, 1, keep, cancel).map_err(error_of)?;
    let line = lines.first().ok_or_else(|| {
        errors::error(
            errors::OUT_OF_BOUNDS,
            "outOfBounds",
            format!("no line {}", p.line),
        )
    })?;
    let kept = &line.text;
    let (bytes, _) = columns::walk(
        |s, e| kept[s.min(kept.len())..e.min(kept.len())].to_vec(),
        kept.len(),
        usize_of(p.character),
        enc,
        Charset::Utf8, // (compressed documents are read as UTF-8)
    );
    Ok(line.start + bytes as u64)
}

/// `tome/getText` for a compressed document. Cost: a read of the range.
pub fn get_text(
    doc: &CompressedDoc,
    p: &GetTextParams,
    enc: PositionEncoding,
    max: u64,
    cancel: Cancel<'_>,
) -> Result<GetTextResult> {
    let range = match (p.range, p.offsets) {
        (Some(r), None) => {
            offset_of(doc, r.start, enc, cancel)?..offset_of(doc, r.end, enc, cancel)?
        }
        (None, Some(o)) => o.start..o.end,
        _ => return Err(invalid_params("give exactly one of `range` and `offsets`")),
    };
    if range.start > range.end {
        return Err(errors::error(
            errors::OUT_OF_BOUNDS,
            "outOfBounds",
            "the range ends before it starts",
        ));
    }
    let len = range.end - range.start;
    let max = p.max_bytes.unwrap_or(max).min(max);
    if len > max {
        return Err(errors::error(
            errors::OUT_OF_BOUNDS,
            "outOfBounds",
            format!("the range holds {len} bytes, more than {max}: read it in parts"),
        ));
    }
    let bytes = doc.text.read(range.start, len, cancel).map_err(error_of)?;
    let (text, invalid) = decode_lossy(&bytes);
    // Encoded only when the text is not the bytes (a client streaming a file asks for raw
    // bytes throughout; encoding every valid chunk cost more than the read).
    let base64 = (p.raw_bytes && invalid).then(|| base64::encode(&bytes));
    Ok(GetTextResult {
        text,
        bytes: bytes.len() as u64,
        invalid,
        base64,
        version: 0,
    })
}

/// What a search looks for: literal text with `memmem`, anything else with `regex::bytes`
/// (multi-line and CRLF mode, as plain documents; a match never spans two pieces of
/// [`Compressed::chunks`], which end at line feeds).
enum Finder {
    Literal(Box<memchr::memmem::Finder<'static>>),
    Regex(regex::bytes::Regex),
}

impl Finder {
    fn new(q: &QueryIn) -> Result<Finder> {
        if q.word_separators.is_some() {
            return Err(invalid_params(
                "whole-word search is not available on compressed documents",
            ));
        }
        if q.pattern.is_empty() {
            return Err(invalid_params("the pattern is empty"));
        }
        if !q.regex && q.case_sensitive {
            return Ok(Finder::Literal(Box::new(
                memchr::memmem::Finder::new(q.pattern.as_bytes()).into_owned(),
            )));
        }
        if q.pattern.len() > tome_core::search::MAX_REGEX_PATTERN {
            return Err(errors::error(
                errors::PATTERN_TOO_LONG,
                "patternTooLong",
                "the pattern is too long",
            ));
        }
        let pattern = if q.regex {
            q.pattern.clone()
        } else {
            regex::escape(&q.pattern)
        };
        regex::bytes::RegexBuilder::new(&pattern)
            .case_insensitive(!q.case_sensitive)
            .multi_line(true)
            .crlf(true)
            .size_limit(2 << 20)
            .dfa_size_limit(16 << 20)
            .build()
            .map(Finder::Regex)
            .map_err(|e| errors::error(errors::INVALID_REGEX, "invalidRegex", e.to_string()))
    }

    /// Every match in `hay`, in order.
    fn each(&self, hay: &[u8], f: &mut dyn FnMut(Bytes<usize>) -> bool) {
        match self {
            Finder::Literal(m) => {
                let n = m.needle().len();
                for at in m.find_iter(hay) {
                    if !f(at..at + n) {
                        return;
                    }
                }
            }
            Finder::Regex(re) => {
                for m in re.find_iter(hay) {
                    if !f(m.range()) {
                        return;
                    }
                }
            }
        }
    }
}

/// Threads a count uses.
fn threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8)
}

/// `tome/search` for a compressed document: waits for the pass, then searches the line-aligned
/// pieces (counts in parallel, one piece per thread at a time). `progress` gets pieces done.
pub fn search(
    doc: &CompressedDoc,
    p: &SearchParams,
    enc: PositionEncoding,
    cancel: Cancel<'_>,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<SearchResult> {
    let finder = Finder::new(&p.query)?;
    let text = &doc.text;
    let pieces = text.chunks(cancel).map_err(error_of)?;
    let len = pieces.last().map_or(0, |r| r.end);
    let mut result = SearchResult {
        version: 0,
        found: None,
        matches: None,
        resume_at: None,
        count: None,
    };
    let read = |r: &Bytes<u64>| {
        text.read(r.start, r.end - r.start, cancel)
            .map_err(error_of)
    };
    match p.mode {
        SearchMode::Count => {
            let next = AtomicUsize::new(0);
            let total = AtomicUsize::new(0);
            let failed = std::sync::Mutex::new(None);
            std::thread::scope(|s| {
                for _ in 0..threads() {
                    s.spawn(|| loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(piece) = pieces.get(i) else { return };
                        match read(piece) {
                            Ok(bytes) => {
                                let mut n = 0;
                                finder.each(&bytes, &mut |_| {
                                    n += 1;
                                    true
                                });
                                total.fetch_add(n, Ordering::Relaxed);
                                progress(i as u64 + 1, pieces.len() as u64);
                            }
                            Err(e) => {
                                failed
                                    .lock()
                                    .unwrap_or_else(|e| e.into_inner())
                                    .get_or_insert(e);
                                next.store(pieces.len(), Ordering::Relaxed);
                                return;
                            }
                        }
                    });
                }
            });
            if let Some(e) = failed.into_inner().unwrap_or_else(|e| e.into_inner()) {
                return Err(e);
            }
            result.count = Some(total.into_inner() as u64);
        }
        SearchMode::All => {
            let from = start(doc, p, enc, len, cancel)?;
            let range = match p.offsets {
                Some(o) => o.start..o.end.min(len),
                None => from..len,
            };
            let limit = usize_of(p.limit.unwrap_or(1000)).clamp(1, MAX_MATCHES);
            let mut found = Vec::new();
            let mut resume = None;
            for piece in pieces
                .iter()
                .filter(|r| r.end > range.start && r.start < range.end)
            {
                let bytes = read(piece)?;
                let mut lines = LineCounter::new(doc, piece.start, &bytes, enc, cancel)?;
                finder.each(&bytes, &mut |m| {
                    let (s, e) = (piece.start + m.start as u64, piece.start + m.end as u64);
                    if s < range.start || e > range.end {
                        return s < range.end;
                    }
                    if found.len() == limit {
                        resume = Some(s);
                        return false;
                    }
                    found.push(lines.match_out(m));
                    true
                });
                if resume.is_some() {
                    break;
                }
            }
            result.matches = Some(found);
            result.resume_at = Some(resume);
        }
        SearchMode::Next => {
            let backward = p.direction == DirectionIn::Backward;
            let from = start(doc, p, enc, len, cancel)?;
            let hit = find_next(doc, &finder, &pieces, from, backward, enc, cancel, &read)?;
            let hit = match hit {
                None if p.wrap => {
                    let again = if backward { len } else { 0 };
                    find_next(doc, &finder, &pieces, again, backward, enc, cancel, &read)?
                }
                other => other,
            };
            result.found = Some(hit);
        }
    }
    Ok(result)
}

/// The first match starting at or after `from` (forward) or the last one starting before it.
#[allow(clippy::too_many_arguments)]
fn find_next(
    doc: &CompressedDoc,
    finder: &Finder,
    pieces: &[Bytes<u64>],
    from: u64,
    backward: bool,
    enc: PositionEncoding,
    cancel: Cancel<'_>,
    read: &dyn Fn(&Bytes<u64>) -> Result<Vec<u8>>,
) -> Result<Option<MatchOut>> {
    let order: Box<dyn Iterator<Item = &Bytes<u64>>> = if backward {
        Box::new(pieces.iter().rev().filter(|r| r.start < from))
    } else {
        Box::new(
            pieces
                .iter()
                .filter(|r| r.end > from || (r.end == from && from == 0)),
        )
    };
    for piece in order {
        let bytes = read(piece)?;
        let mut best = None;
        finder.each(&bytes, &mut |m| {
            let s = piece.start + m.start as u64;
            if backward {
                if s < from {
                    best = Some(m);
                    true
                } else {
                    false
                }
            } else if s >= from {
                best = Some(m);
                false
            } else {
                true
            }
        });
        if let Some(m) = best {
            let mut lines = LineCounter::new(doc, piece.start, &bytes, enc, cancel)?;
            return Ok(Some(lines.match_out(m)));
        }
    }
    Ok(None)
}

/// Where a search starts.
fn start(
    doc: &CompressedDoc,
    p: &SearchParams,
    enc: PositionEncoding,
    len: u64,
    cancel: Cancel<'_>,
) -> Result<u64> {
    let backward = p.direction == DirectionIn::Backward;
    match &p.from {
        None if backward => Ok(len),
        None => Ok(0),
        Some(From {
            position: Some(pos),
            offset: None,
        }) => offset_of(doc, *pos, enc, cancel),
        Some(From {
            position: None,
            offset: Some(o),
        }) => Ok((*o).min(len)),
        Some(_) => Err(invalid_params(
            "`from` needs exactly one of `position` and `offset`",
        )),
    }
}

/// Positions of matches in one piece, in order: counts line feeds from the piece's start (a
/// line start whose number is looked up once).
struct LineCounter<'a> {
    bytes: &'a [u8],
    base: u64,
    enc: PositionEncoding,
    /// Line number at `at`, and where that line starts (in `bytes`).
    line: u64,
    line_start: usize,
    at: usize,
}

impl<'a> LineCounter<'a> {
    fn new(
        doc: &CompressedDoc,
        base: u64,
        bytes: &'a [u8],
        enc: PositionEncoding,
        cancel: Cancel<'_>,
    ) -> Result<Self> {
        let (line, _) = doc.text.line_at(base, cancel).map_err(error_of)?;
        Ok(LineCounter {
            bytes,
            base,
            enc,
            line,
            line_start: 0,
            at: 0,
        })
    }

    fn position(&mut self, to: usize) -> Position {
        for k in memchr::memchr_iter(b'\n', &self.bytes[self.at..to]) {
            self.line += 1;
            self.line_start = self.at + k + 1;
        }
        self.at = to;
        Position {
            line: self.line,
            character: count_columns(&self.bytes[self.line_start..to], self.enc) as u64,
        }
    }

    fn match_out(&mut self, m: Bytes<usize>) -> MatchOut {
        let start = self.position(m.start);
        // (the end is counted from a copy: the next match may start before it ends' line)
        let mut end_counter = LineCounter { ..*self };
        let end = end_counter.position(m.end);
        MatchOut {
            offsets: Offsets {
                start: self.base + m.start as u64,
                end: self.base + m.end as u64,
            },
            range: Some(Range { start, end }),
        }
    }
}

/// Writes the whole text of `doc` (`len` bytes) into `file`, compressed in `format` if given:
/// a compressed document's "Save As". Progress on `control` (bytes of text written).
/// Errors: the reader's (damage, cancellation) and the writer's, on `target`. Cost:
/// decompresses the text once in order (cached spans are not decompressed again), plus the
/// compression.
pub fn write_copy(
    doc: &CompressedDoc,
    file: &std::fs::File,
    target: &std::path::Path,
    len: u64,
    format: Option<tome_compressed::Format>,
    cancel: &(dyn Fn() -> bool + Sync),
    control: &tome_core::Control,
) -> tome_core::Result<u64> {
    use std::io::Write;
    let out = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut out: Box<dyn WriteFinish> = match format {
        None => Box::new(out),
        Some(f) => Box::new(
            tome_compressed::Encoder::new(f, out)
                .map_err(|e| tome_core::Error::io(target, "cannot write", e))?,
        ),
    };
    let mut failed = None;
    let read = doc.text.for_each_piece(0, len, cancel, &mut |at, bytes| {
        if let Err(e) = out.write_all(bytes) {
            failed = Some(e);
            return false;
        }
        control.set_progress(at + bytes.len() as u64, len);
        true
    });
    if let Some(e) = failed {
        return Err(tome_core::Error::io(target, "cannot write", e));
    }
    read.map_err(|e| match e {
        ZError::Cancelled => tome_core::Error::Cancelled,
        other => tome_core::Error::Io {
            context: format!("cannot read {}", doc.path.display()),
            source: std::io::Error::other(other.to_string()),
        },
    })?;
    out.finish()
        .map_err(|e| tome_core::Error::io(target, "cannot write", e))?;
    Ok(len)
}

/// A writer whose end is written by `finish` (a compressor's trailer, a buffer's flush).
trait WriteFinish: std::io::Write {
    fn finish(self: Box<Self>) -> std::io::Result<()>;
}

impl<W: std::io::Write> WriteFinish for std::io::BufWriter<W> {
    fn finish(mut self: Box<Self>) -> std::io::Result<()> {
        std::io::Write::flush(&mut *self)
    }
}

impl<W: std::io::Write> WriteFinish for tome_compressed::Encoder<W> {
    fn finish(self: Box<Self>) -> std::io::Result<()> {
        std::io::Write::flush(&mut tome_compressed::Encoder::finish(*self)?)
    }
}
