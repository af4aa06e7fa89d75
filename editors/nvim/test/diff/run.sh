#!/bin/bash
# Differential test against plain Neovim: see run.py for what it does and the case format.
# Usage: run.sh NVIM TOME_BIN [CASE_GLOB]
exec python3 "$(dirname "$0")/run.py" "$@"
