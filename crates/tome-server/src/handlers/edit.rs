//! Changes: `tome/edit`, `tome/undo`, `tome/redo` and `tome/replaceAll`, each queued on the
//! document's worker in arrival order.

use std::sync::Arc;

use tome_core::{Control, Matcher};
use tower_lsp_server::jsonrpc::Result;

use super::{check_version, outcome, Backend, CancelOnDrop};
use crate::convert::{edit_offsets, query};
use crate::errors::from_core;
use crate::progress::RequestProgress;
use crate::protocol::*;

impl Backend {
    /// `tome/edit`. Queued before the first `.await`: see the module doc.
    pub async fn edit(&self, p: EditParams) -> Result<VersionResult> {
        let handle = self.docs.get(p.doc)?;
        let enc = self.enc();
        let rx = handle.submit(move |doc| {
            check_version(doc, Some(p.version))?;
            let view = doc.view();
            let edits = p
                .edits
                .into_iter()
                .map(|e| edit_offsets(&view, e, enc))
                .collect::<Result<Vec<_>>>()?;
            let version = doc.apply(edits).map_err(from_core)?;
            Ok(VersionResult {
                version,
                undo_steps: doc.history_len().0 as u64,
            })
        })?;
        outcome(rx).await
    }

    async fn restore(&self, p: UndoParams, redo: bool) -> Result<UndoResult> {
        let handle = self.docs.get(p.doc)?;
        let rx = handle.submit(move |doc| {
            check_version(doc, p.version)?;
            let restored = if redo { doc.redo() } else { doc.undo() };
            Ok(UndoResult {
                changed: restored.is_some(),
                version: doc.version(),
                offset: restored.map(|r| r.at as u64),
            })
        })?;
        outcome(rx).await
    }

    /// `tome/undo`.
    pub async fn undo(&self, p: UndoParams) -> Result<UndoResult> {
        self.restore(p, false).await
    }

    /// `tome/redo`.
    pub async fn redo(&self, p: UndoParams) -> Result<UndoResult> {
        self.restore(p, true).await
    }

    /// `tome/replaceAll`: a change, so it runs in queue order on the document's worker.
    pub async fn replace_all(&self, mut p: ReplaceAllParams) -> Result<ReplaceAllResult> {
        let handle = self.docs.get(p.doc)?;
        let control = Arc::new(Control::new());
        let guard = CancelOnDrop(Arc::clone(&control));
        let c = Arc::clone(&control);
        let token = p.work_done_token.take();
        // The scan runs on a snapshot without the document's lock (viewports of the document go
        // on), but inside the queue job, so changes sent after this request still apply after it.
        let rx = handle.submit_unlocked(move |h| {
            let matcher = Matcher::new(&query(&p.query)).map_err(from_core)?;
            let replacement = p.replacement.as_bytes();
            check_version(&h.lock(), p.version)?;
            // Only this queue changes content, so the plan is current when applied; should
            // anything else ever change it meanwhile, plan again on a new snapshot, never
            // scanning while holding the document.
            let mut attempts = 0;
            let (count, doc) = loop {
                let snapshot = h.lock().snapshot();
                let plan = snapshot
                    .plan_replace_all(&matcher, replacement, &c)
                    .map_err(from_core)?;
                let mut doc = h.lock();
                match doc.apply_replace_all(plan) {
                    Err(tome_core::Error::Stale(_)) if attempts < 3 => attempts += 1,
                    other => break (other.map_err(from_core)?, doc),
                }
            };
            Ok(ReplaceAllResult {
                count: count as u64,
                version: doc.version(),
            })
        })?;
        let progress = RequestProgress::begin(&self.client, token, "Replacing").await;
        let out = progress.track(&control, outcome(rx)).await;
        drop(guard);
        out
    }
}
