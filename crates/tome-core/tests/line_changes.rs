//! Line-wise whole-document changes against a model that works line by line with `regex`:
//! a replace-all in a range of lines, of the first match of each line (Vim's `:s` without
//! `g`), and the deletion of the lines that match or do not (`:g/pat/d`, `:v/pat/d`). Random
//! documents with LF, CRLF and lone CR line breaks, random patterns and ranges; each change is
//! undone and redone, and the journal replays it.

use regex::bytes::RegexBuilder;
use tome_core::{Control, Document, Matcher, Query, Scope};

fn content(doc: &Document) -> Vec<u8> {
    doc.view().read(0, doc.len()).unwrap()
}

/// The lines of `text` as Tome counts them: (content, line break), the last possibly empty.
fn lines(text: &[u8]) -> Vec<(&[u8], &[u8])> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'\n' => {
                out.push((&text[start..i], &text[i..i + 1]));
                i += 1;
                start = i;
            }
            b'\r' => {
                let n = if text.get(i + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
                out.push((&text[start..i], &text[i..i + n]));
                i += n;
                start = i;
            }
            _ => i += 1,
        }
    }
    out.push((&text[start..], &text[text.len()..]));
    out
}

const PATTERNS: &[(&str, &str)] = &[
    ("a", "X"),
    ("ab", ""),
    ("b+", "<$0>"),
    ("^a", "A"),
    ("a$", "Z"),
    ("^", "> "),
    ("$", ";"),
    ("x*", "-"),
    (r"\bab\b", "AB"),
    ("[ab]{2}", "."),
    ("(a)(b)", "$2$1"),
    ("zzz", "never"),
];

