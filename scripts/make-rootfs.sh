#!/usr/bin/env bash
# make-rootfs.sh DIR — builds the minimal busybox rootfs shared by the demo and the tests.
#
# DIR/bin/busybox (copied from the static /bin/busybox) plus a relative symlink per applet,
# /etc/passwd and /etc/group with known users (root, tester 1000, nobody 65534) and groups
# (root, tty 5, tester 1000, extra 2000 with member tester), and the usual mount points.
# Idempotent and fast: DIR.stamp records the busybox checksum and this script's checksum;
# when both match and the tree is complete nothing is done. A rebuild happens in a sibling
# temp dir and is swapped in, so a half-built rootfs is never seen.
set -euo pipefail

if [[ $# -ne 1 || -z "$1" ]]; then
  echo "usage: $0 DIR" >&2
  exit 2
fi
BUSYBOX=${BUSYBOX:-/bin/busybox}
mkdir -p "$(dirname -- "$1")"
DIR=$(cd "$(dirname -- "$1")" && pwd)/$(basename -- "$1")
STAMP="$DIR.stamp"

if [[ ! -x "$BUSYBOX" ]]; then
  echo "make-rootfs: $BUSYBOX not found; install busybox-static (make deps)" >&2
  exit 1
fi
if ! file_out=$(LC_ALL=C "$BUSYBOX" --list 2>/dev/null) || [[ -z "$file_out" ]]; then
  echo "make-rootfs: $BUSYBOX --list failed" >&2
  exit 1
fi
# A dynamically linked busybox would need the host's libc inside the rootfs.
if command -v ldd >/dev/null 2>&1 && ldd "$BUSYBOX" 2>&1 | grep -q '=>'; then
  echo "make-rootfs: $BUSYBOX is dynamically linked; install busybox-static" >&2
  exit 1
fi

want_stamp="busybox $(sha256sum <"$BUSYBOX" | cut -d' ' -f1) script $(sha256sum <"$0" | cut -d' ' -f1)"
complete() {
  [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want_stamp" ]] &&
    [[ -x "$DIR/bin/busybox" && -L "$DIR/bin/sh" && -f "$DIR/etc/passwd" &&
       -f "$DIR/etc/group" && -d "$DIR/home/tester" && -d "$DIR/proc" ]]
}
if complete; then
  exit 0
fi

# Never delete through a mount that a leaked container left inside the old rootfs.
if [[ -e "$DIR" ]] && awk -v d="$DIR" '$5 == d || index($5, d "/") == 1 { found = 1 } END { exit !found }' /proc/self/mountinfo; then
  echo "make-rootfs: something is mounted under $DIR; unmount it first" >&2
  exit 1
fi

NEW=$(mktemp -d "$DIR.new.XXXXXX")
trap 'rm -rf --one-file-system -- "$NEW"' EXIT
chmod 0755 "$NEW"

mkdir -p "$NEW"/{bin,etc,proc,sys,dev,tmp,root,home/tester,run,var/tmp,usr}
chmod 1777 "$NEW/tmp" "$NEW/var/tmp"
chmod 0700 "$NEW/root"
ln -s ../bin "$NEW/usr/bin"
ln -s ../bin "$NEW/usr/sbin"
ln -s bin "$NEW/sbin"

install -m 0755 "$BUSYBOX" "$NEW/bin/busybox"
while IFS= read -r applet; do
  [[ -n "$applet" && "$applet" != busybox && "$applet" != */* ]] || continue
  ln -sf busybox "$NEW/bin/$applet"
done <<<"$file_out"

cat >"$NEW/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
tester:x:1000:1000:tester:/home/tester:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat >"$NEW/etc/group" <<'GROUP'
root:x:0:
tty:x:5:
tester:x:1000:
extra:x:2000:tester
nogroup:x:65534:
GROUP
chmod 0644 "$NEW/etc/passwd" "$NEW/etc/group"
: >"$NEW/etc/hostname"
if [[ $(id -u) -eq 0 ]]; then
  chown 1000:1000 "$NEW/home/tester"
else
  echo "make-rootfs: not root; /home/tester stays owned by $(id -un)" >&2
fi

if [[ -e "$DIR" ]]; then
  rm -rf --one-file-system -- "$DIR"
fi
mv -- "$NEW" "$DIR"
trap - EXIT
printf '%s\n' "$want_stamp" >"$STAMP"
echo "make-rootfs: built $DIR ($(ls "$DIR/bin" | wc -l) entries in bin)"
