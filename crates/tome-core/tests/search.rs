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
/// (Empty matches between the CR and the LF of a CRLF are left out: Tome never splits one.)
fn oracle(pattern: &str, text: &[u8]) -> Vec<Range<usize>> {
    let mut all: Vec<Range<usize>> = match std::str::from_utf8(text) {
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
    };
    all.retain(|r| !(r.is_empty() && inside_crlf(text, r.start)));
    all
}

/// Byte offsets where a character starts, as Tome counts characters: a valid UTF-8 character,
/// or one invalid byte. The end of the text is a boundary too.
/// Whether `at` lies between the CR and the LF of a CRLF, where no empty match lands.
fn inside_crlf(text: &[u8], at: usize) -> bool {
    at > 0 && text[at - 1] == b'\r' && text.get(at) == Some(&b'\n')
}

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
        assert_eq!(found, oracle(pattern, text.as_bytes()), "{pattern}");
    }
    // Invalid bytes count as one character each, as everywhere else in Tome.
    let bytes = b"\xC3\xA9\xE2\x82b\xFF\xF0\x9F\x98\x80";
    let doc = open(dir.path(), "bad", bytes);
    let starts: Vec<usize> = all(&doc, &regex("x*")).iter().map(|r| r.start).collect();
    assert_eq!(boundaries(bytes), [0, 2, 3, 4, 5, 6, 10]);
    assert_eq!(starts, boundaries(bytes));
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
    assert_eq!(out, "-é-😀-\n-e-n-d-");
}

#[test]
fn empty_matches_at_the_very_end_are_found() {
    let dir = tempfile::tempdir().unwrap();
    let c = Control::new();
    // No final line break: `$` ends the last line at the end of the document, `\z` is there.
    let text = b"a\nb";
    let mut doc = open(dir.path(), "nofinal", text);
    for pattern in ["$", r"\z", "(?:)", "x*", "b?$", "^$|$"] {
        assert_eq!(
            all(&doc, &regex(pattern)),
            oracle(pattern, text),
            "{pattern}"
        );
    }
    assert_eq!(all(&doc, &regex(r"\z")), vec![Range { start: 3, end: 3 }]);
    assert_eq!(doc.view().count_matches(&regex("$"), &c).unwrap(), 2);
    let v = doc.view();
    let m = regex("$");
    assert_eq!(
        v.find(&m, 2, Direction::Forward, false, &c).unwrap(),
        Some(3..3)
    );
    assert_eq!(
        v.find(&m, 3, Direction::Forward, false, &c).unwrap(),
        Some(3..3)
    );
    // Backward finds matches starting before `from`; wrapping reaches the one at the end.
    assert_eq!(
        v.find(&m, 3, Direction::Backward, false, &c).unwrap(),
        Some(1..1)
    );
    assert_eq!(
        v.find(&m, 0, Direction::Backward, true, &c).unwrap(),
        Some(3..3)
    );
    assert_eq!(v.find(&m, 0, Direction::Backward, false, &c).unwrap(), None);
    doc.replace_all(&m, b";", &c).unwrap();
    assert_eq!(content(&doc), b"a;\nb;");

    // A final line break: `^` also starts the empty last line. CRLF, LF and a lone CR all end
    // lines, and nothing matches between the CR and the LF of a CRLF.
    let text = b"a\r\nb\nc\rd\r\ne\n";
    let doc = open(dir.path(), "mixed", text);
    assert_eq!(doc.view().line_count().known, 6);
    let starts = |p: &str| -> Vec<usize> { all(&doc, &regex(p)).iter().map(|r| r.start).collect() };
    assert_eq!(starts("^"), [0, 3, 5, 7, 10, 12]);
    assert_eq!(starts("$"), [1, 4, 6, 8, 11, 12]);
    assert_eq!(doc.view().count_matches(&regex("^"), &c).unwrap(), 6);
    for pattern in ["^", "$", "^$", r"\z", "(?:)", r"(?m)$\n?"] {
        assert_eq!(
            all(&doc, &regex(pattern)),
            oracle(pattern, text),
            "{pattern}"
        );
    }
    // Each line start is where `tome/viewport` says a line starts.
    let lines = doc.view().lines(0, 10, None).unwrap();
    assert_eq!(
        lines.iter().map(|l| l.start).collect::<Vec<_>>(),
        starts("^")
    );
}

