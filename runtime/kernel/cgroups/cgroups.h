// Cgroups for one container: detecting the host layout (v1, hybrid, v2), resolving
// linux.cgroupsPath, planning the v1 resource writes (pure), creating/applying/removing
// the directories, the allocation-free join from the cloned child, and the freezer/kill
// helpers, on v1, hybrid and pure v2 hosts. Parent process only, except JoinSelf (child,
// before execve). Does not know about systemd scopes or the state store.
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

// --systemd-cgroup (systemd.cc): linux.cgroupsPath is "slice:prefix:name" and names the
// transient unit "prefix-name.scope" under the slice (empty slice: system.slice, or
// user.slice rootless; absent path: husk-<id>.scope). InvalidArgument naming
// linux/cgroupsPath otherwise.
struct SystemdUnit {
  std::string slice;  // "system.slice"
  std::string unit;   // "docker-<id>.scope"
  bool operator==(const SystemdUnit&) const = default;
};
absl::StatusOr<SystemdUnit> ParseSystemdPath(const std::optional<std::string>& cgroups_path,
                                             std::string_view id, bool rootless = false);
// Whether a systemd manager could create the unit: FailedPrecondition saying why not
// when none answers (no /run/systemd/system, no private or system-bus socket). With one
// present: Unimplemented (the D-Bus driver is later work). Never OK yet.
absl::Status CheckSystemdDriver(const SystemdUnit& unit);

// One write into the container's cgroup: <dir of controller>/<file> = value.
struct FileWrite {
  std::string controller;  // "memory", "cpu", "devices" ... (v2: the controller to enable)
  std::string file;        // "memory.limit_in_bytes", "memory.max"
  std::string value;
  bool v2 = false;         // a file of the cgroup2 (unified) hierarchy
  std::string field;       // the JSON pointer that asked for it, for error messages
  // Written instead when `file` does not exist (BFQ's io.bfq.weight vs io.weight).
  std::string alt_file, alt_value;
  bool operator==(const FileWrite& o) const {
    return controller == o.controller && file == o.file && value == o.value && v2 == o.v2;
  }
};

// Pure: linux.resources (+ the linux.devices entries, each allowed "rwm") as ordered v1
// writes. Device rules: deny all, the spec's rules in order, runc's default allowed
// devices, then linux.devices. InvalidArgument naming the JSON pointer for bad values.
absl::StatusOr<std::vector<FileWrite>> PlanV1Resources(const spec::Resources& resources,
                                                       const std::vector<spec::Device>& devices);
// Pure: linux.resources (devices excepted: on cgroup v2 they are an eBPF program) as
// ordered cgroup2 writes (v2 = true). v1-style fields are converted as runc and crun do
// (the formulas are beside the code). `only`, when not empty, limits the plan to those
// controllers (a hybrid host whose v1 mounts lack one the unified hierarchy has).
// InvalidArgument naming the JSON pointer for values v2 cannot express.
absl::StatusOr<std::vector<FileWrite>> PlanV2Resources(const spec::Resources& resources,
                                                       const std::vector<std::string>& only = {});
// The v2 equivalent of a v1 controller ("blkio" -> "io"), "" if v2 has none.
std::string V2Controller(std::string_view v1_controller);

// Pure: the plan for this host: PlanV2Resources on a pure v2 host; else PlanV1Resources,
// with the writes of a controller that has no v1 mount but is in `v2_controllers` (the
// unified hierarchy's cgroup.controllers) planned for v2, and `unified` keys written to
// the cgroup2 hierarchy when their controller is there (or they are core cgroup.* files).
// A write no hierarchy can take is an error naming its field. Settings Linux no longer enforces (memory.kernel) are
// skipped with a warning appended to `warnings`.
absl::StatusOr<std::vector<FileWrite>> PlanResources(const Layout& layout,
                                                     const std::vector<std::string>& v2_controllers,
                                                     const spec::Resources& resources,
                                                     const std::vector<spec::Device>& devices,
                                                     std::vector<std::string>* warnings);

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

