//! A window of a document's bytes in an encoding other than UTF-8, decoded into UTF-8, with the
//! map from offsets in the decoded text back to offsets in the file: what lets a regular
//! expression (or case-insensitive text, or a whole-word check) written for UTF-8 run on a
//! UTF-16, windows-1252 or Shift_JIS file ([`crate::search`]'s decoded scan).
//!
//! Characters are those of [`Charset`] (what viewports show): each invalid byte, lone
//! surrogate or odd last byte of UTF-16 decodes as one U+FFFD. A window always starts at a
//! character boundary of the file ([`floor_boundary`]) and ends at one, so every offset of the
//! decoded text that starts a character maps to an offset of the file that starts one.
//!
//! **The offset map** is a list of runs of characters of the same widths (bytes in the file,
//! bytes in the decoded text): 12 bytes per run. A run ends where a character of other widths
//! comes. ASCII text in UTF-16 or a single-byte encoding is one run per window; text mixing
//! widths at every character (`aéaé…` in windows-1252) is one run per character: at most
//! 12 bytes per byte of window, 12 MiB per MiB (48 MiB for a 4 MiB window, per thread, freed
//! when the scan ends); French prose (an accent every 10–20 characters) is about 1–2 MiB per
//! MiB. Mapping an offset costs O(log runs).
//!
//! Decoding speed: UTF-16 and single-byte encodings are decoded by `encoding_rs` (SIMD for
//! ASCII) and the map is built from the decoded text alone (a character's width in the file
//! follows from its UTF-8 length there). Multi-byte legacy encodings (Shift_JIS, GBK, Big5,
//! EUC-*) are decoded character by character by [`Charset::unit_at`] (ASCII runs copied
//! at once), as viewports decode them: much slower on text that is mostly not ASCII.

use std::ops::Range;

use crate::charset::Charset;
use crate::view::View;

/// A run of characters of the same widths. Offsets are from the window's start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Run {
    /// Where it starts in the decoded text.
    text: u32,
    /// Where it starts in the file (from the window's start).
    file: u32,
    /// Bytes per character in the decoded text (1–4).
    text_w: u8,
    /// Bytes per character in the file (1–4).
    file_w: u8,
}

/// A decoded window and its offset map. Reused from window to window (its buffers are kept).
#[derive(Debug, Default)]
pub(crate) struct Decoded {
    /// The decoded text.
    text: String,
    runs: Vec<Run>,
    /// File offset of the first byte decoded.
    start: usize,
    /// File offset just past the last character decoded.
    end: usize,
    /// (text, file) bytes the runs account for.
    mapped: (u32, u32),
}

impl Decoded {
    /// Decodes `bytes`, the file's bytes from offset `start` (a character boundary) on, in
    /// `cs` (not UTF-8). Unless `at_end` (the bytes reach the document's end), a character the
    /// bytes may cut short is left out: the text ends at the last character known whole
    /// ([`Decoded::end`]). Cost: O(bytes).
    pub(crate) fn decode(&mut self, cs: Charset, bytes: &[u8], start: usize, at_end: bool) {
        self.text.clear();
        self.runs.clear();
        self.mapped = (0, 0);
        self.start = start;
        let used = match cs {
            Charset::Utf16Le | Charset::Utf16Be => self.decode_utf16(cs, bytes, at_end),
            Charset::Legacy(codec) if codec.is_single_byte() => {
                decode_into(codec, bytes, &mut self.text);
                self.map_from_text(|_| 1);
                bytes.len()
            }
            _ => self.decode_multibyte(cs, bytes, at_end),
        };
        self.end = start + used;
    }

    /// UTF-16: whole code units, and no high surrogate at the end unless `at_end` (its low
    /// half may follow). Returns the bytes decoded.
    fn decode_utf16(&mut self, cs: Charset, bytes: &[u8], at_end: bool) -> usize {
        let be = cs == Charset::Utf16Be;
        let mut used = if at_end {
            bytes.len()
        } else {
            bytes.len() & !1
        };
        if !at_end && used >= 2 {
            let u = &bytes[used - 2..used];
            let last = if be {
                u16::from_be_bytes([u[0], u[1]])
            } else {
                u16::from_le_bytes([u[0], u[1]])
            };
            if (0xD800..0xDC00).contains(&last) {
                used -= 2;
            }
        }
        let codec = if be {
            encoding_rs::UTF_16BE
        } else {
            encoding_rs::UTF_16LE
        };
        let even = used & !1;
        decode_into(codec, &bytes[..even], &mut self.text);
        // A character is one unit (2 bytes) unless it takes 4 bytes of UTF-8 (a pair); a lone
        // surrogate is one U+FFFD of one unit.
        self.map_from_text(|text_w| if text_w == 4 { 4 } else { 2 });
        if used % 2 == 1 {
            // The odd last byte of the document.
            self.push(3, 1);
            self.text.push('\u{FFFD}');
        }
        used
    }

