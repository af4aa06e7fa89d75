#!/bin/bash
# `:%s/WARN/WARNING/g` (about 1.1 million matches per GiB) on a generated file: plain Neovim
# against Neovim with Tome, load + :%s + :w, 3 runs each (scripts/bench-nvim-substitute.py says
# what is measured). Results are in docs/benchmarks.md ("`:%s` in Neovim: Tome against plain").
# Usage: scripts/bench-nvim-substitute.sh [SIZE] [more options of the .py]   (default 1G)
# Finds Neovim like scripts/test-nvim.sh ($TOME_NVIM_PREFIX, default ~/.cache/tome/nvim) and
# uses target/release/tome (built if missing). Needs ~3 sizes free in $TMPDIR and, at 1 GiB,
# ~2 GiB of RAM for plain Neovim.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
prefix=${TOME_NVIM_PREFIX:-$HOME/.cache/tome/nvim}
nvim=$prefix/bin/nvim
if [ ! -x "$nvim" ]; then
  nvim=$(command -v nvim) || { echo "no Neovim: run scripts/test-nvim.sh once to install it"; exit 1; }
fi
bin=$root/target/release/tome
if [ ! -x "$bin" ]; then
  (cd "$root" && cargo build --release -p tome) || exit 1
fi
size=${1:-1G}
shift || true
"$nvim" --version | head -n 1
exec python3 "$root/scripts/bench-nvim-substitute.py" "$nvim" "$bin" --size "$size" "$@"
