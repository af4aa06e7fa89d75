//! A generated file of 256 MiB: open answers before the index is complete, a viewport at the
//! last line waits for the index, waits and long searches can be cancelled, viewports are not
//! held up by a running search, indexing reports `$/progress`.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tome_e2e::{frame, Server};
use tome_gen::{GenConfig, DEFAULT_NEEDLE};

fn cancel_frame(id: i64) -> Vec<u8> {
    frame(
        json!({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": id}})
            .to_string()
            .as_bytes(),
    )
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn big_file_open_index_wait_cancel_search_save() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    let cfg = GenConfig {
        size: 256 << 20,
        needle: Some(DEFAULT_NEEDLE.into()),
        needle_every: 100_000,
        ..GenConfig::default()
    };
    let stats = tome_gen::write_file(&cfg, &path).unwrap();
    // Lines of the document: a file ending with a line break has an empty last line.
    let ends_with_break = {
        use std::io::{Read, Seek, SeekFrom};
        let mut f = std::fs::File::open(&path).unwrap();
        f.seek(SeekFrom::End(-1)).unwrap();
        let mut b = [0u8];
        f.read_exact(&mut b).unwrap();
        b[0] == b'\n'
    };
    let doc_lines = stats.lines + u64::from(ends_with_break);
    let last = doc_lines - 1;

    let mut s = Server::ready();
    let info = s.request("tome/open", json!({"path": path})).unwrap();
    // Everything in one write, so it all arrives long before 256 MiB can be indexed.
    let mut burst = Vec::new();
    let (waiting, b) = s.request_bytes(
        "tome/viewport",
        json!({"doc": 1, "first": last - 2, "count": 5}),
    );
    burst.extend(b);
    let (cancelled, b) = s.request_bytes(
        "tome/viewport",
        json!({"doc": 1, "first": last, "count": 1}),
    );
    burst.extend(b);
    burst.extend(cancel_frame(cancelled));
    let (no_wait, b) = s.request_bytes(
        "tome/viewport",
        json!({"doc": 1, "first": last, "count": 1, "wait": false}),
    );
    burst.extend(b);
    s.write_raw(&burst);

    assert_eq!(
        info["indexComplete"], false,
        "open must not wait for the index"
    );
    assert_eq!(info["lineCount"]["exact"], false);
    assert_eq!(info["size"], 256 << 20);
    assert_eq!(info["indexProgressToken"], "tome/index/1");
    let e = s.wait(no_wait).unwrap_err();
    assert_eq!(e["code"], -33008, "{e}");
    assert_eq!(s.wait(cancelled).unwrap_err()["code"], -32800);

    // The waiting viewport arrives once indexing reaches the last line.
    let v = s.wait(waiting).unwrap();
    let lines = v["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 3, "the last line and two before");
    assert_eq!(lines[0]["number"], last - 2);
    assert!(lines[0]["text"]
        .as_str()
        .unwrap()
        .contains(&format!(" seq={} ", last - 2)));
    assert_eq!(lines[2]["number"], last);
    // The last line's start can be counted a step before the index ends (and the last step
    // also stores the index cache), so the count is exact only if the index had ended.
    let count = &v["lineCount"];
    if count["exact"] == true {
        assert_eq!(
            count,
            &json!({"known": doc_lines, "estimate": doc_lines, "exact": true})
        );
    } else {
        assert!(count["known"].as_u64().unwrap() <= doc_lines, "{count}");
    }

    // Indexing reported progress: begin, …, end.
    wait_for("the end of index progress", || {
        s.progress("tome/index/1")
            .last()
            .is_some_and(|p| p["kind"] == "end")
    });
    let p = s.progress("tome/index/1");
    assert_eq!(p[0]["kind"], "begin");
    let info = s.request("tome/info", json!({"doc": 1})).unwrap();
    assert_eq!(
        info["lineCount"],
        json!({"known": doc_lines, "estimate": doc_lines, "exact": true})
    );
    assert!(s
        .notifications
        .lock()
        .unwrap()
        .iter()
        .any(|n| n["method"] == "window/workDoneProgress/create"));

    // A needle search from the start finds line 99 999.
    let r = s
        .request(
            "tome/search",
            json!({"doc": 1, "query": {"pattern": DEFAULT_NEEDLE}, "workDoneToken": "find"}),
        )
        .unwrap();
    assert_eq!(r["found"]["range"]["start"]["line"], 99_999);
    let r = s
        .request("tome/search", json!({"doc": 1, "query": {"pattern": DEFAULT_NEEDLE}, "mode": "count", "workDoneToken": "count"}))
        .unwrap();
    assert_eq!(r["count"], stats.needles);
    wait_for("search progress end", || {
        s.progress("count")
            .last()
            .is_some_and(|p| p["kind"] == "end")
    });

    // A slow search (about half a second here) runs on a snapshot: a viewport sent after it
    // is answered while it still runs.
    let slow = json!({"doc": 1, "query": {"pattern": "[a-z]+\\d{9}[a-z]", "regex": true, "caseSensitive": false}, "mode": "count", "workDoneToken": "slow"});
    let search = s.send("tome/search", slow.clone());
    let v = s
        .request(
            "tome/viewport",
            json!({"doc": 1, "fraction": 0.5, "count": 60}),
        )
        .unwrap();
    assert_eq!(v["lines"].as_array().unwrap().len(), 60);
    assert!(
        !s.has_reply(search),
        "the viewport was held up by the search"
    );
    assert_eq!(s.wait(search).unwrap()["count"], 0);
    // Cancelled: the search and its cancel in one write, so the cancel always comes first.
    let mut slow2 = slow.clone();
    slow2["workDoneToken"] = json!("slow2");
    let (search, mut burst) = s.request_bytes("tome/search", slow2);
    burst.extend(cancel_frame(search));
    s.write_raw(&burst);
    assert_eq!(s.wait(search).unwrap_err()["code"], -32800);
    // If its progress began (the cancel may come first), it ended too.
    wait_for("cancelled search progress end", || {
        s.progress("slow2")
            .last()
            .is_none_or(|p| p["kind"] == "end")
    });

    // An edit at the end, saved: the file holds it.
    let r = s
        .request("tome/edit", json!({"doc": 1, "version": 0, "edits": [{"range": {"start": {"line": last, "character": 0}, "end": {"line": last, "character": 0}}, "text": "TAIL>"}]}))
        .unwrap();
    assert_eq!(r["version"], 1);
    let r = s
        .request("tome/save", json!({"doc": 1, "workDoneToken": "save"}))
        .unwrap();
    assert_eq!(r["bytes"], (256 << 20) + 5);
    let v = s
        .request(
            "tome/viewport",
            json!({"doc": 1, "first": last, "count": 1}),
        )
        .unwrap();
    assert!(v["lines"][0]["text"].as_str().unwrap().starts_with("TAIL>"));
    let bytes = std::fs::read(&path).unwrap();
    let tail_start = bytes.iter().rposition(|&b| b == b'\n').unwrap() + 1;
    assert!(bytes[tail_start..].starts_with(b"TAIL>"));
    // 16 MiB read back from the middle equals the saved file's bytes there.
    let (from, to) = (100usize << 20, 116usize << 20);
    let r = s
        .request(
            "tome/getText",
            json!({"doc": 1, "offsets": {"start": from, "end": to}}),
        )
        .unwrap();
    assert_eq!(r["bytes"], to - from);
    assert!(r["text"].as_str().unwrap().as_bytes() == &bytes[from..to]);
    let _: Value = s.request("tome/close", json!({"doc": 1})).unwrap();
    assert_eq!(s.shutdown(), Some(0));
}

/// A replace-all over 256 MiB keeps queue order although its scan runs without the document's
/// lock: a viewport sent after it shows the replaced text, an edit sent after it (for the
/// version it makes) applies after it.
#[test]
fn replace_all_over_256_mib_keeps_queue_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    let cfg = GenConfig {
        size: 256 << 20,
        ..GenConfig::default()
    };
    tome_gen::write_file(&cfg, &path).unwrap();
    let mut s = Server::ready();
    s.request("tome/open", json!({"path": path})).unwrap();
    let count = s
        .request(
            "tome/search",
            json!({"doc": 1, "query": {"pattern": "INFO"}, "mode": "count"}),
        )
        .unwrap()["count"]
        .as_u64()
        .unwrap();
    assert!(count > 100_000, "{count}");
    // Indexed first, so that the viewport below has nothing to wait for but the document.
    s.request(
        "tome/viewport",
        json!({"doc": 1, "fraction": 1.0, "count": 1}),
    )
    .unwrap();

    let (replace, mut burst) = s.request_bytes(
        "tome/replaceAll",
        json!({"doc": 1, "version": 0, "query": {"pattern": "INFO"}, "replacement": "info"}),
    );
    let (viewport, b) = s.request_bytes(
        "tome/viewport",
        json!({"doc": 1, "fraction": 0.5, "count": 60}),
    );
    burst.extend(b);
    let (edit, b) = s.request_bytes(
        "tome/edit",
        json!({"doc": 1, "version": 1, "edits": [{"offsets": {"start": 0, "end": 0}, "text": "X"}]}),
    );
    burst.extend(b);
    s.write_raw(&burst);

    let r = s.wait(replace).unwrap();
    let v = s.wait(viewport).unwrap();
    assert_eq!(v["version"], 1, "the viewport reflects the replace-all");
    let lines = v["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 60);
    assert!(lines
        .iter()
        .all(|l| !l["text"].as_str().unwrap().contains("INFO")));
    assert!(lines
        .iter()
        .any(|l| l["text"].as_str().unwrap().contains(" info ")));
    assert_eq!(
        (r["count"].as_u64(), r["version"].as_u64()),
        (Some(count), Some(1))
    );
    let e = s.wait(edit).unwrap();
    assert_eq!(
        e["version"], 2,
        "the edit applied after the replace-all: {e}"
    );
    let left = s
        .request(
            "tome/search",
            json!({"doc": 1, "query": {"pattern": "INFO"}, "mode": "count"}),
        )
        .unwrap();
    assert_eq!(left["count"], 0);
    let v = s
        .request("tome/viewport", json!({"doc": 1, "first": 0, "count": 1}))
        .unwrap();
    assert!(v["lines"][0]["text"].as_str().unwrap().starts_with('X'));

    // Reload drops it all and indexes the file again, reporting on a new token.
    // (On a loaded machine the index thread may finish 256 MiB before the reply is made: then
    // there is nothing to report, and no token.)
    let info = s.request("tome/reload", json!({"doc": 1})).unwrap();
    if info["indexComplete"] == true {
        assert_eq!(info.get("indexProgressToken"), None, "{info}");
    } else {
        let token = format!("tome/index/1/{}", info["version"]);
        assert_eq!(info["indexProgressToken"], token.as_str(), "{info}");
        wait_for("reindex progress end", || {
            s.progress(&token)
                .last()
                .is_some_and(|p| p["kind"] == "end")
        });
        assert_eq!(s.progress(&token)[0]["kind"], "begin");
    }
    assert_eq!(s.shutdown(), Some(0));
}

/// Yank 256 MiB and paste it twice, in the same document and in another: the server's private
/// memory stays small (pieces reused; bytes copied into another document spill to disk), and
/// the saved files hold exactly the pasted bytes.
#[test]
fn a_clip_of_256_mib_pastes_in_little_memory() {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    let cfg = GenConfig {
        size: 256 << 20,
        ..GenConfig::default()
    };
    tome_gen::write_file(&cfg, &path).unwrap();
    let small = dir.path().join("small.txt");
    std::fs::write(&small, b"head\ntail\n").unwrap();
    let mut s = Server::ready();
    let doc = s.request("tome/open", json!({"path": path})).unwrap()["doc"].clone();
    let other = s.request("tome/open", json!({"path": small})).unwrap()["doc"].clone();
    let size = 256u64 << 20;
    let clip = s
        .request(
            "tome/clip",
            json!({"doc": doc, "offsets": {"start": 0, "end": size}}),
        )
        .unwrap()["clip"]
        .clone();
    s.request(
        "tome/paste",
        json!({"doc": doc, "version": 0, "clip": clip, "offset": size / 2, "count": 2}),
    )
    .unwrap();
    let same = tome_e2e::process_use(s.pid());
    assert!(
        same.anon_kib < 32 << 10,
        "after pasting in the same document: {same:?}"
    );
    s.request(
        "tome/paste",
        json!({"doc": other, "version": 0, "clip": clip, "offset": 5}),
    )
    .unwrap();
    // The journal's record of the copied bytes is held until its next sync has written it
    // (a few hundred ms to a few seconds for 256 MiB), then freed and given back.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut used = tome_e2e::process_use(s.pid());
    while used.anon_kib >= 100 << 10 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        used = tome_e2e::process_use(s.pid());
    }
    assert!(
        used.anon_kib < 100 << 10,
        "private memory after pasting 256 MiB in another document: {} KiB",
        used.anon_kib
    );
    let out = dir.path().join("out.log");
    let out2 = dir.path().join("out2.txt");
    s.request("tome/saveAs", json!({"doc": doc, "path": out}))
        .unwrap();
    s.request("tome/saveAs", json!({"doc": other, "path": out2}))
        .unwrap();
    // Compare streaming: out = big[..half] + big + big + big[half..]; out2 = head + big + tail.
    let original = std::fs::read(&path).unwrap();
    let half = (size / 2) as usize;
    let expect_parts: [&[u8]; 4] = [&original[..half], &original, &original, &original[half..]];
    let mut f = std::fs::File::open(&out).unwrap();
    for part in expect_parts {
        let mut got = vec![0; part.len()];
        f.read_exact(&mut got).unwrap();
        assert!(got == part, "the pasted document differs");
    }
    assert_eq!(f.read(&mut [0u8; 1]).unwrap(), 0, "nothing more");
    let got2 = std::fs::read(&out2).unwrap();
    assert!(
        got2.len() == original.len() + 10
            && got2[..5] == *b"head\n"
            && got2[5..5 + original.len()] == original[..]
            && got2[original.len() + 5..] == *b"tail\n"
    );
}
