// Real-kernel tests of runtime/kernel/cgroups on a v1/hybrid host (root only): create and
// apply limits, join from a forked child, freeze/thaw, kill --all, destroy, and cleanup
// after a failed write. Every cgroup lives under /husk-test/<unique> and is removed.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/cgroup_child.h"
#include "tests/support/spec_builders.h"
#include "runtime/base/status.h"
#include "runtime/kernel/cgroups/cgroups.h"

namespace husk::kernel::cgroups {
namespace {

using ::husk::testing::Dev;
using ::husk::testing::Exists;
using ::husk::testing::JoinedChild;
using ::husk::testing::ReadText;
using ::husk::testing::Rule;

// gtest's fixtures have a member called Setup (a misspelling trap), hiding ours.
using CgroupSetup = ::husk::kernel::cgroups::Setup;

// controller -> v1 (fstype "cgroup") mount points, in /proc/self/mountinfo order.
std::map<std::string, std::vector<std::string>> V1MountsFromMountinfo() {
  std::map<std::string, std::vector<std::string>> out;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream pre(line.substr(0, dash)), post(line.substr(dash + 3));
    std::string id, parent, dev, root, mount_point, fstype, source, super;
    if (!(pre >> id >> parent >> dev >> root >> mount_point)) continue;
    if (!(post >> fstype >> source >> super) || fstype != "cgroup") continue;
    std::istringstream opts(super);
    for (std::string opt; std::getline(opts, opt, ',');) out[opt].push_back(mount_point);
  }
  return out;
}

class CgroupsV1Test : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to create cgroups";
    // Whether the host has the v1 controllers is read from mountinfo directly: Detect()
    // is code under test, so its failing or disagreeing is a failure, never a skip.
    std::map<std::string, std::vector<std::string>> v1 = V1MountsFromMountinfo();
    for (const char* c : {"memory", "cpu", "cpuset", "pids", "devices", "freezer"}) {
      if (v1[c].empty()) GTEST_SKIP() << "controller " << c << " has no v1 mount";
    }
    absl::StatusOr<Layout> layout = Detect();
    ASSERT_TRUE(layout.ok()) << "Detect() failed on a host with v1 mounts: " << layout.status();
    ASSERT_NE(layout->mode, Mode::kUnified) << "Detect() says unified on a v1 host";
    for (const char* c : {"memory", "cpu", "cpuset", "pids", "devices", "freezer"}) {
      const Hierarchy* h = layout->Find(c);
      ASSERT_NE(h, nullptr) << "Detect() lost controller " << c;
      EXPECT_NE(std::find(v1[c].begin(), v1[c].end(), h->mount_point), v1[c].end())
          << c << ": Detect() says " << h->mount_point << ", mountinfo has "
          << ::testing::PrintToString(v1[c]);
    }
    if (HasFailure()) return;
    layout_ = *layout;
    static std::atomic<int> counter{0};
    path_ = "/husk-test/unit-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
  }

  void TearDown() override {
    // Belt and braces: remove the leaf in every hierarchy if a test left it behind.
    for (const Hierarchy& h : layout_.hierarchies) {
      std::string dir = h.mount_point + path_;
      if (Exists(dir)) {
        EXPECT_TRUE(Destroy({dir}).ok()) << dir;
        ADD_FAILURE() << "test left " << dir << " behind";
      }
    }
  }

  std::string Dir(const char* controller) const {
    return layout_.Find(controller)->mount_point + path_;
  }

  Layout layout_;
  std::string path_;
};

