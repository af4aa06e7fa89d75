#!/usr/bin/env python3
"""Replace-all on a big generated file against Python's `re.sub` on the same bytes (issue 16
item 2: replace-all's matches are collected on every core and must be exactly the one-thread
scan's).

Usage: scripts/check-replace-all.py TOME_BIN DIR [SIZE] [--before BIN]
  Writes DIR/ra.log with `tome gen --size SIZE` (default 300M; `--crlf --unicode`, so lines end
  with CRLF and some hold multi-byte characters), then for each case opens it in a fresh
  server, runs `tome/replaceAll` (timed: request to reply; on BIN and, with --before, on an
  older binary), `tome/saveAs` to DIR/ra.out, and compares the bytes with `re.sub` of the
  same pattern over the original bytes. Removes its files at the end. Exits 1 on a mismatch.
"""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tome_rpc import Tome  # noqa: E402

# (Tome pattern, regex, replacement, Python pattern, Python replacement); patterns whose
# meaning is the same in both engines (ASCII classes, no `^`/`$`, which differ on CRLF, no
# empty matches, which Python also takes right after a match); `regex` None: case-insensitive
# text.
CASES = [
    ("ERROR", False, "E!", rb"ERROR", rb"E!"),
    (r"status=(5)([0-9]{2})", True, "S$2$1", rb"status=(5)([0-9]{2})", rb"S\2\1"),
    (r"[0-9]+", True, "#", rb"[0-9]+", rb"#"),
    ("error", None, "e", rb"(?i)error", rb"e"),
]


def main():
    before = None
    if "--before" in sys.argv:
        i = sys.argv.index("--before")
        before = sys.argv[i + 1]
        del sys.argv[i : i + 2]
    binary, d = sys.argv[1], sys.argv[2]
    size = sys.argv[3] if len(sys.argv) > 3 else "300M"
    src, out = os.path.join(d, "ra.log"), os.path.join(d, "ra.out")
    subprocess.run([binary, "gen", src, "--size", size, "--crlf", "--unicode"], check=True,
                   capture_output=True)
    with open(src, "rb") as f:
        data = f.read()
    print(f"{len(data) / 2**20:.0f} MiB, CRLF, some multi-byte lines")
    failed = False
    try:
        for pattern, regex, repl, py, py_repl in CASES:
            t0 = time.perf_counter()
            want, n = re.subn(py, py_repl, data)
            py_time = time.perf_counter() - t0
            cells = [f"re.sub {py_time:.2f} s"]
            for name, b in [("tome", binary)] + ([("before", before)] if before else []):
                t = Tome(b)
                t.initialize()
                doc = t.request("tome/open", {"path": src})["doc"]
                t.wait_index(doc)
                t0 = time.perf_counter()
                query = {"pattern": pattern, "regex": bool(regex)}
                if regex is None:
                    query["caseSensitive"] = False
                r = t.request("tome/replaceAll", {"doc": doc, "query": query,
                                                  "replacement": repl})
                cells.append(f"{name} {time.perf_counter() - t0:.2f} s")
                t.request("tome/saveAs", {"doc": doc, "path": out})
                t.shutdown()
                with open(out, "rb") as f:
                    got = f.read()
                os.remove(out)
                same = got == want and r["count"] == n
                failed |= not same
                cells.append(f"{name} {'equal' if same else 'DIFFERENT'} ({r['count']} vs {n})")
            print(f"{pattern!r}: {', '.join(cells)}")
    finally:
        os.remove(src)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
