//! Whole-document changes: a replace-all (of every match, in a range of lines, or of the first
//! match of each line) and the deletion of the lines that match (or do not). Planned on a
//! snapshot (the O(file) scan, without holding the document), then applied to the document as
//! one undo step.
//!
//! The plan comes from [`crate::search`] ([`crate::plan`]); applying it builds a new tree from
//! the plan's parts (kept pieces, new text, sealed blocks of rewritten text) and records both
//! trees ([`super::history`]), so applying and undoing cost O(pieces). A plan applies only to
//! the version it was made on; otherwise nothing changes and [`Error::Stale`] says so. The
//! journal records the request (pattern, replacement, scope), which replays to the same result
//! on the same content.

use std::sync::Arc;

use super::history::Change;
use super::{Document, Snapshot};
use crate::block::Block;
use crate::journal::Record;
use crate::lines::Scope;
use crate::plan::{Part, Plan};
use crate::search::{self, Matcher};
use crate::tree::{Piece, PieceTree, Src, MAX_ADD_PIECE};
use crate::{Control, Error, Result};

/// A whole-document change planned on a snapshot, to apply with
/// [`Document::apply_planned`].
pub struct PlannedChange {
    plan: Plan,
    version: u64,
    record: Record,
}

impl PlannedChange {
    /// How many changes it makes: replacements, or lines deleted.
    pub fn count(&self) -> usize {
        self.plan.count
    }

    /// On how many lines: lines holding a replacement, or lines deleted.
    pub fn lines(&self) -> usize {
        self.plan.lines
    }

    /// Where the last change starts in the document once applied (the start of the last
    /// replacement; where the lines after the last deleted ones start): where an editor
    /// leaves the cursor.
    pub fn last_at(&self) -> usize {
        self.plan.last
    }
}

impl Snapshot {
    /// Plans replacing every match of `matcher` with `replacement` (with `$1`-style groups for
    /// a regex) in this version: the scan, O(file), done here so that it can run without
    /// holding the document. Apply it with [`Document::apply_planned`]. Cancellable.
    pub fn plan_replace_all(
        &self,
        matcher: &Matcher,
        replacement: &[u8],
        control: &Control,
    ) -> Result<PlannedChange> {
        self.plan_replace_in(matcher, replacement, &Scope::whole(), control)
    }

    /// Plans a replace-all limited to `scope` (a range of lines, the first match of each
    /// line). O(bytes of the scope).
    pub fn plan_replace_in(
        &self,
        matcher: &Matcher,
        replacement: &[u8],
        scope: &Scope,
        control: &Control,
    ) -> Result<PlannedChange> {
        Ok(PlannedChange {
            plan: search::plan_replace_all(self.view(), matcher, replacement, scope, control)?,
            version: self.version,
            record: Record::ReplaceAll {
                query: matcher.query().clone(),
                replacement: replacement.to_vec(),
                scope: scope.clone(),
            },
        })
    }

    /// [`Snapshot::plan_replace_in`] with the matches collected on `units.1` threads in units
    /// of `units.0` bytes, whatever the length (for tests).
    #[doc(hidden)]
    pub fn plan_replace_in_units(
        &self,
        matcher: &Matcher,
        replacement: &[u8],
        scope: &Scope,
        units: (usize, usize),
        control: &Control,
    ) -> Result<PlannedChange> {
        Ok(PlannedChange {
            plan: search::plan_replace_all_on(
                self.view(),
                matcher,
                replacement,
                scope,
                units,
                control,
            )?,
            version: self.version,
            record: Record::ReplaceAll {
                query: matcher.query().clone(),
                replacement: replacement.to_vec(),
                scope: scope.clone(),
            },
        })
    }

    /// Plans deleting the lines of `scope` on which a match of `matcher` starts (`invert`: on
    /// which none does), each with its line break: Vim's `:g/pat/d` and `:v/pat/d`.
    /// O(bytes of the scope).
    pub fn plan_delete_lines(
        &self,
        matcher: &Matcher,
        scope: &Scope,
        invert: bool,
        control: &Control,
    ) -> Result<PlannedChange> {
        Ok(PlannedChange {
            plan: search::plan_delete_lines(self.view(), matcher, scope, invert, control)?,
            version: self.version,
            record: Record::DeleteLines {
                query: matcher.query().clone(),
                scope: scope.clone(),
                invert,
            },
        })
    }
}

