// Device rules: planning from the spec, the v1 line format, and the v1 controller model.
#include "runtime/kernel/cgroups/device_rules.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "runtime/base/status.h"

namespace husk::kernel::cgroups {
namespace {

absl::Status Invalid(absl::string_view pointer, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(pointer, ": ", what));
}

// DeviceAccess bits of `access`, or 0 if it is not a non-empty subset of "rwm".
uint8_t ParseAccess(absl::string_view access) {
  uint8_t bits = 0;
  for (char c : access) {
    if (c == 'r') {
      bits |= kDevRead;
    } else if (c == 'w') {
      bits |= kDevWrite;
    } else if (c == 'm') {
      bits |= kDevMknod;
    } else {
      return 0;
    }
  }
  return bits;
}

std::string AccessText(uint8_t access) {
  return absl::StrCat((access & kDevRead) ? "r" : "", (access & kDevWrite) ? "w" : "",
                      (access & kDevMknod) ? "m" : "");
}

std::string NumberText(int64_t n) { return n < 0 ? "*" : absl::StrCat(n); }

// The kernel keeps numbers as u32 with ~0 meaning "*": larger values cannot be written.
constexpr int64_t kMaxDeviceNumber = 0xfffffffe;

absl::Status CheckNumber(absl::string_view pointer, const char* field, int64_t n) {
  if (n <= kMaxDeviceNumber) return absl::OkStatus();
  return Invalid(absl::StrCat(pointer, "/", field),
                 absl::StrCat("invalid ", field, " ", n, " (want at most ", kMaxDeviceNumber, ")"));
}

// runc's default allowed devices: mknod of anything, the standard /dev nodes, ptys, tun.
constexpr DeviceRule kDefaultAllowed[] = {
    {'c', -1, -1, kDevMknod, true}, {'b', -1, -1, kDevMknod, true}, {'c', 1, 3, kDevAll, true},
    {'c', 1, 5, kDevAll, true},     {'c', 1, 7, kDevAll, true},     {'c', 5, 0, kDevAll, true},
    {'c', 1, 8, kDevAll, true},     {'c', 1, 9, kDevAll, true},     {'c', 136, -1, kDevAll, true},
    {'c', 5, 2, kDevAll, true},     {'c', 10, 200, kDevAll, true},
};

// "*" -> -1, digits -> the number; nullopt otherwise.
std::optional<int64_t> ParseNumber(absl::string_view s) {
  if (s == "*") return -1;
  uint32_t n;
  if (s.empty() || !absl::SimpleAtoi(s, &n)) return std::nullopt;
  return n;
}

}  // namespace

absl::StatusOr<std::vector<DeviceRule>> PlanDeviceRules(const spec::Resources& r,
                                                        const std::vector<spec::Device>& devices) {
  std::vector<DeviceRule> out = {DeviceRule{}};  // 'a', deny, everything
  for (size_t i = 0; i < r.devices.size(); ++i) {
    const spec::DeviceCgroupRule& d = r.devices[i];
    std::string pointer = absl::StrCat("linux/resources/devices/", i);
    std::string type = d.type.value_or("a");
    if (type != "a" && type != "c" && type != "b") {
      return Invalid(absl::StrCat(pointer, "/type"),
                     absl::StrCat("invalid device type ", Quote(type), " (want a, c or b)"));
    }
    uint8_t access = ParseAccess(d.access.value_or("rwm"));
    if (access == 0) {
      return Invalid(absl::StrCat(pointer, "/access"),
                     absl::StrCat("invalid access ", Quote(d.access.value_or("")),
                                  " (want a non-empty subset of \"rwm\")"));
    }
    // The kernel treats any "a" rule as "everything" (it ignores numbers and access).
    if (type == "a") {
      out.push_back({'a', -1, -1, kDevAll, d.allow});
      continue;
    }
    // A negative number is a wildcard, as an absent one.
    int64_t major = d.major && *d.major >= 0 ? *d.major : -1;
    int64_t minor = d.minor && *d.minor >= 0 ? *d.minor : -1;
    RETURN_IF_ERROR(CheckNumber(pointer, "major", major));
    RETURN_IF_ERROR(CheckNumber(pointer, "minor", minor));
    out.push_back({type[0], major, minor, access, d.allow});
  }
  out.insert(out.end(), std::begin(kDefaultAllowed), std::end(kDefaultAllowed));
  for (size_t i = 0; i < devices.size(); ++i) {
    const spec::Device& d = devices[i];
    std::string pointer = absl::StrCat("linux/devices/", i);
    std::string type = d.type == "u" ? "c" : d.type;
    if (type == "p") continue;  // FIFOs are not policed by the devices cgroup
    if (type != "c" && type != "b") {
      return Invalid(absl::StrCat(pointer, "/type"),
                     absl::StrCat("invalid device type ", Quote(d.type)));
    }
    if (!d.major || !d.minor || *d.major < 0 || *d.minor < 0) {
      return Invalid(pointer, "major and minor are required for c, b and u devices");
    }
    RETURN_IF_ERROR(CheckNumber(pointer, "major", *d.major));
    RETURN_IF_ERROR(CheckNumber(pointer, "minor", *d.minor));
    out.push_back({type[0], *d.major, *d.minor, kDevAll, true});
  }
  return out;
}

std::string V1Line(const DeviceRule& rule) {
  return absl::StrCat(std::string(1, rule.type), " ", NumberText(rule.major), ":",
                      NumberText(rule.minor), " ", AccessText(rule.access));
}

std::optional<DeviceRule> ParseV1Line(std::string_view line, bool allow) {
  // Like the kernel: a line starting with "a" is "everything", whatever follows.
  if (!line.empty() && line[0] == 'a') return DeviceRule{'a', -1, -1, kDevAll, allow};
  std::vector<absl::string_view> parts =
      absl::StrSplit(absl::string_view(line.data(), line.size()), absl::ByAnyChar(" :"));
  if (parts.size() != 4 || (parts[0] != "c" && parts[0] != "b")) return std::nullopt;
  std::optional<int64_t> major = ParseNumber(parts[1]);
  std::optional<int64_t> minor = ParseNumber(parts[2]);
  uint8_t access = ParseAccess(parts[3]);
  if (!major || !minor || access == 0) return std::nullopt;
  return DeviceRule{parts[0][0], *major, *minor, access, allow};
}

DeviceState EmulateDeviceRules(const std::vector<DeviceRule>& rules) {
  DeviceState state;
  std::map<std::tuple<char, int64_t, int64_t>, uint8_t> exceptions;
  for (const DeviceRule& rule : rules) {
    if (rule.type == 'a') {
      state.default_allow = rule.allow;
      exceptions.clear();
      continue;
    }
    auto key = std::make_tuple(rule.type, rule.major, rule.minor);
    uint8_t& access = exceptions[key];
    // Against the default: the exception grows; with it: the exception shrinks.
    access = rule.allow != state.default_allow ? (access | rule.access) : (access & ~rule.access);
    if (access == 0) exceptions.erase(key);
  }
  for (const auto& [key, access] : exceptions) {
    const auto& [type, major, minor] = key;
    state.exceptions.push_back({type, major, minor, access, !state.default_allow});
  }
  return state;
}

}  // namespace husk::kernel::cgroups
