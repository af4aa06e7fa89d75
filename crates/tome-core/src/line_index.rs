//! The line index of an original file, built in the background at memory speed.
//!
//! The index keeps one number per 64 KiB block (the count of line breaks before the block), so
//! its memory is `8 bytes * size / 64 KiB` (a 4 GiB file: 512 KiB) whatever the number of lines.
//! A background thread reads the file with `pread` in 1 MiB steps and counts breaks with SIMD
//! (`bytecount`, `memchr`). Queries on the indexed prefix are answered at once: a binary search
//! over the blocks, then a scan of at most one block. Queries past the indexed prefix answer
//! "not yet" ([`None`]) and never block; [`LineIndex::wait_until`] waits, cancellably.
//!
//! Breaks are counted by the *global* rule of [`crate::breaks`]: at their last byte.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock, Weak};
use std::time::Duration;

use crate::breaks::{count_global, count_standalone, nth_global};
use crate::source::Source;
use crate::{Control, Error, Result};

/// Bytes per index block.
pub const BLOCK: usize = 64 * 1024;
/// Blocks read per `pread` by the builder.
const BLOCKS_PER_READ: usize = 16;

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

#[derive(Debug)]
struct Shared {
    len: usize,
    /// `cum[i]`: global breaks in `[0, i * BLOCK)`; `cum.len() - 1` blocks are indexed.
    cum: RwLock<Vec<usize>>,
    indexed: AtomicUsize,
    complete: AtomicBool,
    cancelled: AtomicBool,
    failed: Mutex<Option<String>>,
    wake: Mutex<()>,
    cv: Condvar,
}

impl LineIndex {
    pub(crate) fn new(len: usize) -> LineIndex {
        let blocks = len.div_ceil(BLOCK);
        let mut cum = Vec::with_capacity(blocks + 1);
        cum.push(0);
        let shared = Shared {
            len,
            cum: RwLock::new(cum),
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

    /// Starts the builder thread for `source`. It holds only a weak reference, so dropping every
    /// handle to the source stops it.
    pub(crate) fn spawn_builder(source: &Arc<Source>) {
        if source.index().is_complete() {
            return;
        }
        let weak = Arc::downgrade(source);
        let shared = source.index().shared.clone();
        let spawned = std::thread::Builder::new()
            .name("tome-index".into())
            .spawn(move || build(&weak, &shared));
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
        let breaks = *s.read_cum().last().unwrap_or(&0);
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

    /// Global breaks before offset `x`, if `x` is indexed. Cost: O(1) plus a scan of at most one
    /// block.
    pub(crate) fn global_before(&self, src: &Source, x: usize) -> Option<usize> {
        if x > self.indexed_bytes() {
            return None;
        }
        let block = x / BLOCK;
        let base = *self.shared.read_cum().get(block)?;
        let start = block * BLOCK;
        Some(base + count_global(src.slice(start, x), src.byte(x)))
    }

    /// Breaks in `[start, end)` under the standalone rule, if the range is indexed.
    pub(crate) fn count_range(&self, src: &Source, start: usize, end: usize) -> Option<usize> {
        if end - start <= 2 * BLOCK {
            // Short ranges: counting directly is cheaper than two block scans.
            return Some(count_standalone(src.slice(start, end)));
        }
        let split = usize::from(
            end > start && src.byte(end - 1) == Some(b'\r') && src.byte(end) == Some(b'\n'),
        );
        Some(self.global_before(src, end)? - self.global_before(src, start)? + split)
    }

    /// Position of the last byte of the `n`-th (1-based) global break at or after `from`.
    /// `Ok(None)`: the file has fewer breaks. `Err(())`: not indexed that far yet.
    pub(crate) fn nth_break_from(
        &self,
        src: &Source,
        from: usize,
        n: usize,
    ) -> Result<Option<usize>, ()> {
        let before = self.global_before(src, from).ok_or(())?;
        let rank = before + n;
        let (block, within) = {
            let cum = self.shared.read_cum();
            let i = cum.partition_point(|&c| c < rank);
            if i == cum.len() {
                return if self.is_complete() {
                    Ok(None)
                } else {
                    Err(())
                };
            }
            (i - 1, rank - cum[i - 1])
        };
        let start = block * BLOCK;
        let end = (start + BLOCK).min(self.shared.len);
        let pos = nth_global(src.slice(start, end), src.byte(end), within);
        Ok(pos.map(|p| start + p))
    }
}

impl Shared {
    fn read_cum(&self) -> std::sync::RwLockReadGuard<'_, Vec<usize>> {
        self.cum.read().unwrap_or_else(|p| p.into_inner())
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

/// The builder loop: read 16 blocks (plus one byte of look-ahead) at a time, count, publish.
fn build(source: &Weak<Source>, shared: &Shared) {
    let len = shared.len;
    let step = BLOCK * BLOCKS_PER_READ;
    let mut buf = vec![0u8; step + 1];
    let mut offset = 0;
    let mut running = 0usize;
    let mut counts = Vec::with_capacity(BLOCKS_PER_READ);
    while offset < len {
        if shared.cancelled.load(Ordering::Acquire) {
            return;
        }
        let Some(src) = source.upgrade() else { return };
        let want = (len - offset).min(step + 1);
        let got = match src.read_at(&mut buf[..want], offset) {
            Ok(n) => n,
            Err(e) => return shared.fail(format!("cannot read {}: {e}", src.path().display())),
        };
        drop(src);
        let body = (len - offset).min(step);
        if got < body {
            return shared.fail(format!(
                "the file shrank while indexing (expected {len} bytes, read up to {})",
                offset + got
            ));
        }
        counts.clear();
        for block in buf[..body].chunks(BLOCK) {
            let start = block.as_ptr() as usize - buf.as_ptr() as usize;
            let next = buf[..got].get(start + block.len()).copied();
            running += count_global(block, next);
            counts.push(running);
        }
        shared
            .cum
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(&counts);
        offset += body;
        shared.indexed.store(offset, Ordering::Release);
        if offset >= len {
            shared.complete.store(true, Ordering::Release);
        }
        shared.notify();
    }
}
