#include "runtime/process/init.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "hooks/phases.h"
#include "runtime/base/fs.h"
#include "runtime/base/status.h"
#include "runtime/base/syscalls.h"
#include "runtime/kernel/cgroups/cgroups.h"
#include "runtime/kernel/rootfs.h"
#include "runtime/kernel/seccomp.h"
#include "runtime/kernel/terminal.h"
#include "runtime/kernel/user.h"
#include "runtime/process/init_steps.h"
#include "spec/state.h"

namespace husk::process {
namespace {

using NS = spec::NamespaceType;

absl::Status JoinNamespaces(const InitPlan& plan, const SyncChannel& channel) {
  for (const kernel::NamespaceJoin& j : plan.ns.join) {
    if (setns(j.fd.get(), kernel::CloneFlag(j.type)) != 0) {
      return ErrnoError(absl::StrCat("join ", spec::NamespaceTypeName(j.type), " namespace"));
    }
  }
  if (plan.ns.Creates(NS::kUser)) {
    if (unshare(CLONE_NEWUSER) != 0) return ErrnoError("create user namespace");
    RETURN_IF_ERROR(channel.Send(MsgType::kIdMapRequest));
    RETURN_IF_ERROR(channel.Expect(MsgType::kIdMapDone).status());
    RETURN_IF_ERROR(BecomeRootInUserns());
  } else if (plan.ns.Joins(NS::kUser)) {
    RETURN_IF_ERROR(BecomeRootInUserns());
  }
  uint64_t rest = plan.ns.create & ~static_cast<uint64_t>(CLONE_NEWUSER | CLONE_NEWCGROUP);
  if (rest != 0 && unshare(static_cast<int>(rest)) != 0) return ErrnoError("create namespaces");
  if (plan.ns.Creates(NS::kTime) && !plan.time_offsets.empty()) {
    RETURN_IF_ERROR(channel.Send(MsgType::kTimeRequest));
    RETURN_IF_ERROR(channel.Expect(MsgType::kTimeDone).status());
  }
  return absl::OkStatus();
}

absl::Status JoinCgroups(const InitPlan& plan, int join_unified_fd) {
  // Writing "0" from the still single-threaded child skips the slow pid-migration lock
  // path (perf-notes.md): the parent never writes our pid.
  int err = kernel::cgroups::JoinSelf(plan.cgroup_fds.data(),
                                      reinterpret_cast<const bool*>(plan.cgroup_unified.data()),
                                      plan.cgroup_fds.size());
  if (err == 0 && join_unified_fd >= 0) {
    const bool unified = true;
    err = kernel::cgroups::JoinSelf(&join_unified_fd, &unified, 1);
  }
  if (err != 0) return ErrnoError(err, "join cgroup");
  return absl::OkStatus();
}

// The hooks the init runs itself, in the container's namespaces, with the pid as the
// container sees it. With an empty `env` a hook gets the container process's env, as
// runc's init (whose own environment that is by then) gives it.
absl::Status RunInitHooks(const InitPlan& plan, hooks::Phase phase, const char* status) {
  const std::vector<spec::Hook>& list = phase == hooks::Phase::kCreateContainer
                                            ? plan.create_container_hooks
                                            : plan.start_container_hooks;
  if (list.empty()) return absl::OkStatus();
  spec::StateDoc state = plan.hook_state;
  state.status = status;
  state.pid = getpid();
  hooks::RunOptions options;
  options.fallback_env = &plan.env;
  absl::Status s =
      hooks::RunPhase(phase, list, spec::SerializeHookState(state, true), nullptr, options);
  const char* op = phase == hooks::Phase::kCreateContainer ? "create " : "start ";
  return Annotate(s, absl::StrCat(op, Quote(plan.id)));
}

// Mounts are set up, pivot_root is next: prestart and createRuntime run now in `create`
// (runtime namespaces), then createContainer here (paths still in the runtime's view).
absl::Status RunCreateHooks(const InitPlan& plan, const SyncChannel& channel) {
  if (plan.parent_create_hooks) {
    RETURN_IF_ERROR(channel.Send(MsgType::kCreateHooks));
    RETURN_IF_ERROR(channel.Expect(MsgType::kCreateHooksDone).status());
  }
  return RunInitHooks(plan, hooks::Phase::kCreateContainer, "creating");
}

absl::Status SetupRootfs(const InitPlan& plan, const SyncChannel& channel) {
  ASSIGN_OR_RETURN(UniqueFd root, kernel::PrepareRoot(plan.rootfs, plan.root_propagation));
  bool cgroupns = plan.ns.Has(NS::kCgroup);
  for (const kernel::MountPlan& m : plan.mounts) {
    RETURN_IF_ERROR(kernel::ApplyMount(root.get(), m, plan.cgroup_mounts, cgroupns));
  }
  RETURN_IF_ERROR(kernel::ApplyDevices(root.get(), plan.devices, plan.ns.Has(NS::kUser)));
  RETURN_IF_ERROR(RunCreateHooks(plan, channel));
  RETURN_IF_ERROR(kernel::EnterRoot(root.get(), plan.rootfs, plan.no_pivot));
  if (plan.root_propagation != 0) {
    RETURN_IF_ERROR(kernel::SetRootPropagation(plan.root_propagation, plan.root_propagation_recursive));
  }
  return absl::OkStatus();
}

// The shared steps (init_steps.h) with the init's plan.
absl::Status SwitchUser(const InitPlan& plan) {
  return process::SwitchUser(plan.caps, plan.uid, plan.gid, plan.additional_gids, plan.ns.Has(NS::kUser));
}
std::vector<std::string> FinalEnv(const InitPlan& plan) {
  return process::FinalEnv(plan.env, plan.uid);
}
absl::Status PassFds(const InitPlan& plan) { return process::PassFds(plan.preserve_fds); }
absl::Status EnterCwd(const InitPlan& plan, bool as_root, bool* entered) {
  return process::EnterCwd(plan.cwd, as_root, entered);
}
absl::Status LoadSeccomp(const InitPlan& plan, const SyncChannel& channel) {
  return process::LoadSeccomp(plan.seccomp, channel);
}

// Blocks until `start` connects to exec.sock, runs the startContainer hooks, then
// acknowledges ('0') so `start` can return. A failing hook is reported to `start`
// instead ('E' + the message, then EOF) and ends the init: `start` prints it, so it is
// not repeated on the container's stderr.
absl::Status WaitForStart(const InitPlan& plan) {
  int conn;
  do {
    conn = accept4(plan.listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
  } while (conn < 0 && errno == EINTR);
  if (conn < 0) return ErrnoError("wait for start");
  UniqueFd c(conn);
  absl::Status hooks = RunInitHooks(plan, hooks::Phase::kStartContainer, "created");
  if (!hooks.ok()) {
    std::string reply = absl::StrCat("E", hooks.message());
    if (write(c.get(), reply.data(), reply.size()) == static_cast<ssize_t>(reply.size())) _exit(1);
    return hooks;
  }
  char ack = '0';
  if (write(c.get(), &ack, 1) != 1) return ErrnoError("acknowledge start");
  return absl::OkStatus();
}

[[noreturn]] void RunInit(const InitPlan& plan, SyncChannel& channel) {
  if (plan.ns.Creates(NS::kCgroup) && unshare(CLONE_NEWCGROUP) != 0) {
    Die(channel, ErrnoError("create cgroup namespace"));
  }
  if (plan.ns.Creates(NS::kNetwork)) CHILD_CHECK(channel, kernel::LoopbackUp());
  CHILD_CHECK(channel, SetupRootfs(plan, channel));
  if (plan.ns.Has(NS::kUts)) CHILD_CHECK(channel, kernel::SetHostname(plan.hostname, plan.domainname));
  if (!plan.no_new_keyring) {
    std::string name = absl::StrCat("_ses.", plan.id);
    if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name.c_str()) < 0 && errno != ENOSYS) {
      Die(channel, ErrnoError("join session keyring"));
    }
  }
  UniqueFd slave;
  if (plan.terminal) {
    auto pty = kernel::OpenPty(plan.console_size, plan.uid, true);
    if (!pty.ok()) Die(channel, pty.status());
    CHILD_CHECK(channel, channel.Send(MsgType::kConsole, 0, {}, 0, pty->master.get()));
    slave = std::move(pty->slave);
  }
  CHILD_CHECK(channel, kernel::ApplySysctls(plan.sysctls));
  CHILD_CHECK(channel, kernel::MaskPaths(plan.masked_paths));
  CHILD_CHECK(channel, kernel::ReadonlyPaths(plan.readonly_paths));
  for (const kernel::MountPlan& m : plan.mounts) {
    if (m.readonly_after_setup) {
      CHILD_CHECK(channel, kernel::RemountReadonly(m.destination, m.readonly_after_setup_recursive));
    }
  }
  if (plan.readonly_root) CHILD_CHECK(channel, kernel::RemountReadonly("/"));
  if (setsid() < 0) Die(channel, ErrnoError("setsid"));
  if (slave) {
    CHILD_CHECK(channel, kernel::AttachPty(slave.get()));
    slave.Reset();
  }
  CHILD_CHECK(channel, kernel::ApplyRlimits(plan.rlimits));
  if (plan.no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    Die(channel, ErrnoError("set no_new_privs"));
  }
  // Before any filter is loaded: a profile may lack close_range (runtime-tools' default,
  // older Docker profiles), and nothing opened after this reaches the container.
  CHILD_CHECK(channel, PassFds(plan));
  const bool seccomp_early = plan.seccomp.Enabled() && !plan.no_new_privileges;
  const bool seccomp_before_ready =
      plan.seccomp.Enabled() && plan.no_new_privileges && plan.seccomp.listener;
  // The cwd is entered and verified, and the environment read, before any filter: a
  // profile may refuse getcwd to the container (runtime-tools' linux_seccomp does).
  bool cwd_entered = false;
  CHILD_CHECK(channel, EnterCwd(plan, /*as_root=*/true, &cwd_entered));
  std::vector<std::string> env = FinalEnv(plan);
  if (seccomp_early) CHILD_CHECK(channel, LoadSeccomp(plan, channel));
  CHILD_CHECK(channel, SwitchUser(plan));
  if (plan.umask) umask(*plan.umask);
  if (!cwd_entered) CHILD_CHECK(channel, EnterCwd(plan, /*as_root=*/false, &cwd_entered));
  auto path = LookPath(plan.args[0], env);
  if (!path.ok()) Die(channel, path.status());

