#!/usr/bin/env python3
"""Compressed documents (issue 17 item 2): first screen, pass, jumps and a search count on a
`.gz` (or `.zst`) file, next to `zcat FILE | rg --count-matches PATTERN` in the same run.

Usage: scripts/bench-compressed.py TOME_BIN FILE.gz PATTERN [RUNS]

Each run starts a new server and times: `tome/open` with the first 300 lines (the first
screen: open + first viewport); the decompression pass (until `indexComplete`); a viewport at
the middle line and at the end (`fraction` 1.0) once the pass is done; `tome/search` count of
PATTERN (literal). Then the peer: `zcat FILE | rg --count-matches PATTERN` (or zstdcat).
Medians, with min and max.
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tome_rpc import Tome  # noqa: E402


def main():
    if len(sys.argv) < 4:
        print(__doc__)
        sys.exit(2)
    tome, path, pattern = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), sys.argv[3]
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    os.environ.setdefault('TOME_STATE_DIR', tempfile.mkdtemp(prefix='tome-bench-gz.'))
    res = {}

    def add(k, v):
        res.setdefault(k, []).append(v)

    for _ in range(runs):
        t = Tome(tome)
        t.initialize()
        t0 = time.perf_counter()
        info = t.request("tome/open", {"path": path, "viewport": {"first": 0, "count": 300}})
        add("first screen (open + 300 lines)", time.perf_counter() - t0)
        assert info["readOnly"] and info.get("compression"), info
        assert len(info["viewport"]["lines"]) == 300
        doc = info["doc"]
        while not t.request("tome/info", {"doc": doc})["indexComplete"]:
            time.sleep(0.02)
        add("pass (open to indexComplete)", time.perf_counter() - t0)
        lines = t.request("tome/info", {"doc": doc})["lineCount"]["known"]
        t1 = time.perf_counter()
        v = t.request("tome/viewport", {"doc": doc, "first": lines // 2, "count": 300})
        add("jump to the middle line (300 lines)", time.perf_counter() - t1)
        assert v["lines"][0]["number"] == lines // 2
        t1 = time.perf_counter()
        t.request("tome/viewport", {"doc": doc, "fraction": 1.0, "before": 299, "count": 1})
        add("jump to the end (300 lines)", time.perf_counter() - t1)
        t1 = time.perf_counter()
        n = t.request("tome/search", {"doc": doc, "query": {"pattern": pattern}, "mode": "count"})["count"]
        add("search count (tome)", time.perf_counter() - t1)
        t.shutdown()
        cat = "zstdcat" if path.endswith(".zst") else "zcat"
        t1 = time.perf_counter()
        out = subprocess.run(f"{cat} {path} | rg --count-matches -F {pattern}", shell=True,
                             capture_output=True, text=True).stdout
        add(f"{cat} | rg --count-matches (peer)", time.perf_counter() - t1)
        assert int(out.strip() or 0) == n, (out, n)
    print(f"file: {path} ({os.path.getsize(path)} bytes compressed), {lines} lines, "
          f"{n} matches of {pattern!r}, {runs} runs")
    for k, v in res.items():
        print(f"  {k:42s} median {statistics.median(v)*1000:9.1f} ms"
              f"  (min {min(v)*1000:.1f}, max {max(v)*1000:.1f})")


main()
