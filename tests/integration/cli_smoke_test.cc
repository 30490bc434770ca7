// CLI front-end smoke tests: only argument parsing, output formats, error texts and the
// --log contract (cli-contract.md §1.1, §2, §3, §5.5). No container is created, so these
// run as any user; HUSK_TEST_BINARY=/usr/sbin/runc runs them against runc for comparison.
#include <sys/stat.h>

#include <regex>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/harness.h"

namespace husk::testing {
namespace {

using ::testing::HasSubstr;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

class CliSmokeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(BinaryAvailable()) << HuskBinary() << " is missing: build it first";
  }
};

TEST_F(CliSmokeTest, VersionPrintsThreeLines) {
  for (const char* flag : {"--version", "-v"}) {
    CmdResult r = RunHusk({flag});
    ASSERT_EQ(r.exit_code, 0) << r;
    EXPECT_EQ(r.err, "") << r;
    std::vector<std::string> lines = Lines(r.out);
    ASSERT_EQ(lines.size(), 3u) << r;
    EXPECT_EQ(lines[0].rfind("husk version ", 0), 0u) << r;
    EXPECT_GT(lines[0].size(), std::string("husk version ").size()) << r;
    EXPECT_EQ(lines[1].rfind("commit: ", 0), 0u) << r;
    EXPECT_EQ(lines[2].rfind("spec: ", 0), 0u) << r;
    EXPECT_EQ(r.out.back(), '\n') << r;
  }
}

std::string ProgramName() {
  std::string binary = HuskBinary();
  return binary.substr(binary.rfind('/') + 1);
}

// `-h`, `--help` and `help` print urfave/cli's application help as `runc --help` does:
// NAME, USAGE, VERSION, COMMANDS and GLOBAL OPTIONS, in that order, on stdout.
TEST_F(CliSmokeTest, HelpHasTheUrfaveLayout) {
  const std::string name = ProgramName();
  CmdResult version = RunHusk({"--version"});
  ASSERT_EQ(version.exit_code, 0) << version;
  std::string first = Lines(version.out)[0];
  ASSERT_EQ(first.rfind(name + " version ", 0), 0u) << first;
  const std::string version_value = first.substr(name.size() + 9);

  for (const char* flag : {"-h", "--help", "help", "h"}) {
    SCOPED_TRACE(flag);
    CmdResult r = RunHusk({flag});
    ASSERT_EQ(r.exit_code, 0) << r;
    EXPECT_EQ(r.err, "") << r;
    size_t at = 0;
    for (const std::string& section :
         {"NAME:\n   " + name + " - ",
          "\nUSAGE:\n   " + name + " [global options] command [command options] [arguments...]\n",
          "\nVERSION:\n   " + version_value + "\n", std::string("\nCOMMANDS:\n"),
          std::string("\nGLOBAL OPTIONS:\n")}) {
      size_t found = r.out.find(section, at);
      ASSERT_NE(found, std::string::npos) << "missing or out of order: " << section << "\n"
                                          << r.out;
      at = found + section.size();
    }
    EXPECT_EQ(r.out.rfind("NAME:\n", 0), 0u) << r.out;
    for (const char* command :
         {"create", "start", "state", "kill", "delete", "run", "list", "spec", "features"}) {
      EXPECT_THAT(r.out, HasSubstr(std::string("\n   ") + command + " ")) << command;
    }
    EXPECT_THAT(r.out, HasSubstr("\n   help, h "));
    for (const char* option :
         {"--debug ", "--log value ", "--log-format value ", "--root value ", "--systemd-cgroup ",
          "--rootless value ", "--help, -h ", "--version, -v "}) {
      EXPECT_THAT(r.out, HasSubstr(std::string("\n   ") + option)) << option;
    }
  }
}

// A command's help: NAME, USAGE and OPTIONS, from `help kill` and `kill --help` alike.
TEST_F(CliSmokeTest, CommandHelpHasTheUrfaveLayout) {
  const std::string name = ProgramName();
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"help", "kill"}, std::vector<std::string>{"kill", "--help"}}) {
    CmdResult r = RunHusk(args);
    ASSERT_EQ(r.exit_code, 0) << r;
    EXPECT_EQ(r.out.rfind("NAME:\n   " + name + " kill - ", 0), 0u) << r.out;
    EXPECT_THAT(r.out, HasSubstr("\nUSAGE:\n   " + name +
                                 " kill [command options] <container-id> [signal]\n"));
    EXPECT_THAT(r.out, HasSubstr("\nOPTIONS:\n   --all, -a  "));
  }
}

