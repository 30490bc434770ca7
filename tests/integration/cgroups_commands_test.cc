// pause, resume, update and kill --all on real containers (cli-contract.md §2.9, §2.10,
// §5.3), on whatever layout the host has: v1/hybrid here, pure v2 in the tests/vm guest.
// Progress is watched through a host directory bound into the container, so "paused"
// means the kernel really stopped the processes, not just what `state` says.
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

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

class CgroupCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HUSK_REQUIRE_CONTAINERS();
    absl::StatusOr<cg::Layout> layout = cg::Detect();
    ASSERT_TRUE(layout.ok()) << layout.status();
    layout_ = *layout;
  }

  // The container's value of a setting: the v1 file in its controller's hierarchy, or
  // the cgroup2 file on a pure v2 host.
  std::string Setting(Bundle& b, const char* v1_controller, const char* v1_file,
                      const char* v2_file) const {
    if (layout_.mode == cg::Mode::kUnified) {
      return ReadText(layout_.Unified()->mount_point + b.CgroupsPath() + "/" + v2_file);
    }
    return ReadText(layout_.Find(v1_controller)->mount_point + b.CgroupsPath() + "/" + v1_file);
  }

  // A running container that appends a line to <out>/ticks every 20 ms.
  void StartTicker(Bundle& b, TempDir& out) {
    b.SetJson("/mounts/-", R"({"destination": "/out", "type": "bind", "source": ")" + out.Path() +
                               R"(", "options": ["rbind", "rw"]})");
    b.SetArgs({"/bin/sh", "-c", "while :; do echo t >> /out/ticks; sleep 0.02; done"});
    Created c = CreateContainer(root_, b);
    ASSERT_TRUE(c.ok()) << c.result;
    CmdResult start = root_.Husk({"start", b.Id()});
    ASSERT_TRUE(start.ok()) << start;
  }

  static size_t Ticks(TempDir& out) {
    std::string text = ReadText(out.Path() + "/ticks");
    return static_cast<size_t>(std::count(text.begin(), text.end(), 't'));
  }

  static void Sleep(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

  cg::Layout layout_;
  TestRoot root_;
};

TEST_F(CgroupCommandsTest, PauseStopsTheProcessesAndResumeRestartsThem) {
  Bundle b;
  TempDir out("ticks");
  StartTicker(b, out);
  for (int i = 0; i < 250 && Ticks(out) < 3; ++i) Sleep(20);  // slow under TCG
  ASSERT_GE(Ticks(out), 3u) << "the container never ran";

  CmdResult pause = root_.Husk({"pause", b.Id()});
  ASSERT_TRUE(pause.ok()) << pause;
  EXPECT_EQ(pause.out, "");
  EXPECT_EQ(root_.Status(b.Id()), "paused");
  size_t frozen = Ticks(out);
  Sleep(300);
  EXPECT_EQ(Ticks(out), frozen) << "a paused container kept running";

  CmdResult again = root_.Husk({"pause", b.Id()});
  EXPECT_EQ(again.exit_code, 1) << again;
  EXPECT_THAT(again.err, HasSubstr("container not running")) << again;
  // Without --force a paused container is not deleted.
  CmdResult del = root_.Husk({"delete", b.Id()});
  EXPECT_EQ(del.exit_code, 1) << del;
  EXPECT_EQ(root_.Status(b.Id()), "paused");

  CmdResult resume = root_.Husk({"resume", b.Id()});
  ASSERT_TRUE(resume.ok()) << resume;
  EXPECT_EQ(root_.Status(b.Id()), "running");
  Sleep(300);
  EXPECT_GT(Ticks(out), frozen) << "a resumed container did not run again";
  CmdResult resume_again = root_.Husk({"resume", b.Id()});
  EXPECT_EQ(resume_again.exit_code, 1) << resume_again;
  EXPECT_THAT(resume_again.err, HasSubstr("container not paused")) << resume_again;

  EXPECT_TRUE(root_.Husk({"delete", "--force", b.Id()}).ok());
  EXPECT_TRUE(CgroupDirs(b.CgroupsPath()).empty());
}

TEST_F(CgroupCommandsTest, KillAllAndDeleteForceOnAPausedContainer) {
  Bundle b;
  TempDir out("ticks");
  StartTicker(b, out);
  ASSERT_TRUE(root_.Husk({"pause", b.Id()}).ok());
  // A non-fatal signal to all leaves it paused; SIGKILL goes through.
  CmdResult cont = root_.Husk({"kill", "--all", b.Id(), "CONT"});
  EXPECT_TRUE(cont.ok()) << cont;
  EXPECT_EQ(root_.Status(b.Id()), "paused");
  CmdResult kill = root_.Husk({"kill", "--all", b.Id(), "KILL"});
  EXPECT_TRUE(kill.ok()) << kill;
  for (int i = 0; i < 100 && root_.Status(b.Id()) != "stopped"; ++i) Sleep(20);
  EXPECT_EQ(root_.Status(b.Id()), "stopped");
  CmdResult del = root_.Husk({"delete", b.Id()});
  EXPECT_TRUE(del.ok()) << del;
  EXPECT_TRUE(CgroupDirs(b.CgroupsPath()).empty());

  Bundle b2;
  TempDir out2("ticks");
  StartTicker(b2, out2);
  ASSERT_TRUE(root_.Husk({"pause", b2.Id()}).ok());
  CmdResult force = root_.Husk({"delete", "--force", b2.Id()});
  EXPECT_TRUE(force.ok()) << force;
  EXPECT_TRUE(CgroupDirs(b2.CgroupsPath()).empty());
  EXPECT_THAT(root_.Husk({"state", b2.Id()}).err, HasSubstr("does not exist"));
}

