//! After a save: moving the document and its undo history onto the file it wrote, so that the
//! files it replaced can be closed.
//!
//! Why: a rename save replaces the file, and the document used to keep reading the old one
//! through its mapping while its undo history pointed into it, so every save held one more
//! deleted file open (a descriptor, a mapping and the file's disk blocks) until the document
//! closed. A day of edit-and-save on a 4 GiB log held tens of GiB of deleted files.
//!
//! How: the saved file holds exactly the text of the saved snapshot, so every byte of an older
//! file that the snapshot shows has a known place in the new file (a [`Relocation`], built from
//! the snapshot's pieces at [`Document::finish_save`]). Once the new file is indexed
//! ([`Document::poll_index`]), the tree and every splice of the undo and redo lists are
//! rewritten onto the new file; bytes that only the history holds (text deleted before the
//! save) are copied into the add buffer, at most [`COPY_LIMIT`] bytes per save. An older file
//! that no piece refers to any more is released: its slot in `sources` gets the newest file
//! (slots keep their numbers; no piece uses a released slot), and its mapping and descriptor
//! close when the last snapshot still using it (a running search, a clip) is dropped.
//!
//! Not moved, by choice:
//! * whole trees kept by replace-all steps (`Change::Swap`): rewriting them would give up the
//!   nodes they share with each other, so the files they use stay open, at most the one or two
//!   files the document read when the replace-all ran;
//! * a file whose history-only bytes are over the limit (a deletion of hundreds of MiB, then a
//!   save): copying them would cost what the save saved; it stays open, as before;
//! * a file a truncation damaged (its bytes are no longer what the history says).
//!
//! Cost: O(pieces of the saved snapshot · log) to build the relocation (memory: 32 bytes per
//! piece of an older file, until the new file is indexed), O(pieces in history · log) to move
//! them, plus the copied bytes. Clips taken before a release paste by value afterwards (the
//! document's `buffers` identity changes).

use std::sync::Arc;

use super::history::Change;
use super::{bufs, clip, Document};
use crate::tree::{Piece, PieceTree, Src, MAX_ADD_PIECE};

/// Most bytes copied into the add buffer per save so that an older file can be released.
pub(super) const COPY_LIMIT: usize = 64 << 20;

/// A run of an older file shown by the saved snapshot: bytes `[start, end)` of `src` are at
/// `to` in the saved file.
#[derive(Clone, Copy, Debug)]
struct Run {
    src: u32,
    start: usize,
    end: usize,
    to: usize,
}

/// Where the bytes of older files went in a saved file. Runs are sorted by `(src, start)` and
/// do not overlap (a byte shown twice, as after a paste of the document's own text, keeps its
/// first place).
pub(super) struct Relocation {
    runs: Vec<Run>,
}

/// One part of a piece of an older file: in the saved file at `to`, or not in it.
#[derive(Debug, PartialEq, Eq)]
enum Part {
    Moved { from: usize, to: usize, at: usize },
    Missing { from: usize, to: usize },
}

impl Relocation {
    /// The runs of the files other than `saved` in `tree`, the text written to file `saved`.
    pub(super) fn of(tree: &PieceTree, saved: u32) -> Relocation {
        let mut runs: Vec<Run> = tree
            .pieces_from(0)
            .filter_map(|(p, at)| match p.src {
                Src::Original(s) if s != saved && p.len() > 0 => Some(Run {
                    src: s,
                    start: p.start,
                    end: p.end(),
                    to: at,
                }),
                _ => None,
            })
            .collect();
        runs.sort_unstable_by_key(|r| (r.src, r.start));
        let mut disjoint: Vec<Run> = Vec::with_capacity(runs.len());
        for mut r in runs {
            if let Some(last) = disjoint.last() {
                if last.src == r.src && last.end > r.start {
                    if r.end <= last.end {
                        continue;
                    }
                    let skip = last.end - r.start;
                    r.start += skip;
                    r.to += skip;
                }
            }
            disjoint.push(r);
        }
        Relocation { runs: disjoint }
    }

    /// The parts of bytes `[start, end)` of file `src`, in order (offsets in that file).
    fn parts(&self, src: u32, start: usize, end: usize) -> Vec<Part> {
        let mut out = Vec::new();
        let mut i = self
            .runs
            .partition_point(|r| (r.src, r.end) <= (src, start));
        let mut at = start;
        while at < end {
            match self.runs.get(i) {
                Some(r) if r.src == src && r.start < end => {
                    if r.start > at {
                        out.push(Part::Missing {
                            from: at,
                            to: r.start,
                        });
                        at = r.start;
                    }
                    let to = r.end.min(end);
                    out.push(Part::Moved {
                        from: at,
                        to,
                        at: r.to + (at - r.start),
                    });
                    at = to;
                    i += 1;
                }
                _ => {
                    out.push(Part::Missing { from: at, to: end });
                    at = end;
                }
            }
        }
        out
    }

