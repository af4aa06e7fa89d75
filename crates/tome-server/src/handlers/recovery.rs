//! Crash recovery: `tome/recover`, `tome/recoverAsNew` and `tome/discardRecovery` act on the
//! journal of an earlier session that `tome/open` found.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use serde_json::json;
use tome_core::Document;
use tower_lsp_server::jsonrpc::Result;

use super::{blocking, outcome, Backend};
use crate::convert::info_of;
use crate::errors::{self, from_core, invalid_params};
use crate::progress;
use crate::protocol::*;

impl Backend {
    /// `tome/recover`: replays the journal of an earlier session found at open.
    pub async fn recover(&self, p: DocParams) -> Result<RecoverResult> {
        let handle = self.docs.get(p.doc)?;
        let found = {
            let slot = handle.recoverable.lock().unwrap_or_else(|e| e.into_inner());
            if slot.as_ref().is_some_and(|f| !f.fits) {
                return Err(errors::error(
                    errors::FILE_CHANGED,
                    "fileChanged",
                    "the file changed since these changes were journaled: they can only be \
                     recovered into a new document (tome/recoverAsNew)",
                ));
            }
            slot.clone()
                .ok_or_else(|| invalid_params("this document has nothing to recover"))?
        };
        // The journal stays on offer until it is applied: a refusal (edited first) keeps it.
        let h = Arc::clone(&handle);
        outcome(handle.submit(move |doc| {
            let (applied, stopped_early) = doc.recover(found).map_err(from_core)?;
            *h.recoverable.lock().unwrap_or_else(|e| e.into_inner()) = None;
            Ok(RecoverResult {
                applied: applied as u64,
                stopped_early,
                version: doc.version(),
            })
        })?)
        .await
    }

    /// `tome/recoverAsNew`: replays the journal found at open into a new untitled document
    /// (the file as it is now, with the journal's changes). The journal stays until
    /// `tome/discardRecovery`.
    pub async fn recover_as_new(&self, p: DocParams) -> Result<RecoverAsNewResult> {
        let handle = self.docs.get(p.doc)?;
        let found = handle
            .recoverable
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| invalid_params("this document has nothing to recover"))?;
        let (new, applied, stopped_early) =
            outcome(handle.submit(move |doc| doc.recover_as_new(&found).map_err(from_core))?)
                .await?;
        let new = self.docs.insert(new);
        let h = Arc::clone(&new);
        let mut document = blocking(move || Ok(info_of(h.id, &mut h.lock(), None))).await?;
        if self.client_progress.load(Ordering::Relaxed) && !document.index_complete {
            let token = progress::index_token(new.id);
            document.index_progress_token = Some(token.clone());
            tokio::spawn(progress::report_indexing(self.client.clone(), new, token));
        }
        Ok(RecoverAsNewResult {
            document,
            applied: applied as u64,
            stopped_early,
        })
    }

    /// `tome/discardRecovery`: deletes the journal of an earlier session found at open.
    pub async fn discard_recovery(&self, p: DocParams) -> Result<serde_json::Value> {
        let handle = self.docs.get(p.doc)?;
        let found = handle
            .recoverable
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let discarded = found.is_some();
        if let Some(found) = found {
            blocking(move || {
                Document::discard_recovery(found);
                Ok(())
            })
            .await?;
        }
        Ok(json!({ "discarded": discarded }))
    }
}
