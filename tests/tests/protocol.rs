//! Every method of docs/protocol.md, happy path and each error, in the document's order, on
//! small files, against the real `tome serve`.

use serde_json::{json, Value};
use tome_e2e::Server;

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> String {
    let p = dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    p.to_str().unwrap().to_owned()
}

fn open(s: &mut Server, path: &str) -> Value {
    s.request("tome/open", json!({ "path": path }))
        .expect("open")
}

fn texts(v: &Value) -> Vec<String> {
    v["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["text"].as_str().unwrap().to_owned())
        .collect()
}

// ---- Lifecycle -------------------------------------------------------------------------------

#[test]
fn lifecycle_initialize_negotiates_the_position_encoding() {
    let (s, r) = Server::initialized(json!({}));
    assert_eq!(r["capabilities"]["positionEncoding"], "utf-16");
    assert_eq!(r["serverInfo"]["name"], "tome");
    let tome = &r["capabilities"]["experimental"]["tome"];
    assert_eq!(tome["protocolVersion"], 1);
    assert!(tome["methods"].as_array().unwrap().len() >= 11);
    assert_eq!(s.shutdown(), Some(0));
    for (offered, chosen) in [
        (json!(["utf-8", "utf-16"]), "utf-8"),
        (json!(["utf-32"]), "utf-32"),
        (json!(["latin-1"]), "utf-16"),
    ] {
        let (s, r) = Server::initialized(json!({"general": {"positionEncodings": offered}}));
        assert_eq!(r["capabilities"]["positionEncoding"], chosen);
        drop(s);
    }
}

#[test]
fn lifecycle_requests_before_initialize_and_after_shutdown_are_refused() {
    let mut s = Server::start();
    // Before `initialize`: every request gets -32002, whether its method exists or not, and
    // notifications are dropped.
    assert_eq!(s.error_code("tome/info", json!({"doc": 1})), -32002);
    assert_eq!(s.error_code("tome/frobnicate", json!({})), -32002);
    assert_eq!(s.error_code("shutdown", Value::Null), -32002);
    s.notify("tome/whatever", json!({}));
    s.notify("initialized", json!({}));
    s.request("initialize", json!({"capabilities": {}}))
        .unwrap();
    assert_eq!(
        s.error_code("initialize", json!({"capabilities": {}})),
        -32600
    );
    assert_eq!(s.error_code("tome/frobnicate", json!({})), -32601);
    assert_eq!(s.error_code("tome/info", json!({"doc": 1})), -33001);
    s.request("shutdown", Value::Null).unwrap();
    // After `shutdown`: every request gets -32600, whether its method exists or not.
    assert_eq!(s.error_code("tome/info", json!({"doc": 1})), -32600);
    assert_eq!(s.error_code("tome/frobnicate", json!({})), -32600);
    assert_eq!(s.error_code("shutdown", Value::Null), -32600);
    assert_eq!(
        s.error_code("initialize", json!({"capabilities": {}})),
        -32600
    );
    s.notify("tome/whatever", json!({}));
    s.notify("exit", Value::Null);
    assert_eq!(s.wait_exit(), Some(0));
}

#[test]
fn lifecycle_exit_without_shutdown_is_code_1_and_eof_ends_cleanly() {
    let (mut s, _) = Server::initialized(json!({}));
    s.notify("exit", Value::Null);
    assert_eq!(s.wait_exit(), Some(1));
    // `exit` is the one notification heard before `initialize`.
    let mut s = Server::start();
    assert_eq!(s.error_code("tome/frobnicate", json!({})), -32002);
    s.notify("exit", Value::Null);
    assert_eq!(s.wait_exit(), Some(1));
    let (mut s, _) = Server::initialized(json!({}));
    s.close_stdin();
    assert_eq!(s.wait_exit(), Some(0));
}

#[test]
fn lifecycle_a_shutdown_notification_is_ignored_and_shutdown_params_do_not_wedge() {
    // Found by the rpc_dispatch fuzz target: both used to switch the framework to its
    // shut-down state, after which every request (the real `shutdown` too) got -32600 and
    // `exit` ended with 1.
    let mut s = Server::ready();
    s.notify("shutdown", Value::Null);
    assert_eq!(s.error_code("tome/info", json!({"doc": 1})), -33001);
    s.request("shutdown", Value::Null).unwrap();
    s.notify("exit", Value::Null);
    assert_eq!(s.wait_exit(), Some(0));

    let mut s = Server::ready();
    assert_eq!(
        s.request("shutdown", json!({"force": true})),
        Ok(Value::Null)
    );
    assert_eq!(s.error_code("tome/info", json!({"doc": 1})), -32600);
    s.notify("exit", Value::Null);
    assert_eq!(s.wait_exit(), Some(0));

    // `exit` sent as a request exits, without a reply.
    let mut s = Server::ready();
    s.request("shutdown", Value::Null).unwrap();
    let id = s.send("exit", Value::Null);
    assert_eq!(s.wait_exit(), Some(0));
    std::thread::sleep(std::time::Duration::from_millis(200)); // let the reader take the rest
    assert!(!s.has_reply(id), "no reply to exit");
}

// ---- tome/open, tome/close, tome/info --------------------------------------------------------

#[test]
fn open_reports_the_document() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "a.txt", b"one\r\ntwo\r\nthree");
    let mut s = Server::ready();
    let r = open(&mut s, &path);
    assert_eq!(r["doc"], 1);
    assert_eq!(r["size"], 15);
    assert_eq!(r["lineEnding"], "crlf");
    assert_eq!(r["version"], 0);
    assert_eq!(r["readOnly"], false);
    assert!(r["snapshot"].is_boolean(), "{r}");
    assert!(r["lineCount"]["known"].as_u64().unwrap() >= 1);
    // A second open of the same file is a second, independent document.
    assert_eq!(open(&mut s, &path)["doc"], 2);
}

#[test]
fn lifecycle_requests_sent_right_after_initialize_are_served_after_it() {
    // A client may send `initialize` and its first requests in one write, without waiting:
    // the server serves them once `initialize` is done (what the Neovim plugin does at startup).
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "a.txt", b"one\ntwo\n");
    let mut s = Server::start();
    let init = s.send("initialize", json!({"capabilities": {}}));
    let opened = s.send("tome/open", json!({ "path": path }));
    s.notify("initialized", json!({}));
    assert!(s.wait(init).is_ok());
    let r = s
        .wait(opened)
        .expect("the open sent before initialize's reply");
    assert_eq!(r["size"], 8);
}

