//! The request handlers: the [`Backend`] every handler shares, the LSP lifecycle
//! (`initialize`, `shutdown`) and the table of `tome/*` methods; each method lives in the
//! submodule of its concern, wire ↔ engine conversions in `crate::convert`.
//!
//! Rules every handler follows:
//! * Nothing slow runs on the dispatching thread: documents are locked, read and changed on
//!   blocking threads or on the document's worker (see `documents.rs`).
//! * Changes are queued on the document's worker **before the handler's first `.await`**. The
//!   session polls each new handler once, in arrival order, before reading the next message,
//!   so queue order is arrival order (see `session.rs`).
//! * Long work holds a [`Control`] that a drop guard cancels: `$/cancelRequest` drops the
//!   handler future, and the blocking work then stops at its next check.
//! * Client data is never trusted: no `unwrap` on it, numbers are clamped or refused.

mod bookmark;
mod clip;
mod compressed;
mod edit;
mod filter;
mod highlight;
mod open;
mod read;
mod recovery;
mod save;
mod search;
mod time;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use serde_json::json;
use tome_core::{Control, Document, PositionEncoding};
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::{
    InitializeParams, InitializeResult, InitializedParams, PositionEncodingKind,
    ServerCapabilities, ServerInfo,
};
use tower_lsp_server::{Client, LanguageServer, LspServiceBuilder};

use crate::clips::Clips;
use crate::documents::Registry;
use crate::errors::{self, internal};
use crate::filters::Filters;
use crate::highlights::Highlights;
use crate::protocol::*;
use crate::session::Lifecycle;
use crate::transport::Backlog;
use crate::watch::Watcher;

/// The server's state, shared by all handlers.
pub struct Backend {
    client: Client,
    docs: Arc<Registry>,
    /// The clips `tome/clip` took (server-side registers).
    clips: Arc<Clips>,
    /// The filter views `tome/filter` made.
    filters: Arc<Filters>,
    /// The highlight rules `tome/setHighlightRules` set.
    highlights: Arc<Highlights>,
    watcher: Arc<Watcher>,
    /// The task that checks documents after watch events, started with the first watch.
    /// Aborted when the backend is dropped: it holds the registry, so a session that ended
    /// would otherwise keep every document (fds, mappings, journals) alive in an embedding
    /// process (the fuzz target runs thousands of sessions in one).
    watching: OnceLock<tokio::task::AbortHandle>,
    encoding: OnceLock<PositionEncoding>,
    client_progress: AtomicBool,
    lifecycle: Arc<Lifecycle>,
    backlog: Arc<Backlog>,
}

/// Cancels a [`Control`] when dropped: lives in the handler future, so `$/cancelRequest`
/// (which drops that future) stops the blocking work too.
struct CancelOnDrop(Arc<Control>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        if let Some(checker) = self.watching.get() {
            checker.abort();
        }
    }
}

/// Runs `f` on a blocking thread; a panic there becomes a -32803 error.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(internal(format!("internal error: {e}"))))
}

/// Awaits the outcome of a queued change.
async fn outcome<T>(rx: tokio::sync::oneshot::Receiver<Result<T>>) -> Result<T> {
    rx.await
        .unwrap_or_else(|_| Err(internal("the document's worker stopped")))
}

/// Refuses a request made against another version than the current one, unless every version
/// since only appended a followed log's new lines at the end (positions are unchanged then).
fn check_version(doc: &Document, given: Option<u64>) -> Result<()> {
    match given {
        Some(v) if !doc.positions_valid_since(v) => Err(errors::stale_version(v, doc.version())),
        _ => Ok(()),
    }
}

impl Backend {
    /// A backend talking to `client`, recording `initialize` and `shutdown` in `lifecycle`,
    /// making replies only while `backlog` (the output not yet written) has room.
    pub fn new(client: Client, lifecycle: Arc<Lifecycle>, backlog: Arc<Backlog>) -> Backend {
        Backend {
            client,
            docs: Arc::new(Registry::new(Arc::clone(&backlog))),
            clips: Arc::default(),
            filters: Arc::default(),
            highlights: Arc::default(),
            watcher: Arc::new(Watcher::new()),
            watching: OnceLock::new(),
            encoding: OnceLock::new(),
            client_progress: AtomicBool::new(false),
            lifecycle,
            backlog,
        }
    }

    fn enc(&self) -> PositionEncoding {
        self.encoding.get().copied().unwrap_or_default()
    }
}

