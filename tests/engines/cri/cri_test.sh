#!/usr/bin/env bash
# Kubernetes CRI end to end: containerd 1.6's built-in CRI plugin (io.containerd.grpc.v1.cri)
# drives one pod through the kubelet's calls (cri_client.py), with RUNTIME as the BinaryName
# of a RuntimeClass handler, configured as a cluster operator would. A private containerd
# under $W; the pod network is loopback only (no bridge, no iptables, the host network is
# untouched).
# usage: cri_test.sh RUNTIME ROOTFS   (RUNTIME: husk, or /usr/sbin/runc to check the test)
HERE=$(cd -- "$(dirname -- "$0")" && pwd)
source "$HERE/../lib.sh"
e2e_init cri "$1" "$2" containerd containernetworking-plugins python3-grpcio python3-grpc-tools util-linux
PY=/usr/bin/python3 # Debian's, which has grpc; the python3 on PATH may be another
for p in loopback static; do
  [[ -x /usr/lib/cni/$p ]] || e2e_skip "no /usr/lib/cni/$p (containernetworking-plugins)"
done

NS=k8s.io                     # the CRI plugin's containerd namespace, hard-wired
HANDLER=husk-e2e              # the RuntimeClass handler the pod asks for
CG_PARENT=husk-e2e-cri-$RT_NAME # the pods' cgroup parent, test-only (never under process_api)
IMG=docker.io/library/husk-busybox-cri:latest
RT_ROOT=/run/containerd/runc/$NS # the runc v2 shim's runtime root for the namespace
# CRI containers' cgroups are <cgroup_parent>/<id>; nothing may appear under /k8s.io either.
E2E_CGROUPS=("$CG_PARENT" "$NS")
# Hard-wired host paths (engines.md P8): the shims' sockets, the runtime root, and libcni's
# result cache (/var/lib/cni/results/<network>-<sandbox id>-<ifname>, removed by CNI DEL).
E2E_HOST_DIRS=("$RT_ROOT" /run/containerd/runc /run/containerd/s /run/containerd)
E2E_STATE_ROOTS=("$RT_ROOT")
CNI_CACHE=/var/lib/cni
CNI_NET=husk-e2e-cri-$RT_NAME # the CNI network's name, which libcni's cache files start with
E2E_HOST_DIRS+=("$CNI_CACHE/results" "$CNI_CACHE")
# The pod's netns is mounted under the CRI state dir (netns_mounts_under_state_dir), not in
# /var/run/netns/cni-*: remember what is there now, and check that nothing was added.
NETNS_DIR=/var/run/netns
netns_list() { ls -A "$NETNS_DIR" 2>/dev/null | grep '^cni-' | sort; }
NETNS_BEFORE=$(netns_list)
CTR=(/usr/bin/ctr --address "$W/containerd.sock" --namespace "$NS")

# Kills what is still in our cgroups (a shim SIGKILLed by teardown leaves its container's
# processes behind), then lets the runtime forget the containers whose state names $W.
cri_teardown() {
  local d p id
  for d in $(cgroup_dirs_of "$CG_PARENT"); do
    for p in $(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
  done
  if [[ -S "$W/containerd.sock" ]]; then
    for id in $(timeout 10 "${CTR[@]}" task ls -q 2>/dev/null); do
      timeout 10 "${CTR[@]}" task kill -s SIGKILL "$id" >/dev/null 2>&1
      timeout 10 "${CTR[@]}" task delete -f "$id" >/dev/null 2>&1
    done
  fi
  stop_daemon "$W/containerd.pid"
  for d in "$RT_ROOT"/*; do
    [[ -d "$d" ]] || continue
    id=${d##*/}
    [[ "$id" == @* ]] && continue
    grep -rqsF -- "$W/" "$d" && timeout 10 "$RUNTIME" --root "$RT_ROOT" delete --force "$id" >/dev/null 2>&1
  done
  for d in $(cgroup_dirs_of "$CG_PARENT"); do
    for p in $(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
  done
  # libcni's cache files (<network>-<sandbox id>-<ifname>, for our network and the CRI
  # plugin's built-in cni-loopback): CNI DEL removes them; a killed run may not have.
  for d in "$W"/root/io.containerd.grpc.v1.cri/sandboxes/* "$W"/state/io.containerd.grpc.v1.cri/sandboxes/*; do
    [[ -d "$d" ]] && rm -f "$CNI_CACHE/results/"*"-${d##*/}-"*
  done
  rm -f "$CNI_CACHE/results/$CNI_NET"-*
  return 0
}
ENGINE_TEARDOWN=cri_teardown

teardown
CNI_CACHE_EXISTED=false
[[ -e $CNI_CACHE ]] && CNI_CACHE_EXISTED=true
mkdir -p "$W/cni/net.d" "$W/pods" "$W/py"

# Every path the CRI plugin would put on the host is moved under $W where 1.6 allows it:
# its root/state dirs follow containerd's root/state; netns under the state dir; CNI config
# from $W. Left hard-wired: /run/containerd/{s,runc/k8s.io} and libcni's /var/lib/cni cache.
{
  containerd_config "$W" cri
  cat <<EOF
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$IMG"
  netns_mounts_under_state_dir = true
  # root here lacks CAP_SYS_RESOURCE (engines.md §1), so the sandbox's oom_score_adj -998
  # cannot be set (runc: "can't get final child's PID from pipe: EOF"; husk: "set
  # oom_score_adj: write ...: permission denied"): keep every score at or above containerd's
  # own, as operators of rootless/kind nodes do.
  restrict_oom_score_adj = true
  disable_apparmor = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_cdi = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "$HANDLER"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.$HANDLER]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.$HANDLER.options]
        BinaryName = "$RUNTIME"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$W/cni/net.d"
    max_conf_num = 1
