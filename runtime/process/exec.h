// A new process in a running (or created) container, `husk exec`: the plan resolved in
// the parent, the parent side that clones the child and serves it, and the child side
// that joins the init's namespaces and cgroup and applies the process. Launch and the
// plan are parent only (single-threaded at clone time); RunExecChild is the child.
//
// Message sequence (P = husk exec, S = stage child, E = the exec'd process; S and E are
// the same process unless a pid or time namespace is joined, which only applies to
// children):
//
//   P                                   S / E
//   clone3 [CLONE_INTO_CGROUP] ─────────▶ S: not dumpable, close inherited fds,
//                                         join v1 cgroups ("0" to tasks), oom_score_adj,
//                                         setns user (first), the others
//                                         [S forks E with CLONE_PARENT]
//        ◀──────────────────── kInitPid   (S, value = host pid of E; S exits)
//                                         E: setsid, pty from the container's /dev/ptmx
//        ◀──────────── kConsole + fd      (terminal: the pty master)
//                                         rlimits, nnp, fds, cwd, env, seccomp, user
//        EOF ◀─────────────────────────── execve (the channel is CLOEXEC)
//   any step may instead send kError (errno + text) and _exit(1).
#ifndef HUSK_RUNTIME_PROCESS_EXEC_H_
#define HUSK_RUNTIME_PROCESS_EXEC_H_

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/base/unique_fd.h"
#include "runtime/kernel/capabilities.h"
#include "runtime/kernel/namespaces.h"
#include "runtime/kernel/process_attrs.h"
#include "runtime/kernel/seccomp.h"
#include "runtime/process/process_plan.h"
#include "spec/config.h"

namespace husk::process {

struct ExecPlan : ProcessPlan {
  // The init's namespaces that differ from husk's own, user namespace first.
  std::vector<kernel::NamespaceJoin> join;
  bool fork_after_join = false;  // a pid or time namespace is among them

  // v1 (and fallback cgroup2) dirs the stage joins by writing "0"; the cgroup2 dir is
  // joined by clone3(CLONE_INTO_CGROUP) when the kernel has it.
  std::vector<UniqueFd> cgroup_dirs;
  std::vector<char> cgroup_unified;
  int clone_cgroup_fd = -1;  // one of cgroup_dirs, or -1

  std::optional<int> oom_score_adj;
  // The rest of the process (rlimits, caps, seccomp: the container's saved program with
  // no listener, user, args, env, cwd, terminal) is the ProcessPlan base.
  int preserve_fds = 0;  // fds 3 .. 3+preserve_fds-1 are passed on
  bool Joins(spec::NamespaceType type) const;
};

// Opens the namespaces of `init_pid` that differ from ours, while `pidfd` (of the same
// process) proves the pid was not recycled: the process is checked alive after the opens.
absl::StatusOr<std::vector<kernel::NamespaceJoin>> OpenInitNamespaces(pid_t init_pid, int pidfd);

struct ExecLaunchOptions {
  // Receives the pty master when plan.terminal is set.
  std::function<absl::Status(UniqueFd master)> on_console;
};

// Starts the process and returns its host pid (our child) once it has called execve.
// On failure nothing it started is left alive.
absl::StatusOr<pid_t> LaunchExec(const ExecPlan& plan, const ExecLaunchOptions& options);

// The child (exec_child.cc). Never returns.
[[noreturn]] void RunExecChild(const ExecPlan& plan, class SyncChannel& channel, bool join_unified);

}  // namespace husk::process

#endif  // HUSK_RUNTIME_PROCESS_EXEC_H_