// urfave/cli (runc): `help TOPIC` for an unknown topic says "No help topic for 'TOPIC'"
// and exits 3, with nothing on stdout; the text also reaches --log.
TEST_F(CliSmokeTest, HelpForAnUnknownTopicExits3) {
  CmdResult r = RunHusk({"help", "frobnicate"});
  EXPECT_EQ(r.exit_code, 3) << r;
  EXPECT_EQ(r.out, "") << r;
  EXPECT_THAT(r.err, HasSubstr("No help topic for 'frobnicate'")) << r;

  TempDir dir("log-help");
  const std::string log = dir.Path() + "/log.json";
  r = RunHusk({"--log", log, "--log-format", "json", "help", "frobnicate"});
  EXPECT_EQ(r.exit_code, 3) << r;
  EXPECT_EQ(r.out, "") << r;
  EXPECT_EQ(r.err, "No help topic for 'frobnicate'\n") << r;
  std::vector<std::string> lines = Lines(ReadFile(log));
  ASSERT_EQ(lines.size(), 1u) << ReadFile(log);
  rapidjson::Document line = ParseJson(lines[0]);
  ASSERT_TRUE(line.IsObject() && line.HasMember("msg") && line["msg"].IsString()) << lines[0];
  EXPECT_STREQ(line["level"].GetString(), "error");
  std::string msg = line["msg"].GetString();
  if (!msg.empty() && msg.back() == '\n') msg.pop_back();  // runc keeps urfave's newline
  EXPECT_EQ(msg, "No help topic for 'frobnicate'");
}

TEST_F(CliSmokeTest, FeaturesPrintsJson) {
  CmdResult r = RunHusk({"features"});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_EQ(r.err, "") << r;
  rapidjson::Document doc = ParseJson(r.out);
  ASSERT_TRUE(doc.IsObject()) << r.out;
  ASSERT_TRUE(doc.HasMember("ociVersionMin") && doc["ociVersionMin"].IsString()) << r.out;
  ASSERT_TRUE(doc.HasMember("ociVersionMax") && doc["ociVersionMax"].IsString()) << r.out;
  EXPECT_EQ(std::string(doc["ociVersionMin"].GetString()).rfind("1.", 0), 0u) << r.out;
  EXPECT_EQ(std::string(doc["ociVersionMax"].GetString()).rfind("1.", 0), 0u) << r.out;
}

TEST_F(CliSmokeTest, SpecWritesConfigOnceThenRefuses) {
  TempDir dir("spec");
  CmdResult r = RunHusk({"spec", "--bundle", dir.Path()});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_EQ(r.err, "") << r;
  rapidjson::Document doc = ParseJson(ReadFile(dir.Path() + "/config.json"));
  ASSERT_TRUE(doc.IsObject());
  ASSERT_TRUE(doc.HasMember("ociVersion") && doc["ociVersion"].IsString());
  ASSERT_TRUE(doc.HasMember("process") && doc["process"].IsObject());
  EXPECT_TRUE(doc["process"]["terminal"].IsTrue());
  ASSERT_TRUE(doc["process"]["args"].IsArray());
  ASSERT_EQ(doc["process"]["args"].Size(), 1u);
  EXPECT_STREQ(doc["process"]["args"][0].GetString(), "sh");
  EXPECT_STREQ(doc["root"]["path"].GetString(), "rootfs");

  std::string before = ReadFile(dir.Path() + "/config.json");
  CmdResult again = RunHusk({"spec", "--bundle", dir.Path()});
  EXPECT_NE(again.exit_code, 0) << again;
  EXPECT_THAT(again.err, HasSubstr("File config.json exists. Remove it first")) << again;
  EXPECT_EQ(ReadFile(dir.Path() + "/config.json"), before);
}

TEST_F(CliSmokeTest, SpecWithoutBundleUsesWorkingDirectory) {
  TempDir dir("spec-cwd");
  RunOptions opts;
  opts.cwd = dir.Path();
  CmdResult r = RunHusk({"spec"}, opts);
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_TRUE(ParseJson(ReadFile(dir.Path() + "/config.json")).IsObject());
}

TEST_F(CliSmokeTest, UnknownCommandFails) {
  CmdResult r = RunHusk({"no-such-command"});
  EXPECT_NE(r.exit_code, 0) << r;
  EXPECT_EQ(r.term_signal, 0) << r;
}

TEST_F(CliSmokeTest, StateOfUnknownIdSaysDoesNotExist) {
  TestRoot root;
  CmdResult r = root.Husk({"state", "nosuch"});
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_THAT(r.err, HasSubstr("container does not exist")) << r;
  EXPECT_EQ(r.out, "") << r;
}

