//! Reading: `tome/viewport` (lines cut to a column window, waiting for the index if asked)
//! and `tome/getText` (the text of a range, for copying).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tome_core::{
    ColumnWindow, Control, Document, Error as CoreError, PositionEncoding, WholeLines,
};
use tower_lsp_server::jsonrpc::Result;

use super::{blocking, check_version, outcome, Backend, CancelOnDrop};
use crate::base64;
use crate::convert::{byte_range, line_count, usize_of, window_of, Start, ViewportRequest};
use crate::errors::{self, from_core, invalid_params};
use crate::highlights::MAX_HIGHLIGHTS;
use crate::protocol::*;
use tome_core::highlight::RuleSet;

/// How often a viewport waiting for the index looks again.
const INDEX_POLL: std::time::Duration = std::time::Duration::from_millis(10);

/// About how many bytes of JSON a viewport reply takes (for flow control).
fn viewport_bytes(v: &ViewportResult) -> usize {
    let line = |l: &LineOut| l.text.len() + l.base64.as_ref().map_or(0, String::len) + 200;
    let marks = v.highlights.as_ref().map_or(0, |h| h.len() * 60);
    v.lines.iter().map(line).sum::<usize>() + marks + 200
}

/// Reads the viewport `r` asks for, with the matches of `rules` on its lines.
fn read_viewport(
    doc: &mut Document,
    r: &ViewportRequest,
    rules: Option<&RuleSet>,
) -> Result<ViewportResult> {
    doc.poll_index();
    let view = doc.view();
    // A zero-width window: the engine finds each line's bounds without copying its text. It
    // starts where the requested window ends at the latest (a column is at most 4 bytes), so
    // that a line longer than that is not read further while the index has not found its end.
    let need = r.window_start.saturating_add(r.width).saturating_mul(4);
    let probe = Some(ColumnWindow {
        start: need,
        len: 0,
    });
    let lines = match r.start {
        Start::Line(first) => view.lines_whole(first, r.count, probe, r.whole),
        Start::Offset(at) => view.lines_around_whole(at, r.before, r.count, probe, r.whole),
        Start::Fraction(f) => {
            let at = ((view.len() as f64) * f).floor() as usize;
            view.lines_around_whole(at.min(view.len()), r.before, r.count, probe, r.whole)
        }
    }
    .map_err(from_core)?;
    let mut out = Vec::with_capacity(lines.len());
    let mut marks = rules.map(|_| Vec::new());
    let mut highlights_cut = false;
    for (index, line) in lines.iter().enumerate() {
        let (shown, bytes) = window_of(&view, line, r)?;
        if let (Some(rules), Some(marks)) = (rules, marks.as_mut()) {
            if !highlights_cut {
                let start = usize_of(shown.start_column);
                highlights_cut = !highlight(&view, rules, line, bytes, r.enc, start, index, marks)?;
            }
        }
        out.push(shown);
    }
    // Every read above went through the mapping: if a page of it was lost meanwhile (the file
    // truncated under it), the zeros read are not shown (`fileChanged`).
    view.intact().map_err(from_core)?;
    Ok(ViewportResult {
        version: doc.version(),
        lines: out,
        width: r.width as u64,
        line_count: line_count(&view),
        highlights: marks,
        highlights_cut,
    })
}

/// Appends the matches of `rules` on bytes `bytes` of `line` (the `index`th line of a reply,
/// its shown text starting at column `start_column` in `enc`) to `marks`; false once
/// [`MAX_HIGHLIGHTS`] is reached. Also `tome/filterLines`' (see `super::filter`).
#[allow(clippy::too_many_arguments)] // (each is one fact about the line; a struct would only rename them)
pub(super) fn highlight(
    view: &tome_core::View<'_>,
    rules: &RuleSet,
    line: &tome_core::Line,
    bytes: std::ops::Range<usize>,
    enc: PositionEncoding,
    start_column: usize,
    index: usize,
    marks: &mut Vec<HighlightOut>,
) -> Result<bool> {
    let mut found = Vec::new();
    let limit = MAX_HIGHLIGHTS - marks.len();
    let complete = rules
        .highlight_line(view, line, bytes, enc, start_column, limit, &mut found)
        .map_err(from_core)?;
    marks.extend(found.into_iter().map(|h| HighlightOut {
        rule: h.rule as u64,
        line: index as u64,
        start: h.start as u64,
        end: h.end as u64,
    }));
    Ok(complete && marks.len() < MAX_HIGHLIGHTS)
}

/// The most `tome/getText` returns at once.
pub(super) const MAX_TEXT_BYTES: u64 = 16 << 20;