impl Document {
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
        self.replace_in(matcher, replacement, &Scope::whole(), control)
    }

    /// [`Document::replace_all`] limited to `scope`, on this thread. Returns the number of
    /// replacements.
    pub fn replace_in(
        &mut self,
        matcher: &Matcher,
        replacement: &[u8],
        scope: &Scope,
        control: &Control,
    ) -> Result<usize> {
        let plan = self
            .snapshot()
            .plan_replace_in(matcher, replacement, scope, control)?;
        self.apply_planned(plan)
    }

    /// Deletes the lines of `scope` on which `matcher` matches (`invert`: does not), on this
    /// thread, as one undo step. Returns the number of lines deleted.
    pub fn delete_lines(
        &mut self,
        matcher: &Matcher,
        scope: &Scope,
        invert: bool,
        control: &Control,
    ) -> Result<usize> {
        let plan = self
            .snapshot()
            .plan_delete_lines(matcher, scope, invert, control)?;
        self.apply_planned(plan)
    }

    /// Applies a change planned on a [`Snapshot`] of this document: as one undo step,
    /// O(pieces). Returns its count (replacements, or lines deleted). Fails with
    /// [`Error::Stale`] (and changes nothing) if the document changed since the snapshot.
    pub fn apply_planned(&mut self, planned: PlannedChange) -> Result<usize> {
        if planned.version != self.version {
            return Err(Error::Stale(format!(
                "the document changed (version {} → {}) while the change was planned",
                planned.version, self.version
            )));
        }
        let PlannedChange { plan, record, .. } = planned;
        if plan.count == 0 {
            return Ok(0);
        }
        self.log(|| record.clone());
        let mut pieces = Vec::with_capacity(plan.parts.len());
        let nl = self.newlines();
        // The block the last text part was in, and where the add buffer put it: consecutive
        // parts share blocks.
        let mut added: Option<(Arc<Block>, u32)> = None;
        for part in plan.parts {
            match part {
                Part::Keep(ps) => pieces.extend(ps),
                Part::Text(block, range) => {
                    let id = match &added {
                        Some((b, id)) if Arc::ptr_eq(b, &block) => *id,
                        _ => {
                            let at = self.add.push_sealed(Arc::clone(&block));
                            added = Some((Arc::clone(&block), at.block));
                            at.block
                        }
                    };
                    let mut start = range.start;
                    for chunk in block[range].chunks(MAX_ADD_PIECE) {
                        let info = nl.info(chunk);
                        pieces.push(Piece {
                            src: Src::Add(id),
                            start,
                            info,
                        });
                        start += info.bytes;
                    }
                }
            }
        }
        let places = self.bookmark_places();
        let before = std::mem::replace(&mut self.tree, PieceTree::from_pieces(pieces));
        self.put_bookmarks_back(places);
        let changes = vec![Change::Swap {
            before,
            after: self.tree.clone(),
            redo_as: Some(record),
        }];
        self.record(changes, plan.first, None);
        Ok(plan.count)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::Arc;

    use crate::add_buffer::BLOCK;
    use crate::block::{Block, HEAP_BUDGET};
    use crate::plan::Part;
    use crate::{Control, Document, Matcher, Query};

    /// A replace-all whose matches are close together (their text rewritten with them) but
    /// with longer kept runs now and then: the new text between two kept runs lives in the
    /// plan's sealed blocks, spilled past the budget, not in buffers of its own in memory.
    #[test]
    fn new_text_between_kept_runs_stays_within_the_memory_budget() {
        let _serial = crate::block::tests::SERIAL
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("many.log");
        // Groups of 20 lines with a match each (400 bytes apart: rewritten with them), then
        // one line of 1.2 KiB (kept): ~60 MiB, ~93 % of it new text.
        let short = format!("{} MATCH\n", "s".repeat(393));
        let long = format!("{}\n", "k".repeat(1200));
        let group = format!("{}{long}", short.repeat(20));
        let text = group.repeat((60 << 20) / group.len());
        std::fs::write(&path, &text).unwrap();
        let mut doc = Document::open(&path).unwrap();
        let matcher = Matcher::new(&Query {
            pattern: "MATCH".into(),
            regex: false,
            case_insensitive: false,
        })
        .unwrap();
        let planned = doc
            .snapshot()
            .plan_replace_all(&matcher, b"CHANGED", &Control::new())
            .unwrap();
        let (mut heap, mut new_text, mut blocks) = (0, 0, HashSet::new());
        for part in &planned.plan.parts {
            if let Part::Text(block, range) = part {
                new_text += range.len();
                if blocks.insert(Arc::as_ptr(block)) && matches!(**block, Block::Heap(_)) {
                    heap += block.len();
                }
            }
        }
        assert!(new_text > 3 * HEAP_BUDGET, "new text {new_text}");
        assert!(
            heap <= HEAP_BUDGET + BLOCK,
            "{heap} bytes of the plan's {new_text} bytes of new text are in memory"
        );
        doc.apply_planned(planned).unwrap();
        let want = text.replace("MATCH", "CHANGED");
        assert_eq!(doc.len(), want.len());
        assert!(doc.view().read(0, doc.len()).unwrap() == want.as_bytes());
    }
}
