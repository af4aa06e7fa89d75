//! Filter views (`tome/filter`, `tome/filterLines`, `tome/filterInfo`, `tome/filterWait`,
//! `tome/closeFilter`) against `grep -n` on generated files: literal, regex, case-insensitive,
//! whole-word, AND/OR/NOT and filters of filters; progress, cancellation, reads before the scan
//! ends, followed appends, edits, undo and redo of the source, hostile params.

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tome_e2e::Server;
use tome_gen::{GenConfig, DEFAULT_NEEDLE};

/// `grep ARGS FILE [| grep ARGS2 ...]` as (line number from 0, text).
fn grep(path: &Path, stages: &[&[&str]]) -> Vec<(u64, String)> {
    let mut cmd = format!("grep -n {} -- {}", shell(stages[0]), path.display());
    for s in &stages[1..] {
        // Later stages see "N:text": match the text part only.
        cmd.push_str(&format!(" | grep {}", shell(s)));
    }
    let out = Command::new("sh")
        .arg("-c")
        .arg(&cmd)
        .env("LC_ALL", "C")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let (n, text) = l.split_once(':').unwrap();
            (n.parse::<u64>().unwrap() - 1, text.to_owned())
        })
        .collect()
}

fn shell(args: &[&str]) -> String {
    args.iter()
        .map(|a| format!("'{}'", a.replace('\'', r"'\''")))
        .collect::<Vec<_>>()
        .join(" ")
}

fn open(s: &mut Server, path: &Path) -> u64 {
    let r = s.request("tome/open", json!({"path": path})).unwrap();
    r["doc"].as_u64().unwrap()
}

/// Makes a filter, waits for its scan, reads all its lines.
fn filter_all(s: &mut Server, params: Value) -> (u64, Vec<(u64, String)>) {
    let f = s.request("tome/filter", params).unwrap()["filter"]
        .as_u64()
        .unwrap();
    let info = s.request("tome/filterWait", json!({"filter": f})).unwrap();
    assert_eq!(info["complete"], true, "{info}");
    (f, read_all(s, f))
}

fn read_all(s: &mut Server, f: u64) -> Vec<(u64, String)> {
    let mut out = Vec::new();
    loop {
        let r = s
            .request(
                "tome/filterLines",
                json!({"filter": f, "first": out.len(), "count": 1000, "maxLineBytes": 100000}),
            )
            .unwrap();
        let lines = r["lines"].as_array().unwrap();
        if lines.is_empty() {
            assert_eq!(r["info"]["matched"].as_u64().unwrap(), out.len() as u64);
            return out;
        }
        for l in lines {
            assert_eq!(l["index"].as_u64().unwrap(), out.len() as u64);
            out.push((
                l["line"].as_u64().unwrap(),
                l["text"].as_str().unwrap().to_owned(),
            ));
        }
    }
}

fn leaf(p: &str) -> Value {
    json!({"pattern": p})
}