    /// Builds the runs from the decoded text, given each character's width in the file as a
    /// function of its UTF-8 length.
    fn map_from_text(&mut self, file_w: impl Fn(u8) -> u8) {
        let text = std::mem::take(&mut self.text);
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let ascii = ascii_prefix(&bytes[i..]);
            if ascii > 0 {
                self.push_many(1, file_w(1), ascii);
                i += ascii;
                continue;
            }
            let w = utf8_width(bytes[i]);
            self.push(w, file_w(w));
            i += usize::from(w);
        }
        self.text = text;
    }

    /// Multi-byte legacy encodings, character by character as [`Charset::unit_at`] reads
    /// them; unless `at_end`, the last 3 bytes are left out when a character starting there
    /// could take more bytes than are given.
    fn decode_multibyte(&mut self, cs: Charset, bytes: &[u8], at_end: bool) -> usize {
        let mut i = 0;
        while i < bytes.len() {
            let ascii = ascii_prefix(&bytes[i..]);
            if ascii > 0 {
                self.text
                    .push_str(std::str::from_utf8(&bytes[i..i + ascii]).unwrap_or_default());
                self.push_many(1, 1, ascii);
                i += ascii;
                continue;
            }
            if !at_end && bytes.len() - i < 4 {
                break;
            }
            let u = cs.unit_at(&bytes[i..]);
            let s = if u.valid {
                cs.decode_lossy(&bytes[i..i + u.bytes]).0
            } else {
                "\u{FFFD}".to_owned()
            };
            self.text.push_str(&s);
            // A unit is one character in every WHATWG encoding but for four of Big5's (a
            // letter and a combining mark, 4 bytes of UTF-8): mapped as one character, so an
            // offset between the two maps to the unit's start.
            self.push(s.len() as u8, u.bytes as u8);
            i += u.bytes;
        }
        i
    }

    /// Appends one character of these widths to the map (the text is appended by the caller).
    fn push(&mut self, text_w: u8, file_w: u8) {
        self.push_many(text_w, file_w, 1);
    }

    /// Appends `n` characters of these widths to the map.
    fn push_many(&mut self, text_w: u8, file_w: u8, n: usize) {
        let same = self
            .runs
            .last()
            .is_some_and(|r| r.text_w == text_w && r.file_w == file_w);
        if !same {
            self.runs.push(Run {
                text: self.mapped.0,
                file: self.mapped.1,
                text_w,
                file_w,
            });
        }
        // Windows are a few MiB: their offsets fit in u32.
        self.mapped.0 += n as u32 * u32::from(text_w);
        self.mapped.1 += n as u32 * u32::from(file_w);
    }

    /// The decoded text, as bytes (valid UTF-8).
    pub(crate) fn text(&self) -> &[u8] {
        self.text.as_bytes()
    }

    /// The file offset where the character starting at `at` of the decoded text starts;
    /// `at` at the text's end maps to [`Decoded::end`], past it to one past that (an empty
    /// match's next search position). Cost: O(log runs).
    pub(crate) fn to_file(&self, at: usize) -> usize {
        if at >= self.text.len() {
            return self.end + usize::from(at > self.text.len());
        }
        let at = at as u32;
        let k = self.runs.partition_point(|r| r.text <= at) - 1;
        let r = self.runs[k];
        let chars = (at - r.text) / u32::from(r.text_w);
        self.start + (r.file + chars * u32::from(r.file_w)) as usize
    }

    /// The decoded offset of the first character starting at or after file offset `at`
    /// (the text's length if none does).
    pub(crate) fn to_text(&self, at: usize) -> usize {
        if at >= self.end || self.runs.is_empty() {
            return self.text.len();
        }
        let rel = at.saturating_sub(self.start) as u32;
        let k = self.runs.partition_point(|r| r.file <= rel) - 1;
        let r = self.runs[k];
        // A run holds whole characters: past its last one is the next run's start.
        let chars = (rel - r.file).div_ceil(u32::from(r.file_w));
        (r.text + chars * u32::from(r.text_w)) as usize
    }

    /// The last character boundary of the file at or before `at` (within the window).
    pub(crate) fn floor_file(&self, at: usize) -> usize {
        let rel = at.saturating_sub(self.start).min(self.end - self.start) as u32;
        let k = self
            .runs
            .partition_point(|r| r.file <= rel)
            .saturating_sub(1);
        let Some(r) = self.runs.get(k) else {
            return self.start;
        };
        let chars = (rel - r.file) / u32::from(r.file_w);
        self.start + (r.file + chars * u32::from(r.file_w)) as usize
    }

    /// File range of decoded text `range` (both ends at characters of the text).
    pub(crate) fn file_range(&self, range: Range<usize>) -> Range<usize> {
        self.to_file(range.start)..self.to_file(range.end)
    }
}

