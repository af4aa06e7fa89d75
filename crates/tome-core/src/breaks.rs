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
//!
//! # Which bytes are a break: [`Newlines`]
//!
//! The free functions below are the rules for files whose breaks are the bytes 0x0A / 0x0D
//! (UTF-8 and every ASCII-compatible encoding). A UTF-16 file's breaks are the *code units*
//! U+000A / U+000D: `0A 00` / `0D 00` (LE) or `00 0A` / `00 0D` (BE) at an even offset from
//! the file's start, never a 0x0A byte that is half of another character (U+0A0D is `0D 0A` in
//! LE). [`Newlines`] names the rule; its methods are the same counts for either, and every
//! slice they are given must start at a unit boundary (an even file offset for UTF-16: the line
//! index's blocks are, and so is every piece of a UTF-16 document, whose edits are whole
//! units at unit boundaries). The UTF-16 rule finds candidates with `memchr` (0x0A / 0x0D
//! bytes) and keeps those at the right parity with a zero partner byte.

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

/// Which units of a document's bytes are line breaks (see the module's documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
pub enum Newlines {
    /// The bytes 0x0A (LF) and 0x0D (CR): UTF-8 and ASCII-compatible encodings.
    #[default]
    Byte,
    /// The UTF-16LE units `0A 00` and `0D 00` at even offsets.
    Utf16Le,
    /// The UTF-16BE units `00 0A` and `00 0D` at even offsets.
    Utf16Be,
}

impl Newlines {
    /// Bytes in one code unit: 1, or 2 for UTF-16. Breaks, edits and line starts are on
    /// multiples of it.
    pub fn unit(self) -> usize {
        match self {
            Newlines::Byte => 1,
            _ => 2,
        }
    }

    /// The code unit (`b'\n'`, `b'\r'` or another: 0) at `bytes[p..]`, `p` a unit boundary.
    /// Cost: O(1).
    #[inline]
    fn unit_at(self, bytes: &[u8], p: usize) -> u8 {
        match self {
            Newlines::Byte => match bytes.get(p) {
                Some(&c @ (b'\n' | b'\r')) => c,
                _ => 0,
            },
            Newlines::Utf16Le => match bytes.get(p..p + 2) {
                Some(&[c @ (b'\n' | b'\r'), 0]) => c,
                _ => 0,
            },
            Newlines::Utf16Be => match bytes.get(p..p + 2) {
                Some(&[0, c @ (b'\n' | b'\r')]) => c,
                _ => 0,
            },
        }
    }

    /// `b'\n'` or `b'\r'` if the unit at the start of `bytes` is that break unit, else 0.
    /// Cost: O(1).
    pub(crate) fn first_unit(self, bytes: &[u8]) -> u8 {
        self.unit_at(bytes, 0)
    }

