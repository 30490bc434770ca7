# tests/engines/lib.sh — sourced by the engine tests (containerd.sh, podman.sh, docker.sh,
# cri/cri_test.sh). Owns the private work dir, the offline busybox image, daemon start/stop
# by pid file, teardown, the "nothing left behind" checks and the check/report helpers.
# Everything an engine writes lives under $W, except the few host paths engines hard-wire
# (listed per test), which teardown checks too. Processes are only ever signalled when
# their command line names $W: they are ours.
#
# A test sources this, calls e2e_init ENGINE RUNTIME ROOTFS, runs its checks and ends with
# e2e_finish (exit 0 when every check passed, 1 otherwise; 77 = skipped, see e2e_skip).

set -u -o pipefail

# Debian's engines only: a newer client or daemon in /usr/local (this machine has a docker
# 28 client there) is not what the tests are about.
E2E_PATH=/usr/sbin:/usr/bin:/sbin:/bin
CHECKS=0
FAILS=0
FAILED_NAMES=()

log() { printf '[%s %s] %s\n' "$(date +%T.%3N)" "${ENGINE:-e2e}" "$*"; }

# Skipped only when run by hand without root or packages; never under CI (CI=true).
e2e_skip() {
  if [[ "${CI:-}" == "true" ]]; then
    log "FAIL: cannot run under CI: $*"
    exit 1
  fi
  log "SKIP: $*"
  exit 77
}

# e2e_init ENGINE RUNTIME ROOTFS [PACKAGE...]: sets W, RUNTIME (absolute), RT_NAME, ROOTFS.
e2e_init() {
  ENGINE=$1
  RUNTIME=$(readlink -f -- "$2")
  ROOTFS=$3
  shift 3
  RT_NAME=$(basename -- "$RUNTIME")
  [[ $(id -u) -eq 0 ]] || e2e_skip "needs root"
  [[ -x "$RUNTIME" ]] || e2e_skip "runtime $RUNTIME not found"
  [[ -x "$ROOTFS/bin/busybox" ]] || e2e_skip "no busybox rootfs at $ROOTFS (make rootfs)"
  local p
  for p in "$@"; do
    [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" == "install ok installed" ]] ||
      e2e_skip "Debian package $p is not installed (make deps)"
  done
  # Short: containerd's socket paths must fit in sun_path (108 bytes).
  W=/tmp/husk-e2e/$ENGINE-$RT_NAME
  mkdir -p /tmp/husk-e2e
  trap e2e_on_exit EXIT
}

# check NAME CONDITION-COMMAND...: counts one check; the command's status decides.
check() {
  local name=$1
  shift
  CHECKS=$((CHECKS + 1))
  if "$@"; then
    log "ok   $name"
  else
    FAILS=$((FAILS + 1))
    FAILED_NAMES+=("$name")
    log "FAIL $name"
  fi
}
eq() {
  [[ "$1" == "$2" ]] && return 0
  log "     want [$1]"
  log "     got  [$2]"
  return 1
}
contains() {
  [[ "$2" == *"$1"* ]] && return 0
  log "     want a substring [$1]"
  log "     in   [$2]"
  return 1
}

# capture VAR CMD...: runs CMD with a 60 s (or $TIMEOUT) limit, stdout+stderr into VAR
# with \r stripped; the exit status into RC.
capture() {
  local __var=$1
  shift
  local __out
  __out=$(timeout -k 5 "${TIMEOUT:-60}" "$@" 2>&1 </dev/null)
  RC=$?
  printf -v "$__var" '%s' "${__out//$'\r'/}"
}

# capture_tty VAR "COMMAND LINE": as capture, under script(1) so the client has a terminal
# (engines.md §3.3): its stdin is held open by a sleep until the client exits.
capture_tty() {
  local __var=$1 __cmd=$2 __out __sleeper
  exec {__in}< <(exec sleep 120)
  __sleeper=$!
  __out=$(timeout -k 5 "${TIMEOUT:-60}" script -qec "$__cmd" /dev/null <&$__in 2>&1)
  RC=$?
  exec {__in}<&-
  kill "$__sleeper" 2>/dev/null
  wait "$__sleeper" 2>/dev/null
  printf -v "$__var" '%s' "${__out//$'\r'/}"
}

# wait_for SECONDS CMD...: polls CMD every 100 ms until it succeeds.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

# start_daemon PIDFILE LOG CMD...: a new session with a clean environment and no fds
# above 2 (engines.md §3.1); the pid goes to PIDFILE.
start_daemon() {
  local pidfile=$1 logfile=$2
  shift 2
  (
    for fd in /proc/self/fd/*; do
      fd=${fd##*/}
      ((fd > 2)) && eval "exec $fd>&-" 2>/dev/null
    done
    exec setsid env -i PATH="$E2E_PATH" HOME=/root LANG=C.UTF-8 "$@" </dev/null >"$logfile" 2>&1
  ) &
  echo $! >"$pidfile"
}

