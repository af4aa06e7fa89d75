#!/usr/bin/env python3
"""Cold page cache: the line index against `wc -l`, and `rg -c` for reference, on a file evicted
from the page cache before every run (posix_fadvise DONTNEED: works without root; clean pages of
the file only, so the file must not be being written). Runs alternate; medians of N.

Usage: scripts/bench-cold.py INDEX_SPEED FILE [N] [--server TOME_BIN WORKDIR]
  INDEX_SPEED: target/release/examples/index_speed (cargo build --release -p tome-core
  --example index_speed); it prints the seconds of one index with `once`.
Prints one line per tool: median, min, max (seconds), and the ratio index / wc -l.

--server also times, through the protocol of a fresh `tome serve` each run, after evicting:
  open + first screen: `tome/open` with 300 lines (as the Neovim plugin asks), against
    `head -n 300 FILE`;
  open + count: `tome/open`, then at once `tome/search` mode count of a string that is not
    there (the line index reads the file at the same time, as it does for a user), against
    `rg -c` of the same string;
  save: a copy of FILE in WORKDIR (made, synced and evicted first), opened, one insertion at
    95 % and one at 1 %, then a plain `tome/save` (its reply says how it saved), against
    `cp --reflink=never` + `sync` of the same copy.

Caveat: on a virtual disk the host may cache the file too, so "cold" here means not in this
kernel's page cache; the numbers move with the host's cache and other load."""
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tome_rpc import Tome  # noqa: E402


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


def server(binary):
    t = Tome(binary)
    t.initialize()
    return t


def stop(t):
    t.p.stdin.close()
    t.p.kill()
    t.p.wait()


def open_first_screen(binary, path):
    t = server(binary)
    start = time.perf_counter()
    r = t.request('tome/open', {'path': path, 'viewport': {'first': 0, 'count': 300}})
    took = time.perf_counter() - start
    assert len(r['viewport']['lines']) == 300, 'the open did not bring 300 lines'
    stop(t)
    return took


def open_count(binary, path):
    t = server(binary)
    start = time.perf_counter()
    doc = t.request('tome/open', {'path': path})['doc']
    r = t.request('tome/search', {'doc': doc, 'mode': 'count',
                                  'query': {'pattern': 'zzqxj-no-such-text', 'regex': False}})
    took = time.perf_counter() - start
    assert r['count'] == 0, r
    stop(t)
    return took


def save(binary, path, fraction):
    t = server(binary)
    doc = t.request('tome/open', {'path': path})['doc']
    at = int(os.path.getsize(path) * fraction)
    t.request('tome/edit', {'doc': doc, 'version': 0,
                            'edits': [{'offsets': {'start': at, 'end': at}, 'text': 'EDITED\n'}]})
    start = time.perf_counter()
    r = t.request('tome/save', {'doc': doc})
    took = time.perf_counter() - start
    stop(t)
    return took, r.get('method')


def server_runs(binary, path, work, n):
    runs = {'open + 300 lines': [], 'head -n 300': [], 'open + count': [], 'rg -c': []}
    for _ in range(n):
        evict(path)
        runs['open + 300 lines'].append(open_first_screen(binary, path))
        evict(path)
        runs['head -n 300'].append(timed(['head', '-n', '300', path]))
        evict(path)
        runs['open + count'].append(open_count(binary, path))
        evict(path)
        runs['rg -c'].append(timed(['rg', '-c', 'zzqxj-no-such-text', path]))
    copy = os.path.join(work, 'bench-cold.copy')
    subprocess.run(['cp', '--reflink=never', path, copy], check=True)
    subprocess.run(['sync'], check=True)
    methods = {}
    for _ in range(n):
        for fraction in (0.95, 0.01):
            evict(copy)
            took, method = save(binary, copy, fraction)
            key = 'save, edit at %d %%' % round(fraction * 100)
            runs.setdefault(key, []).append(took)
            methods[key] = method
        evict(copy)
        other = copy + '.cp'
        start = time.perf_counter()
        subprocess.run(['cp', '--reflink=never', copy, other], check=True)
        subprocess.run(['sync'], check=True)
        runs.setdefault('cp + sync', []).append(time.perf_counter() - start)
        os.remove(other)
    os.remove(copy)
    size = os.path.getsize(path)
    print('server, file: %s (%.2f GiB), %d cold runs each, alternating' % (path, size / 2**30, n))
    for name, v in runs.items():
        how = ' (%s)' % methods[name] if name in methods else ''
        print('%-20s median %.3f s  (min %.3f, max %.3f)%s' % (
            name, statistics.median(v), min(v), max(v), how))
    med = {k: statistics.median(v) for k, v in runs.items()}
    print('ratios: open+count / rg -c %.2fx; save at 95 %% / cp+sync %.3fx; '
          'save at 1 %% / cp+sync %.2fx' % (
              med['open + count'] / med['rg -c'],
              med['save, edit at 95 %'] / med['cp + sync'],
              med['save, edit at 1 %'] / med['cp + sync']))


def main():
    args = sys.argv[1:]
    if '--server' in args:
        i = args.index('--server')
        binary, work = args[i + 1], args[i + 2]
        del args[i:i + 3]
    else:
        binary = work = None
    if len(args) < 2:
        print(__doc__)
        sys.exit(2)
    index_speed, path = args[0], args[1]
    n = int(args[2]) if len(args) > 2 else 5
    if binary:
        os.environ.setdefault('TOME_STATE_DIR', os.path.join(work, 'bench-cold-state'))
        server_runs(binary, path, work, n)
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
