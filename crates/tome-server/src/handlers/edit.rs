//! Changes: `tome/edit`, `tome/undo`, `tome/redo`, `tome/replaceAll` and `tome/deleteLines`,
//! each queued on the
//! document's worker in arrival order.

use std::sync::Arc;

use tome_core::{Control, Matcher};
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::ProgressToken;

use super::{check_version, outcome, Backend, CancelOnDrop};
use crate::convert::{edit_offsets, query, word_separators};
use crate::errors::{from_core, invalid_params};
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
                .enumerate()
                .map(|(i, e)| edit_offsets(&view, e, i, enc))
                .collect::<Result<Vec<_>>>()?;
            match p.undo {
                UndoGroup::Auto => {}
                UndoGroup::New => doc.break_undo_group(),
                UndoGroup::Join => doc.join_undo_group(),
            }
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
        let token = p.work_done_token.take();
        let scope = scope(p.offsets, p.per_line == PerLine::First)?;
        let replacement = p.replacement;
        let dry_run = p.dry_run;
        let (count, lines, last_line, version) = self
            .whole_change(
                p.doc,
                p.version,
                &p.query,
                token,
                "Replacing",
                dry_run,
                move |snapshot, m, c| {
                    // Written in the document's encoding (never replaced silently).
                    let charset = snapshot.view().charset();
                    let bytes = charset.encode(&replacement).map_err(|character| {
                        tome_core::Error::Unrepresentable {
                            encoding: charset.name().to_owned(),
                            character,
                            what: ", in the replacement".into(),
                        }
                    })?;
                    snapshot.plan_replace_in(m, &bytes, &scope, c)
                },
            )
            .await?;
        Ok(ReplaceAllResult {
            count,
            lines,
            last_line,
            version,
        })
    }

    /// `tome/deleteLines`: a change, so it runs in queue order on the document's worker.
    pub async fn delete_lines(&self, mut p: DeleteLinesParams) -> Result<DeleteLinesResult> {
        let token = p.work_done_token.take();
        let scope = scope(p.offsets, false)?;
        let invert = p.invert;
        let (count, _, last_line, version) = self
            .whole_change(
                p.doc,
                p.version,
                &p.query,
                token,
                "Deleting lines",
                false,
                move |snapshot, m, c| snapshot.plan_delete_lines(m, &scope, invert, c),
            )
            .await?;
        Ok(DeleteLinesResult {
            count,
            last_line,
            version,
        })
    }

    /// A whole-document change planned by `plan` on a snapshot: queued in order, with progress
    /// and cancellation. The scan runs without the document's lock (viewports of the document
    /// go on), but inside the queue job, so changes sent after this request still apply after
    /// it. Returns (count, lines, the line of the last change, version).
    #[allow(clippy::too_many_arguments)]
    async fn whole_change(
        &self,
        doc: u64,
        version: Option<u64>,
        query_in: &QueryIn,
        token: Option<ProgressToken>,
        title: &str,
        dry_run: bool,
        plan: impl Fn(
                &tome_core::Snapshot,
                &Matcher,
                &Control,
            ) -> tome_core::Result<tome_core::PlannedChange>
            + Send
            + 'static,
    ) -> Result<(u64, u64, Option<u64>, u64)> {
        let handle = self.docs.get(doc)?;
        let control = Arc::new(Control::new());
        let guard = CancelOnDrop(Arc::clone(&control));
        let c = Arc::clone(&control);
        let q = query(query_in);
        let words = word_separators(query_in)?;
        let rx = handle.submit_unlocked(move |h| {
            let charset = h.lock().encoding().charset();
            let matcher = Matcher::new_in(&q, charset)
                .map_err(from_core)?
                .whole_words(words);
            check_version(&h.lock(), version)?;
            // Only this queue changes content, so the plan is current when applied; should
            // anything else ever change it meanwhile, plan again on a new snapshot, never
            // scanning while holding the document.
            let mut attempts = 0;
            loop {
                let snapshot = h.lock().snapshot();
                let planned = plan(&snapshot, &matcher, &c).map_err(from_core)?;
                let mut doc = h.lock();
                if dry_run {
                    let (count, lines) = (planned.count() as u64, planned.lines() as u64);
                    return Ok((count, lines, None, doc.version()));
                }
                let (lines, last_at) = (planned.lines() as u64, planned.last_at());
                match doc.apply_planned(planned) {
                    Err(tome_core::Error::Stale(_)) if attempts < 3 => attempts += 1,
                    other => {
                        let count = other.map_err(from_core)? as u64;
                        let last_line = (count > 0)
                            .then(|| doc.view().line_of(last_at).ok())
                            .flatten()
                            .map(|l| l as u64);
                        return Ok((count, lines, last_line, doc.version()));
                    }
                }
            }
        })?;
        let progress = RequestProgress::begin(&self.client, token, title).await;
        let out = progress.track(&control, outcome(rx)).await;
        drop(guard);
        if !dry_run {
            // The plan and the trees it replaced are freed by now; the allocator would keep
            // them (hundreds of MiB after a big replace-all).
            tome_core::trim_freed_memory();
        }
        out
    }
}

/// The scope of a line-wise change: `offsets` (whole lines) or the whole document.
fn scope(offsets: Option<Offsets>, first_per_line: bool) -> Result<tome_core::Scope> {
    let range = match offsets {
        Some(o) if o.start > o.end => {
            return Err(invalid_params("`offsets.start` is after `offsets.end`"))
        }
        Some(o) => Some(o.start as usize..o.end as usize),
        None => None,
    };
    Ok(tome_core::Scope {
        range,
        first_per_line,
    })
}
