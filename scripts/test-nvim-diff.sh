#!/bin/bash
# The Neovim plugin's differential test (editors/nvim/test/diff): keystroke scripts typed into
# plain `nvim -u NONE` and into Neovim with Tome (tmux), each on its own copy of a generated
# 236 246-line file; after :wq the two files must be byte-identical, and the cursor and chosen
# registers equal. Known failures are listed in editors/nvim/test/diff/xfail.txt.
# Usage: scripts/test-nvim-diff.sh [CASE_GLOB]   (e.g. '1*', '*undo*')
# Finds Neovim like scripts/test-nvim.sh ($TOME_NVIM_PREFIX, default ~/.cache/tome/nvim; run
# that script once to install it) and uses $TOME_BIN, else target/release/tome (built if missing).
# Prints "N passed, M failed, K expected failures" last; exits non-zero on failure.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
prefix=${TOME_NVIM_PREFIX:-$HOME/.cache/tome/nvim}
nvim=$prefix/bin/nvim
if [ ! -x "$nvim" ]; then
  nvim=$(command -v nvim) || { echo "no Neovim: run scripts/test-nvim.sh once to install it"; exit 1; }
fi
command -v tmux >/dev/null || { echo "tmux is not installed (apt-get install tmux)"; exit 1; }
bin=${TOME_BIN:-$root/target/release/tome} # TOME_BIN: test another build
if [ ! -x "$bin" ]; then
  (cd "$root" && cargo build --release -p tome) || exit 1
fi
"$nvim" --version | head -n 1 >&2
exec python3 "$root/editors/nvim/test/diff/run.py" "$nvim" "$bin" "${1:-*}"
