// Pure tests of the device rules (planning, v1 lines, the v1 controller model).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/kernel/cgroups/device_rules.h"
#include "tests/support/spec_builders.h"

namespace husk::kernel::cgroups {
namespace {

using ::husk::testing::Dev;
using ::husk::testing::Rule;

DeviceRule Allow(char type, int64_t major, int64_t minor, uint8_t access) {
  return {type, major, minor, access, true};
}
DeviceRule Deny(char type, int64_t major, int64_t minor, uint8_t access) {
  return {type, major, minor, access, false};
}
const DeviceRule kDenyAll = Deny('a', -1, -1, kDevAll);
const DeviceRule kAllowAll = Allow('a', -1, -1, kDevAll);
constexpr uint8_t kRW = kDevRead | kDevWrite;

std::vector<DeviceRule> Planned(const spec::Resources& r, const std::vector<spec::Device>& d) {
  absl::StatusOr<std::vector<DeviceRule>> rules = PlanDeviceRules(r, d);
  EXPECT_TRUE(rules.ok()) << rules.status();
  return rules.ok() ? *rules : std::vector<DeviceRule>{};
}

TEST(PlanDeviceRules, DenyAllThenRuncDefaults) {
  std::vector<DeviceRule> rules = Planned({}, {});
  ASSERT_EQ(rules.size(), 12u);
  EXPECT_EQ(rules[0], kDenyAll);
  EXPECT_EQ(rules[1], Allow('c', -1, -1, kDevMknod));
  EXPECT_EQ(rules[2], Allow('b', -1, -1, kDevMknod));
  EXPECT_EQ(rules[3], Allow('c', 1, 3, kDevAll));
  EXPECT_EQ(rules[9], Allow('c', 136, -1, kDevAll));
  EXPECT_EQ(rules[11], Allow('c', 10, 200, kDevAll));
}

TEST(PlanDeviceRules, SpecRulesThenDefaultsThenDevices) {
  spec::Resources r;
  r.devices.push_back(Rule(true, "a", 1, 2, "r"));  // "a" is everything
  r.devices.push_back(Rule(false, "c", -5, 3, "mw"));
  r.devices.push_back(Rule(true, "b", 8, std::nullopt, std::nullopt));
  std::vector<spec::Device> devices = {Dev("u", "/dev/u", 4, 64), Dev("p", "/dev/f", {}, {}),
                                       Dev("b", "/dev/sdz", 8, 0)};
  std::vector<DeviceRule> rules = Planned(r, devices);
  ASSERT_EQ(rules.size(), 1u + 3 + 11 + 2);
  EXPECT_EQ(rules[1], kAllowAll);
  EXPECT_EQ(rules[2], Deny('c', -1, 3, kDevWrite | kDevMknod));
  EXPECT_EQ(rules[3], Allow('b', 8, -1, kDevAll));
  EXPECT_EQ(rules[15], Allow('c', 4, 64, kDevAll));
  EXPECT_EQ(rules[16], Allow('b', 8, 0, kDevAll));
}

TEST(PlanDeviceRules, ErrorsNameThePointer) {
  auto message = [](const spec::Resources& r, const std::vector<spec::Device>& d) {
    absl::StatusOr<std::vector<DeviceRule>> rules = PlanDeviceRules(r, d);
    EXPECT_EQ(rules.status().code(), absl::StatusCode::kInvalidArgument);
    return std::string(rules.status().message());
  };
  spec::Resources r;
  r.devices.push_back(Rule(true, "x", {}, {}, {}));
  EXPECT_EQ(message(r, {}),
            "linux/resources/devices/0/type: invalid device type \"x\" (want a, c or b)");
  r.devices[0].type = "a";
  r.devices[0].access = "";
  EXPECT_EQ(message(r, {}).substr(0, 33), "linux/resources/devices/0/access:");
  r.devices[0] = Rule(true, "c", int64_t{1} << 32, 0, "r");
  EXPECT_EQ(message(r, {}).substr(0, 32), "linux/resources/devices/0/major:");
  EXPECT_EQ(message({}, {Dev("c", "/dev/a", 1, 3), Dev("x", "/dev/b", 1, 3)}).substr(0, 21),
            "linux/devices/1/type:");
  EXPECT_EQ(message({}, {Dev("b", "/dev/a", 8, std::nullopt)}),
            "linux/devices/0: major and minor are required for c, b and u devices");
}

TEST(V1Line, FormatsAndParses) {
  EXPECT_EQ(V1Line(Allow('c', 1, 3, kDevAll)), "c 1:3 rwm");
  EXPECT_EQ(V1Line(kDenyAll), "a *:* rwm");
  EXPECT_EQ(V1Line(Deny('b', 8, -1, kDevMknod)), "b 8:* m");
  EXPECT_EQ(V1Line(Allow('c', -1, 5, kDevWrite | kDevRead)), "c *:5 rw");
  for (const DeviceRule& rule : Planned({}, {})) {
    EXPECT_EQ(ParseV1Line(V1Line(rule), rule.allow), rule) << V1Line(rule);
  }
  EXPECT_EQ(ParseV1Line("a", true), kAllowAll);
  EXPECT_EQ(ParseV1Line("a 1:3 r", false), kDenyAll);
  for (const char* bad : {"", "c 1:3", "c 1:3 x", "x 1:3 r", "c 1;3 r", "c -1:3 r", "c 1:3 "}) {
    EXPECT_EQ(ParseV1Line(bad, true), std::nullopt) << bad;
  }
}

TEST(EmulateDeviceRules, KernelSemantics) {
  EXPECT_EQ(EmulateDeviceRules({}), (DeviceState{true, {}}));
  // Against the default the access grows; with it, it shrinks; empty ones vanish.
  EXPECT_EQ(EmulateDeviceRules({kDenyAll, Allow('c', 1, 3, kDevRead), Allow('c', 1, 3, kDevMknod),
                                Deny('c', 1, 3, kDevRead), Allow('c', 1, 5, kDevWrite),
                                Deny('c', 1, 5, kDevAll), Deny('c', 9, 9, kDevAll)}),
            (DeviceState{false, {Allow('c', 1, 3, kDevMknod)}}));
  // Exceptions are keyed exactly: a wildcard one is not merged with a numbered one.
  EXPECT_EQ(EmulateDeviceRules({kDenyAll, Allow('c', 1, 3, kDevRead), Allow('c', 1, -1, kDevWrite),
                                Allow('b', 1, 3, kDevRead)}),
            (DeviceState{false,
                         {Allow('b', 1, 3, kDevRead), Allow('c', 1, -1, kDevWrite),
                          Allow('c', 1, 3, kDevRead)}}));
  // "a" resets default and exceptions.
  EXPECT_EQ(EmulateDeviceRules({kDenyAll, Allow('c', 1, 3, kDevAll), kAllowAll,
                                Deny('c', 1, 3, kDevWrite), Allow('c', 1, 3, kDevAll)}),
            (DeviceState{true, {}}));
  EXPECT_EQ(EmulateDeviceRules({kAllowAll, Deny('c', 1, 3, kDevWrite)}),
            (DeviceState{true, {Deny('c', 1, 3, kDevWrite)}}));
}

}  // namespace
}  // namespace husk::kernel::cgroups
