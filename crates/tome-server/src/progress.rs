//! `$/progress` reporting (LSP work-done progress: begin, report with a percentage, end).
//!
//! Two kinds: long requests (search, replace-all, save) report on the `workDoneToken` the
//! client put in the request, so no token has to be created; indexing is started by the server,
//! so it creates its token with `window/workDoneProgress/create` first, and only if the client
//! said it supports that (`capabilities.window.workDoneProgress`).

use std::sync::Arc;
use std::time::Duration;

use tome_core::Control;
use tower_lsp_server::ls_types::{NumberOrString, ProgressToken};
use tower_lsp_server::{Bounded, Client, NotCancellable, OngoingProgress};

use crate::documents::DocHandle;

/// How often progress is reported.
pub const INTERVAL: Duration = Duration::from_millis(100);
/// How long to wait for the client to accept a token.
const CREATE_TIMEOUT: Duration = Duration::from_secs(5);

type Ongoing = OngoingProgress<Bounded, NotCancellable>;

/// Progress of one request on the client's token. Sends `end` when dropped, so a cancelled
/// request still closes its progress.
pub struct RequestProgress {
    ongoing: Option<Ongoing>,
}

impl RequestProgress {
    /// Sends `begin` if the client gave a token; otherwise reports nothing.
    pub async fn begin(client: &Client, token: Option<ProgressToken>, title: &str) -> Self {
        let ongoing = match token {
            Some(token) => Some(
                client
                    .progress(token, title)
                    .with_percentage(0)
                    .begin()
                    .await,
            ),
            None => None,
        };
        RequestProgress { ongoing }
    }

    /// Awaits `work`, reporting the percentage `control` shows every [`INTERVAL`].
    pub async fn track<T>(
        &self,
        control: &Control,
        work: impl std::future::Future<Output = T>,
    ) -> T {
        tokio::pin!(work);
        let mut tick = tokio::time::interval(INTERVAL);
        tick.tick().await;
        let mut last = 0;
        loop {
            tokio::select! {
                out = &mut work => return out,
                _ = tick.tick() => {
                    if let Some(p) = &self.ongoing {
                        let pct = percent(control.progress());
                        if pct != last {
                            last = pct;
                            p.report(pct).await;
                        }
                    }
                }
            }
        }
    }
}

impl Drop for RequestProgress {
    fn drop(&mut self) {
        if let Some(p) = self.ongoing.take() {
            // Drop cannot await: finish on the runtime.
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(p.finish());
            }
        }
    }
}

fn percent((done, total): (u64, u64)) -> u32 {
    if total == 0 {
        0
    } else {
        (done.min(total) as u128 * 100 / total as u128) as u32
    }
}

/// The token on which indexing of document `doc` is reported.
pub fn index_token(doc: u64) -> String {
    format!("tome/index/{doc}")
}

/// The token for indexing a document again after `tome/reload` (tokens are not reused).
pub fn reindex_token(doc: u64, version: u64) -> String {
    format!("tome/index/{doc}/{version}")
}

/// Reports the indexing of `handle` on `token` until it completes or the document is closed.
/// Runs as its own task; creates the token first.
pub async fn report_indexing(client: Client, handle: Arc<DocHandle>, token: String) {
    let token = NumberOrString::String(token);
    match tokio::time::timeout(
        CREATE_TIMEOUT,
        client.create_work_done_progress(token.clone()),
    )
    .await
    {
        Ok(Ok(())) => {}
        other => {
            tracing::debug!("client did not accept progress token: {other:?}");
            return;
        }
    }
    let title = "Indexing";
    let p = client
        .progress(token, title)
        .with_percentage(0)
        .begin()
        .await;
    let mut last = 0;
    loop {
        tokio::time::sleep(INTERVAL).await;
        if handle.closed.load(std::sync::atomic::Ordering::Acquire) {
            break;
        }
        let h = Arc::clone(&handle);
        // The lock may be held by a long change: read on a blocking thread.
        let Ok(progress) = tokio::task::spawn_blocking(move || h.lock().index_progress()).await
        else {
            break;
        };
        if progress.complete || progress.failed.is_some() {
            break;
        }
        let pct = progress.percent().min(99);
        if pct != last {
            last = pct;
            p.report(pct).await;
        }
    }
    p.finish().await;
}

/// Reports the decompression pass of a compressed document on `token` until it ends or the
/// document is closed (as [`report_indexing`] does for a plain one).
pub async fn report_unzipping(
    client: Client,
    doc: Arc<crate::compressed::CompressedDoc>,
    token: String,
) {
    let token = NumberOrString::String(token);
    match tokio::time::timeout(
        CREATE_TIMEOUT,
        client.create_work_done_progress(token.clone()),
    )
    .await
    {
        Ok(Ok(())) => {}
        other => {
            tracing::debug!("client did not accept progress token: {other:?}");
            return;
        }
    }
    let p = client
        .progress(token, "Indexing")
        .with_percentage(0)
        .begin()
        .await;
    let mut last = 0;
    loop {
        tokio::time::sleep(INTERVAL).await;
        if doc.closed.load(std::sync::atomic::Ordering::Acquire) {
            break;
        }
        // (a lock held only briefly by the pass: no blocking thread needed)
        let progress = doc.text.progress();
        if progress.done {
            break;
        }
        let pct = progress.percent().min(99);
        if pct != last {
            last = pct;
            p.report(pct).await;
        }
    }
    p.finish().await;
}