  std::vector<char*> argv, envp;
  for (const std::string& a : plan.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  if (seccomp_before_ready) CHILD_CHECK(channel, LoadSeccomp(plan, channel));
  CHILD_CHECK(channel, channel.Send(MsgType::kReady));
  channel.Close();
  CHILD_CHECK(channel, WaitForStart(plan));
  // The user program starts with no blocked signals and default dispositions, whatever
  // the caller of husk had (an ignored SIGPIPE, `run`'s forwarding handlers...).
  ResetSignals();
  // With no_new_privileges and no listener, the filter goes in last: execve is the only
  // syscall of husk's it sees.
  if (plan.seccomp.Enabled() && !seccomp_early && !seccomp_before_ready) {
    CHILD_CHECK(channel, kernel::InstallSeccomp(plan.seccomp).status());
  }
  execve(path->c_str(), argv.data(), envp.data());
  Die(channel, ErrnoError(absl::StrCat("exec ", Quote(*path))));
}

}  // namespace

absl::StatusOr<std::string> LookPath(const std::string& file, const std::vector<std::string>& env) {
  auto check = [&](const std::string& candidate) -> absl::Status {
    struct stat st;
    if (stat(candidate.c_str(), &st) != 0) return ErrnoError(absl::StrCat("stat ", candidate));
    if (S_ISDIR(st.st_mode)) return ErrnoError(EACCES, absl::StrCat("exec: ", Quote(file)));
    if (faccessat(AT_FDCWD, candidate.c_str(), X_OK, AT_EACCESS) != 0) {
      return ErrnoError(absl::StrCat("exec: ", Quote(file)));
    }
    return absl::OkStatus();
  };
  if (file.find('/') != std::string::npos) {
    absl::Status s = check(file);
    if (s.ok()) return file;
    if (absl::StartsWith(s.message(), "stat ")) {
      return StatusWithErrno(StatusErrno(s).value_or(ENOENT),
                             absl::StrCat("exec: ", Quote(file), ": ", s.message()));
    }
    return s;
  }
  std::string path_var;
  for (const std::string& e : env) {
    if (absl::StartsWith(e, "PATH=")) path_var = e.substr(5);
  }
  absl::Status denied;
  for (absl::string_view dir : absl::StrSplit(path_var, ':')) {
    std::string candidate = absl::StrCat(dir.empty() ? "." : dir, "/", file);
    absl::Status s = check(candidate);
    if (s.ok()) return candidate;
    if (StatusErrno(s) == EACCES && denied.ok()) denied = s;
  }
  if (!denied.ok()) return denied;
  return StatusWithErrno(ENOENT, absl::StrCat("exec: ", Quote(file),
                                              ": executable file not found in $PATH"));
}

namespace {

// The clone inherited every fd of `husk create`, among them the locked state directory
// (a held flock would block `start`) and the log. Keep only what the plan names.
void CloseInheritedFds(const InitPlan& plan, int channel_fd, int join_unified_fd) {
  std::vector<int> keep = {channel_fd, plan.listen_fd, join_unified_fd};
  keep.insert(keep.end(), plan.cgroup_fds.begin(), plan.cgroup_fds.end());
  for (const kernel::NamespaceJoin& j : plan.ns.join) keep.push_back(j.fd.get());
  for (const UniqueFd& fd : plan.idmap_userns) keep.push_back(fd.get());
  for (const kernel::MountPlan& m : plan.mounts) keep.push_back(m.source_tree.get());
  CloseFdsExcept(3 + static_cast<unsigned>(plan.preserve_fds), std::move(keep));
}

}  // namespace

void RunChild(const InitPlan& plan, SyncChannel& channel, int join_unified_fd) {
  CloseInheritedFds(plan, channel.fd(), join_unified_fd);
  // Not dumpable until execve: the container cannot ptrace or open /proc/<pid>/ of this
  // process while it still holds host fds (CVE-2016-9962).
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  CHILD_CHECK(channel, JoinCgroups(plan, join_unified_fd));
  if (!plan.two_stage) {
    if (plan.ns.Creates(NS::kUser)) {
      CHILD_CHECK(channel, channel.Send(MsgType::kIdMapRequest));
      CHILD_CHECK(channel, channel.Expect(MsgType::kIdMapDone).status());
      CHILD_CHECK(channel, BecomeRootInUserns());
    }
    RunInit(plan, channel);
  }
  CHILD_CHECK(channel, JoinNamespaces(plan, channel));
  // setns/unshare of pid and time namespaces only apply to children: fork the init
  // as a sibling (CLONE_PARENT) so `husk create` stays its parent, as in one stage.
  // clone3 refuses CLONE_PARENT with an exit_signal (EINVAL): the sibling inherits ours,
  // SIGCHLD.
  pid_t pid = sys::Clone3(CLONE_PARENT, 0);
  if (pid < 0) Die(channel, ErrnoError("fork container init"));
  if (pid == 0) RunInit(plan, channel);
  CHILD_CHECK(channel, channel.Send(MsgType::kInitPid, pid));
  _exit(0);
}

}  // namespace husk::process
