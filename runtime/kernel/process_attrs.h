// Per-process attributes of the container init: rlimits, hostname and domainname,
// namespaced sysctls (validated in the parent, written in the child through a verified
// procfs fd: CVE-2025-52881), and the loopback interface of a new network namespace.
#ifndef HUSK_RUNTIME_KERNEL_PROCESS_ATTRS_H_
#define HUSK_RUNTIME_KERNEL_PROCESS_ATTRS_H_

#include <sys/resource.h>

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "spec/config.h"

namespace husk::kernel {

struct RlimitPlan {
  int resource = 0;
  std::string name;
  struct rlimit limit = {};
};
absl::StatusOr<std::vector<RlimitPlan>> PlanRlimits(const std::vector<spec::Rlimit>& rlimits);
absl::Status ApplyRlimits(const std::vector<RlimitPlan>& plans);

struct SysctlPlan {
  std::string key;   // as written in config.json
  std::string path;  // relative to /proc/sys
  std::string value;
};
// Only sysctls isolated by a namespace the container owns are allowed (like runc).
absl::StatusOr<std::vector<SysctlPlan>> PlanSysctls(const std::map<std::string, std::string>& sysctl,
                                                    bool new_ipc, bool new_uts, bool new_net);
// Child, after pivot_root: writes below the container's /proc/sys (must be procfs).
absl::Status ApplySysctls(const std::vector<SysctlPlan>& plans);

absl::Status SetHostname(const std::string& hostname, const std::string& domainname);
// Brings "lo" up in a fresh network namespace.
absl::Status LoopbackUp();

}  // namespace husk::kernel

#endif  // HUSK_RUNTIME_KERNEL_PROCESS_ATTRS_H_
