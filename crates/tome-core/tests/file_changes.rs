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
    tome_gen::write_file(&GenConfig::sized(8 << 20), &victim).unwrap();
    tome_gen::write_file(
        &GenConfig {
            seed: 3,
            ..GenConfig::sized(1 << 20)
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
    if doc.is_snapshot() {
        // On a reflink filesystem the document reads its snapshot: nothing to contain.
        assert!(doc.view().lines_around(far, 0, 5, None).is_ok());
        assert!(!doc.is_damaged());
        return;
    }
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

/// The mutation matrix, on the disk filesystem, on tmpfs, and on a reflink filesystem where
/// `TOME_REFLINK_DIR` names one (documents there are snapshots): each change is classified.
#[test]
fn changes_on_disk_are_classified_on_disk_and_tmpfs() {
    use std::io::Write;
    use tome_core::DiskChange;
    let mut roots = vec![tempfile::tempdir().unwrap()];
    if std::path::Path::new("/dev/shm").is_dir() {
        roots.push(tempfile::tempdir_in("/dev/shm").unwrap());
    }
    if let Some(reflink) = std::env::var_os("TOME_REFLINK_DIR") {
        roots.push(tempfile::tempdir_in(reflink).unwrap());
    }
    for root in &roots {
        let dir = root.path();
        let cfg = GenConfig::sized(2 << 20);
        let fresh = |name: &str| {
            let p = dir.join(name);
            tome_gen::write_file(&cfg, &p).unwrap();
            let doc = Document::open(&p).unwrap();
            (p, doc)
        };
        let (p, doc) = fresh("same");
        assert_eq!(doc.disk_change(), DiskChange::Unchanged);
        drop(p);

        let (p, doc) = fresh("append");
        OpenOptions::new()
            .append(true)
            .open(&p)
            .unwrap()
            .write_all(b"appended line\n")
            .unwrap();
        assert!(matches!(doc.disk_change(), DiskChange::Appended { .. }));

        let (p, doc) = fresh("inplace");
        let f = OpenOptions::new().write(true).open(&p).unwrap();
        std::os::unix::fs::FileExt::write_at(&f, b"XXXX", 0).unwrap();
        assert_eq!(doc.disk_change(), DiskChange::Rewritten);

        let (p, doc) = fresh("otrunc");
        std::fs::write(&p, b"short now\n").unwrap(); // O_TRUNC rewrite
        assert!(matches!(
            doc.disk_change(),
            DiskChange::Truncated { len: 10 }
        ));

        let (p, doc) = fresh("renamed");
        let other = dir.join("other");
        std::fs::write(&other, b"another file\n").unwrap();
        std::fs::rename(&other, &p).unwrap();
        assert_eq!(doc.disk_change(), DiskChange::Replaced);

        let (p, doc) = fresh("deleted");
        std::fs::remove_file(&p).unwrap();
        assert_eq!(doc.disk_change(), DiskChange::Deleted);
        // The document still reads from its mapping of the unlinked file.
        assert!(doc.view().lines(0, 2, None).is_ok());
    }
}

/// A growing log: appends are added at the end without losing the user's edits, a clean
/// document stays clean, and a save writes edits plus appended lines.
#[test]
fn appends_extend_the_document_and_keep_edits() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("grow.log");
    std::fs::write(&path, "one\ntwo\n").unwrap();
    let mut doc = Document::open(&path).unwrap();
    let control = Control::new();
    doc.wait_for_index(&control).unwrap();
    assert_eq!(doc.follow_append().unwrap(), None);

    let mut log = OpenOptions::new().append(true).open(&path).unwrap();
    log.write_all(b"three\n").unwrap();
    let v = doc.follow_append().unwrap().expect("an append");
    assert_eq!(v, doc.version());
    assert!(!doc.is_dirty(), "the document still equals the file");
    assert_eq!(doc.view().read(0, doc.len()).unwrap(), b"one\ntwo\nthree\n");

    doc.insert(0, "EDIT ").unwrap();
    log.write_all(b"four\nfive\n").unwrap();
    doc.follow_append().unwrap().expect("another append");
    doc.wait_for_index(&control).unwrap();
    assert_eq!(
        doc.view().read(0, doc.len()).unwrap(),
        b"EDIT one\ntwo\nthree\nfour\nfive\n"
    );
    assert_eq!(doc.view().line_count().known, 6);
    assert_eq!(doc.view().lines(4, 1, None).unwrap()[0].text, "five");
    assert!(doc.is_dirty());
    doc.undo().unwrap();
    assert_eq!(
        doc.view().read(0, doc.len()).unwrap(),
        b"one\ntwo\nthree\nfour\nfive\n"
    );
    doc.redo().unwrap();
    doc.save(None, &control).unwrap();
    assert_eq!(
        std::fs::read(&path).unwrap(),
        b"EDIT one\ntwo\nthree\nfour\nfive\n"
    );
}

#[test]
fn reload_reads_the_new_file_and_versions_keep_growing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.txt");
    std::fs::write(&path, "first\n").unwrap();
    let mut doc = Document::open(&path).unwrap();
    doc.insert(0, "edit ").unwrap();
    let before = doc.version();
    std::fs::write(&path, "rewritten by someone else\n").unwrap();
    assert_ne!(doc.disk_change(), tome_core::DiskChange::Unchanged);
    let v = doc.reload().unwrap();
    assert!(v > before);
    assert!(!doc.is_dirty());
    assert_eq!(doc.history_len(), (0, 0));
    assert_eq!(
        doc.view().read(0, doc.len()).unwrap(),
        b"rewritten by someone else\n"
    );
    assert_eq!(doc.disk_change(), tome_core::DiskChange::Unchanged);
    std::fs::remove_file(&path).unwrap();
    assert!(matches!(doc.reload(), Err(Error::NotFound(_))));
    assert_eq!(doc.version(), v, "a failed reload changes nothing");
}

