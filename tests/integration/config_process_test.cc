// config.json `process` (config.md "Process", config-linux.md "Sysctl"): user and groups,
// umask, cwd, environment, capabilities, noNewPrivileges, rlimits, oomScoreAdj, hostname,
// domainname and sysctls, as the container sees them.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/config_util.h"
#include "tests/support/harness.h"

namespace husk::testing {
namespace {

using ::testing::HasSubstr;

class ConfigProcessTest : public ::testing::Test {
 protected:
  void SetUp() override { HUSK_REQUIRE_CONTAINERS(); }
  // Runs args directly (no shell), returns the result.
  CmdResult RunArgs(Bundle& b, const std::vector<std::string>& args, RunOptions opts = {}) {
    b.SetArgs(args);
    b.Write();
    opts.timeout = std::chrono::seconds(15);
    return root_.Husk({"run", "--bundle", b.Path(), b.Id()}, opts);
  }
  static std::string Status(const CmdResult& r, const std::string& key) {
    return StatusField(r.out, key);
  }
  TestRoot root_;
};

TEST_F(ConfigProcessTest, UserAndAdditionalGroups) {
  Bundle b;
  b.SetJson("/process/user", R"({"uid":1000,"gid":1000,"additionalGids":[2000,3000]})");
  CmdResult r = RunScript(root_, b, "id; cat /proc/self/status");
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(SplitLines(r.out)[0], "uid=1000(tester) gid=1000(tester) groups=2000(extra),3000")
      << r;
  EXPECT_EQ(Status(r, "Uid"), "1000\t1000\t1000\t1000");
  EXPECT_EQ(Status(r, "Gid"), "1000\t1000\t1000\t1000");
  EXPECT_EQ(Status(r, "Groups"), "2000 3000");
}

TEST_F(ConfigProcessTest, RootWithoutAdditionalGidsHasNoGroups) {
  Bundle b;
  CmdResult r = RunScript(root_, b, "cat /proc/self/status");
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(Status(r, "Groups"), "");
  EXPECT_EQ(Status(r, "Uid"), "0\t0\t0\t0");
}

TEST_F(ConfigProcessTest, UmaskAppliesToNewFiles) {
  Bundle b;
  b.SetJson("/process/user/umask", "63");  // 0077
  b.SetJson("/mounts/-", R"({"destination":"/tmp","type":"tmpfs","source":"tmpfs"})");
  CmdResult r = RunScript(root_, b, "umask; touch /tmp/f; mkdir /tmp/d; stat -c %a /tmp/f /tmp/d");
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.out, "0077\n600\n700\n") << r;
}

TEST_F(ConfigProcessTest, Cwd) {
  Bundle b;
  b.SetJson("/process/cwd", R"("/home/tester")");
  CmdResult r = RunArgs(b, {"/bin/pwd", "-P"});
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.out, "/home/tester\n");
}

TEST_F(ConfigProcessTest, EnvIsExactlyConfigPlusHome) {
  struct Case {
    std::string user;
    std::string home;
  } cases[] = {{R"({"uid":0,"gid":0})", "HOME=/root"},
               {R"({"uid":1000,"gid":1000})", "HOME=/home/tester"},
               {R"({"uid":4242,"gid":4242})", "HOME=/"}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.user);
    Bundle b;
    b.SetJson("/process/user", c.user);
    b.SetJson("/process/env/-", R"("FOO=bar baz")");
    RunOptions opts;
    opts.env = {"HUSK_LEAK_CHECK=secret", "HOME=/host/home"};
    CmdResult r = RunArgs(b, {"/bin/env"}, opts);
    ASSERT_TRUE(r.ok()) << r;
    std::vector<std::string> lines = SplitLines(r.out);
    std::sort(lines.begin(), lines.end());
    std::vector<std::string> want = {
        "FOO=bar baz", c.home, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
    std::sort(want.begin(), want.end());
    EXPECT_EQ(lines, want) << r;
  }
}

TEST_F(ConfigProcessTest, ConfiguredHomeIsKept) {
  Bundle b;
  b.SetJson("/process/env/-", R"("HOME=/elsewhere")");
  CmdResult r = RunArgs(b, {"/bin/env"});
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_THAT(r.out, HasSubstr("HOME=/elsewhere\n"));
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("HOME=/root")));
}

