//! Clips: a range of a document taken at one version, to be pasted later (here, or in another
//! document) without its text ever leaving the server. This is what lets an editor yank 500 MiB
//! and paste it in O(1) of its own memory: the editor keeps a name, the server a clip.
//!
//! A clip is a [`Snapshot`] and a range: taking one costs O(1) (plus sealing the add buffer's
//! open block, as any snapshot), whatever the range's length, and the bytes stay where they
//! are (the mapping, the add buffer). Pasting into the document it came from inserts the same
//! pieces again (O(pieces · log pieces), no byte copied); pasting into another document, or
//! into this one after it moved to other buffers ([`Document::reload`], a recovery), copies
//! the bytes into the add buffer (O(bytes), spilled to disk past 16 MiB like any insertion).
//!
//! Invariants: a clip never changes (its snapshot holds the buffers it reads, as the undo
//! history does); a paste is one change, recorded and journaled as any edit (the journal
//! records the base file's bytes by range, others by value).
//!
//! # Limitations
//!
//! * A clip holds its snapshot's buffers: a clip of a closed document keeps that file mapped
//!   (and its descriptor open) until the clip is dropped.
//! * Pieces are not merged: pasting a clip of N pieces `count` times adds N · `count` pieces,
//!   so [`Document::paste`] refuses more than [`MAX_PASTED_PIECES`] at once.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};

use super::history::Change;
use super::{Document, Snapshot};
use crate::journal::{Record, Splice as JSplice};
use crate::tree::{Piece, MAX_ADD_PIECE};
use crate::{Control, Error, Result};

/// Most pieces one paste may add (the clip's pieces times the count): about 160 MiB of tree.
pub const MAX_PASTED_PIECES: usize = 1 << 22;

static NEXT_BUFFERS: AtomicU64 = AtomicU64::new(1);

/// A new identity for a document's buffers (its sources and add buffer): pieces taken from
/// buffers with one identity are valid in buffers with the same identity only.
pub(super) fn new_buffers_id() -> u64 {
    NEXT_BUFFERS.fetch_add(1, Ordering::Relaxed)
}

/// A range of a document at one version, kept for pasting. Cheap to clone.
#[derive(Clone)]
pub struct Clip {
    snapshot: Snapshot,
    range: Range<usize>,
    /// The identity of the buffers the snapshot's pieces refer to.
    buffers: u64,
    /// A line break to add after the range (a linewise clip of a last line without one).
    line_break: &'static [u8],
}

impl Clip {
    /// Length in bytes, the added line break included. O(1).
    pub fn len(&self) -> usize {
        self.range.len() + self.line_break.len()
    }

    /// Whether the clip is empty. O(1).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The version of the document the clip was taken from.
    pub fn version(&self) -> u64 {
        self.snapshot.version()
    }

    /// Bytes `[start, end)` of the clip (clamped to it): for a preview. O(end − start).
    pub fn read(&self, start: usize, end: usize) -> Result<Vec<u8>> {
        let end = end.min(self.len());
        let start = start.min(end);
        let in_range = |at: usize| self.range.start + at.min(self.range.len());
        let mut out = self.snapshot.view().read(in_range(start), in_range(end))?;
        let tail_start = start.max(self.range.len()) - self.range.len();
        let tail_end = end.max(self.range.len()) - self.range.len();
        out.extend_from_slice(&self.line_break[tail_start..tail_end]);
        Ok(out)
    }
}

impl Document {
    /// Takes bytes `range` of the current version as a clip. With `whole_lines`, a range that
    /// does not end with a line break gets one (the document's), as Vim's linewise registers
    /// hold whole lines. O(1), plus sealing the add buffer's open block (at most 1 MiB copied).
    pub fn clip(&mut self, range: Range<usize>, whole_lines: bool) -> Result<Clip> {
        if range.start > range.end || range.end > self.len() {
            return Err(Error::OutOfBounds(format!(
                "range {}..{} is outside the document (length {})",
                range.start,
                range.end,
                self.len()
            )));
        }
        let u = self.newlines().unit();
        // (An empty range, or shorter than a code unit, is no line to complete.)
        let ends_line = range.len() < u || self.view().break_unit_at(range.end - u) != 0;
        Ok(Clip {
            line_break: if whole_lines && !ends_line {
                self.line_ending().bytes_in(self.newlines())
            } else {
                b""
            },
            snapshot: self.snapshot(),
            range,
            buffers: self.buffers,
        })
    }

