//! The filter views a session keeps: by id, each a [`tome_core::filter::LineFilter`] with the
//! list of lines it matched so far, the snapshot of the source it scans, and the state of its
//! background scan. `handlers/filter.rs` makes, reads and closes them.
//!
//! Bounded: at most [`MAX_FILTERS`] at once (a filter holds a snapshot of its document's
//! buffers, so the file stays mapped while it lives, and its list of matched lines).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tome_core::filter::{FilterQuery, LineFilter, MatchList};
use tome_core::{Control, Snapshot};
use tower_lsp_server::jsonrpc;

use crate::errors;

/// Most filters one session keeps open.
pub const MAX_FILTERS: usize = 64;

/// One filter view.
pub struct FilterEntry {
    /// Its id.
    pub id: u64,
    /// The source document's id.
    pub doc: u64,
    /// The query, as given (composed with the parent's for a filter of a filter).
    pub query: FilterQuery,
    /// The compiled query.
    pub filter: LineFilter,
    /// Cancels the background scan (closing the filter, cancelling a `tome/filterWait`).
    pub control: Arc<Control>,
    /// True once the background scan ended (complete, cancelled or failed).
    pub done: tokio::sync::watch::Sender<bool>,
    state: Mutex<FilterState>,
}

/// What a filter has found so far.
pub struct FilterState {
    /// Matched lines, in order.
    pub list: MatchList,
    /// The source version scanned.
    pub snapshot: Snapshot,
    /// Bytes of `snapshot` scanned so far.
    pub scanned: usize,
    /// The whole snapshot is scanned.
    pub complete: bool,
    /// The scan was cancelled.
    pub cancelled: bool,
    /// The source was closed.
    pub stale: bool,
    /// The scan failed.
    pub error: Option<String>,
}

impl FilterState {
    /// Matched lines so far.
    pub fn matched(&self) -> usize {
        self.list.len()
    }

    /// Adds lines found by a scan.
    pub fn take(&mut self, found: &[(u64, u64)]) {
        for &(offset, line) in found {
            self.list.push(offset, line);
        }
    }

    /// Matched lines `range` (clamped), `(offset, line)`. O(range + 64).
    pub fn lines(&self, range: std::ops::Range<usize>) -> Vec<(u64, u64)> {
        self.list.get_range(range)
    }

    /// Starts over on `snapshot`: empty, incomplete.
    pub fn restart(&mut self, snapshot: Snapshot) {
        self.list = MatchList::new();
        self.snapshot = snapshot;
        self.scanned = 0;
        self.complete = false;
        self.cancelled = false;
        self.error = None;
    }
}

impl FilterEntry {
    /// Locks the state (briefly: scans push a chunk's lines at a time).
    pub fn lock(&self) -> MutexGuard<'_, FilterState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The session's filters.
#[derive(Default)]
pub struct Filters {
    next: AtomicU64,
    map: Mutex<HashMap<u64, Arc<FilterEntry>>>,
}

impl Filters {
    /// Keeps a new filter of `doc` scanning `snapshot`. Errors: -33017 `tooLarge` past
    /// [`MAX_FILTERS`].
    pub fn insert(
        &self,
        doc: u64,
        query: FilterQuery,
        filter: LineFilter,
        snapshot: Snapshot,
    ) -> Result<Arc<FilterEntry>, jsonrpc::Error> {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_FILTERS {
            return Err(errors::error(
                errors::TOO_LARGE,
                "tooLarge",
                format!("at most {MAX_FILTERS} filters may be open at once: close one first"),
            ));
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let entry = Arc::new(FilterEntry {
            id,
            doc,
            query,
            filter,
            control: Arc::new(Control::new()),
            done: tokio::sync::watch::channel(false).0,
            state: Mutex::new(FilterState {
                list: MatchList::new(),
                snapshot,
                scanned: 0,
                complete: false,
                cancelled: false,
                stale: false,
                error: None,
            }),
        });
        map.insert(id, Arc::clone(&entry));
        Ok(entry)
    }

    /// The filter `id`. Errors: -33018 `unknownFilter`.
    pub fn get(&self, id: u64) -> Result<Arc<FilterEntry>, jsonrpc::Error> {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&id)
            .cloned()
            .ok_or_else(|| errors::unknown_filter(id))
    }

    /// Forgets filter `id` and stops its scan; false if there was none.
    pub fn remove(&self, id: u64) -> bool {
        let removed = self
            .map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
        if let Some(e) = &removed {
            e.control.cancel();
        }
        removed.is_some()
    }
}
