//! Files that are not UTF-8, over the protocol, with Python's codecs as the oracle: the server
//! must show every line as Python decodes the same bytes, write edits in the file's encoding,
//! give back the original bytes after undoing everything, and the bytes Python writes for the
//! edited text after redoing. UTF-16 (LE/BE, with and without a BOM) is edited the same way;
//! UTF-32 files are recognised and refused with a clear error (not editable yet).

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};
use tome_e2e::Server;

/// Runs a Python snippet with `arg` as `sys.argv[1]` and returns its standard output.
fn python(script: &str, arg: &str) -> Vec<u8> {
    let out = Command::new("python3")
        .args(["-c", script, arg])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "python3 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// `text` encoded by Python's codec `codec`.
fn py_encode(codec: &str, text: &str) -> Vec<u8> {
    let arg = json!({"codec": codec, "text": text}).to_string();
    python(
        "import sys, json; a = json.loads(sys.argv[1]); \
         sys.stdout.buffer.write(a['text'].encode(a['codec']))",
        &arg,
    )
}

/// The lines of `path` as Python decodes them in `codec` (strict), without their breaks.
fn py_lines(codec: &str, path: &Path) -> Vec<String> {
    let arg = json!({"codec": codec, "path": path}).to_string();
    let out = python(
        "import sys, json; a = json.loads(sys.argv[1]); \
         t = open(a['path'], 'rb').read().decode(a['codec']); \
         print(json.dumps(t.replace('\\r\\n', '\\n').split('\\n')))",
        &arg,
    );
    serde_json::from_slice(&out).expect("a JSON list")
}

fn open(s: &mut Server, path: &Path, encoding: Option<&str>) -> Value {
    let mut p = json!({"path": path});
    if let Some(e) = encoding {
        p["encoding"] = e.into();
    }
    s.request("tome/open", p).expect("open")
}

/// Every line's text through viewports of 50 lines.
fn all_lines(s: &mut Server, doc: u64) -> Vec<String> {
    let mut lines = Vec::new();
    loop {
        let r = s
            .request(
                "tome/viewport",
                json!({"doc": doc, "first": lines.len(), "count": 50}),
            )
            .expect("viewport");
        let got = r["lines"].as_array().unwrap();
        for l in got {
            assert!(!l["invalid"].as_bool().unwrap(), "{l}");
            lines.push(l["text"].as_str().unwrap().to_owned());
        }
        if got.len() < 50 {
            return lines;
        }
    }
}

/// An edit at (line, UTF-16 column) in the model and over the protocol.
struct Change {
    line: usize,
    from: usize,
    to: usize,
    text: &'static str,
}

fn utf16_to_byte(s: &str, col: usize) -> usize {
    let mut units = 0;
    for (i, c) in s.char_indices() {
        if units >= col {
            return i;
        }
        units += c.len_utf16();
    }
    s.len()
}

/// One file: written by Python in `codec`, opened (detected, or named by `label`), read, edited,
/// undone, saved, redone, saved.
fn round_trip(codec: &str, label: Option<&str>, reported: &str, text: &str, changes: &[Change]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("file.txt");
    let original = py_encode(codec, text);
    std::fs::write(&path, &original).unwrap();
    let mut s = Server::ready();
    let info = open(&mut s, &path, label);
    assert_eq!(info["encoding"], reported, "{codec}");
    let doc = info["doc"].as_u64().unwrap();
    let mut model = py_lines(codec, &path);
    assert_eq!(
        all_lines(&mut s, doc),
        model,
        "{codec}: lines as Python decodes them"
    );
    assert_eq!(
        s.request("tome/info", json!({"doc": doc})).unwrap()["encoding"],
        reported
    );

    let mut version = 0;
    for c in changes {
        let r = s
            .request(
                "tome/edit",
                json!({"doc": doc, "version": version, "edits": [{
                    "range": {"start": {"line": c.line, "character": c.from},
                              "end": {"line": c.line, "character": c.to}},
                    "text": c.text}]}),
            )
            .unwrap_or_else(|e| panic!("{codec}: edit: {e}"));
        version = r["version"].as_u64().unwrap();
        let l = &mut model[c.line];
        let (a, b) = (utf16_to_byte(l, c.from), utf16_to_byte(l, c.to));
        l.replace_range(a..b, c.text);
    }
    assert_eq!(
        all_lines(&mut s, doc),
        model,
        "{codec}: lines after the edits"
    );
    // The model's text, with the file's line breaks (the edits add none).
    let crlf = text.contains("\r\n");
    let edited = model.join(if crlf { "\r\n" } else { "\n" });

    for _ in changes {
        s.request("tome/undo", json!({"doc": doc})).unwrap();
    }
    s.request("tome/save", json!({"doc": doc})).unwrap();
    assert!(
        std::fs::read(&path).unwrap() == original,
        "{codec}: undo all + save gives the original bytes"
    );
    for _ in changes {
        s.request("tome/redo", json!({"doc": doc})).unwrap();
    }
    s.request("tome/save", json!({"doc": doc})).unwrap();
    assert!(
        std::fs::read(&path).unwrap() == py_encode(codec, &edited),
        "{codec}: redo + save gives the edited text as Python encodes it"
    );
}

fn text_of(line: impl Fn(usize) -> String, n: usize, crlf: bool) -> String {
    (0..n)
        .map(|i| line(i) + if crlf { "\r\n" } else { "\n" })
        .collect()
}

#[test]
fn windows_1252_is_detected_read_edited_and_saved_byte_for_byte() {
    let text = text_of(
        |i| format!("{i:04} café crème brûlée — naïve “quoted” 5 € ½"),
        300,
        true,
    );
    let changes = [
        Change {
            line: 3,
            from: 5,
            to: 9,
            text: "THÉ",
        },
        Change {
            line: 100,
            from: 0,
            to: 0,
            text: "« début » ",
        },
        Change {
            line: 299,
            from: 10,
            to: 16,
            text: "",
        },
    ];
    round_trip("cp1252", None, "windows-1252", &text, &changes);
}

#[test]
fn shift_jis_is_read_edited_and_saved_byte_for_byte() {
    // ソ and 表 have 0x5C ('\') as their trail byte; ｶﾀｶﾅ are single bytes.
    let text = text_of(
        |i| format!("{i:04} ログ: ソフト表示 ｶﾀｶﾅ abc\\def"),
        300,
        false,
    );
    let changes = [
        Change {
            line: 0,
            from: 5,
            to: 8,
            text: "記録",
        },
        Change {
            line: 150,
            from: 8,
            to: 8,
            text: "表ソ",
        },
        Change {
            line: 299,
            from: 0,
            to: 4,
            text: "ｴﾗｰ",
        },
    ];
    round_trip("shift_jis", Some("shift_jis"), "Shift_JIS", &text, &changes);
}

#[test]
fn gbk_is_read_edited_and_saved_byte_for_byte() {
    let text = text_of(
        |i| format!("{i:04} 日志: 中文文本 数据库连接 ok"),
        300,
        false,
    );
    let changes = [
        Change {
            line: 1,
            from: 9,
            to: 13,
            text: "英文",
        },
        Change {
            line: 200,
            from: 0,
            to: 0,
            text: "错误 ",
        },
    ];
    round_trip("gbk", Some("gbk"), "GBK", &text, &changes);
}

#[test]
fn utf8_with_a_bom_keeps_it() {
    let text = "\u{FEFF}".to_owned() + &text_of(|i| format!("{i} héllo 🦀"), 50, false);
    let changes = [Change {
        line: 0,
        from: 1,
        to: 2,
        text: "X",
    }];
    round_trip("utf-8", None, "utf-8-bom", &text, &changes);
}

#[test]
fn a_character_the_encoding_cannot_represent_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.txt");
    let original = py_encode(
        "cp1252",
        "caf\u{e9} cr\u{e8}me br\u{fb}l\u{e9}e na\u{ef}ve \u{e0} \u{ab}\u{bb}\n",
    );
    std::fs::write(&path, &original).unwrap();
    let mut s = Server::ready();
    let doc = open(&mut s, &path, None)["doc"].as_u64().unwrap();
    let e = s
        .request(
            "tome/edit",
            json!({"doc": doc, "version": 0,
                   "edits": [{"offsets": {"start": 0, "end": 0}, "text": "ok 漢"}]}),
        )
        .unwrap_err();
    assert_eq!(e["code"], -33021, "{e}");
    assert_eq!(e["data"]["kind"], "unrepresentable");
    assert_eq!(e["data"]["character"], "漢");
    assert_eq!(e["data"]["encoding"], "windows-1252");
    let info = s.request("tome/info", json!({"doc": doc})).unwrap();
    assert_eq!(info["version"], 0, "nothing applied");
    assert!(!info["dirty"].as_bool().unwrap());
    // A replacement too; a search pattern that cannot be in the file is refused as well.
    let e = s
        .request(
            "tome/replaceAll",
            json!({"doc": doc, "query": {"pattern": "caf"}, "replacement": "🦀"}),
        )
        .unwrap_err();
    assert_eq!(e["code"], -33021, "{e}");
    let e = s
        .request(
            "tome/search",
            json!({"doc": doc, "query": {"pattern": "漢"}, "mode": "all"}),
        )
        .unwrap_err();
    assert_eq!(e["code"], -33021, "{e}");
    s.request("tome/save", json!({"doc": doc})).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), original);
}

