//! The edit journal: recovery reproduces every synced change; a torn or corrupted journal is
//! replayed up to its first bad record and never past it, never panicking.

use std::io::Write;
use std::path::Path;

use tome_core::{Control, Document, Edit, Matcher, Query};

fn content(doc: &Document) -> Vec<u8> {
    doc.view().read(0, doc.len()).unwrap()
}

/// Runs random operations on a journaled document; returns the content after each journal
/// record (index 0: before any).
fn session(path: &Path, state: &Path, seed: u64, ops: usize) -> Vec<Vec<u8>> {
    let mut doc = Document::open(path).unwrap();
    assert!(doc.enable_journal(state).unwrap().is_none());
    doc.wait_for_index(&Control::new()).unwrap();
    let mut rng = tome_gen::Rng::new(seed);
    let mut states = vec![content(&doc)];
    let needle = Matcher::new(&Query {
        pattern: "seq=1".into(),
        regex: false,
        case_insensitive: false,
    })
    .unwrap();
    for i in 0..ops {
        let logged = match rng.below(10) {
            0..=4 => {
                let at = rng.below(doc.len() + 1);
                doc.insert(at, ["x", "héllo\n", "\r\n", "🦀"][rng.below(4)])
                    .unwrap();
                doc.break_undo_group();
                true
            }
            5 | 6 => {
                let at = rng.below(doc.len());
                let end = (at + 1 + rng.below(5000)).min(doc.len());
                doc.delete(at..end).unwrap();
                doc.break_undo_group();
                true
            }
            7 => doc.undo().is_some(),
            8 => doc.redo().is_some(),
            _ if i % 13 == 5 => {
                // A yank and a paste of it, as the editors' big registers do.
                let at = rng.below(doc.len());
                let end = (at + 1 + rng.below(100_000)).min(doc.len());
                let clip = doc.clip(at..end, rng.below(2) == 0).unwrap();
                let to = rng.below(doc.len() + 1);
                doc.paste(to, &clip, 1 + rng.below(3), &Control::new())
                    .unwrap();
                doc.break_undo_group();
                true
            }
            _ if i % 20 == 9 => {
                let n = doc.replace_all(&needle, b"SEQ=1", &Control::new()).unwrap();
                n > 0
            }
            _ => {
                let at = rng.below(doc.len());
                doc.apply(vec![Edit::insert(at, "a"), Edit::insert(doc.len(), "z")])
                    .unwrap();
                true
            }
        };
        if logged {
            states.push(content(&doc));
        }
        if i == ops / 2 {
            // The file grows meanwhile (a log): the append is journaled too.
            std::fs::OpenOptions::new()
                .append(true)
                .open(path)
                .unwrap()
                .write_all(b"appended\n")
                .unwrap();
            if doc.follow_append().unwrap().is_some() {
                states.push(content(&doc));
            }
        }
    }
    doc.sync_journal();
    // A crash: the document is never closed or saved.
    doc.simulate_crash();
    states
}

fn journal_file(jdir: &Path) -> std::path::PathBuf {
    let entries: Vec<_> = std::fs::read_dir(jdir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    entries[0].clone()
}

#[test]
fn recovery_reproduces_every_synced_change() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc.log");
    tome_gen::write_file(
        &tome_gen::GenConfig {
            unicode: true,
            ..tome_gen::GenConfig::sized(1 << 20)
        },
        &path,
    )
    .unwrap();
    let jdir = dir.path().join("state").join("journal");
    let states = session(&path, &jdir, 7, 300);
    let mut doc = Document::open(&path).unwrap();
    let found = doc
        .enable_journal(&jdir)
        .unwrap()
        .expect("a journal to recover");
    assert_eq!(found.records, states.len() - 1);
    let (applied, stopped) = doc.recover(found).unwrap();
    assert_eq!((applied, stopped), (states.len() - 1, None));
    assert!(
        content(&doc) == *states.last().unwrap(),
        "recovered content differs"
    );
    assert!(doc.is_dirty());
    // The recovered changes are undoable.
    doc.undo().unwrap();
    // Saving ends the need for the journal: the next open finds nothing to recover.
    doc.save(None, &Control::new()).unwrap();
    drop(doc);
    let mut again = Document::open(&path).unwrap();
    assert!(again.enable_journal(&jdir).unwrap().is_none());
}

