//! The handlers' side of compressed documents (see `crate::compressed`): `tome/open` of a
//! gzip or zstd file, and `tome/info`, `tome/viewport`, `tome/getText`, `tome/search`,
//! `tome/saveAs` (a plain or recompressed copy) and `tome/close` on one. Each plain handler
//! calls in here first when the id is a compressed document, so the plain-file path is
//! unchanged but for one map look-up.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tome_core::Control;
use tower_lsp_server::jsonrpc::Result;

use super::{blocking, Backend, CancelOnDrop};
use crate::compressed::{self, CompressedDoc};
use crate::errors::{self, from_core, invalid_params};
use crate::progress::{self, RequestProgress};
use crate::protocol::*;

/// How often a viewport waiting for the pass looks again.
const POLL: std::time::Duration = std::time::Duration::from_millis(10);

impl Backend {
    /// `tome/open` of a compressed file: registers it read-only and starts its pass.
    pub(super) async fn open_compressed(
        &self,
        path: std::path::PathBuf,
        first_viewport: Option<ViewportParams>,
    ) -> Result<DocInfo> {
        let p = path.clone();
        let text =
            blocking(move || tome_compressed::Compressed::open(&p).map_err(compressed::error_of))
                .await?;
        let (id, doc) = self.docs.insert_compressed(CompressedDoc {
            path,
            text,
            closed: Default::default(),
        });
        let mut info = compressed::info(id, &doc);
        info.warnings.push(Warning {
            kind: "readOnlyCompressed",
            message: format!(
                "a {}-compressed file: opened read-only (tome/saveAs writes a copy: plain \
                 text, or compressed again when its name ends in .gz or .zst)",
                doc.text.format().name()
            ),
            path: None,
        });
        if let Some(mut v) = first_viewport {
            v.doc = id;
            // The first screen is decoded in milliseconds: wait for it, so that it is whole.
            v.wait = true;
            info.viewport = Some(
                self.viewport(v)
                    .await
                    .map_err(|e| tracing::debug!("the open's viewport: {}", e.message))
                    .ok(),
            );
        }
        if self.client_progress.load(Ordering::Relaxed) && !info.index_complete {
            let token = progress::index_token(id);
            info.index_progress_token = Some(token.clone());
            tokio::spawn(progress::report_unzipping(
                self.client.clone(),
                Arc::clone(&doc),
                token,
            ));
        }
        Ok(info)
    }

    /// `tome/info` of a compressed document.
    pub(super) fn info_compressed(&self, id: u64, doc: &CompressedDoc) -> DocInfo {
        compressed::info(id, doc)
    }

    /// `tome/viewport` of a compressed document; with `wait`, waits for the pass to reach the
    /// lines asked for.
    pub(super) async fn viewport_compressed(
        &self,
        doc: Arc<CompressedDoc>,
        p: &ViewportParams,
    ) -> Result<ViewportResult> {
        let req = self.viewport_request(p)?;
        let wait = p.wait;
        let control = Arc::new(Control::new());
        let _guard = CancelOnDrop(Arc::clone(&control));
        let backlog = Arc::clone(&self.backlog);
        blocking(move || loop {
            let cancel = || control.is_cancelled() || doc.closed.load(Ordering::Acquire);
            backlog.wait_for_room_blocking();
            match compressed::viewport(&doc, &req, wait, &cancel) {
                Err(e) if wait && e.code.code() == errors::NOT_INDEXED_YET => {}
                other => return other,
            }
            if cancel() {
                return Err(from_core(tome_core::Error::Cancelled));
            }
            std::thread::sleep(POLL);
        })
        .await
    }

    /// `tome/getText` of a compressed document.
    pub(super) async fn get_text_compressed(
        &self,
        doc: Arc<CompressedDoc>,
        p: GetTextParams,
        max: u64,
    ) -> Result<GetTextResult> {
        let enc = self.enc();
        let control = Arc::new(Control::new());
        let _guard = CancelOnDrop(Arc::clone(&control));
        blocking(move || {
            let cancel = || control.is_cancelled();
            compressed::get_text(&doc, &p, enc, max, &cancel)
        })
        .await
    }

    /// `tome/search` of a compressed document (waits for the pass first).
    pub(super) async fn search_compressed(
        &self,
        doc: Arc<CompressedDoc>,
        mut p: SearchParams,
    ) -> Result<SearchResult> {
        let enc = self.enc();
        let control = Arc::new(Control::new());
        let _guard = CancelOnDrop(Arc::clone(&control));
        let progress =
            RequestProgress::begin(&self.client, p.work_done_token.take(), "Searching").await;
        let c = Arc::clone(&control);
        let work = blocking(move || {
            let cancel = || c.is_cancelled() || doc.closed.load(Ordering::Acquire);
            let report = |done: u64, total: u64| c.set_progress(done, total);
            compressed::search(&doc, &p, enc, &cancel, &report)
        });
        progress.track(&control, work).await
    }

    /// `tome/saveAs` of a compressed document: its whole text, written as plain text or
    /// compressed again as the new name says (`.gz`, `.zst`; `.bz2`, `.xz`… are refused rather
    /// than given plain text), by the rename save's steps (`tome_core::save::save_new_file`:
    /// atomic, the old file's mode kept). Waits for the pass (the text's length), then
    /// decompresses the text once more in order, reporting progress. The document stays as it
    /// is (read-only, on the compressed file).
    pub(super) async fn save_as_compressed(
        &self,
        doc: Arc<CompressedDoc>,
        mut p: SaveParams,
    ) -> Result<SaveResult> {
        let target = match p.path.take() {
            Some(path) if !path.is_empty() => std::path::PathBuf::from(path),
            _ => return Err(invalid_params("`tome/saveAs` needs a non-empty `path`")),
        };
        if p.method
            .as_deref()
            .is_some_and(|m| m != "auto" && m != "rename")
        {
            return Err(invalid_params(
                "a copy of a compressed document is written whole: `method` may only be \
                 \"auto\" or \"rename\"",
            ));
        }
        let format = match tome_compressed::target_of(&target) {
            tome_compressed::Target::Plain => None,
            tome_compressed::Target::Compressed(f) => Some(f),
            tome_compressed::Target::Unsupported(name) => {
                return Err(invalid_params(format!(
                    "Tome cannot write {name}-compressed files: save the copy under a name \
                     ending in .gz or .zst, or a plain name"
                )))
            }
        };
        let control = Arc::new(Control::new());
        let _guard = CancelOnDrop(Arc::clone(&control));
        let progress =
            RequestProgress::begin(&self.client, p.work_done_token.take(), "Saving").await;
        let c = Arc::clone(&control);
        let work = blocking(move || {
            let cancel = || c.is_cancelled() || doc.closed.load(Ordering::Acquire);
            let len = doc.text.wait(&cancel).map_err(compressed::error_of)?;
            let report = tome_core::save::save_new_file(&target, len, &c, |file| {
                compressed::write_copy(&doc, file, &target, len, format, &cancel, &c)
            })
            .map_err(from_core)?;
            Ok(SaveResult {
                path: report.path.display().to_string(),
                bytes: report.bytes,
                method: report.method.name(),
                from: 0,
                written: report.written,
                backed_up: 0,
                version: 0,
                elapsed_ms: report.elapsed.as_millis() as u64,
            })
        });
        progress.track(&control, work).await
    }
}
