// Real-kernel tests of runtime/kernel/cgroups on cgroup2 (root only). The layout under
// test is "pure v2" rooted at <cgroup2 mount>/husk-test: on this hybrid host that is
// /sys/fs/cgroup/unified/husk-test (no controllers are delegated there, so the core
// features are tested: placement, freezer, cgroup.kill, busy/frozen refusal, core keys,
// the devices eBPF program); in the pure v2 guest (tests/vm) /sys/fs/cgroup/husk-test,
// with every controller, where the resource writes are read back too. With
// HUSK_EXPECT_V2_CONTROLLERS=1 (the guest sets it) a missing controller is a failure.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/base/fs.h"
#include "runtime/base/status.h"
#include "runtime/kernel/cgroups/cgroups.h"
#include "runtime/kernel/cgroups/device_bpf.h"
#include "tests/support/cgroup_child.h"

namespace husk::kernel::cgroups {
namespace {

using ::husk::testing::Exists;
using ::husk::testing::JoinedChild;
using ::husk::testing::ReadText;
using CgroupSetup = ::husk::kernel::cgroups::Setup;

constexpr long kCgroup2Magic = 0x63677270;  // CGROUP2_SUPER_MAGIC

class CgroupsV2Test : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to create cgroups";
    absl::StatusOr<Layout> host = Detect();
    ASSERT_TRUE(host.ok()) << host.status();
    const Hierarchy* unified = host->Unified();
    ASSERT_NE(unified, nullptr) << "no cgroup2 mount on this host";
    struct statfs fs;
    ASSERT_EQ(statfs(unified->mount_point.c_str(), &fs), 0);
    ASSERT_EQ(fs.f_type, kCgroup2Magic) << unified->mount_point;
    cgroup2_root_ = unified->mount_point;
    base_ = ::husk::testing::MakeV2TestLayout(&layout_);
    ASSERT_EQ(base_, cgroup2_root_ + "/husk-test") << "cannot make the cgroup2 test dir";
    static std::atomic<int> counter{0};
    path_ = "/unit-v2-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
    dir_ = base_ + path_;
    absl::StatusOr<std::vector<std::string>> available = AvailableControllers(base_);
    ASSERT_TRUE(available.ok()) << available.status();
    available_ = *available;
  }

  void TearDown() override {
    if (!dir_.empty() && Exists(dir_)) {
      EXPECT_TRUE(Destroy({dir_}).ok()) << dir_;
      ADD_FAILURE() << "test left " << dir_ << " behind";
    }
  }

  // Whether the controller is delegated to husk-test; a failure instead of false when
  // the environment promises every controller (the pure v2 guest).
  bool Have(const std::string& controller) {
    bool have = std::find(available_.begin(), available_.end(), controller) != available_.end();
    const char* expect = getenv("HUSK_EXPECT_V2_CONTROLLERS");
    if (!have && expect != nullptr && std::string(expect) == "1") {
      ADD_FAILURE() << "controller " << controller << " missing from " << base_
                    << "/cgroup.controllers";
    }
    return have;
  }

  std::string cgroup2_root_, base_, path_, dir_;
  Layout layout_;
  std::vector<std::string> available_;
};

spec::Linux WithResources(const spec::Resources& r) {
  spec::Linux lx;
  lx.resources = r;
  return lx;
}

