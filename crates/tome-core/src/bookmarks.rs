//! Bookmarks: named byte offsets in a document that follow its edits, and their store in the
//! state directory, so that they are offered again when the file is reopened.
//!
//! **Names.** 1 to [`MAX_NAME`] bytes of UTF-8 without control characters (`A`–`Z` and digits
//! for Vim's marks, or short names a user gives); at most [`MAX_BOOKMARKS`] per file.
//!
//! **Following edits** ([`Bookmarks::splice`]): bytes `at..at + removed` replaced by `inserted`
//! bytes move a bookmark at `o` like this: before the change (`o < at`, or `o == at` when
//! something is removed) it stays; at or after the removed range's end it shifts by
//! `inserted - removed` (so text inserted exactly at a bookmark pushes it: it stays on the
//! same text); strictly inside the removed range it goes to `at`, the start of the change
//! (the text it marked is gone). Whole-document changes (replace-all, deletion of matching
//! lines, their undo and redo, a reload) do not say where each byte went: a bookmark keeps its
//! line number and its column there (clamped to the line), or, where the line is not indexed
//! yet, its offset (clamped to the length).
//!
//! **The store.** One file per bookmarked file, named by its device and inode, in
//! `bookmarks/` below the state directory (a private 0700 directory of ours, as the index
//! cache's). Layout (little-endian):
//!
//! ```text
//! "TOMEBMK1" | version u32 | dev u64 | ino u64 | size u64 | mtime_ns i128 | ctime_ns i128
//! | n u32 | n × (offset u64, hash u64)          (the sampled blocks of the file, as `Source`'s)
//! | count u32 | count × (name_len u8, name, offset u64)
//! | crc32c u32 of everything before
//! ```
//!
//! At most 64 + 16·64 + 100·73 bytes: entries are read only up to [`MAX_ENTRY`].
//!
//! **Trust.** The state directory may hold files another local user planted. An entry is
//! used only if it is a regular file of ours, mode 0600, with one link, opened without
//! following a symbolic link (`O_NOFOLLOW`), at most [`MAX_ENTRY`] bytes, whose CRC, magic,
//! version and every field check out (names valid and distinct, offsets within the file); and
//! only for the same file unchanged: device, inode, size, mtime and ctime equal to the
//! nanosecond, and the sampled blocks hashing the same. Anything else: the entry is removed
//! and the caller is told bookmarks were dropped. Unlike the index cache, an entry of a file
//! changed within the file system's timestamp tick ("racy") is trusted: the worst a rewrite
//! of the same size within that tick missing every sample can do is put bookmarks at the
//! same offsets of other text. Writes are atomic (a temporary file of ours renamed over the
//! entry: a planted link is replaced, never written through).
//!
//! **Bounded.** At most [`MAX_ENTRIES`] entries: adding one past it removes the least
//! recently used (an entry's mtime, set by each store and by each load that keeps it).
//!
//! **A grown file** (an appended log: same device and inode, larger, the old extent's sampled
//! blocks unchanged, its last block among them) keeps its bookmarks, as the index cache keeps
//! the index of its start.
//!
//! **Which positions are stored.** Offsets in the file on disk: on a save, the bookmarks as
//! they were in the saved version; on a set or delete, the bookmarks mapped back onto the
//! file on disk (see `Document::persist_bookmarks`).
//!
//! Cost: a set, delete or save writes one small file (O(bookmarks)); mapping back the
//! bookmarks of a document with unsaved edits walks its pieces once (O(pieces)).

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use crate::index_cache::{
    decode_samples, encode_samples, evict_least_recent, open_envelope, private_dir,
    read_private_file, seal_envelope, start_envelope, write_atomically, Stamp,
};

const MAGIC: &[u8; 8] = b"TOMEBMK1";
const VERSION: u32 = 1;
/// The most bookmarks per file.
pub const MAX_BOOKMARKS: usize = 100;
/// The longest name, in bytes.
pub const MAX_NAME: usize = 64;
/// The largest entry read: anything longer is not one of ours.
pub const MAX_ENTRY: u64 = 16 << 10;
/// The most entries kept (files with bookmarks): past it, the least recently used go. Entries
/// are a few hundred bytes (at most [`MAX_ENTRY`]): 2 000 take well under 1 MiB as a rule,
/// 32 MiB at worst.
pub const MAX_ENTRIES: usize = 2000;

/// Whether `name` may name a bookmark: 1 to [`MAX_NAME`] bytes, no control characters.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= MAX_NAME && !name.chars().any(char::is_control)
}

/// A document's bookmarks: name → byte offset.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bookmarks {
    map: BTreeMap<String, usize>,
}