TEST_F(CgroupCommandsTest, UpdateFromStdinFileAndFlagsBuildsOnTheLastUpdate) {
  Bundle b;
  b.SetJson("/linux/resources", R"({"memory": {"limit": 67108864}, "pids": {"limit": 50}})");
  b.SetArgs({"/bin/sleep", "100"});
  Created c = CreateContainer(root_, b);
  ASSERT_TRUE(c.ok()) << c.result;
  ASSERT_EQ(Setting(b, "memory", "memory.limit_in_bytes", "memory.max"), "67108864");

  // containerd: the LinuxResources JSON on stdin.
  RunOptions stdin_json;
  stdin_json.stdin_data = R"({"memory": {"limit": 134217728}, "cpu": {"quota": 20000, "period": 100000}})";
  CmdResult r = root_.Husk({"update", "--resources", "-", b.Id()}, stdin_json);
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(Setting(b, "memory", "memory.limit_in_bytes", "memory.max"), "134217728");
  EXPECT_EQ(Setting(b, "pids", "pids.max", "pids.max"), "50") << "an untouched setting changed";
  if (layout_.mode == cg::Mode::kUnified) {
    EXPECT_EQ(Setting(b, "cpu", "", "cpu.max"), "20000 100000");
  } else {
    EXPECT_EQ(Setting(b, "cpu", "cpu.cfs_quota_us", ""), "20000");
  }

  // podman: a file; then runc's human flags on top of both.
  TempDir dir("update");
  WriteFile(dir.Path() + "/r.json", R"({"pids": {"limit": 30}})");
  r = root_.Husk({"update", "-r", dir.Path() + "/r.json", b.Id()});
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(Setting(b, "pids", "pids.max", "pids.max"), "30");
  r = root_.Husk({"update", "--memory", "96m", "--pids-limit", "25", b.Id()});
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(Setting(b, "memory", "memory.limit_in_bytes", "memory.max"), "100663296");
  EXPECT_EQ(Setting(b, "pids", "pids.max", "pids.max"), "25");

  // A value the kernel refuses: an error naming the field, the old value stays, and the
  // next update still starts from the last good one.
  r = root_.Husk({"update", "--cpuset-cpus", "4095", b.Id()});
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_THAT(r.err, HasSubstr("linux/resources/cpu/cpus")) << r;
  r = root_.Husk({"update", "--pids-limit", "24", b.Id()});
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(Setting(b, "memory", "memory.limit_in_bytes", "memory.max"), "100663296");
  EXPECT_EQ(Setting(b, "pids", "pids.max", "pids.max"), "24");

  // Bad input: clear errors.
  r = root_.Husk({"update", "--memory", "lots", b.Id()});
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_THAT(r.err, HasSubstr("invalid value \\\"lots\\\" for flag -memory")) << r;
  RunOptions not_json;
  not_json.stdin_data = "[1, 2]";
  r = root_.Husk({"update", "-r", "-", b.Id()}, not_json);
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_THAT(r.err, HasSubstr("not a JSON object")) << r;

  // Stopped: refused.
  ASSERT_TRUE(root_.Husk({"kill", b.Id(), "KILL"}).ok());
  for (int i = 0; i < 100 && root_.Status(b.Id()) != "stopped"; ++i) Sleep(20);
  r = root_.Husk({"update", "--pids-limit", "10", b.Id()});
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_THAT(r.err, HasSubstr("container not running")) << r;
}

// memory.checkBeforeUpdate: a limit below what the container already uses is refused.
TEST_F(CgroupCommandsTest, CheckBeforeUpdateRefusesALimitBelowUsage) {
  Bundle b;
  b.SetJson("/linux/resources", R"({"memory": {"limit": 268435456}})");
  // 16 MiB of file data in a tmpfs is charged to the container's memory cgroup.
  b.SetArgs({"/bin/sh", "-c", "head -c 16777216 /dev/zero > /dev/shm/fill; exec sleep 100"});
  Created c = CreateContainer(root_, b);
  ASSERT_TRUE(c.ok()) << c.result;
  ASSERT_TRUE(root_.Husk({"start", b.Id()}).ok());
  auto usage = [&] {
    std::string text = Setting(b, "memory", "memory.usage_in_bytes", "memory.current");
    return text.empty() ? 0 : std::stoll(text);
  };
  for (int i = 0; i < 500 && usage() < (16 << 20); ++i) Sleep(20);  // slow under TCG
  ASSERT_GE(usage(), 16 << 20);
  RunOptions json;
  json.stdin_data = R"({"memory": {"limit": 4194304, "checkBeforeUpdate": true}})";
  CmdResult r = root_.Husk({"update", "-r", "-", b.Id()}, json);
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_THAT(r.err, HasSubstr("linux/resources/memory/limit: rejecting memory limit 4194304 "
                               "below the current usage"))
      << r;
  EXPECT_EQ(Setting(b, "memory", "memory.limit_in_bytes", "memory.max"), "268435456");
}

}  // namespace
}  // namespace husk::testing
