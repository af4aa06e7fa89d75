//! Undo and redo: the document's history of changes, grouped into undo steps.
//!
//! Every change of content made through the document (an edit batch, a replace-all, a
//! replayed journal record) is recorded here as a [`Change`] inside a [`Step`]; typing and
//! single-character deletions join the step before them. A change records pieces, not text
//! and not versions of the tree: a splice keeps the pieces it removed and the pieces it
//! inserted (about 40 bytes each, whatever their length; the text stays in the mapping or the
//! add buffer), so memory grows with the number of edits, never with the size of the file. A
//! batch removing more than [`SPLICE_LIMIT`] pieces, and every replace-all, keeps instead the
//! whole tree before and after (O(1) to take: the trees share their nodes).
//!
//! What it returns: [`Document::undo`] and [`Document::redo`] return [`Restored`] (the new
//! version, and the offset where the change starts: a place for the cursor), or `None` when
//! there is nothing to undo or redo; [`Document::history_len`] returns how many steps each way.
//!
//! Invariants: a step carries the revision before and after it, so undoing back to the saved
//! content makes the document clean again ([`Document::is_dirty`]); every undo and redo is a
//! new version (versions never go back); a new change empties the redo list.
//!
//! Cost: undo and redo are O(pieces in the step · log pieces), plus a refresh of summaries.
//!
//! # Limitations
//!
//! * History is linear: an edit after an undo drops the steps that could have been redone
//!   (there is no undo tree).
//! * History has no limit: steps stay until the document is closed or reloaded
//!   ([`Document::reload`] drops them all).
//! * Grouping looks at the shape of edits, not at time: an insertion of at most 16 bytes
//!   without a line break where the last one ended, or a deletion of at most 4 bytes next to
//!   the last one, joins the step before. Anything else ends the group: a batch, a save, an
//!   undo or redo, a followed append, [`Document::break_undo_group`]. A client that groups
//!   changes itself says so: [`Document::join_undo_group`] (the next change joins, whatever
//!   its shape) and [`Document::break_undo_group`] (it does not).
//! * Only the offset where a step starts is kept: no cursors, no selections.
//! * Appends followed from disk ([`Document::follow_append`]) are not steps: undo never
//!   removes them, and undoing a whole-tree change made before them keeps them.
//! * History is not saved anywhere: after a crash, the journal's changes come back as new
//!   steps ([`super::recovery`]), not as the steps they were.

use std::ops::Range;

use super::{bufs, Changed, Document, Edit};
use crate::journal::Record;
use crate::tree::{Piece, PieceTree, MAX_ADD_PIECE};

/// What an undo or redo did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Restored {
    /// The document's new version.
    pub version: u64,
    /// Where the undone (or redone) change starts: a place for the cursor.
    pub at: usize,
}

/// The undo group the last edit belongs to, so that the next one can join it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Group {
    /// Typing: the next insertion joins if it is made here.
    Typing { next: usize },
    /// Deleting one character at a time: the next deletion joins if it ends here (Backspace)
    /// or starts here (Delete).
    Deleting { at: usize },
    /// The client said the next change belongs to the step before ([`Document::join_undo_group`]).
    Joined,
}

/// One change as it was applied: enough to undo and redo it.
///
/// History keeps changes, not versions of the tree: an old tree version pins a path of copied
/// nodes (about 4 KiB) per edit, so 100 000 random edits would hold hundreds of MiB; a splice
/// holds the few pieces it removed and inserted.
pub(super) enum Change {
    /// At `at`, the pieces `removed` were replaced by the pieces `inserted`.
    Splice {
        at: usize,
        removed: Vec<Piece>,
        inserted: Vec<Piece>,
    },
    /// The whole tree was replaced (replace-all, or a batch removing many pieces): both versions
    /// are kept, which costs O(1) to take. `redo_as` is the journal record that makes `after`
    /// from `before` when replayed on exactly `before` (a replace-all's own record).
    Swap {
        before: PieceTree,
        after: PieceTree,
        redo_as: Option<Record>,
    },
}

/// Batches removing more pieces than this are recorded as a [`Change::Swap`].
pub(super) const SPLICE_LIMIT: usize = 256;

pub(super) fn total_len(pieces: &[Piece]) -> usize {
    pieces.iter().map(Piece::len).sum()
}

/// One undo step: the changes of one batch, or of a group of typing.
pub(super) struct Step {
    pub(super) changes: Vec<Change>,
    before_rev: u64,
    after_rev: u64,
    at: usize,
}

#[derive(Default)]
pub(super) struct History {
    pub(super) undo: Vec<Step>,
    pub(super) redo: Vec<Step>,
    pub(super) group: Option<Group>,
}

