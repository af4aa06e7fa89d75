#!/usr/bin/env python3
"""Regex and case-insensitive search in a UTF-16 file (issue 17, search decoded per window):
`tome/search` counts on a UTF-16LE file next to the same counts on the same text in UTF-8
(Tome), and next to `rg -E utf-16le` on the UTF-16 file and `rg` on the UTF-8 one, all in
the same run, interleaved.

Usage: scripts/bench-encsearch.py TOME_BIN UTF16_FILE UTF8_FILE [RUNS]

UTF8_FILE is the same text in UTF-8 (e.g. `iconv -f UTF-8 -t UTF-16LE UTF8_FILE > UTF16_FILE`).
Each run starts a new server per file (index cache off), opens it, waits for the line index
(not timed), then times each query's `tome/search` count. Peers: `rg --count-matches`
(`-i` for the case-insensitive literal, `-F` for literals), with `-E utf-16le` on the UTF-16
file. Every count must agree. Medians, with min and max.
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tome_rpc import Tome  # noqa: E402

QUERIES = [
    ("regex seq=1[0-9]{3}\\b", {"pattern": r"seq=1[0-9]{3}\b", "regex": True},
     [r"seq=1[0-9]{3}\b"]),
    ("regex [A-Z]{5}\\d", {"pattern": r"[A-Z]{5}\d", "regex": True}, [r"[A-Z]{5}\d"]),
    ("case-insensitive 'timeout'", {"pattern": "timeout", "caseSensitive": False},
     ["-i", "-F", "timeout"]),
]


def main():
    if len(sys.argv) < 4:
        print(__doc__)
        sys.exit(2)
    tome = os.path.abspath(sys.argv[1])
    u16, u8 = os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3])
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    os.environ.setdefault('TOME_STATE_DIR', tempfile.mkdtemp(prefix='tome-bench-encs.'))
    os.environ['TOME_INDEX_CACHE_SIZE'] = '0'
    res, counts = {}, {}

    def add(k, v):
        res.setdefault(k, []).append(v)

    for _ in range(runs):
        for label, path in (("UTF-16LE", u16), ("UTF-8", u8)):
            t = Tome(tome)
            t.initialize()
            info = t.request("tome/open", {"path": path})
            doc = info["doc"]
            while not t.request("tome/info", {"doc": doc})["indexComplete"]:
                time.sleep(0.01)
            for name, query, _ in QUERIES:
                t1 = time.perf_counter()
                n = t.request("tome/search", {"doc": doc, "query": query,
                                              "mode": "count"})["count"]
                add(f"{name}: tome, {label} ({info['encoding']})", time.perf_counter() - t1)
                counts.setdefault(name, set()).add(n)
            t.shutdown()
        for name, _, rg in QUERIES:
            for label, extra, path in (("UTF-16LE", ["-E", "utf-16le"], u16),
                                       ("UTF-8", [], u8)):
                t1 = time.perf_counter()
                out = subprocess.run(["rg", "--count-matches", *extra, *rg, path],
                                     capture_output=True, text=True).stdout
                add(f"{name}: rg, {label}", time.perf_counter() - t1)
                counts[name].add(int(out or 0))
    for name, c in counts.items():
        assert len(c) == 1, (name, c)
    print(f"files: {u16} ({os.path.getsize(u16)} bytes), {u8} ({os.path.getsize(u8)} bytes), "
          f"{runs} runs, load {os.getloadavg()}")
    for name, c in counts.items():
        print(f"  {name}: {c.pop()} matches")
    for k, v in res.items():
        print(f"  {k:60s} median {statistics.median(v)*1000:9.1f} ms"
              f"  (min {min(v)*1000:.1f}, max {max(v)*1000:.1f})")


main()
