//! Reading the time a user asks for, in any supported form, as milliseconds comparable with a
//! log's timestamps under its [`TimeLayout`].
//!
//! Accepted: ISO 8601 with `T` or a space, from a date alone (`2026-11-26`) down to
//! `2026-11-26T12:00` or seconds with fraction and zone; syslog `Nov 26 12:00[:00]` (any
//! case); common log `26/Nov/2026:12:00:00 +0000`; a number of 10 digits (epoch seconds, with
//! an optional fraction) or 13 digits (epoch milliseconds). Leading and trailing spaces are
//! ignored.
//!
//! Zones: a query with a zone means that instant. A query without a zone is read in the zone
//! of the log's first timestamp if the log's timestamps carry one (so `12:00` means noon as
//! the log writes it), else as naive, like the log's own zoneless times. A syslog query takes
//! its year by the log's rule (see `super::detect`).

use super::detect::TimeLayout;
use super::format::{iso, syslog, Sep, TimeFormat};

/// The asked time in milliseconds, comparable with the timestamps `layout` reads; `None` when
/// the text is no supported form.
pub fn parse_query(text: &str, layout: &TimeLayout) -> Option<i64> {
    let b = text.trim().as_bytes();
    if b.is_empty() {
        return None;
    }
    let whole = |len: usize| len == b.len();
    if b.iter().all(u8::is_ascii_digit) || b.iter().filter(|&&c| c == b'.').count() == 1 {
        for f in [TimeFormat::EpochSeconds, TimeFormat::EpochMillis] {
            if let Some(s) = f.parse(b, layout.context) {
                if whole(s.len) {
                    return Some(s.ms);
                }
            }
        }
    }
    if let Some(s) = iso(b, Sep::Any, true) {
        if whole(s.len) {
            return Some(match s.zone_ms {
                Some(_) => s.ms,
                None => s.ms - layout.zone_ms.unwrap_or(0),
            });
        }
    }
    if let Some(s) = TimeFormat::CommonLog.parse(b, layout.context) {
        if whole(s.len) || (s.len + 1 == b.len() && b[s.len] == b']') {
            return Some(s.ms);
        }
    }
    if let Some(s) = syslog(b, layout.context, true) {
        if whole(s.len) {
            return Some(s.ms - layout.zone_ms.unwrap_or(0));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::detect::Location;
    use super::super::format::Context;
    use super::*;

    const NOON: i64 = 1_795_694_400_000;

    fn layout(zone_ms: Option<i64>) -> TimeLayout {
        TimeLayout {
            format: TimeFormat::Iso8601,
            location: Location::Column(0),
            context: Context {
                year: 2026,
                first_month: 1,
            },
            zone_ms,
        }
    }

    #[test]
    fn every_form() {
        let l = layout(None);
        let q = |s: &str| parse_query(s, &l);
        assert_eq!(q("2026-11-26T12:00"), Some(NOON));
        assert_eq!(q(" 2026-11-26 12:00:00 "), Some(NOON));
        assert_eq!(q("2026-11-26T12"), Some(NOON));
        assert_eq!(q("2026-11-26"), Some(NOON - 12 * 3_600_000));
        assert_eq!(q("2026-11-26T12:00:00.250Z"), Some(NOON + 250));
        assert_eq!(q("2026-11-26T13:00+01:00"), Some(NOON));
        assert_eq!(q("2026-11-26T13:00+01"), Some(NOON));
        assert_eq!(q("Nov 26 12:00:00"), Some(NOON));
        assert_eq!(q("nov 26 12:00"), Some(NOON));
        assert_eq!(q("Nov 26"), Some(NOON - 12 * 3_600_000));
        assert_eq!(q("26/Nov/2026:12:00:00 +0000"), Some(NOON));
        assert_eq!(q("26/Nov/2026:12:00:00 +0000]"), Some(NOON));
        assert_eq!(q("1795694400"), Some(NOON));
        assert_eq!(q("1795694400.5"), Some(NOON + 500));
        assert_eq!(q("1795694400000"), Some(NOON));
        for bad in [
            "",
            "noon",
            "2026-11-26T12:00 trailing",
            "2026-11-31",
            "12345",
            "Nov 26 25:00",
        ] {
            assert_eq!(q(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_zoneless_query_is_read_in_the_logs_zone() {
        let l = layout(Some(3_600_000));
        assert_eq!(parse_query("2026-11-26T13:00", &l), Some(NOON));
        assert_eq!(parse_query("2026-11-26T12:00Z", &l), Some(NOON));
    }
}
