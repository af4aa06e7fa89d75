//! Where each version changed the document: a short log of byte ranges, so that something
//! derived from an older version (a filter view) can bring itself up to date by looking only
//! at what changed instead of at the whole document.
//!
//! Each new version records one [`Changed`] (bytes `start..old_end` of the version before
//! became `start..new_end`), or nothing when the change is not a few ranges (a replace-all,
//! a reload, an undo of one, a replayed journal): then [`Document::changed_since`] answers
//! `None` and the caller starts over. Several versions compose into one bounding range
//! ([`Changed::then`]). Bounded: the last [`KEPT`] versions (32 bytes each); older ones
//! answer `None`.

use std::collections::VecDeque;

use super::Document;

/// Versions whose change is kept.
pub const KEPT: usize = 4096;

/// A change of bytes: `start..old_end` of the version before are `start..new_end` after.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Changed {
    /// First byte that may differ.
    pub start: usize,
    /// End of the replaced bytes, in the version before.
    pub old_end: usize,
    /// End of their replacement, in the version after.
    pub new_end: usize,
}

impl Changed {
    /// Bytes `range` replaced by `inserted` bytes.
    pub fn splice(at: usize, removed: usize, inserted: usize) -> Changed {
        Changed {
            start: at,
            old_end: at + removed,
            new_end: at + inserted,
        }
    }

    /// The one range covering `self` followed by `next` (whose offsets are in the version
    /// `self` made): bytes past both are shifted, not changed. O(1).
    pub fn then(self, next: Changed) -> Changed {
        let start = self.start.min(next.start);
        // In the version between the two: the end of what either touched.
        let end = self.new_end.max(next.old_end);
        Changed {
            start,
            old_end: self.old_end + (end - self.new_end),
            new_end: end - next.old_end + next.new_end,
        }
    }

    /// Composes a change onto an optional one.
    pub(super) fn after(acc: Option<Changed>, next: Changed) -> Changed {
        match acc {
            Some(a) => a.then(next),
            None => next,
        }
    }
}

/// The log: per version, what it changed (`None`: not a few ranges).
#[derive(Default)]
pub(super) struct ChangeLog {
    /// `(version made, change)`, oldest first.
    entries: VecDeque<(u64, Option<Changed>)>,
}

impl ChangeLog {
    pub(super) fn push(&mut self, version: u64, change: Option<Changed>) {
        if self.entries.len() == KEPT {
            self.entries.pop_front();
        }
        self.entries.push_back((version, change));
    }
}

impl Document {
    /// The bytes that changed from version `v` to now, as one range, or `None` if that is not
    /// known (a whole-document change since, or `v` older than the last [`KEPT`] versions, or
    /// newer than the current one). `Some` with an empty range when nothing changed.
    /// O(versions since `v`).
    pub fn changed_since(&self, v: u64) -> Option<Changed> {
        if v > self.version {
            return None;
        }
        if v == self.version {
            let len = self.len();
            return Some(Changed::splice(len, 0, 0));
        }
        let log = &self.changed.entries;
        let first = log.partition_point(|e| e.0 <= v);
        // Every version after `v` must be in the log.
        if log.get(first).map(|e| e.0) != Some(v + 1) {
            return None;
        }
        let mut acc: Option<Changed> = None;
        for (_, c) in log.range(first..) {
            acc = Some(Changed::after(acc, (*c)?));
        }
        acc
    }

    /// Says what the next version changes (called just before the version grows; a version
    /// made with nothing said is a whole-document change).
    pub(super) fn will_change(&mut self, change: Changed) {
        self.pending_change = Some(change);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Applies a change to a text (as bytes of 'x' markers of which version wrote them).
    fn apply(text: &mut Vec<u8>, c: Changed, fill: u8) {
        let new: Vec<u8> = vec![fill; c.new_end - c.start];
        text.splice(c.start..c.old_end, new);
    }

    #[test]
    fn composition_bounds_every_change() {
        // Random splices on a text; the composed range must cover every byte that differs, and
        // what is outside it must be the same bytes, shifted.
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut rnd = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for round in 0..500 {
            let original: Vec<u8> = (0..200).map(|i| (i % 250) as u8).collect();
            let mut text = original.clone();
            let mut acc: Option<Changed> = None;
            for step in 0..(1 + round % 6) {
                let at = rnd(text.len() + 1);
                let removed = rnd(text.len() - at + 1).min(20);
                let inserted = rnd(20);
                let c = Changed::splice(at, removed, inserted);
                apply(&mut text, c, 251 + (step % 4) as u8);
                acc = Some(Changed::after(acc, c));
            }
            let c = acc.unwrap();
            assert_eq!(text.len() - c.new_end, original.len() - c.old_end);
            assert_eq!(text[..c.start], original[..c.start]);
            assert_eq!(text[c.new_end..], original[c.old_end..]);
        }
    }
}
