//! The index cache: the line index of files already indexed, kept in the state directory, so
//! that reopening a file answers exact line numbers at once and a grown log only indexes its
//! new tail.
//!
//! One file per indexed file, named by its device and inode, in `index/` below the state
//! directory (`$TOME_STATE_DIR/index`, …). Layout (little-endian):
//!
//! ```text
//! "TOMEIDX1" | version u32 | flags u32 (bit 0: racy) | dev u64 | ino u64 | size u64
//! | mtime_ns i128 | ctime_ns i128 | n u32 | n × (offset u64, hash u64)   (the sampled blocks)
//! | tail_from u64 | tail_hash u64                                          (the last old block)
//! | blocks u64 | (blocks + 1) × u64 (breaks before each block) | blocks × 16 × u16 (sub-blocks)
//! | crc32c u32 of everything before
//! ```
//!
//! 40 bytes per 64 KiB of file: 640 KiB per GiB, 2.5 MiB for 4 GiB.
//!
//! **Trust.** An entry is used only if everything agrees; any doubt rebuilds the index and
//! removes the entry:
//! - the cache file is a regular file of ours, mode 0600, not a symbolic link (`O_NOFOLLOW`),
//!   in a directory of ours, mode 0700, not a symbolic link; its CRC, magic, version and
//!   structure check out (the counts are consistent: `line_index::counts_are_consistent`);
//! - *same file*: device, inode, size, mtime and ctime (both to the nanosecond) equal, and the
//!   sampled blocks hash the same (they are the samples `Source` takes at open: no extra read).
//!   ctime cannot be set by a program: `touch -d` or `utimensat` to put an mtime back still
//!   moves it;
//! - *grown file* (an appended log): same device and inode, larger size, the sampled blocks of
//!   the old extent and its last 64–128 KiB unchanged. Then the counts of the old whole blocks
//!   are reused and only the rest is counted. (A rewrite in the middle of the old extent that
//!   also grows the file and misses every sample is not seen: the same limit as following an
//!   append, see `Source::disk_change`.)
//!
//! **Racy entries.** File times come from a coarse clock (a tick of up to 10 ms on Linux, a
//! second or two on some file systems), so a write right after another can leave mtime and
//! ctime unchanged. An index of a file whose ctime was less than [`RACY_MARGIN`] before we
//! opened it is stored marked *racy* and never used for the same size (only as the old part of
//! a grown file, which checks the bytes). The same rule as Git's "racily clean" entries.
//!
//! **Bounded.** The entries together stay under a budget ([`DEFAULT_BUDGET`], or
//! `$TOME_INDEX_CACHE_SIZE`; `0` turns the cache off): after each write the least recently
//! used entries (by their mtime, which a hit sets to now) are removed until the total fits.
//! Writes are atomic (a temporary file of ours, then a rename over the entry); they are not
//! synced: a torn entry after a power loss fails its CRC and is rebuilt.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use crate::guard::Guard;
use crate::line_index::{counts_are_consistent, reusable_blocks, LineIndex, BLOCK, SUBS};
use crate::sys;

const MAGIC: &[u8; 8] = b"TOMEIDX1";
const VERSION: u32 = 1;
const FLAG_RACY: u32 = 1;
/// More sampled blocks than `source` takes (8) means a damaged entry.
const MAX_SAMPLES: usize = 64;
/// The default bound on the cache's total size: 256 MiB (the indexes of about 400 GiB of files).
pub const DEFAULT_BUDGET: u64 = 256 << 20;
/// The environment variable that sets the budget, in bytes (`K`, `M`, `G` suffixes allowed).
pub const BUDGET_VAR: &str = "TOME_INDEX_CACHE_SIZE";
/// How long before the open a file's ctime must be for its index to be trusted at the same
/// size (see the module's "Racy entries").
pub const RACY_MARGIN: Duration = Duration::from_secs(2);

/// How the index of an opened file was obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheUse {
    /// No cache (turned off, no state directory, not a whole file).
    Off,
    /// Nothing usable in the cache: the index is built from the file.
    Miss,
    /// The whole index came from the cache: complete at open.
    Hit,
    /// The file grew since it was cached: the old part came from the cache, the rest is counted.
    Grown,
}

impl CacheUse {
    /// A short name: `off`, `miss`, `hit`, `grown`.
    pub fn name(self) -> &'static str {
        match self {
            CacheUse::Off => "off",
            CacheUse::Miss => "miss",
            CacheUse::Hit => "hit",
            CacheUse::Grown => "grown",
        }
    }
}

/// The index cache directory and its budget. Cheap to clone.
#[derive(Clone, Debug)]
pub struct IndexCache {
    dir: PathBuf,
    budget: u64,
    racy_margin: Duration,
}

/// What is known of a file at open, to key and check its entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Stamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
    racy: bool,
}