    /// Inserts `count` copies of `clip` at `at`, as one change (one undo step, unless
    /// [`Document::join_undo_group`] said it joins the last). Returns the new version.
    ///
    /// Cost: from this document's own buffers, O(pieces · count · log pieces) and no byte
    /// copied; from another document's, O(bytes · count) copied into the add buffer, checking
    /// `control` between blocks (cancelled: nothing changes). Fails with `OutOfBounds` when `at`
    /// is past the end, `TooLarge` past [`MAX_PASTED_PIECES`].
    pub fn paste(
        &mut self,
        at: usize,
        clip: &Clip,
        count: usize,
        control: &Control,
    ) -> Result<u64> {
        if at > self.len() {
            return Err(Error::OutOfBounds(format!(
                "offset {at} is outside the document (length {})",
                self.len()
            )));
        }
        if count == 0 || clip.is_empty() {
            return Ok(self.version);
        }
        self.poll_index();
        let once = if clip.buffers == self.buffers {
            let view = clip.snapshot.view();
            view.tree
                .pieces_in(clip.range.start, clip.range.end, &view.bufs)
        } else {
            self.copy_in(clip, control)?
        };
        let mut pieces = Vec::new();
        let total = once.len().saturating_add(1).saturating_mul(count);
        if total > MAX_PASTED_PIECES {
            return Err(Error::TooLarge(format!(
                "pasting {count} copies of {} pieces is more than {MAX_PASTED_PIECES} at once",
                once.len()
            )));
        }
        let line_break = (!clip.line_break.is_empty()).then(|| self.push_added(clip.line_break));
        for _ in 0..count {
            control.check()?;
            pieces.extend_from_slice(&once);
            pieces.extend(line_break);
        }
        self.insert_pieces(at, &pieces);
        self.bookmarks
            .splice(at, 0, super::history::total_len(&pieces));
        let parts = self.journal_parts(&pieces);
        self.log(|| {
            Record::Splices(vec![JSplice {
                at: at as u64,
                remove: 0,
                parts,
            }])
        });
        let added = super::history::total_len(&pieces);
        let changes = vec![Change::Splice {
            at,
            removed: Vec::new(),
            inserted: pieces,
        }];
        self.will_change(super::Changed::splice(at, 0, added));
        self.record(changes, at, None);
        Ok(self.version)
    }

    /// The clip's bytes copied into this document's add buffer, as pieces.
    fn copy_in(&mut self, clip: &Clip, control: &Control) -> Result<Vec<Piece>> {
        let mut pieces = Vec::new();
        let view = clip.snapshot.view();
        let mut at = clip.range.start;
        while at < clip.range.end {
            control.check()?;
            let end = (at + MAX_ADD_PIECE).min(clip.range.end);
            let bytes = view.read(at, end)?;
            pieces.push(self.push_added(&bytes));
            at = end;
        }
        Ok(pieces)
    }
}

#[cfg(test)]
mod tests {
    use crate::{Control, Document};

    fn open(dir: &tempfile::TempDir, name: &str, text: &[u8]) -> Document {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let mut doc = Document::open(&path).unwrap();
        doc.wait_for_index(&Control::new()).unwrap();
        doc
    }

    fn content(doc: &Document) -> Vec<u8> {
        doc.view().read(0, doc.len()).unwrap()
    }

