//! Filter views: `tome/filter` (make one; its scan runs in the background on a snapshot),
//! `tome/filterLines` (read matched lines with their source line numbers and offsets, also
//! while the scan runs), `tome/filterInfo`, `tome/filterWait` (until the scan ends;
//! `$/cancelRequest` of it stops the scan), `tome/closeFilter`.
//!
//! Live where cheap: reading a filter whose source has only had followed appends since the
//! version it reflects scans the appended text (from the start of the last line, which an
//! append may have lengthened) and adds what matches; any other change marks it `stale`.

use std::sync::Arc;

use tome_core::filter::{open_tail, FilterQuery, LineFilter};
use tome_core::{ColumnWindow, Control, Error as CoreError, Snapshot};
use tower_lsp_server::jsonrpc::Result;

use super::{blocking, outcome, Backend, CancelOnDrop};
use crate::convert::{filter_query, usize_of};
use crate::documents::Registry;
use crate::errors::{from_core, invalid_params};
use crate::filters::FilterEntry;
use crate::progress::RequestProgress;
use crate::protocol::*;

/// Scans `snapshot` from `from` (line `line`) for `entry`, adding what it finds as it goes.
/// Runs on a blocking thread. Cost: O(bytes scanned); memory: the lines found.
fn run_scan(entry: &FilterEntry, snapshot: &Snapshot, from: usize, line: usize) {
    let view = snapshot.view();
    let (tail_start, tail_breaks) = open_tail(&view);
    let result = entry
        .filter
        .scan(view, from, line, &entry.control, |found, pos, _| {
            let mut st = entry.lock();
            st.take(found, tail_start);
            st.scanned = pos;
            true
        });
    let mut st = entry.lock();
    match result {
        Ok((_, end_line)) => {
            st.complete = true;
            st.resume = (tail_start, end_line.saturating_sub(tail_breaks));
        }
        Err(CoreError::Cancelled) => st.cancelled = true,
        Err(e) => st.error = Some(e.to_string()),
    }
    drop(st);
    entry.done.send_replace(true);
}

/// Brings a complete filter up to its document: scans text appended since (followed appends
/// only), or marks it stale. Blocking; cost O(bytes appended).
fn catch_up(entry: &FilterEntry, docs: &Registry) {
    let version = {
        let st = entry.lock();
        if !st.complete || st.stale {
            return;
        }
        st.snapshot.version()
    };
    let Ok(handle) = docs.get(entry.doc) else {
        entry.lock().stale = true;
        return;
    };
    let snapshot = {
        let mut doc = handle.lock();
        if doc.version() == version {
            return;
        }
        if !doc.positions_valid_since(version) {
            drop(doc);
            entry.lock().stale = true;
            return;
        }
        doc.snapshot()
    };
    // Held during the scan: catch-ups of one filter run one at a time.
    let mut st = entry.lock();
    if st.snapshot.version() >= snapshot.version() {
        return;
    }
    let view = snapshot.view();
    let (tail_start, tail_breaks) = open_tail(&view);
    let (from, line) = st.resume;
    let mut found = Vec::new();
    let scanned = entry
        .filter
        .scan(view, from, line, &Control::new(), |f, _, _| {
            found.extend_from_slice(f);
            true
        });
    match scanned {
        Ok((end, end_line)) => {
            st.tail = None;
            st.take(&found, tail_start);
            st.resume = (tail_start, end_line.saturating_sub(tail_breaks));
            st.scanned = end;
            st.snapshot = snapshot;
        }
        Err(e) => st.error = Some(e.to_string()),
    }
}

fn info_of(entry: &FilterEntry) -> FilterInfo {
    let st = entry.lock();
    FilterInfo {
        filter: entry.id,
        doc: entry.doc,
        version: st.snapshot.version(),
        matched: st.matched() as u64,
        complete: st.complete,
        cancelled: st.cancelled,
        stale: st.stale,
        scanned_bytes: st.scanned as u64,
        total_bytes: st.snapshot.view().len() as u64,
        memory_bytes: st.list.memory() as u64,
        error: st.error.clone(),
    }
}

