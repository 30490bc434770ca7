#!/usr/bin/env bash
# suite.sh [BUILD_DIR] — the tests that run on a pure cgroup v2 host: each entry below is
# one run-in-vm.sh boot (a fresh guest, so one entry's leftovers cannot leak into the
# next). All entries run; the suite fails when any fails, including a guest that does not
# boot. Run from anywhere; paths are relative to the checkout. Knobs: see run-in-vm.sh
# (VM_TIMEOUT, VM_BOOT_TIMEOUT, VM_MEM, ...); VM_RUNTIMES = conformance columns.
set -euo pipefail

ROOT=$(cd "$(dirname -- "$0")/../.." && pwd)
cd "$ROOT"
BUILD=${1:-${BUILD:-build}}
RUNTIMES=${VM_RUNTIMES:-husk}
REPORT=$BUILD/vm-conformance

# One entry per line: a name, then the command (word-split; no quoting needed so far).
# The cgroup tests first (the v2 column of README's resource matrix), then the lifecycle,
# then husk's conformance column (VM_RUNTIMES="husk runc crun" adds the others: ~11 min
# instead of ~4 under TCG).
ENTRIES=(
  "guest-check tests/vm/guest-check.sh"
  "cgroups_v2_test /usr/bin/env HUSK_EXPECT_V2_CONTROLLERS=1 $BUILD/tests/cgroups_v2_test"
  "cgroups_device_bpf_kernel_test $BUILD/tests/cgroups_device_bpf_kernel_test"
  "cgroups_resources_test $BUILD/tests/cgroups_resources_test"
  "cgroups_commands_test $BUILD/tests/cgroups_commands_test"
  "cgroups_stats_test $BUILD/tests/cgroups_stats_test"
  "ps_events_test $BUILD/tests/ps_events_test"
  "config_devices_test $BUILD/tests/config_devices_test"
  "lifecycle_test $BUILD/tests/lifecycle_test"
  "run_test $BUILD/tests/run_test"
  "exec_test $BUILD/tests/exec_test"
  "hooks_test $BUILD/tests/hooks_test"
  "conformance $BUILD/conformance/husk-conformance --build-dir $BUILD --report-dir $REPORT --strict husk $RUNTIMES"
)

failed=()
for entry in "${ENTRIES[@]}"; do
  read -r name cmd <<<"$entry"
  echo "=== vm: $name"
  start=$SECONDS
  rc=0
  # shellcheck disable=SC2086 # the command is meant to be word-split
  "$ROOT/tests/vm/run-in-vm.sh" --build "$BUILD" --rw "$REPORT" -- $cmd || rc=$?
  echo "=== vm: $name: exit $rc ($((SECONDS - start))s)"
  ((rc == 0)) || failed+=("$name($rc)")
done

if ((${#failed[@]})); then
  echo "vm suite: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "vm suite: all ${#ENTRIES[@]} entries passed"
