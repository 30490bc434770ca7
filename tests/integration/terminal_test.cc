// Terminals (config.md "terminal", "consoleSize"; cli-contract.md §4 and §6): `run` in the
// foreground without --console-socket proxies the container's pty to husk's own terminal;
// the pty is allocated in the container's devpts instance; with a terminal the caller's
// stdio pipes reach EOF as soon as `create` exits (go-runc waits for that EOF in tty mode).
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/harness.h"
#include "tests/support/lifecycle_util.h"

namespace husk::testing {
namespace {

using ::testing::HasSubstr;

class TerminalTest : public ContainerTest {
 protected:
  TestRoot root_;
};

// A person typing `husk run c1` at a terminal: husk's stdio is a pty (the test's), the
// container gets its own pty, and husk copies between them in raw mode, sets the
// container's size from its terminal, and exits with the container's status.
TEST_F(TerminalTest, RunInTheForegroundProxiesThePty) {
  Bundle b;
  b.SetTerminal(true);
  b.SetArgs({"/bin/sh"});
  b.Write();
  int master = -1;
  struct winsize ws = {};
  ws.ws_row = 27;
  ws.ws_col = 91;
  pid_t pid = ::forkpty(&master, nullptr, nullptr, &ws);
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::string husk = HUSK_BINARY;
    ::execl(husk.c_str(), husk.c_str(), "--root", root_.Path().c_str(), "run", "--bundle",
            b.Path().c_str(), b.Id().c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Typed before the shell runs: the pty buffers it, as a terminal would.
  std::string cmd =
      "echo \"@@tty $(tty)\"; echo \"@@size $(stty size)\"; echo @@do''ne; exit 3\n";
  ASSERT_EQ(::write(master, cmd.data(), cmd.size()), static_cast<ssize_t>(cmd.size()));
  std::string out = ReadUntil(master, "@@done", std::chrono::seconds(20));
  EXPECT_THAT(out, HasSubstr("@@tty /dev/pts/0")) << out;  // the container's own devpts
  EXPECT_THAT(out, HasSubstr("@@size 27 91")) << out;
  ReadUntil(master, "\n@@never", std::chrono::seconds(2));  // drain until husk exits
  int status = 0;
  for (int i = 0; i < 200 && ::waitpid(pid, &status, WNOHANG) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (::waitpid(pid, &status, WNOHANG) == 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    ADD_FAILURE() << "husk run did not exit";
  }
  ::close(master);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 3);
  EXPECT_TRUE(NoLeftovers(root_, b.Id(), b));
}

// The master husk sends belongs to the container's devpts (runc: /dev/ptmx opened after
// pivot_root), not the host's: its peer's device is the container's /dev/pts filesystem.
TEST_F(TerminalTest, PtyIsAllocatedInTheContainersDevpts) {
  Bundle b;
  ConsoleSocket sock;
  b.SetTerminal(true);
  b.SetArgs({"/bin/sh"});
  b.Write();
  std::string pid_file = b.Path() + "/init.pid";
  CmdResult r;
  std::thread creator([&] {
    r = HuskDetached(root_, {"create", "--bundle", b.Path(), "--pid-file", pid_file,
                             "--console-socket", sock.Path(), b.Id()});
  });
  ConsoleSocket::Received got = sock.Receive();
  creator.join();
  ASSERT_TRUE(r.ok()) << r;
  ASSERT_TRUE(got.ok()) << got.error;
  pid_t pid = ReadPidFile(pid_file);
  ASSERT_GT(pid, 0);
  int peer = ::ioctl(got.master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  ASSERT_GE(peer, 0) << "TIOCGPTPEER: " << strerror(errno);
  struct stat peer_st = {}, container_pts = {}, host_pts = {};
  ASSERT_EQ(::fstat(peer, &peer_st), 0);
  ::close(peer);
  ASSERT_EQ(::stat(("/proc/" + std::to_string(pid) + "/root/dev/pts").c_str(), &container_pts), 0);
  ASSERT_EQ(::stat("/dev/pts", &host_pts), 0);
  EXPECT_EQ(peer_st.st_dev, container_pts.st_dev) << "the slave is not in the container's devpts";
  EXPECT_NE(peer_st.st_dev, host_pts.st_dev) << "the slave is in the host's devpts";
  CmdResult d = root_.Husk({"delete", "--force", b.Id()});
  EXPECT_TRUE(d.ok()) << d;
  EXPECT_TRUE(WaitForPidGone(pid));
}

// With a terminal the container gets only the pty: husk's stdout and stderr (here pipes,
// as go-runc gives in tty mode) must reach EOF once `create` exits, while the container
// still runs. Otherwise the shim's cmd.Wait() hangs until the container exits.
TEST_F(TerminalTest, CreateWithATerminalLeavesNoCopyOfTheCallersPipes) {
  Bundle b;
  ConsoleSocket sock;
  b.SetTerminal(true);
  b.SetArgs({"/bin/sleep", "30"});
  b.Write();
  int out_pipe[2], err_pipe[2];
  ASSERT_EQ(::pipe2(out_pipe, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(err_pipe, O_CLOEXEC), 0);
  std::string pid_file = b.Path() + "/init.pid";
  RunOptions opts;
  opts.stdout_fd = out_pipe[1];
  opts.stderr_fd = err_pipe[1];
  CmdResult r;
  std::thread creator([&] {
    r = root_.Husk({"create", "--bundle", b.Path(), "--pid-file", pid_file, "--console-socket",
                    sock.Path(), b.Id()},
                   opts);
  });
  ConsoleSocket::Received got = sock.Receive();
  creator.join();
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  ASSERT_TRUE(r.ok()) << r;
  ASSERT_TRUE(got.ok()) << got.error;
  CmdResult s = root_.Husk({"start", b.Id()});
  ASSERT_TRUE(s.ok()) << s;
  pid_t pid = ReadPidFile(pid_file);
  for (int fd : {out_pipe[0], err_pipe[0]}) {
    struct pollfd p = {fd, POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 5000), 1) << "no EOF on the caller's pipe: something holds it";
    char c;
    EXPECT_EQ(::read(fd, &c, 1), 0) << "output on the caller's pipe";
    ::close(fd);
  }
  EXPECT_EQ(root_.Status(b.Id()), "running") << "the container should still run";
  CmdResult d = root_.Husk({"delete", "--force", b.Id()});
  EXPECT_TRUE(d.ok()) << d;
  EXPECT_TRUE(WaitForPidGone(pid));
}

}  // namespace
}  // namespace husk::testing
