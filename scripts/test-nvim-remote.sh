#!/usr/bin/env bash
# Files on other hosts from Neovim (|tome-remote|): a real OpenSSH server on 127.0.0.1
# (scripts/sshd-loopback.sh: throw-away keys, a free port), headless Neovim opening
# tome://USER@127.0.0.1:PORT//…/big.log (a generated file, TOME_NVIM_REMOTE_SIZE, default
# 300M) through `ssh … tome serve`, and editors/nvim/test/remote.lua: scroll, edit, search,
# filter, save (cmp), follow, ssh killed mid-session, reconnect and recover. First, without
# ssh, scripts/check-dropped-client.py: the server's side of a dropped connection (both pipes
# closed with an unsaved edit, and during a save). Prints "N passed, M failed" last; when sshd
# cannot run it says "skipped: why" loudly and exits 3.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
plugin=$root/editors/nvim
nvim=${TOME_NVIM:-${TOME_NVIM_PREFIX:-$HOME/.cache/tome/nvim}/bin/nvim}
bin=${TOME_BIN:-$root/target/release/tome}
size=${TOME_NVIM_REMOTE_SIZE:-300M}
[ -x "$nvim" ] || { echo "no Neovim at $nvim (scripts/test-nvim.sh installs it)"; echo "0 passed, 1 failed"; exit 1; }
[ -x "$bin" ] || { echo "no tome binary at $bin (TOME_BIN)"; echo "0 passed, 1 failed"; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/tome-remote.XXXXXX")
sshd_pid=
cleanup() { [ -n "$sshd_pid" ] && kill "$sshd_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
echo "== a client that disappears (the server's side)"
python3 "$root/scripts/check-dropped-client.py" "$bin" "$work/dropped" 2>"$work/dropped.err" | tee "$work/dropped.log"
grep -q ' 0 failed' "$work/dropped.log" || { tail -n 20 "$work/dropped.err"; drop_failed=1; }
echo "== Neovim over ssh"
if ! read -r port key sshd_pid < <("$root/scripts/sshd-loopback.sh" "$work/sshd" 2>"$work/sshd.err"); then
  echo "=================================================================="
  echo "REMOTE TESTS $(tail -n 1 "$work/sshd.err")"
  echo "=================================================================="
  exit "$([ -n "${drop_failed:-}" ] && echo 1 || echo 3)"
fi
mapfile -t ssh_args < "$work/sshd/ssh-args"
user=$(id -un)
mkdir -p "$work/remote-state" "$work/local-state" "$work/files"
"$bin" gen "$work/files/big.log" --size "$size" >/dev/null || { echo "0 passed, 1 failed"; exit 1; }
"$bin" gen "$work/files/local.log" --size 2M >/dev/null || { echo "0 passed, 1 failed"; exit 1; }
# The command template: ssh with the test's options (the URL's port adds -p), then `tome serve`
# on the "remote" side with its own state directory (its journals: checked after the drop).
# shellcheck disable=SC2016
command=$(python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' ssh "${ssh_args[@]:0:${#ssh_args[@]}-2}" \
  '{host}' env "TOME_STATE_DIR=$work/remote-state" TOME_INDEX_CACHE_SIZE=0 "$bin" serve)
log=$work/remote.log
: > "$log"
(cd "$work" && TOME_BIN=$bin TOME_STATE_DIR=$work/local-state TOME_TEST_LOG=$log \
  TOME_REMOTE_URL="tome://$user@127.0.0.1:$port/$work/files/big.log" TOME_REMOTE_COMMAND="$command" \
  TOME_REMOTE_FILE=$work/files/big.log TOME_REMOTE_STATE=$work/remote-state TOME_LOCAL_FILE=$work/files/local.log \
  timeout 600 "$nvim" --headless -i NONE -u "$plugin/test/minimal_init.lua" -c "luafile $plugin/test/remote.lua" \
  > "$work/nvim.out" 2>&1)
cat "$log"
if ! grep -q ' passed, ' "$log"; then
  echo "nvim output:"; tail -c 3000 "$work/nvim.out"; echo "0 passed, 1 failed"; exit 1
fi
# (both suites' counts in one line; a suite that did not finish counts as a failure)
count() { grep -aoE "[0-9]+ $2" "$1" | tail -n 1 | grep -oE '[0-9]+' || echo "${3:-0}"; }
passed=$(( $(count "$work/dropped.log" passed) + $(count "$log" passed) ))
failed=$(( $(count "$work/dropped.log" failed 1) + $(count "$log" failed 1) ))
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