#[test]
fn a_search_is_written_in_the_encoding_and_matches_whole_characters() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.txt");
    // "ソ" is 83 5C and "表" is 95 5C: a search for "\" must not find their trail bytes;
    // "b" (0x62) is the trail byte of "Ｃ" (82 62).
    let text = "ソ表\\ Ｃb\nxソ\n";
    std::fs::write(&path, py_encode("shift_jis", text)).unwrap();
    let mut s = Server::ready();
    let doc = open(&mut s, &path, Some("sjis"))["doc"].as_u64().unwrap();
    let find = |s: &mut Server, pattern: &str| -> Vec<(u64, u64)> {
        let r = s
            .request(
                "tome/search",
                json!({"doc": doc, "query": {"pattern": pattern}, "mode": "all"}),
            )
            .unwrap();
        r["matches"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["offsets"]["start"].as_u64().unwrap(),
                    m["offsets"]["end"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(find(&mut s, "\\"), [(4, 5)]);
    assert_eq!(find(&mut s, "b"), [(8, 9)]);
    assert_eq!(find(&mut s, "ソ"), [(0, 2), (11, 13)]);
    // Positions count the decoded characters (UTF-16 columns).
    let r = s
        .request(
            "tome/search",
            json!({"doc": doc, "query": {"pattern": "ソ"}, "mode": "all"}),
        )
        .unwrap();
    assert_eq!(
        r["matches"][1]["range"]["start"],
        json!({"line": 1, "character": 1})
    );
    // Regex is refused with a clear error, not run on the wrong bytes.
    let e = s
        .request(
            "tome/search",
            json!({"doc": doc, "query": {"pattern": "x.", "regex": true}, "mode": "all"}),
        )
        .unwrap_err();
    assert_eq!(e["code"], -33004, "{e}");
    assert!(e["message"].as_str().unwrap().contains("Shift_JIS"), "{e}");
}

/// Lines full of the UTF-16 trap: characters whose code units hold 0x0A / 0x0D bytes at odd
/// offsets (U+0A0D is `0D 0A` in LE, U+0D0A in BE, U+010A is `0A 01`, Gurmukhi U+0A05…),
/// which are not line breaks, and characters outside the BMP (surrogate pairs).
fn utf16_text(crlf: bool) -> String {
    text_of(
        // (U+0A0D U+0100 is `0D 0A 00 01` in LE: a 0x0A byte followed by a zero byte, at an
        // odd offset; U+0D0A U+0100 the same in BE.)
        |i| {
            format!(
                "{i:04} ਅਕਾਲ \u{A0D}\u{100}\u{D0A}\u{100}\u{10A}\u{A00}\u{A0A}一 🦀𝄞 café ✓ end"
            )
        },
        400,
        crlf,
    )
}

fn utf16_changes() -> [Change; 3] {
    [
        Change {
            line: 3,
            from: 5,
            to: 9,
            text: "ਸਤਿ 🦀",
        },
        Change {
            line: 200,
            from: 0,
            to: 0,
            text: "\u{A0D}\u{10A} ",
        },
        Change {
            line: 399,
            from: 12,
            to: 16,
            text: "",
        },
    ]
}

#[test]
fn utf16le_with_a_bom_is_read_edited_and_saved_byte_for_byte() {
    // "utf-16-le" keeps the BOM a character (U+FEFF on line 0, as Tome shows it) both ways.
    let text = format!("\u{FEFF}{}", utf16_text(true));
    round_trip("utf-16-le", None, "UTF-16LE", &text, &utf16_changes());
    let text = format!("\u{FEFF}{}", utf16_text(false));
    round_trip("utf-16-le", None, "UTF-16LE", &text, &utf16_changes());
}

#[test]
fn utf16be_with_a_bom_is_read_edited_and_saved_byte_for_byte() {
    let text = format!("\u{FEFF}{}", utf16_text(true));
    round_trip("utf-16-be", None, "UTF-16BE", &text, &utf16_changes());
    let text = format!("\u{FEFF}{}", utf16_text(false));
    round_trip("utf-16-be", None, "UTF-16BE", &text, &utf16_changes());
}

#[test]
fn utf16_without_a_bom_is_detected_or_named() {
    // Mostly ASCII: detected by its zero bytes.
    let text = text_of(|i| format!("{i:04} plain text \u{10A} 🦀 line"), 400, true);
    round_trip("utf-16-le", None, "UTF-16LE", &text, &utf16_changes());
    round_trip("utf-16-be", None, "UTF-16BE", &text, &utf16_changes());
    // Other scripts are not detected: named at open.
    round_trip(
        "utf-16-le",
        Some("utf-16le"),
        "UTF-16LE",
        &utf16_text(false),
        &utf16_changes(),
    );
}

#[test]
fn utf16_search_matches_whole_characters_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.txt");
    // "\u{A0D}\u{A0D}" is `0D 0A 0D 0A`; searching "\u{D0A}" (`0A 0D`) finds those bytes at
    // an odd offset only: no match. "਍" itself matches twice per line.
    let text = "\u{FEFF}a\u{A0D}\u{A0D}b 🦀\r\n".repeat(100);
    std::fs::write(&path, py_encode("utf-16-le", &text)).unwrap();
    let mut s = Server::ready();
    let doc = open(&mut s, &path, None)["doc"].as_u64().unwrap();
    let count = |s: &mut Server, pattern: &str| {
        s.request(
            "tome/search",
            json!({"doc": doc, "query": {"pattern": pattern}, "mode": "count"}),
        )
        .unwrap()["count"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(count(&mut s, "\u{D0A}"), 0);
    assert_eq!(count(&mut s, "\u{A0D}"), 200);
    assert_eq!(count(&mut s, "b 🦀"), 100);
    let e = s
        .request(
            "tome/search",
            json!({"doc": doc, "query": {"pattern": "B", "caseSensitive": false}, "mode": "count"}),
        )
        .unwrap_err();
    assert!(e["message"].as_str().unwrap().contains("UTF-16LE"), "{e}");
    // Replace all, then save: Python's encoding of Python's replacement.
    s.request(
        "tome/replaceAll",
        json!({"doc": doc, "version": 0, "query": {"pattern": "\u{A0D}b"}, "replacement": "B\u{10A}"}),
    )
    .unwrap();
    s.request("tome/save", json!({"doc": doc})).unwrap();
    let replaced = text.replace("\u{A0D}b", "B\u{10A}");
    assert!(std::fs::read(&path).unwrap() == py_encode("utf-16-le", &replaced));
    assert_eq!(all_lines(&mut s, doc), py_lines("utf-16-le", &path));
}

#[test]
fn utf16_column_windows_count_code_units() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.txt");
    std::fs::write(&path, py_encode("utf-16-be", "\u{FEFF}ab🦀\u{A0D}cd\nx\n")).unwrap();
    let mut s = Server::ready();
    let doc = open(&mut s, &path, None)["doc"].as_u64().unwrap();
    let v = s
        .request(
            "tome/viewport",
            json!({"doc": doc, "first": 0, "count": 1, "window": {"start": 3, "width": 3}}),
        )
        .unwrap();
    let line = &v["lines"][0];
    // U+FEFF a b 🦀(2) ਍ c d: 8 UTF-16 columns; columns 3..6 are the crab and U+0A0D.
    assert_eq!(line["length"], 8, "{line}");
    assert_eq!(line["text"], "🦀\u{A0D}", "{line}");
}

#[test]
fn utf32_is_recognised_and_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Server::ready();
    let text = "hello, world\r\nsecond line\r\n".repeat(20);
    let path = dir.path().join("utf-32.txt");
    std::fs::write(&path, py_encode("utf-32", &text)).unwrap();
    let e = s.request("tome/open", json!({"path": path})).unwrap_err();
    assert_eq!(e["code"], -33022, "{e}");
    assert_eq!(e["data"]["encoding"], "UTF-32LE");
    // Its bytes can still be looked at.
    let info = open(&mut s, &path, Some("binary"));
    assert_eq!(info["encoding"], "binary");
}

#[test]
fn reopening_as_utf16_counts_its_line_breaks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r16.txt");
    // Not detected (no zero bytes to speak of), so read as binary at first.
    let text = "\u{A0D}ਅਕਾਲ\n\u{10A}ਸਤਿ\n".repeat(10);
    std::fs::write(&path, py_encode("utf-16-le", &text)).unwrap();
    let mut s = Server::ready();
    let info = open(&mut s, &path, None);
    let doc = info["doc"].as_u64().unwrap();
    let info = s
        .request(
            "tome/reopenWithEncoding",
            json!({"doc": doc, "encoding": "utf-16le"}),
        )
        .unwrap();
    assert_eq!(info["encoding"], "UTF-16LE");
    assert_eq!(all_lines(&mut s, doc), py_lines("utf-16-le", &path));
}

