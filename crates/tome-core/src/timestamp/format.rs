//! The timestamp formats of log lines and their parsers: fixed-layout byte parsers, one per
//! format, that read a timestamp at the start of a byte slice and give it as milliseconds
//! since the Unix epoch.
//!
//! Why hand parsers and not `jiff`/`chrono`/`time`: every format here has a fixed layout, so
//! a parser is a few dozen byte comparisons with no allocation and no format-string
//! interpretation; a binary search runs a few hundred of them, and format detection tries
//! each format at every column of the first bytes of a few hundred lines (about 10⁵ attempts,
//! nearly all failing at the first byte). A general strptime-style parser would interpret
//! its format string at each attempt, and the workspace would take a calendar crate for
//! ~150 lines of arithmetic (`days_from_civil` below is the well-known Hinnant algorithm).
//!
//! Conventions:
//! * Times are milliseconds since 1970-01-01T00:00:00Z, as `i64`; finer fractions are
//!   truncated (two lines in the same millisecond compare equal).
//! * A time with a zone (`Z`, `+01:00`, `+0100`) is converted to UTC. A time without one is
//!   read as if it were UTC ("naive"): all the lines of a log share their writer's clock, so
//!   they compare correctly among themselves; the query is read the same way (see
//!   `super::query`).
//! * Syslog lines carry no year: [`Context`] supplies it (the rule is in `super::detect`).

/// A timestamp layout Tome recognizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimeFormat {
    /// ISO 8601 / RFC 3339 with a `T`: `2026-11-26T12:00:00`, optional `.fff…` (or `,fff`),
    /// optional zone `Z`, `±HH:MM` or `±HHMM`.
    Iso8601,
    /// The same with a space: `2026-11-26 12:00:00[.fff][zone]` (Python, Java, SQL logs).
    DateTime,
    /// BSD syslog (RFC 3164): `Nov 26 12:00:00` or `Nov  6 12:00:00`, optional `.fff…`; no
    /// year, no zone.
    Syslog,
    /// Apache/nginx common and combined log: `26/Nov/2026:12:00:00 +0000` (the text inside
    /// the brackets).
    CommonLog,
    /// Seconds since the epoch, 10 digits, optional `.fff…`: `1795694400.123`.
    EpochSeconds,
    /// Milliseconds since the epoch, 13 digits: `1795694400123`.
    EpochMillis,
}

impl TimeFormat {
    /// Every format, in the order detection prefers them on a tie.
    pub const ALL: [TimeFormat; 6] = [
        TimeFormat::Iso8601,
        TimeFormat::DateTime,
        TimeFormat::CommonLog,
        TimeFormat::Syslog,
        TimeFormat::EpochMillis,
        TimeFormat::EpochSeconds,
    ];

    /// The format's name in the protocol.
    pub fn name(self) -> &'static str {
        match self {
            TimeFormat::Iso8601 => "iso8601",
            TimeFormat::DateTime => "datetime",
            TimeFormat::Syslog => "syslog",
            TimeFormat::CommonLog => "commonLog",
            TimeFormat::EpochSeconds => "epochSeconds",
            TimeFormat::EpochMillis => "epochMillis",
        }
    }

    /// The format with that protocol name.
    pub fn from_name(name: &str) -> Option<TimeFormat> {
        TimeFormat::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Reads a timestamp of this format at the start of `bytes` (a line's text from the
    /// timestamp on). O(length of the timestamp); no allocation.
    pub fn parse(self, bytes: &[u8], ctx: Context) -> Option<Stamp> {
        let stamp = match self {
            TimeFormat::Iso8601 => iso(bytes, Sep::T, false),
            TimeFormat::DateTime => iso(bytes, Sep::Space, false),
            TimeFormat::Syslog => syslog(bytes, ctx, false),
            TimeFormat::CommonLog => common_log(bytes),
            TimeFormat::EpochSeconds => epoch(bytes, 10, 1000),
            TimeFormat::EpochMillis => epoch(bytes, 13, 1),
        }?;
        // A timestamp followed by a digit is a longer number, not this timestamp.
        match bytes.get(stamp.len) {
            Some(b) if b.is_ascii_digit() => None,
            _ => Some(stamp),
        }
    }
}

/// A timestamp read from text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// Milliseconds since the epoch (UTC, or naive for a time without zone).
    pub ms: i64,
    /// Its length in bytes in the text.
    pub len: usize,
    /// The zone's offset from UTC in milliseconds, if the text gave one.
    pub zone_ms: Option<i64>,
}

