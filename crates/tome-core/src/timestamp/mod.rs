//! Jump to a time: timestamp formats of log lines ([`TimeFormat`], hand parsers, no
//! allocation), detecting a log's layout from a sample ([`TimeLayout`]), reading a user's time
//! ([`parse_query`]) and the binary search over byte offsets ([`seek_time`]) that finds the
//! first line at or after a time without a line index. UTF-16 documents are read through
//! their units narrowed to bytes (`text.rs`); offsets in and out are the file's.
//!
//! ```
//! # fn main() -> tome_core::Result<()> {
//! use tome_core::timestamp::{detect_layout, parse_query, seek_time};
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("app.log");
//! std::fs::write(&path, "2026-11-26T11:59:59Z a\nno time\n2026-11-26T12:00:01Z b\n").unwrap();
//! let doc = tome_core::Document::open(&path)?;
//! let layout = detect_layout(&doc.view(), None, (2026, 11)).expect("a log");
//! let t = parse_query("2026-11-26T12:00", &layout).expect("a time");
//! let found = seek_time(&doc.view(), &layout, t)?;
//! assert_eq!(found.line.map(|l| l.start), Some(31));
//! # Ok(()) }
//! ```

mod detect;
mod format;
mod query;
mod seek;
mod text;

pub use detect::{Location, TimeLayout, LINE_PREFIX, MAX_COLUMN, SAMPLE_LINES};
pub use format::{format_utc, year_month_of, Context, Stamp, TimeFormat};
pub use query::parse_query;
pub use seek::{
    seek_time, stamped_lines, StampedLine, TimeSeek, DISORDER_WINDOW, FIRST_READ, PROBE_LIMIT,
};

use crate::view::View;
use text::{TimeText, Window};

/// How many bytes detection reads at the start and at the middle of a document.
pub const SAMPLE_BYTES: usize = 64 << 10;

/// Detects the timestamp layout of a document from the whole lines of its first
/// [`SAMPLE_BYTES`] and of [`SAMPLE_BYTES`] at its middle (a log that opens with a long
/// header still has timestamps there). `current`: today's (year, month), for syslog's year.
/// Cost: two reads of 64 KiB and well under a millisecond of parsing.
pub fn detect_layout(
    view: &View<'_>,
    only: Option<TimeFormat>,
    current: (i32, u8),
) -> Option<TimeLayout> {
    // Timestamps are ASCII: in UTF-16, read from the units narrowed to bytes.
    let text = TimeText::of(view);
    let len = text.len();
    let mut bufs = [Window::default(), Window::default()];
    let [a, b] = &mut bufs;
    let head = text.read(0, len.min(SAMPLE_BYTES), a);
    let mid_at = len / 2;
    let middle = if len > 2 * SAMPLE_BYTES {
        text.read(mid_at, (mid_at + SAMPLE_BYTES).min(len), b)
    } else {
        &[][..]
    };
    let head_lines = whole_lines(head, true, head.len() == len);
    let mid_lines = whole_lines(middle, false, false);
    let half = SAMPLE_LINES / 2;
    TimeLayout::detect(
        head_lines.take(half).chain(mid_lines.take(half)),
        only,
        current,
    )
}

/// The lines of a window, without terminators: the first only if the window starts at a line
/// start, the last only if it ends at the document's end.
fn whole_lines(w: &[u8], starts_line: bool, ends_doc: bool) -> impl Iterator<Item = &[u8]> {
    let mut at = if starts_line {
        0
    } else {
        match memchr::memchr2(b'\n', b'\r', w) {
            Some(k) => k + 1,
            None => w.len(),
        }
    };
    std::iter::from_fn(move || {
        if at >= w.len() {
            return None;
        }
        let rest = &w[at..];
        match memchr::memchr2(b'\n', b'\r', rest) {
            Some(k) => {
                at += k + 1;
                // Skip the LF of a CRLF (an empty "line" otherwise).
                if rest[k] == b'\r' && rest.get(k + 1) == Some(&b'\n') {
                    at += 1;
                }
                Some(&rest[..k])
            }
            None if ends_doc => {
                at = w.len();
                Some(rest)
            }
            None => None,
        }
    })
}
