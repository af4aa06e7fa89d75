//! The append-only add buffer: every inserted byte lives here, forever (for the document's life).
//!
//! Text is appended to an open block; full blocks are sealed into immutable [`Block`]s. A piece
//! refers to `(block, start, len)`, so appended bytes never move and a slice taken once stays
//! valid. A [snapshot](AddBuffer::seal) seals the open block and shares the list of sealed blocks
//! in O(1), which is what lets search and save read the document on another thread while editing
//! goes on. Past 16 MiB in memory, large sealed blocks go to a spill file (`block.rs`), so a
//! replace-all or paste of gigabytes does not stay in the server's private memory.
//!
//! Invariant: bytes once appended are never changed or removed.

use std::sync::Arc;

use crate::block::{Block, BlockStore};

/// Size of an open block before it is sealed.
pub(crate) const BLOCK: usize = 1 << 20;

/// Where appended bytes went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct AddRef {
    pub block: u32,
    pub start: usize,
}

/// The append-only store of inserted text.
#[derive(Debug, Default)]
pub(crate) struct AddBuffer {
    sealed: SealedBlocks,
    open: Vec<u8>,
    store: BlockStore,
}

/// The sealed blocks of an add buffer, shared with snapshots.
pub(crate) type SealedBlocks = Arc<Vec<Arc<Block>>>;

impl AddBuffer {
    /// Appends `text` contiguously and says where it went. Cost: O(len) amortised.
    pub fn push(&mut self, text: &[u8]) -> AddRef {
        if text.len() >= BLOCK / 2 {
            // Large texts get a block of their own rather than churning the open block.
            let block = self.store.seal(text);
            return self.push_block(block);
        }
        if self.open.len() + text.len() > BLOCK {
            self.seal();
        }
        if self.open.capacity() == 0 {
            self.open.reserve_exact(BLOCK);
        }
        let start = self.open.len();
        self.open.extend_from_slice(text);
        AddRef {
            block: self.sealed.len() as u32,
            start,
        }
    }

    /// Appends a block sealed elsewhere (by a [`BlockStore`] of a replace-all planned on
    /// another thread) and says where it went: at its start. Cost: O(1).
    pub fn push_sealed(&mut self, block: Arc<Block>) -> AddRef {
        self.store.adopt(&block);
        self.push_block(block)
    }

    fn push_block(&mut self, block: Arc<Block>) -> AddRef {
        self.seal();
        Arc::make_mut(&mut self.sealed).push(block);
        AddRef {
            block: (self.sealed.len() - 1) as u32,
            start: 0,
        }
    }

    /// Seals the open block and returns the shared list of sealed blocks. Cost: O(open block)
    /// for the copy into the sealed block, O(1) for the sharing.
    pub fn seal(&mut self) -> SealedBlocks {
        if !self.open.is_empty() {
            let block = self.store.seal(&self.open);
            Arc::make_mut(&mut self.sealed).push(block);
            self.open.clear();
            self.open.shrink_to(0);
        }
        self.sealed.clone()
    }

    /// Bytes stored (sealed and open), wherever they are.
    pub fn stored_bytes(&self) -> usize {
        let (heap, spilled) = self.store.bytes();
        heap + spilled + self.open.len()
    }

    /// Bytes stored in memory (sealed in memory and open): the buffer's memory footprint.
    pub fn bytes_in_memory(&self) -> usize {
        self.store.bytes().0 + self.open.capacity()
    }

    /// The open block and the sealed ones, for building a borrowed reader.
    pub fn parts(&self) -> (&[Arc<Block>], &[u8]) {
        (&self.sealed, &self.open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appended_bytes_stay_put_across_seals() {
        let mut add = AddBuffer::default();
        let a = add.push(b"hello");
        let b = add.push(b" world");
        assert_eq!(a.block, b.block);
        let sealed = add.seal();
        let c = add.push(b"!");
        assert_ne!(c.block, a.block);
        assert_eq!(&sealed[a.block as usize][a.start..a.start + 5], b"hello");
        let big = vec![7u8; BLOCK];
        let d = add.push(&big);
        let (sealed, open) = add.parts();
        assert_eq!(sealed[d.block as usize].len(), BLOCK);
        assert_eq!(&sealed[b.block as usize][b.start..b.start + 6], b" world");
        assert!(open.is_empty());
        assert_eq!(&sealed[c.block as usize][..], b"!");
    }
}
