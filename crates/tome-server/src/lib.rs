//! # tome-server: the `tome/*` JSON-RPC protocol over stdio
//!
//! `tome serve` runs this crate: an editor starts it as a child process and talks JSON-RPC 2.0
//! with LSP framing (`Content-Length` headers) on its stdin and stdout. stdout carries only
//! protocol; logs go to stderr (filter with `TOME_LOG`, e.g. `TOME_LOG=tome_server=debug`).
//! The contract — every method, its parameters, results, errors, limits — is
//! `docs/protocol.md`; this crate implements it on top of `tome-core`.
//!
//! We use `tower-lsp-server` for what it does well (the LSP lifecycle, routing, parameter
//! decoding, `$/cancelRequest`, progress helpers), but not for its stdio transport: that one
//! stops serving after one malformed message and has no size limit. So:
//!
//! * [`transport`]: bounded framing; bad frames are answered and skipped; the outgoing queue
//!   and its [`transport::Backlog`] (flow control);
//! * `session`: the dispatch loop that keeps arrival order for changes, plus reader, writer;
//! * `protocol`: wire types; `errors`: stable error codes;
//! * `documents`: open documents and each one's ordered change queue;
//! * `handlers`: the `Backend`, the lifecycle and the method table; the methods by concern in
//!   `handlers::{open, read, edit, search, save, recovery, filter, time, highlight}`;
//! * `convert`: wire ↔ engine (positions, ranges, queries, lines, matches, document info);
//! * `highlights`: the highlight rules of the session and of documents;
//! * `progress`: `$/progress` reporting; `columns`: column windows over long lines;
//!   `watch`: outside changes to open files.
//!
//! Concurrency in one sentence: handlers are polled on one task and only await, every read
//! and change of a document runs on a blocking thread or the document's own worker thread,
//! searches and saves run on snapshots, so a viewport never waits behind them.

// Only the engine touches memory maps, signals and raw file descriptors (with `// SAFETY:`
// comments); the server and the binary use its safe API.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod base64;
mod clips;
mod columns;
mod compressed;
mod convert;
mod documents;
mod errors;
mod filters;
mod handlers;
mod highlights;
mod progress;
mod protocol;
mod session;
pub mod transport;
mod watch;

pub use session::serve;

/// The `tome/*` methods this server answers (also listed in the `initialize` reply).
pub const METHODS: &[&str] = &[
    "tome/open",
    "tome/close",
    "tome/info",
    "tome/viewport",
    "tome/getText",
    "tome/edit",
    "tome/undo",
    "tome/redo",
    "tome/search",
    "tome/replaceAll",
    "tome/deleteLines",
    "tome/clip",
    "tome/paste",
    "tome/readClip",
    "tome/dropClip",
    "tome/save",
    "tome/saveAs",
    "tome/reload",
    "tome/reopenWithEncoding",
    "tome/recover",
    "tome/recoverAsNew",
    "tome/discardRecovery",
    "tome/filter",
    "tome/filterLines",
    "tome/filterInfo",
    "tome/filterWait",
    "tome/closeFilter",
    "tome/seekTime",
    "tome/setHighlightRules",
    "tome/setBookmark",
    "tome/deleteBookmark",
    "tome/bookmarks",
];

/// Runs the server on stdin/stdout until `exit` or the end of input, then ends the process
/// with the exit code of [`serve`]. Exits the process directly: blocking work of cancelled
/// requests may still be running, and waiting for it would only delay the exit.
pub fn run_stdio() -> ! {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TOME_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    // stdout is the protocol stream: logs must never go there.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("tome-server")
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tome serve: cannot start the async runtime: {e}");
            std::process::exit(2);
        }
    };
    let code = runtime.block_on(serve(tokio::io::stdin(), tokio::io::stdout()));
    std::process::exit(code);
}
