//! Compressed files (issue #17, item 2) through the protocol: a `.gz` and a `.zst` made from a
//! generated log open read-only (`readOnly`, `compression`), every line read through viewports
//! equals what `zcat` prints, the line count is `zcat | wc -l` + 1 (Tome counts the empty line
//! after a final line break), search counts equal a count over `zcat`'s output, edits and saves
//! are refused, and a truncated file gives a clear error instead of hanging.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tome_e2e::Server;
use tome_gen::GenConfig;

fn initialize(s: &mut Server) {
    s.request("initialize", json!({"capabilities": {}}))
        .unwrap();
    s.notify("initialized", json!({}));
}

/// `cmd args` with `input` on stdin; its stdout.
fn pipe(cmd: &str, args: &[&str], input: &[u8]) -> Vec<u8> {
    let mut child = Command::new(cmd)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    out.stdout
}

fn cat(cmd: &str, path: &Path) -> Vec<u8> {
    Command::new(cmd).arg(path).output().unwrap().stdout
}

fn wait_complete(s: &mut Server, doc: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let info = s.request("tome/info", json!({"doc": doc})).unwrap();
        if info["indexComplete"] == true {
            return info;
        }
        assert!(Instant::now() < deadline, "the pass never completed");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every line through viewports of 500 lines, whole.
fn all_lines(s: &mut Server, doc: u64) -> Vec<String> {
    let mut lines = Vec::new();
    loop {
        let v = s
            .request(
                "tome/viewport",
                json!({"doc": doc, "first": lines.len(), "count": 500,
                       "wholeLines": {"maxLineBytes": 1 << 20, "maxBytes": 8 << 20}}),
            )
            .unwrap();
        let got = v["lines"].as_array().unwrap();
        assert!(!got.is_empty(), "no lines from {}", lines.len());
        for l in got {
            assert_eq!(l["number"], lines.len() as u64);
            assert_eq!(l["cutAfter"], false);
            lines.push(l["text"].as_str().unwrap().to_string());
        }
        if v["lineCount"]["known"] == lines.len() as u64 {
            return lines;
        }
    }
}

fn count(s: &mut Server, doc: u64, query: Value) -> u64 {
    s.request(
        "tome/search",
        json!({"doc": doc, "query": query, "mode": "count"}),
    )
    .unwrap()["count"]
        .as_u64()
        .unwrap()
}

/// Reads and searches of one compressed file against its decompressed `text`.
fn check(s: &mut Server, path: &Path, format: &str, text: &[u8]) {
    let open = s
        .request(
            "tome/open",
            json!({"path": path, "viewport": {"first": 0, "count": 5}}),
        )
        .unwrap();
    assert_eq!(open["readOnly"], true);
    assert_eq!(open["compression"], format);
    let doc = open["doc"].as_u64().unwrap();
    let first = &open["viewport"]["lines"];
    let text_str = String::from_utf8_lossy(text);
    let want: Vec<&str> = text_str.split('\n').collect();
    assert_eq!(first[0]["text"], want[0]);
    let info = wait_complete(s, doc);
    let feeds = text.iter().filter(|&&b| b == b'\n').count() as u64;
    assert_eq!(info["lineCount"]["known"], feeds + 1);
    assert_eq!(info["lineCount"]["exact"], true);
    assert_eq!(info["size"], text.len() as u64);
    // Every line.
    let got = all_lines(s, doc);
    assert_eq!(got.len(), want.len());
    for (n, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g, w.strip_suffix('\r').unwrap_or(w), "line {n}");
    }
    // Goto: a line in the middle and the last, around an offset, a fraction.
    let mid = want.len() / 2;
    let v = s
        .request(
            "tome/viewport",
            json!({"doc": doc, "first": mid, "count": 3}),
        )
        .unwrap();
    assert_eq!(v["lines"][0]["number"], mid as u64);
    let v = s
        .request(
            "tome/viewport",
            json!({"doc": doc, "fraction": 1.0, "before": 2, "count": 1}),
        )
        .unwrap();
    let last = v["lines"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["number"], want.len() as u64 - 1);
    let at = text.len() as u64 / 3;
    let v = s
        .request(
            "tome/viewport",
            json!({"doc": doc, "around": at, "count": 1}),
        )
        .unwrap();
    let line = &v["lines"][0];
    let start = line["offset"].as_u64().unwrap();
    assert!(start <= at && at <= start + line["byteLength"].as_u64().unwrap());
    // getText of a range equals the bytes.
    let t = s
        .request(
            "tome/getText",
            json!({"doc": doc, "offsets": {"start": at, "end": at + 1000}}),
        )
        .unwrap();
    assert_eq!(
        t["text"].as_str().unwrap(),
        String::from_utf8_lossy(&text[at as usize..at as usize + 1000])
    );

    // Search counts: the oracle counts non-overlapping matches over the whole text.
    let oracle = |pattern: &str, ci: bool| {
        regex::bytes::RegexBuilder::new(pattern)
            .case_insensitive(ci)
            .build()
            .unwrap()
            .find_iter(text)
            .count() as u64
    };
    let literal = "ERROR";
    let n = count(s, doc, json!({"pattern": literal}));
    assert!(n > 10);
    assert_eq!(n, oracle(literal, false));
    assert_eq!(
        count(s, doc, json!({"pattern": "error", "caseSensitive": false})),
        oracle("error", true)
    );
    let re = r"user=[0-9]+ ";
    assert_eq!(
        count(s, doc, json!({"pattern": re, "regex": true})),
        oracle(re, false)
    );
    // Next from the middle, forward and backward, and a page of matches.
    let all: Vec<usize> = memchr::memmem::find_iter(text, literal).collect();
    let from = text.len() / 2;
    let next = s
        .request(
            "tome/search",
            json!({"doc": doc, "query": {"pattern": literal}, "from": {"offset": from}}),
        )
        .unwrap();
    let want_next = all.iter().find(|&&k| k >= from).unwrap();
    assert_eq!(next["found"]["offsets"]["start"], *want_next as u64);
    let line_of = |k: usize| text[..k].iter().filter(|&&b| b == b'\n').count() as u64;
    assert_eq!(next["found"]["range"]["start"]["line"], line_of(*want_next));
    let prev = s
        .request(
            "tome/search",
            json!({"doc": doc, "query": {"pattern": literal}, "from": {"offset": from},
                   "direction": "backward"}),
        )
        .unwrap();
    let want_prev = all.iter().rev().find(|&&k| k < from).unwrap();
    assert_eq!(prev["found"]["offsets"]["start"], *want_prev as u64);
    let page = s
        .request(
            "tome/search",
            json!({"doc": doc, "query": {"pattern": literal}, "mode": "all", "limit": 50}),
        )
        .unwrap();
    let starts: Vec<u64> = page["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["offsets"]["start"].as_u64().unwrap())
        .collect();
    let want_page: Vec<u64> = all.iter().take(50).map(|&k| k as u64).collect();
    assert_eq!(starts, want_page);
    assert_eq!(page["resumeAt"], all[50] as u64);

    // Writes are refused with readOnlyDocument; reads go on.
    for (method, params) in [
        (
            "tome/edit",
            json!({"doc": doc, "version": 0, "edits": [{"offsets": {"start": 0, "end": 0}, "text": "x"}]}),
        ),
        ("tome/save", json!({"doc": doc})),
        ("tome/undo", json!({"doc": doc})),
        (
            "tome/replaceAll",
            json!({"doc": doc, "version": 0, "query": {"pattern": "a"}, "replacement": "b"}),
        ),
    ] {
        let e = s.request(method, params).unwrap_err();
        assert_eq!(e["code"], -33020, "{method}: {e}");
        assert_eq!(e["data"]["kind"], "readOnlyDocument");
    }
    s.request("tome/close", json!({"doc": doc})).unwrap();
    let e = s.request("tome/info", json!({"doc": doc})).unwrap_err();
    assert_eq!(e["code"], -33001);
}

#[test]
fn gzip_and_zstd_documents_read_as_zcat_and_refuse_writes() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = GenConfig {
        size: 24 << 20,
        ..GenConfig::default()
    };
    let text = tome_gen::generate_vec(&cfg);
    let mut s = Server::start();
    initialize(&mut s);

    // Two gzip members (as `cat a.gz b.gz`), the name not saying gzip.
    let half = text.len() / 2;
    let mut gz = pipe("gzip", &["-1"], &text[..half]);
    gz.extend(pipe("gzip", &["-6"], &text[half..]));
    let gz_path = dir.path().join("log.1");
    std::fs::write(&gz_path, &gz).unwrap();
    let want = cat("zcat", &gz_path);
    assert!(want == text);
    check(&mut s, &gz_path, "gzip", &want);

    let zst_path = dir.path().join("log.zst");
    std::fs::write(&zst_path, pipe("zstd", &["-3", "-c"], &text)).unwrap();
    let want = cat("zstdcat", &zst_path);
    assert!(want == text);
    check(&mut s, &zst_path, "zstd", &want);
}

