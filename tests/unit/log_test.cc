// husk::log: the --log line format containerd and podman parse, append-only opening, and
// the "one log line + the same text once on stderr" rule (cli-contract.md §3).
#include "runtime/base/log.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/base/fs.h"
#include "rapidjson/document.h"

namespace husk::log {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::regex kRfc3339(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$)");

std::string ReadAll(const std::string& path) { return husk::ReadFile(path).value_or(""); }

void WriteFile(const std::string& path, const std::string& content) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  close(fd);
}

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

// Points fd `target` (1 or 2) at a file for the lifetime of the object.
class Redirect {
 public:
  Redirect(int target, std::string path) : target_(target), path_(std::move(path)) {
    fflush(nullptr);
    saved_ = dup(target_);
    int fd = open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    dup2(fd, target_);
    close(fd);
  }
  ~Redirect() { Restore(); }
  // Restores the fd and returns what was written.
  std::string Finish() {
    Restore();
    return ReadAll(path_);
  }

 private:
  void Restore() {
    if (saved_ < 0) return;
    fflush(nullptr);
    dup2(saved_, target_);
    close(saved_);
    saved_ = -1;
  }
  int target_;
  std::string path_;
  int saved_ = -1;
};

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "/husk-log-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    ASSERT_TRUE(Init("", Format::kText, false).ok());  // closes the test's log file
    std::string cmd = "rm -rf '" + dir_ + "'";
    ASSERT_EQ(system(cmd.c_str()), 0);
  }
  std::string Path(const std::string& name) { return dir_ + "/" + name; }

  std::string dir_;
};

rapidjson::Document ParseJson(const std::string& line) {
  rapidjson::Document doc;
  doc.Parse(line.c_str(), line.size());
  EXPECT_FALSE(doc.HasParseError()) << line;
  EXPECT_TRUE(doc.IsObject()) << line;
  return doc;
}

void ExpectJsonLine(const std::string& line, const std::string& level, const std::string& msg) {
  rapidjson::Document doc = ParseJson(line);
  if (!doc.IsObject()) return;
  ASSERT_TRUE(doc.HasMember("level") && doc["level"].IsString()) << line;
  ASSERT_TRUE(doc.HasMember("msg") && doc["msg"].IsString()) << line;
  ASSERT_TRUE(doc.HasMember("time") && doc["time"].IsString()) << line;
  EXPECT_EQ(doc["level"].GetString(), level);
  EXPECT_EQ(std::string(doc["msg"].GetString(), doc["msg"].GetStringLength()), msg);
  EXPECT_TRUE(std::regex_match(doc["time"].GetString(), kRfc3339)) << doc["time"].GetString();
}

TEST(LogFormat, JsonLineEscapesEverything) {
  std::string msg = "exec: \"a\\b\"\n\ttab\x01\x1f\x7f caf\xc3\xa9 $PATH";
  std::string line = FormatLine(Format::kJson, Level::kError, msg, "2026-11-27T18:22:37Z");
  ASSERT_THAT(line, testing::EndsWith("\n"));
  line.pop_back();
  EXPECT_EQ(line.find('\n'), std::string::npos) << "exactly one line";
  for (char c : line) EXPECT_GE(static_cast<unsigned char>(c), 0x20) << "raw control char";
  EXPECT_THAT(line, StartsWith("{\"level\":\"error\",\"msg\":"));
  ExpectJsonLine(line, "error", msg);
}

TEST(LogFormat, LevelNames) {
  EXPECT_THAT(FormatLine(Format::kJson, Level::kDebug, "m", "t"), HasSubstr("\"debug\""));
  EXPECT_THAT(FormatLine(Format::kJson, Level::kInfo, "m", "t"), HasSubstr("\"info\""));
  EXPECT_THAT(FormatLine(Format::kJson, Level::kWarning, "m", "t"), HasSubstr("\"warning\""));
  EXPECT_THAT(FormatLine(Format::kText, Level::kWarning, "m", "t"), HasSubstr("level=warning"));
}

TEST(LogFormat, TextLineIsLogrusStyle) {
  EXPECT_EQ(FormatLine(Format::kText, Level::kError, "container \"c1\" does not exist\n\x01",
                       "2026-11-27T18:22:37Z"),
            "time=\"2026-11-27T18:22:37Z\" level=error "
            "msg=\"container \\\"c1\\\" does not exist\\n\\x01\"\n");
}

TEST(LogFormat, Rfc3339Now) {
  std::string now = Rfc3339Now();
  EXPECT_TRUE(std::regex_match(now, kRfc3339)) << now;
  EXPECT_EQ(now.size(), std::string("2026-11-27T18:22:37.123456789Z").size()) << now;
  time_t t = time(nullptr);
  struct tm tm;
  gmtime_r(&t, &tm);
  EXPECT_EQ(now.substr(0, 4), std::to_string(tm.tm_year + 1900));
}