TEST_F(CgroupsV1Test, CreateApplyJoinDestroy) {
  spec::Linux linux_cfg;
  spec::Resources& r = linux_cfg.resources.emplace();
  r.memory.emplace();
  r.memory->limit = 64 << 20;
  r.memory->reservation = 32 << 20;
  r.memory->swappiness = 20;
  r.cpu.emplace();
  r.cpu->shares = 512;
  r.cpu->period = 100000;
  r.cpu->quota = 50000;
  r.cpu->cpus = "0";
  r.cpu->mems = "0";
  r.pids.emplace();
  r.pids->limit = 64;
  r.devices.push_back(Rule(false, std::nullopt, std::nullopt, std::nullopt, "rwm"));
  r.devices.push_back(Rule(true, "c", 10, 229, "rw"));
  linux_cfg.devices.push_back(Dev("b", "/dev/sdz", 8, 0));
  if (Exists(layout_.Find("memory")->mount_point + "/memory.memsw.limit_in_bytes")) {
    r.memory->swap = 128 << 20;
  }

  absl::StatusOr<CgroupSetup> setup = CreateAndApply(layout_, path_, &linux_cfg);
  ASSERT_TRUE(setup.ok()) << setup.status();
  EXPECT_EQ(setup->dirs.size(), layout_.hierarchies.size());
  EXPECT_EQ(setup->created.size(), layout_.hierarchies.size());
  EXPECT_EQ(setup->dir_fds.size(), setup->dirs.size());

  EXPECT_EQ(ReadText(Dir("memory") + "/memory.limit_in_bytes"), std::to_string(64 << 20));
  EXPECT_EQ(ReadText(Dir("memory") + "/memory.soft_limit_in_bytes"), std::to_string(32 << 20));
  EXPECT_EQ(ReadText(Dir("memory") + "/memory.swappiness"), "20");
  if (r.memory->swap) {
    EXPECT_EQ(ReadText(Dir("memory") + "/memory.memsw.limit_in_bytes"), std::to_string(128 << 20));
  }
  EXPECT_EQ(ReadText(Dir("cpu") + "/cpu.shares"), "512");
  EXPECT_EQ(ReadText(Dir("cpu") + "/cpu.cfs_period_us"), "100000");
  EXPECT_EQ(ReadText(Dir("cpu") + "/cpu.cfs_quota_us"), "50000");
  EXPECT_EQ(ReadText(Dir("cpuset") + "/cpuset.cpus"), "0");
  EXPECT_EQ(ReadText(Dir("cpuset") + "/cpuset.mems"), "0");
  EXPECT_EQ(ReadText(Dir("pids") + "/pids.max"), "64");
  std::string devices = "\n" + ReadText(Dir("devices") + "/devices.list") + "\n";
  for (const char* line : {"c 10:229 rw", "b 8:0 rwm", "c 1:3 rwm", "c 136:* rwm", "c *:* m"}) {
    EXPECT_NE(devices.find("\n" + std::string(line) + "\n"), std::string::npos)
        << line << " not in" << devices;
  }
  EXPECT_EQ(devices.find("a *:* rwm"), std::string::npos) << devices;

  {
    JoinedChild child(*setup);
    ASSERT_GT(child.pid(), 0);
    ASSERT_EQ(child.join_errno(), 0);
    std::string cgroup = ReadText("/proc/" + std::to_string(child.pid()) + "/cgroup");
    for (const Hierarchy& h : layout_.hierarchies) {
      std::string want = h.unified ? "0::" + path_ : ":" + [&] {
        std::string joined;
        for (const std::string& c : h.controllers) {
          joined += (joined.empty() ? "" : ",") + c;
        }
        return joined;
      }() + ":" + path_;
      EXPECT_NE(cgroup.find(want), std::string::npos) << want << " not in\n" << cgroup;
    }
    absl::StatusOr<std::vector<int>> pids = Pids(setup->dirs);
    ASSERT_TRUE(pids.ok()) << pids.status();
    EXPECT_EQ(*pids, std::vector<int>{child.pid()});
    child.Kill();
  }
  absl::StatusOr<std::vector<int>> pids = Pids(setup->dirs);
  ASSERT_TRUE(pids.ok());
  EXPECT_TRUE(pids->empty());

  setup->dir_fds.clear();
  ASSERT_TRUE(Destroy(setup->created).ok());
  for (const std::string& dir : setup->dirs) EXPECT_FALSE(Exists(dir)) << dir;
  // Gone cgroups: listing gives nothing, kill --all is a no-op, not paused.
  pids = Pids(setup->dirs);
  ASSERT_TRUE(pids.ok());
  EXPECT_TRUE(pids->empty());
  EXPECT_TRUE(SignalAll(setup->dirs, SIGKILL).ok());
  absl::StatusOr<bool> frozen = IsFrozen(setup->dirs);
  ASSERT_TRUE(frozen.ok());
  EXPECT_FALSE(*frozen);
  EXPECT_TRUE(Destroy(setup->created).ok());  // ENOENT is fine
}

TEST_F(CgroupsV1Test, FreezeThawAndSignalAll) {
  absl::StatusOr<CgroupSetup> setup = CreateAndApply(layout_, path_, nullptr);
  ASSERT_TRUE(setup.ok()) << setup.status();
  JoinedChild child(*setup);
  ASSERT_EQ(child.join_errno(), 0);

  absl::StatusOr<bool> frozen = IsFrozen(setup->dirs);
  ASSERT_TRUE(frozen.ok());
  EXPECT_FALSE(*frozen);
  ASSERT_TRUE(Freeze(setup->dirs).ok());
  frozen = IsFrozen(setup->dirs);
  ASSERT_TRUE(frozen.ok());
  EXPECT_TRUE(*frozen);
  EXPECT_EQ(ReadText(Dir("freezer") + "/freezer.state"), "FROZEN");
  ASSERT_TRUE(Thaw(setup->dirs).ok());
  frozen = IsFrozen(setup->dirs);
  ASSERT_TRUE(frozen.ok());
  EXPECT_FALSE(*frozen);

  ASSERT_TRUE(SignalAll(setup->dirs, SIGKILL).ok());
  int status = child.Reap();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  EXPECT_EQ(ReadText(Dir("freezer") + "/freezer.state"), "THAWED");

  setup->dir_fds.clear();
  EXPECT_TRUE(Destroy(setup->created).ok());
}

