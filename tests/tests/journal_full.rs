//! The journal's filesystem fills up while the server runs: `tome/info` says so in
//! `journalError`, editing goes on, a save works and clears it. Needs a small tmpfs for the
//! state directory, so root (CI runs as root); elsewhere it says so and passes.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tome_e2e::Server;

fn info(s: &mut Server, doc: &Value) -> Value {
    s.request("tome/info", json!({"doc": doc})).expect("info")
}

#[test]
fn a_full_journal_disk_is_reported_in_info_and_a_save_clears_it() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    std::fs::create_dir(&state).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tome-journal-full"])
        .arg(&state)
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipped: cannot mount a tmpfs here (not root?)");
        return;
    }
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(state.clone());
    let path = dir.path().join("doc.txt");
    std::fs::write(&path, "a line\n".repeat(100)).unwrap();
    let mut s = Server::start_with_state(&state);
    s.request("initialize", json!({"capabilities": {}}))
        .unwrap();
    s.notify("initialized", json!({}));
    let opened = s.request("tome/open", json!({"path": path})).unwrap();
    let doc = opened["doc"].clone();
    assert_eq!(opened["journalError"], Value::Null, "{opened}");
    let big = "x".repeat(128 << 10);
    let edited = s
        .request(
            "tome/edit",
            json!({"doc": doc, "version": 0, "edits": [{"offsets": {"start": 0, "end": 0}, "text": big}]}),
        )
        .unwrap();
    // The journal is flushed every 200 ms.
    let t = Instant::now();
    let why = loop {
        let i = info(&mut s, &doc);
        if let Some(why) = i["journalError"].as_str() {
            break why.to_string();
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "no journalError: {i}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(why.contains("space"), "{why}");
    let more = s
        .request(
            "tome/edit",
            json!({"doc": doc, "version": edited["version"], "edits": [{"offsets": {"start": 0, "end": 0}, "text": "after\n"}]}),
        )
        .expect("editing goes on");
    s.request("tome/save", json!({"doc": doc})).expect("save");
    let saved = std::fs::read(&path).unwrap();
    assert!(saved.starts_with(b"after\nxxx") && saved.ends_with(b"a line\n"));
    assert_eq!(saved.len(), 6 + (128 << 10) + 7 * 100);
    let i = info(&mut s, &doc);
    assert_eq!(
        i["journalError"],
        Value::Null,
        "the save restarted the journal: {i}"
    );
    assert_eq!(i["version"], more["version"]);
    assert_eq!(s.shutdown(), Some(0));
}