TEST_F(LogTest, ErrorAppendsOneJsonLineAndMirrorsToStderrOnce) {
  std::string log = Path("log.json");
  std::string previous =
      "{\"level\":\"info\",\"msg\":\"older call\",\"time\":\"2026-01-01T00:00:00Z\"}\n";
  WriteFile(log, previous);

  Redirect stderr_capture(STDERR_FILENO, Path("stderr"));
  Redirect stdout_capture(STDOUT_FILENO, Path("stdout"));
  ASSERT_TRUE(Init(log, Format::kJson, false).ok());
  Error("container does not exist");
  std::string out = stdout_capture.Finish();
  std::string err = stderr_capture.Finish();

  EXPECT_EQ(err, "container does not exist\n");
  EXPECT_EQ(out, "") << "the log never writes stdout";
  std::string content = ReadAll(log);
  ASSERT_THAT(content, StartsWith(previous)) << "O_APPEND, never truncated";
  std::vector<std::string> lines = Lines(content.substr(previous.size()));
  ASSERT_EQ(lines.size(), 1u) << content;
  ExpectJsonLine(lines[0], "error", "container does not exist");
}

TEST_F(LogTest, ReopeningAppends) {
  std::string log = Path("log.json");
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(Init(log, Format::kJson, false).ok());
    Info("call " + std::to_string(i));
  }
  std::vector<std::string> lines = Lines(ReadAll(log));
  ASSERT_EQ(lines.size(), 3u);
  for (int i = 0; i < 3; ++i) ExpectJsonLine(lines[i], "info", "call " + std::to_string(i));
}

TEST_F(LogTest, CreatesFileWithMode0644) {
  std::string log = Path("new.json");
  mode_t old_umask = umask(0);
  absl::Status status = Init(log, Format::kJson, false);
  umask(old_umask);
  ASSERT_TRUE(status.ok()) << status;
  struct stat st;
  ASSERT_EQ(stat(log.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
}

TEST_F(LogTest, DebugLinesOnlyWithDebug) {
  std::string log = Path("log.json");
  Redirect stderr_capture(STDERR_FILENO, Path("stderr"));
  ASSERT_TRUE(Init(log, Format::kJson, false).ok());
  Debug("hidden");
  Info("info line");
  Warning("warning line");
  ASSERT_TRUE(Init(log, Format::kJson, true).ok());
  Debug("shown");
  EXPECT_EQ(stderr_capture.Finish(), "") << "only errors are mirrored to stderr";

  std::vector<std::string> lines = Lines(ReadAll(log));
  ASSERT_EQ(lines.size(), 3u);
  ExpectJsonLine(lines[0], "info", "info line");
  ExpectJsonLine(lines[1], "warning", "warning line");
  ExpectJsonLine(lines[2], "debug", "shown");
}

TEST_F(LogTest, FdIsTheLogFileAndCloseOnExec) {
  ASSERT_TRUE(Init(Path("log"), Format::kText, false).ok());
  int fd = Fd();
  ASSERT_GE(fd, 3);
  EXPECT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
  EXPECT_TRUE(fcntl(fd, F_GETFL) & O_APPEND);
  ASSERT_TRUE(Init("", Format::kText, false).ok());
  EXPECT_EQ(Fd(), -1);
  EXPECT_EQ(fcntl(fd, F_GETFD), -1) << "the previous log fd was closed";
}

TEST_F(LogTest, StderrLogGetsTheErrorOnce) {
  Redirect stderr_capture(STDERR_FILENO, Path("stderr"));
  ASSERT_TRUE(Init("", Format::kText, false).ok());
  Error("boom");
  std::vector<std::string> lines = Lines(stderr_capture.Finish());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], HasSubstr("level=error msg=\"boom\""));
}

TEST_F(LogTest, LogFileThatIsStderrGetsTheErrorOnce) {
  // e.g. --log /dev/stderr, or a wrapper that points --log at the same file.
  std::string shared = Path("shared");
  Redirect stderr_capture(STDERR_FILENO, shared);
  ASSERT_TRUE(Init(shared, Format::kJson, false).ok());
  Error("boom");
  std::vector<std::string> lines = Lines(stderr_capture.Finish());
  ASSERT_EQ(lines.size(), 1u);
  ExpectJsonLine(lines[0], "error", "boom");
}

TEST_F(LogTest, InitFailureFallsBackToStderr) {
  absl::Status status = Init(Path("missing-dir/log.json"), Format::kJson, false);
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr("no such file or directory"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("missing-dir/log.json"));
  EXPECT_EQ(Fd(), -1);
}

}  // namespace
}  // namespace husk::log
