"""Exceptions: one class per error of docs/protocol.md's error table.

The server's errors carry a stable `code` and, for Tome's own errors, `data.kind`. Several
kinds share a code (-33003 is `staleVersion` and `editedBeforeRecovery`; -33012 is `io` and
`journalInUse`), so the class is chosen by `kind` first, then by `code`: `error_from_reply`
does that. Catch `TomeError` for any error the server answered, `ConnectionLost` for a server
that went away (it is not a reply), or `ClientError` for both.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Type


class ClientError(Exception):
    """Anything this package raises about the server or the connection."""


class ConnectionLost(ClientError):
    """The server exited, or its pipes closed, before the request was answered.

    `returncode` is the process's exit status when known (negative: the signal that killed
    it), `stderr` the last lines it wrote to stderr (its log), when they were captured.
    """

    def __init__(self, message: str, returncode: Optional[int] = None, stderr: str = "") -> None:
        detail = message
        if returncode is not None:
            detail += f" (exit status {returncode})"
        if stderr:
            detail += f"; its stderr ended with:\n{stderr}"
        super().__init__(detail)
        self.returncode = returncode
        self.stderr = stderr


class TomeError(ClientError):
    """An error reply: `code` (stable), `message` (for people), `data` (may hold more fields,
    such as `path`, `given`/`current` or `encoding`) and `kind` (`data.kind`, or None for
    JSON-RPC's own errors)."""

    #: the code of this class in docs/protocol.md (None on the base class)
    CODE: Optional[int] = None
    #: the `data.kind` of this class (None for JSON-RPC's own errors)
    KIND: Optional[str] = None

    def __init__(self, code: int, message: str, data: Any = None, method: Optional[str] = None) -> None:
        super().__init__(f"{method}: {message}" if method else message)
        self.code = code
        self.message = message
        self.data: Any = data
        self.method = method
        kind = data.get("kind") if isinstance(data, dict) else None
        self.kind: Optional[str] = kind if isinstance(kind, str) else None


# JSON-RPC's and LSP's own errors.
class ParseError(TomeError):
    """-32700: a bad frame, not JSON, not UTF-8, over the size limit."""

    CODE = -32700


class InvalidRequest(TomeError):
    """-32600: not a JSON-RPC message; also requests after `shutdown`, a second `initialize`."""

    CODE = -32600


class MethodNotFound(TomeError):
    """-32601: the server does not know the method."""

    CODE = -32601


class InvalidParams(TomeError):
    """-32602 `invalidParams`: a missing field, a wrong type, values that do not fit together,
    an unknown encoding label."""

    CODE = -32602
    KIND = "invalidParams"


class ServerNotInitialized(TomeError):
    """-32002: a request before the `initialize` reply."""

    CODE = -32002


class RequestCancelled(TomeError):
    """-32800: the request was cancelled (`$/cancelRequest`). A cancelled edit, undo or redo
    may still have been applied: ask `info()` for the version."""

    CODE = -32800


class RequestFailed(TomeError):
    """-32803 `requestFailed`: the server failed for an internal reason (a bug)."""

    CODE = -32803
    KIND = "requestFailed"


# Tome's own errors.
class UnknownDocument(TomeError):
    """-33001 `unknownDocument`: no open document with that id."""

    CODE = -33001
    KIND = "unknownDocument"


class OutOfBounds(TomeError):
    """-33002 `outOfBounds`: a line, column, offset or range outside the document."""

    CODE = -33002
    KIND = "outOfBounds"


class StaleVersion(TomeError):
    """-33003 `staleVersion`: the request's version is not the current one
    (`data["given"]`, `data["current"]`); nothing changed."""

    CODE = -33003
    KIND = "staleVersion"


class EditedBeforeRecovery(TomeError):
    """-33003 `editedBeforeRecovery`: `recover` on a document already edited."""

    CODE = -33003
    KIND = "editedBeforeRecovery"


class InvalidRegex(TomeError):
    """-33004 `invalidRegex`: the pattern does not compile, is empty, or is too complex."""

    CODE = -33004
    KIND = "invalidRegex"


class FileNotFound(TomeError):
    """-33005 `fileNotFound`: the path does not exist (`data["path"]`)."""

    CODE = -33005
    KIND = "fileNotFound"


class PermissionDenied(TomeError):
    """-33006 `permissionDenied`: the OS refused access (`data["path"]`)."""

    CODE = -33006
    KIND = "permissionDenied"


class NotRegularFile(TomeError):
    """-33007 `notRegularFile`: a directory, device, FIFO… (`data["path"]`)."""

    CODE = -33007
    KIND = "notRegularFile"


class NotIndexedYet(TomeError):
    """-33008 `notIndexedYet`: beyond the indexed part and the request does not wait."""

    CODE = -33008
    KIND = "notIndexedYet"


class OverlappingEdits(TomeError):
    """-33009 `overlappingEdits`: two edits of one batch overlap."""

    CODE = -33009
    KIND = "overlappingEdits"


class ChangedOnDisk(TomeError):
    """-33010 `fileChanged`: the file changed on disk under the document."""

    CODE = -33010
    KIND = "fileChanged"


class DiskFull(TomeError):
    """-33011 `diskFull`: the disk filled up while saving (`data["path"]`); the file is as it was."""

    CODE = -33011
    KIND = "diskFull"


class IoError(TomeError):
    """-33012 `io`: any other I/O error (the message says what was being done)."""

    CODE = -33012
    KIND = "io"


class JournalInUse(IoError):
    """-33012 `journalInUse`: another live session journals this file (`data["path"]`)."""

    KIND = "journalInUse"


class Busy(TomeError):
    """-33013 `busy`: an earlier save of this document still runs after 120 s."""

    CODE = -33013
    KIND = "busy"


class InterruptedSave(TomeError):
    """-33014 `interruptedSave`: an in-place save of this file was interrupted; open again
    with `interrupted_save="restore" | "discard" | "keep"` (`data` says what the backup holds)."""

    CODE = -33014
    KIND = "interruptedSave"


class PatternTooLong(TomeError):
    """-33015 `patternTooLong`: `data["bytes"]`, `data["limit"]`."""

    CODE = -33015
    KIND = "patternTooLong"


class UnknownClip(TomeError):
    """-33016 `unknownClip`."""

    CODE = -33016
    KIND = "unknownClip"


class TooLarge(TomeError):
    """-33017 `tooLarge`: the request would exceed a documented limit."""

    CODE = -33017
    KIND = "tooLarge"


class UnknownFilter(TomeError):
    """-33018 `unknownFilter`."""

    CODE = -33018
    KIND = "unknownFilter"


class NoTimestamps(TomeError):
    """-33019 `noTimestamps`: `seekTime` found no timestamp of a supported format."""

    CODE = -33019
    KIND = "noTimestamps"


class ReadOnlyDocument(TomeError):
    """-33020 `readOnlyDocument`: a compressed document takes no changes (`data["compression"]`)."""

    CODE = -33020
    KIND = "readOnlyDocument"


class Unrepresentable(TomeError):
    """-33021 `unrepresentable`: a character the document's encoding cannot hold
    (`data["encoding"]`, `data["character"]`, `data["codePoint"]`); nothing was done."""

    CODE = -33021
    KIND = "unrepresentable"


class UnsupportedEncoding(TomeError):
    """-33022 `unsupportedEncoding`: recognised but not editable (UTF-16, UTF-32, ISO-2022-JP;
    `data["encoding"]`). Open with `encoding="binary"` to see the bytes."""

    CODE = -33022
    KIND = "unsupportedEncoding"


class DirtyDocument(TomeError):
    """-33023 `dirty`: `reopen_with_encoding` on a document with unsaved changes."""

    CODE = -33023
    KIND = "dirty"


def _subclasses(cls: Type[TomeError]) -> list[Type[TomeError]]:
    out: list[Type[TomeError]] = []
    for sub in cls.__subclasses__():
        out.append(sub)
        out.extend(_subclasses(sub))
    return out


#: every error class by its `data.kind`
BY_KIND: Mapping[str, Type[TomeError]] = {c.KIND: c for c in _subclasses(TomeError) if c.KIND is not None}
#: the class of each code, for replies without a kind (the first class of the table wins:
#: -33003 is `StaleVersion`, -33012 `IoError`)
BY_CODE: Dict[int, Type[TomeError]] = {}
for _c in _subclasses(TomeError):
    if _c.CODE is not None:
        BY_CODE.setdefault(_c.CODE, _c)


def error_from_reply(error: Mapping[str, Any], method: Optional[str] = None) -> TomeError:
    """The exception for a JSON-RPC `error` object: the class of its `data.kind`, else of its
    `code`, else `TomeError` itself (a code this version does not know)."""
    code = error.get("code")
    code = code if isinstance(code, int) else 0
    message = error.get("message")
    message = message if isinstance(message, str) else "error"
    data = error.get("data")
    kind = data.get("kind") if isinstance(data, dict) else None
    cls: Type[TomeError] = TomeError
    if isinstance(kind, str) and kind in BY_KIND:
        cls = BY_KIND[kind]
    elif code in BY_CODE:
        cls = BY_CODE[code]
    return cls(code, message, data, method)
