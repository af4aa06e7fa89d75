//! Edge cases named by the design: empty file, no trailing newline, only newlines, one long
//! line, invalid UTF-8, CRLF split across pieces, edits at both ends, failed saves, symlinks,
//! permissions, batches, undo grouping.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use tome_core::{
    ColumnWindow, Control, Direction, Document, Edit, Error, Matcher, Position, PositionEncoding,
    Query,
};

fn open(dir: &Path, name: &str, content: &[u8]) -> (Document, PathBuf) {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    let mut doc = Document::open(&path).unwrap();
    doc.wait_for_index(&Control::new()).unwrap();
    (doc, path)
}

fn content(doc: &Document) -> Vec<u8> {
    doc.view().read(0, doc.len()).unwrap()
}

#[test]
fn empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let (mut doc, path) = open(dir.path(), "empty", b"");
    assert_eq!(doc.len(), 0);
    assert_eq!(doc.view().line_count().known, 1);
    let lines = doc.view().lines(0, 10, None).unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].text, "");
    assert!(doc.view().line_start(1).is_err());
    doc.insert(0, "x").unwrap();
    doc.save(None, &Control::new()).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"x");
}

#[test]
fn no_trailing_newline_and_only_newlines() {
    let dir = tempfile::tempdir().unwrap();
    let (doc, _) = open(dir.path(), "a", b"one\ntwo");
    let lines = doc.view().lines(0, 5, None).unwrap();
    assert_eq!(
        lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(),
        ["one", "two"]
    );
    assert_eq!(lines[1].break_len, 0);
    let (doc, _) = open(dir.path(), "b", b"\n\n\n");
    assert_eq!(doc.view().line_count().known, 4);
    let lines = doc.view().lines(0, 10, None).unwrap();
    assert_eq!(lines.len(), 4);
    assert!(lines.iter().all(|l| l.text.is_empty()));
    assert_eq!(doc.view().line_start(3).unwrap(), 3);
}

#[test]
fn one_line_of_100_mib_is_shown_a_window_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let mut big = Vec::with_capacity(100 << 20);
    while big.len() < (100 << 20) {
        big.extend_from_slice("abcdefghij漢字🦀".as_bytes());
    }
    let len = big.len();
    let (mut doc, path) = open(dir.path(), "long", &big);
    drop(big);
    let window = ColumnWindow {
        start: 50 << 20,
        len: 200,
    };
    let line = &doc.view().lines(0, 1, Some(window)).unwrap()[0];
    assert_eq!(line.len, len);
    assert!(line.cut_before && line.cut_after);
    assert!(line.text_bytes <= 200 && line.text_bytes >= 196);
    assert!(!line.invalid, "the window must not split a character");
    // Edit in the middle, check the window there and the far end.
    doc.insert(60 << 20, "<HERE>").unwrap();
    let at = doc.view().offset_of(
        Position {
            line: 0,
            column: 60 << 20,
        },
        PositionEncoding::Utf8,
    );
    assert_eq!(at.unwrap(), 60 << 20);
    let m = Matcher::new(&Query {
        pattern: "<HERE>".into(),
        regex: false,
        case_insensitive: false,
    })
    .unwrap();
    let found = doc
        .view()
        .find(&m, 0, Direction::Forward, false, &Control::new())
        .unwrap();
    assert_eq!(found, Some((60 << 20)..(60 << 20) + 6));
    doc.save(None, &Control::new()).unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().len() as usize, len + 6);
}

#[test]
fn invalid_utf8_is_shown_replaced_and_saved_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = b"ok\n\xFF\xFEbad \xE2\x82 end\nfine\n";
    let (mut doc, path) = open(dir.path(), "bin", bytes);
    let lines = doc.view().lines(0, 3, None).unwrap();
    assert!(lines[1].invalid && !lines[0].invalid);
    assert_eq!(lines[1].text, "\u{FFFD}\u{FFFD}bad \u{FFFD}\u{FFFD} end");
    // Columns count one per invalid byte, so positions map to real bytes.
    let b = doc
        .view()
        .offset_of(Position { line: 1, column: 2 }, PositionEncoding::Utf16)
        .unwrap();
    assert_eq!(b, 5);
    doc.insert(b, "X").unwrap();
    doc.save(None, &Control::new()).unwrap();
    assert_eq!(
        std::fs::read(&path).unwrap(),
        b"ok\n\xFF\xFEXbad \xE2\x82 end\nfine\n"
    );
}

