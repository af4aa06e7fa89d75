//! Column arithmetic for viewport windows, with the engine's rules: a valid character takes
//! 1 column (2 in UTF-16 for characters outside the BMP, its byte length in UTF-8), and each
//! invalid byte takes exactly 1 column in every encoding (it is shown as one U+FFFD).
//!
//! The engine's own helpers for this are private, and the engine's column window counts bytes,
//! so the server walks lines itself. It reads lines in blocks, so that a window far into a
//! line of a gigabyte never copies the line whole.

use tome_core::PositionEncoding;

/// Bytes read at a time while walking a line.
const BLOCK: usize = 64 * 1024;

/// Byte length and validity of the unit at `bytes[0]`; `None` if `bytes` ends inside what may
/// still become a valid character (more bytes are needed to decide).
fn unit_at(bytes: &[u8]) -> Option<(usize, bool)> {
    let len = match bytes[0] {
        0x00..=0x7F => return Some((1, true)),
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return Some((1, false)),
    };
    if bytes.len() < len {
        // Incomplete so far: invalid already if what is there cannot start a character.
        return match std::str::from_utf8(bytes) {
            Err(e) if e.error_len().is_some() => Some((1, false)),
            _ => None,
        };
    }
    if std::str::from_utf8(&bytes[..len]).is_ok() {
        Some((len, true))
    } else {
        Some((1, false))
    }
}

fn columns(bytes: usize, valid: bool, enc: PositionEncoding) -> usize {
    match (enc, valid) {
        (PositionEncoding::Utf8, _) => bytes,
        (_, false) => 1,
        (PositionEncoding::Utf16, true) if bytes == 4 => 2,
        _ => 1,
    }
}

/// Walks at most `cols` columns into the `len` bytes that `fetch(start, end)` returns, never
/// stopping inside a character (a column inside one is floored to the character's start).
/// Returns `(bytes walked, columns walked)`.
pub fn walk(
    mut fetch: impl FnMut(usize, usize) -> Vec<u8>,
    len: usize,
    cols: usize,
    enc: PositionEncoding,
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
        while i < block.len() && acc < cols {
            let ascii = block[i..].iter().take_while(|b| b.is_ascii()).count();
            if ascii > 0 {
                let take = ascii.min(cols - acc);
                acc += take;
                i += take;
                continue;
            }
            let (bytes, valid) = match unit_at(&block[i..]) {
                Some(u) => u,
                None if last => (1, false),
                None if i == 0 => {
                    // Cannot happen with BLOCK > 4, but never loop forever.
                    (1, false)
                }
                None => break, // refetch from here so the character is whole
            };
            let c = columns(bytes, valid, enc);
            if acc + c > cols {
                return (pos + i, acc);
            }
            acc += c;
            i += bytes;
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
) -> usize {
    walk(fetch, len, usize::MAX, enc).1
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
        assert_eq!(count(on(s), s.len(), Utf8), 10);
        assert_eq!(count(on(s), s.len(), Utf16), 5);
        assert_eq!(count(on(s), s.len(), Utf32), 4);
        let bad = b"a\xE2\x82b\xFF";
        assert_eq!(count(on(bad), bad.len(), Utf16), 5);
        assert_eq!(count(on(bad), bad.len(), Utf8), 5);
    }

    #[test]
    fn walks_and_floors_inside_characters() {
        let s = "aé漢🦀x".as_bytes();
        assert_eq!(walk(on(s), s.len(), 3, Utf16), (6, 3));
        assert_eq!(walk(on(s), s.len(), 4, Utf16), (6, 3)); // inside the surrogate pair
        assert_eq!(walk(on(s), s.len(), 5, Utf16), (10, 5));
        assert_eq!(walk(on(s), s.len(), 2, Utf8), (1, 1)); // inside é
        assert_eq!(walk(on(s), s.len(), 99, Utf32), (11, 5));
    }

    #[test]
    fn characters_across_blocks() {
        let mut s = vec![b'a'; BLOCK - 1];
        s.extend_from_slice("漢".as_bytes());
        s.extend_from_slice(b"\xE2\x82");
        assert_eq!(count(on(&s), s.len(), Utf16), BLOCK - 1 + 1 + 2);
        assert_eq!(walk(on(&s), s.len(), BLOCK, Utf32), (BLOCK + 2, BLOCK));
    }
}
