// Pure tests of runtime/kernel/cgroups: mountinfo parsing (v1, hybrid, v2), cgroupsPath
// resolution, the v1 write plan (values, order, device rules) and the devices.list model.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/spec_builders.h"
#include "runtime/kernel/cgroups/cgroups.h"

namespace husk::kernel::cgroups {
namespace {

using ::husk::testing::Dev;
using ::husk::testing::Rule;

constexpr char kHybrid[] =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset,clone_children\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime shared:7 - cgroup cgroup rw,memory\n"
    "36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
    "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup "
    "rw,xattr,release_agent=/lib/systemd/systemd-cgroups-agent,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n"
    // A bind mount of the memory hierarchy elsewhere: ignored (first wins).
    "90 22 0:32 /x /mnt/mem\\040dir rw - cgroup cgroup rw,memory\n";

TEST(ParseMountinfo, Hybrid) {
  Layout layout = ParseMountinfo(kHybrid);
  EXPECT_EQ(layout.mode, Mode::kHybrid);
  ASSERT_EQ(layout.hierarchies.size(), 9u);
  EXPECT_EQ(layout.hierarchies[0].mount_point, "/sys/fs/cgroup/cpu");
  EXPECT_EQ(layout.hierarchies[0].controllers, std::vector<std::string>{"cpu"});
  EXPECT_EQ(layout.hierarchies[2].controllers, std::vector<std::string>{"cpuset"});
  ASSERT_NE(layout.Find("name=systemd"), nullptr);
  EXPECT_EQ(layout.Find("name=systemd")->mount_point, "/sys/fs/cgroup/systemd");
  EXPECT_EQ(layout.Find("name=systemd")->controllers, std::vector<std::string>{"name=systemd"});
  EXPECT_EQ(layout.Find("memory")->mount_point, "/sys/fs/cgroup/memory");
  EXPECT_EQ(layout.Find("blkio"), nullptr);
  ASSERT_NE(layout.Unified(), nullptr);
  EXPECT_EQ(layout.Unified()->mount_point, "/sys/fs/cgroup/unified");
  EXPECT_TRUE(layout.Unified()->unified);
  EXPECT_TRUE(layout.hierarchies.back().unified);
}

TEST(ParseMountinfo, LegacyWithCoMountedControllers) {
  Layout layout = ParseMountinfo(
      "25 24 0:22 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpuacct,cpu\n"
      "26 24 0:23 / /sys/fs/cgroup/net_cls,net_prio rw - cgroup cgroup rw,net_cls,net_prio\n"
      "27 24 0:24 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd\n");
  EXPECT_EQ(layout.mode, Mode::kLegacy);
  ASSERT_EQ(layout.hierarchies.size(), 3u);
  EXPECT_EQ(layout.hierarchies[0].controllers, (std::vector<std::string>{"cpu", "cpuacct"}));
  EXPECT_EQ(layout.Find("cpuacct"), layout.Find("cpu"));
  EXPECT_EQ(layout.Find("net_prio")->mount_point, "/sys/fs/cgroup/net_cls,net_prio");
  EXPECT_EQ(layout.Unified(), nullptr);
}

TEST(ParseMountinfo, PureV2) {
  Layout layout = ParseMountinfo(
      "22 1 8:1 / / rw - ext4 /dev/vda1 rw\n"
      "30 22 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 "
      "rw,nsdelegate,memory_recursiveprot\n");
  EXPECT_EQ(layout.mode, Mode::kUnified);
  ASSERT_EQ(layout.hierarchies.size(), 1u);
  EXPECT_TRUE(layout.hierarchies[0].unified);
  EXPECT_EQ(layout.hierarchies[0].mount_point, "/sys/fs/cgroup");
}

TEST(ParseMountinfo, NothingMountedAndEscapes) {
  EXPECT_TRUE(ParseMountinfo("").hierarchies.empty());
  Layout layout = ParseMountinfo("1 2 0:1 / /a\\040b rw - cgroup cgroup rw,pids\n");
  ASSERT_EQ(layout.hierarchies.size(), 1u);
  EXPECT_EQ(layout.hierarchies[0].mount_point, "/a b");
}

TEST(ResolvePath, Cases) {
  EXPECT_EQ(*ResolvePath(std::nullopt, "c1"), "/husk/c1");
  EXPECT_EQ(*ResolvePath(std::string(""), "c1"), "/husk/c1");
  EXPECT_EQ(*ResolvePath(std::string("/a/b"), "c1"), "/a/b");
  EXPECT_EQ(*ResolvePath(std::string("//a/./b//"), "c1"), "/a/b");
  EXPECT_EQ(*ResolvePath(std::string("pod/ctr"), "c1"), "/husk/pod/ctr");
  for (const char* bad : {"/a/../b", "..", "../x", "/"}) {
    absl::StatusOr<std::string> got = ResolvePath(std::string(bad), "c1");
    ASSERT_FALSE(got.ok()) << bad;
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(got.status().message().substr(0, 18), "linux/cgroupsPath:") << got.status();
  }
}

std::vector<FileWrite> Only(const std::vector<FileWrite>& plan, const std::string& controller) {
  std::vector<FileWrite> out;
  for (const FileWrite& w : plan) {
    if (w.controller == controller) out.push_back(w);
  }
  return out;
}

TEST(PlanV1Resources, MemoryCpuPids) {
  spec::Resources r;
  r.memory.emplace();
  r.memory->limit = 1048576;
  r.memory->reservation = 524288;
  r.memory->swap = 2097152;
  r.memory->swappiness = 10;
  r.memory->disable_oom_killer = true;
  r.memory->kernel = 12345;  // ignored
  r.cpu.emplace();
  r.cpu->shares = 512;
  r.cpu->quota = 50000;
  r.cpu->period = 100000;
  r.cpu->cpus = "0";
  r.cpu->mems = "0";
  r.pids.emplace();
  r.pids->limit = 42;
  absl::StatusOr<std::vector<FileWrite>> plan = PlanV1Resources(r, {});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(Only(*plan, "memory"),
            (std::vector<FileWrite>{{"memory", "memory.limit_in_bytes", "1048576"},
                                    {"memory", "memory.memsw.limit_in_bytes", "2097152"},
                                    {"memory", "memory.soft_limit_in_bytes", "524288"},
                                    {"memory", "memory.swappiness", "10"},
                                    {"memory", "memory.oom_control", "1"}}));
  EXPECT_EQ(Only(*plan, "cpu"), (std::vector<FileWrite>{{"cpu", "cpu.shares", "512"},
                                                        {"cpu", "cpu.cfs_period_us", "100000"},
                                                        {"cpu", "cpu.cfs_quota_us", "50000"}}));
  EXPECT_EQ(Only(*plan, "cpuset"), (std::vector<FileWrite>{{"cpuset", "cpuset.cpus", "0"},
                                                           {"cpuset", "cpuset.mems", "0"}}));
  EXPECT_EQ(Only(*plan, "pids"), (std::vector<FileWrite>{{"pids", "pids.max", "42"}}));
}

TEST(PlanV1Resources, UnlimitedAndUnsetValues) {
  spec::Resources r;
  r.memory.emplace();
  r.memory->limit = -1;
  r.memory->swap = -1;
  r.memory->reservation = 0;          // unset
  r.memory->swappiness = UINT64_MAX;  // Docker's "unset"
  r.memory->disable_oom_killer = false;
  r.cpu.emplace();
  r.cpu->quota = -1;
  r.cpu->shares = 0;
  r.pids.emplace();
  r.pids->limit = -1;
  absl::StatusOr<std::vector<FileWrite>> plan = PlanV1Resources(r, {});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(Only(*plan, "memory"),
            (std::vector<FileWrite>{{"memory", "memory.limit_in_bytes", "-1"},
                                    {"memory", "memory.memsw.limit_in_bytes", "-1"}}));
  EXPECT_EQ(Only(*plan, "cpu"), (std::vector<FileWrite>{{"cpu", "cpu.cfs_quota_us", "-1"}}));
  EXPECT_EQ(Only(*plan, "pids"), (std::vector<FileWrite>{{"pids", "pids.max", "max"}}));
  r.pids->limit = 0;
  plan = PlanV1Resources(r, {});
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(Only(*plan, "pids"), (std::vector<FileWrite>{{"pids", "pids.max", "max"}}));
}

// Docker writes "blockIO": {"weight": 0} for every container and 0 per device for
// `--blkio-weight-device X:0`: 0 means "not set" (the kernel refuses it), so nothing is
// written; non-zero values are planned as before.
TEST(PlanV1Resources, ZeroBlkioWeightsAreNotSet) {
  spec::Resources r;
  r.block_io.emplace();
  r.block_io->weight = 0;
  r.block_io->leaf_weight = 0;
  spec::WeightDevice zero;
  zero.major = 8;
  zero.minor = 0;
  zero.weight = 0;
  zero.leaf_weight = 0;
  r.block_io->weight_device.push_back(zero);
  absl::StatusOr<std::vector<FileWrite>> plan = PlanV1Resources(r, {});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(Only(*plan, "blkio"), std::vector<FileWrite>{});

  r.block_io->weight = 500;
  r.block_io->weight_device[0].leaf_weight = 20;
  plan = PlanV1Resources(r, {});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(Only(*plan, "blkio"),
            (std::vector<FileWrite>{{"blkio", "blkio.weight", "500"},
                                    {"blkio", "blkio.leaf_weight_device", "8:0 20"}}));
}

TEST(PlanV1Resources, InvalidValuesNamePointer) {
  spec::Resources r;
  r.memory.emplace();
  r.memory->limit = 2000;
  r.memory->swap = 1000;
  absl::StatusOr<std::vector<FileWrite>> plan = PlanV1Resources(r, {});
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().message().substr(0, 27), "linux/resources/memory/swap");

