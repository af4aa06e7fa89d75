//! Crash safety: the document's side of the edit journal ([`crate::journal`]).
//!
//! Every change is logged as it is made ([`Document::log`]): edits by value, text of the
//! journal's base file by range, undo and redo as the splices they make (or as `Undo`/`Redo`
//! for whole-tree steps), replace-all by its query. At open a journal left by an earlier
//! session is set aside ([`crate::journal::set_aside`]) and offered; recovering replays its
//! records through the ordinary operations, so that each becomes an undo step and is
//! journaled again.
//!
//! Invariant: the journal always describes changes against the document's current source
//! (the file as opened or as last saved); when the document moves onto another file the
//! journal restarts, or stops if it cannot.
//!
//! Cost: logging copies inserted text once more (into the journal's buffer); recovery is
//! O(records · log pieces) plus the replayed text.

use std::path::Path;
use std::sync::Arc;

use super::history::{total_len, Change, Step};
use super::{bufs, Document, OnInterruptedSave};
use crate::journal::{self, Journal, Part as JPart, Record, Recoverable, Splice as JSplice};
use crate::search::Matcher;
use crate::source::Source;
use crate::tree::{Piece, Src, MAX_ADD_PIECE};
use crate::{Control, Error, Result};

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
        let mut found = journal::set_aside(&jpath, &path)?;
        if found.is_none() {
            found = journal::set_aside_earlier(&jpath, &path);
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
        let replay = journal::load_journal(found)?;
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
        let replay = journal::load_journal(&found)?;
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
            return Err(Error::EditedBeforeRecovery);
        }
        if self.current_source().len() as u64 != replay.identity.size {
            let cache = self.index_cache();
            let base = Source::open_prefix(&path, replay.identity.size as usize, cache.as_ref())?;
            self.restart_journal(&base);
            self.sources = vec![base];
            self.buffers = super::clip::new_buffers_id();
            self.tree = self.whole_source_tree(0);
            let len = self.len();
            self.bookmarks.remap(|o| o.min(len));
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

    pub(super) fn log(&self, record: impl FnOnce() -> Record) {
        if let Some(j) = &self.journal {
            j.log(&record());
        }
    }

    pub(super) fn restart_journal(&mut self, base: &Arc<Source>) {
        if let Some(j) = &mut self.journal {
            // On failure the journal records nothing more (never against the wrong base) and
            // says why through `journal_failure`; the next save or reload tries again.
            let _ = j.restart(base);
        }
    }

    /// Why the journal stopped recording edits (its disk is full or failing), if it did:
    /// edits made since are not protected against a crash until a save or reload restarts
    /// it. `None` when it records, or when the document is not journaled. Cost: O(1).
    pub fn journal_failure(&self) -> Option<String> {
        self.journal.as_ref()?.failure()
    }

    /// The (device, inode) of the file the journal records ranges of.
    fn journal_base(&self) -> Option<(u64, u64)> {
        self.journal.as_ref()?;
        let id = self.current_source().identity();
        Some((id.dev, id.ino))
    }

    pub(super) fn log_restore(&self, step: &Step, undo: bool) {
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
                // Steps with whole-tree changes are recorded by their difference instead
                // (`rejournal`): a replayed "undo" could undo another step.
                Change::Swap { .. } => {
                    debug_assert!(false, "log_restore of a whole-tree change");
                    return;
                }
            }
        }
        self.log(|| Record::Splices(splices));
    }

    /// How to record `pieces`: ranges of the journal's base file by reference, the rest by
    /// value.
    pub(super) fn journal_parts(&self, pieces: &[Piece]) -> Vec<JPart> {
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
                query,
                replacement,
                scope,
            } => {
                let m = Matcher::new(&query).map_err(|e| e.to_string())?;
                self.replace_in(&m, &replacement, &scope, &Control::new())
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
            Record::DeleteLines {
                query,
                scope,
                invert,
            } => {
                let m = Matcher::new(&query).map_err(|e| e.to_string())?;
                self.delete_lines(&m, &scope, invert, &Control::new())
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
