//! Detecting a log's timestamp layout — which [`TimeFormat`] and where in the line — from a
//! sample of its lines, and reading a line's timestamp with it.
//!
//! Detection tries every format at every column of the first [`MAX_COLUMN`] bytes of each
//! sample line (epoch numbers only at column 0: a number elsewhere is too often something
//! else). Each hit votes for two placements: the fixed column it was found at, and "just
//! after the first occurrence of the byte before it" (the bracket of a common log line after
//! a client address of varying length, the space after a `<34>1` priority). The placement
//! with the most votes wins; on a tie, a fixed column beats a delimiter and formats are
//! preferred in [`TimeFormat::ALL`] order. Cost: O(lines × [`MAX_COLUMN`] × formats) byte
//! comparisons, nearly all failing at the first byte: well under a millisecond for the
//! [`SAMPLE_LINES`] lines of a sample.
//!
//! Syslog's missing year (the rule): the log's first timestamped line is in year `Y`; a line
//! whose month comes before that line's month is in `Y + 1` (a log crossing one new year is
//! ordered correctly; a log longer than a year is not). `Y` is the current year, or the
//! previous one when the first line's month is later than the current month (a log begun last
//! December, read in January). The server passes the current year.

use super::format::{Context, Stamp, TimeFormat};

/// The furthest column at which detection looks for a timestamp's start.
pub const MAX_COLUMN: usize = 64;
/// How many bytes of a line's start are read for its timestamp: the furthest column plus the
/// longest timestamp with fraction digits and zone.
pub const LINE_PREFIX: usize = MAX_COLUMN + 64;
/// The most sample lines detection looks at.
pub const SAMPLE_LINES: usize = 256;

/// Where a line's timestamp starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Location {
    /// At this byte column (0: the line start).
    Column(usize),
    /// Just after the first occurrence of this byte in the line (within [`MAX_COLUMN`]).
    After(u8),
}

/// A log's timestamp layout: the format, where it sits, and the syslog year context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeLayout {
    /// The format.
    pub format: TimeFormat,
    /// Where in the line.
    pub location: Location,
    /// The year of the first timestamped line, for formats without one (syslog).
    pub context: Context,
    /// The zone offset (ms) of the first detected line, if its timestamps carry one: a query
    /// without a zone is read in it.
    pub zone_ms: Option<i64>,
}

impl TimeLayout {
    /// The timestamp of a line (its text without the terminator; only the first
    /// [`LINE_PREFIX`] bytes are looked at): the stamp and its column. No allocation.
    #[inline]
    pub fn stamp_of(&self, line: &[u8]) -> Option<(Stamp, usize)> {
        let line = &line[..line.len().min(LINE_PREFIX)];
        let at = match self.location {
            Location::Column(c) => c,
            Location::After(b) => memchr::memchr(b, &line[..line.len().min(MAX_COLUMN)])? + 1,
        };
        let stamp = self.format.parse(line.get(at..)?, self.context)?;
        Some((stamp, at))
    }

