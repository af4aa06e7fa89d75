#!/bin/bash
# The VS Code extension's tests (editors/vscode): npm ci, build (tsc + esbuild), lint (eslint, prettier --check),
# unit tests (node --test: rpc framing/client, viewport cache, scroll mapping, edit translation, filter views,
# selections, the undo-stack mirror, the webview relay; against the real `tome serve`: the rpc
# client, range reads for Copy, the custom editor provider with a stub `vscode` module and a
# model of VS Code's undo stack (undo/redo, save, revert and undo after it, hot exit, changes
# on disk, a journal that no longer fits its file, as root a full journal disk), the journal warning (status bar
# marker, one message; a fake server), and the activated extension on a 200 MiB file (progress, status bar, clipboard)),
# then the browser test: the real webview page in headless Chromium (playwright-core, Debian's
# /usr/bin/chromium) relayed to a real `tome serve` on a generated 200 MiB file.
# Installs what it needs: Node/npm must be there (Node 20); chromium (apt-get) when missing;
# target/release/tome (cargo) when missing. Takes about 30 s once installed.
# Last, packages the extension with @vscode/vsce for this platform, with the tome binary in it
# (into a temp dir, to check the package builds). Env: TOME_BIN, the binary (default target/release/tome).
# Env: TOME_VSCODE_TEST_SIZE (default 200M), CHROMIUM (default /usr/bin/chromium).
# Prints "N passed, M failed" last; exits non-zero on failure.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
ext=$root/editors/vscode
cd "$ext" || exit 1

passed=0 failed=0
step() { # name, command...: a step that counts as one test
  local name=$1; shift
  echo "== $name"
  local t=$SECONDS
  if "$@"; then passed=$((passed + 1)); echo "-- $name ok ($((SECONDS - t)) s)"
  else failed=$((failed + 1)); echo "-- $name FAILED ($((SECONDS - t)) s)"; fi
}
count() { # adds the last "N passed, M failed" (or node --test's "# pass N"/"# fail M") of a log
  local p f
  if grep -qE '^[0-9]+ passed, [0-9]+ failed' "$1"; then
    p=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1 | grep -oE '^[0-9]+')
    f=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1 | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+')
  elif grep -qE '^# pass [0-9]+' "$1"; then
    p=$(grep -E '^# pass [0-9]+' "$1" | tail -n 1 | grep -oE '[0-9]+')
    f=$(grep -E '^# fail [0-9]+' "$1" | tail -n 1 | grep -oE '[0-9]+')
  else
    echo "suite $2 did not finish" >&2; failed=$((failed + 1)); return
  fi
  passed=$((passed + p)); failed=$((failed + f))
}
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

command -v npm >/dev/null || { echo "npm is missing (install Node 20)"; echo "0 passed, 1 failed"; exit 1; }

if [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ]; then
  echo "== node_modules up to date"
else
  step "npm ci" npm ci --no-audit --no-fund
fi
step "build" npm run -s build
step "lint" npm run -s lint
[ "$failed" -eq 0 ] || finish

bin=${TOME_BIN:-$root/target/release/tome}
if [ ! -x "$bin" ]; then
  (cd "$root" && cargo build --release -p tome) || { failed=$((failed + 1)); finish; }
fi

echo "== unit tests"
work=$(mktemp -d "${TMPDIR:-/tmp}/tome-vscode.XXXXXX")
trap 'rm -rf "$work"' EXIT
t=$SECONDS
TOME_BIN=$bin node --test out/test/unit/ > "$work/unit.log" 2>&1
grep -E '^(not ok|ok) ' "$work/unit.log"
grep -q '^not ok' "$work/unit.log" && cat "$work/unit.log"
count "$work/unit.log" unit
echo "-- unit tests ($((SECONDS - t)) s)"

chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
  echo "installing chromium" >&2
  (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium) >/dev/null 2>&1 \
    || echo "chromium could not be installed" >&2
fi
echo "== browser test (${TOME_VSCODE_TEST_SIZE:-200M} file)"
t=$SECONDS
TOME_BIN=$bin CHROMIUM=$chromium TOME_TEST_SIZE=${TOME_VSCODE_TEST_SIZE:-200M} \
  timeout 300 node test/browser/harness.mjs > "$work/browser.log" 2>&1
cat "$work/browser.log"
count "$work/browser.log" browser
echo "-- browser test ($((SECONDS - t)) s)"

step "package (.vsix for this platform, with the tome binary, by @vscode/vsce)" env TOME_BIN="$bin" npm run -s package -- --out "$work/tome.vsix"
finish
