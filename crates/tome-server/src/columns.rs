//! Column windows over lines that may be far too long to copy: walks a line block by block, so
//! that a window far into a line of a gigabyte never copies the line whole.
//!
//! The column rules are the engine's ([`tome_core::unit_at`], [`tome_core::Unit::columns`]): a
//! valid character takes 1 column (2 in UTF-16 for characters outside the BMP, its byte length
//! in UTF-8), and each invalid byte takes exactly 1 column in every encoding (it is shown as one
//! U+FFFD). The engine's own walks take the whole text as one slice; this one reads blocks.

use tome_core::{unit_at, Charset, PositionEncoding};

/// Bytes read at a time while walking a line.
const BLOCK: usize = 64 * 1024;
/// The longest UTF-8 character, in bytes.
const MAX_CHAR: usize = 4;

/// Walks at most `cols` columns into the `len` bytes that `fetch(start, end)` returns, never
/// stopping inside a character (a column inside one is floored to the character's start).
/// Returns `(bytes walked, columns walked)`.
///
/// In an encoding other than UTF-8 (`cs`), the columns are those of the decoded text and
/// the walk starts at a character boundary (`fetch(0, _)` starts one: a line start, or where
/// an earlier walk stopped).
pub fn walk(
    mut fetch: impl FnMut(usize, usize) -> Vec<u8>,
    len: usize,
    cols: usize,
    enc: PositionEncoding,
    cs: Charset,
) -> (usize, usize) {
    let (mut pos, mut acc) = (0usize, 0usize);
    while pos < len && acc < cols {
        let end = len.min(pos + BLOCK);
        let block = fetch(pos, end);
        if block.is_empty() {
            break;
        }
        let last = end == len;
        let mut i = 0;
        // (ASCII bytes are one column each, but not in UTF-16, where a zero byte is half of
        // a character; blocks of UTF-16 start at even offsets, and so at unit boundaries.)
        let ascii_compatible = !cs.is_utf16();
        while i < block.len() && acc < cols {
            let ascii = if ascii_compatible {
                block[i..].iter().take_while(|b| b.is_ascii()).count()
            } else {
                0
            };
            if ascii > 0 {
                let take = ascii.min(cols - acc);
                acc += take;
                i += take;
                continue;
            }
            // A character the block cuts is read whole from the next block (refetched from
            // here); only the end of the line makes a cut sequence invalid bytes. `i > 0`: a
            // block holds more than MAX_CHAR bytes, but never loop forever.
            if !last && i > 0 && block.len() - i < MAX_CHAR {
                break;
            }
            let unit = if cs.is_utf8() {
                unit_at(&block[i..])
            } else {
                cs.unit_at(&block[i..])
            };
            let c = unit.columns(enc);
            if acc + c > cols {
                return (pos + i, acc);
            }
            acc += c;
            i += unit.bytes;
        }
        pos += i;
    }
    (pos, acc)
}

/// Columns of the `len` bytes that `fetch` returns.
pub fn count(
    fetch: impl FnMut(usize, usize) -> Vec<u8>,
    len: usize,
    enc: PositionEncoding,
    cs: Charset,
) -> usize {
    walk(fetch, len, usize::MAX, enc, cs).1
}

#[cfg(test)]
mod tests {
    use super::*;
    use PositionEncoding::*;

    fn on(bytes: &[u8]) -> impl FnMut(usize, usize) -> Vec<u8> + '_ {
        move |s, e| bytes[s..e].to_vec()
    }

    #[test]
    fn counts_like_the_engine() {
        let s = "aé漢🦀".as_bytes();
        assert_eq!(count(on(s), s.len(), Utf8, Charset::Utf8), 10);
        assert_eq!(count(on(s), s.len(), Utf16, Charset::Utf8), 5);
        assert_eq!(count(on(s), s.len(), Utf32, Charset::Utf8), 4);
        let bad = b"a\xE2\x82b\xFF";
        assert_eq!(count(on(bad), bad.len(), Utf16, Charset::Utf8), 5);
        assert_eq!(count(on(bad), bad.len(), Utf8, Charset::Utf8), 5);
    }

    #[test]
    fn walks_and_floors_inside_characters() {
        let s = "aé漢🦀x".as_bytes();
        assert_eq!(walk(on(s), s.len(), 3, Utf16, Charset::Utf8), (6, 3));
        assert_eq!(walk(on(s), s.len(), 4, Utf16, Charset::Utf8), (6, 3)); // inside the surrogate pair
        assert_eq!(walk(on(s), s.len(), 5, Utf16, Charset::Utf8), (10, 5));
        assert_eq!(walk(on(s), s.len(), 2, Utf8, Charset::Utf8), (1, 1)); // inside é
        assert_eq!(walk(on(s), s.len(), 99, Utf32, Charset::Utf8), (11, 5));
    }

    /// The block walk counts as the engine does on the whole slice, wherever a block boundary
    /// cuts a character, a truncated sequence or a run of invalid bytes (the server's own copy
    /// of the rules, replaced by the engine's, handled cut characters separately).
    #[test]
    fn counts_as_the_engine_across_block_boundaries() {
        let tails: [&[u8]; 10] = [
            "漢".as_bytes(),
            "🦀".as_bytes(),
            "é".as_bytes(),
            b"\xE2\x82",
            b"\xF0\x9F\x98",
            b"\xE0\x80\x80",
            b"\xED\xA0\x80",
            b"\xF4\x90\x80\x80",
            b"\xC0\xAF",
            b"\xFF\xFE\x80",
        ];
        for tail in tails {
            for cut in 0..=MAX_CHAR + 1 {
                for after in [&b""[..], b"x", "漢".as_bytes(), b"\x80\x80"] {
                    let mut s = vec![b'a'; BLOCK - cut];
                    s.extend_from_slice(tail);
                    s.extend_from_slice(after);
                    for enc in [Utf8, Utf16, Utf32] {
                        let want = tome_core::count_columns(&s, enc);
                        assert_eq!(
                            count(on(&s), s.len(), enc, Charset::Utf8),
                            want,
                            "{tail:?} {cut} {enc:?}"
                        );
                        let (bytes, cols) = walk(on(&s), s.len(), usize::MAX, enc, Charset::Utf8);
                        assert_eq!((bytes, cols), (s.len(), want));
                    }
                }
            }
        }
    }

    #[test]
    fn characters_across_blocks() {
        let mut s = vec![b'a'; BLOCK - 1];
        s.extend_from_slice("漢".as_bytes());
        s.extend_from_slice(b"\xE2\x82");
        assert_eq!(
            count(on(&s), s.len(), Utf16, Charset::Utf8),
            BLOCK - 1 + 1 + 2
        );
        assert_eq!(
            walk(on(&s), s.len(), BLOCK, Utf32, Charset::Utf8),
            (BLOCK + 2, BLOCK)
        );
    }

    #[test]
    fn utf16_columns_count_code_units_not_bytes() {
        let s = "ab🦀\u{A0D}c";
        let le: Vec<u8> = s.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let cs = Charset::Utf16Le;
        assert_eq!(count(on(&le), le.len(), Utf16, cs), 6);
        assert_eq!(count(on(&le), le.len(), Utf32, cs), 5);
        assert_eq!(count(on(&le), le.len(), Utf8, cs), 1 + 1 + 4 + 3 + 1);
        assert_eq!(walk(on(&le), le.len(), 2, Utf16, cs), (4, 2));
        assert_eq!(walk(on(&le), le.len(), 3, Utf16, cs), (4, 2)); // inside the pair
        assert_eq!(walk(on(&le), le.len(), 4, Utf16, cs), (8, 4));
    }
}