/// Routes every `tome/*` method of [`crate::METHODS`] to its handler.
pub fn register(b: LspServiceBuilder<Backend>) -> LspServiceBuilder<Backend> {
    b.custom_method("tome/open", Backend::open)
        .custom_method("tome/close", Backend::close)
        .custom_method("tome/info", Backend::info)
        .custom_method("tome/viewport", Backend::viewport)
        .custom_method("tome/getText", Backend::get_text)
        .custom_method("tome/edit", Backend::edit)
        .custom_method("tome/undo", Backend::undo)
        .custom_method("tome/redo", Backend::redo)
        .custom_method("tome/search", Backend::search)
        .custom_method("tome/replaceAll", Backend::replace_all)
        .custom_method("tome/deleteLines", Backend::delete_lines)
        .custom_method("tome/clip", Backend::clip)
        .custom_method("tome/paste", Backend::paste)
        .custom_method("tome/readClip", Backend::read_clip)
        .custom_method("tome/dropClip", Backend::drop_clip)
        .custom_method("tome/save", Backend::save)
        .custom_method("tome/saveAs", Backend::save_as)
        .custom_method("tome/reload", Backend::reload)
        .custom_method("tome/reopenWithEncoding", Backend::reopen_with_encoding)
        .custom_method("tome/recover", Backend::recover)
        .custom_method("tome/recoverAsNew", Backend::recover_as_new)
        .custom_method("tome/discardRecovery", Backend::discard_recovery)
        .custom_method("tome/filter", Backend::filter)
        .custom_method("tome/filterLines", Backend::filter_lines)
        .custom_method("tome/filterInfo", Backend::filter_info)
        .custom_method("tome/filterWait", Backend::filter_wait)
        .custom_method("tome/closeFilter", Backend::close_filter)
        .custom_method("tome/seekTime", Backend::seek_time)
        .custom_method("tome/setHighlightRules", Backend::set_highlight_rules)
        .custom_method("tome/setBookmark", Backend::set_bookmark)
        .custom_method("tome/deleteBookmark", Backend::delete_bookmark)
        .custom_method("tome/bookmarks", Backend::bookmarks)
}

fn negotiate(params: &InitializeParams) -> PositionEncoding {
    // The client lists what it supports, most preferred first; without a list it speaks
    // UTF-16 only (LSP 3.17).
    params
        .capabilities
        .general
        .as_ref()
        .and_then(|g| g.position_encodings.as_ref())
        .and_then(|list| {
            list.iter()
                .find_map(|k| PositionEncoding::from_name(k.as_str()))
        })
        .unwrap_or(PositionEncoding::Utf16)
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let enc = negotiate(&params);
        let _ = self.encoding.set(enc);
        let progress = params
            .capabilities
            .window
            .as_ref()
            .and_then(|w| w.work_done_progress)
            .unwrap_or(false);
        self.client_progress.store(progress, Ordering::Relaxed);
        // The watch thread (and inotify's own) start now, beside the first `tome/open`'s work,
        // instead of inside it: an editor sends the open right behind `initialize`, and that
        // open waits for its watch to be in place (1-2 ms of thread starts off its reply).
        self.watcher.start();
        // Requests are admitted from now on (the reply is made in this same poll).
        self.lifecycle.set_initialized();
        Ok(InitializeResult {
            capabilities: ServerCapabilities {
                position_encoding: Some(PositionEncodingKind::new(enc.name())),
                experimental: Some(json!({
                    "tome": {
                        "protocolVersion": 1,
                        "methods": crate::METHODS,
                        "limits": {
                            "maxMessageBytes": crate::transport::MAX_BODY,
                            "maxViewportLines": MAX_VIEWPORT_LINES,
                            "maxWindowWidth": MAX_WINDOW_WIDTH,
                            "maxViewportCells": MAX_VIEWPORT_CELLS,
                            "maxWholeLineBytes": MAX_WHOLE_BYTES,
                            "maxMatches": MAX_MATCHES,
                            "maxLiteralBytes": tome_core::search::MAX_LITERAL,
                            "maxRegexBytes": tome_core::search::MAX_REGEX_PATTERN,
                            "maxHighlightRules": tome_core::highlight::MAX_RULES,
                            "maxHighlights": crate::highlights::MAX_HIGHLIGHTS,
                        }
                    }
                })),
                ..ServerCapabilities::default()
            },
            server_info: Some(ServerInfo {
                name: "tome".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
            offset_encoding: None,
        })
    }

    async fn initialized(&self, _: InitializedParams) {}

    async fn shutdown(&self) -> Result<()> {
        self.lifecycle.set_shut_down();
        Ok(())
    }
}
