#!/usr/bin/env python3
# Measures the first tome/viewport of a file that is one huge line (docs/benchmarks.md):
#   truncate -s 5G /tmp/huge.bin && scripts/probe-huge-line.py target/release/tome /tmp/huge.bin 20
# Prints the time and the server's resident memory for the first viewport, and again after
# waiting (seconds, third argument) for the index.
import json, os, subprocess, sys, time
binary, path = sys.argv[1], sys.argv[2]
p = subprocess.Popen([binary, "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env={**os.environ, "TOME_STATE_DIR": os.environ.get("TOME_STATE_DIR", "/tmp/tome-probe-state")})
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
        if msg.get("id") == i: return msg
def rss():
    for l in open(f"/proc/{p.pid}/status"):
        if l.startswith("VmRSS"): return int(l.split()[1]) // 1024
send(1, "initialize", {"capabilities": {}}); recv(1)
t = time.time(); send(2, "tome/open", {"path": path}); doc = recv(2)["result"]["doc"]
t = time.time(); send(3, "tome/viewport", {"doc": doc, "first": 0, "count": 50, "width": 200}); r = recv(3)
l = r["result"]["lines"][0]
print(f"viewport first:0 {1000*(time.time()-t):.0f} ms, RSS {rss()} MiB, byteLength {l['byteLength']} lengthKnown {l.get('lengthKnown')}")
time.sleep(float(sys.argv[3]) if len(sys.argv) > 3 else 0)
t = time.time(); send(4, "tome/viewport", {"doc": doc, "first": 0, "count": 50, "width": 200}); r = recv(4)
l = r["result"]["lines"][0]
print(f"again later: {1000*(time.time()-t):.0f} ms, RSS {rss()} MiB, byteLength {l['byteLength']} lengthKnown {l.get('lengthKnown')}")
p.kill()