impl History {
    /// The pieces of every splice, undone or not.
    pub(super) fn splice_pieces(&self) -> impl Iterator<Item = &Piece> {
        self.undo
            .iter()
            .chain(&self.redo)
            .flat_map(|step| &step.changes)
            .flat_map(|change| match change {
                Change::Splice {
                    removed, inserted, ..
                } => removed.iter().chain(inserted),
                Change::Swap { .. } => [].iter().chain(&[]),
            })
    }

    /// The trees kept whole by replace-all steps.
    pub(super) fn swap_trees(&self) -> impl Iterator<Item = &PieceTree> {
        self.undo
            .iter()
            .chain(&self.redo)
            .flat_map(|step| &step.changes)
            .flat_map(|change| match change {
                Change::Swap { before, after, .. } => vec![before, after],
                Change::Splice { .. } => Vec::new(),
            })
    }
}

impl Document {
    pub(super) fn record(&mut self, changes: Vec<Change>, at: usize, kind: Option<Kind>) {
        let rev = self.next_revision;
        self.next_revision += 1;
        let continues = match (self.history.group, &kind) {
            (Some(Group::Typing { next }), Some(Kind::Insert { at: here, .. })) => next == *here,
            (Some(Group::Deleting { at: prev }), Some(Kind::Delete { range })) => {
                range.end == prev || range.start == prev
            }
            (Some(Group::Joined), _) => true,
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

    /// The next change joins the last undo step, whatever its shape (unless there is none, or
    /// an undo left steps to redo): for a client that groups changes itself, as Vim counts a
    /// whole insert, or a command made of several batches, as one step.
    pub fn join_undo_group(&mut self) {
        self.history.group = Some(Group::Joined);
    }

    /// Undoes the last step. `None` if there is nothing to undo. O(pieces in the step ·
    /// log pieces).
    pub fn undo(&mut self) -> Option<Restored> {
        let step = self.history.undo.pop()?;
        let was = self.tree.clone();
        let swaps = step
            .changes
            .iter()
            .any(|c| matches!(c, Change::Swap { .. }));
        if !swaps {
            self.log_restore(&step, true);
        }
        let mut changed: Option<Changed> = None;
        for change in step.changes.iter().rev() {
            match change {
                Change::Splice {
                    at,
                    removed,
                    inserted,
                } => {
                    let (gone, back) = (total_len(inserted), total_len(removed));
                    changed = Some(Changed::after(changed, Changed::splice(*at, gone, back)));
                    self.splice(*at, gone, removed)
                }
                Change::Swap { before, after, .. } => self.swap_keeping_tail(after.len(), before),
            }
        }
        if let (false, Some(c)) = (swaps, changed) {
            self.will_change(c);
        }
        if swaps {
            self.log_tree_change(&was);
        }
        self.revision = step.before_rev;
        let at = step.at;
        self.history.redo.push(step);
        Some(self.restored(at))
    }

    /// Redoes the last undone step. `None` if there is nothing to redo.
    pub fn redo(&mut self) -> Option<Restored> {
        let step = self.history.redo.pop()?;
        let was = self.tree.clone();
        // A replace-all redone on exactly the content it was made on replays as itself.
        let redo_as = match step.changes.as_slice() {
            [Change::Swap {
                before,
                redo_as: Some(record),
                ..
            }] if before.len() == was.len() => Some(record.clone()),
            _ => None,
        };
        let swaps = step
            .changes
            .iter()
            .any(|c| matches!(c, Change::Swap { .. }));
        if !swaps {
            self.log_restore(&step, false);
        }
        let mut changed: Option<Changed> = None;
        for change in &step.changes {
            match change {
                Change::Splice {
                    at,
                    removed,
                    inserted,
                } => {
                    let (gone, new) = (total_len(removed), total_len(inserted));
                    changed = Some(Changed::after(changed, Changed::splice(*at, gone, new)));
                    self.splice(*at, gone, inserted)
                }
                Change::Swap { before, after, .. } => self.swap_keeping_tail(before.len(), after),
            }
        }
        if let (false, Some(c)) = (swaps, changed) {
            self.will_change(c);
        }
        match redo_as {
            Some(record) => self.log(|| record),
            None if swaps => self.log_tree_change(&was),
            None => {}
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
        let places = self.bookmark_places();
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
        self.put_bookmarks_back(places);
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
pub(super) enum Kind {
    Insert { at: usize, len: usize },
    Delete { range: Range<usize> },
}

pub(super) fn classify(edits: &[Edit]) -> Option<Kind> {
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
