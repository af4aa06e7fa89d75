//! `tome/save` and `tome/saveAs`: started in queue order, then written on a thread of the
//! save's own ([`SaveWriter`]), one save of a document at a time.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tome_core::Control;
use tower_lsp_server::jsonrpc::Result;

use super::{outcome, Backend, CancelOnDrop};
use crate::documents::DocHandle;
use crate::errors::{self, from_core, invalid_params};
use crate::progress::RequestProgress;
use crate::protocol::*;

impl Backend {
    /// `tome/save`.
    pub async fn save(&self, p: SaveParams) -> Result<SaveResult> {
        self.save_to(p, false).await
    }

    /// `tome/saveAs`.
    pub async fn save_as(&self, p: SaveParams) -> Result<SaveResult> {
        if let Some(doc) = self.docs.compressed(p.doc) {
            return self.save_as_compressed(doc, p).await;
        }
        self.save_to(p, true).await
    }

    async fn save_to(&self, mut p: SaveParams, as_new: bool) -> Result<SaveResult> {
        let target = match (as_new, p.path.take()) {
            (true, Some(path)) if !path.is_empty() => Some(std::path::PathBuf::from(path)),
            (true, _) => return Err(invalid_params("`tome/saveAs` needs a non-empty `path`")),
            (false, _) => None,
        };
        let choice = match p.method.as_deref() {
            None | Some("auto") => tome_core::SaveChoice::Auto,
            Some("rename") => tome_core::SaveChoice::Rename,
            Some("inPlace") => tome_core::SaveChoice::InPlace,
            Some(other) => {
                return Err(invalid_params(format!(
                    "`method` must be \"auto\", \"rename\" or \"inPlace\", not {other:?}"
                )))
            }
        };
        let handle = self.docs.get(p.doc)?;
        let control = Arc::new(Control::new());
        let _guard = CancelOnDrop(Arc::clone(&control));
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        let writer = SaveWriter {
            handle: Arc::clone(&handle),
            control: Arc::clone(&control),
            done: done_tx,
        };
        // Started in queue order, so the save holds every change sent before it. Saves of one
        // document run one at a time: this one waits (holding its place in the queue, not the
        // document's lock) for an earlier one to finish, which a cancelled one does quickly.
        // From then on the save belongs to its own thread: a cancelled request stops it through
        // `control`, and the document always learns how it ended.
        outcome(handle.submit_unlocked(move |h| {
            wait_for_earlier_save(h)?;
            let begun = {
                let mut doc = h.lock();
                let version = doc.version();
                doc.begin_save(target.as_deref()).map(|mut job| {
                    job.set_choice(choice);
                    (job, version)
                })
            };
            match begun {
                Ok((job, version)) => writer.spawn(job, version),
                Err(e) => {
                    h.saving.end();
                    Err(from_core(e))
                }
            }
        })?)
        .await?;
        let progress =
            RequestProgress::begin(&self.client, p.work_done_token.take(), "Saving").await;
        let finished = async {
            done_rx
                .await
                .unwrap_or_else(|_| Err(errors::internal("the save stopped without an answer")))
        };
        let out = progress.track(&control, finished).await;
        if let Ok(done) = &out {
            // Watch where the document now lives (unless a close sent meanwhile has stopped
            // watching it); look again for changes made during the save.
            if !handle.closed.load(Ordering::Acquire) {
                self.watch(&handle, std::path::PathBuf::from(&done.path))
                    .await;
            }
            self.watcher.poke();
        }
        out
    }
}

/// The writing part of a save, on a thread of its own: writes, records the outcome in the
/// document, clears `saving`, answers through `done` (if the request still waits).
struct SaveWriter {
    handle: Arc<DocHandle>,
    control: Arc<Control>,
    done: tokio::sync::oneshot::Sender<Result<SaveResult>>,
}

impl SaveWriter {
    fn spawn(self, job: tome_core::SaveJob, version: u64) -> Result<()> {
        let handle = Arc::clone(&self.handle);
        let spawned = std::thread::Builder::new()
            .name(format!("tome-save-{}", handle.id))
            .spawn(move || self.run(job, version));
        spawned.map(|_| ()).map_err(|e| {
            handle.saving.end();
            errors::internal(format!("cannot start the save: {e}"))
        })
    }

    fn run(self, job: tome_core::SaveJob, version: u64) {
        let ran = job.run(&self.control);
        let finished = self.handle.lock().finish_save(job, ran);
        self.handle.saving.end();
        let answer = finished.map_err(from_core).map(|report| SaveResult {
            path: report.path.display().to_string(),
            bytes: report.bytes,
            method: report.method.name(),
            from: report.from,
            written: report.total_written(),
            backed_up: report.backed_up,
            version,
            elapsed_ms: report.elapsed.as_millis() as u64,
        });
        let _ = self.done.send(answer);
    }
}

/// Waits (on the document's worker) until no save of `h` is running.
pub(super) fn wait_for_saves(h: &DocHandle) {
    h.saving.wait_idle();
}

/// How long a save waits for an earlier save of the same document before answering busy.
const SAVE_WAIT: std::time::Duration = std::time::Duration::from_secs(120);

/// Marks a save of `h` as running, after waiting for an earlier one to finish (on the
/// document's worker thread: later changes keep waiting behind this save). A close sent after
/// this save does not cut the wait short: it is queued behind it.
fn wait_for_earlier_save(h: &DocHandle) -> Result<()> {
    if h.saving.begin(SAVE_WAIT) {
        Ok(())
    } else {
        Err(errors::error(
            errors::BUSY,
            "busy",
            "a save of this document is still running",
        ))
    }
}