fn read_lines(entry: &FilterEntry, p: &FilterLinesParams) -> Result<FilterLinesResult> {
    let count = usize_of(p.count).min(MAX_FILTER_LINES);
    let max_line = p
        .max_line_bytes
        .map_or(DEFAULT_FILTER_LINE_BYTES, usize_of)
        .clamp(1, MAX_WHOLE_BYTES / count.max(1));
    let (entries, first, snapshot) = {
        let st = entry.lock();
        let first = match (p.first, p.around) {
            (Some(f), None) => usize_of(f),
            (None, Some(at)) => {
                let i = match st.tail {
                    Some((t, _)) if at > t => st.matched(),
                    Some((t, _)) if at > st.list.last_offset().unwrap_or(0) && at <= t => {
                        st.list.len()
                    }
                    _ => st.list.position_of(at),
                };
                i.saturating_sub(usize_of(p.before))
            }
            _ => return Err(invalid_params("give exactly one of `first` and `around`")),
        };
        let end = first.saturating_add(count);
        (st.lines(first..end), first, st.snapshot.clone())
    };
    let view = snapshot.view();
    let window = Some(ColumnWindow {
        start: 0,
        len: max_line,
    });
    let mut lines = Vec::with_capacity(entries.len());
    for (k, (offset, line)) in entries.into_iter().enumerate() {
        let read = view
            .lines_around(usize_of(offset), 0, 1, window)
            .map_err(from_core)?;
        let Some(l) = read.into_iter().next() else {
            continue;
        };
        lines.push(FilterLineOut {
            index: (first + k) as u64,
            line,
            offset,
            byte_length: l.len as u64,
            cut_after: l.cut_after || !l.len_known,
            invalid: l.invalid,
            text: l.text,
        });
    }
    view.intact().map_err(from_core)?;
    Ok(FilterLinesResult {
        lines,
        info: info_of(entry),
    })
}

impl Backend {
    /// `tome/filter`: compiles the query, takes the snapshot in queue order, starts the scan
    /// in the background and answers at once.
    pub async fn filter(&self, p: FilterParams) -> Result<FilterInfo> {
        let tree = filter_query(&p.query)?;
        let (doc, tree, snapshot) = match (p.doc, p.filter) {
            (Some(doc), None) => {
                let handle = self.docs.get(doc)?;
                let rx = handle.submit(|d| Ok(d.snapshot()))?;
                (doc, tree, outcome(rx).await?)
            }
            (None, Some(parent)) => {
                let parent = self.filters.get(parent)?;
                let snapshot = parent.lock().snapshot.clone();
                let both = FilterQuery::And(vec![parent.query.clone(), tree]);
                (parent.doc, both, snapshot)
            }
            _ => return Err(invalid_params("give exactly one of `doc` and `filter`")),
        };
        let compiled = {
            let tree = tree.clone();
            blocking(move || LineFilter::new(&tree).map_err(from_core)).await?
        };
        let entry = self.filters.insert(doc, tree, compiled, snapshot.clone())?;
        let client = self.client.clone();
        let token = p.work_done_token;
        let scanning = Arc::clone(&entry);
        tokio::spawn(async move {
            let progress = RequestProgress::begin(&client, token, "Filtering").await;
            let control = Arc::clone(&scanning.control);
            let work = blocking(move || {
                run_scan(&scanning, &snapshot, 0, 0);
                Ok(())
            });
            let _ = progress.track(&control, work).await;
        });
        Ok(info_of(&entry))
    }

    /// `tome/filterLines`.
    pub async fn filter_lines(&self, p: FilterLinesParams) -> Result<FilterLinesResult> {
        let entry = self.filters.get(p.filter)?;
        let docs = Arc::clone(&self.docs);
        let backlog = Arc::clone(&self.backlog);
        blocking(move || {
            backlog.wait_for_room_blocking();
            catch_up(&entry, &docs);
            read_lines(&entry, &p)
        })
        .await
    }

    /// `tome/filterInfo`.
    pub async fn filter_info(&self, p: FilterIdParams) -> Result<FilterInfo> {
        let entry = self.filters.get(p.filter)?;
        let docs = Arc::clone(&self.docs);
        blocking(move || {
            catch_up(&entry, &docs);
            Ok(info_of(&entry))
        })
        .await
    }

    /// `tome/filterWait`: until the scan ends. Cancelling it cancels the scan.
    pub async fn filter_wait(&self, p: FilterIdParams) -> Result<FilterInfo> {
        let entry = self.filters.get(p.filter)?;
        let guard = CancelOnDrop(Arc::clone(&entry.control));
        let mut done = entry.done.subscribe();
        let _ = done.wait_for(|d| *d).await;
        // Ended by itself: nothing to cancel.
        std::mem::forget(guard);
        let docs = Arc::clone(&self.docs);
        blocking(move || {
            catch_up(&entry, &docs);
            Ok(info_of(&entry))
        })
        .await
    }

    /// `tome/closeFilter`: forgets it (stopping its scan); false if it was not open.
    pub async fn close_filter(&self, p: FilterIdParams) -> Result<bool> {
        Ok(self.filters.remove(p.filter))
    }
}
