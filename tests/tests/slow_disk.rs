//! A slow journal disk (every sync takes 500 ms, injected by a test build: a network disk, a
//! busy USB stick) never makes an edit wait: logging an edit only appends to a buffer, the
//! flusher syncs outside the document's lock. The journal still protects the edits: after a
//! kill, everything acknowledged a sync ago is recovered.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tome_e2e::Server;

const SYNC_DELAY_MS: u64 = 500;

#[test]
fn edits_never_wait_for_a_slow_journal_sync() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let path = dir.path().join("doc.txt");
    let original = "a line of text\n".repeat(10_000);
    std::fs::write(&path, &original).unwrap();
    let delay = SYNC_DELAY_MS.to_string();
    let mut s = Server::start_with_env(&state, &[("TOME_TEST_JOURNAL_SYNC_DELAY_MS", &delay)]);
    s.request("initialize", json!({"capabilities": {}}))
        .unwrap();
    s.notify("initialized", json!({}));
    let doc = s.request("tome/open", json!({"path": path})).unwrap()["doc"]
        .as_u64()
        .unwrap();

    // Typing for about three seconds: several slow syncs happen meanwhile.
    let mut model = original.into_bytes();
    let mut version = 0u64;
    let mut latencies = Vec::new();
    let started = Instant::now();
    let mut i = 0usize;
    while started.elapsed() < Duration::from_millis(3000) {
        let at = (i * 7919) % (model.len() + 1);
        let sent = Instant::now();
        let r: Value = s
            .request(
                "tome/edit",
                json!({"doc": doc, "version": version, "edits": [{"offsets": {"start": at, "end": at}, "text": "x"}]}),
            )
            .unwrap();
        latencies.push(sent.elapsed());
        version = r["version"].as_u64().unwrap();
        model.insert(at, b'x');
        i += 1;
        std::thread::sleep(Duration::from_millis(5));
    }
    latencies.sort();
    let pct = |p: usize| latencies[(latencies.len() * p / 100).min(latencies.len() - 1)];
    eprintln!(
        "slow journal disk ({SYNC_DELAY_MS} ms syncs): {} edits, round trip p50 {:?}, p99 {:?}, max {:?}",
        latencies.len(),
        pct(50),
        pct(99),
        latencies[latencies.len() - 1]
    );
    // An edit that waited for a sync would take up to the whole delay; the bound is a fifth of
    // it so that a loaded machine does not fail the test, while waiting for syncs still would
    // (over 3 s of typing, about a sixth of the edits would arrive during a sync).
    assert!(
        pct(99) < Duration::from_millis(SYNC_DELAY_MS / 5),
        "edits waited for the journal's syncs: p99 {:?}",
        pct(99)
    );

    // The journal still protects them: two slow syncs later, a kill loses nothing.
    std::thread::sleep(Duration::from_millis(3 * SYNC_DELAY_MS));
    s.kill9();
    let mut s = Server::start_with_state(&state);
    s.request("initialize", json!({"capabilities": {}}))
        .unwrap();
    s.notify("initialized", json!({}));
    let info = s.request("tome/open", json!({"path": path})).unwrap();
    assert_eq!(info["recovery"]["changes"], json!(i), "{info}");
    let doc = info["doc"].as_u64().unwrap();
    s.request("tome/recover", json!({"doc": doc})).unwrap();
    let out = dir.path().join("recovered.txt");
    s.request("tome/saveAs", json!({"doc": doc, "path": out}))
        .unwrap();
    assert!(
        std::fs::read(&out).unwrap() == model,
        "recovered content differs"
    );
    assert_eq!(s.shutdown(), Some(0));
}
