//! Bookmarks through the engine: they follow every kind of change exactly as a naive model of
//! the text says, are stored for the file on disk (mapped back through unsaved edits), come
//! back at the next open of the unchanged file, and are dropped for a changed one; what
//! another user may plant in the state directory is never trusted or followed.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use proptest::prelude::*;
use tome_core::bookmarks::BookmarkStore;
use tome_core::{Control, Document, Edit};

fn open(path: &Path, store: &Path) -> (Document, tome_core::bookmarks::Loaded) {
    let mut doc = Document::open(path).unwrap();
    doc.wait_for_index(&Control::new()).unwrap();
    let loaded = doc.enable_bookmarks(BookmarkStore::open(store).unwrap());
    (doc, loaded)
}

fn text(doc: &Document) -> Vec<u8> {
    doc.view().read(0, doc.len()).unwrap()
}

fn marks(doc: &Document) -> Vec<(String, usize)> {
    doc.bookmarks()
        .iter()
        .map(|(n, o)| (n.to_owned(), o))
        .collect()
}

/// The naive model: every byte has an id; a bookmark names the byte it is on (or the end).
/// An edit batch (sorted ranges of the text before it) keeps the bytes outside its ranges;
/// a bookmark whose byte was removed goes to where its range's replacement starts.
struct Model {
    bytes: Vec<(u8, u64)>,
    next_id: u64,
    /// name → id of the byte it is on (`u64::MAX`: the end).
    marks: Vec<(String, u64)>,
}

impl Model {
    fn new(text: &[u8]) -> Model {
        Model {
            bytes: text
                .iter()
                .enumerate()
                .map(|(i, &b)| (b, i as u64))
                .collect(),
            next_id: text.len() as u64,
            marks: Vec::new(),
        }
    }

    fn set(&mut self, name: &str, at: usize) {
        let id = self.bytes.get(at).map_or(u64::MAX, |b| b.1);
        self.marks.retain(|m| m.0 != name);
        self.marks.push((name.to_owned(), id));
    }

    fn apply(&mut self, edits: &[(usize, usize, Vec<u8>)]) {
        let mut sorted = edits.to_vec();
        sorted.sort_by_key(|e| (e.0, e.1));
        let mut out = Vec::new();
        let mut moved_to: Vec<(u64, usize)> = Vec::new();
        let mut i = 0;
        for (start, end, t) in &sorted {
            out.extend_from_slice(&self.bytes[i..*start]);
            let here = out.len();
            for b in &self.bytes[*start..*end] {
                moved_to.push((b.1, here));
            }
            for &c in t {
                out.push((c, self.next_id));
                self.next_id += 1;
            }
            i = *end;
        }
        out.extend_from_slice(&self.bytes[i..]);
        self.bytes = out;
        // Removed bytes' marks: re-pointed at the byte now at their new place.
        for m in &mut self.marks {
            if let Some(&(_, at)) = moved_to.iter().find(|(id, _)| *id == m.1) {
                m.1 = self.bytes.get(at).map_or(u64::MAX, |b| b.1);
            }
        }
    }

    fn offsets(&self) -> Vec<(String, usize)> {
        let mut v: Vec<(String, usize)> = self
            .marks
            .iter()
            .map(|(n, id)| {
                let at = if *id == u64::MAX {
                    self.bytes.len()
                } else {
                    self.bytes.iter().position(|b| b.1 == *id).unwrap()
                };
                (n.clone(), at)
            })
            .collect();
        v.sort();
        v
    }

    fn text(&self) -> Vec<u8> {
        self.bytes.iter().map(|b| b.0).collect()
    }
}

#[derive(Clone, Debug)]
enum Op {
    /// Non-overlapping edits as fractions (thousandths) of the length: (start, len, text).
    Batch(Vec<(u16, u16, String)>),
    Set(u8, u16),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => proptest::collection::vec((0u16..1000, 0u16..200, "[a-c\n]{0,6}"), 1..4)
            .prop_map(Op::Batch),
        1 => (0u8..4, 0u16..1001).prop_map(|(n, at)| Op::Set(n, at)),
    ]
}