impl Bookmarks {
    /// Bytes `at..at + removed` were replaced by `inserted` bytes: move every bookmark (see
    /// the module's "Following edits"). O(bookmarks).
    pub fn splice(&mut self, at: usize, removed: usize, inserted: usize) {
        for o in self.map.values_mut() {
            *o = moved(*o, at, removed, inserted);
        }
    }

    /// Sets `name` at `offset` (moving it if it exists). False (nothing set) if the name is not
    /// valid or there are [`MAX_BOOKMARKS`] others already.
    pub fn set(&mut self, name: &str, offset: usize) -> bool {
        if !valid_name(name) || (!self.map.contains_key(name) && self.map.len() >= MAX_BOOKMARKS) {
            return false;
        }
        self.map.insert(name.to_owned(), offset);
        true
    }

    /// Removes `name`; whether it was there.
    pub fn remove(&mut self, name: &str) -> bool {
        self.map.remove(name).is_some()
    }

    /// The bookmark `name`'s offset.
    pub fn get(&self, name: &str) -> Option<usize> {
        self.map.get(name).copied()
    }

    /// Every bookmark, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, usize)> {
        self.map.iter().map(|(n, &o)| (n.as_str(), o))
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when there is none.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Every offset replaced by `f(offset)`.
    pub(crate) fn remap(&mut self, mut f: impl FnMut(usize) -> usize) {
        for o in self.map.values_mut() {
            *o = f(*o);
        }
    }
}

/// Where a bookmark at `o` goes when `at..at + removed` becomes `inserted` bytes.
pub fn moved(o: usize, at: usize, removed: usize, inserted: usize) -> usize {
    if o >= at + removed {
        o - removed + inserted
    } else if o > at {
        at
    } else {
        o
    }
}

/// What was found in the store for a file at open.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Loaded {
    /// The bookmarks, if the entry held for this file.
    pub bookmarks: Bookmarks,
    /// An entry was there but did not hold (the file changed since, or the entry was damaged
    /// or not ours): it was removed.
    pub dropped: bool,
}

/// The bookmark files in `bookmarks/` below the state directory. Cheap to clone.
#[derive(Clone, Debug)]
pub struct BookmarkStore {
    dir: PathBuf,
    max_entries: usize,
}

impl BookmarkStore {
    /// The store below the state directory `state` (`journal::state_dir`). Errors: the
    /// directory cannot be made, or is not a private directory of ours.
    pub fn in_state_dir(state: &Path) -> io::Result<BookmarkStore> {
        BookmarkStore::open(&state.join("bookmarks"))
    }

    /// The store in `dir`, created 0700 if missing; refused if it is a link, not ours, or open
    /// to others.
    pub fn open(dir: &Path) -> io::Result<BookmarkStore> {
        private_dir(dir, "bookmarks")?;
        Ok(BookmarkStore {
            dir: dir.to_path_buf(),
            max_entries: MAX_ENTRIES,
        })
    }

    /// The same store keeping at most `n` entries instead of [`MAX_ENTRIES`].
    pub fn with_max_entries(mut self, n: usize) -> BookmarkStore {
        self.max_entries = n;
        self
    }

    /// The entry's path for a file.
    pub fn entry_path(&self, dev: u64, ino: u64) -> PathBuf {
        self.dir.join(format!("{dev:x}-{ino:x}.bm"))
    }

    /// The bookmarks stored for the file stamped `stamp` with sampled blocks `samples`, each
    /// clamped to the file's size. An entry that does not hold is removed (`dropped`).
    ///
    /// A file that only grew since (an appended log: same device and inode, larger, and
    /// `samples_of(old size)` equal to the stored samples, the old extent's last block among
    /// them) keeps its bookmarks. A kept entry becomes the most recently used one.
    pub(crate) fn load(
        &self,
        stamp: &Stamp,
        samples: &[(usize, u64)],
        samples_of: impl Fn(usize) -> Vec<(usize, u64)>,
    ) -> Loaded {
        let (dev, ino) = stamp.key();
        let path = self.entry_path(dev, ino);
        if path.symlink_metadata().is_err() {
            return Loaded::default();
        }
        let holds = |e: &Entry| {
            if e.stamp.same_as(stamp) {
                return e.samples == samples;
            }
            let old = e.stamp.size();
            e.stamp.key() == stamp.key()
                && old < stamp.size()
                && usize::try_from(old).is_ok_and(|old| samples_of(old) == e.samples)
        };
        match read_entry(&path) {
            Some((e, handle)) if holds(&e) => {
                let _ = handle.set_modified(std::time::SystemTime::now());
                Loaded {
                    bookmarks: e.bookmarks,
                    dropped: false,
                }
            }
            _ => {
                let _ = std::fs::remove_file(&path);
                Loaded {
                    bookmarks: Bookmarks::default(),
                    dropped: true,
                }
            }
        }
    }

