#!/usr/bin/env bash
# The save benchmark (scripts/bench-save.py, after the index, every case) on XFS with reflinks,
# where the rename save clones the unchanged prefix (issue 16 item 1), for `just bench`: mounts
# a loop image sized for the file (three copies and some room) with scripts/mount-reflink-fs.sh
# at its own mount point, copies FILE there (the benchmark's source must be on the filesystem it
# saves to), runs the benchmark, then unmounts and removes the image. Needs root and loop
# devices; where they are missing it says so and exits 0 (the ext4 figures are still taken).
# Usage: scripts/bench-save-xfs.sh TOME_BIN FILE [RUNS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$1 file=$2 runs=${3:-3}
size=$(stat -c %s "$file")
export TOME_REFLINK_MNT=/tmp/tome-bench-xfs
export TOME_REFLINK_IMAGE=${TOME_BENCH_XFS_IMAGE:-$root/bench-data/xfs.img}
export TOME_REFLINK_SIZE=$(( size * 3 / 1073741824 + 2 ))G
mkdir -p "$(dirname "$TOME_REFLINK_IMAGE")"
if ! mnt=$("$root/scripts/mount-reflink-fs.sh"); then
    echo "bench-save-xfs: no XFS loop mount here; the XFS save benchmark is skipped" >&2
    exit 0
fi
cleanup() { umount "$mnt" 2>/dev/null || true; rm -f "$TOME_REFLINK_IMAGE"; }
trap cleanup EXIT
echo "XFS (reflink) loop image of $TOME_REFLINK_SIZE at $mnt"
cp --reflink=never "$file" "$mnt/src.log"
python3 "$root/scripts/bench-save.py" --after-index "$bin" "$bin" "$mnt/src.log" "$mnt" "$runs"
