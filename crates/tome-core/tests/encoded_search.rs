//! Regular expressions, case-insensitive text and whole words in documents that are not UTF-8
//! (UTF-16LE/BE, windows-1252, Shift_JIS, GBK): every match of `find_all`, `count` and `find`
//! (forward and backward, small windows so that matches cross window edges, several threads
//! and small units so that they cross unit cuts) equals what `regex` finds on the text
//! decoded whole, mapped to file offsets by encoding the text before each match.

use regex::RegexBuilder;
use tome_core::{
    Charset, Control, Direction, Document, Encoding, Matcher, OnInterruptedSave, Query,
};

const ALPHABET: &[&str] = &[
    "a",
    "b",
    "Z",
    "x1",
    " ",
    "\n",
    "\r\n",
    "é",
    "É",
    "ß",
    "€",
    "あ",
    "カ",
    "漢",
    "字",
    "🦀",
    "\u{A0D}",
    "\u{10A}",
    "word",
    "Word ",
    "seq=1234 ",
    "café ",
];

fn random_text(seed: &mut u64, n: usize, cs: Charset) -> String {
    let alphabet: Vec<&str> = ALPHABET
        .iter()
        .copied()
        .filter(|s| cs.encode(s).is_ok())
        .collect();
    let mut out = String::new();
    for _ in 0..n {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        out.push_str(alphabet[(*seed % alphabet.len() as u64) as usize]);
    }
    out
}

/// The matches `regex` finds on `text`, as file byte ranges.
fn oracle(text: &str, cs: Charset, pattern: &str, ci: bool) -> Vec<std::ops::Range<usize>> {
    let re = RegexBuilder::new(pattern)
        .case_insensitive(ci)
        .multi_line(true)
        .crlf(true)
        .build()
        .unwrap();
    let file = |i: usize| cs.encode(&text[..i]).unwrap().len();
    re.find_iter(text)
        .map(|m| file(m.start())..file(m.end()))
        .collect()
}

const PATTERNS: &[(&str, bool, bool)] = &[
    // (pattern, regex, case-insensitive)
    (r"\w+", true, false),
    (r"[éÉ]\w*", true, false),
    (r"^\w", true, false),
    (r"\w$", true, false),
    (r"seq=1[0-9]{3}\b", true, false),
    (r"あ|漢字|🦀+", true, false),
    (r"[^\x00-\x7F]{2,}", true, false),
    ("é", false, true),
    ("WORD", false, true),
    ("CAFÉ", false, true),
    (r"(?i)é\w", true, false),
];

