//! `timestamp::seek_time` against a linear scan, on generated logs: every format, sorted and
//! locally disordered, lines without timestamps, LF / CRLF / lone CR, times before the first
//! line, after the last, and on each line's own time; also on an edited document (many
//! pieces, so probes copy windows).

use tome_core::timestamp::{
    detect_layout, format_utc, seek_time, StampedLine, TimeFormat, TimeLayout, DISORDER_WINDOW,
};
use tome_core::Document;
use tome_gen::Rng;

const NOW: (i32, u8) = (2026, 11);
/// 2026-11-26T12:00:00Z.
const NOON: i64 = 1_795_694_400_000;
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The timestamp text of `ms` in format `f` (zone `Z`/`+0000` where there is one).
fn stamp_text(f: TimeFormat, ms: i64) -> String {
    let iso = format_utc(ms); // 2026-11-26T12:00:00.000Z
    let (date, time) = (&iso[..10], &iso[11..23]);
    let mon = MONTHS[iso[5..7].parse::<usize>().unwrap() - 1];
    match f {
        TimeFormat::Iso8601 => iso.clone(),
        TimeFormat::DateTime => format!("{date} {time}"),
        TimeFormat::Syslog => format!("{mon} {:>2} {}", iso[8..10].trim_start_matches('0'), time),
        TimeFormat::CommonLog => {
            format!("{}/{mon}/{}:{} +0000", &iso[8..10], &iso[..4], &iso[11..19])
        }
        TimeFormat::EpochSeconds => format!("{}.{:03}", ms / 1000, ms % 1000),
        TimeFormat::EpochMillis => format!("{ms}"),
    }
}

fn line_text(f: TimeFormat, ms: i64, n: usize, rng: &mut Rng) -> String {
    let words = "x".repeat(rng.below(80));
    match f {
        TimeFormat::CommonLog => format!(
            "10.0.{}.{} - - [{}] \"GET /{n} HTTP/1.1\" 200 {words}",
            rng.below(256),
            rng.below(256),
            stamp_text(f, ms)
        ),
        _ => format!("{} INFO seq={n} {words}", stamp_text(f, ms)),
    }
}

struct Log {
    text: Vec<u8>,
}

/// A log of `lines` lines in format `f`: times rising by 0–2 s; with `disorder`, patches of
/// lines whose times are shuffled within a few seconds; lines without timestamps between.
fn make_log(f: TimeFormat, lines: usize, eol: &str, disorder: bool, seed: u64) -> Log {
    let mut rng = Rng::new(seed);
    let mut t = NOON - 3_600_000;
    let mut text = String::new();
    if seed.is_multiple_of(2) {
        text.push_str("# a header line without a time");
        text.push_str(eol);
    }
    for n in 0..lines {
        t += rng.below(2000) as i64;
        let mut ms = t;
        if disorder && rng.below(20) == 0 {
            // A late or early line, up to 5 s off.
            ms += rng.below(10_000) as i64 - 5000;
        }
        text.push_str(&line_text(f, ms, n, &mut rng));
        if rng.below(10) == 0 {
            // Continuation lines (a stack trace), an empty line.
            for _ in 0..rng.below(4) {
                text.push_str(eol);
                text.push_str("    at frame ");
                text.push_str(&"y".repeat(rng.below(40)));
            }
            text.push_str(eol);
        }
        // The last line sometimes has no terminator.
        if n + 1 < lines || !seed.is_multiple_of(3) {
            text.push_str(eol);
        }
    }
    Log {
        text: text.into_bytes(),
    }
}

/// Every timestamped line, by splitting the whole text (the oracle's own line splitting).
fn linear(text: &[u8], layout: &TimeLayout) -> Vec<StampedLine> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    loop {
        let end = text[i..]
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
            .map(|k| i + k);
        let line_end = end.unwrap_or(text.len());
        if let Some((s, col)) = layout.stamp_of(&text[start..line_end]) {
            out.push(StampedLine {
                start,
                at: start + col,
                len: s.len,
                ms: s.ms,
            });
        }
        let Some(e) = end else { break };
        let next = if text[e] == b'\r' && text.get(e + 1) == Some(&b'\n') {
            e + 2
        } else {
            e + 1
        };
        start = next;
        i = next;
        if next >= text.len() {
            break;
        }
    }
    out
}

