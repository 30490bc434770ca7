// Mounting one config.json `mounts` entry inside the container root with the new mount
// API: a detached mount (open_tree clone for binds, fsopen/fsmount otherwise) gets its
// attributes, then move_mount attaches it to a target fd resolved inside the root
// (design.md §5). Planning happens in the parent. For a container with a user namespace
// the parent also opens the bind sources (open_tree clones, with husk's own
// credentials: the user-namespaced init could not reach a source under a 0700
// directory) and the child attaches them by fd; otherwise the child clones each source
// when it mounts it, so mount ids, and mountinfo's order on Linux 6.8+, follow the
// config's order (runtime-tools checks it). Apply* run in the child, in its mount
// namespace, before pivot_root.
#ifndef HUSK_RUNTIME_KERNEL_MOUNTS_H_
#define HUSK_RUNTIME_KERNEL_MOUNTS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/base/unique_fd.h"
#include "runtime/kernel/mount_options.h"
#include "spec/config.h"

namespace husk::kernel {

// One cgroup hierarchy to expose under a `cgroup` mount: <dest>/<name>.
struct CgroupMountSource {
  std::string name;         // "cpu", "systemd", ... (basename of the host mount point)
  std::string host_dir;     // the container's directory on the host (bind source)
  std::vector<std::string> controllers;  // for a fresh mount with a cgroup namespace
  bool unified = false;
};

struct MountPlan {
  int index = 0;             // position in config.json, for error messages
  std::string destination;   // absolute, inside the container
  std::string source;        // bind: absolute host path (messages); otherwise the fs source
  UniqueFd source_tree;      // bind with a user namespace: the source, cloned by the parent
  std::string type;          // "bind" for binds
  MountOptions options;
  bool source_is_dir = true; // binds: what to create at the destination
  bool no_symlinks = false;  // proc, sysfs: refuse symlinks anywhere on the path
  int userns_fd = -1;        // idmapped mounts: a user namespace with the mount's mapping
  // "ro" on /dev: applied after /dev is populated (devices, /dev/pts, the console), like
  // husk's own cgroup tmpfs (the init calls RemountReadonly at the end of its setup).
  bool readonly_after_setup = false;
  bool readonly_after_setup_recursive = false;
};

// Parent side: plans every entry of config.mounts. `bundle` resolves relative bind sources.
// Filesystem options on a bind mount (which the kernel ignores) become a warning.
// `open_bind_sources`: clone the bind sources now (the container has a user namespace).
absl::StatusOr<std::vector<MountPlan>> PlanMounts(const spec::Config& config,
                                                  const std::string& bundle,
                                                  bool open_bind_sources,
                                                  std::vector<std::string>* warnings);

// Child side. `cgroups` feeds `cgroup` mounts; `cgroupns` says whether to mount fresh
// cgroup filesystems (own namespace) or bind the container's host directories.
absl::Status ApplyMount(int root_fd, const MountPlan& plan,
                        const std::vector<CgroupMountSource>& cgroups, bool cgroupns);

// Bind-mounts the object behind `source_fd` onto `target_fd` (both fds), optionally
// recursive and with extra attributes: used for masks, readonly paths, /dev/console.
absl::Status BindFd(int source_fd, int target_fd, bool recursive, uint64_t attr_set,
                    absl::string_view what);

}  // namespace husk::kernel

#endif  // HUSK_RUNTIME_KERNEL_MOUNTS_H_