impl Stamp {
    /// The stamp of a file whose metadata is `meta`, stat'ed after `before`.
    pub(crate) fn of(meta: &Metadata, before: SystemTime, margin: Duration) -> Stamp {
        let ctime_ns = i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec());
        let before_ns = before
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i128);
        Stamp {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
            ctime_ns,
            racy: before_ns - ctime_ns < margin.as_nanos() as i128,
        }
    }

    /// Device and inode: the key of the file's entries.
    pub(crate) fn key(&self) -> (u64, u64) {
        (self.dev, self.ino)
    }

    /// The file's size at the stamp.
    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    /// Appends dev, ino, size (u64 each), mtime and ctime (i128 each), little-endian.
    pub(crate) fn encode_into(&self, out: &mut Vec<u8>) {
        for v in [self.dev, self.ino, self.size] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&self.mtime_ns.to_le_bytes());
        out.extend_from_slice(&self.ctime_ns.to_le_bytes());
    }

    /// Reads what [`Stamp::encode_into`] wrote (not racy).
    pub(crate) fn decode_from(f: &mut Fields) -> Option<Stamp> {
        Some(Stamp {
            dev: f.u64()?,
            ino: f.u64()?,
            size: f.u64()?,
            mtime_ns: f.i128()?,
            ctime_ns: f.i128()?,
            racy: false,
        })
    }

    /// Same file, same times: everything but raciness.
    pub(crate) fn same_as(&self, other: &Stamp) -> bool {
        (self.dev, self.ino, self.size, self.mtime_ns, self.ctime_ns)
            == (
                other.dev,
                other.ino,
                other.size,
                other.mtime_ns,
                other.ctime_ns,
            )
    }
}

/// A decoded entry.
struct Entry {
    stamp: Stamp,
    samples: Vec<(usize, u64)>,
    tail_from: usize,
    tail_hash: u64,
    cum: Vec<usize>,
    subs: Vec<[u16; SUBS]>,
}

impl IndexCache {
    /// The cache in `index/` below the state directory `state` (`journal::state_dir`), with
    /// the budget of `$TOME_INDEX_CACHE_SIZE` or [`DEFAULT_BUDGET`]. `Ok(None)`: turned off
    /// (budget 0). Errors: the variable is not a size; the directory cannot be made, or is
    /// not safe to use (see [`IndexCache::open`]).
    pub fn from_env(state: &Path) -> io::Result<Option<IndexCache>> {
        let budget = match std::env::var(BUDGET_VAR) {
            Ok(v) => parse_size(&v).ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{BUDGET_VAR}={v:?} is not a size (bytes, or with K, M or G)"),
                )
            })?,
            Err(_) => DEFAULT_BUDGET,
        };
        if budget == 0 {
            return Ok(None);
        }
        IndexCache::open(&state.join("index"), budget).map(Some)
    }

    /// The cache in `dir`, created 0700 if missing, holding at most `budget` bytes. Refuses
    /// (an error) a directory that is a symbolic link, is not ours, or that others may use
    /// (any of the group/other permission bits): another user could plant or read entries.
    pub fn open(dir: &Path, budget: u64) -> io::Result<IndexCache> {
        private_dir(dir, "the index cache")?;
        Ok(IndexCache {
            dir: dir.to_path_buf(),
            budget,
            racy_margin: RACY_MARGIN,
        })
    }

    /// The same cache with another racy margin (tests: a short one keeps them quick; the
    /// kernel's timestamps here are finer than it).
    #[doc(hidden)]
    pub fn with_racy_margin(mut self, margin: Duration) -> IndexCache {
        self.racy_margin = margin;
        self
    }

    /// The directory of the entries.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The racy margin in use.
    pub(crate) fn racy_margin(&self) -> Duration {
        self.racy_margin
    }

    /// The entry's path for a file.
    pub fn entry_path(&self, dev: u64, ino: u64) -> PathBuf {
        self.dir.join(format!("{dev:x}-{ino:x}.idx"))
    }

    /// The index of the file whose stamp at open is `stamp` and whose samples are `samples`
    /// (`Source`'s), read from `file` (its content), if the cache has one that holds: the
    /// whole index ([`CacheUse::Hit`]) or the index of its start ([`CacheUse::Grown`]).
    /// `samples_of(size)` hashes the file's sampled blocks as they would be for a file of
    /// `size` bytes (`source::sample_hashes`, passed in so that this module does not depend on
    /// `source`). An entry that does not hold is removed. Cost: one read of the entry (40
    /// bytes per 64 KiB) and its CRC; for a grown file, up to 8 reads of 4 KiB and one of up
    /// to 128 KiB.
    pub(crate) fn load(
        &self,
        file: &File,
        stamp: &Stamp,
        samples: &[(usize, u64)],
        samples_of: impl Fn(usize) -> Vec<(usize, u64)>,
    ) -> (Option<LineIndex>, CacheUse) {
        let path = self.entry_path(stamp.dev, stamp.ino);
        let Some((entry, handle)) = read_entry(&path) else {
            if path.symlink_metadata().is_ok() {
                let _ = std::fs::remove_file(&path);
            }
            return (None, CacheUse::Miss);
        };
        let found = check(&entry, file, stamp, samples, samples_of);
        match found {
            Some(use_) => {
                // Least recently used goes first: a hit makes the entry the newest.
                let _ = handle.set_modified(SystemTime::now());
                let len = stamp.size as usize;
                let index = if use_ == CacheUse::Hit {
                    LineIndex::from_counts(len, entry.cum, entry.subs)
                } else {
                    let blocks = reusable_blocks(entry.stamp.size as usize, entry.subs.len(), len);
                    let mut cum = entry.cum;
                    let mut subs = entry.subs;
                    cum.truncate(blocks + 1);
                    subs.truncate(blocks);
                    LineIndex::from_counts(len, cum, subs)
                };
                (Some(index), use_)
            }
            None => {
                let _ = std::fs::remove_file(&path);
                (None, CacheUse::Miss)
            }
        }
    }

    /// Stores the complete `index` of the file opened with `stamp` and `samples`, if the file
    /// (`file`, the descriptor opened then) still has that stamp: an index of bytes that
    /// changed meanwhile is never stored. Then evicts down to the budget. Best effort: a
    /// failure leaves no entry (and no temporary file).
    pub(crate) fn store(
        &self,
        file: &File,
        content: &File,
        stamp: &Stamp,
        samples: &[(usize, u64)],
        index: &LineIndex,
    ) {
        let Ok(now) = file.metadata() else { return };
        let now = Stamp::of(&now, SystemTime::UNIX_EPOCH, Duration::ZERO);
        if !now.same_as(stamp) || stamp.size == 0 {
            return;
        }
        let size = stamp.size as usize;
        let tail_from = tail_start(size);
        let Some(tail_hash) = hash_range(content, tail_from, size) else {
            return;
        };
        let bytes = index.with_counts(|cum, subs| {
            (subs.len() == size.div_ceil(BLOCK)).then(|| {
                encode(&Entry {
                    stamp: stamp.clone(),
                    samples: samples.to_vec(),
                    tail_from,
                    tail_hash,
                    cum: cum.to_vec(),
                    subs: subs.to_vec(),
                })
            })
        });
        let Some(bytes) = bytes else { return };
        let path = self.entry_path(stamp.dev, stamp.ino);
        if bytes.len() as u64 > self.budget {
            let _ = std::fs::remove_file(&path);
            return;
        }
        if write_atomically(&self.dir, &path, &bytes).is_ok() {
            self.evict();
        }
    }

    /// Removes the least recently used entries until the total is within the budget, and
    /// temporary files left by dead processes. Files that are not ours are left alone (and
    /// not counted: they cannot be in a 0700 directory of ours unless we put them there).
    pub fn evict(&self) {
        evict_least_recent(&self.dir, ".idx", |_, total| total > self.budget);
    }

    /// Bytes held by the entries (for tests and diagnostics).
    pub fn total_bytes(&self) -> u64 {
        std::fs::read_dir(&self.dir)
            .map(|l| {
                l.flatten()
                    .filter(|e| e.file_name().to_string_lossy().ends_with(".idx"))
                    .filter_map(|e| e.path().symlink_metadata().ok())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0)
    }
}