#[test]
fn filters_equal_grep() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gen.log");
    let cfg = GenConfig {
        size: 16 << 20,
        needle: Some(DEFAULT_NEEDLE.into()),
        needle_every: 997,
        ..GenConfig::default()
    };
    tome_gen::write_file(&cfg, &path).unwrap();
    let mut s = Server::ready();
    let doc = open(&mut s, &path);

    let cases: Vec<(Value, Vec<&[&str]>)> = vec![
        (leaf("ERROR"), vec![&["-F", "ERROR"]]),
        (leaf(DEFAULT_NEEDLE), vec![&["-F", DEFAULT_NEEDLE]]),
        (
            json!({"pattern": "seq=[0-9]*77 ", "regex": true}),
            vec![&["-E", "seq=[0-9]*77 "]],
        ),
        (
            json!({"pattern": "error", "caseSensitive": false}),
            vec![&["-i", "-F", "error"]],
        ),
        (
            json!({"pattern": "user", "wholeWord": true}),
            vec![&["-w", "-F", "user"]],
        ),
        (
            json!({"and": [leaf("ERROR"), json!({"pattern": "seq=[0-9]*3 ", "regex": true})]}),
            vec![&["-F", "ERROR"], &["-E", "seq=[0-9]*3 "]],
        ),
        (
            json!({"or": [leaf("ERROR"), leaf("WARN")]}),
            vec![&["-F", "-e", "ERROR", "-e", "WARN"]],
        ),
        (json!({"not": leaf("INFO")}), vec![&["-v", "-F", "INFO"]]),
        (
            json!({"and": [json!({"or": [leaf("ERROR"), leaf("WARN")]}),
                            json!({"not": json!({"pattern": "seq=[0-9]*[02468] ", "regex": true})})]}),
            vec![
                &["-F", "-e", "ERROR", "-e", "WARN"],
                &["-v", "-E", "seq=[0-9]*[02468] "],
            ],
        ),
    ];
    for (query, stages) in &cases {
        let want = grep(&path, stages);
        let (f, got) = filter_all(&mut s, json!({"doc": doc, "query": query}));
        assert!(!want.is_empty(), "{query}: grep found nothing, a weak case");
        assert_eq!(got.len(), want.len(), "{query}");
        assert!(got == want, "{query}: differs from grep");
        assert!(s.request("tome/closeFilter", json!({"filter": f})).unwrap() == true);
    }

    // A filter of a filter: ERROR lines, then those among them with seq ending in 5.
    let (outer, _) = filter_all(&mut s, json!({"doc": doc, "query": leaf("ERROR")}));
    let (inner, got) = filter_all(
        &mut s,
        json!({"filter": outer, "query": {"pattern": "seq=[0-9]*5 ", "regex": true}}),
    );
    let want = grep(&path, &[&["-F", "ERROR"], &["-E", "seq=[0-9]*5 "]]);
    assert!(!want.is_empty());
    assert!(got == want, "nested filter differs from grep | grep");
    // The source offset of a filter line is where its source line starts.
    let r = s
        .request(
            "tome/filterLines",
            json!({"filter": inner, "first": 3, "count": 1}),
        )
        .unwrap();
    let l = &r["lines"][0];
    let v = s
        .request(
            "tome/viewport",
            json!({"doc": doc, "first": l["line"], "count": 1}),
        )
        .unwrap();
    assert_eq!(v["lines"][0]["offset"], l["offset"]);
    assert_eq!(v["lines"][0]["text"], l["text"]);
    // From a source offset to the filter line at or after it.
    let r2 = s
        .request(
            "tome/filterLines",
            json!({"filter": inner, "around": l["offset"], "count": 1}),
        )
        .unwrap();
    assert_eq!(r2["lines"][0]["index"], 3);
}

