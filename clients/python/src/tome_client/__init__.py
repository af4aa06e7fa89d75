"""A Python client of `tome serve` (docs/protocol.md): open, read, search, edit and save
multi-gigabyte files from scripts, locally or over ssh, with the standard library only.

    from tome_client import Client

    with Client.spawn() as tome:                 # `tome serve` ($TOME_BIN or PATH)
        doc = tome.open("/var/log/big.log")
        print(doc.line(30_000_000))
        doc.replace_line(30_000_000, "new text")
        doc.save()
"""

from .client import Client, Document, find_binary
from .connection import Connection, Pending, ProgressEvent
from .errors import (
    ClientError,
    ConnectionLost,
    TomeError,
    ParseError,
    InvalidRequest,
    MethodNotFound,
    InvalidParams,
    ServerNotInitialized,
    RequestCancelled,
    RequestFailed,
    UnknownDocument,
    OutOfBounds,
    StaleVersion,
    EditedBeforeRecovery,
    InvalidRegex,
    FileNotFound,
    PermissionDenied,
    NotRegularFile,
    NotIndexedYet,
    OverlappingEdits,
    ChangedOnDisk,
    DiskFull,
    IoError,
    JournalInUse,
    Busy,
    InterruptedSave,
    PatternTooLong,
    UnknownClip,
    TooLarge,
    UnknownFilter,
    NoTimestamps,
    ReadOnlyDocument,
    Unrepresentable,
    UnsupportedEncoding,
    DirtyDocument,
    BY_CODE,
    BY_KIND,
    error_from_reply,
)
from .types import DocumentInfo, Edit, EditResult, Line, LineCount, Match, ReplaceResult, SaveResult, Text, UndoResult

__version__ = "0.1.0"

__all__ = [
    "Client",
    "Document",
    "Connection",
    "Pending",
    "ProgressEvent",
    "find_binary",
    "DocumentInfo",
    "Edit",
    "EditResult",
    "Line",
    "LineCount",
    "Match",
    "ReplaceResult",
    "SaveResult",
    "Text",
    "UndoResult",
    "BY_CODE",
    "BY_KIND",
    "error_from_reply",
    "ClientError",
    "ConnectionLost",
    "TomeError",
    "ParseError",
    "InvalidRequest",
    "MethodNotFound",
    "InvalidParams",
    "ServerNotInitialized",
    "RequestCancelled",
    "RequestFailed",
    "UnknownDocument",
    "OutOfBounds",
    "StaleVersion",
    "EditedBeforeRecovery",
    "InvalidRegex",
    "FileNotFound",
    "PermissionDenied",
    "NotRegularFile",
    "NotIndexedYet",
    "OverlappingEdits",
    "ChangedOnDisk",
    "DiskFull",
    "IoError",
    "JournalInUse",
    "Busy",
    "InterruptedSave",
    "PatternTooLong",
    "UnknownClip",
    "TooLarge",
    "UnknownFilter",
    "NoTimestamps",
    "ReadOnlyDocument",
    "Unrepresentable",
    "UnsupportedEncoding",
    "DirtyDocument",
]