#[test]
fn crlf_split_across_pieces() {
    let dir = tempfile::tempdir().unwrap();
    let (mut doc, _) = open(dir.path(), "crlf", b"a\r\nb\r\nc");
    assert_eq!(doc.view().line_count().known, 3);
    // Insert between CR and LF: the CR becomes a lone break, and the LF another.
    doc.insert(2, "X").unwrap();
    assert_eq!(content(&doc), b"a\rX\nb\r\nc");
    assert_eq!(doc.view().line_count().known, 4);
    doc.delete(2..3).unwrap();
    // CR and LF are in different pieces again, but join into one break.
    assert_eq!(doc.view().line_count().known, 3);
    assert_eq!(doc.view().line_start(1).unwrap(), 3);
    assert_eq!(doc.view().line_of(2).unwrap(), 0);
    // Build a CRLF from two insertions.
    doc.insert(doc.len(), "\r").unwrap();
    doc.insert(doc.len(), "\nz").unwrap();
    assert_eq!(doc.view().line_count().known, 4);
    let last = doc.view().lines(3, 1, None).unwrap();
    assert_eq!(last[0].text, "z");
    let lines = doc.view().lines(0, 4, None).unwrap();
    assert_eq!(
        lines.iter().map(|l| l.break_len).collect::<Vec<_>>(),
        [2, 2, 2, 0]
    );
}

#[test]
fn edits_at_both_ends_and_batches() {
    let dir = tempfile::tempdir().unwrap();
    let (mut doc, _) = open(dir.path(), "ends", b"middle\n");
    doc.insert(0, "start ").unwrap();
    doc.insert(doc.len(), "end").unwrap();
    assert_eq!(content(&doc), b"start middle\nend");
    let v = doc.version();
    // A batch refers to offsets before the batch, in any order.
    let v2 = doc
        .apply(vec![
            Edit::insert(doc.len(), "!"),
            Edit::delete(0..6),
            Edit::insert(0, ">"),
        ])
        .unwrap();
    assert_eq!(v2, v + 1);
    assert_eq!(content(&doc), b">middle\nend!");
    // A bad batch changes nothing.
    let err = doc
        .apply(vec![Edit::insert(1, "x"), Edit::delete(5..100)])
        .unwrap_err();
    assert!(matches!(err, Error::OutOfBounds(_)), "{err}");
    let err = doc
        .apply(vec![Edit::delete(0..3), Edit::delete(2..4)])
        .unwrap_err();
    assert!(matches!(err, Error::OverlappingEdits(_)), "{err}");
    assert_eq!(content(&doc), b">middle\nend!");
    assert_eq!(doc.version(), v2);
    doc.undo().unwrap();
    assert_eq!(content(&doc), b"start middle\nend");
}

#[test]
fn typing_is_one_undo_step_and_backspaces_too() {
    let dir = tempfile::tempdir().unwrap();
    let (mut doc, _) = open(dir.path(), "t", b"x\n");
    for (i, c) in "hello".chars().enumerate() {
        doc.insert(1 + i, c.to_string()).unwrap();
    }
    assert_eq!(doc.history_len(), (1, 0));
    // The typed text is one piece, not five.
    assert!(doc.piece_count() <= 3, "{} pieces", doc.piece_count());
    for i in (3..6).rev() {
        doc.delete(i..i + 1).unwrap();
    }
    assert_eq!(content(&doc), b"xhe\n");
    assert_eq!(doc.history_len(), (2, 0));
    doc.undo().unwrap();
    assert_eq!(content(&doc), b"xhello\n");
    doc.undo().unwrap();
    assert_eq!(content(&doc), b"x\n");
    assert!(!doc.is_dirty());
    doc.redo().unwrap();
    assert!(doc.is_dirty());
    // A line break starts a new group.
    doc.insert(6, "\n").unwrap();
    assert_eq!(doc.history_len(), (2, 0));
}

