//! Whole words: as an editor with configurable word separators defines them (VS Code's
//! `editor.wordSeparators`), for searches that must count, list and replace exactly the matches
//! that editor's find widget shows; and as `grep -w` does ([`is_grep_word`]), for filters and
//! highlight rules.
//!
//! Rust's `\b` cannot stand in for it: for `\b` every Unicode symbol (`€`, `…`, `—`) ends a
//! word, while for the editor every character but a space, a tab, a line break and the
//! separators is part of one (digits, `_` and all other non-ASCII characters included).
//!
//! The rule (VS Code's `isValidMatch`): a match counts when, on each side, it touches the
//! document's or a line's edge, or the character outside it is not a word character, or its
//! own character on that side is not one. An invalid byte counts as one character (as Tome
//! shows it: U+FFFD, a word character).

use std::ops::Range;
use std::sync::OnceLock;

use regex::bytes::Regex;

use crate::text::{floor_boundary, next_char_boundary, unit_at};
use crate::view::View;

/// The characters that end words besides spaces, tabs and line breaks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WordSeparators {
    separators: Vec<char>,
}

impl WordSeparators {
    /// Separators from a string of them (each character one separator). O(n).
    pub fn new(separators: &str) -> WordSeparators {
        let mut separators: Vec<char> = separators.chars().collect();
        separators.sort_unstable();
        separators.dedup();
        WordSeparators { separators }
    }

    /// Whether `c` is part of words. O(log separators).
    pub fn is_word_char(&self, c: char) -> bool {
        !matches!(c, ' ' | '\t' | '\r' | '\n') && self.separators.binary_search(&c).is_err()
    }

    /// Whether the match `range` (document offsets) of `view` is a whole word. `hay` holds
    /// the document's bytes from `hay_start` on and must contain the match and at least the
    /// 4 bytes before it (or reach the document's start); the character after a match that
    /// ends at the end of `hay` is read from `view`. O(1).
    pub(crate) fn is_whole_word(
        &self,
        view: &View<'_>,
        hay: &[u8],
        hay_start: usize,
        range: &Range<usize>,
    ) -> bool {
        let (start, end) = (range.start - hay_start, range.end - hay_start);
        let before = (range.start > 0).then(|| char_before(hay, start));
        let (first, last) = if range.is_empty() {
            (None, None)
        } else {
            (
                Some(char_at(&hay[start..end])),
                Some(char_before(&hay[..end], end)),
            )
        };
        let after = if range.end >= view.len() {
            None
        } else if hay.len() >= end + 4 {
            Some(char_at(&hay[end..]))
        } else {
            let mut buf = Vec::new();
            let tail = view.contiguous(range.end, (range.end + 4).min(view.len()), &mut buf);
            Some(char_at(tail))
        };
        let bound = |outside: Option<char>, inside: Option<char>| {
            outside.is_none_or(|c| !self.is_word_char(c))
                || inside.is_some_and(|c| !self.is_word_char(c))
        };
        bound(before, first) && bound(after, last)
    }

    /// [`WordSeparators::is_whole_word`] for a match `hit` of decoded text `hay` (UTF-8, a
    /// document in another encoding: see [`crate::decoded`]). `at_doc_start`/`at_doc_end`:
    /// the match starts/ends the document; `after` decodes the character after the match
    /// from the document, asked only when `hay` ends with the match. O(1).
    pub(crate) fn is_whole_word_text(
        &self,
        hay: &[u8],
        hit: Range<usize>,
        at_doc_start: bool,
        at_doc_end: bool,
        after: impl FnOnce() -> Option<char>,
    ) -> bool {
        let before = (!at_doc_start && hit.start > 0).then(|| char_before(hay, hit.start));
        let (first, last) = if hit.is_empty() {
            (None, None)
        } else {
            (
                Some(char_at(&hay[hit.start..hit.end])),
                Some(char_before(&hay[..hit.end], hit.end)),
            )
        };
        let after = if at_doc_end {
            None
        } else if hit.end < hay.len() {
            Some(char_at(&hay[hit.end..]))
        } else {
            after()
        };
        let bound = |outside: Option<char>, inside: Option<char>| {
            outside.is_none_or(|c| !self.is_word_char(c))
                || inside.is_some_and(|c| !self.is_word_char(c))
        };
        bound(before, first) && bound(after, last)
    }
}

