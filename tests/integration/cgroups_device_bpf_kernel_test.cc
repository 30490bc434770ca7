// Real-kernel tests of runtime/kernel/cgroups/device_bpf (root): the verifier accepts the
// generated programs; attached to a cgroup2 dir they allow and refuse opens and mknods in
// a forked child that joined it; a second attach replaces the first without a window.
// The cgroup lives under /sys/fs/cgroup/unified/husk-test/bpf-<pid> and is removed.
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/base/status.h"
#include "runtime/kernel/cgroups/device_bpf.h"
#include "runtime/kernel/cgroups/device_rules.h"

namespace husk::kernel::cgroups {
namespace {

constexpr char kUnified[] = "/sys/fs/cgroup/unified";

bool IsCgroup2(const char* path) {
  struct statfs fs;
  return statfs(path, &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
}

UniqueFd Load(const std::vector<DeviceRule>& rules) {
  absl::StatusOr<UniqueFd> fd = LoadDeviceProgram(DeviceProgram(EmulateDeviceRules(rules)));
  EXPECT_TRUE(fd.ok()) << fd.status();
  return fd.ok() ? std::move(*fd) : UniqueFd();
}

std::vector<DeviceRule> RuncDefaults() {
  absl::StatusOr<std::vector<DeviceRule>> rules = PlanDeviceRules({}, {});
  EXPECT_TRUE(rules.ok()) << rules.status();
  return rules.ok() ? *rules : std::vector<DeviceRule>{};
}

TEST(LoadDeviceProgram, VerifierAcceptsGeneratedPrograms) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  DeviceRule allow_all{'a', -1, -1, kDevAll, true};
  DeviceRule deny_all{'a', -1, -1, kDevAll, false};
  std::vector<std::vector<DeviceRule>> lists = {
      RuncDefaults(),
      {deny_all},
      {allow_all},
      {allow_all, {'c', 1, 3, kDevWrite, false}, {'b', -1, -1, kDevMknod, false}},
      {deny_all, {'c', -1, 5, kDevRead, true}, {'b', 8, -1, kDevAll, true}},
  };
  for (const std::vector<DeviceRule>& rules : lists) EXPECT_TRUE(Load(rules).valid());
  DeviceState a_type{false, {{'a', 1, -1, kDevRead, true}}};
  EXPECT_TRUE(LoadDeviceProgram(DeviceProgram(a_type)).ok());
}

TEST(LoadDeviceProgram, RefusalCarriesTheVerifierLog) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  bpf_insn exit{};
  exit.code = BPF_JMP | BPF_EXIT;  // R0 never set
  absl::StatusOr<UniqueFd> fd = LoadDeviceProgram({exit});
  ASSERT_FALSE(fd.ok());
  EXPECT_NE(fd.status().message().find("bpf \"BPF_PROG_LOAD\": "), std::string::npos)
      << fd.status();
  EXPECT_NE(fd.status().message().find("verifier log: "), std::string::npos) << fd.status();
  EXPECT_NE(fd.status().message().find("R0"), std::string::npos) << fd.status();
}

// One step a child takes inside the cgroup: open(path, flags) or mknod(path, char dev).
struct Op {
  std::string path;
  int flags = O_RDONLY;
  bool mknod = false;
  dev_t dev = 0;
};
Op Open(std::string path, int flags) { return {std::move(path), flags, false, 0}; }
Op Mknod(std::string path, unsigned major, unsigned minor) {
  return {std::move(path), 0, true, makedev(major, minor)};
}

class DeviceBpfCgroupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    if (!IsCgroup2(kUnified)) GTEST_SKIP() << kUnified << " is not a cgroup2 mount";
    std::string parent = std::string(kUnified) + "/husk-test";
    ASSERT_TRUE(mkdir(parent.c_str(), 0755) == 0 || errno == EEXIST) << strerror(errno);
    dir_ = parent + "/bpf-" + std::to_string(getpid());
    ASSERT_EQ(mkdir(dir_.c_str(), 0755), 0) << dir_ << ": " << strerror(errno);
    dir_fd_.Reset(open(dir_.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(dir_fd_.valid()) << strerror(errno);
    char tmpl[] = "/tmp/husk-devbpf-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr) << strerror(errno);
    tmp_ = tmpl;
  }

  void TearDown() override {
    dir_fd_.Reset();
    if (!dir_.empty()) {
      // The last child may still be leaving the cgroup.
      for (int i = 0; i < 100 && rmdir(dir_.c_str()) != 0 && errno == EBUSY; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      EXPECT_NE(access(dir_.c_str(), F_OK), 0) << dir_ << " left behind";
    }
    if (!tmp_.empty()) {
      for (const char* name : {"kmsg", "null2"}) unlink((tmp_ + "/" + name).c_str());
      EXPECT_EQ(rmdir(tmp_.c_str()), 0) << tmp_ << ": " << strerror(errno);
    }
  }

  // Forks a child that joins the cgroup and runs `ops`; the errno of each (0 = success).
  std::vector<int> RunInCgroup(const std::vector<Op>& ops) {
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0) return {};
    std::string procs = dir_ + "/cgroup.procs";
    pid_t pid = fork();
    if (pid == 0) {
      close(pipefd[0]);
      int fd = open(procs.c_str(), O_WRONLY | O_CLOEXEC);
      std::string me = std::to_string(getpid());
      if (fd < 0 || write(fd, me.data(), me.size()) != static_cast<ssize_t>(me.size())) _exit(90);
      close(fd);
      for (const Op& op : ops) {
        int rc = op.mknod ? mknod(op.path.c_str(), S_IFCHR | 0600, op.dev)
                          : open(op.path.c_str(), op.flags | O_CLOEXEC);
        int err = rc < 0 ? errno : 0;
        if (!op.mknod && rc >= 0) close(rc);
        if (write(pipefd[1], &err, sizeof(err)) != sizeof(err)) _exit(91);
      }
      _exit(0);
    }
    close(pipefd[1]);
    std::vector<int> results;
    int err;
    while (read(pipefd[0], &err, sizeof(err)) == sizeof(err)) results.push_back(err);
    close(pipefd[0]);
    int status = 0;
    EXPECT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
    return results;
  }

  std::vector<uint32_t> Attached() {
    absl::StatusOr<std::vector<uint32_t>> ids = AttachedDevicePrograms(dir_fd_.get());
    EXPECT_TRUE(ids.ok()) << ids.status();
    return ids.ok() ? *ids : std::vector<uint32_t>{};
  }

  std::string dir_, tmp_;
  UniqueFd dir_fd_;
};

TEST_F(DeviceBpfCgroupTest, DefaultsThenAllowAllWithoutAWindow) {
  const std::string node = tmp_ + "/kmsg";  // c 1:11: not among runc's defaults
  UniqueFd defaults = Load(RuncDefaults());
  ASSERT_TRUE(AttachDeviceProgram(dir_fd_.get(), defaults.get()).ok());
  std::vector<uint32_t> first = Attached();
  ASSERT_EQ(first.size(), 1u);
  // Attaching the same program again changes nothing.
  ASSERT_TRUE(AttachDeviceProgram(dir_fd_.get(), defaults.get()).ok());
  EXPECT_EQ(Attached(), first);

  // "c *:* m" lets the child make the node; opening it is refused.
  EXPECT_EQ(RunInCgroup({Open("/dev/null", O_RDWR), Mknod(node, 1, 11), Open(node, O_RDONLY),
                         Open("/dev/kmsg", O_RDONLY)}),
            (std::vector<int>{0, 0, EPERM, EPERM}));

  UniqueFd allow_all = Load({{'a', -1, -1, kDevAll, true}});
  ASSERT_TRUE(AttachDeviceProgram(dir_fd_.get(), allow_all.get()).ok());
  std::vector<uint32_t> second = Attached();
  ASSERT_EQ(second.size(), 1u) << "the old program is still attached";
  EXPECT_NE(second, first);
  EXPECT_EQ(RunInCgroup({Open(node, O_RDONLY), Open("/dev/null", O_RDWR)}),
            (std::vector<int>{0, 0}));
}

TEST_F(DeviceBpfCgroupTest, PartialAccess) {
  const std::string node = tmp_ + "/kmsg";
  ASSERT_EQ(mknod(node.c_str(), S_IFCHR | 0600, makedev(1, 11)), 0) << strerror(errno);
  DeviceRule deny_all{'a', -1, -1, kDevAll, false};
  UniqueFd prog =
      Load({deny_all, {'c', 1, 11, kDevRead, true}, {'c', 1, 3, kDevRead | kDevWrite, true}});
  ASSERT_TRUE(AttachDeviceProgram(dir_fd_.get(), prog.get()).ok());
  EXPECT_EQ(RunInCgroup({Open(node, O_RDONLY), Open(node, O_WRONLY), Open("/dev/null", O_RDWR),
                         Mknod(tmp_ + "/null2", 1, 3), Open("/dev/zero", O_RDONLY)}),
            (std::vector<int>{0, EPERM, 0, EPERM, EPERM}));

  // Allow-all with a partial deny: O_RDWR is refused since write is (v1's partial match).
  UniqueFd partial_deny = Load({{'a', -1, -1, kDevAll, true}, {'c', 1, 3, kDevWrite, false}});
  ASSERT_TRUE(AttachDeviceProgram(dir_fd_.get(), partial_deny.get()).ok());
  EXPECT_EQ(Attached().size(), 1u);
  EXPECT_EQ(RunInCgroup({Open("/dev/null", O_RDONLY), Open("/dev/null", O_RDWR),
                         Open("/dev/null", O_WRONLY), Open(node, O_RDONLY)}),
            (std::vector<int>{0, EPERM, EPERM, 0}));
}

// Someone attached without BPF_F_ALLOW_MULTI (a single slot): the update replaces it.
TEST_F(DeviceBpfCgroupTest, ReplacesASingleSlotProgram) {
  UniqueFd deny_all = Load({{'a', -1, -1, kDevAll, false}});
  bpf_attr attr{};
  attr.target_fd = dir_fd_.get();
  attr.attach_bpf_fd = deny_all.get();
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = 0;
  ASSERT_EQ(syscall(SYS_bpf, BPF_PROG_ATTACH, &attr, sizeof(attr)), 0) << strerror(errno);
  std::vector<uint32_t> first = Attached();
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(RunInCgroup({Open("/dev/null", O_RDONLY)}), std::vector<int>{EPERM});

  UniqueFd defaults = Load(RuncDefaults());
  ASSERT_TRUE(AttachDeviceProgram(dir_fd_.get(), defaults.get()).ok());
  std::vector<uint32_t> second = Attached();
  ASSERT_EQ(second.size(), 1u);
  EXPECT_NE(second, first);
  EXPECT_EQ(RunInCgroup({Open("/dev/null", O_RDONLY)}), std::vector<int>{0});
}

}  // namespace
}  // namespace husk::kernel::cgroups