#[test]
fn a_client_groups_undo_steps_itself() {
    let dir = tempfile::tempdir().unwrap();
    let (mut doc, _) = open(dir.path(), "t", b"one\ntwo\nthree\n");
    // A Visual-block insert as Vim makes it: typing on one line, then a batch copying it to the
    // others; joined, the whole insert is one step.
    doc.break_undo_group();
    doc.insert(0, "f").unwrap();
    doc.insert(1, "o").unwrap();
    doc.join_undo_group();
    doc.apply(vec![Edit::insert(6, "fo"), Edit::insert(10, "fo")])
        .unwrap();
    assert_eq!(content(&doc), b"foone\nfotwo\nfothree\n");
    assert_eq!(doc.history_len(), (1, 0));
    // Two single-character deletes, each a command of its own (Vim's `x` `x`): the shape
    // would join them; a break keeps them apart.
    doc.break_undo_group();
    doc.delete(0..1).unwrap();
    doc.break_undo_group();
    doc.delete(0..1).unwrap();
    assert_eq!(doc.history_len(), (3, 0));
    doc.undo().unwrap();
    assert_eq!(content(&doc), b"oone\nfotwo\nfothree\n");
    doc.undo().unwrap();
    doc.undo().unwrap();
    assert_eq!(content(&doc), b"one\ntwo\nthree\n");
    // A join after an undo cannot join a step that was undone: it starts one.
    doc.redo().unwrap();
    doc.undo().unwrap();
    doc.join_undo_group();
    doc.insert(0, "x").unwrap();
    assert_eq!(doc.history_len(), (1, 0));
}

#[test]
fn save_keeps_permissions_follows_symlinks_and_history_survives() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.txt");
    std::fs::write(&real, "one\ntwo\n").unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
    let link = dir.path().join("link.txt");
    std::os::unix::fs::symlink("real.txt", &link).unwrap();
    let mut doc = Document::open(&link).unwrap();
    let control = Control::new();
    doc.insert(4, "TWO ").unwrap();
    let report = doc.save(None, &control).unwrap();
    assert_eq!(report.path, real);
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::read(&real).unwrap(), b"one\nTWO two\n");
    assert_eq!(
        std::fs::metadata(&real).unwrap().permissions().mode() & 0o777,
        0o640
    );
    assert!(!doc.is_dirty());
    doc.wait_for_index(&control).unwrap();
    // The history survives the save; undo makes the document dirty again.
    doc.undo().unwrap();
    assert!(doc.is_dirty());
    assert_eq!(content(&doc), b"one\ntwo\n");
    doc.redo().unwrap();
    assert!(!doc.is_dirty());
    // No temporary files are left.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn failed_save_leaves_original_and_document_dirty() {
    if unsafe_is_root() {
        // Root ignores directory permissions; use a path whose parent is a file instead.
        let dir = tempfile::tempdir().unwrap();
        let (mut doc, path) = open(dir.path(), "f.txt", b"keep\n");
        doc.insert(0, "x").unwrap();
        let bad = dir.path().join("f.txt").join("child.txt");
        let err = doc.save(Some(&bad), &Control::new()).unwrap_err();
        assert!(!err.to_string().is_empty());
        assert!(doc.is_dirty());
        assert_eq!(std::fs::read(&path).unwrap(), b"keep\n");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (mut doc, path) = open(dir.path(), "f.txt", b"keep\n");
    doc.insert(0, "x").unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o500)).unwrap();
    let err = doc.save(None, &Control::new()).unwrap_err();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    assert!(matches!(err, Error::PermissionDenied(_)), "{err}");
    assert!(doc.is_dirty());
    assert_eq!(std::fs::read(&path).unwrap(), b"keep\n");
}

fn unsafe_is_root() -> bool {
    std::env::var("USER").map(|u| u == "root").unwrap_or(false)
        || std::fs::metadata("/root")
            .map(|m| m.permissions().mode() & 0o077 == 0 && std::fs::read_dir("/root").is_ok())
            .unwrap_or(false)
}

#[test]
fn save_to_full_disk_fails_cleanly() {
    // /dev/full is not a directory we can create files in; emulate "no space" with a tiny
    // tmpfs only when it exists. Otherwise check the error path of a non-regular target.
    let dir = tempfile::tempdir().unwrap();
    let (mut doc, _) = open(dir.path(), "g.txt", b"data\n");
    doc.insert(0, "y").unwrap();
    let err = doc
        .save(Some(Path::new("/dev/null")), &Control::new())
        .unwrap_err();
    assert!(matches!(err, Error::NotRegularFile(_)), "{err}");
    assert!(doc.is_dirty());
}

#[test]
fn open_errors_are_precise() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        Document::open(&dir.path().join("nope")),
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        Document::open(dir.path()),
        Err(Error::NotRegularFile(_))
    ));
}