    /// Bytes of `p` that are not in the saved file (0 for pieces of other buffers).
    fn missing_bytes(&self, p: &Piece) -> usize {
        let Src::Original(s) = p.src else { return 0 };
        self.parts(s, p.start, p.end())
            .iter()
            .map(|part| match part {
                Part::Missing { from, to } => to - from,
                Part::Moved { .. } => 0,
            })
            .sum()
    }
}

impl Document {
    /// Moves the tree (unless `tree_is_saved`: it was just replaced by one piece of the saved
    /// file) and the undo history from older files onto file `saved`, then releases the older
    /// files nothing refers to any more. See the module's documentation.
    pub(super) fn move_onto_saved(
        &mut self,
        saved: u32,
        relocation: &Relocation,
        tree_is_saved: bool,
    ) {
        let older = saved as usize;
        // Files that cannot be released whatever is copied: damaged, or used by a whole tree.
        let mut keep = vec![false; older];
        for (k, s) in self.sources.iter().take(older).enumerate() {
            keep[k] = s.is_damaged();
        }
        for tree in self.history.swap_trees() {
            for (p, _) in tree.pieces_from(0) {
                if let Src::Original(s) = p.src {
                    if let Some(k) = keep.get_mut(s as usize) {
                        *k = true;
                    }
                }
            }
        }
        // What each file would cost to release (bytes to copy), then the files that fit.
        let mut cost = vec![0usize; older];
        let mut count = |p: &Piece| {
            if let Src::Original(s) = p.src {
                if let Some(c) = cost.get_mut(s as usize) {
                    *c += relocation.missing_bytes(p);
                }
            }
        };
        if !tree_is_saved {
            self.tree.pieces_from(0).for_each(|(p, _)| count(&p));
        }
        self.history.splice_pieces().for_each(count);
        // A slot released by an earlier save holds the file that was newest then.
        let released: Vec<bool> = (0..older)
            .map(|k| (k + 1..=older).any(|j| Arc::ptr_eq(&self.sources[k], &self.sources[j])))
            .collect();
        let mut budget = COPY_LIMIT;
        let mut moving = vec![false; older];
        for k in 0..older {
            if !keep[k] && !released[k] && cost[k] <= budget {
                budget -= cost[k];
                moving[k] = true;
            }
        }
        if !moving.iter().any(|&m| m) {
            return;
        }
        if !tree_is_saved {
            let pieces: Vec<Piece> = self.tree.pieces_from(0).map(|(p, _)| p).collect();
            let moved = self.move_pieces(&pieces, saved, relocation, &moving);
            self.tree = PieceTree::from_pieces(moved);
        }
        let mut history = std::mem::take(&mut self.history);
        for step in history.undo.iter_mut().chain(history.redo.iter_mut()) {
            for change in &mut step.changes {
                if let Change::Splice {
                    removed, inserted, ..
                } = change
                {
                    *removed = self.move_pieces(removed, saved, relocation, &moving);
                    *inserted = self.move_pieces(inserted, saved, relocation, &moving);
                }
            }
        }
        self.history = history;
        // A truncation while copying gave zeros, not the history's bytes: keep that file (the
        // pieces already moved read the same bytes from the saved file or the add buffer).
        for k in 0..older {
            if released[k] || (moving[k] && !self.sources[k].is_damaged()) {
                self.sources[k] = self.sources[older].clone();
            }
        }
        self.buffers = clip::new_buffers_id();
        if !self.tree.info().known {
            let bufs = bufs(&self.sources, &self.add);
            self.tree.refresh(&bufs);
        }
    }

