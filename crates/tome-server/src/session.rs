//! One session: reads framed messages, hands them to the `LspService` in arrival order, and
//! writes replies and server-to-client messages.
//!
//! Three tasks and one loop:
//! * the reader turns bytes into messages and answers what cannot be parsed itself (-32700,
//!   -32600), then keeps reading;
//! * the writer frames everything that goes out, from one queue, so messages never interleave;
//! * a forwarder moves the framework's server-to-client messages (`$/progress`,
//!   `window/workDoneProgress/create`) onto that queue;
//! * the dispatch loop (this function) calls the service for each message **and polls the new
//!   handler once right away**, before taking the next message. A handler therefore runs up
//!   to its first `.await` in arrival order, which is where changes are queued on their
//!   document (`documents.rs`): so edits apply in the order they were sent, although handlers
//!   finish in any order. All handler futures are then driven by the same loop; they only
//!   await, real work runs on blocking threads.
//!
//! Flow control: everything that goes out is measured by the writer's [`Backlog`]. While it
//! is full (a client not reading its replies), the reader stops reading, the dispatch loop
//! stops taking messages, and document workers stop starting jobs (`documents.rs`), so the
//! client stalls itself and the server's memory stays bounded. The loop also takes no new
//! message while [`MAX_RUNNING`] requests are being worked on.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use futures::stream::FuturesUnordered;
use futures::{FutureExt, SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncWrite, BufReader};
use tokio::sync::mpsc;
use tower::Service;
use tower_lsp_server::jsonrpc::{Id, Request, Response};
use tower_lsp_server::LspService;

use crate::errors;
use crate::handlers::Backend;
use crate::transport::{self, Backlog, Frame, FrameReader};

/// Where the session is in LSP's lifecycle, as the handlers of `initialize` and `shutdown`
/// record it (the framework keeps its own state, but lets requests for methods it does not
/// know through in every state).
#[derive(Default)]
pub struct Lifecycle {
    initialized: AtomicBool,
    shut_down: AtomicBool,
}

impl Lifecycle {
    /// `initialize` succeeded (recorded when its reply is made).
    pub fn set_initialized(&self) {
        self.initialized.store(true, Ordering::Release);
    }

    /// `shutdown` was received.
    pub fn set_shut_down(&self) {
        self.shut_down.store(true, Ordering::Release);
    }

    fn shut_down(&self) -> bool {
        self.shut_down.load(Ordering::Acquire)
    }

    /// LSP's rules outside the initialized state, for every method, known or not: before
    /// `initialize` has answered, a request gets -32002 and a notification is dropped; after
    /// `shutdown`, a request gets -32600 and a notification is dropped. `exit` always passes,
    /// and so does `initialize` before the server is initialized. `Err` holds the reply to
    /// send instead (none for a notification); `Ok` passes the message on.
    fn admit(&self, req: &Request) -> Result<(), Option<Response>> {
        let method = req.method();
        if method == "shutdown" && req.id().is_none() {
            // Not a shutdown (that is a request): the framework would still switch to its
            // shut-down state and refuse everything after. Dropped like any notification
            // the server does not know.
            tracing::warn!("`shutdown` sent as a notification: ignored");
            return Err(None);
        }
        let refusal = if method == "exit" {
            return Ok(());
        } else if self.shut_down() {
            (errors::INVALID_REQUEST, "the server is shut down")
        } else if self.initialized.load(Ordering::Acquire) || method == "initialize" {
            return Ok(());
        } else {
            (errors::SERVER_NOT_INITIALIZED, "server not initialized")
        };
        Err(req.id().map(|id| {
            let (code, message) = refusal;
            Response::from_error(id.clone(), errors::plain(code, message))
        }))
    }
}

/// A parsed incoming message.
enum Inbound {
    /// A request or notification for the service.
    Request(Request),
    /// The client's answer to one of our requests.
    Response(Response),
}

/// Most requests being worked on at once; the dispatcher takes the next message only when
/// one of them has finished. Bounds the memory of requests a client sends without reading
/// the replies (each running request holds its parameters and its state).
const MAX_RUNNING: usize = 1024;

type Out = transport::Sender;

fn send(out: &Out, message: &impl serde::Serialize) {
    match serde_json::to_vec(message) {
        Ok(bytes) => out.send(bytes),
        Err(e) => tracing::error!("cannot serialise an outgoing message: {e}"),
    }
}