TEST_F(CgroupsV1Test, SignalAllOnPausedKillsAndKeepsOtherSignalsPaused) {
  absl::StatusOr<CgroupSetup> setup = CreateAndApply(layout_, path_, nullptr);
  ASSERT_TRUE(setup.ok()) << setup.status();
  JoinedChild child(*setup);
  ASSERT_EQ(child.join_errno(), 0);
  ASSERT_TRUE(Freeze(setup->dirs).ok());
  // A non-fatal signal leaves the container paused.
  ASSERT_TRUE(SignalAll(setup->dirs, SIGCONT).ok());
  EXPECT_EQ(ReadText(Dir("freezer") + "/freezer.state"), "FROZEN");
  ASSERT_TRUE(SignalAll(setup->dirs, SIGKILL).ok());
  int status = child.Reap();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  setup->dir_fds.clear();
  EXPECT_TRUE(Destroy(setup->created).ok());
}

TEST_F(CgroupsV1Test, DestroyRemovesOnlyCreatedDirs) {
  // The memory dir exists beforehand (made by someone else): husk must leave it.
  std::string memory_dir = Dir("memory");
  std::string parent = layout_.Find("memory")->mount_point + "/husk-test";
  ASSERT_TRUE(mkdir(parent.c_str(), 0755) == 0 || errno == EEXIST);
  ASSERT_EQ(mkdir(memory_dir.c_str(), 0755), 0);
  absl::StatusOr<CgroupSetup> setup = CreateAndApply(layout_, path_, nullptr);
  ASSERT_TRUE(setup.ok()) << setup.status();
  EXPECT_EQ(setup->created.size(), layout_.hierarchies.size() - 1);
  EXPECT_EQ(std::count(setup->created.begin(), setup->created.end(), memory_dir), 0);
  EXPECT_EQ(std::count(setup->dirs.begin(), setup->dirs.end(), memory_dir), 1);
  setup->dir_fds.clear();
  ASSERT_TRUE(Destroy(setup->created).ok());
  EXPECT_TRUE(Exists(memory_dir));
  for (const std::string& dir : setup->created) EXPECT_FALSE(Exists(dir)) << dir;
  ASSERT_EQ(rmdir(memory_dir.c_str()), 0);
}

TEST_F(CgroupsV1Test, RaisingMemoryLimitRetriesSwapFirst) {
  std::string memory_dir = Dir("memory");
  if (!Exists(layout_.Find("memory")->mount_point + "/memory.memsw.limit_in_bytes")) {
    GTEST_SKIP() << "no swap accounting";
  }
  std::string parent = layout_.Find("memory")->mount_point + "/husk-test";
  ASSERT_TRUE(mkdir(parent.c_str(), 0755) == 0 || errno == EEXIST);
  ASSERT_EQ(mkdir(memory_dir.c_str(), 0755), 0);
  // An existing cgroup with limit = memsw = 32 MiB: raising the limit first is EINVAL.
  for (const char* file : {"/memory.limit_in_bytes", "/memory.memsw.limit_in_bytes"}) {
    std::ofstream(memory_dir + file) << (32 << 20);
  }
  ASSERT_EQ(ReadText(memory_dir + "/memory.memsw.limit_in_bytes"), std::to_string(32 << 20));
  spec::Linux linux_cfg;
  spec::Memory& m = linux_cfg.resources.emplace().memory.emplace();
  m.limit = 64 << 20;
  m.swap = 96 << 20;
  absl::StatusOr<CgroupSetup> setup = CreateAndApply(layout_, path_, &linux_cfg);
  ASSERT_TRUE(setup.ok()) << setup.status();
  EXPECT_EQ(ReadText(memory_dir + "/memory.limit_in_bytes"), std::to_string(64 << 20));
  EXPECT_EQ(ReadText(memory_dir + "/memory.memsw.limit_in_bytes"), std::to_string(96 << 20));
  setup->dir_fds.clear();
  EXPECT_TRUE(Destroy(setup->created).ok());
  ASSERT_EQ(rmdir(memory_dir.c_str()), 0);
}

TEST_F(CgroupsV1Test, FailingWriteReportsAndCleansUp) {
  spec::Linux linux_cfg;
  linux_cfg.resources.emplace().cpu.emplace().cpus = "9999";
  absl::StatusOr<CgroupSetup> setup = CreateAndApply(layout_, path_, &linux_cfg);
  ASSERT_FALSE(setup.ok());
  std::string want =
      "linux/resources/cpu/cpus: write \"cpuset.cpus\" = \"9999\" in \"" + Dir("cpuset") + "\": ";
  EXPECT_EQ(std::string(setup.status().message()).substr(0, want.size()), want) << setup.status();
  // The kernel's errno text is kept (ERANGE here for a CPU that does not exist).
  std::optional<int> err = StatusErrno(setup.status());
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(std::string(setup.status().message()), want + husk::ErrnoText(*err));
  for (const Hierarchy& h : layout_.hierarchies) {
    EXPECT_FALSE(Exists(h.mount_point + path_)) << h.mount_point + path_;
  }
}

}  // namespace
}  // namespace husk::kernel::cgroups
