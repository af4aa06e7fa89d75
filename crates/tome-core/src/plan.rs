//! The plan of a whole-document change (a replace-all, a deletion of lines): the new content
//! as stretches of kept pieces and new text, built on a snapshot without holding the document,
//! then applied as one step (`document/replace.rs`) in O(pieces).
//!
//! Kept text closer than [`MERGE_GAP`] bytes to the next change is copied into the new text
//! rather than kept as a piece, so a million changes do not leave millions of tiny pieces. New
//! text is sealed into blocks of the add buffer's block size as it grows, and sealed blocks
//! past the memory budget are spilled to disk ([`BlockStore`]): rewriting most of a big file
//! must not put it in memory.

use std::sync::Arc;

use crate::add_buffer::BLOCK;
use crate::block::{Block, BlockStore};
use crate::tree::Piece;
use crate::view::View;

/// Kept runs shorter than this between two changes are rewritten with them.
pub const MERGE_GAP: usize = 1024;

/// One stretch of the document after the change.
pub(crate) enum Part {
    /// Existing pieces, kept.
    Keep(Vec<Piece>),
    /// New text: replacements, with the short runs of kept text between them.
    Text(Vec<u8>),
    /// The same, sealed into a block as it reached the add buffer's block size.
    Sealed(Arc<Block>),
}

/// A planned change: the new document as stretches, how many changes it makes (replacements,
/// or lines deleted), on how many lines, and where the first one is.
pub(crate) struct Plan {
    pub parts: Vec<Part>,
    pub count: usize,
    pub lines: usize,
    pub first: usize,
    /// Where the last change starts in the new document (where an editor leaves the cursor).
    pub last: usize,
}

/// Builds a [`Plan`] from left to right: keep up to here, write this, skip to there.
pub(crate) struct PlanBuilder<'a> {
    view: View<'a>,
    parts: Vec<Part>,
    text: Vec<u8>,
    store: BlockStore,
    /// Everything before this is planned.
    done_to: usize,
    /// Bytes of the new document planned so far.
    new_len: usize,
    /// Where the last change starts in the new document.
    last: usize,
    count: usize,
    first: Option<usize>,
}

impl<'a> PlanBuilder<'a> {
    pub(crate) fn new(view: View<'a>) -> PlanBuilder<'a> {
        PlanBuilder {
            view,
            parts: Vec::new(),
            text: Vec::new(),
            store: BlockStore::default(),
            done_to: 0,
            new_len: 0,
            last: 0,
            count: 0,
            first: None,
        }
    }

    /// Keeps the document's bytes from where the plan is up to `to`.
    pub(crate) fn keep_to(&mut self, to: usize) {
        let from = self.done_to;
        if to <= from {
            return;
        }
        self.new_len += to - from;
        if to - from < MERGE_GAP {
            self.text.extend(self.view.chunks(from, to).flatten());
        } else {
            if !self.text.is_empty() {
                self.parts.push(Part::Text(std::mem::take(&mut self.text)));
            }
            self.parts.push(Part::Keep(self.view.tree.pieces_in(
                from,
                to,
                &self.view.bufs,
            )));
        }
        self.done_to = to;
    }

    /// Drops the document's bytes from where the plan is up to `to`: one change (a deleted
    /// match or run of lines).
    pub(crate) fn skip_to(&mut self, to: usize) {
        self.first.get_or_insert(self.done_to);
        self.last = self.new_len;
        self.done_to = self.done_to.max(to);
    }

    /// Writes new text where the plan is (a replacement), through `write`: one change.
    pub(crate) fn write_with(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        self.first.get_or_insert(self.done_to);
        self.last = self.new_len;
        let before = self.text.len();
        write(&mut self.text);
        self.new_len += self.text.len() - before;
        self.count += 1;
        if self.text.len() >= BLOCK {
            self.parts.push(Part::Sealed(self.store.seal(&self.text)));
            self.text.clear();
        }
    }

    /// The plan: the rest of the document kept. `lines`: on how many lines the changes are.
    pub(crate) fn finish(mut self, lines: usize) -> Plan {
        self.keep_to(self.view.len());
        if !self.text.is_empty() {
            self.parts.push(Part::Text(self.text));
        }
        Plan {
            parts: self.parts,
            count: self.count,
            lines,
            first: self.first.unwrap_or(0),
            last: self.last,
        }
    }
}
