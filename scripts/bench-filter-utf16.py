#!/usr/bin/env python3
"""Line filters (`tome/filter` + `tome/filterWait`) of a UTF-16LE file, decoded chunk by chunk
(issue 17), against the same filter of the same text in UTF-8 and against `rg -c` (with
`-E utf-16le` on the UTF-16 file), in the same run: a literal, a regex and ignored case.

Usage: scripts/bench-filter-utf16.py TOME_BIN UTF16_FILE UTF8_FILE [RUNS]
  UTF16_FILE is UTF8_FILE converted (`iconv -f UTF-8 -t UTF-16LE`). A fresh server per run
  (state in $TOME_STATE_DIR, default /tmp/tome-probe-state; set TOME_INDEX_CACHE_SIZE=0 for
  a cold index), timed from the `tome/filter` request to `tome/filterWait`'s reply. Prints the
  medians and the counts (which must agree: lines matched = `rg -c`).
"""
import sys, time, os, subprocess
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tome_rpc import Tome
binary, f16, f8 = sys.argv[1], sys.argv[2], sys.argv[3]
runs = int(sys.argv[4]) if len(sys.argv) > 4 else 3
queries = [("ERROR", {"pattern": "ERROR"}), ("seq=1[0-9]{3} (regex)", {"pattern": "seq=1[0-9]{3} ", "regex": True}), ("timeout (ignore case)", {"pattern": "timeout", "caseSensitive": False})]
print(f"load before: {open('/proc/loadavg').read().strip()}")
for name, q in queries:
    res = {}
    for path, enc in [(f16, "utf-16le"), (f8, None)]:
        times = []
        for _ in range(runs):
            t = Tome(binary)
            t.request("initialize", {"capabilities": {}})
            p = {"path": path}
            if enc: p["encoding"] = enc
            doc = t.request("tome/open", p)["doc"]
            s = time.perf_counter()
            f = t.request("tome/filter", {"doc": doc, "query": q})["filter"]
            info = t.request("tome/filterWait", {"filter": f})
            times.append(time.perf_counter() - s)
            n = info["matched"]
            t.p.kill()
        res[enc or "utf-8"] = (sorted(times)[len(times)//2], n)
    rg_args = ["rg", "-c"] + (["-i"] if q.get("caseSensitive") is False else []) + ([] if q.get("regex") else ["-F"])
    def rg(path, extra):
        s = time.perf_counter(); out = subprocess.run(rg_args + extra + [q["pattern"], path], capture_output=True).stdout; return time.perf_counter() - s, out.strip()
    r16 = sorted(rg(f16, ["-E", "utf-16le"]) for _ in range(runs))[runs//2]
    r8 = sorted(rg(f8, []) for _ in range(runs))[runs//2]
    counts = {res["utf-16le"][1], res["utf-8"][1], int(r16[1] or 0), int(r8[1] or 0)}
    assert len(counts) == 1, f"{name}: the counts differ: {res} {r16} {r8}"
    print(f"{name}: tome utf-16le {res['utf-16le'][0]*1e3:.0f} ms ({res['utf-16le'][1]} lines) | tome utf-8 {res['utf-8'][0]*1e3:.0f} ms ({res['utf-8'][1]}) | rg -E utf-16le {r16[0]*1e3:.0f} ms ({r16[1].decode()}) | rg utf-8 {r8[0]*1e3:.0f} ms ({r8[1].decode()})")
print(f"load after: {open('/proc/loadavg').read().strip()}")
