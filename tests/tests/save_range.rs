//! A plain `tome/save` of a file of hundreds of MiB costs what the edit costs: an edit near
//! the end is written in place from the first changed byte (the reply says `inPlace`, where
//! it started and how much it wrote), an edit near the start by rename; `method` forces
//! either. The saved bytes are compared with the expected ones after every save.

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
    let mut s = Server::ready();
    let doc = s.request("tome/open", json!({"path": path})).unwrap()["doc"]
        .as_u64()
        .unwrap();
    let mut version = 0;

    // At 95 %: in place, from the edit.
    let at = size * 95 / 100 + 7;
    edit(&mut s, doc, &mut version, at, at + 4, "95%!");
    model.splice(at..at + 4, *b"95%!");
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
        .filter(|n| n.contains(".tome-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(s.shutdown(), Some(0));
}