#[test]
fn torn_and_corrupted_journals_replay_a_good_prefix_and_never_more() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc.log");
    tome_gen::write_file(&tome_gen::GenConfig::sized(256 << 10), &path).unwrap();
    let original = std::fs::read(&path).unwrap();
    let jdir = dir.path().join("state").join("journal");
    let states = session(&path, &jdir, 11, 60);
    let jpath = journal_file(&jdir);
    let good = std::fs::read(&jpath).unwrap();
    let grown = std::fs::read(&path).unwrap();
    assert!(grown.len() > original.len());

    let check = |bytes: &[u8], what: &str| {
        std::fs::write(&jpath, bytes).unwrap();
        let mut doc = Document::open(&path).unwrap();
        match doc.enable_journal(&jdir).unwrap() {
            None => {}
            Some(found) => {
                let (applied, _) = doc.recover(found).unwrap();
                assert!(
                    content(&doc) == states[applied],
                    "{what}: content after {applied} records is not that state"
                );
            }
        }
        doc.close_journal();
        let _ = std::fs::remove_file(jpath.with_extension("orphan"));
    };
    // Cut at every byte of the last three records' region, and a sample before it.
    let tail = good.len().saturating_sub(3000);
    for cut in (tail..good.len()).chain((0..tail).step_by(997)) {
        check(&good[..cut], &format!("cut at {cut}"));
    }
    // Flip random bits.
    let mut rng = tome_gen::Rng::new(99);
    for _ in 0..300 {
        let mut bad = good.clone();
        let at = rng.below(bad.len());
        bad[at] ^= 1 << rng.below(8);
        check(&bad, &format!("bit flipped at {at}"));
    }
}

#[test]
fn a_second_session_of_the_same_file_leaves_the_first_ones_journal_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("same.txt");
    std::fs::write(&path, "abc\n").unwrap();
    let jdir = dir.path().join("journal");
    let mut first = Document::open(&path).unwrap();
    assert!(first.enable_journal(&jdir).unwrap().is_none());
    first.insert(0, "1").unwrap();
    first.sync_journal();
    let mut second = Document::open(&path).unwrap();
    assert!(
        second.enable_journal(&jdir).unwrap().is_none(),
        "nothing offered while in use"
    );
    second.insert(0, "2").unwrap();
    drop(second);
    // The first session crashes: its journal is intact and offers its one change.
    first.simulate_crash();
    let mut third = Document::open(&path).unwrap();
    let found = third
        .enable_journal(&jdir)
        .unwrap()
        .expect("the first session's journal");
    assert_eq!(found.records, 1);
    third.recover(found).unwrap();
    assert_eq!(content(&third), b"1abc\n");
}

/// A journal whose file was changed by another program since is never applied to the file's
/// document; it is offered (at each open, until discarded) as a new unsaved document: the file
/// as it is now with the journal's changes.
#[test]
fn an_orphan_journal_becomes_a_new_unsaved_document() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc.log");
    tome_gen::write_file(&tome_gen::GenConfig::sized(64 << 20), &path).unwrap();
    let jdir = dir.path().join("state").join("journal");
    let edits = |doc: &mut Document| {
        doc.insert(1000, "HELLO\n").unwrap();
        doc.delete(2 << 20..3 << 20).unwrap();
        doc.insert(10 << 20, "WORLD").unwrap();
    };
    let mut doc = Document::open(&path).unwrap();
    assert!(doc.enable_journal(&jdir).unwrap().is_none());
    edits(&mut doc);
    doc.sync_journal();
    doc.simulate_crash();

    // Another program changes the file in place before the next session.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    std::os::unix::fs::FileExt::write_at(&f, b"XXXX", 5 << 20).unwrap();
    drop(f);
    let changed = Document::open(&path).unwrap();
    let mut expected = changed;
    edits(&mut expected);
    let expected = content(&expected);

    for round in 0..2 {
        let mut doc = Document::open(&path).unwrap();
        let found = doc.enable_journal(&jdir).unwrap().expect("offered");
        assert!(!found.fits, "round {round}");
        assert_eq!(found.records, 3);
        assert!(matches!(
            doc.recover(found.clone()),
            Err(tome_core::Error::FileChanged(_))
        ));
        let (new, applied, stopped) = doc.recover_as_new(&found).unwrap();
        assert_eq!((applied, stopped), (3, None));
        assert!(content(&new) == expected, "round {round}");
        assert_eq!(new.path(), None);
        assert!(new.is_dirty());
        assert_eq!(doc.version(), 0, "the file's document is untouched");
        if round == 1 {
            Document::discard_recovery(found);
        }
        doc.close_journal();
    }
    let mut doc = Document::open(&path).unwrap();
    assert!(doc.enable_journal(&jdir).unwrap().is_none(), "discarded");
}

/// A journal offered at open and neither recovered nor discarded is offered again at the next
/// open (and still recovers in full).
#[test]
fn an_ignored_journal_is_offered_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc.log");
    tome_gen::write_file(&tome_gen::GenConfig::sized(1 << 20), &path).unwrap();
    let jdir = dir.path().join("state").join("journal");
    let states = session(&path, &jdir, 11, 50);
    for _ in 0..2 {
        let mut doc = Document::open(&path).unwrap();
        let found = doc.enable_journal(&jdir).unwrap().expect("offered");
        assert!(found.fits);
        assert_eq!(found.records, states.len() - 1);
        // Ignored: the session ends clean.
    }
    let mut doc = Document::open(&path).unwrap();
    let found = doc.enable_journal(&jdir).unwrap().expect("offered");
    doc.recover(found).unwrap();
    assert!(content(&doc) == *states.last().unwrap());
}

