//! The plan of a whole-document change (a replace-all, a deletion of lines): the new content
//! as stretches of kept pieces and new text, built on a snapshot without holding the document,
//! then applied as one step (`document/replace.rs`) in O(pieces).
//!
//! Kept text closer than [`MERGE_GAP`] bytes to the next change is copied into the new text
//! rather than kept as a piece, so a million changes do not leave millions of tiny pieces. All
//! new text goes into one growing buffer, sealed into a block of the add buffer's block size
//! as it fills, and sealed blocks past the memory budget are spilled to disk ([`BlockStore`]):
//! rewriting most of a big file must not put it in memory. (The stretches of new text between
//! two kept runs are ranges of those blocks, not buffers of their own: a replace-all of 2
//! million matches on 1 GiB, with kept runs between them, held its ~1 GiB of new text in
//! anonymous memory as a million small buffers that no budget saw.)

use std::ops::Range;
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
    /// New text (replacements, with the short runs of kept text between them): these bytes of
    /// a sealed block. Consecutive parts share blocks, in order.
    Text(Arc<Block>, Range<usize>),
}

/// A stretch of new text in the builder's open buffer, until the buffer is sealed.
enum Planned {
    Part(Part),
    Open(Range<usize>),
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
    parts: Vec<Planned>,
    /// New text not sealed yet; `parts` from `open_from` on may refer to it.
    text: Vec<u8>,
    /// Where in `text` the stretch being written started (it ends at `text.len()`).
    run_from: usize,
    /// The first of `parts` that may be [`Planned::Open`].
    open_from: usize,
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
            run_from: 0,
            open_from: 0,
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
            for chunk in self.view.chunks(from, to) {
                self.text.extend_from_slice(chunk);
            }
        } else {
            self.end_run();
            self.parts
                .push(Planned::Part(Part::Keep(self.view.tree.pieces_in(
                    from,
                    to,
                    &self.view.bufs,
                ))));
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
            self.seal();
        }
    }

    /// Ends the stretch of new text being written (a kept run follows).
    fn end_run(&mut self) {
        if self.text.len() > self.run_from {
            self.parts
                .push(Planned::Open(self.run_from..self.text.len()));
            self.run_from = self.text.len();
        }
    }

    /// Seals the open buffer into a block; the parts that referred to it now refer to it.
    fn seal(&mut self) {
        self.end_run();
        if self.text.is_empty() {
            return;
        }
        let block = self.store.seal(&self.text);
        for planned in &mut self.parts[self.open_from..] {
            if let Planned::Open(r) = planned {
                *planned = Planned::Part(Part::Text(Arc::clone(&block), r.clone()));
            }
        }
        self.open_from = self.parts.len();
        self.text.clear();
        self.run_from = 0;
    }

    /// The plan: the rest of the document kept. `lines`: on how many lines the changes are.
    pub(crate) fn finish(mut self, lines: usize) -> Plan {
        self.keep_to(self.view.len());
        self.seal();
        let parts = self
            .parts
            .into_iter()
            .filter_map(|p| match p {
                Planned::Part(p) => Some(p),
                // Every open stretch was sealed above.
                Planned::Open(_) => None,
            })
            .collect();
        Plan {
            parts,
            count: self.count,
            lines,
            first: self.first.unwrap_or(0),
            last: self.last,
        }
    }
}