#[test]
fn a_truncated_gzip_file_gives_an_error_not_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    let text = tome_gen::generate_vec(&GenConfig {
        size: 4 << 20,
        ..GenConfig::default()
    });
    let gz = pipe("gzip", &["-6"], &text);
    let path = dir.path().join("cut.gz");
    std::fs::write(&path, &gz[..gz.len() / 2]).unwrap();
    let mut s = Server::start();
    initialize(&mut s);
    let open = s.request("tome/open", json!({"path": path})).unwrap();
    let doc = open["doc"].as_u64().unwrap();
    let info = wait_complete(&mut s, doc);
    let why = info["compressionError"].as_str().unwrap();
    assert!(why.contains("truncated"), "{why}");
    // The start reads as the text; a line past the damage is an error, even when waiting.
    let v = s
        .request("tome/viewport", json!({"doc": doc, "first": 0, "count": 3}))
        .unwrap();
    let first_line = String::from_utf8_lossy(text.split(|&b| b == b'\n').next().unwrap());
    assert_eq!(v["lines"][0]["text"], first_line.as_ref());
    let e = s
        .request(
            "tome/viewport",
            json!({"doc": doc, "first": 100_000_000u64, "count": 3, "wait": true}),
        )
        .unwrap_err();
    assert_eq!(e["code"], -33012, "{e}");
    let e = s
        .request(
            "tome/search",
            json!({"doc": doc, "query": {"pattern": "x"}, "mode": "count"}),
        )
        .unwrap_err();
    assert!(e["message"].as_str().unwrap().contains("truncated"), "{e}");
}