#[test]
fn search_from_any_offset_agrees_with_the_oracle() {
    let dir = tempfile::tempdir().unwrap();
    let c = Control::new();
    let text = "ab\r\néx\n\nxé😀x\rend";
    let doc = open(dir.path(), "t", text.as_bytes());
    let v = doc.view();
    for pattern in [
        "$", "^", r"\z", r"\A", "x*", "x", "(?:)", r"\b", "é|x", r"[^\n]$", "ab", "[a-zé]+",
    ] {
        let re = regex::RegexBuilder::new(pattern)
            .multi_line(true)
            .crlf(true)
            .build()
            .unwrap();
        let every = oracle(pattern, text.as_bytes());
        let m = regex(pattern);
        for from in boundaries(text.as_bytes()) {
            // Forward: what `find_at` finds from there.
            // (Not an empty match between the CR and the LF of a CRLF: the next one then.)
            let mut forward = None;
            let mut at = from;
            while let Some(m) = re.find_at(text, at) {
                if m.is_empty() && inside_crlf(text.as_bytes(), m.start()) {
                    at = m.start() + 1;
                    continue;
                }
                forward = Some(m.range());
                break;
            }
            assert_eq!(
                v.find(&m, from, Direction::Forward, false, &c).unwrap(),
                forward,
                "{pattern} forward from {from}"
            );
            // Forward with wrap: the first match of the whole text if none from there on.
            let wrapped = forward.clone().or_else(|| every.first().cloned());
            assert_eq!(
                v.find(&m, from, Direction::Forward, true, &c).unwrap(),
                wrapped,
                "{pattern} forward from {from}, wrapping"
            );
            // Backward: the last match of the whole text that starts before `from`.
            let backward = every.iter().rev().find(|r| r.start < from).cloned();
            assert_eq!(
                v.find(&m, from, Direction::Backward, false, &c).unwrap(),
                backward,
                "{pattern} backward from {from}"
            );
            let wrapped = backward.or_else(|| every.last().cloned());
            assert_eq!(
                v.find(&m, from, Direction::Backward, true, &c).unwrap(),
                wrapped,
                "{pattern} backward from {from}, wrapping"
            );
            // A page from `from` to the end: the matches `find_at` finds from there on.
            let mut rest = Vec::new();
            let mut at = Some(from);
            let mut last_end = None;
            while let Some(start) = at {
                let Some(hit) = re.find_at(text, start) else {
                    break;
                };
                let r = hit.range();
                if r.is_empty()
                    && (last_end == Some(r.start) || inside_crlf(text.as_bytes(), r.start))
                {
                    at = text[r.start..]
                        .chars()
                        .next()
                        .map(|ch| r.start + ch.len_utf8());
                    continue;
                }
                last_end = Some(r.end);
                at = if r.is_empty() {
                    text[r.start..]
                        .chars()
                        .next()
                        .map(|ch| r.start + ch.len_utf8())
                } else {
                    Some(r.end)
                };
                rest.push(r);
            }
            let page = v.find_all(&m, from..v.len(), 1000, &c).unwrap();
            assert_eq!(page.matches, rest, "{pattern} all from {from}");
        }
    }
}

#[test]
fn pages_of_matches_join_up_to_all_matches() {
    let dir = tempfile::tempdir().unwrap();
    let c = Control::new();
    let text = b"xx\n\nx\r\nabc\rx";
    let doc = open(dir.path(), "p", text);
    let v = doc.view();
    for pattern in ["x*", "$", "^", "(?:)", r"\z"] {
        let m = regex(pattern);
        let mut joined = Vec::new();
        let mut from = 0;
        loop {
            let page = v.find_all(&m, from..v.len(), 2, &c).unwrap();
            joined.extend(page.matches);
            match page.resume_at {
                Some(at) => from = at,
                None => break,
            }
        }
        assert_eq!(joined, oracle(pattern, text), "{pattern}");
    }
}

