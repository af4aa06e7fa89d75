//! Text encodings of files: what a file's bytes are (detected at open, or named by the user), and
//! the rules that turn them into characters and back when the file is not UTF-8.
//!
//! The document always keeps **the file's own bytes** (the piece table holds bytes in the file's
//! encoding) and every offset is a byte offset into them. An encoding only changes how bytes are
//! read as text (viewports, columns) and how a client's text is written (edits, search
//! patterns): [`Charset`]. Decoders and encoders are `encoding_rs`'s (the WHATWG Encoding
//! Standard, the one browsers use): no home-made tables.
//!
//! # Which encodings a document can be edited in
//!
//! UTF-8 (with or without a byte-order mark) and every **ASCII-compatible** WHATWG encoding
//! (windows-125x, ISO-8859-x, KOI8, Shift_JIS, EUC-JP, EUC-KR, GBK, gb18030, Big5…). In all of
//! them a line break is the byte 0x0A or 0x0D and those bytes are never part of another
//! character (the trail bytes of the multi-byte ones are ≥ 0x40), so the line index, line
//! starts, `\r\n` detection and everything else that works on bytes are the same as for UTF-8.
//!
//! **UTF-16LE and UTF-16BE** (with a byte-order mark, kept as content like UTF-8's, or
//! without): a line break is the code unit U+000A / U+000D at an even offset from the file's
//! start (`0A 00` in LE), never a 0x0A byte that is half of another character. Which bytes are
//! breaks is [`crate::breaks::Newlines`], the one rule the line index, the piece tree's
//! summaries and the line scanners share; a document's files are all indexed with its rule
//! (a UTF-16 label is given at open, or the file is indexed again on reopening). Offsets stay
//! byte offsets; an edit must start and end on a code unit boundary outside a surrogate pair
//! and insert whole units (so every piece starts at a unit boundary). Timestamp seeking reads
//! the units narrowed to bytes (`timestamp/text.rs`).
//!
//! # Search in these encodings
//!
//! Case-sensitive literal text is encoded into the file's encoding and searched as bytes
//! (matches kept only where a character starts: at even offsets in UTF-16). Regular
//! expressions, case-insensitive text and whole-word searches run on the text **decoded per
//! window** ([`crate::decoded`]): each window of the file's bytes, from a character boundary,
//! is decoded into UTF-8 by these rules (an invalid byte is one U+FFFD, as viewports show
//! it), the ordinary UTF-8 matcher runs on it, and each match is mapped back to file offsets
//! that start and end characters. Line filters do the same chunk by chunk of whole lines
//! ([`crate::filter::LineFilter::new_in`]), except a tree of case-sensitive text in an
//! ASCII-compatible encoding, which runs on the bytes.
//!
//! UTF-32 is detected and named, but not edited ([`Encoding::is_supported`] is false; the
//! server refuses to open it unless told to read the bytes as UTF-8; WHATWG has no label for
//! it). ISO-2022-JP (stateful) is refused the same way.
//!
//! # Detection (from the 64 KiB sample read at open), in this order
//!
//! 1. A byte-order mark: UTF-8 (`EF BB BF`), UTF-32LE (`FF FE 00 00`), UTF-32BE
//!    (`00 00 FE FF`), UTF-16LE (`FF FE`), UTF-16BE (`FE FF`).
//! 2. BOM-less UTF-16: at least 16 bytes, and among the sample's 2-byte units at least 30 % have
//!    a zero byte at odd offsets and none in ten of those at even offsets (LE: ASCII text is
//!    `61 00`), or the mirror image (BE). Text in other scripts has few zero bytes and is not
//!    recognised this way: name the encoding when opening.
//! 3. Valid UTF-8 (a character cut by the sample's end allowed): `utf-8`.
//! 4. `binary` (bytes shown as UTF-8, each invalid byte as U+FFFD, saved unchanged: the
//!    behaviour for files that are not text, and for damaged UTF-8) if the sample has a zero
//!    byte, or fewer than 8 bytes that are not UTF-8 (a stray byte in ASCII text is more
//!    likely damage than a legacy encoding, and the editors keep such bytes exact), or fewer
//!    of those than non-ASCII bytes in valid UTF-8 sequences (a UTF-8 file with some bad
//!    bytes).
//! 5. Otherwise a legacy 8-bit encoding: **windows-1252** by default (what most non-UTF-8
//!    Western text is, and every byte decodes), or the WHATWG label in `$TOME_LEGACY_ENCODING`
//!    (e.g. `shift_jis`, `gbk`) when it names an ASCII-compatible encoding. The sample is not
//!    used to guess between legacy encodings: such guesses are often wrong on logs (mostly
//!    ASCII) and a wrong guess silently shows other characters; the user names the encoding
//!    (`tome/open`'s `encoding`, `tome/reopenWithEncoding`) instead.