# True when /proc/PID/cmdline names $W: the process is one of ours.
ours() { [[ -r /proc/$1/cmdline ]] && tr '\0' ' ' </proc/"$1"/cmdline 2>/dev/null | grep -qF -- "$W"; }

stop_daemon() {
  local pidfile=$1 pid i
  [[ -f "$pidfile" ]] || return 0
  pid=$(cat "$pidfile")
  if [[ -n "$pid" ]] && ours "$pid"; then
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 100; i++)); do
      [[ -d /proc/$pid ]] || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$pidfile"
}

our_pids() {
  local d pid
  for d in /proc/[0-9]*; do
    pid=${d#/proc/}
    [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
    ours "$pid" && echo "$pid"
  done
}
our_mounts() { awk -v w="$W" '$5 == w || index($5, w "/") == 1 { print $5 }' /proc/self/mountinfo; }

# Every mounted hierarchy's copy of cgroup PATH (relative), if it exists. Never one under
# process_api: that tree belongs to the machine's management process.
cgroup_dirs_of() {
  local rel=$1 m
  [[ "$rel" == *process_api* ]] && return 0
  for m in $(awk '$3 == "cgroup" || $3 == "cgroup2" { print $2 }' /proc/self/mounts); do
    [[ -d "$m/$rel" ]] && echo "$m/$rel"
  done
}
# Removes the cgroup trees (rmdir only, deepest first) of the given relative paths.
remove_cgroups() {
  local rel top
  for rel in "$@"; do
    for top in $(cgroup_dirs_of "$rel"); do
      find "$top" -depth -type d -exec rmdir {} \; 2>/dev/null
    done
  done
}

# Set by each test: its cgroup parents (relative paths) and host dirs to rmdir if empty.
E2E_CGROUPS=()
E2E_HOST_DIRS=()
# Runtime state roots the engines use: after teardown none may hold a container.
E2E_STATE_ROOTS=()
ENGINE_TEARDOWN=:

teardown() {
  "$ENGINE_TEARDOWN" 2>/dev/null
  local pid m d
  for pid in $(our_pids); do kill -KILL "$pid" 2>/dev/null; done
  sleep 0.2
  for m in $(our_mounts | sort -r); do umount -l "$m" 2>/dev/null; done
  [[ -d "$W" ]] && rm -rf --one-file-system "$W"
  remove_cgroups "${E2E_CGROUPS[@]}"
  for d in "${E2E_HOST_DIRS[@]}"; do rmdir "$d" 2>/dev/null; done
  return 0
}

leftovers() {
  local out="" rel r
  local pids mounts
  pids=$(our_pids | tr '\n' ' ')
  [[ -n "$pids" ]] && out+="processes: $pids ($(for p in $pids; do tr '\0' ' ' </proc/$p/cmdline; echo -n '; '; done)) "
  mounts=$(our_mounts | tr '\n' ' ')
  [[ -n "$mounts" ]] && out+="mounts: $mounts "
  for rel in "${E2E_CGROUPS[@]}"; do
    r=$(cgroup_dirs_of "$rel" | tr '\n' ' ')
    [[ -n "$r" ]] && out+="cgroups: $r "
  done
  for r in "${E2E_STATE_ROOTS[@]}"; do
    # '@' names are no container's (husk's compiled-seccomp cache, @seccomp).
    local left
    left=$(ls -A "$r" 2>/dev/null | grep -v '^@' | tr '\n' ' ')
    [[ -n "$left" ]] && out+="state in $r: $left "
  done
  printf '%s' "$out"
}

# Called once the engine's own teardown and daemons are stopped: nothing may remain.
check_nothing_left() {
  teardown
  local left
  left=$(leftovers)
  check "nothing left behind (processes, mounts, cgroups, state)" eq "" "$left"
}

e2e_on_exit() {
  local rc=$?
  teardown
  exit "$rc"
}

e2e_finish() {
  log "$CHECKS checks, $FAILS failed (engine $ENGINE, runtime $RUNTIME)"
  ((FAILS == 0)) && exit 0
  log "failed: ${FAILED_NAMES[*]}"
  exit 1
}

# make_image DIR NAME [CMD_JSON]: writes DIR/image.tar, one tarball that is both an OCI image
# layout and a docker-archive (engines.md §3.2) holding the busybox rootfs, and DIR/layer.tar.
# CMD_JSON is the image config's Cmd, ["/bin/sh"] unless given (the CRI test's pod sandbox
# runs the image's Cmd as its pause process).
make_image() {
  local dir=$1 name=$2 cmd=${3:-'["/bin/sh"]'} tmp
  tmp=$(mktemp -d "$dir/img.XXXXXX")
  mkdir -p "$tmp/blobs/sha256"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$ROOTFS" -cf "$dir/layer.tar" .
  local ld ls cd cs md ms
  blob() { # FILE -> moves it to blobs, sets B_D and B_S
    B_D=$(sha256sum "$1" | cut -d' ' -f1)
    B_S=$(stat -c %s "$1")
    mv "$1" "$tmp/blobs/sha256/$B_D"
  }
  cp "$dir/layer.tar" "$tmp/layer"
  blob "$tmp/layer"
  ld=$B_D ls=$B_S
  printf '{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":%s,"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
    "$cmd" "$ld" >"$tmp/config"
  blob "$tmp/config"
  cd=$B_D cs=$B_S
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
    "$cd" "$cs" "$ld" "$ls" >"$tmp/manifest"
  blob "$tmp/manifest"
  md=$B_D ms=$B_S
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"latest"}}]}' \
    "$md" "$ms" "$name" >"$tmp/index.json"
  printf '{"imageLayoutVersion":"1.0.0"}' >"$tmp/oci-layout"
  printf '[{"Config":"blobs/sha256/%s","RepoTags":["%s"],"Layers":["blobs/sha256/%s"]}]' \
    "$cd" "${name#docker.io/library/}" "$ld" >"$tmp/manifest.json"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$tmp" \
    -cf "$dir/image.tar" oci-layout index.json manifest.json blobs
  rm -rf "$tmp"
}

# The containerd config.toml of engines.md §4 for a daemon rooted at DIR. $1 = DIR,
# $2 = "cri" to keep the CRI plugin (its extra sections are appended by the caller).
containerd_config() {
  local dir=$1 cri=${2:-}
  local disabled='disabled_plugins = ["io.containerd.grpc.v1.cri"]'
  [[ "$cri" == cri ]] && disabled='disabled_plugins = []'
  cat <<EOF
version = 2
root = "$dir/root"
state = "$dir/state"
$disabled
[grpc]
  address = "$dir/containerd.sock"
[ttrpc]
  address = "$dir/containerd.sock.ttrpc"
[debug]
  address = "$dir/debug.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$dir/opt"
EOF
}
