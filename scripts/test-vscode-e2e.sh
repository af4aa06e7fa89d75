#!/bin/bash
# End-to-end test of the packaged VS Code extension (editors/vscode) in real VS Code:
# code-server 4.100.3, installed with ../shared/scripts/install-code-server.sh (from npm, Node 20,
# Debian's chromium) into $TOME_CODE_SERVER_PREFIX (default $HOME/.cache/tome/code-server).
# Builds and packages the extension (.vsix with @vscode/vsce), installs it into a fresh
# code-server profile and runs editors/vscode/test/e2e/run.mjs (playwright-core + chromium):
# open a generated 200 MiB file with Tome, first lines, Ctrl+End, Ctrl+G, type, Ctrl+Z, type,
# Ctrl+S, and a byte-for-byte check of the saved file. Screenshots/logs go to a temp artifacts
# dir (its path is printed).
# Env: TOME_CODE_SERVER_PREFIX, TOME_E2E_SIZE (default 200M), CHROMIUM (default /usr/bin/chromium).
# Prints "N passed, M failed" last; exits non-zero on failure.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
ext=$root/editors/vscode
installer=${TOME_CODE_SERVER_INSTALLER:-$root/../shared/scripts/install-code-server.sh}
prefix=${TOME_CODE_SERVER_PREFIX:-$HOME/.cache/tome/code-server}
fail() { echo "$*" >&2; echo "0 passed, 1 failed"; exit 1; }

command -v npm >/dev/null || fail "npm is missing (install Node 20)"
t=$SECONDS
echo "== code-server ($prefix)"
code_server=$("$installer" "$prefix" | tail -n 1) || fail "installing code-server failed"
[ -x "$code_server" ] || fail "code-server not found at $code_server"
echo "-- code-server ready ($((SECONDS - t)) s)"

bin=$root/target/release/tome
if [ ! -x "$bin" ]; then
  (cd "$root" && cargo build --release -p tome) || fail "building tome failed"
fi

cd "$ext" || exit 1
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund || fail "npm ci failed"
fi
t=$SECONDS
npm run -s build || fail "build failed"
work=$(mktemp -d "${TMPDIR:-/tmp}/tome-vscode-e2e-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
npm run -s package -- --out "$work/tome.vsix" >/dev/null || fail "packaging failed"
echo "-- built and packaged ($((SECONDS - t)) s)"

echo "== e2e test in code-server (${TOME_E2E_SIZE:-200M} file)"
CODE_SERVER=$code_server VSIX=$work/tome.vsix TOME_BIN=$bin CHROMIUM=${CHROMIUM:-/usr/bin/chromium} \
  TOME_E2E_SIZE=${TOME_E2E_SIZE:-200M} timeout 600 node test/e2e/run.mjs
rc=$?
[ $rc -eq 124 ] && fail "e2e test timed out"
exit $rc