TEST_F(ConfigProcessTest, DefaultCapabilities) {
  Bundle b;  // bounding = effective = permitted = ambient, no inheritable (runc spec)
  CmdResult r = RunArgs(b, {"/bin/cat", "/proc/self/status"});
  ASSERT_TRUE(r.ok()) << r;
  // CAP_KILL (5), CAP_NET_BIND_SERVICE (10), CAP_AUDIT_WRITE (29).
  EXPECT_EQ(Status(r, "CapBnd"), "0000000020000420");
  EXPECT_EQ(Status(r, "CapEff"), "0000000020000420");
  EXPECT_EQ(Status(r, "CapPrm"), "0000000020000420");
  EXPECT_EQ(Status(r, "CapInh"), "0000000000000000");  // S-08
  EXPECT_EQ(Status(r, "CapAmb"), "0000000000000000");  // not inheritable: not ambient
  EXPECT_EQ(Status(r, "NoNewPrivs"), "1");
}

TEST_F(ConfigProcessTest, NonRootKeepsAmbientCapabilities) {
  Bundle b;
  b.SetJson("/process/user", R"({"uid":1000,"gid":1000})");
  b.SetJson("/process/capabilities",
            R"({"bounding":["CAP_CHOWN","CAP_KILL","CAP_NET_RAW"],
                "effective":["CAP_CHOWN","CAP_KILL"],
                "permitted":["CAP_CHOWN","CAP_KILL"],
                "inheritable":["CAP_CHOWN"],
                "ambient":["CAP_CHOWN"]})");
  CmdResult r = RunArgs(b, {"/bin/cat", "/proc/self/status"});
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(Status(r, "CapBnd"), "0000000000002021");
  EXPECT_EQ(Status(r, "CapInh"), "0000000000000001");
  EXPECT_EQ(Status(r, "CapAmb"), "0000000000000001");
  // execve as non-root: permitted and effective become the ambient set.
  EXPECT_EQ(Status(r, "CapPrm"), "0000000000000001");
  EXPECT_EQ(Status(r, "CapEff"), "0000000000000001");
}

TEST_F(ConfigProcessTest, NoNewPrivilegesFalse) {
  Bundle b;
  b.SetJson("/process/noNewPrivileges", "false");
  CmdResult r = RunArgs(b, {"/bin/cat", "/proc/self/status"});
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(Status(r, "NoNewPrivs"), "0");
}

TEST_F(ConfigProcessTest, Rlimits) {
  Bundle b;
  b.SetJson("/process/rlimits", R"([{"type":"RLIMIT_NOFILE","soft":512,"hard":800},
                                    {"type":"RLIMIT_CORE","soft":0,"hard":0}])");
  CmdResult r = RunScript(root_, b, "ulimit -Sn; ulimit -Hn; grep 'Max core' /proc/self/limits");
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_THAT(r.out, ::testing::MatchesRegex("512\n800\nMax core file size +0 +0 +bytes *\n")) << r;
}

TEST_F(ConfigProcessTest, RaisingHardRlimitAboveHostFails) {
  Bundle b;
  b.SetJson("/process/rlimits", R"([{"type":"RLIMIT_NOFILE","soft":1024,"hard":1048576}])");
  b.Write();
  CmdResult r = root_.Husk({"run", "--bundle", b.Path(), b.Id()});
  EXPECT_NE(r.exit_code, 0) << r;
  EXPECT_THAT(r.err, HasSubstr("RLIMIT_NOFILE")) << r;
  EXPECT_THAT(r.err, HasSubstr("operation not permitted")) << r;
  EXPECT_TRUE(NoLeftovers(root_, b.Id(), b));
}

TEST_F(ConfigProcessTest, OomScoreAdj) {
  Bundle b;
  b.SetJson("/process/oomScoreAdj", "500");
  CmdResult r = RunArgs(b, {"/bin/cat", "/proc/self/oom_score_adj"});
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.out, "500\n");
}

TEST_F(ConfigProcessTest, HostnameAndDomainname) {
  Bundle b;
  b.SetJson("/hostname", R"("box-one")");
  b.SetJson("/domainname", R"("example.test")");
  CmdResult r = RunScript(root_, b, "hostname; cat /proc/sys/kernel/domainname");
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.out, "box-one\nexample.test\n");
}

