// Error contract integration tests: every failure writes exactly one JSON error line to
// --log and the same text to stderr (cli-contract.md §3), with the texts callers match
// (§5.5), and a failed create leaves nothing behind (§2.1, §7). Real containers; root.
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/harness.h"
#include "tests/support/lifecycle_util.h"

namespace husk::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

class ErrorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HUSK_REQUIRE_CONTAINERS();
    BecomeSubreaper();
    log_dir_.emplace("log");
    log_ = log_dir_->Path() + "/log.json";
    // An earlier line from another call: the log must be appended to.
    WriteFile(log_, R"({"level":"info","msg":"earlier","time":"2026-01-01T00:00:00Z"})" "\n");
  }
  void TearDown() override {
    while (::waitpid(-1, nullptr, WNOHANG | __WALL) > 0) {
    }
  }

  // Runs `husk --root R --log L --log-format json args...`, expects exit 1 and exactly one
  // JSON error line (same text on stderr); returns the message.
  std::string Fail(const std::vector<std::string>& args) {
    std::vector<std::string> full{"--log", log_, "--log-format", "json"};
    full.insert(full.end(), args.begin(), args.end());
    size_t offset = FileSize(log_);
    CmdResult r = root_.Husk(full);
    EXPECT_EQ(r.exit_code, 1) << r;
    EXPECT_EQ(r.out, "") << r;
    return ExpectOneErrorLine(log_, offset, r);
  }
  std::string FailCreate(Bundle& b, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{"create", "--bundle", b.Path()};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(b.Id());
    std::string msg = Fail(args);
    EXPECT_TRUE(NoLeftovers(root_, b.Id(), b));
    EXPECT_THAT(ChildrenOfThisProcess(), IsEmpty()) << "a failed create left a process";
    return msg;
  }

  TestRoot root_;
  std::optional<TempDir> log_dir_;
  std::string log_;
};

TEST_F(ErrorsTest, CreateWithoutConfigJson) {
  Bundle b;
  std::filesystem::remove(b.ConfigPath());
  EXPECT_THAT(FailCreate(b), HasSubstr("config.json"));
}

TEST_F(ErrorsTest, CreateWithBadJson) {
  Bundle b;
  WriteFile(b.ConfigPath(), "{\"ociVersion\": \"1.0.2\", \"process\": ");
  EXPECT_THAT(FailCreate(b), HasSubstr("config.json"));
}

TEST_F(ErrorsTest, UnknownIdOnEveryCommand) {
  for (const std::vector<std::string>& cmd : std::vector<std::vector<std::string>>{
           {"start", "nosuch"},
           {"state", "nosuch"},
           {"kill", "nosuch"},
           {"kill", "--all", "nosuch", "KILL"},
           {"delete", "nosuch"}}) {
    EXPECT_THAT(Fail(cmd), HasSubstr("container does not exist")) << cmd[0];
  }
}

TEST_F(ErrorsTest, InvalidIdFormat) {
  Bundle b;
  for (const std::string id : {"a/b", "..", ".", "a b", "../x"}) {
    SCOPED_TRACE(id);
    for (const std::vector<std::string>& cmd : std::vector<std::vector<std::string>>{
             {"create", "--bundle", b.Path(), id},
             {"run", "--bundle", b.Path(), id},
             {"start", id},
             {"state", id},
             {"kill", id, "9"},
             {"delete", id}}) {
      EXPECT_THAT(Fail(cmd), HasSubstr("invalid container ID format")) << cmd[0];
    }
  }
  EXPECT_TRUE(std::filesystem::is_empty(root_.Path())) << "an invalid ID created something";
  EXPECT_TRUE(CgroupDirs(b.CgroupsPath()).empty());
}

TEST_F(ErrorsTest, UsageErrors) {
  for (const std::vector<std::string>& cmd : std::vector<std::vector<std::string>>{
           {"create"},
           {"start"},
           {"state"},
           {"state", "a", "b"},
           {"kill"},
           {"kill", "a", "9", "extra"},
           {"delete"},
           {"--no-such-global", "state", "x"},
           {"state", "--no-such-flag", "x"},
           {"create", "--bundle"},
           {"no-such-command"}}) {
    std::string joined;
    for (const auto& a : cmd) joined += a + " ";
    SCOPED_TRACE(joined);
    EXPECT_THAT(Fail(cmd), ::testing::Not(IsEmpty()));
  }
  EXPECT_THAT(Fail({"kill", "x", "NOSUCHSIG"}), HasSubstr("unknown signal"));
}

// An invalid --log-format is itself an error; it still lands in the log (as one line).
TEST_F(ErrorsTest, BadLogFormat) {
  size_t offset = FileSize(log_);
  CmdResult r = root_.Husk({"--log", log_, "--log-format", "xml", "state", "x"});
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_THAT(r.err, HasSubstr("invalid log-format")) << r;
  std::string added = ReadFile(log_).substr(offset);
  EXPECT_EQ(LinesOf(added).size(), 1u) << added;
  EXPECT_THAT(added, HasSubstr("invalid log-format"));
  EXPECT_THAT(added, HasSubstr("error"));
}

