#!/usr/bin/env bash
# A throw-away OpenSSH server on 127.0.0.1 for the remote-file tests and benchmarks
# (|tome-remote|): `scripts/sshd-loopback.sh DIR` makes a host key, a user key and a config in
# DIR, starts `sshd -f DIR/sshd_config -D -p PORT` (a free port) as the current user, waits until
# it accepts a login, and prints `PORT KEY PID` on one line. DIR/ssh-args holds the client
# options, one a line. Exits non-zero with "skipped: why" on stderr when sshd cannot run
# (not installed and not installable, not allowed to run here); kill PID to stop it.
set -uo pipefail
dir=${1:?usage: sshd-loopback.sh DIR}
mkdir -p "$dir" && chmod 700 "$dir"
skip() { echo "skipped: $*" >&2; exit 3; }
sshd=/usr/sbin/sshd
if [ ! -x "$sshd" ]; then
  { apt-get install -y -q openssh-server || { apt-get update -q && apt-get install -y -q openssh-server; }; } >/dev/null 2>&1
  [ -x "$sshd" ] || skip "/usr/sbin/sshd is missing and openssh-server could not be installed"
fi
command -v ssh >/dev/null || skip "no ssh client (openssh-client)"
ssh-keygen -q -t ed25519 -N '' -f "$dir/host_key" </dev/null >/dev/null || skip "ssh-keygen failed"
ssh-keygen -q -t ed25519 -N '' -f "$dir/user_key" </dev/null >/dev/null || skip "ssh-keygen failed"
cp "$dir/user_key.pub" "$dir/authorized_keys" && chmod 600 "$dir/authorized_keys"
# (privilege separation needs this directory, which a container may lack)
[ "$(id -u)" -eq 0 ] && mkdir -p /run/sshd && chmod 755 /run/sshd
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$dir/sshd_config" <<CONF
ListenAddress 127.0.0.1
HostKey $dir/host_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowUsers $(id -un)
LogLevel ERROR
CONF
"$sshd" -t -f "$dir/sshd_config" 2>"$dir/sshd.log" || skip "sshd refuses the config: $(tail -n 2 "$dir/sshd.log")"
"$sshd" -f "$dir/sshd_config" -D -p "$port" -E "$dir/sshd.log" </dev/null >/dev/null 2>&1 &
pid=$!
printf '%s\n' -F /dev/null -i "$dir/user_key" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
  -o BatchMode=yes -o LogLevel=ERROR -p "$port" > "$dir/ssh-args"
mapfile -t args < "$dir/ssh-args"
for _ in $(seq 50); do
  if ssh "${args[@]}" "$(id -un)@127.0.0.1" true 2>"$dir/ssh.err"; then
    echo "$port $dir/user_key $pid"
    exit 0
  fi
  kill -0 "$pid" 2>/dev/null || skip "sshd exited: $(tail -n 3 "$dir/sshd.log")"
  sleep 0.1
done
kill "$pid" 2>/dev/null
skip "no login through sshd on 127.0.0.1:$port: $(tail -n 2 "$dir/ssh.err") $(tail -n 2 "$dir/sshd.log")"
