// Device access rules as data: the ordered allow/deny list a container gets (the spec's
// linux.resources.devices, runc's defaults, linux.devices), their cgroup v1 spelling, and
// the state the v1 devices controller reaches after them. Pure; parent process only.
// Writing the rules (v1 files) and compiling the state to eBPF (device_bpf.h) live
// elsewhere.
#ifndef HUSK_RUNTIME_KERNEL_CGROUPS_DEVICE_RULES_H_
#define HUSK_RUNTIME_KERNEL_CGROUPS_DEVICE_RULES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "spec/config.h"

namespace husk::kernel::cgroups {

enum DeviceAccess : uint8_t { kDevRead = 1, kDevWrite = 2, kDevMknod = 4 };
constexpr uint8_t kDevAll = kDevRead | kDevWrite | kDevMknod;

struct DeviceRule {
  char type = 'a';     // 'a' (all), 'c', 'b'
  int64_t major = -1;  // -1 = wildcard '*'
  int64_t minor = -1;
  uint8_t access = kDevAll;  // DeviceAccess bits
  bool allow = false;
  bool operator==(const DeviceRule&) const = default;
};

// Pure: an initial deny-all, linux.resources.devices in order, runc's default allowed
// devices, then linux.devices (each allowed rwm; FIFOs skipped, "u" is "c"). An "a" rule
// of the spec is "everything" whatever its numbers and access say (as in the kernel).
// InvalidArgument naming the JSON pointer ("linux/resources/devices/0/type") otherwise.
absl::StatusOr<std::vector<DeviceRule>> PlanDeviceRules(const spec::Resources& resources,
                                                        const std::vector<spec::Device>& devices);

// "c 1:3 rwm", "b 8:* m", "a *:* rwm": a devices.allow/devices.deny line (and, for an
// exception, a devices.list line). The allow bit is not part of the line.
std::string V1Line(const DeviceRule& rule);
// The reverse, for `allow`: "a" (alone, as the kernel accepts it) or a V1Line. Nullopt for
// anything else.
std::optional<DeviceRule> ParseV1Line(std::string_view line, bool allow);

// The v1 devices controller after the rules in order (security/device_cgroup.c): an "a"
// rule sets the default and drops every exception; any other rule is an exception keyed
// by exact (type, major, minor), wildcards included: against the default it adds its
// access bits, with the default it removes them (an exception left with none is gone).
// A request (type, major, minor, access) is then allowed, as devcgroup_legacy_check_permission
// answers: default deny: iff an exception matches it with the request's access a subset of
// the exception's; default allow: iff no matching exception shares any access bit with it
// (so "deny c 1:3 w" after "allow a" refuses an O_RDWR open of /dev/null).
struct DeviceState {
  bool default_allow = true;  // a new cgroup starts from its parent; ours begin deny-all
  // Sorted by (type, major, minor); each has allow == !default_allow and access != 0.
  std::vector<DeviceRule> exceptions;
  bool operator==(const DeviceState&) const = default;
};
DeviceState EmulateDeviceRules(const std::vector<DeviceRule>& rules);

}  // namespace husk::kernel::cgroups

#endif  // HUSK_RUNTIME_KERNEL_CGROUPS_DEVICE_RULES_H_
