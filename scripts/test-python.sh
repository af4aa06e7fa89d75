#!/usr/bin/env bash
# The Python client's tests (clients/python/tests: unittest, standard library only) against the
# real server: $TOME_BIN, else target/release/tome (built if missing). They generate a 300 MiB
# file in $TMPDIR (default /tmp) and take about 40 s on 2 cores. With mypy installed
# (`python3 -m mypy`; a development tool, not a dependency) the package is type-checked first.
# Usage: scripts/test-python.sh [unittest args, e.g. test_big.BigFile.test_cancel_a_long_search]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export TOME_BIN=${TOME_BIN:-$root/target/release/tome}
if [ ! -x "$TOME_BIN" ]; then
  (cd "$root" && cargo build --release -p tome)
fi
command -v python3 >/dev/null || { echo "python3 is required (3.9 or newer)"; exit 1; }
cd "$root/clients/python"
if python3 -m mypy --version >/dev/null 2>&1; then
  MYPYPATH=src:tests python3 -m mypy --strict src tests
else
  echo "mypy is not installed: type check skipped (pip install mypy)"
fi
if [ $# -gt 0 ]; then
  PYTHONPATH=src:tests exec python3 -m unittest "$@"
fi
PYTHONPATH=src:tests exec python3 -m unittest discover -s tests -t tests
