"""A few hundred MiB (`tome gen FILE --size 300M --unicode`, made once for the module):
iterating the whole document, far lines, counts, cancelling a long search, a server killed
in the middle of a request, and a server started through a command template (as over ssh)."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import unittest
from typing import Any, List, Optional, Tuple

from support import binary

from tome_client import Client, ConnectionLost, Edit, ProgressEvent, RequestCancelled

SIZE = "300M"
#: runs for seconds on 300 MiB (a regex the lazy DFA must run over every byte)
SLOW_REGEX = r"\w+\s\w+=\d+\w+$"

_dir: Optional[str] = None
_path = ""


def setUpModule() -> None:
    global _dir, _path
    _dir = tempfile.mkdtemp(prefix="tome-py-big-")
    _path = os.path.join(_dir, "big.log")
    subprocess.run([binary(), "gen", _path, "--size", SIZE, "--unicode"], check=True, stdout=subprocess.DEVNULL)


def tearDownModule() -> None:
    if _dir:
        shutil.rmtree(_dir, True)


def line_of(path: str, number: int) -> Tuple[int, bytes]:
    """Python's own reading: the offset and bytes of line `number` (LF-ended lines)."""
    seen = 0
    base = 0
    with open(path, "rb") as f:
        while True:
            block = f.read(8 << 20)
            if not block:
                raise IndexError(number)
            n = block.count(b"\n")
            if seen + n > number:
                pos = -1
                for _ in range(number - seen):
                    pos = block.index(b"\n", pos + 1)
                start = pos + 1
                rest = block[start:] + f.read(1 << 20)
                return base + start, rest[: rest.index(b"\n")]
            seen += n
            base += len(block)


class BigFile(unittest.TestCase):
    def setUp(self) -> None:
        self.state = tempfile.mkdtemp(prefix="tome-py-state-")
        self.addCleanup(shutil.rmtree, self.state, True)

    def spawn(self, **options: Any) -> Client:
        client = Client.spawn(binary(), state_dir=self.state, **options)
        self.addCleanup(client.close)
        return client

    def test_iterate_whole_document_matches_hashlib(self) -> None:
        client = self.spawn()
        doc = client.open(_path)
        ours = hashlib.sha256()
        size = 0
        for chunk in doc.iter_chunks(4 << 20):
            ours.update(chunk)
            size += len(chunk)
        theirs = hashlib.sha256()
        with open(_path, "rb") as f:
            for block in iter(lambda: f.read(4 << 20), b""):
                theirs.update(block)
        self.assertEqual(size, os.path.getsize(_path))
        self.assertEqual(ours.hexdigest(), theirs.hexdigest())

    def test_far_lines_and_counts(self) -> None:
        client = self.spawn()
        doc = client.open(_path)
        with open(_path, "rb") as f:
            data = f.read()
        total = data.count(b"\n")
        for number in (total - 1, total // 2 + 12345, 7):
            offset, want = line_of(_path, number)
            got = doc.lines(number, 1, raw=True)[0]
            self.assertEqual((got.offset, got.raw), (offset, want), number)
            self.assertEqual(doc.line(number), want.decode("utf-8"))
        self.assertEqual(doc.line_count(), total + 1)
        self.assertTrue(doc.info().line_count.exact)
        self.assertEqual(doc.count("日本語"), data.count("日本語".encode()))
        self.assertEqual(doc.count(r"latency_ms=9\d\d\b", regex=True), len(re.findall(rb"latency_ms=9\d\d\b", data)))
        last = doc.find("seq=", backward=True)
        assert last is not None
        self.assertEqual(last.start, data.rindex(b"seq="))

    def test_replace_far_line_and_save_in_place(self) -> None:
        copy = os.path.join(self.state, "copy.log")
        shutil.copyfile(_path, copy)
        client = self.spawn()
        doc = client.open(copy)
        number = doc.line_count() - 1000
        offset, old = line_of(copy, number)
        doc.replace_line(number, "REPLACED")
        result = doc.save()
        # In place on ext4 (only the tail is written), a rename on XFS/btrfs (the prefix cloned).
        if result.method == "inPlace":
            self.assertGreater(result.start, os.path.getsize(copy) // 2)
        with open(_path, "rb") as f:
            want = f.read()
        want = want[:offset] + b"REPLACED" + want[offset + len(old) :]
        with open(copy, "rb") as f:
            self.assertTrue(f.read() == want, "the saved file differs from bytes-level replacement")

    def test_index_progress(self) -> None:
        events: List[ProgressEvent] = []
        ended = threading.Event()

        def on_index(event: ProgressEvent) -> None:
            events.append(event)
            if event.kind == "end":
                ended.set()

        client = self.spawn(index_progress=on_index)
        doc = client.open(_path)
        token = doc.opened.raw.get("indexProgressToken")
        if token is None:
            self.skipTest("indexed before the open reply: no progress to report")
        self.assertTrue(ended.wait(120), "no end of indexing progress")
        self.assertEqual({e.token for e in events}, {token})
        self.assertEqual((events[0].kind, events[-1].kind), ("begin", "end"))
        self.assertTrue(doc.info().index_complete)

    def test_cancel_a_long_search(self) -> None:
        client = self.spawn()
        doc = client.open(_path)
        started = threading.Event()

        def on_progress(event: ProgressEvent) -> None:
            if event.kind == "begin":
                started.set()

        pending = doc.count_async(SLOW_REGEX, regex=True, progress=on_progress)
        self.assertTrue(started.wait(60), "the search never began")
        pending.cancel()
        with self.assertRaises(RequestCancelled):
            pending.result(60)
        # The server goes on: the next request is served.
        self.assertEqual(doc.line(0)[:4], "2026")

    def test_server_killed_mid_request(self) -> None:
        client = self.spawn()
        doc = client.open(_path)
        pending = doc.count_async(SLOW_REGEX, regex=True)
        process = client.connection.process
        assert process is not None
        os.kill(process.pid, signal.SIGKILL)
        with self.assertRaises(ConnectionLost) as caught:
            pending.result(60)
        self.assertEqual(caught.exception.returncode, -signal.SIGKILL)
        with self.assertRaises(ConnectionLost):
            doc.info()
        with self.assertRaises(ConnectionLost):
            doc.edit_async([Edit(0, 0, "x")])
        self.assertEqual(client.close(), -signal.SIGKILL)

    def test_command_template(self) -> None:
        # What `Client.spawn(command=["ssh", host, "tome", "serve"])` does, with a local
        # shell standing in for ssh: the client knows only the command line.
        log = os.path.join(self.state, "ran")
        command = ["sh", "-c", 'echo started > "$1" && exec "$0" serve', binary(), log]
        client = self.spawn(command=command)
        doc = client.open(_path)
        self.assertTrue(doc.opened.size > 0)
        self.assertEqual(len(doc.lines(1000, 5)), 5)
        self.assertEqual(client.close(), 0)
        with open(log) as f:
            self.assertEqual(f.read(), "started\n")

    def test_missing_binary_or_dead_command(self) -> None:
        with self.assertRaises(ConnectionLost) as caught:
            Client.spawn(command=["sh", "-c", "echo no tome here >&2; exit 3"])
        self.assertEqual(caught.exception.returncode, 3)
        self.assertIn("no tome here", str(caught.exception))


if __name__ == "__main__":
    unittest.main()
