//! Wire ↔ engine conversions: protocol positions, ranges, queries and viewport windows into
//! the engine's byte offsets and types, and engine documents, lines and matches into the
//! protocol's results. Pure functions of a [`View`] or [`Document`]: no locking, no waiting.

use tome_core::{
    count_columns, Charset, Document, Edit, PositionEncoding, Query, View, WordSeparators,
};
use tower_lsp_server::jsonrpc::Result;

use crate::base64;
use crate::columns;
use crate::errors::{self, from_core, invalid_params};
use crate::protocol::*;

/// Lines longer than this (in bytes) get no `length` in UTF-16/UTF-32 units: computing it
/// would read the whole line for every viewport.
const MAX_COUNTED_LINE: usize = 1 << 20;

/// A client's number as a `usize`, saturating (a huge number is out of bounds, never wraps).
pub fn usize_of(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// The engine's query for a request's `query`.
pub fn query(q: &QueryIn) -> Query {
    Query {
        pattern: q.pattern.clone(),
        regex: q.regex,
        case_insensitive: !q.case_sensitive,
    }
}

/// The longest `wordSeparators` a query may give, in characters.
const MAX_WORD_SEPARATORS: usize = 1024;

/// The whole-word rule of a request's `query`, if it gives one. Errors: -32602 past
/// [`MAX_WORD_SEPARATORS`] characters.
pub fn word_separators(q: &QueryIn) -> Result<Option<WordSeparators>> {
    match &q.word_separators {
        Some(s) if s.chars().count() > MAX_WORD_SEPARATORS => Err(invalid_params(format!(
            "`wordSeparators` has more than {MAX_WORD_SEPARATORS} characters"
        ))),
        Some(s) => Ok(Some(WordSeparators::new(s))),
        None => Ok(None),
    }
}

/// The wire form of the view's line count (known, estimate, exact).
pub fn line_count(view: &View<'_>) -> LineCount {
    let c = view.line_count();
    LineCount {
        known: c.known as u64,
        estimate: c.estimate as u64,
        exact: c.exact,
    }
}

/// `tome/info`'s answer for document `id`, with `token` as its indexing progress token;
/// `recovery` and `warnings` are left for `tome/open` to fill in.
pub fn info_of(id: u64, doc: &mut Document, token: Option<String>) -> DocInfo {
    doc.poll_index();
    let progress = doc.index_progress();
    let (undo, redo) = doc.history_len();
    DocInfo {
        doc: id,
        path: doc
            .path()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        size: doc.len() as u64,
        line_count: line_count(&doc.view()),
        index_complete: progress.complete,
        index_percent: progress.percent(),
        line_ending: doc.line_ending().name(),
        encoding: doc.encoding().name(),
        read_only: doc.is_read_only(),
        snapshot: doc.is_snapshot(),
        version: doc.version(),
        dirty: doc.is_dirty(),
        undo_steps: undo as u64,
        redo_steps: redo as u64,
        index_progress_token: token,
        recovery: None,
        index_cache: None,
        warnings: Vec::new(),
        journal_error: doc.journal_failure(),
        bookmarks: None,
        bookmarks_dropped: None,
        viewport: None,
        compression: None,
        compression_error: None,
    }
}

/// What a viewport asks for, validated.
#[derive(Clone, Copy)]
pub struct ViewportRequest {
    pub start: Start,
    pub count: usize,
    pub before: usize,
    pub window_start: usize,
    pub width: usize,
    pub enc: PositionEncoding,
    /// Lines sent whole when short enough (`wholeLines`).
    pub whole: Option<tome_core::WholeLines>,
    /// Send the exact bytes of `invalid` lines (`rawBytes`).
    pub raw_bytes: bool,
}

/// Where a viewport starts: a line, the line around an offset, or a fraction of the length.
#[derive(Clone, Copy)]
pub enum Start {
    Line(usize),
    Offset(usize),
    Fraction(f64),
}

/// Cuts `line` to the request's column window and decodes it (a line the engine read whole
/// under `wholeLines` is sent whole); also says which bytes of the line `text` shows. A read
/// that fails (the file was truncated under the mapping meanwhile) fails the whole line, never
/// shows it empty.
pub fn window_of(
    view: &View<'_>,
    line: &tome_core::Line,
    r: &ViewportRequest,
) -> Result<(LineOut, std::ops::Range<usize>)> {
    if line.whole {
        return Ok((whole_line(view, line, r)?, 0..line.len));
    }
    let (start, len) = (line.start, line.len);
    // The column walks take plain byte reads: the first failure is kept and answered after.
    let failed = std::cell::RefCell::new(None);
    let fetch = |from: usize| {
        let failed = &failed;
        move |s: usize, e: usize| match view.read(start + from + s, start + from + e) {
            Ok(bytes) => bytes,
            Err(err) => {
                failed.borrow_mut().get_or_insert(err);
                Vec::new()
            }
        }
    };
    let cs = view.charset();
    let (from, start_column) = columns::walk(fetch(0), len, r.window_start, r.enc, cs);
    let (shown, _) = columns::walk(fetch(from), len - from, r.width, r.enc, cs);
    let to = from + shown;
    let bytes = view.read(start + from, start + to).map_err(from_core)?;
    let (text, invalid) = cs.decode_lossy(&bytes);
    let base64 = (invalid && r.raw_bytes).then(|| base64::encode(&bytes));
    let length = match r.enc {
        PositionEncoding::Utf8 if cs.is_utf8() => len,
        // Not read to its end yet: a lower bound (documented).
        _ if !line.len_known => start_column + cs.count_columns(&bytes, r.enc),
        _ if from == 0 && to == len => start_column + cs.count_columns(&bytes, r.enc),
        _ if len <= MAX_COUNTED_LINE => columns::count(fetch(0), len, r.enc, cs),
        // Documented: an upper bound for very long lines (4 columns a byte at most).
        _ if cs.is_utf8() => len,
        _ => len.saturating_mul(4),
    };
    if let Some(err) = failed.into_inner() {
        return Err(from_core(err));
    }
    let out = LineOut {
        number: line.number.map(|n| n as u64),
        offset: start as u64,
        text,
        start_column: start_column as u64,
        length: length as u64,
        byte_length: len as u64,
        break_length: line.break_len as u8,
        cut_before: from > 0,
        cut_after: to < len || !line.len_known,
        invalid,
        base64,
        length_known: line.len_known,
    };
    Ok((out, from..to))
}

/// A line the engine read whole: its text is already decoded.
fn whole_line(view: &View<'_>, line: &tome_core::Line, r: &ViewportRequest) -> Result<LineOut> {
    let base64 = match line.invalid && r.raw_bytes {
        true => Some(base64::encode(
            &view
                .read(line.start, line.start + line.len)
                .map_err(from_core)?,
        )),
        false => None,
    };
    // (Each invalid byte is one U+FFFD in the text: one UTF-16 or UTF-32 unit, as the byte
    // counts; in UTF-8 columns are the line's bytes.)
    // (In another encoding than UTF-8, the decoded text's columns: `text` is decoded.)
    let length = match r.enc {
        PositionEncoding::Utf8 if view.charset().is_utf8() => line.len,
        enc => count_columns(line.text.as_bytes(), enc),
    };
    Ok(LineOut {
        number: line.number.map(|n| n as u64),
        offset: line.start as u64,
        text: line.text.clone(),
        start_column: 0,
        length: length as u64,
        byte_length: line.len as u64,
        break_length: line.break_len as u8,
        cut_before: false,
        cut_after: false,
        invalid: line.invalid,
        base64,
        length_known: line.len_known,
    })
}

/// The bytes an edit inserts: its `text`, or its `base64` decoded (exactly one of them).
/// `index` names the edit in messages.
pub fn edit_bytes(e: &mut EditIn, index: usize, charset: Charset) -> Result<Vec<u8>> {
    match (e.text.take(), e.base64.take()) {
        (Some(text), None) if charset.is_utf8() => Ok(text.into_bytes()),
        // Written in the document's encoding; a character it cannot represent refuses the
        // edit (never replaced silently).
        (Some(text), None) => charset.encode(&text).map_err(|character| {
            from_core(tome_core::Error::Unrepresentable {
                encoding: charset.name().to_owned(),
                character,
                what: format!(", in edit {index}"),
            })
        }),
        (None, Some(coded)) => base64::decode(&coded).map_err(|why| {
            invalid_params(format!("`base64` of edit {index} is not base64: {why}"))
        }),
        _ => Err(invalid_params(format!(
            "edit {index}: give exactly one of `text` and `base64`"
        ))),
    }
}

/// Converts one edit to byte offsets on the current version.
pub fn edit_offsets(
    view: &View<'_>,
    mut e: EditIn,
    index: usize,
    enc: PositionEncoding,
) -> Result<Edit> {
    let text = edit_bytes(&mut e, index, view.charset())?;
    Ok(Edit {
        range: byte_range(view, e.range, e.offsets, enc)?,
        text,
    })
}

/// The byte range a request names by `range` (positions) or `offsets`, exactly one of them.
pub fn byte_range(
    view: &View<'_>,
    range: Option<Range>,
    offsets: Option<Offsets>,
    enc: PositionEncoding,
) -> Result<std::ops::Range<usize>> {
    let range = match (range, offsets) {
        (Some(r), None) => {
            let at = |p: Position| {
                view.offset_of(
                    tome_core::Position {
                        line: usize_of(p.line),
                        column: usize_of(p.character),
                    },
                    enc,
                )
                .map_err(from_core)
            };
            at(r.start)?..at(r.end)?
        }
        (None, Some(o)) => usize_of(o.start)..usize_of(o.end),
        _ => return Err(invalid_params("give exactly one of `range` and `offsets`")),
    };
    if range.start > range.end {
        return Err(errors::error(
            errors::OUT_OF_BOUNDS,
            "outOfBounds",
            format!(
                "the range ends ({}) before it starts ({})",
                range.end, range.start
            ),
        ));
    }
    Ok(range)
}

/// The wire form of a match: its byte offsets and, when they can be computed, its positions.
pub fn match_out(view: &View<'_>, r: std::ops::Range<usize>, enc: PositionEncoding) -> MatchOut {
    let pos = |at: usize| {
        view.position_of(at, enc).ok().map(|p| Position {
            line: p.line as u64,
            character: p.column as u64,
        })
    };
    let range = match (pos(r.start), pos(r.end)) {
        (Some(start), Some(end)) => Some(Range { start, end }),
        _ => None,
    };
    MatchOut {
        offsets: Offsets {
            start: r.start as u64,
            end: r.end as u64,
        },
        range,
    }
}

/// The byte offset a search starts from: `from`'s position or offset, exactly one of them.
pub fn start_offset(view: &View<'_>, f: From, enc: PositionEncoding) -> Result<usize> {
    match f {
        From {
            position: Some(pos),
            offset: None,
        } => view
            .offset_of(
                tome_core::Position {
                    line: usize_of(pos.line),
                    column: usize_of(pos.character),
                },
                enc,
            )
            .map_err(from_core),
        From {
            position: None,
            offset: Some(o),
        } => Ok(usize_of(o)),
        _ => Err(invalid_params(
            "`from` needs exactly one of `position` and `offset`",
        )),
    }
}

/// The engine's filter tree for a request's `query` (see docs/protocol.md, `tome/filter`):
/// a leaf `{"pattern", "regex"?, "caseSensitive"?, "wholeWord"?}`, `{"and": [..]}`,
/// `{"or": [..]}` or `{"not": q}`. The depth is bounded while parsing (no recursion past
/// [`tome_core::filter::MAX_DEPTH`]); the engine bounds the number of leaves.
pub fn filter_query(v: &serde_json::Value) -> Result<tome_core::filter::FilterQuery> {
    use tome_core::filter::{FilterQuery, MAX_DEPTH};
    fn parse(v: &serde_json::Value, depth: usize) -> Result<FilterQuery> {
        if depth > MAX_DEPTH {
            return Err(errors::error(
                errors::INVALID_REGEX,
                "invalidRegex",
                format!("the filter query is nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        let obj = v
            .as_object()
            .ok_or_else(|| invalid_params("a filter query is an object"))?;
        let list = |key: &str| -> Result<Vec<FilterQuery>> {
            obj[key]
                .as_array()
                .ok_or_else(|| invalid_params(format!("`{key}` takes an array of queries")))?
                .iter()
                .map(|c| parse(c, depth + 1))
                .collect()
        };
        let flag = |key: &str, default: bool| -> Result<bool> {
            match obj.get(key) {
                None => Ok(default),
                Some(b) => b
                    .as_bool()
                    .ok_or_else(|| invalid_params(format!("`{key}` is a boolean"))),
            }
        };
        let kinds = ["pattern", "and", "or", "not"]
            .iter()
            .filter(|k| obj.contains_key(**k))
            .count();
        if kinds != 1 {
            return Err(invalid_params(
                "a filter query has exactly one of `pattern`, `and`, `or`, `not`",
            ));
        }
        if obj.contains_key("and") {
            return Ok(FilterQuery::And(list("and")?));
        }
        if obj.contains_key("or") {
            return Ok(FilterQuery::Or(list("or")?));
        }
        if let Some(inner) = obj.get("not") {
            return Ok(FilterQuery::Not(Box::new(parse(inner, depth + 1)?)));
        }
        let pattern = obj["pattern"]
            .as_str()
            .ok_or_else(|| invalid_params("`pattern` is a string"))?;
        Ok(FilterQuery::Match {
            query: Query {
                pattern: pattern.to_owned(),
                regex: flag("regex", false)?,
                case_insensitive: !flag("caseSensitive", true)?,
            },
            whole_word: flag("wholeWord", false)?,
        })
    }
    parse(v, 1)
}

/// The wire form of a document's bookmarks, by name, at their current offsets.
pub fn bookmarks_out(
    view: &View<'_>,
    bookmarks: &tome_core::Bookmarks,
    enc: PositionEncoding,
) -> Vec<BookmarkOut> {
    bookmarks
        .iter()
        .map(|(name, at)| BookmarkOut {
            name: name.to_owned(),
            offset: at as u64,
            position: view.position_of(at, enc).ok().map(|p| Position {
                line: p.line as u64,
                character: p.column as u64,
            }),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(text: Option<&str>, coded: Option<&str>) -> EditIn {
        EditIn {
            range: None,
            offsets: Some(Offsets { start: 0, end: 0 }),
            text: text.map(Into::into),
            base64: coded.map(Into::into),
        }
    }

    #[test]
    fn an_edit_in_a_legacy_encoding_is_written_in_it_or_refused() {
        let sjis = tome_core::Encoding::from_label("shift_jis", false)
            .unwrap()
            .charset();
        assert_eq!(
            edit_bytes(&mut edit(Some("aあ"), None), 0, sjis).unwrap(),
            b"a\x82\xa0"
        );
        // Exact bytes stay exact.
        assert_eq!(
            edit_bytes(&mut edit(None, Some("Yf/+Yg==")), 0, sjis).unwrap(),
            b"a\xFF\xFEb"
        );
        let e = edit_bytes(&mut edit(Some("x€"), None), 2, sjis).unwrap_err();
        assert_eq!(e.code.code(), -33021);
        assert_eq!(
            e.message,
            "Shift_JIS cannot represent '€' (U+20AC), in edit 2"
        );
        assert_eq!(e.data.unwrap()["kind"], "unrepresentable");
    }

    #[test]
    fn an_edit_inserts_text_or_exact_bytes() {
        assert_eq!(
            edit_bytes(&mut edit(Some("é"), None), 0, Charset::Utf8).unwrap(),
            "é".as_bytes()
        );
        assert_eq!(
            edit_bytes(&mut edit(None, Some("Yf/+Yg==")), 0, Charset::Utf8).unwrap(),
            b"a\xFF\xFEb"
        );
        let bad = edit_bytes(&mut edit(None, Some("YW!=")), 3, Charset::Utf8).unwrap_err();
        assert_eq!(bad.code.code(), -32602);
        assert_eq!(
            bad.message,
            "`base64` of edit 3 is not base64: it has a character outside base64 at 2"
        );
        for neither_or_both in [edit(None, None), edit(Some("a"), Some("YQ=="))] {
            let e = edit_bytes(&mut { neither_or_both }, 1, Charset::Utf8).unwrap_err();
            assert_eq!(e.code.code(), -32602);
            assert_eq!(e.message, "edit 1: give exactly one of `text` and `base64`");
        }
    }
}
