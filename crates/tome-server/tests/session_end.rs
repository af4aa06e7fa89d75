//! What a session leaves behind in a process that embeds the server (a test harness, a fuzz
//! target, a client that runs sessions in-process): nothing. Every document of the session is
//! closed when `serve` returns, so its file descriptors are released.

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tome_server::transport::encode;

/// File descriptors of this process open on `path`.
fn fds_on(path: &Path) -> usize {
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
        return 0;
    };
    dir.flatten()
        .filter(|e| std::fs::read_link(e.path()).is_ok_and(|t| t == path))
        .count()
}

fn message(id: Option<i64>, method: &str, params: Value) -> Vec<u8> {
    let mut m = json!({"jsonrpc": "2.0", "method": method, "params": params});
    if let Some(id) = id {
        m["id"] = json!(id);
    }
    encode(&serde_json::to_vec(&m).unwrap())
}

/// One session that opens `path` (which starts the file watcher) and ends with shutdown/exit.
async fn session(path: &Path) {
    let (mut client, server) = tokio::io::duplex(1 << 20);
    let (read, write) = tokio::io::split(server);
    let serving = tokio::spawn(tome_server::serve(read, write));
    let mut out = Vec::new();
    out.extend(message(Some(1), "initialize", json!({"capabilities": {}})));
    out.extend(message(None, "initialized", json!({})));
    out.extend(message(Some(2), "tome/open", json!({"path": path})));
    client.write_all(&out).await.unwrap();
    // Wait for the open's reply before ending the session.
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("\"id\":2") {
        let n = tokio::time::timeout(Duration::from_secs(20), client.read(&mut buf))
            .await
            .expect("a reply to tome/open")
            .unwrap();
        assert!(n > 0, "the server closed the session early");
        seen.extend_from_slice(&buf[..n]);
    }
    assert!(fds_on(path) > 0, "the open document holds the file");
    let mut end = message(Some(3), "shutdown", Value::Null);
    end.extend(message(None, "exit", Value::Null));
    client.write_all(&end).await.unwrap();
    let code = tokio::time::timeout(Duration::from_secs(20), serving)
        .await
        .expect("the session ends")
        .unwrap();
    assert_eq!(code, 0);
}

#[test]
fn a_finished_session_releases_its_documents() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    std::env::set_var("TOME_STATE_DIR", &state);
    let path = dir.path().join("a.log").canonicalize_or_self();
    std::fs::write(&path, b"one\ntwo\nthree\n").unwrap();
    // One runtime for every session, as an embedding process has: tasks a session left
    // running keep running.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        for _ in 0..3 {
            session(&path).await;
            // Closing runs on blocking threads: give it a moment.
            let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
            while fds_on(&path) > 0 && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            assert_eq!(
                fds_on(&path),
                0,
                "the ended session still holds the file open"
            );
        }
    });
}

trait CanonicalizeOrSelf {
    fn canonicalize_or_self(self) -> Self;
}

impl CanonicalizeOrSelf for std::path::PathBuf {
    /// The path /proc shows for an open file (the temp dir may be behind a symbolic link).
    fn canonicalize_or_self(self) -> Self {
        let (Some(parent), Some(name)) = (self.parent(), self.file_name()) else {
            return self;
        };
        match parent.canonicalize() {
            Ok(p) => p.join(name),
            Err(_) => self,
        }
    }
}
