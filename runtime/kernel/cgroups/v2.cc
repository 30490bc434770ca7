// cgroup2 specifics of a container's cgroup: which controllers the host offers, enabling
// them down to the container's dir, and the devices eBPF program.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "runtime/base/fs.h"
#include "runtime/base/status.h"
#include "runtime/base/unique_fd.h"
#include "runtime/kernel/cgroups/cgroups.h"
#include "runtime/kernel/cgroups/device_bpf.h"
#include "runtime/kernel/cgroups/device_rules.h"

namespace husk::kernel::cgroups {

std::vector<std::string> SplitControllers(std::string_view text) {
  return absl::StrSplit(absl::string_view(text.data(), text.size()), absl::ByAnyChar(" \n"),
                        absl::SkipEmpty());
}

absl::StatusOr<std::vector<std::string>> AvailableControllers(const std::string& dir) {
  ASSIGN_OR_RETURN(std::string text, husk::ReadFile(absl::StrCat(dir, "/cgroup.controllers")));
  return SplitControllers(text);
}

absl::Status EnableControllers(const std::string& mount_point, const std::string& path,
                               const std::vector<std::string>& wanted) {
  if (wanted.empty()) return absl::OkStatus();
  // Every ancestor of the leaf, the mount point included, must delegate the controllers
  // to its children ("+memory" in cgroup.subtree_control) for the leaf to have them.
  std::string dir = mount_point;
  std::vector<std::string> parts = absl::StrSplit(path, '/', absl::SkipEmpty());
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) absl::StrAppend(&dir, "/", parts[i - 1]);
    ASSIGN_OR_RETURN(std::string enabled_text,
                     husk::ReadFile(absl::StrCat(dir, "/cgroup.subtree_control")));
    std::vector<std::string> enabled = SplitControllers(enabled_text);
    std::vector<std::string> add;
    for (const std::string& c : wanted) {
      if (std::find(enabled.begin(), enabled.end(), c) == enabled.end()) add.push_back("+" + c);
    }
    if (add.empty()) continue;
    std::string value = absl::StrJoin(add, " ");
    absl::Status status = WriteFileAt(AT_FDCWD, absl::StrCat(dir, "/cgroup.subtree_control"), value);
    if (!status.ok()) {
      // EBUSY: the cgroup holds processes itself ("no internal processes" rule).
      return Annotate(status, absl::StrCat("enable controllers ", Quote(value), " in ", Quote(dir)));
    }
  }
  return absl::OkStatus();
}

absl::Status ApplyDeviceProgram(int cgroup_dir_fd, const std::string& dir,
                                const spec::Resources& resources,
                                const std::vector<spec::Device>& devices) {
  ASSIGN_OR_RETURN(std::vector<DeviceRule> rules, PlanDeviceRules(resources, devices));
  std::vector<bpf_insn> program = DeviceProgram(EmulateDeviceRules(rules));
  absl::StatusOr<UniqueFd> prog = LoadDeviceProgram(program);
  if (!prog.ok()) return Annotate(prog.status(), "linux/resources/devices");
  // The attachment lives as long as the cgroup; the program fd may close.
  absl::Status status = AttachDeviceProgram(cgroup_dir_fd, prog->get());
  if (!status.ok()) {
    return Annotate(status, absl::StrCat("linux/resources/devices: attach to ", Quote(dir)));
  }
  return absl::OkStatus();
}

}  // namespace husk::kernel::cgroups