#[test]
fn open_with_viewport_answers_the_first_lines_in_its_reply() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "a.txt", b"one\ntwo\nthree\nfour\n");
    let mut s = Server::ready();
    let r = s
        .request(
            "tome/open",
            json!({ "path": path, "viewport": { "first": 1, "count": 2, "rawBytes": true } }),
        )
        .unwrap();
    assert_eq!(texts(&r["viewport"]), ["two", "three"]);
    // The same as a viewport asked after the open.
    let v = s
        .request(
            "tome/viewport",
            json!({ "doc": r["doc"], "first": 1, "count": 2, "rawBytes": true }),
        )
        .unwrap();
    assert_eq!(r["viewport"], v);
    // Without `viewport`, none in the reply.
    assert!(open(&mut s, &path).get("viewport").is_none());
    // Lines it cannot read: the document opens all the same, `viewport` is null (a
    // `tome/viewport` says why).
    let r = s
        .request(
            "tome/open",
            json!({ "path": path, "viewport": { "first": 99, "count": 2, "wait": false } }),
        )
        .unwrap();
    assert!(r["viewport"].is_null(), "{r}");
    assert!(r["doc"].as_u64().is_some());
    // Params that are not a viewport's: refused before anything is opened.
    let before = open(&mut s, &path)["doc"].as_u64().unwrap();
    for bad in [
        json!({"count": 2}),
        json!({"first": "x", "count": 1}),
        json!(5),
    ] {
        assert_eq!(
            s.error_code("tome/open", json!({ "path": path, "viewport": bad })),
            -32602,
            "{bad}"
        );
    }
    assert_eq!(open(&mut s, &path)["doc"].as_u64().unwrap(), before + 1);
}

#[test]
fn open_errors() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Server::ready();
    let missing = dir.path().join("missing.txt");
    let e = s
        .request("tome/open", json!({"path": missing}))
        .unwrap_err();
    assert_eq!(e["code"], -33005);
    assert_eq!(e["data"]["kind"], "fileNotFound");
    assert!(e["message"].as_str().unwrap().contains("missing.txt"));
    assert_eq!(
        s.error_code("tome/open", json!({"path": dir.path()})),
        -33007
    );
    assert_eq!(s.error_code("tome/open", json!({"path": ""})), -32602);
    assert_eq!(s.error_code("tome/open", json!({"path": 5})), -32602);
    assert_eq!(s.error_code("tome/open", json!({})), -32602);
    // Permission denied can only be seen when not running as root.
    let locked = write(&dir, "locked.txt", b"x");
    std::fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o000)).unwrap();
    if std::fs::read(&locked).is_err() {
        assert_eq!(s.error_code("tome/open", json!({"path": locked})), -33006);
    }
}

#[test]
fn close_and_info() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "a.txt", b"hello\n");
    let mut s = Server::ready();
    let doc = open(&mut s, &path)["doc"].clone();
    let info = s.request("tome/info", json!({"doc": doc})).unwrap();
    assert_eq!(info["dirty"], false);
    assert_eq!(info["path"], path);
    s.request(
        "tome/edit",
        json!({"doc": doc, "version": 0, "edits": [{"offsets": {"start": 0, "end": 0}, "text": "x"}]}),
    )
    .unwrap();
    let info = s.request("tome/info", json!({"doc": doc})).unwrap();
    assert_eq!(
        (info["dirty"].clone(), info["version"].clone()),
        (json!(true), json!(1))
    );
    assert_eq!(info["undoSteps"], 1);
    let closed = s.request("tome/close", json!({"doc": doc})).unwrap();
    assert_eq!(closed["discarded"], true);
    assert_eq!(s.error_code("tome/close", json!({"doc": doc})), -33001);
    assert_eq!(s.error_code("tome/info", json!({"doc": doc})), -33001);
    assert_eq!(s.error_code("tome/info", json!({"doc": 99})), -33001);
    assert_eq!(s.error_code("tome/info", json!({"doc": -1})), -32602);
}

#[test]
fn close_runs_after_a_pipelined_save_and_sees_its_result() {
    let dir = tempfile::tempdir().unwrap();
    // Big enough that writing it takes a moment: the close must wait for the save to end.
    let mut content = Vec::new();
    let mut n = 0;
    while content.len() < 8 << 20 {
        content.extend_from_slice(format!("line {n} of a file saved and then closed\n").as_bytes());
        n += 1;
    }
    let path = write(&dir, "a.txt", &content);
    let mut s = Server::ready();
    let edit = |doc: &Value, version: u64, text: &str| json!({"doc": doc, "version": version, "edits": [{"offsets": {"start": 0, "end": 0}, "text": text}]});
    let starts_with = |prefix: &[u8]| {
        let on_disk = std::fs::read(&path).unwrap();
        assert_eq!(&on_disk[..prefix.len()], prefix);
        assert_eq!(&on_disk[prefix.len()..], &content[..]);
    };

    // Save then close, sent back to back: the close runs after the save and finds nothing
    // unsaved.
    let doc = open(&mut s, &path)["doc"].clone();
    s.request("tome/edit", edit(&doc, 0, ">")).unwrap();
    let save = s.send("tome/save", json!({"doc": doc}));
    let close = s.send("tome/close", json!({"doc": doc}));
    assert_eq!(s.wait(close).unwrap(), json!({"discarded": false}));
    assert_eq!(s.wait(save).unwrap()["version"], 1);
    starts_with(b">");
    assert_eq!(s.error_code("tome/info", json!({"doc": doc})), -33001);

    // An edit sent between the save and the close is not saved: the close discards it.
    let doc = open(&mut s, &path)["doc"].clone();
    let e1 = s.send("tome/edit", edit(&doc, 0, "a"));
    let save = s.send("tome/save", json!({"doc": doc}));
    let e2 = s.send("tome/edit", edit(&doc, 1, "b"));
    let close = s.send("tome/close", json!({"doc": doc}));
    assert_eq!(s.wait(close).unwrap(), json!({"discarded": true}));
    assert_eq!(s.wait(e1).unwrap()["version"], 1);
    assert_eq!(s.wait(e2).unwrap()["version"], 2);
    assert_eq!(s.wait(save).unwrap()["version"], 1);
    starts_with(b"a>");

    // Two saves then a close: the second save was sent before the close, so it runs too
    // (after the first), and the close finds nothing unsaved.
    let doc = open(&mut s, &path)["doc"].clone();
    s.request("tome/edit", edit(&doc, 0, "c")).unwrap();
    let save1 = s.send("tome/save", json!({"doc": doc}));
    let e = s.send("tome/edit", edit(&doc, 1, "d"));
    let save2 = s.send("tome/save", json!({"doc": doc}));
    let close = s.send("tome/close", json!({"doc": doc}));
    assert_eq!(s.wait(close).unwrap(), json!({"discarded": false}));
    assert_eq!(s.wait(e).unwrap()["version"], 2);
    assert_eq!(s.wait(save1).unwrap()["version"], 1);
    assert_eq!(s.wait(save2).unwrap()["version"], 2);
    starts_with(b"dca>");

    // The server goes on: the file opens again, clean.
    let info = open(&mut s, &path);
    assert_eq!(info["dirty"], false);
    assert_eq!(info["size"], content.len() + 4);
}

// ---- tome/viewport -----------------------------------------------------------------------------

