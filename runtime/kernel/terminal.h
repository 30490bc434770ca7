// process.terminal: the pty is allocated inside the container (child, after pivot_root,
// from the container's devpts), the slave becomes /dev/console and fds 0-2, and the master
// travels to the caller's --console-socket (cli-contract.md §4: one SCM_RIGHTS fd, a
// non-empty payload, no reply).
#ifndef HUSK_RUNTIME_KERNEL_TERMINAL_H_
#define HUSK_RUNTIME_KERNEL_TERMINAL_H_

#include <sys/types.h>

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/base/unique_fd.h"
#include "spec/config.h"

namespace husk::kernel {

struct Pty {
  UniqueFd master;
  UniqueFd slave;
};

// Child: opens /dev/ptmx, sets the window size, gives the slave to `uid`, and (for the
// init) bind-mounts the slave over /dev/console.
absl::StatusOr<Pty> OpenPty(const std::optional<spec::ConsoleSize>& size, uid_t uid,
                            bool mount_console);
// Child: slave -> fds 0,1,2 and controlling terminal of the (new) session.
absl::Status AttachPty(int slave_fd);

// Parent: connects to `socket_path` and sends `master_fd` the way runc does.
absl::Status SendConsoleFd(const std::string& socket_path, int master_fd);

}  // namespace husk::kernel

#endif  // HUSK_RUNTIME_KERNEL_TERMINAL_H_