/// Whether `hay[range]` is a whole word as `grep -w` has it: neither the character before it
/// nor the one after it is a word character (Unicode `\w`); the ends of `hay`, line breaks
/// and invalid bytes are not word characters. O(1).
pub(crate) fn is_grep_word(hay: &[u8], range: Range<usize>) -> bool {
    static WORD: OnceLock<Option<Regex>> = OnceLock::new();
    let Some(word) = WORD.get_or_init(|| Regex::new(r"\A\w\z").ok()).as_ref() else {
        return true;
    };
    let before = range.start > 0 && {
        let b = floor_boundary(hay, range.start - 1);
        word.is_match(&hay[b..range.start])
    };
    let after = range.end < hay.len() && {
        let e = next_char_boundary(hay, range.end).min(hay.len());
        word.is_match(&hay[range.end..e])
    };
    !before && !after
}

/// The character starting `bytes` (non-empty), U+FFFD for an invalid byte.
fn char_at(bytes: &[u8]) -> char {
    let u = unit_at(bytes);
    if !u.valid {
        return char::REPLACEMENT_CHARACTER;
    }
    std::str::from_utf8(&bytes[..u.bytes])
        .ok()
        .and_then(|s| s.chars().next())
        .unwrap_or(char::REPLACEMENT_CHARACTER)
}

/// The character ending at `at` (> 0) in `bytes`.
fn char_before(bytes: &[u8], at: usize) -> char {
    let start = floor_boundary(bytes, at - 1);
    char_at(&bytes[start..at])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Control, Document, Matcher, Query};

    const VSCODE: &str = "`~!@#$%^&*()-=+[{]}\\|;:'\",.<>/?";

    fn starts(text: &str, pattern: &str) -> Vec<usize> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, text).unwrap();
        let mut doc = Document::open(&path).unwrap();
        let snap = doc.snapshot();
        let q = Query {
            pattern: pattern.into(),
            regex: false,
            case_insensitive: false,
        };
        let m = Matcher::new(&q)
            .unwrap()
            .whole_words(Some(WordSeparators::new(VSCODE)));
        let page = snap
            .view()
            .find_all(&m, 0..text.len(), 100, &Control::new())
            .unwrap();
        page.matches.iter().map(|r| r.start).collect()
    }

    #[test]
    fn symbols_outside_the_separators_are_word_characters() {
        assert_eq!(starts("€foo foo", "foo"), vec![7]); // byte offsets: € is 3 bytes
        assert_eq!(starts("foo_bar foo-bar", "foo"), vec![8]);
        assert_eq!(starts("(foo)\tfoo\nfoo\r\nfoo", "foo"), vec![1, 6, 10, 15]);
    }

    #[test]
    fn a_match_whose_own_edge_is_a_separator_counts() {
        // VS Code: `.foo` is a whole-word match inside `a.foo` (its first character is a
        // separator), and `x y` inside `ax yb` is not.
        assert_eq!(starts("a.foo", ".foo"), vec![1]);
        assert_eq!(starts("ax yb x y", "x y"), vec![6]);
    }

    #[test]
    fn invalid_bytes_are_word_characters() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"\xfffoo foo\xff foo").unwrap();
        let mut doc = Document::open(&path).unwrap();
        let m = Matcher::new(&Query {
            pattern: "foo".into(),
            regex: false,
            case_insensitive: false,
        })
        .unwrap()
        .whole_words(Some(WordSeparators::new(VSCODE)));
        let page = doc
            .snapshot()
            .view()
            .find_all(&m, 0..13, 100, &Control::new())
            .unwrap();
        assert_eq!(page.matches, vec![10..13]);
    }

    #[test]
    fn across_window_edges_the_neighbours_are_still_seen() {
        // Small windows: matches sit at every distance from a window's end.
        let text = "foo€ ".repeat(50) + &"xfoo foo ".repeat(50);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, &text).unwrap();
        let mut doc = Document::open(&path).unwrap();
        let m = Matcher::new(&Query {
            pattern: "foo".into(),
            regex: false,
            case_insensitive: false,
        })
        .unwrap()
        .with_windows(17, 4)
        .whole_words(Some(WordSeparators::new(VSCODE)));
        let n = doc
            .snapshot()
            .view()
            .count_matches(&m, &Control::new())
            .unwrap();
        assert_eq!(n, 50);
    }
}
