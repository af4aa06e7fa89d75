//! Open documents: the registry (id → document) and each document's ordered change queue.
//!
//! Readers (viewport, info, taking a snapshot for search or save) lock the document briefly,
//! always on a blocking thread, never on the thread that dispatches messages. Changes (edits,
//! undo, redo, replace-all, the start of a save) do not lock from the handler: the handler
//! puts them on the document's queue in the order the requests arrived, and the queue is
//! drained in that order by one task at a time on the shared blocking pool. That is what makes
//! "send edit v1, v2, v3 without waiting" safe although request handlers run concurrently: see
//! `session.rs` for how arrival order is kept up to the queue.
//!
//! No document owns a thread: a document with nothing queued costs none, so a thousand open
//! documents cost no more threads than one (the pool's threads exit when idle). A drain runs
//! every job queued for its document, then ends; the next job starts another.

use std::collections::{HashMap, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tome_core::Document;
use tower_lsp_server::jsonrpc;

use crate::compressed::CompressedDoc;
use crate::errors;
use crate::transport::Backlog;

/// A change to run on the document's worker, in queue order. It locks the document itself
/// (see [`DocHandle::submit_unlocked`]).
type Job = Box<dyn FnOnce(&DocHandle) + Send>;

/// A document's pending changes.
#[derive(Default)]
struct JobQueue {
    jobs: VecDeque<Job>,
    /// A drain task is running (or about to): it will take every job pushed meanwhile.
    draining: bool,
    /// Closed: no new job is taken (those queued still run).
    closed: bool,
}

/// Whether a save of a document is running: saves of one document run one at a time, and a
/// close waits for a running one. Waiting blocks the waiting thread on a condition variable
/// (never a sleep loop): it wakes when the save ends.
#[derive(Default)]
pub struct SaveGate {
    running: Mutex<bool>,
    ended: std::sync::Condvar,
}

impl SaveGate {
    /// Marks a save as running, after waiting up to `limit` for a running one to end. False if
    /// one still runs after that long.
    pub fn begin(&self, limit: std::time::Duration) -> bool {
        let running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        let (mut running, _) = self
            .ended
            .wait_timeout_while(running, limit, |r| *r)
            .unwrap_or_else(|e| e.into_inner());
        if *running {
            return false;
        }
        *running = true;
        true
    }

    /// Marks the running save as ended and wakes whoever waits for it.
    pub fn end(&self) {
        *self.running.lock().unwrap_or_else(|e| e.into_inner()) = false;
        self.ended.notify_all();
    }

    /// Waits until no save runs (a save always ends: it finishes, fails, or stops at once when
    /// cancelled).
    pub fn wait_idle(&self) {
        let running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        let _idle = self
            .ended
            .wait_while(running, |r| *r)
            .unwrap_or_else(|e| e.into_inner());
    }

    /// Whether a save runs now.
    pub fn is_running(&self) -> bool {
        *self.running.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One open document.
pub struct DocHandle {
    /// The id clients use.
    pub id: u64,
    doc: Mutex<Document>,
    queue: Mutex<JobQueue>,
    /// Set by `tome/close`: waits on the index give up.
    pub closed: AtomicBool,
    /// Whether a save is running (one at a time per document).
    pub saving: SaveGate,
    /// The last change on disk reported to the client (so each is reported once).
    pub disk_state: Mutex<Option<&'static str>>,
    /// The path being watched for this document.
    pub watched: Mutex<Option<std::path::PathBuf>>,
    /// A journal of an earlier session found at open, until recovered or discarded.
    pub recoverable: Mutex<Option<tome_core::journal::Recoverable>>,
    /// The client's unread output: jobs wait for room in it before making more replies.
    backlog: Arc<Backlog>,
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
        self: &Arc<Self>,
        job: impl FnOnce(&mut Document) -> Result<T, jsonrpc::Error> + Send + 'static,
    ) -> Result<tokio::sync::oneshot::Receiver<Result<T, jsonrpc::Error>>, jsonrpc::Error> {
        self.submit_unlocked(move |h: &DocHandle| job(&mut h.lock()))
    }

    /// Like [`DocHandle::submit`], but the job gets the handle and locks the document only when
    /// it needs to: later changes still wait for it (queue order), while readers can go on
    /// between its locks. For long changes whose work can run on a snapshot (replace-all).
    pub fn submit_unlocked<T: Send + 'static>(
        self: &Arc<Self>,
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
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        if queue.closed {
            return Err(errors::unknown_document(self.id));
        }
        queue.jobs.push_back(job);
        if queue.draining {
            return Ok(rx);
        }
        queue.draining = true;
        drop(queue);
        match start_drain(Arc::clone(self)) {
            Ok(()) => Ok(rx),
            Err(e) => {
                let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
                queue.jobs.pop_back();
                queue.draining = false;
                Err(errors::internal(format!(
                    "cannot start a thread to change document {}: {e}",
                    self.id
                )))
            }
        }
    }

    /// Runs queued jobs in order until the queue is empty.
    fn drain(self: Arc<Self>) {
        loop {
            let job = {
                let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
                match queue.jobs.pop_front() {
                    Some(job) => job,
                    None => {
                        queue.draining = false;
                        return;
                    }
                }
            };
            // Flow control: while the client leaves a full output queue unread, make no more
            // replies for it (jobs wait here, in order).
            self.backlog.wait_for_room_blocking();
            job(&self);
        }
    }
}

/// Starts draining `handle`'s queue on the runtime's blocking pool (a plain thread outside a
/// runtime, as in unit tests).
fn start_drain(handle: Arc<DocHandle>) -> std::io::Result<()> {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            runtime.spawn_blocking(move || handle.drain());
            Ok(())
        }
        Err(_) => std::thread::Builder::new()
            .name(format!("tome-doc-{}", handle.id))
            .spawn(move || handle.drain())
            .map(|_| ()),
    }
}