/// Edits of `ops` resolved against a text of `len` bytes: sorted, not overlapping.
fn resolve(len: usize, raw: &[(u16, u16, String)]) -> Vec<(usize, usize, Vec<u8>)> {
    let mut edits: Vec<(usize, usize, Vec<u8>)> = Vec::new();
    for (s, l, t) in raw {
        let start = len * usize::from(*s) / 1000;
        let end = (start + len * usize::from(*l) / 1000).min(len);
        if edits
            .iter()
            .all(|e| end <= e.0 || start >= e.1 && start != e.0)
        {
            edits.push((start, end, t.clone().into_bytes()));
        }
    }
    edits
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Random batches of edits and bookmark moves: the document's bookmarks are where the
    /// naive model puts them; after a save, a fresh open of the saved file offers them at the
    /// same offsets, each on the same text.
    #[test]
    fn bookmarks_follow_edits_as_the_naive_model_and_survive_a_save(
        ops in proptest::collection::vec(op(), 1..25)
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.txt");
        let store = dir.path().join("state/bookmarks");
        let start: Vec<u8> = (0..300).map(|i| if i % 17 == 16 { b'\n' } else { b'a' + (i % 26) as u8 }).collect();
        std::fs::write(&path, &start).unwrap();
        let (mut doc, _) = open(&path, &store);
        let mut model = Model::new(&start);
        for (i, name) in ["A", "B", "7", "todo"].iter().enumerate() {
            doc.set_bookmark(name, i * 70).unwrap();
            model.set(name, i * 70);
        }
        for op in &ops {
            match op {
                Op::Batch(raw) => {
                    let edits = resolve(doc.len(), raw);
                    doc.apply(edits.iter().map(|(s, e, t)| Edit { range: *s..*e, text: t.clone() }).collect()).unwrap();
                    model.apply(&edits);
                }
                Op::Set(n, at) => {
                    let name = ["A", "B", "7", "todo"][usize::from(*n)];
                    let at = doc.len() * usize::from(*at) / 1000;
                    doc.set_bookmark(name, at).unwrap();
                    model.set(name, at);
                }
            }
            prop_assert_eq!(text(&doc), model.text());
            prop_assert_eq!(marks(&doc), model.offsets());
        }
        doc.save(None, &Control::new()).unwrap();
        let want = marks(&doc);
        let saved = text(&doc);
        drop(doc);
        let (again, loaded) = open(&path, &store);
        prop_assert!(!loaded.dropped);
        prop_assert_eq!(marks(&again), want.clone());
        prop_assert_eq!(text(&again), saved);
    }
}

#[test]
fn undo_and_redo_move_bookmarks_back_and_forth() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.txt");
    std::fs::write(&path, "zero\none\ntwo\nthree\n").unwrap();
    let (mut doc, _) = open(&path, &dir.path().join("bm"));
    doc.set_bookmark("A", 9).unwrap(); // "two"
    doc.insert(0, "new line\n").unwrap();
    assert_eq!(doc.bookmarks().get("A"), Some(18));
    doc.undo().unwrap();
    assert_eq!(doc.bookmarks().get("A"), Some(9));
    doc.redo().unwrap();
    assert_eq!(doc.bookmarks().get("A"), Some(18));
    // A whole-document change keeps the line and column.
    let m = tome_core::Matcher::new(&tome_core::Query {
        pattern: "o".into(),
        regex: false,
        case_insensitive: false,
    })
    .unwrap();
    doc.set_bookmark("B", 24).unwrap(); // "three"[2]
    doc.replace_all(&m, b"OOO", &Control::new()).unwrap();
    let t = text(&doc);
    assert_eq!(&t[doc.bookmarks().get("A").unwrap()..][..3], b"twO");
    let b = doc.bookmarks().get("B").unwrap();
    assert_eq!(&t[b - 2..][..5], b"three");
    doc.undo().unwrap();
    assert_eq!(doc.bookmarks().get("A"), Some(18));
}

