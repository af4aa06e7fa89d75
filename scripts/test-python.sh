#!/usr/bin/env bash
# The Python client's tests (clients/python/tests: unittest test cases, standard library only)
# against the real server: $TOME_BIN, else target/release/tome (built if missing). Run with
# pytest, installed on first use into a virtual environment ($TOME_PY_VENV, default
# ~/.cache/tome/pyvenv, with mypy for the type check); where it cannot be installed (no
# network), with python3 -m unittest instead, said loudly. They generate a 300 MiB file in
# $TMPDIR (default /tmp) and take about 40 s on 2 cores.
# Usage: scripts/test-python.sh [pytest args, e.g. -k test_cancel_a_long_search]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export TOME_BIN=${TOME_BIN:-$root/target/release/tome}
if [ ! -x "$TOME_BIN" ]; then
  (cd "$root" && cargo build --release -p tome)
fi
command -v python3 >/dev/null || { echo "python3 is required (3.9 or newer)"; exit 1; }
venv=${TOME_PY_VENV:-$HOME/.cache/tome/pyvenv}
py=python3
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import pytest, mypy' 2>/dev/null; then
  py=$venv/bin/python
elif python3 -m venv "$venv" >/dev/null 2>&1 && "$venv/bin/pip" install -q pytest mypy >/dev/null 2>&1; then
  py=$venv/bin/python
else
  echo "!! pytest could not be installed into $venv: running the tests with unittest instead"
fi
cd "$root/clients/python"
if "$py" -m mypy --version >/dev/null 2>&1; then
  MYPYPATH=src:tests "$py" -m mypy --strict src tests
else
  echo "mypy is not installed: type check skipped (pip install mypy)"
fi
if "$py" -c 'import pytest' 2>/dev/null; then
  PYTHONPATH=src:tests exec "$py" -m pytest -q -p no:cacheprovider tests "$@"
fi
PYTHONPATH=src:tests exec "$py" -m unittest discover -s tests -t tests
