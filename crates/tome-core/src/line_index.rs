//! The line index of an original file, built in the background at memory speed.
//!
//! The index keeps, per 64 KiB block, the count of line breaks before the block (8 bytes) and
//! the counts before each of its 4 KiB sub-blocks (16 × 2 bytes), so its memory is
//! `40 bytes * size / 64 KiB` (a 4 GiB file: 2.5 MiB) whatever the number of lines, and a query
//! scans at most 4 KiB.
//! A background thread counts breaks with SIMD (`bytecount`, `memchr`) straight from the
//! mapping, 1 MiB at a time, and then lets the kernel drop those pages from the process's
//! resident set (they stay in the page cache). Queries on the indexed prefix are answered at once: a binary search
//! over the blocks, then a scan of at most one block. Queries past the indexed prefix answer
//! "not yet" ([`None`]) and never block; [`LineIndex::wait_until`] waits, cancellably.
//!
//! Breaks are counted by the *global* rule of [`crate::breaks`]: at their last byte.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock, Weak};
use std::time::Duration;

use crate::breaks::Newlines;
use crate::{Control, Error, Result};

/// The file an index counts: what this module needs of [`crate::Source`], which owns its index.
/// A trait so that the index does not depend on the source module (and the source on the
/// index, in a circle). Implemented by `Source` only; calls are static.
pub(crate) trait Indexed: Send + Sync + 'static {
    /// Bytes `[start, end)` of the file (in bounds).
    fn slice(&self, start: usize, end: usize) -> &[u8];
    /// The bytes from `at` on, at most one code unit of them (empty past the end): what
    /// follows a slice, for the counting rules' `next`.
    fn following(&self, at: usize) -> &[u8];
    /// Which units of the file are line breaks.
    fn newlines(&self) -> Newlines;
    /// Lets the kernel drop `[start, end)` from the resident set (best effort).
    fn release(&self, start: usize, end: usize);
    /// Asks the kernel to read `[start, end)` ahead (best effort).
    fn prefetch(&self, start: usize, end: usize);
    /// True once a read faulted because the file shrank: the bytes read may be zeros.
    fn is_damaged(&self) -> bool;
    /// The file's path, for messages.
    fn path(&self) -> &Path;
    /// The index of this file.
    fn index(&self) -> &LineIndex;
    /// Called by the builder once every block is counted, before the index says so (so that
    /// whoever sees the index complete also finds it in the index cache).
    fn indexed_whole(&self) {}
}

/// Bytes per index block.
pub const BLOCK: usize = 64 * 1024;
/// Bytes per sub-block: the most a query scans.
pub const SUB: usize = 4 * 1024;
/// Sub-blocks per block.
pub(crate) const SUBS: usize = BLOCK / SUB;
/// Blocks indexed between two publications of the counts.
const BLOCKS_PER_STEP: usize = 16;
/// How far ahead of the scan the index asks the kernel to read (`Indexed::prefetch`).
const READ_AHEAD: usize = 32 << 20;

/// A snapshot of the index's progress.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexProgress {
    /// Bytes of the file indexed so far.
    pub indexed_bytes: usize,
    /// Size of the file.
    pub total_bytes: usize,
    /// Line breaks found so far: the known line count is this plus one (a lower bound).
    pub breaks_so_far: usize,
    /// Estimated line breaks in the whole file, extrapolated from the indexed part.
    pub estimated_breaks: usize,
    /// True once the whole file is indexed.
    pub complete: bool,
    /// Set if indexing stopped early (the file shrank or could not be read).
    pub failed: Option<String>,
}

impl IndexProgress {
    /// Percentage indexed, 0–100.
    pub fn percent(&self) -> u32 {
        if self.total_bytes == 0 {
            return 100;
        }
        ((self.indexed_bytes as u128 * 100) / self.total_bytes as u128) as u32
    }
}

/// The block index of one original file. Cheap to clone (shared state).
#[derive(Clone, Debug)]
pub struct LineIndex {
    shared: Arc<Shared>,
}

