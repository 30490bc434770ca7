// Pure tests of the device rules (planning, v1 lines, the v1 controller model) and of the
// eBPF program built from them: run in tests/support/ebpf_sim, the program must answer
// every request of a grid exactly as the v1 controller would in the emulated state.
#include <linux/bpf.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/kernel/cgroups/device_bpf.h"
#include "runtime/kernel/cgroups/device_rules.h"
#include "tests/support/ebpf_sim.h"
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

// The v1 answer, written from the state (security/device_cgroup.c, match_exception and
// match_exception_partial): independent of the generator.
bool V1Allows(const DeviceState& s, char type, uint32_t major, uint32_t minor, uint8_t access) {
  for (const DeviceRule& e : s.exceptions) {
    if (e.type != 'a' && e.type != type) continue;
    if (e.major >= 0 && e.major != major) continue;
    if (e.minor >= 0 && e.minor != minor) continue;
    bool match = s.default_allow ? (access & e.access) != 0 : (access & ~e.access) == 0;
    if (match) return !s.default_allow;
  }
  return s.default_allow;
}

// The program's answer, or nullopt (with a test failure) if it did not run to an exit.
std::optional<bool> ProgramAllows(const std::vector<bpf_insn>& prog, char type, uint32_t major,
                                  uint32_t minor, uint8_t access) {
  uint32_t acc = ((access & kDevRead) ? BPF_DEVCG_ACC_READ : 0) |
                 ((access & kDevWrite) ? BPF_DEVCG_ACC_WRITE : 0) |
                 ((access & kDevMknod) ? BPF_DEVCG_ACC_MKNOD : 0);
  bpf_cgroup_dev_ctx ctx{};
  ctx.access_type = (acc << 16) | (type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
  ctx.major = major;
  ctx.minor = minor;
  testing::EbpfResult r = testing::RunEbpf(prog, ctx);
  if (!r.r0) {
    ADD_FAILURE() << "program error: " << r.error;
    return std::nullopt;
  }
  EXPECT_LE(*r.r0, 1u);
  return *r.r0 == 1;
}

// Runs the whole grid; returns how many requests were allowed (to see a case is not
// trivially all-deny or all-allow).
int ExpectProgramMatchesV1(const std::string& name, const DeviceState& state) {
  std::vector<bpf_insn> prog = DeviceProgram(state);
  int allowed = 0, mismatches = 0;
  for (char type : {'c', 'b'}) {
    for (uint32_t major : {0u, 1u, 4u, 5u, 8u, 10u, 136u, 4294967294u}) {
      for (uint32_t minor : {0u, 1u, 3u, 4u, 5u, 9u, 64u, 200u, 229u, 4294967294u}) {
        for (uint8_t access = 1; access <= kDevAll; ++access) {
          std::optional<bool> got = ProgramAllows(prog, type, major, minor, access);
          if (!got) return allowed;
          bool want = V1Allows(state, type, major, minor, access);
          allowed += want;
          if (*got != want && ++mismatches <= 5) {
            ADD_FAILURE() << name << ": " << type << " " << major << ":" << minor << " access "
                          << int(access) << ": program says " << *got << ", v1 says " << want;
          }
        }
      }
    }
  }
  EXPECT_EQ(mismatches, 0) << name;
  return allowed;
}

struct Case {
  std::string name;
  std::vector<DeviceRule> rules;
};

TEST(DeviceProgram, AnswersLikeTheV1Controller) {
  spec::Resources with_a;
  with_a.devices = {Rule(true, "c", 1, 3, "r"), Rule(true, "a", {}, {}, {}),
                    Rule(false, "c", 1, 4, "w"), Rule(false, "b", 8, {}, "m"),
                    // Undone by the default "allow c 1:5 rwm" (it shrinks the exception).
                    Rule(false, "c", 1, 5, "w")};
  spec::Resources partial;
  partial.devices = {Rule(false, {}, {}, {}, {}), Rule(true, "c", 1, 4, "r"),
                     Rule(true, "c", 5, {}, "rw"), Rule(false, "c", 1, 3, "w")};
  std::vector<Case> cases = {
      {"runc defaults", Planned({}, {})},
      {"deny all", {kDenyAll}},
      {"allow all", {kAllowAll}},
      {"nothing (parent's allow-all)", {}},
      {"wildcards",
       {kDenyAll, Allow('b', 8, -1, kDevAll), Allow('c', -1, 5, kDevRead),
        Allow('c', -1, -1, kDevMknod)}},
      {"partial access",
       {kDenyAll, Allow('c', 1, 3, kDevRead), Allow('c', 1, 5, kRW),
        Allow('b', 8, 0, kDevMknod | kDevWrite)}},
      {"a in the middle", Planned(with_a, {})},
      {"spec rules before defaults", Planned(partial, {})},
      {"overlapping",
       {kDenyAll, Allow('c', 1, -1, kRW), Allow('c', 1, 3, kDevMknod), Deny('c', 1, -1, kDevWrite),
        Allow('c', -1, 3, kDevRead), Allow('c', 1, 3, kDevWrite)}},
      {"linux.devices", Planned({}, {Dev("c", "/dev/fuse", 10, 229), Dev("u", "/dev/u", 4, 64),
                                     Dev("b", "/dev/sdz", 8, 0), Dev("p", "/dev/p", {}, {})})},
      {"allow all but partial denies",
       {kAllowAll, Deny('c', 1, 3, kDevWrite), Deny('c', 136, -1, kDevAll),
        Allow('c', 136, -1, kDevRead), Deny('b', -1, -1, kDevMknod), Deny('c', -1, 9, kRW)}},
  };
  for (const Case& c : cases) {
    DeviceState state = EmulateDeviceRules(c.rules);
    int allowed = ExpectProgramMatchesV1(c.name, state);
    if (c.name != "deny all" && c.name != "allow all" && c.name.rfind("nothing", 0) != 0) {
      EXPECT_GT(allowed, 0) << c.name;
      EXPECT_LT(allowed, 2 * 8 * 10 * 7) << c.name;
    }
  }
}

// States EmulateDeviceRules never makes (type "a" exceptions) still compile correctly.
TEST(DeviceProgram, TypeAExceptionsMatchBoth) {
  ExpectProgramMatchesV1("a allow", DeviceState{false, {Allow('a', 1, -1, kDevRead)}});
  ExpectProgramMatchesV1("a deny", DeviceState{true, {Deny('a', -1, 3, kRW), Deny('b', 8, 0, 1)}});
}

TEST(DeviceProgram, Shape) {
  // Prologue (6) and the default return (2); each exception adds at most 3 compares, the
  // access test (3) and its return (2).
  EXPECT_EQ(DeviceProgram(DeviceState{false, {}}).size(), 8u);
  DeviceState defaults = EmulateDeviceRules(Planned({}, {}));
  EXPECT_LE(DeviceProgram(defaults).size(), 8u + 8 * defaults.exceptions.size());
  std::vector<bpf_insn> prog = DeviceProgram(defaults);
  EXPECT_EQ(prog.back().code, BPF_JMP | BPF_EXIT);
}

TEST(EbpfSim, RefusesWhatItDoesNotKnow) {
  bpf_cgroup_dev_ctx ctx{};
  bpf_insn exit{};
  exit.code = BPF_JMP | BPF_EXIT;
  EXPECT_NE(testing::RunEbpf({exit}, ctx).error, "");  // R0 unset
  bpf_insn add{};
  add.code = BPF_ALU64 | BPF_ADD | BPF_K;
  EXPECT_NE(testing::RunEbpf({add, exit}, ctx).error, "");
  bpf_insn load{};
  load.code = BPF_LDX | BPF_MEM | BPF_W;
  load.src_reg = BPF_REG_1;
  load.off = 12;  // past the context
  EXPECT_NE(testing::RunEbpf({load, exit}, ctx).error, "");
  EXPECT_NE(testing::RunEbpf({}, ctx).error, "");
}

}  // namespace
}  // namespace husk::kernel::cgroups
