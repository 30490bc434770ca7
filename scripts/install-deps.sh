#!/usr/bin/env bash
# Installs the Debian 12 packages husk needs to build, test and compare against runc/crun.
# Idempotent: asks dpkg first and only runs apt-get (update + install) when something is
# missing, so it is cheap to call on every build. Non-interactive; needs root only when it
# actually has to install.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  libseccomp-dev libcap-ng-dev rapidjson-dev libabsl-dev libgtest-dev libgmock-dev
  busybox-static iproute2 procps
  runc crun
  # tests/vm: the pure cgroup v2 guest (microvm, 9p and virtio-serial are all in the base
  # package; the kernel itself is fetched by tests/vm/prepare.sh, never installed)
  qemu-system-x86 xz-utils
  # tests/engines: the engines husk must run under (engines.md), script(1) for -t, jq,
  # loopback CNI for the CRI pod test and its Python gRPC client
  containerd podman conmon docker.io containernetworking-plugins util-linux jq
  python3-grpcio python3-grpc-tools
)

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: not a Debian/apt system; install these yourself: ${PACKAGES[*]}" >&2
  exit 0
fi

missing=()
for p in "${PACKAGES[@]}"; do
  # dpkg -s succeeds for removed-but-configured packages too; check the real status.
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

echo "install-deps: installing: ${missing[*]}"
SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "install-deps: missing packages and not root (no sudo): ${missing[*]}" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
# Wait for a concurrent apt/dpkg (unattended-upgrades on a fresh VM) instead of failing.
APT_OPTS=(-o DPkg::Lock::Timeout=300 -o Acquire::Retries=3)
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${APT_OPTS[@]}" update -q </dev/null
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${APT_OPTS[@]}" install -y -q \
  --no-install-recommends "${missing[@]}" </dev/null
echo "install-deps: done"
