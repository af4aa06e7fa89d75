//! Replace-all: planned on a snapshot (the O(file) scan, without holding the document), then
//! applied to the document as one undo step.
//!
//! The plan comes from [`crate::search`]; applying it builds a new tree from the plan's parts
//! (kept pieces, new text, sealed blocks of rewritten text) and records both trees
//! ([`super::history`]), so applying and undoing cost O(pieces). A plan applies only to the
//! version it was made on; otherwise nothing changes and [`Error::Stale`] says so.

use super::history::Change;
use super::{Document, Snapshot};
use crate::breaks::Info;
use crate::journal::Record;
use crate::search::{self, Matcher, Query};
use crate::tree::{Piece, PieceTree, Src, MAX_ADD_PIECE};
use crate::{Control, Error, Result};

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
        let record = Record::ReplaceAll {
            pattern,
            regex,
            case_insensitive,
            replacement,
        };
        self.log(|| record.clone());
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
            redo_as: Some(record),
        }];
        self.record(changes, plan.first, None);
        Ok(plan.count)
    }
}