  r.memory->swap = 3000;
  r.memory->swappiness = 101;
  plan = PlanV1Resources(r, {});
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().message().substr(0, 33), "linux/resources/memory/swappiness");

  spec::Resources d;
  d.devices.push_back(Rule(true, "x", std::nullopt, std::nullopt, std::nullopt));
  plan = PlanV1Resources(d, {});
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().message().substr(0, 30), "linux/resources/devices/0/type");
  d.devices[0].type = "c";
  d.devices[0].access = "rwx";
  plan = PlanV1Resources(d, {});
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().message().substr(0, 32), "linux/resources/devices/0/access");

  spec::Resources u;
  u.unified["memory.max"] = "1";
  EXPECT_FALSE(PlanV1Resources(u, {}).ok());
}

TEST(PlanV1Resources, DeviceRulesInOrder) {
  spec::Resources r;
  r.devices.push_back(Rule(false, std::nullopt, std::nullopt, std::nullopt, "rwm"));
  r.devices.push_back(Rule(true, "c", 10, 229, "wr"));
  r.devices.push_back(Rule(true, "b", 8, std::nullopt, std::nullopt));
  std::vector<spec::Device> devices;
  devices.push_back(Dev("c", "/dev/fuse", 10, 229));
  devices.push_back(Dev("u", "/dev/u", 4, 64));
  devices.push_back(Dev("p", "/dev/fifo", std::nullopt, std::nullopt));
  absl::StatusOr<std::vector<FileWrite>> plan = PlanV1Resources(r, devices);
  ASSERT_TRUE(plan.ok()) << plan.status();
  std::vector<std::string> got;
  for (const FileWrite& w : Only(*plan, "devices")) {
    got.push_back((w.file == "devices.allow" ? "allow " : "deny ") + w.value);
  }
  EXPECT_EQ(got, (std::vector<std::string>{
                     "deny a",
                     "deny a *:* rwm",
                     "allow c 10:229 rw",
                     "allow b 8:* rwm",
                     "allow c *:* m",
                     "allow b *:* m",
                     "allow c 1:3 rwm",
                     "allow c 1:5 rwm",
                     "allow c 1:7 rwm",
                     "allow c 5:0 rwm",
                     "allow c 1:8 rwm",
                     "allow c 1:9 rwm",
                     "allow c 136:* rwm",
                     "allow c 5:2 rwm",
                     "allow c 10:200 rwm",
                     "allow c 10:229 rwm",
                     "allow c 4:64 rwm",
                 }));
  // Without other resources the plan is just the device rules, deny-all first.
  EXPECT_EQ(plan->size(), got.size());
}

