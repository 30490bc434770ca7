// config.json linux.namespaces, uid/gid mappings and time offsets (config-linux.md
// "Namespaces", "User namespace mappings", "Offset for Time Namespace"): what the
// container is placed in, seen from the host through /proc/<pid>/ns/* inode numbers and
// from inside through what the container prints.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/background_process.h"
#include "tests/support/config_util.h"
#include "tests/support/harness.h"

namespace husk::testing {
namespace {

using ::testing::HasSubstr;

const char* const kNsFiles[] = {"pid", "net", "ipc", "uts", "mnt", "cgroup"};

class ConfigNamespacesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (::geteuid() == 0) BecomeSubreaper();
  }
  void SetUp() override { HUSK_REQUIRE_CONTAINERS(); }
  void Delete(const std::string& id) {
    CmdResult r = root_.Husk({"delete", "--force", id});
    EXPECT_TRUE(r.ok()) << r;
  }
  TestRoot root_;
};

TEST_F(ConfigNamespacesTest, NewNamespacesDifferFromHost) {
  Bundle b;
  b.SetJson("/linux/namespaces",
            R"([{"type":"pid"},{"type":"network"},{"type":"ipc"},{"type":"uts"},
                {"type":"mount"},{"type":"cgroup"}])");
  b.SetArgs({"/bin/sleep", "30"});
  Created c = CreateContainer(root_, b);
  ASSERT_TRUE(c.ok()) << c.result;
  for (const char* ns : kNsFiles) {
    ino_t inside = NsInode(c.pid, ns);
    ASSERT_NE(inside, 0u) << ns;
    EXPECT_NE(inside, NsInode(0, ns)) << ns << " namespace is the host's";
  }
  // The user and time namespaces were not asked for: shared with the host.
  EXPECT_EQ(NsInode(c.pid, "user"), NsInode(0, "user"));
  Delete(b.Id());
  EXPECT_TRUE(WaitForPidGone(c.pid));
}

TEST_F(ConfigNamespacesTest, InsideSeesItsOwnNamespaces) {
  Bundle b;
  CmdResult r = RunScript(root_, b, "for n in pid net ipc uts mnt; do readlink /proc/self/ns/$n; done");
  ASSERT_TRUE(r.ok()) << r;
  std::vector<std::string> lines = SplitLines(r.out);
  ASSERT_EQ(lines.size(), 5u) << r;
  int i = 0;
  for (const char* ns : {"pid", "net", "ipc", "uts", "mnt"}) {
    char host[64];
    std::snprintf(host, sizeof(host), "%s:[%lu]", ns, static_cast<unsigned long>(NsInode(0, ns)));
    EXPECT_NE(lines[i++], host) << ns;
  }
}

TEST_F(ConfigNamespacesTest, JoinByPathSharesNamespaces) {
  Bundle a;
  a.SetJson("/hostname", R"("ns-owner")");
  a.SetArgs({"/bin/sleep", "30"});
  Created ca = CreateContainer(root_, a);
  ASSERT_TRUE(ca.ok()) << ca.result;
  CmdResult started = root_.Husk({"start", a.Id()});
  ASSERT_TRUE(started.ok()) << started;

  Bundle b;
  std::string proc = "/proc/" + std::to_string(ca.pid) + "/ns/";
  b.SetJson("/linux/namespaces",
            "[{\"type\":\"pid\",\"path\":\"" + proc + "pid\"}," +
            "{\"type\":\"network\",\"path\":\"" + proc + "net\"}," +
            "{\"type\":\"ipc\",\"path\":\"" + proc + "ipc\"}," +
            "{\"type\":\"uts\",\"path\":\"" + proc + "uts\"}," + "{\"type\":\"mount\"}]");
  b.Remove("/hostname");  // a joined uts namespace keeps its hostname
  b.SetArgs({"/bin/sh", "-c", "hostname; echo $$; sleep 30"});
  Created cb = CreateContainer(root_, b);
  ASSERT_TRUE(cb.ok()) << cb.result;
  for (const char* ns : {"pid", "net", "ipc", "uts"}) {
    EXPECT_EQ(NsInode(cb.pid, ns), NsInode(ca.pid, ns)) << ns;
  }
  EXPECT_NE(NsInode(cb.pid, "mnt"), NsInode(ca.pid, "mnt"));
  EXPECT_NE(NsInode(cb.pid, "pid"), NsInode(0, "pid"));
  CmdResult r = root_.Husk({"start", b.Id()});
  ASSERT_TRUE(r.ok()) << r;
  // B prints A's hostname and a pid > 1 (A's sleep is pid 1 of the shared pid namespace).
  std::string out;
  for (int i = 0; i < 200 && SplitLines(out).size() < 2; ++i) {
    usleep(10000);
    out = ReadFile(cb.out_path);
  }
  std::vector<std::string> lines = SplitLines(out);
  ASSERT_EQ(lines.size(), 2u) << out;
  EXPECT_EQ(lines[0], "ns-owner");
  EXPECT_NE(lines[1], "1");
  // B first, and reap it (we are its subreaper): the pid namespace's init only finishes
  // dying once every other process in it has been reaped.
  Delete(b.Id());
  EXPECT_TRUE(WaitForPidGone(cb.pid));
  Delete(a.Id());
  EXPECT_TRUE(WaitForPidGone(ca.pid));
}

