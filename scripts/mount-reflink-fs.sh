#!/usr/bin/env bash
# Mounts a small XFS filesystem (reflinks on) from a loop image and prints its mount point, for
# the tests of reflink snapshots (TOME_REFLINK_DIR). Needs root and loop devices; installs
# xfsprogs with apt when mkfs.xfs is missing. Exits non-zero, printing why on stderr, where it
# cannot; the tests then skip what needs it. Reuses a mount made earlier. TOME_REFLINK_SIZE sets
# the image size (default 3G; the 4 GiB save benchmark needs 14G).
set -euo pipefail
mnt=${TOME_REFLINK_MNT:-/tmp/tome-reflink}
image=${TOME_REFLINK_IMAGE:-/tmp/tome-reflink.img}
if mountpoint -q "$mnt" 2>/dev/null; then echo "$mnt"; exit 0; fi
[ "$(id -u)" = 0 ] || { echo "not root: cannot mount a loop filesystem" >&2; exit 1; }
if ! command -v mkfs.xfs >/dev/null; then
    { apt-get install -y -q xfsprogs || { apt-get update -q && apt-get install -y -q xfsprogs; }; } >&2 \
        || { echo "cannot install xfsprogs" >&2; exit 1; }
fi
rm -f "$image"
truncate -s "${TOME_REFLINK_SIZE:-3G}" "$image"
mkfs.xfs -q -f -m reflink=1 "$image" >&2
mkdir -p "$mnt"
mount -o loop "$image" "$mnt" >&2 || { echo "cannot mount a loop device here" >&2; rm -f "$image"; exit 1; }
echo "$mnt"