fn read_text(doc: &Document, p: GetTextParams, enc: PositionEncoding) -> Result<GetTextResult> {
    check_version(doc, p.version)?;
    let view = doc.view();
    let range = byte_range(&view, p.range, p.offsets, enc)?;
    let max = p.max_bytes.unwrap_or(MAX_TEXT_BYTES).min(MAX_TEXT_BYTES);
    let len = (range.end - range.start) as u64;
    if len > max {
        return Err(errors::error(
            errors::OUT_OF_BOUNDS,
            "outOfBounds",
            format!("the range holds {len} bytes, more than {max}: read it in parts"),
        ));
    }
    let bytes = view.read(range.start, range.end).map_err(from_core)?;
    // The viewport's rule (one U+FFFD per invalid byte), so a copy is what the user sees.
    // The raw bytes are encoded only when the text is not them (a client streaming a file asks
    // for raw bytes throughout: encoding every valid chunk cost more than reading it). The
    // decode consumes the bytes, so a copy is kept for that case.
    let raw = p.raw_bytes.then(|| bytes.clone());
    let (text, invalid) = view.charset().decode_lossy_owned(bytes);
    let base64 = raw.filter(|_| invalid).map(|b| base64::encode(&b));
    Ok(GetTextResult {
        text,
        bytes: len,
        invalid,
        base64,
        version: doc.version(),
    })
}

impl Backend {
    /// `tome/getText`: the text of a range, in queue order (it sees every change sent before).
    pub async fn get_text(&self, p: GetTextParams) -> Result<GetTextResult> {
        if let Some(doc) = self.docs.compressed(p.doc) {
            return self.get_text_compressed(doc, p, MAX_TEXT_BYTES).await;
        }
        let handle = self.docs.get(p.doc)?;
        let enc = self.enc();
        let backlog = Arc::clone(&self.backlog);
        let (text, _made) = outcome(handle.submit(move |doc| {
            let text = read_text(doc, p, enc)?;
            // Counted as output from now on (flow control): see `Backlog::reserve`.
            let made =
                backlog.reserve(text.text.len() + text.base64.as_ref().map_or(0, String::len));
            Ok((text, made))
        })?)
        .await?;
        Ok(text)
    }

    /// What `tome/viewport`'s params ask for, checked (errors: invalid params) before any
    /// document is looked at.
    pub fn viewport_request(&self, p: &ViewportParams) -> Result<ViewportRequest> {
        let start = match (p.first, p.around, p.fraction) {
            (Some(l), None, None) => Start::Line(usize_of(l)),
            (None, Some(o), None) => Start::Offset(usize_of(o)),
            (None, None, Some(f)) if (0.0..=1.0).contains(&f) => Start::Fraction(f),
            (None, None, Some(f)) => {
                return Err(invalid_params(format!("`fraction` {f} is not in [0, 1]")))
            }
            _ => {
                return Err(invalid_params(
                    "give exactly one of `first`, `around` and `fraction`",
                ))
            }
        };
        let count = usize_of(p.count).min(MAX_VIEWPORT_LINES);
        let before = match start {
            Start::Line(_) => 0,
            _ => usize_of(p.before).min(MAX_VIEWPORT_LINES - count),
        };
        let max_width = MAX_WINDOW_WIDTH.min(MAX_VIEWPORT_CELLS / (count + before).max(1));
        let window = p.window.unwrap_or(Window {
            start: 0,
            width: None,
            unit: Unit::Encoding,
        });
        Ok(ViewportRequest {
            start,
            count,
            before,
            window_start: usize_of(window.start),
            width: window
                .width
                .map_or(max_width, |w| usize_of(w).min(max_width)),
            enc: match window.unit {
                Unit::Bytes => PositionEncoding::Utf8,
                Unit::Encoding => self.enc(),
            },
            whole: p.whole_lines.map(|w| WholeLines {
                max_line: usize_of(w.max_line_bytes).min(MAX_WHOLE_BYTES),
                max_total: usize_of(w.max_bytes).min(MAX_WHOLE_BYTES),
            }),
            raw_bytes: p.raw_bytes,
        })
    }

