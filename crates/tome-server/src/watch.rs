//! Watching open files for changes made by other programs, and telling the client.
//!
//! One `notify` watcher serves every document. It watches the **directory** of each open file
//! (a watch on the file itself follows the old inode after a rename-over and goes blind). Events
//! only say "look again": after a short debounce (a logger writes many times a second), every
//! open document is checked with [`tome_core::Document::disk_change`] (a `stat` and a re-read of
//! a few sampled blocks) on its own queue, so the check is ordered with edits and saves.
//!
//! * An append is followed at once ([`tome_core::Document::follow_append`]): the new lines join
//!   the document, the user's edits stay, and the client gets `tome/didChangeOnDisk` with
//!   `change: "appended"` and the new version.
//! * Any other change (rewritten, truncated, replaced, deleted) is reported once per kind; the
//!   client may call `tome/reload` (dropping edits, when the user says so) or keep its version
//!   and save over the file.
//! * Our own saves are not reported: after a save the document's newest source is the file we
//!   wrote, so it compares as unchanged; documents being saved are skipped.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use notify::{RecursiveMode, Watcher as _};
use tome_core::{DiskChange, Document};
use tower_lsp_server::Client;

use crate::documents::{DocHandle, Registry};
use crate::protocol::{DidChangeOnDisk, DiskNotice};

/// Events closer together than this are handled as one.
const DEBOUNCE: Duration = Duration::from_millis(100);

/// What the event callback leaves for the checker.
#[derive(Default)]
struct Pending {
    dirty: AtomicBool,
    wake: tokio::sync::Notify,
}

/// The watcher of all open documents' directories.
///
/// Adding and removing watches resolves paths (`canonicalize`) and talks to inotify: on a slow
/// or hung filesystem (NFS) either can block. They run in order on a thread of the watcher's
/// own (`tome-watch`, started at `initialize` or the first watch, ended when the watcher is dropped), never
/// on the task that dispatches messages.
pub struct Watcher {
    ops: Mutex<Option<mpsc::Sender<Op>>>,
    pending: Arc<Pending>,
}

/// A change to the set of watched directories, for the watch thread.
enum Op {
    /// Watch a file's directory; the sender is told once the watch is in place.
    Watch(PathBuf, tokio::sync::oneshot::Sender<()>),
    Unwatch(PathBuf),
}

impl Watcher {
    /// A watcher; nothing is watched (and no thread runs) until [`Watcher::start`] or the first
    /// [`Watcher::watch`].
    pub fn new() -> Watcher {
        Watcher {
            ops: Mutex::new(None),
            pending: Arc::new(Pending::default()),
        }
    }

    /// Starts watching the directory of `file` (counted: one watch per directory), on the
    /// watch thread; resolves once the watch is in place, so that a change made right after
    /// the caller answers (an open, a save) is seen.
    pub async fn watch(&self, file: PathBuf) {
        let (placed, wait) = tokio::sync::oneshot::channel();
        self.send(Op::Watch(file, placed));
        // An error means no watch thread: nothing will be watched, nothing to wait for.
        let _ = wait.await;
    }

    /// Starts the watch thread (which sets up inotify) if it is not running, without waiting
    /// for it, so that a first [`Watcher::watch`] soon after finds it ready. Cost: a thread
    /// start, once.
    pub fn start(&self) {
        let mut ops = self.ops.lock().unwrap_or_else(|e| e.into_inner());
        self.ensure_thread(&mut ops);
    }

    /// Stops watching the directory of `file` once no open document is in it. Returns at once.
    pub fn unwatch(&self, file: PathBuf) {
        self.send(Op::Unwatch(file));
    }

    fn send(&self, op: Op) {
        let mut ops = self.ops.lock().unwrap_or_else(|e| e.into_inner());
        self.ensure_thread(&mut ops);
        if let Some(tx) = ops.as_ref() {
            let _ = tx.send(op);
        }
    }

    /// Starts the watch thread unless it runs (`ops` is its queue, held locked by the caller).
    fn ensure_thread(&self, ops: &mut Option<mpsc::Sender<Op>>) {
        if ops.is_some() {
            return;
        }
        let (tx, rx) = mpsc::channel();
        let pending = Arc::clone(&self.pending);
        let started = std::thread::Builder::new()
            .name("tome-watch".into())
            .spawn(move || watch_thread(&rx, &pending));
        match started {
            Ok(_) => *ops = Some(tx),
            Err(e) => {
                tracing::warn!(
                    "cannot start the watch thread: {e}; outside changes are not noticed"
                )
            }
        }
    }

    /// Asks for a check of every document soon (after a save, say).
    pub fn poke(&self) {
        self.pending.dirty.store(true, Ordering::Release);
        self.pending.wake.notify_one();
    }