#[test]
fn scoped_replace_all_and_line_deletion_match_a_line_by_line_model() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = tome_gen::Rng::new(11);
    for round in 0..150 {
        // A document of short lines over a small alphabet, mixed line breaks.
        let mut text = Vec::new();
        let nlines = 1 + rng.below(40);
        for _ in 0..nlines {
            for _ in 0..rng.below(12) {
                text.push(b"abx "[rng.below(4)]);
            }
            text.extend_from_slice([&b"\n"[..], b"\n", b"\r\n", b"\r"][rng.below(4)]);
        }
        if rng.below(3) == 0 {
            text.extend_from_slice(b"ab a"); // no final line break
        }
        let path = dir.path().join(format!("doc{round}.txt"));
        std::fs::write(&path, &text).unwrap();
        let (pattern, replacement) = PATTERNS[rng.below(PATTERNS.len())];
        let model_re = RegexBuilder::new(pattern)
            .multi_line(true)
            .crlf(true)
            .build()
            .unwrap();
        let matcher = Matcher::new(&Query {
            pattern: pattern.into(),
            regex: true,
            case_insensitive: false,
        })
        .unwrap();
        let ls = lines(&text);
        // The lines an editor shows: after a final line break there is no other.
        let shown = if text.is_empty() || matches!(text.last(), Some(b'\n' | b'\r')) {
            ls.len() - 1
        } else {
            ls.len()
        };
        let whole = rng.below(4) == 0;
        let (l0, l1) = if whole {
            (0, ls.len())
        } else {
            let a = rng.below(shown.max(1));
            (a, (a + 1 + rng.below(shown - a)).min(shown))
        };
        let offset = |l: usize| {
            ls[..l]
                .iter()
                .map(|(c, b)| c.len() + b.len())
                .sum::<usize>()
        };
        let scope = |first_per_line| Scope {
            range: (!whole).then(|| offset(l0)..offset(l1)),
            first_per_line,
        };
        let what = format!("round {round}: {pattern:?} on lines {l0}..{l1} of {text:?}");

        // Replace-all in the scope, every match or the first of each line.
        for first in [false, true] {
            let mut expected = Vec::new();
            let (mut count, mut on_lines) = (0, 0);
            for (i, (c, b)) in ls.iter().enumerate() {
                if (l0..l1).contains(&i) {
                    let n = if first { 1 } else { usize::MAX };
                    let found = model_re.find_iter(c).take(n).count();
                    count += found;
                    on_lines += usize::from(found > 0);
                    expected.extend_from_slice(&model_re.replacen(
                        c,
                        n.min(1 << 30),
                        replacement.as_bytes(),
                    ));
                } else {
                    expected.extend_from_slice(c);
                }
                expected.extend_from_slice(b);
            }
            let mut doc = Document::open(&path).unwrap();
            let plan = doc
                .snapshot()
                .plan_replace_in(
                    &matcher,
                    replacement.as_bytes(),
                    &scope(first),
                    &Control::new(),
                )
                .unwrap();
            assert_eq!(
                (plan.count(), plan.lines()),
                (count, on_lines),
                "{what} first={first}"
            );
            doc.apply_planned(plan).unwrap();
            assert!(
                content(&doc) == expected,
                "{what} first={first}: {:?} != {:?}",
                String::from_utf8_lossy(&content(&doc)),
                String::from_utf8_lossy(&expected)
            );
            if count > 0 {
                doc.undo().unwrap();
                assert!(content(&doc) == text, "{what}: undo");
                doc.redo().unwrap();
                assert!(content(&doc) == expected, "{what}: redo");
            }
        }

        // Deleting the lines that match, or those that do not.
        for invert in [false, true] {
            let mut expected = Vec::new();
            let mut deleted = 0;
            for (i, (c, b)) in ls.iter().enumerate() {
                // (The whole document's scope also holds the empty line after a final line
                // break, but deleting it deletes nothing.)
                let in_scope = (l0..l1).contains(&i) && i < shown;
                let goes = in_scope && (model_re.is_match(c) != invert);
                if goes {
                    deleted += 1;
                } else {
                    expected.extend_from_slice(c);
                    expected.extend_from_slice(b);
                }
            }
            let mut doc = Document::open(&path).unwrap();
            let n = doc
                .delete_lines(&matcher, &scope(false), invert, &Control::new())
                .unwrap();
            assert!(
                content(&doc) == expected,
                "{what} invert={invert}: {:?} != {:?}",
                String::from_utf8_lossy(&content(&doc)),
                String::from_utf8_lossy(&expected)
            );
            assert_eq!(n, deleted, "{what} invert={invert}");
        }
    }
}

/// A scoped change is journaled as itself: a crash after it recovers the same content.
#[test]
fn scoped_changes_replay_from_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc.txt");
    std::fs::write(&path, "a a\nb a\na b\n".repeat(100)).unwrap();
    let jdir = dir.path().join("journal");
    let mut doc = Document::open(&path).unwrap();
    assert!(doc.enable_journal(&jdir).unwrap().is_none());
    let m = |p: &str| {
        Matcher::new(&Query {
            pattern: p.into(),
            regex: false,
            case_insensitive: false,
        })
        .unwrap()
    };
    let scope = Scope {
        range: Some(12..120),
        first_per_line: true,
    };
    doc.replace_in(&m("a"), b"X", &scope, &Control::new())
        .unwrap();
    doc.delete_lines(
        &m("b"),
        &Scope {
            range: Some(0..200),
            first_per_line: false,
        },
        false,
        &Control::new(),
    )
    .unwrap();
    doc.delete_lines(&m("X"), &Scope::whole(), true, &Control::new())
        .unwrap();
    doc.undo().unwrap();
    let expected = content(&doc);
    doc.sync_journal();
    doc.simulate_crash();
    let mut doc = Document::open(&path).unwrap();
    let found = doc.enable_journal(&jdir).unwrap().expect("a journal");
    let (_, stopped) = doc.recover(found).unwrap();
    assert_eq!(stopped, None);
    assert!(content(&doc) == expected, "recovered content differs");
}