use encoding_rs::{DecoderResult, EncoderResult};

use crate::breaks::Newlines;
use crate::text::{self, PositionEncoding, Unit, Walk};

/// The environment variable naming the legacy encoding that detection falls back to.
pub const LEGACY_ENV: &str = "TOME_LEGACY_ENCODING";

/// What a file's bytes are, as detected at open or named by the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// Valid UTF-8 (ASCII included), without a byte-order mark.
    Utf8,
    /// UTF-8 starting with a byte-order mark (kept as content: shown as U+FEFF on line 0).
    Utf8Bom,
    /// Bytes that are not text: shown as UTF-8 (each invalid byte as U+FFFD), saved unchanged.
    Binary,
    /// An ASCII-compatible encoding other than UTF-8 (windows-1252, Shift_JIS, GBK…).
    Legacy(&'static encoding_rs::Encoding),
    /// UTF-16, little-endian (with a byte-order mark `FF FE` kept as content, or without).
    Utf16Le,
    /// UTF-16, big-endian (with a byte-order mark `FE FF` kept as content, or without).
    Utf16Be,
    /// An encoding that was recognised but cannot be edited yet (UTF-32,
    /// ISO-2022-JP): its name. Read as [`Encoding::Binary`] if a document has it anyway.
    Unsupported(&'static str),
}

impl Encoding {
    /// The name reported to clients: `utf-8`, `utf-8-bom`, `binary`, or the WHATWG name of the
    /// encoding (`windows-1252`, `Shift_JIS`, `GBK`, `UTF-16LE`, `UTF-32BE`…).
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Utf8Bom => "utf-8-bom",
            Encoding::Binary => "binary",
            Encoding::Legacy(codec) => codec.name(),
            Encoding::Utf16Le => "UTF-16LE",
            Encoding::Utf16Be => "UTF-16BE",
            Encoding::Unsupported(name) => name,
        }
    }

    /// True if a document in this encoding can be read and edited as text.
    pub fn is_supported(self) -> bool {
        !matches!(self, Encoding::Unsupported(_))
    }

    /// True for the encodings whose bytes are read as UTF-8 (UTF-8, with a BOM, binary).
    pub fn is_utf8(self) -> bool {
        self.charset() == Charset::Utf8
    }

    /// The rules by which this encoding's bytes are read and written.
    pub fn charset(self) -> Charset {
        match self {
            Encoding::Legacy(codec) => Charset::Legacy(codec),
            Encoding::Utf16Le => Charset::Utf16Le,
            Encoding::Utf16Be => Charset::Utf16Be,
            _ => Charset::Utf8,
        }
    }

    /// Which units of this encoding's bytes are line breaks.
    pub fn newlines(self) -> Newlines {
        self.charset().newlines()
    }

    /// The encoding a WHATWG label names (`"utf-16le"`, `"shift_jis"`, `"latin1"`, `"gbk"`…,
    /// case-insensitive), plus Tome's own `"utf-8-bom"` and `"binary"`. `bom` says whether the
    /// file starts with a UTF-8 byte-order mark (`"utf-8"` then means [`Encoding::Utf8Bom`]).
    /// Returns `None` for a label that names no encoding.
    pub fn from_label(label: &str, bom: bool) -> Option<Encoding> {
        let label = label.trim();
        if label.eq_ignore_ascii_case("binary") {
            return Some(Encoding::Binary);
        }
        if label.eq_ignore_ascii_case("utf-8-bom") {
            return Some(Encoding::Utf8Bom);
        }
        let codec = encoding_rs::Encoding::for_label_no_replacement(label.as_bytes())?;
        Some(Encoding::of_codec(codec, bom))
    }

    fn of_codec(codec: &'static encoding_rs::Encoding, utf8_bom: bool) -> Encoding {
        if codec == encoding_rs::UTF_8 {
            if utf8_bom {
                Encoding::Utf8Bom
            } else {
                Encoding::Utf8
            }
        } else if codec.is_ascii_compatible() {
            Encoding::Legacy(codec)
        } else if codec == encoding_rs::UTF_16LE {
            Encoding::Utf16Le
        } else if codec == encoding_rs::UTF_16BE {
            Encoding::Utf16Be
        } else {
            // ISO-2022-JP.
            Encoding::Unsupported(codec.name())
        }
    }

    /// Detects the encoding of a file from `sample`, its first bytes; `truncated` says the
    /// file goes on past the sample. The heuristic is the module's (see its documentation).
    /// Cost: O(sample).
    pub fn detect(sample: &[u8], truncated: bool) -> Encoding {
        let legacy = std::env::var(LEGACY_ENV)
            .ok()
            .and_then(|l| encoding_rs::Encoding::for_label_no_replacement(l.as_bytes()))
            .filter(|c| c.is_ascii_compatible() && *c != encoding_rs::UTF_8)
            .unwrap_or(encoding_rs::WINDOWS_1252);
        detect_with(sample, truncated, legacy)
    }
}

