#!/usr/bin/env python3
# Memory of a replace-all that rewrites most of a big file (docs/benchmarks.md, issue 10 item 11):
#   scripts/probe-replace-all-memory.py target/release/tome /tmp/ra.log 512
# Writes a file of SIZE MiB (third argument, default 512) whose lines hold "value" about every
# 108 bytes (~5 million matches in 512 MiB), opens it in `tome serve`, waits for the index,
# replaces every "value" with "VAL", undoes, and prints the server's anonymous and file-backed
# resident memory (RssAnon, RssFile from /proc/PID/status) after each step and the times.
import os, random, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tome_rpc import Tome

binary, path = sys.argv[1], sys.argv[2]
size = int(sys.argv[3] if len(sys.argv) > 3 else 512) << 20
if not os.path.exists(path) or os.path.getsize(path) < size:
    rnd = random.Random(7)
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
    with open(path, "wb") as f:
        written, seq = 0, 0
        block = []
        while written < size:
            line = f"2026-11-27T00:00:{seq % 60:02d}Z INFO seq={seq} {rnd.choice(words)} key=value {rnd.choice(words)}\n".encode()
            block.append(line); written += len(line); seq += 1
            if len(block) == 10000:
                f.write(b"".join(block)); block = []
        f.write(b"".join(block))
t = Tome(binary)
def mem():
    v = t.status("RssAnon", "RssFile")
    return f"RssAnon {v['RssAnon']} MiB, RssFile {v['RssFile']} MiB"
t.initialize()
doc = t.request("tome/open", {"path": path})["doc"]
t.wait_index(doc)
print(f"file {os.path.getsize(path) >> 20} MiB, opened and indexed: {mem()}")
start = time.time()
r = t.request("tome/replaceAll", {"doc": doc, "version": 0, "query": {"pattern": "value"}, "replacement": "VAL"})
print(f"replaceAll: {r['count']} replacements in {time.time() - start:.1f} s: {mem()}")
t.request("tome/undo", {"doc": doc})
print(f"after undo: {mem()}")
t.shutdown()