#[test]
fn replace_all_is_one_step_and_does_not_fragment() {
    let dir = tempfile::tempdir().unwrap();
    let text = "key=1 value\n".repeat(100_000);
    let (mut doc, _) = open(dir.path(), "r", text.as_bytes());
    let m = Matcher::new(&Query {
        pattern: "value".into(),
        regex: false,
        case_insensitive: false,
    })
    .unwrap();
    let n = doc.replace_all(&m, b"VAL", &Control::new()).unwrap();
    assert_eq!(n, 100_000);
    assert_eq!(content(&doc), "key=1 VAL\n".repeat(100_000).as_bytes());
    // Gaps of 7 bytes are merged with the replacements: a handful of 64 KiB pieces.
    assert!(doc.piece_count() < 40, "{} pieces", doc.piece_count());
    assert_eq!(doc.view().line_count().known, 100_001);
    doc.undo().unwrap();
    assert_eq!(content(&doc), text.as_bytes());
    let re = Matcher::new(&Query {
        pattern: r"key=(\d)".into(),
        regex: true,
        case_insensitive: false,
    })
    .unwrap();
    doc.replace_all(&re, b"k$1", &Control::new()).unwrap();
    assert!(content(&doc).starts_with(b"k1 value\nk1 value\n"));
}

#[test]
fn a_replace_all_that_rewrites_most_of_the_file_stays_out_of_memory() {
    // 40 MiB with a match every 12 bytes: the rewritten text (gaps merged with replacements)
    // is ~33 MiB of added text; past 16 MiB it goes to a spill file, not the heap.
    let dir = tempfile::tempdir().unwrap();
    let line = "key=1 value\n";
    let lines = (40 << 20) / line.len();
    let text = line.repeat(lines);
    let (mut doc, path) = open(dir.path(), "big", text.as_bytes());
    let m = Matcher::new(&Query {
        pattern: "value".into(),
        regex: false,
        case_insensitive: false,
    })
    .unwrap();
    let n = doc.replace_all(&m, b"VAL", &Control::new()).unwrap();
    assert_eq!(n, lines);
    let expected = "key=1 VAL\n".repeat(lines);
    assert!(doc.added_bytes() >= expected.len() - (1 << 20));
    assert!(
        doc.added_bytes_in_memory() <= (16 << 20) + (3 << 20),
        "{} bytes of added text in memory",
        doc.added_bytes_in_memory()
    );
    assert_eq!(content(&doc), expected.as_bytes());
    doc.undo().unwrap();
    assert_eq!(content(&doc), text.as_bytes());
    doc.redo().unwrap();
    // A save reads the spilled blocks back.
    let out = dir.path().join("out");
    doc.save(Some(&out), &Control::new()).unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), expected.as_bytes());
    drop(doc);
    assert_eq!(std::fs::read(&path).unwrap(), text.as_bytes());
}

#[test]
fn search_directions_case_and_invalid_regex() {
    let dir = tempfile::tempdir().unwrap();
    let (doc, _) = open(dir.path(), "s", b"Alpha beta\nALPHA gamma\nalpha\n");
    let c = Control::new();
    let q = |p: &str, regex, ci| {
        Matcher::new(&Query {
            pattern: p.into(),
            regex,
            case_insensitive: ci,
        })
    };
    let m = q("alpha", false, true).unwrap();
    let v = doc.view();
    assert_eq!(
        v.find(&m, 1, Direction::Forward, false, &c).unwrap(),
        Some(11..16)
    );
    assert_eq!(
        v.find(&m, 11, Direction::Backward, false, &c).unwrap(),
        Some(0..5)
    );
    assert_eq!(
        v.find(&m, 0, Direction::Backward, true, &c).unwrap(),
        Some(23..28)
    );
    assert_eq!(
        v.find(&m, 24, Direction::Forward, true, &c).unwrap(),
        Some(0..5)
    );
    let exact = q("alpha", false, false).unwrap();
    assert_eq!(v.count_matches(&exact, &c).unwrap(), 1);
    let anchored = q("^a", true, true).unwrap();
    assert_eq!(v.count_matches(&anchored, &c).unwrap(), 3);
    assert!(matches!(q("(", true, false), Err(Error::InvalidRegex(_))));
    let page = v.find_all(&m, 0..v.len(), 2, &c).unwrap();
    assert_eq!(page.matches, vec![0..5, 11..16]);
    assert_eq!(page.resume_at, Some(23));
    c.cancel();
    assert!(matches!(v.count_matches(&m, &c), Err(Error::Cancelled)));
}