/// What a format without a year needs: the year of the log's first timestamped line and its
/// month (1–12). A syslog line whose month is earlier than `first_month` is in `year + 1`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Context {
    /// The year of the first timestamped line.
    pub year: i32,
    /// The month of the first timestamped line (0: unknown, no rollover).
    pub first_month: u8,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sep {
    T,
    Space,
    /// Either (a query), or a date alone.
    Any,
}

pub(crate) const MS_PER_DAY: i64 = 86_400_000;

/// Days from 1970-01-01 to the given civil date (proleptic Gregorian); H. Hinnant's
/// `days_from_civil`.
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date (year, month, day) of a day count from 1970-01-01; Hinnant's
/// `civil_from_days`.
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `n` ASCII digits at `at` as a number.
#[inline]
pub(crate) fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let s = b.get(at..at + n)?;
    let mut v = 0u32;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

#[inline]
fn byte_is(b: &[u8], at: usize, want: u8) -> bool {
    b.get(at) == Some(&want)
}

/// Milliseconds of a valid civil date and time; `None` if a field is out of range.
pub(crate) fn civil_ms(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<i64> {
    // 60 is a leap second (it sorts after :59).
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 60
    {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    Some(days * MS_PER_DAY + i64::from(h * 3_600_000 + mi * 60_000 + s * 1000))
}

/// A fraction `.ddd…` or `,ddd…` at `at`: (milliseconds, bytes taken). Digits past the third
/// are taken and dropped.
fn fraction(b: &[u8], at: usize) -> (i64, usize) {
    if !matches!(b.get(at), Some(b'.' | b',')) {
        return (0, 0);
    }
    let mut n = 0;
    let mut ms = 0i64;
    while let Some(&c) = b.get(at + 1 + n) {
        if !c.is_ascii_digit() {
            break;
        }
        if n < 3 {
            ms = ms * 10 + i64::from(c - b'0');
        }
        n += 1;
    }
    if n == 0 {
        return (0, 0);
    }
    for _ in n..3 {
        ms *= 10;
    }
    (ms, n + 1)
}

/// A zone at `at`: `Z`, `±HH:MM`, `±HHMM` or (lenient only) `±HH`: (offset ms, bytes taken).
fn zone(b: &[u8], at: usize, lenient: bool) -> Option<(i64, usize)> {
    match b.get(at)? {
        b'Z' | b'z' => Some((0, 1)),
        &sign @ (b'+' | b'-') => {
            let h = digits(b, at + 1, 2)?;
            let (m, len) = if byte_is(b, at + 3, b':') {
                (digits(b, at + 4, 2)?, 6)
            } else if let Some(m) = digits(b, at + 3, 2) {
                (m, 5)
            } else if lenient {
                (0, 3)
            } else {
                return None;
            };
            if h > 23 || m > 59 {
                return None;
            }
            let off = i64::from(h * 3_600_000 + m * 60_000);
            Some((if sign == b'-' { -off } else { off }, len))
        }
        _ => None,
    }
}

/// `YYYY-MM-DD{sep}HH:MM:SS[.fff][zone]`. `lenient` (queries) also takes a date alone and a
/// time without seconds or without minutes.
pub(crate) fn iso(b: &[u8], sep: Sep, lenient: bool) -> Option<Stamp> {
    let y = digits(b, 0, 4)?;
    if !byte_is(b, 4, b'-') || !byte_is(b, 7, b'-') {
        return None;
    }
    let mo = digits(b, 5, 2)?;
    let d = digits(b, 8, 2)?;
    let sep_ok = matches!(
        (sep, b.get(10)),
        (Sep::T | Sep::Any, Some(b'T' | b't')) | (Sep::Space | Sep::Any, Some(b' '))
    );
    if !sep_ok || digits(b, 11, 2).is_none() {
        if lenient && !matches!(b.get(10), Some(c) if c.is_ascii_digit()) {
            let ms = civil_ms(i64::from(y), mo, d, 0, 0, 0)?;
            return Some(Stamp {
                ms,
                len: 10,
                zone_ms: None,
            });
        }
        return None;
    }
    let h = digits(b, 11, 2)?;
    let (mi, s, mut len) = match (byte_is(b, 13, b':'), byte_is(b, 16, b':')) {
        (true, true) => (digits(b, 14, 2)?, digits(b, 17, 2)?, 19),
        (true, false) if lenient => (digits(b, 14, 2)?, 0, 16),
        (false, _) if lenient => (0, 0, 13),
        _ => return None,
    };
    let mut ms = civil_ms(i64::from(y), mo, d, h, mi, s)?;
    let (frac, n) = fraction(b, len);
    ms += frac;
    len += n;
    let mut zone_ms = None;
    if let Some((off, n)) = zone(b, len, lenient) {
        ms -= off;
        len += n;
        zone_ms = Some(off);
    }
    Some(Stamp { ms, len, zone_ms })
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// The month (1–12) named by three letters at `at` (`Nov`; any case when `lenient`).
pub(crate) fn month_name(b: &[u8], at: usize, lenient: bool) -> Option<u32> {
    let s = b.get(at..at + 3)?;
    MONTHS
        .iter()
        .position(|m| {
            if lenient {
                m.eq_ignore_ascii_case(s)
            } else {
                *m == s
            }
        })
        .map(|i| i as u32 + 1)
}

/// `Mmm dd HH:MM:SS[.fff]` (day space-padded or zero-padded). `lenient` (queries) also takes
/// `Mmm d HH:MM` and a day alone.
pub(crate) fn syslog(b: &[u8], ctx: Context, lenient: bool) -> Option<Stamp> {
    let mo = month_name(b, 0, lenient)?;
    if !byte_is(b, 3, b' ') {
        return None;
    }
    let d = match (b.get(4)?, b.get(5)?) {
        (b' ', &c) if c.is_ascii_digit() => u32::from(c - b'0'),
        (&c, &e) if lenient && c.is_ascii_digit() && !e.is_ascii_digit() => u32::from(c - b'0'),
        _ => digits(b, 4, 2)?,
    };
    // Where the day ends: "Nov 6 …" (lenient) is one byte shorter.
    let t = if lenient && b.get(5).is_some_and(|c| !c.is_ascii_digit()) && b.get(4) != Some(&b' ') {
        5
    } else {
        6
    };
    let year =
        i64::from(ctx.year) + i64::from(ctx.first_month != 0 && (mo as u8) < ctx.first_month);
    let (h, mi, s, mut len) = if byte_is(b, t, b' ') && digits(b, t + 1, 2).is_some() {
        let h = digits(b, t + 1, 2)?;
        if !byte_is(b, t + 3, b':') {
            return None;
        }
        let mi = digits(b, t + 4, 2)?;
        if byte_is(b, t + 6, b':') {
            (h, mi, digits(b, t + 7, 2)?, t + 9)
        } else if lenient {
            (h, mi, 0, t + 6)
        } else {
            return None;
        }
    } else if lenient {
        (0, 0, 0, t)
    } else {
        return None;
    };
    let mut ms = civil_ms(year, mo, d, h, mi, s)?;
    let (frac, n) = fraction(b, len);
    ms += frac;
    len += n;
    Some(Stamp {
        ms,
        len,
        zone_ms: None,
    })
}

/// `dd/Mmm/yyyy:HH:MM:SS ±HHMM`.
fn common_log(b: &[u8]) -> Option<Stamp> {
    let d = digits(b, 0, 2)?;
    if !byte_is(b, 2, b'/') || !byte_is(b, 6, b'/') || !byte_is(b, 11, b':') {
        return None;
    }
    let mo = month_name(b, 3, false)?;
    let y = digits(b, 7, 4)?;
    let h = digits(b, 12, 2)?;
    if !byte_is(b, 14, b':') || !byte_is(b, 17, b':') || !byte_is(b, 20, b' ') {
        return None;
    }
    let mi = digits(b, 15, 2)?;
    let s = digits(b, 18, 2)?;
    let (off, n) = zone(b, 21, false)?;
    let ms = civil_ms(i64::from(y), mo, d, h, mi, s)? - off;
    Some(Stamp {
        ms,
        len: 21 + n,
        zone_ms: Some(off),
    })
}

/// Exactly `n` digits (and, for seconds, an optional fraction), times `scale` ms.
fn epoch(b: &[u8], n: usize, scale: i64) -> Option<Stamp> {
    let mut v = 0i64;
    for i in 0..n {
        let c = *b.get(i)?;
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(c - b'0');
    }
    let mut ms = v * scale;
    let mut len = n;
    if scale == 1000 && matches!(b.get(n), Some(b'.')) {
        let (frac, k) = fraction(b, n);
        ms += frac;
        len += k;
    }
    Some(Stamp {
        ms,
        len,
        zone_ms: None,
    })
}

/// The (year, month) in UTC of a time in milliseconds (today's, for syslog's year rule).
pub fn year_month_of(ms: i64) -> (i32, u8) {
    let (y, m, _) = civil_from_days(ms.div_euclid(MS_PER_DAY));
    (y as i32, m as u8)
}

/// Milliseconds as ISO 8601 text in UTC, `2026-11-26T12:00:00.000Z` (for messages and tests).
pub fn format_utc(ms: i64) -> String {
    let days = ms.div_euclid(MS_PER_DAY);
    let rest = ms.rem_euclid(MS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3_600_000,
        rest / 60_000 % 60,
        rest / 1000 % 60,
        rest % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const CTX: Context = Context {
        year: 2026,
        first_month: 0,
    };
    /// 2026-11-26T12:00:00Z.
    const NOON: i64 = 1_795_694_400_000;

    fn p(f: TimeFormat, s: &str) -> Option<i64> {
        f.parse(s.as_bytes(), CTX).map(|s| s.ms)
    }

    #[test]
    fn calendar_round_trips_and_matches_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(
            days_from_civil(2026, 11, 26) * MS_PER_DAY + 12 * 3_600_000,
            NOON
        );
        for z in (-800_000..800_000).step_by(97) {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(format_utc(NOON + 5), "2026-11-26T12:00:00.005Z");
    }

    #[test]
    fn iso8601_with_and_without_fraction_and_zone() {
        let f = TimeFormat::Iso8601;
        assert_eq!(p(f, "2026-11-26T12:00:00"), Some(NOON));
        assert_eq!(p(f, "2026-11-26T12:00:00Z rest"), Some(NOON));
        assert_eq!(p(f, "2026-11-26t12:00:00z"), Some(NOON));
        assert_eq!(p(f, "2026-11-26T12:00:00.5Z"), Some(NOON + 500));
        assert_eq!(p(f, "2026-11-26T12:00:00,123456789Z"), Some(NOON + 123));
        assert_eq!(p(f, "2026-11-26T13:00:00+01:00"), Some(NOON));
        assert_eq!(p(f, "2026-11-26T10:30:00-0130"), Some(NOON));
        let s = f.parse(b"2026-11-26T13:00:00.250+01:00 x", CTX).unwrap();
        assert_eq!((s.ms, s.len, s.zone_ms), (NOON + 250, 29, Some(3_600_000)));
        // Not a timestamp: wrong separator, out of range, truncated, a longer number.
        for bad in [
            "2026-11-26 12:00:00",
            "2026-13-26T12:00:00",
            "2026-02-29T12:00:00",
            "2026-11-26T24:00:00",
            "2026-11-26T12:00",
            "2026-11-26T12:00:001",
            "2026-11-26",
            "",
        ] {
            assert_eq!(p(f, bad), None, "{bad}");
        }
        assert_eq!(
            p(f, "2024-02-29T00:00:00"),
            Some(days_from_civil(2024, 2, 29) * MS_PER_DAY)
        );
    }

    #[test]
    fn datetime_with_a_space() {
        let f = TimeFormat::DateTime;
        assert_eq!(p(f, "2026-11-26 12:00:00 INFO"), Some(NOON));
        assert_eq!(p(f, "2026-11-26 12:00:00,042 INFO"), Some(NOON + 42));
        assert_eq!(p(f, "2026-11-26 12:00:00.042+0000"), Some(NOON + 42));
        assert_eq!(p(f, "2026-11-26T12:00:00"), None);
    }

    #[test]
    fn syslog_with_the_year_rule() {
        let f = TimeFormat::Syslog;
        assert_eq!(p(f, "Nov 26 12:00:00 host sshd[1]:"), Some(NOON));
        assert_eq!(p(f, "Nov 26 12:00:00.250 host"), Some(NOON + 250));
        let six = days_from_civil(2026, 11, 6) * MS_PER_DAY + 12 * 3_600_000;
        assert_eq!(p(f, "Nov  6 12:00:00 host"), Some(six));
        assert_eq!(p(f, "Nov 06 12:00:00 host"), Some(six));
        assert_eq!(p(f, "nov 26 12:00:00"), None);
        assert_eq!(p(f, "Nov 31 12:00:00"), None);
        assert_eq!(p(f, "Nov 26 12:00"), None);
        // A log that began in December: January lines are in the next year.
        let ctx = Context {
            year: 2026,
            first_month: 12,
        };
        let jan = f.parse(b"Jan  2 00:00:00 h", ctx).unwrap().ms;
        assert_eq!(jan, days_from_civil(2027, 1, 2) * MS_PER_DAY);
        let dec = f.parse(b"Dec 31 00:00:00 h", ctx).unwrap().ms;
        assert_eq!(dec, days_from_civil(2026, 12, 31) * MS_PER_DAY);
    }

    #[test]
    fn common_log_inside_brackets() {
        let f = TimeFormat::CommonLog;
        assert_eq!(p(f, "26/Nov/2026:12:00:00 +0000] \"GET /"), Some(NOON));
        assert_eq!(p(f, "26/Nov/2026:13:00:00 +0100]"), Some(NOON));
        assert_eq!(p(f, "26/Nov/2026:12:00:00]"), None);
        assert_eq!(p(f, "26/Nox/2026:12:00:00 +0000]"), None);
    }

    #[test]
    fn epoch_seconds_and_milliseconds() {
        assert_eq!(p(TimeFormat::EpochSeconds, "1795694400 x"), Some(NOON));
        assert_eq!(
            p(TimeFormat::EpochSeconds, "1795694400.25 x"),
            Some(NOON + 250)
        );
        assert_eq!(p(TimeFormat::EpochSeconds, "1795694400123"), None);
        assert_eq!(
            p(TimeFormat::EpochMillis, "1795694400123 x"),
            Some(NOON + 123)
        );
        assert_eq!(p(TimeFormat::EpochMillis, "179569440012"), None);
        assert_eq!(p(TimeFormat::EpochMillis, "17956944001234"), None);
    }

    #[test]
    fn names_round_trip() {
        for f in TimeFormat::ALL {
            assert_eq!(TimeFormat::from_name(f.name()), Some(f));
        }
        assert_eq!(TimeFormat::from_name("nope"), None);
    }
}
