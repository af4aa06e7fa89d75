#!/usr/bin/env python3
# The server's resident memory after whole-file scans (docs/benchmarks.md, issue 12 item 4):
#   scripts/probe-scan-rss.py target/release/tome /path/to/big.log
# Opens the file in `tome serve`, waits for the index, counts a pattern that does not occur
# (a scan of every byte), then saves the document under another name in the same directory,
# and prints VmRSS, RssAnon and RssFile (from /proc/PID/status) after each step.
import os, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tome_rpc import Tome

binary, path = sys.argv[1], sys.argv[2]
t = Tome(binary)
def mem():
    v = t.status("VmRSS", "RssAnon", "RssFile")
    return f"VmRSS {v['VmRSS']} MiB (RssAnon {v['RssAnon']}, RssFile {v['RssFile']})"
t.initialize()
doc = t.request("tome/open", {"path": path})["doc"]
t.wait_index(doc)
print(f"{os.path.getsize(path) >> 20} MiB file, indexed: {mem()}")
start = time.time()
r = t.request("tome/search", {"doc": doc, "query": {"pattern": "no such text anywhere"}, "mode": "count"})
print(f"count ({r.get('count')}) in {time.time() - start:.2f} s: {mem()}")
out = path + ".probe-copy"
start = time.time()
t.request("tome/saveAs", {"doc": doc, "path": out})
print(f"saveAs in {time.time() - start:.2f} s: {mem()}")
os.unlink(out)
t.shutdown()
