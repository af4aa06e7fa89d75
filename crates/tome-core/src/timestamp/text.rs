//! The text the timestamp code reads: a document's bytes, or, in UTF-16, its code units
//! narrowed to one byte each (an ASCII unit to its byte, any other to `?`). Every timestamp
//! format is ASCII, and a line break is the unit U+000A / U+000D, so the parsers, the layout
//! detection and the probes of the seek work unchanged on the narrowed text; offsets into it
//! map back to the file's by [`TimeText::offset`] (twice, past the byte-order mark).
//!
//! Narrowing copies each window the probes read (a few KiB per probe: [`super::FIRST_READ`]
//! doubled as needed); single-byte documents are read in place as before.

use crate::breaks::Newlines;
use crate::view::View;
use crate::Result;

/// A document's text as the timestamp code reads it (see the module doc).
#[derive(Clone, Copy)]
pub(crate) struct TimeText<'v> {
    view: View<'v>,
    /// UTF-16: where the first unit after the byte-order mark is, and the byte order.
    wide: Option<(usize, bool)>,
}

impl<'v> TimeText<'v> {
    /// The text of `view`, narrowed if its line breaks are UTF-16's. Cost: O(1).
    pub(crate) fn of(view: &View<'v>) -> TimeText<'v> {
        let big_endian = match view.newlines() {
            Newlines::Byte => {
                return TimeText {
                    view: *view,
                    wide: None,
                }
            }
            Newlines::Utf16Le => false,
            Newlines::Utf16Be => true,
        };
        let bom: &[u8] = if big_endian { b"\xFE\xFF" } else { b"\xFF\xFE" };
        let mut buf = Vec::new();
        let origin = if view.len() >= 2 && view.contiguous(0, 2, &mut buf) == bom {
            2
        } else {
            0
        };
        TimeText {
            view: *view,
            wide: Some((origin, big_endian)),
        }
    }

    /// Length in narrowed bytes (a trailing odd byte of UTF-16 is not a unit).
    pub(crate) fn len(&self) -> usize {
        match self.wide {
            None => self.view.len(),
            Some((origin, _)) => self.view.len().saturating_sub(origin) / 2,
        }
    }

    /// Narrowed bytes `[start, end)`: borrowed from the document where it is single-byte and
    /// one piece holds them, else made in `window`. In UTF-16 a window narrows at least
    /// [`READ_AHEAD`] units at a time, and a read inside what it holds copies nothing (the
    /// seek's last step probes line after line through 64 KiB: one narrowing, not one per
    /// line).
    pub(crate) fn read<'b>(&self, start: usize, end: usize, window: &'b mut Window) -> &'b [u8]
    where
        'v: 'b,
    {
        let Some((origin, big_endian)) = self.wide else {
            window.held = None;
            return self.view.contiguous(start, end, &mut window.buf);
        };
        let holds = window
            .held
            .is_some_and(|at| at <= start && end <= at + window.buf.len());
        if !holds {
            let upto = end.max(start.saturating_add(READ_AHEAD)).min(self.len());
            narrow_into(
                self.view,
                origin + 2 * start,
                origin + 2 * upto,
                big_endian,
                &mut window.buf,
            );
            window.held = Some(start);
        }
        let at = window.held.unwrap_or(start);
        &window.buf[start - at..end - at]
    }

    /// The file offset of narrowed offset `n`.
    pub(crate) fn offset(&self, n: usize) -> usize {
        match self.wide {
            None => n,
            Some((origin, _)) => origin + 2 * n,
        }
    }

    /// The narrowed offset of the first unit at or after file offset `x`.
    pub(crate) fn position(&self, x: usize) -> usize {
        match self.wide {
            None => x,
            Some((origin, _)) => x.saturating_sub(origin).div_ceil(2),
        }
    }

    /// See [`View::intact`].
    pub(crate) fn intact(&self) -> Result<()> {
        self.view.intact()
    }
}

/// How many units a UTF-16 window narrows at least.
const READ_AHEAD: usize = 64 << 10;

/// What [`TimeText::read`] reads into: the narrowed units it holds, and where they start.
#[derive(Default)]
pub(crate) struct Window {
    buf: Vec<u8>,
    held: Option<usize>,
}

/// The units of the file's bytes `[from, to)` narrowed into `buf`.
fn narrow_into(view: View<'_>, from: usize, to: usize, big_endian: bool, buf: &mut Vec<u8>) {
    buf.clear();
    // A unit may be cut between two pieces: its first byte waits for the second.
    let mut carry: Option<u8> = None;
    for chunk in view.chunks(from, to) {
        let mut bytes = chunk;
        if let (Some(first), Some((&second, rest))) = (carry, bytes.split_first()) {
            buf.push(narrow(first, second, big_endian));
            bytes = rest;
        }
        let pairs = bytes.chunks_exact(2);
        carry = pairs.remainder().first().copied();
        buf.extend(pairs.map(|p| narrow(p[0], p[1], big_endian)));
    }
}

/// One UTF-16 unit as one byte: ASCII as itself, anything else `?` (in no timestamp format,
/// and not a line break).
#[inline]
fn narrow(a: u8, b: u8, big_endian: bool) -> u8 {
    let unit = if big_endian {
        u16::from_be_bytes([a, b])
    } else {
        u16::from_le_bytes([a, b])
    };
    if unit < 0x80 {
        unit as u8
    } else {
        b'?'
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Document, Encoding};

    /// Narrowing a UTF-16 document read across piece boundaries (an insertion splits units'
    /// neighbours into pieces) gives one byte per unit, offsets mapping back to the units.
    #[test]
    fn utf16_text_narrows_unit_by_unit_across_pieces() {
        for (label, bom) in [
            ("utf-16le", &b"\xFF\xFE"[..]),
            ("utf-16be", &b"\xFE\xFF"[..]),
        ] {
            let enc = Encoding::from_label(label, false).unwrap();
            let text = "2026-11-26T12:00:00Z é 日本\r\n2026-11-26T12:00:01Z 𝄞\n";
            let mut bytes = bom.to_vec();
            bytes.extend(enc.charset().encode(text).unwrap());
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("wide.log");
            std::fs::write(&path, &bytes).unwrap();
            let mut doc =
                Document::open_cached_as(&path, Default::default(), None, Some(enc)).unwrap();
            // Two pieces more: "x" inserted after the first unit of the first line.
            doc.insert(4, enc.charset().encode("x").unwrap()).unwrap();
            let view = doc.view();
            let t = TimeText::of(&view);
            let want: String = "2x026-11-26T12:00:00Z ? ??\r\n2026-11-26T12:00:01Z ??\n".into();
            assert_eq!(t.len(), want.len(), "{label}");
            let mut window = Window::default();
            assert_eq!(t.read(0, t.len(), &mut window), want.as_bytes(), "{label}");
            assert_eq!(t.read(3, 7, &mut window), &want.as_bytes()[3..7], "{label}");
            let mut fresh = Window::default();
            assert_eq!(t.read(3, 7, &mut fresh), &want.as_bytes()[3..7], "{label}");
            assert_eq!(t.offset(0), 2);
            assert_eq!(t.offset(5), 12);
            assert_eq!(t.position(12), 5);
            assert_eq!(t.position(13), 6);
        }
    }
}
