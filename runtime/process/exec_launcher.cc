// The parent side of `husk exec` (exec.h): opens the init's namespaces, clones the stage
// child, serves its messages and waits for the channel's EOF, which execve causes.
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "runtime/base/status.h"
#include "runtime/base/syscalls.h"
#include "runtime/process/exec.h"
#include "runtime/process/launcher.h"
#include "runtime/process/sync_channel.h"

namespace husk::process {
namespace {

using NS = spec::NamespaceType;

// /proc/<pid>/ns names; the user namespace first, so the others are joined with the
// privileges it gives; time_for_children is what a joiner's children get.
struct NsFile {
  NS type;
  const char* name;
};
constexpr NsFile kNsFiles[] = {
    {NS::kUser, "user"}, {NS::kMount, "mnt"}, {NS::kPid, "pid"},       {NS::kNetwork, "net"},
    {NS::kIpc, "ipc"},   {NS::kUts, "uts"},   {NS::kCgroup, "cgroup"}, {NS::kTime, "time"},
};

bool SameFile(const struct stat& a, const struct stat& b) {
  return a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

void KillAndReap(pid_t pid) {
  if (pid <= 0) return;
  kill(pid, SIGKILL);
  while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

void Reap(pid_t pid) {
  while (pid > 0 && waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace

absl::StatusOr<std::vector<kernel::NamespaceJoin>> OpenInitNamespaces(pid_t init_pid, int pidfd) {
  std::vector<kernel::NamespaceJoin> out;
  for (const NsFile& ns : kNsFiles) {
    std::string path = absl::StrCat("/proc/", init_pid, "/ns/", ns.name);
    UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
      if (errno == ENOENT && ns.type == NS::kTime) continue;  // a kernel without timens
      return ErrnoError(absl::StrCat("open ", Quote(path)));
    }
    struct stat theirs, ours;
    std::string own = absl::StrCat("/proc/self/ns/", ns.name);
    if (fstat(fd.get(), &theirs) != 0) return ErrnoError(absl::StrCat("stat ", Quote(path)));
    // Joining our own user namespace is EINVAL; our own others would be a no-op.
    if (stat(own.c_str(), &ours) == 0 && SameFile(theirs, ours)) continue;
    out.push_back({ns.type, std::move(fd)});
  }
  // The pidfd was taken before the start time was checked: if that process is still
  // alive now, the files above are its namespaces, not those of a recycled pid.
  if (sys::PidfdSendSignal(pidfd, 0) != 0) {
    return absl::FailedPreconditionError("cannot exec in a stopped container");
  }
  return out;
}

absl::StatusOr<pid_t> LaunchExec(const ExecPlan& plan, const ExecLaunchOptions& options) {
  ASSIGN_OR_RETURN(auto channels, SyncChannel::Pair());
  SyncChannel& parent_end = channels.first;
  SyncChannel& child_end = channels.second;
  bool join_unified = false;
  pid_t stage = sys::Clone3(0, SIGCHLD, plan.clone_cgroup_fd);
  // No CLONE_INTO_CGROUP (before 5.7): clone plainly, the child joins cgroup.procs.
  if (stage < 0 && plan.clone_cgroup_fd >= 0 &&
      (errno == E2BIG || errno == EINVAL || errno == ENOSYS)) {
    join_unified = true;
    stage = sys::Clone3(0, SIGCHLD, -1);
  }
  if (stage < 0) return ErrnoError("clone exec process");
  if (stage == 0) {
    parent_end.Close();
    RunExecChild(plan, child_end, join_unified);
  }
  child_end.Close();
  pid_t process = plan.fork_after_join ? -1 : stage;
  auto fail = [&](absl::Status status) {
    KillAndReap(process);
    if (stage != process) KillAndReap(stage);
    return status;
  };
  while (true) {
    auto message = parent_end.Receive();
    if (!message.ok()) {
      if (message.status().code() != absl::StatusCode::kNotFound) return fail(message.status());
      break;  // EOF: every copy of the child's end is closed, by execve or by death
    }
    switch (message->type) {
      case MsgType::kError: {
        absl::Status error = ErrorFromMessage(*message);
        // The process may report before the stage has named it: learn its pid first, or
        // it would outlive the failure (and reach the caller's subreaper).
        while (process < 0) {
          auto pid_message = parent_end.Receive();
          if (!pid_message.ok()) break;
          if (pid_message->type == MsgType::kInitPid) {
            process = static_cast<pid_t>(pid_message->value);
            Reap(stage);
            stage = -1;
          }
        }
        return fail(error);
      }
      case MsgType::kInitPid:
        process = static_cast<pid_t>(message->value);
        Reap(stage);  // the stage exits right after this message
        stage = -1;
        break;
      case MsgType::kConsole: {
        if (!message->fd || !options.on_console) {
          return fail(absl::InternalError("unexpected console message"));
        }
        absl::Status s = options.on_console(std::move(message->fd));
        if (!s.ok()) return fail(s);
        break;
      }
      default:
        return fail(absl::DataLossError(absl::StrCat(
            "unexpected message ", static_cast<int>(message->type), " from the exec process")));
    }
  }
  if (process < 0) {
    // The stage died before it named the process.
    int status = 0;
    if (stage > 0 && waitpid(stage, &status, 0) == stage) {
      return absl::InternalError(
          absl::StrCat("exec process exited unexpectedly (", DescribeWaitStatus(status), ")"));
    }
    return absl::InternalError("exec process exited unexpectedly");
  }
  if (stage > 0 && stage != process) Reap(stage);
  return process;
}

}  // namespace husk::process
