//! A document: the piece tree of one file, its add buffer, its undo history and its versions.
//!
//! This module holds the document itself (opening, reading, the line index, snapshots); each
//! other concern has a file of its own, all of them `impl Document` blocks over the fields
//! declared here:
//!
//! | file | what |
//! |---|---|
//! | `edit.rs` | [`Edit`], single edits and atomic batches |
//! | `history.rs` | undo and redo ([`Restored`]), and how typing is grouped |
//! | `replace.rs` | whole-document changes (replace-all, deletion of matching lines) planned on a [`Snapshot`] ([`PlannedChange`]), applied here |
//! | `save.rs` | [`SaveJob`]: prepare, run on any thread, finish |
//! | `release.rs` | after a save: the tree and the undo history moved onto the saved file, the files it replaced closed |
//! | `follow.rs` | the file on disk: changes, followed appends, reload |
//! | `bookmarks.rs` | named offsets that follow the changes, stored for the file on disk |
//! | `changed.rs` | which bytes each version changed ([`Changed`]), for views derived from an older one |
//! | `recovery.rs` | the edit journal: logging, setting aside, recovery and replay |
//! | `rejournal.rs` | changes journaled as a difference of trees (edits during a save, undo of a replace-all) |
//!
//! Invariants: the tree's pieces refer to the add buffer and to `sources` by index, and
//! `sources` only grows while the document lives (reload and recovery replace it whole, with
//! the tree); the newest source is the file the document stands for. A slot no piece refers to
//! any more (a file a save replaced, see `release.rs`) holds the newest source instead of its
//! own, so that its file closes; no piece, in the tree or in the history, uses such a slot. `version` grows by one
//! at every change of content (edit, undo, redo, followed append, reload) and never goes back;
//! `revision` names the content (undo returns to an earlier revision), so the document is
//! clean exactly when `revision == saved_revision`.

mod bookmarks;
mod changed;
mod clip;
mod edit;
mod follow;
mod history;
mod recovery;
mod rejournal;
mod release;
mod replace;
mod save;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::add_buffer::{AddBuffer, SealedBlocks};
use crate::backup_record;
use crate::bookmarks::{BookmarkStore, Bookmarks};
use crate::charset::{Charset, Encoding};
use crate::index_cache::{CacheUse, IndexCache};
use crate::journal::Journal;
use crate::line_index::IndexProgress;
use crate::save::in_place;
use crate::source::{LineEnding, Source};
use crate::sys;
use crate::tree::{Bufs, PieceTree};
use crate::view::View;
use crate::{Control, Error, Result};
use history::History;
use save::Rebase;

pub use changed::Changed;
pub use clip::{Clip, MAX_PASTED_PIECES};
pub use edit::Edit;
pub use history::Restored;
pub use replace::PlannedChange;
pub use save::SaveJob;

/// A frozen version of a document that other threads can read (search, save) while the
/// document goes on being edited. Cheap to take: O(1) for the tree, plus sealing the add
/// buffer's open block (at most 1 MiB copied).
#[derive(Clone)]
pub struct Snapshot {
    tree: PieceTree,
    sources: Arc<[Arc<Source>]>,
    sealed: SealedBlocks,
    version: u64,
    revision: u64,
    charset: Charset,
}

impl Snapshot {
    /// A reader over this version.
    pub fn view(&self) -> View<'_> {
        View {
            charset: self.charset,
            tree: &self.tree,
            bufs: Bufs {
                sources: &self.sources,
                sealed: &self.sealed,
                open: &[],
            },
        }
    }

    /// The document version this snapshot was taken at.
    pub fn version(&self) -> u64 {
        self.version
    }
}