/// The answers the rule allows for `target` (see `seek.rs`).
fn allowed(lines: &[StampedLine], target: i64) -> Vec<Option<StampedLine>> {
    let mut out = Vec::new();
    if lines.last().is_none_or(|l| l.ms < target) {
        out.push(None);
    }
    for (i, b) in lines.iter().enumerate() {
        if b.ms >= target && (i == 0 || lines[i - 1].ms < target) {
            let from = b.start.saturating_sub(DISORDER_WINDOW);
            let first = lines
                .iter()
                .find(|l| l.start >= from && l.start <= b.start && l.ms >= target);
            out.push(first.copied());
        }
    }
    out
}

fn check(doc: &Document, text: &[u8], f: TimeFormat, sorted: bool, seed: u64) {
    let view = doc.view();
    let layout = detect_layout(&view, None, NOW).expect("a layout");
    assert_eq!(layout.format, f);
    let lines = linear(text, &layout);
    assert!(lines.len() > 100, "{f:?}: {} stamped lines", lines.len());
    let mut rng = Rng::new(seed);
    let first = lines[0].ms;
    let last = lines.iter().map(|l| l.ms).max().unwrap();
    let mut targets = vec![first - 1, first, last, last + 1, i64::MIN / 4, i64::MAX / 4];
    for _ in 0..200 {
        targets.push(first - 5000 + rng.below((last - first + 10_000) as usize) as i64);
        targets.push(lines[rng.below(lines.len())].ms);
    }
    for t in targets {
        let got = seek_time(&view, &layout, t).unwrap();
        assert!(!got.approximate);
        assert!(got.probes <= 2 * (usize::BITS - text.len().leading_zeros()) as usize + 2);
        let ok = allowed(&lines, t);
        assert!(
            ok.contains(&got.line),
            "{f:?} seed {seed} target {t}: got {:?}, allowed {ok:?}",
            got.line
        );
        if sorted {
            // A sorted log: exactly the first line at or after the time.
            assert_eq!(got.line, lines.iter().find(|l| l.ms >= t).copied());
        }
    }
}

#[test]
fn seek_matches_a_linear_scan_in_every_format_and_line_ending() {
    let dir = tempfile::tempdir().unwrap();
    let mut seed = 0;
    for f in TimeFormat::ALL {
        for eol in ["\n", "\r\n", "\r"] {
            for disorder in [false, true] {
                seed += 1;
                let log = make_log(f, 3000, eol, disorder, seed);
                let path = dir.path().join(format!("{seed}.log"));
                std::fs::write(&path, &log.text).unwrap();
                let doc = Document::open(&path).unwrap();
                // Syslog's seconds have no year in the file: timestamps sort within the year.
                check(&doc, &log.text, f, !disorder, seed);
            }
        }
    }
}

#[test]
fn seek_on_an_edited_document_reads_across_pieces() {
    let dir = tempfile::tempdir().unwrap();
    let log = make_log(TimeFormat::Iso8601, 20_000, "\n", true, 77);
    let path = dir.path().join("edited.log");
    std::fs::write(&path, &log.text).unwrap();
    let mut doc = Document::open(&path).unwrap();
    let mut text = log.text.clone();
    let mut rng = Rng::new(5);
    // Single-byte edits all over the file: many pieces, lines split across them.
    for _ in 0..2000 {
        let at = rng.below(text.len());
        if text[at].is_ascii_lowercase() {
            doc.replace(at..at + 1, "Q").unwrap();
            text[at] = b'Q';
        }
    }
    assert!(doc.piece_count() > 1000);
    check(&doc, &text, TimeFormat::Iso8601, false, 9);
}

#[test]
fn edges_empty_one_line_and_no_timestamps() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.log");
    std::fs::write(&path, "").unwrap();
    let doc = Document::open(&path).unwrap();
    assert_eq!(detect_layout(&doc.view(), None, NOW), None);

    std::fs::write(&path, "2026-11-26T12:00:00Z only").unwrap();
    let doc = Document::open(&path).unwrap();
    let layout = detect_layout(&doc.view(), None, NOW).unwrap();
    let at = |t| {
        seek_time(&doc.view(), &layout, t)
            .unwrap()
            .line
            .map(|l| l.start)
    };
    assert_eq!(at(NOON - 1), Some(0));
    assert_eq!(at(NOON), Some(0));
    assert_eq!(at(NOON + 1), None);

    std::fs::write(&path, "plain text\nno times at all\n").unwrap();
    let doc = Document::open(&path).unwrap();
    assert_eq!(detect_layout(&doc.view(), None, NOW), None);
}

