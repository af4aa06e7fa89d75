//! Reading: `tome/viewport` (lines cut to a column window, waiting for the index if asked)
//! and `tome/getText` (the text of a range, for copying).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tome_core::{
    decode_lossy_owned, ColumnWindow, Control, Document, Error as CoreError, PositionEncoding,
};
use tower_lsp_server::jsonrpc::Result;

use super::{blocking, check_version, outcome, Backend, CancelOnDrop};
use crate::convert::{byte_range, line_count, usize_of, window_of, Start, ViewportRequest};
use crate::errors::{self, from_core, invalid_params};
use crate::protocol::*;

/// How often a viewport waiting for the index looks again.
const INDEX_POLL: std::time::Duration = std::time::Duration::from_millis(10);

/// About how many bytes of JSON a viewport reply takes (for flow control).
fn viewport_bytes(v: &ViewportResult) -> usize {
    v.lines.iter().map(|l| l.text.len() + 200).sum::<usize>() + 200
}

fn read_viewport(doc: &mut Document, r: &ViewportRequest) -> Result<ViewportResult> {
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
        Start::Line(first) => view.lines(first, r.count, probe),
        Start::Offset(at) => view.lines_around(at, r.before, r.count, probe),
        Start::Fraction(f) => {
            let at = ((view.len() as f64) * f).floor() as usize;
            view.lines_around(at.min(view.len()), r.before, r.count, probe)
        }
    }
    .map_err(from_core)?;
    let mut out = Vec::with_capacity(lines.len());
    for line in lines {
        out.push(window_of(&view, &line, r)?);
    }
    // Every read above went through the mapping: if a page of it was lost meanwhile (the file
    // truncated under it), the zeros read are not shown (`fileChanged`).
    view.intact().map_err(from_core)?;
    Ok(ViewportResult {
        version: doc.version(),
        lines: out,
        width: r.width as u64,
        line_count: line_count(&view),
    })
}

/// The most `tome/getText` returns at once.
const MAX_TEXT_BYTES: u64 = 16 << 20;

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
    let (text, invalid) = decode_lossy_owned(bytes);
    Ok(GetTextResult {
        text,
        bytes: len,
        invalid,
        version: doc.version(),
    })
}

impl Backend {
    /// `tome/getText`: the text of a range, in queue order (it sees every change sent before).
    pub async fn get_text(&self, p: GetTextParams) -> Result<GetTextResult> {
        let handle = self.docs.get(p.doc)?;
        let enc = self.enc();
        let backlog = Arc::clone(&self.backlog);
        let (text, _made) = outcome(handle.submit(move |doc| {
            let text = read_text(doc, p, enc)?;
            // Counted as output from now on (flow control): see `Backlog::reserve`.
            let made = backlog.reserve(text.text.len());
            Ok((text, made))
        })?)
        .await?;
        Ok(text)
    }

    /// `tome/viewport`.
    pub async fn viewport(&self, p: ViewportParams) -> Result<ViewportResult> {
        let handle = self.docs.get(p.doc)?;
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
        let req = ViewportRequest {
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
        };
        // First try in queue order, so the lines reflect every change sent before. The lines
        // count as output from when they are read (flow control: see `Backlog::reserve`).
        let backlog = Arc::clone(&self.backlog);
        let first_try = outcome(handle.submit(move |doc| {
            Ok(read_viewport(doc, &req).map(|v| {
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
            match read_viewport(&mut handle.lock(), &req) {
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
        assert_eq!(got.bytes, line_len as u64);
    }
}
