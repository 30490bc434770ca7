// /dev inside the container: the spec's default devices plus linux.devices (mknod, or a
// bind of the host node inside a user namespace), the standard symlinks and /dev/ptmx.
// PlanDevices runs in the parent; ApplyDevices in the child before pivot_root.
#ifndef HUSK_RUNTIME_KERNEL_DEVICES_H_
#define HUSK_RUNTIME_KERNEL_DEVICES_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "spec/config.h"

namespace husk::kernel {

struct DevicePlan {
  std::string path;  // absolute in the container
  mode_t type = 0;   // S_IFCHR, S_IFBLK, S_IFIFO
  unsigned major = 0, minor = 0;
  mode_t mode = 0666;
  uid_t uid = 0;
  gid_t gid = 0;
  int index = -1;    // position in linux.devices; -1 for a default device
};

struct DevSetup {
  bool setup_dev = true;   // false when /dev is a bind mount of the caller's choosing
  bool ptmx_symlink = false;  // a devpts is mounted on /dev/pts
  std::vector<DevicePlan> devices;
};

absl::StatusOr<DevSetup> PlanDevices(const spec::Config& config);
// `bind_host_nodes`: inside a user namespace mknod is refused, so bind the host's node.
absl::Status ApplyDevices(int root_fd, const DevSetup& setup, bool bind_host_nodes);

}  // namespace husk::kernel

#endif  // HUSK_RUNTIME_KERNEL_DEVICES_H_
