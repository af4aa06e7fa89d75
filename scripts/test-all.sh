#!/usr/bin/env bash
# The whole test suite: what `just test` and CI run. Builds the release binary (the editor and
# end-to-end tests drive it) and optimised test binaries (the tests generate and edit files of
# hundreds of MiB), runs every crate's tests, then the Neovim plugin's tests against the real
# server (scripts/test-nvim.sh installs Neovim, tmux and luacheck if they are missing), the
# VS Code extension's unit and browser tests (scripts/test-vscode.sh: npm, Debian's chromium),
# and its end-to-end test in real VS Code (scripts/test-vscode-e2e.sh: installs code-server
# 4.100.3 from npm on first use, then takes about 15 s).
set -euo pipefail
cd "$(dirname "$0")/.."
# A test build: its fault hooks (tome_core::fault: aborted saves, slow journal syncs) are what
# the crash tests use. `cargo build --release -p tome` builds the same binary without them.
cargo build --release --locked -p tome --features fault-injection
# The end-to-end tests (tests/) drive this release binary; without TOME_BIN they would build a
# test-profile one of their own (what a plain `cargo test` in a fresh clone does).
TOME_BIN="$PWD/target/release/tome" cargo test --workspace --locked
./scripts/test-nvim.sh
./scripts/test-nvim-diff.sh
./scripts/test-vscode.sh
./scripts/test-vscode-e2e.sh
./scripts/test-vscode-diff.sh
