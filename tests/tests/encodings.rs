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
    // A regex runs on the decoded text: "." is one character (two bytes here), and the
    // trail byte 0x5C of "表" is not a backslash.
    let r = s
        .request(
            "tome/search",
            json!({"doc": doc, "query": {"pattern": "x.|\\\\", "regex": true}, "mode": "all"}),
        )
        .unwrap();
    let got: Vec<_> = r["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["offsets"]["start"].clone(), m["offsets"]["end"].clone()))
        .collect();
    assert_eq!(got, [(json!(4), json!(5)), (json!(10), json!(13))], "{r}");
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
    let n = s
        .request(
            "tome/search",
            json!({"doc": doc, "query": {"pattern": "B", "caseSensitive": false}, "mode": "count"}),
        )
        .unwrap()["count"]
        .clone();
    assert_eq!(n, 100);
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

/// Every match of `patterns` in `path` as Python's `re` finds them on the text Python's codec
/// `codec` decodes (multi-line mode; `ci`: re.I), as file byte offsets (the prefix's length
/// encoded again, character by character).
fn py_matches(codec: &str, path: &Path, patterns: &[(&str, bool)]) -> Vec<Vec<(u64, u64)>> {
    let arg = json!({"codec": codec, "path": path, "patterns": patterns}).to_string();
    let out = python(
        "import sys, json, re\n\
         a = json.loads(sys.argv[1])\n\
         t = open(a['path'], 'rb').read().decode(a['codec'])\n\
         offs = [0]\n\
         for ch in t: offs.append(offs[-1] + len(ch.encode(a['codec'])))\n\
         out = []\n\
         for p, ci in a['patterns']:\n\
         \x20   flags = re.M | (re.I if ci else 0)\n\
         \x20   out.append([[offs[m.start()], offs[m.end()]] for m in re.finditer(p, t, flags)])\n\
         print(json.dumps(out))",
        &arg,
    );
    serde_json::from_slice(&out).expect("a JSON list")
}

/// Matches of a search over the protocol: all (pages of `limit`), as byte offsets.
fn all_matches(s: &mut Server, doc: u64, query: &Value, limit: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut from = 0u64;
    loop {
        let r = s
            .request(
                "tome/search",
                json!({"doc": doc, "query": query, "mode": "all",
                       "from": {"offset": from}, "limit": limit}),
            )
            .expect("search");
        for m in r["matches"].as_array().unwrap() {
            out.push((
                m["offsets"]["start"].as_u64().unwrap(),
                m["offsets"]["end"].as_u64().unwrap(),
            ));
        }
        match r["resumeAt"].as_u64() {
            Some(at) => from = at,
            None => return out,
        }
    }
}

/// The text of the decoded-search tests: accents, kana, kanji, a surrogate pair, characters
/// whose UTF-16 units hold 0x0A / 0x0D bytes (U+0A0D, U+010A, U+0D0A), and words to match.
fn search_text(codec: &str, n: usize) -> String {
    let utf16 = codec.starts_with("utf-16");
    text_of(
        |i| {
            let extra = match codec {
                _ if utf16 => " \u{A0D}\u{10A}\u{D0A} 🦀🦀 ĊafÉ",
                "cp1252" => " Ærø Æøß ü Ü",
                "shift_jis" => " カナ 漢字 ｶﾅ",
                _ => " カナ 漢字",
            };
            let line = format!(
                "{i:05} seq={:04} café CAFÉ Élan word Word{extra} é{}x end",
                (i * 37) % 3000,
                i % 7
            );
            if utf16 || codec == "cp1252" {
                line
            } else {
                // (No é in Shift_JIS: full-width letters, which have cases too.)
                line.replace('é', "ｅ").replace('É', "Ｅ")
            }
        },
        n,
        false,
    )
}

const SEARCH_PATTERNS: &[(&str, bool)] = &[
    (r"\w+", false),
    (r"[éÉ]\w*", false),
    (r"^\w+", false),
    (r"\w+$", false),
    (r"seq=1[0-9]{3}\b", false),
    (r"word|漢字|カナ|🦀+|Ċ\w", false),
    (r"[^\x00-\x7F]{2,}", false),
    (r"\d\s+\w", false),
    ("é", true),
    ("CAFÉ", true),
    ("WORD", true),
    ("CAFｅ", true),
];

/// Files in UTF-16LE (with and without a BOM), UTF-16BE, windows-1252, Shift_JIS and GBK:
/// every regex and case-insensitive search (pages, count, next forward and backward with
/// wrap) finds exactly what Python's `re` finds on Python's decoding of the file. The server
/// searches windows of 512 bytes (a test hook), so matches cross window edges everywhere.
#[test]
fn regex_and_case_insensitive_search_match_python_re() {
    let dir = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let mut s = Server::start_with_env(state.path(), &[("TOME_TEST_SEARCH_WINDOW", "512:160")]);
    s.request("initialize", json!({"capabilities": {}}))
        .expect("initialize");
    s.notify("initialized", json!({}));
    let files = [
        ("utf-16-le", "\u{FEFF}", None, "UTF-16LE"),
        ("utf-16-le", "", Some("utf-16le"), "UTF-16LE"),
        ("utf-16-be", "\u{FEFF}", None, "UTF-16BE"),
        ("cp1252", "", Some("windows-1252"), "windows-1252"),
        ("shift_jis", "", Some("shift_jis"), "Shift_JIS"),
        ("gbk", "", Some("gbk"), "GBK"),
    ];
    for (k, (codec, bom, label, name)) in files.into_iter().enumerate() {
        let text = format!("{bom}{}", search_text(codec, 120));
        let path = dir.path().join(format!("f{k}.txt"));
        std::fs::write(&path, py_encode(codec, &text)).unwrap();
        let opened = open(&mut s, &path, label);
        assert_eq!(opened["encoding"], name, "{opened}");
        let doc = opened["doc"].as_u64().unwrap();
        let len = std::fs::metadata(&path).unwrap().len();
        let wants = py_matches(codec, &path, SEARCH_PATTERNS);
        let some = wants.iter().filter(|w| !w.is_empty()).count();
        assert!(some >= 9, "{name}: {some} patterns match");
        for (&(pattern, ci), want) in SEARCH_PATTERNS.iter().zip(&wants) {
            let what = format!("{name} {pattern:?}");
            // Within the overlap: found whole across window edges.
            assert!(want.iter().all(|m| m.1 - m.0 < 150), "{what}");
            let query = if ci {
                json!({"pattern": pattern, "caseSensitive": false})
            } else {
                json!({"pattern": pattern, "regex": true})
            };
            assert_eq!(&all_matches(&mut s, doc, &query, 1000), want, "{what}");
            assert_eq!(&all_matches(&mut s, doc, &query, 7), want, "{what} pages");
            let count = s
                .request(
                    "tome/search",
                    json!({"doc": doc, "query": query, "mode": "count"}),
                )
                .unwrap()["count"]
                .as_u64()
                .unwrap();
            assert_eq!(count as usize, want.len(), "{what} count");
            // Next from each match's start (and one byte after it): the match itself, the
            // next one; backward, the one before; wrapping at the ends.
            let step = (want.len() / 25).max(1);
            if want.is_empty() {
                continue;
            }
            for (i, m) in want.iter().enumerate().step_by(step) {
                let next = |s: &mut Server, from: u64, dir: &str| {
                    let r = s
                        .request(
                            "tome/search",
                            json!({"doc": doc, "query": query, "mode": "next", "wrap": true,
                                   "direction": dir, "from": {"offset": from}}),
                        )
                        .unwrap();
                    let f = &r["found"]["offsets"];
                    (f["start"].as_u64().unwrap(), f["end"].as_u64().unwrap())
                };
                assert_eq!(next(&mut s, m.0, "forward"), *m, "{what} next {i}");
                // (From inside a match of a repetition, the search would find its tail.)
                if ci || [r"seq=1[0-9]{3}\b", r"\d\s+\w", r"^\w+"].contains(&pattern) {
                    let after = want.get(i + 1).unwrap_or(&want[0]);
                    assert_eq!(
                        next(&mut s, m.0 + 1, "forward"),
                        *after,
                        "{what} next+1 {i}"
                    );
                }
                let before = if i == 0 { want.last() } else { want.get(i - 1) };
                assert_eq!(
                    next(&mut s, m.0, "backward"),
                    *before.unwrap(),
                    "{what} back {i}"
                );
            }
            assert!(want.last().unwrap().1 <= len);
        }
    }
}

/// A 256 MiB UTF-16LE file (lines of one length, so the answers are arithmetic): a regex count
/// and a case-insensitive count over the whole file (on every core, in decoded windows), a
/// next match near the end and a backward one from the end.
#[test]
fn a_256_mib_utf16_file_is_searched_with_regexes() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big16.log");
    let line = |i: usize| format!("{i:08} seq={:04} café 漢字 🦀 INFO ok\n", i % 5000);
    let encode = |t: &str| -> Vec<u8> { t.encode_utf16().flat_map(u16::to_le_bytes).collect() };
    let line_bytes = encode(&line(0)).len();
    let n = (256usize << 20).div_ceil(line_bytes);
    {
        let mut w =
            std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&path).unwrap());
        w.write_all(&[0xFF, 0xFE]).unwrap();
        for i in 0..n {
            w.write_all(&encode(&line(i))).unwrap();
        }
        w.flush().unwrap();
    }
    let mut s = Server::ready();
    let doc = open(&mut s, &path, None)["doc"].as_u64().unwrap();
    let search = |s: &mut Server, params: Value| {
        let mut p = json!({"doc": doc, "wrap": false});
        for (k, v) in params.as_object().unwrap() {
            p[k] = v.clone();
        }
        s.request("tome/search", p).expect("search")
    };
    let want = (0..n)
        .filter(|i| (1000..2000).contains(&(i % 5000)))
        .count();
    let r = search(
        &mut s,
        json!({"query": {"pattern": r"seq=1[0-9]{3}\b", "regex": true}, "mode": "count"}),
    );
    assert_eq!(r["count"].as_u64(), Some(want as u64));
    let r = search(
        &mut s,
        json!({"query": {"pattern": "CAFÉ 漢", "caseSensitive": false}, "mode": "count"}),
    );
    assert_eq!(r["count"].as_u64(), Some(n as u64));
    // The start of line i in bytes (after the BOM).
    let at = |i: usize| (2 + i * line_bytes) as u64;
    let target = n - 3;
    let r = search(
        &mut s,
        json!({"query": {"pattern": format!(r"0*{target} seq=\d+ café"), "regex": true},
               "mode": "next", "from": {"offset": 0}}),
    );
    assert_eq!(
        r["found"]["offsets"]["start"].as_u64(),
        Some(at(target)),
        "{r}"
    );
    let last = (n - 1) / 5000 * 5000;
    let r = search(
        &mut s,
        json!({"query": {"pattern": r"^\d+ seq=0000", "regex": true}, "mode": "next",
               "direction": "backward", "from": {"offset": at(n)}}),
    );
    assert_eq!(
        r["found"]["offsets"]["start"].as_u64(),
        Some(at(last)),
        "{r}"
    );
    assert_eq!(
        r["found"]["range"]["start"]["line"].as_u64(),
        Some(last as u64),
        "{r}"
    );
}

