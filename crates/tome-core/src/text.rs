//! UTF-8 helpers: lossy decoding that keeps one replacement character per invalid byte (so
//! positions still map one-to-one onto the real bytes), column units in the three LSP position
//! encodings, and snapping to character boundaries.

/// How a client counts columns: the three position encodings of LSP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PositionEncoding {
    /// Bytes of UTF-8.
    Utf8,
    /// UTF-16 code units (LSP's default).
    #[default]
    Utf16,
    /// Unicode code points.
    Utf32,
}

impl PositionEncoding {
    /// The LSP name: `utf-8`, `utf-16` or `utf-32`.
    pub fn name(self) -> &'static str {
        match self {
            PositionEncoding::Utf8 => "utf-8",
            PositionEncoding::Utf16 => "utf-16",
            PositionEncoding::Utf32 => "utf-32",
        }
    }

    /// Parses an LSP name.
    pub fn from_name(name: &str) -> Option<PositionEncoding> {
        match name {
            "utf-8" => Some(PositionEncoding::Utf8),
            "utf-16" => Some(PositionEncoding::Utf16),
            "utf-32" => Some(PositionEncoding::Utf32),
            _ => None,
        }
    }
}

/// One unit of text as columns see it: a valid character, or one invalid byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unit {
    /// Bytes it takes in the file.
    pub bytes: usize,
    /// Whether it is a valid character (else one invalid byte, shown as U+FFFD).
    pub valid: bool,
    /// Bytes of its UTF-8 text (equal to `bytes` in a UTF-8 file; 3 for an invalid byte).
    pub text: usize,
    /// UTF-16 units of its text.
    pub wide: usize,
    /// Code points of its text (1 but for a few legacy sequences that decode to two).
    pub chars: usize,
}

impl Unit {
    /// Columns this unit takes in `enc`. An invalid byte counts as one column in every encoding
    /// (it is shown as one U+FFFD, and for UTF-8 positions address real bytes).
    ///
    /// A valid character takes the units of its *decoded* text: in a UTF-8 file its bytes,
    /// in another encoding the UTF-8 bytes, UTF-16 units or code points the client sees.
    pub fn columns(self, enc: PositionEncoding) -> usize {
        match (enc, self.valid) {
            (_, false) => 1,
            (PositionEncoding::Utf8, true) => self.text,
            (PositionEncoding::Utf16, true) => self.wide,
            (PositionEncoding::Utf32, true) => self.chars,
        }
    }

    /// One invalid byte.
    pub(crate) fn invalid() -> Unit {
        Unit {
            bytes: 1,
            valid: false,
            text: 3,
            wide: 1,
            chars: 1,
        }
    }
}

/// The unit starting at `bytes[0]` (non-empty input); a character cut by the end of `bytes` is
/// taken as invalid bytes, so pass at least 4 bytes when more follow. Cost: O(1), it reads at
/// most 4 bytes.
pub fn unit_at(bytes: &[u8]) -> Unit {
    let len = match bytes[0] {
        0x00..=0x7F => 1,
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return Unit::invalid(),
    };
    let valid = bytes.len() >= len && std::str::from_utf8(&bytes[..len]).is_ok();
    if !valid {
        return Unit::invalid();
    }
    Unit {
        bytes: len,
        valid,
        text: len,
        wide: if len == 4 { 2 } else { 1 },
        chars: 1,
    }
}

/// Decodes `bytes`, replacing each invalid byte by U+FFFD. Returns the text and whether anything
/// was replaced. Cost: O(n), one validation pass for valid input.
///
/// This is the one rule by which Tome turns a document's bytes into text (viewport lines,
/// `tome/getText`): one U+FFFD per invalid byte, never one per invalid sequence as
/// `String::from_utf8_lossy` does, so what is copied matches what is shown, column for column.
pub fn decode_lossy(bytes: &[u8]) -> (String, bool) {
    if let Ok(s) = std::str::from_utf8(bytes) {
        return (s.to_owned(), false);
    }
    let mut out = String::with_capacity(bytes.len() + 16);
    let mut rest = bytes;
    while !rest.is_empty() {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                out.push_str(s);
                break;
            }
            Err(e) => {
                let (good, bad) = rest.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(good).unwrap_or_default());
                let skip = e.error_len().unwrap_or(bad.len()).max(1);
                for _ in 0..skip {
                    out.push('\u{FFFD}');
                }
                rest = &bad[skip..];
            }
        }
    }
    (out, true)
}

/// [`decode_lossy`] of bytes the caller owns: valid UTF-8 (the usual case) becomes the text
/// without a copy. Cost: O(n).
pub fn decode_lossy_owned(bytes: Vec<u8>) -> (String, bool) {
    match String::from_utf8(bytes) {
        Ok(text) => (text, false),
        Err(e) => decode_lossy(e.as_bytes()),
    }
}