TEST_F(ConfigProcessTest, NamespacedSysctls) {
  Bundle b;
  b.SetJson("/linux/sysctl", R"({"kernel.shmmax":"123456789","net.ipv4.ip_forward":"1"})");
  std::string host_forward = ReadFile("/proc/sys/net/ipv4/ip_forward");
  std::string host_shmmax = ReadFile("/proc/sys/kernel/shmmax");
  CmdResult r = RunScript(root_, b, "cat /proc/sys/kernel/shmmax /proc/sys/net/ipv4/ip_forward");
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.out, "123456789\n1\n");
  EXPECT_EQ(ReadFile("/proc/sys/net/ipv4/ip_forward"), host_forward);
  EXPECT_EQ(ReadFile("/proc/sys/kernel/shmmax"), host_shmmax);
}

TEST_F(ConfigProcessTest, NetSysctlWithoutNetNamespaceIsRefused) {
  Bundle b;
  b.SetJson("/linux/namespaces",
            R"([{"type":"pid"},{"type":"ipc"},{"type":"uts"},{"type":"mount"}])");
  b.SetJson("/linux/sysctl", R"({"net.ipv4.ip_forward":"1"})");
  std::string host_forward = ReadFile("/proc/sys/net/ipv4/ip_forward");
  b.Write();
  CmdResult r = root_.Husk({"run", "--bundle", b.Path(), b.Id()});
  EXPECT_NE(r.exit_code, 0) << r;
  EXPECT_THAT(r.err, HasSubstr("linux/sysctl/net.ipv4.ip_forward")) << r;
  EXPECT_EQ(ReadFile("/proc/sys/net/ipv4/ip_forward"), host_forward);
  EXPECT_TRUE(NoLeftovers(root_, b.Id(), b));
}

TEST_F(ConfigProcessTest, NonNamespacedSysctlIsRefused) {
  Bundle b;
  b.SetJson("/linux/sysctl", R"({"kernel.core_pattern":"|/evil"})");
  std::string host = ReadFile("/proc/sys/kernel/core_pattern");
  b.Write();
  CmdResult r = root_.Husk({"run", "--bundle", b.Path(), b.Id()});
  EXPECT_NE(r.exit_code, 0) << r;
  EXPECT_THAT(r.err, HasSubstr("linux/sysctl/kernel.core_pattern")) << r;
  EXPECT_EQ(ReadFile("/proc/sys/kernel/core_pattern"), host);
  EXPECT_TRUE(NoLeftovers(root_, b.Id(), b));
}

// A cwd only root may enter (/root is 0700) with a non-root user: entered before the
// switch, as runc does, and kept.
TEST_F(ConfigProcessTest, CwdOnlyRootCanEnterWorksForAnotherUser) {
  Bundle b;
  b.SetJson("/process/user", R"({"uid": 1000, "gid": 1000})");
  b.SetJson("/process/cwd", R"("/root")");
  CmdResult r = RunScript(root_, b, "pwd; id -u; ls . >/dev/null 2>&1 || echo no-list");
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.out, "/root\n1000\nno-list\n");
}

}  // namespace
}  // namespace husk::testing

namespace husk::testing {
namespace {

// The container starts with default signal dispositions and nothing blocked, whatever
// husk's caller had: here a shell that ignores SIGPIPE and SIGUSR1 before exec'ing husk.
TEST(ConfigSignalsTest, ContainerDoesNotInheritIgnoredSignals) {
  HUSK_REQUIRE_CONTAINERS();
  TestRoot root;
  Bundle b;
  b.SetArgs({"/bin/cat", "/proc/self/status"});
  b.Write();
  // `create` (not `run`, which installs its own handlers) inherits the ignored signals.
  std::string out_path = b.Path() + "/out";
  int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(out, 0);
  RunOptions opts;
  opts.stdout_fd = out;
  CmdResult c = RunCommand({"/bin/sh", "-c",
                            "trap '' PIPE USR1 34; exec \"$0\" --root \"$1\" create --bundle \"$2\" "
                            "--pid-file \"$2/pid\" \"$3\"",
                            HuskBinary(), root.Path(), b.Path(), b.Id()},
                           opts);
  ::close(out);
  ASSERT_TRUE(c.ok()) << c;
  int pid = ReadPidFile(b.Path() + "/pid");
  ASSERT_TRUE(root.Husk({"start", b.Id()}).ok());
  WaitForPidGone(pid, std::chrono::seconds(10));
  std::string status = ReadFile(out_path);
  EXPECT_EQ(StatusField(status, "SigIgn"), "0000000000000000") << status;
  EXPECT_EQ(StatusField(status, "SigBlk"), "0000000000000000") << status;
  EXPECT_TRUE(root.Husk({"delete", b.Id()}).ok());
}

}  // namespace
}  // namespace husk::testing
