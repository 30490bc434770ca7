// ProcessPlan: what the container init and an exec'd process both apply to themselves
// from a spec::Process (rlimits, capabilities, no_new_privileges, seccomp, user, umask,
// args, env, cwd, terminal), resolved in the parent. InitPlan and ExecPlan extend it.
// Planning is parent only; the child reads the plan from its copy of the memory.
#ifndef HUSK_RUNTIME_PROCESS_PROCESS_PLAN_H_
#define HUSK_RUNTIME_PROCESS_PROCESS_PLAN_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "runtime/kernel/capabilities.h"
#include "runtime/kernel/process_attrs.h"
#include "runtime/kernel/seccomp.h"
#include "spec/config.h"

namespace husk::process {

struct ProcessPlan {
  std::vector<kernel::RlimitPlan> rlimits;
  kernel::CapPlan caps;
  bool no_new_privileges = false;
  // Filled by the caller (create compiles or reads it from the cache; exec reads the
  // container's saved copy). Loaded before the capability drop without
  // no_new_privileges (it needs CAP_SYS_ADMIN then), else as late as possible: right
  // before execve, or (create) before kReady when the notify fd must still reach `create`.
  kernel::SeccompPlan seccomp;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> additional_gids;
  std::optional<mode_t> umask;
  std::vector<std::string> args, env;
  std::string cwd = "/";
  bool terminal = false;
  std::optional<spec::ConsoleSize> console_size;
};

// Everything of `process` above but seccomp; unknown capabilities append warnings.
absl::Status PlanProcess(const spec::Process& process, ProcessPlan* plan,
                         std::vector<std::string>* warnings);

}  // namespace husk::process

#endif  // HUSK_RUNTIME_PROCESS_PROCESS_PLAN_H_