#[test]
fn viewport_lines_windows_and_positions() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "a.txt", "zero\naé漢🦀b\n\ntwo lines\nlast".as_bytes());
    let mut s = Server::ready();
    let doc = open(&mut s, &path)["doc"].clone();
    let v = s
        .request(
            "tome/viewport",
            json!({"doc": doc, "first": 0, "count": 10}),
        )
        .unwrap();
    assert_eq!(v["version"], 0);
    assert_eq!(texts(&v), ["zero", "aé漢🦀b", "", "two lines", "last"]);
    let l1 = &v["lines"][1];
    assert_eq!(
        (l1["number"].clone(), l1["offset"].clone()),
        (json!(1), json!(5))
    );
    assert_eq!(l1["length"], 6, "UTF-16 units");
    assert_eq!(l1["byteLength"], 11);
    assert_eq!(l1["breakLength"], 1);
    assert_eq!(v["lines"][4]["breakLength"], 0);
    // A window in UTF-16 columns: column 3 is inside the crab's surrogate pair → floored.
    let v = s
        .request(
            "tome/viewport",
            json!({"doc": doc, "first": 1, "count": 1, "window": {"start": 3, "width": 2}}),
        )
        .unwrap();
    let l = &v["lines"][0];
    assert_eq!(l["text"], "🦀");
    assert_eq!(l["startColumn"], 3);
    assert_eq!(
        (l["cutBefore"].clone(), l["cutAfter"].clone()),
        (json!(true), json!(true))
    );
    // The same in bytes: bytes 1..4 are "é" and the first byte of 漢 (dropped).
    let v = s
        .request(
            "tome/viewport",
            json!({"doc": doc, "first": 1, "count": 1,
                   "window": {"start": 1, "width": 3, "unit": "bytes"}}),
        )
        .unwrap();
    assert_eq!(v["lines"][0]["text"], "é");
    // Around a byte offset, with lines before.
    let v = s
        .request(
            "tome/viewport",
            json!({"doc": doc, "around": 19, "before": 1, "count": 2}),
        )
        .unwrap();
    assert_eq!(texts(&v), ["", "two lines", "last"]);
    // A fraction of the file.
    let v = s
        .request(
            "tome/viewport",
            json!({"doc": doc, "fraction": 1.0, "count": 1}),
        )
        .unwrap();
    assert_eq!(texts(&v), ["last"]);
}

#[test]
fn viewport_shows_invalid_utf8_as_one_replacement_per_byte() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "bad.txt", b"a\xE2\x82b\xFFc\n");
    let mut s = Server::ready();
    let doc = open(&mut s, &path)["doc"].clone();
    let v = s
        .request("tome/viewport", json!({"doc": doc, "first": 0, "count": 1}))
        .unwrap();
    let l = &v["lines"][0];
    assert_eq!(l["text"], "a\u{FFFD}\u{FFFD}b\u{FFFD}c");
    assert_eq!(l["invalid"], true);
    assert_eq!(l["length"], 6);
    // Edits address the invalid bytes by column: one column each.
    s.request(
        "tome/edit",
        json!({"doc": doc, "version": 0, "edits": [
            {"range": {"start": {"line": 0, "character": 1}, "end": {"line": 0, "character": 3}}, "text": "-"}]}),
    )
    .unwrap();
    let v = s
        .request("tome/viewport", json!({"doc": doc, "first": 0, "count": 1}))
        .unwrap();
    assert_eq!(v["lines"][0]["text"], "a-b\u{FFFD}c");
}

/// An editor that holds lines as bytes (Neovim) reads invalid lines exactly (`rawBytes`),
/// long lines whole (`wholeLines`), and writes exact bytes back (`base64` edits): a yank and
/// paste of an invalid line, and deleting one invalid byte, leave every other byte as it was.
#[test]
fn exact_bytes_round_trip_through_viewport_edit_and_save() {
    use base64::{decode, encode};
    let dir = tempfile::tempdir().unwrap();
    let bad: &[u8] = b"bad \xFF\xFE here \xC3 end";
    let long = "w".repeat(200_000);
    let mut bytes = b"keep\n".to_vec();
    bytes.extend_from_slice(bad);
    bytes.extend_from_slice(format!("\n{long}\ntail\n").as_bytes());
    let path = write(&dir, "bad.txt", &bytes);
    let (mut s, _) = Server::initialized(json!({"general": {"positionEncodings": ["utf-8"]}}));
    let doc = open(&mut s, &path)["doc"].clone();
    let v = s
        .request(
            "tome/viewport",
            json!({"doc": doc, "first": 0, "count": 10, "rawBytes": true,
                   "wholeLines": {"maxLineBytes": 8 << 20, "maxBytes": 16 << 20}}),
        )
        .unwrap();
    let lines = v["lines"].as_array().unwrap();
    assert!(
        lines[0].get("base64").is_none(),
        "valid lines carry no bytes"
    );
    assert_eq!(lines[1]["invalid"], true);
    assert_eq!(decode(lines[1]["base64"].as_str().unwrap()), bad);
    assert_eq!(lines[2]["text"].as_str().unwrap().len(), 200_000);
    assert_eq!(lines[2]["cutAfter"], false);
    // Without `wholeLines` the long line is cut at the width limit, as before.
    let v = s
        .request(
            "tome/viewport",
            json!({"doc": doc, "first": 2, "count": 300}),
        )
        .unwrap();
    assert_eq!(v["lines"][0]["cutAfter"], true);

    // x on \xFF (column 4: one column per invalid byte); the bad line pasted after "tail".
    let pasted = [bad, b"\n"].concat();
    let r = s
        .request(
            "tome/edit",
            json!({"doc": doc, "version": 0, "edits": [
                {"range": {"start": {"line": 1, "character": 4}, "end": {"line": 1, "character": 5}}, "text": ""},
                {"range": {"start": {"line": 4, "character": 0}, "end": {"line": 4, "character": 0}},
                 "base64": encode(&pasted)}]}),
        )
        .unwrap();
    assert_eq!(r["version"], 1);
    // Bad base64, or both forms: -32602, nothing changes.
    let err = s
        .request(
            "tome/edit",
            json!({"doc": doc, "version": 1, "edits": [
                {"offsets": {"start": 0, "end": 0}, "base64": "not base64"}]}),
        )
        .unwrap_err();
    assert_eq!(err["code"], -32602);
    assert!(err["message"]
        .as_str()
        .unwrap()
        .contains("`base64` of edit 0 is not base64"));
    let both = json!({"doc": doc, "version": 1, "edits": [
        {"offsets": {"start": 0, "end": 0}, "text": "a", "base64": "YQ=="}]});
    assert_eq!(s.error_code("tome/edit", both), -32602);
    // A copy of the pasted line, exactly.
    let at = bytes.len() - 1;
    let got = s
        .request(
            "tome/getText",
            json!({"doc": doc, "offsets": {"start": at, "end": at + pasted.len()}, "rawBytes": true}),
        )
        .unwrap();
    assert_eq!(decode(got["base64"].as_str().unwrap()), pasted);
    s.request("tome/save", json!({"doc": doc})).unwrap();
    let mut want = b"keep\nbad \xFE here \xC3 end\n".to_vec();
    want.extend_from_slice(format!("{long}\ntail\n").as_bytes());
    want.extend_from_slice(&pasted);
    assert_eq!(std::fs::read(&path).unwrap(), want);
}

/// Base64 for the tests above (the server's own is not public).
mod base64 {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    pub fn encode(bytes: &[u8]) -> String {
        let mut out = String::new();
        for g in bytes.chunks(3) {
            let n = (0..3).fold(0u32, |n, i| n << 8 | u32::from(*g.get(i).unwrap_or(&0)));
            for i in 0..4 {
                let c = ALPHABET[(n >> (18 - 6 * i) & 63) as usize];
                out.push(if i <= g.len() { char::from(c) } else { '=' });
            }
        }
        out
    }