/// Lines of `text`, and the line and its content a byte offset is on.
fn line_at(text: &[u8], at: usize) -> (usize, Vec<u8>) {
    let line = text[..at].iter().filter(|&&b| b == b'\n').count();
    let start = text[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let end = text[at..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(text.len(), |i| at + i);
    (line, text[start..end].to_vec())
}

#[test]
fn bookmarks_set_on_an_unsaved_document_are_stored_for_the_file_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.txt");
    let lines: Vec<String> = (0..50).map(|i| format!("line number {i}")).collect();
    let disk = lines.join("\n").into_bytes();
    std::fs::write(&path, &disk).unwrap();
    let store = dir.path().join("bm");
    let (mut doc, loaded) = open(&path, &store);
    assert_eq!(loaded, Default::default());
    doc.insert(0, "inserted\nlines\n").unwrap();
    doc.delete(100..130).unwrap();
    let t = text(&doc);
    // On line 20 of the edited text, in the middle of it; and one inside inserted text.
    let on = doc.view().line_start(20).unwrap() + 5;
    let (_, content) = line_at(&t, on);
    assert!(doc.set_bookmark("A", on).unwrap());
    assert!(doc.set_bookmark("new", 3).unwrap());
    drop(doc); // unsaved edits dropped: the file on disk is unchanged
    let (again, loaded) = open(&path, &store);
    assert!(!loaded.dropped);
    let a = again.bookmarks().get("A").unwrap();
    assert_eq!(line_at(&disk, a).1, content);
    let column = |t: &[u8], at: usize| {
        at - t[..at]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1)
    };
    assert_eq!(column(&disk, a), column(&t, on), "same column");
    assert_eq!(
        again.bookmarks().get("new"),
        Some(0),
        "where the text was inserted"
    );
}

#[test]
fn a_file_changed_between_sessions_drops_its_bookmarks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.txt");
    let store = dir.path().join("bm");
    let body: String = (0..2000).map(|i| format!("{i}\n")).collect();
    for change in 0..3 {
        std::fs::write(&path, &body).unwrap();
        let (mut doc, _) = open(&path, &store);
        doc.set_bookmark("A", 100).unwrap();
        drop(doc);
        match change {
            // Same size, one byte rewritten in place.
            0 => {
                use std::os::unix::fs::FileExt;
                let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
                f.write_all_at(b"X", 4000).unwrap();
            }
            // Appended.
            1 => {
                use std::io::Write;
                let mut f = std::fs::OpenOptions::new()
                    .append(true)
                    .open(&path)
                    .unwrap();
                f.write_all(b"more\n").unwrap();
            }
            // Replaced by another file with the same text.
            _ => {
                let other = dir.path().join("new");
                std::fs::write(&other, &body).unwrap();
                std::fs::rename(&other, &path).unwrap();
            }
        }
        let (doc, loaded) = open(&path, &store);
        if change == 1 {
            // An appended log keeps its bookmarks (its old bytes did not move).
            assert_eq!(marks(&doc), vec![("A".to_owned(), 100)]);
            assert!(!loaded.dropped);
            continue;
        }
        assert!(doc.bookmarks().is_empty(), "change {change}");
        // A replaced file has another inode: nothing stored for it, nothing dropped.
        assert_eq!(loaded.dropped, change != 2, "change {change}");
    }
}

fn append(path: &Path, bytes: &[u8]) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(bytes).unwrap();
}

