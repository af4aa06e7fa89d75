#!/usr/bin/env python3
"""The server's part of the first screen: a fresh `tome serve`, then `initialize` and
`tome/open` with the first lines (`viewport`) sent at once, as the Neovim plugin does at
startup (issue 16 item 4).

Usage: scripts/bench-open.py TOME_BIN FILE [RUNS] [--rt]

Each run starts a new server (state directory $TOME_STATE_DIR, default a temporary one kept
for the whole run, as a user's is) and times: the process start and `initialize` (from the
spawn to its reply), then `tome/open` of FILE with 300 lines (to its reply). Medians, minimum
and maximum. --rt runs under SCHED_FIFO (root), with the servers it starts, for steadier
numbers on a busy machine.
"""
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tome_rpc import Tome  # noqa: E402


def main():
    args = [a for a in sys.argv[1:] if a != '--rt']
    if len(args) < 2:
        print(__doc__)
        sys.exit(2)
    if '--rt' in sys.argv:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
    tome, path = os.path.abspath(args[0]), os.path.abspath(args[1])
    runs = int(args[2]) if len(args) > 2 else 20
    state = None
    if not os.environ.get('TOME_STATE_DIR'):
        state = tempfile.mkdtemp(prefix='tome-bench-open.')
        os.environ['TOME_STATE_DIR'] = state
    viewport = {"first": 0, "count": 300, "rawBytes": True,
                "wholeLines": {"maxLineBytes": 8 << 20, "maxBytes": 16 << 20}}
    res = {}
    try:
        for _ in range(runs):
            t0 = time.monotonic()
            t = Tome(tome)
            init = t.send('initialize', {"capabilities": {"general": {"positionEncodings": ["utf-8"]}}})
            opened = t.send('tome/open', {"path": path, "viewport": viewport})
            t.recv(init)
            t1 = time.monotonic()
            r = t.recv(opened)
            t2 = time.monotonic()
            assert len(r['viewport']['lines']) == 300, 'the open did not bring 300 lines'
            for k, x in (('process start + initialize', t1 - t0), ('tome/open + 300 lines', t2 - t1),
                         ('total', t2 - t0)):
                res.setdefault(k, []).append(1e3 * x)
            t.p.stdin.close()
            t.p.wait()
    finally:
        if state:
            shutil.rmtree(state, ignore_errors=True)
    print(f'{path} ({os.path.getsize(path)} bytes), {runs} runs:')
    for k, v in res.items():
        print(f'  {k:28} median {statistics.median(v):6.2f} ms  min {min(v):6.2f}  max {max(v):7.2f}')


if __name__ == '__main__':
    main()
