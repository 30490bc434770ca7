#!/usr/bin/env bash
# containerd 1.6 through ctr, with RUNTIME as the runc v2 shim's BinaryName
# (`ctr run --runc-binary`), as engines.md §4 describes. A private containerd under $W.
# usage: containerd.sh RUNTIME ROOTFS   (RUNTIME: husk, or /usr/sbin/runc to check the test)
source "$(dirname -- "$0")/lib.sh"
e2e_init containerd "$1" "$2" containerd util-linux

NS=husk-e2e
E2E_CGROUPS=("$NS")
# Hard-wired by containerd: the shims' sockets and the runtime root of our namespace.
E2E_HOST_DIRS=(/run/containerd/runc/$NS /run/containerd/runc /run/containerd/s /run/containerd)
E2E_STATE_ROOTS=(/run/containerd/runc/$NS)
CTR=(/usr/bin/ctr --address "$W/containerd.sock" --namespace "$NS")
R=(--fifo-dir "$W/fifo" --runc-binary "$RUNTIME")
IMG=docker.io/library/husk-busybox:latest

containerd_teardown() {
  [[ -S "$W/containerd.sock" ]] || { stop_daemon "$W/containerd.pid"; return; }
  local id
  for id in $(timeout 10 "${CTR[@]}" task ls -q 2>/dev/null); do
    timeout 10 "${CTR[@]}" task kill -s SIGKILL "$id" >/dev/null 2>&1
    timeout 10 "${CTR[@]}" task delete -f "$id" >/dev/null 2>&1
  done
  for id in $(timeout 10 "${CTR[@]}" container ls -q 2>/dev/null); do
    timeout 10 "${CTR[@]}" container delete "$id" >/dev/null 2>&1
  done
  stop_daemon "$W/containerd.pid"
}
ENGINE_TEARDOWN=containerd_teardown

teardown
mkdir -p "$W/fifo"
containerd_config "$W" >"$W/config.toml"
start_daemon "$W/containerd.pid" "$W/containerd.log" /usr/bin/containerd --config "$W/config.toml"
wait_for 10 "${CTR[@]}" version || { log "containerd did not start: $(tail -5 "$W/containerd.log")"; exit 1; }
log "containerd $(containerd --version | awk '{print $3}'), runtime $RUNTIME ($("$RUNTIME" --version | head -1))"

make_image "$W" "$IMG"
capture out "${CTR[@]}" image import "$W/image.tar"
check "image import" eq 0 "$RC"
capture out "${CTR[@]}" image ls -q
check "image listed" contains "$IMG" "$out"

task_status() { "${CTR[@]}" task ls 2>/dev/null | awk -v id="$1" '$1 == id { print $3 }'; }
task_is() { [[ "$(task_status "$1")" == "$2" ]]; }

capture out "${CTR[@]}" run --rm "${R[@]}" "$IMG" c-out echo hello
check "run: output" eq "hello" "$out"
capture out "${CTR[@]}" run --rm "${R[@]}" "$IMG" c-exit sh -c 'exit 7'
check "run: exit code propagates" eq 7 "$RC"
capture_tty out "${CTR[*]} run --rm -t ${R[*]} $IMG c-tty sh -c 'tty; echo ok'"
check "run -t: a pty" contains "/dev/pts/" "$out"
check "run -t: output" contains "ok" "$out"
# containerd#4489: ctr never closes the container's stdin, so feed it late and stop cat.
out=$( (sleep 1; echo data) | timeout 30 "${CTR[@]}" run --rm "${R[@]}" "$IMG" c-in sh -c 'read l; echo "got $l"' 2>&1)
check "run with stdin" eq "got data" "$out"

capture out "${CTR[@]}" run -d "${R[@]}" "$IMG" c-d sh -c 'trap "exit 0" TERM; sleep 300 & wait'
check "run -d" eq 0 "$RC"
check "detached: RUNNING" eq RUNNING "$(task_status c-d)"
capture out "${CTR[@]}" task exec --fifo-dir "$W/fifo" --exec-id e1 c-d sh -c 'echo exec-ok'
check "exec: output" eq "exec-ok" "$out"
capture out "${CTR[@]}" task exec --fifo-dir "$W/fifo" --exec-id e2 c-d sh -c 'exit 5'
check "exec: exit code propagates" eq 5 "$RC"
capture_tty out "${CTR[*]} task exec -t --fifo-dir $W/fifo --exec-id e3 c-d sh -c 'tty; echo ok'"
check "exec -t: a pty" contains "/dev/pts/" "$out"
capture out "${CTR[@]}" task exec --fifo-dir "$W/fifo" --exec-id e4 c-d nonexistent-binary
check "exec of a missing binary fails" eq 1 "$((RC != 0))"
check "exec of a missing binary: not-found text" contains "executable file not found in \$PATH" "$out"
init_pid=$("${CTR[@]}" task ls | awk '$1 == "c-d" { print $2 }')
capture out "${CTR[@]}" task ps c-d
check "task ps lists the init" contains "$init_pid" "$out"
capture out "${CTR[@]}" task pause c-d
check "pause" eq PAUSED "$(task_status c-d)"
capture out "${CTR[@]}" task resume c-d
check "resume" eq RUNNING "$(task_status c-d)"
capture out "${CTR[@]}" task kill -s SIGTERM c-d
wait_for 10 task_is c-d STOPPED
check "stop with SIGTERM" eq STOPPED "$(task_status c-d)"
capture out "${CTR[@]}" task delete c-d
check "task delete" eq 0 "$RC"
capture out "${CTR[@]}" container delete c-d
check "container delete" eq 0 "$RC"

# A plain sleep as pid 1 ignores SIGTERM (P7): only SIGKILL stops it.
capture out "${CTR[@]}" run -d "${R[@]}" "$IMG" c-k sleep 300
capture out "${CTR[@]}" task kill -s SIGKILL c-k
wait_for 10 task_is c-k STOPPED
check "kill with SIGKILL" eq STOPPED "$(task_status c-k)"
capture out "${CTR[@]}" task delete c-k
capture out "${CTR[@]}" container delete c-k
check "rm: no container listed" eq "" "$("${CTR[@]}" container ls -q)"

capture out "${CTR[@]}" run --rm "${R[@]}" "$IMG" c-missing nonexistent-binary
check "run of a missing binary fails" eq 1 "$((RC != 0))"
check "run of a missing binary: not-found text" contains "executable file not found in \$PATH" "$out"
"${CTR[@]}" container delete c-missing >/dev/null 2>&1

check "no task left" eq "" "$("${CTR[@]}" task ls -q)"
containerd_teardown
check_nothing_left
e2e_finish
