//! Saving a file with other hard links writes it in place: the inode, every link, the mode and
//! the extended attributes stay; the undo history still reads the old bytes afterwards; no
//! backup is left behind. On a filesystem with reflinks (`TOME_REFLINK_DIR`, set by `.ci/run`
//! where it can mount one), a document is a snapshot that outside writes cannot reach.

use std::fs::OpenOptions;
use std::os::unix::fs::{FileExt, MetadataExt, PermissionsExt};
use std::path::Path;

use tome_core::{Control, DiskChange, Document};
use tome_gen::{GenConfig, Rng};

const SIZE: u64 = 128 << 20;

fn generate(path: &Path, size: u64) -> Vec<u8> {
    tome_gen::write_file(&GenConfig::sized(size), path).unwrap();
    std::fs::read(path).unwrap()
}

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tome-"))
        .collect()
}

/// Random edits over the whole document, applied to `doc` and to `model` alike.
fn edit(doc: &mut Document, model: &mut Vec<u8>, rng: &mut Rng, count: usize, grow: bool) {
    for i in 0..count {
        let at = rng.below(model.len());
        if grow || i % 2 == 0 {
            let text = format!("<edit {i}>\n").repeat(1 + rng.below(50));
            doc.insert(at, &text).unwrap();
            model.splice(at..at, text.bytes());
        } else {
            let end = (at + rng.below(1 << 20)).min(model.len());
            doc.delete(at..end).unwrap();
            model.drain(at..end);
        }
        doc.break_undo_group();
    }
}

#[test]
fn a_hard_linked_file_is_saved_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.log");
    let other = dir.path().join("other-name.log");
    let original = generate(&path, SIZE);
    std::fs::hard_link(&path, &other).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let has_xattr = xattr::set(&path, "user.tome-test", b"kept").is_ok();
    let inode = std::fs::metadata(&path).unwrap().ino();

    let control = Control::new();
    let mut doc = Document::open(&path).unwrap();
    doc.wait_for_index(&control).unwrap();
    let mut model = original.clone();
    let mut rng = Rng::new(7);

    // Shrinking (deletions of up to 1 MiB), then growing.
    for grow in [false, true] {
        edit(&mut doc, &mut model, &mut rng, 200, grow);
        let report = doc.save(None, &control).unwrap();
        assert_eq!(report.bytes, model.len() as u64);
        for name in [&path, &other] {
            let meta = std::fs::metadata(name).unwrap();
            assert_eq!(meta.ino(), inode, "{}: same inode", name.display());
            assert_eq!(meta.nlink(), 2);
            assert_eq!(meta.mode() & 0o777, 0o640, "mode kept");
            assert!(std::fs::read(name).unwrap() == model, "{}", name.display());
        }
        if has_xattr {
            assert_eq!(
                xattr::get(&other, "user.tome-test").unwrap().as_deref(),
                Some(&b"kept"[..])
            );
        }
        assert!(
            leftovers(dir.path()).is_empty(),
            "{:?}",
            leftovers(dir.path())
        );
        assert!(!doc.is_dirty());
        assert!(doc.view().read(0, doc.len()).unwrap() == model);
        assert_eq!(doc.disk_change(), DiskChange::Unchanged, "own save");
    }

    // The history reads the old bytes from the (now unlinked) backups: undo everything.
    while doc.undo().is_some() {}
    assert!(
        doc.view().read(0, doc.len()).unwrap() == original,
        "undo after in-place saves restores the original"
    );
    doc.save(None, &control).unwrap();
    assert!(std::fs::read(&other).unwrap() == original);
    assert_eq!(std::fs::metadata(&other).unwrap().ino(), inode);
}

/// What a neighbour can plant: a complete-looking backup of the file, with its time, under the
/// name an interrupted save would leave, with the file "half overwritten". Without a record
/// of it in the state directory it is not ours: reported, never copied back, never removed.
#[test]
fn a_backup_without_a_record_is_reported_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.log");
    generate(&path, 8 << 20);
    let link = dir.path().join("link");
    std::fs::hard_link(&path, &link).unwrap();
    let meta = std::fs::metadata(&path).unwrap();
    let backup = dir
        .path()
        .join(format!(".data.log.tome-backup.{}", dead_pid()));
    std::fs::copy(&path, &backup).unwrap();
    let times = std::fs::FileTimes::new().set_modified(meta.modified().unwrap());
    std::fs::File::options()
        .write(true)
        .open(&backup)
        .unwrap()
        .set_times(times)
        .unwrap();
    let f = OpenOptions::new().write(true).open(&path).unwrap();
    f.write_all_at(&vec![b'#'; 3 << 20], 0).unwrap();
    f.set_len(5 << 20).unwrap();
    drop(f);
    let now = std::fs::read(&path).unwrap();

    // Opened through its other name: the plant is found all the same, and only reported.
    let mut doc = Document::open(&link).unwrap();
    doc.wait_for_index(&Control::new()).unwrap();
    assert!(
        std::fs::read(&path).unwrap() == now,
        "the file is as it was"
    );
    assert!(doc.view().read(0, doc.len()).unwrap() == now);
    assert!(backup.exists(), "left alone");
    let ignored = doc.ignored_backups();
    assert_eq!(ignored.len(), 1);
    assert_eq!(ignored[0].path, backup);
    assert!(
        ignored[0].reason.contains("no record"),
        "{}",
        ignored[0].reason
    );
}

/// A pid no process has (pids stay below 2^22 on Linux).
fn dead_pid() -> u32 {
    (1u32 << 22) + 17
}

#[test]
fn a_snapshot_on_a_reflink_filesystem_is_immune_to_outside_writes() {
    let Some(dir) = std::env::var_os("TOME_REFLINK_DIR") else {
        eprintln!("skipped: TOME_REFLINK_DIR (a directory on XFS or btrfs) is not set");
        return;
    };
    let dir = tempfile::tempdir_in(dir).unwrap();
    let path = dir.path().join("rotating.log");
    let original = generate(&path, 64 << 20);
    let control = Control::new();
    let mut doc = Document::open(&path).unwrap();
    assert!(doc.is_snapshot(), "reflink snapshot taken at open");
    doc.wait_for_index(&control).unwrap();

    // Rewritten in place, then truncated (copytruncate): the document keeps its content.
    let f = OpenOptions::new().write(true).open(&path).unwrap();
    f.write_all_at(&vec![b'X'; 1 << 20], 10 << 20).unwrap();
    assert_eq!(doc.disk_change(), DiskChange::Rewritten);
    f.set_len(1000).unwrap();
    assert!(matches!(
        doc.disk_change(),
        DiskChange::Truncated { len: 1000 }
    ));
    assert!(doc.view().read(0, doc.len()).unwrap() == original);
    assert!(!doc.is_damaged());

    // "Keep mine": saving over the changed file writes the snapshot's bytes.
    doc.insert(0, "kept\n").unwrap();
    doc.save(None, &control).unwrap();
    let saved = std::fs::read(&path).unwrap();
    assert_eq!(&saved[..5], b"kept\n");
    assert!(saved[5..] == original[..]);
}
