# Tome's recipes. `just --list` shows them.

# Build the `tome` binary (release) and the VS Code extension's .vsix (editors/vscode/tome.vsix),
# a package for this platform that carries that binary (`TOME_BIN=path just build` bundles another).
build:
    cargo build --release -p tome
    cd editors/vscode && npm ci && npm run build && TOME_BIN="${TOME_BIN:-../../target/release/tome}" npm run package -- -o tome.vsix

# The whole test suite (what CI runs).
test:
    ./scripts/test-all.sh

# Criterion benchmarks plus the scripted comparison with real peers (wc -l, rg, cp, ropey), and
# `:%s` on a 1 GiB file in Neovim with Tome against plain Neovim; counting, pages and saves
# against rg and cp (saves on ext4 and, where a loop device can be mounted, on XFS with
# reflinks); the first screen in Neovim against plain Neovim (docs/benchmarks.md).
bench size="4G":
    cargo bench -p tome-core
    ./scripts/bench-peers.sh {{size}}
    ./scripts/bench-nvim-substitute.sh 1G
    cargo build --release -q -p tome-core --example index_speed
    ./scripts/bench-cold.py target/release/examples/index_speed "$(ls -S bench-data/bench-*.log | head -n 1)" 5
    cargo build --release -q -p tome
    ./scripts/bench-count.py target/release/tome "$(ls -S bench-data/bench-*.log | head -n 1)" 5
    ./scripts/bench-count.py --all target/release/tome "$(ls -S bench-data/bench-*.log | head -n 1)" 3
    ./scripts/bench-save.py target/release/tome target/release/tome "$(ls -S bench-data/bench-*.log | head -n 1)" bench-data 3
    ./scripts/bench-save-xfs.sh target/release/tome "$(ls -S bench-data/bench-*.log | head -n 1)" 3
    ./scripts/bench-open.py target/release/tome "$(ls -S bench-data/bench-*.log | head -n 1)" 20
    ./scripts/bench-nvim-first-screen.py --file "$(ls -S bench-data/bench-*.log | head -n 1)" --runs 15

# Formatting and lints, as CI would want them (Rust, Lua, TypeScript).
lint:
    cargo fmt --all -- --check
    cargo clippy --all-targets -- -D warnings
    cd editors/nvim && luacheck .
    cd editors/vscode && npm run lint

# The headless demo on a generated file.
demo size="1G":
    cargo run --release -p tome -- demo --size {{size}}
