"""The JSON-RPC connection: framing, request ids, a reader thread, cancellation, progress.

One thread reads the server's stdout for the whole session and hands each message to whoever
waits for it: a reply to its `Pending`, a `$/progress` notification to the callback of its
token, other notifications to the handlers registered for their method. Reading all the time
is what the protocol's flow control asks of a client (docs/protocol.md, "Flow control"): a
client that stopped reading while it writes could deadlock with the server. Writes happen on
the caller's thread, under a lock, one whole frame at a time, so requests can be pipelined
from several threads.

Callbacks (progress, notifications) run on the reader thread: keep them short, and do not
wait in them for a reply (that reply would be read by the thread that is blocked).
"""

from __future__ import annotations

import collections
import itertools
import json
import os
import subprocess
import threading
from dataclasses import dataclass
from typing import IO, Any, Callable, Deque, Dict, Generic, List, Mapping, Optional, TypeVar

from .errors import ConnectionLost, error_from_reply

T = TypeVar("T")

#: the largest header block line the client accepts from the server
_MAX_HEADER_LINE = 4096


@dataclass(frozen=True)
class ProgressEvent:
    """One `$/progress` value: `kind` is "begin", "report" or "end"; `percentage` is set on
    begin and report; `title` on begin."""

    token: Any
    kind: str
    percentage: Optional[int] = None
    title: Optional[str] = None
    message: Optional[str] = None


ProgressCallback = Callable[[ProgressEvent], None]
NotificationHandler = Callable[[Mapping[str, Any]], None]


class Pending(Generic[T]):
    """A request sent and not yet answered (a future). `result()` waits for the reply and
    returns it (converted), or raises its error; `cancel()` asks the server to stop it."""

    def __init__(self, connection: "Connection", request_id: int, method: str, convert: Callable[[Any], T]) -> None:
        self.id = request_id
        self.method = method
        self._connection = connection
        self._convert = convert
        self._event = threading.Event()
        self._reply: Optional[Mapping[str, Any]] = None
        self._failure: Optional[BaseException] = None
        self._callbacks: List[Callable[["Pending[T]"], None]] = []
        self._lock = threading.Lock()

    def done(self) -> bool:
        """Whether the reply (or the loss of the connection) has arrived."""
        return self._event.is_set()

    def result(self, timeout: Optional[float] = None) -> T:
        """The result; raises the reply's error as a `TomeError` subclass, `ConnectionLost` if
        the server went away first, or `TimeoutError` if `timeout` seconds pass (the request
        is then still running: cancel it or wait again). A KeyboardInterrupt while waiting
        cancels the request on the server, then propagates."""
        try:
            if not self._event.wait(timeout):
                raise TimeoutError(f"{self.method}: no reply within {timeout} s")
        except KeyboardInterrupt:
            # Ctrl-C while waiting: the server stops the work too.
            self.cancel()
            raise
        if self._failure is not None:
            raise self._failure
        reply = self._reply
        assert reply is not None
        if "error" in reply:
            error = reply["error"]
            raise error_from_reply(error if isinstance(error, dict) else {}, self.method)
        return self._convert(reply.get("result"))

    def cancel(self) -> None:
        """Sends `$/cancelRequest` for this request (nothing if already answered). The reply
        is then `RequestCancelled`, unless it was already on its way. A cancelled edit, undo or
        redo is still applied (docs/protocol.md, "Cancellation")."""
        if not self.done():
            self._connection.notify("$/cancelRequest", {"id": self.id})

    def add_done_callback(self, callback: Callable[["Pending[T]"], None]) -> None:
        """Calls `callback(self)` when the reply arrives (on the reader thread), or at once if
        it already has."""
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)
                return
        callback(self)

    def _settle(self, reply: Optional[Mapping[str, Any]], failure: Optional[BaseException]) -> None:
        with self._lock:
            if self._event.is_set():
                return
            self._reply = reply
            self._failure = failure
            self._event.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback(self)


