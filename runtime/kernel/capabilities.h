// Capabilities: names resolved to bit sets in the parent (unknown or kernel-unsupported
// names are warnings, like runc), applied in the child through libcap-ng: the bounding set
// is dropped while still root, the other four sets after the uid switch.
#ifndef HUSK_RUNTIME_KERNEL_CAPABILITIES_H_
#define HUSK_RUNTIME_KERNEL_CAPABILITIES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "spec/config.h"

namespace husk::kernel {

struct CapPlan {
  bool apply = false;  // process.capabilities absent: leave the caps as they are (runc)
  uint64_t bounding = 0, effective = 0, permitted = 0, inheritable = 0, ambient = 0;
};

// `last_cap`: the kernel's /proc/sys/kernel/cap_last_cap. Warnings are appended.
absl::StatusOr<CapPlan> PlanCapabilities(const std::optional<spec::Capabilities>& caps,
                                         int last_cap, std::vector<std::string>* warnings);
int LastCap();  // reads /proc/sys/kernel/cap_last_cap (40 if unreadable)

absl::Status DropBounding(const CapPlan& plan);  // child, before the uid switch
absl::Status ApplyCapabilities(const CapPlan& plan);  // child, after the uid switch

}  // namespace husk::kernel

#endif  // HUSK_RUNTIME_KERNEL_CAPABILITIES_H_
