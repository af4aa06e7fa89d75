//! A plain `tome/save` of a file of hundreds of MiB costs what the edit costs: an edit near
//! the end is written in place from the first changed byte (the reply says `inPlace`, where
//! it started and how much it wrote), an edit that keeps the length writes only its bytes
//! (behind a backup of their blocks) wherever it is, an insertion near the start is saved by
//! rename; `method` forces either. The saved bytes are compared with the expected ones after
//! every save.

use std::os::unix::fs::MetadataExt;

use serde_json::{json, Value};
use tome_e2e::Server;

fn edit(s: &mut Server, doc: u64, version: &mut u64, start: usize, end: usize, text: &str) {
    let r = s
        .request(
            "tome/edit",
            json!({"doc": doc, "version": *version, "edits": [{"offsets": {"start": start, "end": end}, "text": text}]}),
        )
        .unwrap();
    *version = r["version"].as_u64().unwrap();
}

#[test]
fn a_save_writes_from_the_first_changed_byte() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    let size = 320usize << 20;
    tome_gen::write_file(
        &tome_gen::GenConfig {
            size: size as u64,
            ..Default::default()
        },
        &path,
    )
    .unwrap();
    let inode = std::fs::metadata(&path).unwrap().ino();
    let mut model = std::fs::read(&path).unwrap();
    // The saved file's index is slowed down (50 ms per MiB: 16 s), so that every save after the
    // first comes before the document has moved onto the file the previous one wrote, and
    // must still cost only its own edit.
    let state = dir.path().join("state");
    let mut s = Server::start_with_env(&state, &[("TOME_TEST_SLOW_INDEX", "big.log:50")]);
    s.request("initialize", json!({"capabilities": {}}))
        .unwrap();
    let doc = s.request("tome/open", json!({"path": path})).unwrap()["doc"]
        .as_u64()
        .unwrap();
    let mut version = 0;

    // At 95 %: in place, from the edit.
    let at = size * 95 / 100 + 7;
    edit(&mut s, doc, &mut version, at, at, "95%!");
    model.splice(at..at, *b"95%!");
    let r: Value = s.request("tome/save", json!({"doc": doc})).unwrap();
    assert_eq!(r["method"], "inPlace", "{r}");
    assert_eq!(r["from"], at as u64, "{r}");
    assert_eq!(r["written"], (model.len() - at) as u64, "{r}");
    assert_eq!(r["bytes"], model.len() as u64, "{r}");
    let backed_up = r["backedUp"].as_u64().unwrap();
    assert!(
        backed_up >= (model.len() - at) as u64 && backed_up < (size as u64) / 16,
        "{r}"
    );
    assert!(std::fs::read(&path).unwrap() == model, "saved bytes");
    assert_eq!(std::fs::metadata(&path).unwrap().ino(), inode);

    // Same-length overwrites at 1 %, 50 % and 96 %, saved right after: only their bytes are
    // written, behind a backup of their 64 KiB blocks (the 95 % insertion is not written
    // again).
    let block = 64u64 << 10;
    let spots = [size / 100 + 3, size / 2 + 11, size * 96 / 100];
    for (i, &at) in spots.iter().enumerate() {
        let text = format!("[{i}]");
        edit(&mut s, doc, &mut version, at, at + 3, &text);
        model[at..at + 3].copy_from_slice(text.as_bytes());
    }
    let r: Value = s.request("tome/save", json!({"doc": doc})).unwrap();
    assert_eq!(r["method"], "inPlace", "{r}");
    assert_eq!(r["from"], spots[0] as u64, "{r}");
    assert_eq!(r["written"], 9, "{r}");
    assert_eq!(r["backedUp"], 3 * block, "{r}");
    assert!(std::fs::read(&path).unwrap() == model, "saved bytes");
    assert_eq!(std::fs::metadata(&path).unwrap().ino(), inode);

    // At 1 %: by rename, the whole file.
    let at = size / 100;
    edit(&mut s, doc, &mut version, at, at, "one percent\n");
    model.splice(at..at, *b"one percent\n");
    let r = s.request("tome/save", json!({"doc": doc})).unwrap();
    assert_eq!(r["method"], "rename", "{r}");
    assert_eq!(
        (r["from"].clone(), r["backedUp"].clone()),
        (json!(0), json!(0))
    );
    assert_eq!(r["written"], model.len() as u64, "{r}");
    assert!(std::fs::read(&path).unwrap() == model, "saved bytes");
    let inode = std::fs::metadata(&path).unwrap().ino();

    // Forced in place at 2 %, forced rename at the end.
    let at = size / 50;
    edit(&mut s, doc, &mut version, at, at + 100, "");
    model.drain(at..at + 100);
    let r = s
        .request("tome/save", json!({"doc": doc, "method": "inPlace"}))
        .unwrap();
    assert_eq!(r["method"], "inPlace", "{r}");
    assert!(r["from"].as_u64().unwrap() <= at as u64, "{r}");
    assert!(std::fs::read(&path).unwrap() == model, "saved bytes");
    assert_eq!(std::fs::metadata(&path).unwrap().ino(), inode);
    let at = model.len() - 3;
    edit(&mut s, doc, &mut version, at, at, "end");
    model.splice(at..at, *b"end");
    let r = s
        .request("tome/save", json!({"doc": doc, "method": "rename"}))
        .unwrap();
    assert_eq!(r["method"], "rename", "{r}");
    assert!(std::fs::read(&path).unwrap() == model, "saved bytes");
    assert_ne!(std::fs::metadata(&path).unwrap().ino(), inode);

    assert_eq!(
        s.error_code("tome/save", json!({"doc": doc, "method": "sideways"})),
        -32602
    );
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tome-") && n != "state")
        .collect();
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(s.shutdown(), Some(0));
}
