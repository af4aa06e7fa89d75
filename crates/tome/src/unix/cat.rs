//! `tome cat FILE [--lines RANGE]`: lines by number, written exactly as they are in the file.
//!
//! RANGE (1-based, inclusive, as `sed -n 'A,Bp'`): `A:B`, `A:` (to the end), `:B` (from the
//! first line), `A` (one line), `-N` (the last N lines, as `tail -n N`). No RANGE: the whole
//! file. A range past the end prints what exists (nothing at all past the last line) and
//! succeeds, as sed does; `A > B`, `0` and malformed ranges are errors (exit 2). Binary files
//! are printed too, byte for byte (as `sed -n`).
//!
//! Cost: the start of line A comes from the engine's line index, which counts line breaks
//! straight from the mapping in the background (and is kept in the index cache of the state
//! directory, so a second run on the same file starts at once); the lines are then written
//! from the mapping without copying, and only they are read. `-N` needs no index: the last N
//! lines are found by reading backwards from the end. Memory: the index (40 bytes per 64 KiB)
//! and a 64 KiB output buffer; `--json` holds one line at a time.

use std::io::{self, BufWriter, Write};
use std::path::Path;

use tome_core::{Control, Document, View};

use super::{line_end, line_json, output_result, write_range, Failure, ERROR, OK};

/// Which lines to print.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Range {
    /// Lines `first..=last` (1-based; `last: None`: to the end).
    Lines { first: usize, last: Option<usize> },
    /// The last N lines.
    Last(usize),
}

/// Parses a RANGE (see the module's documentation).
pub fn parse_range(s: &str) -> Result<Range, String> {
    let bad =
        || format!("bad range {s:?}: expected A:B, A:, :B, A or -N (line numbers from 1, A <= B)");
    let num = |t: &str| -> Result<usize, String> {
        let t = t.trim().replace('_', "");
        match t.parse::<usize>() {
            Ok(0) => Err(format!("bad range {s:?}: lines are numbered from 1")),
            Ok(n) => Ok(n),
            Err(_) => Err(bad()),
        }
    };
    let s = s.trim();
    if let Some(n) = s.strip_prefix('-') {
        let n = n.trim().replace('_', "");
        return n.parse::<usize>().map(Range::Last).map_err(|_| bad());
    }
    let range = match s.split_once(':') {
        None => {
            let a = num(s)?;
            Range::Lines {
                first: a,
                last: Some(a),
            }
        }
        Some((a, b)) => {
            let first = if a.trim().is_empty() { 1 } else { num(a)? };
            let last = if b.trim().is_empty() {
                None
            } else {
                Some(num(b)?)
            };
            if a.trim().is_empty() && last.is_none() {
                return Err(bad());
            }
            Range::Lines { first, last }
        }
    };
    if let Range::Lines {
        first,
        last: Some(last),
    } = range
    {
        if first > last {
            return Err(format!(
                "bad range {s:?}: the first line ({first}) is after the last ({last})"
            ));
        }
    }
    Ok(range)
}

/// Runs `tome cat`. Returns the exit code (0, or 2 on error).
pub fn run(path: &Path, range: Option<Range>, json: bool) -> Result<u8, Failure> {
    let range = range.unwrap_or(Range::Lines {
        first: 1,
        last: None,
    });
    // Any bytes, binary included, are printed as they are (as `sed -n` does).
    let mut doc = super::open(path, true, true)?;
    let control = Control::new();
    let (start, end, number) = match range {
        Range::Lines { first, last } => {
            let start = match doc.wait_for_line(first - 1, &control) {
                Ok(start) => start,
                // Past the last line: nothing to print, as `sed -n '9999p'`.
                Err(tome_core::Error::OutOfBounds(_)) => return Ok(OK),
                Err(e) => return Err(super::engine_error(path, e)),
            };
            let view = doc.view();
            let end = match last {
                Some(last) => after_lines(&view, start, last - first + 1),
                None => view.len(),
            };
            (start, end, Some(first))
        }
        Range::Last(n) => {
            let view = doc.view();
            let start = last_lines_start(&view, n);
            (start, view.len(), None)
        }
    };
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(64 << 10, stdout.lock());
    let written = if json {
        let number = match number {
            Some(n) => n,
            // The line number of a start found from the end: the index must reach it.
            None => {
                number_of(&mut doc, start, &control).map_err(|e| super::engine_error(path, e))?
            }
        };
        write_json(&mut out, &doc.view(), start, end, number)
    } else {
        write_range(&mut out, &doc.view(), start, end)
    };
    let written = written.and_then(|()| out.flush());
    doc.view()
        .intact()
        .map_err(|e| super::engine_error(path, e))?;
    output_result(written, OK)
}

/// The 1-based line number of the line starting at `at`. Waits for the index to reach it.
fn number_of(doc: &mut Document, at: usize, control: &Control) -> tome_core::Result<usize> {
    doc.wait_for_index(control)?;
    Ok(doc.view().line_of(at)? + 1)
}