TEST_F(CgroupsV2Test, CreateJoinDestroy) {
  absl::StatusOr<CgroupSetup> setup = CreateAndApply(layout_, path_, nullptr);
  ASSERT_TRUE(setup.ok()) << setup.status();
  ASSERT_EQ(setup->dirs, std::vector<std::string>{dir_});
  EXPECT_EQ(setup->created, std::vector<std::string>{dir_});
  EXPECT_EQ(setup->unified, std::vector<bool>{true});
  EXPECT_GE(UnifiedDirFd(*setup), 0);
  // The device rules are one eBPF program on the container's dir (no v1 devices here).
  absl::StatusOr<std::vector<uint32_t>> programs = AttachedDevicePrograms(UnifiedDirFd(*setup));
  ASSERT_TRUE(programs.ok()) << programs.status();
  EXPECT_EQ(programs->size(), 1u);
  // Every controller of the parent is delegated to the container's dir (as runc does).
  std::vector<std::string> enabled = SplitControllers(ReadText(base_ + "/cgroup.subtree_control"));
  for (const std::string& c : available_) {
    EXPECT_NE(std::find(enabled.begin(), enabled.end(), c), enabled.end()) << c;
  }
  {
    JoinedChild child(*setup);
    ASSERT_EQ(child.join_errno(), 0);
    std::string rel = base_.substr(cgroup2_root_.size()) + path_;
    std::string cgroups = "\n" + ReadText("/proc/" + std::to_string(child.pid()) + "/cgroup") + "\n";
    EXPECT_NE(cgroups.find("\n0::" + rel + "\n"), std::string::npos) << cgroups;
    absl::StatusOr<std::vector<int>> pids = Pids(setup->dirs);
    ASSERT_TRUE(pids.ok()) << pids.status();
    EXPECT_EQ(*pids, std::vector<int>{child.pid()});
  }
  setup->dir_fds.clear();
  ASSERT_TRUE(Destroy(setup->created).ok());
  EXPECT_FALSE(Exists(dir_));
}

TEST_F(CgroupsV2Test, FreezeThawAndKill) {
  absl::StatusOr<CgroupSetup> setup = CreateAndApply(layout_, path_, nullptr);
  ASSERT_TRUE(setup.ok()) << setup.status();
  JoinedChild child(*setup);
  ASSERT_EQ(child.join_errno(), 0);
  absl::StatusOr<bool> frozen = IsFrozen(setup->dirs);
  ASSERT_TRUE(frozen.ok()) << frozen.status();
  EXPECT_FALSE(*frozen);
  ASSERT_TRUE(Freeze(setup->dirs).ok());
  EXPECT_EQ(ReadText(dir_ + "/cgroup.freeze"), "1");
  EXPECT_NE(ReadText(dir_ + "/cgroup.events").find("frozen 1"), std::string::npos);
  frozen = IsFrozen(setup->dirs);
  ASSERT_TRUE(frozen.ok());
  EXPECT_TRUE(*frozen);
  // The child is stopped by the freezer: /proc says so ("State:" stays S, but the
  // cgroup's events are the kernel's word). A non-fatal signal keeps it paused.
  ASSERT_TRUE(SignalAll(setup->dirs, SIGCONT).ok());
  EXPECT_EQ(ReadText(dir_ + "/cgroup.freeze"), "1");
  ASSERT_TRUE(Thaw(setup->dirs).ok());
  EXPECT_NE(ReadText(dir_ + "/cgroup.events").find("frozen 0"), std::string::npos);
  frozen = IsFrozen(setup->dirs);
  ASSERT_TRUE(frozen.ok());
  EXPECT_FALSE(*frozen);
  // SIGKILL goes through cgroup.kill, paused or not.
  ASSERT_TRUE(Freeze(setup->dirs).ok());
  ASSERT_TRUE(SignalAll(setup->dirs, SIGKILL).ok());
  int status = child.Reap();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  setup->dir_fds.clear();
  EXPECT_TRUE(Destroy(setup->created).ok());
}

TEST_F(CgroupsV2Test, SignalAllWithOtherSignalsFreezesListsAndThaws) {
  absl::StatusOr<CgroupSetup> setup = CreateAndApply(layout_, path_, nullptr);
  ASSERT_TRUE(setup.ok()) << setup.status();
  JoinedChild child(*setup);
  ASSERT_EQ(child.join_errno(), 0);
  ASSERT_TRUE(SignalAll(setup->dirs, SIGTERM).ok());
  int status = child.Reap();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << status;
  EXPECT_EQ(ReadText(dir_ + "/cgroup.freeze"), "0");
  setup->dir_fds.clear();
  EXPECT_TRUE(Destroy(setup->created).ok());
}

