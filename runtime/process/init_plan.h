// InitPlan: everything the container's first process needs, resolved in the parent
// (parse, validate, caps, mounts, devices, sysctls, rlimits, cgroup fds) so the child only
// applies it. The child gets it as a copy-on-write copy of the parent's memory (clone3
// without CLONE_VM), so it holds plain values and fds, no pointers into parent-only state.
#ifndef HUSK_RUNTIME_PROCESS_INIT_PLAN_H_
#define HUSK_RUNTIME_PROCESS_INIT_PLAN_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/kernel/capabilities.h"
#include "runtime/kernel/devices.h"
#include "runtime/kernel/mounts.h"
#include "runtime/kernel/namespaces.h"
#include "runtime/kernel/process_attrs.h"
#include "runtime/kernel/seccomp.h"
#include "runtime/process/process_plan.h"
#include "spec/config.h"
#include "spec/state.h"

namespace husk::process {

struct InitPlan : ProcessPlan {
  std::string id;
  std::string rootfs;  // absolute host path

  // Namespaces. One stage: clone3 creates them all (but cgroup, unshared after the
  // cgroup join). Two stages when some are joined by path or a time namespace is made.
  kernel::NamespacePlan ns;
  bool two_stage = false;
  uint64_t clone_flags = 0;
  std::vector<spec::IdMapping> uid_mappings, gid_mappings;
  std::map<std::string, spec::TimeOffset> time_offsets;

  // cgroups: v1 directory fds the child joins by writing "0"; the cgroup2 directory is
  // joined by clone3(CLONE_INTO_CGROUP) instead (a "0" write there costs ~7 ms here).
  std::vector<int> cgroup_fds;
  std::vector<char> cgroup_unified;
  int clone_cgroup_fd = -1;
  std::vector<kernel::CgroupMountSource> cgroup_mounts;

  // Root filesystem.
  std::vector<kernel::MountPlan> mounts;
  std::vector<UniqueFd> idmap_userns;  // owns the MountPlan::userns_fd of idmapped mounts
  kernel::DevSetup devices;
  unsigned long root_propagation = 0;  // 0: rslave, runc's default
  bool root_propagation_recursive = false;
  bool no_pivot = false;
  bool readonly_root = false;
  std::vector<std::string> masked_paths, readonly_paths;

  // Process attributes.
  std::string hostname, domainname;  // set in a new or joined uts namespace when non-empty
  bool no_new_keyring = false;
  std::vector<kernel::SysctlPlan> sysctls;
  // rlimits, caps, no_new_privileges, seccomp, user, args, env, cwd, terminal: the
  // ProcessPlan base.

  // Hooks (cli-contract.md §7). prestart and createRuntime run in `create`: the init
  // asks for them (kCreateHooks) once its mounts are set up, before pivot_root. The init
  // runs createContainer itself right after, and startContainer once `start` connected.
  // hook_state has ociVersion, id, bundle and annotations; the init adds status and pid.
  bool parent_create_hooks = false;
  std::vector<spec::Hook> create_container_hooks, start_container_hooks;
  spec::StateDoc hook_state;

  int listen_fd = -1;     // bound+listening exec.sock; `start` connects to it
  int preserve_fds = 0;   // fds 3 .. 3+preserve_fds-1 are passed to the container
};

// Builds the plan for `config` (already validated and support-checked). Opens namespace
// fds; appends warnings (unknown capabilities...). Parent only.
absl::StatusOr<InitPlan> BuildInitPlan(const spec::Config& config, const std::string& id,
                                       const std::string& bundle,
                                       std::vector<std::string>* warnings);

}  // namespace husk::process

#endif  // HUSK_RUNTIME_PROCESS_INIT_PLAN_H_
