#!/bin/bash
# Differential test of the VS Code extension against VS Code's own text editor, in code-server
# 4.100.3 (installed as scripts/test-vscode-e2e.sh does): each keystroke script of
# editors/vscode/test/diff/cases is applied to a small file in VS Code's editor and to a copy in
# Tome's editor, both are saved with Ctrl+S, and the saved bytes must be identical (VS Code's
# editor is the oracle). editors/vscode/test/diff/known.txt lists the cases known to differ, with
# why; a listed case that matches fails the run (XPASS). About 2-3 minutes on 2 cores.
# Env: TOME_BIN (default target/release/tome, built if missing), TOME_CODE_SERVER_PREFIX,
# CHROMIUM (default /usr/bin/chromium), CASES (a regex: run only the cases it matches).
# Prints "N passed, M failed (K known differences)" last; exits non-zero on failure.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
ext=$root/editors/vscode
installer=${TOME_CODE_SERVER_INSTALLER:-$root/../shared/scripts/install-code-server.sh}
prefix=${TOME_CODE_SERVER_PREFIX:-$HOME/.cache/tome/code-server}
fail() { echo "$*" >&2; echo "0 passed, 1 failed"; exit 1; }

. "$root/scripts/code-server.sh"

command -v npm >/dev/null || fail "npm is missing (install Node 20)"
code_server_ready
echo "-- code-server ready ($((SECONDS - t)) s)"

bin=${TOME_BIN:-$root/target/release/tome}
if [ ! -x "$bin" ]; then
  (cd "$root" && cargo build --release -p tome) || fail "building tome failed"
fi

cd "$ext" || exit 1
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund || fail "npm ci failed"
fi
t=$SECONDS
npm run -s build || fail "build failed"
work=$(mktemp -d "${TMPDIR:-/tmp}/tome-vscode-diff-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
TOME_BIN=$bin npm run -s package -- --out "$work/tome.vsix" >/dev/null || fail "packaging failed"
echo "-- built and packaged ($((SECONDS - t)) s)"

echo "== differential test against VS Code's editor (code-server)"
CODE_SERVER=$code_server VSIX=$work/tome.vsix TOME_BIN=$bin CHROMIUM=${CHROMIUM:-/usr/bin/chromium} \
  timeout 600 node test/diff/run.mjs
rc=$?
[ $rc -eq 124 ] && fail "differential test timed out"
exit $rc
