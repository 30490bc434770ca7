// `run`: create + start in one step. In the foreground husk is a subreaper, forwards
// signals to the init, proxies the pty when the container has a terminal and no console
// socket, and exits with the container's status; then deletes it unless --keep.
#include <sys/prctl.h>
#include <sys/wait.h>

#include "runtime/base/status.h"
#include "runtime/container.h"
#include "runtime/container_internal.h"
#include "runtime/supervise.h"

namespace husk {

absl::StatusOr<int> Run(const GlobalOptions& global, const RunOptions& options) {
  if (!options.detach && !options.no_subreaper && prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
    return ErrnoError("become subreaper");
  }
  if (!options.detach) internal::RecordSignalsUntilSupervised();
  pid_t init;
  UniqueFd console;
  {
    ASSIGN_OR_RETURN(internal::Created created,
                     internal::CreateContainer(global, options.create, !options.detach));
    init = created.pid;
    console = std::move(created.console);
  }  // releases the container lock for start
  absl::Status started = Start(global, options.create.id);
  if (!started.ok()) {
    (void)Delete(global, options.create.id, true);
    return started;
  }
  if (options.detach) return 0;
  ASSIGN_OR_RETURN(int status, internal::Supervise(init, console.get()));
  console.Reset();
  if (!options.keep) RETURN_IF_ERROR(Delete(global, options.create.id, true));
  return internal::ExitCodeOf(status);
}

}  // namespace husk