    /// `tome/viewport`.
    pub async fn viewport(&self, p: ViewportParams) -> Result<ViewportResult> {
        if let Some(doc) = self.docs.compressed(p.doc) {
            return self.viewport_compressed(doc, &p).await;
        }
        let handle = self.docs.get(p.doc)?;
        let req = self.viewport_request(&p)?;
        let start = req.start;
        // The rules as set when the request arrived.
        let rules = p
            .highlights
            .then(|| self.highlights.for_doc(p.doc))
            .flatten();
        let rules2 = rules.clone();
        // First try in queue order, so the lines reflect every change sent before. The lines
        // count as output from when they are read (flow control: see `Backlog::reserve`).
        let backlog = Arc::clone(&self.backlog);
        let first_try = outcome(handle.submit(move |doc| {
            Ok(read_viewport(doc, &req, rules.as_deref()).map(|v| {
                let made = backlog.reserve(viewport_bytes(&v));
                (v, made)
            }))
        })?)
        .await?;
        let wait = p.wait && matches!(start, Start::Line(_));
        match first_try {
            Ok((lines, _made)) => return Ok(lines),
            Err(e) if wait && e.code.code() == errors::NOT_INDEXED_YET => {}
            Err(e) => return Err(e),
        }
        // The line lies beyond the index: wait for it, without blocking the document's queue.
        let control = Arc::new(Control::new());
        let _guard = CancelOnDrop(Arc::clone(&control));
        let backlog = Arc::clone(&self.backlog);
        blocking(move || loop {
            if handle.closed.load(Ordering::Acquire) {
                return Err(errors::unknown_document(handle.id));
            }
            // Flow control, as on the document's worker.
            backlog.wait_for_room_blocking();
            match read_viewport(&mut handle.lock(), &req, rules2.as_deref()) {
                Err(e) if e.code.code() == errors::NOT_INDEXED_YET => {}
                Err(e) => return Err(e),
                Ok(v) => {
                    let made = backlog.reserve(viewport_bytes(&v));
                    return Ok((v, made));
                }
            }
            if control.is_cancelled() {
                return Err(from_core(CoreError::Cancelled));
            }
            std::thread::sleep(INDEX_POLL);
        })
        .await
        .map(|(lines, _made)| lines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tome_core::decode_lossy;

    /// What `tome/getText` returns for a copy is what `tome/viewport` shows: one U+FFFD per
    /// invalid byte (`a\xE2\x82b` is four columns on screen, so four characters copied).
    #[test]
    fn get_text_shows_invalid_bytes_as_the_viewport_does() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.txt");
        let bytes = b"a\xE2\x82b \xF0\x9F\x98 \xFF\xFE end\n";
        std::fs::write(&path, bytes).unwrap();
        let mut doc = Document::open(&path).unwrap();
        doc.wait_for_index(&Control::new()).unwrap();
        let line_len = bytes.len() - 1;
        let got = read_text(
            &doc,
            GetTextParams {
                doc: 1,
                version: None,
                range: None,
                offsets: Some(Offsets {
                    start: 0,
                    end: line_len as u64,
                }),
                max_bytes: None,
                raw_bytes: true,
            },
            PositionEncoding::Utf16,
        )
        .unwrap();
        let shown = &doc.view().lines(0, 1, None).unwrap()[0];
        assert_eq!(got.text, shown.text);
        assert_eq!(
            got.text,
            "a\u{FFFD}\u{FFFD}b \u{FFFD}\u{FFFD}\u{FFFD} \u{FFFD}\u{FFFD} end"
        );
        assert!(got.invalid && shown.invalid);
        assert_eq!(
            base64::decode(got.base64.as_deref().unwrap()).unwrap(),
            &bytes[..line_len]
        );
        assert_eq!(got.bytes, line_len as u64);
    }

    fn request(whole: Option<WholeLines>, raw_bytes: bool) -> ViewportRequest {
        ViewportRequest {
            start: Start::Line(0),
            count: 10,
            before: 0,
            window_start: 0,
            width: 8,
            enc: PositionEncoding::Utf8,
            whole,
            raw_bytes,
        }
    }

    /// `rawBytes`: invalid lines carry their exact bytes (whole or cut to the window); valid
    /// ones do not. `wholeLines`: lines within the budget come whole, past the window.
    #[test]
    fn viewport_sends_exact_bytes_and_whole_lines_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.txt");
        let long = "y".repeat(40);
        let bytes = format!(
            "ok
bad \u{1}{long}\nlast line, valid\n"
        )
        .into_bytes();
        let mut bytes = bytes;
        // line 1: "bad " then \xFF\xFE in place of the \u{1}
        let at = bytes.iter().position(|&b| b == 1).unwrap();
        bytes.splice(at..at + 1, *b"\xFF\xFE");
        std::fs::write(&path, &bytes).unwrap();
        let mut doc = Document::open(&path).unwrap();
        doc.wait_for_index(&Control::new()).unwrap();
        let line1 = &bytes[3..bytes.iter().skip(3).position(|&b| b == b'\n').unwrap() + 3];

        // Neither: as before (cut to 8 columns, no bytes).
        let v = read_viewport(&mut doc, &request(None, false), None).unwrap();
        assert_eq!(v.lines[1].text, "bad \u{FFFD}\u{FFFD}yy");
        assert!(v.lines[1].cut_after && v.lines[1].base64.is_none());

        // rawBytes: the window's exact bytes; valid lines carry none.
        let v = read_viewport(&mut doc, &request(None, true), None).unwrap();
        let raw = base64::decode(v.lines[1].base64.as_deref().unwrap()).unwrap();
        assert_eq!(raw, &line1[..8]);
        assert!(v.lines[0].base64.is_none() && v.lines[2].base64.is_none());

        // Both: the whole line, exactly; a budget too small for line 1 cuts it again.
        let whole = WholeLines {
            max_line: 1000,
            max_total: 1000,
        };
        let v = read_viewport(&mut doc, &request(Some(whole), true), None).unwrap();
        let l = &v.lines[1];
        assert!(!l.cut_after && l.invalid);
        assert_eq!(base64::decode(l.base64.as_deref().unwrap()).unwrap(), line1);
        assert_eq!(l.length, line1.len() as u64);
        assert_eq!(v.lines[2].text, "last line, valid");
        let small = WholeLines {
            max_line: 20,
            max_total: 1000,
        };
        let v = read_viewport(&mut doc, &request(Some(small), true), None).unwrap();
        assert!(v.lines[1].cut_after);
        assert_eq!(v.lines[2].text, "last line, valid", "16 bytes: whole");
        assert!(!v.lines[2].cut_after);
    }

