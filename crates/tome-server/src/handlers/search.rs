//! `tome/search`: the next match, a page of matches or a count, on a snapshot and a blocking
//! thread, so viewports and edits of the document go on meanwhile.

use std::sync::Arc;

use tome_core::{Control, Direction, Matcher, PositionEncoding, Snapshot};
use tower_lsp_server::jsonrpc::Result;

use super::{blocking, outcome, Backend, CancelOnDrop};
use crate::convert::{match_out, query, start_offset, usize_of, word_separators};
use crate::errors::from_core;
use crate::progress::RequestProgress;
use crate::protocol::*;

/// About how many bytes of JSON a match takes in a reply (for flow control).
const MATCH_BYTES: usize = 160;

fn run_search(
    snapshot: &Snapshot,
    p: &SearchParams,
    from: usize,
    enc: PositionEncoding,
    control: &Control,
) -> Result<SearchResult> {
    let matcher = Matcher::new_in(&query(&p.query), snapshot.view().charset())
        .map_err(from_core)?
        .whole_words(word_separators(&p.query)?);
    let matcher = tome_core::fault::search_windows(matcher);
    let view = snapshot.view();
    let mut result = SearchResult {
        version: snapshot.version(),
        found: None,
        matches: None,
        resume_at: None,
        count: None,
    };
    match p.mode {
        SearchMode::Next => {
            let direction = match p.direction {
                DirectionIn::Forward => Direction::Forward,
                DirectionIn::Backward => Direction::Backward,
            };
            let hit = view
                .find(&matcher, from, direction, p.wrap, control)
                .map_err(from_core)?;
            result.found = Some(hit.map(|r| match_out(&view, r, enc)));
        }
        SearchMode::All => {
            let range = match p.offsets {
                Some(o) => usize_of(o.start)..usize_of(o.end),
                None => from..view.len(),
            };
            let limit = usize_of(p.limit.unwrap_or(1000)).clamp(1, MAX_MATCHES);
            let page = view
                .find_all(&matcher, range, limit, control)
                .map_err(from_core)?;
            result.matches = Some(
                page.matches
                    .into_iter()
                    .map(|r| match_out(&view, r, enc))
                    .collect(),
            );
            result.resume_at = Some(page.resume_at.map(|r| r as u64));
        }
        SearchMode::Count => {
            let n = view.count_matches(&matcher, control).map_err(from_core)?;
            result.count = Some(n as u64);
        }
    }
    Ok(result)
}

impl Backend {
    /// `tome/search`: the snapshot is taken in queue order, the search runs on a blocking
    /// thread, so viewports and edits go on meanwhile.
    pub async fn search(&self, mut p: SearchParams) -> Result<SearchResult> {
        if let Some(doc) = self.docs.compressed(p.doc) {
            return self.search_compressed(doc, p).await;
        }
        let handle = self.docs.get(p.doc)?;
        let enc = self.enc();
        let from = p.from.take();
        let backward = p.direction == DirectionIn::Backward;
        let (snapshot, from) = outcome(handle.submit(move |doc| {
            let at = match from {
                // Without a start, search from the start (forward) or the end (backward).
                None if backward => doc.len(),
                None => 0,
                Some(f) => start_offset(&doc.view(), f, enc)?,
            };
            Ok((doc.snapshot(), at))
        })?)
        .await?;
        let control = Arc::new(Control::new());
        let _guard = CancelOnDrop(Arc::clone(&control));
        let progress =
            RequestProgress::begin(&self.client, p.work_done_token.take(), "Searching").await;
        let c = Arc::clone(&control);
        let backlog = Arc::clone(&self.backlog);
        let work = blocking(move || {
            // Flow control, as on the document's worker (a page of matches is up to ~2 MB).
            backlog.wait_for_room_blocking();
            tome_core::fault::slow_search(&p.query.pattern, &c);
            let found = run_search(&snapshot, &p, from, enc, &c)?;
            let n = found.matches.as_ref().map_or(1, Vec::len);
            let made = backlog.reserve(n * MATCH_BYTES);
            Ok((found, made))
        });
        let (found, _made) = progress.track(&control, work).await?;
        Ok(found)
    }
}
