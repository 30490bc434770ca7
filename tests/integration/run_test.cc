// `run` integration tests (cli-contract.md §2.13, §5.4, §4): exit status propagation,
// signal forwarding, -d, --keep, deletion afterwards, and the console socket. Real
// containers; needs root.
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "tests/support/harness.h"
#include "tests/support/lifecycle_util.h"

namespace husk::testing {
namespace {

using ::testing::HasSubstr;

class RunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HUSK_REQUIRE_CONTAINERS();
    BecomeSubreaper();
  }
  void TearDown() override {
    while (::waitpid(-1, nullptr, WNOHANG | __WALL) > 0) {
    }
  }
};

// True once `sig` is in the /proc/<pid>/status mask `field` ("SigBlk:", "SigCgt:").
bool WaitForSigMask(pid_t pid, const std::string& field, int sig) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    std::string status;
    try {
      status = ReadFile("/proc/" + std::to_string(pid) + "/status");
    } catch (const std::exception&) {
      return false;
    }
    size_t at = status.find(field);
    if (at != std::string::npos) {
      unsigned long long mask = std::strtoull(status.c_str() + at + field.size(), nullptr, 16);
      if (mask & (1ULL << (sig - 1))) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

void ExpectGone(const TestRoot& root, const std::string& id, Bundle& b) {
  CmdResult state = root.Husk({"state", id});
  EXPECT_EQ(state.exit_code, 1) << state;
  EXPECT_THAT(state.err, HasSubstr("does not exist")) << state;
  EXPECT_TRUE(NoLeftovers(root, id, b));
}

TEST_F(RunTest, ExitCodeIsPropagatedAndContainerDeleted) {
  TestRoot root;
  for (int code : {0, 3}) {
    Bundle b;
    b.SetArgs({"/bin/sh", "-c", "exit " + std::to_string(code)});
    b.Write();
    RunOptions opts;
    opts.timeout = std::chrono::seconds(20);
    CmdResult r = root.Husk({"run", "--bundle", b.Path(), b.Id()}, opts);
    EXPECT_EQ(r.exit_code, code) << r;
    EXPECT_EQ(r.err, "") << r;
    ExpectGone(root, b.Id(), b);
  }
}

TEST_F(RunTest, ContainerOutputReachesTheCaller) {
  TestRoot root;
  Bundle b;
  b.SetArgs({"/bin/sh", "-c", "echo out-line; echo err-line >&2"});
  b.Write();
  CmdResult r = root.Husk({"run", "--bundle", b.Path(), b.Id()});
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_EQ(r.out, "out-line\n") << r;
  EXPECT_EQ(r.err, "err-line\n") << r;
  ExpectGone(root, b.Id(), b);
}

// Killed by signal N → 128+N. A pid-namespace init only dies from SIGKILL (from outside).
TEST_F(RunTest, KilledBySignalGives128PlusN) {
  TestRoot root;
  Bundle b;
  b.SetArgs({"/bin/sleep", "1000"});
  b.Write();
  BackgroundHusk run(root, {"run", "--bundle", b.Path(), b.Id()});
  ASSERT_TRUE(WaitForStatus(root, b.Id(), "running"));
  CmdResult kill = root.Husk({"kill", b.Id(), "KILL"});
  EXPECT_EQ(kill.exit_code, 0) << kill;
  CmdResult r = run.Wait();
  EXPECT_EQ(r.exit_code, 128 + SIGKILL) << r;
  ExpectGone(root, b.Id(), b);
}

// Without a pid namespace the process can kill itself with SIGTERM.
TEST_F(RunTest, SelfTerminatedWithoutPidNamespace) {
  TestRoot root;
  Bundle b;
  b.SetJson("/linux/namespaces", R"([{"type":"network"},{"type":"ipc"},{"type":"uts"},
                                     {"type":"mount"}])");
  b.SetArgs({"/bin/sh", "-c", "kill -TERM $$; sleep 5"});
  b.Write();
  CmdResult r = root.Husk({"run", "--bundle", b.Path(), b.Id()});
  EXPECT_EQ(r.exit_code, 128 + SIGTERM) << r;
  ExpectGone(root, b.Id(), b);
}

// Signals sent to `husk run` are forwarded to the container's init.
TEST_F(RunTest, ForwardsSignals) {
  TestRoot root;
  for (auto [sig, code] : {std::pair{SIGUSR1, 42}, std::pair{SIGTERM, 43}}) {
    SCOPED_TRACE(strsignal(sig));
    TempDir out("out");
    Bundle b;
    AddBindMount(b, out.Path(), "/tmp");
    b.SetArgs({"/bin/sh", "-c",
               "trap 'exit 42' USR1; trap 'exit 43' TERM; echo ready > /tmp/ready; "
               "while :; do sleep 1 & wait $!; done"});
    b.Write();
    BackgroundHusk run(root, {"run", "--bundle", b.Path(), b.Id()});
    ASSERT_TRUE(WaitForFileLines(out.Path() + "/ready", 1)) << "container did not start";
    ASSERT_TRUE(WaitForSigMask(run.pid(), "SigBlk:", sig)) << "husk run never blocked the signal";
    run.Signal(sig);
    CmdResult r = run.Wait();
    EXPECT_EQ(r.exit_code, code) << r;
    ExpectGone(root, b.Id(), b);
  }
}

