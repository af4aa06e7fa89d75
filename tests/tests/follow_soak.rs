//! Time: a log appended to 100 times a second, followed by `tome serve` under `ulimit -n 256`.
//! The server's descriptors, threads, mappings and anonymous memory, sampled every 10 s, stay
//! within a fixed bound, and at the end the document equals the file byte for byte; then the
//! log is rotated by copytruncate and by rename, and each is reported.
//!
//! `TOME_SOAK_SECS` sets the length (default 60, the CI run; docs/benchmarks.md records a
//! 10-minute run: `TOME_SOAK_SECS=600 cargo test --release -p tome-e2e --test follow_soak --
//! --nocapture`). Before the fix each append opened a source of its own (a descriptor, a mapping,
//! an index thread): after ~25 s at 100 appends/s this test ran out of descriptors.

use std::io::Write;
use std::time::{Duration, Instant};

use serde_json::json;
use tome_e2e::Server;

#[derive(Debug, Clone, Copy)]
struct Sample {
    secs: u64,
    fds: usize,
    threads: usize,
    maps: usize,
    anon_kib: usize,
}

fn sample(pid: u32, secs: u64) -> Sample {
    let u = tome_e2e::process_use(pid);
    Sample {
        secs,
        fds: u.fds,
        threads: u.threads,
        maps: u.maps,
        anon_kib: u.anon_kib,
    }
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let t = Instant::now();
    while !done() {
        assert!(t.elapsed() < Duration::from_secs(20), "timed out: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_log_followed_for_a_minute_keeps_resources_flat_and_equals_the_file() {
    let secs: u64 = std::env::var("TOME_SOAK_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let path = dir.path().join("app.log");
    std::fs::write(&path, "log opened\n").unwrap();
    let wrapper = ["sh", "-c", "ulimit -n 256 && exec \"$@\"", "sh"];
    let mut s = Server::start_wrapped(&wrapper, &state);
    s.request(
        "initialize",
        json!({"capabilities": {"general": {"positionEncodings": ["utf-8"]}}}),
    )
    .expect("initialize");
    s.notify("initialized", json!({}));
    let doc = s.request("tome/open", json!({"path": path})).expect("open")["doc"]
        .as_u64()
        .unwrap();
    let pid = s.pid();

    let mut log = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    let start = Instant::now();
    let mut samples = vec![sample(pid, 0)];
    let mut seq = 0u64;
    while start.elapsed() < Duration::from_secs(secs) {
        writeln!(
            log,
            "2026-11-30T00:00:00Z INFO seq={seq} request served in 3 ms"
        )
        .unwrap();
        seq += 1;
        let due = samples.len() as u64 * 10;
        if start.elapsed() >= Duration::from_secs(due) {
            samples.push(sample(pid, due));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let file = std::fs::read(&path).unwrap();
    let size = file.len() as u64;
    wait_for("the document reaches the file's size", || {
        s.request("tome/info", json!({"doc": doc})).expect("info")["size"] == json!(size)
    });
    samples.push(sample(pid, secs));
    for x in &samples {
        eprintln!(
            "soak {:>4} s: {} fds, {} threads, {} mappings, RssAnon {} KiB",
            x.secs, x.fds, x.threads, x.maps, x.anon_kib
        );
    }
    let text = s
        .request(
            "tome/getText",
            json!({"doc": doc, "offsets": {"start": 0, "end": size}}),
        )
        .expect("getText");
    assert!(
        text["text"].as_str().unwrap().as_bytes() == &file[..],
        "the document differs from the file"
    );
    assert!(
        s.disk_notices(doc)
            .iter()
            .all(|n| n["change"] == "appended"),
        "only appends were reported"
    );
    // The first sample is before any append; the bound is against the one taken at 10 s.
    let base = samples[1.min(samples.len() - 1)];
    let last = samples[samples.len() - 1];
    assert!(last.fds <= base.fds + 4, "descriptors grew: {samples:?}");
    assert!(
        last.threads <= base.threads + 8,
        "threads grew: {samples:?}"
    );
    assert!(last.maps <= base.maps + 16, "mappings grew: {samples:?}");
    assert!(
        last.anon_kib <= base.anon_kib + 32 * 1024,
        "anonymous memory grew: {samples:?}"
    );

    // Rotation by copytruncate: reported, the server goes on.
    let rotated = dir.path().join("app.log.1");
    std::fs::copy(&path, &rotated).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(0)
        .unwrap();
    wait_for("a truncation notice", || {
        s.disk_notices(doc)
            .iter()
            .any(|n| n["change"] == "truncated")
    });
    // Rotation by rename: a new file takes the name.
    std::fs::rename(&path, dir.path().join("app.log.2")).unwrap();
    std::fs::write(&path, "new log\n").unwrap();
    wait_for("a replacement notice", || {
        s.disk_notices(doc)
            .iter()
            .any(|n| n["change"] == "replaced" || n["change"] == "deleted")
    });
    assert!(s.request("tome/info", json!({"doc": doc})).is_ok());
    assert_eq!(s.shutdown(), Some(0));
}
