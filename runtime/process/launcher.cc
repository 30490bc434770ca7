#include "runtime/process/launcher.h"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "runtime/base/status.h"
#include "runtime/base/syscalls.h"
#include "runtime/kernel/namespaces.h"
#include "runtime/process/init.h"
#include "runtime/process/sync_channel.h"

namespace husk::process {

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return absl::StrCat("exit status ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return absl::StrCat("killed by signal ", strsignal(WTERMSIG(status)));
  return absl::StrCat("wait status ", status);
}

namespace {

// Kills and reaps what was started; both may be the same process.
// Kills and reaps what was started and not yet reaped (-1 = nothing); both may be the
// same process. Only our own children are signalled, so no pid can have been recycled.
void Reap(pid_t stage, pid_t init) {
  for (pid_t pid : {init, stage == init ? -1 : stage}) {
    if (pid <= 0) continue;
    kill(pid, SIGKILL);
    while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
}

class Server {
 public:
  Server(const InitPlan& plan, const LaunchOptions& options, const SyncChannel& channel,
         pid_t* stage, pid_t* init)
      : plan_(plan), options_(options), channel_(channel), stage_(stage), init_(init) {}

  // Serves the child's requests until the init reports ready.
  absl::Status Run() {
    while (true) {
      ASSIGN_OR_RETURN(Message message, Receive());
      switch (message.type) {
        case MsgType::kError: return ErrorFromMessage(message);
        case MsgType::kIdMapRequest:
          RETURN_IF_ERROR(kernel::WriteIdMappings(*stage_, plan_.uid_mappings, plan_.gid_mappings));
          RETURN_IF_ERROR(channel_.Send(MsgType::kIdMapDone));
          break;
        case MsgType::kTimeRequest:
          RETURN_IF_ERROR(kernel::WriteTimeOffsets(*stage_, plan_.time_offsets));
          RETURN_IF_ERROR(channel_.Send(MsgType::kTimeDone));
          break;
        case MsgType::kInitPid: SetInitPid(message); break;
        case MsgType::kConsole:
          if (!message.fd) return absl::InternalError("console message without a pty fd");
          if (!options_.on_console) return absl::InternalError("unexpected console fd");
          RETURN_IF_ERROR(options_.on_console(std::move(message.fd)));
          break;
        case MsgType::kSeccompListener:
          if (!message.fd) return absl::InternalError("seccomp listener message without an fd");
          if (!options_.on_seccomp_listener) return absl::InternalError("unexpected seccomp fd");
          RETURN_IF_ERROR(AwaitInitPid());
          RETURN_IF_ERROR(options_.on_seccomp_listener(std::move(message.fd), *init_));
          RETURN_IF_ERROR(channel_.Send(MsgType::kSeccompDone));
          break;
        case MsgType::kCreateHooks: RETURN_IF_ERROR(RunCreateHooks()); break;
        case MsgType::kReady: return AwaitInitPid();
        default:
          return absl::DataLossError(absl::StrCat("unexpected message ",
                                                  static_cast<int>(message.type), " from init"));
      }
    }
  }

 private:
  absl::StatusOr<Message> Receive() {
    auto message = channel_.Receive();
    if (message.ok() || message.status().code() != absl::StatusCode::kNotFound) return message;
    // EOF: the child died without reporting. Say how.
    int status = 0;
    pid_t dead = *init_ > 0 ? *init_ : *stage_;
    if (dead > 0 && waitpid(dead, &status, 0) == dead) {
      if (dead == *init_) *init_ = -1;
      if (dead == *stage_) *stage_ = -1;
      return absl::InternalError(absl::StrCat("container init exited unexpectedly (",
                                              DescribeWaitStatus(status), ")"));
    }
    return absl::InternalError("container init exited unexpectedly");
  }

  void SetInitPid(const Message& message) {
    *init_ = static_cast<pid_t>(message.value);
    // The stage process exits right after this message.
    if (*init_ != *stage_) {
      while (waitpid(*stage_, nullptr, 0) < 0 && errno == EINTR) {
      }
      *stage_ = -1;
    }
  }

  absl::Status RunCreateHooks() {
    if (!options_.on_create_hooks) {
      return absl::InternalError("unexpected request for create hooks");
    }
    RETURN_IF_ERROR(AwaitInitPid());
    absl::Status status = options_.on_create_hooks(*init_);
    if (!status.ok()) {
      (void)channel_.Send(MsgType::kError, 0, status.message());  // the init exits on it
      return status;
    }
    return channel_.Send(MsgType::kCreateHooksDone);
  }

  // In two stages the init runs while the stage is still to send kInitPid, so the init's
  // own messages may come first. The stage sends nothing else: wait for it here.
  absl::Status AwaitInitPid() {
    while (*init_ < 0) {
      ASSIGN_OR_RETURN(Message message, Receive());
      if (message.type == MsgType::kError) return ErrorFromMessage(message);
      if (message.type != MsgType::kInitPid) {
        return absl::DataLossError(absl::StrCat("unexpected message ",
                                                static_cast<int>(message.type),
                                                " while waiting for the init's pid"));
      }
      SetInitPid(message);
    }
    return absl::OkStatus();
  }

  const InitPlan& plan_;
  const LaunchOptions& options_;
  const SyncChannel& channel_;
  pid_t* stage_;
  pid_t* init_;
};

}  // namespace

absl::StatusOr<pid_t> Launch(const InitPlan& plan, const LaunchOptions& options) {
  ASSIGN_OR_RETURN(auto channels, SyncChannel::Pair());
  SyncChannel& parent_end = channels.first;
  SyncChannel& child_end = channels.second;
  pid_t stage = sys::Clone3(plan.clone_flags, SIGCHLD, plan.clone_cgroup_fd);
  int join_unified_fd = -1;
  // A kernel without CLONE_INTO_CGROUP (before 5.7: E2BIG for the larger clone_args, or
  // EINVAL for the flag; ENOSYS without clone3): clone plainly and let the child join.
  if (stage < 0 && plan.clone_cgroup_fd >= 0 &&
      (errno == E2BIG || errno == EINVAL || errno == ENOSYS)) {
    join_unified_fd = plan.clone_cgroup_fd;
    stage = sys::Clone3(plan.clone_flags, SIGCHLD, -1);
  }
  if (stage < 0) return ErrnoError("clone container process");
  if (stage == 0) {
    parent_end.Close();
    RunChild(plan, child_end, join_unified_fd);  // never returns
  }
  child_end.Close();
  pid_t init = plan.two_stage ? -1 : stage;
  absl::Status status = Server(plan, options, parent_end, &stage, &init).Run();
  if (!status.ok()) {
    Reap(stage, init);
    return status;
  }
  return init;
}

}  // namespace husk::process
