// Pure tests of the cgroup v2 plan (each v1-style conversion with its formula) and of
// PlanResources' choice of hierarchy per host layout (v1, hybrid, pure v2).
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/kernel/cgroups/cgroups.h"

namespace husk::kernel::cgroups {
namespace {

FileWrite V2(const char* controller, const char* file, std::string value) {
  return {controller, file, std::move(value), true};
}

std::string Error(const absl::StatusOr<std::vector<FileWrite>>& plan) {
  return plan.ok() ? "OK" : std::string(plan.status().message());
}

TEST(PlanV2Resources, ConvertsV1StyleFields) {
  spec::Resources r;
  r.memory.emplace();
  r.memory->limit = 100 << 20;
  r.memory->swap = 150 << 20;
  r.memory->reservation = 50 << 20;
  r.cpu.emplace();
  r.cpu->shares = 1024;
  r.cpu->quota = 20000;
  r.cpu->period = 100000;
  r.cpu->burst = 5000;
  r.cpu->idle = 1;
  r.cpu->cpus = "0-1";
  r.cpu->mems = "0";
  r.pids.emplace();
  r.pids->limit = 7;
  r.block_io.emplace();
  r.block_io->weight = 10;
  r.block_io->weight_device.push_back({8, 0, 1000, std::nullopt});
  r.block_io->throttle_read_bps_device.push_back({8, 0, 1048576});
  r.block_io->throttle_write_iops_device.push_back({8, 16, 300});
  r.hugepage_limits.push_back({"2MB", 4194304});
  r.rdma["mlx5_0"] = {3, 100};
  r.unified["memory.high"] = "80000000";
  absl::StatusOr<std::vector<FileWrite>> plan = PlanV2Resources(r);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(*plan, (std::vector<FileWrite>{
                       V2("cpu", "cpu.weight", "39"),  // 1 + (1024 - 2) * 9999 / 262142
                       V2("cpu", "cpu.max", "20000 100000"),
                       V2("cpu", "cpu.max.burst", "5000"),
                       V2("cpu", "cpu.idle", "1"),
                       V2("cpuset", "cpuset.cpus", "0-1"),
                       V2("cpuset", "cpuset.mems", "0"),
                       V2("memory", "memory.max", "104857600"),
                       V2("memory", "memory.swap.max", "52428800"),  // swap - limit
                       V2("memory", "memory.low", "52428800"),
                       V2("pids", "pids.max", "7"),
                       V2("io", "io.bfq.weight", "10"),
                       V2("io", "io.bfq.weight", "8:0 1000"),
                       V2("io", "io.max", "8:0 rbps=1048576"),
                       V2("io", "io.max", "8:16 wiops=300"),
                       V2("hugetlb", "hugetlb.2MB.max", "4194304"),
                       V2("rdma", "rdma.max", "mlx5_0 hca_handle=3 hca_object=100"),
                       V2("memory", "memory.high", "80000000"),
                   }));
  // io.weight is the fallback without BFQ: 1 + (w - 10) * 9999 / 990.
  EXPECT_EQ((*plan)[10].alt_file, "io.weight");
  EXPECT_EQ((*plan)[10].alt_value, "1");
  EXPECT_EQ((*plan)[11].alt_value, "8:0 10000");
  EXPECT_EQ((*plan)[0].field, "linux/resources/cpu/shares");
  EXPECT_EQ((*plan)[7].field, "linux/resources/memory/swap");
  EXPECT_EQ((*plan)[13].field, "linux/resources/blockIO/throttleWriteIOPSDevice/0");
}

TEST(PlanV2Resources, LimitsSharesAndSwapEdgeCases) {
  auto plan_of = [](auto fill) {
    spec::Resources r;
    fill(r);
    return PlanV2Resources(r);
  };
  // Unlimited memory with swap unset: swap unlimited too (v1 compatibility, as runc).
  auto p = plan_of([](spec::Resources& r) { r.memory.emplace().limit = -1; });
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, (std::vector<FileWrite>{V2("memory", "memory.max", "max"),
                                        V2("memory", "memory.swap.max", "max")}));
  // swap == limit: no swap at all.
  p = plan_of([](spec::Resources& r) {
    r.memory.emplace().limit = 1000;
    r.memory->swap = 1000;
  });
  ASSERT_TRUE(p.ok());
  EXPECT_EQ((*p)[1], V2("memory", "memory.swap.max", "0"));
  // Quota unlimited with a period; period alone.
  p = plan_of([](spec::Resources& r) {
    r.cpu.emplace().quota = -1;
    r.cpu->period = 50000;
  });
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, std::vector<FileWrite>{V2("cpu", "cpu.max", "max 50000")});
  p = plan_of([](spec::Resources& r) { r.cpu.emplace().quota = 30000; });
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, std::vector<FileWrite>{V2("cpu", "cpu.max", "30000")});
  // The ends of the shares range map onto the ends of cpu.weight's.
  p = plan_of([](spec::Resources& r) { r.cpu.emplace().shares = 2; });
  EXPECT_EQ((*p)[0].value, "1");
  p = plan_of([](spec::Resources& r) { r.cpu.emplace().shares = 262144; });
  EXPECT_EQ((*p)[0].value, "10000");
  // Zero means unset, -1 and 0 pids mean "max".
  p = plan_of([](spec::Resources& r) {
    r.cpu.emplace().shares = 0;
    r.memory.emplace().limit = 0;
    r.pids.emplace().limit = -1;
    r.block_io.emplace().weight = 0;
  });
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, std::vector<FileWrite>{V2("pids", "pids.max", "max")});
}

