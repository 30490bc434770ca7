// The resource matrix of README "Cgroups": every linux.resources field on the host's
// layout, through real containers. For each cell husk either applies the value, read
// back from the kernel in the container's cgroup dir, or refuses the config with an
// error naming the field and leaves nothing behind. On this hybrid host the v1 column
// runs; in the pure v2 guest (tests/vm) the v2 column. Plus the limits doing their job:
// a memory limit OOM-kills, pids.max stops forks.
#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/kernel/cgroups/cgroups.h"
#include "tests/support/cgroup_child.h"
#include "tests/support/config_util.h"
#include "tests/support/harness.h"

namespace husk::testing {
namespace {

using ::testing::HasSubstr;
namespace cg = ::husk::kernel::cgroups;

// One layout's answer for a cell: a file = value read back (in the dir of `controller`;
// the cgroup2 dir for "v2" or a controller v1 lacks), or an error substring.
struct Expect {
  const char* controller = nullptr;
  const char* file = nullptr;
  const char* value = nullptr;
  const char* error = nullptr;
  const char* warning = nullptr;  // with a file: also this on stderr
};
Expect Reads(const char* controller, const char* file, const char* value) {
  return {controller, file, value, nullptr, nullptr};
}
Expect Fails(const char* error) { return {nullptr, nullptr, nullptr, error, nullptr}; }
Expect Warns(const char* warning) { return {nullptr, nullptr, nullptr, nullptr, warning}; }

struct Cell {
  const char* name;
  const char* resources;  // linux.resources JSON; $DEV = a block device's MAJ:MIN numbers
  Expect v1;              // this host (v1 controllers, hugetlb in cgroup2)
  Expect v2;              // pure cgroup v2
};

// clang-format off
const Cell kMatrix[] = {
  {"memory.limit", R"({"memory": {"limit": 67108864}})",
   Reads("memory", "memory.limit_in_bytes", "67108864"), Reads("v2", "memory.max", "67108864")},
  {"memory.reservation", R"({"memory": {"reservation": 33554432}})",
   Reads("memory", "memory.soft_limit_in_bytes", "33554432"), Reads("v2", "memory.low", "33554432")},
  {"memory.swap", R"({"memory": {"limit": 67108864, "swap": 100663296}})",
   Reads("memory", "memory.memsw.limit_in_bytes", "100663296"),
   Reads("v2", "memory.swap.max", "33554432")},
  {"memory.kernel", R"({"memory": {"kernel": 16777216}})",
   Warns("linux/resources/memory/kernel: ignored"), Warns("linux/resources/memory/kernel: ignored")},
  {"memory.kernelTCP", R"({"memory": {"kernelTCP": 16777216}})",
   Reads("memory", "memory.kmem.tcp.limit_in_bytes", "16777216"),
   Fails("linux/resources/memory/kernelTCP: cannot be applied on cgroup v2")},
  {"memory.swappiness", R"({"memory": {"swappiness": 10}})",
   Reads("memory", "memory.swappiness", "10"),
   Fails("linux/resources/memory/swappiness: cannot be applied on cgroup v2")},
  {"memory.disableOOMKiller", R"({"memory": {"disableOOMKiller": true}})",
   Reads("memory", "memory.oom_control", "oom_kill_disable 1"),
   Fails("linux/resources/memory/disableOOMKiller: cannot be applied on cgroup v2")},
  {"memory.useHierarchy=true", R"({"memory": {"useHierarchy": true}})",
   Reads("memory", "memory.use_hierarchy", "1"), Reads("v2", "cgroup.type", "domain")},
  {"memory.useHierarchy=false", R"({"memory": {"useHierarchy": false}})",
   Fails("linux/resources/memory/useHierarchy: false cannot be applied"),
   Fails("linux/resources/memory/useHierarchy: false cannot be applied")},
  {"memory.checkBeforeUpdate", R"({"memory": {"limit": 67108864, "checkBeforeUpdate": true}})",
   Reads("memory", "memory.limit_in_bytes", "67108864"), Reads("v2", "memory.max", "67108864")},
  {"cpu.shares", R"({"cpu": {"shares": 512}})",
   Reads("cpu", "cpu.shares", "512"), Reads("v2", "cpu.weight", "20")},
  {"cpu.quota+period", R"({"cpu": {"quota": 50000, "period": 200000}})",
   Reads("cpu", "cpu.cfs_quota_us", "50000"), Reads("v2", "cpu.max", "50000 200000")},
  {"cpu.period", R"({"cpu": {"period": 200000}})",
   Reads("cpu", "cpu.cfs_period_us", "200000"), Reads("v2", "cpu.max", "max 200000")},
  {"cpu.burst", R"({"cpu": {"quota": 50000, "burst": 10000}})",
   Reads("cpu", "cpu.cfs_burst_us", "10000"), Reads("v2", "cpu.max.burst", "10000")},
  {"cpu.realtimePeriod", R"({"cpu": {"realtimePeriod": 500000}})",
   Reads("cpu", "cpu.rt_period_us", "500000"),
   Fails("linux/resources/cpu/realtimePeriod: cannot be applied on cgroup v2")},
  // The test parent has no real-time budget to hand down: the kernel's EINVAL, named.
  {"cpu.realtimeRuntime", R"({"cpu": {"realtimeRuntime": 1000}})",
   Fails("linux/resources/cpu/realtimeRuntime: write "),
   Fails("linux/resources/cpu/realtimeRuntime: cannot be applied on cgroup v2")},
  {"cpu.idle", R"({"cpu": {"idle": 1}})",
   Reads("cpu", "cpu.idle", "1"), Reads("v2", "cpu.idle", "1")},
  {"cpu.cpus", R"({"cpu": {"cpus": "0"}})",
   Reads("cpuset", "cpuset.cpus", "0"), Reads("v2", "cpuset.cpus", "0")},
  {"cpu.mems", R"({"cpu": {"mems": "0"}})",
   Reads("cpuset", "cpuset.mems", "0"), Reads("v2", "cpuset.mems", "0")},
  {"pids.limit", R"({"pids": {"limit": 42}})",
   Reads("pids", "pids.max", "42"), Reads("v2", "pids.max", "42")},
  {"blockIO.weight", R"({"blockIO": {"weight": 500}})",
   Reads("blkio", "blkio.bfq.weight", "500"),
   // BFQ takes the value as is; without it io.weight (iocost) gets 1 + (500-10)*9999/990.
   Reads("v2", "io.bfq.weight|io.weight", "default 500|default 4950")},
  {"blockIO.leafWeight", R"({"blockIO": {"leafWeight": 500}})",
   Fails("linux/resources/blockIO/leafWeight: not supported by this kernel"),
   Fails("linux/resources/blockIO/leafWeight: cannot be applied on cgroup v2")},
  {"blockIO.throttleReadBpsDevice",
   R"({"blockIO": {"throttleReadBpsDevice": [{"major": $MAJ, "minor": $MIN, "rate": 1048576}]}})",
   Reads("blkio", "blkio.throttle.read_bps_device", "$DEV 1048576"),
   Reads("v2", "io.max", "$DEV rbps=1048576 wbps=max riops=max wiops=max")},
  {"blockIO.throttleWriteIOPSDevice",
   R"({"blockIO": {"throttleWriteIOPSDevice": [{"major": $MAJ, "minor": $MIN, "rate": 300}]}})",
   Reads("blkio", "blkio.throttle.write_iops_device", "$DEV 300"),
   Reads("v2", "io.max", "$DEV rbps=max wbps=max riops=max wiops=300")},
  {"hugepageLimits", R"({"hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}]})",
   Reads("hugetlb", "hugetlb.2MB.max", "4194304"), Reads("v2", "hugetlb.2MB.max", "4194304")},
  {"network.classID", R"({"network": {"classID": 1048577}})",
   Fails("linux/resources/network/classID: needs the "),
   Fails("linux/resources/network/classID: cannot be applied on cgroup v2")},
  // No RDMA hardware here or in the guest: the rdma controller (if any) refuses the device.
  {"rdma", R"({"rdma": {"mlx5_0": {"hcaHandles": 3}}})",
   Fails("linux/resources/rdma/mlx5_0: needs the "),
   Fails("linux/resources/rdma/mlx5_0: ")},
  {"unified", R"({"unified": {"pids.max": "17"}})",
   Fails("linux/resources/unified/pids.max: needs the "), Reads("v2", "pids.max", "17")},
  // Core cgroup2 files exist on a hybrid host's cgroup2 hierarchy too.
  {"unified.core", R"({"unified": {"cgroup.max.descendants": "7"}})",
   Reads("v2", "cgroup.max.descendants", "7"), Reads("v2", "cgroup.max.descendants", "7")},
};
// clang-format on