/// An open document.
///
/// Cost model: open is O(1) in the file's size; edits, line/offset conversion and a viewport
/// are O(log pieces) (plus the bytes shown); undo/redo are O(1) plus a refresh of summaries;
/// a snapshot is O(1). Memory: the tree (about 40 bytes a piece), the add buffer (the inserted
/// bytes), and the line index (8 bytes per 64 KiB of file). The file itself is only mapped.
///
/// ```
/// # fn main() -> tome_core::Result<()> {
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("hello.txt");
/// std::fs::write(&path, "hello\nworld\n").unwrap();
/// let mut doc = tome_core::Document::open(&path)?;
/// doc.wait_for_index(&tome_core::Control::new())?;
/// doc.insert(6, "big ")?;
/// assert_eq!(doc.view().lines(1, 1, None)?[0].text, "big world");
/// doc.undo();
/// assert_eq!(doc.view().read(0, doc.len())?, b"hello\nworld\n");
/// # Ok(()) }
/// ```
pub struct Document {
    path: Option<PathBuf>,
    /// The identity of `sources` and `add` together: replaced with them (reload, recovery), so
    /// that a [`Clip`]'s pieces are used only where they mean the same bytes.
    buffers: u64,
    sources: Vec<Arc<Source>>,
    add: AddBuffer,
    tree: PieceTree,
    history: History,
    version: u64,
    revision: u64,
    next_revision: u64,
    saved_revision: u64,
    line_ending: LineEnding,
    encoding: Encoding,
    /// True once the encoding was named by the user ([`Document::set_encoding`]): a reload
    /// keeps it instead of detecting again.
    encoding_chosen: bool,
    read_only: bool,
    rebase: Option<Rebase>,
    journal: Option<Journal>,
    /// How many of the latest versions came from followed appends only (see
    /// [`Document::positions_valid_since`]).
    appends_since_change: u64,
    /// What the latest versions changed ([`Document::changed_since`]).
    changed: changed::ChangeLog,
    /// What the next version changes, said by the change about to make it.
    pending_change: Option<Changed>,
    /// Files next to ours named like backups that were not trusted, found at open.
    ignored_backups: Vec<in_place::IgnoredBackup>,
    /// Named offsets that follow the changes (`bookmarks.rs`).
    bookmarks: Bookmarks,
    /// Where the bookmarks are kept for the file on disk, once enabled.
    bookmark_store: Option<BookmarkStore>,
}

/// What [`Document::open_with`] does with the backup of an interrupted in-place save.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnInterruptedSave {
    /// Fail with [`Error::InterruptedSave`], so that the user is asked.
    #[default]
    Refuse,
    /// Put the file as it was before that save back ([`in_place::InterruptedSave::restore`]).
    Restore,
    /// Keep the file as it is now and delete the backup.
    Discard,
    /// Open the file as it is, leaving the backup for later (the next open asks again).
    Keep,
}

fn bufs<'a>(sources: &'a [Arc<Source>], add: &'a AddBuffer) -> Bufs<'a> {
    let (sealed, open) = add.parts();
    Bufs {
        sources,
        sealed,
        open,
    }
}

impl Document {
    /// Opens `path`: maps it and starts its line index. O(1) in the file's size.
    ///
    /// Fails with [`Error::InterruptedSave`] if an in-place save of this file by this user was
    /// interrupted (its backup holds the file as it was): the caller asks the user and opens
    /// again with [`Document::open_with`].
    pub fn open(path: &Path) -> Result<Document> {
        Document::open_with(path, OnInterruptedSave::Refuse)
    }

    /// Opens `path` like [`Document::open`], doing `choice` with the backup of an interrupted
    /// in-place save if there is one (see [`crate::in_place`]). Files that only look like such
    /// backups are never used; they are listed by [`Document::ignored_backups`].
    pub fn open_with(path: &Path, choice: OnInterruptedSave) -> Result<Document> {
        Document::open_cached(path, choice, None)
    }

    /// Opens `path` like [`Document::open_with`], with its line index taken from `cache` when
    /// the cache holds one for this very file, and stored there once built; the files this
    /// document opens later (after a save, a reload) use the same cache. See
    /// [`crate::index_cache`].
    pub fn open_cached(
        path: &Path,
        choice: OnInterruptedSave,
        cache: Option<&IndexCache>,
    ) -> Result<Document> {
        Document::open_cached_as(path, choice, cache, None)
    }

