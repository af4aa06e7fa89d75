//! Many open documents: no document owns a thread, so a thousand of them cost the server a
//! bounded number of threads, and each still applies its edits in arrival order.

use serde_json::json;
use tome_e2e::Server;

fn threads_of(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[test]
fn a_thousand_open_documents_need_few_threads() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let mut s = Server::start_with_state(&state);
    s.request("initialize", json!({"capabilities": {}}))
        .unwrap();
    let n = 1000;
    let mut docs = Vec::with_capacity(n);
    for i in 0..n {
        let path = dir.path().join(format!("f{i}.log"));
        std::fs::write(&path, format!("file {i}\nsecond line\n")).unwrap();
        let info = s.request("tome/open", json!({"path": path})).unwrap();
        docs.push(info["doc"].as_u64().unwrap());
    }
    // Pipelined edits on every document: each applies in its own order.
    let mut ids = Vec::new();
    for &doc in &docs {
        for v in 0..3u64 {
            ids.push(s.send(
                "tome/edit",
                json!({"doc": doc, "version": v, "edits": [{"offsets": {"start": 0, "end": 0}, "text": format!("{v}")}]}),
            ));
        }
    }
    for id in ids {
        s.wait(id).unwrap();
    }
    // Idle pool threads linger a few seconds after a burst; what stays is bounded.
    let mut threads = threads_of(s.pid());
    for _ in 0..150 {
        if threads < 64 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        threads = threads_of(s.pid());
    }
    assert!(threads < 64, "{threads} threads for {n} open documents");
    for &doc in docs.iter().step_by(97) {
        let r = s
            .request(
                "tome/getText",
                json!({"doc": doc, "offsets": {"start": 0, "end": 3}}),
            )
            .unwrap();
        assert_eq!(r["text"], "210", "doc {doc}: {r}");
    }
    eprintln!("{n} open documents: {threads} threads");
    assert_eq!(s.shutdown(), Some(0));
}