TEST_F(CliSmokeTest, ForceDeleteOfUnknownIdSucceeds) {
  TestRoot root;
  CmdResult r = root.Husk({"delete", "--force", "nosuch"});
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_EQ(r.err, "") << r;  // nothing on stderr when a command succeeds (§2)
}

TEST_F(CliSmokeTest, DeleteOfUnknownIdSaysDoesNotExist) {
  TestRoot root;
  CmdResult r = root.Husk({"delete", "nosuch"});
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_THAT(r.out + r.err, HasSubstr("does not exist")) << r;
}

// One JSON error line appended to --log, the same text on stderr (cli-contract.md §3).
TEST_F(CliSmokeTest, JsonLogGetsExactlyOneErrorLine) {
  TestRoot root;
  TempDir dir("log");
  const std::string log = dir.Path() + "/log.json";
  // An earlier call's line: the log must be appended to, never truncated.
  const std::string earlier =
      R"({"level":"info","msg":"earlier","time":"2026-01-01T00:00:00Z"})" "\n";
  WriteFile(log, earlier);

  CmdResult r = root.Husk({"--log", log, "--log-format", "json", "state", "nosuch"});
  EXPECT_EQ(r.exit_code, 1) << r;

  std::string content = ReadFile(log);
  ASSERT_EQ(content.rfind(earlier, 0), 0u) << "log was not appended to:\n" << content;
  std::string added = content.substr(earlier.size());
  std::vector<std::string> lines = Lines(added);
  ASSERT_EQ(lines.size(), 1u) << "want exactly one new line, got:\n" << added;
  EXPECT_EQ(added.back(), '\n');
  rapidjson::Document line = ParseJson(lines[0]);
  ASSERT_TRUE(line.IsObject()) << lines[0];
  ASSERT_TRUE(line.HasMember("level") && line["level"].IsString()) << lines[0];
  EXPECT_STREQ(line["level"].GetString(), "error") << lines[0];
  ASSERT_TRUE(line.HasMember("msg") && line["msg"].IsString()) << lines[0];
  std::string msg = line["msg"].GetString();
  EXPECT_THAT(msg, HasSubstr("container does not exist"));
  ASSERT_TRUE(line.HasMember("time") && line["time"].IsString()) << lines[0];
  static const std::regex kRfc3339(
      R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))");
  EXPECT_TRUE(std::regex_match(line["time"].GetString(), kRfc3339)) << lines[0];

  EXPECT_EQ(r.err, msg + "\n") << r;
}

TEST_F(CliSmokeTest, JsonLogIsCreatedWith0644) {
  TestRoot root;
  TempDir dir("log-mode");
  const std::string log = dir.Path() + "/log.json";
  CmdResult r = root.Husk({"--log", log, "--log-format", "json", "state", "nosuch"});
  EXPECT_EQ(r.exit_code, 1) << r;
  struct stat st;
  ASSERT_EQ(::stat(log.c_str(), &st), 0) << "--log file was not created";
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

// Failing before the log is open leaves containerd with "unable to retrieve OCI runtime
// error" (§3, moby#45178): usage errors must reach the JSON log too.
TEST_F(CliSmokeTest, UsageErrorIsLoggedAsJson) {
  TempDir dir("log-usage");
  const std::string log = dir.Path() + "/log.json";
  CmdResult r = RunHusk({"--log", log, "--log-format=json", "no-such-command"});
  EXPECT_NE(r.exit_code, 0) << r;
  std::string content = ReadFile(log);
  std::vector<std::string> lines = Lines(content);
  ASSERT_FALSE(lines.empty()) << r;
  for (const auto& l : lines) {
    rapidjson::Document d = ParseJson(l);
    ASSERT_TRUE(d.IsObject()) << l;
  }
  rapidjson::Document last = ParseJson(lines.back());
  ASSERT_TRUE(last.HasMember("level") && last["level"].IsString()) << lines.back();
  EXPECT_STREQ(last["level"].GetString(), "error") << lines.back();
}

TEST_F(CliSmokeTest, BadLogFormatFails) {
  TestRoot root;
  // `list` on a fresh root succeeds, so only the bad --log-format can make it fail.
  CmdResult ok = root.Husk({"--log-format", "json", "list"});
  EXPECT_TRUE(ok.ok()) << ok;
  CmdResult r = root.Husk({"--log-format", "xml", "list"});
  EXPECT_NE(r.exit_code, 0) << r;
  EXPECT_THAT(r.err, HasSubstr("invalid log-format \\\"xml\\\"")) << r;
  EXPECT_EQ(r.out, "") << r;
}

}  // namespace
}  // namespace husk::testing
