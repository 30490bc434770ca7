#include "runtime/kernel/capabilities.h"

#include <cap-ng.h>

#include <cctype>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "runtime/base/fs.h"
#include "runtime/base/status.h"

namespace husk::kernel {
namespace {

absl::StatusOr<uint64_t> ToMask(const std::optional<std::vector<std::string>>& names,
                                const char* set, int last_cap,
                                std::vector<std::string>* warnings) {
  uint64_t mask = 0;
  if (!names) return mask;
  for (const std::string& name : *names) {
    std::string lower;
    absl::string_view bare = name;
    if (!absl::ConsumePrefix(&bare, "CAP_")) {
      return absl::InvalidArgumentError(
          absl::StrCat("process/capabilities/", set, ": invalid capability name ", Quote(name)));
    }
    for (char c : bare) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    int cap = capng_name_to_capability(lower.c_str());
    if (cap < 0) {
      warnings->push_back(absl::StrCat("unknown capability ", Quote(name), " ignored"));
      continue;
    }
    if (cap > last_cap || cap > 63) {
      warnings->push_back(absl::StrCat("capability ", Quote(name), " is not supported by the running kernel; ignored"));
      continue;
    }
    mask |= uint64_t{1} << cap;
  }
  return mask;
}

void AddAll(uint64_t mask, capng_type_t type) {
  for (int cap = 0; cap < 64; ++cap) {
    if (mask & (uint64_t{1} << cap)) capng_update(CAPNG_ADD, type, static_cast<unsigned>(cap));
  }
}

}  // namespace

int LastCap() {
  auto text = ReadFile("/proc/sys/kernel/cap_last_cap", 64);
  int value = 40;
  if (text.ok() && absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &value)) return value;
  return 40;
}

absl::StatusOr<CapPlan> PlanCapabilities(const std::optional<spec::Capabilities>& caps,
                                         int last_cap, std::vector<std::string>* warnings) {
  CapPlan plan;
  if (!caps) return plan;
  plan.apply = true;
  ASSIGN_OR_RETURN(plan.bounding, ToMask(caps->bounding, "bounding", last_cap, warnings));
  ASSIGN_OR_RETURN(plan.effective, ToMask(caps->effective, "effective", last_cap, warnings));
  ASSIGN_OR_RETURN(plan.permitted, ToMask(caps->permitted, "permitted", last_cap, warnings));
  ASSIGN_OR_RETURN(plan.inheritable, ToMask(caps->inheritable, "inheritable", last_cap, warnings));
  ASSIGN_OR_RETURN(uint64_t ambient, ToMask(caps->ambient, "ambient", last_cap, warnings));
  // The kernel only keeps ambient capabilities that are permitted and inheritable.
  // The kernel only keeps ambient capabilities that are permitted and inheritable; runc's
  // own default spec lists ambient ones without inheritable, so this is no warning.
  plan.ambient = ambient & plan.permitted & plan.inheritable;
  return plan;
}

absl::Status DropBounding(const CapPlan& plan) {
  if (!plan.apply) return absl::OkStatus();
  capng_clear(CAPNG_SELECT_BOUNDS);
  AddAll(plan.bounding, CAPNG_BOUNDING_SET);
  if (capng_apply(CAPNG_SELECT_BOUNDS) != 0) return ErrnoError(EPERM, "drop bounding capabilities");
  return absl::OkStatus();
}

absl::Status ApplyCapabilities(const CapPlan& plan) {
  if (!plan.apply) return absl::OkStatus();
  capng_clear(CAPNG_SELECT_CAPS);
  AddAll(plan.effective, CAPNG_EFFECTIVE);
  AddAll(plan.permitted, CAPNG_PERMITTED);
  AddAll(plan.inheritable, CAPNG_INHERITABLE);
  if (capng_apply(CAPNG_SELECT_CAPS) != 0) return ErrnoError(EPERM, "set capabilities");
  capng_clear(CAPNG_SELECT_AMBIENT);
  AddAll(plan.ambient, CAPNG_AMBIENT);
  if (capng_apply(CAPNG_SELECT_AMBIENT) != 0) return ErrnoError(EPERM, "set ambient capabilities");
  return absl::OkStatus();
}

}  // namespace husk::kernel