TEST(ExpectedDevicesList, DenyAllPlusAllows) {
  spec::Resources r;
  r.devices.push_back(Rule(true, "c", 1, 3, "r"));
  r.devices.push_back(Rule(false, "c", 5, 0, "w"));
  absl::StatusOr<std::vector<FileWrite>> plan = PlanV1Resources(r, {});
  ASSERT_TRUE(plan.ok());
  std::vector<std::string> list = ExpectedDevicesList(*plan);
  EXPECT_EQ(std::count(list.begin(), list.end(), "a *:* rwm"), 0);
  // "c 1:3 r" merged with the default "c 1:3 rwm"; the deny of "c 5:0 w" came before the
  // default allow re-added it.
  EXPECT_EQ(list, (std::vector<std::string>{"b *:* m", "c *:* m", "c 10:200 rwm", "c 136:* rwm",
                                            "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm",
                                            "c 1:9 rwm", "c 5:0 rwm", "c 5:2 rwm"}));
  // Allow-all wins over exceptions: the kernel lists only "a *:* rwm".
  std::vector<FileWrite> allow_all = {{"devices", "devices.deny", "a"},
                                      {"devices", "devices.allow", "c 1:3 rwm"},
                                      {"devices", "devices.allow", "a *:* rwm"},
                                      {"devices", "devices.deny", "c 1:5 rwm"}};
  EXPECT_EQ(ExpectedDevicesList(allow_all), std::vector<std::string>{"a *:* rwm"});
  std::vector<FileWrite> partial = {{"devices", "devices.deny", "a"},
                                    {"devices", "devices.allow", "c 1:3 rwm"},
                                    {"devices", "devices.deny", "c 1:3 w"}};
  EXPECT_EQ(ExpectedDevicesList(partial), std::vector<std::string>{"c 1:3 rm"});
}

}  // namespace
}  // namespace husk::kernel::cgroups
