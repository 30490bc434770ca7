#!/usr/bin/env bash
# demo.sh BUILD — runs one busybox container with the freshly built husk and cleans up.
#
# The bundle's config.json comes from `husk spec` and is edited in place: no tty, a
# one-line greeting, hostname "husk-demo", the shared read-only rootfs BUILD/rootfs and a
# cgroup under /husk-demo/<unique>. Editing uses GNU sed -z with whitespace-tolerant
# patterns, so it needs neither python3 nor jq (fresh Debian 12 has neither).
# Exits with husk's status. Needs root. HUSK=/path overrides the binary (e.g. runc).
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
BUILD=$(cd "$1" && pwd)
HUSK=${HUSK:-$BUILD/runtime/cli/husk}
ROOTFS=$BUILD/rootfs

if [[ ! -x "$HUSK" ]]; then
  echo "demo: $HUSK not found; run 'make build' first" >&2
  exit 1
fi
if [[ ! -x "$ROOTFS/bin/busybox" ]]; then
  echo "demo: $ROOTFS is missing; run 'make rootfs' first" >&2
  exit 1
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "demo: containers need root; run 'sudo make demo'" >&2
  exit 1
fi

ID="husk-demo-$$-$RANDOM"
WORK=$(mktemp -d /tmp/husk-demo.XXXXXX)
BUNDLE=$WORK/bundle
STATE_ROOT=$WORK/root
mkdir -p "$BUNDLE"

cleanup() {
  # run deletes the container itself; this only catches an interrupted run.
  "$HUSK" --root "$STATE_ROOT" delete --force "$ID" >/dev/null 2>&1 || true
  rm -rf --one-file-system -- "$WORK"
  # The per-container cgroup is gone after delete; drop the empty /husk-demo parents.
  rmdir /sys/fs/cgroup/husk-demo /sys/fs/cgroup/*/husk-demo 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$HUSK" spec --bundle "$BUNDLE"
CONFIG=$BUNDLE/config.json

# JSON string body for $1 (backslash and quote; paths hold no control characters).
json_escape() {
  local s=${1//\\/\\\\}
  printf '%s' "${s//\"/\\\"}"
}
# $1 made literal for the right-hand side of a sed s### command.
sed_rhs() {
  local s=${1//\\/\\\\}
  s=${s//&/\\&}
  printf '%s' "${s//#/\\#}"
}
S='[[:space:]]*'
ARGS='"args": ["/bin/sh", "-c", "echo Hello from husk: $(hostname), pid $$; id"]'
CGROUP="/husk-demo/$ID"
edit() { # edit DESCRIPTION SED_EXPR CHECK_REGEX
  sed -z -E -i "$2" "$CONFIG"
  if ! grep -zqE "$3" "$CONFIG"; then
    echo "demo: could not set $1 in the config.json written by '$HUSK spec'" >&2
    exit 1
  fi
}
edit terminal "s#\"terminal\":${S}true#\"terminal\": false#" "\"terminal\":${S}false"
edit args "s#\"args\":${S}\\[[^]]*\\]#$(sed_rhs "$ARGS")#" '"/bin/sh",[[:space:]]*"-c"'
edit hostname "s#\"hostname\":${S}\"[^\"]*\"#\"hostname\": \"husk-demo\"#" '"hostname": "husk-demo"'
edit root.path "s#(\"root\":${S}\\{[^}]*\"path\":${S})\"[^\"]*\"#\\1\"$(sed_rhs "$(json_escape "$ROOTFS")")\"#" \
  "\"path\":${S}\"$ROOTFS\""
if grep -zqE "\"root\":${S}\\{[^}]*\"readonly\"" "$CONFIG"; then
  edit root.readonly "s#(\"root\":${S}\\{[^}]*\"readonly\":${S})(true|false)#\\1true#" \
    "\"readonly\":${S}true"
else
  edit root.readonly "s#\"root\":${S}\\{#\"root\": {\"readonly\": true, #" "\"readonly\":${S}true"
fi
if grep -zq '"cgroupsPath"' "$CONFIG"; then
  edit cgroupsPath "s#\"cgroupsPath\":${S}\"[^\"]*\"#\"cgroupsPath\": \"$CGROUP\"#" "\"$CGROUP\""
else
  edit cgroupsPath "s#\"linux\":${S}\\{#\"linux\": {\"cgroupsPath\": \"$CGROUP\", #" "\"$CGROUP\""
fi

echo "+ husk --root $STATE_ROOT run --bundle $BUNDLE $ID"
status=0
"$HUSK" --root "$STATE_ROOT" run --bundle "$BUNDLE" "$ID" </dev/null || status=$?
echo "demo: husk exited with status $status"
exit "$status"
