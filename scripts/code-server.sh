# Sourced by scripts/test-vscode-e2e.sh and scripts/test-vscode-diff.sh: finds or installs
# code-server 4.100.3 (with ../shared/scripts/install-code-server.sh when that checkout is there,
# else by install_code_server below) and sets $code_server. Needs $root, $installer, $prefix and
# a `fail` function.

# The steps of ../shared/scripts/install-code-server.sh, for checkouts without it: code-server
# from npm, native modules built against the system's Node headers, ripgrep from Debian.
install_code_server() { # prefix; prints the code-server path last
  local prefix=$1
  if [ ! -x "$prefix/node_modules/.bin/code-server" ]; then
    apt-get update -qq >&2 &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        build-essential pkg-config libkrb5-dev libxkbfile-dev libsecret-1-dev libx11-dev ripgrep chromium >&2 || return 1
    # @vscode/ripgrep's postinstall downloads rg from the web: seed its cache with Debian's rg.
    export TMPDIR=${TMPDIR:-/tmp}
    mkdir -p "$TMPDIR/rgpkg" "$TMPDIR/vscode-ripgrep-cache-1.15.11"
    cp /usr/bin/rg "$TMPDIR/rgpkg/rg"
    tar czf "$TMPDIR/vscode-ripgrep-cache-1.15.11/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$TMPDIR/rgpkg" rg
    mkdir -p "$prefix" &&
      (cd "$prefix" && npm_config_nodedir=/usr npm_config_unsafe_perm=true npm_config_yes=true \
        npm install --no-audit --no-fund code-server@4.100.3 >&2) || return 1
  fi
  echo "$prefix/node_modules/.bin/code-server"
}

code_server_ready() {
  t=$SECONDS
  echo "== code-server ($prefix)"
  if [ -x "$installer" ]; then
    code_server=$("$installer" "$prefix" | tail -n 1) || fail "installing code-server failed"
  else
    code_server=$(install_code_server "$prefix" | tail -n 1) || fail "installing code-server failed"
  fi
  [ -x "$code_server" ] || fail "code-server not found at $code_server"
}
