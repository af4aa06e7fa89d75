//! Journal records that describe a change of content by what it is, not by how it was made:
//! for the changes whose replay would otherwise depend on state the journal does not have.
//!
//! Two cases need them:
//!
//! * **Edits made while a save was writing.** The journal restarts against the saved file,
//!   which holds the content as it was when the save began; the edits acknowledged since are
//!   recorded again, as one record that turns that content into the current one
//!   ([`Document::rejournal_since_save`]). Without it a crash after the save lost them.
//! * **Undo and redo of a whole-tree change** (a replace-all, a batch removing many pieces).
//!   A record "undo" replays as an undo of the replayed history, whose steps are not the live
//!   ones (typing groups replay as one step per record; steps made before the journal last
//!   restarted are not there at all), so it could undo the wrong change. They are recorded as
//!   the difference between the trees before and after ([`Document::log_tree_change`]); a
//!   redo of a replace-all on unchanged content is recorded as the replace-all again (its
//!   text would otherwise be written out).
//!
//! A difference is one splice: the pieces the two trees share at their start and end are
//! skipped, and the pieces in between are recorded as ranges of the journal's base file where
//! the base holds their bytes, by value otherwise. Cost: O(pieces) to walk both trees, plus
//! the bytes recorded by value.

use super::history::total_len;
use super::{bufs, Document, Snapshot};
use crate::journal::{Part as JPart, Record, Splice as JSplice};
use crate::tree::{Piece, PieceTree, Src};

impl Document {
    /// After a save of `saved` finished and the journal restarted against the saved file:
    /// records the edits made since the save began (the saved file holds the content of
    /// `saved`), so that a crash from now on recovers them.
    pub(super) fn rejournal_since_save(&self, saved: &Snapshot) {
        if self.journal.is_none()
            || (self.revision == saved.revision && self.tree.len() == saved.tree.len())
        {
            return;
        }
        let bufs = bufs(&self.sources, &self.add);
        let (at, remove, middle) = changed_middle(&saved.tree, &self.tree, bufs);
        if remove == 0 && middle.is_empty() {
            return;
        }
        let in_saved = SavedRanges::of(&saved.tree);
        let mut parts = Vec::new();
        for piece in &middle {
            let mut done = 0;
            while done < piece.len() {
                let (at_src, left) = (piece.start + done, piece.len() - done);
                let part = match in_saved.find(piece.src, at_src) {
                    Some((offset, run)) => {
                        let len = run.min(left);
                        (
                            JPart::File {
                                offset: offset as u64,
                                len: len as u64,
                            },
                            len,
                        )
                    }
                    None => {
                        let len = in_saved.uncovered(piece.src, at_src, left);
                        let bytes = bufs.bytes(piece);
                        (JPart::Bytes(bytes[done..done + len].to_vec()), len)
                    }
                };
                push_part(&mut parts, part.0);
                done += part.1;
            }
        }
        self.log(|| {
            Record::Splices(vec![JSplice {
                at: at as u64,
                remove: remove as u64,
                parts,
            }])
        });
    }

    /// Records that the tree went from `before` to the current one (an undo or redo of a
    /// whole-tree change): as the difference between the two.
    pub(super) fn log_tree_change(&self, before: &PieceTree) {
        if self.journal.is_none() {
            return;
        }
        let bufs = bufs(&self.sources, &self.add);
        let (at, remove, middle) = changed_middle(before, &self.tree, bufs);
        if remove == 0 && middle.is_empty() {
            return;
        }
        let parts = self.journal_parts(&middle);
        self.log(|| {
            Record::Splices(vec![JSplice {
                at: at as u64,
                remove: remove as u64,
                parts,
            }])
        });
    }
}

/// Appends `part` to `parts`, joining it to the last one when both are contiguous ranges of the
/// base file (a piece split across adjacent pieces of the saved tree).
fn push_part(parts: &mut Vec<JPart>, part: JPart) {
    if let (Some(JPart::File { offset, len }), JPart::File { offset: o, len: l }) =
        (parts.last_mut(), &part)
    {
        if *offset + *len == *o {
            *len += l;
            return;
        }
    }
    parts.push(part);
}

