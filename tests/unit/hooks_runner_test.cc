// hooks/runner and hooks/phases: real hook processes (/bin/sh scripts) run by RunHook and
// RunPhase in this process. No root needed.
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hooks/phases.h"
#include "hooks/runner.h"
#include "tests/support/harness.h"

namespace husk::hooks {
namespace {

using ::husk::testing::ReadFile;
using ::husk::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;

spec::Hook Sh(const std::string& script, std::optional<int> timeout = std::nullopt) {
  spec::Hook h;
  h.path = "/bin/sh";
  h.args = {"sh", "-c", script};
  h.timeout = timeout;
  return h;
}

// Splits a NUL-separated /proc file (cmdline, environ).
std::vector<std::string> NulFields(const std::string& text) {
  std::vector<std::string> out = absl::StrSplit(text, '\0');
  if (!out.empty() && out.back().empty()) out.pop_back();
  return out;
}

pid_t ReadPid(const std::string& path) {
  int pid = -1;
  std::string text = ReadFile(path);
  EXPECT_TRUE(absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &pid)) << text;
  return pid;
}

// Alive and not a zombie.
bool Running(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  size_t paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] != 'Z';
}

bool GoneWithin(pid_t pid, std::chrono::milliseconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (!Running(pid)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return !Running(pid);
}

TEST(HooksRunnerTest, ArgvIsArgsExactlyIncludingArgv0) {
  TempDir dir("hooks");
  spec::Hook h;
  h.path = "/bin/sh";
  h.args = {"not-sh", "-c", "cat /proc/$$/cmdline > " + dir.Path() + "/argv", "zero", "one two"};
  ASSERT_TRUE(RunHook(h, "{}").ok());
  EXPECT_EQ(NulFields(ReadFile(dir.Path() + "/argv")), h.args);
}

TEST(HooksRunnerTest, EmptyArgsMeansArgv0IsPath) {
  TempDir dir("hooks");
  const std::string script = dir.Path() + "/hook.sh";
  husk::testing::WriteFile(script, "#!/bin/sh\ncat /proc/$$/cmdline > " + dir.Path() + "/argv\n",
                           0755);
  spec::Hook h;
  h.path = script;
  ASSERT_TRUE(RunHook(h, "{}").ok());
  // The kernel runs "/bin/sh <script>" for "#!": the script is argv[0] as given.
  EXPECT_THAT(NulFields(ReadFile(dir.Path() + "/argv")), ::testing::ElementsAre("/bin/sh", script));
}

TEST(HooksRunnerTest, EnvIsExactlyAsGiven) {
  TempDir dir("hooks");
  spec::Hook h = Sh("/bin/cat /proc/$$/environ > " + dir.Path() + "/env");
  h.env = {"A=1", "B=two words", "PATH=/nowhere"};
  absl::Status s = RunHook(h, "{}");
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(NulFields(ReadFile(dir.Path() + "/env")), h.env);
}

TEST(HooksRunnerTest, EmptyEnvFallsBackToOwnEnvironmentOrTheGivenOne) {
  TempDir dir("hooks");
  ASSERT_EQ(setenv("HUSK_HOOK_TEST_VAR", "from-runtime", 1), 0);
  spec::Hook h = Sh("cat /proc/$$/environ > " + dir.Path() + "/env");
  ASSERT_TRUE(RunHook(h, "{}").ok());
  EXPECT_THAT(NulFields(ReadFile(dir.Path() + "/env")),
              ::testing::Contains("HUSK_HOOK_TEST_VAR=from-runtime"));
  unsetenv("HUSK_HOOK_TEST_VAR");

  std::vector<std::string> fallback = {"ONLY=this"};
  RunOptions options;
  options.fallback_env = &fallback;
  ASSERT_TRUE(RunHook(h, "{}", options).ok());
  EXPECT_EQ(NulFields(ReadFile(dir.Path() + "/env")), fallback);
}

TEST(HooksRunnerTest, StateArrivesOnStdinThenEof) {
  TempDir dir("hooks");
  const std::string state =
      R"({"ociVersion":"1.0.2","id":"c1","status":"creating","pid":42,"bundle":"/b"})";
  ASSERT_TRUE(RunHook(Sh("cat > " + dir.Path() + "/stdin"), state).ok());
  EXPECT_EQ(ReadFile(dir.Path() + "/stdin"), state);
}

TEST(HooksRunnerTest, LargeStateReachesAReadingHook) {
  TempDir dir("hooks");
  std::string state(1 << 20, 'x');  // far more than a pipe buffer
  ASSERT_TRUE(RunHook(Sh("cat > " + dir.Path() + "/stdin"), state).ok());
  EXPECT_EQ(ReadFile(dir.Path() + "/stdin").size(), state.size());
}

TEST(HooksRunnerTest, HookThatDoesNotReadStdinNeitherBlocksNorRaisesSigpipe) {
  std::string state(1 << 20, 'x');
  auto start = std::chrono::steady_clock::now();
  absl::Status s = RunHook(Sh("exit 0"), state);
  EXPECT_TRUE(s.ok()) << s;
  // One that closes stdin and lives on: our writes hit EPIPE while it runs.
  s = RunHook(Sh("exec 0<&-; sleep 0.3"), state);
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  sigset_t pending;
  sigpending(&pending);
  EXPECT_NE(sigismember(&pending, SIGPIPE), 1) << "a SIGPIPE was left pending";
}

TEST(HooksRunnerTest, NonZeroExitIsAnErrorWithTheCapturedOutput) {
  absl::Status s = RunHook(Sh("echo to-out; echo to-err >&2; exit 3"), "{}");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("exit status 3"));
  EXPECT_THAT(s.message(), HasSubstr("stdout: to-out"));
  EXPECT_THAT(s.message(), HasSubstr("stderr: to-err"));
}