/// All open documents.
pub struct Registry {
    docs: Mutex<HashMap<u64, Arc<DocHandle>>>,
    /// Read-only documents of compressed files (same id space). The handlers that serve them
    /// look here first; every other handler gets `readOnlyDocument` from [`Registry::get`].
    compressed: Mutex<HashMap<u64, Arc<CompressedDoc>>>,
    next_id: AtomicU64,
    backlog: Arc<Backlog>,
}

impl Registry {
    /// An empty registry whose documents start a job only while `backlog` has room.
    pub fn new(backlog: Arc<Backlog>) -> Registry {
        Registry {
            docs: Mutex::default(),
            compressed: Mutex::default(),
            next_id: AtomicU64::new(0),
            backlog,
        }
    }

    /// Registers `doc`; returns its handle. Starts no thread.
    pub fn insert(&self, doc: Document) -> Arc<DocHandle> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let handle = Arc::new(DocHandle {
            id,
            doc: Mutex::new(doc),
            queue: Mutex::new(JobQueue::default()),
            closed: AtomicBool::new(false),
            saving: SaveGate::default(),
            disk_state: Mutex::new(None),
            watched: Mutex::new(None),
            recoverable: Mutex::new(None),
            backlog: Arc::clone(&self.backlog),
        });
        self.docs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, Arc::clone(&handle));
        handle
    }

    /// The document with this id. Errors: unknown document; `readOnlyDocument` for a
    /// compressed one (this is how requests that change a document are refused for them).
    pub fn get(&self, id: u64) -> Result<Arc<DocHandle>, jsonrpc::Error> {
        let found = self
            .docs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .cloned();
        found.ok_or_else(|| match self.compressed(id) {
            Some(c) => errors::read_only_document(id, c.text.format().name()),
            None => errors::unknown_document(id),
        })
    }

    /// Registers a compressed document; returns its id.
    pub fn insert_compressed(&self, doc: CompressedDoc) -> (u64, Arc<CompressedDoc>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let doc = Arc::new(doc);
        self.compressed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, Arc::clone(&doc));
        (id, doc)
    }

    /// The compressed document with this id, if it is one.
    pub fn compressed(&self, id: u64) -> Option<Arc<CompressedDoc>> {
        self.compressed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .cloned()
    }

    /// Removes a compressed document (its pass stops when the last reader lets go of it).
    pub fn remove_compressed(&self, id: u64) -> Option<Arc<CompressedDoc>> {
        let doc = self
            .compressed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id)?;
        doc.closed.store(true, Ordering::Release);
        Some(doc)
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
        handle
            .queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .closed = true;
        Ok(handle)
    }
}