/// The files of the filter and replace-all tests: Python's codec, a BOM to write, and the
/// label to open with (`None`: detected).
const DECODED_FILES: [(&str, &str, Option<&str>); 4] = [
    ("utf-16-le", "\u{FEFF}", None),
    ("utf-16-be", "", Some("utf-16be")),
    ("cp1252", "", Some("windows-1252")),
    ("shift_jis", "", Some("shift_jis")),
];

/// Line filters (`tome/filter`) in UTF-16LE (BOM) and BE, windows-1252 and Shift_JIS: for each
/// regex, ignored case and whole word, the lines selected (numbers and text) are those on which
/// Python's `re.search` finds a match in Python's decoding of the file, split at CRLF, LF, CR.
#[test]
fn line_filters_match_python_re_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Server::ready();
    let mut patterns: Vec<(String, bool, bool)> = SEARCH_PATTERNS
        .iter()
        .map(|&(p, ci)| {
            if ci {
                (regex_escape(p), false, true)
            } else {
                (p.to_owned(), false, false)
            }
        })
        .collect();
    // Whole words (`\b…\b` in Python for a word pattern).
    patterns.push((r"\bword\b".into(), true, false));
    patterns.push((r"\bcafé\b".into(), true, false));
    for (k, &(codec, bom, label)) in DECODED_FILES.iter().enumerate() {
        let body = search_text(codec, 200).replace("x end\n", "x end\r\n");
        let text = format!("{bom}{body}");
        let path = dir.path().join(format!("f{k}.txt"));
        std::fs::write(&path, py_encode(codec, &text)).unwrap();
        let doc = open(&mut s, &path, label)["doc"].as_u64().unwrap();
        let arg = json!({"codec": codec, "path": path, "patterns": patterns}).to_string();
        let want: Vec<Vec<(u64, String)>> = serde_json::from_slice(&python(
            "import sys, json, re\n\
             a = json.loads(sys.argv[1])\n\
             t = open(a['path'], 'rb').read().decode(a['codec'])\n\
             lines = re.split('\\r\\n|\\n|\\r', t)\n\
             if lines and lines[-1] == '': lines.pop()\n\
             out = []\n\
             for p, ww, ci in a['patterns']:\n\
             \x20   r = re.compile(p, re.I if ci else 0)\n\
             \x20   out.append([[i, l] for i, l in enumerate(lines) if r.search(l)])\n\
             print(json.dumps(out))",
            &arg,
        ))
        .unwrap();
        let mut some = 0;
        for ((p, whole_word, ci), want) in patterns.iter().zip(&want) {
            // A whole word is the word itself with wholeWord (Python's \b is the oracle).
            let query = if *whole_word {
                let word = p.trim_start_matches(r"\b").trim_end_matches(r"\b");
                json!({"pattern": word, "wholeWord": true})
            } else if *ci {
                json!({"pattern": unescape(p), "caseSensitive": false})
            } else {
                json!({"pattern": p, "regex": true})
            };
            let f = s.request("tome/filter", json!({"doc": doc, "query": query}));
            let f = f.unwrap_or_else(|e| panic!("{codec} {query}: {e}"))["filter"]
                .as_u64()
                .unwrap();
            let info = s.request("tome/filterWait", json!({"filter": f})).unwrap();
            assert_eq!(info["complete"], true, "{info}");
            let r = s
                .request(
                    "tome/filterLines",
                    json!({"filter": f, "first": 0, "count": 1000, "maxLineBytes": 100000}),
                )
                .unwrap();
            let got: Vec<(u64, String)> = r["lines"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| {
                    (
                        l["line"].as_u64().unwrap(),
                        l["text"].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            assert_eq!(&got, want, "{codec} {query}");
            some += usize::from(!want.is_empty());
            s.request("tome/closeFilter", json!({"filter": f})).unwrap();
        }
        assert!(some >= 8, "{codec}: {some} patterns selected lines");
    }
}

/// `text` as a regex matching it literally (the characters the patterns here use).
fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let special = "\\.+*?()|[]{}^$".contains(c);
            special
                .then_some('\\')
                .into_iter()
                .chain(std::iter::once(c))
        })
        .collect()
}

