//! Tome's search against the `regex` crate on the whole text. A small text (fragments with
//! multibyte characters, invalid UTF-8, CR, LF, CRLF) is written to a file and opened as a
//! `Document`, laid out as one piece or several (text inserted, a prefix deleted) so that
//! searches cross piece boundaries, and searched in Tome's usual windows or, half of the time,
//! in windows of a few bytes (`Matcher::with_windows`) so that they cross window boundaries
//! too. The pattern comes from a small regex grammar, a literal, or free-form text (skipped
//! when it does not compile).
//!
//! The reference is what search.rs documents: the matches `regex::bytes` finds over the whole
//! text (built as `Matcher` builds it: case flag, `multi_line`, `crlf`), iterated as `regex`
//! iterates a `&str`: an empty match right after the previous match, or inside a character
//! (valid UTF-8 sequences are characters, and so is each invalid byte), is skipped and the
//! search goes on from the next character. When the text is valid UTF-8 and the pattern
//! compiles for `&str`, that reference must also be what `regex::Regex::find_iter` finds.
//! Compared:
//!
//! * `find_all` over the document and `count_matches`;
//! * `find` forward from an offset (the first match from there) and backward (the last match
//!   starting before it);
//! * `replace_all` (count and content, groups expanded as `Captures::expand` does), then undo.
//!
//! With small windows, matches longer than the overlap may be cut (documented), so an input
//! where one is that long is not compared, and backward search is compared only when the text
//! fits one window (it pairs candidates up per window). `TOME_FUZZ_EMPTY_MATCHES=0` compares
//! non-empty matches only (as this target did before the empty-match fixes landed).

#![no_main]

use std::ops::Range;
use std::path::PathBuf;
use std::sync::OnceLock;

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use regex::bytes::{Regex, RegexBuilder};
use tome_core::{Control, Direction, Document, Matcher, Query};

/// Text fragments: ASCII, case pairs (incl. the Kelvin sign and ß), multibyte characters, line
/// breaks, and invalid UTF-8 (a lone 0xFF, a lone lead byte, a lone continuation byte, a
/// truncated 3-byte sequence).
const TEXT: &[&[u8]] = &[
    b"a",
    b"b",
    b"ab",
    b"A",
    b"B",
    b" ",
    b"\n",
    b"\r",
    b"\r\n",
    b"\t",
    b"_",
    b"0",
    b"k",
    b"s",
    "é".as_bytes(),
    "É".as_bytes(),
    "🦀".as_bytes(),
    "\u{212a}".as_bytes(),
    "ß".as_bytes(),
    b"\xff",
    b"\xc3",
    b"\xa9",
    b"\xe2\x82",
];

/// Regex atoms matching one thing; the `(?-u:…)` ones match bytes, also inside characters.
const ATOMS: &[&str] = &[
    "a",
    "b",
    "A",
    "é",
    "É",
    "🦀",
    "k",
    "K",
    "ß",
    "s",
    " ",
    "_",
    "0",
    r"\r",
    r"\n",
    r"\t",
    r"(?-u:\xff)",
    r"(?-u:\xc3)",
    r"(?-u:\xa9)",
    ".",
    r"\w",
    r"\W",
    r"\s",
    r"\S",
    r"\d",
    "[ab]",
    "[^a]",
    r"[^\n]",
    "[a-zé]",
    r"\pL",
    "[[:alpha:]]",
    "(?s:.)",
    "(?-u:.)",
    r"(?-u:\w)",
    r"[\r\n]",
    r"(?-u:[\x80-\xff])",
];

/// Zero-width assertions.
const ASSERTIONS: &[&str] = &[
    "^",
    "$",
    r"\A",
    r"\z",
    r"\b",
    r"\B",
    r"(?-u:\b)",
    r"\b{start}",
    r"\b{end}",
    r"\<",
    r"\>",
];

