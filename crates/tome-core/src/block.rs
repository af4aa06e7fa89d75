//! Sealed blocks of inserted text, and where their bytes live: in memory, or in a spill file
//! on disk once a store holds more than [`HEAP_BUDGET`] bytes in memory, or the whole process
//! more than [`PROCESS_HEAP_BUDGET`] (twenty documents, or twenty replace-alls each planned in
//! a store of its own, must not each keep their own budget's worth).
//!
//! Why: the add buffer only grows (see `add_buffer.rs`), and some edits add a lot at once. A
//! replace-all of millions of matches rewrites most of the file into added text (a 512 MiB
//! file with 5 million matches added ~500 MiB); a paste can be gigabytes. Kept in anonymous
//! memory, that stays for the document's life, even after undo. Spilled, it is a read-only
//! mapping of a file only this process holds: the kernel keeps what is read in its page cache
//! and can drop it under pressure, so the server's private memory stays what small edits cost.
//!
//! The spill file is an unnamed `O_TMPFILE` (mode 0600, no name any other process could open)
//! in Tome's state directory (on disk, unlike `/tmp`, which is often a tmpfs held in memory),
//! else in the temporary directory. Bytes are written once, at offsets past everything written
//! before, and never changed: a mapping of them never changes and never loses pages (no SIGBUS).
//! If the file cannot be made or written (no space, no directory), blocks stay in memory: a
//! spill is an optimisation, never a reason for an edit to fail.

use std::fs::File;
use std::io;
use std::ops::Deref;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use memmap2::Mmap;

/// Bytes of sealed blocks a store keeps in memory before it spills new ones.
pub(crate) const HEAP_BUDGET: usize = 16 << 20;

/// Bytes of sealed blocks the whole process keeps in memory before every store spills new
/// ones.
pub(crate) const PROCESS_HEAP_BUDGET: usize = 32 << 20;

/// Bytes of all sealed blocks in memory now, in every store (blocks count until dropped).
static HEAP_IN_USE: AtomicUsize = AtomicUsize::new(0);

/// Blocks smaller than this always stay in memory: a mapping of a few bytes costs more than
/// the bytes (each spilled block is its own mapping, at an aligned offset).
const MIN_SPILL: usize = 64 * 1024;

/// Spilled blocks start at multiples of this (any page size up to 64 KiB divides it).
const ALIGN: u64 = 64 * 1024;

/// The immutable bytes of a sealed block.
pub(crate) enum Block {
    /// In memory.
    Heap(Box<[u8]>),
    /// Mapped from a spill file.
    Mapped(Mmap),
}

impl Deref for Block {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Block::Heap(b) => b,
            Block::Mapped(m) => m,
        }
    }
}

impl Block {
    /// A block in memory, counted in the process's total until dropped.
    fn heap(bytes: &[u8]) -> Block {
        HEAP_IN_USE.fetch_add(bytes.len(), Ordering::Relaxed);
        Block::Heap(bytes.into())
    }
}

impl Drop for Block {
    fn drop(&mut self) {
        if let Block::Heap(b) = self {
            HEAP_IN_USE.fetch_sub(b.len(), Ordering::Relaxed);
        }
    }
}

impl std::fmt::Debug for Block {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self {
            Block::Heap(_) => "Heap",
            Block::Mapped(_) => "Mapped",
        };
        write!(f, "Block::{kind}({} bytes)", self.len())
    }
}

/// Makes sealed blocks: in memory up to [`HEAP_BUDGET`], then spilled.
#[derive(Debug, Default)]
pub(crate) struct BlockStore {
    /// The spill file and the length written to it; made at the first spill.
    spill: Option<(File, u64)>,
    /// Bytes of the blocks this store made in memory.
    heap_bytes: usize,
    /// Bytes of the blocks this store spilled.
    spilled_bytes: usize,
    /// Making or writing the spill file failed once: keep everything in memory from then on.
    spill_failed: bool,
}