/// [`Encoding::detect`] with the legacy fallback given.
fn detect_with(sample: &[u8], truncated: bool, legacy: &'static encoding_rs::Encoding) -> Encoding {
    if sample.starts_with(b"\xEF\xBB\xBF") {
        return Encoding::Utf8Bom;
    }
    if sample.starts_with(b"\xFF\xFE\x00\x00") {
        return Encoding::Unsupported("UTF-32LE");
    }
    if sample.starts_with(b"\x00\x00\xFE\xFF") {
        return Encoding::Unsupported("UTF-32BE");
    }
    if sample.starts_with(b"\xFF\xFE") {
        return Encoding::Utf16Le;
    }
    if sample.starts_with(b"\xFE\xFF") {
        return Encoding::Utf16Be;
    }
    if let Some(utf16) = bomless_utf16(sample) {
        return utf16;
    }
    let utf8 = match std::str::from_utf8(sample) {
        Ok(_) => true,
        // A sample cut in the middle of a character is still UTF-8.
        Err(e) => truncated && e.error_len().is_none(),
    };
    if utf8 {
        Encoding::Utf8
    } else if looks_legacy(sample) {
        Encoding::Legacy(legacy)
    } else {
        Encoding::Binary
    }
}

/// The fewest non-ASCII bytes a sample that is not UTF-8 needs to be taken as legacy text.
const LEGACY_MIN_NON_ASCII: usize = 8;

/// True if a sample that is not UTF-8 reads as text in a legacy encoding rather than as
/// damaged UTF-8 or binary data: no zero byte, at least [`LEGACY_MIN_NON_ASCII`] bytes that
/// are not UTF-8 (a stray byte or two in ASCII text is damage: the file stays `binary`, its
/// bytes shown as U+FFFD and kept exact), and more of those than non-ASCII bytes in valid
/// UTF-8 sequences (a UTF-8 file with some bad bytes is mostly good ones; legacy CJK text
/// holds a few valid-looking UTF-8 sequences by chance). Cost: O(sample).
fn looks_legacy(sample: &[u8]) -> bool {
    if memchr::memchr(0, sample).is_some() {
        return false;
    }
    let (mut invalid, mut valid) = (0usize, 0usize);
    for chunk in sample.utf8_chunks() {
        invalid += chunk.invalid().len();
        valid += chunk.valid().bytes().filter(|b| !b.is_ascii()).count();
    }
    invalid >= LEGACY_MIN_NON_ASCII && invalid > valid
}