// A block device's "MAJ:MIN" (the first of /sys/block that has a queue), or "".
std::string BlockDevice() {
  DIR* d = opendir("/sys/block");
  if (d == nullptr) return "";
  std::string found;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name[0] == '.' || name.rfind("zram", 0) == 0) continue;
    std::string dev = ReadText("/sys/block/" + name + "/dev");
    if (!dev.empty() && Exists("/sys/block/" + name + "/queue")) {
      found = dev;
      break;
    }
  }
  closedir(d);
  return found;
}

class CgroupsResourcesTest : public ::testing::TestWithParam<Cell> {
 protected:
  void SetUp() override {
    HUSK_REQUIRE_CONTAINERS();
    absl::StatusOr<cg::Layout> layout = cg::Detect();
    ASSERT_TRUE(layout.ok()) << layout.status();
    layout_ = *layout;
  }

  // The host dir holding `file` for the container at cgroups_path.
  std::string DirFor(const char* controller, const std::string& cgroups_path) const {
    const cg::Hierarchy* h = std::string(controller) == "v2" ? nullptr : layout_.Find(controller);
    if (h == nullptr) h = layout_.Unified();
    return h == nullptr ? "" : h->mount_point + cgroups_path;
  }

  cg::Layout layout_;
  TestRoot root_;
};

