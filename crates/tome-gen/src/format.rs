//! Formatting without `format!`: padded tokens copied with one fixed-size move, a write
//! cursor over a buffer with slack ([`Out`]), decimal and hex digits from tables, and dates.
//!
//! Invariant: the buffer behind an [`Out`] has at least 16 bytes of slack past the end of the
//! line being written (the fixed-size copies may write past the logical end).

/// A short token stored zero-padded to 16 bytes, so that it can be copied
/// with one fixed-size (inlined) 16-byte move.
#[derive(Clone, Copy)]
pub(crate) struct Tok {
    pub(crate) bytes: [u8; 16],
    pub(crate) len: u8,
}

pub(crate) const fn toks<const N: usize>(src: [&[u8]; N]) -> [Tok; N] {
    let mut out = [Tok {
        bytes: [0; 16],
        len: 0,
    }; N];
    let mut i = 0;
    while i < N {
        let s = src[i];
        assert!(s.len() <= 16);
        let mut j = 0;
        while j < s.len() {
            out[i].bytes[j] = s[j];
            j += 1;
        }
        out[i].len = s.len() as u8;
        i += 1;
    }
    out
}

/// Write cursor over a buffer with enough slack for one line: the fixed-size
/// copies below may write up to 16 bytes past the logical end; those bytes
/// are overwritten by what follows or lie beyond the valid length.
pub(crate) struct Out<'b> {
    pub(crate) buf: &'b mut [u8],
    pub(crate) pos: usize,
}

impl Out<'_> {
    #[inline(always)]
    pub(crate) fn lit<const N: usize>(&mut self, s: &[u8; N]) {
        self.buf[self.pos..self.pos + N].copy_from_slice(s);
        self.pos += N;
    }

    #[inline(always)]
    pub(crate) fn byte(&mut self, b: u8) {
        self.buf[self.pos] = b;
        self.pos += 1;
    }

    #[inline(always)]
    pub(crate) fn tok(&mut self, t: &Tok) {
        self.buf[self.pos..self.pos + 16].copy_from_slice(&t.bytes);
        self.pos += t.len as usize;
    }

    #[inline]
    pub(crate) fn bytes(&mut self, s: &[u8]) {
        self.buf[self.pos..self.pos + s.len()].copy_from_slice(s);
        self.pos += s.len();
    }

    /// Decimal representation of `n`.
    #[inline(always)]
    pub(crate) fn dec(&mut self, mut n: u64) {
        let len = n.checked_ilog10().unwrap_or(0) as usize + 1;
        let d = &mut self.buf[self.pos..self.pos + len];
        let mut i = len;
        while n >= 100 {
            let k = (n % 100) as usize * 2;
            n /= 100;
            i -= 2;
            d[i] = DIGITS2[k];
            d[i + 1] = DIGITS2[k + 1];
        }
        if n >= 10 {
            let k = n as usize * 2;
            d[0] = DIGITS2[k];
            d[1] = DIGITS2[k + 1];
        } else {
            d[0] = b'0' + n as u8;
        }
        self.pos += len;
    }

    /// `v` as 8 lowercase hex digits.
    #[inline]
    pub(crate) fn hex8(&mut self, v: u32) {
        let d = &mut self.buf[self.pos..self.pos + 8];
        for (k, b) in v.to_be_bytes().into_iter().enumerate() {
            d[2 * k] = HEX2[2 * b as usize];
            d[2 * k + 1] = HEX2[2 * b as usize + 1];
        }
        self.pos += 8;
    }
}

/// "00".."99" as pairs of ASCII digits.
pub(crate) const DIGITS2: [u8; 200] = {
    let mut t = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        t[2 * i] = b'0' + (i / 10) as u8;
        t[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    t
};

/// "00".."ff" as pairs of lowercase hex digits.
pub(crate) const HEX2: [u8; 512] = {
    let hex = b"0123456789abcdef";
    let mut t = [0u8; 512];
    let mut i = 0;
    while i < 256 {
        t[2 * i] = hex[i >> 4];
        t[2 * i + 1] = hex[i & 15];
        i += 1;
    }
    t
};

/// Writes `v` (< 100) as two digits.
#[inline(always)]
pub(crate) fn put2(dst: &mut [u8], v: u32) {
    let i = v as usize * 2;
    dst[0] = DIGITS2[i];
    dst[1] = DIGITS2[i + 1];
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant).
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`]: (year, month, day).
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `YYYY-MM-DDT` for a day number (years 0..=9999).
pub(crate) fn date_prefix(day: i64) -> [u8; 11] {
    let (y, m, d) = civil_from_days(day);
    let y = y.clamp(0, 9999) as u32;
    let mut out = [0u8; 11];
    put2(&mut out[0..2], y / 100);
    put2(&mut out[2..4], y % 100);
    out[4] = b'-';
    put2(&mut out[5..7], m);
    out[7] = b'-';
    put2(&mut out[8..10], d);
    out[10] = b'T';
    out
}
