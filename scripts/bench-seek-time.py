#!/usr/bin/env python3
"""`tome/seekTime` right after `tome/open`, through the protocol: a fresh server per run opens
FILE and at once asks for a time; the round trip of that first `tome/seekTime` is timed (the
line index is still being built meanwhile), then RUNS more times spread over the file.
With `--cold`, the file is evicted from the page cache (posix_fadvise DONTNEED, no root
needed) before each open, so the probes read from disk.

Usage: scripts/bench-seek-time.py TOME_BIN FILE [RUNS] [--cold]
  FILE: e.g. `tome gen FILE --size 4G` (ISO 8601 timestamps from 2026-11-27T00:00:00Z).
Prints the open and first-seek times of each run, then min / median / max."""
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tome_rpc import Tome  # noqa: E402


def evict(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def main():
    args = [a for a in sys.argv[1:] if a != "--cold"]
    cold = "--cold" in sys.argv
    binary, path = args[0], args[1]
    runs = int(args[2]) if len(args) > 2 else 10
    # Times from 00:00 to 80:00 after the generator's first line, visited in a scattered order.
    hours = [(i * 37) % 80 for i in range(runs)]
    firsts, opens, seconds = [], [], []
    for h in hours:
        if cold:
            evict(path)
        t = Tome(binary)
        t.request("initialize", {"capabilities": {}})
        t0 = time.perf_counter()
        doc = t.request("tome/open", {"path": path})["doc"]
        t1 = time.perf_counter()
        when = "2026-11-%02dT%02d:%02d:00Z" % (27 + h // 24, h % 24, (h * 7) % 60)
        r = t.request("tome/seekTime", {"doc": doc, "time": when})
        t2 = time.perf_counter()
        # A second one in the same session, an hour later (other pages of the file).
        h2 = (h + 1) % 80
        t.request("tome/seekTime", {"doc": doc, "time": "2026-11-%02dT%02d:30:00Z" % (27 + h2 // 24, h2 % 24)})
        t3 = time.perf_counter()
        opens.append((t1 - t0) * 1e3)
        firsts.append((t2 - t1) * 1e3)
        seconds.append((t3 - t2) * 1e3)
        print("open %.2f ms, seekTime %.2f ms, again %.2f ms: %s -> offset %d (%s), line %s" %
              (opens[-1], firsts[-1], seconds[-1], when, r["offset"], r["time"], r["line"]))
        t.p.stdin.close()
        t.p.kill()
        t.p.wait()
    for name, xs in (("open", opens), ("seekTime right after open", firsts), ("a second seekTime", seconds)):
        print("%s: min %.2f ms, median %.2f ms, max %.2f ms (%d runs%s)" %
              (name, min(xs), statistics.median(xs), max(xs), len(xs), ", cold" if cold else ""))


main()
