//! `tome/seekTime` over the protocol: on a generated 256 MiB log right after `tome/open`
//! (mixed LF / CRLF / CR line endings) against a linear scan that compares the fixed-width
//! timestamps as strings; a syslog log with unsorted patches and lines without timestamps;
//! the answer before the first and after the last line; every form of the time; the errors.

use std::path::Path;

use serde_json::{json, Value};
use tome_e2e::Server;
use tome_gen::{GenConfig, LineEnding, Rng};

fn open(s: &mut Server, path: &Path) -> u64 {
    let r = s.request("tome/open", json!({"path": path})).unwrap();
    r["doc"].as_u64().unwrap()
}

/// (start offset, line number, text of the line) of every line, split on LF, CRLF and CR.
fn lines(text: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'\n' => {
                out.push((start, i));
                start = i + 1;
            }
            b'\r' => {
                out.push((start, i));
                if text.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if start < text.len() {
        out.push((start, text.len()));
    }
    out
}

#[test]
fn seek_time_on_a_big_log_right_after_open_equals_a_linear_scan() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    let cfg = GenConfig {
        size: 256 << 20,
        seed: 3,
        line_ending: LineEnding::Mixed,
        ..GenConfig::default()
    };
    tome_gen::write_file(&cfg, &path).unwrap();
    let text = std::fs::read(&path).unwrap();
    // The generator writes `2026-11-27T00:00:00.007Z` (24 bytes, fixed width, rising): as
    // strings, these compare as times do. The oracle uses no parser of Tome's.
    let all = lines(&text);
    let stamped: Vec<(usize, usize, &[u8])> = all
        .iter()
        .enumerate()
        .filter(|(_, &(s, e))| e - s >= 24 && text[s + 23] == b'Z' && text[s + 10] == b'T')
        .map(|(n, &(s, _))| (n, s, &text[s..s + 24]))
        .collect();
    assert!(stamped.len() > 1_000_000);
    assert!(
        stamped.windows(2).all(|w| w[0].2 <= w[1].2),
        "the generator's times rise"
    );

    let mut s = Server::ready();
    let doc = open(&mut s, &path);
    let mut rng = Rng::new(11);
    let mut targets: Vec<String> = vec![
        "2000-01-01T00:00:00.000Z".into(),
        String::from_utf8_lossy(stamped[0].2).into_owned(),
        String::from_utf8_lossy(stamped[stamped.len() - 1].2).into_owned(),
        "2099-01-01T00:00:00.000Z".into(),
    ];
    for _ in 0..60 {
        let p = String::from_utf8_lossy(stamped[rng.below(stamped.len())].2).into_owned();
        targets.push(p.clone());
        // Between lines: another last millisecond digit.
        targets.push(format!("{}{}Z", &p[..22], rng.below(10)));
    }
    let mut saw_line_null = false;
    for t in &targets {
        let r = s
            .request("tome/seekTime", json!({"doc": doc, "time": t}))
            .unwrap();
        assert_eq!(r["format"], "iso8601");
        assert_eq!(r["approximate"], false);
        match stamped.iter().find(|x| x.2 >= t.as_bytes()) {
            Some(&(n, start, ts)) => {
                assert_eq!(r["offset"], start as u64, "{t}: {r}");
                assert_eq!(r["time"], String::from_utf8_lossy(ts).as_ref(), "{t}");
                assert_eq!(r["exact"], ts == t.as_bytes(), "{t}");
                match r["line"].as_u64() {
                    Some(l) => assert_eq!(l, n as u64, "{t}"),
                    None => saw_line_null = true,
                }
            }
            None => {
                assert_eq!(r["offset"], text.len() as u64, "{t}: {r}");
                assert_eq!(r["time"], Value::Null);
            }
        }
    }
    // Also as epoch milliseconds: the first line's time, 2026-11-27T00:00:00.007Z or so
    // (1795737600 s is 2026-11-27T00:00:00Z, by `date -u -d 2026-11-27 +%s`).
    let first = std::str::from_utf8(stamped[0].2).unwrap();
    assert_eq!(&first[..11], "2026-11-27T");
    let field = |a: usize, b: usize| first[a..b].parse::<i64>().unwrap();
    let ms = 1_795_737_600_000
        + field(11, 13) * 3_600_000
        + field(14, 16) * 60_000
        + field(17, 19) * 1000
        + field(20, 23);
    let r = s
        .request("tome/seekTime", json!({"doc": doc, "time": ms}))
        .unwrap();
    assert_eq!(r["offset"], stamped[0].1 as u64, "{r}");
    assert_eq!(r["exact"], true);
    // Whether the index had reached a line when asked depends on timing; both are answers.
    let _ = saw_line_null;
}

