#!/usr/bin/env python3
"""Times a full filter view (`tome/filter` + `tome/filterWait`, through the real protocol)
against `rg -n PATTERN FILE > /dev/null` on the same file, alternating runs, and prints the
medians and their ratio. Usage: bench-filter.py TOME_BIN FILE PATTERN [RUNS]. The file is read
once by each before timing, so both run from the page cache."""
import statistics, subprocess, sys, time

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from tome_rpc import Tome  # noqa: E402

binary, path, pattern = sys.argv[1:4]
runs = int(sys.argv[4]) if len(sys.argv) > 4 else 5

t = Tome(binary)
t.initialize()
doc = t.request("tome/open", {"path": path})["doc"]
t.wait_index(doc)


def rg():
    start = time.perf_counter()
    subprocess.run(["rg", "-n", pattern, path], stdout=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def tome():
    start = time.perf_counter()
    f = t.request("tome/filter", {"doc": doc, "query": {"pattern": pattern}})["filter"]
    info = t.request("tome/filterWait", {"filter": f})
    elapsed = time.perf_counter() - start
    assert info["complete"], info
    t.request("tome/closeFilter", {"filter": f})
    return elapsed, info["matched"], info["memoryBytes"]


rg()
tome()
rg_times, tome_times = [], []
for _ in range(runs):
    rg_times.append(rg())
    elapsed, matched, memory = tome()
    tome_times.append(elapsed)
count = subprocess.run(["rg", "-c", pattern, path], capture_output=True, text=True).stdout.strip()
rg_med, tome_med = statistics.median(rg_times), statistics.median(tome_times)
print(f"file {path}, pattern {pattern!r}, {runs} runs each")
print(f"rg -n > /dev/null : median {rg_med:.3f} s  (runs {', '.join(f'{x:.3f}' for x in rg_times)})")
print(f"tome filter       : median {tome_med:.3f} s  (runs {', '.join(f'{x:.3f}' for x in tome_times)})")
print(f"matched lines     : tome {matched}, rg -c {count}; filter memory {memory} bytes")
print(f"ratio tome / rg   : {tome_med / rg_med:.2f}")
t.shutdown()
