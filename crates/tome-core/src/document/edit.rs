//! Editing: single edits and atomic batches, and the add-buffer plumbing under them.
//!
//! A batch ([`Document::apply`]) is checked whole before anything changes (ranges inside the
//! document, none overlapping), then applied from its last edit to its first so that every
//! range still means what it meant before the batch, journaled as one record and recorded as
//! one undo step ([`super::history`]). Inserted text goes to the add buffer in pieces of at
//! most [`MAX_ADD_PIECE`] bytes, so later splits stay cheap.
//!
//! Cost: O(edits · log pieces + inserted bytes), plus the journal's copy of the inserted text.

use std::ops::Range;

use super::history::{classify, Change, SPLICE_LIMIT};
use super::{bufs, Changed, Document};
use crate::journal::{Part as JPart, Record, Splice as JSplice};
use crate::tree::{Piece, Src, MAX_ADD_PIECE};
use crate::{Error, Result};

/// One replacement in a batch: bytes `range` of the document before the batch become `text`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    /// Byte range in the document as it was before the batch.
    pub range: Range<usize>,
    /// The new text (may be empty: a deletion).
    pub text: Vec<u8>,
}

impl Edit {
    /// An insertion of `text` at `at`.
    pub fn insert(at: usize, text: impl Into<Vec<u8>>) -> Edit {
        Edit {
            range: at..at,
            text: text.into(),
        }
    }

    /// A deletion of `range`.
    pub fn delete(range: Range<usize>) -> Edit {
        Edit {
            range,
            text: Vec::new(),
        }
    }
}

impl Document {
    /// Inserts `text` at byte `at`. Consecutive typing forms one undo step.
    pub fn insert(&mut self, at: usize, text: impl AsRef<[u8]>) -> Result<u64> {
        self.apply(vec![Edit::insert(at, text.as_ref())])
    }

    /// Deletes bytes `range`.
    pub fn delete(&mut self, range: Range<usize>) -> Result<u64> {
        self.apply(vec![Edit::delete(range)])
    }

    /// Replaces bytes `range` with `text`.
    pub fn replace(&mut self, range: Range<usize>, text: impl AsRef<[u8]>) -> Result<u64> {
        self.apply(vec![Edit {
            range,
            text: text.as_ref().to_vec(),
        }])
    }

