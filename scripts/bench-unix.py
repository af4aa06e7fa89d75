#!/usr/bin/env python3
"""`tome cat`, `tome grep -c` and `tome replace` against the Unix commands they replace, on one
big file, in the same run (issue 18 item 3). Page cache warm (every command reads the file once
before timing); the medians of RUNS runs each and their ratios.

Usage: scripts/bench-unix.py TOME_BIN FILE WORKDIR [RUNS] [--no-sed-i]

  cat:     `tome cat FILE --lines A:B` for 11 lines near the end, with a cold line index (a fresh
           state directory each run: the index is built, reading the whole file) and with the
           index cache (the second run on the same file), against `sed -n 'A,Bp;Bq'` and
           `tail -n K | head -n 11` (the same lines); outputs compared.
  grep -c: `tome grep -c` against `grep -c` and `rg -c` for a rare literal and a regex;
           counts compared.
  replace: FILE is copied twice into WORKDIR (FILE itself is never written); a rare string
           near the end (`seq=N ` of the file's third to last line) is replaced by one of the
           same length and back, alternately: `tome replace` (its default save: in place,
           synced) against `sed -i` and `sed -i` + `sync`, and `cp` + `sync` of the whole file
           (a floor for any tool that rewrites it). After an even number of runs both copies are
           compared with FILE (`cmp`). WORKDIR is removed at the end.
  replace, many: the same with a word on most lines (`DEBUG` ↔ `DEBUX`: millions of matches,
           the whole file rewritten), against `sed -i 's/X/Y/g'` (+ `sync`); the peak private
           (anonymous) memory of `tome replace`, sampled every 20 ms from /proc/PID/smaps_rollup.
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=True, check=True, stdout=subprocess.PIPE, **kw).stdout


def timed(cmd, env=None):
    t = time.perf_counter()
    out = subprocess.run(cmd, shell=True, check=True, stdout=subprocess.PIPE, env=env).stdout
    return time.perf_counter() - t, out


def timed_peak(argv, env):
    """Runs argv; its time, the peak of its anonymous memory (KiB), sampled every 20 ms, and
    its output (a short one: it is read once the process ends)."""
    t = time.perf_counter()
    p = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE)
    peak = 0
    while True:
        try:
            with open(f"/proc/{p.pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Anonymous:"):
                        peak = max(peak, int(line.split()[1]))
        except (FileNotFoundError, ProcessLookupError, ValueError):
            pass
        try:
            p.wait(timeout=0.02)  # returns as soon as it ends: the time is not rounded up
            break
        except subprocess.TimeoutExpired:
            pass
    took = time.perf_counter() - t
    assert p.returncode == 0, f"{argv}: exit {p.returncode}"
    return took, peak, p.stdout.read()


def median(xs):
    return statistics.median(xs)


def fmt(s):
    return f"{s * 1e3:.1f} ms" if s < 10 else f"{s:.2f} s"


def row(name, times, tome=None):
    """Prints a median and its runs; for a peer, the ratio tome / peer (below 1: Tome faster)."""
    m = median(times)
    ratio = f"  tome/this {tome / m:.2f}x" if tome else ""
    if tome and "tome" in name:
        ratio = f"  this/tail {m / tome:.2f}x"
    print(f"  {name:<44} median {fmt(m):>11}  runs {' '.join(fmt(t) for t in times)}{ratio}")
    return m


def replace_rounds(x, y, flags, tome, path, n, env, state, no_sed_i, copies, t_cp):
    """`n` rounds of `tome replace X Y` and back on its copy of FILE, timed with its peak
    private memory, against `sed -i 's/X/Y/FLAGS'` (and `&& sync`) on theirs; checks that
    tome's copy equals sed's after the first round and FILE after the last; prints the rows."""
    tome_copy, sed_copy, sync_copy = copies
    t_tome, t_sed, t_sed_sync, peaks = [], [], [], []
    for i in range(n):
        frm, to = (x, y) if i % 2 == 0 else (y, x)
        t, peak, out = timed_peak(
            [tome, "replace", "--json", frm, to, tome_copy], dict(env, TOME_STATE_DIR=state)
        )
        t_tome.append(t)
        peaks.append(peak)
        if i == 0:
            print(f"  tome replace --json: {out.decode().strip()}")
        if no_sed_i:
            continue
        t, _ = timed(f"sed -i 's/{frm}/{to}/{flags}' {sed_copy}", env)
        t_sed.append(t)
        t, _ = timed(f"sed -i 's/{frm}/{to}/{flags}' {sync_copy} && sync", env)
        t_sed_sync.append(t)
        if i == 0:
            sh(f"cmp {tome_copy} {sed_copy}")
            print("  byte-identical: tome's result = sed's result")
    sh(f"cmp {tome_copy} {path}")
    print(f"  after {n} runs (there and back) tome's copy = FILE")
    shown = [f"{p >> 10} MiB" if p else "(ended before a sample)" for p in peaks]
    print(f"  tome replace peak private memory: {' '.join(shown)}")
    base = row("tome replace (default save)", t_tome)
    if not no_sed_i:
        row(f"sed -i 's/X/Y/{flags}'", t_sed, base)
        row(f"sed -i 's/X/Y/{flags}' && sync", t_sed_sync, base)
    row("cp FILE && sync (whole-file rewrite floor)", t_cp, base)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    no_sed_i = "--no-sed-i" in sys.argv
    tome, path, work = args[0], args[1], args[2]
    runs = int(args[3]) if len(args) > 3 else 3
    os.makedirs(work, exist_ok=True)
    print(f"file: {path} ({os.path.getsize(path)} bytes); tome: {tome}; runs: {runs}")
    print(f"machine: {os.cpu_count()} CPUs; load before: {open('/proc/loadavg').read().strip()}")
    sh(f"cat {path} > /dev/null")
    lines = int(sh(f"wc -l < {path}"))
    a, b = lines - 20, lines - 10
    env = dict(os.environ, LC_ALL="C.UTF-8")

    print(f"\ncat: lines {a}:{b} of {lines}")
    q = f"{tome} cat {path} --lines {a}:{b}"
    cold, warm, sed, tail, tome_tail = [], [], [], [], []
    last = f"{tome} cat {path} --lines -{lines - a + 1} | head -n {b - a + 1}"
    ref = sh(f"sed -n '{a},{b}p;{b}q' {path}")
    cached = tempfile.mkdtemp(dir=work)
    sh(q, env=dict(env, TOME_STATE_DIR=cached))  # fills the index cache
    for _ in range(runs):
        state = tempfile.mkdtemp(dir=work)
        t, out = timed(q, env=dict(env, TOME_STATE_DIR=state))
        assert out == ref, "tome cat (cold index) differs from sed"
        cold.append(t)
        shutil.rmtree(state)
        t, out = timed(q, env=dict(env, TOME_STATE_DIR=cached))
        assert out == ref, "tome cat (cached index) differs from sed"
        warm.append(t)
        t, out = timed(f"sed -n '{a},{b}p;{b}q' {path}", env)
        sed.append(t)
        t, out = timed(f"tail -n {lines - a + 1} {path} | head -n {b - a + 1}", env)
        assert out == ref, "tail differs from sed"
        tail.append(t)
        t, out = timed(last, env=dict(env, TOME_STATE_DIR=cached))
        assert out == ref, "tome cat --lines -N differs from sed"
        tome_tail.append(t)
    base = row("tome cat --lines (cold index)", cold)
    cached_m = row("tome cat --lines (index cache)", warm)
    for name, times in [
        (f"sed -n '{a},{b}p;{b}q'", sed),
        (f"tail -n {lines - a + 1} | head -n {b - a + 1}", tail),
    ]:
        m = row(name, times, base)
        print(f"  {'':<44} tome (index cache)/this {cached_m / m:.2f}x")
    row(f"tome cat --lines -{lines - a + 1} | head -n {b - a + 1}", tome_tail, median(tail))

    for pat, regex in [("req_id=a4c294af", False), ("latency_ms=[0-9]{4}", True)]:
        print(f"\ngrep -c {'-E ' if regex else ''}{pat!r}")
        e = "-E " if regex else "-F "
        qp = subprocess.list2cmdline([pat])
        cmds = [
            ("tome grep -c", f"{tome} grep -c {e}{qp} {path}"),
            ("grep -c", f"grep -c {e}{qp} {path}"),
            ("rg -c", f"rg -c {'' if regex else '-F '}{qp} {path}"),
            ("rg -c --no-mmap", f"rg -c --no-mmap {'' if regex else '-F '}{qp} {path}"),
        ]
        times = {n: [] for n, _ in cmds}
        counts = {}
        for _ in range(runs):
            for n, c in cmds:
                t, out = timed(c + " || true", env)
                times[n].append(t)
                counts[n] = out.strip() or b"0"  # rg prints nothing for no match
        assert len(set(counts.values())) == 1, counts
        print(f"  count: {counts['grep -c'].decode()}")
        base = None
        for n, _ in cmds:
            m = row(n, times[n], base)
            base = base or m

    print("\nreplace: one rare string near the end")
    third_last = sh(f"tail -n 3 {path} | head -n 1").decode()
    seq = next(w for w in third_last.split() if w.startswith("seq="))
    x, y = f"{seq} ", "seq=" + "R" * (len(seq) - 4) + " "
    assert int(sh(f"grep -c -F -e '{x}' {path} || true")) == 1, "the string is not unique"
    tome_copy = os.path.join(work, "tome.log")
    sed_copy, sync_copy = os.path.join(work, "sed.log"), os.path.join(work, "sed-sync.log")
    t_cp = []
    for _ in range(runs):
        if os.path.exists(tome_copy):
            os.remove(tome_copy)
        t, _ = timed(f"cp {path} {tome_copy} && sync")
        t_cp.append(t)
    if not no_sed_i:
        shutil.copyfile(path, sed_copy)
        shutil.copyfile(path, sync_copy)
    sh("sync")
    state = tempfile.mkdtemp(dir=work)
    n = runs + runs % 2  # even: every copy ends as FILE
    rounds = dict(tome=tome, path=path, n=n, env=env, state=state, no_sed_i=no_sed_i,
                  copies=(tome_copy, sed_copy, sync_copy), t_cp=t_cp)
    replace_rounds(x, y, "", **rounds)

    x, y = "DEBUG", "DEBUX"
    count = int(sh(f"grep -o -F -e '{x}' {path} | wc -l"))
    print(f"\nreplace, many: {x} ↔ {y}, {count} matches")
    replace_rounds(x, y, "g", **rounds)
    print(f"\nload after: {open('/proc/loadavg').read().strip()}")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