/// UTF-16 without a byte-order mark, told by where the zero bytes are (see the module's doc).
fn bomless_utf16(sample: &[u8]) -> Option<Encoding> {
    let units = sample.len() / 2;
    if units < 8 {
        return None;
    }
    let (mut even, mut odd) = (0usize, 0usize);
    for pair in sample.chunks_exact(2) {
        even += usize::from(pair[0] == 0);
        odd += usize::from(pair[1] == 0);
    }
    let many = |n: usize| n * 10 >= units * 3;
    let few = |n: usize, of: usize| n * 10 < of;
    if many(odd) && few(even, odd) {
        Some(Encoding::Utf16Le)
    } else if many(even) && few(odd, even) {
        Some(Encoding::Utf16Be)
    } else {
        None
    }
}

/// How a document's bytes are read as characters and how text is written into them.
///
/// `Utf8`: the rules of [`crate::text`] (each invalid byte one U+FFFD, one column). `Legacy`:
/// an ASCII-compatible `encoding_rs` encoding, decoded character by character: a character is
/// the shortest run of 1–4 bytes that decodes without error from a character boundary (an
/// ASCII byte at a boundary is always one), and a byte that starts no such run is invalid (one
/// U+FFFD, one column), exactly as an invalid byte of UTF-8. Columns count the *decoded* text
/// in the client's position encoding (UTF-8 bytes of the decoded text, UTF-16 units, code
/// points); a column maps to the file byte where its character starts.
///
/// Boundaries in a multi-byte legacy encoding (Shift_JIS, GBK, Big5, EUC-*) cannot be told
/// from a few bytes around an offset (a trail byte can look like a lead or an ASCII byte), so
/// its walks start at a line's start: a window or a position far into a long line costs the
/// bytes of the line before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Charset {
    /// UTF-8 (also binary files: their bytes are shown as UTF-8).
    #[default]
    Utf8,
    /// An ASCII-compatible encoding other than UTF-8.
    Legacy(&'static encoding_rs::Encoding),
    /// UTF-16LE: see [`Charset::Utf16Be`].
    Utf16Le,
    /// UTF-16 (here big-endian): characters are one code unit (2 bytes) or a surrogate pair
    /// (4 bytes) starting at an even offset of the file (a line starts at one, so walks start
    /// at the line's start as for multi-byte legacy encodings). A lone surrogate, and an odd
    /// last byte, are invalid: one U+FFFD each (one column). A byte-order mark is content
    /// (U+FEFF on line 0), as in UTF-8; edits never add one.
    Utf16Be,
}

/// The UTF-16 code unit at `bytes[0..2]`, if there are two bytes.
fn utf16_unit(bytes: &[u8], be: bool) -> Option<u16> {
    let pair = [*bytes.first()?, *bytes.get(1)?];
    Some(if be {
        u16::from_be_bytes(pair)
    } else {
        u16::from_le_bytes(pair)
    })
}

/// Decodes the character at the start of UTF-16 `bytes` (a unit boundary): `(bytes it takes,
/// the character)`, or `(bytes, None)` for a lone surrogate (2) or an odd last byte (1).
fn utf16_char(bytes: &[u8], be: bool) -> (usize, Option<char>) {
    let Some(first) = utf16_unit(bytes, be) else {
        return (1, None);
    };
    if !(0xD800..0xE000).contains(&first) {
        return (2, char::from_u32(u32::from(first)));
    }
    match utf16_unit(&bytes[2..], be) {
        Some(second) if first < 0xDC00 && (0xDC00..0xE000).contains(&second) => {
            let c = 0x10000 + ((u32::from(first) - 0xD800) << 10) + (u32::from(second) - 0xDC00);
            (4, char::from_u32(c))
        }
        _ => (2, None),
    }
}

/// Decodes the one character at the start of `bytes` (a character boundary) in `codec`:
/// `(bytes it takes, its UTF-8, length of that UTF-8)`, or `None` for an invalid byte.
fn decode_one(
    codec: &'static encoding_rs::Encoding,
    bytes: &[u8],
) -> Option<(usize, [u8; 16], usize)> {
    let mut out = [0u8; 16];
    if bytes[0] < 0x80 {
        out[0] = bytes[0];
        return Some((1, out, 1));
    }
    let longest = if codec.is_single_byte() { 1 } else { 4 };
    for k in 1..=bytes.len().min(longest) {
        let mut decoder = codec.new_decoder_without_bom_handling();
        let (result, read, written) =
            decoder.decode_to_utf8_without_replacement(&bytes[..k], &mut out, true);
        if result == DecoderResult::InputEmpty && read == k && written > 0 {
            return Some((k, out, written));
        }
    }
    None
}