#[test]
fn a_long_run_without_timestamps_is_reported_approximate_or_exact() {
    // 4 MiB of lines without a timestamp between two halves of a sorted log.
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for i in 0..2000i64 {
        text.push_str(&format!("{} a\n", format_utc(NOON + i * 1000)));
    }
    for _ in 0..(4 << 20) / 64 {
        text.push_str(&"z".repeat(63));
        text.push('\n');
    }
    for i in 2000..4000i64 {
        text.push_str(&format!("{} b\n", format_utc(NOON + i * 1000)));
    }
    let path = dir.path().join("gap.log");
    std::fs::write(&path, &text).unwrap();
    let doc = Document::open(&path).unwrap();
    let layout = detect_layout(&doc.view(), None, NOW).unwrap();
    let lines = linear(text.as_bytes(), &layout);
    for t in [
        NOON,
        NOON + 500_000,
        NOON + 1_999_000,
        NOON + 2_000_000,
        NOON + 3_500_000,
    ] {
        let got = seek_time(&doc.view(), &layout, t).unwrap();
        let want = lines.iter().find(|l| l.ms >= t).copied();
        // Either the exact answer, or flagged as approximate.
        assert!(
            got.line == want || got.approximate,
            "target {t}: {got:?} vs {want:?}"
        );
    }
}

/// For each byte offset of `text` that starts a character (and its end), the number of
/// UTF-16 units before it.
fn units_before(text: &str) -> Vec<usize> {
    let mut out = vec![0; text.len() + 1];
    let mut units = 0;
    for (i, c) in text.char_indices() {
        out[i] = units;
        units += c.len_utf16();
    }
    out[text.len()] = units;
    out
}

/// In UTF-16 (LE and BE, with and without a byte-order mark, LF and CRLF, non-ASCII text and
/// characters with 0x0A / 0x0D bytes in every line): the layout detected and every seek's
/// answer are those of the same log in UTF-8, at the corresponding offsets.
#[test]
fn seek_in_utf16_finds_what_it_finds_in_utf8() {
    let dir = tempfile::tempdir().unwrap();
    let mut seed = 100;
    for f in [
        TimeFormat::Iso8601,
        TimeFormat::Syslog,
        TimeFormat::CommonLog,
        TimeFormat::EpochMillis,
    ] {
        for eol in ["\n", "\r\n"] {
            seed += 1;
            let log = make_log(f, 3000, eol, seed % 2 == 0, seed);
            // Non-ASCII after each timestamped line's text: é (E9 00), 日 (E5 65), and ਊ
            // (U+0A0A: 0A 0A, a line feed's bytes) and ഍ (U+0D0D).
            let text = String::from_utf8(log.text)
                .unwrap()
                .replace(" INFO ", " INFO é日\u{0A0A}\u{0D0D} ");
            let utf8 = dir.path().join(format!("{seed}.log"));
            std::fs::write(&utf8, &text).unwrap();
            let narrow = Document::open(&utf8).unwrap();
            let view8 = narrow.view();
            let layout8 = detect_layout(&view8, None, NOW).expect("a layout in UTF-8");
            let lines = linear(text.as_bytes(), &layout8);
            let units = units_before(&text);
            let mut targets: Vec<i64> = lines.iter().step_by(7).map(|l| l.ms).collect();
            targets.extend([i64::MIN / 4, lines[0].ms - 1, i64::MAX / 4]);
            for (label, bom) in [
                ("utf-16le", &b"\xFF\xFE"[..]),
                ("utf-16be", &b"\xFE\xFF"[..]),
                ("utf-16le", &b""[..]),
            ] {
                let enc = tome_core::Encoding::from_label(label, false).unwrap();
                let mut bytes = bom.to_vec();
                bytes.extend(enc.charset().encode(&text).unwrap());
                let path = dir.path().join(format!("{seed}-{label}-{}.log", bom.len()));
                std::fs::write(&path, &bytes).unwrap();
                let doc =
                    Document::open_cached_as(&path, Default::default(), None, Some(enc)).unwrap();
                let view = doc.view();
                let layout = detect_layout(&view, None, NOW).expect("a layout in UTF-16");
                assert_eq!(layout.format, f, "{label}");
                let at = |o: usize| bom.len() + 2 * units[o];
                for &t in &targets {
                    let want = seek_time(&view8, &layout8, t).unwrap();
                    let got = seek_time(&view, &layout, t).unwrap();
                    let want_line = want.line.map(|l| StampedLine {
                        start: at(l.start),
                        at: at(l.at),
                        len: at(l.at + l.len) - at(l.at),
                        ms: l.ms,
                    });
                    assert_eq!(
                        got.line,
                        want_line,
                        "{f:?} {label} bom {} target {t}",
                        bom.len()
                    );
                    assert_eq!(got.approximate, want.approximate);
                }
            }
        }
    }
}