#[test]
fn big_file_progress_early_reads_and_cancel() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    let cfg = GenConfig {
        size: 256 << 20,
        needle: Some(DEFAULT_NEEDLE.into()),
        needle_every: 10_000,
        ..GenConfig::default()
    };
    tome_gen::write_file(&cfg, &path).unwrap();
    let mut s = Server::ready();
    let doc = open(&mut s, &path);

    // A slow query (every line is evaluated): read the first screen before the scan ends.
    let slow = json!({"not": {"or": [
        {"pattern": "(?i)q[a-z]*z[0-9]+x", "regex": true},
        {"pattern": "seq=[0-9]*999999 ", "regex": true}]}});
    let f = s
        .request(
            "tome/filter",
            json!({"doc": doc, "query": slow, "workDoneToken": "flt"}),
        )
        .unwrap()["filter"]
        .as_u64()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let first = loop {
        let r = s
            .request(
                "tome/filterLines",
                json!({"filter": f, "first": 0, "count": 50}),
            )
            .unwrap();
        if r["lines"].as_array().unwrap().len() == 50 {
            break r;
        }
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(5));
    };
    assert_eq!(
        first["info"]["complete"], false,
        "the first screen came before the end"
    );
    assert_eq!(first["lines"][0]["line"], 0);
    // Cancel mid-scan: the wait answers -32800, the filter keeps what it found.
    let id = s.send("tome/filterWait", json!({"filter": f}));
    std::thread::sleep(Duration::from_millis(50));
    s.cancel(id);
    let e = s.wait(id).unwrap_err();
    assert_eq!(e["code"], -32800, "{e}");
    // The scan stops at its next chunk; a new wait answers once it has.
    let info = s.request("tome/filterWait", json!({"filter": f})).unwrap();
    assert_eq!(info["cancelled"], true, "{info}");
    assert_eq!(info["complete"], false);
    assert!(info["scannedBytes"].as_u64().unwrap() < 256 << 20);
    assert!(info["matched"].as_u64().unwrap() >= 50);
    let wait = Instant::now() + Duration::from_secs(10);
    while !s.progress("flt").iter().any(|v| v["kind"] == "end") {
        assert!(Instant::now() < wait, "no progress end");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(s.progress("flt")[0]["kind"], "begin");

    // The whole file, with progress, equals rg -n.
    let (g, got) = filter_all(
        &mut s,
        json!({"doc": doc, "query": {"pattern": DEFAULT_NEEDLE}, "workDoneToken": "flt2"}),
    );
    let rg = Command::new("rg")
        .args(["-n", "--no-heading", "-F", DEFAULT_NEEDLE])
        .arg(&path)
        .output()
        .unwrap();
    let want: Vec<(u64, String)> = String::from_utf8_lossy(&rg.stdout)
        .lines()
        .map(|l| {
            let (n, t) = l.split_once(':').unwrap();
            (n.parse::<u64>().unwrap() - 1, t.to_owned())
        })
        .collect();
    assert!(want.len() > 100);
    assert!(got == want, "differs from rg -n");
    let info = s.request("tome/filterInfo", json!({"filter": g})).unwrap();
    // A few bytes per matched line, not the text.
    assert!(
        info["memoryBytes"].as_u64().unwrap() < 16 * want.len() as u64 + 4096,
        "{info}"
    );
    let wait = Instant::now() + Duration::from_secs(10);
    while !s.progress("flt2").iter().any(|v| v["kind"] == "end") {
        assert!(Instant::now() < wait, "no progress end");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn followed_appends_and_edits_are_followed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live.log");
    // Ends inside a line that matches: an append lengthens it.
    std::fs::write(&path, "a hit\nb miss\nc hi").unwrap();
    let mut s = Server::ready();
    let doc = open(&mut s, &path);
    let (f, got) = filter_all(&mut s, json!({"doc": doc, "query": leaf("hi")}));
    assert_eq!(got, vec![(0, "a hit".into()), (2, "c hi".into())]);
    {
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        file.write_all(b"t more\nd miss\ne hit\n").unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while s.disk_notices(doc).is_empty() {
        assert!(Instant::now() < deadline, "no append seen");
        std::thread::sleep(Duration::from_millis(20));
    }
    let info = s.request("tome/filterInfo", json!({"filter": f})).unwrap();
    assert_eq!(info["stale"], false, "{info}");
    assert_eq!(info["matched"], 3, "{info}");
    assert_eq!(
        read_all(&mut s, f),
        vec![
            (0, "a hit".into()),
            (2, "c hit more".into()),
            (4, "e hit".into())
        ]
    );
    let want = grep(&path, &[&["-F", "hi"]]);
    assert_eq!(read_all(&mut s, f), want);

    // An edit of the source: the filter follows it (a line inserted at the top).
    let v = info["version"].as_u64().unwrap();
    s.request(
        "tome/edit",
        json!({"doc": doc, "version": v, "edits": [{"offsets": {"start": 0, "end": 0}, "text": "hit\n"}]}),
    )
    .unwrap();
    let info = s.request("tome/filterInfo", json!({"filter": f})).unwrap();
    assert_eq!(info["stale"], false, "{info}");
    assert_eq!(info["version"], v + 1);
    assert_eq!(
        read_all(&mut s, f),
        vec![
            (0, "hit".into()),
            (1, "a hit".into()),
            (3, "c hit more".into()),
            (5, "e hit".into())
        ]
    );
    // Closing the source makes it stale.
    s.request("tome/close", json!({"doc": doc})).unwrap();
    let info = s.request("tome/filterInfo", json!({"filter": f})).unwrap();
    assert_eq!(info["stale"], true, "{info}");
}

/// Random edits, undo, redo and a replace-all of a document with a filter and a filter of
/// that filter open: after each round both equal `grep -n` (and `grep | grep`) on the text the
/// edits made, kept here as the model (no CR: grep splits lines at LF only; the engine's
/// test `filter::tests::follows_random_edits` covers CR and CRLF).
#[test]
fn filters_follow_edits_undo_and_redo() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("edited.log");
    let model_path = dir.path().join("model.log");
    let mut text = Vec::new();
    for i in 0..20_000 {
        text.extend_from_slice(match i % 7 {
            0 => b"alpha hit one\n".as_slice(),
            1 => b"beta miss\n",
            2 => b"gamma hit two\n",
            3 => b"hit alone\n",
            4 => b"\n",
            5 => b"delta hits three\n",
            _ => b"epsilon\n",
        });
    }
    std::fs::write(&path, &text).unwrap();
    let mut s = Server::ready();
    let doc = open(&mut s, &path);
    let (f, got) = filter_all(&mut s, json!({"doc": doc, "query": leaf("hit")}));
    std::fs::write(&model_path, &text).unwrap();
    assert_eq!(got, grep(&model_path, &[&["-F", "hit"]]));
    let (nested, _) = filter_all(&mut s, json!({"filter": f, "query": leaf("t")}));
    // Undo and redo stacks of the model: the text before each step.
    let (mut undo, mut redo): (Vec<Vec<u8>>, Vec<Vec<u8>>) = (Vec::new(), Vec::new());
    let inserts: [&[u8]; 8] = [
        b"hit",
        b"\n",
        b"x",
        b"hit x",
        b"hit\nnew hit line\n",
        b"",
        b"tt",
        b"\n\n",
    ];
    let mut seed = 0x1234_5678_9abc_def1u64;
    let mut rnd = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n.max(1) as u64) as usize
    };
    for round in 0..40 {
        for _ in 0..1 + rnd(4) {
            match rnd(12) {
                0 => {
                    let r = s.request("tome/undo", json!({"doc": doc})).unwrap();
                    if r["changed"] == true {
                        redo.push(std::mem::replace(&mut text, undo.pop().unwrap()));
                    }
                }
                1 => {
                    let r = s.request("tome/redo", json!({"doc": doc})).unwrap();
                    if r["changed"] == true {
                        undo.push(std::mem::replace(&mut text, redo.pop().unwrap()));
                    }
                }
                2 if round % 20 == 19 => {
                    // A whole-document change: the filters scan again.
                    s.request(
                        "tome/replaceAll",
                        json!({"doc": doc, "query": {"pattern": "gamma"}, "replacement": "gam hit"}),
                    )
                    .unwrap();
                    let before = text.clone();
                    let t = String::from_utf8(text.clone())
                        .unwrap()
                        .replace("gamma", "gam hit");
                    text = t.into_bytes();
                    undo.push(before);
                    redo.clear();
                }
                _ => {
                    // Edits anywhere and close together, each an undo step of its own.
                    let at = if rnd(2) == 0 {
                        rnd(text.len() + 1)
                    } else {
                        rnd(2_000.min(text.len() + 1))
                    };
                    let end = (at + rnd(40)).min(text.len());
                    let ins = inserts[rnd(inserts.len())];
                    let v = s.request("tome/info", json!({"doc": doc})).unwrap()["version"].clone();
                    s.request(
                        "tome/edit",
                        json!({"doc": doc, "version": v, "undo": "new",
                               "edits": [{"offsets": {"start": at, "end": end},
                                          "text": String::from_utf8_lossy(ins)}]}),
                    )
                    .unwrap();
                    let before = text.clone();
                    text.splice(at..end, ins.iter().copied());
                    undo.push(before);
                    redo.clear();
                }
            }
        }
        std::fs::write(&model_path, &text).unwrap();
        let info = s.request("tome/filterWait", json!({"filter": f})).unwrap();
        assert_eq!(info["stale"], false, "{info}");
        assert_eq!(info["complete"], true, "{info}");
        assert_eq!(
            read_all(&mut s, f),
            grep(&model_path, &[&["-F", "hit"]]),
            "round {round}"
        );
        s.request("tome/filterWait", json!({"filter": nested}))
            .unwrap();
        assert_eq!(
            read_all(&mut s, nested),
            grep(&model_path, &[&["-F", "hit"], &["-F", "t"]]),
            "round {round}"
        );
    }
}