#[test]
fn decoded_search_matches_regex_on_the_decoded_text() {
    let dir = tempfile::tempdir().unwrap();
    let encodings = [
        Encoding::Utf16Le,
        Encoding::Utf16Be,
        Encoding::Legacy(encoding_rs::WINDOWS_1252),
        Encoding::Legacy(encoding_rs::SHIFT_JIS),
        Encoding::Legacy(encoding_rs::GBK),
    ];
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let c = Control::new();
    for enc in encodings {
        let cs = enc.charset();
        for round in 0..4 {
            let text = random_text(&mut seed, 300 + round * 200, cs);
            let bytes = cs.encode(&text).unwrap();
            let path = dir.path().join(format!("{}-{round}", enc.name()));
            std::fs::write(&path, &bytes).unwrap();
            let mut doc =
                Document::open_cached_as(&path, OnInterruptedSave::Refuse, None, Some(enc))
                    .unwrap();
            doc.wait_for_index(&c).unwrap();
            let v = doc.view();
            let len = v.len();
            let file = |i: usize| cs.encode(&text[..i]).unwrap().len();
            let mut bounds: Vec<(usize, usize)> =
                text.char_indices().map(|(i, _)| (i, file(i))).collect();
            bounds.push((text.len(), len));
            for &(pattern, regex, ci) in PATTERNS {
                let want = oracle(
                    &text,
                    cs,
                    &if regex {
                        pattern.to_owned()
                    } else {
                        regex::escape(pattern)
                    },
                    ci,
                );
                let q = Query {
                    pattern: pattern.into(),
                    regex,
                    case_insensitive: ci,
                };
                let what = format!("{} {pattern:?} round {round}", enc.name());
                let re = RegexBuilder::new(&if regex {
                    pattern.to_owned()
                } else {
                    regex::escape(pattern)
                })
                .case_insensitive(ci)
                .multi_line(true)
                .crlf(true)
                .build()
                .unwrap();
                let m = Matcher::new_in(&q, cs).unwrap();
                let all = v.find_all(&m, 0..len, usize::MAX, &c).unwrap();
                assert_eq!(all.matches, want, "{what}");
                assert_eq!(v.count_matches(&m, &c).unwrap(), want.len(), "{what}");
                // Small windows: matches cross window edges; units cut characters.
                // (A match longer than the overlap may be cut at a window's end: the overlap
                // takes in the longest match.)
                let longest = want.iter().map(|r| r.len()).max().unwrap_or(0);
                let overlap = 24.max(longest + 8);
                let small = m.clone().with_windows(64.max(3 * overlap), overlap);
                for (threads, unit) in [(1, 37), (3, 37), (2, 101)] {
                    let page = v
                        .find_all_on(&small, 0..len, usize::MAX, threads, unit, &c)
                        .unwrap();
                    assert_eq!(page.matches, want, "{what} {threads} threads, unit {unit}");
                    let n = v.count_matches_on(&small, threads, unit, &c).unwrap();
                    assert_eq!(n, want.len(), "{what} count {threads} threads");
                }
                // Pages join up.
                let mut from = 0;
                let mut paged = Vec::new();
                loop {
                    let p = v.find_all(&small, from..len, 3, &c).unwrap();
                    paged.extend(p.matches);
                    match p.resume_at {
                        Some(r) => from = r,
                        None => break,
                    }
                }
                assert_eq!(paged, want, "{what} pages");
                // Next, forward and backward, with wrap, from every 7th byte.
                for from in (0..=len).step_by(7) {
                    // What `find_at` finds from the first character at or after `from`.
                    let i = bounds
                        .iter()
                        .find(|b| b.1 >= from)
                        .map_or(text.len(), |b| b.0);
                    let fwd = re.find_at(&text, i).map(|m| file(m.start())..file(m.end()));
                    let got = v
                        .find_on(&small, from, Direction::Forward, false, 2, &c)
                        .unwrap();
                    assert_eq!(got, fwd, "{what} next from {from}");
                    let wrapped = v
                        .find_on(&small, from, Direction::Forward, true, 1, &c)
                        .unwrap();
                    assert_eq!(wrapped, fwd.or(want.first().cloned()), "{what} wrap {from}");
                    let back = want.iter().rev().find(|r| r.start < from).cloned();
                    let got = v
                        .find_on(&m, from, Direction::Backward, true, 1, &c)
                        .unwrap();
                    assert_eq!(got, back.or(want.last().cloned()), "{what} back {from}");
                }
            }
        }
    }
}

#[test]
fn whole_words_in_utf16_and_legacy_files() {
    let dir = tempfile::tempdir().unwrap();
    let c = Control::new();
    let latin = "foo foobar café-foo\r\nfoo_x éfoo foo";
    for enc in [
        Encoding::Utf16Le,
        Encoding::Utf16Be,
        Encoding::Legacy(encoding_rs::WINDOWS_1252),
        Encoding::Legacy(encoding_rs::SHIFT_JIS),
    ] {
        let cs = enc.charset();
        let text = &if cs.encode("é").is_ok() {
            latin.to_owned()
        } else {
            latin.replace('é', "あ")
        };
        let bytes = cs.encode(text).unwrap();
        let path = dir.path().join(enc.name());
        std::fs::write(&path, &bytes).unwrap();
        let mut doc =
            Document::open_cached_as(&path, OnInterruptedSave::Refuse, None, Some(enc)).unwrap();
        doc.wait_for_index(&c).unwrap();
        let v = doc.view();
        let file = |i: usize| cs.encode(&text[..i]).unwrap().len();
        // Whole words with VS Code's separators: `-` separates, `_` and `é` do not.
        let at: Vec<usize> = text.match_indices("foo").map(|(i, _)| i).collect();
        let want: Vec<_> = [at[0], at[2], at[5]]
            .iter()
            .map(|&i| file(i)..file(i + 3))
            .collect();
        for (regex, ci) in [(false, false), (true, false), (false, true)] {
            let q = Query {
                pattern: "foo".into(),
                regex,
                case_insensitive: ci,
            };
            let m = Matcher::new_in(&q, cs).unwrap().whole_words(Some(
                tome_core::words::WordSeparators::new("`~!@#$%^&*()-=+[{]}\\|;:'\",.<>/?"),
            ));
            let all = v.find_all(&m, 0..v.len(), usize::MAX, &c).unwrap();
            assert_eq!(all.matches, want, "{} regex {regex} ci {ci}", enc.name());
        }
    }
}