#[test]
fn end_of_document_matches_past_the_first_window() {
    let dir = tempfile::tempdir().unwrap();
    let c = Control::new();
    // More than one search window (4 MiB), no final line break.
    let line = "0123456789abcdef0123456789abcdé\n";
    let mut text = line.repeat((tome_core::search::WINDOW + 4096) / line.len());
    text.push_str("last");
    let doc = open(dir.path(), "big", text.as_bytes());
    let v = doc.view();
    let lines = text.matches('\n').count() + 1;
    assert_eq!(v.count_matches(&regex("$"), &c).unwrap(), lines);
    assert_eq!(v.count_matches(&regex("^"), &c).unwrap(), lines);
    assert_eq!(
        v.find(&regex(r"\z"), 0, Direction::Forward, false, &c)
            .unwrap(),
        Some(text.len()..text.len())
    );
    assert_eq!(
        v.find(&regex(r"t$"), text.len(), Direction::Backward, false, &c)
            .unwrap(),
        Some(text.len() - 1..text.len())
    );
    assert_eq!(
        v.find(&regex("$"), text.len(), Direction::Backward, true, &c)
            .unwrap(),
        Some(text.len() - 5..text.len() - 5)
    );
}

fn literal(pattern: &str, case_insensitive: bool) -> tome_core::Result<Matcher> {
    Matcher::new(&Query {
        pattern: pattern.into(),
        regex: false,
        case_insensitive,
    })
}

#[test]
fn a_literal_longer_than_the_window_overlap_is_found_whole_across_windows() {
    let dir = tempfile::tempdir().unwrap();
    let c = Control::new();
    let window = tome_core::search::WINDOW;
    // A needle longer than MAX_MATCH (64 KiB) that starts less than its length before the first
    // window's end: the first window sees it cut, so the second must start before it.
    let needle: String = (0..100_000)
        .map(|i| (b'a' + (i % 23) as u8) as char)
        .collect();
    let mut text = "-".repeat(window + (1 << 20));
    let first = window - 80_000;
    let second = window + 200_000;
    text.replace_range(first..first + needle.len(), &needle);
    text.replace_range(second..second + needle.len(), &needle);
    let mut doc = open(dir.path(), "long", text.as_bytes());
    let m = literal(&needle, false).unwrap();
    assert_eq!(
        all(&doc, &m),
        [first..first + needle.len(), second..second + needle.len()]
    );
    assert_eq!(
        doc.view()
            .find(&m, text.len(), Direction::Backward, false, &c)
            .unwrap(),
        Some(second..second + needle.len())
    );
    // Replace-all goes through the same matcher.
    assert_eq!(doc.replace_all(&m, b"<needle>", &c).unwrap(), 2);
    let out = content(&doc);
    assert_eq!(out.len(), text.len() - 2 * needle.len() + 16);
    assert_eq!(&out[first..first + 8], b"<needle>");
}

#[test]
fn a_literal_of_one_mib_over_near_matches_is_searched_in_linear_time() {
    let dir = tempfile::tempdir().unwrap();
    let c = Control::new();
    // Near-matches everywhere: quadratic matchers compare up to 1 MiB at each of 3 Mi places.
    let text = vec![b'a'; 3 << 20];
    let doc = open(dir.path(), "aaa", &text);
    let mut needle = "a".repeat((1 << 20) - 1);
    needle.push('b');
    let m = literal(&needle, false).unwrap();
    assert_eq!(doc.view().count_matches(&m, &c).unwrap(), 0);
    let needle = "a".repeat(1 << 20);
    let m = literal(&needle, false).unwrap();
    assert_eq!(doc.view().count_matches(&m, &c).unwrap(), 3);
}

