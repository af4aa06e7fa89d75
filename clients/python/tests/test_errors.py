"""Errors as exceptions: the classes match docs/protocol.md's error table, and the server's
error replies come out as those classes, with their data."""

from __future__ import annotations

import gzip
import os
import re
import threading
import unittest
from typing import Any, Dict, List, Mapping

from support import ServerTest

import tome_client
from tome_client import (
    BY_CODE,
    BY_KIND,
    ChangedOnDisk,
    DirtyDocument,
    Edit,
    FileNotFound,
    InvalidParams,
    InvalidRegex,
    NotRegularFile,
    OutOfBounds,
    OverlappingEdits,
    ReadOnlyDocument,
    StaleVersion,
    TomeError,
    UnknownDocument,
    UnsupportedEncoding,
    error_from_reply,
)

PROTOCOL = os.path.join(os.path.dirname(__file__), "..", "..", "..", "docs", "protocol.md")


class ErrorTable(unittest.TestCase):
    def test_every_row_of_the_protocol_table_has_its_class(self) -> None:
        if not os.path.exists(PROTOCOL):
            self.skipTest("docs/protocol.md is not beside this checkout")
        with open(PROTOCOL, encoding="utf-8") as f:
            doc = f.read()
        table = doc[doc.index("## Errors") : doc.index("## Cancellation and progress")]
        rows = re.findall(r"^\| (-3\d{4}) \| (?:`(\w+)`)?[^|]*\|", table, re.M)
        self.assertGreater(len(rows), 25)
        for code_text, kind in rows:
            code = int(code_text)
            cls = BY_KIND[kind] if kind else BY_CODE[code]
            self.assertEqual(cls.CODE, code, (code, kind))
            self.assertEqual(cls.KIND, kind or None, (code, kind))
            err = error_from_reply({"code": code, "message": "m", "data": {"kind": kind} if kind else None})
            self.assertIs(type(err), cls)
            self.assertIsInstance(err, TomeError)
            self.assertTrue(hasattr(tome_client, cls.__name__), cls.__name__)
        # And no class names a kind the table does not have.
        kinds = {kind for _, kind in rows if kind}
        self.assertEqual(set(BY_KIND), kinds)

    def test_unknown_code_is_a_plain_tome_error(self) -> None:
        err = error_from_reply({"code": -39999, "message": "new", "data": {"kind": "brandNew", "x": 1}})
        self.assertIs(type(err), TomeError)
        self.assertEqual((err.code, err.kind, err.data["x"]), (-39999, "brandNew", 1))


class ServerErrors(ServerTest):
    def test_missing_file(self) -> None:
        missing = os.path.join(self.dir, "nope.txt")
        with self.assertRaises(FileNotFound) as caught:
            self.client.open(missing)
        self.assertEqual(caught.exception.data["path"], missing)
        self.assertEqual(caught.exception.code, -33005)
        with self.assertRaises(NotRegularFile):
            self.client.open(self.dir)

    def test_dirty_reopen_with_encoding(self) -> None:
        doc = self.client.open(self.path("d.txt", b"caf\xe9\n"))
        doc.insert(0, "x")
        with self.assertRaises(DirtyDocument):
            doc.reopen_with_encoding("windows-1252")
        doc.undo()
        info = doc.reopen_with_encoding("windows-1252")
        self.assertEqual(info.encoding, "windows-1252")
        self.assertEqual(doc.line(0), "café")
        with self.assertRaises(InvalidParams):
            doc.reopen_with_encoding("no-such-encoding")

    def test_unsupported_encoding(self) -> None:
        # UTF-32 is detected but refused (UTF-16 files are edited).
        path = self.path("u32.txt", "\ufeffhello\n".encode("utf-32-le"))
        with self.assertRaises(UnsupportedEncoding) as caught:
            self.client.open(path)
        self.assertIn("32", caught.exception.data["encoding"])
        self.assertEqual(self.client.open(path, encoding="binary").opened.encoding, "binary")

    def test_compressed_document_is_read_only(self) -> None:
        path = self.path("c.log.gz", gzip.compress(b"one\ntwo\n"))
        doc = self.client.open(path)
        self.assertTrue(doc.opened.read_only)
        self.assertEqual(doc.line(1), "two")
        with self.assertRaises(ReadOnlyDocument) as caught:
            doc.insert(0, "x")
        self.assertEqual(caught.exception.data["compression"], "gzip")

    def test_edit_errors_change_nothing(self) -> None:
        doc = self.client.open(self.path("e.txt", b"abc\ndef\n"))
        doc.insert(0, ">")
        with self.assertRaises(StaleVersion) as caught:
            doc.edit([Edit(0, 0, "x")], version=0)
        self.assertEqual((caught.exception.data["given"], caught.exception.data["current"]), (0, 1))
        with self.assertRaises(OverlappingEdits):
            doc.edit([Edit(0, 3, "x"), Edit(2, 4, "y")])
        with self.assertRaises(OutOfBounds):
            doc.edit([Edit(100, 101, "x")])
        with self.assertRaises(OutOfBounds):
            doc.line(50)
        with self.assertRaises(InvalidRegex):
            doc.count("(", regex=True)
        self.assertEqual(doc.info().version, 1)
        self.assertEqual(doc.text(0, 9).text, ">abc\ndef\n")
        doc.close()
        with self.assertRaises(UnknownDocument):
            doc.info()

    def test_changed_on_disk(self) -> None:
        data = b"".join(b"line %d\n" % i for i in range(20000))
        path = self.path("t.log", data)
        changes: List[Mapping[str, Any]] = []
        seen = threading.Event()

        def on_change(params: Mapping[str, Any]) -> None:
            changes.append(params)
            seen.set()

        self.client.on_notification("tome/didChangeOnDisk", on_change)
        doc = self.client.open(path)
        if doc.opened.raw.get("snapshot"):
            self.skipTest("a reflink snapshot keeps the old bytes readable")
        os.truncate(path, 100)
        self.assertTrue(seen.wait(60), "no tome/didChangeOnDisk")
        self.assertEqual(changes[0]["change"], "truncated")
        with self.assertRaises(ChangedOnDisk):
            doc.text(len(data) - 100, len(data))




if __name__ == "__main__":
    unittest.main()