/// Counts the columns of `bytes` in `enc`. Cost: O(n), ASCII runs at memory speed.
pub fn count_columns(bytes: &[u8], enc: PositionEncoding) -> usize {
    if enc == PositionEncoding::Utf8 {
        return bytes.len();
    }
    let mut cols = 0;
    let mut i = 0;
    while i < bytes.len() {
        let ascii = bytes[i..].iter().take_while(|b| b.is_ascii()).count();
        cols += ascii;
        i += ascii;
        if i < bytes.len() {
            let u = unit_at(&bytes[i..]);
            cols += u.columns(enc);
            i += u.bytes;
        }
    }
    cols
}

/// Outcome of walking `cols` columns into a text.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Walk {
    /// The column is at this byte offset.
    At(usize),
    /// The column falls inside a character (a UTF-16 surrogate pair, or a byte inside a UTF-8
    /// sequence).
    InsideChar,
    /// The text is shorter; this many columns remain.
    Short(usize),
}

/// Walks `cols` columns into `bytes`.
pub(crate) fn walk_columns(bytes: &[u8], cols: usize, enc: PositionEncoding) -> Walk {
    let mut left = cols;
    let mut i = 0;
    while left > 0 {
        if i >= bytes.len() {
            return Walk::Short(left);
        }
        let u = unit_at(&bytes[i..]);
        let c = u.columns(enc);
        if c > left {
            return Walk::InsideChar;
        }
        left -= c;
        i += u.bytes;
    }
    Walk::At(i)
}

/// Moves `at` back to the start of the character holding it (at most 3 bytes back).
pub(crate) fn floor_boundary(bytes: &[u8], at: usize) -> usize {
    let lo = at.saturating_sub(3);
    for start in (lo..=at.min(bytes.len())).rev() {
        if start == at || start >= bytes.len() {
            continue;
        }
        let u = unit_at(&bytes[start..]);
        if u.valid && start + u.bytes > at {
            return start;
        }
    }
    at
}

/// True if `at` is where a character starts (or the end of `bytes`), counting as characters the
/// valid UTF-8 sequences and each invalid byte on its own, the way Tome shows text. Looks at
/// most 3 bytes back, so `bytes` needs no more context than that; a character cut by the end of
/// `bytes` is taken as invalid bytes. O(1).
pub(crate) fn is_char_boundary(bytes: &[u8], at: usize) -> bool {
    floor_boundary(bytes, at) == at
}

/// The first character boundary after `at` (see [`is_char_boundary`]); `at + 1` at or past the
/// end of `bytes`. O(1).
pub(crate) fn next_char_boundary(bytes: &[u8], at: usize) -> usize {
    if at >= bytes.len() {
        return at + 1;
    }
    let start = floor_boundary(bytes, at);
    start + unit_at(&bytes[start..]).bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use PositionEncoding::*;

    #[test]
    fn lossy_keeps_one_replacement_per_byte() {
        assert_eq!(
            decode_lossy(b"a\xE2\x82b"),
            ("a\u{FFFD}\u{FFFD}b".into(), true)
        );
        assert_eq!(decode_lossy("é".as_bytes()), ("é".into(), false));
        assert_eq!(decode_lossy(b"\xFF"), ("\u{FFFD}".into(), true));
        assert_eq!(
            decode_lossy_owned(b"a\xE2\x82b\xF0\x9F\x98".to_vec()),
            ("a\u{FFFD}\u{FFFD}b\u{FFFD}\u{FFFD}\u{FFFD}".into(), true)
        );
        assert_eq!(decode_lossy_owned("é".into()), ("é".into(), false));
    }

    #[test]
    fn columns_in_three_encodings() {
        let s = "aé漢🦀".as_bytes();
        assert_eq!(count_columns(s, Utf8), 10);
        assert_eq!(count_columns(s, Utf16), 5);
        assert_eq!(count_columns(s, Utf32), 4);
        assert_eq!(walk_columns(s, 4, Utf16), Walk::InsideChar);
        assert_eq!(walk_columns(s, 3, Utf16), Walk::At(6));
        assert_eq!(walk_columns(s, 5, Utf16), Walk::At(10));
        assert_eq!(walk_columns(s, 6, Utf16), Walk::Short(1));
        assert_eq!(walk_columns(s, 2, Utf8), Walk::InsideChar);
        assert_eq!(count_columns(b"a\xFFb", Utf16), 3);
    }

    #[test]
    fn boundaries_count_invalid_bytes_as_characters() {
        // é, \xE2, \x82, b, \xFF, 😀
        let s = b"\xC3\xA9\xE2\x82b\xFF\xF0\x9F\x98\x80";
        let starts: Vec<usize> = (0..=s.len()).filter(|&i| is_char_boundary(s, i)).collect();
        assert_eq!(starts, [0, 2, 3, 4, 5, 6, 10]);
        let next: Vec<usize> = (0..=s.len()).map(|i| next_char_boundary(s, i)).collect();
        assert_eq!(next, [2, 2, 3, 4, 5, 6, 10, 10, 10, 10, 11]);
    }

    #[test]
    fn floors_to_char_start() {
        let s = "a漢b".as_bytes();
        assert_eq!(floor_boundary(s, 2), 1);
        assert_eq!(floor_boundary(s, 3), 1);
        assert_eq!(floor_boundary(s, 4), 4);
        assert_eq!(floor_boundary(s, 1), 1);
    }
}