impl Charset {
    /// True for UTF-8 (the rules of [`crate::text`]).
    pub fn is_utf8(self) -> bool {
        self == Charset::Utf8
    }

    /// True for UTF-16 (either byte order).
    pub fn is_utf16(self) -> bool {
        matches!(self, Charset::Utf16Le | Charset::Utf16Be)
    }

    /// Which units of this encoding's bytes are line breaks.
    pub fn newlines(self) -> Newlines {
        match self {
            Charset::Utf16Le => Newlines::Utf16Le,
            Charset::Utf16Be => Newlines::Utf16Be,
            _ => Newlines::Byte,
        }
    }

    /// True if every byte is a character boundary (UTF-8 is not: it has its own rules).
    fn single_byte(self) -> bool {
        matches!(self, Charset::Legacy(c) if c.is_single_byte())
    }

    /// The unit (a character, or one invalid byte) starting at `bytes[0]`, which must be a
    /// character boundary (non-empty input; pass at least 4 bytes when more follow).
    /// Cost: O(1).
    pub fn unit_at(self, bytes: &[u8]) -> Unit {
        let codec = match self {
            Charset::Utf8 => return text::unit_at(bytes),
            Charset::Legacy(codec) => codec,
            Charset::Utf16Le | Charset::Utf16Be => {
                return match utf16_char(bytes, self == Charset::Utf16Be) {
                    (len, Some(c)) => Unit {
                        bytes: len,
                        valid: true,
                        text: c.len_utf8(),
                        wide: c.len_utf16(),
                        chars: 1,
                    },
                    (len, None) => Unit {
                        bytes: len,
                        ..Unit::invalid()
                    },
                }
            }
        };
        match decode_one(codec, bytes) {
            Some((len, out, written)) => {
                let s = std::str::from_utf8(&out[..written]).unwrap_or("\u{FFFD}");
                Unit {
                    bytes: len,
                    valid: true,
                    text: written,
                    wide: s.encode_utf16().count(),
                    chars: s.chars().count(),
                }
            }
            None => Unit::invalid(),
        }
    }

    /// Decodes `bytes` (starting at a character boundary), each invalid byte as one U+FFFD.
    /// Returns the text and whether anything was replaced. Cost: O(n).
    pub fn decode_lossy(self, bytes: &[u8]) -> (String, bool) {
        let codec = match self {
            Charset::Utf8 => return text::decode_lossy(bytes),
            Charset::Legacy(codec) => codec,
            Charset::Utf16Le | Charset::Utf16Be => {
                let be = self == Charset::Utf16Be;
                let units = bytes
                    .chunks_exact(2)
                    .map(|p| utf16_unit(p, be).unwrap_or_default());
                let mut out = String::with_capacity(bytes.len());
                let mut invalid = false;
                for c in char::decode_utf16(units) {
                    out.push(c.unwrap_or_else(|_| {
                        invalid = true;
                        '\u{FFFD}'
                    }));
                }
                if bytes.len() % 2 == 1 {
                    out.push('\u{FFFD}');
                    invalid = true;
                }
                return (out, invalid);
            }
        };
        if let Some(text) = codec.decode_without_bom_handling_and_without_replacement(bytes) {
            return (text.into_owned(), false);
        }
        let mut out = String::with_capacity(bytes.len() * 2);
        let mut i = 0;
        while i < bytes.len() {
            let ascii = bytes[i..].iter().take_while(|b| b.is_ascii()).count();
            if ascii > 0 {
                out.push_str(std::str::from_utf8(&bytes[i..i + ascii]).unwrap_or_default());
                i += ascii;
                continue;
            }
            match decode_one(codec, &bytes[i..]) {
                Some((len, buf, written)) => {
                    out.push_str(std::str::from_utf8(&buf[..written]).unwrap_or("\u{FFFD}"));
                    i += len;
                }
                None => {
                    out.push('\u{FFFD}');
                    i += 1;
                }
            }
        }
        (out, true)
    }

