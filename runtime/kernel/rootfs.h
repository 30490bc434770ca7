// The container's root: propagation of the new mount namespace, the rootfs bind, the
// switch into it (pivot_root, or MS_MOVE+chroot with --no-pivot), masked and read-only
// paths, and the final read-only root. Child only, in its own mount namespace.
#ifndef HUSK_RUNTIME_KERNEL_ROOTFS_H_
#define HUSK_RUNTIME_KERNEL_ROOTFS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/base/unique_fd.h"

namespace husk::kernel {

// Makes "/" recursively `propagation` (MS_SLAVE when 0), bind-mounts `rootfs` onto itself
// and returns an fd of that bind mount's root for in-root resolution.
absl::StatusOr<UniqueFd> PrepareRoot(const std::string& rootfs, unsigned long propagation);

// Switches the process root to `root_fd` (the bind of `rootfs`); the old root is detached
// and gone. With `no_pivot` (MS_MOVE + chroot) the old mounts stay in the namespace, so
// every procfs and sysfs outside the rootfs is detached first (security-bar.md S-20: a
// reachable unmasked procfs would let the container mount a fresh one).
absl::Status EnterRoot(int root_fd, const std::string& rootfs, bool no_pivot);
// After EnterRoot: applies rootfsPropagation to "/" (when the config sets it).
absl::Status SetRootPropagation(unsigned long propagation, bool recursive);

// After EnterRoot. Masks: /dev/null over files, an empty read-only tmpfs over directories;
// missing paths are skipped. The /dev/null used is checked to be the real 1:3 device
// (CVE-2025-31133).
absl::Status MaskPaths(const std::vector<std::string>& paths);
absl::Status ReadonlyPaths(const std::vector<std::string>& paths);
// The mount at `path` (inside the root; "/" for root.readonly) made read-only, with its
// submounts when `recursive`.
absl::Status RemountReadonly(const std::string& path, bool recursive = false);

}  // namespace husk::kernel

#endif  // HUSK_RUNTIME_KERNEL_ROOTFS_H_
