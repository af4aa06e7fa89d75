//! A file truncated under an open document: the process survives (no SIGBUS death), the
//! document answers "file changed on disk" instead of showing zeros, and other documents are
//! unaffected. A file replaced by rename keeps the old mapping intact.

use std::fs::OpenOptions;

use tome_core::{Control, Direction, Document, Error, Matcher, Query};
use tome_gen::GenConfig;

#[test]
fn truncation_under_the_mapping_is_contained() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim.log");
    let other = dir.path().join("other.log");
    tome_gen::write_file(
        &GenConfig {
            size: 8 << 20,
            ..Default::default()
        },
        &victim,
    )
    .unwrap();
    tome_gen::write_file(
        &GenConfig {
            size: 1 << 20,
            seed: 3,
            ..Default::default()
        },
        &other,
    )
    .unwrap();
    let control = Control::new();
    let mut doc = Document::open(&victim).unwrap();
    let mut bystander = Document::open(&other).unwrap();
    doc.wait_for_index(&control).unwrap();
    bystander.wait_for_index(&control).unwrap();
    assert!(doc.view().lines(0, 3, None).is_ok());

    // Log rotation with copytruncate: the file is cut to nothing while we have it mapped.
    OpenOptions::new()
        .write(true)
        .open(&victim)
        .unwrap()
        .set_len(0)
        .unwrap();

    let far = doc.len() - 100;
    let err = doc.view().lines_around(far, 0, 5, None).unwrap_err();
    assert!(matches!(err, Error::FileChanged(_)), "{err}");
    assert!(err.to_string().contains("truncated"), "{err}");
    assert!(doc.is_damaged());
    // Every reader refuses now, searches and saves included.
    assert!(matches!(doc.view().read(0, 10), Err(Error::FileChanged(_))));
    let m = Matcher::new(&Query {
        pattern: "seq=".into(),
        regex: false,
        case_insensitive: false,
    })
    .unwrap();
    assert!(matches!(
        doc.view().find(&m, 0, Direction::Forward, false, &control),
        Err(Error::FileChanged(_))
    ));
    let copy = dir.path().join("copy.log");
    assert!(matches!(
        doc.save(Some(&copy), &control),
        Err(Error::FileChanged(_))
    ));
    assert!(!copy.exists(), "a failed save leaves nothing behind");

    // The other document is unaffected.
    assert!(!bystander.is_damaged());
    let lines = bystander.view().lines(1000, 3, None).unwrap();
    assert!(lines[0].text.contains("seq=1000"));
}

#[test]
fn replace_by_rename_keeps_the_old_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.log");
    std::fs::write(&path, "old one\nold two\n").unwrap();
    let doc = Document::open(&path).unwrap();
    let fresh = dir.path().join("b.log");
    std::fs::write(&fresh, "new\n").unwrap();
    std::fs::rename(&fresh, &path).unwrap();
    assert_eq!(
        doc.view().read(0, doc.len()).unwrap(),
        b"old one\nold two\n"
    );
    assert!(!doc.is_damaged());
}
