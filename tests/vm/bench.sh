#!/usr/bin/env bash
# bench.sh BUILD_DIR OUT_DIR [husk_bench args...] — runs inside the pure cgroup v2 guest
# (make vm-bench): the benchmark harness against husk, runc and crun there. husk runs
# from a copy on the guest's /run tmpfs: the guest root is itself an overlayfs, which
# cannot be a layer of the read-only overlay view husk re-execs through (S-01), so from
# there husk would fall back to copying itself into a memfd, which no real host's husk does.
set -euo pipefail
BUILD=$1 OUT=$2
shift 2
mkdir -p /run/husk-bin
cp "$BUILD/runtime/cli/husk" /run/husk-bin/husk
exec "$BUILD/conformance/bench/husk_bench" --rootfs "$BUILD/rootfs" --out "$OUT" \
  --runtime husk=/run/husk-bin/husk --runtime runc=/usr/sbin/runc --runtime crun=/usr/bin/crun "$@"
