//! Filters of a generated file of a few hundred MiB (scanned on every core: past
//! `filter::PARALLEL_MIN`, in 16 MiB units whose cuts fall inside lines) against `grep -n` on
//! the same file: literal, regex, case-insensitive, whole word, inverted, and a combination
//! against a pipeline of greps. Then a scan cancelled while it runs. One test, so the file is
//! generated once.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use tome_core::filter::{FilterQuery, LineFilter};
use tome_core::{Control, Document, Error, Query};
use tome_gen::{GenConfig, LineEnding};

const SIZE: u64 = 320 << 20;
const NEEDLE: &str = "#TOME-NEEDLE#";

fn leaf(pattern: &str, regex: bool, case_insensitive: bool, whole_word: bool) -> FilterQuery {
    FilterQuery::Match {
        query: Query {
            pattern: pattern.into(),
            regex,
            case_insensitive,
        },
        whole_word,
    }
}

/// The 0-based line numbers `sh -c script` prints as `grep -n` does (`N:...`), read as they
/// stream (the output of an inverted grep is most of the file).
fn grep_lines(script: &str) -> Vec<u64> {
    let mut child = Command::new("sh")
        .args(["-c", script])
        .env("LC_ALL", "C")
        .stdout(Stdio::piped())
        .spawn()
        .expect("sh runs");
    let mut out = Vec::new();
    let mut reader = BufReader::with_capacity(1 << 20, child.stdout.take().unwrap());
    let mut line = Vec::new();
    while reader.read_until(b'\n', &mut line).unwrap() > 0 {
        let colon = line.iter().position(|&b| b == b':').expect("N:");
        let n: u64 = std::str::from_utf8(&line[..colon])
            .unwrap()
            .parse()
            .unwrap();
        out.push(n - 1);
        line.clear();
    }
    child.wait().unwrap();
    out
}

/// The line numbers a full filter finds, checking that each offset is its line's start.
fn filter_lines(doc: &mut Document, q: &FilterQuery) -> Vec<u64> {
    let f = LineFilter::new(q).unwrap();
    let snap = doc.snapshot();
    let view = snap.view();
    let mut lines = Vec::new();
    let (end, _) = f
        .scan(view, 0, 0, &Control::new(), |found, _, _| {
            lines.extend_from_slice(found);
            true
        })
        .unwrap();
    assert_eq!(end, view.len());
    // Spot checks of the offsets against the line index (every 1000th line).
    for &(offset, line) in lines.iter().step_by(1000) {
        assert_eq!(view.line_start(line as usize).unwrap(), offset as usize);
    }
    lines.into_iter().map(|(_, l)| l).collect()
}

#[test]
fn filters_of_a_320_mib_file_equal_grep() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    let cfg = GenConfig {
        needle: Some(NEEDLE.into()),
        needle_every: 5_000,
        line_ending: LineEnding::Lf,
        ..GenConfig::sized(SIZE)
    };
    tome_gen::write_file(&cfg, &path).unwrap();
    let p = path.display().to_string();
    let mut doc = Document::open(&path).unwrap();
    doc.wait_for_index(&Control::new()).unwrap();

    let cases: Vec<(FilterQuery, String)> = vec![
        (
            leaf(NEEDLE, false, false, false),
            format!("grep -nF '{NEEDLE}' {p}"),
        ),
        (
            leaf("ERROR", false, false, false),
            format!("grep -n ERROR {p}"),
        ),
        (
            leaf("status=5[0-9]{2} latency_ms=[0-9]{3}", true, false, false),
            format!("grep -nE 'status=5[0-9]{{2}} latency_ms=[0-9]{{3}}' {p}"),
        ),
        (
            leaf("[A-Za-z]{8}", true, false, false),
            format!("grep -nE '[A-Za-z]{{8}}' {p}"),
        ),
        (
            leaf("error", false, true, false),
            format!("grep -ni error {p}"),
        ),
        (
            leaf("cache", false, false, true),
            format!("grep -nw cache {p}"),
        ),
        (
            FilterQuery::Not(Box::new(leaf("INFO", false, false, false))),
            format!("grep -nv INFO {p}"),
        ),
        (
            FilterQuery::And(vec![
                leaf("ERROR", false, false, false),
                FilterQuery::Not(Box::new(leaf("status=2", false, false, false))),
            ]),
            format!("grep -n ERROR {p} | grep -v status=2"),
        ),
    ];
    for (q, script) in &cases {
        let want = grep_lines(script);
        assert!(!want.is_empty(), "{script} finds lines");
        let got = filter_lines(&mut doc, q);
        assert_eq!(got.len(), want.len(), "{script}");
        assert!(got == want, "{script}: the line lists differ");
    }

    // Cancelled while it runs: `Cancelled`, with the lines handed out so far in order.
    let f = LineFilter::new(&leaf("ERROR", false, false, false)).unwrap();
    let snap = doc.snapshot();
    let control = Control::new();
    let mut handed = Vec::new();
    let r = f.scan(snap.view(), 0, 0, &control, |found, pos, _| {
        handed.extend_from_slice(found);
        if pos > 100 << 20 {
            control.cancel();
        }
        true
    });
    assert!(matches!(r, Err(Error::Cancelled)), "{r:?}");
    let all = grep_lines(&format!("grep -n ERROR {p}"));
    assert!(!handed.is_empty() && handed.len() < all.len());
    let numbers: Vec<u64> = handed.iter().map(|&(_, l)| l).collect();
    assert_eq!(numbers, all[..numbers.len()]);
}