#[test]
fn a_case_insensitive_literal_at_the_limit_over_near_matches_completes() {
    let dir = tempfile::tempdir().unwrap();
    let c = Control::new();
    let text = vec![b'a'; 4 << 20];
    let doc = open(dir.path(), "aaa", &text);
    let limit = tome_core::search::MAX_REGEX_PATTERN;
    let mut needle = "A".repeat(limit - 1);
    needle.push('b');
    let m = literal(&needle, true).unwrap();
    assert_eq!(doc.view().count_matches(&m, &c).unwrap(), 0);
}

#[test]
fn patterns_too_long_or_too_complex_are_refused_with_a_clear_error() {
    use tome_core::search::{MAX_LITERAL, MAX_REGEX_PATTERN};
    use tome_core::Error;
    let too_long = |r: tome_core::Result<Matcher>| match r {
        Err(Error::PatternTooLong { bytes, limit, .. }) => Some((bytes, limit)),
        _ => None,
    };
    assert!(literal(&"x".repeat(MAX_LITERAL), false).is_ok());
    assert_eq!(
        too_long(literal(&"x".repeat(MAX_LITERAL + 1), false)),
        Some((MAX_LITERAL + 1, MAX_LITERAL))
    );
    assert!(literal(&"x".repeat(MAX_REGEX_PATTERN), true).is_ok());
    assert_eq!(
        too_long(literal(&"x".repeat(MAX_REGEX_PATTERN + 1), true)),
        Some((MAX_REGEX_PATTERN + 1, MAX_REGEX_PATTERN))
    );
    let long_regex = Matcher::new(&Query {
        pattern: "x".repeat(MAX_REGEX_PATTERN + 1),
        regex: true,
        case_insensitive: false,
    });
    let message = long_regex.as_ref().map(|_| ()).unwrap_err().to_string();
    assert_eq!(
        too_long(long_regex),
        Some((MAX_REGEX_PATTERN + 1, MAX_REGEX_PATTERN))
    );
    assert!(
        message.starts_with(&format!(
            "pattern too long ({} bytes; the limit is {MAX_REGEX_PATTERN}",
            MAX_REGEX_PATTERN + 1
        )),
        "{message}"
    );
    // Unicode classes with big repetitions compile to megabytes of automaton and then run for
    // minutes: refused at once instead.
    for pattern in [r"\w{500}z", r"(\w{40}){40}", r"\pL{200}"] {
        match Matcher::new(&Query {
            pattern: pattern.into(),
            regex: true,
            case_insensitive: false,
        }) {
            Err(Error::InvalidRegex(why)) => assert!(why.contains("too complex"), "{why}"),
            other => panic!("{pattern}: {other:?}"),
        }
    }
    // Ordinary patterns stay well within the limits.
    for pattern in [
        r"\w+",
        r"\b\w{3,16}\b",
        r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}",
        r"(?i)error|warn",
    ] {
        assert!(Matcher::new(&Query {
            pattern: pattern.into(),
            regex: true,
            case_insensitive: true,
        })
        .is_ok());
    }
}

// ---- Property: windows and pieces never change what is found ----------------------------------

mod oracle_property {
    use super::*;
    use proptest::prelude::*;

    /// Text fragments: ASCII, 2-, 3- and 4-byte characters, every line break, invalid bytes
    /// (a lone continuation byte, a cut 3-byte and a cut 4-byte sequence, 0xFF).
    const FRAGMENTS: &[&[u8]] = &[
        b"a",
        b"b",
        b"x",
        b"xx",
        b"o",
        b"ab",
        b" ",
        "é".as_bytes(),
        "É".as_bytes(),
        "漢".as_bytes(),
        "😀".as_bytes(),
        b"\n",
        b"\r",
        b"\r\n",
        b"\x82",
        b"\xE2\x82",
        b"\xF0\x9F\x98",
        b"\xFF",
    ];

    /// `(pattern, regex, case_insensitive)`: empty-matching ones, anchors, classes, literals
    /// on both literal engines.
    const PATTERNS: &[(&str, bool, bool)] = &[
        ("x*", true, false),
        ("(?:)", true, false),
        ("o|", true, false),
        ("^", true, false),
        ("$", true, false),
        (r"\z", true, false),
        ("^$", true, false),
        (r"\b", true, false),
        ("é|x", true, false),
        ("a.", true, false),
        (r"[^\n]$", true, false),
        ("b{1,3}", true, false),
        ("(?i)É", true, false),
        (r"\r\n?", true, false),
        ("ab", false, false),
        ("é😀", false, false),
        ("\r\n", false, false),
        ("xa", false, true),
        ("É", false, true),
    ];