    /// Opens `path` like [`Document::open_cached`], in `encoding` if given rather than the one
    /// detected (its line index then counts that encoding's line breaks: UTF-16's are not
    /// UTF-8's). Errors: also [`Error::UnsupportedEncoding`] for an encoding that cannot be
    /// edited.
    pub fn open_cached_as(
        path: &Path,
        choice: OnInterruptedSave,
        cache: Option<&IndexCache>,
        encoding: Option<Encoding>,
    ) -> Result<Document> {
        if let Some(e) = encoding.filter(|e| !e.is_supported()) {
            return Err(Error::UnsupportedEncoding(e.name().to_owned()));
        }
        let found = in_place::find_interrupted(path, backup_record::default_dir().as_deref());
        if let Some(save) = found.saves.first() {
            match choice {
                OnInterruptedSave::Refuse => {
                    return Err(Error::InterruptedSave(Box::new(save.clone())))
                }
                OnInterruptedSave::Restore => save.restore()?,
                OnInterruptedSave::Discard => save.discard()?,
                OnInterruptedSave::Keep => {}
            }
        }
        let source = Source::open_cached_as(path, cache, encoding.map(Encoding::newlines))?;
        crate::save::remove_stale_temps(path);
        let read_only = !sys::writable(path);
        let mut doc = Document {
            path: Some(path.to_path_buf()),
            buffers: clip::new_buffers_id(),
            line_ending: source.line_ending(),
            encoding: encoding.unwrap_or(source.encoding()),
            encoding_chosen: encoding.is_some(),
            sources: vec![source],
            add: AddBuffer::default(),
            tree: PieceTree::default(),
            history: History::default(),
            version: 0,
            revision: 0,
            next_revision: 1,
            saved_revision: 0,
            read_only,
            rebase: None,
            journal: None,
            appends_since_change: 0,
            changed: changed::ChangeLog::default(),
            pending_change: None,
            ignored_backups: found.ignored,
            bookmarks: Bookmarks::default(),
            bookmark_store: None,
        };
        doc.tree = doc.whole_source_tree(0);
        Ok(doc)
    }

    fn whole_source_tree(&self, source: u32) -> PieceTree {
        let len = self.sources[source as usize].len();
        let pieces = if len == 0 {
            Vec::new()
        } else {
            vec![bufs(&self.sources, &self.add).original(source, 0, len)]
        };
        PieceTree::from_pieces(pieces)
    }

    /// Which units of the document's bytes are line breaks (its encoding's; its files' line
    /// indexes count the same). O(1).
    pub fn newlines(&self) -> crate::breaks::Newlines {
        bufs(&self.sources, &self.add).newlines()
    }