/// Editing through a filter: a client takes a filter line's `offset` and `info.version` and
/// edits the source with an ordinary `tome/edit`; the saved file equals the same edit made to
/// the bytes directly, one undo takes it back, and an edit computed on an older version is
/// refused.
#[test]
fn edits_through_a_filter() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("through.log");
    let cfg = GenConfig {
        size: 8 << 20,
        needle: Some(DEFAULT_NEEDLE.into()),
        needle_every: 997,
        ..GenConfig::default()
    };
    tome_gen::write_file(&cfg, &path).unwrap();
    let original = std::fs::read(&path).unwrap();
    let mut s = Server::ready();
    let doc = open(&mut s, &path);
    let (f, _) = filter_all(&mut s, json!({"doc": doc, "query": leaf(DEFAULT_NEEDLE)}));
    let r = s
        .request(
            "tome/filterLines",
            json!({"filter": f, "first": 5, "count": 1}),
        )
        .unwrap();
    let line = &r["lines"][0];
    let version = r["info"]["version"].as_u64().unwrap();
    let offset = line["offset"].as_u64().unwrap() as usize;
    let text = line["text"].as_str().unwrap();
    assert_eq!(line["cutAfter"], false);
    // As a client would: replace the needle in the line it shows.
    let col = text.find(DEFAULT_NEEDLE).unwrap();
    let (start, end) = (offset + col, offset + col + DEFAULT_NEEDLE.len());
    s.request(
        "tome/edit",
        json!({"doc": doc, "version": version,
               "edits": [{"offsets": {"start": start, "end": end}, "text": "EDITED"}]}),
    )
    .unwrap();
    let mut want = original.clone();
    want.splice(start..end, b"EDITED".iter().copied());
    s.request("tome/save", json!({"doc": doc})).unwrap();
    assert!(
        std::fs::read(&path).unwrap() == want,
        "the edit through the filter"
    );
    // The filter follows: that line no longer matches.
    let now = s
        .request(
            "tome/filterLines",
            json!({"filter": f, "first": 5, "count": 1}),
        )
        .unwrap();
    assert_ne!(now["lines"][0]["offset"], line["offset"]);
    assert_eq!(
        now["info"]["matched"],
        r["info"]["matched"].as_u64().unwrap() - 1
    );
    // One undo step takes it back.
    let u = s.request("tome/undo", json!({"doc": doc})).unwrap();
    assert_eq!(u["changed"], true);
    s.request("tome/save", json!({"doc": doc})).unwrap();
    assert!(
        std::fs::read(&path).unwrap() == original,
        "undone in one step"
    );
    // An edit computed on the filter's old version is refused.
    let code = s.error_code(
        "tome/edit",
        json!({"doc": doc, "version": version,
               "edits": [{"offsets": {"start": start, "end": end}, "text": "late"}]}),
    );
    assert_eq!(code, -33003);
}