    /// [`Charset::decode_lossy`] of bytes the caller owns (UTF-8 without a copy when valid).
    pub fn decode_lossy_owned(self, bytes: Vec<u8>) -> (String, bool) {
        match self {
            Charset::Utf8 => text::decode_lossy_owned(bytes),
            _ => self.decode_lossy(&bytes),
        }
    }

    /// Columns of `bytes` (starting at a character boundary) in `enc`. Cost: O(n).
    pub fn count_columns(self, bytes: &[u8], enc: PositionEncoding) -> usize {
        match self {
            Charset::Utf8 => text::count_columns(bytes, enc),
            Charset::Utf16Le | Charset::Utf16Be => {
                let mut cols = 0;
                let mut i = 0;
                while i < bytes.len() {
                    let u = self.unit_at(&bytes[i..]);
                    cols += u.columns(enc);
                    i += u.bytes;
                }
                cols
            }
            Charset::Legacy(_) => {
                let mut cols = 0;
                let mut i = 0;
                while i < bytes.len() {
                    let ascii = bytes[i..].iter().take_while(|b| b.is_ascii()).count();
                    cols += ascii;
                    i += ascii;
                    if i < bytes.len() {
                        let u = self.unit_at(&bytes[i..]);
                        cols += u.columns(enc);
                        i += u.bytes;
                    }
                }
                cols
            }
        }
    }

    /// Walks `cols` columns into `bytes` (starting at a character boundary).
    pub(crate) fn walk_columns(self, bytes: &[u8], cols: usize, enc: PositionEncoding) -> Walk {
        match self {
            Charset::Utf8 => text::walk_columns(bytes, cols, enc),
            _ => {
                let mut left = cols;
                let mut i = 0;
                while left > 0 {
                    if i >= bytes.len() {
                        return Walk::Short(left);
                    }
                    let u = self.unit_at(&bytes[i..]);
                    let c = u.columns(enc);
                    if c > left {
                        return Walk::InsideChar;
                    }
                    left -= c;
                    i += u.bytes;
                }
                Walk::At(i)
            }
        }
    }

    /// How many bytes before an offset [`Charset::floor_boundary`] needs: 3 for UTF-8, 0 for a
    /// single-byte encoding, and `None` (from the line's start) for a multi-byte legacy one
    /// and for UTF-16 (whose boundaries depend on the offset's parity from the file's start,
    /// which a slice does not know; a line always starts at one).
    pub(crate) fn context_before(self) -> Option<usize> {
        match self {
            Charset::Utf8 => Some(3),
            _ if self.single_byte() => Some(0),
            _ => None,
        }
    }

    /// Moves `at` back to the start of the character holding it. For a multi-byte legacy
    /// encoding `bytes[0]` must be a character boundary (see [`Charset::context_before`]).
    pub(crate) fn floor_boundary(self, bytes: &[u8], at: usize) -> usize {
        match self {
            Charset::Utf8 => text::floor_boundary(bytes, at),
            _ if self.single_byte() => at,
            _ => {
                let mut i = 0;
                while i < at.min(bytes.len()) {
                    let next = i + self.unit_at(&bytes[i..]).bytes;
                    if next > at {
                        return i;
                    }
                    i = next;
                }
                at
            }
        }
    }

