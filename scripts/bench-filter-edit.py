#!/usr/bin/env python3
"""The cost of an edit with a big filter open: times `tome/edit` alone, and `tome/edit`
followed by a `tome/filterLines` of 50 lines (which brings the filter up to the edit: rescans
the edited line and shifts the matched lines after it), for edits near the start of the file
(every matched line shifts) and near its end (almost none do), through the real protocol.
Usage: bench-filter-edit.py TOME_BIN FILE PATTERN [EDITS]. Prints medians and 99th percentiles."""
import statistics, sys, time

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from tome_rpc import Tome  # noqa: E402

binary, path, pattern = sys.argv[1:4]
edits = int(sys.argv[4]) if len(sys.argv) > 4 else 200

t = Tome(binary)
t.initialize()
opened = t.request("tome/open", {"path": path})
doc = opened["doc"]
t.wait_index(doc)
f = t.request("tome/filter", {"doc": doc, "query": {"pattern": pattern}})["filter"]
info = t.request("tome/filterWait", {"filter": f})
assert info["complete"], info
version = info["version"]
total = info["totalBytes"]
print(f"file {path} ({total} bytes), pattern {pattern!r}: {info['matched']} matched lines, "
      f"filter memory {info['memoryBytes']} bytes")


def edit(at):
    global version
    r = t.request("tome/edit", {"doc": doc, "version": version, "undo": "new",
                                "edits": [{"offsets": {"start": at, "end": at}, "text": "x"}]})
    version = r["version"]


def pct(xs):
    xs = sorted(xs)
    return f"median {statistics.median(xs) * 1e3:.2f} ms, p99 {xs[len(xs) * 99 // 100] * 1e3:.2f} ms"


for where, base in (("near the start", 1000), ("near the end", total - 100_000)):
    alone, with_read = [], []
    for i in range(edits):
        start = time.perf_counter()
        edit(base + i)
        alone.append(time.perf_counter() - start)
        start = time.perf_counter()
        edit(base + i)
        r = t.request("tome/filterLines", {"filter": f, "first": 0, "count": 50})
        with_read.append(time.perf_counter() - start)
        assert r["info"]["version"] == version and not r["info"]["stale"], r["info"]
    print(f"{where}: tome/edit alone {pct(alone)}; tome/edit + filterLines {pct(with_read)}")
final = t.request("tome/filterInfo", {"filter": f})
print(f"after the edits: {final['matched']} matched lines, complete {final['complete']}")
t.shutdown()