#[test]
fn matches_cross_piece_boundaries() {
    let dir = tempfile::tempdir().unwrap();
    let (mut doc, _) = open(dir.path(), "p", b"hello there\nsecond line\n");
    doc.insert(6, "big ").unwrap(); // "hello big there"
    doc.insert(0, "say: ").unwrap();
    let c = Control::new();
    let m = Matcher::new(&Query {
        pattern: "o big t".into(),
        regex: false,
        case_insensitive: false,
    })
    .unwrap();
    assert_eq!(
        doc.view()
            .find(&m, 0, Direction::Forward, false, &c)
            .unwrap(),
        Some(9..16)
    );
    let re = Matcher::new(&Query {
        pattern: r"y: h\w+ b".into(),
        regex: true,
        case_insensitive: false,
    })
    .unwrap();
    assert_eq!(
        doc.view()
            .find(&re, 0, Direction::Forward, false, &c)
            .unwrap(),
        Some(2..12)
    );
    let across_line = Matcher::new(&Query {
        pattern: "there\nsec".into(),
        regex: false,
        case_insensitive: false,
    })
    .unwrap();
    assert_eq!(doc.view().count_matches(&across_line, &c).unwrap(), 1);
}

#[test]
fn search_and_save_run_on_a_snapshot_while_editing_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let text = "needle in a haystack\n".repeat(200_000);
    let (mut doc, _) = open(dir.path(), "snap", text.as_bytes());
    let snapshot = doc.snapshot();
    let out = dir.path().join("snap-saved.txt");
    let out2 = out.clone();
    let worker = std::thread::spawn(move || {
        let c = Control::new();
        let m = Matcher::new(&Query {
            pattern: "needle".into(),
            regex: false,
            case_insensitive: false,
        })
        .unwrap();
        let n = snapshot.view().count_matches(&m, &c).unwrap();
        tome_core::save::save_file(snapshot.view(), &out2, tome_core::SaveChoice::Auto, &c)
            .unwrap();
        n
    });
    // Meanwhile the document changes: the snapshot does not see it.
    // At line starts, last first, so no insertion splits an existing needle.
    for i in (0..1000).rev() {
        doc.insert(i * 21, "needle").unwrap();
    }
    assert_eq!(worker.join().unwrap(), 200_000);
    assert_eq!(std::fs::read(&out).unwrap(), text.as_bytes());
    let c = Control::new();
    let m = Matcher::new(&Query {
        pattern: "needle".into(),
        regex: false,
        case_insensitive: false,
    })
    .unwrap();
    assert_eq!(doc.view().count_matches(&m, &c).unwrap(), 201_000);
}

#[test]
fn save_keeps_extended_attributes_and_refuses_a_source_rewritten_meanwhile() {
    let dir = tempfile::tempdir().unwrap();
    let (mut doc, path) = open(dir.path(), "x.txt", b"one\ntwo\n");
    let tagged = xattr::set(&path, "user.tome-test", b"kept").is_ok();
    doc.insert(0, "> ").unwrap();
    doc.save(None, &Control::new()).unwrap();
    if tagged {
        assert_eq!(
            xattr::get(&path, "user.tome-test").unwrap().as_deref(),
            Some(&b"kept"[..])
        );
    }
    // Another program rewrites the file in place: a save-as that copies from it refuses
    // (unless the document reads a reflink snapshot, which the rewrite cannot reach).
    doc.wait_for_index(&Control::new()).unwrap();
    doc.insert(0, "more ").unwrap();
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    std::os::unix::fs::FileExt::write_at(&f, b"XX", 3).unwrap();
    let out = dir.path().join("y.txt");
    if doc.is_snapshot() {
        doc.save(Some(&out), &Control::new()).unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), b"more > one\ntwo\n");
        return;
    }
    let err = doc.save(Some(&out), &Control::new()).unwrap_err();
    assert!(matches!(err, Error::FileChanged(_)), "{err}");
    assert!(!out.exists());
    assert!(doc.is_dirty());
}

#[test]
fn a_replace_all_planned_on_a_snapshot_refuses_a_changed_document() {
    let dir = tempfile::tempdir().unwrap();
    let (mut doc, _path) = open(dir.path(), "r.txt", b"a b a b a\n");
    let m = tome_core::Matcher::new(&tome_core::Query {
        pattern: "a".into(),
        regex: false,
        case_insensitive: false,
    })
    .unwrap();
    let control = Control::new();
    let plan = doc.snapshot().plan_replace_all(&m, b"A", &control).unwrap();
    assert_eq!(plan.count(), 3);
    doc.insert(0, "z").unwrap();
    assert!(matches!(doc.apply_planned(plan), Err(Error::Stale(_))));
    assert_eq!(doc.view().read(0, doc.len()).unwrap(), b"za b a b a\n");
    let plan = doc.snapshot().plan_replace_all(&m, b"A", &control).unwrap();
    assert_eq!(doc.apply_planned(plan).unwrap(), 3);
    assert_eq!(doc.view().read(0, doc.len()).unwrap(), b"zA b A b A\n");
}