#[test]
fn seek_time_on_a_disordered_syslog_with_crlf_and_lines_without_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sys.log");
    // Nov 26 10:00:00 + i seconds; every 50th line 30 s early (a late writer); every 7th line
    // followed by a line without a time.
    let mut text = String::from("-- journal begins --\r\n");
    let mut times = Vec::new();
    for i in 0..20_000u32 {
        let mut t = 10 * 3600 + i;
        if i % 50 == 25 {
            t -= 30;
        }
        let start = text.len();
        text.push_str(&format!(
            "Nov 26 {:02}:{:02}:{:02} host app[{i}]: event {i}\r\n",
            t / 3600,
            t / 60 % 60,
            t % 60
        ));
        times.push((start, t));
        if i.is_multiple_of(7) {
            text.push_str("    continued without a time\r\n");
        }
    }
    std::fs::write(&path, &text).unwrap();
    let mut s = Server::ready();
    let doc = open(&mut s, &path);
    // The rule's answers: a line with t ≥ T after one with t < T, moved back to the first
    // line ≥ T within 64 KiB before it.
    let allowed = |target: u32| -> Vec<usize> {
        let mut out = Vec::new();
        for (k, &(start, t)) in times.iter().enumerate() {
            if t >= target && (k == 0 || times[k - 1].1 < target) {
                let from = start.saturating_sub(64 << 10);
                let first = times
                    .iter()
                    .find(|&&(s2, t2)| s2 >= from && s2 <= start && t2 >= target)
                    .map_or(start, |x| x.0);
                out.push(first);
            }
        }
        out
    };
    let mut rng = Rng::new(4);
    for _ in 0..100 {
        let target = 10 * 3600 - 100 + rng.below(20_200) as u32;
        let q = format!(
            "Nov 26 {:02}:{:02}:{:02}",
            target / 3600,
            target / 60 % 60,
            target % 60
        );
        let r = s
            .request(
                "tome/seekTime",
                json!({"doc": doc, "time": q, "format": "syslog"}),
            )
            .unwrap();
        assert_eq!(r["format"], "syslog");
        let ok = allowed(target);
        if ok.is_empty() {
            assert_eq!(r["offset"], text.len() as u64, "{q}: {r}");
        } else {
            let got = r["offset"].as_u64().unwrap() as usize;
            assert!(ok.contains(&got), "{q}: {r}, allowed {ok:?}");
            // With this log's disorder (30 s late lines, 64 KiB window) it is the first one.
            let first = times.iter().find(|x| x.1 >= target).unwrap().0;
            assert_eq!(got, first, "{q}");
        }
    }
    // Before the first line: the first timestamped line (after the header).
    let r = s
        .request("tome/seekTime", json!({"doc": doc, "time": "Nov 26 00:00"}))
        .unwrap();
    assert_eq!(r["offset"], times[0].0 as u64);
    // After the last: the end.
    let r = s
        .request("tome/seekTime", json!({"doc": doc, "time": "Nov 27"}))
        .unwrap();
    assert_eq!(r["offset"], text.len() as u64);
    assert_eq!(r["time"], Value::Null);
}