// A process of the test's own in fresh mount and uts namespaces (unshare(1)), to join.
class NamespaceHolder : public BackgroundProcess {
 public:
  NamespaceHolder() : BackgroundProcess(NamespaceHolderArgv()) {
    // Ready once unshare(2) has run: its namespaces differ from ours.
    for (int i = 0; i < 300 && NsInode(pid(), "mnt") == NsInode(0, "mnt"); ++i) usleep(10000);
  }
  std::string Path(const char* ns) const { return NsPath(ns); }
};

// A joined mount namespace gets the container's mounts and root; a joined uts namespace
// gets the configured hostname (runc does both; config.md: the container's UTS namespace
// "may be the runtime UTS namespace").
TEST_F(ConfigNamespacesTest, JoinsMountNamespaceAndSetsHostnameInJoinedUts) {
  NamespaceHolder holder;
  ASSERT_NE(NsInode(holder.pid(), "mnt"), NsInode(0, "mnt"));
  Bundle b;
  b.SetJson("/linux/namespaces",
            R"([{"type":"pid"},{"type":"network"},{"type":"ipc"},{"type":"uts","path":")" +
                holder.Path("uts") + R"("},{"type":"mount","path":")" + holder.Path("mnt") +
                R"("}])");
  b.SetJson("/hostname", R"("joined-uts")");
  b.SetArgs({"/bin/sh", "-c", "hostname; cat /proc/self/mountinfo | wc -l"});
  Created c = CreateContainer(root_, b);
  ASSERT_TRUE(c.ok()) << c.result;
  EXPECT_EQ(NsInode(c.pid, "mnt"), NsInode(holder.pid(), "mnt"));
  EXPECT_EQ(NsInode(c.pid, "uts"), NsInode(holder.pid(), "uts"));
  std::string out = StartAndCollect(root_, b, c);
  std::vector<std::string> lines = SplitLines(out);
  ASSERT_EQ(lines.size(), 2u) << out;
  EXPECT_EQ(lines[0], "joined-uts");
  EXPECT_GT(std::stoi(lines[1]), 5) << "the container's mounts are missing";
  Delete(b.Id());
}

TEST_F(ConfigNamespacesTest, NoMountNamespaceOrOurOwnIsRefused) {
  Bundle b;
  b.SetJson("/linux/namespaces", R"([{"type":"pid"},{"type":"network"},{"type":"ipc"},
      {"type":"uts"}])");
  b.Remove("/linux/maskedPaths");
  b.Remove("/linux/readonlyPaths");
  b.Write();
  CmdResult r = root_.Husk({"run", "--bundle", b.Path(), b.Id()});
  EXPECT_NE(r.exit_code, 0) << r;
  EXPECT_THAT(r.err, HasSubstr("linux/namespaces: no mount namespace: the container would "
                               "inherit husk's own"));
  EXPECT_TRUE(NoLeftovers(root_, b.Id(), b));
  // Joining the mount namespace husk runs in is the same thing.
  Bundle own;
  own.SetJson("/linux/namespaces",
              R"([{"type":"pid"},{"type":"mount","path":"/proc/)" + std::to_string(::getpid()) +
                  R"(/ns/mnt"}])");
  own.Remove("/hostname");
  own.Write();
  r = root_.Husk({"run", "--bundle", own.Path(), own.Id()});
  EXPECT_NE(r.exit_code, 0) << r;
  EXPECT_THAT(r.err, HasSubstr("the mount namespace to join is husk's own"));
  EXPECT_TRUE(NoLeftovers(root_, own.Id(), own));
}

