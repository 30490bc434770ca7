// `exec`: a new process in an existing container (runc's exec): the process from the
// flags or --process file (exec_process.h), checked against the container's status,
// planned from the container's state (namespaces of the verified init, cgroup dirs, the
// saved seccomp program) and launched by process/exec.h. --detach returns once the
// process has called execve; otherwise husk forwards signals and the pty and exits with
// the process's status.
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "runtime/base/fd_passing.h"
#include "runtime/base/fs.h"
#include "runtime/base/log.h"
#include "runtime/base/status.h"
#include "runtime/base/syscalls.h"
#include "runtime/container.h"
#include "runtime/container_internal.h"
#include "runtime/exec_process.h"
#include "runtime/kernel/cgroups/cgroups.h"
#include "runtime/kernel/terminal.h"
#include "runtime/process/exec.h"
#include "runtime/supervise.h"
#include "spec/parse.h"

namespace husk {
namespace {

absl::Status CheckStatus(const internal::Loaded& c, bool ignore_paused) {
  if (c.status == state::Status::kStopped) {
    return absl::FailedPreconditionError("cannot exec in a stopped container");
  }
  if (c.status == state::Status::kPaused && !ignore_paused) {
    return absl::FailedPreconditionError(
        "cannot exec in a paused container (use --ignore-paused to override)");
  }
  return absl::OkStatus();
}

// runc's checkTerminal.
absl::Status CheckTerminal(const spec::Process& p, const ExecOptions& options) {
  if (options.detach && p.terminal && options.console_socket.empty()) {
    return absl::InvalidArgumentError(
        "cannot allocate tty if husk will detach without setting console socket");
  }
  if ((!options.detach || !p.terminal) && !options.console_socket.empty()) {
    return absl::InvalidArgumentError(
        "cannot use console socket if husk will not detach or allocate tty");
  }
  return absl::OkStatus();
}

// Each fd to pass must be open now, or one of husk's own would take the free number.
absl::Status CheckPreservedFds(int n) {
  struct rlimit nofile;
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && static_cast<rlim_t>(3) + n > nofile.rlim_cur) {
    return absl::InvalidArgumentError(
        absl::StrCat("--preserve-fds ", n, ": more fds than the open file limit"));
  }
  for (int fd = 3; fd < 3 + n; ++fd) {
    if (fcntl(fd, F_GETFD) < 0) {
      return ErrnoError(absl::StrCat("unable to stat preserved-fd ", fd - 3, " (of ", n, ")"));
    }
  }
  return absl::OkStatus();
}

// The dirs the process joins: the container's, or the --cgroup sub-cgroups of them.
absl::Status PlanCgroups(const state::Record& record, const ExecOptions& options,
                         process::ExecPlan& plan) {
  ASSIGN_OR_RETURN(auto subs, internal::ParseSubCgroups(options.cgroups));
  // The layout (a mountinfo read) only tells which v1 dir holds which controller.
  kernel::cgroups::Layout layout;
  if (!subs.empty()) {
    ASSIGN_OR_RETURN(layout, kernel::cgroups::Detect());
  }
  std::vector<bool> used(subs.size(), false);
  for (const std::string& dir : record.cgroup_dirs) {
    struct statfs fs;
    bool unified = statfs(dir.c_str(), &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
    std::string target = dir;
    for (size_t i = 0; i < subs.size(); ++i) {
      const auto& [ctrl, sub] = subs[i];
      bool match = ctrl.empty();
      if (!match && !unified) {
        for (const auto& h : layout.hierarchies) {
          if (!h.unified && h.Has(ctrl) && absl::StartsWith(dir, h.mount_point + "/")) match = true;
        }
      }
      if (!match) continue;
      used[i] = true;
      // Cleaned as an absolute path first: ".." cannot climb out of the container's.
      target = CleanPath(absl::StrCat(dir, CleanPath(absl::StrCat("/", sub))));
    }
    UniqueFd fd(open(target.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) return ErrnoError(absl::StrCat("open cgroup ", Quote(target)));
    if (unified) plan.clone_cgroup_fd = fd.get();
    plan.cgroup_dirs.push_back(std::move(fd));
    plan.cgroup_unified.push_back(unified ? 1 : 0);
  }
  for (size_t i = 0; i < subs.size(); ++i) {
    if (!used[i]) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--cgroup: the container has no cgroup of controller ", Quote(subs[i].first)));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<process::ExecPlan> PlanExec(const internal::Loaded& c, int pidfd,
                                           const spec::Process& p, const ExecOptions& options,
                                           std::vector<std::string>* warnings) {
  process::ExecPlan plan;
  ASSIGN_OR_RETURN(plan.join, process::OpenInitNamespaces(c.record.pid, pidfd));
  plan.fork_after_join =
      plan.Joins(spec::NamespaceType::kPid) || plan.Joins(spec::NamespaceType::kTime);
  RETURN_IF_ERROR(PlanCgroups(c.record, options, plan));
  plan.oom_score_adj = p.oom_score_adj;
  RETURN_IF_ERROR(process::PlanProcess(p, &plan, warnings));
  ASSIGN_OR_RETURN(plan.seccomp, internal::LoadContainerSeccomp(c.dir));
  plan.preserve_fds = options.preserve_fds;
  return plan;
}

absl::Status SendPidfd(const std::string& socket_path, pid_t pid) {
  std::string where = absl::StrCat("send pidfd to ", Quote(socket_path));
  UniqueFd pidfd(sys::PidfdOpen(pid));
  if (!pidfd) return ErrnoError(where);
  UniqueFd sock(ConnectUnixStream(socket_path.c_str()));
  if (!sock) return ErrnoError(where);
  char payload[] = "pidfd";  // runc's name for it
  struct iovec iov = {payload, sizeof(payload) - 1};
  if (SendMsgWithFd(sock.get(), &iov, 1, pidfd.get()) < 0) return ErrnoError(where);
  return absl::OkStatus();
}

// With the container locked: the checks and the plan, whose fds (namespaces, cgroup
// dirs) stay valid after the lock is gone. The launch runs unlocked, like runc's: a
// process joining a paused container (--ignore-paused) waits in the freezer until
// `resume`, which must be able to take the lock.
absl::StatusOr<process::ExecPlan> PlanLocked(const GlobalOptions& global,
                                             const ExecOptions& options,
                                             const std::optional<std::string>& process_json) {
  ASSIGN_OR_RETURN(internal::Loaded c, internal::LoadContainer(global, options.id));
  RETURN_IF_ERROR(CheckStatus(c, options.ignore_paused));
  // The bundle's config.json (with a seccomp profile, the largest document husk parses)
  // is read only when the process needs it.
  std::optional<absl::StatusOr<spec::Config>> config;
  auto load_config = [&]() -> const spec::Process* {
    if (!config) config = spec::LoadConfig(c.record.bundle + "/config.json");
    return config->ok() && (*config)->process ? &*(*config)->process : nullptr;
  };
  if (!process_json && load_config() == nullptr && !config->ok()) return config->status();
  ASSIGN_OR_RETURN(spec::Process p, internal::ExecProcess(options, process_json, load_config));
  RETURN_IF_ERROR(CheckTerminal(p, options));

  ASSIGN_OR_RETURN(UniqueFd pidfd, internal::OpenInit(c.record));
  std::vector<std::string> warnings;
  ASSIGN_OR_RETURN(process::ExecPlan plan, PlanExec(c, pidfd.get(), p, options, &warnings));
  for (const std::string& w : warnings) log::Warning(w);
  return plan;
}

// Returns the process's host pid once it has called execve.
absl::StatusOr<pid_t> StartProcess(const process::ExecPlan& plan, const ExecOptions& options,
                                   UniqueFd* console) {
  process::ExecLaunchOptions launch;
  launch.on_console = [&](UniqueFd master) -> absl::Status {
    if (options.console_socket.empty()) {
      *console = std::move(master);
      return absl::OkStatus();
    }
    return kernel::SendConsoleFd(options.console_socket, master.get());
  };
  if (!options.detach) internal::RecordSignalsUntilSupervised();
  absl::StatusOr<pid_t> pid = process::LaunchExec(plan, launch);
  if (!pid.ok()) return Annotate(pid.status(), "unable to start container process");
  return pid;
}

absl::StatusOr<int> ExecUnprefixed(const GlobalOptions& global, const ExecOptions& options) {
  // Before husk opens anything that could take the numbers of the fds to pass.
  RETURN_IF_ERROR(CheckPreservedFds(options.preserve_fds));
  // Callers delete the file as soon as husk exits, or even earlier on failure.
  std::optional<std::string> process_json;
  if (!options.process_file.empty()) {
    ASSIGN_OR_RETURN(process_json, ReadFile(options.process_file, spec::kMaxConfigBytes));
  }
  ASSIGN_OR_RETURN(process::ExecPlan plan, PlanLocked(global, options, process_json));
  UniqueFd console;
  absl::StatusOr<pid_t> pid = StartProcess(plan, options, &console);
  if (!pid.ok()) return pid.status();
  auto fail = [&](const absl::Status& status) {
    kill(*pid, SIGKILL);
    waitpid(*pid, nullptr, 0);
    return status;
  };
  if (!options.pidfd_socket.empty()) {
    absl::Status s = SendPidfd(options.pidfd_socket, *pid);
    if (!s.ok()) return fail(s);
  }
  if (!options.pid_file.empty()) {
    absl::Status s = WriteFileAtomic(options.pid_file, absl::StrCat(*pid), 0644);
    if (!s.ok()) return fail(Annotate(s, "write pid file"));
  }
  if (options.detach) return 0;
  ASSIGN_OR_RETURN(int status, internal::Supervise(*pid, console.get()));
  return internal::ExitCodeOf(status);
}

}  // namespace

absl::StatusOr<int> Exec(const GlobalOptions& global, const ExecOptions& options) {
  absl::StatusOr<int> code = ExecUnprefixed(global, options);
  if (!code.ok()) return Annotate(code.status(), "exec failed");
  return code;
}

}  // namespace husk
