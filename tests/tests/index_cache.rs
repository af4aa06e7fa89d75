//! Instant reopen through the protocol: the second `tome/open` of a 208 MiB generated file
//! answers an exact line count at once from the index cache in the state directory; an
//! appended file reuses the cached start; a rewritten one is indexed again.

use std::io::Write;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tome_e2e::Server;
use tome_gen::GenConfig;

/// Waits until `tome/info` says the index of `doc` is complete; returns that reply.
fn wait_indexed(s: &mut Server, doc: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let info = s.request("tome/info", json!({"doc": doc})).unwrap();
        if info["indexComplete"] == true {
            return info;
        }
        assert!(
            Instant::now() < deadline,
            "the index never completed: {info}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Line breaks in the file (LF only: the generator writes LF), plus one: the document's lines.
fn lines_of(path: &std::path::Path) -> u64 {
    let bytes = std::fs::read(path).unwrap();
    bytes.iter().filter(|&&b| b == b'\n').count() as u64 + 1
}

fn initialize(s: &mut Server) {
    s.request("initialize", json!({"capabilities": {}}))
        .unwrap();
    s.notify("initialized", json!({}));
}

#[test]
fn a_second_open_is_exact_at_once_and_an_appended_file_reuses_the_cached_start() {
    let dir = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    let cfg = GenConfig {
        size: 208 << 20,
        ..GenConfig::default()
    };
    tome_gen::write_file(&cfg, &path).unwrap();
    let lines = lines_of(&path);
    // An index is trusted at the same size only for a file last changed more than 2 s before
    // it was opened (file times have a coarse clock: index_cache.rs, "Racy entries").
    std::thread::sleep(Duration::from_millis(2100));

    let mut s = Server::start_with_state(state.path());
    initialize(&mut s);
    let first = s.request("tome/open", json!({"path": path})).unwrap();
    assert_eq!(first["indexCache"], "miss", "{first}");
    let done = wait_indexed(&mut s, 1);
    assert_eq!(done["lineCount"]["known"], lines);
    assert_eq!(done.get("indexCache"), None, "only in tome/open: {done}");
    s.request("tome/close", json!({"doc": 1})).unwrap();
    let entries: Vec<_> = std::fs::read_dir(state.path().join("index"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".idx"))
        .collect();
    assert_eq!(entries.len(), 1);
    // 40 bytes per 64 KiB, plus a header.
    let entry_len = entries[0].metadata().unwrap().len();
    assert!(
        entry_len > 208 * 16 * 40 && entry_len < 208 * 16 * 40 + 1024,
        "{entry_len}"
    );

    // The second open, in another server: exact at once.
    assert_eq!(s.shutdown(), Some(0));
    let mut s = Server::start_with_state(state.path());
    initialize(&mut s);
    let second = s.request("tome/open", json!({"path": path})).unwrap();
    assert_eq!(second["indexCache"], "hit", "{second}");
    assert_eq!(second["indexComplete"], true, "{second}");
    assert_eq!(second["lineCount"]["exact"], true, "{second}");
    assert_eq!(second["lineCount"]["known"], lines, "{second}");
    // The last line is there without waiting.
    let v = s
        .request(
            "tome/viewport",
            json!({"doc": 1, "first": lines - 2, "count": 2, "wait": false}),
        )
        .unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let mut parts = bytes.rsplit(|&b| b == b'\n');
    let (last, before_last) = (parts.next().unwrap(), parts.next().unwrap());
    assert_eq!(
        v["lines"][0]["text"],
        *String::from_utf8_lossy(before_last),
        "{v}"
    );
    assert_eq!(v["lines"][1]["text"], *String::from_utf8_lossy(last), "{v}");
    s.request("tome/close", json!({"doc": 1})).unwrap();

    // A log that grew: the cached start is used, the new tail counted.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    f.write_all(b"appended one\nappended two\r\nappended three")
        .unwrap();
    drop(f);
    let grown = s.request("tome/open", json!({"path": path})).unwrap();
    assert_eq!(grown["indexCache"], "grown", "{grown}");
    let done = wait_indexed(&mut s, 2);
    assert_eq!(done["lineCount"]["known"], lines + 2, "{done}");
    s.request("tome/close", json!({"doc": 2})).unwrap();

    // One byte rewritten in place, the mtime put back: not trusted, indexed again, right.
    let before = std::fs::metadata(&path).unwrap().modified().unwrap();
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    std::os::unix::fs::FileExt::write_all_at(&f, b"\n", 1000).unwrap();
    f.set_modified(before).unwrap();
    drop(f);
    let rewritten = s.request("tome/open", json!({"path": path})).unwrap();
    assert_eq!(rewritten["indexCache"], "miss", "{rewritten}");
    let done = wait_indexed(&mut s, 3);
    assert_eq!(done["lineCount"]["known"], lines_of(&path), "{done}");
    assert_eq!(s.shutdown(), Some(0));
}

#[test]
fn the_cache_can_be_turned_off() {
    let dir = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let path = dir.path().join("small.log");
    std::fs::write(&path, "a\nb\n").unwrap();
    let mut s = Server::start_with_env(state.path(), &[("TOME_INDEX_CACHE_SIZE", "0")]);
    initialize(&mut s);
    let info = s.request("tome/open", json!({"path": path})).unwrap();
    assert_eq!(info["indexCache"], "off", "{info}");
    assert!(!state.path().join("index").exists());
    assert_eq!(s.shutdown(), Some(0));
}
