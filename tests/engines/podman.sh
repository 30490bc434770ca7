#!/usr/bin/env bash
# Podman 4.3 + conmon, rootful and daemonless, with RUNTIME as the OCI runtime
# (engines.md §5). Storage, run root, events, tmp and networks all live under $W.
# usage: podman.sh RUNTIME ROOTFS   (RUNTIME: husk, or /usr/sbin/runc to check the test)
source "$(dirname -- "$0")/lib.sh"
e2e_init podman "$1" "$2" podman conmon util-linux

# conmon passes --log-format=json --log only to runtimes it knows by basename (runc, crun):
# otherwise podman shows raw stderr. So the runtime is reached as $W/bin/runc.
RT_LINK=$W/bin/runc
E2E_CGROUPS=(libpod_parent)
# podman passes no --root: the runtime's default state root must hold nothing afterwards.
case "$RT_NAME" in
  husk) E2E_STATE_ROOTS=(/run/husk) ;;
  runc) E2E_STATE_ROOTS=(/run/runc) ;;
esac
IMG=localhost/husk-busybox:latest

export CONTAINERS_CONF=$W/containers.conf
export CONTAINERS_STORAGE_CONF=$W/storage.conf
export CONTAINERS_REGISTRIES_CONF=$W/registries.conf
PM=(/usr/bin/podman --runtime "$RT_LINK")

# P8: podman writes its blob-info cache below /var/lib/containers whatever graphroot is;
# removed when this test made it.
[[ -e /var/lib/containers ]] || MADE_VAR_LIB_CONTAINERS=1
podman_teardown() {
  if [[ -f "$CONTAINERS_CONF" ]]; then
    timeout 60 podman rm -a -f -t 0 >/dev/null 2>&1
  fi
  # podman's storage mounts (overlay, shm) are under $W; lib's teardown unmounts them.
  if [[ -n "${MADE_VAR_LIB_CONTAINERS:-}" ]]; then
    rm -f /var/lib/containers/cache/blob-info-cache-v1.boltdb
    rmdir /var/lib/containers/cache /var/lib/containers 2>/dev/null
  fi
  return 0
}
ENGINE_TEARDOWN=podman_teardown

teardown
mkdir -p "$W/bin" "$W/net" "$W/tmp"
ln -s "$RUNTIME" "$RT_LINK"
# P1: no rlimit above the hard limits (root lacks CAP_SYS_RESOURCE here).
nproc=$(ulimit -Hu)
pid_max=$(cat /proc/sys/kernel/pid_max)
[[ "$nproc" == unlimited || "$nproc" -gt "$pid_max" ]] && nproc=$pid_max
nofile=$(ulimit -Hn)
cat >"$W/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$W/storage"
runroot = "$W/runroot"
EOF
echo 'unqualified-search-registries = []' >"$W/registries.conf"
cat >"$W/containers.conf" <<EOF
[containers]
netns = "none"
cgroups = "no-conmon"
log_driver = "k8s-file"
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
[network]
network_config_dir = "$W/net"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$W/events.log"
tmp_dir = "$W/tmp"
volume_path = "$W/volumes"
static_dir = "$W/storage/libpod"
runtime = "runc"
[engine.runtimes]
runc = ["$RT_LINK"]
EOF
log "podman $(podman --version | awk '{print $3}'), conmon $(conmon --version | awk 'NR==1 {print $3}'), runtime $RUNTIME ($("$RUNTIME" --version | head -1))"

tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$ROOTFS" -cf "$W/rootfs.tar" .
capture out podman import --change 'CMD ["/bin/sh"]' "$W/rootfs.tar" "$IMG"
check "image import" eq 0 "$RC"
capture out podman images --format '{{.Repository}}:{{.Tag}}'
check "image listed" contains "$IMG" "$out"

status() { podman inspect -f '{{.State.Status}}' "$1" 2>&1; }

capture out "${PM[@]}" run --rm "$IMG" echo hello
check "run: output" eq "hello" "$out"
capture out "${PM[@]}" run --rm "$IMG" sh -c 'exit 7'
check "run: exit code propagates" eq 7 "$RC"
capture_tty out "${PM[*]} run --rm -t $IMG sh -c 'tty; echo ok'"
check "run -t: a pty" contains "/dev/pts/" "$out"
check "run -t: output" contains "ok" "$out"
out=$(echo data | timeout 60 "${PM[@]}" run --rm -i "$IMG" cat 2>&1)
check "run -i: stdin" eq "data" "$out"

capture out "${PM[@]}" run -d --name p1 "$IMG" sh -c 'trap "exit 0" TERM; sleep 300 & wait'
check "run -d" eq 0 "$RC"
check "detached: running" eq running "$(status p1)"
capture out podman exec p1 sh -c 'echo exec-ok'
check "exec: output" eq "exec-ok" "$out"
capture out podman exec p1 sh -c 'exit 5'
check "exec: exit code propagates" eq 5 "$RC"
capture_tty out "podman exec -t p1 sh -c 'tty; echo ok'"
check "exec -t: a pty" contains "/dev/pts/" "$out"
capture out podman exec p1 nonexistent-binary
check "exec of a missing binary exits 127" eq 127 "$RC"
check "exec of a missing binary: podman's message" contains "executable file not found in \$PATH" "$out"
capture out podman top p1
check "top lists the container's processes" contains "sleep 300" "$out"
capture out podman pause p1
check "pause" eq paused "$(status p1)"
capture out podman unpause p1
check "unpause" eq running "$(status p1)"
t0=$SECONDS
capture out podman stop -t 10 p1
check "stop: SIGTERM ends it (before the timeout)" eq 1 "$((SECONDS - t0 < 8))"
check "stop: exited" eq exited "$(status p1)"
capture out podman inspect -f '{{.State.ExitCode}}' p1
check "stop: exit code 0 from the TERM trap" eq 0 "$out"
capture out podman rm p1
check "rm" eq 0 "$RC"

# A plain sleep as pid 1 ignores SIGTERM (P7): stop falls back to SIGKILL.
capture out "${PM[@]}" run -d --name p2 "$IMG" sleep 300
capture out podman stop -t 1 p2
check "stop: SIGKILL after the timeout" eq exited "$(status p2)"
capture out podman inspect -f '{{.State.ExitCode}}' p2
check "stop: killed (137)" eq 137 "$out"
capture out podman rm p2
capture out "${PM[@]}" run -d --name p3 "$IMG" sleep 300
capture out podman kill p3
capture out podman wait p3
check "kill + wait: killed (137)" eq 137 "$out"
capture out podman rm p3
capture out podman inspect p3
check "rm: no such container" contains "no such" "$out"

capture out "${PM[@]}" run --rm "$IMG" nonexistent-binary
check "run of a missing binary exits 127" eq 127 "$RC"
check "run of a missing binary: podman's message" contains "executable file not found in \$PATH" "$out"

capture out podman ps -a -q
check "no container listed" eq "" "$out"
podman_teardown
check "no /var/lib/containers left (P8)" eq 1 "$([[ -z "${MADE_VAR_LIB_CONTAINERS:-}" || ! -e /var/lib/containers ]] && echo 1)"
check_nothing_left
e2e_finish
