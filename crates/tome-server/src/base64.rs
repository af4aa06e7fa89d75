//! Base64 (RFC 4648, standard alphabet, with `=` padding): how exact bytes that are not valid
//! UTF-8 travel in JSON (`rawBytes` viewports and getText, `base64` edits). Decoding is strict:
//! a length that is not a multiple of 4, a character outside the alphabet, padding anywhere but
//! at the end, or padded bits that are not zero are refused, so one text has one meaning.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The base64 of `bytes`.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let b = [
            group[0],
            *group.get(1).unwrap_or(&0),
            *group.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= group.len() {
                out.push(char::from(ALPHABET[(n >> shift & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Why a text is not base64.
#[derive(Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The length is not a multiple of 4.
    Length(usize),
    /// A byte outside the alphabet (or padding before the end) at this offset.
    Char(usize),
    /// The bits padding ends with are not zero (not the encoding of any bytes).
    Padding,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::Length(n) => write!(f, "its length ({n}) is not a multiple of 4"),
            DecodeError::Char(at) => write!(f, "it has a character outside base64 at {at}"),
            DecodeError::Padding => write!(f, "its last character before `=` has stray bits"),
        }
    }
}

fn value(c: u8) -> Option<u32> {
    Some(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    } as u32)
}

/// The bytes `text` encodes.
pub fn decode(text: &str) -> Result<Vec<u8>, DecodeError> {
    let s = text.as_bytes();
    if !s.len().is_multiple_of(4) {
        return Err(DecodeError::Length(s.len()));
    }
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    for (g, quad) in s.chunks(4).enumerate() {
        let last = (g + 1) * 4 == s.len();
        let pad = if last {
            quad.iter().rev().take_while(|&&c| c == b'=').count()
        } else {
            0
        };
        if pad > 2 {
            return Err(DecodeError::Char(g * 4 + 4 - pad));
        }
        let mut n = 0u32;
        for (i, &c) in quad[..4 - pad].iter().enumerate() {
            n = n << 6 | value(c).ok_or(DecodeError::Char(g * 4 + i))?;
        }
        n <<= 6 * pad;
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        if pad > 0 && bytes[3 - pad..].iter().any(|&b| b != 0) {
            return Err(DecodeError::Padding);
        }
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_length_and_byte() {
        let all: Vec<u8> = (0..=255u8).collect();
        for len in 0..=all.len() {
            let bytes = &all[..len];
            let text = encode(bytes);
            assert_eq!(text.len() % 4, 0);
            assert_eq!(decode(&text).unwrap(), bytes, "{len}");
        }
    }

    #[test]
    fn matches_rfc_4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, coded) in cases {
            assert_eq!(encode(plain.as_bytes()), coded);
            assert_eq!(decode(coded).unwrap(), plain.as_bytes());
        }
        assert_eq!(encode(b"\xFF\xFE"), "//4=");
    }

    #[test]
    fn refuses_what_is_not_base64() {
        assert_eq!(decode("Zm9"), Err(DecodeError::Length(3)));
        assert_eq!(decode("Zm9v!A=="), Err(DecodeError::Char(4)));
        assert_eq!(decode("Zg==Zm9v"), Err(DecodeError::Char(2)));
        assert_eq!(decode("Z==="), Err(DecodeError::Char(1)));
        assert_eq!(decode("===="), Err(DecodeError::Char(0)));
        assert_eq!(decode("Zh=="), Err(DecodeError::Padding));
        assert_eq!(decode("Zm9v YmFy"), Err(DecodeError::Length(9)));
        assert_eq!(decode("Zm9 "), Err(DecodeError::Char(3)));
    }
}