    /// `text` written in this encoding, or the first character it cannot represent (never
    /// replaced: the caller refuses the edit). Cost: O(n).
    pub fn encode(self, text: &str) -> Result<Vec<u8>, char> {
        let codec = match self {
            Charset::Utf8 => return Ok(text.as_bytes().to_vec()),
            Charset::Legacy(codec) => codec,
            // Every `char` is representable (a `str` holds no lone surrogate); no BOM is
            // added (a file's own BOM is content at its start).
            Charset::Utf16Le => {
                return Ok(text.encode_utf16().flat_map(u16::to_le_bytes).collect())
            }
            Charset::Utf16Be => {
                return Ok(text.encode_utf16().flat_map(u16::to_be_bytes).collect())
            }
        };
        let mut encoder = codec.new_encoder();
        let mut out = Vec::with_capacity(text.len() + 16);
        let mut rest = text;
        loop {
            let (result, read) =
                encoder.encode_from_utf8_to_vec_without_replacement(rest, &mut out, true);
            rest = &rest[read..];
            match result {
                EncoderResult::InputEmpty => return Ok(out),
                EncoderResult::Unmappable(c) => return Err(c),
                EncoderResult::OutputFull => out.reserve(rest.len().max(16) * 4),
            }
        }
    }

    /// The name of the encoding (`utf-8` for UTF-8).
    pub fn name(self) -> &'static str {
        match self {
            Charset::Utf8 => "utf-8",
            Charset::Legacy(codec) => codec.name(),
            Charset::Utf16Le => "UTF-16LE",
            Charset::Utf16Be => "UTF-16BE",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PositionEncoding::*;

    #[test]
    fn detects_boms_utf16_utf8_binary_and_legacy() {
        let d = |s: &[u8]| detect_with(s, false, encoding_rs::WINDOWS_1252).name();
        assert_eq!(d("héllo".as_bytes()), "utf-8");
        assert_eq!(d(b"\xEF\xBB\xBFx"), "utf-8-bom");
        assert_eq!(d(b"\xFF\xFEa\x00"), "UTF-16LE");
        assert_eq!(d(b"\xFE\xFF\x00a"), "UTF-16BE");
        assert_eq!(d(b"\xFF\xFE\x00\x00a\x00\x00\x00"), "UTF-32LE");
        assert_eq!(d(b"\x00\x00\xFE\xFF"), "UTF-32BE");
        let le: Vec<u8> = "hello, world\r\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let be: Vec<u8> = "hello, world\r\n"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        assert_eq!(d(&le), "UTF-16LE");
        assert_eq!(d(&be), "UTF-16BE");
        assert_eq!(
            d(b"caf\xE9 cr\xE8me br\xFBl\xE9e na\xEFve \xE0 \xAB\xBB\n"),
            "windows-1252"
        );
        assert_eq!(d(b"a\xFF\x00b"), "binary");
        assert_eq!(d(b"one bad \xFF byte\n"), "binary");
        let damaged = [
            "déjà vu, ça, naïve 🦀🦀 ".as_bytes(),
            b"\xFF\xFE\xFD\xFC\xFB\xFA\xF9\xF8",
        ]
        .concat();
        assert_eq!(d(&damaged), "binary");
        assert_eq!(
            detect_with(b"ab\xC3", true, encoding_rs::WINDOWS_1252),
            Encoding::Utf8
        );
        assert_eq!(
            detect_with(
                &b"\x93\xfa\x96\x7b\x8c\xea\x82\xa0\x82\xa2\n".repeat(3),
                false,
                encoding_rs::SHIFT_JIS
            )
            .name(),
            "Shift_JIS"
        );
    }

    #[test]
    fn labels() {
        assert_eq!(
            Encoding::from_label("latin1", false).map(Encoding::name),
            Some("windows-1252")
        );
        assert_eq!(
            Encoding::from_label("SJIS", false).map(Encoding::name),
            Some("Shift_JIS")
        );
        assert_eq!(Encoding::from_label("utf-8", true), Some(Encoding::Utf8Bom));
        assert_eq!(
            Encoding::from_label("utf-16le", false),
            Some(Encoding::Utf16Le)
        );
        assert_eq!(
            Encoding::from_label("utf-16be", false),
            Some(Encoding::Utf16Be)
        );
        assert_eq!(
            Encoding::from_label("iso-2022-jp", false),
            Some(Encoding::Unsupported("ISO-2022-JP"))
        );
        assert_eq!(Encoding::from_label("klingon", false), None);
        assert_eq!(Encoding::from_label("replacement", false), None);
    }

    #[test]
    fn legacy_units_columns_and_encoding() {
        let sjis = Charset::Legacy(encoding_rs::SHIFT_JIS);
        // "aあb" + a lone lead byte; 0x82 0x62 is "Ｃ" (a trail byte can be ASCII).
        let bytes = b"a\x82\xa0b\x82";
        assert_eq!(sjis.decode_lossy(bytes), ("aあb\u{FFFD}".into(), true));
        assert_eq!(sjis.decode_lossy(b"\x82b"), ("Ｃ".into(), false));
        assert_eq!(sjis.count_columns(bytes, Utf16), 4);
        assert_eq!(sjis.count_columns(bytes, Utf8), 1 + 3 + 1 + 1);
        assert_eq!(sjis.walk_columns(bytes, 2, Utf16), Walk::At(3));
        assert_eq!(sjis.walk_columns(bytes, 2, Utf8), Walk::InsideChar);
        assert_eq!(sjis.floor_boundary(bytes, 2), 1);
        assert_eq!(sjis.encode("aあ"), Ok(b"a\x82\xa0".to_vec()));
        assert_eq!(sjis.encode("a€"), Err('€'));
        let w = Charset::Legacy(encoding_rs::WINDOWS_1252);
        assert_eq!(w.decode_lossy(b"caf\xe9 \x80"), ("café €".into(), false));
        assert_eq!(w.encode("é🦀"), Err('🦀'));
        assert_eq!(w.count_columns(b"\xe9", Utf8), 2);
        assert_eq!(w.floor_boundary(b"abc", 2), 2);
    }

    #[test]
    fn utf16_units_columns_boundaries_and_encoding() {
        // "a", U+0A0D (its LE bytes `0D 0A` look like CRLF), a crab (a surrogate pair), a lone
        // high surrogate, "b", an odd last byte.
        let units: [u16; 6] = [0x61, 0x0A0D, 0xD83E, 0xDD80, 0xD800, 0x62];
        for (cs, be) in [(Charset::Utf16Le, false), (Charset::Utf16Be, true)] {
            let mut bytes: Vec<u8> = units
                .iter()
                .flat_map(|u| if be { u.to_be_bytes() } else { u.to_le_bytes() })
                .collect();
            bytes.push(0x41);
            assert_eq!(
                cs.decode_lossy(&bytes),
                ("a\u{A0D}🦀\u{FFFD}b\u{FFFD}".into(), true)
            );
            assert_eq!(cs.decode_lossy(&bytes[..8]), ("a\u{A0D}🦀".into(), false));
            assert_eq!(cs.count_columns(&bytes, Utf16), 1 + 1 + 2 + 1 + 1 + 1);
            assert_eq!(cs.count_columns(&bytes, Utf32), 6);
            // (An invalid unit is one column in every position encoding.)
            assert_eq!(cs.count_columns(&bytes, Utf8), 1 + 3 + 4 + 1 + 1 + 1);
            assert_eq!(cs.walk_columns(&bytes, 2, Utf16), Walk::At(4));
            assert_eq!(cs.walk_columns(&bytes, 3, Utf16), Walk::InsideChar);
            assert_eq!(cs.walk_columns(&bytes, 4, Utf16), Walk::At(8));
            assert_eq!(cs.walk_columns(&bytes, 99, Utf32), Walk::Short(93));
            assert_eq!(cs.floor_boundary(&bytes, 1), 0);
            assert_eq!(cs.floor_boundary(&bytes, 6), 4);
            assert_eq!(cs.floor_boundary(&bytes, 8), 8);
            assert_eq!(cs.context_before(), None);
            assert_eq!(cs.encode("a\u{A0D}🦀"), Ok(bytes[..8].to_vec()));
            let text = "héllo, wörld 🦀 \u{10A}\u{A00}\r\n";
            let encoded = cs.encode(text).unwrap_or_default();
            assert_eq!(cs.decode_lossy(&encoded), (text.to_owned(), false));
        }
        assert_eq!(Encoding::Utf16Le.newlines(), Newlines::Utf16Le);
        assert_eq!(Encoding::Utf16Be.newlines(), Newlines::Utf16Be);
        assert_eq!(Encoding::Utf8.newlines(), Newlines::Byte);
        assert!(Encoding::Utf16Le.is_supported());
    }
}
