#!/usr/bin/env python3
"""Instant reopen (issue 15 item 2): the time of `tome/open` on a file whose line index is in
the index cache, against the first open (which answers at once too, but with an estimate) and
the time until that first index is complete. Through the protocol, warm page cache.

Usage: scripts/bench-reopen.py TOME_BIN FILE [N]
  Starts one server per open (a reopen in a new session, as after restarting the editor) with
  a fresh state directory in /tmp/tome-bench-reopen-state; waits 2.1 s after the file's last
  change (index_cache.rs: an index is trusted at the same size only for a file last changed
  more than 2 s before it was opened). Prints: the first open's reply time, its time to a
  complete index, the cache entry's size (and per GiB), then N reopens: median, min, max of
  the `tome/open` reply time, each `exact: true` with the same line count.
"""
import os
import shutil
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tome_rpc import Tome  # noqa: E402


def close(t):
    t.shutdown()
    t.p.stdin.close()
    t.p.wait()


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        sys.exit(2)
    binary, path = sys.argv[1], os.path.abspath(sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    state = "/tmp/tome-bench-reopen-state"
    shutil.rmtree(state, ignore_errors=True)
    os.environ["TOME_STATE_DIR"] = state
    wait = os.stat(path).st_ctime + 2.1 - time.time()
    if wait > 0:
        time.sleep(wait)
    with open(path, "rb") as f:  # warm the page cache, as for every open below
        while f.read(1 << 24):
            pass

    t = Tome(binary)
    t.initialize()
    start = time.perf_counter()
    first = t.request("tome/open", {"path": path})
    opened = time.perf_counter() - start
    t.wait_index(first["doc"])
    indexed = time.perf_counter() - start
    lines = t.request("tome/info", {"doc": first["doc"]})["lineCount"]["known"]
    close(t)
    size = os.path.getsize(path)
    entry = sum(os.path.getsize(os.path.join(state, "index", e))
                for e in os.listdir(os.path.join(state, "index")) if e.endswith(".idx"))
    print(f"file: {size / 2**30:.2f} GiB, {lines} lines")
    print(f"first open: reply {opened * 1000:.1f} ms (indexCache {first['indexCache']}, "
          f"exact {first['lineCount']['exact']}), index complete after {indexed:.3f} s")
    print(f"cache entry: {entry} bytes ({entry / (size / 2**30) / 1024:.0f} KiB per GiB)")

    times = []
    for _ in range(n):
        t = Tome(binary)
        t.initialize()
        start = time.perf_counter()
        r = t.request("tome/open", {"path": path})
        times.append(time.perf_counter() - start)
        close(t)
        assert r["indexCache"] == "hit" and r["lineCount"]["exact"], r
        assert r["lineCount"]["known"] == lines, r
    ms = [x * 1000 for x in times]
    print(f"reopen ({n}): median {statistics.median(ms):.2f} ms, min {min(ms):.2f}, "
          f"max {max(ms):.2f}; exact: true, {lines} lines")


if __name__ == "__main__":
    main()