/// The published counts.
#[derive(Debug, Default)]
struct Counts {
    /// `cum[i]`: global breaks in `[0, i * BLOCK)`; `cum.len() - 1` blocks are indexed.
    cum: Vec<usize>,
    /// `subs[i][j]`: global breaks in block `i` before its sub-block `j`.
    subs: Vec<[u16; SUBS]>,
}

#[derive(Debug)]
struct Shared {
    len: usize,
    counts: RwLock<Counts>,
    indexed: AtomicUsize,
    complete: AtomicBool,
    cancelled: AtomicBool,
    failed: Mutex<Option<String>>,
    wake: Mutex<()>,
    cv: Condvar,
}

impl LineIndex {
    pub(crate) fn new(len: usize) -> LineIndex {
        // The vectors grow as indexing goes: opening allocates nothing in proportion to size.
        let counts = Counts {
            cum: vec![0],
            subs: Vec::new(),
        };
        let shared = Shared {
            len,
            counts: RwLock::new(counts),
            indexed: AtomicUsize::new(0),
            complete: AtomicBool::new(len == 0),
            cancelled: AtomicBool::new(false),
            failed: Mutex::new(None),
            wake: Mutex::new(()),
            cv: Condvar::new(),
        };
        LineIndex {
            shared: Arc::new(shared),
        }
    }

    /// An index of `len` bytes whose start is the same bytes `prefix` indexes (a followed
    /// file's tail, grown: `source.rs`). It takes `prefix`'s counts for the blocks that end
    /// before `prefix`'s end, where the byte after each block was already known (a CR at a
    /// block's end counts by what follows it), and the builder counts from there. Cost:
    /// O(blocks taken) to copy, 40 bytes each.
    pub(crate) fn with_prefix(len: usize, prefix: &LineIndex) -> LineIndex {
        let p = &prefix.shared;
        let counts = p.read_counts();
        let blocks = reusable_blocks(p.len, counts.subs.len(), len);
        LineIndex::from_counts(
            len,
            counts.cum[..=blocks].to_vec(),
            counts.subs[..blocks].to_vec(),
        )
    }

    /// An index of `len` bytes whose first `subs.len()` blocks are already counted (`cum`
    /// has one more entry, starting at 0): the index cache's. Complete when the blocks cover
    /// `len`; otherwise the builder counts from the end of the last block. The caller checked
    /// the counts ([`counts_are_consistent`]).
    pub(crate) fn from_counts(len: usize, cum: Vec<usize>, subs: Vec<[u16; SUBS]>) -> LineIndex {
        let index = LineIndex::new(len);
        let indexed = (subs.len() * BLOCK).min(len);
        if indexed > 0 {
            let s = &index.shared;
            *s.counts.write().unwrap_or_else(|e| e.into_inner()) = Counts { cum, subs };
            s.indexed.store(indexed, Ordering::Release);
            if indexed == len {
                s.complete.store(true, Ordering::Release);
            }
        }
        index
    }

    /// Calls `f` with the counts published so far: `cum` (breaks before each block, one more
    /// entry than blocks) and the per-sub-block counts. Holds the counts' read lock meanwhile.
    pub(crate) fn with_counts<R>(&self, f: impl FnOnce(&[usize], &[[u16; SUBS]]) -> R) -> R {
        let counts = self.shared.read_counts();
        f(&counts.cum, &counts.subs)
    }

    /// Starts the builder thread for `source`. It holds only a weak reference, so dropping every
    /// handle to the source stops it.
    pub(crate) fn spawn_builder<S: Indexed>(source: &Arc<S>) {
        if source.index().is_complete() {
            return;
        }
        let weak = Arc::downgrade(source);
        let shared = source.index().shared.clone();
        let spawned = std::thread::Builder::new()
            .name("tome-index".into())
            .spawn(move || {
                // (a scan of the whole file: it must not delay the editor's first screen)
                crate::sys::mark_background_thread();
                build(&weak, &shared)
            });
        if let Err(e) = spawned {
            source
                .index()
                .shared
                .fail(format!("cannot start the index thread: {e}"));
        }
    }

