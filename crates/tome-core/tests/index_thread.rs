//! The line index's builder thread runs as background work (`SCHED_BATCH`): it must not take
//! a core from the editor that waits for the first screen (sys::mark_background_thread). Its
//! own test binary: the slow-index hook (`TOME_TEST_SLOW_INDEX`) is read once per process.

#![cfg(target_os = "linux")]

use std::time::{Duration, Instant};

use tome_core::Document;

/// The scheduling policy (field 41 of /proc/self/task/TID/stat) of this process's thread named
/// `name`, if there is one.
fn policy_of_thread(name: &str) -> Option<i32> {
    for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim_end() != name {
            continue;
        }
        let stat = std::fs::read_to_string(task.path().join("stat")).ok()?;
        // (fields after the command, which ends with the last ')', start at field 3)
        let rest = &stat[stat.rfind(')')? + 1..];
        return rest.split_whitespace().nth(41 - 3)?.parse().ok();
    }
    None
}

#[test]
fn the_index_thread_runs_as_batch_work() {
    // 50 ms per MiB: the 4 MiB file takes the builder ~200 ms, so it is still running when
    // looked at.
    std::env::set_var("TOME_TEST_SLOW_INDEX", "index-thread.log:50");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("index-thread.log");
    let line = "2026-11-27T00:00:00.000Z INFO a line of a log, long enough\n";
    std::fs::write(&path, line.repeat((4 << 20) / line.len())).unwrap();
    let doc = Document::open(&path).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let policy = loop {
        if let Some(p) = policy_of_thread("tome-index") {
            break p;
        }
        assert!(
            !doc.index_progress().complete,
            "the index finished before its thread was seen"
        );
        assert!(Instant::now() < deadline, "no tome-index thread");
        std::thread::sleep(Duration::from_millis(1));
    };
    assert_eq!(policy, libc::SCHED_BATCH, "the index thread's policy");
}
