// Namespaces: which to create and which to join (fds opened in the parent from
// linux.namespaces[].path, checked to be of the right type), and the uid/gid maps the
// parent writes for a new user namespace. setns order puts the user namespace first.
#ifndef HUSK_RUNTIME_KERNEL_NAMESPACES_H_
#define HUSK_RUNTIME_KERNEL_NAMESPACES_H_

#include <sys/types.h>

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/base/unique_fd.h"
#include "spec/config.h"

namespace husk::kernel {

int CloneFlag(spec::NamespaceType type);

struct NamespaceJoin {
  spec::NamespaceType type;
  UniqueFd fd;
};

struct NamespacePlan {
  uint64_t create = 0;  // CLONE_NEW* of the namespaces to create
  std::vector<NamespaceJoin> join;  // user namespace first
  bool Has(spec::NamespaceType type) const;      // created or joined
  bool Creates(spec::NamespaceType type) const;
  bool Joins(spec::NamespaceType type) const;
};

absl::StatusOr<NamespacePlan> PlanNamespaces(const spec::Linux& linux_cfg);

// Parent: writes /proc/<pid>/uid_map and gid_map.
absl::Status WriteIdMappings(pid_t pid, const std::vector<spec::IdMapping>& uid_mappings,
                             const std::vector<spec::IdMapping>& gid_mappings);
// Parent: a user namespace with these mappings, held by an fd (for idmapped mounts). A
// short-lived child creates it; the child is reaped before this returns.
absl::StatusOr<UniqueFd> NewUsernsFd(const std::vector<spec::IdMapping>& uid_mappings,
                                     const std::vector<spec::IdMapping>& gid_mappings);

// Parent: writes /proc/<pid>/timens_offsets (before any process enters the namespace).
absl::Status WriteTimeOffsets(pid_t pid, const std::map<std::string, spec::TimeOffset>& offsets);

}  // namespace husk::kernel

#endif  // HUSK_RUNTIME_KERNEL_NAMESPACES_H_
