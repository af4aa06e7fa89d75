//! Flow control: a client that sends requests but does not read the replies stalls itself. The
//! server stops taking requests once its queue of unwritten output is full, so its memory
//! stays bounded; when the client reads again, every reply arrives whole and the server goes
//! on answering.
//!
//! The `Server` helper of `tome_e2e` always reads the server's output, so this test drives
//! `tome serve` through its own pipes.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tome_e2e::{frame, tome_bin, TIMEOUT};

/// Replies asked for while the client does not read.
const REQUESTS: usize = 300;
/// Bytes of text in each reply.
const TEXT: usize = 1 << 20;
/// What the server may hold while stalled. Buffering every reply would take over 300 MiB;
/// the output queue is bounded at 64 MiB.
const BOUND_KIB: u64 = 200 << 10;

fn send(w: &mut impl Write, v: Value) {
    w.write_all(&frame(v.to_string().as_bytes())).unwrap();
    w.flush().unwrap();
}

/// Reads one framed message.
fn read_message(r: &mut impl BufRead) -> Value {
    tome_e2e::read_frame(r).expect("the server closed its output or sent a frame that is not JSON")
}

/// A `Field:   N kB` line of /proc/PID/`file`, in KiB.
fn proc_kib(pid: u32, file: &str, field: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/{file}")).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/{file}"))
}

/// Kills the server if the test fails half-way.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_client_that_does_not_read_stalls_itself_and_the_server_memory_stays_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.log");
    let mut content = Vec::new();
    while content.len() < TEXT + 100 {
        let n = content.len();
        content.extend_from_slice(format!("{n:08} a line of a log that nobody reads\n").as_bytes());
    }
    std::fs::write(&path, &content).unwrap();
    let marker = dir.path().join("after-all-replies.log");

    let child = Command::new(tome_bin())
        .arg("serve")
        .env("TOME_STATE_DIR", dir.path().join("state"))
        // The server says when it stops reading (the test waits for that, then measures).
        .env("TOME_LOG", "tome_server::session=debug")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start tome serve");
    let mut child = KillOnDrop(child);
    let pid = child.0.id();
    let mut stdin = child.0.stdin.take().unwrap();
    let mut stdout = BufReader::with_capacity(1 << 20, child.0.stdout.take().unwrap());
    let stderr = BufReader::new(child.0.stderr.take().unwrap());
    let (stalled_tx, stalled) = mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            eprintln!("{line}");
            if line.contains("output queue full") {
                let _ = stalled_tx.send(());
            }
        }
    });

    send(
        &mut stdin,
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}),
    );
    assert_eq!(read_message(&mut stdout)["id"], 1);
    send(
        &mut stdin,
        json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}),
    );
    send(
        &mut stdin,
        json!({"jsonrpc": "2.0", "id": 2, "method": "tome/open", "params": {"path": path}}),
    );
    let opened = read_message(&mut stdout);
    let doc = opened["result"]["doc"].clone();
    assert!(doc.is_u64(), "{opened}");

    // 300 requests for 1 MiB each, then a save to a new file, which (being queued behind them
    // on the document) happens only once every reply before it has been made.
    let mut burst = Vec::new();
    for i in 0..REQUESTS {
        let v = json!({"jsonrpc": "2.0", "id": 100 + i, "method": "tome/getText",
                       "params": {"doc": doc, "offsets": {"start": 0, "end": TEXT}}});
        burst.extend_from_slice(&frame(v.to_string().as_bytes()));
    }
    let v = json!({"jsonrpc": "2.0", "id": 99, "method": "tome/saveAs", "params": {"doc": doc, "path": marker}});
    burst.extend_from_slice(&frame(v.to_string().as_bytes()));
    stdin.write_all(&burst).unwrap();
    stdin.flush().unwrap();

    // Do not read. The server must stop (and say so) before it has made every reply.
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if stalled.try_recv().is_ok() {
            break;
        }
        assert!(
            !marker.exists(),
            "the server made all {REQUESTS} replies although the client read none: nothing \
             held it back (peak resident memory {} MiB)",
            proc_kib(pid, "status", "VmHWM") >> 10
        );
        assert!(
            Instant::now() < deadline,
            "the server neither stalled nor answered"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Sampled for a second: a slow (debug) build may still be turning the last results it
    // made into JSON when it says it stopped. The peak over the whole run is checked below.
    let mut peak_while_stalled = 0;
    for _ in 0..20 {
        let rss = proc_kib(pid, "status", "VmRSS");
        let anon = proc_kib(pid, "smaps_rollup", "Anonymous");
        eprintln!(
            "stalled: VmRSS {} MiB, Anonymous {} MiB",
            rss >> 10,
            anon >> 10
        );
        peak_while_stalled = peak_while_stalled.max(rss);
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !marker.exists(),
        "the save ran before the client read the replies before it"
    );
    assert!(
        peak_while_stalled < BOUND_KIB,
        "{} MiB resident while stalled",
        peak_while_stalled >> 10
    );

    // Now read: every reply arrives, whole, and the save after them runs.
    let mut seen = vec![false; REQUESTS];
    let mut saved = false;
    for _ in 0..=REQUESTS {
        let reply = read_message(&mut stdout);
        let id = reply["id"].as_u64().unwrap_or_else(|| panic!("{reply}"));
        if id == 99 {
            assert_eq!(reply["result"]["version"], 0, "{reply}");
            saved = true;
            continue;
        }
        let text = reply["result"]["text"]
            .as_str()
            .unwrap_or_else(|| panic!("{reply}"));
        assert!(
            text.as_bytes() == &content[..TEXT],
            "reply {id} is not the text"
        );
        seen[(id - 100) as usize] = true;
    }
    assert!(saved && seen.iter().all(|&s| s));
    assert_eq!(std::fs::read(&marker).unwrap(), content);

    // The server still answers, and its memory never went past the bound.
    send(
        &mut stdin,
        json!({"jsonrpc": "2.0", "id": 3, "method": "tome/info", "params": {"doc": doc}}),
    );
    let info = read_message(&mut stdout);
    assert_eq!(info["result"]["size"], content.len(), "{info}");
    let peak = proc_kib(pid, "status", "VmHWM");
    eprintln!("peak resident memory (VmHWM) {} MiB", peak >> 10);
    assert!(peak < BOUND_KIB, "peak resident memory {} MiB", peak >> 10);

    send(
        &mut stdin,
        json!({"jsonrpc": "2.0", "id": 4, "method": "shutdown"}),
    );
    assert_eq!(read_message(&mut stdout)["id"], 4);
    send(&mut stdin, json!({"jsonrpc": "2.0", "method": "exit"}));
    assert_eq!(child.0.wait().unwrap().code(), Some(0));
}
