// The program around the parser: Main's single error report (log line + stderr once) for
// usage errors, --version text, and `spec`'s exclusive config.json write. Only paths that
// never reach the container lifecycle are exercised here; integration tests cover the rest.
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/base/fs.h"
#include "rapidjson/document.h"
#include "runtime/base/log.h"
#include "runtime/cli/dispatch.h"

namespace husk::cli {
namespace {

using ::testing::HasSubstr;

std::string ReadAll(const std::string& path) { return husk::ReadFile(path).value_or(""); }

class CliMainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "/husk-cli-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    ASSERT_TRUE(log::Init("", log::Format::kText, false).ok());
    std::string cmd = "rm -rf '" + dir_ + "'";
    ASSERT_EQ(system(cmd.c_str()), 0);
  }

  // Runs Main with stdout and stderr captured into files.
  int RunMain(std::vector<std::string> args) {
    args.insert(args.begin(), "husk");
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);

    fflush(nullptr);
    int saved_out = dup(1), saved_err = dup(2);
    int out = open((dir_ + "/stdout").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open((dir_ + "/stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(out, 1);
    dup2(err, 2);
    close(out);
    close(err);
    int code = Main(static_cast<int>(args.size()), argv.data());
    fflush(nullptr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    stdout_ = ReadAll(dir_ + "/stdout");
    stderr_ = ReadAll(dir_ + "/stderr");
    return code;
  }

  std::string dir_, stdout_, stderr_;
};

void ExpectOneErrorLine(const std::string& log, const std::string& msg) {
  std::vector<std::string> lines = absl::StrSplit(log, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 1u) << log;
  rapidjson::Document doc;
  doc.Parse(lines[0].c_str());
  ASSERT_FALSE(doc.HasParseError()) << lines[0];
  EXPECT_STREQ(doc["level"].GetString(), "error");
  EXPECT_EQ(doc["msg"].GetString(), msg);
  EXPECT_TRUE(std::regex_match(doc["time"].GetString(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z)")));
}

TEST_F(CliMainTest, UsageErrorReachesTheJsonLogAndStderrOnce) {
  std::string log = dir_ + "/log.json";
  EXPECT_EQ(RunMain({"--root", "/run/x", "--log", log, "--log-format", "json", "frobnicate", "c1"}),
            1);
  ExpectOneErrorLine(ReadAll(log), "unknown command \"frobnicate\"");
  EXPECT_EQ(stderr_, "unknown command \"frobnicate\"\n");
  EXPECT_EQ(stdout_, "");
}

TEST_F(CliMainTest, UnknownGlobalFlagStillLogged) {
  // moby#45178: a runtime that fails before opening --log leaves containerd blind.
  std::string log = dir_ + "/log.json";
  EXPECT_EQ(RunMain({"--bogus", "--log", log, "--log-format=json", "state", "c1"}), 1);
  ExpectOneErrorLine(ReadAll(log), "flag provided but not defined: -bogus");
  EXPECT_EQ(stderr_, "flag provided but not defined: -bogus\n");
}

TEST_F(CliMainTest, MissingIdIsAnError) {
  std::string log = dir_ + "/log.json";
  EXPECT_EQ(RunMain({"--log", log, "--log-format", "json", "state"}), 1);
  ExpectOneErrorLine(ReadAll(log), "\"state\" requires exactly 1 argument(s)");
}

TEST_F(CliMainTest, UnopenableLogIsReportedOnStderr) {
  EXPECT_EQ(RunMain({"--log", dir_ + "/no/such/log.json", "state", "c1"}), 1);
  EXPECT_THAT(stderr_, HasSubstr("no such file or directory"));
  EXPECT_EQ(std::count(stderr_.begin(), stderr_.end(), '\n'), 1);
}

TEST_F(CliMainTest, Version) {
  EXPECT_EQ(RunMain({"--version"}), 0);
  EXPECT_EQ(stdout_, VersionText());
  EXPECT_EQ(stderr_, "");
  std::vector<std::string> lines = absl::StrSplit(stdout_, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_THAT(lines[0], testing::StartsWith("husk version "));
  EXPECT_THAT(lines[1], testing::StartsWith("commit: "));
  EXPECT_EQ(lines[2], "spec: 1.3.0");
}

TEST_F(CliMainTest, HelpGoesToStdoutWhenAsked) {
  EXPECT_EQ(RunMain({"-h"}), 0);
  EXPECT_EQ(stdout_.rfind("NAME:\n   husk - ", 0), 0u) << stdout_;
  EXPECT_THAT(stdout_, HasSubstr("\nUSAGE:\n   husk [global options] command"));
  EXPECT_EQ(stderr_, "");
  EXPECT_EQ(RunMain({}), 0);
  EXPECT_EQ(stdout_, "");
  EXPECT_THAT(stderr_, HasSubstr("\nUSAGE:\n   husk [global options] command"));
}

// urfave/cli's (and runc's) answer to `help TOPIC` with an unknown topic: exit 3.
TEST_F(CliMainTest, HelpForAnUnknownTopicExits3) {
  std::string log = dir_ + "/log.json";
  EXPECT_EQ(RunMain({"--log", log, "--log-format", "json", "help", "frobnicate"}), 3);
  ExpectOneErrorLine(ReadAll(log), "No help topic for 'frobnicate'");
  EXPECT_EQ(stderr_, "No help topic for 'frobnicate'\n");
  EXPECT_EQ(stdout_, "");
  EXPECT_EQ(RunMain({"h", "frobnicate"}), 3);
  EXPECT_EQ(RunMain({"help", "kill"}), 0);
  EXPECT_EQ(stdout_.rfind("NAME:\n   husk kill - ", 0), 0u) << stdout_;
}

// The overview's VERSION section is the --version text after "husk version ".
TEST_F(CliMainTest, HelpShowsTheVersion) {
  EXPECT_EQ(RunMain({"--help"}), 0);
  std::string version = VersionText().substr(std::string("husk version ").size());
  EXPECT_THAT(stdout_, HasSubstr("\nVERSION:\n   " + version + "\nCOMMANDS:\n")) << stdout_;
}

TEST_F(CliMainTest, UnsupportedCommand) {
  EXPECT_EQ(RunMain({"checkpoint", "c1"}), 1);
  EXPECT_THAT(stderr_, HasSubstr("husk: command \\\"checkpoint\\\" is not supported yet"));
}

TEST_F(CliMainTest, WriteSpecFileIsExclusive) {
  ASSERT_TRUE(WriteSpecFile(dir_, "{\"ociVersion\":\"1.3.0\"}").ok());
  EXPECT_EQ(ReadAll(dir_ + "/config.json"), "{\"ociVersion\":\"1.3.0\"}");
  absl::Status again = WriteSpecFile(dir_, "{}");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.message(), "File config.json exists. Remove it first");
  EXPECT_EQ(ReadAll(dir_ + "/config.json"), "{\"ociVersion\":\"1.3.0\"}");
}

TEST_F(CliMainTest, WriteSpecFileRefusesADanglingSymlink) {
  ASSERT_EQ(symlink((dir_ + "/elsewhere").c_str(), (dir_ + "/config.json").c_str()), 0);
  absl::Status status = WriteSpecFile(dir_, "{}");
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(access((dir_ + "/elsewhere").c_str(), F_OK), -1);
}

TEST_F(CliMainTest, WriteSpecFileMissingBundle) {
  absl::Status status = WriteSpecFile(dir_ + "/nope", "{}");
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr("no such file or directory"));
}

}  // namespace
}  // namespace husk::cli