    /// Stores `bookmarks` (offsets in the file) for the file stamped `stamp`; removes its entry
    /// when there are none. Best effort: false if it could not be written.
    pub(crate) fn store(
        &self,
        stamp: &Stamp,
        samples: &[(usize, u64)],
        bookmarks: &Bookmarks,
    ) -> bool {
        let (dev, ino) = stamp.key();
        let path = self.entry_path(dev, ino);
        if bookmarks.is_empty() {
            return match std::fs::remove_file(&path) {
                Ok(()) => true,
                Err(e) => e.kind() == io::ErrorKind::NotFound,
            };
        }
        let bytes = encode(stamp, samples, bookmarks);
        let new = path.symlink_metadata().is_err();
        let stored = write_atomically(&self.dir, &path, &bytes).is_ok();
        if stored && new {
            self.prune();
        }
        stored
    }

    /// Keeps at most [`MAX_ENTRIES`] entries, the least recently used (stored or loaded) going
    /// first: files deleted or never reopened do not pile up. Run when an entry is added.
    /// Cost: one `lstat` per file in the store.
    pub fn prune(&self) {
        evict_least_recent(&self.dir, ".bm", |count, _| count > self.max_entries);
    }
}

struct Entry {
    stamp: Stamp,
    samples: Vec<(usize, u64)>,
    bookmarks: Bookmarks,
}

fn encode(stamp: &Stamp, samples: &[(usize, u64)], bookmarks: &Bookmarks) -> Vec<u8> {
    let capacity = 128 + samples.len() * 16 + bookmarks.len() * 80;
    let mut out = start_envelope(MAGIC, VERSION, capacity);
    stamp.encode_into(&mut out);
    encode_samples(&mut out, samples);
    out.extend_from_slice(&(bookmarks.len() as u32).to_le_bytes());
    for (name, offset) in bookmarks.iter() {
        // Names are at most MAX_NAME (64) bytes: the length fits a byte.
        out.push(name.len() as u8);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&(offset as u64).to_le_bytes());
    }
    seal_envelope(out)
}

/// Opens and decodes the entry at `path` if it is a private regular file of ours, small
/// enough, whose CRC and fields check out.
fn read_entry(path: &Path) -> Option<(Entry, std::fs::File)> {
    let (bytes, handle) = read_private_file(path, MAX_ENTRY + 1)?;
    Some((decode(&bytes)?, handle))
}

fn decode(bytes: &[u8]) -> Option<Entry> {
    let mut f = open_envelope(bytes, MAGIC, VERSION)?;
    let stamp = Stamp::decode_from(&mut f)?;
    let samples = decode_samples(&mut f)?;
    let count = f.u32()? as usize;
    if count > MAX_BOOKMARKS {
        return None;
    }
    let size = usize::try_from(stamp.size()).ok()?;
    let mut bookmarks = Bookmarks::default();
    for _ in 0..count {
        let len = usize::from(f.take(1)?[0]);
        let name = std::str::from_utf8(f.take(len)?).ok()?;
        let offset = f.usize()?;
        if offset > size || bookmarks.get(name).is_some() || !bookmarks.set(name, offset) {
            return None;
        }
    }
    f.0.is_empty().then_some(Entry {
        stamp,
        samples,
        bookmarks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(valid_name("A") && valid_name("7") && valid_name("todo: fix ü"));
        assert!(!valid_name("") && !valid_name("a\nb") && !valid_name(&"x".repeat(65)));
        assert!(valid_name(&"x".repeat(64)));
    }

    #[test]
    fn splice_rules() {
        // Before the change: stays.
        assert_eq!(moved(3, 5, 2, 4), 3);
        // At the change's start with something removed: stays (the text after it comes here).
        assert_eq!(moved(5, 5, 2, 4), 5);
        // Inserted exactly at the bookmark: pushed along with its text.
        assert_eq!(moved(5, 5, 0, 4), 9);
        // Inside the removed range: to its start.
        assert_eq!(moved(6, 5, 2, 4), 5);
        // At the removed range's end and after: shifted.
        assert_eq!(moved(7, 5, 2, 4), 9);
        assert_eq!(moved(100, 5, 2, 0), 98);
    }

    #[test]
    fn count_is_bounded() {
        let mut b = Bookmarks::default();
        for i in 0..MAX_BOOKMARKS {
            assert!(b.set(&format!("n{i}"), i));
        }
        assert!(!b.set("one more", 0));
        assert!(b.set("n0", 42), "moving an existing one is allowed");
        assert_eq!(b.get("n0"), Some(42));
    }
}
