#!/usr/bin/env python3
"""UTF-16 documents (issue 17 item 1): first screen, line index, a jump to the middle and a
search count on a UTF-16 file, next to the same text in UTF-8 (Tome) and next to `wc -l` and
`rg` (`rg -E utf-16le` on the UTF-16 file), all in the same run.

Usage: scripts/bench-utf16.py TOME_BIN UTF16_FILE UTF8_FILE PATTERN [RUNS]

UTF8_FILE is the same text in UTF-8 (e.g. `iconv -f UTF-8 -t UTF-16LE UTF8_FILE > UTF16_FILE`).
Each run starts a new server per file (index cache off) and times: `tome/open` with the first
300 lines; open to `indexComplete` (the whole line index); a viewport of 300 lines at the
middle line; `tome/search` count of PATTERN (literal). Peers: `wc -l UTF8_FILE`,
`rg --count-matches -F PATTERN UTF8_FILE`, `rg -E utf-16le --count-matches -F PATTERN
UTF16_FILE`. Medians, with min and max.
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
    if len(sys.argv) < 5:
        print(__doc__)
        sys.exit(2)
    tome = os.path.abspath(sys.argv[1])
    u16, u8, pattern = os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3]), sys.argv[4]
    runs = int(sys.argv[5]) if len(sys.argv) > 5 else 5
    os.environ.setdefault('TOME_STATE_DIR', tempfile.mkdtemp(prefix='tome-bench-u16.'))
    os.environ['TOME_INDEX_CACHE_SIZE'] = '0'
    res, facts = {}, {}

    def add(k, v):
        res.setdefault(k, []).append(v)

    def peer(name, cmd):
        t1 = time.perf_counter()
        out = subprocess.run(cmd, capture_output=True, text=True).stdout
        add(name, time.perf_counter() - t1)
        return out

    for _ in range(runs):
        for label, path in (("UTF-16", u16), ("UTF-8", u8)):
            t = Tome(tome)
            t.initialize()
            t0 = time.perf_counter()
            info = t.request("tome/open", {"path": path, "viewport": {"first": 0, "count": 300}})
            add(f"{label}: first screen (open + 300 lines)", time.perf_counter() - t0)
            assert len(info["viewport"]["lines"]) == 300, info
            facts[label] = info["encoding"]
            doc = info["doc"]
            while not t.request("tome/info", {"doc": doc})["indexComplete"]:
                time.sleep(0.005)
            add(f"{label}: line index (open to indexComplete)", time.perf_counter() - t0)
            lines = t.request("tome/info", {"doc": doc})["lineCount"]["known"]
            facts[f"{label} lines"] = lines
            t1 = time.perf_counter()
            v = t.request("tome/viewport", {"doc": doc, "first": lines // 2, "count": 300})
            add(f"{label}: jump to the middle line (300 lines)", time.perf_counter() - t1)
            assert v["lines"][0]["number"] == lines // 2
            facts[f"{label} middle"] = v["lines"][0]["text"]
            t1 = time.perf_counter()
            n = t.request("tome/search", {"doc": doc, "query": {"pattern": pattern},
                                          "mode": "count"})["count"]
            add(f"{label}: search count (tome)", time.perf_counter() - t1)
            facts[f"{label} matches"] = n
            t.shutdown()
        wc = peer("peer: wc -l UTF8_FILE", ["wc", "-l", u8])
        assert int(wc.split()[0]) + 1 == facts["UTF-8 lines"], (wc, facts)
        n8 = peer("peer: rg --count-matches UTF8_FILE",
                  ["rg", "--count-matches", "-F", pattern, u8])
        n16 = peer("peer: rg -E utf-16le --count-matches UTF16_FILE",
                   ["rg", "-E", "utf-16le", "--count-matches", "-F", pattern, u16])
        assert int(n8) == int(n16) == facts["UTF-8 matches"] == facts["UTF-16 matches"], \
            (n8, n16, facts)
    assert facts["UTF-16 lines"] == facts["UTF-8 lines"]
    assert facts["UTF-16 middle"] == facts["UTF-8 middle"]
    print(f"files: {u16} ({os.path.getsize(u16)} bytes, {facts['UTF-16']}), {u8} "
          f"({os.path.getsize(u8)} bytes), {facts['UTF-16 lines']} lines, "
          f"{facts['UTF-16 matches']} matches of {pattern!r}, {runs} runs")
    for k, v in res.items():
        print(f"  {k:52s} median {statistics.median(v)*1000:9.1f} ms"
              f"  (min {min(v)*1000:.1f}, max {max(v)*1000:.1f})")


main()
