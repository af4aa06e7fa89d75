//! A save costs what the edit costs: an edit near the end of a big file is saved in place,
//! writing only from the first changed byte (behind a backup of the tail from its block); an
//! edit near the start is saved by rename. Content compared byte for byte with a plain `Vec`
//! model after each save; the undo history still reads the old bytes; nothing is left behind.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use tome_core::in_place::BLOCK;
use tome_core::{Control, Document, SaveChoice, SaveMethod, SaveReport};
use tome_gen::GenConfig;

const SIZE: u64 = 128 << 20;

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tome-"))
        .collect()
}

fn save(doc: &mut Document, choice: SaveChoice) -> SaveReport {
    let mut job = doc.begin_save(None).unwrap();
    job.set_choice(choice);
    let outcome = job.run(&Control::new());
    doc.finish_save(job, outcome).unwrap()
}

fn check_saved(path: &Path, doc: &Document, model: &[u8]) {
    assert!(
        std::fs::read(path).unwrap() == model,
        "the file is the model"
    );
    assert!(doc.view().read(0, doc.len()).unwrap() == model);
    assert!(!doc.is_dirty());
    assert!(leftovers(path.parent().unwrap()).is_empty());
}

#[test]
fn an_edit_near_the_end_is_saved_in_place_from_its_block() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    tome_gen::write_file(&GenConfig::sized(SIZE), &path).unwrap();
    let original = std::fs::read(&path).unwrap();
    let inode = std::fs::metadata(&path).unwrap().ino();
    let control = Control::new();
    let mut doc = Document::open(&path).unwrap();
    doc.wait_for_index(&control).unwrap();
    let mut model = original.clone();

    // Two edits at 95 % and 97 %: one replaces, one inserts (the length changes).
    let at = (SIZE as usize) * 95 / 100 + 123;
    let far = (SIZE as usize) * 97 / 100;
    doc.replace(at..at + 5, "EDIT!").unwrap();
    model.splice(at..at + 5, *b"EDIT!");
    doc.insert(far, "inserted\n").unwrap();
    model.splice(far..far, *b"inserted\n");
    let report = doc.save(None, &control).unwrap();
    assert_eq!(report.method, SaveMethod::InPlace, "{report:?}");
    assert_eq!(report.from, at as u64);
    let start = at as u64 - at as u64 % BLOCK;
    assert_eq!(report.backed_up, SIZE - start);
    assert_eq!(report.total_written(), model.len() as u64 - at as u64);
    assert_eq!(std::fs::metadata(&path).unwrap().ino(), inode, "same inode");
    check_saved(&path, &doc, &model);

    // A second save before the document has moved onto the saved file, then one after it, at
    // an earlier offset (the first save's backup and the file's untouched prefix both read).
    let earlier = (SIZE as usize) * 80 / 100;
    doc.delete(earlier..earlier + 1000).unwrap();
    model.drain(earlier..earlier + 1000);
    let report = doc.save(None, &control).unwrap();
    check_saved(&path, &doc, &model);
    doc.wait_for_index(&control).unwrap();
    doc.poll_index(); // the document moves onto the saved file
    let report2 = {
        let at = (SIZE as usize) * 85 / 100;
        doc.insert(at, "more\n").unwrap();
        model.splice(at..at, *b"more\n");
        doc.save(None, &control).unwrap()
    };
    check_saved(&path, &doc, &model);
    eprintln!("second: {report:?}\nthird: {report2:?}");

    // Undo everything: the history reads the old bytes (from the backups, now unlinked).
    while doc.undo().is_some() {}
    assert!(doc.view().read(0, doc.len()).unwrap() == original);
    doc.save(None, &control).unwrap();
    check_saved(&path, &doc, &original);
    assert_eq!(std::fs::metadata(&path).unwrap().ino(), inode, "same inode");
}

#[test]
fn an_edit_near_the_start_is_saved_by_rename_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    tome_gen::write_file(&GenConfig::sized(SIZE / 2), &path).unwrap();
    let mut model = std::fs::read(&path).unwrap();
    let inode = std::fs::metadata(&path).unwrap().ino();
    let mut doc = Document::open(&path).unwrap();

    let at = model.len() / 100;
    doc.insert(at, "one percent\n").unwrap();
    model.splice(at..at, *b"one percent\n");
    let report = save(&mut doc, SaveChoice::Auto);
    assert_eq!(report.method, SaveMethod::Rename);
    assert_eq!((report.from, report.backed_up), (0, 0));
    assert_eq!(report.total_written(), model.len() as u64);
    check_saved(&path, &doc, &model);
    let inode2 = std::fs::metadata(&path).unwrap().ino();
    assert_ne!(inode2, inode, "renamed");

    // Forced in place: same inode, written from the edit.
    let at = model.len() / 50;
    doc.replace(at..at + 3, "abc").unwrap();
    model.splice(at..at + 3, *b"abc");
    let report = save(&mut doc, SaveChoice::InPlace);
    assert_eq!(report.method, SaveMethod::InPlace);
    assert!(report.from <= at as u64);
    check_saved(&path, &doc, &model);
    assert_eq!(std::fs::metadata(&path).unwrap().ino(), inode2);

    // Forced rename of an edit at the end.
    let at = model.len() - 10;
    doc.insert(at, "end").unwrap();
    model.splice(at..at, *b"end");
    let report = save(&mut doc, SaveChoice::Rename);
    assert_eq!(report.method, SaveMethod::Rename);
    check_saved(&path, &doc, &model);
    assert_ne!(std::fs::metadata(&path).unwrap().ino(), inode2);

    // A small file is always renamed, whatever the edit.
    let small = dir.path().join("small.log");
    std::fs::write(&small, "x\n".repeat(1000)).unwrap();
    let mut doc = Document::open(&small).unwrap();
    doc.insert(1999, "y").unwrap();
    assert_eq!(save(&mut doc, SaveChoice::Auto).method, SaveMethod::Rename);
}