/// Removes the least recently used entries (name ending in `suffix`; by mtime, which a use sets
/// to now) of the private directory `dir` while `over(entries, their total bytes)` holds, and
/// temporary files left there by dead processes. Files that are not ours are left alone (and
/// not counted: they cannot be in a 0700 directory of ours unless we put them there). Cost:
/// one `lstat` per file in `dir`.
pub(crate) fn evict_least_recent(dir: &Path, suffix: &str, over: impl Fn(usize, u64) -> bool) {
    let Ok(list) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries = Vec::new();
    for e in list.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        let Ok(meta) = e.path().symlink_metadata() else {
            continue;
        };
        if let Some(pid) = temp_pid(&name) {
            if !sys::process_alive(pid) && meta.uid() == sys::effective_uid() {
                let _ = std::fs::remove_file(e.path());
            }
            continue;
        }
        if name.ends_with(suffix) && meta.is_file() && meta.uid() == sys::effective_uid() {
            let used = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            entries.push((used, meta.len(), e.path()));
        }
    }
    let mut count = entries.len();
    let mut total: u64 = entries.iter().map(|e| e.1).sum();
    entries.sort();
    for (_, len, path) in entries {
        if !over(count, total) {
            break;
        }
        if std::fs::remove_file(&path).is_ok() {
            count -= 1;
            total -= len;
        }
    }
}

/// Creates `dir` (mode 0700) if missing and checks that it is a private directory of ours:
/// not a symbolic link, owned by this user, no group/other permission bits. Else an error
/// saying it is not used for `what`.
pub(crate) fn private_dir(dir: &Path, what: &str) -> io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let meta = std::fs::symlink_metadata(dir)?;
    if !meta.is_dir() || meta.uid() != sys::effective_uid() || meta.mode() & 0o077 != 0 {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "{} is not a private directory of this user (mode 0700, not a link): \
                 not used for {what}",
                dir.display()
            ),
        ));
    }
    Ok(())
}

/// Whether `entry` holds for the file now: `Hit`, `Grown`, or `None` (it does not).
fn check(
    entry: &Entry,
    file: &File,
    stamp: &Stamp,
    samples: &[(usize, u64)],
    samples_of: impl Fn(usize) -> Vec<(usize, u64)>,
) -> Option<CacheUse> {
    let was = &entry.stamp;
    if (was.dev, was.ino) != (stamp.dev, stamp.ino) {
        return None;
    }
    if was.same_as(stamp) {
        return (!was.racy && entry.samples == samples).then_some(CacheUse::Hit);
    }
    if stamp.size <= was.size {
        return None;
    }
    // Grown: the old extent's samples and its last block must read the same now.
    let old = was.size as usize;
    if samples_of(old) != entry.samples {
        return None;
    }
    (hash_range(file, entry.tail_from, old)? == entry.tail_hash).then_some(CacheUse::Grown)
}