const REPEATS: &[&str] = &["*", "+", "?", "{2}", "{0,2}", "{1,3}", "*?", "+?", "??"];
const GROUPS: &[&str] = &["(", "(?:", "(?i:", "(?-i:", "(?s:", "(?U:", "(?R:", "(?-R:"];
const REPLACEMENTS: &[&str] = &["", "X", "$0", "$1", "${1}x", "$$", "é\r\n", "$name", "[$0]"];

/// A regex from the grammar, at most `depth` levels deep.
fn regex(u: &mut Unstructured<'_>, depth: u32, out: &mut String) -> arbitrary::Result<()> {
    let choice = if depth == 0 {
        0
    } else {
        u.int_in_range(0..=5)?
    };
    match choice {
        0 | 1 => out.push_str(u.choose(ATOMS)?),
        2 => out.push_str(u.choose(ASSERTIONS)?),
        3 => {
            let n = u.int_in_range(1..=4)?;
            for _ in 0..n {
                regex(u, depth - 1, out)?;
            }
        }
        4 => {
            out.push_str(u.choose(GROUPS)?);
            let n = u.int_in_range(1..=3)?;
            for i in 0..n {
                if i > 0 {
                    out.push('|');
                }
                regex(u, depth - 1, out)?;
            }
            out.push(')');
        }
        _ => {
            out.push_str("(?:");
            regex(u, depth - 1, out)?;
            out.push(')');
            out.push_str(u.choose(REPEATS)?);
        }
    }
    Ok(())
}

#[derive(Debug)]
struct Case {
    text: Vec<u8>,
    query: Query,
    replacement: &'static str,
    layout: u8,
    cut: (u16, u16),
    from: u16,
    /// Search windows of this many bytes overlapping by that many, instead of Tome's.
    windows: Option<(usize, usize)>,
}

fn case(u: &mut Unstructured<'_>) -> arbitrary::Result<Case> {
    let mut text = Vec::new();
    if u.ratio(1, 8)? {
        let raw: &[u8] = u.arbitrary()?;
        text.extend_from_slice(&raw[..raw.len().min(512)]);
    } else {
        let n = u.int_in_range(0..=200)?;
        for _ in 0..n {
            text.extend_from_slice(u.choose(TEXT)?);
        }
    }
    let case_insensitive = u.arbitrary()?;
    let query = match u.int_in_range(0..=7)? {
        0 => {
            // A literal: fragments that are valid UTF-8.
            let mut pattern = String::new();
            for _ in 0..u.int_in_range(1..=4)? {
                if let Ok(s) = std::str::from_utf8(u.choose(TEXT)?) {
                    pattern.push_str(s);
                }
            }
            Query {
                pattern,
                regex: false,
                case_insensitive,
            }
        }
        1 => {
            let free: String = u.arbitrary()?;
            Query {
                pattern: free.chars().take(24).collect(),
                regex: true,
                case_insensitive,
            }
        }
        _ => {
            let mut pattern = String::new();
            regex(u, 4, &mut pattern)?;
            Query {
                pattern,
                regex: true,
                case_insensitive,
            }
        }
    };
    Ok(Case {
        text,
        query,
        replacement: u.choose(REPLACEMENTS)?,
        layout: u.arbitrary()?,
        cut: u.arbitrary()?,
        from: u.arbitrary()?,
        windows: if u.arbitrary()? {
            // `with_windows` raises an overlap under 4 bytes to 4 (one UTF-8 character).
            Some((u.int_in_range(1..=64)?, u.int_in_range(1..=16)?))
        } else {
            None
        },
    })
}

fn file() -> &'static PathBuf {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| tome_fuzz::scratch_dir("tome-fuzz-search").join("text.bin"))
}

/// False with `TOME_FUZZ_EMPTY_MATCHES=0`: empty matches are then left out of comparisons.
fn compare_empty() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("TOME_FUZZ_EMPTY_MATCHES").is_none_or(|v| v != "0"))
}