fn send_error(out: &Out, id: Value, code: i64, message: &str) {
    send(
        out,
        &json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}}),
    );
}

/// Parses one body; answers and returns `None` when it is not a usable message.
fn parse(body: &[u8], out: &Out) -> Option<Inbound> {
    let value: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            send_error(
                out,
                Value::Null,
                errors::PARSE_ERROR,
                &format!("parse error: {e}"),
            );
            return None;
        }
    };
    let Value::Object(fields) = &value else {
        let why = if value.is_array() {
            "batches are not supported: send one message per frame"
        } else {
            "a message must be a JSON object"
        };
        send_error(out, Value::Null, errors::INVALID_REQUEST, why);
        return None;
    };
    // JSON-RPC 2.0: an id is a string, a number or null. A message with any other id is
    // invalid, and is answered with `id: null`, never with that value.
    let id = match fields.get("id") {
        None | Some(Value::Null) => Value::Null,
        Some(id @ (Value::String(_) | Value::Number(_))) => id.clone(),
        Some(_) => {
            send_error(
                out,
                Value::Null,
                errors::INVALID_REQUEST,
                "invalid request: an id must be a string, a number or null",
            );
            return None;
        }
    };
    if fields.contains_key("method") {
        match serde_json::from_value::<Request>(value) {
            Ok(r) => Some(Inbound::Request(r)),
            Err(e) => {
                send_error(
                    out,
                    id,
                    errors::INVALID_REQUEST,
                    &format!("invalid request: {e}"),
                );
                None
            }
        }
    } else if fields.contains_key("result") || fields.contains_key("error") {
        match serde_json::from_value::<Response>(value) {
            Ok(r) => Some(Inbound::Response(r)),
            Err(e) => {
                send_error(
                    out,
                    Value::Null,
                    errors::INVALID_REQUEST,
                    &format!("invalid response: {e}"),
                );
                None
            }
        }
    } else {
        send_error(
            out,
            id,
            errors::INVALID_REQUEST,
            "invalid request: no `method` (and not a response)",
        );
        None
    }
}

async fn read_loop<R: AsyncRead + Unpin>(
    input: R,
    tx: mpsc::Sender<Inbound>,
    out: Out,
    backlog: Arc<Backlog>,
) {
    let mut input = FrameReader::new(BufReader::with_capacity(256 * 1024, input));
    loop {
        // Flow control: a client that does not read its replies is not read either (bad
        // frames are answered here, so they would fill the output queue too).
        backlog.wait_for_room().await;
        match input.next().await {
            Ok(Frame::Message(body)) => {
                if let Some(msg) = parse(&body, &out) {
                    if tx.send(msg).await.is_err() {
                        return;
                    }
                }
            }
            Ok(Frame::Bad(why)) => {
                tracing::warn!("bad frame: {why}");
                send_error(&out, Value::Null, errors::PARSE_ERROR, &why);
            }
            Ok(Frame::Eof) => return,
            Err(e) => {
                tracing::warn!("input failed: {e}");
                return;
            }
        }
    }
}

