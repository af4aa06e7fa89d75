"""Reading, searching, editing and saving small files, checked against Python's own reading
of the bytes (lines split by LF/CRLF/CR, `re` for matches, `bytes.replace`/`re.sub` for edits,
the saved file compared byte for byte)."""

from __future__ import annotations

import concurrent.futures
import hashlib
import re
import threading
import unittest
from typing import List

from support import ServerTest, shown, split_lines

from tome_client import Edit, ProgressEvent

MIXED = (
    b"first line\r\n"
    b"bad \xff\xfe end\n"
    b"\xf0\x9f\xa6\x80 crab and caf\xc3\xa9\n"
    b"lone cr\rafter cr\n"
    b"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e key=value\r\n"
    b"truncated \xe2\x82 char\n"
    b"last line without break"
)


class Reading(ServerTest):
    def test_lines_match_python_split(self) -> None:
        path = self.path("mixed.txt", MIXED)
        doc = self.client.open(path)
        want = split_lines(MIXED)
        got = doc.lines(0, 100, raw=True)
        self.assertEqual([line.raw for line in got], want)
        self.assertEqual([line.text for line in got], [shown(w) for w in want])
        self.assertEqual([line.number for line in got], list(range(len(want))))
        self.assertEqual([line.invalid for line in got], [not _valid(w) for w in want])
        self.assertEqual([line.break_length for line in got][:2], [2, 1])
        self.assertEqual(doc.line(2), "🦀 crab and café")
        self.assertEqual([line.text for line in doc.iter_lines(page=2)], [line.text for line in got])

    def test_crlf_document(self) -> None:
        data = b"".join(b"row %d\r\n" % i for i in range(2500))
        doc = self.client.open(self.path("crlf.txt", data))
        self.assertEqual(doc.opened.line_ending, "crlf")
        lines = doc.lines(0, 3000)  # three viewport pages
        self.assertEqual(len(lines), 2501)
        self.assertEqual([line.text for line in lines], [w.decode() for w in split_lines(data)])
        self.assertEqual(lines[1234].offset, data.index(b"row 1234\r\n"))

    def test_ranges_and_chunks_are_exact_bytes(self) -> None:
        doc = self.client.open(self.path("mixed.txt", MIXED))
        for start, end in [(0, len(MIXED)), (5, 17), (25, 27), (12, 14)]:
            self.assertEqual(doc.text(start, end, raw=True).as_bytes(), MIXED[start:end], (start, end))
        self.assertEqual(doc.text((2, 0), (2, 4)).text, "🦀")
        # Chunks of every size cut characters anywhere: they still join to the file.
        for size in (1, 2, 3, 5, 64):
            self.assertEqual(b"".join(doc.iter_chunks(size)), MIXED, size)
        self.assertEqual(b"".join(doc.iter_chunks(4, start=10, end=30)), MIXED[10:30])

    def test_requests_from_many_threads(self) -> None:
        data = b"".join(b"%06d\n" % i for i in range(20000))
        doc = self.client.open(self.path("t.txt", data))
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            got = list(pool.map(doc.line, range(0, 20000, 97)))
        self.assertEqual(got, ["%06d" % i for i in range(0, 20000, 97)])

    def test_utf16_positions(self) -> None:
        client = self.spawn(position_encoding="utf-16")
        self.assertEqual(client.position_encoding, "utf-16")
        doc = client.open(self.path("mixed.txt", MIXED))
        match = doc.find("crab")
        assert match is not None
        line = split_lines(MIXED)[2].decode()
        self.assertEqual(match.range, ((2, len(line[: line.index("crab")].encode("utf-16-le")) // 2), (2, 7)))

    def test_open_with_encoding(self) -> None:
        data = "naïve café\n".encode("windows-1252")
        path = self.path("latin.txt", data)
        doc = self.client.open(path, encoding="windows-1252")
        self.assertEqual(doc.opened.encoding, "windows-1252")
        self.assertEqual(doc.line(0), "naïve café")
        doc.replace(0, 5, "NAÏVE")
        doc.save()
        self.assertEqual(self.read(path), "NAÏVE café\n".encode("windows-1252"))


class Searching(ServerTest):
    def setUp(self) -> None:
        super().setUp()
        self.data = b"".join(b"id=%d name=user%d%s\n" % (i, i * 7 % 13, b" \xc3\xa9t\xc3\xa9" if i % 5 == 0 else b"") for i in range(3000))
        self.doc = self.client.open(self.path("s.txt", self.data))

    def test_count_and_positions_match_re(self) -> None:
        for pattern, regex in [("user1", False), (r"user1\d\b", True), (r"(?m)^id=\d+5 ", True), ("été", False)]:
            want = list(re.finditer(pattern.encode() if not regex else pattern.encode(), self.data)) if regex else [
                m for m in re.finditer(re.escape(pattern.encode()), self.data)
            ]
            self.assertEqual(self.doc.count(pattern, regex=regex), len(want), pattern)
            got = list(self.doc.find_all(pattern, regex=regex, page_size=7))
            self.assertEqual([(m.start, m.end) for m in got], [(m.start(), m.end()) for m in want], pattern)
            if got:
                m = got[-1]
                assert m.range is not None
                self.assertEqual(m.line, self.data.count(b"\n", 0, m.start))

    def test_find_all_in_a_range(self) -> None:
        a, b = 1000, 20000
        want = [(m.start(), m.end()) for m in re.finditer(rb"name=user1\d", self.data) if m.start() >= a and m.end() <= b]
        got = [(m.start, m.end) for m in self.doc.find_all(r"name=user1\d", regex=True, start=a, end=b, page_size=5)]
        self.assertEqual(got, want)

    def test_case_insensitive_count(self) -> None:
        self.assertEqual(self.doc.count("USER12", case_sensitive=False), len(re.findall(rb"(?i)user12", self.data)))

    def test_next_previous_and_wrap(self) -> None:
        starts = [m.start() for m in re.finditer(rb"user3", self.data)]
        first = self.doc.find("user3")
        assert first is not None
        self.assertEqual(first.start, starts[0])
        second = self.doc.find_next("user3", first)
        assert second is not None
        self.assertEqual(second.start, starts[1])
        back = self.doc.find_previous("user3", second)
        assert back is not None
        self.assertEqual(back.start, starts[0])
        self.assertIsNone(self.doc.find_previous("user3", first))
        wrapped = self.doc.find("user3", start=starts[0], backward=True, wrap=True)
        assert wrapped is not None
        self.assertEqual(wrapped.start, starts[-1])
        self.assertIsNone(self.doc.find("no such thing"))

    def test_progress_callback_sees_begin_and_end(self) -> None:
        events: List[ProgressEvent] = []
        ended = threading.Event()

        def on_progress(event: ProgressEvent) -> None:
            events.append(event)
            if event.kind == "end":
                ended.set()

        self.doc.count("user", progress=on_progress)
        self.assertTrue(ended.wait(30), "no end of progress")
        self.assertEqual(events[0].kind, "begin")
        self.assertEqual(events[-1].kind, "end")
        self.assertTrue(all(e.token == events[0].token for e in events))


class Editing(ServerTest):
    def test_edit_save_matches_bytes_replace(self) -> None:
        data = b"".join(b"line %d value=%d\n" % (i, i * 3) for i in range(5000))
        path = self.path("e.txt", data)
        doc = self.client.open(path)
        n = 3000
        old = b"line %d value=%d" % (n, n * 3)
        doc.replace_line(n, "line %d value=REPLACED" % n)
        self.assertTrue(doc.info().dirty)
        result = doc.save()
        self.assertEqual(result.version, 1)
        want = data.replace(old + b"\n", b"line %d value=REPLACED\n" % n)
        self.assertEqual(self.read(path), want)
        self.assertFalse(doc.info().dirty)

    def test_batch_pipelined_edits_undo_redo(self) -> None:
        data = b"alpha\nbeta\ngamma\n"
        path = self.path("p.txt", data)
        doc = self.client.open(path)
        # Three batches sent back to back, each based on the version the one before makes.
        pending = [
            doc.edit_async([Edit(0, 5, "ALPHA"), Edit((1, 0), (1, 4), "BETA")]),
            doc.edit_async([(len(data), len(data), b"raw \xff bytes\n")]),
            doc.edit_async([Edit(0, 0, "")]),  # an empty insertion: no new version
            doc.edit_async([Edit(0, 0, ">")]),
        ]
        self.assertEqual([p.result().version for p in pending], [1, 2, 2, 3])
        self.assertEqual(doc.version, 3)
        want = b">ALPHA\nBETA\ngamma\nraw \xff bytes\n"
        self.assertEqual(doc.text(0, len(want), raw=True).as_bytes(), want)
        undone = doc.undo()
        self.assertTrue(undone.changed)
        self.assertEqual(doc.text(0, 5).text, "ALPHA")
        redone = doc.redo()
        self.assertEqual(redone.version, undone.version + 1)
        doc.save(method="rename")
        self.assertEqual(self.read(path), want)

    def test_replace_all_matches_re_sub(self) -> None:
        data = b"".join(b"k%d=v%d;\r\n" % (i, i % 17) for i in range(4000))
        path = self.path("r.txt", data)
        doc = self.client.open(path)
        dry = doc.replace_all(r"v(1\d);", "w$1;", regex=True, dry_run=True)
        want, n = re.subn(rb"v(1\d);", rb"w\1;", data)
        self.assertEqual(dry.count, n)
        self.assertEqual(dry.version, 0)
        result = doc.replace_all(r"v(1\d);", "w$1;", regex=True)
        self.assertEqual((result.count, result.version), (n, 1))
        saved = doc.save()
        self.assertEqual(saved.size, len(want))
        self.assertEqual(hashlib.sha256(self.read(path)).hexdigest(), hashlib.sha256(want).hexdigest())

    def test_save_in_place_and_save_as(self) -> None:
        data = b"x" * 100 + b"\n" + b"y" * 100 + b"\n"
        path = self.path("ip.txt", data)
        doc = self.client.open(path)
        doc.replace(101, 104, "ZZZ")
        result = doc.save(method="inPlace")
        self.assertEqual(result.method, "inPlace")
        self.assertEqual(self.read(path), data[:101] + b"ZZZ" + data[104:])
        other = self.path("copy.txt", b"")
        doc.insert(0, "#")
        doc.save_as(other)
        self.assertEqual(self.read(other), b"#" + data[:101] + b"ZZZ" + data[104:])
        self.assertEqual(doc.info().path, other)

    def test_close_reports_discarded_changes(self) -> None:
        doc = self.client.open(self.path("c.txt", b"abc\n"))
        doc.insert(0, "x")
        self.assertTrue(doc.close())


def _valid(b: bytes) -> bool:
    try:
        b.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


if __name__ == "__main__":
    unittest.main()