/// A same-length overwrite near the end writes only from the changed byte to the end, and a
/// document equal to the file writes nothing.
#[test]
fn an_unchanged_document_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    tome_gen::write_file(&GenConfig::sized(SIZE / 4), &path).unwrap();
    let original = std::fs::read(&path).unwrap();
    let mut doc = Document::open(&path).unwrap();
    doc.insert(original.len() - 100, "x").unwrap();
    doc.undo().unwrap();
    let report = save(&mut doc, SaveChoice::Auto);
    assert_eq!(report.method, SaveMethod::InPlace);
    assert_eq!(report.from, original.len() as u64);
    assert_eq!(report.total_written(), 0);
    check_saved(&path, &doc, &original);
}

/// The index cache takes a grown file's old extent as unchanged on the strength of a few
/// sampled blocks; an in-place save can change lines between them (here a line break at 95 %
/// becomes a letter, and a line is appended). The save drops the file's entry, so the next
/// open counts again and is exact.
#[test]
fn a_tail_save_does_not_leave_a_stale_cached_index() {
    use std::time::Duration;
    use tome_core::{IndexCache, OnInterruptedSave};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    tome_gen::write_file(&GenConfig::sized(SIZE / 4), &path).unwrap();
    let mut model = std::fs::read(&path).unwrap();
    let cache = IndexCache::open(&dir.path().join("index"), 1 << 30)
        .unwrap()
        .with_racy_margin(Duration::ZERO);
    let control = Control::new();
    let mut doc = Document::open_cached(&path, OnInterruptedSave::Refuse, Some(&cache)).unwrap();
    doc.wait_for_index(&control).unwrap();
    let nl = model.len() * 95 / 100 + memchr_nl(&model[model.len() * 95 / 100..]);
    doc.replace(nl..nl + 1, "X").unwrap();
    model[nl] = b'X';
    let end = model.len();
    doc.insert(end, "appended\n").unwrap();
    model.extend_from_slice(b"appended\n");
    assert_eq!(save(&mut doc, SaveChoice::Auto).method, SaveMethod::InPlace);
    drop(doc);

    let mut doc = Document::open_cached(&path, OnInterruptedSave::Refuse, Some(&cache)).unwrap();
    doc.wait_for_index(&control).unwrap();
    let lines = model.iter().filter(|&&b| b == b'\n').count() + 1;
    assert_eq!(doc.view().line_count().known, lines);
}

fn memchr_nl(bytes: &[u8]) -> usize {
    bytes.iter().position(|&b| b == b'\n').unwrap()
}

/// On a filesystem with reflinks (`TOME_REFLINK_DIR`) a plain save of an edit near the end is
/// a rename save: the kernel clones the unchanged prefix, so it costs the tail there too; an
/// overwrite is written in place, its blocks only.
#[test]
fn on_a_reflink_filesystem_a_plain_save_renames() {
    let Some(dir) = std::env::var_os("TOME_REFLINK_DIR") else {
        eprintln!("skipped: TOME_REFLINK_DIR (a directory on XFS or btrfs) is not set");
        return;
    };
    let dir = tempfile::tempdir_in(dir).unwrap();
    let path = dir.path().join("big.log");
    tome_gen::write_file(&GenConfig::sized(SIZE / 4), &path).unwrap();
    let mut model = std::fs::read(&path).unwrap();
    let mut doc = Document::open(&path).unwrap();
    let at = model.len() * 95 / 100;
    doc.insert(at, "edit\n").unwrap();
    model.splice(at..at, *b"edit\n");
    assert_eq!(save(&mut doc, SaveChoice::Auto).method, SaveMethod::Rename);
    check_saved(&path, &doc, &model);
    // Forced in place works there too (the backup is a clone).
    doc.insert(at, "again\n").unwrap();
    model.splice(at..at, *b"again\n");
    assert_eq!(
        save(&mut doc, SaveChoice::InPlace).method,
        SaveMethod::InPlace
    );
    check_saved(&path, &doc, &model);
    // An overwrite (same length) in the middle: its block in place, where a rename would copy
    // the whole unaligned rest of the file.
    let mid = model.len() / 2;
    doc.replace(mid..mid + 5, "XXXXX").unwrap();
    model[mid..mid + 5].copy_from_slice(b"XXXXX");
    let report = save(&mut doc, SaveChoice::Auto);
    assert_eq!(
        (report.method, report.from, report.total_written()),
        (SaveMethod::InPlace, mid as u64, 5),
        "{report:?}"
    );
    check_saved(&path, &doc, &model);
}