    /// Progress so far. Cost: O(1).
    pub fn progress(&self) -> IndexProgress {
        let s = &self.shared;
        let indexed = s.indexed.load(Ordering::Acquire);
        let breaks = *s.read_counts().cum.last().unwrap_or(&0);
        let estimated = if s.is_complete() || indexed == 0 {
            breaks
        } else {
            (breaks as u128 * s.len as u128 / indexed as u128) as usize
        };
        IndexProgress {
            indexed_bytes: indexed,
            total_bytes: s.len,
            breaks_so_far: breaks,
            estimated_breaks: estimated,
            complete: s.is_complete(),
            failed: s.failed.lock().map(|f| f.clone()).unwrap_or(None),
        }
    }

    /// True once the whole file is indexed.
    pub fn is_complete(&self) -> bool {
        self.shared.is_complete()
    }

    /// Bytes indexed so far.
    pub fn indexed_bytes(&self) -> usize {
        self.shared.indexed.load(Ordering::Acquire)
    }

    /// Stops the builder; queries keep answering for what was indexed.
    pub fn cancel(&self) {
        self.shared.cancelled.store(true, Ordering::Release);
        self.shared.notify();
    }

    /// Blocks until at least `bytes` are indexed (or indexing ends), or `control` is cancelled.
    pub fn wait_until(&self, bytes: usize, control: &Control) -> Result<()> {
        let s = &self.shared;
        let mut guard = s.wake.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if s.indexed.load(Ordering::Acquire) >= bytes.min(s.len) || s.is_complete() {
                return Ok(());
            }
            if s.cancelled.load(Ordering::Acquire) || s.has_failed() {
                return Err(Error::FileChanged(
                    self.progress()
                        .failed
                        .unwrap_or_else(|| "indexing was stopped".into()),
                ));
            }
            if control.is_cancelled() {
                return Err(Error::Cancelled);
            }
            guard =
                s.cv.wait_timeout(guard, Duration::from_millis(20))
                    .map(|(g, _)| g)
                    .unwrap_or_else(|p| p.into_inner().0);
        }
    }

    /// Global breaks before offset `x`, if `x` is indexed. Cost: O(log) of nothing: two array
    /// reads plus a scan of at most one 4 KiB sub-block.
    pub(crate) fn global_before(&self, src: &impl Indexed, x: usize) -> Option<usize> {
        if x > self.indexed_bytes() {
            return None;
        }
        let (block, sub) = (x / BLOCK, (x % BLOCK) / SUB);
        let base = {
            let counts = self.shared.read_counts();
            let block_base = *counts.cum.get(block)?;
            match counts.subs.get(block) {
                Some(subs) => block_base + usize::from(subs[sub]),
                None => block_base, // x is the indexed end, at a block boundary
            }
        };
        let start = block * BLOCK + sub * SUB;
        Some(
            base + src
                .newlines()
                .count_global(src.slice(start, x), src.following(x)),
        )
    }

    /// Breaks in `[start, end)` under the standalone rule: from the index when it covers the
    /// range, by scanning when the range is short (so short pieces are counted even before the
    /// index gets there); `None` for a long range past the index.
    pub(crate) fn count_range(
        &self,
        src: &impl Indexed,
        start: usize,
        end: usize,
    ) -> Option<usize> {
        let nl = src.newlines();
        if end - start <= 2 * SUB {
            return Some(nl.count_standalone(src.slice(start, end)));
        }
        // A CRLF cut at `end`: the global rule counts it after `end`, the standalone one before.
        let u = nl.unit();
        let split =
            usize::from(nl.break_len_at(src.slice(end - u, end), src.following(end)) == 2 * u);
        match (self.global_before(src, end), self.global_before(src, start)) {
            (Some(e), Some(s)) => Some(e - s + split),
            _ if end - start <= 2 * BLOCK => Some(nl.count_standalone(src.slice(start, end))),
            _ => None,
        }
    }

    /// Position of the last byte of the `n`-th (1-based) global break at or after `from`.
    /// `Ok(None)`: the file has fewer breaks. `Err(())`: not indexed that far yet.
    pub(crate) fn nth_break_from(
        &self,
        src: &impl Indexed,
        from: usize,
        n: usize,
    ) -> Result<Option<usize>, ()> {
        let before = self.global_before(src, from).ok_or(())?;
        let rank = before + n;
        let (start, within) = {
            let counts = self.shared.read_counts();
            let i = counts.cum.partition_point(|&c| c < rank);
            if i == counts.cum.len() {
                return if self.is_complete() {
                    Ok(None)
                } else {
                    Err(())
                };
            }
            let block = i - 1;
            let within_block = rank - counts.cum[block];
            let subs = &counts.subs[block];
            let j = subs.partition_point(|&c| usize::from(c) < within_block) - 1;
            (block * BLOCK + j * SUB, within_block - usize::from(subs[j]))
        };
        let end = (start + SUB).min(self.shared.len);
        let pos = src
            .newlines()
            .nth_global(src.slice(start, end), src.following(end), within);
        Ok(pos.map(|p| start + p))
    }
}

