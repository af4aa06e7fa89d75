#!/usr/bin/env python3
"""Counting matches (`tome/search` mode "count") against `rg -c` and `rg -c -j2` on the same
file, alternating in one run, page cache warm (issue 16 item 2: the scan is split across the
cores).

Usage: scripts/bench-count.py [--next | --all | --replace] [--before BIN] TOME_BIN FILE [RUNS]
                              [PATTERN...]
  --next: time `mode: "next"` from offset 0 instead (no wrap: for a pattern the file does not
  hold, the whole file is searched for the first match; issue 16: on every core too).
  --all: time `mode: "all"`, a page of 1000 matches from offset 0 (for a pattern the file does
  not hold, the whole file is searched; for a common one the page fills within the first
  units and the scan stops there).
  --replace: time `tome/replaceAll` with `dryRun` (every match found and the change planned,
  nothing applied): replace-all's collection of matches.
  --before BIN: also time the same request on another binary (e.g. main's), alternating.
  Default patterns: the rare literal `NEEDLE-7f3a#` of `tome gen` files and the regex
  `[A-Za-z]{30}` (no literal prefix). Each run: one request through the protocol (time from
  the request to its reply), `rg -c --no-mmap` (rg's fastest on this machine for one file; the
  count of matching lines, which for these patterns equals Tome's count of matches) and
  `rg -c --no-mmap -j2`. Prints per pattern the medians and their ratios, and checks the counts
  agree (count, replace: Tome's count equals rg's when every matching line holds one match;
  the script says when it does not).
"""
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tome_rpc import Tome  # noqa: E402


def flag(name):
    if name in sys.argv:
        sys.argv.remove(name)
        return True
    return False


def option(name):
    if name in sys.argv:
        i = sys.argv.index(name)
        value = sys.argv[i + 1]
        del sys.argv[i : i + 2]
        return value
    return None


def start(binary, path):
    t = Tome(binary)
    t.initialize()
    doc = t.request("tome/open", {"path": path})["doc"]
    t.wait_index(doc)
    return t, doc


def request(t, doc, mode, pattern, regex):
    query = {"pattern": pattern, "regex": regex}
    if mode == "replace":
        params = {"doc": doc, "query": query, "replacement": "X", "dryRun": True}
        r = t.request("tome/replaceAll", params)
        return r["count"]
    params = {"doc": doc, "mode": mode, "query": query}
    if mode == "next":
        params.update(wrap=False)
        params["from"] = {"offset": 0}
    if mode == "all":
        params["from"] = {"offset": 0}
        params["limit"] = 1000
    r = t.request("tome/search", params)
    if mode == "next":
        return None if r["found"] is None else 1
    if mode == "all":
        return len(r["matches"])
    return r["count"]


def main():
    mode = "count"
    for m in ("next", "all", "replace"):
        if flag("--" + m):
            mode = m
    before = option("--before")
    if len(sys.argv) < 3:
        print(__doc__)
        sys.exit(2)
    binary, path = sys.argv[1], os.path.abspath(sys.argv[2])
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    patterns = sys.argv[4:] or ["NEEDLE-7f3a#", "[A-Za-z]{30}"]
    with open(path, "rb") as f:  # warm the page cache
        while f.read(1 << 24):
            pass
    with open("/proc/loadavg") as f:
        print(f"file: {os.path.getsize(path) / 2**30:.2f} GiB, {os.cpu_count()} cores, "
              f"mode {mode}, load average {f.read().split()[:3]}")
    servers = [("tome", start(binary, path))]
    if before:
        servers.append(("before", start(before, path)))
    for pattern in patterns:
        regex = not pattern.startswith("NEEDLE")
        times = {name: [] for name, _ in servers}
        times.update({"rg -c": [], "rg -c -j2": []})
        got = {}
        for _ in range(runs):
            for name, (t, doc) in servers:
                t0 = time.perf_counter()
                got[name] = request(t, doc, mode, pattern, regex)
                times[name].append(time.perf_counter() - t0)
            for name, extra in (("rg -c", []), ("rg -c -j2", ["-j2"])):
                args = ["rg", "-c", "--no-mmap"] + extra + ([] if regex else ["-F"])
                t0 = time.perf_counter()
                out = subprocess.run(args + [pattern, path], capture_output=True, text=True,
                                     check=False).stdout
                times[name].append(time.perf_counter() - t0)
                rg = int(out.strip() or 0)
            if before:
                assert got["tome"] == got["before"], got
            if mode == "next":
                assert (got["tome"] is None) == (rg == 0), (rg, got)
            elif mode == "all":
                assert got["tome"] == min(rg, 1000) or rg < got["tome"], (rg, got)
            elif got["tome"] != rg:
                print(f"  note: {got['tome']} matches, {rg} matching lines")
        med = {k: statistics.median(v) for k, v in times.items()}
        cells = ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in med.items())
        ratios = ", ".join(f"tome/{k} {med['tome'] / med[k]:.2f}x"
                           for k in med if k != "tome")
        print(f"{pattern}: {mode} {got['tome']}; {cells}; {ratios} (medians of {runs})")
    for _, (t, _) in servers:
        t.shutdown()
    with open("/proc/loadavg") as f:
        print(f"load average after: {f.read().split()[:3]}")


if __name__ == "__main__":
    main()
