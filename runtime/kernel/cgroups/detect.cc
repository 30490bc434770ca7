// Host cgroup layout (mountinfo) and cgroupsPath resolution.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "runtime/base/fs.h"
#include "runtime/base/status.h"
#include "runtime/base/unique_fd.h"
#include "runtime/kernel/cgroups/cgroups.h"

namespace husk::kernel::cgroups {
namespace {

absl::string_view AbslView(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string Unescape(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' &&
        s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
      out.push_back(
          static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// Super options of a v1 mount that are not controllers.
bool IsControllerOption(absl::string_view opt) {
  static constexpr absl::string_view kNotControllers[] = {"rw",
                                                          "ro",
                                                          "noprefix",
                                                          "clone_children",
                                                          "xattr",
                                                          "cpuset_v2_mode",
                                                          "favordynmods",
                                                          "nofavordynmods",
                                                          "none",
                                                          "nsdelegate",
                                                          "memory_recursiveprot",
                                                          "memory_localevents",
                                                          "memory_hugetlb_accounting"};
  if (opt.empty()) return false;
  for (absl::string_view n : kNotControllers) {
    if (opt == n) return false;
  }
  if (absl::StartsWith(opt, "name=")) return true;
  return opt.find('=') == absl::string_view::npos;  // release_agent=... and friends
}

}  // namespace

bool Hierarchy::Has(std::string_view controller) const {
  return std::find(controllers.begin(), controllers.end(), controller) != controllers.end();
}

const Hierarchy* Layout::Find(std::string_view controller) const {
  for (const Hierarchy& h : hierarchies) {
    if (!h.unified && h.Has(controller)) return &h;
  }
  return nullptr;
}

const Hierarchy* Layout::Unified() const {
  for (const Hierarchy& h : hierarchies) {
    if (h.unified) return &h;
  }
  return nullptr;
}

Layout ParseMountinfo(std::string_view std_mountinfo) {
  Layout layout;
  std::optional<Hierarchy> unified;
  for (absl::string_view line : absl::StrSplit(AbslView(std_mountinfo), '\n')) {
    // "36 35 98:0 /root /mnt opts [optional...] - fstype source superopts"
    size_t sep = line.find(" - ");
    if (sep == absl::string_view::npos) continue;
    std::vector<absl::string_view> pre = absl::StrSplit(line.substr(0, sep), ' ');
    std::vector<absl::string_view> post =
        absl::StrSplit(line.substr(sep + 3), ' ', absl::SkipEmpty());
    if (pre.size() < 5 || post.size() < 3) continue;
    absl::string_view fstype = post[0];
    if (fstype != "cgroup" && fstype != "cgroup2") continue;
    Hierarchy h;
    h.mount_point = Unescape(pre[4]);
    if (fstype == "cgroup2") {
      h.unified = true;
      if (!unified) unified = std::move(h);
      continue;
    }
    for (absl::string_view opt : absl::StrSplit(post[2], ',')) {
      if (IsControllerOption(opt)) h.controllers.emplace_back(opt);
    }
    if (h.controllers.empty()) continue;
    std::sort(h.controllers.begin(), h.controllers.end());
    bool seen = false;
    for (const Hierarchy& other : layout.hierarchies) {
      if (other.controllers == h.controllers) seen = true;
    }
    if (!seen) layout.hierarchies.push_back(std::move(h));
  }
  bool v1_controllers = false;
  for (const Hierarchy& h : layout.hierarchies) {
    for (const std::string& c : h.controllers) {
      if (!absl::StartsWith(c, "name=")) v1_controllers = true;
    }
  }
  if (v1_controllers) {
    layout.mode = unified ? Mode::kHybrid : Mode::kLegacy;
  } else {
    layout.mode = unified ? Mode::kUnified : Mode::kLegacy;
  }
  if (unified) layout.hierarchies.push_back(std::move(*unified));
  return layout;
}

absl::StatusOr<Layout> Detect() {
  ASSIGN_OR_RETURN(std::string text, ReadFile("/proc/self/mountinfo", 4 << 20));
  Layout layout = ParseMountinfo(text);
  if (layout.hierarchies.empty()) {
    return absl::FailedPreconditionError("no cgroup filesystem is mounted");
  }
  return layout;
}

absl::StatusOr<std::string> ResolvePath(const std::optional<std::string>& cgroups_path,
                                        std::string_view std_id) {
  absl::string_view id = AbslView(std_id);
  std::string raw;
  if (!cgroups_path || cgroups_path->empty()) {
    raw = absl::StrCat("/husk/", id);
  } else if ((*cgroups_path)[0] == '/') {
    raw = *cgroups_path;
  } else {
    raw = absl::StrCat("/husk/", *cgroups_path);
  }
  std::vector<absl::string_view> parts;
  for (absl::string_view part : absl::StrSplit(raw, '/', absl::SkipEmpty())) {
    if (part == ".") continue;
    if (part == "..") {
      return absl::InvalidArgumentError(
          absl::StrCat("linux/cgroupsPath: ", Quote(cgroups_path ? *cgroups_path : raw),
                       ": \"..\" is not allowed"));
    }
    if (part.find('\0') != absl::string_view::npos) {
      return absl::InvalidArgumentError("linux/cgroupsPath: contains a NUL byte");
    }
    parts.push_back(part);
  }
  if (parts.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("linux/cgroupsPath: ", Quote(cgroups_path ? *cgroups_path : raw),
                     ": the root cgroup cannot hold a container"));
  }
  return absl::StrCat("/", absl::StrJoin(parts, "/"));
}

}  // namespace husk::kernel::cgroups