impl Shared {
    fn read_counts(&self) -> std::sync::RwLockReadGuard<'_, Counts> {
        self.counts.read().unwrap_or_else(|p| p.into_inner())
    }

    fn is_complete(&self) -> bool {
        self.complete.load(Ordering::Acquire)
    }

    fn has_failed(&self) -> bool {
        self.failed.lock().map(|f| f.is_some()).unwrap_or(true)
    }

    fn fail(&self, why: String) {
        if let Ok(mut f) = self.failed.lock() {
            *f = Some(why);
        }
        self.notify();
    }

    fn notify(&self) {
        let _guard = self.wake.lock();
        self.cv.notify_all();
    }
}

/// The builder loop: count one block at a time straight from the mapping (no copy), publish
/// every [`BLOCKS_PER_STEP`] blocks, then let the kernel drop those pages from our resident set.
fn build<S: Indexed>(source: &Weak<S>, shared: &Shared) {
    let len = shared.len;
    // From 0, or from where the counts taken over from a shorter index stop.
    let mut offset = shared.indexed.load(Ordering::Acquire);
    let mut running = *shared.read_counts().cum.last().unwrap_or(&0);
    let mut cum = Vec::with_capacity(BLOCKS_PER_STEP);
    let mut subs = Vec::with_capacity(BLOCKS_PER_STEP);
    // Read ahead of the scan: a file not in the page cache is read at the disk's sequential
    // speed (the faults' own read-ahead is a few hundred KiB at a time, waited for one by one).
    // Asked for after the first step is published, not before: the first screen's lines wait
    // for that step, and `MADV_WILLNEED` of many MiB can take milliseconds to return.
    let first_step = offset;
    let mut read_ahead = false;
    while offset < len {
        if shared.cancelled.load(Ordering::Acquire) {
            return;
        }
        let Some(src) = source.upgrade() else { return };
        let step_start = offset;
        if !read_ahead && offset > first_step {
            src.prefetch(offset, (offset + READ_AHEAD).min(len));
            read_ahead = true;
        }
        let ahead = offset + READ_AHEAD;
        if read_ahead && ahead < len {
            src.prefetch(ahead, (ahead + BLOCK * BLOCKS_PER_STEP).min(len));
        }
        while offset < len && cum.len() < BLOCKS_PER_STEP {
            let end = (offset + BLOCK).min(len);
            let (within, in_block) =
                count_block(src.newlines(), src.slice(offset, end), src.following(end));
            running += in_block;
            cum.push(running);
            subs.push(within);
            offset = end;
        }
        if src.is_damaged() {
            return shared.fail(format!(
                "{} shrank while it was being indexed",
                src.path().display()
            ));
        }
        src.release(step_start, offset);
        // (a test build's slow disk: after the step is published, so the first one is there
        // at once and clients have a density to estimate from)
        #[cfg(feature = "fault-injection")]
        let slow = (src.path().to_path_buf(), offset - step_start);
        drop(src);
        {
            let mut counts = shared.counts.write().unwrap_or_else(|p| p.into_inner());
            counts.cum.extend_from_slice(&cum);
            counts.subs.extend_from_slice(&subs);
        }
        cum.clear();
        subs.clear();
        if offset >= len {
            // Before the index says it is done: whoever sees it done finds it cached.
            if let Some(src) = source.upgrade() {
                src.indexed_whole();
            }
        }
        shared.indexed.store(offset, Ordering::Release);
        if offset >= len {
            shared.complete.store(true, Ordering::Release);
        }
        // Waking a waiter costs a futex call and a context switch: do it every 8 MiB (a few
        // milliseconds of indexing), and at the end.
        if offset >= len || offset % (8 << 20) < BLOCK * BLOCKS_PER_STEP {
            shared.notify();
        }
        #[cfg(feature = "fault-injection")]
        crate::fault::slow_index(&slow.0, slow.1);
    }
}

