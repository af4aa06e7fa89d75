//! Line-wise scopes of whole-document changes: which lines a replace-all or a deletion of
//! lines acts on, and where a line holding a given byte starts and ends.
//!
//! An editor's line commands (Vim's `:10,20s/a/b/`, `:s` without `g`, `:g/pat/d`, `:v/pat/d`)
//! act on whole lines: a match counts when it **starts** on a line of the scope (it may run
//! past it), and "first match per line" means the first match starting on each line. Lines end
//! where Tome's line index ends them (LF, CRLF, a lone CR).
//!
//! Line bounds are found by scanning bytes around a match, not through the line index, so a
//! scoped change works before the index is complete. Cost: O(length of the line) per line that
//! holds a match.

use std::ops::Range;

use crate::view::View;

/// The lines a whole-document change acts on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scope {
    /// Bytes of whole lines (from a line start to the start of the line after the last one);
    /// `None`: the whole document, including the empty line after a final line break (where
    /// `^` and `$` still match).
    pub range: Option<Range<usize>>,
    /// Only the first match starting on each line (Vim's `:s` without the `g` flag).
    pub first_per_line: bool,
}

impl Scope {
    /// The whole document, every match.
    pub fn whole() -> Scope {
        Scope::default()
    }

    /// Whether this scope is the whole document with every match (what a plain replace-all
    /// does).
    pub fn is_whole(&self) -> bool {
        self.range.is_none() && !self.first_per_line
    }

    /// `(from, starts_before)`: matches must start in `[from, starts_before)`. A range ending
    /// at the end of a document that does not end with a line break takes in an empty match
    /// at the very end (`$` on the last line); one ending after a final line break does not
    /// (that empty "line" is not one an editor shows).
    pub(crate) fn starts(&self, view: &View<'_>) -> (usize, usize) {
        let len = view.len();
        match &self.range {
            None => (0, len + 1),
            Some(r) => {
                let end = r.end.min(len);
                let u = view.newlines().unit();
                let ends_open = end == len && len >= u && view.break_unit_at(len - u) == 0;
                (r.start.min(end), if ends_open { len + 1 } else { end })
            }
        }
    }
}

/// Where the line holding byte `at` starts: just after the line break before it (a CRLF
/// counts as one break: `at` on its LF belongs to the line it ends). Cost: O(bytes scanned
/// back).
pub(crate) fn line_start_at(view: &View<'_>, at: usize) -> usize {
    let nl = view.newlines();
    let u = nl.unit();
    let mut end = at.min(view.len());
    end -= end % u;
    // On the LF of a CRLF: that line ends here, so its start lies before the CR.
    if view.inside_crlf(end) {
        end -= u;
    }
    const STEP: usize = 4096;
    while end > 0 {
        let start = end.saturating_sub(STEP);
        let mut hit = None;
        // Pieces forward (each starts at a unit boundary); the last break in the block wins.
        let mut pos = start;
        for chunk in view.chunks(start, end) {
            if let Some(i) = nl.rfind(chunk) {
                hit = Some(pos + i);
            }
            pos += chunk.len();
        }
        if let Some(i) = hit {
            return i + u;
        }
        end = start;
    }
    0
}

/// Where the line after the one holding byte `at` starts (after its LF, CRLF or CR), or the
/// document's length if that line is the last. Cost: O(bytes scanned forward).
pub(crate) fn next_line_start(view: &View<'_>, at: usize) -> usize {
    let len = view.len();
    let nl = view.newlines();
    let at = at - at % nl.unit();
    let mut pos = at;
    for chunk in view.chunks(at, len) {
        if let Some(i) = nl.find(chunk) {
            return pos + i + view.break_len_at(pos + i);
        }
        pos += chunk.len();
    }
    len
}