/// One JSON object per line (see [`line_json`]), plus `eol`: the line's break as it is in the
/// file (`"\n"`, `"\r\n"`, `"\r"`, or `""` for a last line without one).
fn write_json(
    out: &mut impl Write,
    view: &View<'_>,
    start: usize,
    end: usize,
    first: usize,
) -> io::Result<()> {
    let (mut pos, mut number) = (start, first);
    while pos < end {
        let (text_end, next) = line_end(view, pos);
        let bytes = view
            .read(pos, text_end)
            .map_err(|e| io::Error::other(e.to_string()))?;
        let mut v = line_json(number, pos, &bytes);
        v["eol"] = String::from_utf8_lossy(&view.read(text_end, next).unwrap_or_default())
            .into_owned()
            .into();
        serde_json::to_writer(&mut *out, &v)?;
        out.write_all(b"\n")?;
        pos = next;
        number += 1;
    }
    Ok(())
}

/// The offset just after `n` more lines from the line start `start` (the document's end if it
/// has fewer). Breaks are the engine's: LF, CRLF, lone CR. O(bytes of those lines).
pub fn after_lines(view: &View<'_>, start: usize, n: usize) -> usize {
    let len = view.len();
    if n == 0 {
        return start;
    }
    let mut left = n;
    let mut pos = start;
    // A CR ending the previous chunk whose LF may start this one.
    for chunk in view.chunks(start, len) {
        for i in memchr::memchr2_iter(b'\n', b'\r', chunk) {
            let p = pos + i;
            let end = if chunk[i] == b'\n' {
                // The LF of a CRLF was counted with its CR.
                if p > start && view_byte(view, chunk, pos, p - 1) == Some(b'\r') {
                    continue;
                }
                p + 1
            } else if view_byte(view, chunk, pos, p + 1) == Some(b'\n') {
                p + 2
            } else {
                p + 1
            };
            left -= 1;
            if left == 0 {
                return end;
            }
        }
        pos += chunk.len();
    }
    len
}

/// The byte at `at`, from `chunk` (which starts at `chunk_at`) when it holds it.
fn view_byte(view: &View<'_>, chunk: &[u8], chunk_at: usize, at: usize) -> Option<u8> {
    match at.checked_sub(chunk_at) {
        Some(i) if i < chunk.len() => Some(chunk[i]),
        _ => view.byte_at(at),
    }
}

/// Where the last `n` lines start (as `tail -n`: a final line break ends the last line, it does
/// not start an empty one). Reads backwards from the end in 64 KiB blocks: O(bytes of those
/// lines), no line index.
pub fn last_lines_start(view: &View<'_>, n: usize) -> usize {
    let len = view.len();
    if n == 0 {
        return len;
    }
    let mut left = n;
    // Line starts are 0 and the ends of breaks before the document's end: a break end `p + 1`
    // at an LF, or at a CR not followed by an LF.
    let mut hi = len.saturating_sub(1);
    const BLOCK: usize = 64 << 10;
    while hi > 0 {
        let lo = hi.saturating_sub(BLOCK);
        let Ok(block) = view.read(lo, hi) else {
            return 0;
        };
        for i in memchr::memrchr2_iter(b'\n', b'\r', &block) {
            let p = lo + i;
            let is_break = block[i] == b'\n' || view_byte(view, &block, lo, p + 1) != Some(b'\n');
            if is_break {
                left -= 1;
                if left == 0 {
                    return p + 1;
                }
            }
        }
        hi = lo;
    }
    0
}

/// Bad ranges are refused before the file is opened.
pub fn check(range: &str) -> Result<Range, Failure> {
    parse_range(range).map_err(|m| Failure::new(ERROR, m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_as_documented() {
        let l = |first, last| Range::Lines { first, last };
        assert_eq!(parse_range("3:7"), Ok(l(3, Some(7))));
        assert_eq!(parse_range("3:"), Ok(l(3, None)));
        assert_eq!(parse_range(":7"), Ok(l(1, Some(7))));
        assert_eq!(parse_range("5"), Ok(l(5, Some(5))));
        assert_eq!(
            parse_range("30_000_000:30_000_010"),
            Ok(l(30_000_000, Some(30_000_010)))
        );
        assert_eq!(parse_range("-4"), Ok(Range::Last(4)));
        for bad in ["", ":", "0", "0:3", "7:3", "a:b", "3:x", "-x", "1:2:3"] {
            assert!(parse_range(bad).is_err(), "{bad:?} is refused");
        }
    }

    fn doc_of(bytes: &[u8]) -> (tempfile::TempDir, Document) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, bytes).unwrap();
        let mut d = Document::open(&p).unwrap();
        d.wait_for_index(&Control::new()).unwrap();
        (dir, d)
    }

    #[test]
    fn line_walks_count_lf_crlf_and_lone_cr() {
        let text = b"a\nb\r\nc\rd\n";
        let (_d, doc) = doc_of(text);
        let v = doc.view();
        assert_eq!(after_lines(&v, 0, 1), 2);
        assert_eq!(after_lines(&v, 0, 2), 5);
        assert_eq!(after_lines(&v, 0, 3), 7);
        assert_eq!(after_lines(&v, 0, 4), 9);
        assert_eq!(after_lines(&v, 0, 9), 9);
        assert_eq!(last_lines_start(&v, 1), 7);
        assert_eq!(last_lines_start(&v, 2), 5);
        assert_eq!(last_lines_start(&v, 3), 2);
        assert_eq!(last_lines_start(&v, 4), 0);
        assert_eq!(last_lines_start(&v, 40), 0);
        let (_d, doc) = doc_of(b"x\ny");
        assert_eq!(last_lines_start(&doc.view(), 1), 2);
    }
}
