//! Pieces and the buffers they point into.

use std::sync::Arc;

use crate::block::Block;
use crate::breaks::{Info, Newlines};
use crate::line_index::BLOCK;
use crate::source::Source;

/// Which buffer a piece points into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Src {
    /// The original file number `n` of the document (the file as opened, then each saved file).
    Original(u32),
    /// Block `n` of the add buffer.
    Add(u32),
}

/// A run of the document's text: `info.bytes` bytes of `src` starting at `start`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Piece {
    pub src: Src,
    pub start: usize,
    pub info: Info,
}

impl Piece {
    pub fn len(&self) -> usize {
        self.info.bytes
    }

    pub fn end(&self) -> usize {
        self.start + self.info.bytes
    }
}

/// Largest piece of inserted text: splitting a piece re-counts at most this many bytes.
pub(crate) const MAX_ADD_PIECE: usize = 64 * 1024;

/// The buffers a tree's pieces point into, borrowed: the original files and the add buffer.
#[derive(Clone, Copy)]
pub(crate) struct Bufs<'a> {
    pub sources: &'a [Arc<Source>],
    pub sealed: &'a [Arc<Block>],
    pub open: &'a [u8],
}

/// Result of looking for the end of the n-th line break inside one piece.
pub(crate) enum Nth {
    /// The break ends this many bytes into the piece.
    At(usize),
    /// The piece holds fewer breaks.
    Beyond,
    /// The line index has not reached the part of the piece that would tell.
    NotYet,
}

impl<'a> Bufs<'a> {
    /// Which units are line breaks: the sources' rule (a document opens and saves every one
    /// of its files with its encoding's rule, so they agree).
    pub fn newlines(&self) -> Newlines {
        self.sources
            .first()
            .map_or(Newlines::Byte, |s| s.newlines())
    }

    /// The summary of `bytes` under the buffers' rule. Cost: O(n).
    pub fn info(&self, bytes: &[u8]) -> Info {
        self.newlines().info(bytes)
    }

    /// The bytes of a piece. Cost: O(1).
    pub fn bytes(&self, p: &Piece) -> &'a [u8] {
        match p.src {
            Src::Original(s) => self.sources[s as usize].slice(p.start, p.end()),
            Src::Add(b) => {
                let b = b as usize;
                if b == self.sealed.len() {
                    &self.open[p.start..p.end()]
                } else {
                    &self.sealed[b][p.start..p.end()]
                }
            }
        }
    }

    /// A piece over `[start, end)` of original `source`, with its summary if the index allows.
    pub fn original(&self, source: u32, start: usize, end: usize) -> Piece {
        let src = &self.sources[source as usize];
        let bytes = end - start;
        let breaks = src.index().count_range(&**src, start, end);
        let nl = src.newlines();
        let u = nl.unit();
        Piece {
            src: Src::Original(source),
            start,
            info: Info {
                bytes,
                breaks: breaks.unwrap_or(0),
                first_lf: bytes > 0 && nl.first_unit(src.slice(start, end)) == b'\n',
                last_cr: bytes >= u && nl.first_unit(src.slice(end - u, end)) == b'\r',
                known: breaks.is_some(),
            },
        }
    }

    /// The sub-piece `[from, to)` (offsets within `p`).
    pub fn sub(&self, p: &Piece, from: usize, to: usize) -> Piece {
        debug_assert!(from < to && to <= p.len());
        match p.src {
            Src::Original(s) => self.original(s, p.start + from, p.start + to),
            Src::Add(_) => Piece {
                src: p.src,
                start: p.start + from,
                info: self.info(&self.bytes(p)[from..to]),
            },
        }
    }

    /// Splits `p` at `k` (0 < k < len): counts the shorter side and derives the other from the
    /// piece's known summary, so a split costs one count of at most half the piece (and usually
    /// two 4 KiB index scans for the original).
    pub fn split(&self, p: &Piece, k: usize) -> (Piece, Piece) {
        let len = p.len();
        if !p.info.known {
            return (self.sub(p, 0, k), self.sub(p, k, len));
        }
        let counted_left = k <= len - k;
        let counted = if counted_left {
            self.sub(p, 0, k)
        } else {
            self.sub(p, k, len)
        };
        if !counted.info.known {
            return (self.sub(p, 0, k), self.sub(p, k, len));
        }
        let bytes = self.bytes(p);
        let nl = self.newlines();
        let first_lf = nl.first_unit(&bytes[k..]) == b'\n';
        let last_cr = k >= nl.unit() && nl.first_unit(&bytes[k - nl.unit()..k]) == b'\r';
        let joined = usize::from(first_lf && last_cr);
        let other_info = |bytes_: usize, first_lf: bool, last_cr: bool| Info {
            bytes: bytes_,
            breaks: p.info.breaks + joined - counted.info.breaks,
            first_lf,
            last_cr,
            known: true,
        };
        if counted_left {
            let right = Piece {
                src: p.src,
                start: p.start + k,
                info: other_info(len - k, first_lf, p.info.last_cr),
            };
            (counted, right)
        } else {
            let left = Piece {
                src: p.src,
                start: p.start,
                info: other_info(k, p.info.first_lf, last_cr),
            };
            (left, counted)
        }
    }

    /// The summary of `p`, computing it from the index if it was not known when the piece was
    /// made. `None` while the index has not reached the piece's end.
    pub fn resolve(&self, p: &Piece) -> Option<Info> {
        if p.info.known {
            return Some(p.info);
        }
        match p.src {
            Src::Original(s) => {
                let src = &self.sources[s as usize];
                let breaks = src.index().count_range(&**src, p.start, p.end())?;
                Some(Info {
                    breaks,
                    known: true,
                    ..p.info
                })
            }
            Src::Add(_) => Some(self.info(self.bytes(p))),
        }
    }

    /// Where the `n`-th (1-based) break of `p`, counted standalone, ends.
    pub fn nth_end(&self, p: &Piece, n: usize) -> Nth {
        let nl = self.newlines();
        let Src::Original(s) = p.src else {
            return nl
                .nth_standalone_end(self.bytes(p), false, n)
                .map_or(Nth::Beyond, Nth::At);
        };
        if p.len() <= 2 * BLOCK {
            return nl
                .nth_standalone_end(self.bytes(p), false, n)
                .map_or(Nth::Beyond, Nth::At);
        }
        let src = &self.sources[s as usize];
        let (start, end) = (p.start, p.end());
        let u = nl.unit();
        let unit_is = |at: usize, c: u8| nl.first_unit(src.slice(at, (at + u).min(src.len()))) == c;
        match src.index().nth_break_from(&**src, start, n) {
            Err(()) => Nth::NotYet,
            Ok(None) => Nth::Beyond,
            // `q` is the last byte of the break; `last` the start of its last unit.
            Ok(Some(q)) if q + 1 - u < end => {
                let last = q + 1 - u;
                let crlf = unit_is(last, b'\n') && last >= start + u && unit_is(last - u, b'\r');
                Nth::At(if crlf { last - start } else { q + 1 - start })
            }
            Ok(Some(q)) if q + 1 - u == end && unit_is(end - u, b'\r') => Nth::At(end - start),
            Ok(Some(_)) => Nth::Beyond,
        }
    }

    /// Can `b` be appended to `a` as one piece (contiguous in the same buffer)?
    pub fn joinable(&self, a: &Piece, b: &Piece) -> bool {
        a.src == b.src
            && a.end() == b.start
            && match a.src {
                Src::Add(_) => a.len() + b.len() <= MAX_ADD_PIECE,
                Src::Original(_) => true,
            }
    }
}
