//! Malformed input: each is answered, and the server goes on serving.

use serde_json::{json, Value};
use tome_e2e::{frame, Server};

/// The server still answers a normal request.
fn alive(s: &mut Server) {
    let e = s.request("tome/info", json!({"doc": 12345})).unwrap_err();
    assert_eq!(e["code"], -33001);
}

fn parse_error(s: &mut Server) -> Value {
    let r = s.reply_to(&Value::Null);
    assert_eq!(r["error"]["code"], -32700, "{r}");
    r
}

#[test]
fn bad_frames_are_answered_and_skipped() {
    let mut s = Server::ready();
    s.write_raw(b"Content-Length: abc\r\n\r\n");
    parse_error(&mut s);
    alive(&mut s);
    s.write_raw(b"hello world\r\nContent-Length: 2\r\n\r\n{}");
    parse_error(&mut s);
    alive(&mut s);
    s.write_raw(b"Content-Type: application/json\r\n\r\n");
    let r = parse_error(&mut s);
    assert!(r["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Content-Length"));
    alive(&mut s);
    // Lower-case header names are accepted.
    let body = br#"{"jsonrpc":"2.0","id":900,"method":"tome/info","params":{"doc":9}}"#;
    s.write_raw(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
    s.write_raw(body);
    assert_eq!(s.reply_to(&json!(900))["error"]["code"], -33001);
    // A length shorter than the body: the cut body is a parse error, and the leftover bytes
    // in front of the next header are skipped.
    s.write_raw(b"Content-Length: 20\r\n\r\n");
    s.write_raw(body);
    parse_error(&mut s);
    alive(&mut s);
    let mut long = vec![b'x'; 100_000];
    long.extend_from_slice(b"\r\n\r\n");
    s.write_raw(&long);
    parse_error(&mut s);
    alive(&mut s);
}

#[test]
fn oversized_message_is_refused_without_being_buffered() {
    let mut s = Server::ready();
    // A well-framed message over the 64 MiB limit, sent whole: it is answered, and its 100 MiB
    // are read past (never held) while the server looks for the next header.
    let n = 100 << 20;
    s.write_raw(format!("Content-Length: {n}\r\n\r\n").as_bytes());
    let chunk = vec![b' '; 1 << 20];
    for _ in 0..100 {
        s.write_raw(&chunk);
    }
    let r = parse_error(&mut s);
    assert!(
        r["error"]["message"].as_str().unwrap().contains("limit"),
        "{r}"
    );
    alive(&mut s);
    // An absurd length (over u64) is a bad header.
    s.write_raw(b"Content-Length: 99999999999999999999999\r\n\r\n");
    parse_error(&mut s);
    alive(&mut s);
}

#[test]
fn over_limit_length_is_answered_at_once_and_reading_resumes_at_the_next_header() {
    let mut s = Server::ready();
    // 1 TB announced. The server must neither wait for that many bytes nor skip them (that
    // would swallow every later frame): it answers before any byte of the body arrives...
    s.write_raw(b"Content-Length: 1000000000000\r\n\r\n");
    let r = parse_error(&mut s);
    assert!(
        r["error"]["message"].as_str().unwrap().contains("limit"),
        "{r}"
    );
    // ...then treats what follows as untrusted and reads on from the next `Content-Length`
    // header. Text that only looks like one (in a JSON string, where line breaks are escaped;
    // not followed by a number) is read past without a reply of its own.
    s.write_raw(
        br#"{"jsonrpc":"2.0","id":41,"method":"tome/edit","params":{"text":"Content-Length: 12\r\n\r\n{}","#,
    );
    s.write_raw(b"\n  \"more\": \"Content-Length:\", \"content-length\": 7\n");
    alive(&mut s);
    assert_eq!(
        s.reply_now(&Value::Null),
        None,
        "untrusted bytes were answered"
    );
    assert_eq!(s.reply_now(&json!(41)), None);
    // Again, with the next frame right after the last byte sent (no line break before it).
    s.write_raw(b"Content-Length: 999999999999\r\n\r\n{\"jsonrpc\":\"2.0\"");
    let body = br#"{"jsonrpc":"2.0","id":901,"method":"tome/info","params":{"doc":9}}"#;
    s.write_raw(&frame(body));
    parse_error(&mut s);
    assert_eq!(s.reply_to(&json!(901))["error"]["code"], -33001);
    alive(&mut s);
    assert_eq!(s.reply_now(&Value::Null), None);
}

#[test]
fn ids_that_are_objects_arrays_or_booleans_are_invalid_and_not_echoed() {
    let mut s = Server::ready();
    for id in [
        json!({"a": 1}),
        json!([1, 2]),
        json!([]),
        json!(true),
        json!(false),
    ] {
        s.send_value(
            &json!({"jsonrpc": "2.0", "id": id, "method": "tome/info", "params": {"doc": 1}}),
        );
        // The reader answers an invalid message before it reads the next one, so once the
        // next request is answered, the reply to this one has arrived.
        alive(&mut s);
        let r = s
            .reply_now(&Value::Null)
            .unwrap_or_else(|| panic!("no `id: null` reply to a request with id {id}"));
        assert_eq!(r["error"]["code"], -32600, "{r}");
        assert_eq!(s.reply_now(&id), None, "the id {id} was echoed");
    }
    // Also in a message that is not a request for another reason.
    s.send_value(&json!({"jsonrpc": "2.0", "id": {"x": [1]}}));
    alive(&mut s);
    assert_eq!(s.reply_now(&Value::Null).unwrap()["error"]["code"], -32600);
    // A number or a string is a usable id: echoed with the error (Tome takes integer ids only).
    s.send_value(
        &json!({"jsonrpc": "2.0", "id": 1.5, "method": "tome/info", "params": {"doc": 1}}),
    );
    assert_eq!(s.reply_to(&json!(1.5))["error"]["code"], -32600);
    s.send_value(
        &json!({"jsonrpc": "2.0", "id": "s-1", "method": "tome/info", "params": {"doc": 1}}),
    );
    assert_eq!(s.reply_to(&json!("s-1"))["error"]["code"], -33001);
    alive(&mut s);
}

#[test]
fn bad_json_and_bad_messages() {
    let mut s = Server::ready();
    for body in [
        &b"{\"jsonrpc\":"[..],
        b"\xFF\xFE{}",
        b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tome/info\",\"params\":{\"doc\":\"\xC3\x28\"}}",
        b"",
    ] {
        s.write_raw(&frame(body));
        parse_error(&mut s);
        alive(&mut s);
    }
    // Valid JSON, but not a message: -32600, with the id when there is one.
    for (v, id) in [
        (json!([1, 2]), Value::Null),
        (json!(7), Value::Null),
        (json!({"jsonrpc": "2.0", "id": 31}), json!(31)),
        (
            json!({"jsonrpc": "1.0", "id": 32, "method": "tome/info"}),
            json!(32),
        ),
        (json!({"jsonrpc": "2.0", "id": 33, "method": 5}), json!(33)),
    ] {
        s.send_value(&v);
        let r = s.reply_to(&id);
        assert_eq!(r["error"]["code"], -32600, "{v} → {r}");
        alive(&mut s);
    }
}

#[test]
fn wrong_params_and_unknown_methods() {
    let mut s = Server::ready();
    assert_eq!(s.error_code("tome/viewport", json!({"doc": true})), -32602);
    assert_eq!(s.error_code("tome/viewport", json!([1, 2, 3])), -32602);
    assert_eq!(
        s.error_code("tome/edit", json!({"doc": 1, "version": 0, "edits": "x"})),
        -32602
    );
    assert_eq!(s.error_code("tome/open", Value::Null), -32602);
    let e = s.request("tome/frobnicate", json!({})).unwrap_err();
    assert_eq!(
        (e["code"].clone(), e["data"].clone()),
        (json!(-32601), json!("tome/frobnicate"))
    );
    // A request for an unknown `$/…` method is answered too (the framework drops those, as it
    // may for notifications; found by the rpc_dispatch fuzz target).
    assert_eq!(s.error_code("$/tome/frobnicate", json!({})), -32601);
    assert_eq!(s.error_code("$/setTrace", json!({"value": "off"})), -32601);
    // Unknown notifications and cancels of unknown ids are ignored.
    s.notify("$/tome/frobnicate", json!({}));
    s.notify("tome/whatever", json!({}));
    s.cancel(987654);
    alive(&mut s);
    assert_eq!(s.shutdown(), Some(0));
}
