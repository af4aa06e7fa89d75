#!/usr/bin/env python3
"""Times a full filter view (`tome/filter` + `tome/filterWait`, through the real protocol)
against `rg -n PATTERN FILE > /dev/null` on the same file, alternating runs, and prints the
medians and their ratio. The file is read once by each before timing, so both run from the
page cache.

Usage: bench-filter.py TOME_BIN FILE PATTERN [RUNS] [--regex] [--ignore-case] [--word] [--invert]
  --regex        a regular expression (rg without -F)
  --ignore-case  `caseSensitive: false` / rg -i
  --word         `wholeWord: true` / rg -w
  --invert       the query `{"not": leaf}` / rg -v
Without --regex the pattern is literal text (rg -F)."""
import argparse
import statistics
import subprocess
import sys
import time

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from tome_rpc import Tome  # noqa: E402

ap = argparse.ArgumentParser(usage=__doc__)
ap.add_argument("binary")
ap.add_argument("path")
ap.add_argument("pattern")
ap.add_argument("runs", nargs="?", type=int, default=5)
ap.add_argument("--regex", action="store_true")
ap.add_argument("--ignore-case", action="store_true")
ap.add_argument("--word", action="store_true")
ap.add_argument("--invert", action="store_true")
a = ap.parse_args()

leaf = {"pattern": a.pattern, "regex": a.regex, "caseSensitive": not a.ignore_case,
        "wholeWord": a.word}
query = {"not": leaf} if a.invert else leaf
flags = ["-n"] + ([] if a.regex else ["-F"]) + (["-i"] if a.ignore_case else []) \
    + (["-w"] if a.word else []) + (["-v"] if a.invert else [])

t = Tome(a.binary)
t.initialize()
doc = t.request("tome/open", {"path": a.path})["doc"]
t.wait_index(doc)


def rg():
    start = time.perf_counter()
    subprocess.run(["rg"] + flags + ["--", a.pattern, a.path], stdout=subprocess.DEVNULL,
                   check=False)
    return time.perf_counter() - start


def tome():
    start = time.perf_counter()
    f = t.request("tome/filter", {"doc": doc, "query": query})["filter"]
    info = t.request("tome/filterWait", {"filter": f})
    elapsed = time.perf_counter() - start
    assert info["complete"], info
    t.request("tome/closeFilter", {"filter": f})
    return elapsed, info["matched"], info["memoryBytes"]


rg()
tome()
rg_times, tome_times = [], []
for _ in range(a.runs):
    rg_times.append(rg())
    elapsed, matched, memory = tome()
    tome_times.append(elapsed)
cflags = [f for f in flags if f != "-n"]
count = subprocess.run(["rg", "-c"] + cflags + ["--", a.pattern, a.path], capture_output=True,
                       text=True).stdout.strip()
rg_med, tome_med = statistics.median(rg_times), statistics.median(tome_times)
print(f"file {a.path}, query {query}, rg {' '.join(flags)}, {a.runs} runs each")
print(f"rg -n > /dev/null : median {rg_med:.3f} s  (runs {', '.join(f'{x:.3f}' for x in rg_times)})")
print(f"tome filter       : median {tome_med:.3f} s  (runs {', '.join(f'{x:.3f}' for x in tome_times)})")
print(f"matched lines     : tome {matched}, rg -c {count}; filter memory {memory} bytes")
print(f"ratio tome / rg   : {tome_med / rg_med:.2f}")
assert str(matched) == (count or "0"), (matched, count)
t.shutdown()
