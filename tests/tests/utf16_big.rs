//! A UTF-16LE file of 256 MiB written by Python: its line count, a search count, a far line and
//! an edit near the end, saved, all compared with what Python says of the same text. The lines
//! are full of characters whose code units hold 0x0A / 0x0D bytes (not line breaks).

use std::process::Command;

use serde_json::{json, Value};
use tome_e2e::Server;

/// Writes the file (a BOM, then `n` lines, every fifth ending in CRLF, every 997th holding
/// "needle") and prints what Python knows of it.
const GEN: &str = r#"
import sys, json
path, n = sys.argv[1], int(sys.argv[2])
def line(i):
    extra = " needle" if i % 997 == 0 else ""
    return f"{i:09d} ਅਕਾਲ \u0a0d\u0100\u010a\u0d0a log line, some words 🦀 and more{extra} ✓"
ends = ["\r\n" if i % 5 == 0 else "\n" for i in range(5)]
text = "\ufeff" + "".join(line(i) + ends[i % 5] for i in range(n))
data = text.encode("utf-16-le")
open(path, "wb").write(data)
edit_line = n - 5
# Byte offset of the start of `edit_line`: from the end, through the lines after it.
after = "".join(line(i) + ends[i % 5] for i in range(edit_line, n))
print(json.dumps({
    "bytes": len(data),
    "lines": text.count("\n") + 1,
    "needles": text.count("needle"),
    "far": line(n - 10),
    "edit_line": edit_line,
    "edit_line_start": len(data) - len(after.encode("utf-16-le")),
}))
"#;

#[test]
fn a_256_mib_utf16_file_counts_searches_jumps_edits_and_saves_like_python() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big16.log");
    let n = 2_500_000u64;
    let out = Command::new("python3")
        .args(["-c", GEN, path.to_str().unwrap(), &n.to_string()])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let py: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(py["bytes"].as_u64().unwrap() >= 256 << 20, "{py}");

    let mut s = Server::ready();
    let info = s.request("tome/open", json!({"path": path})).unwrap();
    assert_eq!(info["encoding"], "UTF-16LE");
    let doc = info["doc"].as_u64().unwrap();
    // A far line (waits for the index to get there).
    let far = n - 10;
    let v = s
        .request(
            "tome/viewport",
            json!({"doc": doc, "first": far, "count": 1}),
        )
        .unwrap();
    assert_eq!(v["lines"][0]["text"], py["far"]);
    // The whole file indexed: the line count is Python's.
    let last = py["lines"].as_u64().unwrap() - 1;
    let v = s
        .request(
            "tome/viewport",
            json!({"doc": doc, "first": last, "count": 1}),
        )
        .unwrap();
    assert_eq!(v["lines"][0]["text"], "");
    let info = s.request("tome/info", json!({"doc": doc})).unwrap();
    assert_eq!(info["lineCount"]["known"], py["lines"], "{info}");
    assert_eq!(info["lineCount"]["exact"], true);
    let r = s
        .request(
            "tome/search",
            json!({"doc": doc, "query": {"pattern": "needle"}, "mode": "count"}),
        )
        .unwrap();
    assert_eq!(r["count"], py["needles"]);
    // An edit near the end, then a save: Python's text with the insertion.
    let original = std::fs::read(&path).unwrap();
    let insert = "EDIT ✓🦀 ";
    s.request(
        "tome/edit",
        json!({"doc": doc, "version": 0, "edits": [{
            "range": {"start": {"line": py["edit_line"], "character": 10},
                      "end": {"line": py["edit_line"], "character": 10}},
            "text": insert}]}),
    )
    .unwrap();
    s.request("tome/save", json!({"doc": doc})).unwrap();
    let at = py["edit_line_start"].as_u64().unwrap() as usize + 2 * 10;
    let encoded: Vec<u8> = insert.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let saved = std::fs::read(&path).unwrap();
    assert_eq!(saved.len(), original.len() + encoded.len());
    assert!(saved[..at] == original[..at], "the bytes before the edit");
    assert!(
        saved[at..at + encoded.len()] == encoded[..],
        "the inserted text"
    );
    assert!(
        saved[at + encoded.len()..] == original[at..],
        "the bytes after the edit"
    );
}