TEST(PlanV2Resources, FieldsV2CannotExpressNameThemselves) {
  struct Case {
    void (*fill)(spec::Resources&);
    std::string error;
  };
  const Case cases[] = {
      {[](spec::Resources& r) { r.memory.emplace().swappiness = 10; },
       "linux/resources/memory/swappiness: cannot be applied on cgroup v2: cgroup v2 has no "
       "per-cgroup swappiness"},
      {[](spec::Resources& r) { r.memory.emplace().disable_oom_killer = true; },
       "linux/resources/memory/disableOOMKiller: cannot be applied on cgroup v2: cgroup v2 "
       "cannot disable the OOM killer"},
      {[](spec::Resources& r) { r.memory.emplace().kernel_tcp = 1 << 20; },
       "linux/resources/memory/kernelTCP: cannot be applied on cgroup v2: cgroup v2 has no "
       "separate TCP memory limit"},
      {[](spec::Resources& r) { r.cpu.emplace().realtime_runtime = 1000; },
       "linux/resources/cpu/realtimeRuntime: cannot be applied on cgroup v2: cgroup v2 has no "
       "real-time group scheduling"},
      {[](spec::Resources& r) { r.cpu.emplace().realtime_period = 1000; },
       "linux/resources/cpu/realtimePeriod: cannot be applied on cgroup v2: cgroup v2 has no "
       "real-time group scheduling"},
      {[](spec::Resources& r) { r.block_io.emplace().leaf_weight = 100; },
       "linux/resources/blockIO/leafWeight: cannot be applied on cgroup v2: cgroup v2 has no "
       "leaf weight"},
      {[](spec::Resources& r) { r.network.emplace().class_id = 1; },
       "linux/resources/network/classID: cannot be applied on cgroup v2: cgroup v2 has no "
       "net_cls/net_prio controllers"},
      {[](spec::Resources& r) { r.memory.emplace().swap = 5; },
       "linux/resources/memory/swap: a swap limit needs a memory limit on cgroup v2"},
      {[](spec::Resources& r) {
         r.memory.emplace().limit = 10;
         r.memory->swap = 5;
       },
       "linux/resources/memory/swap: memory+swap limit 5 is below the memory limit 10"},
      {[](spec::Resources& r) { r.cpu.emplace().shares = 1; },
       "linux/resources/cpu/shares: invalid value 1 (want 2-262144)"},
      {[](spec::Resources& r) { r.block_io.emplace().weight = 5; },
       "linux/resources/blockIO/weight: invalid weight 5 (want 10-1000)"},
      {[](spec::Resources& r) { r.hugepage_limits.push_back({"../2MB", 1}); },
       "linux/resources/hugepageLimits/0/pageSize: invalid page size \"../2MB\""},
      {[](spec::Resources& r) { r.unified["memory/../x.max"] = "1"; },
       "linux/resources/unified/memory/../x.max: invalid key (want CONTROLLER.FILE, e.g. "
       "\"memory.high\")"},
      {[](spec::Resources& r) { r.unified["cgroup.kill"] = "1"; },
       "linux/resources/unified/cgroup.kill: this file is managed by the runtime"},
  };
  for (const Case& c : cases) {
    spec::Resources r;
    c.fill(r);
    EXPECT_EQ(Error(PlanV2Resources(r)), c.error);
  }
}