/// Where characters start in `text` (and its end): each valid UTF-8 sequence is a character,
/// and so is each invalid byte, as Tome shows text. Computed with `std`'s UTF-8 decoder.
fn boundaries(text: &[u8]) -> Vec<bool> {
    let mut at = vec![false; text.len() + 1];
    let mut i = 0;
    for chunk in text.utf8_chunks() {
        for c in chunk.valid().chars() {
            at[i] = true;
            i += c.len_utf8();
        }
        for _ in chunk.invalid() {
            at[i] = true;
            i += 1;
        }
    }
    at[i] = true;
    at
}

/// The matches of `re` in `text` from `from` on, as search.rs documents them (see the top).
fn reference(re: &Regex, text: &[u8], from: usize) -> Vec<Range<usize>> {
    let boundary = boundaries(text);
    let next = |i: usize| (i + 1..=text.len()).find(|&j| boundary[j]).unwrap_or(i + 1);
    let mut out = Vec::new();
    let mut at = from;
    let mut last_end = None;
    while at <= text.len() {
        let Some(m) = re.find_at(text, at) else {
            break;
        };
        let r = m.range();
        let inside_crlf = r.start > 0 && text[r.start - 1] == b'\r' && text.get(r.start) == Some(&b'\n');
        if r.is_empty() && (last_end == Some(r.start) || !boundary[r.start] || inside_crlf) {
            at = next(r.start);
            continue;
        }
        at = if r.is_empty() { next(r.end) } else { r.end };
        last_end = Some(r.end);
        out.push(r);
    }
    out
}

