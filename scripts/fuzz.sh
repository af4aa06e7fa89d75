#!/usr/bin/env bash
# Runs every fuzz target of fuzz/ (see fuzz/README.md) for SECONDS each (default 60), one after
# the other, then prints a summary; exits non-zero if any target found a crash (its input is
# in fuzz/artifacts/<target>/, its log in fuzz/logs/<target>.log).
#
# Needs cargo-fuzz (installed here if missing: a few minutes) and a toolchain that accepts
# `-Zsanitizer`: nightly, or stable with RUSTC_BOOTSTRAP=1, which this script sets. Corpora
# accumulate in fuzz/corpus/<target>/ (not committed); the first run seeds them.
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds=${1:-60}
shift || true
all=(frame_reader rpc_dispatch piece_tree_vs_ropey journal_reader search_vs_regex)
if [ $# -gt 0 ]; then targets=("$@"); else targets=("${all[@]}"); fi

export RUSTC_BOOTSTRAP=1
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-1}

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

# libFuzzer options per target.
options() {
    case $1 in
        # Each input runs a whole server session (~10 ms): leak checks after every input would
        # cost more than the session (and threads the session leaves behind look like leaks).
        # Inputs are structured (`arbitrary`): start at full length instead of growing slowly.
        rpc_dispatch) echo "-detect_leaks=0 -len_control=0 -timeout=60" ;;
        piece_tree_vs_ropey) echo "-len_control=0 -max_len=2048 -timeout=30" ;;
        search_vs_regex) echo "-len_control=0 -max_len=2048 -timeout=30" ;;
        # A length field must never turn into an allocation: any single one over 16 MiB fails.
        journal_reader) echo "-malloc_limit_mb=16" ;;
        frame_reader) echo "" ;;
        *) echo "unknown target $1" >&2; exit 2 ;;
    esac
}

# Seeds: a few valid inputs, written once (the fuzzer finds the rest).
seed() {
    local dir=corpus/$1
    [ -d "$dir" ] && [ -n "$(ls -A "$dir")" ] && return 0
    mkdir -p "$dir"
    case $1 in
        frame_reader)
            # Mode byte: 0 = raw stream, 1 = bodies to frame (0xFF-separated), 2 = garbage
            # (up to 0xFE) then bodies.
            printf '\000Content-Length: 2\r\n\r\n{}Content-Length: 3\r\n\r\n[1]' >"$dir/raw"
            printf '\001{"jsonrpc":"2.0","id":1,"method":"initialize"}\377{}' >"$dir/framed"
            printf '\002Content-Length: x\r\n\r\nabcdef\376{"a":1}\377{"b":2}' >"$dir/resync"
            ;;
        journal_reader)
            # Mode byte: 1 = a journal built from the input, 2 = the library's own journal,
            # damaged as the input says.
            printf '\001' >"$dir/built"
            printf '\002' >"$dir/real"
            ;;
        *) printf '\000\000\000\000' >"$dir/empty" ;;
    esac
}

echo "== building (cargo fuzz build)"
build_start=$SECONDS
cargo fuzz build
echo "built in $((SECONDS - build_start)) s"

mkdir -p logs
failed=()
summary=()
for t in "${targets[@]}"; do
    seed "$t"
    echo "== $t: ${seconds} s"
    # shellcheck disable=SC2046 # options are words
    if cargo fuzz run "$t" -- -max_total_time="$seconds" -print_final_stats=1 $(options "$t") \
        >"logs/$t.log" 2>&1; then
        status=ok
    else
        status=FAILED
        failed+=("$t")
    fi
    done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "logs/$t.log" | tail -1 || true)
    execs=$(grep -E '^stat::number_of_executed_units' "logs/$t.log" | awk '{print $2}' || true)
    summary+=("$(printf '%-20s %-7s execs %-9s %s' "$t" "$status" "${execs:-?}" \
        "$(echo "$done_line" | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [^ ]+' || true)")")
    if [ "$status" = FAILED ]; then
        grep -E "panicked at|Test unit written|ERROR:|SUMMARY:" "logs/$t.log" | head -5 || true
    fi
done

echo
echo "== summary (${seconds} s per target; logs in fuzz/logs/)"
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
    echo "crashes in: ${failed[*]} (inputs in fuzz/artifacts/; reproduce with" \
        "RUSTC_BOOTSTRAP=1 cargo fuzz run <target> <input>)"
    exit 1
fi
echo "no crash"