/// Appends `bytes` decoded by `codec` (malformed sequences as U+FFFD, as the WHATWG decoder
/// does: for UTF-16 and single-byte encodings, what [`Charset::decode_lossy`] gives) to
/// `out`, which keeps its allocation from window to window.
fn decode_into(codec: &'static encoding_rs::Encoding, bytes: &[u8], out: &mut String) {
    let mut decoder = codec.new_decoder_without_bom_handling();
    let need = decoder
        .max_utf8_buffer_length(bytes.len())
        .unwrap_or(bytes.len() * 3 + 16);
    out.reserve(need);
    // (Written into the spare capacity, not zeroed first; enough for the whole input.)
    let (_, read, _) = decoder.decode_to_string(bytes, out, true);
    debug_assert_eq!(read, bytes.len());
}

/// Bytes at the start of `bytes` that are ASCII.
fn ascii_prefix(bytes: &[u8]) -> usize {
    let mut i = 0;
    while i + 8 <= bytes.len() {
        let w = u64::from_le_bytes([
            bytes[i],
            bytes[i + 1],
            bytes[i + 2],
            bytes[i + 3],
            bytes[i + 4],
            bytes[i + 5],
            bytes[i + 6],
            bytes[i + 7],
        ]);
        if w & 0x8080_8080_8080_8080 != 0 {
            break;
        }
        i += 8;
    }
    while i < bytes.len() && bytes[i] < 0x80 {
        i += 1;
    }
    i
}

/// The length of the UTF-8 sequence led by byte `b` (of valid UTF-8).
fn utf8_width(b: u8) -> u8 {
    match b {
        0..0x80 => 1,
        0xC0..0xE0 => 2,
        0xE0..0xF0 => 3,
        _ => 4,
    }
}

