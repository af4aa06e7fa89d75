"""The values the client returns: typed views of the server's JSON replies.

Each keeps the whole reply in `raw`, so a field this version does not name is still there.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Tuple, Union

#: a position (line, character), the character counted in the negotiated encoding (UTF-8 bytes
#: by default in this client)
Position = Tuple[int, int]


@dataclass(frozen=True)
class LineCount:
    """`known`: lines found so far; `estimate`: the guess for the whole file; `exact`: the
    index is complete and `known` is the line count."""

    known: int
    estimate: int
    exact: bool

    @staticmethod
    def from_json(v: Mapping[str, Any]) -> "LineCount":
        return LineCount(int(v.get("known", 0)), int(v.get("estimate", 0)), bool(v.get("exact", False)))


@dataclass(frozen=True)
class DocumentInfo:
    """The result of `tome/open`, `tome/info` and `tome/reload` (docs/protocol.md, tome/open)."""

    doc: int
    path: str
    size: int
    line_count: LineCount
    index_complete: bool
    line_ending: str
    encoding: str
    read_only: bool
    version: int
    dirty: bool
    undo_steps: int
    redo_steps: int
    compression: Optional[str]
    recovery: Optional[Mapping[str, Any]]
    raw: Mapping[str, Any] = field(repr=False)

    @staticmethod
    def from_json(v: Mapping[str, Any]) -> "DocumentInfo":
        return DocumentInfo(
            doc=int(v["doc"]),
            path=str(v.get("path", "")),
            size=int(v.get("size", 0)),
            line_count=LineCount.from_json(v.get("lineCount") or {}),
            index_complete=bool(v.get("indexComplete", False)),
            line_ending=str(v.get("lineEnding", "lf")),
            encoding=str(v.get("encoding", "utf-8")),
            read_only=bool(v.get("readOnly", False)),
            version=int(v.get("version", 0)),
            dirty=bool(v.get("dirty", False)),
            undo_steps=int(v.get("undoSteps", 0)),
            redo_steps=int(v.get("redoSteps", 0)),
            compression=v.get("compression"),
            recovery=v.get("recovery"),
            raw=v,
        )


@dataclass(frozen=True)
class Line:
    """One line of `Document.lines`: `text` without its line break (invalid UTF-8 as one
    U+FFFD per byte), `raw` its exact bytes when asked for (`raw=True`), `number` (None
    where the index has not reached it), `offset` of its first byte, `byte_length` (without
    the break), `break_length` (0 at the end of the document, 1 for LF or CR, 2 for CRLF)."""

    number: Optional[int]
    offset: int
    text: str
    byte_length: int
    break_length: int
    invalid: bool
    raw: Optional[bytes] = None


@dataclass(frozen=True)
class Text:
    """The result of `tome/getText`: `text` (invalid bytes as U+FFFD), `size` in bytes,
    `data` the exact bytes (when read with `raw=True` and `invalid`), `version` read."""

    text: str
    size: int
    invalid: bool
    version: int
    data: Optional[bytes] = None

    @staticmethod
    def from_json(v: Mapping[str, Any]) -> "Text":
        data: Optional[bytes] = None
        if v.get("base64") is not None:
            data = base64.b64decode(v["base64"])
        return Text(str(v.get("text", "")), int(v.get("bytes", 0)), bool(v.get("invalid", False)), int(v.get("version", 0)), data)

    def as_bytes(self) -> bytes:
        """The exact bytes when they were sent (`raw=True` and invalid), else the text in UTF-8
        (the same bytes for a UTF-8 document)."""
        return self.data if self.data is not None else self.text.encode("utf-8")


@dataclass(frozen=True)
class Match:
    """A search match: byte offsets `[start, end)`, and its range as positions (None where
    the index has not reached it yet)."""

    start: int
    end: int
    range: Optional[Tuple[Position, Position]]

    @staticmethod
    def from_json(v: Mapping[str, Any]) -> "Match":
        offsets = v["offsets"]
        r = v.get("range")
        rng: Optional[Tuple[Position, Position]] = None
        if r:
            rng = ((int(r["start"]["line"]), int(r["start"]["character"])), (int(r["end"]["line"]), int(r["end"]["character"])))
        return Match(int(offsets["start"]), int(offsets["end"]), rng)

    @property
    def line(self) -> Optional[int]:
        """The line the match starts on (None if not indexed yet)."""
        return self.range[0][0] if self.range else None


@dataclass(frozen=True)
class EditResult:
    """`version` after the batch; `undo_steps` now."""

    version: int
    undo_steps: int


@dataclass(frozen=True)
class UndoResult:
    """`changed` (False: nothing to undo or redo), `version`, `offset` where the restored
    change starts (None when nothing changed)."""

    changed: bool
    version: int
    offset: Optional[int]


@dataclass(frozen=True)
class ReplaceResult:
    """`tome/replaceAll`: replacements made (`count`), on how many `lines`, the `version` after."""

    count: int
    lines: int
    last_line: Optional[int]
    version: int


@dataclass(frozen=True)
class SaveResult:
    """`tome/save`: the file's `path` and `size` in bytes, the `method` used ("rename" or
    "inPlace"), `start` (the first byte written: every byte before it was left as it was),
    `written` bytes, `backed_up` bytes, the `version` saved, `elapsed_ms`."""

    path: str
    size: int
    method: str
    start: int
    written: int
    backed_up: int
    version: int
    elapsed_ms: float
    raw: Mapping[str, Any] = field(repr=False)

    @staticmethod
    def from_json(v: Mapping[str, Any]) -> "SaveResult":
        return SaveResult(
            str(v.get("path", "")),
            int(v.get("bytes", 0)),
            str(v.get("method", "")),
            int(v.get("from", 0)),
            int(v.get("written", 0)),
            int(v.get("backedUp", 0)),
            int(v.get("version", 0)),
            float(v.get("elapsedMs", 0)),
            v,
        )


@dataclass(frozen=True)
class Edit:
    """One edit of a batch: replace `[start, end)` with `text` (a `str`, encoded into the
    document's encoding by the server, or `bytes`, inserted as they are). `start`/`end` are
    byte offsets (ints) or positions ((line, character) tuples); both of one kind. All edits
    of a batch refer to the document before the batch and must not overlap."""

    start: Union[int, Position]
    end: Union[int, Position]
    text: Union[str, bytes] = ""

    def to_json(self) -> Mapping[str, Any]:
        out: dict[str, Any] = {}
        if isinstance(self.start, int) and isinstance(self.end, int):
            out["offsets"] = {"start": self.start, "end": self.end}
        elif isinstance(self.start, tuple) and isinstance(self.end, tuple):
            out["range"] = {
                "start": {"line": self.start[0], "character": self.start[1]},
                "end": {"line": self.end[0], "character": self.end[1]},
            }
        else:
            raise TypeError("an Edit's start and end must both be offsets or both be positions")
        if isinstance(self.text, bytes):
            out["base64"] = base64.b64encode(self.text).decode("ascii")
        else:
            out["text"] = self.text
        return out

    def changes_something(self) -> bool:
        """False only for an empty insertion (the server keeps the version for a batch of those)."""
        return self.start != self.end or len(self.text) > 0