    fn bytes() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(prop::sample::select(FRAGMENTS), 0..24).prop_map(|v| v.concat())
    }

    #[derive(Debug, Clone)]
    enum Edit {
        Insert(f64, Vec<u8>),
        Delete(f64, usize),
    }

    fn edit() -> impl Strategy<Value = Edit> {
        prop_oneof![
            (0.0..=1.0f64, bytes()).prop_map(|(at, b)| Edit::Insert(at, b)),
            (0.0..=1.0f64, 0..6usize).prop_map(|(at, n)| Edit::Delete(at, n)),
        ]
    }

    /// True if two non-empty matches of `pattern` starting at different places in `text`
    /// overlap, so that where a search starts decides which of them it finds.
    fn candidates_overlap(pattern: &str, text: &[u8]) -> bool {
        let re = regex::bytes::RegexBuilder::new(pattern)
            .multi_line(true)
            .crlf(true)
            .build()
            .unwrap();
        let mut reach = 0;
        for at in boundaries(text) {
            if let Some(m) = re.find_at(text, at) {
                if m.start() == at && !m.is_empty() {
                    if at < reach {
                        return true;
                    }
                    reach = m.end();
                }
            }
        }
        false
    }

    fn compile(pattern: &str, regex: bool, case_insensitive: bool) -> String {
        let p = if regex {
            pattern.to_string()
        } else {
            regex::escape(pattern)
        };
        if case_insensitive {
            format!("(?i){p}")
        } else {
            p
        }
    }

    /// All matches over the whole text, searching from `from`: `regex::Regex::find_iter` when
    /// the text is valid UTF-8 and the search starts at 0; otherwise `regex::bytes`' `find_at`
    /// with the documented rule for empty matches (only on character boundaries, as Tome
    /// counts characters, and not right after the previous match).
    fn reference(pattern: &str, text: &[u8], from: usize) -> Vec<Range<usize>> {
        if from == 0 {
            if let Ok(s) = std::str::from_utf8(text) {
                return regex::RegexBuilder::new(pattern)
                    .multi_line(true)
                    .crlf(true)
                    .build()
                    .unwrap()
                    .find_iter(s)
                    .map(|m| m.range())
                    .filter(|r| !(r.is_empty() && inside_crlf(text, r.start)))
                    .collect();
            }
        }
        let re = regex::bytes::RegexBuilder::new(pattern)
            .multi_line(true)
            .crlf(true)
            .build()
            .unwrap();
        let mut starts = boundaries(text);
        starts.retain(|&b| !inside_crlf(text, b));
        let next = |at: usize| starts.iter().copied().find(|&b| b > at);
        let mut out = Vec::new();
        let mut at = Some(from);
        let mut last_end = None;
        while let Some(start) = at {
            let Some(hit) = re.find_at(text, start) else {
                break;
            };
            let r = hit.range();
            if r.is_empty() && (last_end == Some(r.start) || !starts.contains(&r.start)) {
                at = next(r.start);
                continue;
            }
            last_end = Some(r.end);
            at = if r.is_empty() {
                next(r.start)
            } else {
                Some(r.end)
            };
            out.push(r);
        }
        out
    }

    fn run(initial: Vec<u8>, edits: Vec<Edit>, from: f64, replace: usize) {
        let dir = tempfile::tempdir().unwrap();
        let mut doc = open(dir.path(), "p", &initial);
        let mut model = initial;
        for e in edits {
            match e {
                Edit::Insert(at, b) => {
                    let at = (at * model.len() as f64) as usize;
                    doc.insert(at, &b).unwrap();
                    model.splice(at..at, b);
                }
                Edit::Delete(at, n) => {
                    let at = (at * model.len() as f64) as usize;
                    let end = (at + n).min(model.len());
                    doc.delete(at..end).unwrap();
                    model.drain(at..end);
                }
            }
        }
        assert_eq!(content(&doc), model);
        let c = Control::new();
        let starts = boundaries(&model);
        let from = starts[((from * starts.len() as f64) as usize).min(starts.len() - 1)];
        for &(pattern, regex, case_insensitive) in PATTERNS {
            let q = Query {
                pattern: pattern.into(),
                regex,
                case_insensitive,
            };
            let compiled = compile(pattern, regex, case_insensitive);
            let expected = reference(&compiled, &model, 0);
            let m = Matcher::new(&q).unwrap();
            assert_eq!(all(&doc, &m), expected, "{pattern:?} in {model:?}");
            assert_eq!(
                doc.view().count_matches(&m, &c).unwrap(),
                expected.len(),
                "{pattern:?}"
            );
            let from_here = reference(&compiled, &model, from);
            assert_eq!(
                doc.view()
                    .find(&m, from, Direction::Forward, false, &c)
                    .unwrap(),
                from_here.first().cloned(),
                "{pattern:?} from {from} in {model:?}"
            );
            // Windows of a few bytes: every match of up to the overlap is still found whole.
            let overlap = 12;
            if expected.iter().all(|r| r.len() <= overlap) {
                let small = m.clone().with_windows(2 * overlap + 5, overlap);
                assert_eq!(all(&doc, &small), expected, "{pattern:?} in small windows");
                // Backward, a search runs from the start of the window it looks in (the
                // documented rule): where candidate matches overlap ("a." in "aaa"), they may
                // pair up differently there than from the document's start, so the oracle
                // (the whole text from 0) only holds where they do not.
                if !candidates_overlap(&compiled, &model) {
                    let backward = expected.iter().rev().find(|r| r.start < from).cloned();
                    assert_eq!(
                        doc.view()
                            .find(&small, from, Direction::Backward, false, &c)
                            .unwrap(),
                        backward,
                        "{pattern:?} backward from {from} in small windows"
                    );
                }
            }
        }
        // Replace-all replaces exactly those matches.
        let (pattern, regex, case_insensitive) = PATTERNS[replace % PATTERNS.len()];
        let m = Matcher::new(&Query {
            pattern: pattern.into(),
            regex,
            case_insensitive,
        })
        .unwrap();
        let mut expected = Vec::new();
        let mut kept = 0;
        for r in reference(&compile(pattern, regex, case_insensitive), &model, 0) {
            expected.extend_from_slice(&model[kept..r.start]);
            expected.extend_from_slice(b"<>");
            kept = r.end;
        }
        expected.extend_from_slice(&model[kept..]);
        doc.replace_all(&m, b"<>", &c).unwrap();
        assert_eq!(content(&doc), expected, "replace {pattern:?}");
        if std::str::from_utf8(&model).is_ok() {
            assert!(std::str::from_utf8(&expected).is_ok());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        #[test]
        fn search_matches_the_regex_crate_over_the_whole_text(
            initial in bytes(),
            edits in prop::collection::vec(edit(), 0..8),
            from in 0.0..=1.0f64,
            replace in 0..64usize,
        ) {
            run(initial, edits, from, replace);
        }
    }
}

