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
//! **Right after a save.** A save leaves the document's pieces on the files it read (an
//! in-place save also moves their mapping of what it overwrote onto its backup: *detached*,
//! they no longer stand for the file) until the saved file is indexed and the document moves
//! onto it. Meanwhile the file holds exactly the saved snapshot's text, so a piece is also an
//! identity piece if the saved snapshot had the very same bytes (same buffer, same offset in
//! it) at the same document offset ([`Saved`]), provided the file is still what that save
//! wrote: the saved file as opened after the save, unchanged since (same test as above).
//! Without this, the next save would find the first change at 0 and rewrite the whole file.
//!
//! Cost: one `stat` and a few 4 KiB reads per source met (once each), and one step per
//! identity piece before the answer (their number grows with the edits before it, not with
//! the file's size).

use std::os::unix::fs::MetadataExt;

use crate::source::DiskChange;
use crate::tree::{Piece, PieceTree, Src};
use crate::view::View;

/// The text a save wrote, while the document has not moved onto the saved file yet: the saved
/// snapshot's tree, and the saved file's source (opened right after the save).
#[derive(Clone, Debug)]
pub(crate) struct Saved {
    pub tree: PieceTree,
    pub source: u32,
}

/// The first offset at which `view` may differ from the file `meta` describes (which the
/// last save of this document wrote as `saved`, if it has not moved onto it yet). See the
/// module documentation.
pub(crate) fn first_change(
    view: &View<'_>,
    meta: &std::fs::Metadata,
    saved: Option<&Saved>,
) -> u64 {
    let mut trust = Trust::new(view, meta, saved);
    let mut at = 0usize;
    for (piece, start) in view.tree.pieces_from(0) {
        if !trust.is_identity(view, &piece, start) {
            break;
        }
        at = start + piece.len();
    }
    (at as u64).min(meta.len())
}

/// The ranges `(start, end)` of `view` from `from` on (document offsets, sorted, touching
/// ones merged) that may differ from the file `meta` describes: the pieces that are not
/// identity pieces (same rule as [`first_change`]). `None` as soon as there are more than
/// `limit` of them: the caller then writes the whole tail. Meant for a document as long as
/// the file (an edit that kept the length), where every identity piece after a change is
/// still at its own offset. Cost: one step per piece from `from` to the end (at most `limit`
/// changed ones), plus what [`first_change`] costs per source.
pub(crate) fn changed_runs(
    view: &View<'_>,
    meta: &std::fs::Metadata,
    saved: Option<&Saved>,
    from: u64,
    limit: usize,
) -> Option<Vec<(u64, u64)>> {
    let mut trust = Trust::new(view, meta, saved);
    let mut runs: Vec<(u64, u64)> = Vec::new();
    for (piece, start) in view.tree.pieces_from(from as usize) {
        if piece.len() == 0 || trust.is_identity(view, &piece, start) {
            continue;
        }
        let (s, e) = (start as u64, (start + piece.len()) as u64);
        if let Some(last) = runs.last_mut().filter(|last| last.1 >= s) {
            last.1 = last.1.max(e);
        } else if runs.len() == limit {
            return None;
        } else {
            runs.push((s, e));
        }
    }
    Some(runs)
}

/// Whether each source of a view stands for the file being saved over, asked once per source.
struct Trust<'a> {
    id: (u64, u64),
    trusted: Vec<Option<bool>>,
    /// The last save's text, if the file is still what it wrote.
    saved: Option<&'a PieceTree>,
}

impl<'a> Trust<'a> {
    fn new(view: &View<'_>, meta: &std::fs::Metadata, saved: Option<&'a Saved>) -> Trust<'a> {
        let mut trust = Trust {
            id: (meta.dev(), meta.ino()),
            trusted: vec![None; view.bufs.sources.len()],
            saved: None,
        };
        trust.saved = saved
            .filter(|s| (s.source as usize) < view.bufs.sources.len())
            .filter(|s| trust.stands_for_file(view, s.source))
            .map(|s| &s.tree);
        trust
    }

    /// True if source `s` is the file, not detached, and unchanged on disk (or only appended
    /// to) since it was opened.
    fn stands_for_file(&mut self, view: &View<'_>, s: u32) -> bool {
        let src = &view.bufs.sources[s as usize];
        let id = self.id;
        *self.trusted[s as usize].get_or_insert_with(|| {
            let identity = src.identity();
            (identity.dev, identity.ino) == id
                && !src.is_detached()
                && matches!(
                    src.disk_change(),
                    DiskChange::Unchanged | DiskChange::Appended { .. }
                )
        })
    }

    /// True if `piece`, at document offset `start`, is an identity piece (see the module
    /// documentation).
    fn is_identity(&mut self, view: &View<'_>, piece: &Piece, start: usize) -> bool {
        if let Src::Original(s) = piece.src {
            if self.stands_for_file(view, s)
                && view.bufs.sources[s as usize].file_offset(piece.start) == start as u64
            {
                return true;
            }
        }
        self.saved
            .is_some_and(|tree| same_bytes_at(tree, piece, start))
    }
}

/// True if `tree` holds `piece`'s bytes (the same buffer at the same offsets) at document
/// offset `start`. Cost: O(log pieces) plus one step per piece of `tree` it spans.
fn same_bytes_at(tree: &PieceTree, piece: &Piece, start: usize) -> bool {
    let end = start + piece.len();
    let (mut at, mut want) = (start, piece.start);
    for (q, q_start) in tree.pieces_from(start) {
        if at >= end {
            break;
        }
        let skip = at - q_start.min(at);
        if q.src != piece.src || q_start > at || q.start + skip != want || q.len() <= skip {
            return false;
        }
        let take = (q.len() - skip).min(end - at);
        at += take;
        want += take;
    }
    at >= end
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
            let first = first_change(&doc.view(), &meta, None);
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
        assert_eq!(first_change(&doc.view(), &meta, None), 2_000_000);
        // Undone: nothing differs.
        doc.undo().unwrap();
        assert_eq!(
            first_change(&doc.view(), &meta, None),
            original.len() as u64
        );
        // An append: the old length.
        doc.insert(original.len(), "tail").unwrap();
        assert_eq!(
            first_change(&doc.view(), &meta, None),
            original.len() as u64
        );
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
        assert_eq!(first_change(&doc.view(), &meta, None), 500);
        // Another file of the same bytes is not this file.
        let other = dir.path().join("g.log");
        std::fs::write(&other, &original).unwrap();
        let doc = Document::open(&other).unwrap();
        assert_eq!(first_change(&doc.view(), &meta, None), 0);
        // The file rewritten in place since it was opened: nothing can be trusted.
        let doc = Document::open(&path).unwrap();
        std::os::unix::fs::FileExt::write_at(
            &std::fs::OpenOptions::new().write(true).open(&path).unwrap(),
            b"X",
            0,
        )
        .unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(first_change(&doc.view(), &meta, None), 0);
    }
}