    pub fn decode(text: &str) -> Vec<u8> {
        let mut out = Vec::new();
        for q in text.as_bytes().chunks(4) {
            let pad = q.iter().filter(|&&c| c == b'=').count();
            let n = q.iter().fold(0u32, |n, &c| {
                n << 6 | ALPHABET.iter().position(|&a| a == c).unwrap_or(0) as u32
            });
            out.extend_from_slice(&n.to_be_bytes()[1..4 - pad]);
        }
        out
    }
}

#[test]
fn viewport_limits_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let long = "x".repeat(100_000);
    let many = "l\n".repeat(2000);
    let path = write(&dir, "a.txt", format!("{long}\n{many}").as_bytes());
    let mut s = Server::ready();
    let doc = open(&mut s, &path)["doc"].clone();
    let v = s
        .request(
            "tome/viewport",
            json!({"doc": doc, "first": 0, "count": 5000}),
        )
        .unwrap();
    assert_eq!(
        v["lines"].as_array().unwrap().len(),
        1000,
        "count is capped"
    );
    let first = &v["lines"][0];
    assert_eq!(first["cutAfter"], true, "width is capped");
    assert_eq!(first["length"], 100_000);
    assert!(first["text"].as_str().unwrap().len() <= 16 * 1024);
    let code = |s: &mut Server, p: Value| s.error_code("tome/viewport", p);
    assert_eq!(
        code(&mut s, json!({"doc": doc, "first": 5000, "count": 1})),
        -33002
    );
    assert_eq!(
        code(
            &mut s,
            json!({"doc": doc, "around": 1u64 << 40, "count": 1})
        ),
        -33002
    );
    assert_eq!(
        code(
            &mut s,
            json!({"doc": doc, "first": 0, "around": 0, "count": 1})
        ),
        -32602
    );
    assert_eq!(code(&mut s, json!({"doc": doc, "count": 1})), -32602);
    assert_eq!(
        code(&mut s, json!({"doc": doc, "fraction": 1.5, "count": 1})),
        -32602
    );
    assert_eq!(
        code(&mut s, json!({"doc": doc, "first": "0", "count": 1})),
        -32602
    );
    assert_eq!(code(&mut s, json!({"doc": doc, "first": 0})), -32602);
    assert_eq!(
        code(&mut s, json!({"doc": 42, "first": 0, "count": 1})),
        -33001
    );
}

// ---- tome/edit, tome/undo, tome/redo ----------------------------------------------------------

#[test]
fn edit_with_positions_and_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "a.txt", "héllo\nworld\n".as_bytes());
    let mut s = Server::ready();
    let doc = open(&mut s, &path)["doc"].clone();
    // One batch: both ranges refer to the document before the batch.
    let r = s
        .request(
            "tome/edit",
            json!({"doc": doc, "version": 0, "edits": [
                {"range": {"start": {"line": 0, "character": 1}, "end": {"line": 0, "character": 2}}, "text": "E"},
                {"offsets": {"start": 7, "end": 12}, "text": "there"}]}),
        )
        .unwrap();
    assert_eq!(r["version"], 1);
    let v = s
        .request("tome/viewport", json!({"doc": doc, "first": 0, "count": 3}))
        .unwrap();
    assert_eq!(texts(&v), ["hEllo", "there", ""]);
    assert_eq!(v["version"], 1);
    assert_eq!(r["undoSteps"], 1);
    // Typing joins the previous step; a batch starts a new one.
    let r = s
        .request("tome/edit", json!({"doc": doc, "version": 1, "edits": [{"offsets": {"start": 0, "end": 0}, "text": "a"}]}))
        .unwrap();
    assert_eq!(
        (r["version"].clone(), r["undoSteps"].clone()),
        (json!(2), json!(2))
    );
    let r = s
        .request("tome/edit", json!({"doc": doc, "version": 2, "edits": [{"offsets": {"start": 1, "end": 1}, "text": "b"}]}))
        .unwrap();
    assert_eq!(
        (r["version"].clone(), r["undoSteps"].clone()),
        (json!(3), json!(2))
    );
}

#[test]
fn edit_undo_grouping_chosen_by_the_client() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "a.txt", b"one\ntwo\nthree\n");
    let mut s = Server::ready();
    let doc = open(&mut s, &path)["doc"].clone();
    let edit = |s: &mut Server, version: u64, at: u64, text: &str, undo: Value| {
        s.request(
            "tome/edit",
            json!({"doc": doc, "version": version, "undo": undo,
                   "edits": [{"offsets": {"start": at, "end": at}, "text": text}]}),
        )
        .unwrap()["undoSteps"]
            .clone()
    };
    // Typing that the server would join, kept apart ("new": Vim's `x` `x`)…
    assert_eq!(edit(&mut s, 0, 0, "a", json!("new")), 1);
    assert_eq!(edit(&mut s, 1, 1, "b", json!("new")), 2);
    // …and batches it would keep apart, joined (the lines a Visual-block insert copies to).
    assert_eq!(edit(&mut s, 2, 6, "X\nY", json!("join")), 2);
    assert_eq!(edit(&mut s, 3, 0, "c", json!("auto")), 3);
    let undo = s.request("tome/undo", json!({"doc": doc})).unwrap();
    assert_eq!(undo["changed"], true);
    let undo = s.request("tome/undo", json!({"doc": doc})).unwrap();
    assert_eq!(undo["offset"], 1);
    let v = s
        .request("tome/viewport", json!({"doc": doc, "first": 0, "count": 3}))
        .unwrap();
    assert_eq!(texts(&v), ["aone", "two", "three"]);
    let bad = s.error_code(
        "tome/edit",
        json!({"doc": doc, "version": 6, "undo": "later", "edits": []}),
    );
    assert_eq!(bad, -32602);
}

// ---- clip, paste, dropClip -------------------------------------------------------------------

