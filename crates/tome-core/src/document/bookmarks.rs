//! A document's bookmarks ([`crate::bookmarks`]): set, deleted, moved with every change, and
//! kept in the store for the file on disk.
//!
//! How they move: single edits, batches, pastes, undo and redo of those, and replayed journal
//! records move each bookmark exactly ([`Bookmarks::splice`], from `edit.rs`'s splice and
//! `apply`, and `clip.rs`'s paste); whole-document changes keep line and column
//! ([`Document::bookmark_places`], [`Document::put_bookmarks_back`]).
//!
//! What is stored, and when ([`Document::persist_bookmarks`]): offsets in the file on disk,
//! after each set or delete, after a reload, and after a save (the bookmarks as they were in
//! the saved version, taken by `begin_save`: edits made while the save wrote are not in the
//! saved file). A document with unsaved edits has its bookmarks mapped back onto the file:
//! a bookmark in bytes that come from the file goes to those bytes' place in it; one in
//! inserted text goes to where that text was inserted (after the file's bytes before it).
//! A followed log that grew since it was opened is stored as it is now, appended bytes
//! included (a bookmark in them goes to its place in the file). Not stored (the call says so,
//! and the next save stores them): while a saved file is still being indexed and the document
//! was edited since that save (its pieces do not point into the saved file yet), and when the
//! file on disk changed otherwise (another program wrote it, or it grew again since the
//! document last took its appended bytes).

use crate::bookmarks::{BookmarkStore, Bookmarks, Loaded, MAX_BOOKMARKS};
use crate::tree::Src;
use crate::{Error, Result};

use super::Document;

/// Where a bookmark was, for a whole-document change: its name, offset, and (line, column)
/// when the line was known.
pub(super) type Places = Vec<(String, usize, Option<(usize, usize)>)>;

impl Document {
    /// Uses `store` for this document's bookmarks and loads those stored for the file as
    /// opened. Call right after opening (before any change): stored offsets are the file's.
    pub fn enable_bookmarks(&mut self, store: BookmarkStore) -> Loaded {
        let disk = &self.sources[0];
        let loaded = match disk.stamp_if_unchanged() {
            Some(stamp) => store.load(&stamp, disk.samples(), |size| disk.samples_of(size)),
            None => Loaded::default(),
        };
        let len = self.len();
        self.bookmarks = loaded.bookmarks.clone();
        self.bookmarks.remap(|o| o.min(len));
        self.bookmark_store = Some(store);
        loaded
    }

    /// The bookmarks, by name, at their current offsets.
    pub fn bookmarks(&self) -> &Bookmarks {
        &self.bookmarks
    }

    /// Sets bookmark `name` at `offset` (moving it if it exists) and stores the bookmarks.
    /// Returns whether they were stored (see the module doc). Errors: [`Error::OutOfBounds`]
    /// (an offset past the end), [`Error::TooLarge`] (an invalid name, or
    /// [`MAX_BOOKMARKS`] others already).
    pub fn set_bookmark(&mut self, name: &str, offset: usize) -> Result<bool> {
        if offset > self.len() {
            return Err(Error::OutOfBounds(format!(
                "bookmark offset {offset} is past the end ({})",
                self.len()
            )));
        }
        if !self.bookmarks.set(name, offset) {
            return Err(Error::TooLarge(format!(
                "a file has at most {MAX_BOOKMARKS} bookmarks, named by 1 to {} bytes without \
                 control characters",
                crate::bookmarks::MAX_NAME
            )));
        }
        Ok(self.persist_bookmarks())
    }

    /// Deletes bookmark `name`; returns (whether it existed, whether the bookmarks were
    /// stored).
    pub fn delete_bookmark(&mut self, name: &str) -> (bool, bool) {
        let existed = self.bookmarks.remove(name);
        (existed, existed && self.persist_bookmarks())
    }