TEST_F(ConfigNamespacesTest, WrongNamespaceTypeIsRefused) {
  Bundle b;
  std::string net = "/proc/" + std::to_string(::getpid()) + "/ns/net";
  b.SetJson("/linux/namespaces",
            R"([{"type":"pid"},{"type":"network"},{"type":"ipc","path":")" + net +
                R"("},{"type":"uts"},{"type":"mount"}])");
  b.Write();
  CmdResult r = root_.Husk({"run", "--bundle", b.Path(), b.Id()});
  EXPECT_NE(r.exit_code, 0) << r;
  EXPECT_THAT(r.err, HasSubstr("linux/namespaces/2/path")) << r;
  EXPECT_THAT(r.err, HasSubstr("ipc")) << r;
  EXPECT_TRUE(NoLeftovers(root_, b.Id(), b));
}

TEST_F(ConfigNamespacesTest, UserNamespaceMapsRootTo100000) {
  Bundle b;
  TempDir data("userns-data");
  ASSERT_EQ(::chown(data.Path().c_str(), 100000, 100000), 0);
  UseUserNamespace(b);  // container root = host uid/gid 100000
  b.SetJson("/mounts/-", R"({"destination":"/run","type":"bind","source":")" + data.Path() +
                             R"(","options":["rbind","rw"]})");
  b.SetArgs({"/bin/sh", "-c", "id; cat /proc/self/uid_map /proc/self/gid_map; "
                              "touch /run/made-inside && echo touched; sleep 30"});
  Created c = CreateContainer(root_, b);
  ASSERT_TRUE(c.ok()) << c.result;
  EXPECT_NE(NsInode(c.pid, "user"), NsInode(0, "user"));
  std::string uid_map = ReadFile("/proc/" + std::to_string(c.pid) + "/uid_map");
  EXPECT_THAT(uid_map, ::testing::MatchesRegex(" *0 +100000 +65536\n")) << uid_map;
  CmdResult r = root_.Husk({"start", b.Id()});
  ASSERT_TRUE(r.ok()) << r;
  std::string out;
  for (int i = 0; i < 300 && out.find("touched") == std::string::npos; ++i) {
    usleep(10000);
    out = ReadFile(c.out_path);
  }
  EXPECT_THAT(out, HasSubstr("uid=0(root) gid=0(root)")) << out;
  EXPECT_THAT(out, ::testing::ContainsRegex(" *0 +100000 +65536\n *0 +100000 +65536")) << out;
  ASSERT_THAT(out, HasSubstr("touched")) << out;
  struct stat st;
  ASSERT_EQ(::stat((data.Path() + "/made-inside").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 100000u);
  EXPECT_EQ(st.st_gid, 100000u);
  Delete(b.Id());
  EXPECT_TRUE(WaitForPidGone(c.pid));
}

TEST_F(ConfigNamespacesTest, TimeNamespaceOffsetsShowInUptime) {
  Bundle b;
  b.SetJson("/linux/namespaces",
            R"([{"type":"pid"},{"type":"network"},{"type":"ipc"},{"type":"uts"},
                {"type":"mount"},{"type":"time"}])");
  constexpr long kOffset = 10 * 86400;
  b.SetJson("/linux/timeOffsets",
            R"({"monotonic":{"secs":864000,"nanosecs":0},"boottime":{"secs":864000,"nanosecs":0}})");
  double host_before = std::stod(ReadFile("/proc/uptime"));
  CmdResult r = RunScript(root_, b, "cat /proc/uptime; readlink /proc/self/ns/time");
  double host_after = std::stod(ReadFile("/proc/uptime"));
  ASSERT_TRUE(r.ok()) << r;
  std::vector<std::string> lines = SplitLines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r;
  double inside = std::stod(lines[0]);
  EXPECT_GE(inside, host_before + kOffset - 1) << r;
  EXPECT_LE(inside, host_after + kOffset + 1) << r;
  char host_ns[64];
  std::snprintf(host_ns, sizeof(host_ns), "time:[%lu]",
                static_cast<unsigned long>(NsInode(0, "time")));
  EXPECT_NE(lines[1], host_ns);
}

}  // namespace
}  // namespace husk::testing