/// The last character boundary of the file at or before `at`, for a window of `cs` (not
/// UTF-8) to start at. UTF-16: an even offset, not between the halves of a surrogate pair;
/// single-byte encodings: `at`; multi-byte legacy encodings: found by walking the line
/// holding `at` from its start (O(bytes of the line before `at`), as viewports do).
pub(crate) fn floor_boundary(view: &View<'_>, cs: Charset, at: usize) -> usize {
    let at = at.min(view.len());
    let mut buf = Vec::new();
    match cs {
        Charset::Utf8 => at,
        Charset::Legacy(codec) if codec.is_single_byte() => at,
        Charset::Utf16Le | Charset::Utf16Be => {
            let even = at & !1;
            if even < 2 || even + 2 > view.len() {
                return even;
            }
            let b = view.contiguous(even - 2, even + 2, &mut buf);
            let be = cs == Charset::Utf16Be;
            let unit = |p: &[u8]| {
                if be {
                    u16::from_be_bytes([p[0], p[1]])
                } else {
                    u16::from_le_bytes([p[0], p[1]])
                }
            };
            let (before, here) = (unit(&b[..2]), unit(&b[2..4]));
            if (0xD800..0xDC00).contains(&before) && (0xDC00..0xE000).contains(&here) {
                even - 2
            } else {
                even
            }
        }
        Charset::Legacy(_) => {
            const STEP: usize = 256 << 10;
            let mut pos = crate::lines::line_start_at(view, at);
            while pos < at {
                let end = (pos + STEP).min(view.len());
                let bytes = view.contiguous(pos, end, &mut buf);
                let mut i = 0;
                while pos + i < at {
                    let ascii = ascii_prefix(&bytes[i..]).min(at - pos - i);
                    if ascii > 0 {
                        i += ascii;
                        continue;
                    }
                    if bytes.len() - i < 4 && end < view.len() {
                        // A character may be cut: read on from here.
                        break;
                    }
                    let next = i + cs.unit_at(&bytes[i..]).bytes;
                    if pos + next > at {
                        return pos + i;
                    }
                    i = next;
                }
                pos += i;
            }
            pos
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random text from characters of every width, with line breaks.
    fn random_text(seed: &mut u64, n: usize, alphabet: &[&str]) -> String {
        let mut out = String::new();
        for _ in 0..n {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            out.push_str(alphabet[(*seed % alphabet.len() as u64) as usize]);
        }
        out
    }

    /// Checks the map of `bytes` decoded whole against `bounds`: (text offset, file offset) of
    /// every character boundary, the end included.
    fn check(cs: Charset, bytes: &[u8], text: &str, bounds: &[(usize, usize)]) {
        let mut d = Decoded::default();
        d.decode(cs, bytes, 100, true);
        assert_eq!(d.text, text, "{}", cs.name());
        for &(t, f) in bounds {
            assert_eq!(d.to_file(t), 100 + f, "{} text {t}", cs.name());
            assert_eq!(d.to_text(100 + f), t, "{} file {f}", cs.name());
            assert_eq!(d.floor_file(100 + f), 100 + f, "{} file {f}", cs.name());
        }
        // Offsets inside a character: to_text goes to the next one, floor_file to its start.
        for w in bounds.windows(2) {
            for f in w[0].1 + 1..w[1].1 {
                assert_eq!(d.to_text(100 + f), w[1].0, "{} inside {f}", cs.name());
                assert_eq!(
                    d.floor_file(100 + f),
                    100 + w[0].1,
                    "{} inside {f}",
                    cs.name()
                );
            }
        }
    }

    #[test]
    fn every_character_boundary_maps_to_the_files() {
        let wide: &[&str] = &[
            "a", "Z", " ", "\n", "\r\n", "é", "É", "ß", "€", "あ", "カ", "漢", "字", "🦀",
            "\u{A0D}", "\u{10A}", "\u{D0A}", "ab", "é",
        ];
        let charsets = [
            Charset::Utf16Le,
            Charset::Utf16Be,
            Charset::Legacy(encoding_rs::WINDOWS_1252),
            Charset::Legacy(encoding_rs::SHIFT_JIS),
            Charset::Legacy(encoding_rs::GBK),
            Charset::Legacy(encoding_rs::EUC_JP),
            Charset::Legacy(encoding_rs::BIG5),
        ];
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        for cs in charsets {
            let alphabet: Vec<&str> = wide
                .iter()
                .copied()
                .filter(|s| cs.encode(s).is_ok())
                .collect();
            for round in 0..20 {
                let text = random_text(&mut seed, 50 + round * 30, &alphabet);
                // The oracle: each character encoded alone (`encoding_rs`), lengths summed.
                let mut bounds = vec![(0, 0)];
                let mut bytes = Vec::new();
                for (i, c) in text.char_indices() {
                    bytes.extend(cs.encode(c.encode_utf8(&mut [0; 4])).unwrap_or_default());
                    bounds.push((i + c.len_utf8(), bytes.len()));
                }
                assert_eq!(cs.encode(&text).as_ref(), Ok(&bytes));
                check(cs, &bytes, &text, &bounds);
            }
        }
    }

    #[test]
    fn invalid_bytes_decode_as_viewports_show_them() {
        let cases: &[(Charset, &[u8])] = &[
            // A lone high surrogate, a lone low one, a pair, an odd last byte.
            (
                Charset::Utf16Le,
                b"a\x00\x00\xD8b\x00\x00\xDC\x3E\xD8\x80\xDDc\x00\x41",
            ),
            (
                Charset::Utf16Be,
                b"\x00a\xD8\x00\x00b\xD8\x3E\xDD\x80\xDC\x00\x41",
            ),
            // A lead byte before an ASCII byte that cannot trail it; a lone lead at the end.
            (
                Charset::Legacy(encoding_rs::SHIFT_JIS),
                b"a\x82\xa0\x82\x0a\xff\x82",
            ),
            (Charset::Legacy(encoding_rs::GBK), b"\x81\x0a\xc4\xe3\x81"),
            (Charset::Legacy(encoding_rs::WINDOWS_1253), b"a\xaa\xd2b"),
        ];
        for &(cs, bytes) in cases {
            // The oracle: the viewports' walk, one `Charset::unit_at` at a time.
            let mut bounds = vec![(0, 0)];
            let (mut t, mut f) = (0, 0);
            let mut text = String::new();
            while f < bytes.len() {
                let u = cs.unit_at(&bytes[f..]);
                let s = cs.decode_lossy(&bytes[f..f + u.bytes]).0;
                text.push_str(&s);
                t += s.len();
                f += u.bytes;
                bounds.push((t, f));
            }
            assert_eq!(cs.decode_lossy(bytes).0, text);
            check(cs, bytes, &text, &bounds);
        }
    }

    #[test]
    fn a_window_not_at_the_end_leaves_out_a_character_it_may_cut() {
        let mut d = Decoded::default();
        // "a" and the high half of a pair.
        d.decode(Charset::Utf16Le, b"a\x00\x3E\xD8", 0, false);
        assert_eq!((&d.text[..], d.end), ("a", 2));
        d.decode(Charset::Utf16Le, b"a\x00\x3E", 0, false);
        assert_eq!((&d.text[..], d.end), ("a", 2));
        d.decode(
            Charset::Legacy(encoding_rs::SHIFT_JIS),
            b"abcd\x82",
            0,
            false,
        );
        assert_eq!((&d.text[..], d.end), ("abcd", 4));
    }
}
