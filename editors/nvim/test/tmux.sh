#!/bin/bash
# What a person sees: Neovim in a real terminal (tmux), keys typed, the screen read back with
# capture-pane. Usage: test/tmux.sh NVIM TOME_BIN FILE   (FILE: from `tome gen`, seq=N on line N+1)
set -u
nvim=$1 bin=$2 file=$3
here=$(cd "$(dirname "$0")" && pwd)
sock=tome-test-$$
sess=tome
passed=0 failed=0
total=$(wc -l < "$file")  # lines ending in a break; the generated file ends with one
tm() { tmux -L "$sock" "$@"; }
screen() { tm capture-pane -p -t "$sess"; }
# expect NAME REGEX: wait up to 10 s for the screen to match
expect() {
  local name=$1 re=$2 i
  for i in $(seq 100); do
    if screen | grep -Eq -- "$re"; then
      passed=$((passed + 1)); echo "ok   tmux: $name"; return 0
    fi
    sleep 0.1
  done
  failed=$((failed + 1)); echo "FAIL tmux: $name: screen does not match /$re/:"; screen | sed 's/^/     | /'
  return 1
}
keys() { tm send-keys -t "$sess" "$@"; }
cleanup() { tm kill-server 2>/dev/null; }
trap cleanup EXIT

tm new-session -d -s "$sess" -x 120 -y 30 \
  "TOME_BIN='$bin' '$nvim' -i NONE -u '$here/minimal_init.lua' '$file'"
expect 'the first lines, with real numbers' '^ +1 .*seq=0 '
expect 'status line: line 1 of N, size' 'Tome: line 1 of .*200\.0 MiB'
keys G
fmt=$(echo "$total" | rev | sed -E 's/([0-9]{3})/\1,/g; s/,$//' | rev)
lastword=$(tail -n 1 "$file" | cut -c1-20)
expect 'G shows the last line with its real number' "^ *$total $lastword"
expect 'status line after G' "line ${fmt} of ${fmt}"
keys ':1000000' Enter
expect ':1000000 shows line 1000000' '^ *1000000 .*seq=999999 '
keys 50%
half=$(( (50 * total + 99) / 100 ))
expect '50% shows the middle line' "^ *$half .*seq=$((half - 1)) "
keys gg
expect 'gg goes back to the top' '^ +1 .*seq=0 '
for _ in $(seq 10); do keys C-f; done
expect 'Ctrl-F pages with real numbers' '^ *2[0-9][0-9] .*seq=2[0-9][0-9] '
keys '/seq=1500000 ' Enter
expect '/ search finds a line far away' '^ *1500001 .*seq=1500000 '
keys 0 i 'TMUX ' Escape
expect 'typed text shows on line 1500001' '^ *1500001 TMUX 2026'
expect 'dirty state in the status line' 'Tome: line 1,500,001 .*\[\+\]'
keys u
expect 'u undoes it through the server' '^ *1500001 2026.*seq=1500000 '
nf=$(grep -c 'seq=77777' "$file")
keys ':TomeFilter seq=77777' Enter
expect ':TomeFilter: matched lines with their source line numbers' '^ *77778 .*seq=77777 '
expect ':TomeFilter: its status line counts grep -c' "Tome filter: line 1 of $nf "
keys Enter
expect '<CR> in the filter goes to the source line' 'Tome: line 77,778 of'
keys ':qa!' Enter
sleep 0.3
echo "tmux: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
