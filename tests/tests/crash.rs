//! Crash recovery through the real server: edits, `kill -9` at a random moment, a new server,
//! `tome/open` offers the unsaved changes, `tome/recover` brings back every edit acknowledged
//! before the last journal sync (and never a state that was not reached).

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tome_e2e::Server;

fn ready(state: &std::path::Path) -> Server {
    let mut s = Server::start_with_state(state);
    s.request("initialize", json!({"capabilities": {}}))
        .unwrap();
    s.notify("initialized", json!({}));
    s
}

fn saved_copy(s: &mut Server, doc: u64, dir: &std::path::Path, name: &str) -> Vec<u8> {
    let out = dir.join(name);
    s.request("tome/saveAs", json!({"doc": doc, "path": out}))
        .unwrap();
    std::fs::read(&out).unwrap()
}

#[test]
fn kill_9_then_recover_the_acknowledged_edits() {
    for round in 0..3u64 {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let path = dir.path().join("doc.txt");
        let original = "line one\nline two\nline three\n".repeat(50);
        std::fs::write(&path, &original).unwrap();

        let mut s = ready(&state);
        let doc = s.request("tome/open", json!({"path": path})).unwrap()["doc"]
            .as_u64()
            .unwrap();
        let mut model = original.clone().into_bytes();
        let mut states = vec![model.clone()];
        let mut acked_at = Vec::new();
        let kill_after = Duration::from_millis(300 + round * 250);
        let started = Instant::now();
        let mut version = 0u64;
        let mut i = 0u64;
        while started.elapsed() < kill_after {
            let at = ((i * 7919 + round * 13) % (model.len() as u64 + 1)) as usize;
            let text = format!("<{i}>");
            let r: Value = s
                .request("tome/edit", json!({"doc": doc, "version": version, "edits": [{"offsets": {"start": at, "end": at}, "text": text}]}))
                .unwrap();
            version = r["version"].as_u64().unwrap();
            model.splice(at..at, text.bytes());
            states.push(model.clone());
            acked_at.push(Instant::now());
            i += 1;
            std::thread::sleep(Duration::from_millis(3));
        }
        let killed = Instant::now();
        s.kill9();
        // Everything acknowledged at least one sync interval (plus slack) before the kill was
        // synced.
        let must_have = acked_at
            .iter()
            .filter(|t| killed.duration_since(**t) > Duration::from_millis(450))
            .count();

        let mut s = ready(&state);
        let info = s.request("tome/open", json!({"path": path})).unwrap();
        let offered = info["recovery"]["changes"]
            .as_u64()
            .expect("recovery offered") as usize;
        assert!(offered >= must_have, "round {round}: {offered} changes offered, {must_have} acknowledged before the last sync");
        let doc = info["doc"].as_u64().unwrap();
        let r = s.request("tome/recover", json!({"doc": doc})).unwrap();
        let applied = r["applied"].as_u64().unwrap() as usize;
        assert_eq!(applied, offered);
        assert_eq!(r["stoppedEarly"], Value::Null);
        let got = saved_copy(&mut s, doc, dir.path(), "recovered.txt");
        assert!(
            got == states[applied],
            "round {round}: recovered content is not the state after {applied} edits"
        );
        // The original file is untouched until the user saves.
        assert_eq!(std::fs::read(&path).unwrap(), original.as_bytes());
        // Nothing is offered twice.
        s.request("tome/close", json!({"doc": doc})).unwrap();
        let info = s.request("tome/open", json!({"path": path})).unwrap();
        assert_eq!(info["recovery"], Value::Null);
        assert_eq!(s.shutdown(), Some(0));
    }
}

#[test]
fn discard_drops_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let path = dir.path().join("d.txt");
    std::fs::write(&path, "abc\n").unwrap();
    let mut s = ready(&state);
    let doc = s.request("tome/open", json!({"path": path})).unwrap()["doc"]
        .as_u64()
        .unwrap();
    s.request("tome/edit", json!({"doc": doc, "version": 0, "edits": [{"offsets": {"start": 0, "end": 0}, "text": "x"}]})).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    s.kill9();
    let mut s = ready(&state);
    let info = s.request("tome/open", json!({"path": path})).unwrap();
    assert_eq!(info["recovery"]["changes"], 1);
    let doc = info["doc"].as_u64().unwrap();
    assert_eq!(
        s.request("tome/discardRecovery", json!({"doc": doc}))
            .unwrap()["discarded"],
        true
    );
    assert_eq!(s.error_code("tome/recover", json!({"doc": doc})), -32602);
    s.request("tome/close", json!({"doc": doc})).unwrap();
    let info = s.request("tome/open", json!({"path": path})).unwrap();
    assert_eq!(info["recovery"], Value::Null);
}

