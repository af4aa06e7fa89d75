//! Search against an oracle: the `regex` crate run over the whole text (`regex::Regex` when the
//! text is valid UTF-8, `regex::bytes::Regex` otherwise), with the options Tome compiles with
//! (multi-line, CRLF-aware anchors). Tome searches windows of a piece tree; whatever the
//! windows and pieces, it must find what one search over the whole text finds.

use std::ops::Range;
use std::path::Path;

use tome_core::{Control, Direction, Document, Matcher, Query};

fn open(dir: &Path, name: &str, content: &[u8]) -> Document {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    let mut doc = Document::open(&path).unwrap();
    doc.wait_for_index(&Control::new()).unwrap();
    doc
}

fn content(doc: &Document) -> Vec<u8> {
    doc.view().read(0, doc.len()).unwrap()
}

fn regex(pattern: &str) -> Matcher {
    Matcher::new(&Query {
        pattern: pattern.into(),
        regex: true,
        case_insensitive: false,
    })
    .unwrap()
}

/// Every match in the document, through `find_all` with a large page.
fn all(doc: &Document, m: &Matcher) -> Vec<Range<usize>> {
    let v = doc.view();
    let page = v.find_all(m, 0..v.len(), 10_000, &Control::new()).unwrap();
    assert_eq!(page.resume_at, None);
    page.matches
}

/// Every match of `pattern` in `text` by the `regex` crate, over the whole text.
fn oracle(pattern: &str, text: &[u8]) -> Vec<Range<usize>> {
    match std::str::from_utf8(text) {
        Ok(s) => regex::RegexBuilder::new(pattern)
            .multi_line(true)
            .crlf(true)
            .build()
            .unwrap()
            .find_iter(s)
            .map(|m| m.range())
            .collect(),
        Err(_) => regex::bytes::RegexBuilder::new(pattern)
            .multi_line(true)
            .crlf(true)
            .build()
            .unwrap()
            .find_iter(text)
            .map(|m| m.range())
            .collect(),
    }
}

/// Byte offsets where a character starts, as Tome counts characters: a valid UTF-8 character,
/// or one invalid byte. The end of the text is a boundary too.
fn boundaries(text: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < text.len() {
        out.push(i);
        let n = match text[i] {
            0xC2..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF4 => 4,
            _ => 1,
        };
        let valid = i + n <= text.len() && std::str::from_utf8(&text[i..i + n]).is_ok();
        i += if valid { n } else { 1 };
    }
    out.push(text.len());
    out
}

#[test]
fn empty_matches_land_on_character_boundaries() {
    let dir = tempfile::tempdir().unwrap();
    let text = "é😀\nend";
    let doc = open(dir.path(), "u", text.as_bytes());
    for pattern in ["x*", "(?:)", "o|", "x?"] {
        let found = all(&doc, &regex(pattern));
        let starts: Vec<usize> = found.iter().map(|r| r.start).collect();
        assert!(
            starts.iter().all(|&s| text.is_char_boundary(s)),
            "{pattern}: {starts:?}"
        );
        let expected: Vec<_> = oracle(pattern, text.as_bytes())
            .into_iter()
            .filter(|r| r.start < text.len())
            .collect();
        assert_eq!(
            found
                .into_iter()
                .filter(|r| r.start < text.len())
                .collect::<Vec<_>>(),
            expected,
            "{pattern}"
        );
    }
    // Invalid bytes count as one character each, as everywhere else in Tome.
    let bytes = b"\xC3\xA9\xE2\x82b\xFF\xF0\x9F\x98\x80";
    let doc = open(dir.path(), "bad", bytes);
    let starts: Vec<usize> = all(&doc, &regex("x*")).iter().map(|r| r.start).collect();
    let expected: Vec<usize> = boundaries(bytes)
        .into_iter()
        .filter(|&b| b < bytes.len())
        .collect();
    assert_eq!(&expected, &[0, 2, 3, 4, 5, 6]);
    assert_eq!(
        starts
            .into_iter()
            .filter(|&s| s < bytes.len())
            .collect::<Vec<_>>(),
        expected
    );
}

#[test]
fn replace_all_of_an_empty_match_keeps_utf8_valid() {
    let dir = tempfile::tempdir().unwrap();
    let text = "é😀\nend";
    let mut doc = open(dir.path(), "u", text.as_bytes());
    // Searching from inside a character finds the next boundary, not a position inside it.
    let found = doc
        .view()
        .find(&regex("x*"), 3, Direction::Forward, false, &Control::new())
        .unwrap();
    assert_eq!(found, Some(6..6));
    doc.replace_all(&regex("x*"), b"-", &Control::new())
        .unwrap();
    let out = String::from_utf8(content(&doc)).expect("still valid UTF-8");
    assert!(out.starts_with("-é-😀-\n-e-n-d"), "{out:?}");
    assert_eq!(out.replace('-', ""), text);
}
