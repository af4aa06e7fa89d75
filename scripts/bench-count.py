#!/usr/bin/env python3
"""Counting matches (`tome/search` mode "count") against `rg -c` on the same file, alternating
in one run, page cache warm (issue 16 item 2: the count is split across the cores).

Usage: scripts/bench-count.py [--next] TOME_BIN FILE [RUNS] [PATTERN...]
  --next: time `mode: "next"` from offset 0 instead (no wrap: for a pattern the file does not
  hold, the whole file is searched for the first match; issue 16: on every core too).
  Default patterns: the rare literal `NEEDLE-7f3a#` of `tome gen` files and the regex
  `[A-Za-z]{30}` (no literal prefix). Each run: one count through the protocol (time from the
  request to its reply) and `rg -c --no-mmap` (rg's fastest on this machine for one file; the
  count of matching lines, which for these patterns equals Tome's count of matches). Prints
  per pattern the medians and their ratio, and checks both counts agree.
"""
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tome_rpc import Tome  # noqa: E402


def main():
    next_mode = "--next" in sys.argv
    if next_mode:
        sys.argv.remove("--next")
    if len(sys.argv) < 3:
        print(__doc__)
        sys.exit(2)
    binary, path = sys.argv[1], os.path.abspath(sys.argv[2])
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    patterns = sys.argv[4:] or ["NEEDLE-7f3a#", "[A-Za-z]{30}"]
    with open(path, "rb") as f:  # warm the page cache
        while f.read(1 << 24):
            pass
    t = Tome(binary)
    t.initialize()
    doc = t.request("tome/open", {"path": path})["doc"]
    t.wait_index(doc)
    print(f"file: {os.path.getsize(path) / 2**30:.2f} GiB, {os.cpu_count()} cores")
    for pattern in patterns:
        regex = not pattern.startswith("NEEDLE")
        ours, rg = [], []
        for _ in range(runs):
            start = time.perf_counter()
            params = {"doc": doc, "mode": "count", "query": {"pattern": pattern, "regex": regex}}
            if next_mode:
                params.update(mode="next", wrap=False)
                params["from"] = {"offset": 0}
            r = t.request("tome/search", params)
            ours.append(time.perf_counter() - start)
            args = ["rg", "-c", "--no-mmap"] + ([] if regex else ["-F"]) + [pattern, path]
            start = time.perf_counter()
            out = subprocess.run(args, capture_output=True, text=True, check=False).stdout
            rg.append(time.perf_counter() - start)
            if next_mode:
                assert (r["found"] is None) == (int(out.strip() or 0) == 0), (out, r)
            else:
                assert int(out.strip() or 0) == r["count"], (out, r)
        a, b = statistics.median(ours), statistics.median(rg)
        what = f"next {r['found'] is not None}" if next_mode else f"count {r['count']}"
        print(f"{pattern}: {what}; tome {a * 1000:.0f} ms, rg -c {b * 1000:.0f} ms, "
              f"ratio {a / b:.2f}x (medians of {runs})")
    t.shutdown()


if __name__ == "__main__":
    main()