    /// Highlights of a window cut out of generated lines (multi-byte characters, invalid
    /// bytes, CRLF, lone CR) in UTF-16 columns: each match that a plain regex scan of the whole
    /// line finds, clipped to the columns the line's `text` covers; `line` indexes `lines`.
    #[test]
    fn viewport_highlights_equal_a_regex_scan_clipped_to_the_window() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gen.log");
        let pieces: [&[u8]; 6] = [
            b"ERROR ",
            b"req=7f3a ",
            "d\u{e9}j\u{e0} \u{1F980} ".as_bytes(),
            b"\xFF\xE2\x82 ",
            b"error ",
            b"ok ",
        ];
        let mut bytes = Vec::new();
        for n in 0..300usize {
            for k in 0..(n % 17) {
                bytes.extend_from_slice(pieces[(n * 7 + k * 3) % pieces.len()]);
            }
            bytes.extend_from_slice([&b"\n"[..], b"\r\n", b"\r"][n % 3]);
        }
        std::fs::write(&path, &bytes).unwrap();
        let mut doc = Document::open(&path).unwrap();
        doc.wait_for_index(&Control::new()).unwrap();
        let specs = [
            ("ERROR", false, true),
            (r"req=[0-9a-f]+", true, true),
            ("\u{1F980}", false, true),
            ("error", false, false),
        ];
        let rules: Vec<tome_core::highlight::Rule> = specs
            .iter()
            .map(|&(p, regex, cs)| tome_core::highlight::Rule {
                pattern: p.into(),
                regex,
                case_sensitive: cs,
                whole_word: false,
            })
            .collect();
        let set = RuleSet::new(&rules).unwrap();
        let oracles: Vec<regex::bytes::Regex> = specs
            .iter()
            .map(|&(p, regex, cs)| {
                let p = if regex {
                    p.to_string()
                } else {
                    regex::escape(p)
                };
                regex::bytes::RegexBuilder::new(&p)
                    .case_insensitive(!cs)
                    .build()
                    .unwrap()
            })
            .collect();
        let utf16 = |b: &[u8]| decode_lossy(b).0.encode_utf16().count() as u64;
        let req = ViewportRequest {
            start: Start::Line(0),
            count: 300,
            before: 0,
            window_start: 5,
            width: 30,
            enc: PositionEncoding::Utf16,
            whole: None,
            raw_bytes: false,
        };
        let v = read_viewport(&mut doc, &req, Some(&set)).unwrap();
        let got = v.highlights.unwrap();
        let mut want = Vec::new();
        for (i, line) in v.lines.iter().enumerate() {
            let raw = doc
                .view()
                .read(
                    line.offset as usize,
                    (line.offset + line.byte_length) as usize,
                )
                .unwrap();
            let (from, to) = (
                line.start_column,
                line.start_column + utf16(line.text.as_bytes()),
            );
            for (rule, re) in oracles.iter().enumerate() {
                for m in re.find_iter(&raw) {
                    let (s, e) = (utf16(&raw[..m.start()]), utf16(&raw[..m.end()]));
                    if s < to && e > from {
                        want.push(HighlightOut {
                            rule: rule as u64,
                            line: i as u64,
                            start: s.max(from),
                            end: e.min(to),
                        });
                    }
                }
            }
        }
        assert!(want.len() > 300, "matches in the window: {}", want.len());
        assert!(want.iter().any(|h| h.rule == 2), "a crab is shown");
        assert_eq!(got, want);
        assert!(!v.highlights_cut);
        // Without rules: no `highlights` at all.
        assert!(read_viewport(&mut doc, &req, None)
            .unwrap()
            .highlights
            .is_none());
    }
}
