#!/usr/bin/env python3
"""What highlight rules cost a viewport, through the protocol: a `tome serve` opens FILE,
waits for its index, then times RUNS viewports of 60 lines x 200 columns at scattered lines
(each request's round trip), without rules, with 4 typical rules and with 32 rules; then the
same on the first line of a file that is one line of LINE_MIB MiB (only the shown part is
searched, so it costs what a short line costs). Interleaved, so all see the same machine.
Also checks that the highlights of one viewport equal what `grep -ob` finds on its lines.

Usage: scripts/bench-highlights.py TOME_BIN FILE [RUNS] [LINE_MIB]
  FILE: e.g. `tome gen FILE --size 1G`."""
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tome_rpc import Tome  # noqa: E402

TYPICAL = [
    {"pattern": "ERROR"},
    {"pattern": "timeout", "caseSensitive": False},
    {"pattern": r"seq=\d+7\b", "regex": True},
    {"pattern": "GET", "wholeWord": True},
]
MANY = TYPICAL + [{"pattern": "worker-%d]" % i} for i in range(28)]


def timed(t, params, runs, lines):
    out = []
    for i in range(runs):
        p = dict(params, first=(i * 7919 * 1000003) % max(1, lines - 60))
        t0 = time.perf_counter()
        t.request("tome/viewport", p)
        out.append((time.perf_counter() - t0) * 1e6)
    return out


def stats(name, xs):
    xs = sorted(xs)
    print("%-40s median %7.1f us  p99 %7.1f us  (%d)" % (name, statistics.median(xs), xs[int(len(xs) * 0.99) - 1], len(xs)))


def main():
    binary, path = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    line_mib = int(sys.argv[4]) if len(sys.argv) > 4 else 256
    t = Tome(binary)
    t.request("initialize", {"capabilities": {"general": {"positionEncodings": ["utf-8"]}}})
    doc = t.request("tome/open", {"path": path})["doc"]
    t.wait_index(doc)
    lines = t.request("tome/info", {"doc": doc})["lineCount"]["known"]
    base = {"doc": doc, "count": 60, "window": {"start": 0, "width": 200}}

    # Correctness first: one viewport's highlights against grep -ob on its lines.
    t.request("tome/setHighlightRules", {"rules": [{"pattern": "ERROR"}]})
    v = t.request("tome/viewport", dict(base, first=1000, count=1000, window={"start": 0, "width": 1000}))
    first, last = v["lines"][0], v["lines"][-1]
    start, end = first["offset"], last["offset"] + last["byteLength"]
    with open(path, "rb") as f:
        f.seek(start)
        chunk = f.read(end - start)
    with tempfile.NamedTemporaryFile() as tmp:
        tmp.write(chunk)
        tmp.flush()
        grep = subprocess.run(["grep", "-oba", "ERROR", tmp.name], capture_output=True, env={"LC_ALL": "C"}).stdout
    want = sorted(start + int(l.split(b":")[0]) for l in grep.splitlines())
    got = sorted(v["lines"][h["line"]]["offset"] + h["start"] for h in v["highlights"])
    assert got == want, (len(got), len(want))
    print("check: %d highlights of ERROR in 1000 lines = grep -ob" % len(got))

    sets = [("no rules", None), ("4 rules", TYPICAL), ("32 rules", MANY)]
    results = {name: [] for name, _ in sets}
    for rnd in range(5):
        for name, rules in sets:
            t.request("tome/setHighlightRules", {"rules": rules})
            results[name] += timed(t, base, runs // 5, lines)
    print("viewport of 60 lines x 200 columns, %s (%d lines):" % (os.path.basename(path), lines))
    for name, _ in sets:
        stats("  " + name, results[name])

    # One huge line: the window at its start and at its middle.
    with tempfile.TemporaryDirectory() as d:
        one = os.path.join(d, "oneline.log")
        piece = b"2026-11-27T00:00:00Z ERROR [worker-1] seq=17 GET /api timeout "
        with open(one, "wb") as f:
            block = piece * ((1 << 20) // len(piece))
            for _ in range(line_mib):
                f.write(block)
            f.write(b"\n")
        d1 = t.request("tome/open", {"path": one})["doc"]
        t.wait_index(d1)
        size = os.path.getsize(one)
        res = {name: [] for name, _ in sets}
        for name, rules in sets:
            t.request("tome/setHighlightRules", {"rules": rules})
            for i in range(runs // 10):
                at = (i * 7919 * 1000003) % (size - 1000)
                p = {"doc": d1, "first": 0, "count": 1, "window": {"start": at, "width": 200}}
                t0 = time.perf_counter()
                r = t.request("tome/viewport", p)
                res[name].append((time.perf_counter() - t0) * 1e6)
                assert rules is None or r["highlights"]
        print("one line of %d MiB, a 200-column window at scattered columns:" % line_mib)
        for name, _ in sets:
            stats("  " + name, res[name])
    t.p.stdin.close()
    t.p.wait()


if __name__ == "__main__":
    main()