def _identity(value: Any) -> Any:
    return value


class Connection:
    """A JSON-RPC 2.0 connection with LSP framing over a pair of byte streams (a process's
    stdin and stdout). Knows nothing of Tome's methods: see `Client`."""

    def __init__(self, reader: IO[bytes], writer: IO[bytes], process: Optional["subprocess.Popen[bytes]"] = None) -> None:
        self._reader = reader
        self._writer = writer
        self.process = process
        self._write_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._pending: Dict[int, Pending[Any]] = {}
        self._progress: Dict[Any, ProgressCallback] = {}
        self._handlers: Dict[str, List[NotificationHandler]] = collections.defaultdict(list)
        #: called with `$/progress` events whose token has no callback of its own (indexing)
        self.default_progress: Optional[ProgressCallback] = None
        self._lost: Optional[ConnectionLost] = None
        self._lost_event = threading.Event()
        self._stderr_tail: Deque[str] = collections.deque(maxlen=40)
        self._stderr_thread: Optional[threading.Thread] = None
        if process is not None and process.stderr is not None:
            self._stderr_thread = threading.Thread(target=self._read_stderr, args=(process.stderr,), name="tome-stderr", daemon=True)
            self._stderr_thread.start()
        self._thread = threading.Thread(target=self._read_loop, name="tome-reader", daemon=True)
        self._thread.start()

    # ---- sending -------------------------------------------------------------------------

    def _write(self, message: Mapping[str, Any]) -> None:
        body = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        frame = b"Content-Length: %d\r\n\r\n" % len(body) + body
        with self._write_lock:
            if self._lost is not None:
                raise self._lost
            try:
                self._writer.write(frame)
                self._writer.flush()
            except (BrokenPipeError, OSError, ValueError) as exc:
                # The reader thread sees the end of stdout at about the same time and says
                # why (exit status, stderr): wait a little for its account.
                self._lost_event.wait(2.0)
                raise self._lost or ConnectionLost(f"cannot write to the server: {exc}") from exc

    def request_async(self, method: str, params: Any, convert: Callable[[Any], T] = _identity, *, progress: Optional[ProgressCallback] = None) -> Pending[T]:
        """Sends a request without waiting; returns its `Pending`. With `progress`, a fresh
        `workDoneToken` is added to `params` (a dict) and its `$/progress` events go to the
        callback until `end`."""
        request_id = next(self._ids)
        pending: Pending[T] = Pending(self, request_id, method, convert)
        if progress is not None:
            token = f"py/{request_id}"
            params = {**params, "workDoneToken": token}
            with self._state_lock:
                self._progress[token] = progress
        with self._state_lock:
            if self._lost is not None:
                raise self._lost
            self._pending[request_id] = pending
        try:
            self._write({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        except ConnectionLost:
            with self._state_lock:
                self._pending.pop(request_id, None)
            raise
        return pending

    def request(self, method: str, params: Any, convert: Callable[[Any], T] = _identity, *, progress: Optional[ProgressCallback] = None, timeout: Optional[float] = None) -> T:
        """Sends a request and waits for its result (see `Pending.result`)."""
        return self.request_async(method, params, convert, progress=progress).result(timeout)

    def notify(self, method: str, params: Any) -> None:
        """Sends a notification (no reply)."""
        self._write({"jsonrpc": "2.0", "method": method, "params": params})

    def on_notification(self, method: str, handler: NotificationHandler) -> None:
        """Calls `handler(params)` for every notification `method` from the server (on the
        reader thread)."""
        with self._state_lock:
            self._handlers[method].append(handler)

    # ---- receiving -----------------------------------------------------------------------

    def _read_message(self) -> Optional[Any]:
        """The next message, or None at the end of the stream."""
        length: Optional[int] = None
        while True:
            line = self._reader.readline(_MAX_HEADER_LINE)
            if not line:
                return None
            if line in (b"\r\n", b"\n"):
                if length is None:
                    raise ValueError("a header block without Content-Length")
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        body = b""
        while len(body) < length:
            part = self._reader.read(length - len(body))
            if not part:
                return None
            body += part
        return json.loads(body)

    def _read_loop(self) -> None:
        reason = "the server closed its output"
        try:
            while True:
                message = self._read_message()
                if message is None:
                    break
                if isinstance(message, dict):
                    self._dispatch(message)
        except Exception as exc:  # a broken frame or a closed pipe: the session is over
            reason = f"the connection broke: {exc!r}"
        self._lose(reason)

    def _dispatch(self, message: Mapping[str, Any]) -> None:
        method = message.get("method")
        if method is None:
            request_id = message.get("id")
            with self._state_lock:
                pending = self._pending.pop(request_id, None) if isinstance(request_id, int) else None
            if pending is not None:
                pending._settle(message, None)
            return
        params = message.get("params")
        if "id" in message:
            # A request from the server: only window/workDoneProgress/create is sent; any
            # other is answered "method not found", as JSON-RPC asks.
            if method == "window/workDoneProgress/create":
                self._write({"jsonrpc": "2.0", "id": message["id"], "result": None})
            else:
                self._write({"jsonrpc": "2.0", "id": message["id"], "error": {"code": -32601, "message": f"unknown method {method}"}})
            return
        if method == "$/progress" and isinstance(params, dict):
            self._on_progress(params)
            return
        with self._state_lock:
            handlers = list(self._handlers.get(method, ()))
        for handler in handlers:
            handler(params if isinstance(params, dict) else {})

    def _on_progress(self, params: Mapping[str, Any]) -> None:
        token = params.get("token")
        value = params.get("value")
        if not isinstance(value, dict):
            return
        event = ProgressEvent(token=token, kind=str(value.get("kind")), percentage=value.get("percentage"), title=value.get("title"), message=value.get("message"))
        with self._state_lock:
            callback = self._progress.get(token)
            if event.kind == "end":
                self._progress.pop(token, None)
        callback = callback or self.default_progress
        if callback is not None:
            callback(event)

    def _read_stderr(self, stream: IO[bytes]) -> None:
        try:
            for line in iter(stream.readline, b""):
                self._stderr_tail.append(line.decode("utf-8", "replace").rstrip("\n"))
        except (OSError, ValueError):  # closed by `Client.close` while a child kept it open
            pass

    def _lose(self, reason: str) -> None:
        returncode: Optional[int] = None
        if self.process is not None:
            try:
                returncode = self.process.wait(timeout=2.0)
            except subprocess.TimeoutExpired:
                returncode = None
        if self._stderr_thread is not None:
            self._stderr_thread.join(timeout=1.0)
        lost = ConnectionLost(reason, returncode, "\n".join(self._stderr_tail))
        with self._state_lock:
            self._lost = lost
            pending, self._pending = list(self._pending.values()), {}
        self._lost_event.set()
        for p in pending:
            p._settle(None, lost)

    # ---- state ---------------------------------------------------------------------------

    @property
    def lost(self) -> Optional[ConnectionLost]:
        """Why the connection ended, once it has (None while it is up)."""
        return self._lost

    def wait_closed(self, timeout: Optional[float] = None) -> bool:
        """Waits for the end of the server's output; True if it came."""
        return self._lost_event.wait(timeout)

    def stderr_tail(self) -> str:
        """The last lines the server wrote to stderr (when it was started with stderr captured)."""
        return "\n".join(self._stderr_tail)

    def close_writer(self) -> None:
        """Closes the server's stdin (it then finishes what it has and exits)."""
        with self._write_lock:
            try:
                self._writer.close()
            except OSError:
                pass


def environ_with(extra: Optional[Mapping[str, str]]) -> Dict[str, str]:
    """os.environ with `extra` on top (for the server's environment)."""
    env = dict(os.environ)
    if extra:
        env.update(extra)
    return env