/// The count split into units on several threads equals the regex crate's count over the
/// whole text, for every unit size, with patterns whose matches overlap the cuts, pair up
/// differently from different starts (`aa` in runs of `a`), are empty (`x*`, `^`, `\b`) or
/// span lines, and with windows small enough to cross cuts.
#[test]
fn counts_split_across_threads_equal_a_whole_text_count() {
    let dir = tempfile::tempdir().unwrap();
    let text = "aaaaaaa b aa\r\nfoo bar aaa\nxx\n\nfoo\rbaz aaaa €aa é\n".repeat(40);
    let doc = open(dir.path(), "t", text.as_bytes());
    let c = Control::new();
    for pattern in [
        "aa",
        "a+",
        "x*",
        "^",
        "$",
        r"\b",
        "foo|foo bar",
        r"a\r?\nf",
        "(?s).{7}",
        "é",
    ] {
        let want = oracle(pattern, text.as_bytes()).len();
        for windows in [false, true] {
            let m = if windows {
                regex(pattern).with_windows(61, 24)
            } else {
                regex(pattern)
            };
            for unit in [1, 2, 3, 5, 8, 13, 64, 300, text.len() / 3, text.len()] {
                for threads in [1, 2, 3] {
                    let got = doc.view().count_matches_on(&m, threads, unit, &c).unwrap();
                    assert_eq!(
                        got, want,
                        "{pattern:?} in units of {unit} on {threads} threads, small windows {windows}"
                    );
                }
            }
        }
    }
}

