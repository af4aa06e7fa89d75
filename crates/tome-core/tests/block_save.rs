//! An edit that keeps the length (overwrites, a same-length replace-all) is saved in place by
//! writing only the changed bytes, behind a backup of just their 64 KiB blocks: random batches
//! of same-length overwrites, compared byte for byte with a plain `Vec` model after each save;
//! the undo history still reads the old bytes; many scattered changes fall back to the tail;
//! nothing is left behind.

use std::path::Path;

use tome_core::in_place::{BLOCK, MAX_BLOCK_RANGES};
use tome_core::{Control, Document, SaveChoice, SaveMethod, SaveReport};
use tome_gen::{GenConfig, Rng};

const SIZE: u64 = 64 << 20;

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

/// The 64 KiB blocks holding the byte ranges `edits`, touching ones merged: `(start, end)`.
fn blocks_of(edits: &[(usize, usize)], size: u64) -> Vec<(u64, u64)> {
    let mut sorted = edits.to_vec();
    sorted.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::new();
    for (s, e) in sorted {
        let s = s as u64 - s as u64 % BLOCK;
        let e = (e as u64).div_ceil(BLOCK) * BLOCK;
        let e = e.min(size);
        match out.last_mut() {
            Some(last) if last.1 >= s => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

/// Bytes in the union of the byte ranges `edits`.
fn run_bytes(edits: &[(usize, usize)]) -> u64 {
    let mut sorted = edits.to_vec();
    sorted.sort_unstable();
    let mut out: Vec<(usize, usize)> = Vec::new();
    for (s, e) in sorted {
        match out.last_mut() {
            Some(last) if last.1 >= s => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out.iter().map(|(s, e)| (e - s) as u64).sum()
}

#[test]
fn same_length_edits_write_only_their_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    tome_gen::write_file(&GenConfig::sized(SIZE), &path).unwrap();
    let original = std::fs::read(&path).unwrap();
    let size = original.len();
    let control = Control::new();
    let mut doc = Document::open(&path).unwrap();
    doc.wait_for_index(&control).unwrap();
    let mut model = original.clone();
    let mut rng = Rng::new(1616);
    let mut blocks_saves = 0;
    for round in 0..24 {
        // 1 to 12 overwrites anywhere (some across a block boundary, some with the same bytes),
        // now and then a few hundred or thousand scattered ones (blocks, or more ranges than
        // a block save writes: the tail).
        let many = round % 8 == 7;
        let n = if many {
            [MAX_BLOCK_RANGES + 50, 2000][round / 8 % 2]
        } else {
            1 + rng.below(12)
        };
        let mut edits = Vec::new();
        for _ in 0..n {
            let at = if rng.below(4) == 0 {
                // Just before a block boundary.
                let b = (1 + rng.below(size / BLOCK as usize - 1)) * BLOCK as usize;
                b - 1 - rng.below(10)
            } else {
                rng.below(size - 400)
            };
            let end = at + 1 + rng.below(300);
            let text: Vec<u8> = if rng.below(5) == 0 {
                model[at..end].to_vec()
            } else {
                model[at..end]
                    .iter()
                    .map(|&b| {
                        if b == b'\n' {
                            b'\n'
                        } else {
                            b'a' + (round as u8 % 26)
                        }
                    })
                    .collect()
            };
            doc.replace(at..end, std::str::from_utf8(&text).unwrap())
                .unwrap();
            model[at..end].copy_from_slice(&text);
            edits.push((at, end));
        }
        doc.break_undo_group();
        let report = save(&mut doc, SaveChoice::InPlace);
        assert_eq!(report.method, SaveMethod::InPlace, "round {round}");
        assert!(
            std::fs::read(&path).unwrap() == model,
            "round {round}: the file is the model"
        );
        let first = edits.iter().map(|e| e.0).min().unwrap() as u64;
        assert_eq!(report.from, first, "round {round}");
        let blocks = blocks_of(&edits, size as u64);
        let bytes: u64 = blocks.iter().map(|(s, e)| e - s).sum();
        let tail = size as u64 - (first - first % BLOCK);
        if blocks.len() <= MAX_BLOCK_RANGES && bytes < tail / 2 {
            assert!(n < 2000, "round {round}: too many blocks for a block save");
            blocks_saves += 1;
            assert_eq!(report.backed_up, bytes, "round {round}: only the blocks");
            assert_eq!(report.total_written(), run_bytes(&edits), "round {round}");
        } else {
            assert!(many || bytes >= tail / 2, "round {round}: {report:?}");
            assert_eq!(report.backed_up, tail, "round {round}: the tail");
            assert_eq!(report.total_written(), size as u64 - first, "round {round}");
        }
        assert!(doc.view().read(0, doc.len()).unwrap() == model);
        assert!(!doc.is_dirty());
        assert!(leftovers(dir.path()).is_empty(), "round {round}");
        // Every few rounds: move onto the saved file (as a pause in typing lets it).
        if round % 3 == 2 {
            doc.wait_for_index(&control).unwrap();
            doc.poll_index();
        }
    }
    assert!(blocks_saves >= 15, "{blocks_saves} saves wrote blocks");

    // The history reads the old bytes (from the backups, now unlinked): undo everything.
    while doc.undo().is_some() {}
    assert!(doc.view().read(0, doc.len()).unwrap() == original);
    save(&mut doc, SaveChoice::InPlace);
    assert!(std::fs::read(&path).unwrap() == original);
    assert!(leftovers(dir.path()).is_empty());
}

/// A plain save (Auto) of one overwrite near the start of a big file: in place, one block,
/// where it used to rename (the tail is the whole file).
#[test]
fn a_plain_save_of_an_overwrite_near_the_start_writes_one_block() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    tome_gen::write_file(&GenConfig::sized(SIZE), &path).unwrap();
    let mut model = std::fs::read(&path).unwrap();
    let mut doc = Document::open(&path).unwrap();
    let at = model.len() / 100 + 5;
    doc.replace(at..at + 4, "1%!!").unwrap();
    model[at..at + 4].copy_from_slice(b"1%!!");
    let report = save(&mut doc, SaveChoice::Auto);
    assert_eq!(report.method, SaveMethod::InPlace, "{report:?}");
    assert_eq!((report.from, report.backed_up), (at as u64, BLOCK));
    assert_eq!(report.total_written(), 4);
    assert!(std::fs::read(&path).unwrap() == model);
    assert!(leftovers(dir.path()).is_empty());
}

/// Right after an in-place save the document still reads the pieces of the file as it was
/// (their mapping of what was overwritten moved onto the backup) until the saved file is
/// indexed; the next save must still cost only its own edit, not the whole file. Two saves
/// in a row, each without waiting: an insertion near the end, then another; an overwrite
/// near the start, then another.
#[test]
fn the_save_right_after_an_in_place_save_costs_its_own_edit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    tome_gen::write_file(&GenConfig::sized(SIZE), &path).unwrap();
    let mut model = std::fs::read(&path).unwrap();
    let size = model.len();
    let mut doc = Document::open(&path).unwrap();

    let tail_edit = |doc: &mut Document, model: &mut Vec<u8>, at: usize, text: &str| {
        doc.insert(at, text).unwrap();
        model.splice(at..at, text.bytes());
        let report = save(doc, SaveChoice::Auto);
        assert_eq!(report.method, SaveMethod::InPlace, "{report:?}");
        assert_eq!(report.from, at as u64, "{report:?}");
        assert_eq!(report.total_written(), (model.len() - at) as u64);
        assert!(report.backed_up < (size - at) as u64 + BLOCK, "{report:?}");
        assert!(std::fs::read(&path).unwrap() == *model);
    };
    tail_edit(&mut doc, &mut model, size * 95 / 100, "first\n");
    tail_edit(&mut doc, &mut model, size * 96 / 100, "second\n");
    tail_edit(&mut doc, &mut model, size * 97 / 100, "third\n");

    for (i, at) in [size / 100, size / 50, size / 100 + 10]
        .into_iter()
        .enumerate()
    {
        doc.replace(at..at + 3, "abc").unwrap();
        model[at..at + 3].copy_from_slice(b"abc");
        let report = save(&mut doc, SaveChoice::Auto);
        assert_eq!(report.method, SaveMethod::InPlace, "{i}: {report:?}");
        assert_eq!((report.from, report.backed_up), (at as u64, BLOCK), "{i}");
        assert!(std::fs::read(&path).unwrap() == model);
    }
    assert!(leftovers(dir.path()).is_empty());
    // And once moved onto the saved file, still.
    doc.wait_for_index(&Control::new()).unwrap();
    doc.poll_index();
    let at = size / 2;
    doc.replace(at..at + 1, "Z").unwrap();
    model[at] = b'Z';
    let report = save(&mut doc, SaveChoice::Auto);
    assert_eq!((report.from, report.backed_up), (at as u64, BLOCK));
    assert!(std::fs::read(&path).unwrap() == model);
}

/// The document's own in-place saves are not changes by another program: right after each
/// one, and after moving onto the saved file, the file reads as unchanged; a write by someone
/// else is still seen. The file is a whole number of blocks and saved once without an edit,
/// where the save backs up nothing (so no older piece of the file is moved onto a backup) but
/// still gives the file a new modification time. Its time starts in the past so that every
/// save changes it, however coarse the filesystem's clock.
#[test]
fn in_place_saves_are_not_changes_on_disk() {
    use std::time::{Duration, SystemTime};
    use tome_core::DiskChange;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("aligned.log");
    let line = b"2026-12-01T03:00:00Z info an aligned line of sixty-four bytes..\n";
    assert_eq!(line.len(), 64);
    let mut model: Vec<u8> = line.repeat((4 * BLOCK) as usize / line.len());
    std::fs::write(&path, &model).unwrap();
    let past = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(past)
        .unwrap();
    let mut doc = Document::open(&path).unwrap();
    assert_eq!(doc.disk_change(), DiskChange::Unchanged);

    let report = save(&mut doc, SaveChoice::InPlace);
    assert_eq!(
        (report.method, report.total_written()),
        (SaveMethod::InPlace, 0)
    );
    assert_eq!(doc.disk_change(), DiskChange::Unchanged, "clean save");

    let at = model.len() / 3;
    doc.replace(at..at + 5, "fifth").unwrap();
    model[at..at + 5].copy_from_slice(b"fifth");
    save(&mut doc, SaveChoice::InPlace);
    assert_eq!(doc.disk_change(), DiskChange::Unchanged, "overwrite");

    let end = model.len() - 10;
    doc.insert(end, "grown\n").unwrap();
    model.splice(end..end, b"grown\n".iter().copied());
    save(&mut doc, SaveChoice::InPlace);
    assert_eq!(doc.disk_change(), DiskChange::Unchanged, "insertion");
    assert!(std::fs::read(&path).unwrap() == model);

    doc.wait_for_index(&Control::new()).unwrap();
    doc.poll_index();
    assert_eq!(
        doc.disk_change(),
        DiskChange::Unchanged,
        "moved onto the file"
    );

    // Another program overwrites one byte without changing the size: still seen.
    use std::os::unix::fs::FileExt;
    let other = std::fs::File::options().write(true).open(&path).unwrap();
    other.write_all_at(b"X", 100).unwrap();
    other.set_modified(past).unwrap();
    assert_eq!(doc.disk_change(), DiskChange::Rewritten, "outside write");
}