EOF
} >"$W/config.toml"
# Loopback only, no interface but lo and nothing on the host. The CRI plugin (1.6) insists
# that the result gives the default interface eth0 an IP ("failed to find network info for
# sandbox"), and the loopback plugin files its 127.0.0.1 under "lo". So the chain ends with
# the static IPAM plugin run as a plugin: it configures nothing, keeps no state, and just
# reports 127.0.0.1/8 without an interface, which libcni files under eth0: the pod's IP.
cat >"$W/cni/net.d/10-husk-lo.conflist" <<EOF
{"cniVersion": "1.0.0", "name": "$CNI_NET", "plugins": [
  {"type": "loopback"},
  {"type": "static", "ipam": {"type": "static", "addresses": [{"address": "127.0.0.1/8"}]}}]}
EOF

start_daemon "$W/containerd.pid" "$W/containerd.log" /usr/bin/containerd --config "$W/config.toml"
wait_for 10 "${CTR[@]}" version || { log "containerd did not start: $(tail -5 "$W/containerd.log")"; exit 1; }
log "containerd $(/usr/bin/containerd --version | awk '{print $3}'), runtime $RUNTIME ($("$RUNTIME" --version | head -1))"

# The pause process is the image's Cmd: it must wait forever and, as pid 1 of its pid
# namespace (P7), exit on SIGTERM as well as SIGKILL.
make_image "$W" "$IMG" '["/bin/sh","-c","trap \"exit 0\" TERM INT; while :; do sleep 3600 & wait; done"]'
capture out "${CTR[@]}" image import "$W/image.tar"
check "image import into $NS" eq 0 "$RC"

capture out "$PY" -m grpc_tools.protoc -I "$HERE/proto" --python_out="$W/py" --grpc_python_out="$W/py" api.proto
check "python stubs from proto/api.proto" eq 0 "$RC"

# The client prints its own ok/FAIL lines; each counts as one check here.
CLIENT_OUT=$W/client.out
timeout -k 5 100 env PYTHONPATH="$W/py" "$PY" "$HERE/cri_client.py" \
  --socket "$W/containerd.sock" --handler "$HANDLER" --image "$IMG" --runtime "$RUNTIME" \
  --cgroup-parent "/$CG_PARENT" --work "$W" --logs "$W/pods" </dev/null 2>&1 | tee "$CLIENT_OUT" | sed -u "s/^/[client] /"
client_rc=${PIPESTATUS[0]}
ok_n=$(grep -c '^ok ' "$CLIENT_OUT")
fail_n=$(grep -c '^FAIL ' "$CLIENT_OUT")
CHECKS=$((CHECKS + ok_n + fail_n))
FAILS=$((FAILS + fail_n))
while IFS= read -r l; do FAILED_NAMES+=("${l#FAIL }"); done < <(grep '^FAIL ' "$CLIENT_OUT" | sed 's/^FAIL  *//')
check "cri client ran to the end (exit 0)" eq 0 "$client_rc"
POD_ID=$(sed -n 's/^# pod sandbox //p' "$CLIENT_OUT")
POD_ID=${POD_ID:-no-pod-id}

# Left behind by the pod, with containerd still up (the runtime must have removed them).
shims=$(for p in $(our_pids); do tr '\0' ' ' </proc/"$p"/cmdline | grep -q containerd-shim && echo "$p"; done)
check "no shim left after RemovePodSandbox" eq "" "$shims"
check "no container state in $RT_ROOT" eq "" "$(ls -A "$RT_ROOT" 2>/dev/null | grep -v '^@' | tr '\n' ' ')"
check "no container cgroup below /$CG_PARENT" eq "" \
  "$(for d in $(cgroup_dirs_of "$CG_PARENT"); do find "$d" -mindepth 2 -type d; done | tr '\n' ' ')"
check "no cgroup under /$NS" eq "" "$(cgroup_dirs_of "$NS" | tr '\n' ' ')"
check "no mount under $W (rootfs, shm, netns)" eq "" "$(our_mounts | tr '\n' ' ')"
check "no netns left in $W" eq "" "$(ls -A "$W/state/io.containerd.grpc.v1.cri/netns" 2>/dev/null | tr '\n' ' ')"
check "no new $NETNS_DIR/cni-*" eq "$NETNS_BEFORE" "$(netns_list)"
check "no CNI result cache entry left" eq "" "$(ls -A "$CNI_CACHE/results" 2>/dev/null | grep -F -e "$CNI_NET-" -e "$POD_ID" | tr '\n' ' ')"

# For the record (CI keeps no $W): containerd's errors and warnings if anything failed
# (or E2E_SHOW_LOG=1).
if ((FAILS > 0)) || [[ "${E2E_SHOW_LOG:-}" == 1 ]]; then
  log "containerd.log, level=error/warning lines (last 20):"
  grep -E 'level=(error|warning)' "$W/containerd.log" | tail -20 | sed 's/^/    /'
fi
cri_teardown
check_nothing_left
$CNI_CACHE_EXISTED || check "$CNI_CACHE removed (libcni made it)" eq "" "$(ls -d "$CNI_CACHE" 2>/dev/null)"
e2e_finish
