#!/usr/bin/env bash
# run-in-vm.sh [options] -- COMMAND [ARG...]
# Boots a QEMU/TCG microvm on a pure cgroup v2 hierarchy (cgroup_no_v1=all) whose root is
# this host's root (read-only 9p + a tmpfs overlay, see tests/vm/init) and runs COMMAND
# there as root in the caller's cwd. Its stdout and stderr stream back separately, its exit
# status becomes ours. Our own failures: 125 = the guest did not boot (after one retry) or
# died before reporting a status, 124 = COMMAND exceeded the timeout.
#
# Options (environment variable in brackets):
#   --build DIR        build dir holding vm/ (prepared on demand by prepare.sh) [BUILD, build]
#   --timeout SEC      limit for COMMAND, boot excluded [VM_TIMEOUT, 3600]
#   --boot-timeout SEC limit for the boot, retried once [VM_BOOT_TIMEOUT, 60]
#   --mem MB           guest memory [VM_MEM, 1024]
#   --smp N            vCPUs; single-threaded TCG runs them on one host thread [VM_SMP, 1]
#   --env NAME=VALUE   extra environment for COMMAND (repeatable); it otherwise gets
#                      PATH, HOME=/root, TERM=dumb, USER/LOGNAME=root, LANG=C.UTF-8
#   --rw DIR           share host directory DIR read-write at the same path (repeatable):
#                      the way to get files (reports) out; everything else the guest
#                      writes is lost at power-off
#   --append ARGS      extra kernel command line [VM_APPEND]
#   --keep             keep the temporary dir (console log) [VM_KEEP=1]
#   --verbose          report boot and run times on stderr [VM_VERBOSE=1]
set -euo pipefail

BUILD=${BUILD:-build}
TIMEOUT=${VM_TIMEOUT:-3600}
BOOT_TIMEOUT=${VM_BOOT_TIMEOUT:-60}
MEM=${VM_MEM:-1024}
SMP=${VM_SMP:-1}
KEEP=${VM_KEEP:-0}
VERBOSE=${VM_VERBOSE:-0}
APPEND=${VM_APPEND:-}
ENVS=() RWS=()
usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2; exit 2; }
while (($#)); do
  case $1 in
    --build) BUILD=$2; shift 2 ;;
    --timeout) TIMEOUT=$2; shift 2 ;;
    --boot-timeout) BOOT_TIMEOUT=$2; shift 2 ;;
    --mem) MEM=$2; shift 2 ;;
    --smp) SMP=$2; shift 2 ;;
    --env) [[ $2 == [A-Za-z_]*=* ]] || usage; ENVS+=("$2"); shift 2 ;;
    --append) APPEND=$2; shift 2 ;;
    --rw) mkdir -p -- "$2"; RWS+=("$(cd -- "$2" && pwd)"); shift 2 ;;
    --keep) KEEP=1; shift ;;
    --verbose) VERBOSE=1; shift ;;
    --) shift; break ;;
    *) usage ;;
  esac
