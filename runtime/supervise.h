// Foreground supervision for `run` and `exec` without --detach: signals that arrive
// while the process is being set up are recorded, then forwarded to it; the pty master
// (terminal without --console-socket) is proxied to husk's own stdio in raw mode; the
// result is the process's wait status. Parent only, after the child has been started.
#ifndef HUSK_RUNTIME_SUPERVISE_H_
#define HUSK_RUNTIME_SUPERVISE_H_

#include <sys/types.h>

#include "absl/status/statusor.h"

namespace husk::internal {

// Installs handlers that record the forwarded signals until Supervise runs. Call before
// the clone: the child inherits the handlers, which act as the default action there.
void RecordSignalsUntilSupervised();
// Waits for `pid` (our child), forwarding signals (recorded ones first) and the pty when
// `console` >= 0; returns its wait status.
absl::StatusOr<int> Supervise(pid_t pid, int console);
// The exit code for a wait status: the status, 128+N when killed by signal N.
int ExitCodeOf(int wait_status);

}  // namespace husk::internal

#endif  // HUSK_RUNTIME_SUPERVISE_H_
