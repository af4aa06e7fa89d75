//! The line-wise changes editors' line commands use, over the protocol: `tome/replaceAll` in a
//! range of lines and of the first match per line (`:10,20s/a/b/`), its dry run (the `n`
//! flag), and `tome/deleteLines` (`:g/pat/d`, `:v/pat/d`), each one undo step.

use serde_json::{json, Value};
use tome_e2e::Server;

fn text(s: &mut Server, doc: u64) -> String {
    let info = s.request("tome/info", json!({"doc": doc})).unwrap();
    let size = info["size"].as_u64().unwrap();
    let r = s
        .request(
            "tome/getText",
            json!({"doc": doc, "offsets": {"start": 0, "end": size}}),
        )
        .unwrap();
    r["text"].as_str().unwrap().to_owned()
}

#[test]
fn scoped_replace_all_and_delete_lines_over_the_protocol() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.log");
    let original = "a a\nb a\r\na b\nb b\n";
    std::fs::write(&path, original).unwrap();
    let mut s = Server::ready();
    let doc = s.request("tome/open", json!({"path": path})).unwrap()["doc"]
        .as_u64()
        .unwrap();
    // Lines 2-3 (offsets 4..13), first `a` of each.
    let q = json!({"pattern": "a"});
    let dry = s
        .request("tome/replaceAll", json!({"doc": doc, "query": q, "replacement": "X", "offsets": {"start": 4, "end": 13}, "perLine": "first", "dryRun": true}))
        .unwrap();
    assert_eq!(
        (
            dry["count"].clone(),
            dry["lines"].clone(),
            dry["version"].clone()
        ),
        (json!(2), json!(2), json!(0))
    );
    assert_eq!(text(&mut s, doc), original, "a dry run changes nothing");
    let r = s
        .request("tome/replaceAll", json!({"doc": doc, "query": q, "replacement": "X", "offsets": {"start": 4, "end": 13}, "perLine": "first"}))
        .unwrap();
    assert_eq!(r["count"], 2);
    assert_eq!(r["lastLine"], 2, "the last replacement is on line 2: {r}");
    assert_eq!(dry["lastLine"], Value::Null);
    assert_eq!(text(&mut s, doc), "a a\nb X\r\nX b\nb b\n");
    // Every line holding a `b` goes, as one undo step; then those holding none.
    let d: Value = s
        .request(
            "tome/deleteLines",
            json!({"doc": doc, "query": {"pattern": "b"}}),
        )
        .unwrap();
    assert_eq!(d["count"], 3);
    assert_eq!(d["lastLine"], 1, "after the last deleted line: the end {d}");
    assert_eq!(text(&mut s, doc), "a a\n");
    s.request("tome/undo", json!({"doc": doc})).unwrap();
    assert_eq!(text(&mut s, doc), "a a\nb X\r\nX b\nb b\n");
    let d = s
        .request("tome/deleteLines", json!({"doc": doc, "query": {"pattern": "X"}, "invert": true, "offsets": {"start": 0, "end": 18}}))
        .unwrap();
    assert_eq!(d["count"], 2);
    assert_eq!(text(&mut s, doc), "b X\r\nX b\n");
    assert_eq!(
        s.error_code(
            "tome/deleteLines",
            json!({"doc": doc, "query": {"pattern": "X"}, "offsets": {"start": 5, "end": 1}})
        ),
        -32602
    );
}