    /// The break units of `bytes` (starting at a unit boundary), in order: `(offset of the
    /// unit, b'\n' or b'\r')`. Cost: O(n) with SIMD (`memchr2`), plus O(1) per 0x0A/0x0D byte.
    fn breaks(self, bytes: &[u8]) -> impl Iterator<Item = (usize, u8)> + '_ {
        // The position of the 0x0A/0x0D byte within its unit.
        let low = match self {
            Newlines::Byte | Newlines::Utf16Le => 0,
            Newlines::Utf16Be => 1,
        };
        memchr::memchr2_iter(b'\n', b'\r', bytes).filter_map(move |p| {
            let start = p.checked_sub(low)?;
            if start % self.unit() != 0 {
                return None;
            }
            match self.unit_at(bytes, start) {
                0 => None,
                c => Some((start, c)),
            }
        })
    }

    /// The first break unit of `bytes` (a unit boundary): its offset. Cost: O(offset), SIMD.
    pub(crate) fn find(self, bytes: &[u8]) -> Option<usize> {
        match self {
            Newlines::Byte => memchr::memchr2(b'\n', b'\r', bytes),
            _ => self.breaks(bytes).next().map(|(p, _)| p),
        }
    }

    /// The last break unit of `bytes` (which starts at a unit boundary): its offset.
    /// Cost: O(bytes after it), SIMD.
    pub(crate) fn rfind(self, bytes: &[u8]) -> Option<usize> {
        let low = match self {
            Newlines::Byte => return memchr::memrchr2(b'\n', b'\r', bytes),
            Newlines::Utf16Le => 0,
            Newlines::Utf16Be => 1,
        };
        memchr::memchr2_iter(b'\n', b'\r', bytes)
            .rev()
            .find_map(|p| {
                let start = p.checked_sub(low)?;
                (start % 2 == 0 && self.unit_at(bytes, start) != 0).then_some(start)
            })
    }

    /// The unit that follows a slice, from `next`, the bytes after it (if any).
    fn next_unit(self, next: &[u8]) -> u8 {
        self.unit_at(next, 0)
    }

    /// [`Info::of`] under this rule. Cost: O(n).
    pub(crate) fn info(self, bytes: &[u8]) -> Info {
        if self == Newlines::Byte {
            return Info::of(bytes);
        }
        let u = self.unit();
        let last = bytes.len().saturating_sub(u) / u * u;
        Info {
            bytes: bytes.len(),
            breaks: self.count_standalone(bytes),
            first_lf: self.unit_at(bytes, 0) == b'\n',
            last_cr: bytes.len() >= u && self.unit_at(bytes, last) == b'\r',
            known: true,
        }
    }

    /// [`count_standalone`] under this rule. Cost: O(n).
    pub(crate) fn count_standalone(self, bytes: &[u8]) -> usize {
        if self == Newlines::Byte {
            return count_standalone(bytes);
        }
        let u = self.unit();
        self.breaks(bytes)
            .filter(|&(p, c)| c == b'\r' || p < u || self.unit_at(bytes, p - u) != b'\r')
            .count()
    }

    /// [`count_global`] under this rule; `next` holds the bytes after the slice in the file
    /// (at least one unit of them when there are any). Cost: O(n).
    pub(crate) fn count_global(self, bytes: &[u8], next: &[u8]) -> usize {
        if self == Newlines::Byte {
            return count_global(bytes, next.first().copied());
        }
        self.global_breaks(bytes, next).count()
    }

    /// The breaks of `bytes` that end a line in the whole file (not the CR of a CRLF), as
    /// `(position, byte)`; `next` holds the bytes after the slice. A UTF-16 rule's only.
    fn global_breaks<'a>(
        self,
        bytes: &'a [u8],
        next: &'a [u8],
    ) -> impl Iterator<Item = (usize, u8)> + 'a {
        let u = self.unit();
        self.breaks(bytes).filter(move |&(p, c)| {
            c == b'\n'
                || if p + 2 * u <= bytes.len() {
                    self.unit_at(bytes, p + u) != b'\n'
                } else {
                    self.next_unit(next) != b'\n'
                }
        })
    }

    /// [`nth_global`] under this rule: the position of the *last byte* of the break's last
    /// unit (so that the line after it starts one byte later). Cost: O(n).
    pub(crate) fn nth_global(self, bytes: &[u8], next: &[u8], n: usize) -> Option<usize> {
        if self == Newlines::Byte {
            return nth_global(bytes, next.first().copied(), n);
        }
        debug_assert!(n >= 1);
        let u = self.unit();
        self.global_breaks(bytes, next)
            .nth(n - 1)
            .map(|(p, _)| p + u - 1)
    }

    /// [`nth_standalone_end`] under this rule. Cost: O(n).
    pub(crate) fn nth_standalone_end(self, bytes: &[u8], prev_cr: bool, n: usize) -> Option<usize> {
        if self == Newlines::Byte {
            return nth_standalone_end(bytes, prev_cr, n);
        }
        debug_assert!(n >= 1);
        let u = self.unit();
        self.breaks(bytes)
            .filter(|&(p, c)| {
                let after_cr = if p < u {
                    prev_cr
                } else {
                    self.unit_at(bytes, p - u) == b'\r'
                };
                c == b'\r' || !after_cr
            })
            .nth(n - 1)
            .map(|(p, _)| p + u)
    }

    /// [`break_len_at`] under this rule (in bytes: 2 or 4 for UTF-16); `next` holds the bytes
    /// after the slice. Cost: O(1).
    pub(crate) fn break_len_at(self, bytes: &[u8], next: &[u8]) -> usize {
        if self == Newlines::Byte {
            return break_len_at(bytes, next.first().copied());
        }
        let u = self.unit();
        match self.unit_at(bytes, 0) {
            b'\n' => u,
            b'\r' => {
                let after = if bytes.len() >= 2 * u {
                    self.unit_at(bytes, u)
                } else {
                    self.next_unit(next)
                };
                if after == b'\n' {
                    2 * u
                } else {
                    u
                }
            }
            _ => 0,
        }
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

    /// UTF-16 text in either byte order, and its break offsets by decoding and splitting.
    fn utf16(text: &[u16], le: bool) -> Vec<u8> {
        text.iter()
            .flat_map(|u| if le { u.to_le_bytes() } else { u.to_be_bytes() })
            .collect()
    }

    /// The oracle, from the decoded units: per break, the unit index after it (global rule:
    /// after its last unit) and after its first unit (standalone rule: a CRLF counts at CR).
    fn oracle_ends(units: &[u16]) -> Vec<(usize, usize)> {
        let mut ends = Vec::new();
        let mut i = 0;
        while i < units.len() {
            match units[i] {
                0x0A => ends.push((i + 1, i + 1)),
                0x0D if units.get(i + 1) == Some(&0x0A) => {
                    ends.push((i + 2, i + 1));
                    i += 1;
                }
                0x0D => ends.push((i + 1, i + 1)),
                _ => {}
            }
            i += 1;
        }
        ends
    }

    #[test]
    fn utf16_breaks_are_units_at_even_offsets() {
        // U+0A0D is `0D 0A` in LE and U+0D0A is `0D 0A` in BE: neither is a break; nor is
        // U+010A (`0A 01`) or U+0A00 (`00 0A` in LE: a 0x0A byte at an odd offset).
        let text: Vec<u16> = vec![0x61, 0x0A0D, 0x0A, 0x010A, 0x0D0A, 0x0A00, 0x0D, 0x0A, 0x62];
        for le in [true, false] {
            let nl = if le {
                Newlines::Utf16Le
            } else {
                Newlines::Utf16Be
            };
            let bytes = utf16(&text, le);
            assert_eq!(nl.count_standalone(&bytes), 2, "le={le}");
            assert_eq!(nl.count_global(&bytes, &[]), 2);
            assert_eq!(nl.nth_global(&bytes, &[], 1), Some(5));
            assert_eq!(nl.nth_global(&bytes, &[], 2), Some(15));
            assert_eq!(nl.nth_standalone_end(&bytes, false, 2), Some(14));
            assert_eq!(nl.break_len_at(&bytes[12..], &[]), 4);
            assert_eq!(nl.break_len_at(&bytes[12..14], &bytes[14..]), 4);
            assert_eq!(nl.break_len_at(&bytes[2..], &[]), 0);
        }
    }

    proptest::proptest! {
        #[test]
        fn utf16_rules_match_decoding_and_splitting(
            text in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::prelude::Just(0x0Au16),
                    proptest::prelude::Just(0x0D),
                    proptest::prelude::Just(0x61),
                    proptest::prelude::Just(0x0A0D),
                    proptest::prelude::Just(0x0D0A),
                    proptest::prelude::Just(0x0A0A),
                    proptest::prelude::Just(0x0A00),
                    proptest::prelude::Just(0xD800),
                    0u16..=0xFFFF,
                ],
                0..60,
            ),
            cut in 0usize..60,
            le in proptest::bool::ANY,
        ) {
            let nl = if le { Newlines::Utf16Le } else { Newlines::Utf16Be };
            let bytes = utf16(&text, le);
            let ends = oracle_ends(&text);
            proptest::prop_assert_eq!(nl.count_standalone(&bytes), ends.len());
            proptest::prop_assert_eq!(nl.count_global(&bytes, &[]), ends.len());
            for (k, &(end, standalone)) in ends.iter().enumerate() {
                proptest::prop_assert_eq!(nl.nth_global(&bytes, &[], k + 1), Some(2 * end - 1));
                proptest::prop_assert_eq!(
                    nl.nth_standalone_end(&bytes, false, k + 1),
                    Some(2 * standalone)
                );
            }
            proptest::prop_assert_eq!(nl.nth_global(&bytes, &[], ends.len() + 1), None);
            // Split at a unit boundary: the standalone summaries concatenate, the global counts
            // of both halves add up.
            let cut = 2 * cut.min(text.len());
            let (a, b) = bytes.split_at(cut);
            proptest::prop_assert_eq!(nl.info(a).concat(nl.info(b)), nl.info(&bytes));
            proptest::prop_assert_eq!(nl.count_global(a, b) + nl.count_global(b, &[]), ends.len());
        }
    }
}
