#!/bin/bash
# The Neovim plugin's differential test (scripts/test-nvim-diff.sh) on a 1 GiB generated file
# (issue 13): every case typed into plain `nvim -u NONE` (the oracle, on its own 1 GiB copy)
# and into Neovim with Tome; the Tome side's Neovim must stay under 150 MiB resident
# (DIFF_RSS_LIMIT_MIB, sampled every 100 ms) for each case to pass. Not run in CI: about an
# hour on 2 cores, and plain Neovim needs up to ~7 GiB of RAM (a whole-file :%s) and the disk
# 3 GiB free in $TMPDIR. Results are in docs/benchmarks.md ("The differential test at 1 GiB").
# Usage: scripts/test-nvim-diff-1g.sh [CASE_GLOB]   (DIFF_SIZE=4G etc. to change the size)
set -uo pipefail
export DIFF_SIZE=${DIFF_SIZE:-1G}
exec "$(dirname "$0")/test-nvim-diff.sh" "$@"
