#!/usr/bin/env bash
# The whole test suite: what `just test` and CI run. Builds the release binary (the editor and
# end-to-end tests drive it) and optimised test binaries (the tests generate and edit files of
# hundreds of MiB), runs every crate's tests, then the Neovim plugin's tests against the real
# server (scripts/test-nvim.sh installs Neovim, tmux and luacheck if they are missing), files on
# another host over a real sshd on 127.0.0.1 (scripts/test-nvim-remote.sh), the Python
# client's tests against the same binary (scripts/test-python.sh: pytest in a venv it makes), the
# VS Code extension's unit and browser tests (scripts/test-vscode.sh: npm, Debian's chromium),
# and its end-to-end test in real VS Code (scripts/test-vscode-e2e.sh: installs code-server
# 4.100.3 from npm on first use, then takes about 15 s).
set -euo pipefail
cd "$(dirname "$0")/.."
# A test build: its fault hooks (tome_core::fault: aborted saves, slow journal syncs) are what
# the crash tests use. `cargo build --release -p tome` builds the same binary without them.
# Each stage prints how long it took (CI must stay well inside its time limit: see README).
stage() {
  local start=$SECONDS
  "$@"
  echo "== stage done in $((SECONDS - start)) s: $*" >&2
}
stage cargo build --release --locked -p tome --features fault-injection
# The end-to-end tests (tests/) drive this release binary; without TOME_BIN they would build a
# test-profile one of their own (what a plain `cargo test` in a fresh clone does).
TOME_BIN="$PWD/target/release/tome" stage cargo test --workspace --locked
TOME_BIN="$PWD/target/release/tome" stage ./scripts/test-python.sh
stage ./scripts/test-nvim.sh
stage ./scripts/test-nvim-diff.sh
stage ./scripts/test-nvim-remote.sh
stage ./scripts/test-vscode.sh
stage ./scripts/test-vscode-e2e.sh
stage ./scripts/test-vscode-diff.sh
echo "== all tests passed in $SECONDS s" >&2
