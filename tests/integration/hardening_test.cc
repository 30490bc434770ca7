// Hardening found in review: husk's own fds must never take the slots the container
// inherits (closed stdio, unopened --preserve-fds), and nothing may be mounted on or in
// /proc but procfs and runc's lxcfs allowlist (security-bar.md S-03).
#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/harness.h"

namespace husk::testing {
namespace {

using ::testing::HasSubstr;

class HardeningTest : public ::testing::Test {
 protected:
  void SetUp() override { HUSK_REQUIRE_CONTAINERS(); }
  TestRoot root_;
};

// With stdin closed, the locked state dir used to become the init's fd 0: create
// returned, and every later command on the ID blocked on the lock for ever.
TEST_F(HardeningTest, ClosedStdinDoesNotLeakTheStateDir) {
  Bundle b;
  b.SetArgs({"/bin/sh", "-c", "readlink /proc/self/fd/0 > /dev/null; ls -l /proc/self/fd/0"});
  b.Write();
  std::string out_path = b.Path() + "/out";
  int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(out, 0);
  RunOptions opts;
  opts.stdout_fd = out;
  CmdResult c = RunCommand({"/bin/sh", "-c", "exec \"$0\" --root \"$1\" create --bundle \"$2\" \"$3\" 0<&-",
                            HuskBinary(), root_.Path(), b.Path(), b.Id()},
                           opts);
  ::close(out);
  ASSERT_TRUE(c.ok()) << c;
  RunOptions quick;
  quick.timeout = std::chrono::seconds(5);
  CmdResult st = root_.Husk({"state", b.Id()}, quick);
  ASSERT_FALSE(st.timed_out) << "state blocked on a lock held by the init";
  EXPECT_TRUE(st.ok()) << st;
  ASSERT_TRUE(root_.Husk({"start", b.Id()}, quick).ok());
  CmdResult d;
  for (int i = 0; i < 50; ++i) {  // wait for the short command to finish, then delete
    if (root_.Status(b.Id()) == "stopped") break;
    ::usleep(20000);
  }
  d = root_.Husk({"delete", b.Id()}, quick);
  EXPECT_TRUE(d.ok()) << d;
  EXPECT_THAT(ReadFile(out_path), HasSubstr("/dev/null"));
}

TEST_F(HardeningTest, UnopenedPreservedFdsAreRefused) {
  Bundle b;
  b.Write();
  // Only fds 0-2 are open in the child: --preserve-fds 2 names fds 3 and 4 that are not.
  CmdResult c = root_.Husk({"create", "--bundle", b.Path(), "--preserve-fds", "2", b.Id()});
  EXPECT_EQ(c.exit_code, 1) << c;
  EXPECT_THAT(c.err, HasSubstr("fd 3 to pass to the container (--preserve-fds) is not open")) << c;
  EXPECT_TRUE(NoLeftovers(root_, b.Id(), b));
}

TEST_F(HardeningTest, OnlyProcfsGoesOnProc) {
  Bundle b;
  b.SetJson("/mounts/-", R"({"destination":"/proc","type":"tmpfs","source":"tmpfs"})");
  b.Write();
  CmdResult c = root_.Husk({"create", "--bundle", b.Path(), b.Id()});
  EXPECT_EQ(c.exit_code, 1) << c;
  EXPECT_THAT(c.err, HasSubstr("cannot be mounted: it is not of type proc")) << c;
  EXPECT_TRUE(NoLeftovers(root_, b.Id(), b));
}

TEST_F(HardeningTest, NothingInsideProcButTheAllowlist) {
  TempDir src("procbind");
  {
    Bundle b;
    b.SetJson("/mounts/-", R"({"destination":"/proc/sys/kernel","type":"bind","source":")" +
                               src.Path() + R"(","options":["rbind"]})");
    b.Write();
    CmdResult c = root_.Husk({"create", "--bundle", b.Path(), b.Id()});
    EXPECT_EQ(c.exit_code, 1) << c;
    EXPECT_THAT(c.err, HasSubstr("cannot be mounted: it is inside /proc")) << c;
    EXPECT_TRUE(NoLeftovers(root_, b.Id(), b));
  }
  {
    // lxcfs-style override of /proc/cpuinfo stays possible.
    WriteFile(src.Path() + "/cpuinfo", "fake cpuinfo\n");
    Bundle b;
    b.SetJson("/mounts/-", R"({"destination":"/proc/cpuinfo","type":"bind","source":")" +
                               src.Path() + R"(/cpuinfo","options":["bind","ro"]})");
    b.SetArgs({"/bin/cat", "/proc/cpuinfo"});
    b.Write();
    CmdResult r = root_.Husk({"run", "--bundle", b.Path(), b.Id()});
    ASSERT_TRUE(r.ok()) << r;
    EXPECT_EQ(r.out, "fake cpuinfo\n");
  }
}

}  // namespace
}  // namespace husk::testing
