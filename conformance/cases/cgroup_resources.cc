// config-linux.md "Control groups" resources checked in the cgroup files (v1, or the
// cgroup2 hierarchy of a hybrid host), skipped when the host lacks the controller.
#include <fcntl.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>


#include "conformance/cases/util.h"

namespace husk::conformance {
namespace {

// ---------------------------------------------------------------------------------------
// Cgroup resources (cgroup v1 files, or the cgroup2 hierarchy of a hybrid host).

Register blkio_weight{{
    "cgroups_blkio_weight", "config-linux.md#block-io",
    "",
    [](Ctx& ctx) {
      ctx.Set("/linux/resources/blockIO", R"({"weight": 300})");
      CmdResult r = CreateSleeping(ctx);
      std::string mp = CgroupMount("blkio");
      if (mp.empty()) Skip("no blkio cgroup hierarchy");
      // The weight files exist only below the root cgroup: look in the test parent.
      std::string parent = mp + ctx.cgroups_path().substr(0, ctx.cgroups_path().rfind('/'));
      std::string file = Exists(parent + "/blkio.weight")       ? "blkio.weight"
                         : Exists(parent + "/blkio.bfq.weight") ? "blkio.bfq.weight"
                                                                : "";
      if (file.empty()) {
        Skip("no blkio.weight or blkio.bfq.weight on this host (no CFQ/BFQ); create " +
             std::string(r.ok() ? "succeeded" : "failed: " + r.Describe()));
      }
      Check(r.ok(), "create: " + r.Describe());
      std::string got = CgFile(ctx, mp, file);
      Check(got == "300" || got.rfind("default 300", 0) == 0, file + " = '" + got + "'");
    }}};

Register blkio_throttle{{
    "cgroups_blkio_throttle", "config-linux.md#block-io",
    "",
    [](Ctx& ctx) {
      // The throttle files take a whole disk: the one holding the host's root.
      struct stat st;
      if (::stat("/", &st) != 0) Fail("harness: stat /");
      std::string dev = Str(major(st.st_dev)) + ":" + Str(minor(st.st_dev));
      if (!Exists("/sys/dev/block/" + dev) || Exists("/sys/dev/block/" + dev + "/partition")) {
        Skip("the root filesystem is not on a whole disk (" + dev + ")");
      }
      ctx.Set("/linux/resources/blockIO",
              R"({"throttleReadBpsDevice": [{"major": )" + Str(major(st.st_dev)) +
                  R"(, "minor": )" + Str(minor(st.st_dev)) + R"(, "rate": 1048576}],
                  "throttleWriteIOPSDevice": [{"major": )" + Str(major(st.st_dev)) +
                  R"(, "minor": )" + Str(minor(st.st_dev)) + R"(, "rate": 300}]})");
      CmdResult r = CreateSleeping(ctx);
      std::string mp = CgroupMount("blkio");
      if (mp.empty()) Skip("no blkio cgroup hierarchy");
      Check(r.ok(), "create: " + r.Describe());
      std::string rbps = CgFile(ctx, mp, "blkio.throttle.read_bps_device");
      std::string wiops = CgFile(ctx, mp, "blkio.throttle.write_iops_device");
      Check(rbps == dev + " 1048576", "blkio.throttle.read_bps_device = '" + rbps + "'");
      Check(wiops == dev + " 300", "blkio.throttle.write_iops_device = '" + wiops + "'");
    }}};

Register hugetlb{{
    "cgroups_hugepage_limits", "config-linux.md#huge-page-limits",
    "on hybrid hosts hugetlb exists only in the cgroup2 hierarchy, where runc 1.1.5 does not "
    "apply v1 resources",
    [](Ctx& ctx) {
      if (!Exists("/sys/kernel/mm/hugepages/hugepages-2048kB")) Skip("no 2MB huge pages");
      ctx.Set("/linux/resources/hugepageLimits", R"([{"pageSize": "2MB", "limit": 4194304}])");
      CmdResult r = CreateSleeping(ctx);
      std::string v1 = CgroupMount("hugetlb");
      if (!v1.empty()) {
        Check(r.ok(), "create: " + r.Describe());
        std::string lim = CgFile(ctx, v1, "hugetlb.2MB.limit_in_bytes");
        std::string rsvd = CgFile(ctx, v1, "hugetlb.2MB.rsvd.limit_in_bytes");
        Check(lim == "4194304" || rsvd == "4194304",
              "hugetlb.2MB.limit_in_bytes = '" + lim + "', rsvd = '" + rsvd + "'");
        return;
      }
      std::string v2 = CgroupMount("");
      if (v2.empty() || !V2Has("hugetlb")) Skip("no hugetlb controller on this host");
      if (HidesUnified(ctx)) Skip("the harness hides the cgroup2 hierarchy from this runtime");
      std::string max = CgFile(ctx, v2, "hugetlb.2MB.max");
      std::string rsvd = CgFile(ctx, v2, "hugetlb.2MB.rsvd.max");
      if (max.empty() && rsvd.empty()) {
        Skip("hugetlb is only in the hybrid cgroup2 hierarchy and not enabled for the "
             "container's cgroup there; create " +
             std::string(r.ok() ? "succeeded" : "failed: " + r.Describe()));
      }
      Check(r.ok(), "create: " + r.Describe());
      Check(max == "4194304" || rsvd == "4194304",
            "hugetlb.2MB.max = '" + max + "', rsvd.max = '" + rsvd + "'");
    }}};

Register net_cls{{
    "cgroups_network_class_id", "config-linux.md#network",
    "",
    [](Ctx& ctx) {
      ctx.Set("/linux/resources/network", R"({"classID": 1048577})");
      CmdResult r = CreateSleeping(ctx);
      std::string mp = CgroupMount("net_cls");
      if (mp.empty()) {
        Skip("no net_cls cgroup hierarchy on this host; create " +
             std::string(r.ok() ? "succeeded" : "failed: " + r.Describe()));
      }
      Check(r.ok(), "create: " + r.Describe());
      std::string got = CgFile(ctx, mp, "net_cls.classid");
      Check(got == "1048577", "net_cls.classid = '" + got + "'");
    }}};

Register rdma{{
    "cgroups_rdma", "config-linux.md#rdma",
    "",
    [](Ctx& ctx) {
      ctx.Set("/linux/resources/rdma", R"({"conf_rdma0": {"hcaHandles": 3, "hcaObjects": 100}})");
      CmdResult r = CreateSleeping(ctx);
      std::string mp = CgroupMount("rdma");
      if (mp.empty()) {
        Skip(std::string(V2Has("rdma") ? "rdma only in the hybrid cgroup2 hierarchy"
                                       : "no rdma cgroup controller on this host") +
             "; create " + (r.ok() ? "succeeded" : "failed: " + r.Describe()));
      }
      // There is no RDMA device conf_rdma0: a runtime must report the write error.
      Check(!r.ok(), "create succeeded with limits for a missing RDMA device");
    }}};

Register unified{{
    "cgroups_unified", "config-linux.md#unified",
    "runc 1.1.5 refuses unified on v1 and hybrid hosts",
    [](Ctx& ctx) {
      ctx.Set("/linux/resources/unified", R"({"cgroup.max.descendants": "7"})");
      CmdResult r = CreateSleeping(ctx);
      std::string v2 = CgroupMount("");
      if (v2.empty()) Skip("no cgroup2 hierarchy on this host");
      if (HidesUnified(ctx)) Skip("the harness hides the cgroup2 hierarchy from this runtime");
      Check(r.ok(), "create: " + r.Describe());
      std::string got = CgFile(ctx, v2, "cgroup.max.descendants");
      Check(got == "7", "cgroup.max.descendants = '" + got + "'");
    }}};

Register cpu_rt{{
    "cgroups_cpu_realtime", "config-linux.md#cpu",
    "",
    [](Ctx& ctx) {
      // The test parent has no RT budget (cpu.rt_runtime_us 0), so runtime 0 is the only
      // value that fits; the period (default 1000000) shows that the fields landed.
      ctx.Set("/linux/resources/cpu", R"({"realtimePeriod": 500000, "realtimeRuntime": 0})");
      CmdResult r = CreateSleeping(ctx);
      std::string mp = CgroupMount("cpu");
      if (mp.empty() || !Exists(mp + "/cpu.rt_period_us")) {
        Skip("no cpu.rt_* files (cgroup v1 cpu without CONFIG_RT_GROUP_SCHED)");
      }
      Check(r.ok(), "create: " + r.Describe());
      std::string period = CgFile(ctx, mp, "cpu.rt_period_us");
      std::string runtime = CgFile(ctx, mp, "cpu.rt_runtime_us");
      Check(period == "500000", "cpu.rt_period_us = '" + period + "'");
      Check(runtime == "0", "cpu.rt_runtime_us = '" + runtime + "'");
    }}};

Register kernel_tcp{{
    "cgroups_memory_kernel_tcp", "config-linux.md#memory",
    "runc 1.1.5 ignores kernelTCP",
    [](Ctx& ctx) {
      ctx.Set("/linux/resources/memory", R"({"kernelTCP": 16777216})");
      CmdResult r = CreateSleeping(ctx);
      std::string mp = CgroupMount("memory");
      if (mp.empty() || !Exists(mp + "/memory.kmem.tcp.limit_in_bytes")) {
        Skip("no memory.kmem.tcp.limit_in_bytes (cgroup v1 memory) on this host");
      }
      Check(r.ok(), "create: " + r.Describe());
      std::string got = CgFile(ctx, mp, "memory.kmem.tcp.limit_in_bytes");
      Check(got == "16777216", "memory.kmem.tcp.limit_in_bytes = '" + got + "'");
    }}};

}  // namespace
}  // namespace husk::conformance