/// Pages of matches, counts and replace-all collected on several threads in units of any size
/// equal the one-thread scan exactly: matches across unit boundaries, overlapping candidates
/// (`aa` in runs of `a`, `foo|foo bar`), regex, case-insensitive text, whole words (a rejected
/// candidate across a cut), empty matches (`x*`, `^`, `$`, `\b`), CRLF and multi-byte
/// characters. (A join that hands a unit's matches as they are, or searches again from the
/// wrong place, fails these.)
mod units_property {
    use super::*;
    use proptest::prelude::*;
    use tome_core::{Scope, WordSeparators};

    fn matchers() -> Vec<Matcher> {
        let q = |p: &str, regex: bool, ci: bool| Query {
            pattern: p.into(),
            regex,
            case_insensitive: ci,
        };
        let mut all = Vec::new();
        for (p, regex, ci) in [
            ("aa", false, false),
            ("foo", false, true),
            ("a+", true, false),
            ("x*", true, false),
            ("^", true, false),
            ("$", true, false),
            (r"\b", true, false),
            ("foo|foo bar", true, false),
            (r"a\r?\nf", true, false),
            ("(?s).{5}", true, false),
            ("é|€a", true, true),
            (r"(\w)(\w)", true, false),
        ] {
            all.push(Matcher::new(&q(p, regex, ci)).unwrap());
        }
        // Whole words: `a` inside `aaa` is rejected, whole `aa`/`foo` kept; in `xa -b` the
        // candidate `a -b` is rejected (`x` before it) and the search goes on after it, so
        // the `-` inside it is not a match, though a search from after `a` finds it whole.
        for (p, regex) in [
            ("aa", false),
            ("foo", false),
            ("a+a", true),
            ("a|aa b", true),
            ("a -b|-", true),
        ] {
            let words = Some(WordSeparators::new("`~!@#$%^&*()-=+[{]}\\|;:'\",.<>/?"));
            all.push(
                Matcher::new(&q(p, regex, false))
                    .unwrap()
                    .whole_words(words),
            );
        }
        all
    }

