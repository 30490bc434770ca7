// What the container process holds besides its config: open fds (none but stdio, plus
// --preserve-fds and socket activation), its session, and the terminal given through
// --console-socket (config.md "terminal", "consoleSize"; cli-contract.md §6; S-07, S-21).
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/config_util.h"
#include "tests/support/harness.h"

namespace husk::testing {
namespace {

using ::testing::HasSubstr;

std::string Proc(pid_t pid, const std::string& file) {
  return "/proc/" + std::to_string(pid) + "/" + file;
}

std::vector<std::string> FdNames(pid_t pid) {
  std::vector<std::string> fds;
  if (DIR* d = ::opendir(Proc(pid, "fd").c_str())) {
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] != '.') fds.emplace_back(e->d_name);
    }
    ::closedir(d);
  }
  std::sort(fds.begin(), fds.end());
  return fds;
}

std::string Readlink(const std::string& path) {
  char buf[4096];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof(buf));
  return n < 0 ? "" : std::string(buf, static_cast<size_t>(n));
}

// Waits until the process runs `comm` (it has execve'd).
bool WaitForComm(pid_t pid, const std::string& comm) {
  for (int i = 0; i < 500; ++i) {
    try {
      if (ReadFile(Proc(pid, "comm")) == comm + "\n") return true;
    } catch (const std::exception&) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// Fields of /proc/<pid>/stat after the comm: [0] state, [1] ppid, [2] pgrp, [3] session,
// [4] tty_nr, [5] tpgid.
std::vector<std::string> StatFields(pid_t pid) {
  std::string stat = ReadFile(Proc(pid, "stat"));
  std::istringstream in(stat.substr(stat.rfind(')') + 2));
  std::vector<std::string> f;
  std::string s;
  while (in >> s) f.push_back(s);
  return f;
}

class ConfigStdioTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (::geteuid() == 0) BecomeSubreaper();
  }
  void SetUp() override { HUSK_REQUIRE_CONTAINERS(); }
  void KillAndDelete(const Bundle& b, pid_t pid) {
    CmdResult r = root_.Husk({"delete", "--force", b.Id()});
    EXPECT_TRUE(r.ok()) << r;
    EXPECT_TRUE(WaitForPidGone(pid));
  }
  TestRoot root_;
};

TEST_F(ConfigStdioTest, OnlyStdioIsOpenAfterExec) {
  Bundle b;
  b.SetArgs({"/bin/sleep", "30"});
  // A host fd without O_CLOEXEC handed to husk must not reach the container (S-07, H-01).
  int leak = ::open("/etc/hostname", O_RDONLY);
  ASSERT_GE(leak, 0);
  RunOptions opts;
  opts.extra_fds = {{7, leak}, {3, leak}};
  Created c = CreateContainer(root_, b, {}, opts);
  ::close(leak);
  ASSERT_TRUE(c.ok()) << c.result;
  CmdResult r = root_.Husk({"start", b.Id()});
  ASSERT_TRUE(r.ok()) << r;
  ASSERT_TRUE(WaitForComm(c.pid, "sleep"));
  EXPECT_EQ(FdNames(c.pid), (std::vector<std::string>{"0", "1", "2"}));
  EXPECT_EQ(Readlink(Proc(c.pid, "cwd")).find("(unreachable)"), std::string::npos);
  KillAndDelete(b, c.pid);
}

TEST_F(ConfigStdioTest, PreserveFdsPassesExactlyThoseFds) {
  Bundle b;
  TempDir dir("preserve");
  WriteFile(dir.Path() + "/three", "3");
  WriteFile(dir.Path() + "/four", "4");
  int three = ::open((dir.Path() + "/three").c_str(), O_RDONLY | O_CLOEXEC);
  int four = ::open((dir.Path() + "/four").c_str(), O_RDONLY | O_CLOEXEC);
  int five = ::open("/etc/hostname", O_RDONLY | O_CLOEXEC);
  ASSERT_TRUE(three >= 0 && four >= 0 && five >= 0);
  RunOptions opts;
  opts.extra_fds = {{3, three}, {4, four}, {5, five}};
  b.SetArgs({"/bin/sh", "-c", "cat <&3; cat <&4; echo; exec sleep 30"});
  Created c = CreateContainer(root_, b, {"--preserve-fds", "2"}, opts);
  ::close(three);
  ::close(four);
  ::close(five);
  ASSERT_TRUE(c.ok()) << c.result;
  CmdResult r = root_.Husk({"start", b.Id()});
  ASSERT_TRUE(r.ok()) << r;
  ASSERT_TRUE(WaitForComm(c.pid, "sleep"));
  EXPECT_EQ(FdNames(c.pid), (std::vector<std::string>{"0", "1", "2", "3", "4"}));
  EXPECT_EQ(ReadFile(c.out_path), "34\n");
  KillAndDelete(b, c.pid);
}

