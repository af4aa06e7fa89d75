#!/usr/bin/env bash
# Scripted benchmark against real peers (wc -l, rg -c, cp, ropey) on a generated file.
# Usage: scripts/bench-peers.sh [SIZE] [DIR]   (defaults: 4G, ./bench-data; the file is kept for
# reuse, delete DIR when done). Needs ripgrep (apt-get install ripgrep).
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-4G}
dir=${2:-bench-data}
command -v rg >/dev/null || { echo "install ripgrep first (apt-get install ripgrep)"; exit 1; }
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r), $(lscpu | sed -n 's/^Model name: *//p')"
echo "filesystem of $dir: $(df -T "$(dirname "$dir/x")" 2>/dev/null | awk 'NR==2{print $2}' || true)"
cargo run --release -q -p tome-core --example peers -- "$size" "$dir"
