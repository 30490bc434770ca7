// The table from config.json mount option strings to what the new mount API applies:
// mount attributes (plain and recursive r* forms), propagation, superblock flags and
// filesystem data. Pure; used by the parent to plan mounts (unit-tested).
#ifndef HUSK_RUNTIME_KERNEL_MOUNT_OPTIONS_H_
#define HUSK_RUNTIME_KERNEL_MOUNT_OPTIONS_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace husk::kernel {

struct MountOptions {
  bool bind = false;       // "bind" or "rbind"
  bool recursive = false;  // "rbind"
  // Mount attributes (MOUNT_ATTR_*) for the top mount, and for the whole tree (r* forms).
  uint64_t attr_set = 0, attr_clr = 0;
  uint64_t rec_attr_set = 0, rec_attr_clr = 0;
  uint64_t propagation = 0;  // MS_PRIVATE/MS_SHARED/MS_SLAVE/MS_UNBINDABLE or 0
  bool propagation_recursive = false;
  bool idmap = false, idmap_recursive = false;
  std::vector<std::string> sb_flags;  // superblock flags for fsconfig: sync, dirsync ...
  std::vector<std::pair<std::string, std::string>> data;  // fs options: key[=value]
};

// Unknown options become filesystem data, as mount(8) does. "tmpcopyup" is refused.
absl::StatusOr<MountOptions> ParseMountOptions(const std::vector<std::string>& options);

// The MS_* propagation flag for rootfsPropagation (shared, rslave ...); recursive via *rec.
absl::StatusOr<unsigned long> ParsePropagation(const std::string& value, bool* recursive);

}  // namespace husk::kernel

#endif  // HUSK_RUNTIME_KERNEL_MOUNT_OPTIONS_H_
