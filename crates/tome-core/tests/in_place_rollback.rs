//! An in-place save that fails half way (an injected I/O error after the first piece, as a
//! full disk would) puts the old file back, keeps the document dirty and leaves no backup.
//! Alone in its test binary: it sets `TOME_TEST_SAVE_FAULT` for the whole process.

use std::os::unix::fs::MetadataExt;

use tome_core::{Control, Document, Error};
use tome_gen::GenConfig;

#[test]
fn a_failed_in_place_save_restores_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.log");
    let link = dir.path().join("link.log");
    tome_gen::write_file(&GenConfig::sized(64 << 20), &path).unwrap();
    std::fs::hard_link(&path, &link).unwrap();
    let original = std::fs::read(&path).unwrap();
    let before = std::fs::metadata(&path).unwrap();

    let control = Control::new();
    let mut doc = Document::open(&path).unwrap();
    doc.wait_for_index(&control).unwrap();
    doc.insert(0, "first piece written, then the disk fails\n")
        .unwrap();
    doc.delete(1000..(32 << 20)).unwrap();
    let edited = doc.view().read(0, doc.len()).unwrap();

    std::env::set_var("TOME_TEST_SAVE_FAULT", "fail-mid-write");
    let err = doc.save(None, &control).unwrap_err();
    std::env::remove_var("TOME_TEST_SAVE_FAULT");
    assert!(matches!(err, Error::Io { .. }), "{err}");
    assert!(err.to_string().contains("injected"), "{err}");

    let after = std::fs::metadata(&link).unwrap();
    assert!(
        std::fs::read(&link).unwrap() == original,
        "wholly the old file"
    );
    assert_eq!((after.ino(), after.size()), (before.ino(), before.size()));
    assert_eq!(after.mtime_nsec(), before.mtime_nsec(), "with its old time");
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().contains(".tome-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    assert!(doc.is_dirty(), "nothing was saved");
    assert!(doc.view().read(0, doc.len()).unwrap() == edited);

    // The next save goes through.
    doc.save(None, &control).unwrap();
    assert!(std::fs::read(&link).unwrap() == edited);
}