    /// Writes the bookmarks, mapped onto the file on disk, to the store. False if there is
    /// no store or they could not be mapped or written (see the module doc). O(bookmarks) for
    /// a document without unsaved edits, O(pieces) with.
    pub(super) fn persist_bookmarks(&self) -> bool {
        let Some(store) = &self.bookmark_store else {
            return false;
        };
        let Some(d) = self.sources.iter().rposition(|s| !s.is_tail()) else {
            return false;
        };
        let disk = &self.sources[d];
        let newest = self.sources.len() - 1;
        // A followed log that grew since it was opened has tails after its source: the entry
        // is then for the file as it is now, appended bytes included.
        let stamped = if newest > d {
            self.sources[newest].grown_file_stamp()
        } else {
            disk.stamp_if_unchanged()
                .map(|stamp| (stamp, disk.samples().to_vec()))
        };
        let Some((stamp, samples)) = stamped else {
            return false;
        };
        let on_disk = if newest == d && !self.is_dirty() && self.len() == disk.len() {
            self.bookmarks.clone()
        } else if self.rebase.is_some() {
            return false;
        } else {
            self.bookmarks_in_file(d as u32)
        };
        store.store(&stamp, &samples, &on_disk)
    }

    /// The bookmarks mapped onto the file of source `d` and the tails appended to it since:
    /// one pass over the pieces.
    fn bookmarks_in_file(&self, d: u32) -> Bookmarks {
        let mut marks: Vec<(usize, &str)> = self.bookmarks.iter().map(|(n, o)| (o, n)).collect();
        marks.sort_unstable();
        let mut out = Bookmarks::default();
        let mut next = marks.iter().peekable();
        // The place in the file after the last of its bytes seen so far.
        let mut after = 0;
        for (p, at) in self.tree.pieces_from(0) {
            if next.peek().is_none() {
                break;
            }
            let end = at + p.len();
            // Every source after `d` is a tail of `d`'s file (see `persist_bookmarks`).
            let start_in_file = match p.src {
                Src::Original(s) if s >= d => self
                    .sources
                    .get(s as usize)
                    .and_then(|src| usize::try_from(src.file_offset(p.start)).ok()),
                _ => None,
            };
            while let Some(&&(o, name)) = next.peek() {
                if o >= end {
                    break;
                }
                let place = start_in_file.map_or(after, |s| s + (o - at));
                out.set(name, place);
                next.next();
            }
            if let Some(s) = start_in_file {
                after = s + p.len();
            }
        }
        for &(_, name) in next {
            out.set(name, after);
        }
        out
    }

    /// Each bookmark's line and column, before a whole-document change.
    pub(super) fn bookmark_places(&self) -> Places {
        let view = self.view();
        self.bookmarks
            .iter()
            .map(|(name, o)| {
                let place = view
                    .line_of(o)
                    .ok()
                    .and_then(|line| Some((line, o - view.line_start(line).ok()?)));
                (name.to_owned(), o, place)
            })
            .collect()
    }

    /// Puts the bookmarks back after a whole-document change: same line and column (clamped
    /// to the line, and the line to the last one), or the same offset clamped to the length
    /// where a line is not known.
    pub(super) fn put_bookmarks_back(&mut self, places: Places) {
        let len = self.len();
        let view = self.view();
        let last_line = view.line_of(len).ok();
        let mut moved = Vec::with_capacity(places.len());
        for (name, o, place) in places {
            let to = place
                .zip(last_line)
                .and_then(|((line, col), last)| {
                    let line = line.min(last);
                    let start = view.line_start(line).ok()?;
                    let end = if line < last {
                        // The line's last byte is its break (or the LF of a CRLF).
                        view.line_start(line + 1).ok()?.saturating_sub(1).max(start)
                    } else {
                        len
                    };
                    Some((start + col).min(end))
                })
                .unwrap_or(o.min(len));
            moved.push((name, to));
        }
        for (name, to) in moved {
            self.bookmarks.set(&name, to);
        }
    }
}
