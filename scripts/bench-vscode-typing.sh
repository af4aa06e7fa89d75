#!/bin/bash
# The typing benchmark (kept for its old name): scripts/bench-vscode.sh typing.
exec "$(dirname "$0")/bench-vscode.sh" typing "$@"