/// [`regex_escape`] undone.
fn unescape(p: &str) -> String {
    let mut out = String::new();
    let mut chars = p.chars();
    while let Some(c) = chars.next() {
        out.push(if c == '\\' {
            chars.next().unwrap_or(c)
        } else {
            c
        });
    }
    out
}

/// A regex replace-all with groups (`$2=${1}`) in UTF-16LE (BOM), UTF-16BE, windows-1252 and
/// Shift_JIS: the groups are the decoded text's, the result saved in the file's encoding is
/// Python's `re.sub` of the decoded text, encoded again.
#[test]
fn replace_all_with_groups_matches_python_re_sub() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Server::ready();
    let cases = [
        (r"seq=(\d+) (\w+)", "$2=${1}", r"\2=\1", false),
        (
            r"(\w+) (Élan|Ｅlan) (?P<w>\w+)",
            "${w}<$2>$1",
            r"\g<w><\2>\1",
            false,
        ),
        (r"(word) (WORD)", "[$2|$1]", r"[\2|\1]", true),
    ];
    for (k, &(codec, bom, label)) in DECODED_FILES.iter().enumerate() {
        for (c, (pattern, repl, py_repl, ci)) in cases.iter().enumerate() {
            let text = format!("{bom}{}", search_text(codec, 150));
            let path = dir.path().join(format!("r{k}-{c}.txt"));
            std::fs::write(&path, py_encode(codec, &text)).unwrap();
            let doc = open(&mut s, &path, label)["doc"].as_u64().unwrap();
            let r = s
                .request(
                    "tome/replaceAll",
                    json!({"doc": doc, "query": {"pattern": pattern, "regex": true, "caseSensitive": !ci},
                           "replacement": repl}),
                )
                .unwrap_or_else(|e| panic!("{codec} {pattern}: {e}"));
            assert!(r["count"].as_u64().unwrap() > 0, "{codec} {pattern}: {r}");
            s.request("tome/save", json!({"doc": doc})).unwrap();
            let arg = json!({"codec": codec, "path": path, "p": pattern, "r": py_repl, "ci": ci,
                             "text": text})
            .to_string();
            let want = python(
                "import sys, json, re\n\
                 a = json.loads(sys.argv[1])\n\
                 t = re.sub(a['p'], a['r'], a['text'], flags=re.M | (re.I if a['ci'] else 0))\n\
                 sys.stdout.buffer.write(t.encode(a['codec']))",
                &arg,
            );
            let got = std::fs::read(&path).unwrap();
            assert!(
                got == want,
                "{codec} {pattern}: the saved bytes differ from Python's"
            );
            s.request("tome/close", json!({"doc": doc})).unwrap();
        }
    }
}