/// Undoing a replace-all (recorded as a whole-tree swap) made before an append keeps the
/// appended lines, and so does redoing it; on a 64 MiB log.
#[test]
fn undoing_a_replace_all_keeps_lines_appended_since() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("grow.log");
    tome_gen::write_file(&GenConfig::sized(64 << 20), &path).unwrap();
    let original = std::fs::read(&path).unwrap();
    let control = Control::new();
    let mut doc = Document::open(&path).unwrap();
    doc.wait_for_index(&control).unwrap();
    let m = Matcher::new(&Query {
        pattern: "INFO".into(),
        regex: false,
        case_insensitive: false,
    })
    .unwrap();
    assert!(doc.replace_all(&m, b"info", &control).unwrap() > 1000);
    let replaced = doc.view().read(0, doc.len()).unwrap();

    let tail = b"appended INFO line\n";
    let mut log = OpenOptions::new().append(true).open(&path).unwrap();
    log.write_all(tail).unwrap();
    doc.follow_append().unwrap().expect("an append");

    doc.undo().unwrap();
    let mut want = original.clone();
    want.extend_from_slice(tail);
    assert!(
        doc.view().read(0, doc.len()).unwrap() == want,
        "undo keeps the tail"
    );
    doc.redo().unwrap();
    let mut want = replaced;
    want.extend_from_slice(tail);
    assert!(
        doc.view().read(0, doc.len()).unwrap() == want,
        "redo keeps the tail"
    );
    assert_eq!(
        doc.view().line_count().known,
        bytecount_lines(&want) + 1,
        "line counts follow"
    );
}

fn bytecount_lines(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b == b'\n').count()
}

/// Descriptors and mappings of this process that name `path`.
fn fds_and_maps_on(path: &std::path::Path) -> (usize, usize) {
    let fds = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .flatten()
        .filter(|e| std::fs::read_link(e.path()).is_ok_and(|t| t == path))
        .count();
    let name = path.to_string_lossy().into_owned();
    let maps = std::fs::read_to_string("/proc/self/maps")
        .unwrap()
        .lines()
        .filter(|l| l.ends_with(&name))
        .count();
    (fds, maps)
}

/// A log followed through hundreds of appends keeps one tail: the descriptors and mappings of
/// the file stay constant (each append used to open a source of its own: a descriptor, a
/// mapping, a guard slot and an index thread per append, until `ulimit -n` stopped following),
/// and the reused line counts stay exact, a CR at the end of a 64 KiB block included.
#[test]
fn a_followed_log_keeps_one_tail_however_often_it_grows() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path().canonicalize().unwrap();
    let path = dir.join("follow.log");
    let mut model: Vec<u8> = b"first line\r\nsecond\n".to_vec();
    std::fs::write(&path, &model).unwrap();
    let original = model.len();
    let mut doc = Document::open(&path).unwrap();
    let control = Control::new();
    doc.wait_for_index(&control).unwrap();
    let mut log = OpenOptions::new().append(true).open(&path).unwrap();
    let mut append = |doc: &mut Document, model: &mut Vec<u8>, bytes: &[u8]| {
        log.write_all(bytes).unwrap();
        model.extend_from_slice(bytes);
        doc.follow_append().unwrap().expect("an append");
    };
    // The tail ends with a CR exactly at a 64 KiB block of the tail; the LF comes next.
    let mut chunk = Vec::new();
    while chunk.len() < 2 * 65536 - 1 {
        let line = format!("line {} of the first chunk\r\n", chunk.len());
        chunk.extend_from_slice(line.as_bytes());
    }
    chunk.truncate(2 * 65536 - 1);
    chunk.push(b'\r');
    append(&mut doc, &mut model, &chunk);
    doc.wait_for_index(&control).unwrap();
    append(&mut doc, &mut model, b"\nafter the split CRLF\n");
    let after_two = fds_and_maps_on(&path);
    let mut seq = 0;
    for i in 0..400 {
        let mut bytes = Vec::new();
        for _ in 0..(1 + i % 7) * 40 {
            let end = if seq % 3 == 0 { "\r\n" } else { "\n" };
            bytes.extend_from_slice(format!("seq={seq} appended{end}").as_bytes());
            seq += 1;
        }
        append(&mut doc, &mut model, &bytes);
        if i % 50 == 0 {
            doc.wait_for_index(&control).unwrap();
        }
    }
    doc.wait_for_index(&control).unwrap();
    let after_all = fds_and_maps_on(&path);
    assert_eq!(after_all, after_two, "descriptors and mappings of the file");
    // The original, the tail, and this test's own `log`; the original's mapping and the tail's.
    assert!(after_all.0 <= 3 && after_all.1 <= 2, "{after_all:?}");
    assert_eq!(doc.view().read(0, doc.len()).unwrap(), model);
    assert!(model.len() > original + 2 * 65536);
    let breaks = model.iter().filter(|&&b| b == b'\n').count();
    let lone_cr = model
        .windows(2)
        .filter(|w| w[0] == b'\r' && w[1] != b'\n')
        .count();
    assert_eq!(lone_cr, 0);
    assert_eq!(doc.view().line_count().known, breaks + 1);
    assert!(doc.view().line_count().exact);
    let last = doc.view().lines(breaks - 1, 1, None).unwrap();
    assert_eq!(last[0].text, format!("seq={} appended", seq - 1));
    assert!(!doc.is_dirty());
}
