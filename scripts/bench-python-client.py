#!/usr/bin/env python3
"""The Python client (clients/python) against plain Python and sed on one file, in one run.

1. Iterating the whole file: `Document.iter_chunks(4 MiB)` through `tome serve` against
   `open(path, "rb").read(4 MiB)` in a loop (both feed every byte to sha256, as a script would
   use them, and the digests must be equal).
2. Line N near the end: spawn + `open` + `line(N)` with a cold index cache (the server indexes
   the file first) and with a warm one (the cached index of the same file), against
   `sed -n 'N+1{p;q}'` and a Python loop over the file's lines.

The file is read once first, so every run reads from the page cache. Prints medians of RUNS
runs and the ratios. Usage: bench-python-client.py TOME_BIN FILE [RUNS]
"""

import hashlib
import itertools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "clients", "python", "src"))
from tome_client import Client  # noqa: E402


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def iterate_client(binary, path, state):
    with Client.spawn(binary, state_dir=state) as client:
        doc = client.open(path)
        h = hashlib.sha256()
        for chunk in doc.iter_chunks(4 << 20):
            h.update(chunk)
        return h.hexdigest()


def iterate_python(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(4 << 20), b""):
            h.update(block)
    return h.hexdigest()


def line_client(binary, path, state, n):
    with Client.spawn(binary, state_dir=state) as client:
        return client.open(path).line(n).encode()


def line_sed(path, n):
    return subprocess.run(["sed", "-n", f"{n + 1}{{p;q}}", path], check=True, capture_output=True).stdout.rstrip(b"\n")


def line_python(path, n):
    with open(path, "rb") as f:
        return next(itertools.islice(f, n, None)).rstrip(b"\n")


def main():
    binary, path = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    size = os.path.getsize(path)
    iterate_python(path)  # into the page cache
    with open(path, "rb") as f:
        lines = sum(block.count(b"\n") for block in iter(lambda: f.read(8 << 20), b""))
    n = lines - 10
    print(f"file {path}: {size} bytes, {lines} line breaks; line {n}; {runs} runs; load {os.getloadavg()}")
    results = {}

    def record(name, fn, expect=None):
        times = []
        for _ in range(runs):
            t, value = timed(fn)
            if expect is not None and value != expect:
                sys.exit(f"{name}: a different result")
            times.append(t)
        results[name] = statistics.median(times)
        print(f"{name:40s} median {results[name] * 1000:9.1f} ms  ({', '.join(f'{x * 1000:.0f}' for x in times)})")

    digest = iterate_python(path)
    state = tempfile.mkdtemp(prefix="tome-bench-py-")
    try:
        record("iterate: python read(4 MiB) + sha256", lambda: iterate_python(path), digest)
        record("iterate: tome_client iter_chunks + sha256", lambda: iterate_client(binary, path, state), digest)
        want = line_sed(path, n)
        record(f"line {n}: sed -n", lambda: line_sed(path, n), want)
        record(f"line {n}: python islice over lines", lambda: line_python(path, n), want)

        def cold():
            shutil.rmtree(os.path.join(state, "index"), ignore_errors=True)
            return line_client(binary, path, state, n)

        record(f"line {n}: tome_client, cold index cache", cold, want)
        record(f"line {n}: tome_client, warm index cache", lambda: line_client(binary, path, state, n), want)
    finally:
        shutil.rmtree(state, ignore_errors=True)
    it = results["iterate: tome_client iter_chunks + sha256"] / results["iterate: python read(4 MiB) + sha256"]
    print(f"iterate: client / python = {it:.2f}x ({size / results['iterate: tome_client iter_chunks + sha256'] / 2**20:.0f} MiB/s)")
    for k in ("cold", "warm"):
        c = results[f"line {n}: tome_client, {k} index cache"]
        print(f"line N ({k}): client / sed = {c / results[f'line {n}: sed -n']:.2f}x")


if __name__ == "__main__":
    main()