#[test]
fn labels_and_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.txt");
    // Japanese in Shift_JIS, which windows-1252 reads as other characters.
    std::fs::write(&path, py_encode("shift_jis", "日本語のテキスト\n")).unwrap();
    let mut s = Server::ready();
    let bad = s.error_code("tome/open", json!({"path": path, "encoding": "klingon"}));
    assert_eq!(bad, -32602);
    let info = open(&mut s, &path, None);
    assert_eq!(info["encoding"], "windows-1252", "the documented default");
    let doc = info["doc"].as_u64().unwrap();
    let bad = s.error_code(
        "tome/reopenWithEncoding",
        json!({"doc": doc, "encoding": "nope"}),
    );
    assert_eq!(bad, -32602);
    let info = s
        .request(
            "tome/reopenWithEncoding",
            json!({"doc": doc, "encoding": "Shift_JIS"}),
        )
        .unwrap();
    assert_eq!(info["encoding"], "Shift_JIS");
    assert_eq!(all_lines(&mut s, doc), ["日本語のテキスト", ""]);
    let e = s
        .request(
            "tome/reopenWithEncoding",
            json!({"doc": doc, "encoding": "iso-2022-jp"}),
        )
        .unwrap_err();
    assert_eq!(e["code"], -33022, "{e}");
    s.request(
        "tome/edit",
        json!({"doc": doc, "version": 0, "edits": [{"offsets": {"start": 0, "end": 0}, "text": "語"}]}),
    )
    .unwrap();
    let e = s
        .request(
            "tome/reopenWithEncoding",
            json!({"doc": doc, "encoding": "gbk"}),
        )
        .unwrap_err();
    assert_eq!(e["code"], -33023, "{e}");
    assert_eq!(e["data"]["kind"], "dirty");
    assert_eq!(all_lines(&mut s, doc), ["語日本語のテキスト", ""]);
}