    /// Detects the layout of `lines` (their text without terminators; the first
    /// [`SAMPLE_LINES`] are used), optionally of one format only. `current` is today's
    /// (year, month), for syslog's year rule. `None` when no line has a timestamp.
    pub fn detect<'a>(
        lines: impl IntoIterator<Item = &'a [u8]>,
        only: Option<TimeFormat>,
        current: (i32, u8),
    ) -> Option<TimeLayout> {
        let formats: &[TimeFormat] = match &only {
            Some(f) => std::slice::from_ref(f),
            None => &TimeFormat::ALL,
        };
        // (format, location) → (votes, first line's stamp), in first-seen order: few entries.
        let mut votes: Vec<((TimeFormat, Location), usize)> = Vec::new();
        let mut vote = |key: (TimeFormat, Location)| match votes.iter_mut().find(|v| v.0 == key) {
            Some(v) => v.1 += 1,
            None => votes.push((key, 1)),
        };
        let ctx = Context {
            year: current.0,
            first_month: 0,
        };
        let mut sample: Vec<&[u8]> = Vec::new();
        for line in lines.into_iter().take(SAMPLE_LINES) {
            sample.push(line);
            let line = &line[..line.len().min(LINE_PREFIX)];
            for &f in formats {
                let last = match f {
                    TimeFormat::EpochSeconds | TimeFormat::EpochMillis => 0,
                    _ => MAX_COLUMN.min(line.len()),
                };
                let Some(at) = (0..=last).find(|&at| {
                    // Start only where the previous byte is not alphanumeric.
                    (at == 0 || !line[at - 1].is_ascii_alphanumeric())
                        && f.parse(&line[at..], ctx).is_some()
                }) else {
                    continue;
                };
                vote((f, Location::Column(at)));
                if at > 0 && memchr::memchr(line[at - 1], &line[..at - 1]).is_none() {
                    vote((f, Location::After(line[at - 1])));
                }
            }
        }
        // Most votes; ties: a column before a delimiter, then format order.
        let rank = |(f, l): &(TimeFormat, Location)| {
            let fi = TimeFormat::ALL.iter().position(|x| x == f).unwrap_or(0);
            (matches!(l, Location::After(_)), fi)
        };
        let best = votes
            .iter()
            .max_by(|a, b| a.1.cmp(&b.1).then_with(|| rank(&b.0).cmp(&rank(&a.0))))?
            .0;
        let mut layout = TimeLayout {
            format: best.0,
            location: best.1,
            context: ctx,
            zone_ms: None,
        };
        // The first line the layout reads: the zone, and syslog's year rule.
        let (first, _) = sample.iter().find_map(|l| layout.stamp_of(l))?;
        layout.zone_ms = first.zone_ms;
        if layout.format == TimeFormat::Syslog {
            let line = sample.iter().find(|l| layout.stamp_of(l).is_some())?;
            let at = layout.stamp_of(line)?.1;
            let month = super::format::month_name(line, at, false)? as u8;
            let year = if month > current.1 {
                current.0 - 1
            } else {
                current.0
            };
            layout.context = Context {
                year,
                first_month: month,
            };
        }
        Some(layout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: (i32, u8) = (2026, 11);

    fn detect(text: &str) -> Option<(TimeFormat, Location)> {
        TimeLayout::detect(text.lines().map(str::as_bytes), None, NOW)
            .map(|l| (l.format, l.location))
    }

    #[test]
    fn each_format_at_the_line_start() {
        use Location::Column;
        let cases = [
            (
                "2026-11-26T12:00:00.123Z INFO a\n2026-11-26T12:00:01.5+01:00 WARN b\n",
                TimeFormat::Iso8601,
            ),
            (
                "2026-11-26 12:00:00,123 INFO a\n2026-11-26 12:00:01 INFO b\n",
                TimeFormat::DateTime,
            ),
            (
                "Nov 26 12:00:00 host sshd[12]: a\nNov  6 12:00:01 host cron[3]: b\n",
                TimeFormat::Syslog,
            ),
            ("1795694400 a\n1795694401.5 b\n", TimeFormat::EpochSeconds),
            (
                "1795694400000 a\n1795694400001 b\n",
                TimeFormat::EpochMillis,
            ),
        ];
        for (text, f) in cases {
            assert_eq!(detect(text), Some((f, Column(0))), "{text}");
        }
    }

    #[test]
    fn after_a_prefix_of_fixed_or_varying_length() {
        let clf = "127.0.0.1 - - [26/Nov/2026:12:00:00 +0000] \"GET / HTTP/1.1\" 200 5\n\
                   10.1.22.133 - frank [26/Nov/2026:12:00:01 +0000] \"GET /a HTTP/1.1\" 404 0\n";
        assert_eq!(
            detect(clf),
            Some((TimeFormat::CommonLog, Location::After(b'[')))
        );
        let fixed = "<34>1 2026-11-26T12:00:00Z host app - - a\n\
                     <34>1 2026-11-26T12:00:01Z host app - - b\n";
        assert_eq!(
            detect(fixed),
            Some((TimeFormat::Iso8601, Location::Column(6)))
        );
        let varying = "[main] 2026-11-26 12:00:00 a\n[worker-12] 2026-11-26 12:00:01 b\n\
                       [io] 2026-11-26 12:00:02 c\n";
        assert_eq!(
            detect(varying),
            Some((TimeFormat::DateTime, Location::After(b' ')))
        );
    }

    #[test]
    fn lines_without_timestamps_do_not_prevent_detection() {
        let text = "header line\n\n2026-11-26T12:00:00Z a\n  at frame 1\n2026-11-26T12:00:01Z b\n";
        assert_eq!(
            detect(text),
            Some((TimeFormat::Iso8601, Location::Column(0)))
        );
        assert_eq!(detect("no time here\njust words 12:00\n"), None);
        assert_eq!(detect(""), None);
    }

    #[test]
    fn one_format_only_when_asked() {
        let text = "2026-11-26T12:00:00Z 1795694400 a\n";
        let l = TimeLayout::detect(
            text.lines().map(str::as_bytes),
            Some(TimeFormat::Iso8601),
            NOW,
        )
        .unwrap();
        assert_eq!(l.format, TimeFormat::Iso8601);
        let none = TimeLayout::detect(
            text.lines().map(str::as_bytes),
            Some(TimeFormat::Syslog),
            NOW,
        );
        assert_eq!(none, None);
    }

    #[test]
    fn syslog_year_context() {
        let text = "Dec 30 23:59:59 h a\nJan  1 00:00:00 h b\n";
        let l = TimeLayout::detect(text.lines().map(str::as_bytes), None, (2027, 1)).unwrap();
        assert_eq!(
            l.context,
            Context {
                year: 2026,
                first_month: 12
            }
        );
        let (a, _) = l.stamp_of(b"Dec 30 23:59:59 h a").unwrap();
        let (b, _) = l.stamp_of(b"Jan  1 00:00:00 h b").unwrap();
        assert!(a.ms < b.ms);
        let l = TimeLayout::detect(text.lines().map(str::as_bytes), None, (2026, 12)).unwrap();
        assert_eq!(l.context.year, 2026);
    }

    #[test]
    fn the_zone_of_the_first_line_is_kept() {
        let l = TimeLayout::detect(["2026-11-26T12:00:00+05:30 a".as_bytes()], None, NOW).unwrap();
        assert_eq!(l.zone_ms, Some(5 * 3_600_000 + 30 * 60_000));
    }
}