#[test]
fn clips_are_pasted_anywhere_survive_edits_and_saves_and_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(&dir, "a.txt", b"one\ntwo\nthree");
    let b = write(&dir, "b.txt", b"x\n");
    let mut s = Server::ready();
    let doc = open(&mut s, &a)["doc"].clone();
    let other = open(&mut s, &b)["doc"].clone();
    // Lines 2-3 as a linewise register: the last line gets a line break.
    let c = s
        .request(
            "tome/clip",
            json!({"doc": doc, "version": 0, "wholeLines": true, "previewBytes": 5,
                   "range": {"start": {"line": 1, "character": 0}, "end": {"line": 2, "character": 5}}}),
        )
        .unwrap();
    assert_eq!(
        (c["bytes"].clone(), c["preview"].clone()),
        (json!(10), json!("two\nt"))
    );
    let clip = c["clip"].clone();
    // The document changes after the clip; the clip does not.
    s.request("tome/edit", json!({"doc": doc, "version": 0, "edits": [{"offsets": {"start": 4, "end": 7}, "text": "TWO"}]}))
        .unwrap();
    let r = s
        .request(
            "tome/paste",
            json!({"doc": doc, "version": 1, "clip": clip, "offset": 0, "count": 2}),
        )
        .unwrap();
    assert_eq!(
        (r["version"].clone(), r["undoSteps"].clone()),
        (json!(2), json!(2))
    );
    let text = |s: &mut Server, d: &Value| {
        s.request(
            "tome/getText",
            json!({"doc": d, "offsets": {"start": 0, "end": 1000}}),
        )
        .map(|r| r["text"].as_str().unwrap().to_owned())
    };
    assert_eq!(
        text(&mut s, &doc).unwrap_err()["data"]["kind"],
        "outOfBounds"
    );
    let all = |s: &mut Server, d: &Value| {
        let n = s.request("tome/info", json!({"doc": d})).unwrap()["size"]
            .as_u64()
            .unwrap();
        s.request(
            "tome/getText",
            json!({"doc": d, "offsets": {"start": 0, "end": n}}),
        )
        .unwrap()["text"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(all(&mut s, &doc), "two\nthree\ntwo\nthree\none\nTWO\nthree");
    // One undo step; in another document, by position; after a save of the first.
    s.request("tome/undo", json!({"doc": doc})).unwrap();
    assert_eq!(all(&mut s, &doc), "one\nTWO\nthree");
    s.request("tome/save", json!({"doc": doc})).unwrap();
    s.request(
        "tome/paste",
        json!({"doc": other, "version": 0, "clip": clip, "at": {"line": 1, "character": 0}}),
    )
    .unwrap();
    assert_eq!(all(&mut s, &other), "x\ntwo\nthree\n");
    let v = s.request("tome/info", json!({"doc": doc})).unwrap()["version"].clone();
    s.request(
        "tome/paste",
        json!({"doc": doc, "version": v, "clip": clip, "offset": 4, "undo": "join"}),
    )
    .unwrap();
    assert_eq!(all(&mut s, &doc), "one\ntwo\nthree\nTWO\nthree");
    // Errors: a stale version, both or neither place, past the end, an unknown or dropped clip.
    let paste =
        |s: &mut Server, p: Value| s.request("tome/paste", p).unwrap_err()["data"]["kind"].clone();
    assert_eq!(
        paste(
            &mut s,
            json!({"doc": doc, "version": 0, "clip": clip, "offset": 0})
        ),
        "staleVersion"
    );
    let v = s.request("tome/info", json!({"doc": doc})).unwrap()["version"].clone();
    assert_eq!(
        paste(&mut s, json!({"doc": doc, "version": v, "clip": clip})),
        "invalidParams"
    );
    assert_eq!(
        paste(
            &mut s,
            json!({"doc": doc, "version": v, "clip": clip, "offset": 999})
        ),
        "outOfBounds"
    );
    assert_eq!(
        paste(
            &mut s,
            json!({"doc": doc, "version": v, "clip": 999, "offset": 0})
        ),
        "unknownClip"
    );
    assert_eq!(
        paste(
            &mut s,
            json!({"doc": doc, "version": v, "clip": clip, "offset": 0, "count": 1u64 << 40})
        ),
        "tooLarge"
    );
    assert_eq!(
        s.request("tome/dropClip", json!({"clip": clip})).unwrap(),
        true
    );
    assert_eq!(
        s.request("tome/dropClip", json!({"clip": clip})).unwrap(),
        false
    );
    assert_eq!(
        paste(
            &mut s,
            json!({"doc": doc, "version": v, "clip": clip, "offset": 0})
        ),
        "unknownClip"
    );
    let bad = s
        .request(
            "tome/clip",
            json!({"doc": doc, "offsets": {"start": 2, "end": 999}}),
        )
        .unwrap_err();
    assert_eq!(bad["data"]["kind"], "outOfBounds");
    // Bounded: the 65th clip forgets the first of them.
    let ids: Vec<Value> = (0..65)
        .map(|_| {
            s.request(
                "tome/clip",
                json!({"doc": doc, "offsets": {"start": 0, "end": 3}}),
            )
            .unwrap()["clip"]
                .clone()
        })
        .collect();
    assert_eq!(
        paste(
            &mut s,
            json!({"doc": doc, "version": v, "clip": ids[0], "offset": 0})
        ),
        "unknownClip"
    );
    s.request(
        "tome/paste",
        json!({"doc": doc, "version": v, "clip": ids[1], "offset": 0}),
    )
    .unwrap();
    assert_eq!(&all(&mut s, &doc)[..6], "oneone");
}

// ---- getText ---------------------------------------------------------------------------------

#[test]
fn get_text_reads_ranges_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = "héllo\r\nworld\rlone\n".as_bytes().to_vec();
    bytes.extend_from_slice(b"bad \xff byte\n");
    let path = write(&dir, "t.txt", &bytes);
    let mut s = Server::ready();
    let doc = open(&mut s, &path)["doc"].clone();
    s.request("tome/viewport", json!({"doc": doc, "first": 3, "count": 1}))
        .unwrap();
    // Line breaks come back as they are (CRLF, lone CR), positions in UTF-16.
    let r = s
        .request("tome/getText", json!({"doc": doc, "range": {"start": {"line": 0, "character": 1}, "end": {"line": 2, "character": 2}}}))
        .unwrap();
    assert_eq!(r["text"], "éllo\r\nworld\rlo");
    assert_eq!(r["bytes"], "éllo\r\nworld\rlo".len());
    assert_eq!(r["invalid"], false);
    let r = s
        .request(
            "tome/getText",
            json!({"doc": doc, "offsets": {"start": 19, "end": bytes.len()}}),
        )
        .unwrap();
    assert_eq!(r["text"], "bad \u{FFFD} byte\n");
    assert_eq!(r["invalid"], true);
    // It sees edits sent before it.
    let (_, mut burst) = s.request_bytes("tome/edit", json!({"doc": doc, "version": 0, "edits": [{"offsets": {"start": 0, "end": 0}, "text": ">"}]}));
    let (read, b) = s.request_bytes(
        "tome/getText",
        json!({"doc": doc, "offsets": {"start": 0, "end": 4}}),
    );
    burst.extend(b);
    s.write_raw(&burst);
    let r = s.wait(read).unwrap();
    assert_eq!(
        (r["text"].clone(), r["version"].clone()),
        (json!(">h\u{e9}"), json!(1))
    );
    // Errors.
    let code = |s: &mut Server, p: Value| s.error_code("tome/getText", p);
    assert_eq!(
        code(
            &mut s,
            json!({"doc": doc, "offsets": {"start": 0, "end": 1}, "maxBytes": 0})
        ),
        -33002
    );
    assert_eq!(
        code(
            &mut s,
            json!({"doc": doc, "offsets": {"start": 0, "end": 999}})
        ),
        -33002
    );
    assert_eq!(
        code(
            &mut s,
            json!({"doc": doc, "offsets": {"start": 5, "end": 1}})
        ),
        -33002
    );
    assert_eq!(code(&mut s, json!({"doc": doc})), -32602);
    assert_eq!(
        code(
            &mut s,
            json!({"doc": doc, "version": 0, "offsets": {"start": 0, "end": 1}})
        ),
        -33003
    );
    assert_eq!(
        code(
            &mut s,
            json!({"doc": 99, "offsets": {"start": 0, "end": 1}})
        ),
        -33001
    );
}

