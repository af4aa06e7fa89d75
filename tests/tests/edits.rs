//! 10 000 edits sent back to back without waiting for replies: every one must apply, in
//! order, and the result must equal a model of the same edits.

use serde_json::json;
use tome_e2e::Server;

/// A tiny deterministic generator (xorshift), so the test needs no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// The (line, UTF-16 column) of byte `at` in `text`.
fn position(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at];
    let line = before.matches('\n').count();
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, text[start..at].encode_utf16().count())
}

fn boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[test]
fn ten_thousand_pipelined_edits_match_a_model() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("edits.txt");
    let mut model = String::new();
    for i in 0..200 {
        model.push_str(&format!("line {i} é🦀 some text\n"));
    }
    std::fs::write(&path, &model).unwrap();
    let mut s = Server::ready();
    let doc = s.request("tome/open", json!({"path": path})).unwrap()["doc"].clone();

    let pieces = ["a", "é", "🦀", "\n", "xyz", "", "line\nbreak"];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut batch = Vec::new();
    let mut ids = Vec::new();
    let mut version = 0u64;
    let mut expected = Vec::new();
    for i in 0..10_000u64 {
        let start = boundary(&model, rng.below(model.len() + 1));
        let end = boundary(&model, (start + rng.below(6)).min(model.len()));
        let text = pieces[rng.below(pieces.len())];
        // Half by positions (UTF-16 columns), half by byte offsets.
        let edit = if i % 2 == 0 {
            let (sl, sc) = position(&model, start);
            let (el, ec) = position(&model, end);
            json!({"range": {"start": {"line": sl, "character": sc}, "end": {"line": el, "character": ec}}, "text": text})
        } else {
            json!({"offsets": {"start": start, "end": end}, "text": text})
        };
        model.replace_range(start..end, text);
        let based_on = version;
        // A batch that changes nothing does not make a new version.
        if start != end || !text.is_empty() {
            version += 1;
        }
        expected.push(version);
        let (id, bytes) = s.request_bytes(
            "tome/edit",
            json!({"doc": doc, "version": based_on, "edits": [edit]}),
        );
        ids.push(id);
        batch.extend_from_slice(&bytes);
        if batch.len() > 64 * 1024 {
            s.write_raw(&batch);
            batch.clear();
        }
    }
    s.write_raw(&batch);
    for (i, id) in ids.into_iter().enumerate() {
        let r = s
            .wait(id)
            .unwrap_or_else(|e| panic!("edit {i} failed: {e}"));
        assert_eq!(r["version"], expected[i]);
    }
    // Read back through viewports…
    let mut shown = Vec::new();
    let mut first = 0;
    loop {
        let v = s
            .request(
                "tome/viewport",
                json!({"doc": doc, "first": first, "count": 1000}),
            )
            .unwrap();
        let lines = v["lines"].as_array().unwrap();
        for l in lines {
            assert_eq!(l["cutAfter"], false);
            shown.push(l["text"].as_str().unwrap().to_owned());
        }
        if lines.len() < 1000 {
            break;
        }
        first += 1000;
    }
    assert_eq!(shown.join("\n"), model);
    // …and through a save.
    s.request("tome/save", json!({"doc": doc})).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), model);
    assert_eq!(s.shutdown(), Some(0));
}