#[test]
fn a_grown_file_keeps_its_bookmarks_only_if_its_old_bytes_are_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.log");
    let store = dir.path().join("bm");
    let body: String = (0..20_000).map(|i| format!("line {i}\n")).collect();
    // Rewritten where a sampled block is (the first, the last of the old extent), then grown.
    for (at, rewrite) in [(0u64, true), (body.len() as u64 - 1, true), (0, false)] {
        std::fs::write(&path, &body).unwrap();
        let (mut doc, _) = open(&path, &store);
        doc.set_bookmark("A", 500).unwrap();
        drop(doc);
        if rewrite {
            use std::os::unix::fs::FileExt;
            let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
            f.write_all_at(b"#", at).unwrap();
        }
        append(&path, b"appended 1\nappended 2\n");
        let (doc, loaded) = open(&path, &store);
        if rewrite {
            assert!(
                doc.bookmarks().is_empty() && loaded.dropped,
                "rewritten at {at}"
            );
        } else {
            assert_eq!(marks(&doc), vec![("A".to_owned(), 500)]);
            assert!(!loaded.dropped);
        }
    }
}

#[test]
fn bookmarks_of_a_followed_log_that_grew_are_stored_for_the_file_as_it_is_now() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.log");
    let store = dir.path().join("bm");
    let body: String = (0..20_000).map(|i| format!("line {i}\n")).collect();
    std::fs::write(&path, &body).unwrap();
    let (mut doc, _) = open(&path, &store);
    append(&path, b"new 1\nnew 2\nnew 3\n");
    assert!(
        doc.follow_append().unwrap().is_some(),
        "the append is taken"
    );
    // One in the old part, one in the appended part; then an unsaved edit before both, which
    // the store maps back onto the file.
    let in_tail = body.len() + "new 1\n".len();
    doc.set_bookmark("A", 100).unwrap();
    assert!(
        doc.set_bookmark("T", in_tail).unwrap(),
        "stored although the file grew"
    );
    doc.insert(10, "INSERTED ").unwrap();
    assert!(doc.set_bookmark("B", 10).unwrap());
    drop(doc);
    let (doc, loaded) = open(&path, &store);
    assert!(!loaded.dropped);
    let file = std::fs::read(&path).unwrap();
    assert_eq!(
        marks(&doc),
        vec![
            ("A".to_owned(), 100),
            ("B".to_owned(), 10),
            ("T".to_owned(), in_tail)
        ]
    );
    assert_eq!(&file[in_tail..in_tail + 5], b"new 2");
    // Grown again after that (not taken by the document): the next open still keeps them.
    append(&path, b"new 4\n");
    let (doc, loaded) = open(&path, &store);
    assert!(!loaded.dropped);
    assert_eq!(doc.bookmarks().len(), 3);
}