impl BlockStore {
    /// A block holding `bytes`. Cost: O(len) (a copy into memory, or a write and a mapping).
    pub fn seal(&mut self, bytes: &[u8]) -> Arc<Block> {
        let over = self.heap_bytes + bytes.len() > HEAP_BUDGET
            || HEAP_IN_USE.load(Ordering::Relaxed) + bytes.len() > PROCESS_HEAP_BUDGET;
        if bytes.len() >= MIN_SPILL && over && !self.spill_failed {
            match self.spill(bytes) {
                Ok(map) => {
                    self.spilled_bytes += bytes.len();
                    return Arc::new(Block::Mapped(map));
                }
                Err(_) => self.spill_failed = true,
            }
        }
        self.heap_bytes += bytes.len();
        Arc::new(Block::heap(bytes))
    }

    /// Takes a block made by another store (a replace-all planned on another thread) into
    /// this one's accounting.
    pub fn adopt(&mut self, block: &Block) {
        match block {
            Block::Heap(b) => self.heap_bytes += b.len(),
            Block::Mapped(m) => self.spilled_bytes += m.len(),
        }
    }

    /// Bytes of blocks in memory and spilled.
    pub fn bytes(&self) -> (usize, usize) {
        (self.heap_bytes, self.spilled_bytes)
    }

    fn spill(&mut self, bytes: &[u8]) -> io::Result<Mmap> {
        if self.spill.is_none() {
            self.spill = Some((spill_file()?, 0));
        }
        let Some((file, end)) = self.spill.as_mut() else {
            return Err(io::Error::other("no spill file"));
        };
        let offset = end.div_ceil(ALIGN) * ALIGN;
        file.write_all_at(bytes, offset)?;
        let map = crate::sys::map_read_only(file, offset as usize, bytes.len())?;
        *end = offset + bytes.len() as u64;
        Ok(map)
    }
}

/// An unnamed file in the state directory (else the temporary directory).
fn spill_file() -> io::Result<File> {
    let dirs: Vec<PathBuf> = crate::journal::state_dir()
        .into_iter()
        .chain(std::iter::once(std::env::temp_dir()))
        .collect();
    let mut last = io::Error::other("no directory for a spill file");
    for dir in dirs {
        if std::fs::create_dir_all(&dir).is_err() {
            continue;
        }
        match tempfile::tempfile_in(&dir) {
            Ok(f) => return Ok(f),
            Err(e) => last = e,
        }
    }
    Err(last)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The process budget is shared: the tests that fill it, or count on it not being full,
    /// run one at a time.
    pub(crate) static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

    #[test]
    fn blocks_past_the_budget_are_spilled_and_read_back() {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let mut store = BlockStore::default();
        let a: Vec<u8> = (0..HEAP_BUDGET).map(|i| (i % 251) as u8).collect();
        let first = store.seal(&a);
        assert!(matches!(*first, Block::Heap(_)));
        let b: Vec<u8> = (0..MIN_SPILL + 17).map(|i| (i % 13) as u8).collect();
        let second = store.seal(&b);
        let third = store.seal(&b[..MIN_SPILL]);
        assert!(matches!(*second, Block::Mapped(_)), "{second:?}");
        assert!(matches!(*third, Block::Mapped(_)), "{third:?}");
        assert_eq!(&first[..], &a[..]);
        assert_eq!(&second[..], &b[..]);
        assert_eq!(&third[..], &b[..MIN_SPILL]);
        // Small blocks stay in memory whatever the budget.
        assert!(matches!(*store.seal(b"tiny"), Block::Heap(_)));
        assert_eq!(store.bytes(), (HEAP_BUDGET + 4, 2 * MIN_SPILL + 17));
    }

    /// Stores each under their own budget still spill once the process holds
    /// [`PROCESS_HEAP_BUDGET`] in memory (twenty replace-alls each plan in a store of their own).
    #[test]
    fn the_process_budget_spills_across_stores() {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let block: Vec<u8> = vec![b'x'; 12 << 20];
        let (mut a, mut b, mut c) = (
            BlockStore::default(),
            BlockStore::default(),
            BlockStore::default(),
        );
        let (x, y) = (a.seal(&block), b.seal(&block));
        let z = c.seal(&block);
        // (Other tests running at once may hold blocks too: they can only make a spill sooner.)
        if matches!(*x, Block::Heap(_)) && matches!(*y, Block::Heap(_)) {
            assert!(matches!(*z, Block::Mapped(_)), "{z:?}");
        }
        assert_eq!(&z[..], &block[..]);
    }
}