#[test]
fn hostile_params_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.txt");
    std::fs::write(&path, "one\ntwo\n").unwrap();
    let mut s = Server::ready();
    let doc = open(&mut s, &path);
    let mut code = |params: Value| s.error_code("tome/filter", params);
    assert_eq!(code(json!({"doc": doc, "query": leaf("")})), -33004);
    assert_eq!(
        code(json!({"doc": doc, "query": {"pattern": "", "wholeWord": true}})),
        -33004
    );
    assert_eq!(
        code(json!({"doc": doc, "query": leaf(&"x".repeat(2 << 20))})),
        -33015
    );
    assert_eq!(
        code(json!({"doc": doc, "query": {"pattern": "a(", "regex": true}})),
        -33004
    );
    let mut deep = leaf("a");
    for _ in 0..40 {
        deep = json!({"not": deep});
    }
    assert_eq!(code(json!({"doc": doc, "query": deep})), -33004);
    let wide: Vec<Value> = (0..65).map(|i| leaf(&format!("p{i}"))).collect();
    assert_eq!(code(json!({"doc": doc, "query": {"or": wide}})), -33004);
    assert_eq!(code(json!({"doc": 999, "query": leaf("a")})), -33001);
    assert_eq!(code(json!({"filter": 999, "query": leaf("a")})), -33018);
    assert_eq!(code(json!({"query": leaf("a")})), -32602);
    assert_eq!(
        code(json!({"doc": doc, "filter": 1, "query": leaf("a")})),
        -32602
    );
    assert_eq!(
        code(json!({"doc": doc, "query": {"pattern": "a", "and": []}})),
        -32602
    );
    assert_eq!(code(json!({"doc": doc, "query": {"and": "x"}})), -32602);
    assert_eq!(code(json!({"doc": doc, "query": 5})), -32602);
    for m in ["tome/filterInfo", "tome/filterWait"] {
        assert_eq!(s.error_code(m, json!({"filter": 42})), -33018);
    }
    assert_eq!(
        s.error_code(
            "tome/filterLines",
            json!({"filter": 42, "first": 0, "count": 1})
        ),
        -33018
    );
    assert_eq!(
        s.request("tome/closeFilter", json!({"filter": 42}))
            .unwrap(),
        false
    );
    // Huge counts are clamped, not refused.
    let (f, _) = filter_all(&mut s, json!({"doc": doc, "query": leaf("o")}));
    let r = s
        .request(
            "tome/filterLines",
            json!({"filter": f, "first": u64::MAX, "count": u64::MAX, "maxLineBytes": u64::MAX}),
        )
        .unwrap();
    assert_eq!(r["lines"], json!([]));
    assert_eq!(
        s.error_code("tome/filterLines", json!({"filter": f, "count": 1})),
        -32602
    );
}

