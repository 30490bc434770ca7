#!/usr/bin/env bash
# prepare.sh BUILD_DIR — prepares the guest assets for run-in-vm.sh in BUILD_DIR/vm:
#   vmlinux     the Debian kernel, uncompressed (an ELF QEMU boots directly via PVH: the
#               in-guest decompressor costs ~2 s per boot under TCG)
#   initrd.cpio busybox-static + the modules below + tests/vm/init (uncompressed, same reason)
#   stamp       what they were built from; a second run with the same inputs does nothing
#
# Kernel: Debian's linux-image-cloud-amd64 has no 9p at all (CONFIG_NET_9P is not set), so
# the generic flavour is used (9p, virtio-mmio, virtio-console and overlayfs as modules).
# The .deb is fetched with `apt-get download` and unpacked with `dpkg -x`: nothing is
# installed on the host. VM_KERNEL_PKG overrides the package (default: what
# linux-image-amd64 depends on).
set -euo pipefail

if [[ $# -ne 1 || -z "$1" ]]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
HERE=$(cd "$(dirname -- "$0")" && pwd)
mkdir -p "$1/vm"
OUT=$(cd "$1/vm" && pwd)
BUSYBOX=${BUSYBOX:-/bin/busybox}
# Loaded by init in this order after their dependencies (resolved below from the .ko files).
# virtio_blk: the guest's scratch disk, so block IO limits (io.max, io.weight) have a
# real device to apply to.
MODULES=(virtio_mmio virtio_console 9pnet_virtio 9p overlay virtio_blk)

die() { echo "vm-prepare: $*" >&2; exit 1; }
[[ -x "$BUSYBOX" ]] || die "$BUSYBOX not found; install busybox-static (make deps)"

# Inputs: the kernel package, busybox, this script and init. The package name is only
# looked up (apt-cache, ~1 s) when nothing is built yet or VM_KERNEL_PKG asks for another:
# a cached tree is reused as it is (rm -r BUILD_DIR/vm to pick up a newer kernel ABI).
inputs="busybox $(sha256sum <"$BUSYBOX" | cut -d' ' -f1)"
inputs+=" prepare $(cat "$0" "$HERE/init" | sha256sum | cut -d' ' -f1)"
if [[ -f "$OUT/stamp" && -s "$OUT/vmlinux" && -s "$OUT/initrd.cpio" ]] &&
   [[ "$(sed 1d "$OUT/stamp")" == "$inputs" ]] &&
   [[ -z "${VM_KERNEL_PKG:-}" || "$(head -n1 "$OUT/stamp")" == "kernel $VM_KERNEL_PKG" ]]; then
  exit 0
fi

if [[ -z "${VM_KERNEL_PKG:-}" ]]; then
  # "Depends: linux-image-6.1.0-NN-amd64": the metapackage names the current ABI.
  VM_KERNEL_PKG=$(apt-cache depends linux-image-amd64 2>/dev/null |
    awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
  [[ -n "$VM_KERNEL_PKG" ]] || die "apt-cache knows no linux-image-amd64 (run apt-get update)"
fi

WORK=$(mktemp -d "$OUT/work.XXXXXX")
trap 'rm -rf -- "$WORK"' EXIT

# The .deb is kept beside the assets so a rebuild (new busybox, edited init) needs no
# download; a kernel given by VM_KERNEL_PKG but not yet here is fetched.
deb=$(ls "$OUT/${VM_KERNEL_PKG}_"*.deb 2>/dev/null | head -n1 || true)
if [[ -z "$deb" ]]; then
  echo "vm-prepare: apt-get download $VM_KERNEL_PKG"
  # apt drops privileges to _apt for downloads; a directory it can write avoids a warning.
  # (as root apt would drop to _apt, which cannot write here: download as ourselves)
  (cd "$WORK" && apt-get download -q -o APT::Sandbox::User="$(id -un)" "$VM_KERNEL_PKG") || die "apt-get download $VM_KERNEL_PKG failed"
  mv "$WORK/${VM_KERNEL_PKG}_"*.deb "$OUT/"
  deb=$(ls "$OUT/${VM_KERNEL_PKG}_"*.deb | head -n1)
fi
dpkg -x "$deb" "$WORK/pkg"
vmlinuz=$(ls "$WORK"/pkg/boot/vmlinuz-* | head -n1)
kver=${vmlinuz##*/vmlinuz-}
moddir="$WORK/pkg/lib/modules/$kver"

# Like the kernel's scripts/extract-vmlinux: the bzImage is a decompressor stub followed by
# the compressed ELF; try every offset where a known compression magic occurs until one
# decompresses to an ELF. Decompressors complain about the trailing stub bytes, hence || true.
extract_vmlinux() {
  local magic cmd off
  local -a formats=(
    '\x1f\x8b\x08:gzip -dc' '\xfd7zXZ\x00:xz -dc' '\x28\xb5\x2f\xfd:zstd -dcq'
    '\x02\x21\x4c\x18:lz4 -dcq' 'BZh:bzip2 -dc' '\x5d\x00\x00\x00:xz -dc --format=lzma'
  )
  for f in "${formats[@]}"; do
    magic=${f%%:*} cmd=${f#*:}
    command -v "${cmd%% *}" >/dev/null || continue
    for off in $(LC_ALL=C grep -obUaP "$magic" "$1" | cut -d: -f1); do
      tail -c +$((off + 1)) "$1" | $cmd >"$2" 2>/dev/null || true
      if [[ "$(head -c4 "$2" | od -An -tx1 | tr -d ' \n')" == 7f454c46 ]]; then
        return 0
      fi
    done
  done
  return 1
}
extract_vmlinux "$vmlinuz" "$WORK/vmlinux" || die "no compressed ELF found in $vmlinuz"

# initramfs tree: busybox with its applets, the modules (dependencies first), init.
root="$WORK/root"
mkdir -p "$root"/{bin,dev,proc,sys,newroot,lib/modules}
install -m 0755 "$BUSYBOX" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
install -m 0755 "$HERE/init" "$root/init"

declare -A loaded=()
order=()
add_module() {
  local name=$1 ko dep
  [[ -z "${loaded[$name]:-}" ]] || return 0
  loaded[$name]=1
  ko=$(find "$moddir" -name "$name.ko*" | head -n1)
  if [[ -z "$ko" ]]; then
    # Built in (modules.builtin lists it) needs nothing; absent altogether is fatal.
    grep -q "/$name.ko\$" "$moddir/modules.builtin" || die "module $name not in $kver"
    return 0
  fi
  for dep in $(LC_ALL=C grep -aom1 'depends=[^[:cntrl:]]*' "$ko" | cut -d= -f2 | tr , ' '); do
    add_module "$dep"
  done
  case $ko in
    *.xz) xz -dc "$ko" >"$root/lib/modules/$name.ko" ;;
    *.zst) zstd -dcq "$ko" >"$root/lib/modules/$name.ko" ;;
    *) cp "$ko" "$root/lib/modules/$name.ko" ;;
  esac
  order+=("$name")
}
for m in "${MODULES[@]}"; do add_module "$m"; done
printf '%s\n' "${order[@]}" >"$root/lib/modules/order"

(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | "$BUSYBOX" cpio -o -H newc 2>/dev/null) >"$WORK/initrd.cpio"

mv "$WORK/vmlinux" "$OUT/vmlinux"
mv "$WORK/initrd.cpio" "$OUT/initrd.cpio"
printf '%s\n' "$kver" >"$OUT/kernel-release"
printf 'kernel %s\n%s\n' "$VM_KERNEL_PKG" "$inputs" >"$OUT/stamp"
echo "vm-prepare: $OUT ready (kernel $kver, modules: ${order[*]})"
