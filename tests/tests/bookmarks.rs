//! Bookmarks through the protocol, on a generated file of 200 MiB: set, moved by edits before,
//! after and over them, saved, offered again by a new server at `tome/open` on the same text
//! (the oracle: the bookmarked line's content and column read from the saved file), dropped
//! when the file changed between sessions; set on unsaved edits and stored for the file on
//! disk; planted entries in the state directory ignored and never followed.

use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tome_e2e::Server;
use tome_gen::GenConfig;

fn initialize(s: &mut Server) {
    s.request("initialize", json!({"capabilities": {}}))
        .unwrap();
    s.notify("initialized", json!({}));
}

fn wait_indexed(s: &mut Server, doc: u64) {
    let deadline = Instant::now() + Duration::from_secs(300);
    while s.request("tome/info", json!({"doc": doc})).unwrap()["indexComplete"] != true {
        assert!(Instant::now() < deadline, "the index never completed");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The line holding byte `at` of the file and `at`'s column in it (lines of the generated
/// files are far shorter than the 64 KiB read on each side).
fn line_at(path: &Path, at: u64) -> (Vec<u8>, u64) {
    let f = std::fs::File::open(path).unwrap();
    let from = at.saturating_sub(65536);
    let mut buf = vec![0u8; (at - from) as usize + 65536];
    let n = f.read_at(&mut buf, from).unwrap();
    buf.truncate(n);
    let k = (at - from) as usize;
    let start = buf[..k]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let end = buf[k..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(buf.len(), |i| k + i);
    (buf[start..end].to_vec(), (k - start) as u64)
}

fn bytes_at(path: &Path, at: u64, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    let got = std::fs::File::open(path)
        .unwrap()
        .read_at(&mut buf, at)
        .unwrap();
    buf.truncate(got);
    buf
}

fn offsets(list: &Value) -> Vec<(String, u64)> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["name"].as_str().unwrap().to_owned(),
                b["offset"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn get(list: &[(String, u64)], name: &str) -> u64 {
    list.iter().find(|b| b.0 == name).unwrap().1
}

fn edit(s: &mut Server, doc: u64, version: u64, start: u64, end: u64, text: &str) -> u64 {
    let r = s
        .request(
            "tome/edit",
            json!({"doc": doc, "version": version, "edits": [{"offsets": {"start": start, "end": end}, "text": text}]}),
        )
        .unwrap();
    r["version"].as_u64().unwrap()
}

#[test]
fn bookmarks_follow_edits_survive_save_and_restart_and_drop_for_a_changed_file() {
    let dir = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    tome_gen::write_file(
        &GenConfig {
            size: 200 << 20,
            ..GenConfig::default()
        },
        &path,
    )
    .unwrap();
    let mut s = Server::start_with_state(state.path());
    initialize(&mut s);
    let open = s.request("tome/open", json!({"path": path})).unwrap();
    assert_eq!(open["bookmarks"], json!([]), "{open}");
    assert_eq!(open["bookmarksDropped"], false, "{open}");
    wait_indexed(&mut s, 1);

    // E before every edit; A, B, C after the first; D inside a range deleted later; C where
    // text is inserted exactly (pushed along with its text).
    let (e, a, b, c, d) = (2u64, 50_000, 100 << 20, 190 << 20, 150 << 20);
    let mut want = Vec::new();
    for (name, at) in [("E", e), ("A", a), ("B", b), ("C", c), ("todo: look", d)] {
        let r = s
            .request(
                "tome/setBookmark",
                json!({"doc": 1, "name": name, "offset": at}),
            )
            .unwrap();
        assert_eq!(r["persisted"], true, "{r}");
        // The text that follows it (up to the first edit after E), and its line and column.
        let follows = bytes_at(&path, at, if name == "E" { 3 } else { 40 });
        want.push((name, follows, line_at(&path, at)));
    }
    // Positions are given too (UTF-16 columns; the generated text is ASCII).
    let listed = s.request("tome/bookmarks", json!({"doc": 1})).unwrap();
    let pos_b = &listed["bookmarks"].as_array().unwrap()[1]["position"];
    let (_, col_b) = line_at(&path, b);
    assert_eq!(pos_b["character"], col_b, "{listed}");

    let after_d = bytes_at(&path, d + 50, 40);
    let mut v = edit(&mut s, 1, 0, 5, 5, "hello\nworld\n"); // +12 before A, B, C, D
    v = edit(&mut s, 1, v, d + 12 - 50, d + 12 + 50, ""); // over D: C is at c - 88
    v = edit(&mut s, 1, v, c - 98, c - 98, "ZZ"); // before C: at c - 86
    edit(&mut s, 1, v, c - 86, c - 86, "pushed"); // exactly at C: pushed along, c - 80
    let now = offsets(&s.request("tome/bookmarks", json!({"doc": 1})).unwrap()["bookmarks"]);
    assert_eq!(get(&now, "E"), e);
    assert_eq!(get(&now, "A"), a + 12);
    assert_eq!(get(&now, "B"), b + 12);
    assert_eq!(get(&now, "todo: look"), d + 12 - 50);
    assert_eq!(get(&now, "C"), c - 80);

    let saved = s.request("tome/save", json!({"doc": 1})).unwrap();
    assert!(saved["bytes"].as_u64().is_some(), "{saved}");
    s.request("tome/close", json!({"doc": 1})).unwrap();
    assert_eq!(s.shutdown(), Some(0));

    // A new server: the bookmarks come back, each on the same text of the saved file.
    let mut s = Server::start_with_state(state.path());
    initialize(&mut s);
    let open = s.request("tome/open", json!({"path": path})).unwrap();
    assert_eq!(open["bookmarksDropped"], false, "{open}");
    let back = offsets(&open["bookmarks"]);
    assert_eq!(back, now, "{open}");
    for (name, follows, (line, col)) in &want {
        let at = get(&back, name);
        if *name == "todo: look" {
            // Its text was deleted: at the deletion's start, followed by what followed it.
            assert_eq!(bytes_at(&path, at, 40), after_d);
            continue;
        }
        assert_eq!(&bytes_at(&path, at, follows.len()), follows, "{name}");
        if ["A", "B"].contains(name) {
            // No edit on their lines: the same line, the same column.
            assert_eq!(&line_at(&path, at), &(line.clone(), *col), "{name}");
        }
    }
    // Deleting one is stored too.
    let r = s
        .request("tome/deleteBookmark", json!({"doc": 1, "name": "A"}))
        .unwrap();
    assert_eq!(
        (r["deleted"].clone(), r["persisted"].clone()),
        (json!(true), json!(true))
    );
    s.request("tome/close", json!({"doc": 1})).unwrap();
    let open = s.request("tome/open", json!({"path": path})).unwrap();
    assert_eq!(offsets(&open["bookmarks"]).len(), 4, "{open}");
    s.request("tome/close", json!({"doc": 2})).unwrap();

    // The file changed between sessions (one byte, in place): dropped, and the reply says so.
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.write_all_at(b"#", 10).unwrap();
    drop(f);
    let open = s.request("tome/open", json!({"path": path})).unwrap();
    assert_eq!(open["bookmarks"], json!([]), "{open}");
    assert_eq!(open["bookmarksDropped"], true, "{open}");
    s.request("tome/close", json!({"doc": 3})).unwrap();
    let open = s.request("tome/open", json!({"path": path})).unwrap();
    assert_eq!(open["bookmarksDropped"], false, "said once: {open}");
    assert_eq!(s.shutdown(), Some(0));
}

#[test]
fn unsaved_bookmarks_errors_and_planted_entries() {
    let dir = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.txt");
    let text: String = (0..100).map(|i| format!("line {i}\n")).collect();
    std::fs::write(&path, &text).unwrap();
    let mut s = Server::start_with_state(state.path());
    initialize(&mut s);
    s.request("tome/open", json!({"path": path})).unwrap();
    wait_indexed(&mut s, 1);
    edit(&mut s, 1, 0, 0, 0, "new first line\n");
    // By position: line 11 of the edited text is "line 10".
    let r = s
        .request(
            "tome/setBookmark",
            json!({"doc": 1, "name": "A", "position": {"line": 11, "character": 2}, "version": 1}),
        )
        .unwrap();
    assert_eq!(r["persisted"], true, "{r}");
    assert_eq!(
        r["bookmarks"][0]["position"],
        json!({"line": 11, "character": 2}),
        "{r}"
    );
    // Errors: a bad name, an offset past the end, a stale version, both or neither place.
    let big = text.len() + 100;
    assert_eq!(
        s.error_code(
            "tome/setBookmark",
            json!({"doc": 1, "name": "", "offset": 0})
        ),
        -32602
    );
    assert_eq!(
        s.error_code(
            "tome/setBookmark",
            json!({"doc": 1, "name": "a\u{1}", "offset": 0})
        ),
        -32602
    );
    assert_eq!(
        s.error_code(
            "tome/setBookmark",
            json!({"doc": 1, "name": "x".repeat(65), "offset": 0})
        ),
        -32602
    );
    assert_eq!(
        s.error_code(
            "tome/setBookmark",
            json!({"doc": 1, "name": "B", "offset": big})
        ),
        -33002
    );
    assert_eq!(
        s.error_code(
            "tome/setBookmark",
            json!({"doc": 1, "name": "B", "offset": 0, "version": 0})
        ),
        -33003
    );
    assert_eq!(
        s.error_code("tome/setBookmark", json!({"doc": 1, "name": "B"})),
        -32602
    );
    assert_eq!(
        s.error_code(
            "tome/setBookmark",
            json!({"doc": 9, "name": "B", "offset": 0})
        ),
        -33001
    );
    for i in 0..99 {
        s.request(
            "tome/setBookmark",
            json!({"doc": 1, "name": format!("n{i}"), "offset": i}),
        )
        .unwrap();
    }
    assert_eq!(
        s.error_code(
            "tome/setBookmark",
            json!({"doc": 1, "name": "one too many", "offset": 0})
        ),
        -33017
    );
    for i in 0..99 {
        s.request(
            "tome/deleteBookmark",
            json!({"doc": 1, "name": format!("n{i}")}),
        )
        .unwrap();
    }
    let r = s
        .request("tome/deleteBookmark", json!({"doc": 1, "name": "none"}))
        .unwrap();
    assert_eq!(r["deleted"], false, "{r}");
    // Closed without saving: the bookmark was stored for the file as it is on disk.
    let closed = s.request("tome/close", json!({"doc": 1})).unwrap();
    assert_eq!(closed["discarded"], true);
    let open = s.request("tome/open", json!({"path": path})).unwrap();
    assert_eq!(
        open["bookmarks"][0]["position"],
        json!({"line": 10, "character": 2}),
        "{open}"
    );
    s.request("tome/close", json!({"doc": 2})).unwrap();

    // Planted: the entry replaced by a link to a file of the same content elsewhere.
    let store = state.path().join("bookmarks");
    let entry = std::fs::read_dir(&store)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "bm"))
        .unwrap();
    let elsewhere = dir.path().join("elsewhere");
    std::fs::copy(&entry, &elsewhere).unwrap();
    let kept = std::fs::read(&elsewhere).unwrap();
    std::fs::remove_file(&entry).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &entry).unwrap();
    let open = s.request("tome/open", json!({"path": path})).unwrap();
    assert_eq!(open["bookmarks"], json!([]), "{open}");
    assert_eq!(open["bookmarksDropped"], true, "{open}");
    s.request(
        "tome/setBookmark",
        json!({"doc": 3, "name": "Z", "offset": 7}),
    )
    .unwrap();
    assert_eq!(
        std::fs::read(&elsewhere).unwrap(),
        kept,
        "written through a link"
    );
    assert!(entry.symlink_metadata().unwrap().is_file());
    // Garbage in the entry: ignored the same way.
    s.request("tome/close", json!({"doc": 3})).unwrap();
    std::fs::write(&entry, b"TOMEBMK1 not really").unwrap();
    let open = s.request("tome/open", json!({"path": path})).unwrap();
    assert_eq!(open["bookmarksDropped"], true, "{open}");
    // The method list says what the server offers.
    assert_eq!(s.shutdown(), Some(0));
    let (mut s, init) = Server::initialized(json!({}));
    let methods = init["capabilities"]["experimental"]["tome"]["methods"].to_string();
    for m in ["tome/setBookmark", "tome/deleteBookmark", "tome/bookmarks"] {
        assert!(methods.contains(m), "{methods}");
    }
    s.request("shutdown", json!(null)).unwrap();
}
