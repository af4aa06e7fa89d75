//! Filter views: `tome/filter` (make one; its scan runs in the background on a snapshot),
//! `tome/filterLines` (read matched lines with their source line numbers and offsets, also
//! while the scan runs), `tome/filterInfo`, `tome/filterWait` (until the scan ends;
//! `$/cancelRequest` of it stops the scan), `tome/closeFilter`.
//!
//! Live: reading a filter first brings it up to its document's current version. The
//! document says which bytes changed since the version the filter reflects
//! ([`tome_core::Document::changed_since`]: edits, undo, redo, pastes, followed appends, composed
//! into one range); the filter drops its lines in that range widened to whole lines, rescans
//! those lines of the new version and shifts the lines after ([`LineFilter::rescan_change`],
//! [`tome_core::filter::MatchList::splice`]). A change the document cannot give as a range
//! (replace-all, deletion of matching lines, reload, undo of those, more than
//! `tome_core::document::KEPT` versions behind) starts the scan over in the background.

use std::sync::Arc;

use tome_core::filter::{FilterQuery, LineFilter};
use tome_core::highlight::RuleSet;
use tome_core::{ColumnWindow, Control, Error as CoreError, PositionEncoding, Snapshot};
use tower_lsp_server::jsonrpc::Result;

use super::read::highlight;
use super::{blocking, outcome, Backend, CancelOnDrop};
use crate::convert::{filter_query, usize_of};
use crate::documents::Registry;
use crate::errors::{from_core, invalid_params};
use crate::filters::FilterEntry;
use crate::progress::RequestProgress;
use crate::protocol::*;

/// Scans `snapshot` whole for `entry`, adding what it finds as it goes. Runs on a blocking
/// thread. Cost: O(bytes scanned); memory: the lines found.
fn run_scan(entry: &FilterEntry, snapshot: &Snapshot) {
    let view = snapshot.view();
    let version = snapshot.version();
    let result = entry
        .filter
        .scan(view, 0, 0, &entry.control, |found, pos, _| {
            let mut st = entry.lock();
            if st.snapshot.version() != version {
                // Started over on a newer version meanwhile.
                return false;
            }
            st.take(found);
            st.scanned = pos;
            true
        });
    let mut st = entry.lock();
    if st.snapshot.version() != version {
        return;
    }
    match result {
        Ok((end, _)) if end == view.len() => st.complete = true,
        Ok(_) => {}
        Err(CoreError::Cancelled) => st.cancelled = true,
        Err(e) => st.error = Some(e.to_string()),
    }
    drop(st);
    entry.done.send_replace(true);
}

/// Brings a complete filter up to its document's current version (see the module's doc), or
/// starts its scan over. Blocking; cost O(bytes of the changed lines + entries after them).
fn catch_up(entry: &Arc<FilterEntry>, docs: &Registry) {
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
    let (snapshot, changed) = {
        let mut doc = handle.lock();
        if doc.version() == version {
            return;
        }
        (doc.snapshot(), doc.changed_since(version))
    };
    // Held during the rescan: catch-ups of one filter run one at a time.
    let mut st = entry.lock();
    if st.snapshot.version() >= snapshot.version() || !st.complete {
        return;
    }
    let update = match changed {
        Some(c) => {
            entry
                .filter
                .rescan_change(&st.snapshot.view(), &snapshot.view(), c, &Control::new())
        }
        None => Ok(None),
    };
    match update {
        Ok(Some(u)) => {
            st.list.splice(&u);
            st.scanned = snapshot.view().len();
            st.snapshot = snapshot;
        }
        Ok(None) => {
            st.restart(snapshot.clone());
            entry.done.send_replace(false);
            drop(st);
            let scanning = Arc::clone(entry);
            std::thread::spawn(move || run_scan(&scanning, &snapshot));
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

/// Reads the filter lines `p` asks for, with the matches of `rules` (the source's highlight
/// rules) on their text in `enc` columns (as `tome/viewport`: crate::handlers::read).
fn read_lines(
    entry: &FilterEntry,
    p: &FilterLinesParams,
    rules: Option<&RuleSet>,
    enc: PositionEncoding,
) -> Result<FilterLinesResult> {
    let count = usize_of(p.count).min(MAX_FILTER_LINES);
    let max_line = p
        .max_line_bytes
        .map_or(DEFAULT_FILTER_LINE_BYTES, usize_of)
        .clamp(1, MAX_WHOLE_BYTES / count.max(1));
    let (entries, first, snapshot) = {
        let st = entry.lock();
        let first = match (p.first, p.around) {
            (Some(f), None) => usize_of(f),
            (None, Some(at)) => st.list.position_of(at).saturating_sub(usize_of(p.before)),
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
    let mut marks = rules.map(|_| Vec::new());
    let mut highlights_cut = false;
    for (k, (offset, line)) in entries.into_iter().enumerate() {
        let read = view
            .lines_around(usize_of(offset), 0, 1, window)
            .map_err(from_core)?;
        let Some(l) = read.into_iter().next() else {
            continue;
        };
        if let (Some(rules), Some(marks)) = (rules, marks.as_mut()) {
            if !highlights_cut {
                let shown = l.text_start..l.text_start + l.text_bytes;
                let index = lines.len();
                highlights_cut = !highlight(&view, rules, &l, shown, enc, 0, index, marks)?;
            }
        }
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
        highlights: marks,
        highlights_cut,
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
            let charset = snapshot.view().charset();
            blocking(move || LineFilter::new_in(&tree, charset).map_err(from_core)).await?
        };
        let entry = self.filters.insert(doc, tree, compiled, snapshot.clone())?;
        let client = self.client.clone();
        let token = p.work_done_token;
        let scanning = Arc::clone(&entry);
        tokio::spawn(async move {
            let progress = RequestProgress::begin(&client, token, "Filtering").await;
            let control = Arc::clone(&scanning.control);
            let work = blocking(move || {
                run_scan(&scanning, &snapshot);
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
        // The source document's rules as set when the request arrived.
        let rules = p
            .highlights
            .then(|| self.highlights.for_doc(entry.doc))
            .flatten();
        let enc = self.enc();
        blocking(move || {
            backlog.wait_for_room_blocking();
            catch_up(&entry, &docs);
            read_lines(&entry, &p, rules.as_deref(), enc)
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
        loop {
            let mut done = entry.done.subscribe();
            let _ = done.wait_for(|d| *d).await;
            let docs = Arc::clone(&self.docs);
            let e = Arc::clone(&entry);
            let info = blocking(move || {
                catch_up(&e, &docs);
                Ok(info_of(&e))
            })
            .await?;
            // A whole-document change since may have started the scan over: wait for it too.
            if info.complete || info.cancelled || info.stale || info.error.is_some() {
                // Ended by itself: nothing to cancel.
                std::mem::forget(guard);
                return Ok(info);
            }
        }
    }

    /// `tome/closeFilter`: forgets it (stopping its scan); false if it was not open.
    pub async fn close_filter(&self, p: FilterIdParams) -> Result<bool> {
        Ok(self.filters.remove(p.filter))
    }
}