/// Serves one client on `input`/`output` until `exit` or the end of input. Returns the exit
/// code: 0 after `shutdown` then `exit`, or at the end of input; 1 after `exit` without
/// `shutdown` (as LSP asks).
pub async fn serve<R, W>(input: R, output: W) -> i32
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (out_tx, out_rx, backlog) = transport::outgoing(transport::MAX_QUEUED_OUTPUT);
    let lifecycle = Arc::new(Lifecycle::default());
    let (recorder, gauge) = (Arc::clone(&lifecycle), Arc::clone(&backlog));
    let (mut service, socket) = crate::handlers::register(LspService::build(move |client| {
        Backend::new(client, recorder, gauge)
    }))
    .finish();
    let (mut to_client, mut client_responses) = socket.split();

    let writer = tokio::spawn(transport::write_loop(output, out_rx, Arc::clone(&backlog)));
    // Server-to-client messages (progress, disk changes) are few and rate-limited: they are
    // queued without waiting for room.
    let forward_out = out_tx.clone();
    let forwarder = tokio::spawn(async move {
        while let Some(req) = to_client.next().await {
            send(&forward_out, &req);
        }
    });
    // Bounded: if the dispatcher falls behind, the reader stops reading (backpressure).
    let (in_tx, mut in_rx) = mpsc::channel::<Inbound>(64);
    let reader = tokio::spawn(read_loop(
        input,
        in_tx,
        out_tx.clone(),
        Arc::clone(&backlog),
    ));

    let mut running = FuturesUnordered::new();
    let mut code = 0;
    let mut stalled = false;
    loop {
        // Flow control: the next message is taken only while the output queue has room (a
        // client that does not read stalls itself, instead of making the server hold its
        // replies) and fewer than MAX_RUNNING requests are being worked on.
        let room = backlog.has_room();
        if stalled == room {
            // Just filled up, or just drained: say so (tests wait for the first message).
            stalled = !room;
            if stalled {
                tracing::debug!(
                    "output queue full ({} bytes unwritten): not reading requests until the \
                     client reads",
                    backlog.bytes()
                );
            } else {
                tracing::debug!("output queue has room again: reading requests");
            }
        }
        let take = room && running.len() < MAX_RUNNING;
        tokio::select! {
            biased;
            Some(reply) = running.next(), if !running.is_empty() => {
                if let Some(reply) = reply {
                    send(&out_tx, &reply);
                }
            }
            _ = backlog.wait_for_room(), if !room => {}
            msg = in_rx.recv(), if take => match msg {
                None => break, // end of input: finish what runs, then stop
                Some(Inbound::Response(r)) => {
                    // Wakes the handler awaiting this answer (e.g. a progress token creation).
                    let _ = client_responses.send(r).await;
                }
                Some(Inbound::Request(req)) => {
                    let req = without_shutdown_params(req);
                    if let Err(refusal) = lifecycle.admit(&req) {
                        if let Some(reply) = refusal {
                            send(&out_tx, &reply);
                        }
                        continue;
                    }
                    let is_exit = req.method() == "exit";
                    // `exit` is a notification: even sent with an id it gets no reply.
                    let id = if is_exit { None } else { req.id().cloned() };
                    if futures::future::poll_fn(|cx| service.poll_ready(cx)).await.is_err() {
                        break;
                    }
                    let mut fut = Box::pin(guarded(service.call(req), id));
                    // The first poll, now: see the module doc.
                    match futures::poll!(&mut fut) {
                        Poll::Ready(Some(reply)) => send(&out_tx, &reply),
                        Poll::Ready(None) => {}
                        Poll::Pending => running.push(fut),
                    }
                    if is_exit {
                        code = if lifecycle.shut_down() { 0 } else { 1 };
                        break;
                    }
                }
            },
        }
    }
    reader.abort();
    // Requests still running: after `exit` the framework has cancelled them (they answer at
    // once); at the end of input they finish, so a piped script gets all its answers.
    while let Some(reply) = running.next().await {
        if let Some(reply) = reply {
            send(&out_tx, &reply);
        }
    }
    forwarder.abort();
    drop(out_tx);
    let _ = tokio::time::timeout(Duration::from_secs(5), writer).await;
    code
}

/// `shutdown` takes no params. The framework answers one that has some with -32602 but
/// switches to its shut-down state all the same, after which it refuses every request, the
/// real `shutdown` included, and `exit` ends with 1. A client that sends `shutdown` with
/// params means to shut down: the params are dropped (as rust-analyzer's `lsp-server` does,
/// which looks only at the method).
fn without_shutdown_params(req: Request) -> Request {
    if req.method() != "shutdown" {
        return req;
    }
    let (method, id, _params) = req.into_parts();
    let request = Request::build(method);
    match id {
        Some(id) => request.id(id).finish(),
        None => request.finish(),
    }
}

/// The service's future for one message, with panics turned into a -32803 reply, and a
/// request left unanswered by the framework (it drops requests for `$/…` methods it does not
/// know, though they carry an id) answered with -32601.
async fn guarded(
    fut: impl std::future::Future<Output = Result<Option<Response>, tower_lsp_server::ExitedError>>,
    id: Option<Id>,
) -> Option<Response> {
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(Ok(None)) => id.map(|id| {
            Response::from_error(
                id,
                errors::plain(errors::METHOD_NOT_FOUND, "method not found"),
            )
        }),
        Ok(Ok(reply)) => reply,
        Ok(Err(_exited)) => None,
        Err(_panic) => {
            tracing::error!("a handler panicked");
            id.map(|id| Response::from_error(id, errors::internal("internal error")))
        }
    }
}