/// What differs between two trees: (the offset where the difference starts, how many bytes of
/// `from` it replaces, the pieces of `to` in their place). The shared start and end are found
/// by the pieces' buffers and offsets (same buffer, same offset: same bytes), so two trees that
/// split the same text differently still share it. O(pieces).
fn changed_middle(
    from: &PieceTree,
    to: &PieceTree,
    bufs: crate::tree::Bufs<'_>,
) -> (usize, usize, Vec<Piece>) {
    let a: Vec<Piece> = from.pieces_from(0).map(|(p, _)| p).collect();
    let b: Vec<Piece> = to.pieces_from(0).map(|(p, _)| p).collect();
    let prefix = shared_run(
        a.iter().map(|p| (p.src, p.start, p.len())),
        b.iter().map(|p| (p.src, p.start, p.len())),
    );
    // From the end: the same walk over pieces reversed, with offsets counted down from each
    // piece's end (a negated end makes "contiguous" read the same way).
    let suffix = shared_run(
        a.iter()
            .rev()
            .map(|p| (p.src, usize::MAX - p.end(), p.len())),
        b.iter()
            .rev()
            .map(|p| (p.src, usize::MAX - p.end(), p.len())),
    );
    let (la, lb) = (from.len(), to.len());
    let suffix = suffix.min(la.min(lb) - prefix);
    let middle = to.pieces_in(prefix, lb - suffix, &bufs);
    debug_assert_eq!(total_len(&middle), lb - suffix - prefix);
    (prefix, la - suffix - prefix, middle)
}

/// How many bytes two sequences of runs `(buffer, offset, length)` hold in common from their
/// start, run boundaries aside.
fn shared_run(
    a: impl Iterator<Item = (Src, usize, usize)>,
    b: impl Iterator<Item = (Src, usize, usize)>,
) -> usize {
    let (mut a, mut b) = (a.peekable(), b.peekable());
    let (mut into_a, mut into_b, mut shared) = (0, 0, 0);
    while let (Some(&(sa, oa, la)), Some(&(sb, ob, lb))) = (a.peek(), b.peek()) {
        if sa != sb || oa + into_a != ob + into_b {
            break;
        }
        let step = (la - into_a).min(lb - into_b);
        shared += step;
        into_a += step;
        into_b += step;
        if into_a == la {
            a.next();
            into_a = 0;
        }
        if into_b == lb {
            b.next();
            into_b = 0;
        }
    }
    shared
}

/// Where the bytes of each buffer range sit in a saved tree's content: `(buffer, start, end,
/// offset in the content)`, sorted by buffer and start.
struct SavedRanges(Vec<(Src, usize, usize, usize)>);

impl SavedRanges {
    fn of(tree: &PieceTree) -> SavedRanges {
        let mut runs: Vec<_> = tree
            .pieces_from(0)
            .map(|(p, at)| (p.src, p.start, p.end(), at))
            .collect();
        runs.sort_unstable_by_key(|r| (src_key(r.0), r.1));
        SavedRanges(runs)
    }

    /// The run holding byte `at` of buffer `src`, if the saved content has it: (its offset in
    /// the saved content, how many bytes from there the run holds).
    fn find(&self, src: Src, at: usize) -> Option<(usize, usize)> {
        let key = (src_key(src), at);
        let i = self.0.partition_point(|r| (src_key(r.0), r.1) <= key);
        let &(s, start, end, offset) = self.0.get(i.checked_sub(1)?)?;
        (s == src && at < end).then(|| (offset + (at - start), end - at))
    }

    /// How many bytes from `at` of buffer `src` (at most `left`) the saved content has no run
    /// for, up to the next run that starts: written by value.
    fn uncovered(&self, src: Src, at: usize, left: usize) -> usize {
        let key = (src_key(src), at);
        let i = self.0.partition_point(|r| (src_key(r.0), r.1) <= key);
        match self.0.get(i) {
            Some(&(s, start, _, _)) if s == src => (start - at).min(left),
            _ => left,
        }
    }
}

fn src_key(src: Src) -> (u8, u32) {
    match src {
        Src::Original(n) => (0, n),
        Src::Add(n) => (1, n),
    }
}