/// How many whole blocks of an index of an `old_len`-byte file (`indexed` blocks counted) stay
/// true for a file of `new_len` bytes that starts with the same bytes: those that end before
/// the old last byte, since a CR at a block's end counts by the byte after it.
pub(crate) fn reusable_blocks(old_len: usize, indexed: usize, new_len: usize) -> usize {
    indexed
        .min(old_len.saturating_sub(1) / BLOCK)
        .min(new_len / BLOCK)
}

/// True if `cum` and `subs` could be the counts of a file of `len` bytes whose first
/// `subs.len()` blocks are indexed: no query on them can then fail or panic (counts from a
/// file on disk are checked with this before use). Cost: O(blocks).
pub(crate) fn counts_are_consistent(len: usize, cum: &[usize], subs: &[[u16; SUBS]]) -> bool {
    if cum.len() != subs.len() + 1 || cum.first() != Some(&0) || subs.len() > len.div_ceil(BLOCK) {
        return false;
    }
    subs.iter().enumerate().all(|(i, within)| {
        let bytes = (len - i * BLOCK).min(BLOCK);
        let Some(in_block) = cum[i + 1].checked_sub(cum[i]) else {
            return false;
        };
        let used = bytes.div_ceil(SUB);
        in_block <= bytes
            && within[0] == 0
            && within.windows(2).all(|w| w[0] <= w[1])
            && within
                .iter()
                .enumerate()
                .all(|(j, &c)| usize::from(c) <= (j * SUB).min(in_block))
            && within[used..].iter().all(|&c| usize::from(c) == in_block)
            && within
                .get(used - 1)
                .is_some_and(|&c| usize::from(c) <= in_block)
    })
}

/// Counts one block (followed in the file by `next`): the breaks before each of its
/// sub-blocks, and in the whole block.
fn count_block(nl: Newlines, block: &[u8], next: &[u8]) -> ([u16; SUBS], usize) {
    // Most files have no CR at all: then counting LFs is the whole job (for the byte rule;
    // UTF-16's LF units are told from other 0x0A bytes by the rule).
    let has_cr = nl != Newlines::Byte || memchr::memchr(b'\r', block).is_some();
    let mut within = [0u16; SUBS];
    let mut in_block = 0usize;
    for (j, sub) in block.chunks(SUB).enumerate() {
        // At most 15 × 4096 breaks precede the last sub-block: fits in u16.
        within[j] = in_block as u16;
        in_block += if has_cr {
            let after = block.get((j + 1) * SUB..).unwrap_or_default();
            nl.count_global(sub, if after.is_empty() { next } else { after })
        } else {
            bytecount::count(sub, b'\n')
        };
    }
    // A short last block: the missing sub-blocks hold nothing more (fewer than 64 Ki breaks).
    for w in within.iter_mut().skip(block.len().div_ceil(SUB)) {
        *w = in_block as u16;
    }
    (within, in_block)
}