TEST_P(CgroupsResourcesTest, AppliedAndReadBackOrRefusedNamingTheField) {
  const Cell& cell = GetParam();
  bool v2 = layout_.mode == cg::Mode::kUnified;
  const Expect& want = v2 ? cell.v2 : cell.v1;
  std::string json = cell.resources;
  std::string dev;
  if (json.find("$MAJ") != std::string::npos) {
    dev = BlockDevice();
    ASSERT_FALSE(dev.empty()) << "no block device under /sys/block for " << cell.name;
    std::string maj = dev.substr(0, dev.find(':')), min = dev.substr(dev.find(':') + 1);
    json = absl::StrReplaceAll(json, {{"$MAJ", maj}, {"$MIN", min}});
  }
  Bundle b;
  b.SetJson("/linux/resources", json);
  Created c = CreateContainer(root_, b);
  if (want.error != nullptr) {
    EXPECT_FALSE(c.ok()) << cell.name << ": created, but want the error " << want.error;
    EXPECT_EQ(c.result.exit_code, 1) << c.result;
    EXPECT_THAT(c.result.err, HasSubstr(want.error)) << c.result;
    EXPECT_TRUE(NoLeftovers(root_, b.Id(), b));
    return;
  }
  ASSERT_TRUE(c.ok()) << cell.name << ": " << c.result;
  if (want.warning != nullptr) {
    EXPECT_THAT(c.result.err, HasSubstr(want.warning)) << c.result;
  }
  if (want.file != nullptr) {
    // "a|b": the first of the files the kernel has, with the matching value.
    std::vector<std::string> files = absl::StrSplit(want.file, '|');
    std::vector<std::string> values = absl::StrSplit(want.value, '|');
    size_t pick = 0;
    std::string dir = DirFor(want.controller, b.CgroupsPath());
    while (pick + 1 < files.size() && !Exists(dir + "/" + files[pick])) ++pick;
    std::string path = dir + "/" + files[pick];
    std::string value = absl::StrReplaceAll(values[std::min(pick, values.size() - 1)], {{"$DEV", dev}});
    std::string got = ReadText(path);
    // memory.oom_control is several lines: the wanted one must be among them.
    if (std::string(want.file) == "memory.oom_control") {
      EXPECT_THAT(got, HasSubstr(value)) << path;
    } else {
      EXPECT_EQ(got, value) << path;
    }
  }
  CmdResult del = root_.Husk({"delete", "--force", b.Id()});
  EXPECT_TRUE(del.ok()) << del;
  for (const std::string& dir : CgroupDirs(b.CgroupsPath())) {
    ADD_FAILURE() << "delete left " << dir;
  }
}

INSTANTIATE_TEST_SUITE_P(Matrix, CgroupsResourcesTest, ::testing::ValuesIn(kMatrix),
                         [](const ::testing::TestParamInfo<Cell>& info) {
                           std::string name;
                           for (char ch : std::string(info.param.name)) {
                             name += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
                           }
                           return name;
                         });

class CgroupLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override { HUSK_REQUIRE_CONTAINERS(); }
  TestRoot root_;
};

