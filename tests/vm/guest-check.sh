#!/usr/bin/env bash
# guest-check.sh — run inside the guest (first entry of suite.sh): fails unless the guest
# really is the pure cgroup v2 host the other entries assume, so a harness regression
# cannot pass as "husk works on v2".
set -euo pipefail
fail() { echo "guest-check: $*" >&2; exit 1; }

[[ "$(stat -f -c %T /sys/fs/cgroup)" == cgroup2fs ]] || fail "/sys/fs/cgroup is not cgroup2"
! awk '$3 == "cgroup" { found = 1 } END { exit !found }' /proc/mounts || fail "a cgroup v1 hierarchy is mounted"
# cgroup_no_v1=all: v1 controllers cannot even be mounted (the named, controller-less
# "none,name=..." hierarchy still could; no v1 *controller* may be).
! awk 'NR > 1 && $2 != 0 && $4 == 1 { found = 1 } END { exit !found }' /proc/cgroups ||
  fail "a controller is bound to a v1 hierarchy"
[[ "$(cat /proc/self/cgroup)" == "0::/init.scope" ]] || fail "not in /init.scope: $(cat /proc/self/cgroup)"
[[ "$(cat /sys/fs/cgroup/cgroup.subtree_control)" == "$(cat /sys/fs/cgroup/cgroup.controllers)" ]] ||
  fail "root subtree_control is not every controller"
for c in cpu memory pids io; do
  grep -qw "$c" /sys/fs/cgroup/cgroup.subtree_control || fail "controller $c not enabled"
done
for d in /tmp /run /var/tmp /dev/shm /usr /etc; do
  t=$(mktemp -p "$d") && rm -f -- "$t" || fail "$d is not writable"
done
ip -o link show lo | grep -q 'state UNKNOWN\|LOWER_UP' || fail "loopback is down"
echo "guest-check: pure cgroup v2 ($(cat /sys/fs/cgroup/cgroup.controllers)), kernel $(uname -r)"