/// "Save As" of a compressed document writes its text whole: plain under a plain name, gzip
/// or zstd again under `.gz` / `.zst` (checked with `zcat` / `zstdcat`), over an existing file
/// atomically and keeping its mode; a name asking for a format Tome cannot write is refused
/// and nothing is created; the document stays read-only on the compressed file.
#[test]
fn save_as_of_a_compressed_document_writes_plain_or_compressed_copies() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let cfg = GenConfig {
        size: 12 << 20,
        line_ending: tome_gen::LineEnding::CrLf,
        unicode: true,
        ..GenConfig::default()
    };
    let mut text = tome_gen::generate_vec(&cfg);
    text.extend_from_slice(b"no final line break \xff\xfe invalid bytes kept");
    let gz_path = dir.path().join("app.log.gz");
    std::fs::write(&gz_path, pipe("gzip", &["-1"], &text)).unwrap();
    let mut s = Server::start();
    initialize(&mut s);
    let opened = s
        .request("tome/open", json!({"path": gz_path.to_str().unwrap()}))
        .unwrap();
    let doc = opened["doc"].as_u64().unwrap();
    // At once, before the pass has finished: the save waits for it.
    let plain = dir.path().join("copy.log");
    std::fs::write(&plain, b"old contents").unwrap();
    std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o640)).unwrap();
    let r = s
        .request(
            "tome/saveAs",
            json!({"doc": doc, "path": plain.to_str().unwrap()}),
        )
        .unwrap();
    assert_eq!(r["bytes"], text.len() as u64);
    assert!(std::fs::read(&plain).unwrap() == text, "plain copy differs");
    let mode = std::fs::metadata(&plain).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640, "the old file's mode is kept");

    for (name, cat_cmd) in [("copy.log.gz", "zcat"), ("copy.log.zst", "zstdcat")] {
        let path = dir.path().join(name);
        s.request(
            "tome/saveAs",
            json!({"doc": doc, "path": path.to_str().unwrap()}),
        )
        .unwrap();
        assert!(cat(cat_cmd, &path) == text, "{name}: {cat_cmd} differs");
        let magic = &std::fs::read(&path).unwrap()[..2];
        assert_ne!(magic, &text[..2], "{name} is not compressed");
    }

    for name in ["copy.log.bz2", "copy.log.xz"] {
        let path = dir.path().join(name);
        let e = s
            .request(
                "tome/saveAs",
                json!({"doc": doc, "path": path.to_str().unwrap()}),
            )
            .unwrap_err();
        assert_eq!(e["code"], -32602, "{name}: {e}");
        assert!(!path.exists(), "{name} was created");
    }
    let e = s
        .request(
            "tome/saveAs",
            json!({"doc": doc, "path": plain.to_str().unwrap(), "method": "inPlace"}),
        )
        .unwrap_err();
    assert_eq!(e["code"], -32602, "{e}");

    // Still the compressed document: read-only, on the .gz file.
    let e = s.request("tome/save", json!({"doc": doc})).unwrap_err();
    assert_eq!(e["code"], -33020);
    let info = s.request("tome/info", json!({"doc": doc})).unwrap();
    assert_eq!(info["path"], gz_path.to_str().unwrap());
    // No temporary files left beside the copies.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("tome-save"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