#[test]
fn planted_corrupt_or_linked_entries_are_ignored_and_never_followed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.txt");
    let store = dir.path().join("bm");
    std::fs::write(&path, "a\nb\nc\nd\n").unwrap();
    let (mut doc, _) = open(&path, &store);
    doc.set_bookmark("A", 4).unwrap();
    drop(doc);
    let entry = std::fs::read_dir(&store)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "bm"))
        .unwrap();
    let good = std::fs::read(&entry).unwrap();
    let assert_ignored = |why: &str| {
        let (mut doc, loaded) = open(&path, &store);
        assert!(doc.bookmarks().is_empty(), "{why}");
        assert!(loaded.dropped, "{why}");
        // And it is replaced by a good one of ours.
        doc.set_bookmark("A", 4).unwrap();
        drop(doc);
        let meta = entry.symlink_metadata().unwrap();
        assert!(
            meta.is_file() && meta.permissions().mode() & 0o777 == 0o600,
            "{why}"
        );
        let (doc, loaded) = open(&path, &store);
        assert_eq!(doc.bookmarks().get("A"), Some(4), "{why}");
        assert!(!loaded.dropped);
    };
    // Flipped bytes, cut short, too long, empty.
    for at in [0, 9, 20, 60, good.len() / 2, good.len() - 1] {
        let mut bad = good.clone();
        bad[at] ^= 0x04;
        std::fs::write(&entry, &bad).unwrap();
        assert_ignored(&format!("flipped byte {at}"));
    }
    for cut in [0, 3, good.len() / 2, good.len() - 1] {
        std::fs::write(&entry, &good[..cut]).unwrap();
        assert_ignored(&format!("cut at {cut}"));
    }
    let mut huge = good.clone();
    huge.resize(1 << 20, b'x');
    std::fs::write(&entry, &huge).unwrap();
    assert_ignored("too large");
    // A valid CRC over a lie: a bookmark past the file's end, a count beyond the bound.
    let forge = |edit: &dyn Fn(&mut Vec<u8>)| {
        let mut b = good[..good.len() - 4].to_vec();
        edit(&mut b);
        let crc = crc32c::crc32c(&b);
        b.extend_from_slice(&crc.to_le_bytes());
        b
    };
    let n = good.len() - 4;
    std::fs::write(
        &entry,
        forge(&|b| b[n - 8..].copy_from_slice(&999u64.to_le_bytes())),
    )
    .unwrap();
    assert_ignored("offset past the end");
    std::fs::write(
        &entry,
        forge(&|b| b[n - 14..n - 10].copy_from_slice(&5000u32.to_le_bytes())),
    )
    .unwrap();
    assert_ignored("count");
    // A link to a good entry elsewhere: not followed, and not written through.
    let elsewhere = dir.path().join("elsewhere.bm");
    std::fs::write(&elsewhere, &good).unwrap();
    std::fs::set_permissions(&elsewhere, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::remove_file(&entry).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &entry).unwrap();
    assert_ignored("symbolic link");
    assert_eq!(
        std::fs::read(&elsewhere).unwrap(),
        good,
        "written through a link"
    );
    // A good entry others may write, or with a second name (a hard link).
    std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert_ignored("mode 0644");
    std::fs::hard_link(&entry, store.join("other")).unwrap();
    assert_ignored("hard link");
    // A directory others may use is refused as a whole.
    let open_dir = dir.path().join("open");
    std::fs::create_dir(&open_dir).unwrap();
    std::fs::set_permissions(&open_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert!(BookmarkStore::open(&open_dir).is_err());
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&store, &link).unwrap();
    assert!(BookmarkStore::open(&link).is_err());
}

#[test]
fn the_store_keeps_the_most_recently_used_entries_up_to_its_bound() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("bm");
    let files: Vec<_> = (0..8)
        .map(|i| dir.path().join(format!("f{i}.txt")))
        .collect();
    let open_bounded = |path: &Path| {
        let mut doc = Document::open(path).unwrap();
        doc.wait_for_index(&Control::new()).unwrap();
        let s = BookmarkStore::open(&store).unwrap().with_max_entries(5);
        let loaded = doc.enable_bookmarks(s);
        (doc, loaded)
    };
    let entries = || {
        std::fs::read_dir(&store)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".bm")
            })
            .count()
    };
    for (i, f) in files.iter().enumerate() {
        std::fs::write(f, format!("file {i}\n")).unwrap();
        let (mut doc, _) = open_bounded(f);
        doc.set_bookmark("A", 2).unwrap();
        // Entries' times order them: keep them apart on a coarse clock.
        std::thread::sleep(std::time::Duration::from_millis(20));
        if i == 3 {
            // The first file is used again: it becomes the newest.
            let (doc, _) = open_bounded(&files[0]);
            assert_eq!(marks(&doc), vec![("A".to_owned(), 2)]);
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(entries() <= 5, "after file {i}: {} entries", entries());
    }
    assert_eq!(entries(), 5);
    // Kept: file 0 (used again) and the four newest; gone: files 1, 2 and 3.
    for (i, f) in files.iter().enumerate() {
        let (doc, loaded) = open_bounded(f);
        let kept = i == 0 || i >= 4;
        assert_eq!(!doc.bookmarks().is_empty(), kept, "file {i}");
        assert!(!loaded.dropped, "an evicted entry is not a changed file");
    }
}
