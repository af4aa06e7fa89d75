#!/usr/bin/env python3
"""A save costs what the edit costs (issue 16 item 1): a plain `tome/save` over the protocol
after one edit (a short line inserted) at 1 %, 50 % and 95 % of a big file, and after a
same-length overwrite at 50 %, against `cp --reflink=never FILE X && sync` of the same file,
and against another tome binary (main's) in the same run. Warm page cache.

Usage: scripts/bench-save.py [--after-index] [--cases LIST] TOME_BIN BASELINE_BIN FILE WORKDIR
                             [RUNS]
  --after-index: wait until the line index is complete before the edit (a user who jumps to
  95 % of the file and edits there; without it the save runs right after the open, beside the
  index's own scan of the file, which competes with it for the two cores).
  --cases: a comma-separated subset of edit95,overwrite50,edit50,edit1 (default: all).
  Copies FILE to WORKDIR/bench-save.log once (the file saved over; FILE is never changed), then
  RUNS rounds of: cp + sync to WORKDIR/bench-save.copy (removed right after), then for each
  binary and each position a fresh server (state directory /tmp/tome-bench-save-state) that
  opens the copy, inserts one short line there (or overwrites 7 bytes with as many) and times
  the `tome/save` request (the save
  fsyncs what it wrote, as `sync` does for cp). The copy grows by a few bytes per save. Prints
  each time, then the medians, and each save's median as a ratio of cp + sync; the reply's
  `method` and `written` where the binary reports them. Needs room for two copies of FILE in
  WORKDIR (a rename save writes a whole new file while the old one is still open). Removes
  its files at the end.
"""
import os
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tome_rpc import Tome  # noqa: E402


def cp_sync(path, copy):
    start = time.perf_counter()
    subprocess.run(["cp", "--reflink=never", path, copy], check=True)
    subprocess.run(["sync"], check=True)
    took = time.perf_counter() - start
    os.remove(copy)
    return took


def tome_save(binary, path, fraction, overwrite, after_index):
    t = Tome(binary)
    t.initialize()
    doc = t.request("tome/open", {"path": path})["doc"]
    if after_index:
        t.wait_index(doc)
    at = int(os.path.getsize(path) * fraction)
    end = at + 7 if overwrite else at
    t.request("tome/edit", {"doc": doc, "version": 0,
                            "edits": [{"offsets": {"start": at, "end": end}, "text": "EDITED\n"}]})
    start = time.perf_counter()
    r = t.request("tome/save", {"doc": doc})
    took = time.perf_counter() - start
    t.shutdown()
    t.p.stdin.close()
    t.p.wait()
    return took, r


def main():
    after_index = "--after-index" in sys.argv
    if after_index:
        sys.argv.remove("--after-index")
    wanted = None
    if "--cases" in sys.argv:
        i = sys.argv.index("--cases")
        wanted = set(sys.argv[i + 1].split(","))
        del sys.argv[i:i + 2]
    if len(sys.argv) < 5:
        print(__doc__)
        sys.exit(2)
    new, base, src, work = sys.argv[1:5]
    runs = int(sys.argv[5]) if len(sys.argv) > 5 else 3
    state = "/tmp/tome-bench-save-state"
    shutil.rmtree(state, ignore_errors=True)
    os.environ["TOME_STATE_DIR"] = state
    path = os.path.join(work, "bench-save.log")
    copy = os.path.join(work, "bench-save.copy")
    subprocess.run(["cp", "--reflink=never", src, path], check=True)
    subprocess.run(["sync"], check=True)
    cases = [(name, binary, frac, ow) for frac, ow in ((0.95, False), (0.50, True),
                                                       (0.50, False), (0.01, False))
             for name, binary in (("new", new), ("baseline", base))
             if wanted is None
             or f"{'overwrite' if ow else 'edit'}{round(frac * 100)}" in wanted]
    times = {"cp+sync": []}
    replies = {}
    try:
        for r in range(runs):
            times["cp+sync"].append(cp_sync(path, copy))
            print(f"run {r}: cp+sync {times['cp+sync'][-1]:.2f} s", flush=True)
            for name, binary, frac, ow in cases:
                kind = "overwrite" if ow else "edit"
                key = f"{name} {kind} at {frac:.0%}"
                took, reply = tome_save(binary, path, frac, ow, after_index)
                times.setdefault(key, []).append(took)
                replies[key] = reply
                print(f"run {r}: {key}: {took:.3f} s  method={reply.get('method')} "
                      f"written={reply.get('written')} backedUp={reply.get('backedUp')}",
                      flush=True)
    finally:
        for p in (path, copy):
            if os.path.exists(p):
                os.remove(p)
        shutil.rmtree(state, ignore_errors=True)
    size = os.path.getsize(src)
    when = "after the index" if after_index else "right after the open"
    print(f"\nfile {size / 2**30:.2f} GiB, {runs} runs, saves {when}, medians:")
    cp = statistics.median(times["cp+sync"])
    for key, ts in times.items():
        m = statistics.median(ts)
        print(f"  {key:32} {m:8.3f} s  {m / cp:6.3f}x cp+sync  "
              f"(min {min(ts):.3f}, max {max(ts):.3f})")


if __name__ == "__main__":
    main()