TEST_F(ConfigStdioTest, SocketActivationFds) {
  Bundle b;
  TempDir dir("listen");
  WriteFile(dir.Path() + "/sock-standin", "listen\n");
  int fd = ::open((dir.Path() + "/sock-standin").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  b.SetArgs({"/bin/sh", "-c", "echo $LISTEN_FDS $LISTEN_PID; cat <&3; exec sleep 30"});
  b.Write();
  int out = ::open((b.Path() + "/out.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  RunOptions opts;
  opts.extra_fds = {{3, fd}};
  opts.stdout_fd = out;
  opts.timeout = std::chrono::seconds(15);
  std::string pid_file = b.Path() + "/init.pid";
  CmdResult r = RunCommand(
      {"/bin/sh", "-c",
       "LISTEN_PID=$$ LISTEN_FDS=1 exec \"$0\" --root \"$1\" create --bundle \"$2\" --pid-file \"$3\" \"$4\"",
       HuskBinary(), root_.Path(), b.Path(), pid_file, b.Id()},
      opts);
  ::close(fd);
  ::close(out);
  ASSERT_TRUE(r.ok()) << r;
  pid_t pid = ReadPidFile(pid_file);
  ASSERT_GT(pid, 0);
  CmdResult s = root_.Husk({"start", b.Id()});
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_TRUE(WaitForComm(pid, "sleep"));
  EXPECT_EQ(FdNames(pid), (std::vector<std::string>{"0", "1", "2", "3"}));
  EXPECT_EQ(ReadFile(b.Path() + "/out.txt"), "1 1\nlisten\n");
  KillAndDelete(b, pid);
}

// LISTEN_FDS names fds of LISTEN_PID only: husk gets fd 3 open but LISTEN_PID is not
// husk, so neither the variables nor fd 3 reach the container (its fds are checked from
// the host, as in SocketActivationFds).
TEST_F(ConfigStdioTest, ListenFdsForAnotherPidAreIgnored) {
  Bundle b;
  TempDir dir("listen");
  WriteFile(dir.Path() + "/sock-standin", "listen\n");
  int fd = ::open((dir.Path() + "/sock-standin").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  b.SetArgs({"/bin/sh", "-c", "echo \"[$LISTEN_FDS][$LISTEN_PID]\"; exec sleep 30"});
  RunOptions opts;
  opts.env = {"LISTEN_FDS=1", "LISTEN_PID=1"};
  opts.extra_fds = {{3, fd}};
  Created c = CreateContainer(root_, b, {}, opts);
  ::close(fd);
  ASSERT_TRUE(c.ok()) << c.result;
  CmdResult r = root_.Husk({"start", b.Id()});
  ASSERT_TRUE(r.ok()) << r;
  ASSERT_TRUE(WaitForComm(c.pid, "sleep"));
  EXPECT_EQ(FdNames(c.pid), (std::vector<std::string>{"0", "1", "2"}));
  EXPECT_EQ(ReadFile(c.out_path), "[][]\n");
  KillAndDelete(b, c.pid);
}

TEST_F(ConfigStdioTest, ContainerIsSessionLeader) {
  Bundle b;
  b.SetArgs({"/bin/sleep", "30"});
  Created c = CreateContainer(root_, b);
  ASSERT_TRUE(c.ok()) << c.result;
  CmdResult r = root_.Husk({"start", b.Id()});
  ASSERT_TRUE(r.ok()) << r;
  ASSERT_TRUE(WaitForComm(c.pid, "sleep"));
  std::vector<std::string> f = StatFields(c.pid);
  ASSERT_GE(f.size(), 6u);
  EXPECT_EQ(f[2], std::to_string(c.pid)) << "pgrp";
  EXPECT_EQ(f[3], std::to_string(c.pid)) << "session";
  EXPECT_EQ(f[4], "0") << "a controlling terminal without terminal:true";
  KillAndDelete(b, c.pid);
}

TEST_F(ConfigStdioTest, TerminalThroughConsoleSocket) {
  Bundle b;
  ConsoleSocket sock;
  b.SetTerminal(true);
  b.SetJson("/process/consoleSize", R"({"height":33,"width":101})");
  b.SetArgs({"/bin/sh"});
  b.Write();
  std::string pid_file = b.Path() + "/init.pid";
  CmdResult r;
  std::thread creator([&] {
    r = root_.Husk({"create", "--bundle", b.Path(), "--pid-file", pid_file, "--console-socket",
                    sock.Path(), b.Id()});
  });
  ConsoleSocket::Received got = sock.Receive();
  creator.join();
  ASSERT_TRUE(r.ok()) << r;
  ASSERT_TRUE(got.ok()) << got.error;
  pid_t pid = ReadPidFile(pid_file);
  ASSERT_GT(pid, 0);
  // Before start: session leader with the pty as controlling terminal (TIOCSCTTY).
  std::vector<std::string> f = StatFields(pid);
  EXPECT_EQ(f[3], std::to_string(pid)) << "session";
  EXPECT_NE(f[4], "0") << "no controlling terminal";
  CmdResult s = root_.Husk({"start", b.Id()});
  ASSERT_TRUE(s.ok()) << s;
  std::string cmd =
      "echo \"@@size $(stty size)\"; echo \"@@console $(stat -c %t:%T /dev/console)\"; "
      "echo \"@@stdin $(stat -L -c %t:%T /proc/self/fd/0)\"; echo @@done''; exit\n";
  ASSERT_EQ(::write(got.master.get(), cmd.data(), cmd.size()), static_cast<ssize_t>(cmd.size()));
  std::string out = ReadUntil(got.master.get(), "@@done\r\n", std::chrono::seconds(10));
  EXPECT_THAT(out, HasSubstr("@@size 33 101\r\n")) << out;
  EXPECT_THAT(out, HasSubstr("@@console 88:0\r\n")) << out;
  EXPECT_THAT(out, HasSubstr("@@stdin 88:0\r\n")) << out;
  EXPECT_TRUE(WaitForPidGone(pid));
  CmdResult d = root_.Husk({"delete", "--force", b.Id()});
  EXPECT_TRUE(d.ok()) << d;
}

}  // namespace
}  // namespace husk::testing
