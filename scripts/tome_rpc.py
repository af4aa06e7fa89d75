"""A minimal client of `tome serve` for the probe scripts (scripts/probe-*.py): starts the
server with its state directory in $TOME_STATE_DIR (default /tmp/tome-probe-state), frames
requests, waits for replies by id, and reads the server's memory from /proc."""
import json, os, subprocess, sys, time


class Tome:
    def __init__(self, binary, wrapper=()):
        """`wrapper`: a command the server is started through (its arguments end with the
        binary and `serve`), e.g. one that joins a cgroup first."""
        state = os.environ.get("TOME_STATE_DIR", "/tmp/tome-probe-state")
        self.p = subprocess.Popen([*wrapper, binary, "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  env={**os.environ, "TOME_STATE_DIR": state})
        self.next_id = 0

    def send(self, method, params):
        self.next_id += 1
        b = json.dumps({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params}).encode()
        self.p.stdin.write(b"Content-Length: %d\r\n\r\n" % len(b) + b)
        self.p.stdin.flush()
        return self.next_id

    def recv(self, i):
        """The reply to request `i`: its result, or the whole message if it is an error."""
        while True:
            n = None
            while True:
                line = self.p.stdout.readline()
                if line in (b"\r\n", b"\n"):
                    break
                if line.lower().startswith(b"content-length:"):
                    n = int(line.split(b":")[1])
            msg = json.loads(self.p.stdout.read(n))
            if msg.get("id") == i:
                return msg.get("result", msg)

    def request(self, method, params):
        """Sends a request and waits for its result; exits on an error reply."""
        r = self.recv(self.send(method, params))
        if isinstance(r, dict) and "error" in r:
            sys.exit(f"{method}: error: {r['error']}")
        return r

    def initialize(self):
        return self.request("initialize", {"capabilities": {}})

    def wait_index(self, doc):
        while not self.request("tome/info", {"doc": doc})["indexComplete"]:
            time.sleep(0.2)

    def status(self, *keys):
        """Fields of /proc/PID/status, in MiB (VmRSS, RssAnon, RssFile…)."""
        v = {}
        for l in open(f"/proc/{self.p.pid}/status"):
            k = l.split(":")[0]
            if k in keys:
                v[k] = int(l.split()[1]) // 1024
        return v

    def shutdown(self):
        self.request("shutdown", None)