TEST_F(ErrorsTest, MissingBinary) {
  Bundle b;
  b.SetArgs({"nonexistent"});
  b.Write();
  EXPECT_THAT(FailCreate(b),
              HasSubstr("exec: \"nonexistent\": executable file not found in $PATH"));
  Bundle abs;
  abs.SetArgs({"/bin/nonexistent"});
  abs.Write();
  EXPECT_THAT(FailCreate(abs), HasSubstr("no such file or directory"));
}

TEST_F(ErrorsTest, NotExecutable) {
  Bundle b;
  b.SetArgs({"/etc/passwd"});
  b.Write();
  EXPECT_THAT(FailCreate(b), HasSubstr("permission denied"));
}

TEST_F(ErrorsTest, MissingCwd) {
  Bundle b;
  b.SetJson("/process/cwd", R"("/nonexistent-cwd")");
  b.Write();
  std::string msg = FailCreate(b);
  EXPECT_THAT(msg, HasSubstr("cwd"));
  EXPECT_THAT(msg, HasSubstr("/nonexistent-cwd"));
}

TEST_F(ErrorsTest, UnsupportedFieldNamesItsPointer) {
  Bundle b;
  b.SetJson("/linux/personality", R"({"domain": "LINUX"})");
  b.Write();
  EXPECT_THAT(FailCreate(b), HasSubstr("linux/personality: not supported yet"));
}

TEST_F(ErrorsTest, TerminalWithoutConsoleSocket) {
  Bundle b;
  b.SetTerminal(true);
  b.Write();
  EXPECT_THAT(FailCreate(b), HasSubstr("console socket"));
}

TEST_F(ErrorsTest, ConsoleSocketWithoutTerminal) {
  Bundle b;
  ConsoleSocket socket;
  EXPECT_THAT(FailCreate(b, {"--console-socket", socket.Path()}), HasSubstr("console socket"));
}

// §2: success means nothing on stderr (podman closes it for `state`) and no error line.
TEST_F(ErrorsTest, SuccessfulCommandsAreQuiet) {
  Bundle b;
  b.SetArgs({"/bin/sleep", "1000"});
  b.Write();
  const std::vector<std::string> g{"--log", log_, "--log-format", "json"};
  auto with_log = [&](std::vector<std::string> args) {
    args.insert(args.begin(), g.begin(), g.end());
    return args;
  };
  size_t offset = FileSize(log_);
  ASSERT_EQ(CreateOk(root_, b, b.Id()).exit_code, 0);
  for (const std::vector<std::string>& cmd : std::vector<std::vector<std::string>>{
           {"state", b.Id()},
           {"list"},
           {"list", "--format", "json"},
           {"list", "-q"},
           {"start", b.Id()},
           {"state", b.Id()},
           {"kill", b.Id(), "KILL"},
           {"list"}}) {
    CmdResult r = root_.Husk(with_log(cmd));
    EXPECT_EQ(r.exit_code, 0) << r;
    EXPECT_EQ(r.err, "") << r;
  }
  EXPECT_TRUE(WaitForStatus(root_, b.Id(), "stopped"));
  CmdResult del = root_.Husk(with_log({"delete", b.Id()}));
  EXPECT_EQ(del.exit_code, 0) << del;
  EXPECT_EQ(del.err, "") << del;
  EXPECT_THAT(ReadFile(log_).substr(offset), ::testing::Not(HasSubstr("\"error\"")));
}

TEST_F(ErrorsTest, IdAlreadyExistsLeavesTheOriginalAlone) {
  Bundle b;
  const std::string id = b.Id();
  ASSERT_EQ(CreateOk(root_, b, id, {"--pid-file", b.Path() + "/init.pid"}).exit_code, 0);
  const std::string state_path = root_.Path() + "/" + id + "/state.json";
  std::string record = ReadFile(state_path);
  std::string state = root_.Husk({"state", id}).out;
  int pid = ReadPidFile(b.Path() + "/init.pid");

  Bundle other;  // another bundle (another cgroup) under the same ID
  std::string msg = Fail({"create", "--bundle", other.Path(), "--pid-file",
                          other.Path() + "/init.pid", id});
  EXPECT_THAT(msg, HasSubstr("container with given ID already exists"));
  EXPECT_FALSE(std::filesystem::exists(other.Path() + "/init.pid"));
  EXPECT_TRUE(CgroupDirs(other.CgroupsPath()).empty());
  EXPECT_TRUE(MountsMentioning(other.Path()).empty());

  EXPECT_EQ(ReadFile(state_path), record);
  EXPECT_EQ(root_.Husk({"state", id}).out, state);
  EXPECT_EQ(ProcState(pid), 'S') << "the original init is not waiting any more";
  ASSERT_EQ(root_.Husk({"start", id}).exit_code, 0);
  EXPECT_TRUE(WaitForStatus(root_, id, "stopped"));
  EXPECT_EQ(root_.Husk({"delete", id}).exit_code, 0);
  EXPECT_TRUE(NoLeftovers(root_, id, b));
}

}  // namespace
}  // namespace husk::testing
