//! `tome grep PATTERN FILE`: the lines that match, as `grep` prints them, with grep's exit
//! codes (0: a line was selected, 1: none, 2: an error).
//!
//! The pattern is literal text by default (`-F`, as `grep -F`); `-E` makes it a regular
//! expression in Rust's `regex` syntax (close to POSIX ERE: `|`, `+`, `?`, `{m,n}`, groups,
//! `[[:digit:]]` classes; plus `\d`, `\w`, `\b`; no back-references). A line matches when a
//! match lies within it, as grep matches each line alone. `-i` ignores case (Unicode-aware),
//! `-w` keeps whole words (grep's rule: letters, digits, `_`), `-v` selects the lines that do
//! not match, `-n` prefixes line numbers, `-c` prints only the count, `-m NUM` stops after NUM
//! selected lines, `-q` prints nothing, `-a` reads a binary file as text. An empty pattern
//! matches every line.
//!
//! The scan is the engine's line filter ([`tome_core::filter::LineFilter`]), the one behind
//! filter views: from 64 MiB on it runs on every core in 16 MiB units, handing lines back in
//! order; lines are numbered as it goes (no line index needed). Each selected line is written
//! from the mapping as it is in the file (its CRLF kept, invalid UTF-8 kept), followed by a
//! line feed when it is the last line and has no break. Cost: O(file / cores) time; memory: the
//! units in flight (at most 4 per core) and the lines found in them.

use std::io::{self, BufWriter, Write};
use std::path::Path;

use tome_core::filter::{FilterQuery, LineFilter};
use tome_core::{Control, Query};

use super::{line_end, line_json, output_result, write_range, Failure, ERROR, NONE, OK};

/// What `tome grep` was asked for.
pub struct Options {
    pub pattern: String,
    /// `-E`: a regular expression (else literal text).
    pub regex: bool,
    pub ignore_case: bool,
    pub word: bool,
    pub invert: bool,
    pub line_numbers: bool,
    pub count: bool,
    pub max_count: Option<usize>,
    pub quiet: bool,
    pub text: bool,
    pub json: bool,
}

/// Runs `tome grep`: the exit code (0 selected, 1 none), or a failure (exit 2).
pub fn run(path: &Path, o: &Options) -> Result<u8, Failure> {
    let leaf = if o.pattern.is_empty() {
        // As grep: the empty pattern matches every line (the engine refuses empty searches).
        FilterQuery::And(Vec::new())
    } else {
        FilterQuery::Match {
            query: Query {
                pattern: o.pattern.clone(),
                regex: o.regex,
                case_insensitive: o.ignore_case,
            },
            whole_word: o.word,
        }
    };
    let query = if o.invert {
        FilterQuery::Not(Box::new(leaf))
    } else {
        leaf
    };
    // The pattern is checked before the file is opened: a bad regex is the same error for any
    // file.
    let filter = LineFilter::new(&query).map_err(|e| Failure::new(ERROR, e.to_string()))?;
    let doc = super::open(path, o.text, false)?;
    // The filter numbers lines itself: the index would only read the file a second time.
    doc.stop_indexing();
    if o.max_count == Some(0) {
        return Ok(NONE);
    }
    let view = doc.view();
    let len = view.len();
    let control = Control::new();
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(64 << 10, stdout.lock());
    let mut selected = 0usize;
    let mut written: io::Result<()> = Ok(());
    let limit = o.max_count.unwrap_or(usize::MAX);
    let scanned = filter.scan(view, 0, 0, &control, |lines, _, _| {
        for &(start, line) in lines {
            let start = start as usize;
            // The engine's empty line after a final line break is no line for grep.
            if start == len {
                continue;
            }
            selected += 1;
            if o.quiet {
                return false;
            }
            if !o.count {
                written = write_line(&mut out, &view, start, line as usize + 1, o);
                if written.is_err() {
                    return false;
                }
            }
            if selected >= limit {
                return false;
            }
        }
        true
    });
    scanned.map_err(|e| super::engine_error(path, e))?;
    if written.is_ok() && o.count && !o.quiet {
        written = if o.json {
            writeln!(out, "{}", serde_json::json!({ "count": selected }))
        } else {
            writeln!(out, "{selected}")
        };
    }
    let written = written.and_then(|()| out.flush());
    output_result(written, if selected > 0 { OK } else { NONE })
}

/// Writes one selected line: as it is in the file (`-n`: after its number and a colon), or as
/// a JSON object ([`line_json`]).
fn write_line(
    out: &mut impl Write,
    view: &tome_core::View<'_>,
    start: usize,
    number: usize,
    o: &Options,
) -> io::Result<()> {
    let (text_end, next) = line_end(view, start);
    if o.json {
        let bytes = view
            .read(start, text_end)
            .map_err(|e| io::Error::other(e.to_string()))?;
        serde_json::to_writer(&mut *out, &line_json(number, start, &bytes))?;
        return out.write_all(b"\n");
    }
    if o.line_numbers {
        write!(out, "{number}:")?;
    }
    write_range(out, view, start, next)?;
    if next == text_end {
        // The last line, without a break: grep ends it with one.
        out.write_all(b"\n")?;
    }
    Ok(())
}
