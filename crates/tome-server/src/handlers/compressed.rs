//! The handlers' side of compressed documents (see `crate::compressed`): `tome/open` of a
//! gzip or zstd file, and `tome/info`, `tome/viewport`, `tome/getText`, `tome/search`,
//! `tome/close` on one. Each plain handler calls in here first when the id is a compressed
//! document, so the plain-file path is unchanged but for one map look-up.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tome_core::Control;
use tower_lsp_server::jsonrpc::Result;

use super::{blocking, Backend, CancelOnDrop};
use crate::compressed::{self, CompressedDoc};
use crate::errors::{self, from_core};
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
                "a {}-compressed file: opened read-only (save a copy with tome/saveAs \
                 is not available yet)",
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
}