/// Where `re` matches in `text`, as `[start, end)` in UTF-16 units (the default encoding).
fn utf16_matches(re: &regex::Regex, text: &str) -> Vec<(u64, u64)> {
    let units = |s: &str| s.encode_utf16().count() as u64;
    re.find_iter(text)
        .filter(|m| !m.is_empty())
        .map(|m| (units(&text[..m.start()]), units(&text[..m.end()])))
        .collect()
}

#[test]
fn filter_lines_carry_the_source_highlight_rules() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hl.log");
    // CRLF, lone CR, multi-byte characters (UTF-16 columns differ from bytes), invalid bytes.
    let mut bytes = Vec::new();
    for n in 0..3000u32 {
        let level = ["INFO ", "ERROR", "WARN ", "DEBUG"][(n % 7 % 4) as usize];
        bytes.extend_from_slice(format!("{n:05} {level} seq={n} ").as_bytes());
        match n % 5 {
            0 => bytes.extend_from_slice(b"bad \xFF\xFE ERROR\xE2\x82 req=ab12"),
            1 => bytes.extend_from_slice("caf\u{e9} \u{1F980} ERROR req=ff00 ERROR".as_bytes()),
            _ => bytes.extend_from_slice(b"plain"),
        }
        bytes.extend_from_slice([&b"\n"[..], b"\r\n", b"\r"][(n % 3) as usize]);
    }
    std::fs::write(&path, &bytes).unwrap();
    let mut s = Server::ready();
    let doc = open(&mut s, &path);
    s.request(
        "tome/setHighlightRules",
        json!({"rules": [{"pattern": "ERROR"}, {"pattern": "req=[0-9a-f]{4}", "regex": true}]}),
    )
    .unwrap();
    let res = [
        regex::Regex::new("ERROR").unwrap(),
        regex::Regex::new("req=[0-9a-f]{4}").unwrap(),
    ];
    // Lines with "seq=" and a 1 or a 7 in them; and a filter of that filter.
    let query = json!({"and": [leaf("seq="), {"or": [leaf("1"), leaf("7")]}]});
    let (f, _) = filter_all(&mut s, json!({"doc": doc, "query": query}));
    let (nested, _) = filter_all(&mut s, json!({"filter": f, "query": leaf("ERROR")}));
    for id in [f, nested] {
        let mut total = 0;
        for first in (0..).step_by(700) {
            let r = s
                .request(
                    "tome/filterLines",
                    json!({"filter": id, "first": first, "count": 700}),
                )
                .unwrap();
            let lines = r["lines"].as_array().unwrap();
            if lines.is_empty() {
                break;
            }
            // Ordered by line, then rule, then column, as `tome/viewport`'s.
            let mut want = Vec::new();
            for (i, l) in lines.iter().enumerate() {
                for (rule, re) in res.iter().enumerate() {
                    for (start, end) in utf16_matches(re, l["text"].as_str().unwrap()) {
                        want.push(json!({"rule": rule, "line": i, "start": start, "end": end}));
                    }
                }
            }
            assert_eq!(r["highlights"].as_array().unwrap(), &want);
            assert!(r.get("highlightsCut").is_none());
            total += want.len();
        }
        assert!(total > 500, "{total}");
    }
    // `highlights: false`: none; the document's own rules replace the session's for it.
    let r = s
        .request(
            "tome/filterLines",
            json!({"filter": f, "first": 0, "count": 5, "highlights": false}),
        )
        .unwrap();
    assert!(r.get("highlights").is_none());
    s.request(
        "tome/setHighlightRules",
        json!({"doc": doc, "rules": [{"pattern": "seq", "caseSensitive": false}]}),
    )
    .unwrap();
    let r = s
        .request(
            "tome/filterLines",
            json!({"filter": f, "first": 0, "count": 3}),
        )
        .unwrap();
    let marks = r["highlights"].as_array().unwrap();
    assert_eq!(marks.len(), 3);
    assert!(marks
        .iter()
        .all(|m| m["rule"] == 0 && m["start"] == 12 && m["end"] == 15));
    // Cut at the limit, as viewports are: a line of 70 000 matches.
    let long = dir.path().join("long.log");
    let mut text = b"x\n".to_vec();
    text.extend(std::iter::repeat_n(b'e', 70_000));
    text.push(b'\n');
    std::fs::write(&long, &text).unwrap();
    let d2 = open(&mut s, &long);
    s.request(
        "tome/setHighlightRules",
        json!({"doc": d2, "rules": [{"pattern": "e"}]}),
    )
    .unwrap();
    let (f2, _) = filter_all(&mut s, json!({"doc": d2, "query": leaf("e")}));
    let r = s
        .request(
            "tome/filterLines",
            json!({"filter": f2, "first": 0, "count": 1, "maxLineBytes": 100000}),
        )
        .unwrap();
    assert_eq!(r["highlights"].as_array().unwrap().len(), 65_536);
    assert_eq!(r["highlightsCut"], true);
}
