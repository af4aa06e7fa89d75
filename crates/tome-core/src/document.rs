//! A document: the piece tree of one file, its add buffer, its undo history and its versions.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::add_buffer::{AddBuffer, SealedBlocks};
use crate::backup_record;
use crate::breaks::Info;
use crate::journal::{self, Journal, Part as JPart, Record, Recoverable, Splice as JSplice};
use crate::line_index::IndexProgress;
use crate::save::in_place;
use crate::save::{self, SaveReport};
use crate::search::{self, Matcher, Query};
use crate::source::{DiskChange, Encoding, LineEnding, Source};
use crate::sys;
use crate::tree::{Bufs, Piece, PieceTree, Src, MAX_ADD_PIECE};
use crate::view::View;
use crate::{Control, Error, Result};

/// One replacement in a batch: bytes `range` of the document before the batch become `text`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    /// Byte range in the document as it was before the batch.
    pub range: Range<usize>,
    /// The new text (may be empty: a deletion).
    pub text: Vec<u8>,
}

impl Edit {
    /// An insertion of `text` at `at`.
    pub fn insert(at: usize, text: impl Into<Vec<u8>>) -> Edit {
        Edit {
            range: at..at,
            text: text.into(),
        }
    }

    /// A deletion of `range`.
    pub fn delete(range: Range<usize>) -> Edit {
        Edit {
            range,
            text: Vec::new(),
        }
    }
}

/// What an undo or redo did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Restored {
    /// The document's new version.
    pub version: u64,
    /// Where the undone (or redone) change starts: a place for the cursor.
    pub at: usize,
}

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
}

