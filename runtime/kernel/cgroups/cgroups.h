// Cgroups for one container: detecting the host layout (v1, hybrid, v2), resolving
// linux.cgroupsPath, planning the v1 resource writes (pure), creating/applying/removing
// the directories, the allocation-free join from the cloned child, and the freezer/kill
// helpers. Parent process only, except JoinSelf (child, before execve). Does not know
// about systemd scopes or the state store; cgroup v2 resource control is not done yet.
#ifndef HUSK_RUNTIME_KERNEL_CGROUPS_CGROUPS_H_
#define HUSK_RUNTIME_KERNEL_CGROUPS_CGROUPS_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/base/unique_fd.h"
#include "spec/config.h"

namespace husk::kernel::cgroups {

enum class Mode { kLegacy, kHybrid, kUnified };

struct Hierarchy {
  std::string mount_point;  // e.g. "/sys/fs/cgroup/memory"
  std::vector<std::string>
      controllers;       // {"cpu"}, {"cpu", "cpuacct"}, {"name=systemd"}; {} for cgroup2
  bool unified = false;  // the cgroup2 mount
  bool Has(std::string_view controller) const;
};

struct Layout {
  Mode mode = Mode::kLegacy;
  std::vector<Hierarchy> hierarchies;  // v1 in mountinfo order, then the cgroup2 mount (if any)
  // The hierarchy holding `controller` ("memory", "name=systemd"), or null.
  const Hierarchy* Find(std::string_view controller) const;
  const Hierarchy* Unified() const;
};

// Pure: reads the "cgroup"/"cgroup2" lines of a /proc/self/mountinfo text. Controllers come
// from the super options; the first mount of each hierarchy wins (bind mounts repeat it).
Layout ParseMountinfo(std::string_view mountinfo);
// Reads /proc/self/mountinfo. FailedPrecondition if no cgroup filesystem is mounted.
absl::StatusOr<Layout> Detect();

// linux.cgroupsPath -> the cgroup path below each hierarchy's mount point:
// absolute: cleaned ("//" and "." dropped); relative: "/husk/<rel>"; absent or "": "/husk/<id>".
// ".." anywhere or the root cgroup itself is an InvalidArgument naming linux/cgroupsPath.
absl::StatusOr<std::string> ResolvePath(const std::optional<std::string>& cgroups_path,
                                        std::string_view id);

// One write into the container's cgroup: <dir of controller>/<file> = value.
struct FileWrite {
  std::string controller;  // "memory", "cpu", "devices" ...
  std::string file;        // "memory.limit_in_bytes"
  std::string value;
  bool operator==(const FileWrite&) const = default;
};

// Pure: linux.resources (+ the linux.devices entries, each allowed "rwm") as ordered v1
// writes. Device rules: deny all, the spec's rules in order, runc's default allowed
// devices, then linux.devices. InvalidArgument naming the JSON pointer for bad values.
absl::StatusOr<std::vector<FileWrite>> PlanV1Resources(const spec::Resources& resources,
                                                       const std::vector<spec::Device>& devices);
// Pure: the devices.list the kernel shows after applying the devices writes of `plan`
// in order (v1 semantics: "a" resets, exact-match exceptions), sorted. Used to verify.
std::vector<std::string> ExpectedDevicesList(const std::vector<FileWrite>& plan);

// What CreateAndApply made. dirs/unified/dir_fds are parallel arrays.
struct Setup {
  std::vector<std::string> dirs;     // every hierarchy dir of the container (host paths)
  std::vector<bool> unified;         // dirs[i] is in the cgroup2 hierarchy
  std::vector<std::string> created;  // the leaf dirs husk made; remove on delete
  std::vector<UniqueFd> dir_fds;     // O_DIRECTORY|O_RDONLY|O_CLOEXEC, for JoinSelf / clone3
};

// A borrowed directory fd for JoinSelf.
struct JoinTarget {
  int dir_fd = -1;
  bool unified = false;  // write cgroup.procs (v2) instead of tasks (v1)
};
// Built in the parent before clone, so the child only reads it. Without the unified dir
// when `include_unified` is false (the caller used clone3(CLONE_INTO_CGROUP) instead).
std::vector<JoinTarget> JoinTargets(const Setup& setup, bool include_unified = true);
// The cgroup2 dir fd of the setup (for CLONE_INTO_CGROUP), or -1.
int UnifiedDirFd(const Setup& setup);

// Creates `path` (from ResolvePath) in every v1 hierarchy, and in the cgroup2 one on
// hybrid hosts, seeds new cpuset dirs from their parent, refuses a frozen cgroup
// (RefuseFrozen), applies the planned writes and verifies devices.list. On failure
// removes what it created. Pure v2: Unimplemented.
absl::StatusOr<Setup> CreateAndApply(const Layout& layout, const std::string& path,
                                     const spec::Linux* linux_cfg);

// Child side, single-threaded, no allocation: writes "0" to <fd>/tasks (v1; moving only
// the calling thread skips the global threadgroup rwsem and its RCU grace period) or
// <fd>/cgroup.procs (v2). Returns 0 or the errno of the first failure.
int JoinSelf(const JoinTarget* targets, size_t n);
// Same, from parallel arrays (dir_fds[i] is in the cgroup2 hierarchy when unified[i]).
// Note: on hybrid hosts the cgroup.procs write into the unified dir takes the global
// threadgroup rwsem (~6-7 ms here, vs ~0.25 ms for all v1 `tasks` writes): prefer
// clone3(CLONE_INTO_CGROUP, UnifiedDirFd()) and leave the unified dir out of the join.
int JoinSelf(const int* dir_fds, const bool* unified, size_t n);

// rmdir deepest-first; EBUSY is retried for ~1 s (the last tasks are still exiting);
// ENOENT counts as done.
absl::Status Destroy(const std::vector<std::string>& created);

// The pids in the container's cgroup (cgroup.procs of the pids, freezer or memory dir,
// else the first one). Empty if the directory is gone.
absl::StatusOr<std::vector<int>> Pids(const std::vector<std::string>& dirs);

// v1 freezer: write FROZEN/THAWED and wait until the kernel reports it.
// Freeze/Thaw: FailedPrecondition if there is no freezer dir among `dirs`.
absl::Status Freeze(const std::vector<std::string>& dirs);
absl::Status Thaw(const std::vector<std::string>& dirs);
// False when there is no freezer dir or it is gone.
absl::StatusOr<bool> IsFrozen(const std::vector<std::string>& dirs);

// create: the container must not start in a frozen cgroup (an existing one, or a new one
// under a frozen ancestor): its init would hang for ever in its first join. Reads the v1
// freezer.state and, for the cgroup2 dir, cgroup.freeze and cgroup.events. Error text
// starts with runc's "container's cgroup unexpectedly frozen".
absl::Status RefuseFrozen(const Setup& setup);

// kill --all: freeze (if possible), signal every pid through a pidfd (ESRCH ignored),
// thaw. Signal 0 (an existence check) delivers nothing, so it skips the freeze. A
// vanished cgroup is not an error.
absl::Status SignalAll(const std::vector<std::string>& dirs, int sig);

}  // namespace husk::kernel::cgroups

#endif  // HUSK_RUNTIME_KERNEL_CGROUPS_CGROUPS_H_