#[test]
fn seek_time_errors_and_capability() {
    let dir = tempfile::tempdir().unwrap();
    let (mut s, init) = Server::initialized(json!({}));
    let methods = &init["capabilities"]["experimental"]["tome"]["methods"];
    assert!(methods
        .as_array()
        .unwrap()
        .contains(&json!("tome/seekTime")));
    let plain = dir.path().join("plain.txt");
    std::fs::write(&plain, "no times here\njust text\n").unwrap();
    let doc = open(&mut s, &plain);
    let e = s
        .request("tome/seekTime", json!({"doc": doc, "time": "2026-11-26"}))
        .unwrap_err();
    assert_eq!(e["code"], -33019, "{e}");
    assert_eq!(e["data"]["kind"], "noTimestamps");

    let log = dir.path().join("a.log");
    std::fs::write(&log, "2026-11-26T12:00:00Z a\n").unwrap();
    let doc = open(&mut s, &log);
    let e = s
        .request("tome/seekTime", json!({"doc": doc, "time": "noon"}))
        .unwrap_err();
    assert_eq!(e["code"], -32602, "{e}");
    assert_eq!(e["data"]["kind"], "invalidTime");
    let e = s
        .request(
            "tome/seekTime",
            json!({"doc": doc, "time": "2026-11-26", "format": "nope"}),
        )
        .unwrap_err();
    assert_eq!(e["code"], -32602, "{e}");
    let e = s
        .request(
            "tome/seekTime",
            json!({"doc": doc, "time": "2026-11-26", "format": "syslog"}),
        )
        .unwrap_err();
    assert_eq!(e["code"], -33019, "{e}");
    for bad in [json!({"doc": doc}), json!({"doc": doc, "time": [1]})] {
        assert_eq!(s.error_code("tome/seekTime", bad), -32602);
    }
    assert_eq!(
        s.error_code("tome/seekTime", json!({"doc": 999, "time": "2026-11-26"})),
        -33001
    );
    let r = s
        .request(
            "tome/seekTime",
            json!({"doc": doc, "time": "2026-11-26T11:00"}),
        )
        .unwrap();
    assert_eq!(r["offset"], 0);
    assert_eq!(r["line"], 0);
    assert_eq!(r["exact"], false);
}

/// A UTF-16LE log (with a byte-order mark; opened by detection) and a UTF-16BE one (named at
/// open): the line found, its offset in the file and its timestamp's text (decoded) are those
/// Python's codecs would give for the same log.
#[test]
fn seek_time_in_utf16_logs() {
    let dir = tempfile::tempdir().unwrap();
    let (mut s, _) = Server::initialized(json!({}));
    let lines = [
        "header é",
        "2026-11-26T11:59:58Z INFO 日本 a",
        "2026-11-26T12:00:00.250Z WARN \u{0A0A} b",
        "2026-11-26T12:00:03Z INFO c",
    ];
    let text = lines.join("\r\n") + "\r\n";
    for (label, bom, named) in [("utf-16le", "\u{FEFF}", false), ("utf-16be", "", true)] {
        let with_bom = format!("{bom}{text}");
        let bytes: Vec<u8> = with_bom
            .encode_utf16()
            .flat_map(|u| {
                if label == "utf-16le" {
                    u.to_le_bytes()
                } else {
                    u.to_be_bytes()
                }
            })
            .collect();
        let path = dir.path().join(format!("{label}.log"));
        std::fs::write(&path, &bytes).unwrap();
        let params = if named {
            json!({"path": path, "encoding": label})
        } else {
            json!({"path": path})
        };
        let r = s.request("tome/open", params).unwrap();
        assert_eq!(
            r["encoding"].as_str().map(str::to_lowercase).as_deref(),
            Some(label),
            "{r}"
        );
        let doc = r["doc"].as_u64().unwrap();
        let r = s
            .request(
                "tome/seekTime",
                json!({"doc": doc, "time": "2026-11-26T12:00"}),
            )
            .unwrap();
        // The third line starts after the BOM and two lines with their CRLF, in units.
        let before = format!("{bom}{}\r\n{}\r\n", lines[0], lines[1]);
        let offset = 2 * before.encode_utf16().count();
        assert_eq!(r["offset"], offset as u64, "{label}: {r}");
        assert_eq!(r["line"], 2, "{label}: {r}");
        assert_eq!(r["time"], "2026-11-26T12:00:00.250Z", "{label}: {r}");
        assert_eq!(r["format"], "iso8601", "{label}: {r}");
        let r = s
            .request(
                "tome/seekTime",
                json!({"doc": doc, "time": "2026-11-26T12:00:01"}),
            )
            .unwrap();
        let before = format!("{bom}{}\r\n{}\r\n{}\r\n", lines[0], lines[1], lines[2]);
        assert_eq!(
            r["offset"],
            2 * before.encode_utf16().count() as u64,
            "{label}: {r}"
        );
    }
}
