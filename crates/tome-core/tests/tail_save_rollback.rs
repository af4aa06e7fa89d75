//! An in-place save of a file's tail that fails half way (an injected I/O error after the
//! first piece, as a full disk would) copies the backed-up tail back and cuts the file to its
//! old length: wholly the old file, same inode, same time; the document stays dirty and
//! leaves no backup. Alone in its test binary: it sets `TOME_TEST_SAVE_FAULT` for the whole
//! process.

use std::os::unix::fs::MetadataExt;

use tome_core::{Control, Document, Error, SaveMethod};
use tome_gen::GenConfig;

#[test]
fn a_failed_tail_save_restores_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.log");
    let size = 64usize << 20;
    tome_gen::write_file(&GenConfig::sized(size as u64), &path).unwrap();
    let original = std::fs::read(&path).unwrap();
    let before = std::fs::metadata(&path).unwrap();

    let control = Control::new();
    let mut doc = Document::open(&path).unwrap();
    doc.wait_for_index(&control).unwrap();
    // Shrinks the file: the failed write must also be cut back to the old length… after it
    // grew it: an insertion first.
    doc.insert(size * 90 / 100, "a piece written, then the disk fails\n")
        .unwrap();
    doc.delete(size * 95 / 100..size * 99 / 100).unwrap();
    let edited = doc.view().read(0, doc.len()).unwrap();

    std::env::set_var("TOME_TEST_SAVE_FAULT", "fail-mid-write");
    let err = doc.save(None, &control).unwrap_err();
    std::env::remove_var("TOME_TEST_SAVE_FAULT");
    assert!(matches!(err, Error::Io { .. }), "{err}");
    assert!(err.to_string().contains("injected"), "{err}");

    let after = std::fs::metadata(&path).unwrap();
    assert!(
        std::fs::read(&path).unwrap() == original,
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

    // The next save goes through (by rename: the document's mapping of the tail was moved
    // onto the backup, so it no longer vouches for the file's bytes).
    let report = doc.save(None, &control).unwrap();
    assert_eq!(report.method, SaveMethod::Rename);
    assert!(std::fs::read(&path).unwrap() == edited);
}
