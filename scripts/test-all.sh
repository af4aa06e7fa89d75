#!/usr/bin/env bash
# The whole test suite: what `just test` and CI run. Builds optimised test binaries (the tests
# generate and edit files of hundreds of MiB) and runs every crate's tests.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p tome
cargo test --workspace --locked