/// Killed with unsaved edits, then the file is changed by another program: the next open
/// offers the edits as not fitting (`fits: false`); `tome/recover` refuses, and
/// `tome/recoverAsNew` opens them as a new untitled document (the file as it is now plus the
/// edits), which `tome/saveAs` writes. The journal stays until discarded.
#[test]
fn an_orphan_journal_is_recovered_into_a_new_document() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let path = dir.path().join("doc.log");
    tome_gen::write_file(
        &tome_gen::GenConfig {
            size: 200 << 20,
            ..Default::default()
        },
        &path,
    )
    .unwrap();
    let mut s = ready(&state);
    let doc = s.request("tome/open", json!({"path": path})).unwrap()["doc"]
        .as_u64()
        .unwrap();
    let far = 150u64 << 20;
    let edits = json!([
        {"offsets": {"start": 0, "end": 0}, "text": "TYPED AT THE START\n"},
        {"offsets": {"start": far, "end": far + 1000}, "text": "TYPED FAR AWAY"}
    ]);
    s.request(
        "tome/edit",
        json!({"doc": doc, "version": 0, "edits": edits}),
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    s.kill9();

    // Another program rewrites part of the file in place (same size).
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    std::os::unix::fs::FileExt::write_at(&f, b"CHANGED", 100 << 20).unwrap();
    drop(f);
    let mut expected = std::fs::read(&path).unwrap();
    let far = far as usize;
    expected.splice(far..far + 1000, b"TYPED FAR AWAY".iter().copied());
    expected.splice(0..0, b"TYPED AT THE START\n".iter().copied());

    let mut s = ready(&state);
    let info = s.request("tome/open", json!({"path": path})).unwrap();
    assert_eq!(
        info["recovery"],
        json!({"changes": 1, "fits": false}),
        "{info}"
    );
    let doc = info["doc"].as_u64().unwrap();
    assert_eq!(s.error_code("tome/recover", json!({"doc": doc})), -33010);
    let r = s.request("tome/recoverAsNew", json!({"doc": doc})).unwrap();
    assert_eq!(r["applied"], 1, "{r}");
    assert_eq!(r["stoppedEarly"], Value::Null);
    let new = &r["document"];
    assert_eq!(new["path"], "");
    assert_eq!(new["dirty"], true);
    assert_ne!(new["doc"], info["doc"]);
    let copy = saved_copy(
        &mut s,
        new["doc"].as_u64().unwrap(),
        dir.path(),
        "recovered.log",
    );
    assert!(copy == expected, "recovered document differs");
    // The file's own document is untouched, and the orphan is offered again until discarded.
    let own = s.request("tome/info", json!({"doc": doc})).unwrap();
    assert_eq!(
        (own["version"].clone(), own["dirty"].clone()),
        (json!(0), json!(false))
    );
    s.request("tome/close", json!({"doc": doc})).unwrap();
    let again = s.request("tome/open", json!({"path": path})).unwrap();
    assert_eq!(again["recovery"]["fits"], false, "{again}");
    let d = again["doc"].as_u64().unwrap();
    let gone = s
        .request("tome/discardRecovery", json!({"doc": d}))
        .unwrap();
    assert_eq!(gone["discarded"], true);
    s.request("tome/close", json!({"doc": d})).unwrap();
    let last = s.request("tome/open", json!({"path": path})).unwrap();
    assert_eq!(last["recovery"], Value::Null, "{last}");
    assert_eq!(s.shutdown(), Some(0));
}