    /// The checker: waits for events, debounces, checks every open document, notifies.
    pub async fn run(self: Arc<Self>, client: Client, docs: Arc<Registry>) {
        loop {
            self.pending.wake.notified().await;
            tokio::time::sleep(DEBOUNCE).await;
            if !self.pending.dirty.swap(false, Ordering::AcqRel) {
                continue;
            }
            for handle in docs.all() {
                if let Some(notice) = check(&handle).await {
                    client.send_notification::<DidChangeOnDisk>(notice).await;
                }
            }
        }
    }
}

impl Default for Watcher {
    fn default() -> Self {
        Watcher::new()
    }
}

/// The watch thread: owns the inotify watcher and the count of documents per directory, and
/// applies watch changes in the order they were asked for, until the watcher is dropped.
fn watch_thread(ops: &mpsc::Receiver<Op>, pending: &Arc<Pending>) {
    let p = Arc::clone(pending);
    let watcher = notify::recommended_watcher(move |_event: notify::Result<notify::Event>| {
        // Whatever happened (an event, an overflow, an error), look at every document.
        p.dirty.store(true, Ordering::Release);
        p.wake.notify_one();
    });
    let mut watcher = match watcher {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::warn!("cannot watch files for outside changes: {e}");
            None
        }
    };
    let mut dirs: HashMap<PathBuf, usize> = HashMap::new();
    while let Ok(op) = ops.recv() {
        match op {
            Op::Watch(file, placed) => {
                // Told when this arm ends, whatever happens (dropping the sender also wakes).
                let _placed = placed;
                let Some(dir) = dir_of(&file) else { continue };
                let count = dirs.entry(dir.clone()).or_insert(0);
                *count += 1;
                if *count == 1 {
                    if let Some(w) = watcher.as_mut() {
                        if let Err(e) = w.watch(&dir, RecursiveMode::NonRecursive) {
                            tracing::warn!("cannot watch {}: {e}", dir.display());
                        }
                    }
                }
            }
            Op::Unwatch(file) => {
                let Some(dir) = dir_of(&file) else { continue };
                if let Some(count) = dirs.get_mut(&dir) {
                    *count -= 1;
                    if *count == 0 {
                        dirs.remove(&dir);
                        if let Some(w) = watcher.as_mut() {
                            let _ = w.unwatch(&dir);
                        }
                    }
                }
            }
        }
    }
}

/// The directory to watch for `file`: that of the file a symlink points to.
fn dir_of(file: &Path) -> Option<PathBuf> {
    let real = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
    real.parent().map(Path::to_path_buf)
}

/// Checks one document on its queue; returns what to tell the client, if anything.
async fn check(handle: &Arc<DocHandle>) -> Option<DiskNotice> {
    if handle.saving.is_running() {
        return None;
    }
    let h = Arc::clone(handle);
    let rx = handle.submit(move |doc| Ok(classify(&h, doc))).ok()?;
    rx.await.ok()?.ok()?
}

fn classify(handle: &DocHandle, doc: &mut Document) -> Option<DiskNotice> {
    let mut last = handle.disk_state.lock().unwrap_or_else(|e| e.into_inner());
    let change = doc.disk_change();
    let (name, message) = match change {
        DiskChange::Unchanged => {
            *last = None;
            return None;
        }
        DiskChange::Appended { .. } => match doc.follow_append() {
            Ok(Some(_)) => (
                "appended",
                "new lines were appended to the file".to_string(),
            ),
            Ok(None) => return None,
            // It changed again while being followed (rotated, cut): say what it is now.
            Err(tome_core::Error::FileChanged(_))
                if !matches!(doc.disk_change(), DiskChange::Appended { .. }) =>
            {
                let now = doc.disk_change();
                (now.name(), describe(now))
            }
            // The new part could not be read (too many open files, an I/O error): following
            // stopped here; the next change tries again, a reload reads the whole file.
            Err(e) => (
                "followFailed",
                format!("new lines were appended but could not be read: {e}"),
            ),
        },
        other => (other.name(), describe(other)),
    };
    if name == "unchanged" {
        *last = None;
        return None;
    }
    if name != "appended" {
        if *last == Some(name) {
            return None;
        }
        *last = Some(name);
    }
    let count = doc.view().line_count();
    Some(DiskNotice {
        doc: handle.id,
        change: name.to_string(),
        version: doc.version(),
        dirty: doc.is_dirty(),
        size: doc.len() as u64,
        line_count: count.known as u64,
        message,
    })
}

fn describe(change: DiskChange) -> String {
    match change {
        DiskChange::Rewritten => "the file was changed in place by another program; reload it, or save to overwrite".into(),
        DiskChange::Truncated { len } => format!("the file was truncated to {len} bytes by another program; reload it, or save to overwrite"),
        DiskChange::Replaced => "the file was replaced by another program; reload it, or save to overwrite".into(),
        DiskChange::Deleted => "the file was deleted; save to write it again".into(),
        DiskChange::Unchanged | DiskChange::Appended { .. } => String::new(),
    }
}