/// Where the hashed last old block starts: the last index block reused for a grown file and
/// what follows it (64 to 128 KiB before the end).
fn tail_start(size: usize) -> usize {
    (size.saturating_sub(1) / BLOCK).saturating_sub(1) * BLOCK
}

/// A hash of `[from, to)` of `file`, or `None` if it cannot be read whole.
fn hash_range(file: &File, from: usize, to: usize) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    let mut buf = vec![0u8; to.checked_sub(from)?];
    if sys::read_fully_at(file, &mut buf, from).ok()? != buf.len() {
        return None;
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    buf.hash(&mut h);
    Some(h.finish())
}

/// The pid in a temporary file's name (`.{entry}.{pid}.{n}.tmp`).
fn temp_pid(name: &str) -> Option<u32> {
    let stem = name.strip_prefix('.')?.strip_suffix(".tmp")?;
    let mut parts = stem.rsplitn(3, '.');
    parts.next()?;
    parts.next()?.parse().ok()
}

/// Writes `bytes` to `path` through a new temporary file of ours in `dir` (created with
/// `O_EXCL`, mode 0600, under a name with our pid), renamed over `path` (which replaces a
/// planted link or file of that name rather than writing through it).
pub(crate) fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(
        ".{}.{}.{}.tmp",
        name.unwrap_or_default(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let written = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&tmp)
        .and_then(|mut f| f.write_all(bytes))
        .and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// Opens and decodes the entry at `path` if it is a private regular file of ours whose CRC
/// and structure check out; returns it with the open file (to mark it used). The entry is
/// mapped rather than read (2.5 MiB at 4 GiB: no copy, no fresh pages to fill), under a SIGBUS
/// guard in case another program of this user truncates it meanwhile (then: not used).
fn read_entry(path: &Path) -> Option<(Entry, File)> {
    // No entry is larger than the header plus 40 bytes per 64 KiB of a file of 2^48 bytes.
    let (file, len) = open_private_file(path, 1 << 33)?;
    let len = usize::try_from(len).ok().filter(|&l| l > 0)?;
    let map = sys::map_read_only(&file, 0, len).ok()?;
    // Declared after `map`: unregistered before it is unmapped.
    let Some(guard) = Guard::register(map.as_ptr() as usize, map.len()) else {
        let mut bytes = vec![0u8; len];
        if sys::read_fully_at(&file, &mut bytes, 0).ok()? != len {
            return None;
        }
        return Some((decode(&bytes)?, file));
    };
    let entry = decode(&map);
    if guard.is_damaged() {
        return None;
    }
    Some((entry?, file))
}

/// The file at `path`, open, with its length, if it is a state file of ours: a regular file (a
/// symlink is not followed), owned by this user, readable by no one else, with one link (a
/// hard link planted by another user is not ours to trust), under `max_len` bytes.
fn open_private_file(path: &Path, max_len: u64) -> Option<(File, u64)> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .ok()?;
    let meta = file.metadata().ok()?;
    let private = meta.is_file() && meta.uid() == sys::effective_uid() && meta.mode() & 0o077 == 0;
    if !private || meta.nlink() != 1 || meta.len() >= max_len {
        return None;
    }
    Some((file, meta.len()))
}

/// The bytes of the file at `path`, with the open file, if it is a state file of ours (see
/// `open_private_file`). Shared by the state files the server reads back whole (bookmarks).
/// O(its size).
pub(crate) fn read_private_file(path: &Path, max_len: u64) -> Option<(Vec<u8>, File)> {
    let (file, len) = open_private_file(path, max_len)?;
    let mut bytes = vec![0u8; usize::try_from(len).ok()?];
    if sys::read_fully_at(&file, &mut bytes, 0).ok()? != bytes.len() {
        return None;
    }
    Some((bytes, file))
}

fn encode(e: &Entry) -> Vec<u8> {
    let s = &e.stamp;
    let mut out = start_envelope(
        MAGIC,
        VERSION,
        128 + e.samples.len() * 16 + e.subs.len() * 40,
    );
    out.extend_from_slice(&(if s.racy { FLAG_RACY } else { 0 }).to_le_bytes());
    s.encode_into(&mut out);
    encode_samples(&mut out, &e.samples);
    out.extend_from_slice(&(e.tail_from as u64).to_le_bytes());
    out.extend_from_slice(&e.tail_hash.to_le_bytes());
    out.extend_from_slice(&(e.subs.len() as u64).to_le_bytes());
    for &c in &e.cum {
        out.extend_from_slice(&(c as u64).to_le_bytes());
    }
    for within in &e.subs {
        for c in within {
            out.extend_from_slice(&c.to_le_bytes());
        }
    }
    seal_envelope(out)
}

/// Reads little-endian fields off a byte slice; `None` past its end.
pub(crate) struct Fields<'a>(pub(crate) &'a [u8]);