#[test]
fn edit_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "a.txt", b"abc\ndef\n");
    let mut s = Server::ready();
    let doc = open(&mut s, &path)["doc"].clone();
    let ins = |v: u64, start: u64, end: u64| json!({"doc": doc, "version": v, "edits": [{"offsets": {"start": start, "end": end}, "text": "x"}]});
    s.request("tome/edit", ins(0, 0, 0)).unwrap();
    let e = s.request("tome/edit", ins(0, 0, 0)).unwrap_err();
    assert_eq!(e["code"], -33003);
    assert_eq!(
        (e["data"]["given"].clone(), e["data"]["current"].clone()),
        (json!(0), json!(1))
    );
    assert_eq!(s.error_code("tome/edit", ins(1, 0, 100)), -33002);
    assert_eq!(s.error_code("tome/edit", ins(1, 3, 2)), -33002);
    let overlap = json!({"doc": doc, "version": 1, "edits": [
        {"offsets": {"start": 0, "end": 3}, "text": ""}, {"offsets": {"start": 2, "end": 4}, "text": ""}]});
    assert_eq!(s.error_code("tome/edit", overlap), -33009);
    let both = json!({"doc": doc, "version": 1, "edits": [
        {"offsets": {"start": 0, "end": 0}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "text": ""}]});
    assert_eq!(s.error_code("tome/edit", both), -32602);
    let past = json!({"doc": doc, "version": 1, "edits": [
        {"range": {"start": {"line": 9, "character": 0}, "end": {"line": 9, "character": 0}}, "text": ""}]});
    assert_eq!(s.error_code("tome/edit", past), -33002);
    let col = json!({"doc": doc, "version": 1, "edits": [
        {"range": {"start": {"line": 0, "character": 9}, "end": {"line": 0, "character": 9}}, "text": ""}]});
    assert_eq!(s.error_code("tome/edit", col), -33002);
    assert_eq!(
        s.error_code("tome/edit", json!({"doc": doc, "edits": []})),
        -32602
    );
    // Nothing of the refused edits was applied.
    let v = s
        .request("tome/viewport", json!({"doc": doc, "first": 0, "count": 2}))
        .unwrap();
    assert_eq!(
        (texts(&v), v["version"].clone()),
        (vec!["xabc".to_owned(), "def".to_owned()], json!(1))
    );
}

#[test]
fn undo_and_redo() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "a.txt", b"abc\n");
    let mut s = Server::ready();
    let doc = open(&mut s, &path)["doc"].clone();
    let r = s.request("tome/undo", json!({"doc": doc})).unwrap();
    assert_eq!(
        (r["changed"].clone(), r["version"].clone()),
        (json!(false), json!(0))
    );
    s.request(
        "tome/edit",
        json!({"doc": doc, "version": 0, "edits": [{"offsets": {"start": 3, "end": 3}, "text": "\nnew"}]}),
    )
    .unwrap();
    let r = s
        .request("tome/undo", json!({"doc": doc, "version": 1}))
        .unwrap();
    assert_eq!(
        (
            r["changed"].clone(),
            r["version"].clone(),
            r["offset"].clone()
        ),
        (json!(true), json!(2), json!(3))
    );
    let v = s
        .request("tome/viewport", json!({"doc": doc, "first": 0, "count": 5}))
        .unwrap();
    assert_eq!(texts(&v), ["abc", ""]);
    let r = s.request("tome/redo", json!({"doc": doc})).unwrap();
    assert_eq!(r["version"], 3);
    let v = s
        .request("tome/viewport", json!({"doc": doc, "first": 0, "count": 5}))
        .unwrap();
    assert_eq!(texts(&v), ["abc", "new", ""]);
    assert_eq!(
        s.error_code("tome/undo", json!({"doc": doc, "version": 0})),
        -33003
    );
    assert_eq!(s.error_code("tome/redo", json!({"doc": 7})), -33001);
}

// ---- tome/search, tome/replaceAll ---------------------------------------------------------------

#[test]
fn search_next_all_count() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "a.txt", "Foo foo\nbar FOO\n🦀foo\n".as_bytes());
    let mut s = Server::ready();
    let doc = open(&mut s, &path)["doc"].clone();
    let q = |p: Value| {
        let mut base = json!({"doc": doc, "query": {"pattern": "foo", "caseSensitive": false}});
        for (k, v) in p.as_object().unwrap() {
            base[k] = v.clone();
        }
        base
    };
    let r = s.request("tome/search", q(json!({}))).unwrap();
    assert_eq!(r["found"]["offsets"], json!({"start": 0, "end": 3}));
    let r = s
        .request(
            "tome/search",
            q(json!({"from": {"position": {"line": 1, "character": 0}}})),
        )
        .unwrap();
    assert_eq!(
        r["found"]["range"]["start"],
        json!({"line": 1, "character": 4})
    );
    // On the last line the match starts after the crab: 2 UTF-16 units.
    let r = s
        .request("tome/search", q(json!({"from": {"offset": 16}})))
        .unwrap();
    assert_eq!(
        r["found"]["range"]["start"],
        json!({"line": 2, "character": 2})
    );
    let r = s
        .request(
            "tome/search",
            q(json!({"direction": "backward", "from": {"offset": 4}})),
        )
        .unwrap();
    assert_eq!(r["found"]["offsets"]["start"], 0);
    let r = s
        .request("tome/search", q(json!({"from": {"offset": 24}})))
        .unwrap();
    assert_eq!(r["found"], Value::Null);
    let r = s
        .request(
            "tome/search",
            q(json!({"from": {"offset": 24}, "wrap": true})),
        )
        .unwrap();
    assert_eq!(r["found"]["offsets"]["start"], 0);
    let r = s
        .request("tome/search", q(json!({"mode": "all", "limit": 2})))
        .unwrap();
    assert_eq!(r["matches"].as_array().unwrap().len(), 2);
    assert_eq!(r["resumeAt"], 12);
    let r = s
        .request("tome/search", q(json!({"mode": "count"})))
        .unwrap();
    assert_eq!(r["count"], 4);
    let r = s
        .request(
            "tome/search",
            json!({"doc": doc, "query": {"pattern": "^[a-z]+ \\w+$", "regex": true}, "mode": "all"}),
        )
        .unwrap();
    assert_eq!(r["matches"][0]["offsets"], json!({"start": 8, "end": 15}));
}

