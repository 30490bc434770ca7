// Pieces shared by the lifecycle commands in container.cc, run.cc and container_exec.cc: creating a
// container (optionally keeping the pty master for `run` in the foreground), loading one
// with its derived status, and destroying one. Parent only.
#ifndef HUSK_RUNTIME_CONTAINER_INTERNAL_H_
#define HUSK_RUNTIME_CONTAINER_INTERNAL_H_

#include <sys/types.h>

#include <string>

#include "absl/status/statusor.h"
#include "runtime/base/unique_fd.h"
#include "runtime/container.h"
#include "runtime/kernel/seccomp.h"
#include "runtime/state/status.h"
#include "runtime/state/store.h"
#include "spec/config.h"
#include "spec/state.h"

namespace husk::internal {

struct Created {
  state::ContainerDir dir;  // locked until this is destroyed
  pid_t pid = -1;           // our child until we exit
  state::Record record;
  UniqueFd console;         // pty master when no --console-socket was given (run)
};

// `foreground`: `run` without -d, which may keep the pty master itself.
absl::StatusOr<Created> CreateContainer(const GlobalOptions& global, const CreateOptions& options,
                                        bool foreground);

struct Loaded {
  state::ContainerDir dir;
  state::Record record;
  state::Status status;
};
// Locks the container and derives its status. "container does not exist" if absent.
absl::StatusOr<Loaded> LoadContainer(const GlobalOptions& global, const std::string& id);
// The same from an open store (`list` opens it once for all containers).
absl::StatusOr<Loaded> LoadFrom(const state::Store& store, const std::string& id);

absl::StatusOr<UniqueFd> OpenInit(const state::Record& record);
// Kills what is left, removes the cgroups husk created and the state directory.
absl::Status Destroy(Loaded& loaded);

std::string SocketPath(const state::ContainerDir& dir);

// The container's seccomp plan with its program: from the cache under the store's root
// when an earlier create compiled the same profile, else compiled (and cached). The
// program is also saved in `dir` for exec. (container_seccomp.cc)
absl::StatusOr<kernel::SeccompPlan> PlanContainerSeccomp(const state::Store& store,
                                                         const state::ContainerDir& dir,
                                                         const spec::Seccomp& profile);
// exec: the program (and seccomp(2) flags) PlanContainerSeccomp saved in `dir`; an
// empty plan when the container has no filter.
absl::StatusOr<kernel::SeccompPlan> LoadContainerSeccomp(const state::ContainerDir& dir);
// Connects to plan.listener_path and sends the container process state for `state`
// with the notify fd, as config-linux.md describes.
absl::Status SendToSeccompAgent(const kernel::SeccompPlan& plan, const spec::StateDoc& state,
                                int notify_fd);

}  // namespace husk::internal

#endif  // HUSK_RUNTIME_CONTAINER_INTERNAL_H_