// Creates `path` (from ResolvePath) in every hierarchy (v1 ones and the cgroup2 one),
// seeds new v1 cpuset dirs from their parent, enables the cgroup2 controllers the plan
// needs (all the host has, on a pure v2 host) in every ancestor, refuses a frozen or
// non-empty cgroup, applies PlanResources' writes, and then the device rules: verified
// against devices.list on v1, an eBPF program attached to the cgroup2 dir otherwise.
// On failure removes what it created. Warnings (ignored settings) go to `warnings`.
absl::StatusOr<Setup> CreateAndApply(const Layout& layout, const std::string& path,
                                     const spec::Linux* linux_cfg,
                                     std::vector<std::string>* warnings = nullptr);

// update: applies `resources` (the container's whole new linux.resources) to its
// existing cgroup dirs, found in this host's hierarchies by mount point. Device rules only
// when `update_devices` (v1: deny-all then the allow list, never an allow-all moment;
// v2: a new eBPF program attached before the old one goes). memory.checkBeforeUpdate
// refuses a limit below the current usage.
absl::Status UpdateResources(const Layout& layout, const std::vector<std::string>& dirs,
                             const spec::Resources& resources,
                             const std::vector<spec::Device>& devices, bool update_devices,
                             std::vector<std::string>* warnings = nullptr);

// cgroup2 helpers. The controllers `dir`/cgroup.controllers lists.
absl::StatusOr<std::vector<std::string>> AvailableControllers(const std::string& dir);
std::vector<std::string> SplitControllers(std::string_view text);
// Writes "+c ..." into cgroup.subtree_control of mount_point and of every dir of `path`
// but the last, for the controllers of `wanted` not yet enabled there.
absl::Status EnableControllers(const std::string& mount_point, const std::string& path,
                               const std::vector<std::string>& wanted);
// Builds, loads and attaches (replacing husk's earlier one) the BPF_CGROUP_DEVICE
// program for the rules of `resources` + `devices`.
absl::Status ApplyDeviceProgram(int cgroup_dir_fd, const std::string& dir,
                                const spec::Resources& resources,
                                const std::vector<spec::Device>& devices);

// Child side, single-threaded, no allocation: writes "0" to <fd>/tasks (v1; moving only
// the calling thread skips the global threadgroup rwsem and its RCU grace period) or
// <fd>/cgroup.procs (v2). Returns 0 or the errno of the first failure.
int JoinSelf(const JoinTarget* targets, size_t n);
// Same, from parallel arrays (dir_fds[i] is in the cgroup2 hierarchy when unified[i]).
// Note: on hybrid hosts the cgroup.procs write into the unified dir takes the global
// threadgroup rwsem (~6-7 ms here, vs ~0.25 ms for all v1 `tasks` writes): prefer
// clone3(CLONE_INTO_CGROUP, UnifiedDirFd()) and leave the unified dir out of the join.
int JoinSelf(const int* dir_fds, const bool* unified, size_t n);

// rmdir deepest-first; EBUSY is retried for ~1 s (the last tasks are still exiting),
// removing child cgroups the container made inside its own first; ENOENT counts as done.
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
// create: every dir of the container must be empty (cgroup.procs): processes already in
// it would share its limits and be hit by pause, kill --all and delete.
absl::Status RefuseBusy(const Setup& setup);

// kill --all: freeze (if possible), signal every pid through a pidfd (ESRCH ignored),
// thaw. Signal 0 (an existence check) delivers nothing, so it skips the freeze. A
// vanished cgroup is not an error.
absl::Status SignalAll(const std::vector<std::string>& dirs, int sig);

}  // namespace husk::kernel::cgroups

#endif  // HUSK_RUNTIME_KERNEL_CGROUPS_CGROUPS_H_
