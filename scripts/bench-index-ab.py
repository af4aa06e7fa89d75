#!/usr/bin/env python3
"""Line index speed of two Tome binaries on one file, interleaved, next to `wc -l`.

Usage: scripts/bench-index-ab.py BEFORE_BIN AFTER_BIN FILE [RUNS]

Each run starts a fresh server per binary (index cache off) and times `tome/open` to
`indexComplete`, then `wc -l FILE`. Medians, with min and max.
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
    bins = {"before": os.path.abspath(sys.argv[1]), "after": os.path.abspath(sys.argv[2])}
    path = os.path.abspath(sys.argv[3])
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 9
    os.environ.setdefault('TOME_STATE_DIR', tempfile.mkdtemp(prefix='tome-bench-ab.'))
    os.environ['TOME_INDEX_CACHE_SIZE'] = '0'
    res = {}
    for _ in range(runs):
        for name, binary in bins.items():
            t = Tome(binary)
            t.initialize()
            t0 = time.perf_counter()
            info = t.request("tome/open", {"path": path})
            while not t.request("tome/info", {"doc": info["doc"]})["indexComplete"]:
                time.sleep(0.005)
            res.setdefault(f"{name}: open to indexComplete", []).append(time.perf_counter() - t0)
            t.shutdown()
        t0 = time.perf_counter()
        subprocess.run(["wc", "-l", path], capture_output=True, check=True)
        res.setdefault("wc -l", []).append(time.perf_counter() - t0)
    print(f"{path} ({os.path.getsize(path)} bytes), {runs} runs")
    for k, v in res.items():
        print(f"  {k:32s} median {statistics.median(v)*1000:8.1f} ms"
              f"  (min {min(v)*1000:.1f}, max {max(v)*1000:.1f})")


main()
