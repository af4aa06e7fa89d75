//! Where a document first differs from the file it would be saved over, read from the piece
//! table alone: the in-place save writes only from there, and the choice between the two
//! saves weighs what is left after it.
//!
//! **The rule.** Walk the pieces from offset 0. A piece is an *identity piece* if it reads the
//! file being saved over (same device and inode) at the very offset where it sits in the
//! document (`file offset of its first byte == its offset in the document`), from a source
//! that still stands for the file: not detached by an earlier in-place save, and unchanged on
//! disk as far as [`Source::disk_change`](crate::Source::disk_change) can tell (`Unchanged`,
//! or `Appended`: bytes were only added after its end). The first changed offset is where the
//! first piece that is not an identity piece starts (inserted text, another file, the same
//! file's bytes moved), or the end of the document if every piece is one, capped at the
//! file's length.
//!
//! The answer is never past the first byte that really differs: every byte before it is the
//! file's own byte at that offset. It may be before it (a piece of typed text that happens to
//! equal the file's bytes, or the file's bytes moved back to where they were by a cut and a
//! paste): the save then writes a little more than it had to, never less. Undo brings the
//! identity pieces back, so an edit undone costs nothing.
//!
//! Cost: one `stat` and a few 4 KiB reads per source met (once each), and one step per
//! identity piece before the answer (their number grows with the edits before it, not with
//! the file's size).

use std::os::unix::fs::MetadataExt;

use crate::source::DiskChange;
use crate::tree::Src;
use crate::view::View;

/// The first offset at which `view` may differ from the file `meta` describes. See the
/// module documentation.
pub(crate) fn first_change(view: &View<'_>, meta: &std::fs::Metadata) -> u64 {
    let id = (meta.dev(), meta.ino());
    // Whether each source stands for the file, asked once per source.
    let mut trusted: Vec<Option<bool>> = vec![None; view.bufs.sources.len()];
    let mut at = 0usize;
    for (piece, start) in view.tree.pieces_from(0) {
        let Src::Original(s) = piece.src else {
            break;
        };
        let src = &view.bufs.sources[s as usize];
        let ok = *trusted[s as usize].get_or_insert_with(|| {
            let identity = src.identity();
            (identity.dev, identity.ino) == id
                && !src.is_detached()
                && matches!(
                    src.disk_change(),
                    DiskChange::Unchanged | DiskChange::Appended { .. }
                )
        });
        if !ok || src.file_offset(piece.start) != start as u64 {
            break;
        }
        at = start + piece.len();
    }
    (at as u64).min(meta.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Document;
    use tome_gen::Rng;

    /// The first offset where `new` differs from `old` (the end of the shorter if one is a
    /// prefix of the other).
    fn first_difference(old: &[u8], new: &[u8]) -> u64 {
        let same = old.iter().zip(new).take_while(|(a, b)| a == b).count();
        same as u64
    }

    /// Random batches of edits (inserts, deletes, same-length overwrites, undos) on a plain
    /// `Vec` model: the rule's answer is never past the first real difference, never before
    /// the lowest offset an edit touched, and exactly the overwrite's offset for one
    /// overwrite whose first byte differs.
    #[test]
    fn the_first_change_is_never_past_the_first_difference() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.log");
        let original: Vec<u8> = (0..(1u32 << 20))
            .flat_map(|i| format!("{i:07}\n").into_bytes())
            .take(3 << 20)
            .collect();
        std::fs::write(&path, &original).unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        let mut rng = Rng::new(16);
        for round in 0..60 {
            let mut doc = Document::open(&path).unwrap();
            let mut model = original.clone();
            let mut lowest = u64::MAX;
            let edits = 1 + rng.below(12);
            for _ in 0..edits {
                let len = model.len();
                let at = rng.below(len + 1);
                match rng.below(4) {
                    0 => {
                        let text = format!("<{round}>").repeat(1 + rng.below(4));
                        doc.insert(at, &text).unwrap();
                        model.splice(at..at, text.bytes());
                    }
                    1 => {
                        let end = (at + rng.below(5000)).min(len);
                        doc.delete(at..end).unwrap();
                        model.drain(at..end);
                    }
                    2 => {
                        // Same length, and sometimes the same bytes (a no-op overwrite).
                        let end = (at + 1 + rng.below(100)).min(len);
                        let text: Vec<u8> = if rng.below(3) == 0 {
                            model[at..end].to_vec()
                        } else {
                            model[at..end].iter().map(|b| b ^ 0x20).collect()
                        };
                        doc.replace(at..end, &text).unwrap();
                        model.splice(at..end, text);
                    }
                    _ => {
                        if doc.undo().is_some() {
                            model = doc.view().read(0, doc.len()).unwrap();
                        }
                    }
                }
                lowest = lowest.min(at as u64);
                doc.break_undo_group();
            }
            assert!(doc.view().read(0, doc.len()).unwrap() == model);
            let first = first_change(&doc.view(), &meta);
            let real = first_difference(&original, &model);
            assert!(first <= real, "round {round}: {first} past {real}");
            assert!(
                first >= lowest.min(real),
                "round {round}: {first} before every edit ({lowest})"
            );
        }

        // One overwrite: exactly its offset.
        let mut doc = Document::open(&path).unwrap();
        doc.replace(2_000_000..2_000_003, "XYZ").unwrap();
        assert_eq!(first_change(&doc.view(), &meta), 2_000_000);
        // Undone: nothing differs.
        doc.undo().unwrap();
        assert_eq!(first_change(&doc.view(), &meta), original.len() as u64);
        // An append: the old length.
        doc.insert(original.len(), "tail").unwrap();
        assert_eq!(first_change(&doc.view(), &meta), original.len() as u64);
    }

    /// A piece of the file moved to another offset, another file's bytes, and a file changed
    /// on disk since it was opened all end the identity run.
    #[test]
    fn moved_bytes_and_changed_files_are_not_identity() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.log");
        let original = b"abcdefghij".repeat(100_000);
        std::fs::write(&path, &original).unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        let mut doc = Document::open(&path).unwrap();
        // Delete 10 bytes at 500: everything after shifts.
        doc.delete(500..510).unwrap();
        assert_eq!(first_change(&doc.view(), &meta), 500);
        // Another file of the same bytes is not this file.
        let other = dir.path().join("g.log");
        std::fs::write(&other, &original).unwrap();
        let doc = Document::open(&other).unwrap();
        assert_eq!(first_change(&doc.view(), &meta), 0);
        // The file rewritten in place since it was opened: nothing can be trusted.
        let doc = Document::open(&path).unwrap();
        std::os::unix::fs::FileExt::write_at(
            &std::fs::OpenOptions::new().write(true).open(&path).unwrap(),
            b"X",
            0,
        )
        .unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(first_change(&doc.view(), &meta), 0);
    }
}