    fn text() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop::sample::select(vec![
            "a", "aa", "aaa", " ", "b", "\n", "\r\n", "\r", "foo", "FOO", " bar", "x", "é", "€",
            "\t", "-", "\u{fffd}",
        ]);
        prop::collection::vec(piece, 0..120).prop_map(|v| v.concat().into_bytes())
    }

    fn check(bytes: Vec<u8>, unit: usize, threads: usize, limit: usize) {
        let dir = tempfile::tempdir().unwrap();
        let doc = open(dir.path(), "t", &bytes);
        let c = Control::new();
        let len = doc.len();
        for m in matchers() {
            let v = doc.view();
            let one = v.find_all_on(&m, 0..len, usize::MAX, 1, unit, &c).unwrap();
            let many = v
                .find_all_on(&m, 0..len, usize::MAX, threads, unit, &c)
                .unwrap();
            assert_eq!(many, one, "{:?} all, unit {unit}", m.query());
            let count = v.count_matches_on(&m, threads, unit, &c).unwrap();
            assert_eq!(
                count,
                one.matches.len(),
                "{:?} count, unit {unit}",
                m.query()
            );
            // Pages of `limit` from each `resume_at`, from every few offsets.
            for from in (0..=len).step_by(7) {
                let want = v.find_all_on(&m, from..len, limit, 1, unit, &c).unwrap();
                let got = v
                    .find_all_on(&m, from..len, limit, threads, unit, &c)
                    .unwrap();
                assert_eq!(got, want, "{:?} page from {from}, unit {unit}", m.query());
            }
            let mut at = Some(0);
            let mut paged = Vec::new();
            while let Some(from) = at {
                let page = v
                    .find_all_on(&m, from..len, limit, threads, unit, &c)
                    .unwrap();
                paged.extend(page.matches);
                at = page.resume_at;
            }
            assert_eq!(paged, one.matches, "{:?} paged, unit {unit}", m.query());
            for replacement in [&b"<$1>"[..], b"Z"] {
                let per_line = Scope {
                    range: None,
                    first_per_line: true,
                };
                for scope in [Scope::whole(), per_line] {
                    let mut d1 = open(dir.path(), "u", &bytes);
                    let mut d2 = open(dir.path(), "w", &bytes);
                    let (a2, b2) = (
                        d1.snapshot()
                            .plan_replace_in_units(&m, replacement, &scope, (unit, 1), &c)
                            .unwrap(),
                        d2.snapshot()
                            .plan_replace_in_units(&m, replacement, &scope, (unit, threads), &c)
                            .unwrap(),
                    );
                    assert_eq!((a2.count(), a2.lines()), (b2.count(), b2.lines()));
                    d1.apply_planned(a2).unwrap();
                    d2.apply_planned(b2).unwrap();
                    assert_eq!(
                        content(&d2),
                        content(&d1),
                        "{:?} replace-all, unit {unit}",
                        m.query()
                    );
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 120, ..ProptestConfig::default() })]

        #[test]
        fn matches_on_threads_equal_the_one_thread_scan(
            bytes in text(),
            unit in 1..40usize,
            threads in 2..5usize,
            limit in 1..6usize,
        ) {
            check(bytes, unit, threads, limit);
        }
    }

    /// Fixed cases that cross cuts in every way, whatever proptest draws.
    #[test]
    fn fixed_texts_in_every_unit_size() {
        let text = "aaaaaaa b aa\r\nfoo bar aaa\nxa -b\n\nfoo\rbaz aaaa €aa é\n".repeat(3);
        for unit in 1..12 {
            check(text.clone().into_bytes(), unit, 3, 4);
        }
    }
}

/// The next match searched on several threads (windows searched in parallel rounds) equals
/// the one-thread search, from every offset, forward and backward, wrapping or not, with
/// patterns whose matches overlap the windows' edges, pair up differently from different
/// starts, are empty or span lines, and windows small enough for many rounds.
#[test]
fn next_match_on_threads_equals_the_one_thread_search() {
    let dir = tempfile::tempdir().unwrap();
    let text = "aaaaaaa b aa\r\nfoo bar aaa\nxx\n\nfoo\rbaz aaaa €aa é\n".repeat(12);
    let doc = open(dir.path(), "t", text.as_bytes());
    let c = Control::new();
    for pattern in [
        "aa",
        "a+",
        "x*",
        "^",
        "$",
        r"\b",
        "foo|foo bar",
        r"a\r?\nf",
        "(?s).{7}",
        "é",
        "baz aaaa €aa é\nZ",
        "nowhere",
    ] {
        let m = regex(pattern).with_windows(29, 8);
        for from in 0..=text.len() {
            if !text.is_char_boundary(from) {
                continue;
            }
            for direction in [Direction::Forward, Direction::Backward] {
                for wrap in [false, true] {
                    let want = doc
                        .view()
                        .find_on(&m, from, direction, wrap, 1, &c)
                        .unwrap();
                    for threads in [2, 3, 7] {
                        let got = doc
                            .view()
                            .find_on(&m, from, direction, wrap, threads, &c)
                            .unwrap();
                        assert_eq!(
                            got, want,
                            "{pattern:?} from {from} {direction:?} wrap {wrap}, {threads} threads"
                        );
                    }
                }
            }
        }
    }
}
