#!/usr/bin/env python3
"""Tome under a 256 MiB memory limit (issue 12): `tome serve` runs in a memory cgroup of its own
(v2 `memory.max`, or v1 `memory.limit_in_bytes`, whichever this machine has; needs root), and
opens, indexes, searches, edits and saves a big file. The limit counts the page cache the
server's reads bring in as well as its own memory; the kernel reclaims the cache within the
limit, so a server whose private memory stays small keeps working, one that held the file in
anonymous memory would be killed.

Usage: scripts/probe-cgroup.py BINARY FILE [SIZE_MIB] [LIMIT_MIB]
(FILE is generated with `BINARY gen` if missing; default 4096 MiB, limit 256 MiB.)
Prints each step's time, the server's VmRSS / RssAnon, the cgroup's peak usage and how often
it hit the limit; exits non-zero if the server died."""
import os, subprocess, sys, time

sys.path.insert(0, os.path.dirname(__file__))
from tome_rpc import Tome

binary, path = sys.argv[1], sys.argv[2]
size = int(sys.argv[3]) if len(sys.argv) > 3 else 4096
limit = int(sys.argv[4]) if len(sys.argv) > 4 else 256
if not os.path.exists(path):
    subprocess.run([binary, "gen", "--size", f"{size}M", path], check=True, stdout=subprocess.DEVNULL)

name = f"tome-probe-{os.getpid()}"
if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):  # v2
    cg = f"/sys/fs/cgroup/{name}"
    os.mkdir(cg)
    open(f"{cg}/memory.max", "w").write(str(limit << 20))
    open(f"{cg}/memory.swap.max", "w").write("0")
    peak_file, events = f"{cg}/memory.peak", f"{cg}/memory.events"
else:  # v1
    cg = f"/sys/fs/cgroup/memory/{name}"
    os.mkdir(cg)
    open(f"{cg}/memory.limit_in_bytes", "w").write(str(limit << 20))
    peak_file, events = f"{cg}/memory.max_usage_in_bytes", f"{cg}/memory.failcnt"
join = ["sh", "-c", f'echo $$ > {cg}/cgroup.procs && exec "$@"', "sh"]
print(f"cgroup {cg}: limit {limit} MiB; file {path} ({os.path.getsize(path) >> 20} MiB)")

t = Tome(binary, join)
t.initialize()
rows = []


def step(what, f):
    t0 = time.time()
    out = f()
    mem = t.status("VmRSS", "RssAnon")
    rows.append((what, time.time() - t0, mem["VmRSS"], mem["RssAnon"], out))
    print(f"{what:<28} {time.time() - t0:7.2f} s  VmRSS {mem['VmRSS']:5} MiB  RssAnon {mem['RssAnon']:4} MiB  {out}", flush=True)


try:
    doc = None

    def open_doc():
        global doc
        doc = t.request("tome/open", {"path": path})["doc"]
        return ""

    step("open", open_doc)
    step("index", lambda: t.wait_index(doc) or t.request("tome/info", {"doc": doc})["lineCount"]["known"])
    step("viewport at the end", lambda: len(t.request("tome/viewport", {"doc": doc, "fraction": 1.0, "count": 50, "before": 49})["lines"]))
    step("search count (rare literal)", lambda: t.request("tome/search", {"doc": doc, "mode": "count", "query": {"pattern": "seq=123456"}})["count"])
    step("search count (regex)", lambda: t.request("tome/search", {"doc": doc, "mode": "count", "query": {"pattern": r"seq=12345\d", "regex": True}})["count"])
    step("edit near the end", lambda: t.request("tome/edit", {"doc": doc, "version": 0, "edits": [{"offsets": {"start": os.path.getsize(path) - 10, "end": os.path.getsize(path) - 10}, "text": "EDITED"}]})["version"])
    out = path + ".saved"
    step("saveAs", lambda: t.request("tome/saveAs", {"doc": doc, "path": out})["bytes"])
    os.remove(out)
    t.shutdown()
    t.p.stdin.close()  # (the exit: the server ends at end of input)
    alive = True
except SystemExit as e:
    print(e)
    alive = False
except Exception as e:  # the server died: its pipe broke
    print(f"the server died: {e!r}")
    alive = False
peak = int(open(peak_file).read()) >> 20
ev = open(events).read().strip().replace("\n", ", ")
print(f"cgroup peak {peak} MiB (limit {limit}); {'memory.events' if 'events' in events else 'failcnt'}: {ev}")
t.p.wait()
print(f"server exit status {t.p.returncode}")
os.rmdir(cg)
sys.exit(0 if alive and t.p.returncode == 0 else 1)
