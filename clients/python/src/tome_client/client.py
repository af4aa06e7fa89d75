"""`Client` (a `tome serve` session) and `Document` (one open file in it).

Costs are the server's (docs/protocol.md): opening is O(1) in the file's size, reading a line
or a range costs what is read plus O(log n), a search or a save costs what the server scans or
writes. What crosses the pipe is only what is asked for, so the same calls work over `ssh`.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import time
from collections import deque
from typing import Any, Deque, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

from .connection import Connection, NotificationHandler, Pending, ProgressCallback, environ_with
from .errors import ClientError, StaleVersion, TomeError
from .types import DocumentInfo, Edit, EditResult, Line, Match, Position, ReplaceResult, SaveResult, Text, UndoResult

#: the most `tome/getText` sends in one reply (docs/protocol.md, tome/getText)
MAX_TEXT_BYTES = 16 * 1024 * 1024
#: lines per `tome/viewport` (docs/protocol.md, limits)
MAX_VIEWPORT_LINES = 1000

EditLike = Union[Edit, Tuple[Union[int, Position], Union[int, Position], Union[str, bytes]]]


def find_binary(binary: Optional[str] = None) -> str:
    """The `tome` binary to run: `binary`, else `$TOME_BIN`, else `tome` on PATH."""
    if binary:
        return binary
    env = os.environ.get("TOME_BIN")
    if env:
        return env
    found = shutil.which("tome")
    if found:
        return found
    raise ClientError("no tome binary: pass one, set TOME_BIN, or put tome on PATH")


def _close_streams(process: "subprocess.Popen[bytes]") -> None:
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            try:
                stream.close()
            except OSError:
                pass


def _query(pattern: str, regex: bool, case_sensitive: bool, word_separators: Optional[str]) -> Dict[str, Any]:
    q: Dict[str, Any] = {"pattern": pattern, "regex": regex, "caseSensitive": case_sensitive}
    if word_separators is not None:
        q["wordSeparators"] = word_separators
    return q


def _edit_json(e: EditLike) -> Tuple[Mapping[str, Any], bool]:
    edit = e if isinstance(e, Edit) else Edit(*e)
    return edit.to_json(), edit.changes_something()


class Client:
    """A session with `tome serve`: spawn it with `Client.spawn(...)` (locally, or any command
    that runs `tome serve` with its stdio connected, such as `ssh host tome serve`), open
    documents with `open()`, and end it with `close()` or a `with` block (shutdown, then exit).

    Thread-safe: requests may be sent from several threads; replies are matched by id.
    """

    def __init__(self, connection: Connection, *, position_encoding: str = "utf-8", index_progress: Optional[ProgressCallback] = None) -> None:
        """Takes a connection to a server that has not been initialized yet, and initializes
        it (`initialize`, then `initialized`). Use `spawn` rather than this."""
        self.connection = connection
        connection.default_progress = index_progress
        capabilities: Dict[str, Any] = {"general": {"positionEncodings": [position_encoding, "utf-16"]}}
        if index_progress is not None:
            capabilities["window"] = {"workDoneProgress": True}
        result: Dict[str, Any] = connection.request("initialize", {"processId": os.getpid(), "clientInfo": {"name": "tome_client"}, "capabilities": capabilities})
        self.server_info: Mapping[str, Any] = result.get("serverInfo") or {}
        caps = result.get("capabilities") or {}
        #: the position encoding the server chose ("utf-8" unless asked otherwise)
        self.position_encoding: str = str(caps.get("positionEncoding", "utf-16"))
        tome = (caps.get("experimental") or {}).get("tome") or {}
        #: the server's limits (`maxMatches`, `maxViewportLines`…)
        self.limits: Mapping[str, int] = tome.get("limits") or {}
        #: the `tome/*` methods the server has
        self.methods: Sequence[str] = tome.get("methods") or []
        connection.notify("initialized", {})
        self._closed = False

    @classmethod
    def spawn(
        cls,
        binary: Optional[str] = None,
        *,
        command: Optional[Sequence[str]] = None,
        env: Optional[Mapping[str, str]] = None,
        cwd: Optional[str] = None,
        state_dir: Optional[str] = None,
        position_encoding: str = "utf-8",
        index_progress: Optional[ProgressCallback] = None,
        capture_stderr: bool = True,
    ) -> "Client":
        """Starts a server and initializes it.

        `command`: the whole command line that runs `tome serve` with its stdin and stdout as
        the protocol (e.g. `["ssh", "-T", "host", "tome", "serve"]`); without it, `binary`
        (else `$TOME_BIN`, else `tome` on PATH) with `serve`. `env` adds to this process's
        environment; `state_dir` sets `TOME_STATE_DIR` (journals, index cache) for a local
        server. `capture_stderr`: keep the server's last log lines to explain a lost
        connection (else they go to this process's stderr). `index_progress` receives the
        indexing progress of opened files (and any progress without a callback of its own).
        """
        argv = list(command) if command else [find_binary(binary), "serve"]
        extra = dict(env or {})
        if state_dir is not None:
            extra["TOME_STATE_DIR"] = state_dir
        try:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE if capture_stderr else None,
                env=environ_with(extra),
                cwd=cwd,
            )
        except OSError as exc:
            raise ClientError(f"cannot start {argv[0]}: {exc}") from exc
        assert process.stdin is not None and process.stdout is not None
        connection = Connection(process.stdout, process.stdin, process)
        try:
            return cls(connection, position_encoding=position_encoding, index_progress=index_progress)
        except BaseException:
            process.kill()
            process.wait()
            connection.close_writer()
            if connection.wait_closed(5.0):
                _close_streams(process)
            raise

    # ---- requests ------------------------------------------------------------------------

    def request(self, method: str, params: Any, *, progress: Optional[ProgressCallback] = None, timeout: Optional[float] = None) -> Any:
        """Any method of docs/protocol.md, raw: the result as JSON values."""
        return self.connection.request(method, params, progress=progress, timeout=timeout)

    def request_async(self, method: str, params: Any, *, progress: Optional[ProgressCallback] = None) -> Pending[Any]:
        """As `request`, without waiting."""
        return self.connection.request_async(method, params, progress=progress)

    def on_notification(self, method: str, handler: NotificationHandler) -> None:
        """Calls `handler(params)` on each notification `method` (e.g. `tome/didChangeOnDisk`),
        on the reader thread."""
        self.connection.on_notification(method, handler)

    def open(
        self,
        path: Union[str, "os.PathLike[str]"],
        *,
        encoding: Optional[str] = None,
        interrupted_save: Optional[str] = None,
    ) -> "Document":
        """Opens a file (O(1): the line index is built in the background). `encoding` names
        its encoding instead of the one detected (a WHATWG label, or "binary");
        `interrupted_save` answers an `InterruptedSave` error ("restore", "discard", "keep").
        Raises `FileNotFound`, `PermissionDenied`, `NotRegularFile`, `UnsupportedEncoding`,
        `InterruptedSave`, `InvalidParams` (an unknown label)."""
        params: Dict[str, Any] = {"path": os.fspath(path)}
        if encoding is not None:
            params["encoding"] = encoding
        if interrupted_save is not None:
            params["interruptedSave"] = interrupted_save
        info = DocumentInfo.from_json(self.request("tome/open", params))
        return Document(self, info)

    # ---- lifecycle -----------------------------------------------------------------------

    def close(self, timeout: float = 30.0) -> Optional[int]:
        """Ends the session: `shutdown`, `exit`, then waits for the process (killing it after
        `timeout` s). Unsaved changes of open documents stay in their journals. Returns the
        exit status (0 after a clean shutdown). Safe to call twice, and after the server died."""
        if self._closed:
            return self.connection.process.returncode if self.connection.process else None
        self._closed = True
        if self.connection.lost is None:
            try:
                self.connection.request("shutdown", None, timeout=timeout)
                self.connection.notify("exit", None)
            except (ClientError, TimeoutError):
                pass
        self.connection.close_writer()
        process = self.connection.process
        if process is None:
            return None
        try:
            status = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            status = process.wait()
        if self.connection.wait_closed(5.0):
            # The reader threads have seen the end of both streams: release the pipes.
            _close_streams(process)
        return status

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class Document:
    """An open document. Offsets are byte offsets into its current text; lines are
    zero-based; positions are (line, character) with characters in the client's position
    encoding (UTF-8 bytes unless asked otherwise).

    `version` is the version the next edit is based on: the client predicts it from the
    edits it sends (each batch that changes something adds one), so edits can be pipelined
    (`edit_async`) as the protocol allows. `refresh()` reads it from the server again (after
    a `StaleVersion`, a cancelled change, or a followed append)."""

    def __init__(self, client: Client, info: DocumentInfo) -> None:
        self.client = client
        self.id = info.doc
        #: the `tome/open` reply
        self.opened = info
        self.version = info.version

    # ---- state ---------------------------------------------------------------------------

    def info(self) -> DocumentInfo:
        """`tome/info` (in order after the changes sent before it); updates `version`."""
        info = DocumentInfo.from_json(self.client.request("tome/info", {"doc": self.id}))
        self.version = info.version
        return info

    refresh = info

    def wait_indexed(self, timeout: Optional[float] = None, poll: float = 0.05) -> DocumentInfo:
        """Waits until the line index is complete (`line_count.exact`), asking `tome/info`
        every `poll` s; returns that info. Raises `TimeoutError` after `timeout` s. Reading a
        line does not need this (a viewport waits for the index to reach its line); counting
        lines does."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            info = self.info()
            if info.index_complete:
                return info
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"{self.opened.path}: index not complete after {timeout} s")
            time.sleep(poll)

    def line_count(self) -> int:
        """The number of lines, once the index is complete (waits for it)."""
        return self.wait_indexed().line_count.known

    def close(self) -> bool:
        """`tome/close`; True if unsaved changes were dropped (saves sent before finish first)."""
        return bool(self.client.request("tome/close", {"doc": self.id})["discarded"])

    def __enter__(self) -> "Document":
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.client.connection.lost is None:
            self.close()

    def reopen_with_encoding(self, encoding: str) -> DocumentInfo:
        """Reads the same bytes in another encoding from now on. Raises `DirtyDocument` while
        there are unsaved changes, `UnsupportedEncoding`, `InvalidParams` (unknown label)."""
        return DocumentInfo.from_json(self.client.request("tome/reopenWithEncoding", {"doc": self.id, "encoding": encoding}))

    def reload(self) -> DocumentInfo:
        """Reads the file again, dropping unsaved edits and the undo history."""
        info = DocumentInfo.from_json(self.client.request("tome/reload", {"doc": self.id}))
        self.version = info.version
        return info

    # ---- reading -------------------------------------------------------------------------

    def _viewport(self, first: int, count: int, raw: bool) -> Mapping[str, Any]:
        page: Mapping[str, Any] = self.client.request(
            "tome/viewport",
            {
                "doc": self.id,
                "first": first,
                "count": count,
                "rawBytes": raw,
                "highlights": False,
                "wholeLines": {"maxLineBytes": MAX_TEXT_BYTES, "maxBytes": MAX_TEXT_BYTES},
            },
        )
        return page

    def _line_from_json(self, v: Mapping[str, Any], raw: bool, version: int) -> Line:
        text = str(v["text"])
        data: Optional[bytes] = base64.b64decode(v["base64"]) if v.get("base64") is not None else None
        if v.get("cutBefore") or v.get("cutAfter") or not v.get("lengthKnown", True):
            # A line over the whole-line budget: read it by offsets (in parts past 16 MiB).
            got = self.text(int(v["offset"]), int(v["offset"]) + int(v["byteLength"]), raw=raw, version=version)
            text, data = got.text, got.data
        if raw and data is None:
            data = text.encode("utf-8")
        return Line(v.get("number"), int(v["offset"]), text, int(v["byteLength"]), int(v["breakLength"]), bool(v.get("invalid", False)), data if raw else None)

    def _page(self, first: int, count: int, raw: bool) -> Tuple[List[Line], bool]:
        """Lines `[first, first + count)` and whether they reach the end of the document."""
        page = self._viewport(first, count, raw)
        got = page.get("lines") or []
        lines = [self._line_from_json(v, raw, int(page["version"])) for v in got]
        lc = page.get("lineCount") or {}
        at_end = len(got) < count or (bool(lc.get("exact")) and first + len(got) >= int(lc.get("known", 0)))
        return lines, at_end

    def lines(self, first: int, count: int, *, raw: bool = False) -> List[Line]:
        """Lines `[first, first + count)` (fewer at the end of the document), whole, in pages
        of 1000. Waits for the index to reach `first`. `raw=True` adds each line's exact
        bytes (`Line.raw`; for a UTF-8 document). Costs the lines read plus O(log n) per page.
        Raises `OutOfBounds` when `first` is past the last line."""
        out: List[Line] = []
        while count > 0:
            got, at_end = self._page(first, min(count, MAX_VIEWPORT_LINES), raw)
            out.extend(got)
            if at_end:
                break
            first += len(got)
            count -= len(got)
        return out

    def line(self, number: int) -> str:
        """The text of one line, without its line break (invalid bytes as U+FFFD)."""
        return self.lines(number, 1)[0].text

    def iter_lines(self, first: int = 0, *, raw: bool = False, page: int = MAX_VIEWPORT_LINES) -> Iterator[Line]:
        """Every line from `first` to the end, a page of `page` lines (at most 1000) at a time
        (memory: one page). A document that ends with a line break ends with an empty line."""
        while True:
            got, at_end = self._page(first, min(page, MAX_VIEWPORT_LINES), raw)
            yield from got
            if at_end:
                return
            first += len(got)

    def text(self, start: Union[int, Position], end: Union[int, Position], *, raw: bool = False, version: Optional[int] = None) -> Text:
        """`tome/getText` of `[start, end)` (offsets, or positions), in order after the edits
        sent before it. Ranges over 16 MiB are read in parts (offsets only). `raw=True` also
        gives the exact bytes (`Text.data`) where they are not valid UTF-8; `Text.as_bytes()`.
        `version`: fail with `StaleVersion` unless the document is at that version."""
        if isinstance(start, int) and isinstance(end, int) and end - start > MAX_TEXT_BYTES:
            parts = [self.text(s, min(s + MAX_TEXT_BYTES, end), raw=raw, version=version) for s in range(start, end, MAX_TEXT_BYTES)]
            invalid = any(p.invalid for p in parts)
            data = b"".join(p.as_bytes() for p in parts) if raw and invalid else None
            return Text("".join(p.text for p in parts), sum(p.size for p in parts), invalid, parts[-1].version, data)
        return Text.from_json(self.client.request("tome/getText", self._text_params(start, end, raw, version)))

    def _text_params(self, start: Union[int, Position], end: Union[int, Position], raw: bool, version: Optional[int]) -> Dict[str, Any]:
        params: Dict[str, Any] = {"doc": self.id, "rawBytes": raw}
        if isinstance(start, int) and isinstance(end, int):
            params["offsets"] = {"start": start, "end": end}
        elif isinstance(start, tuple) and isinstance(end, tuple):
            params["range"] = {"start": {"line": start[0], "character": start[1]}, "end": {"line": end[0], "character": end[1]}}
        else:
            raise TypeError("start and end must both be offsets or both be positions")
        if version is not None:
            params["version"] = version
        return params

    def iter_chunks(self, chunk_bytes: int = 4 * 1024 * 1024, *, start: int = 0, end: Optional[int] = None, prefetch: int = 3) -> Iterator[bytes]:
        """The document's bytes from `start` to `end` (default: its size now), in chunks of
        `chunk_bytes` (at most 16 MiB). Memory: about `prefetch` + 1 chunks, whatever the
        size: `prefetch` requests are kept in flight so the server reads ahead while the
        caller works. Every chunk is read at the version current when iteration starts; an
        edit meanwhile makes the next chunk raise `StaleVersion`.

        The bytes are exact for UTF-8 and binary documents (a character cut by a chunk's edge
        is sent as its bytes); in a legacy encoding (windows-1252, Shift_JIS…) they are the
        text re-encoded as UTF-8."""
        if not 0 < chunk_bytes <= MAX_TEXT_BYTES:
            raise ValueError(f"chunk_bytes must be in 1..{MAX_TEXT_BYTES}")
        info = self.info()
        stop = info.size if end is None else end
        version = info.version
        # Chunks are asked for without `rawBytes` (the server would base64-encode every chunk,
        # to send the encoding only for invalid ones: 45 % of its work on valid text); one that
        # comes back `invalid` is asked for again with it, and so are all after it (a file with
        # one invalid chunk likely has more).
        raw = False
        queue: Deque[Tuple[int, int, Pending[Text]]] = deque()
        next_start = start

        def read(s: int, e: int, with_raw: bool) -> Pending[Text]:
            return self.client.connection.request_async("tome/getText", self._text_params(s, e, with_raw, version), Text.from_json)

        def send() -> None:
            nonlocal next_start
            s = next_start
            e = min(s + chunk_bytes, stop)
            next_start = e
            queue.append((s, e, read(s, e, raw)))

        try:
            while next_start < stop and len(queue) < max(1, prefetch):
                send()
            while queue:
                s, e, pending = queue.popleft()
                chunk = pending.result()
                if chunk.invalid and chunk.data is None:
                    raw = True
                    chunk = read(s, e, True).result()
                if next_start < stop:
                    send()
                yield chunk.as_bytes()
        finally:
            # An abandoned iteration: stop the reads still queued.
            for _, _, p in queue:
                p.cancel()

    # ---- search --------------------------------------------------------------------------

    def find(
        self,
        pattern: str,
        *,
        regex: bool = False,
        case_sensitive: bool = True,
        word_separators: Optional[str] = None,
        start: Optional[Union[int, Position]] = None,
        backward: bool = False,
        wrap: bool = False,
        progress: Optional[ProgressCallback] = None,
    ) -> Optional[Match]:
        """The next match at or after `start` (default: the start of the document), or with
        `backward=True` the last one starting before it (default: the end); None if there is
        none. `wrap` goes on from the other end. Regexes are Rust's `regex` syntax, multi-line."""
        return self.find_async(pattern, regex=regex, case_sensitive=case_sensitive, word_separators=word_separators, start=start, backward=backward, wrap=wrap, progress=progress).result()

    def find_async(
        self,
        pattern: str,
        *,
        regex: bool = False,
        case_sensitive: bool = True,
        word_separators: Optional[str] = None,
        start: Optional[Union[int, Position]] = None,
        backward: bool = False,
        wrap: bool = False,
        progress: Optional[ProgressCallback] = None,
    ) -> Pending[Optional[Match]]:
        """As `find`, without waiting (cancel with `Pending.cancel()`)."""
        params: Dict[str, Any] = {
            "doc": self.id,
            "query": _query(pattern, regex, case_sensitive, word_separators),
            "mode": "next",
            "direction": "backward" if backward else "forward",
            "wrap": wrap,
        }
        if isinstance(start, int):
            params["from"] = {"offset": start}
        elif isinstance(start, tuple):
            params["from"] = {"position": {"line": start[0], "character": start[1]}}

        def convert(v: Any) -> Optional[Match]:
            found = v.get("found")
            return Match.from_json(found) if found else None

        return self.client.connection.request_async("tome/search", params, convert, progress=progress)

    def find_next(self, pattern: str, after: Match, **options: Any) -> Optional[Match]:
        """The match after `after` (from its end; an empty match moves one byte on)."""
        start = after.end if after.end > after.start else after.end + 1
        return self.find(pattern, start=start, **options)

    def find_previous(self, pattern: str, before: Union[Match, int], **options: Any) -> Optional[Match]:
        """The last match that starts before `before` (a match, or an offset)."""
        start = before.start if isinstance(before, Match) else before
        return self.find(pattern, start=start, backward=True, **options)

    def count(self, pattern: str, *, regex: bool = False, case_sensitive: bool = True, word_separators: Optional[str] = None, progress: Optional[ProgressCallback] = None) -> int:
        """How many matches the whole document has (on every core from 64 MiB)."""
        return self.count_async(pattern, regex=regex, case_sensitive=case_sensitive, word_separators=word_separators, progress=progress).result()

    def count_async(self, pattern: str, *, regex: bool = False, case_sensitive: bool = True, word_separators: Optional[str] = None, progress: Optional[ProgressCallback] = None) -> Pending[int]:
        """As `count`, without waiting (cancel with `Pending.cancel()`)."""
        params = {"doc": self.id, "query": _query(pattern, regex, case_sensitive, word_separators), "mode": "count"}
        return self.client.connection.request_async("tome/search", params, lambda v: int(v["count"]), progress=progress)

    def find_all(
        self,
        pattern: str,
        *,
        regex: bool = False,
        case_sensitive: bool = True,
        word_separators: Optional[str] = None,
        start: int = 0,
        end: Optional[int] = None,
        page_size: int = 1000,
    ) -> Iterator[Match]:
        """Every match starting in `[start, end)` (default: to the end), in order, fetched a
        page of `page_size` (at most 10 000) at a time: memory is one page, and stopping the
        iteration stops the fetching. Each page is searched on the document as it is when
        that page is asked for."""
        while True:
            params: Dict[str, Any] = {"doc": self.id, "query": _query(pattern, regex, case_sensitive, word_separators), "mode": "all", "limit": page_size}
            if end is not None:
                params["offsets"] = {"start": start, "end": end}
            else:
                params["from"] = {"offset": start}  # to the end of the document as it is then
            page = self.client.request("tome/search", params)
            for m in page.get("matches") or []:
                yield Match.from_json(m)
            resume = page.get("resumeAt")
            if resume is None:
                return
            start = int(resume)

    # ---- changes -------------------------------------------------------------------------

    def edit_async(self, edits: Iterable[EditLike], *, version: Optional[int] = None, undo: Optional[str] = None) -> Pending[EditResult]:
        """Sends one batch (atomic, one undo step) based on `version` (default: the predicted
        `version`) without waiting, and predicts the next version, so batches can be
        pipelined. `undo`: "auto", "new" or "join" (docs/protocol.md, tome/edit)."""
        items = [_edit_json(e) for e in edits]
        base = self.version if version is None else version
        params: Dict[str, Any] = {"doc": self.id, "version": base, "edits": [j for j, _ in items]}
        if undo is not None:
            params["undo"] = undo
        pending = self.client.connection.request_async("tome/edit", params, lambda v: EditResult(int(v["version"]), int(v["undoSteps"])))
        if any(changes for _, changes in items):
            self.version = base + 1
        return pending

    def edit(self, edits: Iterable[EditLike], *, version: Optional[int] = None, undo: Optional[str] = None) -> EditResult:
        """Applies one batch of edits (`Edit`s or `(start, end, text)` tuples; all ranges
        refer to the document before the batch). Raises `StaleVersion`, `OutOfBounds`,
        `OverlappingEdits`, `Unrepresentable`, `ReadOnlyDocument`…, and then nothing changed."""
        before = self.version
        pending = self.edit_async(edits, version=version, undo=undo)
        predicted = self.version
        try:
            result = pending.result()
        except TomeError as exc:
            # Nothing was applied. Unless other edits were sent meanwhile, the next edit is
            # based on the version the server has (a stale one says which) or had.
            if self.version == predicted:
                current = exc.data.get("current") if isinstance(exc, StaleVersion) and isinstance(exc.data, dict) else None
                self.version = current if isinstance(current, int) else before
            raise
        self.version = max(self.version, result.version)
        return result

    def replace(self, start: Union[int, Position], end: Union[int, Position], text: Union[str, bytes]) -> EditResult:
        """Replaces `[start, end)` with `text`."""
        return self.edit([Edit(start, end, text)])

    def insert(self, at: Union[int, Position], text: Union[str, bytes]) -> EditResult:
        """Inserts `text` at `at`."""
        return self.edit([Edit(at, at, text)])

    def delete(self, start: Union[int, Position], end: Union[int, Position]) -> EditResult:
        """Deletes `[start, end)`."""
        return self.edit([Edit(start, end, "")])

    def replace_line(self, number: int, text: Union[str, bytes]) -> EditResult:
        """Replaces the text of line `number` (its line break stays)."""
        line = self.lines(number, 1)[0]
        return self.edit([Edit(line.offset, line.offset + line.byte_length, text)])

    def _step(self, method: str) -> UndoResult:
        v = self.client.request(method, {"doc": self.id})
        result = UndoResult(bool(v["changed"]), int(v["version"]), v.get("offset"))
        self.version = result.version
        return result

    def undo(self) -> UndoResult:
        """Undoes the last undo step (`changed` is False if there was none)."""
        return self._step("tome/undo")

    def redo(self) -> UndoResult:
        """Redoes the last undone step."""
        return self._step("tome/redo")

    def replace_all(
        self,
        pattern: str,
        replacement: str,
        *,
        regex: bool = False,
        case_sensitive: bool = True,
        word_separators: Optional[str] = None,
        start: Optional[int] = None,
        end: Optional[int] = None,
        first_per_line: bool = False,
        dry_run: bool = False,
        progress: Optional[ProgressCallback] = None,
    ) -> ReplaceResult:
        """Replaces every match (starting in `[start, end)` when given) as one change and one
        undo step; with `regex`, `$1` and `${name}` in `replacement` are groups. `dry_run`
        only counts."""
        params: Dict[str, Any] = {
            "doc": self.id,
            "query": _query(pattern, regex, case_sensitive, word_separators),
            "replacement": replacement,
            "perLine": "first" if first_per_line else "all",
            "dryRun": dry_run,
        }
        if start is not None or end is not None:
            params["offsets"] = {"start": start or 0, "end": end if end is not None else self.info().size}
        v = self.client.request("tome/replaceAll", params, progress=progress)
        result = ReplaceResult(int(v["count"]), int(v["lines"]), v.get("lastLine"), int(v["version"]))
        self.version = result.version
        return result

    # ---- saving --------------------------------------------------------------------------

    def save_async(self, *, method: str = "auto", path: Optional[str] = None, progress: Optional[ProgressCallback] = None) -> Pending[SaveResult]:
        """As `save`, without waiting (cancel with `Pending.cancel()`: the file stays as it was)."""
        params: Dict[str, Any] = {"doc": self.id, "method": method}
        name = "tome/save"
        if path is not None:
            params["path"] = os.fspath(path)
            name = "tome/saveAs"
        return self.client.connection.request_async(name, params, SaveResult.from_json, progress=progress)

    def save(self, *, method: str = "auto", progress: Optional[ProgressCallback] = None) -> SaveResult:
        """Saves the version current when the request arrives. `method`: "auto" (in place
        when only a small tail or a few blocks of a big file change, else rename),
        "rename" (atomic) or "inPlace". On failure the file is as it was and the document
        stays dirty (`DiskFull`, `PermissionDenied`, `ChangedOnDisk`, `IoError`, `Busy`)."""
        return self.save_async(method=method, progress=progress).result()

    def save_as(self, path: Union[str, "os.PathLike[str]"], *, method: str = "auto", progress: Optional[ProgressCallback] = None) -> SaveResult:
        """Saves to `path`; the document then belongs to it."""
        return self.save_async(method=method, path=os.fspath(path), progress=progress).result()