#[test]
fn search_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "a.txt", b"abc\n");
    let mut s = Server::ready();
    let doc = open(&mut s, &path)["doc"].clone();
    let e = s
        .request(
            "tome/search",
            json!({"doc": doc, "query": {"pattern": "(", "regex": true}}),
        )
        .unwrap_err();
    assert_eq!(e["code"], -33004);
    assert_eq!(
        s.error_code("tome/search", json!({"doc": doc, "query": {"pattern": ""}})),
        -33004
    );
    assert_eq!(
        s.error_code(
            "tome/search",
            json!({"doc": doc, "query": {"pattern": "a"}, "from": {"offset": 99}})
        ),
        -33002
    );
    assert_eq!(
        s.error_code(
            "tome/search",
            json!({"doc": doc, "query": {"pattern": "a"}, "mode": "sideways"})
        ),
        -32602
    );
    assert_eq!(
        s.error_code(
            "tome/search",
            json!({"doc": doc, "query": {"pattern": "a"}, "from": {}})
        ),
        -32602
    );
    assert_eq!(
        s.error_code("tome/search", json!({"doc": 5, "query": {"pattern": "a"}})),
        -33001
    );
    // Patterns that would not search in linear time are refused at once.
    let e = s
        .request(
            "tome/search",
            json!({"doc": doc, "query": {"pattern": "\\w{500}z", "regex": true}}),
        )
        .unwrap_err();
    assert_eq!(e["code"], -33004);
    assert!(
        e["message"].as_str().unwrap().contains("too complex"),
        "{e}"
    );
    let long = "x".repeat(5000);
    let e = s
        .request(
            "tome/search",
            json!({"doc": doc, "query": {"pattern": long, "caseSensitive": false}}),
        )
        .unwrap_err();
    assert_eq!(e["code"], -33015);
    assert_eq!(
        e["data"],
        json!({"kind": "patternTooLong", "bytes": 5000, "limit": 4096})
    );
    let e = s
        .request(
            "tome/replaceAll",
            json!({"doc": doc, "query": {"pattern": long, "regex": true}, "replacement": ""}),
        )
        .unwrap_err();
    assert_eq!(e["code"], -33015);
    // Case-sensitive text may be up to 1 MiB long.
    let r = s
        .request(
            "tome/search",
            json!({"doc": doc, "query": {"pattern": long}, "mode": "count"}),
        )
        .unwrap();
    assert_eq!(r["count"], 0);
}

#[test]
fn get_text_and_the_viewport_show_invalid_bytes_alike() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "bad.txt", b"a\xE2\x82b\n");
    let mut s = Server::ready();
    let doc = open(&mut s, &path)["doc"].clone();
    let shown = s
        .request("tome/viewport", json!({"doc": doc, "first": 0, "count": 1}))
        .unwrap();
    let copied = s
        .request(
            "tome/getText",
            json!({"doc": doc, "offsets": {"start": 0, "end": 4}}),
        )
        .unwrap();
    assert_eq!(copied["text"], "a\u{FFFD}\u{FFFD}b");
    assert_eq!(copied["text"], shown["lines"][0]["text"]);
}

#[test]
fn replace_all_is_one_undo_step() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "a.txt", b"k=1 k=22\nk=333\n");
    let mut s = Server::ready();
    let doc = open(&mut s, &path)["doc"].clone();
    let r = s
        .request(
            "tome/replaceAll",
            json!({"doc": doc, "version": 0, "query": {"pattern": "k=(\\d+)", "regex": true}, "replacement": "<$1>"}),
        )
        .unwrap();
    assert_eq!(
        (r["count"].clone(), r["version"].clone()),
        (json!(3), json!(1))
    );
    let v = s
        .request("tome/viewport", json!({"doc": doc, "first": 0, "count": 2}))
        .unwrap();
    assert_eq!(texts(&v), ["<1> <22>", "<333>"]);
    s.request("tome/undo", json!({"doc": doc})).unwrap();
    let v = s
        .request("tome/viewport", json!({"doc": doc, "first": 0, "count": 2}))
        .unwrap();
    assert_eq!(texts(&v), ["k=1 k=22", "k=333"]);
    let bad = json!({"doc": doc, "query": {"pattern": "[", "regex": true}, "replacement": ""});
    assert_eq!(s.error_code("tome/replaceAll", bad), -33004);
    let stale = json!({"doc": doc, "version": 0, "query": {"pattern": "k"}, "replacement": ""});
    assert_eq!(s.error_code("tome/replaceAll", stale), -33003);
}

#[test]
fn whole_words_by_word_separators_in_search_count_and_replace_all() {
    // VS Code's Whole Word with its default separators: `€` and `_` are word characters (Rust's
    // `\b` would see a boundary after `€`), `-` and `(` separate.
    let seps = "`~!@#$%^&*()-=+[{]}\\|;:'\",.<>/?";
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "a.txt", "€foo foo\nfoo_x (foo)-foo\n".as_bytes());
    let mut s = Server::ready();
    let doc = open(&mut s, &path)["doc"].clone();
    let q = json!({"pattern": "foo", "wordSeparators": seps});
    let r = s
        .request(
            "tome/search",
            json!({"doc": doc, "query": q, "mode": "count"}),
        )
        .unwrap();
    assert_eq!(r["count"], json!(3));
    let r = s
        .request(
            "tome/search",
            json!({"doc": doc, "query": q, "mode": "next"}),
        )
        .unwrap();
    assert_eq!(r["found"]["offsets"], json!({"start": 7, "end": 10}));
    let r = s
        .request(
            "tome/replaceAll",
            json!({"doc": doc, "query": q, "replacement": "R$1"}),
        )
        .unwrap();
    assert_eq!(r["count"], json!(3));
    let v = s
        .request("tome/viewport", json!({"doc": doc, "first": 0, "count": 2}))
        .unwrap();
    assert_eq!(texts(&v), ["€foo R$1", "foo_x (R$1)-R$1"]);
    let long = json!({"doc": doc, "query": {"pattern": "x", "wordSeparators": "-".repeat(1025)}, "mode": "count"});
    assert_eq!(s.error_code("tome/search", long), -32602);
}

// ---- tome/save, tome/saveAs -------------------------------------------------------------------

#[test]
fn save_and_save_as() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "a.txt", b"abc\n");
    let mut s = Server::ready();
    let doc = open(&mut s, &path)["doc"].clone();
    s.request(
        "tome/edit",
        json!({"doc": doc, "version": 0, "edits": [{"offsets": {"start": 0, "end": 0}, "text": ">"}]}),
    )
    .unwrap();
    let r = s
        .request("tome/save", json!({"doc": doc, "workDoneToken": "save-1"}))
        .unwrap();
    assert_eq!(
        (r["bytes"].clone(), r["version"].clone()),
        (json!(5), json!(1))
    );
    assert_eq!(std::fs::read(&path).unwrap(), b">abc\n");
    let info = s.request("tome/info", json!({"doc": doc})).unwrap();
    assert_eq!(info["dirty"], false);
    let other = dir.path().join("b.txt");
    let r = s
        .request("tome/saveAs", json!({"doc": doc, "path": other}))
        .unwrap();
    assert_eq!(r["path"], other.to_str().unwrap());
    assert_eq!(std::fs::read(&other).unwrap(), b">abc\n");
    let info = s.request("tome/info", json!({"doc": doc})).unwrap();
    assert_eq!(info["path"], other.to_str().unwrap());
}

#[test]
fn save_failure_is_an_error_and_the_document_stays_dirty() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "a.txt", b"abc\n");
    let mut s = Server::ready();
    let doc = open(&mut s, &path)["doc"].clone();
    s.request(
        "tome/edit",
        json!({"doc": doc, "version": 0, "edits": [{"offsets": {"start": 0, "end": 0}, "text": ">"}]}),
    )
    .unwrap();
    let nowhere = dir.path().join("no/such/dir/b.txt");
    let e = s
        .request("tome/saveAs", json!({"doc": doc, "path": nowhere}))
        .unwrap_err();
    assert!(
        [-33005, -33012].contains(&e["code"].as_i64().unwrap()),
        "{e}"
    );
    assert_eq!(
        s.request("tome/info", json!({"doc": doc})).unwrap()["dirty"],
        true
    );
    assert_eq!(s.error_code("tome/saveAs", json!({"doc": doc})), -32602);
    assert_eq!(s.error_code("tome/save", json!({"doc": 77})), -33001);
    assert_eq!(std::fs::read(&path).unwrap(), b"abc\n");
}

