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
// SIGKILLs the init (if still the recorded process) and waits until it has exited.
absl::Status KillAndWait(const state::Record& record);
// Kills what is left, removes the cgroups husk created and the state directory.
absl::Status Destroy(Loaded& loaded);

std::string SocketPath(const state::ContainerDir& dir);
// Start's rendezvous: connects to exec.sock, waits for the init's acknowledgement (it
// runs the startContainer hooks first) and removes the socket. A failed startContainer
// hook comes back as the init's error text.
absl::Status ReleaseInit(const Loaded& c);

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

// Hooks run by the runtime-namespace commands (container_hooks.cc).
// The state a hook reads, from the record: status as given, the init's host pid.
spec::StateDoc HookState(const state::Record& record, const char* status);
// prestart then createRuntime, each in array order; the first failure is returned as
// `create "<id>": <phase> hook <i> ("<path>"): ...`.
absl::Status RunCreateRuntimeHooks(const spec::Hooks& hooks, const spec::StateDoc& state);
// Keeps poststart and poststop in <dir>/hooks.json (nothing when there are none).
absl::Status SaveHooks(const state::ContainerDir& dir, const std::optional<spec::Hooks>& hooks);
// What SaveHooks kept; no file means no hooks.
absl::StatusOr<spec::Hooks> LoadSavedHooks(const state::ContainerDir& dir);
// poststart with status "running"; on failure the container is killed and the error is
// `start "<id>": poststart hook <i> ...`.
absl::Status RunPoststart(const state::Record& record, const spec::Hooks& saved);
// poststop with status "stopped" and no pid: every hook runs, each failure is logged as
// a warning `<op> "<id>": poststop hook <i> ...`.
void RunPoststop(absl::string_view op, const spec::StateDoc& state,
                 const std::vector<spec::Hook>& poststop);

}  // namespace husk::internal

#endif  // HUSK_RUNTIME_CONTAINER_INTERNAL_H_
