#!/bin/bash
# Benchmarks of the VS Code extension in code-server, against VS Code's own editor in the same run:
#   scripts/bench-vscode.sh typing   key-to-screen for single keys and the time for a 100-character
#                                    burst to appear, on copies of one small file
#                                    (editors/vscode/test/bench/typing.mjs says how it measures)
#   scripts/bench-vscode.sh open     from Enter in Quick Open to the first rows, VS Code's editor on
#                                    a small file, Tome's on the same and on a big one (BIG=FILE,
#                                    else SIZE, default 1G, generated) (test/bench/open.mjs)
# Builds and packages the extension like scripts/test-vscode-e2e.sh and uses the same
# code-server ($TOME_CODE_SERVER_PREFIX, default $HOME/.cache/tome/code-server; install it with
# ../shared/scripts/install-code-server.sh or by running the e2e script once).
# Env: TOME_BIN (default target/release/tome), CHROMIUM; typing: ROUNDS (3), SINGLES (20),
# BURSTS (3); open: RUNS (10), BIG, SIZE.
# On a shared machine, run it under a lock so browser runs do not overlap, e.g.
#   flock /work/locks/browser.lock nice -n 5 scripts/bench-vscode.sh typing
set -euo pipefail
bench=${1:-typing}
case $bench in typing | open) ;; *) echo "usage: $0 [typing|open]" >&2; exit 2 ;; esac
root=$(cd "$(dirname "$0")/.." && pwd)
ext=$root/editors/vscode
prefix=${TOME_CODE_SERVER_PREFIX:-$HOME/.cache/tome/code-server}
code_server=$prefix/node_modules/.bin/code-server
[ -x "$code_server" ] || { echo "code-server not found at $code_server (run scripts/test-vscode-e2e.sh once)" >&2; exit 1; }
bin=${TOME_BIN:-$root/target/release/tome}
[ -x "$bin" ] || (cd "$root" && cargo build --release -p tome)
cd "$ext"
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run -s build
work=$(mktemp -d "${TMPDIR:-/tmp}/tome-bench-$bench-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
TOME_BIN=$bin npm run -s package -- --out "$work/tome.vsix" >/dev/null # the platform .vsix carries the binary
echo "# $(date -u +%FT%TZ) $(nproc) cpus, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "# commit $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet HEAD -- editors/vscode/src || echo ' (with local changes)')"
CODE_SERVER=$code_server VSIX=$work/tome.vsix TOME_BIN=$bin CHROMIUM=${CHROMIUM:-/usr/bin/chromium} \
  timeout 900 node "test/bench/$bench.mjs"