TEST(HooksRunnerTest, DeathBySignalIsAnError) {
  absl::Status s = RunHook(Sh("echo bye; kill -9 $$"), "{}");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("killed by signal 9"));
  EXPECT_THAT(s.message(), HasSubstr("stdout: bye"));
}

TEST(HooksRunnerTest, CapturedOutputIsBounded) {
  absl::Status s = RunHook(Sh("head -c 1000000 /dev/zero | tr '\\0' a; exit 1"), "{}");
  ASSERT_FALSE(s.ok());
  EXPECT_LT(s.message().size(), 2 * kKeptOutput + 200);
  EXPECT_THAT(s.message(), HasSubstr("[truncated]"));
}

TEST(HooksRunnerTest, MissingExecutableIsAnExecError) {
  spec::Hook h;
  h.path = "/nonexistent/hook";
  absl::Status s = RunHook(h, "{}");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("exec \"/nonexistent/hook\": no such file or directory"));
}

TEST(HooksRunnerTest, TimeoutKillsTheWholeProcessGroup) {
  TempDir dir("hooks");
  const std::string pidfile = dir.Path() + "/grandchild";
  auto start = std::chrono::steady_clock::now();
  absl::Status s =
      RunHook(Sh("sleep 100 & echo $! > " + pidfile + "; echo started; sleep 100", 1), "{}");
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(s.message(), HasSubstr("timed out after 1s"));
  EXPECT_THAT(s.message(), HasSubstr("stdout: started"));
  EXPECT_GE(took, std::chrono::milliseconds(900));
  EXPECT_LT(took, std::chrono::seconds(5));
  pid_t grandchild = ReadPid(pidfile);
  ASSERT_GT(grandchild, 0);
  EXPECT_TRUE(GoneWithin(grandchild, std::chrono::seconds(5))) << "grandchild " << grandchild;
}

TEST(HooksRunnerTest, HugeTimeoutIsJustALongOne) {
  absl::Status s = RunHook(Sh("exit 0", 2147483647), "{}");
  EXPECT_TRUE(s.ok()) << s;
}

TEST(HooksRunnerTest, GrandchildHoldingTheOutputPipeDoesNotHang) {
  TempDir dir("hooks");
  const std::string pidfile = dir.Path() + "/grandchild";
  for (int code : {0, 2}) {
    SCOPED_TRACE(code);
    auto start = std::chrono::steady_clock::now();
    // The backgrounded sleep keeps stdout and stderr open for 30 s.
    absl::Status s = RunHook(
        Sh("sleep 30 & echo $! > " + pidfile + "; echo hi; exit " + std::to_string(code)), "{}");
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
    EXPECT_EQ(s.ok(), code == 0) << s;
    if (code != 0) EXPECT_THAT(s.message(), HasSubstr("stdout: hi"));
    pid_t grandchild = ReadPid(pidfile);
    ASSERT_GT(grandchild, 0);
    EXPECT_TRUE(Running(grandchild));  // not ours to kill on success: it outlives the hook
    kill(grandchild, SIGKILL);         // started by this test, killed by pid
  }
}

TEST(HooksRunnerTest, OnlyStdioIsInherited) {
  int leaked = dup2(open("/dev/null", O_RDONLY), 50);  // no O_CLOEXEC on purpose
  ASSERT_EQ(leaked, 50);
  // ls reports its own fds on stdout, which the error carries back: 0-2 and the
  // directory it reads (3).
  absl::Status s = RunHook(Sh("ls -1 /proc/self/fd | tr '\\n' ' '; exit 1"), "{}");
  close(leaked);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("stdout: 0 1 2 3")) << s;
  EXPECT_THAT(s.message(), Not(HasSubstr("50"))) << s;
}

TEST(HooksRunnerTest, HookRunsInItsOwnProcessGroup) {
  TempDir dir("hooks");
  ASSERT_TRUE(
      RunHook(Sh("echo $$ $(cut -d' ' -f5 /proc/$$/stat) > " + dir.Path() + "/pg"), "{}").ok());
  std::vector<std::string> f =
      absl::StrSplit(absl::StripAsciiWhitespace(ReadFile(dir.Path() + "/pg")), ' ');
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0], f[1]) << "pgid is not the hook's pid";
}

TEST(HooksPhasesTest, FirstFailureStopsAPhaseAndNamesTheHook) {
  TempDir dir("hooks");
  const std::string log = dir.Path() + "/order";
  std::vector<spec::Hook> list = {Sh("echo a >> " + log), Sh("echo b >> " + log + "; exit 4"),
                                  Sh("echo c >> " + log)};
  absl::Status s = RunPhase(Phase::kCreateRuntime, list, "{}", nullptr);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("createRuntime hook 1 (\"/bin/sh\"): exit status 4"));
  EXPECT_EQ(ReadFile(log), "a\nb\n");
}

TEST(HooksPhasesTest, PoststopFailuresAreWarningsAndEveryHookRuns) {
  TempDir dir("hooks");
  const std::string log = dir.Path() + "/order";
  std::vector<spec::Hook> list = {Sh("echo a >> " + log + "; exit 1"), Sh("echo b >> " + log),
                                  Sh("echo c >> " + log + "; exit 2")};
  std::vector<std::string> warnings;
  EXPECT_TRUE(RunPhase(Phase::kPoststop, list, "{}", &warnings).ok());
  EXPECT_EQ(ReadFile(log), "a\nb\nc\n");
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_THAT(warnings[0], HasSubstr("poststop hook 0"));
  EXPECT_THAT(warnings[1], HasSubstr("poststop hook 2"));
}

}  // namespace
}  // namespace husk::hooks
