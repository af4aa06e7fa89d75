#!/usr/bin/env python3
"""Cold page cache: the line index against `wc -l`, and `rg -c` for reference, on a file evicted
from the page cache before every run (posix_fadvise DONTNEED: works without root; clean pages of
the file only, so the file must not be being written). Runs alternate; medians of N.

Usage: scripts/bench-cold.py INDEX_SPEED FILE [N]
  INDEX_SPEED: target/release/examples/index_speed (cargo build --release -p tome-core
  --example index_speed); it prints the seconds of one index with `once`.
Prints one line per tool: median, min, max (seconds), and the ratio index / wc -l.

Caveat: on a virtual disk the host may cache the file too, so "cold" here means not in this
kernel's page cache; the numbers move with the host's cache and other load."""
import os
import statistics
import subprocess
import sys
import time


def evict(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def timed(cmd):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=False)
    return time.perf_counter() - t


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        sys.exit(2)
    index_speed, path = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    runs = {'tome index': [], 'wc -l': [], 'rg -c': []}
    for _ in range(n):
        evict(path)
        out = subprocess.run([index_speed, path, 'once'], capture_output=True, text=True, check=True)
        runs['tome index'].append(float(out.stdout.strip()))
        evict(path)
        runs['wc -l'].append(timed(['wc', '-l', path]))
        evict(path)
        runs['rg -c'].append(timed(['rg', '-c', 'zzqxj-no-such-text', path]))
    size = os.path.getsize(path)
    print('file: %s (%.2f GiB), %d cold runs each, alternating' % (path, size / 2**30, n))
    for name, v in runs.items():
        print('%-11s median %.3f s  (min %.3f, max %.3f)  %.0f MiB/s' % (
            name, statistics.median(v), min(v), max(v), size / 2**20 / statistics.median(v)))
    print('ratio tome index / wc -l: %.2fx' % (
        statistics.median(runs['tome index']) / statistics.median(runs['wc -l'])))


if __name__ == '__main__':
    main()