/// A `tome/recover` refused because the document was edited first keeps the journal on offer:
/// the next open offers it again, and it recovers.
#[test]
fn a_refused_recovery_is_offered_again() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let path = dir.path().join("doc.txt");
    std::fs::write(&path, "alpha\nbeta\n".repeat(1000)).unwrap();
    let mut s = ready(&state);
    let doc = s.request("tome/open", json!({"path": path})).unwrap()["doc"]
        .as_u64()
        .unwrap();
    s.request("tome/edit", json!({"doc": doc, "version": 0, "edits": [{"offsets": {"start": 0, "end": 0}, "text": "RECOVER ME "}]}))
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    s.kill9();

    let mut s = ready(&state);
    let info = s.request("tome/open", json!({"path": path})).unwrap();
    assert_eq!(info["recovery"], json!({"changes": 1, "fits": true}));
    let doc = info["doc"].as_u64().unwrap();
    s.request("tome/edit", json!({"doc": doc, "version": 0, "edits": [{"offsets": {"start": 0, "end": 0}, "text": "x"}]}))
        .unwrap();
    assert_eq!(s.error_code("tome/recover", json!({"doc": doc})), -33003);
    s.request("tome/undo", json!({"doc": doc})).unwrap();
    assert_eq!(
        s.error_code("tome/recover", json!({"doc": doc})),
        -33003,
        "history"
    );
    s.request("tome/close", json!({"doc": doc})).unwrap();
    let info = s.request("tome/open", json!({"path": path})).unwrap();
    assert_eq!(info["recovery"]["changes"], 1, "{info}");
    let doc = info["doc"].as_u64().unwrap();
    let r = s.request("tome/recover", json!({"doc": doc})).unwrap();
    assert_eq!(r["applied"], 1);
    let v = s
        .request("tome/viewport", json!({"doc": doc, "first": 0, "count": 1}))
        .unwrap();
    assert_eq!(v["lines"][0]["text"], "RECOVER ME alpha");
    assert_eq!(s.shutdown(), Some(0));
}

/// Edits acknowledged while a save is writing are journaled against the saved file once the
/// save ends: a crash after that brings them back on top of the saved content.
#[test]
fn edits_made_during_a_save_survive_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let path = dir.path().join("doc.log");
    tome_gen::write_file(
        &tome_gen::GenConfig {
            size: 300 << 20,
            ..Default::default()
        },
        &path,
    )
    .unwrap();
    let mut s = ready(&state);
    let doc = s.request("tome/open", json!({"path": path})).unwrap()["doc"]
        .as_u64()
        .unwrap();
    let r = s
        .request(
            "tome/edit",
            json!({"doc": doc, "version": 0, "edits": [{"offsets": {"start": 0, "end": 0}, "text": "BEFORE THE SAVE\n"}]}),
        )
        .unwrap();
    let mut version = r["version"].as_u64().unwrap();
    let save = s.send("tome/save", json!({"doc": doc}));
    // Edits while the save writes (a 300 MiB save takes a while): at the start, in the middle,
    // and one that copies nothing from the file.
    let mut edits = Vec::new();
    for i in 0..20u64 {
        let at = i * 10_000_000;
        let text = format!("<during {i}>");
        let r = s
            .request(
                "tome/edit",
                json!({"doc": doc, "version": version, "edits": [{"offsets": {"start": at, "end": at + 3}, "text": text}]}),
            )
            .unwrap();
        version = r["version"].as_u64().unwrap();
        edits.push((at as usize, text));
    }
    let saved = s.wait(save).expect("the save succeeds");
    assert_eq!(saved["version"], 1, "{saved}");
    // One more edit after the save, then let the journal sync and crash.
    let r = s
        .request(
            "tome/edit",
            json!({"doc": doc, "version": version, "edits": [{"offsets": {"start": 5, "end": 5}, "text": "AFTER"}]}),
        )
        .unwrap();
    assert_eq!(r["version"].as_u64().unwrap(), version + 1);
    std::thread::sleep(Duration::from_millis(800));
    s.kill9();

    let mut expected = std::fs::read(&path).unwrap();
    assert!(
        expected.starts_with(b"BEFORE THE SAVE\n"),
        "the save wrote the snapshot"
    );
    for (at, text) in &edits {
        expected.splice(*at..*at + 3, text.bytes());
    }
    expected.splice(5..5, b"AFTER".iter().copied());

    let mut s = ready(&state);
    let info = s.request("tome/open", json!({"path": path})).unwrap();
    assert!(
        info["recovery"]["changes"].as_u64().is_some(),
        "the edits made during the save are offered: {info}"
    );
    let doc = info["doc"].as_u64().unwrap();
    let r = s.request("tome/recover", json!({"doc": doc})).unwrap();
    assert_eq!(r["stoppedEarly"], Value::Null, "{r}");
    let got = saved_copy(&mut s, doc, dir.path(), "recovered.log");
    assert!(
        got == expected,
        "recovered content differs from the edits made"
    );
    assert_eq!(s.shutdown(), Some(0));
}