impl Snapshot {
    /// A reader over this version.
    pub fn view(&self) -> View<'_> {
        View {
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

/// A replace-all planned on a snapshot, to apply with [`Document::apply_replace_all`].
pub struct ReplaceAllPlan {
    plan: search::Plan,
    version: u64,
    query: Query,
    replacement: Vec<u8>,
}

impl ReplaceAllPlan {
    /// How many matches it replaces.
    pub fn count(&self) -> usize {
        self.plan.count
    }
}

impl Snapshot {
    /// Plans replacing every match of `matcher` with `replacement` (with `$1`-style groups for
    /// a regex) in this version: the scan, O(file), done here so that it can run without
    /// holding the document. Apply it with [`Document::apply_replace_all`]. Cancellable.
    pub fn plan_replace_all(
        &self,
        matcher: &Matcher,
        replacement: &[u8],
        control: &Control,
    ) -> Result<ReplaceAllPlan> {
        Ok(ReplaceAllPlan {
            plan: search::plan_replace_all(self.view(), matcher, replacement, control)?,
            version: self.version,
            query: matcher.query().clone(),
            replacement: replacement.to_vec(),
        })
    }
}

/// A save prepared by [`Document::begin_save`]: run it on any thread, then hand the outcome to
/// [`Document::finish_save`].
pub struct SaveJob {
    snapshot: Snapshot,
    target: PathBuf,
}

impl SaveJob {
    /// Writes the snapshot atomically to the target. See [`crate::save`].
    pub fn run(&self, control: &Control) -> Result<SaveReport> {
        save::save_atomically(self.snapshot.view(), &self.target, control)
    }

    /// The path being written.
    pub fn target(&self) -> &Path {
        &self.target
    }
}

/// The undo group the last edit belongs to, so that the next one can join it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Group {
    /// Typing: the next insertion joins if it is made here.
    Typing { next: usize },
    /// Deleting one character at a time: the next deletion joins if it ends here (Backspace)
    /// or starts here (Delete).
    Deleting { at: usize },
}

/// One change as it was applied: enough to undo and redo it.
///
/// History keeps changes, not versions of the tree: an old tree version pins a path of copied
/// nodes (about 4 KiB) per edit, so 100 000 random edits would hold hundreds of MiB; a splice
/// holds the few pieces it removed and inserted.
enum Change {
    /// At `at`, the pieces `removed` were replaced by the pieces `inserted`.
    Splice {
        at: usize,
        removed: Vec<Piece>,
        inserted: Vec<Piece>,
    },
    /// The whole tree was replaced (replace-all, or a batch removing many pieces): both versions
    /// are kept, which costs O(1) to take.
    Swap { before: PieceTree, after: PieceTree },
}

/// Batches removing more pieces than this are recorded as a [`Change::Swap`].
const SPLICE_LIMIT: usize = 256;

fn total_len(pieces: &[Piece]) -> usize {
    pieces.iter().map(Piece::len).sum()
}

/// One undo step: the changes of one batch, or of a group of typing.
struct Step {
    changes: Vec<Change>,
    before_rev: u64,
    after_rev: u64,
    at: usize,
}

#[derive(Default)]
struct History {
    undo: Vec<Step>,
    redo: Vec<Step>,
    group: Option<Group>,
}

/// After a save, the document moves onto the saved file once its index is complete.
struct Rebase {
    source: u32,
    revision: u64,
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
    read_only: bool,
    rebase: Option<Rebase>,
    journal: Option<Journal>,
    /// How many of the latest versions came from followed appends only (see
    /// [`Document::positions_valid_since`]).
    appends_since_change: u64,
    /// Files next to ours named like backups that were not trusted, found at open.
    ignored_backups: Vec<in_place::IgnoredBackup>,
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
        let source = Source::open(path)?;
        save::remove_stale_temps(path);
        let read_only = !sys::writable(path);
        let mut doc = Document {
            path: Some(path.to_path_buf()),
            line_ending: source.line_ending(),
            encoding: source.encoding(),
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
            ignored_backups: found.ignored,
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

    /// A reader over the current version. O(1).
    pub fn view(&self) -> View<'_> {
        View {
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
    fn bump_version(&mut self) {
        self.version += 1;
        self.appends_since_change = 0;
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

    /// The encoding seen at open.
    pub fn encoding(&self) -> Encoding {
        self.encoding
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
        let mut fresh = Document::open(&path)?;
        self.sources = std::mem::take(&mut fresh.sources);
        self.add = std::mem::take(&mut fresh.add);
        self.tree = std::mem::take(&mut fresh.tree);
        self.history = History::default();
        self.rebase = None;
        self.line_ending = fresh.line_ending;
        self.encoding = fresh.encoding;
        self.read_only = fresh.read_only;
        self.bump_version();
        self.revision = self.next_revision;
        self.saved_revision = self.revision;
        self.next_revision += 1;
        let base = self.current_source().clone();
        self.restart_journal(&base);
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
    /// adds them at the end.
    fn append_tail(&mut self, upto: Option<usize>) -> Result<u64> {
        let newest = self.current_source().clone();
        let from = newest.file_offset(newest.len()) as usize;
        let tail = Source::open_tail(newest.path(), from, upto, &newest.identity())?;
        let tail_len = tail.len();
        self.log(|| Record::Appended {
            upto: (from + tail_len) as u64,
        });
        let was_clean = !self.is_dirty();
        self.sources.push(tail);
        let index = (self.sources.len() - 1) as u32;
        let bufs = bufs(&self.sources, &self.add);
        let piece = bufs.original(index, 0, tail_len);
        let end = self.tree.len();
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
        Ok(self.version)
    }

    /// Progress of the line index of the file currently backing the document.
    pub fn index_progress(&self) -> IndexProgress {
        self.current_source().index().progress()
    }

    /// The newest file: the one opened, or the last one saved (indexing after a save).
    fn current_source(&self) -> &Arc<Source> {
        &self.sources[self.sources.len() - 1]
    }

    /// Number of pieces (for diagnostics and benchmarks). O(pieces).
    pub fn piece_count(&self) -> usize {
        self.tree.piece_count()
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
        if let Some(r) = &self.rebase {
            let src = &self.sources[r.source as usize];
            if r.revision != self.revision {
                // Edited since the save: keep reading the old buffers, which stay valid.
                self.rebase = None;
            } else if src.index().is_complete() {
                self.tree = self.whole_source_tree(r.source);
                self.rebase = None;
            }
        }
        if !self.tree.info().known {
            let bufs = bufs(&self.sources, &self.add);
            self.tree.refresh(&bufs);
        }
    }

    /// Inserts `text` at byte `at`. Consecutive typing forms one undo step.
    pub fn insert(&mut self, at: usize, text: impl AsRef<[u8]>) -> Result<u64> {
        self.apply(vec![Edit::insert(at, text.as_ref())])
    }

    /// Deletes bytes `range`.
    pub fn delete(&mut self, range: Range<usize>) -> Result<u64> {
        self.apply(vec![Edit::delete(range)])
    }

    /// Replaces bytes `range` with `text`.
    pub fn replace(&mut self, range: Range<usize>, text: impl AsRef<[u8]>) -> Result<u64> {
        self.apply(vec![Edit {
            range,
            text: text.as_ref().to_vec(),
        }])
    }

    /// Applies a batch of edits atomically: every range refers to the document before the
    /// batch; ranges must lie in the document and not overlap (insertions at one offset apply
    /// in the order given). Either all apply, as one undo step, or none (with an error).
    /// Returns the new version. Cost: O(edits · log pieces + inserted bytes).
    pub fn apply(&mut self, mut edits: Vec<Edit>) -> Result<u64> {
        self.validate(&mut edits)?;
        if edits
            .iter()
            .all(|e| e.range.is_empty() && e.text.is_empty())
        {
            return Ok(self.version);
        }
        self.poll_index();
        let kind = classify(&edits);
        let removed: Vec<Vec<Piece>> = {
            let bufs = bufs(&self.sources, &self.add);
            edits
                .iter()
                .map(|e| self.tree.pieces_in(e.range.start, e.range.end, &bufs))
                .collect()
        };
        let swap_from =
            (removed.iter().map(Vec::len).sum::<usize>() > SPLICE_LIMIT).then(|| self.tree.clone());
        self.log(|| {
            Record::Splices(
                edits
                    .iter()
                    .rev()
                    .map(|e| JSplice {
                        at: e.range.start as u64,
                        remove: e.range.len() as u64,
                        parts: vec![JPart::Bytes(e.text.clone())],
                    })
                    .collect(),
            )
        });
        let mut changes = Vec::with_capacity(edits.len());
        for (edit, removed) in edits.iter().zip(removed).rev() {
            let bufs = bufs(&self.sources, &self.add);
            self.tree.remove(edit.range.start, edit.range.end, &bufs);
            let inserted = self.insert_text(edit.range.start, &edit.text);
            changes.push(Change::Splice {
                at: edit.range.start,
                removed,
                inserted,
            });
        }
        if let Some(before) = swap_from {
            changes = vec![Change::Swap {
                before,
                after: self.tree.clone(),
            }];
        }
        self.record(changes, edits[0].range.start, kind);
        Ok(self.version)
    }

    fn validate(&self, edits: &mut [Edit]) -> Result<()> {
        if let Some(bad) = edits
            .iter()
            .find(|e| e.range.start > e.range.end || e.range.end > self.len())
        {
            return Err(Error::OutOfBounds(format!(
                "edit range {}..{} is outside the document (length {})",
                bad.range.start,
                bad.range.end,
                self.len()
            )));
        }
        // Insertions at an offset go before a deletion starting there; equal keys keep their order.
        edits.sort_by_key(|e| (e.range.start, e.range.end));
        if let Some(w) = edits.windows(2).find(|w| w[0].range.end > w[1].range.start) {
            return Err(Error::OverlappingEdits(format!(
                "{}..{} overlaps {}..{}",
                w[0].range.start, w[0].range.end, w[1].range.start, w[1].range.end
            )));
        }
        Ok(())
    }

    /// Appends `text` to the add buffer and inserts it at `at`, in pieces of at most
    /// [`MAX_ADD_PIECE`] bytes so that later splits stay cheap.
    fn insert_text(&mut self, at: usize, text: &[u8]) -> Vec<Piece> {
        let pieces: Vec<Piece> = text
            .chunks(MAX_ADD_PIECE)
            .map(|c| self.push_added(c))
            .collect();
        self.insert_pieces(at, &pieces);
        pieces
    }

    fn insert_pieces(&mut self, at: usize, pieces: &[Piece]) {
        let bufs = bufs(&self.sources, &self.add);
        let mut offset = at;
        for piece in pieces {
            self.tree.insert(offset, *piece, &bufs);
            offset += piece.len();
        }
    }

    /// Replaces `remove_len` bytes at `at` with `pieces`.
    fn splice(&mut self, at: usize, remove_len: usize, pieces: &[Piece]) {
        let bufs = bufs(&self.sources, &self.add);
        self.tree.remove(at, at + remove_len, &bufs);
        self.insert_pieces(at, pieces);
    }

    fn push_added(&mut self, chunk: &[u8]) -> Piece {
        let r = self.add.push(chunk);
        Piece {
            src: Src::Add(r.block),
            start: r.start,
            info: Info::of(chunk),
        }
    }

    fn record(&mut self, changes: Vec<Change>, at: usize, kind: Option<Kind>) {
        let rev = self.next_revision;
        self.next_revision += 1;
        let continues = match (self.history.group, &kind) {
            (Some(Group::Typing { next }), Some(Kind::Insert { at: here, .. })) => next == *here,
            (Some(Group::Deleting { at: prev }), Some(Kind::Delete { range })) => {
                range.end == prev || range.start == prev
            }
            _ => false,
        };
        let group = kind.map(|k| match k {
            Kind::Insert { at, len } => Group::Typing { next: at + len },
            Kind::Delete { range } => Group::Deleting { at: range.start },
        });
        match self.history.undo.last_mut() {
            Some(step) if continues && self.history.redo.is_empty() => {
                append_changes(&mut step.changes, changes);
                step.after_rev = rev;
                step.at = step.at.min(at);
            }
            _ => self.history.undo.push(Step {
                changes,
                before_rev: self.revision,
                after_rev: rev,
                at,
            }),
        }
        self.history.redo.clear();
        self.history.group = group;
        self.revision = rev;
        self.bump_version();
    }

    /// Ends the current undo group: the next edit starts a new undo step.
    pub fn break_undo_group(&mut self) {
        self.history.group = None;
    }

    /// Undoes the last step. `None` if there is nothing to undo. O(pieces in the step ·
    /// log pieces).
    pub fn undo(&mut self) -> Option<Restored> {
        let step = self.history.undo.pop()?;
        self.log_restore(&step, true);
        for change in step.changes.iter().rev() {
            match change {
                Change::Splice {
                    at,
                    removed,
                    inserted,
                } => self.splice(*at, total_len(inserted), removed),
                Change::Swap { before, after } => self.swap_keeping_tail(after.len(), before),
            }
        }
        self.revision = step.before_rev;
        let at = step.at;
        self.history.redo.push(step);
        Some(self.restored(at))
    }

    /// Redoes the last undone step. `None` if there is nothing to redo.
    pub fn redo(&mut self) -> Option<Restored> {
        let step = self.history.redo.pop()?;
        self.log_restore(&step, false);
        for change in &step.changes {
            match change {
                Change::Splice {
                    at,
                    removed,
                    inserted,
                } => self.splice(*at, total_len(removed), inserted),
                Change::Swap { before, after } => self.swap_keeping_tail(before.len(), after),
            }
        }
        self.revision = step.after_rev;
        let at = step.at;
        self.history.undo.push(step);
        Some(self.restored(at))
    }

    /// Puts `to` in place of the tree, keeping what was appended at the end (a followed log)
    /// since the tree was `len` bytes long: appends are not undo steps, so undoing a change made
    /// before them must not drop them.
    fn swap_keeping_tail(&mut self, len: usize, to: &PieceTree) {
        let bufs = bufs(&self.sources, &self.add);
        let now = self.tree.len();
        let tail = if now > len {
            self.tree.pieces_in(len, now, &bufs)
        } else {
            Vec::new()
        };
        self.tree = to.clone();
        for piece in tail {
            let end = self.tree.len();
            self.tree.insert(end, piece, &bufs);
        }
    }

    fn restored(&mut self, at: usize) -> Restored {
        self.history.group = None;
        self.bump_version();
        self.poll_index();
        Restored {
            version: self.version,
            at,
        }
    }

    /// Steps that can be undone and redone.
    pub fn history_len(&self) -> (usize, usize) {
        (self.history.undo.len(), self.history.redo.len())
    }

    /// Replaces every match of `matcher` with `replacement` (with `$1`-style expansion for
    /// regex matchers) as one undoable step. Text between matches closer than
    /// [`search::MERGE_GAP`] bytes is rewritten together with the replacements, so a million
    /// matches do not leave millions of tiny pieces. Returns the number of replacements.
    pub fn replace_all(
        &mut self,
        matcher: &Matcher,
        replacement: &[u8],
        control: &Control,
    ) -> Result<usize> {
        let plan = self
            .snapshot()
            .plan_replace_all(matcher, replacement, control)?;
        self.apply_replace_all(plan)
    }

    /// Applies a replace-all planned on a [`Snapshot`] of this document
    /// ([`Snapshot::plan_replace_all`]): as one undo step, O(pieces). Fails with
    /// [`Error::Stale`] (and changes nothing) if the document changed since the snapshot.
    pub fn apply_replace_all(&mut self, planned: ReplaceAllPlan) -> Result<usize> {
        if planned.version != self.version {
            return Err(Error::Stale(format!(
                "the document changed (version {} → {}) while the replace-all was planned",
                planned.version, self.version
            )));
        }
        let ReplaceAllPlan {
            plan,
            query,
            replacement,
            ..
        } = planned;
        if plan.count == 0 {
            return Ok(0);
        }
        let Query {
            pattern,
            regex,
            case_insensitive,
        } = query;
        self.log(|| Record::ReplaceAll {
            pattern,
            regex,
            case_insensitive,
            replacement,
        });
        let mut pieces = Vec::with_capacity(plan.parts.len());
        for part in plan.parts {
            match part {
                search::Part::Keep(ps) => pieces.extend(ps),
                search::Part::Text(text) => {
                    for chunk in text.chunks(MAX_ADD_PIECE) {
                        pieces.push(self.push_added(chunk));
                    }
                }
                search::Part::Sealed(block) => {
                    let chunks: Vec<Info> = block.chunks(MAX_ADD_PIECE).map(Info::of).collect();
                    let at = self.add.push_sealed(block);
                    let mut start = at.start;
                    for info in chunks {
                        pieces.push(Piece {
                            src: Src::Add(at.block),
                            start,
                            info,
                        });
                        start += info.bytes;
                    }
                }
            }
        }
        let before = std::mem::replace(&mut self.tree, PieceTree::from_pieces(pieces));
        let changes = vec![Change::Swap {
            before,
            after: self.tree.clone(),
        }];
        self.record(changes, plan.first, None);
        Ok(plan.count)
    }

    /// Prepares a save of the current version to `target` (the document's own path when
    /// `None`). Run the job on any thread, then pass its outcome to [`Document::finish_save`].
    pub fn begin_save(&mut self, target: Option<&Path>) -> Result<SaveJob> {
        let target = match (target, &self.path) {
            (Some(t), _) => t.to_path_buf(),
            (None, Some(p)) => p.clone(),
            (None, None) => {
                return Err(Error::Io {
                    context: "save".into(),
                    source: std::io::Error::other("the document has no path: use save-as"),
                })
            }
        };
        Ok(SaveJob {
            snapshot: self.snapshot(),
            target,
        })
    }

    /// Records a finished save: the saved version becomes clean, the document's path becomes the
    /// target, and the document moves onto the new file once it is indexed. The undo history
    /// survives. On error nothing changes (the document stays dirty) and the error is returned.
    pub fn finish_save(&mut self, job: SaveJob, outcome: Result<SaveReport>) -> Result<SaveReport> {
        let report = outcome?;
        self.saved_revision = job.snapshot.revision;
        self.history.group = None;
        self.path = Some(job.target);
        if let Ok(source) = Source::open(&report.path) {
            self.restart_journal(&source);
            self.sources.push(source);
            self.rebase = Some(Rebase {
                source: (self.sources.len() - 1) as u32,
                revision: job.snapshot.revision,
            });
        }
        self.read_only = false;
        Ok(report)
    }

    /// Saves to the document's path (`None`) or to `target`, on this thread.
    pub fn save(&mut self, target: Option<&Path>, control: &Control) -> Result<SaveReport> {
        let job = self.begin_save(target)?;
        let outcome = job.run(control);
        self.finish_save(job, outcome)
    }
}

/// Adds `more` to a step's changes; typing that continues the last insertion extends it instead
/// of adding a change per keystroke.
fn append_changes(changes: &mut Vec<Change>, more: Vec<Change>) {
    for change in more {
        if let (
            Some(Change::Splice {
                at,
                removed: _,
                inserted,
            }),
            Change::Splice {
                at: next_at,
                removed: next_removed,
                inserted: next_inserted,
            },
        ) = (changes.last_mut(), &change)
        {
            if next_removed.is_empty() && *next_at == *at + total_len(inserted) {
                for piece in next_inserted {
                    match inserted.last_mut() {
                        Some(last)
                            if last.src == piece.src
                                && last.end() == piece.start
                                && last.len() + piece.len() <= MAX_ADD_PIECE =>
                        {
                            last.info = last.info.concat(piece.info);
                        }
                        _ => inserted.push(*piece),
                    }
                }
                continue;
            }
        }
        changes.push(change);
    }
}

/// A one-edit batch that may join the previous undo step: a short insertion without a line
/// break (typing), or the deletion of at most one character (Backspace, Delete).
enum Kind {
    Insert { at: usize, len: usize },
    Delete { range: Range<usize> },
}

fn classify(edits: &[Edit]) -> Option<Kind> {
    let [edit] = edits else { return None };
    let is_break = |t: &[u8]| t.iter().any(|&b| b == b'\n' || b == b'\r');
    if edit.range.is_empty() && edit.text.len() <= 16 && !is_break(&edit.text) {
        return Some(Kind::Insert {
            at: edit.range.start,
            len: edit.text.len(),
        });
    }
    if edit.text.is_empty() && edit.range.len() <= 4 {
        return Some(Kind::Delete {
            range: edit.range.clone(),
        });
    }
    None
}

/// Crash safety: the edit journal (see [`crate::journal`]).
impl Document {
    /// Starts journaling this document's changes under `dir` (not when another live session of
    /// the same file already journals it). If a journal of an earlier run is there, it is set
    /// aside and returned: one that still fits the file, to be recovered
    /// ([`Document::recover`]) or discarded ([`Document::discard_recovery`]) as the user
    /// chooses; one that no longer fits (`fits: false`) is kept as `.orphan`, never applied to
    /// this document, and offered for [`Document::recover_as_new`]. Either is offered again
    /// at every open until recovered or discarded.
    pub fn enable_journal(&mut self, dir: &Path) -> Result<Option<Recoverable>> {
        self.enable_journal_inner(dir)
    }

    /// True if the document's changes go to a journal (see [`Document::enable_journal`]):
    /// false without a state directory, or when another live session journals the same file.
    pub fn is_journaled(&self) -> bool {
        self.journal.is_some()
    }

    fn enable_journal_inner(&mut self, dir: &Path) -> Result<Option<Recoverable>> {
        let Some(path) = self.path.clone() else {
            return Ok(None);
        };
        let jpath = journal::journal_path(dir, &path);
        if journal::in_use(&jpath) {
            // Another live session journals this file; it keeps its journal, this one has none.
            return Ok(None);
        }
        let mut found = set_aside(&jpath, &path)?;
        if found.is_none() {
            found = set_aside_earlier(&jpath, &path);
        }
        let base = self.current_source().clone();
        self.journal = Some(Journal::create(jpath, &base)?);
        Ok(found)
    }

    /// Replays a journal that no longer fits the file (an orphan, see
    /// [`Document::enable_journal`]) into a new document without a path: the file as it is now,
    /// with the journal's changes applied where they still fall inside it. The inserted text is
    /// exactly what was typed; text the journal kept from the file is read from the file as it
    /// is now, so the user should compare before saving it (with save-as). The orphan stays
    /// until discarded. Returns the new document, how many records applied and, if replay
    /// stopped early, why.
    pub fn recover_as_new(&self, found: &Recoverable) -> Result<(Document, usize, Option<String>)> {
        let path = self.path.clone().ok_or_else(|| Error::Io {
            context: "recover".into(),
            source: std::io::Error::other("the document has no path"),
        })?;
        let replay = load_journal(found)?;
        // The user already chose what to do with any interrupted save when this one opened.
        let mut doc = Document::open_with(&path, OnInterruptedSave::Keep)?;
        let (applied, stopped) = doc.replay_all(replay);
        // Untitled: nothing on disk holds this content, so it is unsaved even if unchanged.
        doc.path = None;
        doc.read_only = false;
        doc.saved_revision = u64::MAX;
        Ok((doc, applied, stopped))
    }

    /// Replays a journal set aside by [`Document::enable_journal`]: every change it recorded
    /// up to its first bad record, each as an undo step. Returns how many records applied and,
    /// if replay stopped early, why.
    pub fn recover(&mut self, found: Recoverable) -> Result<(usize, Option<String>)> {
        let replay = load_journal(&found)?;
        let path = self.path.clone().unwrap_or_default();
        if !found.fits || !journal::base_matches(&replay, &path) {
            return Err(Error::FileChanged(format!(
                "{} changed since the journal was written; it was not applied (it can be \
                 recovered into a new unsaved document instead)",
                path.display()
            )));
        }
        // Start from the file as the journal saw it: bytes appended later are replayed from
        // their own records (and any appended after the crash are followed as usual).
        if self.is_dirty() || self.history_len() != (0, 0) {
            return Err(Error::Stale(
                "recover before editing: the journal's changes apply to the file as opened".into(),
            ));
        }
        if self.current_source().len() as u64 != replay.identity.size {
            let base = Source::open_prefix(&path, replay.identity.size as usize)?;
            self.restart_journal(&base);
            self.sources = vec![base];
            self.tree = self.whole_source_tree(0);
        }
        let (applied, stopped) = self.replay_all(replay);
        let _ = std::fs::remove_file(&found.path);
        if let Some(j) = &self.journal {
            j.sync();
        }
        Ok((applied, stopped))
    }

    /// Ends the document as a crash would: changes not synced to the journal yet are lost, the
    /// journal file stays for the next session. For tests of recovery.
    #[doc(hidden)]
    pub fn simulate_crash(mut self) {
        if let Some(j) = self.journal.take() {
            j.abandon();
        }
    }

    /// Deletes a journal set aside by [`Document::enable_journal`].
    pub fn discard_recovery(found: Recoverable) {
        let _ = std::fs::remove_file(found.path);
    }

    /// Ends journaling and deletes the journal (the document is being closed on purpose).
    pub fn close_journal(&mut self) {
        if let Some(j) = self.journal.take() {
            j.remove();
        }
    }

    /// Writes and syncs the journal now (normally done every 200 ms in the background).
    pub fn sync_journal(&self) {
        if let Some(j) = &self.journal {
            j.sync();
        }
    }

    fn log(&self, record: impl FnOnce() -> Record) {
        if let Some(j) = &self.journal {
            j.log(&record());
        }
    }

    fn restart_journal(&mut self, base: &Arc<Source>) {
        if let Some(j) = &mut self.journal {
            if let Err(e) = j.restart(base) {
                // Journaling stops rather than recording against the wrong base.
                let _ = e;
                self.journal = None;
            }
        }
    }

    /// The (device, inode) of the file the journal records ranges of.
    fn journal_base(&self) -> Option<(u64, u64)> {
        self.journal.as_ref()?;
        let id = self.current_source().identity();
        Some((id.dev, id.ino))
    }

    fn log_restore(&self, step: &Step, undo: bool) {
        if self.journal.is_none() {
            return;
        }
        let mut splices = Vec::new();
        let changes: Box<dyn Iterator<Item = &Change>> = if undo {
            Box::new(step.changes.iter().rev())
        } else {
            Box::new(step.changes.iter())
        };
        for change in changes {
            match change {
                Change::Splice {
                    at,
                    removed,
                    inserted,
                } => {
                    let (gone, back) = if undo {
                        (inserted, removed)
                    } else {
                        (removed, inserted)
                    };
                    splices.push(JSplice {
                        at: *at as u64,
                        remove: total_len(gone) as u64,
                        parts: self.journal_parts(back),
                    });
                }
                Change::Swap { .. } => {
                    self.log(|| if undo { Record::Undo } else { Record::Redo });
                    return;
                }
            }
        }
        self.log(|| Record::Splices(splices));
    }

    /// How to record `pieces`: ranges of the journal's base file by reference, the rest by
    /// value.
    fn journal_parts(&self, pieces: &[Piece]) -> Vec<JPart> {
        let base = self.journal_base();
        let bufs = bufs(&self.sources, &self.add);
        pieces
            .iter()
            .map(|p| match p.src {
                Src::Original(s) => {
                    let src = &self.sources[s as usize];
                    let id = src.identity();
                    if Some((id.dev, id.ino)) == base {
                        JPart::File {
                            offset: src.file_offset(p.start),
                            len: p.len() as u64,
                        }
                    } else {
                        JPart::Bytes(bufs.bytes(p).to_vec())
                    }
                }
                Src::Add(_) => JPart::Bytes(bufs.bytes(p).to_vec()),
            })
            .collect()
    }

    /// Pieces for `len` bytes of the base file from `offset`, across the opened file and the
    /// tails appended since.
    fn file_pieces(&self, mut offset: u64, len: u64) -> Option<Vec<Piece>> {
        let base = self.journal_base()?;
        let end = offset + len;
        let bufs = bufs(&self.sources, &self.add);
        let mut out = Vec::new();
        for (i, src) in self.sources.iter().enumerate() {
            let id = src.identity();
            if (id.dev, id.ino) != base || offset >= end {
                continue;
            }
            let (lo, hi) = (src.file_offset(0), src.file_offset(src.len()));
            if offset >= lo && offset < hi {
                let to = end.min(hi);
                out.push(bufs.original(i as u32, (offset - lo) as usize, (to - lo) as usize));
                offset = to;
            }
        }
        (offset == end).then_some(out)
    }

    /// Applies a journal's records in order up to the first that fails; returns how many
    /// applied and why replay stopped early, if it did.
    fn replay_all(&mut self, replay: journal::Replay) -> (usize, Option<String>) {
        let mut applied = 0;
        let mut stopped = replay.stopped;
        for record in replay.records {
            if let Err(why) = self.replay(record) {
                stopped = Some(why);
                break;
            }
            applied += 1;
        }
        (applied, stopped)
    }

    /// Applies one journal record through the ordinary operations (so it is journaled again).
    fn replay(&mut self, record: Record) -> std::result::Result<(), String> {
        match record {
            Record::Splices(splices) => {
                let mut changes = Vec::with_capacity(splices.len());
                let mut first = None;
                self.log(|| Record::Splices(splices.clone()));
                for s in splices {
                    let (at, remove) = (s.at as usize, s.remove as usize);
                    if at.checked_add(remove).is_none_or(|end| end > self.len()) {
                        return Err(format!(
                            "a recorded change at {at} lies outside the document"
                        ));
                    }
                    let mut pieces = Vec::new();
                    for part in s.parts {
                        match part {
                            JPart::Bytes(b) => {
                                for chunk in b.chunks(MAX_ADD_PIECE) {
                                    pieces.push(self.push_added(chunk));
                                }
                            }
                            JPart::File { offset, len } => pieces.extend(
                                self.file_pieces(offset, len)
                                    .ok_or("a recorded range of the file is not there")?,
                            ),
                        }
                    }
                    let removed = {
                        let bufs = bufs(&self.sources, &self.add);
                        self.tree.pieces_in(at, at + remove, &bufs)
                    };
                    self.splice(at, remove, &pieces);
                    first.get_or_insert(at);
                    changes.push(Change::Splice {
                        at,
                        removed,
                        inserted: pieces,
                    });
                }
                self.record(changes, first.unwrap_or(0), None);
                Ok(())
            }
            Record::Undo => self
                .undo()
                .map(|_| ())
                .ok_or_else(|| "nothing to undo".to_string()),
            Record::Redo => self
                .redo()
                .map(|_| ())
                .ok_or_else(|| "nothing to redo".to_string()),
            Record::ReplaceAll {
                pattern,
                regex,
                case_insensitive,
                replacement,
            } => {
                let m = Matcher::new(&Query {
                    pattern,
                    regex,
                    case_insensitive,
                })
                .map_err(|e| e.to_string())?;
                self.replace_all(&m, &replacement, &Control::new())
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
            Record::Appended { upto } => self
                .append_tail(Some(upto as usize))
                .map(|_| ())
                .map_err(|e| e.to_string()),
        }
    }
}

/// The journal at `path`, if there is one that holds changes.
fn read_changes(path: &Path) -> Option<journal::Replay> {
    let bytes = std::fs::read(path).ok()?;
    journal::read(&bytes).filter(|r| !r.records.is_empty())
}

/// The journal set aside as `found`, read back (an error if it is gone or unreadable).
fn load_journal(found: &Recoverable) -> Result<journal::Replay> {
    let bytes = std::fs::read(&found.path).map_err(|e| Error::io(&found.path, "cannot read", e))?;
    journal::read(&bytes).ok_or_else(|| Error::FileChanged("the journal is unreadable".into()))
}

/// Sets aside the journal at `jpath` left by an earlier session, if it holds changes: as
/// `.recover` when it still fits the file at `path`, else as `.orphan`. One set aside earlier
/// under that name (offered then, neither recovered nor discarded) is kept as `.<time>.old`
/// rather than overwritten.
fn set_aside(jpath: &Path, path: &Path) -> Result<Option<Recoverable>> {
    let Some(replay) = read_changes(jpath) else {
        return Ok(None);
    };
    let fits = journal::base_matches(&replay, path);
    let aside = jpath.with_extension(if fits { "recover" } else { "orphan" });
    keep_older(&aside);
    std::fs::rename(jpath, &aside).map_err(|e| Error::io(jpath, "cannot set aside", e))?;
    Ok(Some(Recoverable {
        path: aside,
        records: replay.records.len(),
        fits,
    }))
}

/// Moves `aside` (if there) out of the way, to a name no open looks at, so that it is not lost.
fn keep_older(aside: &Path) {
    if aside.exists() {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let ext = aside
            .extension()
            .map(|e| e.to_string_lossy().into_owned())
            .unwrap_or_default();
        let _ = std::fs::rename(aside, aside.with_extension(format!("{ext}.{secs}.old")));
    }
}

/// A journal set aside by an earlier open and neither recovered nor discarded: offered again.
/// A `.recover` that no longer fits the file (it changed since) becomes an `.orphan`, and an
/// `.orphan` that fits again (the file was put back as it was, say by restoring the backup of
/// an interrupted save) becomes a `.recover`.
fn set_aside_earlier(jpath: &Path, path: &Path) -> Option<Recoverable> {
    for ext in ["recover", "orphan"] {
        let aside = jpath.with_extension(ext);
        let Some(replay) = read_changes(&aside) else {
            continue;
        };
        let fits = journal::base_matches(&replay, path);
        let belongs = jpath.with_extension(if fits { "recover" } else { "orphan" });
        let aside = if belongs != aside {
            keep_older(&belongs);
            std::fs::rename(&aside, &belongs).ok()?;
            belongs
        } else {
            aside
        };
        return Some(Recoverable {
            path: aside,
            records: replay.records.len(),
            fits,
        });
    }
    None
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