    #[test]
    fn a_paste_in_the_same_document_copies_no_byte_and_undoes_in_one_step() {
        let dir = tempfile::tempdir().unwrap();
        let text: Vec<u8> = (0..200_000)
            .flat_map(|i| format!("line {i}\n").into_bytes())
            .collect();
        let mut doc = open(&dir, "a.txt", &text);
        doc.insert(0, "edited ").unwrap();
        let clip = doc.clip(0..doc.len(), true).unwrap();
        let added = doc.added_bytes();
        let at = 7 + text.len() / 2;
        doc.paste(at, &clip, 3, &Control::new()).unwrap();
        assert_eq!(
            doc.added_bytes(),
            added,
            "the pieces were reused, no byte copied"
        );
        let mut want = b"edited ".to_vec();
        want.extend_from_slice(&text);
        let whole = want.clone();
        for _ in 0..3 {
            want.splice(at..at, whole.iter().copied());
        }
        assert_eq!(content(&doc), want);
        doc.undo().unwrap();
        assert_eq!(content(&doc), whole, "one undo step for the whole paste");
    }

    #[test]
    fn a_paste_in_another_document_copies_the_bytes_even_after_the_first_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = open(&dir, "a.txt", b"one\ntwo\nthree\n");
        a.insert(4, "TWO ").unwrap();
        let clip = a.clip(4..12, false).unwrap();
        a.delete(0..a.len()).unwrap();
        drop(a);
        let mut b = open(&dir, "b.txt", b"x\ny\n");
        b.paste(2, &clip, 2, &Control::new()).unwrap();
        assert_eq!(content(&b), b"x\nTWO two\nTWO two\ny\n");
        assert_eq!(clip.read(0, 100).unwrap(), b"TWO two\n");
    }

    #[test]
    fn a_linewise_clip_of_a_last_line_without_a_break_gets_the_documents_break() {
        let dir = tempfile::tempdir().unwrap();
        let mut doc = open(&dir, "crlf.txt", b"a\r\nb\r\nlast");
        let clip = doc.clip(6..10, true).unwrap();
        assert_eq!(
            (clip.len(), clip.read(0, 10).unwrap()),
            (6, b"last\r\n".to_vec())
        );
        assert_eq!(clip.read(5, 6).unwrap(), b"\n");
        doc.paste(0, &clip, 2, &Control::new()).unwrap();
        assert_eq!(content(&doc), b"last\r\nlast\r\na\r\nb\r\nlast");
        // A clip that already ends a line gets nothing more; a charwise one never.
        assert_eq!(doc.clip(0..6, true).unwrap().len(), 6);
        assert_eq!(doc.clip(0..4, false).unwrap().len(), 4);
    }

    #[test]
    fn a_clip_taken_before_a_reload_is_pasted_by_value() {
        let dir = tempfile::tempdir().unwrap();
        let mut doc = open(&dir, "a.txt", b"hello\nworld\n");
        doc.insert(0, ">").unwrap();
        let clip = doc.clip(0..7, false).unwrap();
        // (replaced by a new file, as most programs write: a rewrite in place would change
        // what the old mapping shows, for a clip as for the undo history)
        std::fs::write(dir.path().join("new.txt"), b"fresh\n").unwrap();
        std::fs::rename(dir.path().join("new.txt"), dir.path().join("a.txt")).unwrap();
        doc.reload().unwrap();
        doc.wait_for_index(&Control::new()).unwrap();
        doc.paste(6, &clip, 1, &Control::new()).unwrap();
        assert_eq!(content(&doc), b"fresh\n>hello\n");
    }

    #[test]
    fn bad_pastes_are_refused_and_change_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut doc = open(&dir, "a.txt", b"abc\n");
        assert!(doc.clip(2..9, false).is_err());
        let clip = doc.clip(0..2, false).unwrap();
        let v = doc.version();
        assert!(doc.paste(9, &clip, 1, &Control::new()).is_err());
        assert!(doc.paste(0, &clip, usize::MAX, &Control::new()).is_err());
        let cancelled = Control::new();
        cancelled.cancel();
        assert!(doc.paste(0, &clip, 2, &cancelled).is_err());
        assert_eq!((doc.version(), content(&doc)), (v, b"abc\n".to_vec()));
        assert_eq!(doc.history_len(), (0, 0));
    }
}
