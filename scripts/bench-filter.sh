#!/usr/bin/env bash
# Full filter view of a generated file vs `rg -n PATTERN FILE > /dev/null`, same run.
# Usage: scripts/bench-filter.sh [SIZE (default 4G)] [RUNS (default 5)]
# Builds the release binary, generates the file in $BENCH_DIR (default /tmp/tome-bench-filter;
# kept for the next run, never committed), runs scripts/bench-filter.py for a rare needle and
# for a frequent word.
set -euo pipefail
size=${1:-4G}
runs=${2:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${BENCH_DIR:-/tmp/tome-bench-filter}
mkdir -p "$dir"
cargo build --release -p tome --manifest-path "$root/Cargo.toml"
bin=${TOME_BIN:-${CARGO_TARGET_DIR:-$root/target}/release/tome}
file="$dir/gen-$size.log"
needle='NEEDLE-7f3a#'
[ -f "$file" ] || "$bin" gen "$file" --size "$size" --needle "$needle" --needle-every 100000
echo "machine: $(nproc) CPU ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem:/{print $2}') GiB"
python3 "$root/scripts/bench-filter.py" "$bin" "$file" "$needle" "$runs"
python3 "$root/scripts/bench-filter.py" "$bin" "$file" "ERROR" "$runs"
