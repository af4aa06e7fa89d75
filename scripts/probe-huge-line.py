#!/usr/bin/env python3
# Measures the first tome/viewport of a file that is one huge line (docs/benchmarks.md):
#   truncate -s 5G /tmp/huge.bin && scripts/probe-huge-line.py target/release/tome /tmp/huge.bin 20
# Prints the time and the server's resident memory for the first viewport, and again after
# waiting (seconds, third argument) for the index.
import os, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tome_rpc import Tome

binary, path = sys.argv[1], sys.argv[2]
t = Tome(binary)
t.initialize()
doc = t.request("tome/open", {"path": path})["doc"]
start = time.time()
l = t.request("tome/viewport", {"doc": doc, "first": 0, "count": 50, "width": 200})["lines"][0]
print(f"viewport first:0 {1000*(time.time()-start):.0f} ms, RSS {t.status('VmRSS')['VmRSS']} MiB, byteLength {l['byteLength']} lengthKnown {l.get('lengthKnown')}")
time.sleep(float(sys.argv[3]) if len(sys.argv) > 3 else 0)
start = time.time()
l = t.request("tome/viewport", {"doc": doc, "first": 0, "count": 50, "width": 200})["lines"][0]
print(f"again later: {1000*(time.time()-start):.0f} ms, RSS {t.status('VmRSS')['VmRSS']} MiB, byteLength {l['byteLength']} lengthKnown {l.get('lengthKnown')}")
t.p.kill()
