// What husk implements of a valid config: one table of the fields husk refuses, either
// "not supported yet" or "not supported on Linux" (other platforms' fields). `husk
// features` reads the same table (IsImplemented), so the two cannot disagree. Run after
// ValidateConfig. Pure; parent only. Errors: `hooks/prestart: not supported yet`.
// linux.resources is not here: what a host can apply depends on its cgroup layout, so
// runtime/kernel/cgroups (PlanResources) refuses those fields, naming them.
#ifndef HUSK_SPEC_SUPPORT_H_
#define HUSK_SPEC_SUPPORT_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "spec/config.h"

namespace husk::spec {

// First refused field of `config`, pointer first; OK when husk can run it.
absl::Status CheckSupported(const Config& config);

// The process part alone (`exec --process`); `pointer` prefixes error pointers.
absl::Status CheckSupportedProcess(const Process& process, absl::string_view pointer = "process");

// False when the table refuses the field at `pointer`, a config.json pointer such as
// "hooks/prestart", "linux/seccomp" or "linux/resources/rdma"; true otherwise.
bool IsImplemented(absl::string_view pointer);

}  // namespace husk::spec

#endif  // HUSK_SPEC_SUPPORT_H_
