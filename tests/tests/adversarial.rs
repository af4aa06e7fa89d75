//! A hostile client: every method with params at and past their limits and of every wrong
//! type, requests cancelled while they run, and a server short of file descriptors. Each case
//! asserts a documented reply (a result, or an error code from docs/protocol.md's table) and
//! that the server still answers afterwards.
//!
//! Framing, ids and lifecycle are in `malformed.rs` and `protocol.rs`; hostile files and
//! neighbours in `hostile_files.rs`; many documents in `many_documents.rs`.

use serde_json::{json, Value};
use tome_e2e::Server;

/// Every code the protocol documents (docs/protocol.md, "Errors").
const DOCUMENTED: &[i64] = &[
    -32700, -32600, -32601, -32602, -32002, -32800, -32803, -33001, -33002, -33003, -33004, -33005,
    -33006, -33007, -33008, -33009, -33010, -33011, -33012, -33013, -33014, -33015, -33016, -33017,
    -33018,
];

/// Values of every JSON type, and numbers at and past every integer limit.
fn hostile_values() -> Vec<Value> {
    vec![
        Value::Null,
        json!(true),
        json!(-1),
        json!(0),
        json!(1.5),
        json!(-1e308),
        json!(1e308),
        json!(u64::MAX),
        json!(i64::MIN),
        json!(u32::MAX as u64 + 1),
        json!(""),
        json!("x".repeat(100_000)),
        json!("\u{0}\u{FFFD}🦀"),
        json!([]),
        json!([1, 2, 3]),
        json!({}),
        json!({"start": u64::MAX, "end": 0}),
        json!({"line": u64::MAX, "character": u64::MAX}),
    ]
}

/// The fields any method takes (docs/protocol.md).
const FIELDS: &[&str] = &[
    "doc",
    "path",
    "version",
    "first",
    "around",
    "fraction",
    "before",
    "count",
    "window",
    "wait",
    "edits",
    "offsets",
    "range",
    "maxBytes",
    "query",
    "mode",
    "wrap",
    "direction",
    "from",
    "limit",
    "replacement",
    "workDoneToken",
    "interruptedSave",
    "clip",
    "at",
    "offset",
    "wholeLines",
    "previewBytes",
    "undo",
    "filter",
    "rules",
    "highlights",
];

fn assert_documented(reply: &Result<Value, Value>, what: &str) {
    if let Err(e) = reply {
        let code = e["code"].as_i64().unwrap_or(0);
        assert!(DOCUMENTED.contains(&code), "{what}: undocumented error {e}");
        assert!(
            e["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{what}: no message: {e}"
        );
    }
}

#[test]
fn every_method_with_every_hostile_field_value_gets_a_documented_reply() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("small.txt");
    std::fs::write(
        &path,
        b"alpha\nbeta\r\ngamma\rdelta \xc3\xa9\xf0\x9f\x98\x80\xff\n",
    )
    .unwrap();
    let mut s = Server::start();
    let init = s
        .request("initialize", json!({"capabilities": {}}))
        .unwrap();
    // Every method the server says it answers.
    let methods: Vec<String> = init["capabilities"]["experimental"]["tome"]["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_string())
        .collect();
    assert!(methods.len() >= 16, "{init}");
    let doc = s.request("tome/open", json!({"path": path})).unwrap()["doc"]
        .as_u64()
        .unwrap();
    let mut cases = 0;
    for method in &methods {
        let method = method.as_str();
        if matches!(method, "tome/close" | "tome/saveAs" | "tome/reload") {
            continue; // below, with a document of their own
        }
        // Whole params of the wrong shape.
        for params in [Value::Null, json!([]), json!(7), json!("x"), json!({})] {
            let r = s.request(method, params.clone());
            assert_documented(&r, &format!("{method} {params}"));
            cases += 1;
        }
        // One hostile field at a time on otherwise plausible params.
        for field in FIELDS {
            for v in hostile_values() {
                let mut params = json!({"doc": doc, "version": 0, "first": 0, "count": 1,
                    "query": {"pattern": "a"}, "replacement": "b", "path": path});
                params[*field] = v.clone();
                let r = s.request(method, params);
                let shown: String = v.to_string().chars().take(60).collect();
                assert_documented(&r, &format!("{method} {field}={shown}"));
                cases += 1;
            }
        }
    }
    // Whatever happened (plausible params did edit, replace and save), the server answers and
    // the document and its file agree once saved.
    let info = s.request("tome/info", json!({"doc": doc})).unwrap();
    assert_eq!(info["doc"], doc);
    s.request("tome/save", json!({"doc": doc})).unwrap();
    let size = s.request("tome/info", json!({"doc": doc})).unwrap()["size"]
        .as_u64()
        .unwrap();
    let text = s
        .request(
            "tome/getText",
            json!({"doc": doc, "offsets": {"start": 0, "end": size}}),
        )
        .unwrap();
    let on_disk = std::fs::read(&path).unwrap();
    assert_eq!(on_disk.len() as u64, size);
    if text["invalid"] == false {
        assert_eq!(text["text"].as_str().unwrap().as_bytes(), &on_disk[..]);
    }
    eprintln!("{cases} hostile requests answered as documented");
    assert_eq!(s.shutdown(), Some(0));
}

#[test]
fn limits_are_clamped_or_refused_not_obeyed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lines.txt");
    let text: String = (0..5000).map(|i| format!("line {i}\n")).collect();
    std::fs::write(&path, &text).unwrap();
    let mut s = Server::start();
    s.request("initialize", json!({"capabilities": {}}))
        .unwrap();
    let doc = s.request("tome/open", json!({"path": path})).unwrap()["doc"]
        .as_u64()
        .unwrap();
    let r = s
        .request(
            "tome/viewport",
            json!({"doc": doc, "first": 0, "count": u32::MAX, "window": {"start": 0, "width": u32::MAX}}),
        )
        .unwrap();
    assert_eq!(r["lines"].as_array().unwrap().len(), 1000, "count clamped");
    let r = s
        .request(
            "tome/search",
            json!({"doc": doc, "query": {"pattern": "line"}, "mode": "all", "limit": u32::MAX}),
        )
        .unwrap();
    assert!(
        r["matches"].as_array().unwrap().len() <= 10_000,
        "limit clamped"
    );
    // A batch of many edits, each valid: applied as one step.
    let edits: Vec<Value> = (0..20_000)
        .map(|i| json!({"offsets": {"start": i * 2, "end": i * 2}, "text": "x"}))
        .collect();
    let r = s
        .request(
            "tome/edit",
            json!({"doc": doc, "version": 0, "edits": edits}),
        )
        .unwrap();
    assert_eq!(r["version"], 1);
    assert_eq!(s.error_code("tome/undo", json!({"doc": u64::MAX})), -33001);
    s.request("tome/undo", json!({"doc": doc})).unwrap();
    let r = s
        .request(
            "tome/getText",
            json!({"doc": doc, "offsets": {"start": 0, "end": 12}}),
        )
        .unwrap();
    assert_eq!(r["text"], "line 0\nline ");
    assert_eq!(s.shutdown(), Some(0));
}