// ---- tome/setHighlightRules -------------------------------------------------------------------

/// Where `grep -obaE pattern file` (LC_ALL=C: bytes) finds matches, as (reply line index,
/// column, end column) of the viewport's `lines` (UTF-8 positions: columns are bytes).
fn grep_marks(path: &str, pattern: &str, lines: &[Value], rule: u64) -> Vec<Value> {
    let out = std::process::Command::new("grep")
        .args(["-obaE", pattern, path])
        .env("LC_ALL", "C")
        .output()
        .expect("grep");
    let mut marks = Vec::new();
    for hit in String::from_utf8_lossy(&out.stdout).lines() {
        let (at, text) = hit.split_once(':').unwrap();
        let at: u64 = at.parse().unwrap();
        let len = text.len() as u64;
        let (i, l) = lines
            .iter()
            .enumerate()
            .find(|(_, l)| {
                let o = l["offset"].as_u64().unwrap();
                o <= at && at < o + l["byteLength"].as_u64().unwrap()
            })
            .unwrap();
        let col = at - l["offset"].as_u64().unwrap();
        marks.push(json!({"rule": rule, "line": i, "start": col, "end": col + len}));
    }
    marks
}

#[test]
fn set_highlight_rules_then_viewports_report_what_grep_finds() {
    let dir = tempfile::tempdir().unwrap();
    // Log lines with CRLF, lone CR, invalid bytes, multi-byte characters.
    let mut bytes = Vec::new();
    for n in 0..900u32 {
        let level = ["INFO ", "ERROR", "WARN ", "DEBUG"][(n % 7 % 4) as usize];
        bytes.extend_from_slice(
            format!("2026-11-27T00:00:{:02}Z {level} seq={n} ", n % 60).as_bytes(),
        );
        match n % 5 {
            0 => bytes.extend_from_slice(b"bad \xFF\xFE ERROR\xE2\x82 "),
            1 => bytes.extend_from_slice("caf\u{e9} \u{1F980} ERROR ERROR".as_bytes()),
            _ => bytes.extend_from_slice(b"plain"),
        }
        bytes.extend_from_slice([&b"\n"[..], b"\r\n", b"\r"][(n % 3) as usize]);
    }
    let path = write(&dir, "hl.log", &bytes);
    let (mut s, _) = Server::initialized(json!({"general": {"positionEncodings": ["utf-8"]}}));
    let doc = open(&mut s, &path)["doc"].clone();
    let r = s
        .request(
            "tome/setHighlightRules",
            json!({"rules": [{"id": "errors", "pattern": "ERROR"}, {"pattern": "seq=[0-9]*7 ", "regex": true}]}),
        )
        .unwrap();
    assert_eq!(r["rules"], 2);
    let v = s
        .request(
            "tome/viewport",
            json!({"doc": doc, "first": 0, "count": 1000}),
        )
        .unwrap();
    let lines = v["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 901);
    // Ordered by line, then rule, then column: sort grep's marks the same way.
    let mut want = grep_marks(&path, "ERROR", lines, 0);
    want.extend(grep_marks(&path, "seq=[0-9]*7 ", lines, 1));
    let key = |m: &Value| {
        (
            m["line"].as_u64().unwrap(),
            m["rule"].as_u64().unwrap(),
            m["start"].as_u64().unwrap(),
        )
    };
    want.sort_by_key(key);
    assert!(want.len() > 500, "{}", want.len());
    assert_eq!(v["highlights"].as_array().unwrap(), &want);
    assert!(v.get("highlightsCut").is_none());
    // `highlights: false`: none reported.
    let v = s
        .request(
            "tome/viewport",
            json!({"doc": doc, "first": 0, "count": 5, "highlights": false}),
        )
        .unwrap();
    assert!(v.get("highlights").is_none());

    // The document's own rules (none), then the session's again.
    s.request("tome/setHighlightRules", json!({"doc": doc, "rules": []}))
        .unwrap();
    let v = s
        .request("tome/viewport", json!({"doc": doc, "first": 0, "count": 5}))
        .unwrap();
    assert!(v.get("highlights").is_none());
    s.request("tome/setHighlightRules", json!({"doc": doc, "rules": null}))
        .unwrap();
    let v = s
        .request("tome/viewport", json!({"doc": doc, "first": 1, "count": 1}))
        .unwrap();
    // Line 1: "… ERROR seq=1 café 🦀 ERROR ERROR": three, in bytes.
    let text = lines[1]["text"].as_str().unwrap();
    let starts: Vec<u64> = text.match_indices("ERROR").map(|(i, _)| i as u64).collect();
    let got: Vec<u64> = v["highlights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["start"].as_u64().unwrap())
        .collect();
    assert_eq!(got, starts);

    // Bad rules: refused naming the rule; the rules in force stay.
    let e = s
        .request(
            "tome/setHighlightRules",
            json!({"rules": [{"pattern": "ok"}, {"id": "broken", "pattern": "a(b", "regex": true}]}),
        )
        .unwrap_err();
    assert_eq!(e["code"], -33004);
    assert_eq!(e["data"]["rule"], 1);
    assert_eq!(e["data"]["id"], "broken");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .starts_with("highlight rule 1 (\"broken\")"),
        "{e}"
    );
    let many: Vec<Value> = (0..33)
        .map(|i| json!({"pattern": format!("p{i}")}))
        .collect();
    let e = s
        .request("tome/setHighlightRules", json!({"rules": many}))
        .unwrap_err();
    assert_eq!(e["code"], -33017);
    let long = "x".repeat(4097);
    let e = s
        .request(
            "tome/setHighlightRules",
            json!({"rules": [{"pattern": long}]}),
        )
        .unwrap_err();
    assert_eq!(e["code"], -33015);
    assert_eq!(e["data"]["rule"], 0);
    assert_eq!(
        s.error_code(
            "tome/setHighlightRules",
            json!({"rules": [{"pattern": ""}]})
        ),
        -33004
    );
    assert_eq!(
        s.error_code("tome/setHighlightRules", json!({"doc": 99, "rules": []})),
        -33001
    );
    let v = s
        .request("tome/viewport", json!({"doc": doc, "first": 1, "count": 1}))
        .unwrap();
    assert_eq!(
        v["highlights"].as_array().unwrap().len(),
        starts.len(),
        "old rules kept"
    );
    // UTF-16 columns: a server negotiating UTF-16 counts the crab as two.
    let (mut s16, _) = Server::initialized(json!({}));
    let d16 = open(&mut s16, &path)["doc"].clone();
    s16.request(
        "tome/setHighlightRules",
        json!({"rules": [{"pattern": "ERROR"}]}),
    )
    .unwrap();
    let v = s16
        .request("tome/viewport", json!({"doc": d16, "first": 1, "count": 1}))
        .unwrap();
    let want16: Vec<u64> = starts
        .iter()
        .map(|&b| text[..b as usize].encode_utf16().count() as u64)
        .collect();
    let got16: Vec<u64> = v["highlights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["start"].as_u64().unwrap())
        .collect();
    assert_eq!(got16, want16);
}