    /// Applies a batch of edits atomically: every range refers to the document before the
    /// batch; ranges must lie in the document and not overlap (insertions at one offset apply
    /// in the order given). Either all apply, as one undo step, or none (with an error).
    /// Returns the new version. Cost: O(edits · log pieces + inserted bytes).
    pub fn apply(&mut self, mut edits: Vec<Edit>) -> Result<u64> {
        self.validate(&mut edits)?;
        if edits
            .iter()
            .all(|e| e.range.is_empty() && e.text.is_empty())
        {
            return Ok(self.version);
        }
        self.poll_index();
        let kind = classify(&edits);
        let removed: Vec<Vec<Piece>> = {
            let bufs = bufs(&self.sources, &self.add);
            edits
                .iter()
                .map(|e| self.tree.pieces_in(e.range.start, e.range.end, &bufs))
                .collect()
        };
        let large = removed.iter().map(Vec::len).sum::<usize>() > SPLICE_LIMIT;
        // All or nothing, even if applying panics (a bug): the batch is applied while `before`
        // keeps the old tree (O(1) to take; the nodes the batch touches are copied, O(depth)
        // each), and only a batch applied whole is journaled and recorded. On a panic the
        // old tree comes back and the panic goes on (the server answers -32803); the bytes
        // already appended to the add buffer are unused, which the buffer allows.
        let before = self.tree.clone();
        let applied = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut changes = Vec::with_capacity(edits.len());
            for (edit, removed) in edits.iter().zip(removed).rev() {
                #[cfg(test)]
                tests::maybe_panic();
                let bufs = bufs(&self.sources, &self.add);
                self.tree.remove(edit.range.start, edit.range.end, &bufs);
                let inserted = self.insert_text(edit.range.start, &edit.text);
                changes.push(Change::Splice {
                    at: edit.range.start,
                    removed,
                    inserted,
                });
            }
            changes
        }));
        let mut changes = match applied {
            Ok(changes) => changes,
            Err(panic) => {
                self.tree = before;
                std::panic::resume_unwind(panic);
            }
        };
        // Last edit first, as applied: each one's range is still in the batch's coordinates.
        for e in edits.iter().rev() {
            self.bookmarks
                .splice(e.range.start, e.range.len(), e.text.len());
        }
        self.log(|| {
            Record::Splices(
                edits
                    .iter()
                    .rev()
                    .map(|e| JSplice {
                        at: e.range.start as u64,
                        remove: e.range.len() as u64,
                        parts: vec![JPart::Bytes(e.text.clone())],
                    })
                    .collect(),
            )
        });
        if large {
            changes = vec![Change::Swap {
                before,
                after: self.tree.clone(),
                redo_as: None,
            }];
        }
        let removed_bytes: usize = edits.iter().map(|e| e.range.len()).sum();
        let inserted_bytes: usize = edits.iter().map(|e| e.text.len()).sum();
        // Sorted and apart: one range from the first start to the last end covers them.
        let old_end = edits.iter().map(|e| e.range.end).max().unwrap_or(0);
        self.will_change(Changed {
            start: edits[0].range.start,
            old_end,
            new_end: old_end - removed_bytes + inserted_bytes,
        });
        self.record(changes, edits[0].range.start, kind);
        Ok(self.version)
    }

    fn validate(&self, edits: &mut [Edit]) -> Result<()> {
        if let Some(bad) = edits
            .iter()
            .find(|e| e.range.start > e.range.end || e.range.end > self.len())
        {
            return Err(Error::OutOfBounds(format!(
                "edit range {}..{} is outside the document (length {})",
                bad.range.start,
                bad.range.end,
                self.len()
            )));
        }
        self.check_units(edits)?;
        // Insertions at an offset go before a deletion starting there; equal keys keep their order.
        edits.sort_by_key(|e| (e.range.start, e.range.end));
        if let Some(w) = edits.windows(2).find(|w| w[0].range.end > w[1].range.start) {
            return Err(Error::OverlappingEdits(format!(
                "{}..{} overlaps {}..{}",
                w[0].range.start, w[0].range.end, w[1].range.start, w[1].range.end
            )));
        }
        Ok(())
    }

    /// In a UTF-16 document, every edit must start and end on a code unit boundary (an even
    /// offset) that is not inside a surrogate pair, and insert whole units: the pieces then
    /// always start at unit boundaries, which the line-break rule needs (see
    /// [`crate::breaks::Newlines`]). Cost: O(edits).
    fn check_units(&self, edits: &[Edit]) -> Result<()> {
        let nl = self.newlines();
        let u = nl.unit();
        if u == 1 {
            return Ok(());
        }
        let be = nl == crate::breaks::Newlines::Utf16Be;
        let view = self.view();
        let unit = |at: usize| -> Option<u16> {
            let b = [view.byte_at(at)?, view.byte_at(at + 1)?];
            Some(if be {
                u16::from_be_bytes(b)
            } else {
                u16::from_le_bytes(b)
            })
        };
        // Inside a pair: a low surrogate right after a high one.
        let inside_pair = |at: usize| {
            at >= 2
                && unit(at).is_some_and(|c| (0xDC00..0xE000).contains(&c))
                && unit(at - 2).is_some_and(|c| (0xD800..0xDC00).contains(&c))
        };
        for e in edits {
            for at in [e.range.start, e.range.end] {
                if at % u != 0 || inside_pair(at) {
                    return Err(Error::OutOfBounds(format!(
                        "offset {at} is inside a character of this {} document",
                        self.encoding.name()
                    )));
                }
            }
            if e.text.len() % u != 0 {
                return Err(Error::OutOfBounds(format!(
                    "inserted text of {} bytes is not whole {} code units",
                    e.text.len(),
                    self.encoding.name()
                )));
            }
        }
        Ok(())
    }

    /// Appends `text` to the add buffer and inserts it at `at`, in pieces of at most
    /// [`MAX_ADD_PIECE`] bytes so that later splits stay cheap.
    fn insert_text(&mut self, at: usize, text: &[u8]) -> Vec<Piece> {
        let pieces: Vec<Piece> = text
            .chunks(MAX_ADD_PIECE)
            .map(|c| self.push_added(c))
            .collect();
        self.insert_pieces(at, &pieces);
        pieces
    }

    pub(super) fn insert_pieces(&mut self, at: usize, pieces: &[Piece]) {
        let bufs = bufs(&self.sources, &self.add);
        let mut offset = at;
        for piece in pieces {
            self.tree.insert(offset, *piece, &bufs);
            offset += piece.len();
        }
    }

    /// Replaces `remove_len` bytes at `at` with `pieces`.
    pub(super) fn splice(&mut self, at: usize, remove_len: usize, pieces: &[Piece]) {
        let bufs = bufs(&self.sources, &self.add);
        self.tree.remove(at, at + remove_len, &bufs);
        self.insert_pieces(at, pieces);
        let inserted = super::history::total_len(pieces);
        self.bookmarks.splice(at, remove_len, inserted);
    }

    pub(super) fn push_added(&mut self, chunk: &[u8]) -> Piece {
        let r = self.add.push(chunk);
        Piece {
            src: Src::Add(r.block),
            start: r.start,
            info: self.newlines().info(chunk),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use crate::Document;

    thread_local! {
        /// Makes `apply` panic after this many more edits applied, on this thread.
        static PANIC_BEFORE: Cell<Option<usize>> = const { Cell::new(None) };
    }

    pub(super) fn maybe_panic() {
        match PANIC_BEFORE.with(Cell::get) {
            Some(0) => panic!("injected panic in the middle of a batch"),
            Some(n) => PANIC_BEFORE.with(|p| p.set(Some(n - 1))),
            None => {}
        }
    }

    #[test]
    fn a_batch_that_panics_halfway_leaves_the_document_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("doc.txt");
        std::fs::write(&path, b"one\ntwo\nthree\n").unwrap();
        let mut doc = Document::open(&path).unwrap();
        doc.enable_journal(&dir.path().join("state")).unwrap();
        doc.insert(0, ">").unwrap();
        let (version, history) = (doc.version(), doc.history_len());
        let content = |doc: &Document| doc.view().read(0, doc.len()).unwrap();
        let before = content(&doc);
        let batch = vec![
            super::Edit::insert(1, "A"),
            super::Edit::insert(5, "B"),
            super::Edit::insert(9, "C"),
        ];
        PANIC_BEFORE.with(|p| p.set(Some(2)));
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| doc.apply(batch.clone())));
        PANIC_BEFORE.with(|p| p.set(None));
        assert!(outcome.is_err(), "the injected panic happened");
        assert_eq!(content(&doc), before, "no part of the batch stayed");
        assert_eq!((doc.version(), doc.history_len()), (version, history));
        // The document goes on: the same batch applies whole, and undo takes it back whole.
        doc.apply(batch).unwrap();
        assert_eq!(content(&doc), b">Aone\nBtwo\nCthree\n");
        doc.undo().unwrap();
        assert_eq!(content(&doc), before);
    }
}
