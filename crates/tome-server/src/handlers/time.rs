//! `tome/seekTime`: the first line at or after a time, by binary search over byte offsets of a
//! snapshot (tome_core::timestamp): O(log size) probes, no line index needed, so it answers
//! right after `tome/open`. Fast enough (microseconds to a few milliseconds on a cold cache)
//! to need neither progress nor cancellation.

use std::time::{SystemTime, UNIX_EPOCH};

use tome_core::timestamp::{detect_layout, parse_query, seek_time, year_month_of, TimeFormat};
use tower_lsp_server::jsonrpc::Result;

use super::{blocking, outcome, Backend};
use crate::errors::{from_core, invalid_params, invalid_time, no_timestamps};
use crate::protocol::*;

/// Today's (year, month) in UTC, for syslog's year rule.
fn current_year_month() -> (i32, u8) {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    year_month_of(ms)
}

impl Backend {
    /// `tome/seekTime`: the snapshot is taken in queue order (it sees every earlier edit),
    /// the search runs on a blocking thread.
    pub async fn seek_time(&self, p: SeekTimeParams) -> Result<SeekTimeResult> {
        let only = match p.format.as_deref() {
            None => None,
            Some(name) => Some(TimeFormat::from_name(name).ok_or_else(|| {
                invalid_params(format!(
                    "unknown time format {:?} (one of iso8601, datetime, syslog, commonLog, epochSeconds, epochMillis)",
                    name.chars().take(32).collect::<String>()
                ))
            })?),
        };
        let handle = self.docs.get(p.doc)?;
        let snapshot = outcome(handle.submit(|doc| Ok(doc.snapshot()))?).await?;
        blocking(move || {
            let view = snapshot.view();
            let layout = detect_layout(&view, only, current_year_month())
                .ok_or_else(|| no_timestamps(only.map(TimeFormat::name)))?;
            let target = match &p.time {
                TimeIn::Ms(ms) => *ms,
                TimeIn::Text(t) => parse_query(t, &layout).ok_or_else(|| invalid_time(t))?,
            };
            let found = seek_time(&view, &layout, target).map_err(from_core)?;
            let (offset, time) = match found.line {
                Some(l) => {
                    let text = view.read(l.at, l.at + l.len).map_err(from_core)?;
                    // In the file's encoding (UTF-16 too: the seek reads its units).
                    let (text, _) = view.charset().decode_lossy_owned(text);
                    (l.start, Some((text, l.ms)))
                }
                None => (view.len(), None),
            };
            Ok(SeekTimeResult {
                version: snapshot.version(),
                offset: offset as u64,
                // Known only where the index has reached (or after edits, in indexed parts).
                line: view.line_of(offset).ok().map(|l| l as u64),
                exact: time.as_ref().is_some_and(|t| t.1 == target),
                time_ms: time.as_ref().map(|t| t.1),
                time: time.map(|t| t.0),
                format: layout.format.name(),
                approximate: found.approximate,
            })
        })
        .await
    }
}