done
(($#)) || usage
HERE=$(cd "$(dirname -- "$0")" && pwd)
say() { echo "run-in-vm: $*" >&2; }

"$HERE/prepare.sh" "$BUILD" >&2
VM=$(cd "$BUILD/vm" && pwd)

# Under TCG the guest TSC ticks at the host's rate, but microvm has no PIT/HPET to
# calibrate it against: without tsc_early_khz the boot hangs. Prefer the kernel's refined
# calibration, then its first estimate, then /proc/cpuinfo.
tsc_khz() {
  local log mhz
  log=$( (dmesg 2>/dev/null || journalctl -k -b -q 2>/dev/null) | grep -E 'tsc: (Refined TSC clocksource calibration|Detected) [0-9.]+ MHz' || true)
  mhz=$(grep 'Refined' <<<"$log" | tail -n1 | grep -oE '[0-9]+\.[0-9]+ MHz' || true)
  [[ -n "$mhz" ]] || mhz=$(grep 'Detected' <<<"$log" | tail -n1 | grep -oE '[0-9]+\.[0-9]+ MHz' || true)
  [[ -n "$mhz" ]] || mhz="$(awk -F': *' '/^cpu MHz/ { print $2; exit }' /proc/cpuinfo) MHz"
  awk '{ printf "%d\n", $1 * 1000 }' <<<"$mhz"
}
TSC_KHZ=${VM_TSC_KHZ:-$(tsc_khz)}
((TSC_KHZ > 0)) || { say "cannot determine the host TSC rate; set VM_TSC_KHZ"; exit 125; }

# The job dir lives on the host root, which the guest sees read-only: the guest reads the
# job script from it; stdout/stderr/status come back through FIFOs/files QEMU writes.
TMP=$(mktemp -d /tmp/husk-vm.XXXXXX)
QEMU_PID='' CAT_PIDS=()
cleanup() {
  [[ -z "$QEMU_PID" ]] || kill "$QEMU_PID" 2>/dev/null || true
  ((${#CAT_PIDS[@]} == 0)) || kill "${CAT_PIDS[@]}" 2>/dev/null || true
  if [[ "$KEEP" == 1 ]]; then say "kept $TMP"; else rm -rf -- "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
chmod 0755 "$TMP"

{
  echo '#!/bin/bash'
  printf 'cd -- %q || exit 125\n' "$PWD"
  printf 'exec /usr/bin/env -i -- PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb USER=root LOGNAME=root LANG=C.UTF-8'
  for e in ${ENVS[@]+"${ENVS[@]}"}; do printf ' %q' "$e"; done
  # (a command named NAME=VALUE would be taken for an assignment: not worth a wrapper)
  for a in "$@"; do printf ' %q' "$a"; done
  echo
} >"$TMP/job.sh"

# Read-write shares: one 9p device each; the guest mounts tag rwN at the path on line N.
RW_ARGS=()
: >"$TMP/rw.list"
for i in ${RWS[@]+"${!RWS[@]}"}; do
  [[ "${RWS[i]}" != *[[:space:],]* ]] || { say "--rw path with blanks or commas: ${RWS[i]}"; exit 2; }
  RW_ARGS+=(-fsdev "local,id=rw$i,path=${RWS[i]},security_model=passthrough,multidevs=remap"
            -device "virtio-9p-device,fsdev=rw$i,mount_tag=rw$i")
  echo "rw$i ${RWS[i]}" >>"$TMP/rw.list"
done

# A small sparse scratch disk (/dev/vda in the guest, unformatted): block IO cgroup
# settings (throttles, weights) need a real block device.
truncate -s 16M "$TMP/disk.img"

# One boot attempt. Returns 0 once the guest has run the job (status in $TMP/status),
# 1 when it did not come up within BOOT_TIMEOUT (or died first).
boot() {
  : >"$TMP/status"
  rm -f "$TMP/out" "$TMP/err"
  mkfifo "$TMP/out" "$TMP/err"
  cat "$TMP/out" & CAT_PIDS=($!)
  cat "$TMP/err" >&2 & CAT_PIDS+=($!)
  qemu-system-x86_64 \
    -M microvm,x-option-roms=off,rtc=on -accel tcg,thread=single -cpu max \
    -m "$MEM" -smp "$SMP" -nodefaults -no-user-config -display none -no-reboot \
    -kernel "$VM/vmlinux" -initrd "$VM/initrd.cpio" \
    -append "console=ttyS0 quiet loglevel=3 panic=-1 tsc_early_khz=$TSC_KHZ tsc=reliable cgroup_no_v1=all husk_vm.job=$TMP/job.sh $APPEND" \
    -serial "file:$TMP/console.log" \
    -fsdev local,id=hostroot,path=/,security_model=passthrough,readonly=on,multidevs=remap \
    -device virtio-9p-device,fsdev=hostroot,mount_tag=hostroot \
    ${RW_ARGS[@]+"${RW_ARGS[@]}"} \
    -drive "file=$TMP/disk.img,if=none,format=raw,id=disk0" -device virtio-blk-device,drive=disk0 \
    -device virtio-serial-device,max_ports=4 \
    -chardev "file,id=out,path=$TMP/out" -device virtserialport,chardev=out,name=husk.stdout \
    -chardev "file,id=err,path=$TMP/err" -device virtserialport,chardev=err,name=husk.stderr \
    -chardev "file,id=st,path=$TMP/status" -device virtserialport,chardev=st,name=husk.status \
    </dev/null >"$TMP/qemu.log" 2>&1 &
  QEMU_PID=$!
  T_START=$EPOCHREALTIME
  local t0=$SECONDS
  until grep -q started "$TMP/status"; do
    if ! kill -0 "$QEMU_PID" 2>/dev/null || ((SECONDS - t0 >= BOOT_TIMEOUT)); then
      kill "$QEMU_PID" 2>/dev/null || true
      wait "$QEMU_PID" 2>/dev/null || true
      QEMU_PID=''
      wait "${CAT_PIDS[@]}" 2>/dev/null || true
      return 1
    fi
    sleep 0.05
  done
  T_BOOTED=$EPOCHREALTIME
}

show_logs() {
  say "console log:"; sed 's/^/  | /' "$TMP/console.log" >&2 || true
  [[ ! -s "$TMP/qemu.log" ]] || { say "qemu said:"; sed 's/^/  | /' "$TMP/qemu.log" >&2; }
}

if ! boot; then
  say "guest did not come up (exited or ${BOOT_TIMEOUT}s passed); retrying once"
  show_logs
  boot || { say "guest did not come up again, giving up"; show_logs; exit 125; }
fi

# The job runs; wait for QEMU to exit (the guest powers off after the job).
t0=$SECONDS
while kill -0 "$QEMU_PID" 2>/dev/null; do
  if ((SECONDS - t0 >= TIMEOUT)); then
    say "command did not finish within ${TIMEOUT}s"
    exit 124
  fi
  sleep 0.1
done
wait "$QEMU_PID" || true
QEMU_PID=''
[[ "$VERBOSE" != 1 ]] || say "$(awk -v s="$T_START" -v b="$T_BOOTED" -v e="$EPOCHREALTIME" \
  'BEGIN { printf "boot %.2fs, command + poweroff %.2fs", b - s, e - b }')"
wait "${CAT_PIDS[@]}" 2>/dev/null || true
CAT_PIDS=()

rc=$(sed -n 's/^exit \([0-9]\{1,3\}\)$/\1/p' "$TMP/status" | tail -n1)
if [[ -z "$rc" ]]; then
  say "guest died before reporting an exit status"
  show_logs
  exit 125
fi
exit "$rc"
