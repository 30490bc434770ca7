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

absl::Status Serve(const InitPlan& plan, const LaunchOptions& options, const SyncChannel& channel,
                   pid_t* stage_ptr, pid_t* init) {
  const pid_t stage = *stage_ptr;
  while (true) {
    auto message = channel.Receive();
    if (!message.ok()) {
      if (message.status().code() != absl::StatusCode::kNotFound) return message.status();
      // EOF: the child died without reporting. Say how.
      int status = 0;
      pid_t dead = *init > 0 ? *init : *stage_ptr;
      if (dead > 0 && waitpid(dead, &status, 0) == dead) {
        if (dead == *init) *init = -1;
        if (dead == *stage_ptr) *stage_ptr = -1;
        return absl::InternalError(absl::StrCat("container init exited unexpectedly (",
                                                DescribeWaitStatus(status), ")"));
      }
      return absl::InternalError("container init exited unexpectedly");
    }
    switch (message->type) {
      case MsgType::kError: return ErrorFromMessage(*message);
      case MsgType::kIdMapRequest:
        RETURN_IF_ERROR(kernel::WriteIdMappings(stage, plan.uid_mappings, plan.gid_mappings));
        RETURN_IF_ERROR(channel.Send(MsgType::kIdMapDone));
        break;
      case MsgType::kTimeRequest:
        RETURN_IF_ERROR(kernel::WriteTimeOffsets(stage, plan.time_offsets));
        RETURN_IF_ERROR(channel.Send(MsgType::kTimeDone));
        break;
      case MsgType::kInitPid: {
        *init = static_cast<pid_t>(message->value);
        int status = 0;
        // The stage process exits right after this message.
        if (*init != stage) {
          while (waitpid(stage, &status, 0) < 0 && errno == EINTR) {
          }
          *stage_ptr = -1;
        }
        break;
      }
      case MsgType::kConsole:
        if (!message->fd) return absl::InternalError("console message without a pty fd");
        if (!options.on_console) return absl::InternalError("unexpected console fd");
        RETURN_IF_ERROR(options.on_console(std::move(message->fd)));
        break;
      case MsgType::kReady: return absl::OkStatus();
      default:
        return absl::DataLossError(absl::StrCat("unexpected message ",
                                                static_cast<int>(message->type), " from init"));
    }
  }
}

}  // namespace

absl::StatusOr<pid_t> Launch(const InitPlan& plan, const LaunchOptions& options) {
  ASSIGN_OR_RETURN(auto channels, SyncChannel::Pair());
  SyncChannel& parent_end = channels.first;
  SyncChannel& child_end = channels.second;
  pid_t stage = sys::Clone3(plan.clone_flags, SIGCHLD, plan.clone_cgroup_fd);
  if (stage < 0) return ErrnoError("clone container process");
  if (stage == 0) {
    parent_end.Close();
    RunChild(plan, child_end);  // never returns
  }
  child_end.Close();
  pid_t init = plan.two_stage ? -1 : stage;
  absl::Status status = Serve(plan, options, parent_end, &stage, &init);
  if (!status.ok()) {
    Reap(stage, init);
    return status;
  }
  return init;
}

}  // namespace husk::process
