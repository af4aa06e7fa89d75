#!/usr/bin/env bash
# The long server soak of issue 12 (tests/tests/server_soak.rs): 20 documents up to 1 GiB, a
# random client and a writer changing four of the files, for 30 minutes, against the release
# binary. CI runs the same test for 2 minutes with documents up to 64 MiB.
#
#   scripts/soak-server.sh [SECONDS [MAX_SIZE]]    (defaults: 1800 1G)
#
# Needs about 3 × MAX_SIZE of free disk (the documents, and saves' temporary copies) and of
# memory for the test's models. Prints the seed (TOME_SOAK_SEED=... replays a run), the
# server's fds/threads/memory every 10 s and the latency of each method; docs/benchmarks.md
# ("Server soak") records a run.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-1800}"
max="${2:-1G}"
cargo build --release --locked -p tome --features fault-injection
TOME_BIN="$PWD/target/release/tome" TOME_SOAK_SECS="$secs" TOME_SOAK_MAX_SIZE="$max" \
    cargo test --release --locked -p tome-e2e --test server_soak -- --nocapture
