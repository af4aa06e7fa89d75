//! The file on disk while the document is open: how it changed, following appends (a log
//! being written), and reloading.
//!
//! The document reads one or more sources: the file as opened, then one per followed append
//! (the new bytes only, mapped on their own, with their own index), then the files it saved.
//! Appends are added at the end of the tree without touching the user's edits: they are not
//! undo steps, a clean document stays clean, and positions computed before them stay valid
//! ([`Document::positions_valid_since`]).
//!
//! Cost: [`Document::disk_change`] is a `stat` and a few sampled reads per mapping of the
//! current file; following an append maps the new part and starts its own background index.

use super::history::History;
use super::{bufs, Changed, Document, OnInterruptedSave};
use crate::journal::Record;
use crate::source::{DiskChange, Source};
use crate::{Error, Result};

impl Document {
    /// How the file behind the document changed on disk since it was read (or last saved).
    /// Compares every mapping of the current file (the one opened, and tails added by
    /// [`Document::follow_append`]); a file we replaced by saving is not compared.
    pub fn disk_change(&self) -> DiskChange {
        let Some(newest) = self.sources.last() else {
            return DiskChange::Unchanged;
        };
        let id = newest.identity();
        let change = newest.disk_change();
        if !matches!(change, DiskChange::Unchanged | DiskChange::Appended { .. }) {
            return change;
        }
        let older = self.sources.iter().rev().skip(1);
        for s in older.filter(|s| (s.identity().dev, s.identity().ino) == (id.dev, id.ino)) {
            match s.disk_change() {
                DiskChange::Unchanged | DiskChange::Appended { .. } => {}
                other => return other,
            }
        }
        change
    }

    /// Reads the file again from disk, dropping the unsaved edits and the undo history (the
    /// user asked for it: after a rewrite or replacement by another program). The version still
    /// grows, so clients can tell new replies from old ones. Errors as [`Document::open`]; on
    /// error the document is unchanged.
    pub fn reload(&mut self) -> Result<u64> {
        let path = self.path.clone().ok_or_else(|| Error::Io {
            context: "reload".into(),
            source: std::io::Error::other("the document has no path"),
        })?;
        let cache = self.index_cache();
        let chosen = self.encoding_chosen.then_some(self.encoding);
        let mut fresh =
            Document::open_cached_as(&path, OnInterruptedSave::Refuse, cache.as_ref(), chosen)?;
        let places = self.bookmark_places();
        self.sources = std::mem::take(&mut fresh.sources);
        self.add = std::mem::take(&mut fresh.add);
        self.buffers = fresh.buffers;
        self.tree = std::mem::take(&mut fresh.tree);
        self.history = History::default();
        self.rebase = None;
        self.line_ending = fresh.line_ending;
        if !self.encoding_chosen {
            self.encoding = fresh.encoding;
        }
        self.read_only = fresh.read_only;
        self.bump_version();
        self.revision = self.next_revision;
        self.saved_revision = self.revision;
        self.next_revision += 1;
        let base = self.current_source().clone();
        self.restart_journal(&base);
        self.put_bookmarks_back(places);
        self.persist_bookmarks();
        Ok(self.version)
    }

    /// If the file grew by an append (a log being written), maps the new bytes and adds them at
    /// the end of the document, keeping the user's edits; a clean document stays clean. Returns
    /// the new version, or `None` when nothing was appended. Cost: one `stat`, a few sampled
    /// reads, a mapping of the new part and its own background index.
    pub fn follow_append(&mut self) -> Result<Option<u64>> {
        let DiskChange::Appended { .. } = self.disk_change() else {
            return Ok(None);
        };
        self.append_tail(None).map(Some)
    }

    /// Maps the file's bytes after the newest source, up to `upto` (file offset) if given, and
    /// adds them at the end. The first append adds a tail source; later ones replace that
    /// tail by a longer one with the same first bytes (`Source::open_tail`), so pieces that
    /// point into it stay valid and a followed log holds two sources however long it grows.
    pub(super) fn append_tail(&mut self, upto: Option<usize>) -> Result<u64> {
        let newest = self.current_source().clone();
        let tail = Source::open_tail(&newest, upto)?;
        let (from, to) = if newest.is_tail() {
            (newest.len(), tail.len())
        } else {
            (0, tail.len())
        };
        self.log(|| Record::Appended {
            upto: tail.file_offset(tail.len()),
        });
        let was_clean = !self.is_dirty();
        if newest.is_tail() {
            let last = self.sources.len() - 1;
            self.sources[last] = tail;
        } else {
            self.sources.push(tail);
        }
        drop(newest);
        let index = (self.sources.len() - 1) as u32;
        let bufs = bufs(&self.sources, &self.add);
        let piece = bufs.original(index, from, to);
        let end = self.tree.len();
        let added = piece.len();
        self.tree.insert(end, piece, &bufs);
        self.revision = self.next_revision;
        self.next_revision += 1;
        if was_clean {
            self.saved_revision = self.revision;
        }
        self.history.group = None;
        self.version += 1;
        // Only new bytes at the end: positions computed before stay valid.
        self.appends_since_change += 1;
        self.changed
            .push(self.version, Some(Changed::splice(end, 0, added)));
        Ok(self.version)
    }
}
