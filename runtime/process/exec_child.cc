// The child side of `husk exec` (exec.h): the stage that joins the container, and the
// process that becomes the user's program. Runs in the clone: single-threaded, ends in
// execve or _exit, reports failures over the sync channel (husk exec listens until the
// channel's EOF at execve).
#include <fcntl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "runtime/base/fs.h"
#include "runtime/base/status.h"
#include "runtime/base/syscalls.h"
#include "runtime/kernel/cgroups/cgroups.h"
#include "runtime/kernel/terminal.h"
#include "runtime/process/exec.h"
#include "runtime/process/init.h"
#include "runtime/process/init_steps.h"
#include "runtime/process/sync_channel.h"

namespace husk::process {
namespace {

using NS = spec::NamespaceType;

[[noreturn]] void Fail(const SyncChannel& channel, const absl::Status& status) {
  Die(channel, status, "husk exec");
}

#define EXEC_CHECK(channel, expr)                                  \
  do {                                                             \
    ::absl::Status husk_exec_status_ = (expr);                     \
    if (!husk_exec_status_.ok()) Fail(channel, husk_exec_status_); \
  } while (0)

void CloseInherited(const ExecPlan& plan, int channel_fd) {
  std::vector<int> keep = {channel_fd};
  for (const UniqueFd& fd : plan.cgroup_dirs) keep.push_back(fd.get());
  for (const kernel::NamespaceJoin& j : plan.join) keep.push_back(j.fd.get());
  CloseFdsExcept(3 + static_cast<unsigned>(plan.preserve_fds), std::move(keep));
}

// From the still single-threaded stage with host credentials: "0" into each dir (v1:
// tasks, skipping the slow pid-migration path; cgroup2 only without CLONE_INTO_CGROUP).
absl::Status JoinCgroups(const ExecPlan& plan, bool join_unified) {
  std::vector<int> fds;
  std::vector<char> unified;
  for (size_t i = 0; i < plan.cgroup_dirs.size(); ++i) {
    if (plan.cgroup_unified[i] && !join_unified) continue;
    fds.push_back(plan.cgroup_dirs[i].get());
    unified.push_back(plan.cgroup_unified[i]);
  }
  int err = kernel::cgroups::JoinSelf(fds.data(), reinterpret_cast<const bool*>(unified.data()),
                                      fds.size());
  if (err != 0) return ErrnoError(err, "join the container's cgroup");
  return absl::OkStatus();
}

// Before the user namespace: lowering the score needs CAP_SYS_RESOURCE on the host.
absl::Status SetOomScoreAdj(const ExecPlan& plan) {
  if (!plan.oom_score_adj) return absl::OkStatus();
  return Annotate(
      WriteFileAt(AT_FDCWD, "/proc/self/oom_score_adj", absl::StrCat(*plan.oom_score_adj)),
      "set oom_score_adj");
}

absl::Status JoinNamespaces(const ExecPlan& plan) {
  for (const kernel::NamespaceJoin& j : plan.join) {
    if (setns(j.fd.get(), kernel::CloneFlag(j.type)) != 0) {
      return ErrnoError(absl::StrCat("join ", spec::NamespaceTypeName(j.type), " namespace"));
    }
    if (j.type == NS::kUser) RETURN_IF_ERROR(BecomeRootInUserns());
  }
  return absl::OkStatus();
}

// A new session always (security-bar.md S-21: the caller's terminal never becomes the
// process's controlling tty); with a terminal, the pty comes from the container's devpts.
absl::Status SetupSession(const ExecPlan& plan, const SyncChannel& channel) {
  if (setsid() < 0) return ErrnoError("setsid");
  if (!plan.terminal) return absl::OkStatus();
  ASSIGN_OR_RETURN(kernel::Pty pty, kernel::OpenPty(plan.console_size, plan.uid, false));
  RETURN_IF_ERROR(channel.Send(MsgType::kConsole, 0, {}, 0, pty.master.get()));
  return kernel::AttachPty(pty.slave.get());
}

absl::Status SetNoNewPrivileges(const ExecPlan& plan) {
  if (plan.no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return ErrnoError("set no_new_privs");
  }
  return absl::OkStatus();
}

// The exec'd process, in every namespace of the container. The init's order (init.cc).
[[noreturn]] void RunProcess(const ExecPlan& plan, const SyncChannel& channel) {
  EXEC_CHECK(channel, SetupSession(plan, channel));
  EXEC_CHECK(channel, kernel::ApplyRlimits(plan.rlimits));
  EXEC_CHECK(channel, SetNoNewPrivileges(plan));
  // Before any filter (a profile may lack close_range); nothing opened later leaks in.
  EXEC_CHECK(channel, PassFds(plan.preserve_fds));
  bool cwd_entered = false;
  EXEC_CHECK(channel, EnterCwd(plan.cwd, /*as_root=*/true, &cwd_entered));
  std::vector<std::string> env = FinalEnv(plan.env, plan.uid);
  // Without no_new_privileges the filter needs CAP_SYS_ADMIN: load it before the drop.
  const bool seccomp_early = plan.seccomp.Enabled() && !plan.no_new_privileges;
  if (seccomp_early) EXEC_CHECK(channel, LoadSeccomp(plan.seccomp, channel));
  EXEC_CHECK(channel, SwitchUser(plan.caps, plan.uid, plan.gid, plan.additional_gids,
                                 plan.Joins(NS::kUser)));
  if (plan.umask) umask(*plan.umask);
  if (!cwd_entered) EXEC_CHECK(channel, EnterCwd(plan.cwd, /*as_root=*/false, &cwd_entered));
  auto path = LookPath(plan.args[0], env);
  if (!path.ok()) Fail(channel, path.status());
  std::vector<char*> argv = CStrings(plan.args);
  std::vector<char*> envp = CStrings(env);
  ResetSignals();
  // With no_new_privileges, last: execve is the only syscall of husk's the filter sees.
  if (plan.seccomp.Enabled() && !seccomp_early) {
    EXEC_CHECK(channel, kernel::InstallSeccomp(plan.seccomp).status());
  }
  execve(path->c_str(), argv.data(), envp.data());
  Fail(channel, ErrnoError(absl::StrCat("exec ", Quote(*path))));
}

}  // namespace

bool ExecPlan::Joins(spec::NamespaceType type) const {
  for (const kernel::NamespaceJoin& j : join) {
    if (j.type == type) return true;
  }
  return false;
}

void RunExecChild(const ExecPlan& plan, SyncChannel& channel, bool join_unified) {
  CloseInherited(plan, channel.fd());
  // Not dumpable until execve: nothing in the container may ptrace this process or open
  // its /proc/<pid>/ files while it holds host fds (CVE-2016-9962). Before any setns.
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  EXEC_CHECK(channel, JoinCgroups(plan, join_unified));
  EXEC_CHECK(channel, SetOomScoreAdj(plan));
  EXEC_CHECK(channel, JoinNamespaces(plan));
  if (!plan.fork_after_join) RunProcess(plan, channel);
  // A joined pid (or time) namespace applies to children only: fork the process as a
  // sibling (CLONE_PARENT) so husk exec is its parent and the caller's subreaper gets it
  // after husk exits. The sibling inherits our exit signal, SIGCHLD.
  pid_t pid = sys::Clone3(CLONE_PARENT, 0);
  if (pid < 0) Fail(channel, ErrnoError("fork the exec process"));
  if (pid == 0) RunProcess(plan, channel);
  EXEC_CHECK(channel, channel.Send(MsgType::kInitPid, pid));
  _exit(0);
}

}  // namespace husk::process
