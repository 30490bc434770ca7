// linux.maskedPaths, linux.readonlyPaths and root.readonly (config-linux.md "Masked Paths",
// "Readonly Paths"; config.md "Root"; H-04).
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/config_util.h"
#include "tests/support/harness.h"

namespace husk::testing {
namespace {

using ::testing::HasSubstr;

class ConfigPathsTest : public ::testing::Test {
 protected:
  void SetUp() override { HUSK_REQUIRE_CONTAINERS(); }
  TestRoot root_;
};

// /proc/kcore is absent on some kernels: /proc/keys and /proc/timer_list are masked too.
TEST_F(ConfigPathsTest, MaskedFileIsDevNull) {
  Bundle b;
  std::string masked = ::access("/proc/kcore", F_OK) == 0 ? "/proc/kcore" : "/proc/timer_list";
  CmdResult r = RunScript(root_, b, "stat -c '%F %t:%T' " + masked + "; wc -c < " + masked +
                                    "; umount " + masked + " 2>&1; echo rc=$?");
  ASSERT_TRUE(r.ok()) << r;
  std::vector<std::string> lines = SplitLines(r.out);
  ASSERT_GE(lines.size(), 3u) << r;
  EXPECT_EQ(lines[0], "character special file 1:3");
  EXPECT_EQ(lines[1], "0");
  EXPECT_EQ(lines.back(), "rc=1") << r;
}

TEST_F(ConfigPathsTest, MaskedDirIsEmptyReadOnlyTmpfs) {
  Bundle b;
  b.SetJson("/linux/maskedPaths/-", R"("/home")");
  CmdResult r = RunScript(root_, b, "ls -A /home; echo @@touch; touch /home/x 2>&1; "
                                    "echo @@mi; cat /proc/self/mountinfo");
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.out.rfind("@@touch\n", 0), 0u) << "not empty: " << r;
  EXPECT_THAT(Section(r.out, "touch"), HasSubstr("Read-only file system"));
  std::string mi = Section(r.out, "mi");
  EXPECT_EQ(MountSuperOf(mi, "/home").rfind("tmpfs ", 0), 0u) << mi;
  EXPECT_TRUE(HasOption(MountOptionsOf(mi, "/home"), "ro")) << MountInfoLine(mi, "/home");
}

TEST_F(ConfigPathsTest, ProcSysIsReadOnly) {
  Bundle b;
  CmdResult r = RunScript(root_, b, "(echo other > /proc/sys/kernel/hostname) 2>&1; echo rc=$?; "
                                    "hostname; mount -o remount,rw /proc/sys 2>&1; echo rc=$?");
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_THAT(r.out, HasSubstr("Read-only file system")) << r;
  EXPECT_THAT(r.out, HasSubstr("rc=1\nhusk-test\n")) << r;
  EXPECT_THAT(r.out, HasSubstr("mount: permission denied")) << r;  // no CAP_SYS_ADMIN
  EXPECT_THAT(r.out, ::testing::EndsWith("rc=1\n")) << r;
}

TEST_F(ConfigPathsTest, ReadonlyRootRefusesWrites) {
  Bundle b;
  CmdResult r = RunScript(root_, b, "touch /x 2>&1; echo rc=$?; cat /proc/self/mountinfo");
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_THAT(r.out, HasSubstr("touch: /x: Read-only file system\nrc=1\n")) << r;
  EXPECT_TRUE(HasOption(MountOptionsOf(r.out, "/"), "ro")) << r;
}

TEST_F(ConfigPathsTest, WritableRootWhenNotReadonly) {
  Bundle b;
  std::string rootfs = b.UsePrivateRootfs(false);
  CmdResult r = RunScript(root_, b, "touch /x && echo ok");
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.out, "ok\n");
  EXPECT_EQ(::access((rootfs + "/x").c_str(), F_OK), 0);
}

TEST_F(ConfigPathsTest, MissingMaskedAndReadonlyPathsAreSkipped) {
  Bundle b;
  b.SetJson("/linux/maskedPaths/-", R"("/does/not/exist")");
  b.SetJson("/linux/readonlyPaths/-", R"("/nor/this")");
  CmdResult r = RunScript(root_, b, "echo ok");
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.out, "ok\n");
}

}  // namespace
}  // namespace husk::testing