// A signal that reaches `husk run` while it is still creating/starting the container is
// forwarded once the container runs: it neither kills husk half-way (leaking the cgroup
// and state) nor gets lost. The container traps TERM and exits 43. The signal is
// forwarded right after start, so it may reach the shell before its trap is installed
// (runc has the same window): then the init dies of SIGTERM and husk reports 143. Either
// status means the container got SIGTERM; husk itself dying of it (term_signal), another
// status, or a hang (signal lost) fails.
TEST_F(RunTest, SignalDuringCreateIsForwarded) {
  TestRoot root;
  for (int delay_ms : {0, 5, 20, 50}) {
    SCOPED_TRACE(delay_ms);
    Bundle b;
    b.SetJson("/linux/namespaces", R"([{"type":"network"},{"type":"ipc"},{"type":"uts"},{"type":"mount"}])");
    b.SetArgs({"/bin/sh", "-c", "trap 'exit 43' TERM; while :; do sleep 1 & wait $!; done"});
    b.Write();
    BackgroundHusk run(root, {"run", "--bundle", b.Path(), b.Id()});
    ASSERT_TRUE(WaitForSigMask(run.pid(), "SigCgt:", SIGTERM)) << "no SIGTERM handler";
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    run.Signal(SIGTERM);
    CmdResult r = run.Wait();
    EXPECT_EQ(r.term_signal, 0) << r;
    EXPECT_THAT(r.exit_code, ::testing::AnyOf(43, 128 + SIGTERM)) << r;
    ExpectGone(root, b.Id(), b);
  }
}

TEST_F(RunTest, DetachReturnsWithContainerRunning) {
  TestRoot root;
  Bundle b;
  b.SetArgs({"/bin/sleep", "1000"});
  b.Write();
  const std::string pid_file = b.Path() + "/init.pid";
  CmdResult r =
      HuskDetached(root, {"run", "-d", "--bundle", b.Path(), "--pid-file", pid_file, b.Id()});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_EQ(r.err, "") << r;
  EXPECT_EQ(root.Status(b.Id()), "running");
  int pid = ReadPidFile(pid_file);
  EXPECT_EQ(pid, StatePid(root, b.Id()));
  EXPECT_EQ(ParentPid(pid), ::getpid()) << "run -d left an intermediate process";
  EXPECT_EQ(root.Husk({"kill", b.Id(), "KILL"}).exit_code, 0);
  EXPECT_TRUE(WaitForStatus(root, b.Id(), "stopped"));
  EXPECT_EQ(root.Husk({"delete", b.Id()}).exit_code, 0);
  EXPECT_TRUE(WaitForPidGone(pid));
  EXPECT_TRUE(NoLeftovers(root, b.Id(), b));
}

TEST_F(RunTest, KeepLeavesAStoppedContainer) {
  TestRoot root;
  Bundle b;
  b.SetArgs({"/bin/sh", "-c", "exit 5"});
  b.Write();
  CmdResult r = root.Husk({"run", "--keep", "--bundle", b.Path(), b.Id()});
  EXPECT_EQ(r.exit_code, 5) << r;
  rapidjson::Document doc = StateDoc(root, b.Id());
  ASSERT_TRUE(doc.IsObject());
  EXPECT_STREQ(doc["status"].GetString(), "stopped");
  EXPECT_EQ(doc["pid"].GetInt(), 0);
  EXPECT_STREQ(doc["bundle"].GetString(), b.Path().c_str());
  CmdResult del = root.Husk({"delete", b.Id()});
  EXPECT_EQ(del.exit_code, 0) << del;
  ExpectGone(root, b.Id(), b);
}

TEST_F(RunTest, DetachedWithConsoleSocket) {
  TestRoot root;
  ConsoleSocket socket;
  Bundle b;
  b.SetTerminal(true);
  b.SetArgs({"/bin/sh"});
  b.Write();
  CmdResult r = HuskDetached(
      root, {"run", "-d", "--console-socket", socket.Path(), "--bundle", b.Path(), b.Id()});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_EQ(r.err, "") << r;
  ConsoleSocket::Received got = socket.Receive();
  ASSERT_TRUE(got.ok()) << got.error;
  EXPECT_FALSE(got.payload.empty());
  EXPECT_EQ(root.Status(b.Id()), "running");

  const std::string cmd = "echo hi-$((40+2))\n";
  ASSERT_EQ(::write(got.master.get(), cmd.data(), cmd.size()),
            static_cast<ssize_t>(cmd.size()));
  std::string output = ReadUntil(got.master.get(), "hi-42");
  EXPECT_THAT(output, HasSubstr("hi-42")) << output;

  const std::string exit_cmd = "exit\n";
  ASSERT_EQ(::write(got.master.get(), exit_cmd.data(), exit_cmd.size()), 5);
  EXPECT_TRUE(WaitForStatus(root, b.Id(), "stopped"));
  EXPECT_EQ(root.Husk({"delete", b.Id()}).exit_code, 0);
  EXPECT_TRUE(NoLeftovers(root, b.Id(), b));
}

TEST_F(RunTest, FailedRunLeavesNothing) {
  TestRoot root;
  Bundle b;
  b.SetArgs({"nonexistent"});
  b.Write();
  CmdResult r = root.Husk({"run", "--bundle", b.Path(), b.Id()});
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_THAT(r.err, HasSubstr("executable file not found in $PATH")) << r;
  ExpectGone(root, b.Id(), b);
}

}  // namespace
}  // namespace husk::testing