    /// `pieces` with those of the `moving` files rewritten onto file `saved`, or copied into
    /// the add buffer where the saved file does not have their bytes.
    fn move_pieces(
        &mut self,
        pieces: &[Piece],
        saved: u32,
        relocation: &Relocation,
        moving: &[bool],
    ) -> Vec<Piece> {
        let mut out = Vec::with_capacity(pieces.len());
        for p in pieces {
            let s = match p.src {
                Src::Original(s) if moving.get(s as usize) == Some(&true) => s,
                _ => {
                    out.push(*p);
                    continue;
                }
            };
            let source = self.sources[s as usize].clone();
            for part in relocation.parts(s, p.start, p.end()) {
                match part {
                    Part::Moved { from, to, at } => {
                        let info = if from == p.start && to == p.end() {
                            p.info
                        } else {
                            let bufs = bufs(&self.sources, &self.add);
                            bufs.sub(p, from - p.start, to - p.start).info
                        };
                        out.push(Piece {
                            src: Src::Original(saved),
                            start: at,
                            info,
                        });
                    }
                    Part::Missing { from, to } => {
                        for chunk in source.slice(from, to).chunks(MAX_ADD_PIECE) {
                            out.push(self.push_added(chunk));
                        }
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::breaks::Info;

    fn piece(src: u32, start: usize, len: usize) -> Piece {
        Piece {
            src: Src::Original(src),
            start,
            info: Info {
                bytes: len,
                breaks: 0,
                first_lf: false,
                last_cr: false,
                known: true,
            },
        }
    }

    #[test]
    fn parts_follow_the_saved_text_and_name_what_it_lacks() {
        // Saved text: file 0 [10, 20), file 1 [0, 5), file 0 [30, 40), file 0 [15, 25) again.
        let tree = PieceTree::from_pieces(vec![
            piece(0, 10, 10),
            piece(1, 0, 5),
            piece(0, 30, 10),
            piece(0, 15, 10),
        ]);
        let r = Relocation::of(&tree, 2);
        assert_eq!(
            r.parts(0, 0, 45),
            vec![
                Part::Missing { from: 0, to: 10 },
                Part::Moved {
                    from: 10,
                    to: 20,
                    at: 0
                },
                // [15, 20) keeps its first place; [20, 25) comes from the repeat at 25.
                Part::Moved {
                    from: 20,
                    to: 25,
                    at: 30
                },
                Part::Missing { from: 25, to: 30 },
                Part::Moved {
                    from: 30,
                    to: 40,
                    at: 15
                },
                Part::Missing { from: 40, to: 45 },
            ]
        );
        assert_eq!(
            r.parts(1, 2, 4),
            vec![Part::Moved {
                from: 2,
                to: 4,
                at: 12
            }]
        );
        assert_eq!(r.parts(3, 0, 4), vec![Part::Missing { from: 0, to: 4 }]);
        assert_eq!(r.missing_bytes(&piece(0, 0, 45)), 20);
    }

    /// Edits (deletions of the file's text, insertions, a paste of its own text) and saves,
    /// then undo to the start and redo to the end, checked against a plain model at every
    /// step; the replaced files close, except when a replace-all's whole tree needs one.
    #[test]
    fn saves_release_the_files_they_replace_and_history_still_reads_the_same() {
        use crate::{Control, Document};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        let original: Vec<u8> = (0..3000)
            .flat_map(|i| format!("line {i}\n").into_bytes())
            .collect();
        std::fs::write(&path, &original).unwrap();
        let mut doc = Document::open(&path).unwrap();
        let control = Control::new();
        doc.wait_for_index(&control).unwrap();
        let mut model = original.clone();
        let mut states = vec![model.clone()];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n.max(1) as u64) as usize
        };
        for round in 0..40 {
            let len = model.len();
            let start = next(len);
            let end = (start + next(300)).min(len);
            let text = format!("<{round}>");
            doc.replace(start..end, &text).unwrap();
            model.splice(start..end, text.bytes());
            states.push(model.clone());
            if round % 7 == 3 {
                // The document's own text pasted elsewhere: the same bytes shown twice.
                let (a, b) = (next(model.len()), next(model.len()));
                let (a, b) = (a.min(b), a.max(b).min(a.min(b) + 500));
                let clip = doc.clip(a..b, false).unwrap();
                let at = next(model.len());
                doc.paste(at, &clip, 1, &control).unwrap();
                let copied = model[a..b].to_vec();
                model.splice(at..at, copied);
                states.push(model.clone());
            }
            doc.save(None, &control).unwrap();
            doc.wait_for_index(&control).unwrap();
            assert_eq!(std::fs::read(&path).unwrap(), model);
            assert_eq!(doc.open_file_count(), 1, "round {round}");
        }
        let read = |doc: &Document| doc.view().read(0, doc.len()).unwrap();
        for want in states.iter().rev().skip(1) {
            doc.undo().unwrap();
            assert_eq!(&read(&doc), want);
        }
        assert!(doc.undo().is_none());
        for want in states.iter().skip(1) {
            doc.redo().unwrap();
            assert_eq!(&read(&doc), want);
        }
        // Line counts held by moved pieces are right too.
        let lines = model.iter().filter(|&&b| b == b'\n').count();
        let count = doc.view().line_count();
        assert!(count.exact);
        assert_eq!(count.known, lines + 1);
    }
}
