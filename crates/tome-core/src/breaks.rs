//! Line-break accounting shared by the line index, the piece tree and the readers.
//!
//! Tome recognises three line breaks: LF, CRLF and a lone CR. Two counting rules are used, and
//! keeping them apart is what makes CRLF split across pieces come out right:
//!
//! * **Standalone** (used for summaries of a run of bytes, [`Info`]): every CR counts, and an LF
//!   counts unless the byte before it is a CR. A prefix that ends between CR and LF therefore
//!   already counts that break; [`Info::concat`] keeps the rule associative by remembering
//!   whether a run starts with LF and ends with CR.
//! * **Global** (used by the line index over the original file): a break is counted at its last
//!   byte: every LF counts, and a CR counts unless the next byte of the file is an LF.
//!
//! Both rules give the same total over a whole text.

/// A summary of a run of bytes: its length and its line breaks under the standalone rule.
///
/// `known` is false for a run of the original file that the background line index has not
/// reached yet; `breaks` is then only a lower bound (zero).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Info {
    pub bytes: usize,
    pub breaks: usize,
    pub first_lf: bool,
    pub last_cr: bool,
    pub known: bool,
}

impl Info {
    /// The summary of nothing.
    pub const EMPTY: Info = Info {
        bytes: 0,
        breaks: 0,
        first_lf: false,
        last_cr: false,
        known: true,
    };

    /// Summarises `bytes`. Cost: O(n), two SIMD passes.
    pub fn of(bytes: &[u8]) -> Info {
        Info {
            bytes: bytes.len(),
            breaks: count_standalone(bytes),
            first_lf: bytes.first() == Some(&b'\n'),
            last_cr: bytes.last() == Some(&b'\r'),
            known: true,
        }
    }

    /// The summary of `self` followed by `next`.
    pub fn concat(self, next: Info) -> Info {
        if self.bytes == 0 {
            return Info {
                known: self.known && next.known,
                ..next
            };
        }
        if next.bytes == 0 {
            return Info {
                known: self.known && next.known,
                ..self
            };
        }
        let joined = usize::from(self.last_cr && next.first_lf);
        Info {
            bytes: self.bytes + next.bytes,
            breaks: self.breaks + next.breaks - joined,
            first_lf: self.first_lf,
            last_cr: next.last_cr,
            known: self.known && next.known,
        }
    }
}

/// Breaks in `bytes` under the standalone rule.
pub(crate) fn count_standalone(bytes: &[u8]) -> usize {
    let lf = bytecount::count(bytes, b'\n');
    let cr = bytecount::count(bytes, b'\r');
    if cr == 0 {
        return lf;
    }
    lf + cr - crlf_pairs(bytes)
}

/// Breaks in `bytes` under the global rule; `next` is the byte that follows the slice in the
/// file, if any.
pub(crate) fn count_global(bytes: &[u8], next: Option<u8>) -> usize {
    let lf = bytecount::count(bytes, b'\n');
    let cr = bytecount::count(bytes, b'\r');
    if cr == 0 {
        return lf;
    }
    let split_pair = usize::from(bytes.last() == Some(&b'\r') && next == Some(b'\n'));
    lf + cr - crlf_pairs(bytes) - split_pair
}

fn crlf_pairs(bytes: &[u8]) -> usize {
    memchr::memmem::find_iter(bytes, b"\r\n").count()
}

/// Position of the last byte of the `n`-th (1-based) break in `bytes` under the global rule, or
/// `None` if there are fewer.
pub(crate) fn nth_global(bytes: &[u8], next: Option<u8>, n: usize) -> Option<usize> {
    debug_assert!(n >= 1);
    let mut seen = 0;
    for p in memchr::memchr2_iter(b'\n', b'\r', bytes) {
        let counts = bytes[p] == b'\n' || bytes.get(p + 1).copied().or(next) != Some(b'\n');
        if counts {
            seen += 1;
            if seen == n {
                return Some(p);
            }
        }
    }
    None
}

/// The smallest `y` such that `bytes[..y]` holds `n` (1-based) breaks under the standalone rule,
/// where `prev_cr` says whether the byte before the slice is a CR (so a leading LF completes
/// that CR's break rather than starting a new one).
pub(crate) fn nth_standalone_end(bytes: &[u8], prev_cr: bool, n: usize) -> Option<usize> {
    debug_assert!(n >= 1);
    let mut seen = 0;
    for p in memchr::memchr2_iter(b'\n', b'\r', bytes) {
        let after_cr = if p == 0 {
            prev_cr
        } else {
            bytes[p - 1] == b'\r'
        };
        let counts = bytes[p] == b'\r' || !after_cr;
        if counts {
            seen += 1;
            if seen == n {
                return Some(p + 1);
            }
        }
    }
    None
}

/// Length of the line break that starts at `bytes[0]`, if one does (1 for LF or lone CR, 2 for
/// CRLF); `next` is the byte after the slice.
pub(crate) fn break_len_at(bytes: &[u8], next: Option<u8>) -> usize {
    match bytes.first() {
        Some(b'\n') => 1,
        Some(b'\r') if bytes.get(1).copied().or(next) == Some(b'\n') => 2,
        Some(b'\r') => 1,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standalone_and_global_agree_on_whole_texts() {
        for text in [
            &b""[..],
            b"a",
            b"a\nb",
            b"a\r\nb\r\n",
            b"\r\r\n\n\r",
            b"x\ry\r",
        ] {
            assert_eq!(count_standalone(text), count_global(text, None), "{text:?}");
        }
    }

    #[test]
    fn concat_joins_split_crlf() {
        let whole = Info::of(b"ab\r\ncd");
        let split = Info::of(b"ab\r").concat(Info::of(b"\ncd"));
        assert_eq!(whole, split);
        assert_eq!(whole.breaks, 1);
    }

    #[test]
    fn nth_helpers() {
        let t = b"a\r\nb\rc\nd";
        assert_eq!(nth_global(t, None, 1), Some(2));
        assert_eq!(nth_global(t, None, 2), Some(4));
        assert_eq!(nth_global(t, None, 3), Some(6));
        assert_eq!(nth_global(t, None, 4), None);
        assert_eq!(nth_global(b"a\r", Some(b'\n'), 1), None);
        assert_eq!(nth_standalone_end(t, false, 1), Some(2));
        assert_eq!(nth_standalone_end(t, false, 2), Some(5));
        assert_eq!(nth_standalone_end(b"\nx\n", true, 1), Some(3));
    }
}
