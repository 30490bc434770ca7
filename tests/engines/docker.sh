#!/usr/bin/env bash
# Docker 20.10 with RUNTIME registered in daemon.json "runtimes" (engines.md §6): a private
# dockerd and its own private containerd, every path under $W, no bridge, no iptables.
# usage: docker.sh RUNTIME ROOTFS   (RUNTIME: husk, or /usr/sbin/runc to check the test)
source "$(dirname -- "$0")/lib.sh"
e2e_init docker "$1" "$2" docker.io containerd util-linux

# The name the runtime is registered under ("runc" itself is reserved by dockerd).
DRT=$RT_NAME
[[ "$DRT" == runc ]] && DRT=debian-runc
E2E_CGROUPS=(docker)
# Hard-wired: the shims' sockets, and dockerd's plugin dir.
E2E_HOST_DIRS=(/run/containerd/s /run/containerd /run/docker/plugins /run/docker)
E2E_STATE_ROOTS=("$W/exec/runtime-runc/moby")
C=$W/containerd
# /usr/bin/docker is Debian's 20.10 client; a newer one may come first on PATH.
D=(/usr/bin/docker -H "unix://$W/docker.sock")
IMG=localhost/husk-busybox:latest

docker_teardown() {
  if [[ -S "$W/docker.sock" ]]; then
    local ids
    ids=$(timeout 20 "${D[@]}" ps -aq 2>/dev/null)
    [[ -n "$ids" ]] && timeout 60 "${D[@]}" rm -f $ids >/dev/null 2>&1
  fi
  stop_daemon "$W/dockerd.pid"
  stop_daemon "$C/containerd.pid"
  return 0
}
ENGINE_TEARDOWN=docker_teardown

teardown
mkdir -p "$C"
containerd_config "$C" >"$C/config.toml"
cat >"$W/daemon.json" <<EOF
{
  "containerd": "$C/containerd.sock",
  "data-root": "$W/data", "exec-root": "$W/exec", "pidfile": "$W/dockerd.pid.daemon",
  "deprecated-key-path": "$W/key.json",
  "hosts": ["unix://$W/docker.sock"],
  "storage-driver": "overlay2",
  "iptables": false, "ip-forward": false, "ip-masq": false, "bridge": "none", "userland-proxy": false,
  "runtimes": { "$DRT": { "path": "$RUNTIME" } },
  "default-runtime": "runc"
}
EOF
start_daemon "$C/containerd.pid" "$C/containerd.log" /usr/bin/containerd --config "$C/config.toml"
wait_for 10 /usr/bin/ctr --address "$C/containerd.sock" version ||
  { log "containerd did not start: $(tail -5 "$C/containerd.log")"; exit 1; }
start_daemon "$W/dockerd.pid" "$W/dockerd.log" /usr/sbin/dockerd --config-file "$W/daemon.json"
wait_for 30 "${D[@]}" version || { log "dockerd did not start: $(tail -5 "$W/dockerd.log")"; exit 1; }
log "docker $("${D[@]}" version -f '{{.Server.Version}}'), containerd $(containerd --version | awk '{print $3}'), runtime $RUNTIME ($("$RUNTIME" --version | head -1))"

tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$ROOTFS" -cf "$W/rootfs.tar" .
capture out "${D[@]}" import --change 'CMD ["/bin/sh"]' "$W/rootfs.tar" "$IMG"
check "image import" eq 0 "$RC"
capture out "${D[@]}" images --format '{{.Repository}}:{{.Tag}}'
check "image listed" contains "$IMG" "$out"

DR=("${D[@]}" run --network none --runtime "$DRT")
status() { "${D[@]}" inspect -f '{{.State.Status}}' "$1" 2>&1; }

capture out "${DR[@]}" --rm "$IMG" echo hello
check "run: output" eq "hello" "$out"
capture out "${DR[@]}" --rm "$IMG" sh -c 'exit 7'
check "run: exit code propagates" eq 7 "$RC"
capture_tty out "${DR[*]} --rm -t $IMG sh -c 'tty; echo ok'"
check "run -t: a pty" contains "/dev/pts/" "$out"
check "run -t: output" contains "ok" "$out"
out=$(echo data | timeout 60 "${DR[@]}" --rm -i "$IMG" cat 2>&1)
check "run -i: stdin" eq "data" "$out"

capture out "${DR[@]}" -d --name d1 "$IMG" sh -c 'trap "exit 0" TERM; sleep 300 & wait'
check "run -d" eq 0 "$RC"
check "detached: running" eq running "$(status d1)"
capture out "${D[@]}" inspect -f '{{.HostConfig.Runtime}}' d1
check "the container runs on $DRT" eq "$DRT" "$out"
capture out "${D[@]}" exec d1 sh -c 'echo exec-ok'
check "exec: output" eq "exec-ok" "$out"
capture out "${D[@]}" exec d1 sh -c 'exit 5'
check "exec: exit code propagates" eq 5 "$RC"
capture_tty out "${D[*]} exec -t d1 sh -c 'tty; echo ok'"
check "exec -t: a pty" contains "/dev/pts/" "$out"
# docker exec maps every failure to start the process to 126 (runc gives the same), and
# only `docker run` tells a missing binary (127) apart.
capture out "${D[@]}" exec d1 nonexistent-binary
check "exec of a missing binary exits 126 (docker's exec code)" eq 126 "$RC"
check "exec of a missing binary: docker's message" contains "executable file not found in \$PATH" "$out"
capture out "${D[@]}" top d1
check "top lists the container's processes" contains "sleep 300" "$out"
capture out "${D[@]}" pause d1
check "pause" eq paused "$(status d1)"
capture out "${D[@]}" unpause d1
check "unpause" eq running "$(status d1)"
t0=$SECONDS
capture out "${D[@]}" stop -t 10 d1
check "stop: SIGTERM ends it (before the timeout)" eq 1 "$((SECONDS - t0 < 8))"
check "stop: exited" eq exited "$(status d1)"
capture out "${D[@]}" inspect -f '{{.State.ExitCode}}' d1
check "stop: exit code 0 from the TERM trap" eq 0 "$out"
capture out "${D[@]}" rm d1
check "rm" eq 0 "$RC"

# A plain sleep as pid 1 ignores SIGTERM (P7): stop falls back to SIGKILL.
capture out "${DR[@]}" -d --name d2 "$IMG" sleep 300
capture out "${D[@]}" stop -t 1 d2
check "stop: SIGKILL after the timeout" eq exited "$(status d2)"
capture out "${D[@]}" inspect -f '{{.State.ExitCode}}' d2
check "stop: killed (137)" eq 137 "$out"
capture out "${D[@]}" rm d2
capture out "${DR[@]}" -d --name d3 "$IMG" sleep 300
capture out "${D[@]}" kill d3
capture out "${D[@]}" wait d3
check "kill + wait: killed (137)" eq 137 "$out"
capture out "${D[@]}" rm d3
capture out "${D[@]}" inspect d3
check "rm: no such container" contains "No such" "$out"

capture out "${DR[@]}" --rm "$IMG" nonexistent-binary
check "run of a missing binary exits 127" eq 127 "$RC"
check "run of a missing binary: docker's message" contains "executable file not found in \$PATH" "$out"

capture out "${D[@]}" ps -aq
check "no container listed" eq "" "$out"
docker_teardown
check_nothing_left
e2e_finish