    /// A reader over the current version. O(1).
    pub fn view(&self) -> View<'_> {
        View {
            charset: self.encoding.charset(),
            tree: &self.tree,
            bufs: bufs(&self.sources, &self.add),
        }
    }

    /// A frozen copy of the current version for another thread.
    pub fn snapshot(&mut self) -> Snapshot {
        Snapshot {
            tree: self.tree.clone(),
            sources: self.sources.clone().into(),
            sealed: self.add.seal(),
            version: self.version,
            revision: self.revision,
            charset: self.encoding.charset(),
        }
    }

    /// Length in bytes. O(1).
    pub fn len(&self) -> usize {
        self.tree.len()
    }

    /// True for an empty document.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The version: 0 at open, one more after each change of content (edit, undo, redo).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// A change of content other than a followed append: the next version.
    /// Logs what it changed if the change said so ([`Document::will_change`]), else a
    /// whole-document change.
    fn bump_version(&mut self) {
        self.version += 1;
        self.appends_since_change = 0;
        let change = self.pending_change.take();
        self.changed.push(self.version, change);
    }

    /// True if offsets and positions computed against version `v` still mean the same bytes
    /// now: `v` is the current version, or every version since only appended at the end (a
    /// followed log). Lets a client's edit made while a log grew apply instead of being refused.
    pub fn positions_valid_since(&self, v: u64) -> bool {
        v <= self.version && self.version - v <= self.appends_since_change
    }

    /// True if the content differs from the last save (or the file as opened).
    pub fn is_dirty(&self) -> bool {
        self.revision != self.saved_revision
    }

    /// The file this document saves to.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The dominant line ending of the file as opened.
    pub fn line_ending(&self) -> LineEnding {
        self.line_ending
    }

    /// The file's encoding: detected at open, or named by [`Document::set_encoding`].
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// Reads the document's bytes in `encoding` from now on (the bytes do not change: only
    /// how they are shown, and how later edits' text is written). O(1) between encodings with
    /// the same line breaks (UTF-8 and the ASCII-compatible ones: see [`crate::charset`]).
    /// Between those and UTF-16 the line breaks are other bytes: the file is opened again with
    /// the new rule and indexed again (in the background, as at open), which needs a document
    /// without edits or undo history (as just opened or reloaded).
    ///
    /// Errors: [`Error::Dirty`] if the document has changes not saved (text already written
    /// in the old encoding would read as other characters), or, when the line breaks change,
    /// any undo history; [`Error::UnsupportedEncoding`] for an encoding that cannot be edited.
    pub fn set_encoding(&mut self, encoding: Encoding) -> Result<()> {
        if !encoding.is_supported() {
            return Err(Error::UnsupportedEncoding(encoding.name().to_owned()));
        }
        if encoding != self.encoding && self.is_dirty() {
            return Err(Error::Dirty(format!(
                "save or undo the changes before reopening as {}: they were written in {}",
                encoding.name(),
                self.encoding.name()
            )));
        }
        if encoding.newlines() != self.newlines() {
            self.reindex_as(encoding)?;
        }
        self.encoding = encoding;
        self.encoding_chosen = true;
        Ok(())
    }

    /// Opens the document's file again with `encoding`'s line-break rule and makes it the
    /// whole document (see [`Document::set_encoding`]). Cost: a mapping and a new background
    /// index.
    fn reindex_as(&mut self, encoding: Encoding) -> Result<()> {
        let history = !self.history.undo.is_empty() || !self.history.redo.is_empty();
        if history || self.sources.len() != 1 || self.is_dirty() {
            return Err(Error::Dirty(format!(
                "{} has other line breaks than {}: reload the file (or open it again) before \
                 reading it as {}",
                encoding.name(),
                self.encoding.name(),
                encoding.name()
            )));
        }
        let Some(path) = self.path.clone() else {
            return Err(Error::Dirty(format!(
                "a document without a file cannot be read as {}",
                encoding.name()
            )));
        };
        let cache = self.index_cache();
        let source = Source::open_cached_as(&path, cache.as_ref(), Some(encoding.newlines()))?;
        self.sources = vec![source];
        self.tree = self.whole_source_tree(0);
        let base = self.current_source().clone();
        self.restart_journal(&base);
        Ok(())
    }

    /// True if the file's permissions forbid writing it.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// Files named like backups of interrupted saves of this file that were found at open and
    /// not trusted (planted by another user, or with no record in this user's state
    /// directory): left alone, for the user to look at.
    pub fn ignored_backups(&self) -> &[in_place::IgnoredBackup] {
        &self.ignored_backups
    }

    /// True if the document reads a reflink snapshot of its file taken at open (XFS, btrfs):
    /// outside writes and truncations cannot change what it shows.
    pub fn is_snapshot(&self) -> bool {
        self.current_source().is_snapshot()
    }

    /// True if a file the document reads from was truncated under its mapping: reads answer
    /// [`Error::FileChanged`] until the document is reopened.
    pub fn is_damaged(&self) -> bool {
        self.sources.iter().any(|s| s.is_damaged())
    }

    /// Progress of the line index of the file currently backing the document.
    pub fn index_progress(&self) -> IndexProgress {
        self.current_source().index().progress()
    }

    /// How the line index of the file as opened was obtained: from the index cache (whole, or
    /// for the part before an append), or not.
    pub fn index_cache_use(&self) -> CacheUse {
        self.sources[0].cache_use()
    }

    /// The index cache the document uses, if any.
    pub(crate) fn index_cache(&self) -> Option<IndexCache> {
        self.current_source().index_cache().cloned()
    }

    /// The newest file: the one opened, or the last one saved (indexing after a save).
    fn current_source(&self) -> &Arc<Source> {
        &self.sources[self.sources.len() - 1]
    }

    /// Number of pieces (for diagnostics and benchmarks). O(pieces).
    pub fn piece_count(&self) -> usize {
        self.tree.piece_count()
    }

    /// How many files the document keeps open: the newest, plus those a save replaced that the
    /// undo history still needs (see `release.rs`). For diagnostics and tests. O(files²).
    pub fn open_file_count(&self) -> usize {
        let s = &self.sources;
        (0..s.len())
            .filter(|&k| !s[k + 1..].iter().any(|later| Arc::ptr_eq(later, &s[k])))
            .count()
    }

    /// Height of the piece tree (for diagnostics and benchmarks). O(log pieces).
    pub fn tree_depth(&self) -> usize {
        self.tree.depth()
    }

    /// Bytes held by the add buffer (in memory or spilled to disk). O(1).
    pub fn added_bytes(&self) -> usize {
        self.add.stored_bytes()
    }

    /// Bytes of the add buffer held in memory: at most about 16 MiB plus small blocks, the
    /// rest is spilled to disk (see `block.rs`). O(1).
    pub fn added_bytes_in_memory(&self) -> usize {
        self.add.bytes_in_memory()
    }

    /// Stops building the line index of the files the document reads: for a one-shot reader
    /// that never asks for lines by number (`tome grep`, whose line filter counts lines as it
    /// scans, and `tome replace`), so that the index's full read of the file does not take a
    /// core from the scan. The index keeps what it counted; asking for a line past it answers
    /// [`Error::NotIndexedYet`] for good. Cost: O(files).
    pub fn stop_indexing(&self) {
        for s in &self.sources {
            s.index().cancel();
        }
    }

    /// Blocks until the index is complete (or `control` is cancelled), then refreshes.
    pub fn wait_for_index(&mut self, control: &Control) -> Result<()> {
        let sources = self.sources.clone();
        for s in &sources {
            s.index().wait_until(s.len(), control)?;
        }
        self.poll_index();
        Ok(())
    }

    /// Blocks until line `line`'s start is known (or the index ends, or `control` is
    /// cancelled), then returns it. Errors: [`Error::OutOfBounds`], [`Error::Cancelled`].
    pub fn wait_for_line(&mut self, line: usize, control: &Control) -> Result<usize> {
        loop {
            match self.view().line_start(line) {
                Err(Error::NotIndexedYet { .. }) => {}
                other => return other,
            }
            let sources = self.sources.clone();
            let Some(pending) = sources.iter().find(|s| !s.index().is_complete()) else {
                self.poll_index();
                return self.view().line_start(line);
            };
            let next = pending.index().indexed_bytes() + 4 * crate::line_index::BLOCK * 16;
            pending.index().wait_until(next, control)?;
            self.poll_index();
        }
    }

    /// Brings summaries up to date with the line index, and moves onto a saved file once it is
    /// indexed. Cheap when there is nothing to do; called by every edit.
    pub fn poll_index(&mut self) {
        let sources = &self.sources;
        if let Some(r) = self
            .rebase
            .take_if(|r| sources[r.source as usize].index().is_complete())
        {
            // Edited since the save: the edited tree is moved onto the saved file piece by
            // piece instead.
            let unchanged = r.revision == self.revision;
            if unchanged {
                self.tree = self.whole_source_tree(r.source);
            }
            self.move_onto_saved(r.source, &r.relocation, unchanged);
        }
        if !self.tree.info().known {
            let bufs = bufs(&self.sources, &self.add);
            self.tree.refresh(&bufs);
        }
    }
}

impl Drop for Document {
    /// A clean document needs no journal: delete it. A dirty one keeps its journal, so the
    /// next session can offer its unsaved changes.
    fn drop(&mut self) {
        if !self.is_dirty() {
            self.close_journal();
        }
    }
}
