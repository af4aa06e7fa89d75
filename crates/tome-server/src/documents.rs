//! Open documents: the registry (id → document) and each document's ordered change queue.
//!
//! Readers (viewport, info, taking a snapshot for search or save) lock the document briefly,
//! always on a blocking thread, never on the thread that dispatches messages. Changes (edits,
//! undo, redo, replace-all, the start of a save) do not lock from the handler: the handler
//! puts them on the document's queue in the order the requests arrived, and one worker thread
//! per document applies them in that order. That is what makes "send edit v1, v2, v3 without
//! waiting" safe although request handlers run concurrently: see `session.rs` for how arrival
//! order is kept up to the queue.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, MutexGuard};

use tome_core::Document;
use tower_lsp_server::jsonrpc;

use crate::errors;
use crate::transport::Backlog;

/// A change to run on the document's worker, in queue order. It locks the document itself
/// (see [`DocHandle::submit_unlocked`]).
type Job = Box<dyn FnOnce(&DocHandle) + Send>;

/// One open document.
pub struct DocHandle {
    /// The id clients use.
    pub id: u64,
    doc: Mutex<Document>,
    queue: Mutex<Option<mpsc::Sender<Job>>>,
    /// Set by `tome/close`: waits on the index give up.
    pub closed: AtomicBool,
    /// A save is running (only one at a time: a second one is refused).
    pub saving: AtomicBool,
    /// The last change on disk reported to the client (so each is reported once).
    pub disk_state: Mutex<Option<&'static str>>,
    /// The path being watched for this document.
    pub watched: Mutex<Option<std::path::PathBuf>>,
    /// A journal of an earlier session found at open, until recovered or discarded.
    pub recoverable: Mutex<Option<tome_core::journal::Recoverable>>,
}

impl DocHandle {
    /// Locks the document. Call only from blocking threads: a change may hold the lock for a
    /// while (the start of a save takes a snapshot; a replace-all holds it only to take a
    /// snapshot and to apply its plan, not during its scan). A panic while locked does not make it unusable: the
    /// engine's operations are all-or-nothing, so the document is still consistent.
    pub fn lock(&self) -> MutexGuard<'_, Document> {
        self.doc.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `job` behind every change queued before it; the result comes back through the
    /// returned receiver. Does not block. Fails if the document was closed.
    pub fn submit<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Document) -> Result<T, jsonrpc::Error> + Send + 'static,
    ) -> Result<tokio::sync::oneshot::Receiver<Result<T, jsonrpc::Error>>, jsonrpc::Error> {
        self.submit_unlocked(move |h: &DocHandle| job(&mut h.lock()))
    }

    /// Like [`DocHandle::submit`], but the job gets the handle and locks the document only when
    /// it needs to: later changes still wait for it (queue order), while readers can go on
    /// between its locks. For long changes whose work can run on a snapshot (replace-all).
    pub fn submit_unlocked<T: Send + 'static>(
        &self,
        job: impl FnOnce(&DocHandle) -> Result<T, jsonrpc::Error> + Send + 'static,
    ) -> Result<tokio::sync::oneshot::Receiver<Result<T, jsonrpc::Error>>, jsonrpc::Error> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |handle: &DocHandle| {
            let outcome = catch_unwind(AssertUnwindSafe(|| job(handle))).unwrap_or_else(|_| {
                Err(errors::internal(
                    "internal error while changing the document",
                ))
            });
            // The requester may have been cancelled; the change stands either way.
            let _ = tx.send(outcome);
        });
        let queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        match queue.as_ref().map(|q| q.send(job)) {
            Some(Ok(())) => Ok(rx),
            _ => Err(errors::unknown_document(self.id)),
        }
    }
}

/// All open documents.
pub struct Registry {
    docs: Mutex<HashMap<u64, Arc<DocHandle>>>,
    next_id: AtomicU64,
    backlog: Arc<Backlog>,
}

impl Registry {
    /// An empty registry whose workers start a job only while `backlog` has room.
    pub fn new(backlog: Arc<Backlog>) -> Registry {
        Registry {
            docs: Mutex::default(),
            next_id: AtomicU64::new(0),
            backlog,
        }
    }

    /// Registers `doc` and starts its worker; returns its handle.
    pub fn insert(&self, doc: Document) -> Arc<DocHandle> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let (tx, rx) = mpsc::channel::<Job>();
        let handle = Arc::new(DocHandle {
            id,
            doc: Mutex::new(doc),
            queue: Mutex::new(Some(tx)),
            closed: AtomicBool::new(false),
            saving: AtomicBool::new(false),
            disk_state: Mutex::new(None),
            watched: Mutex::new(None),
            recoverable: Mutex::new(None),
        });
        let worker = Arc::clone(&handle);
        let backlog = Arc::clone(&self.backlog);
        let spawned = std::thread::Builder::new()
            .name(format!("tome-doc-{id}"))
            .spawn(move || {
                // Ends when the document is closed (sender dropped) and the queue is drained.
                while let Ok(job) = rx.recv() {
                    // Flow control: while the client leaves a full output queue unread, make
                    // no more replies for it (jobs wait here, in order).
                    backlog.wait_for_room_blocking();
                    job(&worker);
                }
            });
        if let Err(e) = spawned {
            tracing::error!("cannot start the worker of document {id}: {e}");
            *handle.queue.lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
        self.docs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, Arc::clone(&handle));
        handle
    }

    /// The document with this id.
    pub fn get(&self, id: u64) -> Result<Arc<DocHandle>, jsonrpc::Error> {
        self.docs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .cloned()
            .ok_or_else(|| errors::unknown_document(id))
    }

    /// Every open document.
    pub fn all(&self) -> Vec<Arc<DocHandle>> {
        self.docs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// Removes the document. Queued changes still run; later requests get "unknown document".
    pub fn remove(&self, id: u64) -> Result<Arc<DocHandle>, jsonrpc::Error> {
        let handle = self
            .docs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id)
            .ok_or_else(|| errors::unknown_document(id))?;
        handle.closed.store(true, Ordering::Release);
        *handle.queue.lock().unwrap_or_else(|e| e.into_inner()) = None;
        Ok(handle)
    }
}
