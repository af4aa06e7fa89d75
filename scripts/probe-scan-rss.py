#!/usr/bin/env python3
# The server's resident memory after whole-file scans (docs/benchmarks.md, issue 12 item 4):
#   scripts/probe-scan-rss.py target/release/tome /path/to/big.log
# Opens the file in `tome serve`, waits for the index, counts a pattern that does not occur
# (a scan of every byte), then saves the document under another name in the same directory,
# and prints VmRSS, RssAnon and RssFile (from /proc/PID/status) after each step.
import json, os, subprocess, sys, time

binary, path = sys.argv[1], sys.argv[2]
state = os.environ.get("TOME_STATE_DIR", "/tmp/tome-probe-state")
p = subprocess.Popen([binary, "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                     env={**os.environ, "TOME_STATE_DIR": state})
def send(i, m, params):
    b = json.dumps({"jsonrpc": "2.0", "id": i, "method": m, "params": params}).encode()
    p.stdin.write(b"Content-Length: %d\r\n\r\n" % len(b) + b); p.stdin.flush()
def recv(i):
    while True:
        n = None
        while True:
            line = p.stdout.readline()
            if line in (b"\r\n", b"\n"): break
            if line.lower().startswith(b"content-length:"): n = int(line.split(b":")[1])
        msg = json.loads(p.stdout.read(n))
        if msg.get("id") == i:
            if "error" in msg: sys.exit(f"error: {msg['error']}")
            return msg["result"]
def mem():
    v = {}
    for l in open(f"/proc/{p.pid}/status"):
        k = l.split(":")[0]
        if k in ("VmRSS", "RssAnon", "RssFile"): v[k] = int(l.split()[1]) // 1024
    return f"VmRSS {v['VmRSS']} MiB (RssAnon {v['RssAnon']}, RssFile {v['RssFile']})"
send(1, "initialize", {"capabilities": {}}); recv(1)
send(2, "tome/open", {"path": path}); doc = recv(2)["doc"]
i = 100
while True:
    i += 1; send(i, "tome/info", {"doc": doc})
    if recv(i)["indexComplete"]: break
    time.sleep(0.2)
print(f"{os.path.getsize(path) >> 20} MiB file, indexed: {mem()}")
t = time.time()
send(3, "tome/search", {"doc": doc, "query": {"pattern": "no such text anywhere"}, "mode": "count"})
r = recv(3)
print(f"count ({r.get('count')}) in {time.time() - t:.2f} s: {mem()}")
out = path + ".probe-copy"
t = time.time()
send(4, "tome/saveAs", {"doc": doc, "path": out}); recv(4)
print(f"saveAs in {time.time() - t:.2f} s: {mem()}")
os.unlink(out)
send(5, "shutdown", None); recv(5)
