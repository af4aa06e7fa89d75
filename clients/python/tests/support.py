"""What the tests share: the server binary, temporary directories, small oracles.

The tests drive the real `tome serve`: `$TOME_BIN` (scripts/test-all.sh passes the release
binary it builds), else the checkout's target/release/tome, else `tome` on PATH.
"""

from __future__ import annotations

import codecs
import os
import re
import shutil
import tempfile
import unittest
from typing import Any, List, Tuple

from tome_client import Client


def binary() -> str:
    env = os.environ.get("TOME_BIN")
    if env:
        return env
    built = os.path.join(os.path.dirname(__file__), "..", "..", "..", "target", "release", "tome")
    if os.access(built, os.X_OK):
        return os.path.abspath(built)
    found = shutil.which("tome")
    if not found:
        raise unittest.SkipTest("no tome binary: set TOME_BIN")
    return found


def _per_byte(error: UnicodeError) -> Tuple[str, int]:
    assert isinstance(error, UnicodeDecodeError)
    return "\ufffd" * (error.end - error.start), error.end


codecs.register_error("tome-per-byte", _per_byte)


def shown(data: bytes) -> str:
    """The text Tome shows for UTF-8 bytes: each invalid byte is one U+FFFD."""
    return data.decode("utf-8", "tome-per-byte")


def split_lines(data: bytes) -> List[bytes]:
    """Tome's lines: LF, CRLF and a lone CR each end one; n breaks make n + 1 lines."""
    return re.split(rb"\r\n|\r|\n", data)


class ServerTest(unittest.TestCase):
    """A fresh temporary directory (also the server's state directory) and server per test."""

    def setUp(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="tome-py-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.client = self.spawn()

    def spawn(self, **options: Any) -> Client:
        client = Client.spawn(binary(), state_dir=os.path.join(self.dir, "state"), **options)
        self.addCleanup(client.close)
        return client

    def path(self, name: str, data: bytes) -> str:
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def read(self, path: str) -> bytes:
        with open(path, "rb") as f:
            return f.read()