/// Searches, replace-alls and saves cancelled as soon as sent, with edits between them: every
/// request is answered, the edits all apply in order, and the file is either untouched or the
/// whole saved version.
#[test]
fn cancels_racing_work_leave_a_consistent_document() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("racy.log");
    tome_gen::write_file(
        &tome_gen::GenConfig {
            size: 16 << 20,
            ..Default::default()
        },
        &path,
    )
    .unwrap();
    let original = std::fs::read(&path).unwrap();
    let mut s = Server::start();
    s.request("initialize", json!({"capabilities": {}}))
        .unwrap();
    let doc = s.request("tome/open", json!({"path": path})).unwrap()["doc"]
        .as_u64()
        .unwrap();
    let mut ids = Vec::new();
    for v in 0..30u64 {
        let edit = s.send(
            "tome/edit",
            json!({"doc": doc, "version": v, "edits": [{"offsets": {"start": 0, "end": 0}, "text": "E"}]}),
        );
        let heavy = match v % 3 {
            0 => s.send(
                "tome/search",
                json!({"doc": doc, "query": {"pattern": "[a-z]+[0-9]{3}$", "regex": true}, "mode": "count"}),
            ),
            1 => s.send("tome/save", json!({"doc": doc})),
            _ => s.send(
                "tome/search",
                json!({"doc": doc, "query": {"pattern": "nomatch-xyz"}, "mode": "count"}),
            ),
        };
        s.cancel(heavy);
        ids.push((edit, true));
        ids.push((heavy, false));
    }
    for (id, must_succeed) in ids {
        let r = s.wait(id);
        if must_succeed {
            r.as_ref().expect("an edit applies even near cancels");
        } else if let Err(e) = &r {
            assert!(DOCUMENTED.contains(&e["code"].as_i64().unwrap_or(0)), "{e}");
        }
    }
    let info = s.request("tome/info", json!({"doc": doc})).unwrap();
    assert_eq!(info["version"], 30, "every edit applied: {info}");
    let on_disk = std::fs::read(&path).unwrap();
    let prefix = on_disk.iter().take_while(|&&b| b == b'E').count();
    assert!(
        on_disk[prefix..] == original[..],
        "the file is the original with {prefix} saved edits in front, nothing else"
    );
    s.request("tome/save", json!({"doc": doc})).unwrap();
    let saved = std::fs::read(&path).unwrap();
    assert!(saved.starts_with(&[b'E'; 30]) && saved[30..] == original[..]);
    assert_eq!(s.shutdown(), Some(0));
}

/// Run with only 40 file descriptors: opens past the limit fail with an error that says so,
/// the server keeps answering, and closing documents makes room again.
#[test]
fn running_out_of_file_descriptors_is_an_error_not_a_crash() {
    if !std::path::Path::new("/usr/bin/prlimit").exists() {
        eprintln!("skipped: needs prlimit");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let mut s = Server::start_wrapped(&["/usr/bin/prlimit", "--nofile=40:40", "--"], &state);
    s.request("initialize", json!({"capabilities": {}}))
        .unwrap();
    let mut docs = Vec::new();
    let mut refused = None;
    for i in 0..200 {
        let path = dir.path().join(format!("f{i}.txt"));
        std::fs::write(&path, format!("file {i}\n")).unwrap();
        match s.request("tome/open", json!({"path": path})) {
            Ok(info) => docs.push(info["doc"].as_u64().unwrap()),
            Err(e) => {
                refused = Some(e);
                break;
            }
        }
    }
    let e = refused.expect("some open fails with 40 descriptors");
    assert_eq!(e["code"], -33012, "{e}");
    assert!(
        e["message"].as_str().unwrap().contains("open files"),
        "the message says why: {e}"
    );
    assert!(!docs.is_empty());
    // Still serving: every open document reads, and closing some makes room.
    for &d in &docs {
        s.request("tome/viewport", json!({"doc": d, "first": 0, "count": 1}))
            .unwrap();
    }
    for &d in docs.iter().take(5) {
        s.request("tome/close", json!({"doc": d})).unwrap();
    }
    let path = dir.path().join("f0.txt");
    s.request("tome/open", json!({"path": path})).unwrap();
    assert_eq!(s.shutdown(), Some(0));
}
