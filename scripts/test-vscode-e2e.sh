#!/bin/bash
# End-to-end test of the packaged VS Code extension (editors/vscode) in real VS Code:
# code-server 4.100.3, installed from npm (Node 20, Debian's chromium) into
# $TOME_CODE_SERVER_PREFIX (default $HOME/.cache/tome/code-server) by
# ../shared/scripts/install-code-server.sh when that checkout is there, else by the same steps
# below. Builds and packages the extension (.vsix with @vscode/vsce), installs it into a fresh
# code-server profile and runs editors/vscode/test/e2e/run.mjs (playwright-core + chromium) on a
# generated 200 MiB file: open with Tome, first lines, the status bar's final state (exact
# count, no "indexing"), Ctrl+End, Ctrl+G, type, Ctrl+Z, type, Ctrl+S with a byte-for-byte
# check of the saved file, a fast 100-key burst saved and checked the same way, three cursors
# (Shift+Alt+Down twice) typed at as one batch, saved, checked, and undone in one step, typing during a
# long search (on screen before it answers), Ctrl+F (count, next/previous, a match far
# into the file), the status bar item, a selection of lines off screen copied with Ctrl+C (read
# back from the clipboard), Tome: Follow End with lines appended to the file, and File: Revert
# File followed by Ctrl+Z (undoes the edit made before the save) and redo, and editor.fontSize,
# cursorStyle and renderWhitespace changed in settings.json (computed style in the webview,
# screenshot), Tome: Filter Lines… (a filter view of 1.86 M lines equal to grep -n at its start, middle
# and end, Enter to the source line, an edit through the view saved and compared with Python's, a nested
# filter against a pipeline of greps, Go to Time in the view, a bad regex), Reopen with Encoding
# from the encoding's status bar item (Windows 1252 -> Shift JIS, rows against Python's codecs)
# and a read-only .gz log. The .vsix is the platform package with the binary (TOME_BIN) in it, and code-server runs with no `tome` on PATH
# and no tome.serverPath nor editor association: big.log opens with Tome through Quick Open
# because it is over tome.threshold, so does a 60 MiB file clicked in the explorer, a small file
# stays in VS Code's editor, and VS Code's large-file prompt must not be shown.
# Screenshots/logs go to a temp artifacts dir (its path is printed). About 15 s once installed.
# Env: TOME_BIN (default target/release/tome, built if missing), TOME_CODE_SERVER_PREFIX,
# TOME_E2E_SIZE (default 200M), TOME_E2E_SETTINGS (JSON added to the user settings), CHROMIUM
# (default /usr/bin/chromium).
# Prints "N passed, M failed" last; exits non-zero on failure.
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
work=$(mktemp -d "${TMPDIR:-/tmp}/tome-vscode-e2e-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
TOME_BIN=$bin npm run -s package -- --out "$work/tome.vsix" >/dev/null || fail "packaging failed"
echo "-- built and packaged ($((SECONDS - t)) s)"

echo "== e2e test in code-server (${TOME_E2E_SIZE:-200M} file)"
CODE_SERVER=$code_server VSIX=$work/tome.vsix TOME_BIN=$bin CHROMIUM=${CHROMIUM:-/usr/bin/chromium} \
  TOME_E2E_SIZE=${TOME_E2E_SIZE:-200M} timeout 600 node test/e2e/run.mjs
rc=$?
[ $rc -eq 124 ] && fail "e2e test timed out"
exit $rc