constexpr char kHybridNoHugetlb[] =
    "32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
    "36 31 0:33 / /sys/fs/cgroup/devices rw - cgroup cgroup rw,devices\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";

TEST(PlanResources, HybridSendsControllersV1LacksToTheUnifiedHierarchy) {
  Layout layout = ParseMountinfo(kHybridNoHugetlb);
  spec::Resources r;
  r.memory.emplace().limit = 4096;
  r.hugepage_limits.push_back({"2MB", 2097152});
  std::vector<std::string> warnings;
  absl::StatusOr<std::vector<FileWrite>> plan = PlanResources(layout, {"hugetlb"}, r, {}, &warnings);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_GE(plan->size(), 2u);
  EXPECT_EQ((*plan)[0], (FileWrite{"memory", "memory.limit_in_bytes", "4096"}));
  EXPECT_EQ(plan->back(), V2("hugetlb", "hugetlb.2MB.max", "2097152"));
  EXPECT_TRUE(warnings.empty());
  // Not in the unified hierarchy either: refused, naming the field.
  EXPECT_EQ(Error(PlanResources(layout, {}, r, {}, &warnings)),
            "linux/resources/hugepageLimits/0: needs the \"hugetlb\" cgroup controller, which "
            "this host does not have");
  spec::Resources net;
  net.network.emplace().class_id = 7;
  EXPECT_EQ(Error(PlanResources(layout, {"hugetlb"}, net, {}, &warnings)),
            "linux/resources/network/classID: needs the \"net_cls\" cgroup controller, which "
            "this host does not have");
  // unified keys go to the cgroup2 hierarchy when it has their controller (or they are
  // core files); memory is bound to v1 here.
  spec::Resources unified;
  unified.unified["memory.high"] = "1";
  EXPECT_EQ(Error(PlanResources(layout, {"hugetlb"}, unified, {}, &warnings)),
            "linux/resources/unified/memory.high: needs the \"memory\" cgroup controller, which "
            "this host does not have");
  unified.unified.clear();
  unified.unified["hugetlb.2MB.max"] = "0";
  unified.unified["cgroup.max.depth"] = "3";
  plan = PlanResources(layout, {"hugetlb"}, unified, {}, &warnings);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->back(), V2("hugetlb", "hugetlb.2MB.max", "0"));
  EXPECT_EQ((*plan)[plan->size() - 2], V2("cgroup", "cgroup.max.depth", "3"));
  Layout legacy = ParseMountinfo("35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n");
  EXPECT_EQ(Error(PlanResources(legacy, {}, unified, {}, &warnings)),
            "linux/resources/unified: needs a cgroup2 hierarchy (this host has only cgroup v1)");
}

