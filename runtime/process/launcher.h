// The parent side of create: clones the child with the plan, serves its requests (id
// maps, time offsets, console fd) over the sync channel and returns the init's host pid
// once the init is ready and waiting for `start`. On failure nothing it started is left
// alive. Parent only; must be called while the process is single-threaded.
#ifndef HUSK_RUNTIME_PROCESS_LAUNCHER_H_
#define HUSK_RUNTIME_PROCESS_LAUNCHER_H_

#include <sys/types.h>

#include <functional>

#include "absl/status/statusor.h"
#include "runtime/base/unique_fd.h"
#include "runtime/process/init_plan.h"

namespace husk::process {

struct LaunchOptions {
  // Receives the pty master when process.terminal is set.
  std::function<absl::Status(UniqueFd master)> on_console;
  // Receives the seccomp notify fd (SCMP_ACT_NOTIFY) with the init's host pid; the init
  // waits until this returns, and a failure fails the launch.
  std::function<absl::Status(UniqueFd notify_fd, pid_t init)> on_seccomp_listener;
  // Runs the prestart and createRuntime hooks when the init asks (its namespaces and
  // mounts exist, pivot_root has not happened), given the init's host pid. The init
  // waits; a failure fails the launch.
  std::function<absl::Status(pid_t init)> on_create_hooks;
};

absl::StatusOr<pid_t> Launch(const InitPlan& plan, const LaunchOptions& options);

// "exit status N" / "killed by signal N" for a waitpid status.
std::string DescribeWaitStatus(int status);

}  // namespace husk::process

#endif  // HUSK_RUNTIME_PROCESS_LAUNCHER_H_