/// The journal's filesystem fills up: the document says why its journal stopped (edits are
/// no longer protected), editing goes on, a save works, and the save restarts the journal.
/// Needs a small tmpfs, so root (CI runs as root); elsewhere it says so and passes.
#[test]
fn a_full_journal_disk_is_reported_and_editing_and_saving_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    std::fs::create_dir(&state).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tome-journal-full"])
        .arg(&state)
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipped: cannot mount a tmpfs here (not root?)");
        return;
    }
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(self.0).status();
        }
    }
    let _unmount = Unmount(&state);
    let path = dir.path().join("doc.txt");
    std::fs::write(&path, "first line\n".repeat(1000)).unwrap();
    let mut doc = Document::open(&path).unwrap();
    assert!(doc.enable_journal(&state).unwrap().is_none());
    doc.insert(0, "small edit\n").unwrap();
    doc.sync_journal();
    assert_eq!(doc.journal_failure(), None);
    // 128 KiB of typed text: more than the journal's disk holds.
    let big = "x".repeat(128 << 10);
    doc.insert(0, &big).unwrap();
    doc.sync_journal();
    let why = doc
        .journal_failure()
        .expect("the journal reports its failure");
    assert!(why.contains("space"), "{why}");
    // Editing goes on; the document is what was typed.
    doc.insert(0, "after\n").unwrap();
    doc.sync_journal();
    assert!(content(&doc).starts_with(b"after\nxxx"));
    // A save works, and restarts the journal on the saved file (the disk has room again).
    doc.save(None, &Control::new()).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), content(&doc));
    assert_eq!(
        doc.journal_failure(),
        None,
        "the save restarted the journal"
    );
    doc.insert(0, "journaled again\n").unwrap();
    doc.sync_journal();
    assert_eq!(doc.journal_failure(), None);
}

/// Recovers the journal left in `jdir` for `path` and returns the recovered content.
fn recovered(path: &Path, jdir: &Path) -> Vec<u8> {
    let mut doc = Document::open(path).unwrap();
    let found = doc
        .enable_journal(jdir)
        .unwrap()
        .expect("a journal to recover");
    let (_, stopped) = doc.recover(found).unwrap();
    assert_eq!(stopped, None);
    content(&doc)
}

fn matcher(pattern: &str) -> Matcher {
    Matcher::new(&Query {
        pattern: pattern.into(),
        regex: false,
        case_insensitive: false,
    })
    .unwrap()
}

/// Undoing a replace-all after typing (a typing group is one live step but several records)
/// recovers to what the user saw, not to an undo of another step.
#[test]
fn undo_of_a_replace_all_after_typing_recovers_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc.log");
    std::fs::write(&path, "alpha beta\n".repeat(1000)).unwrap();
    let jdir = dir.path().join("journal");
    let mut doc = Document::open(&path).unwrap();
    assert!(doc.enable_journal(&jdir).unwrap().is_none());
    doc.replace_all(&matcher("beta"), b"BETA", &Control::new())
        .unwrap();
    for (i, c) in "typed".chars().enumerate() {
        doc.insert(3 + i, c.to_string()).unwrap();
    }
    doc.undo().unwrap(); // the typing (one step live)
    doc.undo().unwrap(); // the replace-all
    doc.redo().unwrap(); // the replace-all again
    doc.undo().unwrap();
    let expected = content(&doc);
    doc.sync_journal();
    doc.simulate_crash();
    assert!(
        recovered(&path, &jdir) == expected,
        "recovered content differs"
    );
}

/// Edits made while a save writes are journaled against the saved file: a crash after the
/// save recovers them on top of it.
#[test]
fn edits_made_during_a_save_are_recovered_after_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc.log");
    tome_gen::write_file(&tome_gen::GenConfig::sized(4 << 20), &path).unwrap();
    let jdir = dir.path().join("journal");
    let mut doc = Document::open(&path).unwrap();
    assert!(doc.enable_journal(&jdir).unwrap().is_none());
    doc.wait_for_index(&Control::new()).unwrap();
    doc.insert(0, "before the save\n").unwrap();
    doc.replace_all(&matcher("seq=1"), b"SEQ=1", &Control::new())
        .unwrap();
    let job = doc.begin_save(None).unwrap();
    // While it writes: typing, a paste of text from far away, a deletion, an undo.
    doc.insert(10, "typed during the save").unwrap();
    let far = doc.view().read(3 << 20, (3 << 20) + 5000).unwrap();
    let paste = String::from_utf8_lossy(&far).into_owned();
    doc.insert(1 << 20, &paste).unwrap();
    doc.delete(2 << 20..(2 << 20) + 777).unwrap();
    doc.undo().unwrap();
    doc.delete(100..200).unwrap();
    let ran = job.run(&Control::new());
    doc.finish_save(job, ran).unwrap();
    let saved = std::fs::read(&path).unwrap();
    assert!(saved.starts_with(b"before the save\n"));
    // After the save: undo back past it (the replace-all made before the save), then type.
    doc.undo().unwrap();
    doc.undo().unwrap();
    doc.undo().unwrap();
    doc.insert(0, "after").unwrap();
    let expected = content(&doc);
    assert!(expected != saved);
    doc.sync_journal();
    doc.simulate_crash();
    assert!(
        recovered(&path, &jdir) == expected,
        "recovered content differs"
    );
}