TEST_F(CgroupsV2Test, RefusesBusyAndFrozenCgroupsAndKeepsThem) {
  ASSERT_EQ(mkdir(dir_.c_str(), 0755), 0);
  CgroupSetup existing;
  existing.dirs = {dir_};
  existing.unified = {true};
  existing.dir_fds.emplace_back(open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  {
    JoinedChild squatter(existing);
    ASSERT_EQ(squatter.join_errno(), 0);
    absl::StatusOr<CgroupSetup> setup = CreateAndApply(layout_, path_, nullptr);
    ASSERT_FALSE(setup.ok());
    EXPECT_EQ(setup.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(setup.status().message(), "container's cgroup is not empty: 1 process(es) found in \"" +
                                            dir_ + "\"");
    EXPECT_TRUE(Exists(dir_)) << "a cgroup husk did not create was removed";
  }
  ASSERT_TRUE(WriteFileAt(AT_FDCWD, dir_ + "/cgroup.freeze", "1").ok());
  absl::StatusOr<CgroupSetup> setup = CreateAndApply(layout_, path_, nullptr);
  ASSERT_FALSE(setup.ok());
  EXPECT_EQ(setup.status().message(),
            "container's cgroup unexpectedly frozen: cgroup.freeze in \"" + dir_ + "\" is 1");
  EXPECT_TRUE(Exists(dir_));
  existing.dir_fds.clear();
  ASSERT_EQ(rmdir(dir_.c_str()), 0);
}

TEST_F(CgroupsV2Test, UnifiedKeys) {
  spec::Resources r;
  r.unified["cgroup.max.descendants"] = "3";
  spec::Linux lx = WithResources(r);
  absl::StatusOr<CgroupSetup> setup = CreateAndApply(layout_, path_, &lx);
  ASSERT_TRUE(setup.ok()) << setup.status();
  EXPECT_EQ(ReadText(dir_ + "/cgroup.max.descendants"), "3");
  setup->dir_fds.clear();
  ASSERT_TRUE(Destroy(setup->created).ok());

  struct Bad {
    const char* key;
    std::string error;
  };
  const Bad bad[] = {
      {"cgroup.procs", "linux/resources/unified/cgroup.procs: this file is managed by the runtime"},
      {"../memory.max",
       "linux/resources/unified/../memory.max: invalid key (want CONTROLLER.FILE, e.g. "
       "\"memory.high\")"},
      {"memory", "linux/resources/unified/memory: invalid key (want CONTROLLER.FILE, e.g. "
                 "\"memory.high\")"},
      {"nosuch.file",
       "linux/resources/unified/nosuch.file: needs the \"nosuch\" cgroup controller, which this "
       "host does not have"},
  };
  for (const Bad& b : bad) {
    spec::Resources br;
    br.unified[b.key] = "1";
    spec::Linux blx = WithResources(br);
    absl::StatusOr<CgroupSetup> s = CreateAndApply(layout_, path_, &blx);
    ASSERT_FALSE(s.ok()) << b.key;
    EXPECT_EQ(s.status().message(), b.error);
    EXPECT_FALSE(Exists(dir_)) << b.key;
  }
  // A file the kernel does not have: refused, naming the key, and nothing left behind.
  spec::Resources nr;
  nr.unified["cgroup.nosuchfile"] = "1";
  spec::Linux nlx = WithResources(nr);
  absl::StatusOr<CgroupSetup> s = CreateAndApply(layout_, path_, &nlx);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(std::string(s.status().message())
                .rfind("linux/resources/unified/cgroup.nosuchfile: not supported by this kernel", 0),
            0u)
      << s.status();
  EXPECT_FALSE(Exists(dir_));
}

TEST_F(CgroupsV2Test, MissingControllerIsAnErrorNamingTheField) {
  if (Have("memory")) GTEST_SKIP() << "memory is delegated here (the guest): nothing to refuse";
  spec::Resources r;
  r.memory.emplace();
  r.memory->limit = 1 << 30;
  spec::Linux lx = WithResources(r);
  absl::StatusOr<CgroupSetup> setup = CreateAndApply(layout_, path_, &lx);
  ASSERT_FALSE(setup.ok());
  EXPECT_EQ(setup.status().message(),
            "linux/resources/memory/limit: needs the \"memory\" cgroup controller, which this "
            "host does not have");
  EXPECT_FALSE(Exists(dir_));
}

// Each converted v1-style value read back from the kernel (pure v2 guest).
TEST_F(CgroupsV2Test, ResourcesReadBack) {
  bool memory = Have("memory"), cpu = Have("cpu"), pids = Have("pids"), cpuset = Have("cpuset");
  bool io = Have("io");
  if (!memory && !cpu && !pids && !cpuset && !io) {
    GTEST_SKIP() << "no controller is delegated to " << base_ << " (hybrid host)";
  }
  spec::Resources r;
  if (memory) {
    r.memory.emplace();
    r.memory->limit = 64 << 20;
    r.memory->swap = 96 << 20;
    r.memory->reservation = 32 << 20;
  }
  if (cpu || cpuset) {
    r.cpu.emplace();
    if (cpu) {
      r.cpu->shares = 1024;
      r.cpu->quota = 50000;
      r.cpu->period = 100000;
      r.cpu->burst = 1000;
      r.cpu->idle = 0;
    }
    if (cpuset) {
      r.cpu->cpus = "0";
      r.cpu->mems = "0";
    }
  }
  if (pids) {
    r.pids.emplace();
    r.pids->limit = 42;
  }
  if (io) {
    r.block_io.emplace();
    r.block_io->weight = 500;
  }
  r.unified["cgroup.max.depth"] = "2";
  spec::Linux lx = WithResources(r);
  absl::StatusOr<CgroupSetup> setup = CreateAndApply(layout_, path_, &lx);
  ASSERT_TRUE(setup.ok()) << setup.status();
  if (memory) {
    EXPECT_EQ(ReadText(dir_ + "/memory.max"), std::to_string(64 << 20));
    if (Exists(dir_ + "/memory.swap.max")) {
      EXPECT_EQ(ReadText(dir_ + "/memory.swap.max"), std::to_string(32 << 20));  // swap - limit
    }
    EXPECT_EQ(ReadText(dir_ + "/memory.low"), std::to_string(32 << 20));
  }
  if (cpu) {
    EXPECT_EQ(ReadText(dir_ + "/cpu.weight"), "39");  // 1 + (1024 - 2) * 9999 / 262142
    EXPECT_EQ(ReadText(dir_ + "/cpu.max"), "50000 100000");
    EXPECT_EQ(ReadText(dir_ + "/cpu.max.burst"), "1000");
    EXPECT_EQ(ReadText(dir_ + "/cpu.idle"), "0");
  }
  if (cpuset) {
    EXPECT_EQ(ReadText(dir_ + "/cpuset.cpus"), "0");
    EXPECT_EQ(ReadText(dir_ + "/cpuset.mems"), "0");
  }
  if (pids) EXPECT_EQ(ReadText(dir_ + "/pids.max"), "42");
  if (io) {
    // BFQ takes the v1 value as is; io.weight gets 1 + (500 - 10) * 9999 / 990 = 4950.
    if (Exists(dir_ + "/io.bfq.weight")) {
      EXPECT_EQ(ReadText(dir_ + "/io.bfq.weight"), "default 500");
    } else {
      EXPECT_EQ(ReadText(dir_ + "/io.weight"), "default 4950");
    }
  }
  EXPECT_EQ(ReadText(dir_ + "/cgroup.max.depth"), "2");
  setup->dir_fds.clear();
  EXPECT_TRUE(Destroy(setup->created).ok());
}

}  // namespace
}  // namespace husk::kernel::cgroups