/// Opens `text` as a document in one of a few piece layouts.
fn open(text: &[u8], layout: u8, cut: (u16, u16)) -> Document {
    let path = file();
    let len = text.len();
    let (mut a, mut b) = (
        usize::from(cut.0) % (len + 1),
        usize::from(cut.1) % (len + 1),
    );
    if a > b {
        std::mem::swap(&mut a, &mut b);
    }
    let doc = match layout % 4 {
        0 => {
            std::fs::write(path, text).unwrap();
            Document::open(path).unwrap()
        }
        1 => {
            // The middle inserted: three pieces, two of them from the file.
            let mut file = text[..a].to_vec();
            file.extend_from_slice(&text[b..]);
            std::fs::write(path, &file).unwrap();
            let mut doc = Document::open(path).unwrap();
            doc.insert(a, &text[a..b]).unwrap();
            doc
        }
        2 => {
            // A prefix deleted: the text starts inside the file's piece.
            let mut file = b"prefix \xe2\x82 \r".repeat(1 + a % 3);
            let skip = file.len();
            file.extend_from_slice(text);
            std::fs::write(path, &file).unwrap();
            let mut doc = Document::open(path).unwrap();
            doc.delete(0..skip).unwrap();
            doc
        }
        _ => {
            // Everything typed in three parts, out of order.
            std::fs::write(path, b"").unwrap();
            let mut doc = Document::open(path).unwrap();
            doc.insert(0, &text[b..]).unwrap();
            doc.insert(0, &text[..a]).unwrap();
            doc.insert(a, &text[a..b]).unwrap();
            doc
        }
    };
    assert_eq!(
        doc.view().read(0, doc.len()).unwrap(),
        text,
        "layout {layout}"
    );
    doc
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(c) = case(&mut u) else {
        return;
    };
    if std::env::var_os("TOME_FUZZ_VERBOSE").is_some_and(|v| v == "1") {
        eprintln!("{c:?}\ntext: {:?}", String::from_utf8_lossy(&c.text));
    }
    let Ok(matcher) = Matcher::new(&c.query) else {
        return;
    };
    let matcher = match c.windows {
        Some((window, overlap)) => matcher.with_windows(window, overlap),
        None => matcher,
    };
    let pattern = if c.query.regex {
        c.query.pattern.clone()
    } else {
        regex::escape(&c.query.pattern)
    };
    let re: Regex = RegexBuilder::new(&pattern)
        .case_insensitive(c.query.case_insensitive)
        .multi_line(true)
        .crlf(true)
        .size_limit(64 << 20)
        .build()
        .expect("Matcher compiled it");
    let text = &c.text;

    // The reference, checked against `regex` on `&str` where that applies.
    let expected = reference(&re, text, 0);
    if let Ok(s) = std::str::from_utf8(text) {
        let str_re = regex::RegexBuilder::new(&pattern)
            .case_insensitive(c.query.case_insensitive)
            .multi_line(true)
            .crlf(true)
            .size_limit(64 << 20)
            .build();
        if let Ok(str_re) = str_re {
            let on_str: Vec<Range<usize>> = str_re.find_iter(s).map(|m| m.range()).collect();
            assert_eq!(expected, on_str, "the reference and regex on &str disagree");
        }
    }

    let mut doc = open(text, c.layout, c.cut);
    let control = Control::new();
    let view = doc.view();
    let page = view
        .find_all(&matcher, 0..text.len(), 10_000, &control)
        .unwrap();
    assert_eq!(page.resume_at, None);
    let count = view.count_matches(&matcher, &control).unwrap();
    assert_eq!(
        count,
        page.matches.len(),
        "count_matches and find_all disagree"
    );

    // Small windows cut matches longer than their overlap (documented): not compared.
    let fits_one_window = c.windows.is_none_or(|(w, _)| text.len() <= w);
    if let Some((_, overlap)) = c.windows {
        let literal = !c.query.regex && !c.query.case_insensitive;
        let overlap = if literal {
            overlap.max(c.query.pattern.len())
        } else {
            overlap
        };
        if expected
            .iter()
            .chain(&page.matches)
            .any(|r| r.len() > overlap)
        {
            return;
        }
    }

    let comparable = |v: &[Range<usize>]| -> Vec<Range<usize>> {
        v.iter()
            .filter(|r| compare_empty() || !r.is_empty())
            .cloned()
            .collect()
    };
    assert_eq!(comparable(&page.matches), comparable(&expected), "find_all");

    // The next match from an offset, both ways.
    let from = usize::from(c.from) % (text.len() + 1);
    let got = view
        .find(&matcher, from, Direction::Forward, false, &control)
        .unwrap();
    let want = reference(&re, text, from).first().cloned();
    if compare_empty()
        || (got.as_ref().is_none_or(|r| !r.is_empty())
            && want.as_ref().is_none_or(|r| !r.is_empty()))
    {
        assert_eq!(got, want, "find forward from {from}");
    }
    if fits_one_window {
        let got = view
            .find(&matcher, from, Direction::Backward, false, &control)
            .unwrap();
        let want = expected.iter().rev().find(|r| r.start < from).cloned();
        if compare_empty()
            || (got.as_ref().is_none_or(|r| !r.is_empty())
                && want.as_ref().is_none_or(|r| !r.is_empty()))
        {
            assert_eq!(got, want, "find backward from {from}");
        }
    }

    // Replace-all, then undo.
    if compare_empty() || expected.iter().all(|r| !r.is_empty()) {
        let rep = c.replacement.as_bytes();
        let mut want = Vec::new();
        let mut kept = 0;
        for r in &expected {
            want.extend_from_slice(&text[kept..r.start]);
            if c.query.regex {
                let caps = re.captures_at(text, r.start).expect("the match again");
                assert_eq!(caps.get(0).map(|m| m.range()), Some(r.clone()));
                caps.expand(rep, &mut want);
            } else {
                want.extend_from_slice(rep);
            }
            kept = r.end;
        }
        want.extend_from_slice(&text[kept..]);
        let n = doc.replace_all(&matcher, rep, &control).unwrap();
        assert_eq!(n, expected.len(), "replace_all count");
        assert_eq!(doc.view().read(0, doc.len()).unwrap(), want, "replace_all");
        if n > 0 {
            doc.undo().expect("an undo step");
        }
        assert_eq!(
            &doc.view().read(0, doc.len()).unwrap(),
            text,
            "undo of replace_all"
        );
    }
});
