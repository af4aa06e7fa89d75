#!/usr/bin/env bash
# Full filter view of a generated file vs `rg -n PATTERN FILE > /dev/null`, same run.
# Usage: scripts/bench-filter.sh [SIZE (default 4G)] [RUNS (default 5)]
# Builds the release binary, generates the file in $BENCH_DIR (default /tmp/tome-bench-filter;
# kept for the next run, never committed), runs scripts/bench-filter.py for a rare needle, a
# frequent word, two regexes (one without a literal prefix), case-insensitive, whole word and
# inverted.
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
bench() { python3 "$root/scripts/bench-filter.py" "$bin" "$file" "$@"; }
bench "$needle" "$runs"
bench ERROR "$runs"
bench 'status=5[0-9]{2}' "$runs" --regex
bench '[A-Za-z]{30}' "$runs" --regex
bench error "$runs" --ignore-case
bench ERROR "$runs" --word
bench ERROR "$runs" --invert