impl<'a> Fields<'a> {
    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }
    pub(crate) fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    pub(crate) fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    pub(crate) fn usize(&mut self) -> Option<usize> {
        usize::try_from(self.u64()?).ok()
    }
    pub(crate) fn i128(&mut self) -> Option<i128> {
        Some(i128::from_le_bytes(self.take(16)?.try_into().ok()?))
    }
}

/// The `N` bytes of a chunk of exactly `N` bytes as an array (zeros if it is not: never, for
/// the `chunks_exact` callers).
fn le_array<const N: usize>(chunk: &[u8]) -> [u8; N] {
    chunk.try_into().unwrap_or([0; N])
}

/// A state file's bytes so far: `magic` and `version`, the start of the envelope every state
/// file of ours has; [`seal_envelope`] ends it.
pub(crate) fn start_envelope(magic: &[u8], version: u32, capacity: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(capacity);
    out.extend_from_slice(magic);
    out.extend_from_slice(&version.to_le_bytes());
    out
}

/// Ends a state file begun by [`start_envelope`]: the CRC32C of everything before.
pub(crate) fn seal_envelope(mut out: Vec<u8>) -> Vec<u8> {
    let crc = crc32c::crc32c(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Writes sampled blocks (`Source`'s `(offset, hash)` pairs): a count, then the pairs.
pub(crate) fn encode_samples(out: &mut Vec<u8>, samples: &[(usize, u64)]) {
    out.extend_from_slice(&(samples.len() as u32).to_le_bytes());
    for &(at, h) in samples {
        out.extend_from_slice(&(at as u64).to_le_bytes());
        out.extend_from_slice(&h.to_le_bytes());
    }
}

/// Reads what [`encode_samples`] wrote; `None` for more than `source` ever takes.
pub(crate) fn decode_samples(f: &mut Fields) -> Option<Vec<(usize, u64)>> {
    let n = f.u32()? as usize;
    if n > MAX_SAMPLES {
        return None;
    }
    (0..n).map(|_| Some((f.usize()?, f.u64()?))).collect()
}

/// The fields of a state file after its magic and version, if its trailing CRC32C holds and
/// it starts with `magic` and `version` (the envelope every state file of ours has). O(its size).
pub(crate) fn open_envelope<'a>(bytes: &'a [u8], magic: &[u8], version: u32) -> Option<Fields<'a>> {
    let (body, crc) = bytes.split_at_checked(bytes.len().checked_sub(4)?)?;
    if crc32c::crc32c(body).to_le_bytes() != crc {
        return None;
    }
    let mut f = Fields(body);
    if f.take(magic.len())? != magic || f.u32()? != version {
        return None;
    }
    Some(f)
}

fn decode(bytes: &[u8]) -> Option<Entry> {
    let mut f = open_envelope(bytes, MAGIC, VERSION)?;
    let flags = f.u32()?;
    let stamp = Stamp {
        racy: flags & FLAG_RACY != 0,
        ..Stamp::decode_from(&mut f)?
    };
    let samples = decode_samples(&mut f)?;
    let (tail_from, tail_hash) = (f.usize()?, f.u64()?);
    let blocks = f.usize()?;
    // The rest must be exactly the counts: checked before allocating for them.
    if f.0.len() != blocks.checked_mul(8 + 2 * SUBS)?.checked_add(8)? {
        return None;
    }
    // Bulk: 65 536 blocks at 4 GiB; fixed-size chunks decode without a check per field.
    let (cum_bytes, subs_bytes) = f.0.split_at(8 * (blocks + 1));
    let mut cum = Vec::with_capacity(blocks + 1);
    for c in cum_bytes.chunks_exact(8) {
        cum.push(usize::try_from(u64::from_le_bytes(le_array(c))).ok()?);
    }
    let subs: Vec<[u16; SUBS]> = subs_bytes
        .chunks_exact(2 * SUBS)
        .map(|block| {
            let mut within = [0u16; SUBS];
            for (c, b) in within.iter_mut().zip(block.chunks_exact(2)) {
                *c = u16::from_le_bytes(le_array(b));
            }
            within
        })
        .collect();
    let size = usize::try_from(stamp.size).ok()?;
    let whole = blocks == size.div_ceil(BLOCK) && size > 0;
    if !whole || tail_from != tail_start(size) || !counts_are_consistent(size, &cum, &subs) {
        return None;
    }
    Some(Entry {
        stamp,
        samples,
        tail_from,
        tail_hash,
        cum,
        subs,
    })
}

/// Parses a size: bytes, or with a `K`, `M` or `G` suffix (powers of 1024).
fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (digits, shift) = match s.chars().last()? {
        'k' | 'K' => (&s[..s.len() - 1], 10),
        'm' | 'M' => (&s[..s.len() - 1], 20),
        'g' | 'G' => (&s[..s.len() - 1], 30),
        _ => (s, 0),
    };
    digits.trim().parse::<u64>().ok()?.checked_mul(1 << shift)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::{FileExt, PermissionsExt};
    use std::sync::Arc;

    use proptest::prelude::*;

    use super::*;
    use crate::source::Source;
    use crate::Control;

    /// A short racy margin keeps the tests quick; [`settle`] waits it out where a test needs
    /// the file's current state to be trusted.
    const MARGIN: Duration = Duration::from_millis(30);

    fn cache_in(dir: &Path, budget: u64) -> IndexCache {
        IndexCache::open(&dir.join("index"), budget)
            .unwrap()
            .with_racy_margin(MARGIN)
    }

    fn settle() {
        std::thread::sleep(MARGIN + Duration::from_millis(20));
    }

    /// Opens `path` and waits for its index (the cache entry is written before it completes).
    fn indexed(path: &Path, cache: Option<&IndexCache>) -> Arc<Source> {
        let s = Source::open_cached(path, cache).unwrap();
        s.index().wait_until(s.len(), &Control::new()).unwrap();
        s
    }

    type Counts = (Vec<usize>, Vec<[u16; SUBS]>);

    fn counts(index: &LineIndex) -> Counts {
        index.with_counts(|c, s| (c.to_vec(), s.to_vec()))
    }

    /// The oracle: the counts of an index built from the file without the cache, and the
    /// breaks counted naively (the global rule: a CR followed by LF counts at the LF).
    fn assert_fresh(path: &Path, s: &Source) {
        let fresh = indexed(path, None);
        assert_eq!(
            counts(s.index()),
            counts(fresh.index()),
            "stale index served"
        );
        let bytes = std::fs::read(path).unwrap();
        let naive = (0..bytes.len())
            .filter(|&i| {
                bytes[i] == b'\n' || (bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n'))
            })
            .count();
        assert_eq!(s.index().progress().breaks_so_far, naive);
        assert!(s.index().is_complete());
    }

    /// Deterministic text of `len` bytes: letters, LF, CR and CRLF, denser or sparser by seed.
    fn text(len: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                match x % 23 {
                    0 => b'\n',
                    1 => b'\r',
                    2..=4 if seed.is_multiple_of(2) => b'\n',
                    _ => b'a' + (x % 26) as u8,
                }
            })
            .collect()
    }

    fn entry_of(cache: &IndexCache, path: &Path) -> PathBuf {
        let m = std::fs::metadata(path).unwrap();
        cache.entry_path(m.dev(), m.ino())
    }

    #[derive(Clone, Debug)]
    enum Change {
        Nothing,
        Append(Vec<u8>),
        /// One byte rewritten in place (`at` as a fraction of the size, in thousandths).
        Rewrite(u16),
        /// The same, then the mtime put back (`touch -d`, `utimensat`): ctime still moves.
        RewriteKeepMtime(u16),
        /// Cut to a fraction of the size.
        Truncate(u16),
        /// Rewritten in place (`O_TRUNC`) with other text of the same size.
        ReplaceInPlace(u64),
        /// Another file of the same size renamed over it (same text if `same`).
        RenameOver {
            seed: u64,
            same: bool,
        },
    }

    fn change() -> impl Strategy<Value = Change> {
        prop_oneof![
            Just(Change::Nothing),
            prop_oneof![
                proptest::collection::vec(prop_oneof![Just(b'\n'), Just(b'\r'), Just(b'x')], 1..40),
                (1usize..200_000, any::<u64>()).prop_map(|(n, seed)| text(n, seed)),
            ]
            .prop_map(Change::Append),
            (0u16..1000).prop_map(Change::Rewrite),
            (0u16..1000).prop_map(Change::RewriteKeepMtime),
            (0u16..1000).prop_map(Change::Truncate),
            any::<u64>().prop_map(Change::ReplaceInPlace),
            (any::<u64>(), any::<bool>())
                .prop_map(|(seed, same)| Change::RenameOver { seed, same }),
        ]
    }

    fn size() -> impl Strategy<Value = usize> {
        prop_oneof![
            1usize..300_000,
            (1usize..5).prop_map(|k| k * BLOCK),
            (1usize..5).prop_map(|k| k * BLOCK - 1),
            (1usize..5).prop_map(|k| k * BLOCK + 1),
        ]
    }

    fn apply(path: &Path, old: &[u8], change: &Change) {
        let at = |f: u16| (old.len() - 1) * usize::from(f) / 1000;
        match change {
            Change::Nothing => {}
            Change::Append(more) => {
                let f = OpenOptions::new().append(true).open(path).unwrap();
                (&f).write_all(more).unwrap();
            }
            Change::Rewrite(f) | Change::RewriteKeepMtime(f) => {
                let at = at(*f);
                let before = std::fs::metadata(path).unwrap().modified().unwrap();
                let file = OpenOptions::new().write(true).open(path).unwrap();
                let byte = if old[at] == b'\n' { b'a' } else { b'\n' };
                file.write_all_at(&[byte], at as u64).unwrap();
                if matches!(change, Change::RewriteKeepMtime(_)) {
                    file.set_modified(before).unwrap();
                }
            }
            Change::Truncate(f) => {
                let file = OpenOptions::new().write(true).open(path).unwrap();
                file.set_len(at(*f) as u64).unwrap();
            }
            Change::ReplaceInPlace(seed) => {
                std::fs::write(path, text(old.len(), *seed)).unwrap();
            }
            Change::RenameOver { seed, same } => {
                let other = path.with_extension("new");
                let bytes = if *same {
                    old.to_vec()
                } else {
                    text(old.len(), *seed)
                };
                std::fs::write(&other, bytes).unwrap();
                std::fs::rename(&other, path).unwrap();
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        /// Every kind of change is seen: the reopened index is always the fresh one's, the
        /// cache is used only for an unchanged file (whole) or an appended one (its start),
        /// and after a rebuild the new index is cached in turn.
        #[test]
        fn the_cache_never_serves_a_stale_index(
            len in size(), seed in any::<u64>(), change in change()
        ) {
            let dir = tempfile::tempdir().unwrap();
            let cache = cache_in(dir.path(), DEFAULT_BUDGET);
            let path = dir.path().join("f.log");
            let old = text(len, seed);
            std::fs::write(&path, &old).unwrap();
            settle();
            let first = indexed(&path, Some(&cache));
            prop_assert_eq!(first.cache_use(), CacheUse::Miss);
            prop_assert!(entry_of(&cache, &path).is_file());
            drop(first);

            apply(&path, &old, &change);
            let second = indexed(&path, Some(&cache));
            let want = match &change {
                Change::Nothing => CacheUse::Hit,
                Change::Append(_) => CacheUse::Grown,
                Change::Truncate(_) if second.is_empty() => CacheUse::Off,
                _ => CacheUse::Miss,
            };
            prop_assert_eq!(second.cache_use(), want);
            assert_fresh(&path, &second);
            drop(second);

            // Rebuilt (or grown) and stored again: once the change is old enough to be
            // trusted, the next open is a hit with the right counts.
            if want != CacheUse::Off {
                settle();
                let again = indexed(&path, Some(&cache));
                let third = indexed(&path, Some(&cache));
                prop_assert_eq!(third.cache_use(), CacheUse::Hit, "first reopen: {:?}", again.cache_use());
                assert_fresh(&path, &third);
            }
        }
    }

    #[test]
    fn an_index_of_a_file_changed_just_before_open_is_trusted_only_for_its_start() {
        let dir = tempfile::tempdir().unwrap();
        // The real margin: the file below was written well within it.
        let cache = cache_in(dir.path(), DEFAULT_BUDGET).with_racy_margin(RACY_MARGIN);
        let path = dir.path().join("f.log");
        std::fs::write(&path, text(200_000, 3)).unwrap();
        drop(indexed(&path, Some(&cache)));
        assert!(entry_of(&cache, &path).is_file());
        let again = indexed(&path, Some(&cache));
        assert_eq!(again.cache_use(), CacheUse::Miss);
        assert_fresh(&path, &again);
        drop(again);
        let f = OpenOptions::new().append(true).open(&path).unwrap();
        (&f).write_all(b"more\r\nlines\n").unwrap();
        let grown = indexed(&path, Some(&cache));
        assert_eq!(grown.cache_use(), CacheUse::Grown);
        assert_fresh(&path, &grown);
    }

    /// Builds a file, caches its index and returns (cache, file, its entry).
    fn cached_file(dir: &Path) -> (IndexCache, PathBuf, PathBuf) {
        let cache = cache_in(dir, DEFAULT_BUDGET);
        let path = dir.join("f.log");
        std::fs::write(&path, text(300_000, 8)).unwrap();
        settle();
        drop(indexed(&path, Some(&cache)));
        let entry = entry_of(&cache, &path);
        assert!(entry.is_file());
        (cache, path, entry)
    }

    /// Opens `path`: must not use the cache, must be right, and must leave a good entry
    /// (a regular file of ours) that the next open uses.
    fn assert_ignored_and_replaced(cache: &IndexCache, path: &Path, entry: &Path) {
        let s = indexed(path, Some(cache));
        assert_eq!(s.cache_use(), CacheUse::Miss);
        assert_fresh(path, &s);
        drop(s);
        let meta = entry.symlink_metadata().unwrap();
        assert!(meta.is_file() && meta.mode() & 0o777 == 0o600);
        let s = indexed(path, Some(cache));
        assert_eq!(s.cache_use(), CacheUse::Hit);
        assert_fresh(path, &s);
    }

    #[test]
    fn a_corrupted_or_truncated_entry_is_ignored_and_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let (cache, path, entry) = cached_file(dir.path());
        let good = std::fs::read(&entry).unwrap();
        for at in [0, 9, 40, 100, good.len() / 2, good.len() - 1] {
            let mut bad = good.clone();
            bad[at] ^= 0x10;
            std::fs::write(&entry, &bad).unwrap();
            assert_ignored_and_replaced(&cache, &path, &entry);
        }
        for cut in [0, 4, good.len() / 2, good.len() - 1] {
            std::fs::write(&entry, &good[..cut]).unwrap();
            assert_ignored_and_replaced(&cache, &path, &entry);
        }
    }

    /// An entry with a valid CRC whose fields lie: another version, counts that cannot be.
    #[test]
    fn an_entry_with_a_valid_crc_but_wrong_content_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let (cache, path, entry) = cached_file(dir.path());
        let good = std::fs::read(&entry).unwrap();
        let body = &good[..good.len() - 4];
        let counts_at = body.len() - 5 * (8 + 2 * SUBS) - 8; // 300 000 bytes: 5 blocks
        let forge = |at: usize, bytes: &[u8]| {
            let mut b = body.to_vec();
            b[at..at + bytes.len()].copy_from_slice(bytes);
            let crc = crc32c::crc32c(&b);
            b.extend_from_slice(&crc.to_le_bytes());
            b
        };
        let forged = [
            forge(8, &2u32.to_le_bytes()),                  // version
            forge(counts_at + 8, &u64::MAX.to_le_bytes()),  // breaks before block 1
            forge(counts_at + 16, &1u64.to_le_bytes()),     // fewer breaks than before
            forge(body.len() - 2, &u16::MAX.to_le_bytes()), // a sub-block count
            forge(12, &FLAG_RACY.to_le_bytes()),            // racy: not for the same size
        ];
        for bad in forged {
            std::fs::write(&entry, &bad).unwrap();
            assert_ignored_and_replaced(&cache, &path, &entry);
        }
    }

    #[test]
    fn planted_links_and_files_open_to_others_are_ignored_and_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let (cache, path, entry) = cached_file(dir.path());
        // A link to a good entry: never followed.
        let elsewhere = dir.path().join("elsewhere.idx");
        std::fs::rename(&entry, &elsewhere).unwrap();
        let kept = std::fs::read(&elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &entry).unwrap();
        assert_ignored_and_replaced(&cache, &path, &entry);
        assert_eq!(
            std::fs::read(&elsewhere).unwrap(),
            kept,
            "written through a link"
        );
        // A good entry others may read or write.
        std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_ignored_and_replaced(&cache, &path, &entry);
        // A good entry with another name (a hard link): not a file only we hold.
        std::fs::hard_link(&entry, dir.path().join("index/other")).unwrap();
        assert_ignored_and_replaced(&cache, &path, &entry);
    }

    #[test]
    fn a_directory_others_may_use_or_a_linked_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let open = dir.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(IndexCache::open(&open, DEFAULT_BUDGET).is_err());
        let private = dir.path().join("private");
        std::fs::create_dir(&private).unwrap();
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&private, &link).unwrap();
        assert!(IndexCache::open(&link, DEFAULT_BUDGET).is_err());
        let made = dir.path().join("made/index");
        IndexCache::open(&made, DEFAULT_BUDGET).unwrap();
        assert_eq!(std::fs::metadata(&made).unwrap().mode() & 0o777, 0o700);
    }

    #[test]
    fn eviction_keeps_the_total_under_the_budget_least_recently_used_first() {
        let dir = tempfile::tempdir().unwrap();
        let files: Vec<PathBuf> = (0..6)
            .map(|i| {
                let p = dir.path().join(format!("f{i}.log"));
                std::fs::write(&p, text(200_000, i)).unwrap();
                p
            })
            .collect();
        settle();
        let probe = cache_in(dir.path(), DEFAULT_BUDGET);
        drop(indexed(&files[0], Some(&probe)));
        let one = probe.total_bytes();
        std::fs::remove_file(entry_of(&probe, &files[0])).unwrap();
        // Room for two entries and a half.
        let cache = cache_in(dir.path(), one * 5 / 2);
        let pause = || std::thread::sleep(Duration::from_millis(15));
        drop(indexed(&files[0], Some(&cache)));
        pause();
        drop(indexed(&files[1], Some(&cache)));
        pause();
        // A hit makes f0 the most recently used: f1 goes first.
        assert_eq!(indexed(&files[0], Some(&cache)).cache_use(), CacheUse::Hit);
        pause();
        drop(indexed(&files[2], Some(&cache)));
        assert!(entry_of(&cache, &files[0]).is_file());
        assert!(!entry_of(&cache, &files[1]).exists());
        assert!(entry_of(&cache, &files[2]).is_file());
        for f in &files[3..] {
            pause();
            drop(indexed(f, Some(&cache)));
            assert!(cache.total_bytes() <= one * 5 / 2);
            assert!(entry_of(&cache, f).is_file());
        }
        // An entry larger than the whole budget is not kept.
        let tiny = IndexCache::open(&dir.path().join("tiny"), one / 2).unwrap();
        let big = indexed(&files[0], Some(&tiny));
        assert_fresh(&files[0], &big);
        assert!(!entry_of(&tiny, &files[0]).exists());
    }

    #[test]
    fn temporary_files_of_dead_processes_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let cache = cache_in(dir.path(), DEFAULT_BUDGET);
        let dead = cache.dir().join(".1-2.idx.4000000000.0.tmp");
        let live = cache
            .dir()
            .join(format!(".1-2.idx.{}.0.tmp", std::process::id()));
        std::fs::write(&dead, b"x").unwrap();
        std::fs::write(&live, b"x").unwrap();
        cache.evict();
        assert!(!dead.exists() && live.exists());
    }

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("0"), Some(0));
        assert_eq!(parse_size("1024"), Some(1024));
        assert_eq!(parse_size("64M"), Some(64 << 20));
        assert_eq!(parse_size("2g"), Some(2 << 30));
        assert_eq!(parse_size("x"), None);
        assert_eq!(parse_size(""), None);
    }
}