// A process that goes over memory.limit is OOM-killed inside the container (not the
// container's shell: the kernel picks the big one), and the kill is counted.
TEST_F(CgroupLimitsTest, MemoryLimitOomKills) {
  Bundle b;
  b.SetJson("/linux/resources", R"({"memory": {"limit": 33554432, "swap": 33554432}})");
  // sort holds its input in memory (one "line" of 256 MiB here): it cannot fit in 32 MiB.
  CmdResult r = RunScript(root_, b, "head -c 268435456 /dev/zero | sort >/dev/null; echo rc=$?");
  EXPECT_TRUE(r.ok()) << r;
  EXPECT_THAT(r.out, HasSubstr("rc=137")) << r;  // 128 + SIGKILL
}

// pids.max stops a fork loop at the limit: the inner shell's fork fails (busybox sh
// gives up at the first "can't fork", status 2) and the kernel counts the refusal in
// pids.events, read with shell builtins only (no fork is left to run cat).
TEST_F(CgroupLimitsTest, PidsLimitStopsForks) {
  Bundle b;
  b.SetJson("/linux/resources", R"({"pids": {"limit": 8}})");
  CmdResult r = RunScript(root_, b,
                          "sh -c 'for i in $(seq 1 30); do sleep 5 & done' 2>/dev/null; "
                          "echo loop=$?; for f in /sys/fs/cgroup/pids/pids.events "
                          "/sys/fs/cgroup/pids.events; do [ -r $f ] && read l < $f && "
                          "echo \"events: $l\"; done; true");
  EXPECT_TRUE(r.ok()) << r;
  EXPECT_THAT(r.out, HasSubstr("loop=2\n")) << r;
  size_t at = r.out.find("events: max ");
  ASSERT_NE(at, std::string::npos) << r;
  EXPECT_GE(std::stoi(r.out.substr(at + 12)), 1) << r;
}

// The container's view of its cgroups (config-linux.md "cgroup" mounts, runtime-spec
// cgroup namespace): with a cgroup namespace /sys/fs/cgroup shows the container's own
// cgroup as the root: on v1 a tmpfs holding one mount per hierarchy, on v2 one cgroup2
// mount; read-only unless the mount says otherwise.
TEST_F(CgroupLimitsTest, SysFsCgroupInsideShowsTheContainersOwnCgroup) {
  absl::StatusOr<cg::Layout> layout = cg::Detect();
  ASSERT_TRUE(layout.ok()) << layout.status();
  bool v2 = layout->mode == cg::Mode::kUnified;
  for (bool readonly : {true, false}) {
    Bundle b;
    b.SetJson("/linux/namespaces/-", R"({"type": "cgroup"})");
    b.SetJson("/linux/resources", R"({"pids": {"limit": 33}})");
    b.SetJson("/mounts/6/options",
              readonly ? R"(["nosuid", "noexec", "nodev", "relatime", "ro"])"
                       : R"(["nosuid", "noexec", "nodev", "relatime", "rw"])");
    std::string file = v2 ? "/sys/fs/cgroup/pids.max" : "/sys/fs/cgroup/pids/pids.max";
    CmdResult r = RunScript(root_, b,
                            "cat /proc/self/cgroup; echo limit=$(cat " + file +
                                "); grep ' /sys/fs/cgroup' /proc/self/mountinfo; "
                                "mkdir " + (v2 ? "/sys/fs/cgroup/sub" : "/sys/fs/cgroup/pids/sub") +
                                " 2>/dev/null && echo mkdir=ok || echo mkdir=refused");
    ASSERT_TRUE(r.ok()) << r;
    EXPECT_THAT(r.out, HasSubstr("limit=33\n")) << r;
    // The namespace root is the container's cgroup: paths read "/".
    EXPECT_THAT(r.out, v2 ? HasSubstr("0::/\n") : HasSubstr(":pids:/\n")) << r;
    std::vector<std::string> lines = SplitLines(r.out);
    std::string top;
    for (const std::string& line : lines) {
      if (line.find(" /sys/fs/cgroup ") != std::string::npos) top = line;
    }
    ASSERT_FALSE(top.empty()) << r;
    EXPECT_THAT(top, HasSubstr(v2 ? " - cgroup2 " : " - tmpfs ")) << top;
    if (!v2) {
      EXPECT_THAT(r.out, HasSubstr(" /sys/fs/cgroup/memory ")) << r;
      EXPECT_THAT(r.out, HasSubstr(" - cgroup cgroup ")) << r;
    }
    EXPECT_THAT(r.out, HasSubstr(readonly ? "mkdir=refused" : "mkdir=ok")) << r;
  }
}

}  // namespace
}  // namespace husk::testing
