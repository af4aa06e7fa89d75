#!/usr/bin/env python3
# Memory of a replace-all that rewrites most of a big file (docs/benchmarks.md, issue 10 item 11):
#   scripts/probe-replace-all-memory.py target/release/tome /tmp/ra.log 512
# Writes a file of SIZE MiB (third argument, default 512) whose lines hold "value" about every
# 108 bytes (~5 million matches in 512 MiB), opens it in `tome serve`, waits for the index,
# replaces every "value" with "VAL", undoes, and prints the server's anonymous and file-backed
# resident memory (RssAnon, RssFile from /proc/PID/status) after each step and the times.
import json, os, random, subprocess, sys, time

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
        if k in ("RssAnon", "RssFile"): v[k] = int(l.split()[1]) // 1024
    return f"RssAnon {v['RssAnon']} MiB, RssFile {v['RssFile']} MiB"
send(1, "initialize", {"capabilities": {}}); recv(1)
send(2, "tome/open", {"path": path}); doc = recv(2)["doc"]
i = 100
while True:
    i += 1; send(i, "tome/info", {"doc": doc})
    if recv(i)["indexComplete"]: break
    time.sleep(0.2)
print(f"file {os.path.getsize(path) >> 20} MiB, opened and indexed: {mem()}")
t = time.time()
send(4, "tome/replaceAll", {"doc": doc, "version": 0, "query": {"pattern": "value"}, "replacement": "VAL"})
r = recv(4)
print(f"replaceAll: {r['count']} replacements in {time.time() - t:.1f} s: {mem()}")
send(5, "tome/undo", {"doc": doc}); recv(5)
print(f"after undo: {mem()}")
send(6, "shutdown", None); recv(6)