TEST(PlanResources, KernelMemoryIsAWarningAndUseHierarchyFalseAnError) {
  Layout layout = ParseMountinfo(kHybridNoHugetlb);
  spec::Resources r;
  r.memory.emplace().kernel = 1 << 20;
  std::vector<std::string> warnings;
  absl::StatusOr<std::vector<FileWrite>> plan = PlanResources(layout, {}, r, {}, &warnings);
  ASSERT_TRUE(plan.ok()) << plan.status();
  for (const FileWrite& w : *plan) EXPECT_EQ(w.file.find("kmem.limit"), std::string::npos);
  EXPECT_EQ(warnings, std::vector<std::string>{"linux/resources/memory/kernel: ignored: Linux no "
                                               "longer enforces kernel memory limits"});
  r.memory->use_hierarchy = false;
  EXPECT_EQ(Error(PlanResources(layout, {}, r, {}, &warnings)),
            "linux/resources/memory/useHierarchy: false cannot be applied: Linux always accounts "
            "memory hierarchically");
  r.memory->use_hierarchy = true;
  EXPECT_TRUE(PlanResources(layout, {}, r, {}, &warnings).ok());
}

TEST(PlanResources, PureV2NeedsEachControllerAndLeavesDevicesToEbpf) {
  Layout layout = ParseMountinfo("30 22 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
  spec::Resources r;
  r.pids.emplace().limit = 5;
  r.devices.push_back({false, std::string("a"), std::nullopt, std::nullopt, std::string("rwm")});
  absl::StatusOr<std::vector<FileWrite>> plan =
      PlanResources(layout, {"cpu", "memory", "pids"}, r, {}, nullptr);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(*plan, std::vector<FileWrite>{V2("pids", "pids.max", "5")});
  EXPECT_EQ(Error(PlanResources(layout, {"cpu", "memory"}, r, {}, nullptr)),
            "linux/resources/pids/limit: needs the \"pids\" cgroup controller, which this host "
            "does not have");
  // Core files need no controller.
  spec::Resources core;
  core.unified["cgroup.max.depth"] = "1";
  EXPECT_EQ(Error(PlanResources(layout, {}, core, {}, nullptr)), "OK");
}

TEST(ParseSystemdPath, SlicePrefixName) {
  auto unit = [](const char* path, bool rootless = false) {
    absl::StatusOr<SystemdUnit> u =
        ParseSystemdPath(path ? std::optional<std::string>(path) : std::nullopt, "c1", rootless);
    return u.ok() ? u->slice + " " + u->unit : std::string(u.status().message());
  };
  EXPECT_EQ(unit("system.slice:docker:abc"), "system.slice docker-abc.scope");
  EXPECT_EQ(unit("kubepods-burstable-podX.slice:cri-containerd:id1"),
            "kubepods-burstable-podX.slice cri-containerd-id1.scope");
  EXPECT_EQ(unit(":libpod:x"), "system.slice libpod-x.scope");
  EXPECT_EQ(unit(":libpod:x", true), "user.slice libpod-x.scope");
  EXPECT_EQ(unit("machine.slice::x"), "machine.slice x.scope");
  EXPECT_EQ(unit("system.slice:p:sub.slice"), "system.slice sub.slice");
  EXPECT_EQ(unit(nullptr), "system.slice husk-c1.scope");
  EXPECT_EQ(unit("/a/b"),
            "linux/cgroupsPath: \"/a/b\": with --systemd-cgroup it must be \"slice:prefix:name\"");
  EXPECT_EQ(unit("system.slice:p:"), "linux/cgroupsPath: \"system.slice:p:\": the name part is empty");
  EXPECT_EQ(unit("system:p:n"),
            "linux/cgroupsPath: \"system:p:n\": the slice must end in \".slice\"");
  EXPECT_EQ(unit("system.slice:p:../x"),
            "linux/cgroupsPath: \"system.slice:p:../x\": invalid systemd unit name part \"../x\"");
}

TEST(V2Controller, Mapping) {
  EXPECT_EQ(V2Controller("blkio"), "io");
  EXPECT_EQ(V2Controller("memory"), "memory");
  EXPECT_EQ(V2Controller("cpuacct"), "cpu");
  EXPECT_EQ(V2Controller("hugetlb"), "hugetlb");
  EXPECT_EQ(V2Controller("devices"), "");
  EXPECT_EQ(V2Controller("net_cls"), "");
}

}  // namespace
}  // namespace husk::kernel::cgroups
