// `ps` and `events` on real containers: the pids containerd's Pids and docker top read
// (ps --format json), the host-ps table go-runc's Top parses, the stats object of
// `events --stats` with real numbers, the streaming mode (stats every --interval, the end
// of the stream when the container stops) and OOM events. Needs root.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "runtime/kernel/cgroups/cgroups.h"
#include "tests/support/config_util.h"
#include "tests/support/harness.h"
#include "tests/support/lifecycle_util.h"

namespace husk::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class PsEventsTest : public ContainerTest {
 protected:
  // `run -d` of `script`; returns false (with a failure) if it did not start.
  bool RunDetached(const TestRoot& root, Bundle& b, const std::string& script) {
    b.SetArgs({"/bin/sh", "-c", script});
    b.Write();
    CmdResult r = HuskDetached(root, {"run", "-d", "--bundle", b.Path(), b.Id()});
    EXPECT_EQ(r.exit_code, 0) << r;
    return r.ok();
  }

  // `ps --format json` parsed into pids; exit code and the trailing newline checked.
  std::vector<int> PsJson(const TestRoot& root, const std::string& id) {
    CmdResult r = root.Husk({"ps", "--format", "json", id});
    EXPECT_EQ(r.exit_code, 0) << r;
    EXPECT_EQ(r.err, "") << r;
    std::vector<int> pids;
    if (!r.ok()) return pids;
    EXPECT_EQ(r.out.back(), '\n') << r;
    rapidjson::Document d = ParseJson(r.out);
    if (d.IsNull()) return pids;
    EXPECT_TRUE(d.IsArray()) << r.out;
    if (!d.IsArray()) return pids;
    for (const auto& v : d.GetArray()) pids.push_back(v.GetInt());
    return pids;
  }

  // `events --stats`: exactly one JSON line, parsed.
  rapidjson::Document Stats(const TestRoot& root, const std::string& id) {
    CmdResult r = root.Husk({"events", "--stats", id});
    EXPECT_EQ(r.exit_code, 0) << r;
    std::vector<std::string> lines = LinesOf(r.out);
    EXPECT_EQ(lines.size(), 1u) << r;
    if (lines.size() != 1) return rapidjson::Document();
    return ParseJson(lines[0]);
  }
};

TEST_F(PsEventsTest, PsJsonListsInitAndItsChild) {
  TestRoot root;
  Bundle b;
  ASSERT_TRUE(RunDetached(root, b, "sleep 100 & exec sleep 100"));
  int init = StatePid(root, b.Id());
  ASSERT_GT(init, 0);
  std::vector<int> pids;
  for (int i = 0; i < 100 && pids.size() < 2; ++i) {
    pids = PsJson(root, b.Id());
    if (pids.size() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(pids.size(), 2u);
  EXPECT_NE(std::find(pids.begin(), pids.end(), init), pids.end());
  int child = pids[0] == init ? pids[1] : pids[0];
  EXPECT_EQ(ParentPid(child), init);
  EXPECT_EQ(root.Husk({"delete", "--force", b.Id()}).exit_code, 0);
}

TEST_F(PsEventsTest, PsJsonOfAStoppedContainerIsNull) {
  TestRoot root;
  Bundle b;
  ASSERT_TRUE(RunDetached(root, b, "exit 0"));
  ASSERT_TRUE(WaitForStatus(root, b.Id(), "stopped"));
  CmdResult r = root.Husk({"ps", "--format", "json", b.Id()});
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_EQ(r.out, "null\n") << r;  // runc's encoding of no pids
}

TEST_F(PsEventsTest, PsTable) {
  TestRoot root;
  Bundle b;
  ASSERT_TRUE(RunDetached(root, b, "sleep 100 & exec sleep 100"));
  std::vector<int> pids;
  for (int i = 0; i < 100 && pids.size() < 2; ++i) {
    pids = PsJson(root, b.Id());
    if (pids.size() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(pids.size(), 2u);
  auto pid_column = [](const std::string& line, size_t index) {
    std::vector<std::string> fields;
    std::string f;
    for (char c : line + " ") {
      if (c == ' ') {
        if (!f.empty()) fields.push_back(f);
        f.clear();
      } else {
        f += c;
      }
    }
    return index < fields.size() ? std::stoi(fields[index]) : -1;
  };

  // Default: ps -ef (UID PID PPID ...), only the container's lines.
  CmdResult table = root.Husk({"ps", b.Id()});
  ASSERT_EQ(table.exit_code, 0) << table;
  std::vector<std::string> lines = LinesOf(table.out);
  ASSERT_EQ(lines.size(), 3u) << table;
  EXPECT_THAT(lines[0], StartsWith("UID "));
  EXPECT_THAT(lines[0], HasSubstr(" PID "));
  for (size_t i = 1; i < lines.size(); ++i) {
    EXPECT_NE(std::find(pids.begin(), pids.end(), pid_column(lines[i], 1)), pids.end()) << lines[i];
  }

  // ps options after the ID, as go-runc's Top passes them; no PATH in the environment
  // (podman gives the runtime nothing but XDG_RUNTIME_DIR).
  RunOptions bare;
  bare.inherit_env = false;
  bare.env = {"XDG_RUNTIME_DIR=/run/user/0"};
  CmdResult opts = root.Husk({"ps", b.Id(), "-o", "pid,comm"}, bare);
  ASSERT_EQ(opts.exit_code, 0) << opts;
  lines = LinesOf(opts.out);
  ASSERT_EQ(lines.size(), 3u) << opts;
  EXPECT_THAT(lines[0], HasSubstr("PID"));
  EXPECT_THAT(lines[0], HasSubstr("COMMAND"));
  for (size_t i = 1; i < lines.size(); ++i) {
    EXPECT_NE(std::find(pids.begin(), pids.end(), pid_column(lines[i], 0)), pids.end()) << lines[i];
    EXPECT_THAT(lines[i], HasSubstr("sleep"));
  }

  CmdResult no_pid = root.Husk({"ps", b.Id(), "-o", "comm"});
  EXPECT_EQ(no_pid.exit_code, 1) << no_pid;
  EXPECT_THAT(no_pid.err, HasSubstr("couldn't find PID field in ps output")) << no_pid;
  EXPECT_EQ(no_pid.out, "") << no_pid;

  CmdResult bad = root.Husk({"ps", b.Id(), "--no-such-ps-option"});
  EXPECT_EQ(bad.exit_code, 1) << bad;
  EXPECT_THAT(bad.err, HasSubstr("exit status")) << bad;
  EXPECT_EQ(root.Husk({"delete", "--force", b.Id()}).exit_code, 0);
}

TEST_F(PsEventsTest, UnknownContainer) {
  TestRoot root;
  for (const std::vector<std::string>& cmd : std::vector<std::vector<std::string>>{
           {"ps", "nosuch"}, {"ps", "--format", "json", "nosuch"}, {"events", "nosuch"},
           {"events", "--stats", "nosuch"}}) {
    CmdResult r = root.Husk(cmd);
    EXPECT_EQ(r.exit_code, 1) << r;
    EXPECT_THAT(r.err, HasSubstr("container does not exist")) << r;
    EXPECT_EQ(r.out, "") << r;
  }
}

TEST_F(PsEventsTest, StatsHaveRealNumbers) {
  TestRoot root;
  Bundle b;
  b.SetJson("/linux/resources", R"({"memory": {"limit": 67108864}, "pids": {"limit": 50}})");
  ASSERT_TRUE(RunDetached(root, b, "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; exec sleep 100"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  rapidjson::Document d = Stats(root, b.Id());
  ASSERT_TRUE(d.IsObject());
  EXPECT_STREQ(d["type"].GetString(), "stats");
  EXPECT_EQ(std::string(d["id"].GetString()), b.Id());
  const rapidjson::Value& data = d["data"];
  for (const char* key : {"cpu", "cpuset", "memory", "pids", "blkio", "hugetlb", "intel_rdt",
                          "network_interfaces"}) {
    EXPECT_TRUE(data.HasMember(key)) << key;
  }
  EXPECT_TRUE(data["network_interfaces"].IsNull());
  EXPECT_GT(data["cpu"]["usage"]["total"].GetUint64(), 0u);
  EXPECT_TRUE(data["cpu"]["usage"]["kernel"].IsUint64());
  EXPECT_TRUE(data["cpu"]["throttling"].IsObject());
  EXPECT_GT(data["memory"]["usage"]["usage"].GetUint64(), 0u);
  EXPECT_EQ(data["memory"]["usage"]["limit"].GetUint64(), 67108864u);
  EXPECT_TRUE(data["memory"]["usage"]["failcnt"].IsUint64());
  EXPECT_TRUE(data["memory"]["raw"].IsObject());
  EXPECT_GE(data["pids"]["current"].GetUint64(), 1u);
  EXPECT_EQ(data["pids"]["limit"].GetUint64(), 50u);
  // runc's cgroup2 manager reports no cpuset stats (an empty object, kept as runc does).
  ASSERT_TRUE(data["cpuset"].IsObject());
  absl::StatusOr<kernel::cgroups::Layout> layout = kernel::cgroups::Detect();
  ASSERT_TRUE(layout.ok());
  if (layout->mode != kernel::cgroups::Mode::kUnified) {
    ASSERT_TRUE(data["cpuset"].HasMember("cpus"));
    EXPECT_TRUE(data["cpuset"]["cpus"].IsArray());
  }
  EXPECT_EQ(root.Husk({"delete", "--force", b.Id()}).exit_code, 0);
}

TEST_F(PsEventsTest, StreamEndsWhenTheContainerIsKilled) {
  TestRoot root;
  Bundle b;
  ASSERT_TRUE(RunDetached(root, b, "exec sleep 100"));
  BackgroundHusk events(root, {"events", "--interval", "200ms", b.Id()});
  std::this_thread::sleep_for(std::chrono::milliseconds(900));
  CmdResult kill = root.Husk({"kill", b.Id(), "KILL"});
  EXPECT_EQ(kill.exit_code, 0) << kill;
  CmdResult r = events.Wait(std::chrono::seconds(5));
  EXPECT_FALSE(r.timed_out) << r;
  EXPECT_EQ(r.exit_code, 0) << r;
  std::vector<std::string> lines = LinesOf(r.out);
  EXPECT_GE(lines.size(), 2u) << r;
  for (const std::string& line : lines) {
    rapidjson::Document d = ParseJson(line);
    ASSERT_TRUE(d.IsObject()) << line;
    EXPECT_STREQ(d["type"].GetString(), "stats") << line;
    EXPECT_GT(d["data"]["memory"]["usage"]["usage"].GetUint64(), 0u) << line;
  }
}

TEST_F(PsEventsTest, OomIsReported) {
  TestRoot root;
  Bundle b;
  b.SetJson("/linux/resources", R"({"memory": {"limit": 33554432}})");
  // sort buffers its one 256 MiB line and is OOM-killed (no swap here); then the
  // container ends and so does the stream.
  ASSERT_TRUE(RunDetached(root, b, "sleep 0.5; head -c 268435456 /dev/zero | sort >/dev/null"));
  BackgroundHusk events(root, {"events", b.Id()});
  CmdResult r = events.Wait(std::chrono::seconds(30));
  EXPECT_FALSE(r.timed_out) << r;
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("{\"type\":\"oom\",\"id\":\"" + b.Id() + "\"}\n")) << r;
}

TEST_F(PsEventsTest, EventsOnAStoppedContainer) {
  TestRoot root;
  Bundle b;
  ASSERT_TRUE(RunDetached(root, b, "exit 0"));
  ASSERT_TRUE(WaitForStatus(root, b.Id(), "stopped"));
  for (const std::vector<std::string>& cmd :
       std::vector<std::vector<std::string>>{{"events", b.Id()}, {"events", "--stats", b.Id()}}) {
    CmdResult r = root.Husk(cmd);
    EXPECT_EQ(r.exit_code, 1) << r;
    EXPECT_THAT(r.err, HasSubstr("container with id " + b.Id() + " is not running")) << r;
    EXPECT_EQ(r.out, "") << r;
  }
}

TEST_F(PsEventsTest, ZeroInterval) {
  TestRoot root;
  Bundle b;
  ASSERT_TRUE(RunDetached(root, b, "exec sleep 100"));
  CmdResult r = root.Husk({"events", "--interval", "0s", b.Id()});
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_THAT(r.err, HasSubstr("duration interval must be greater than 0")) << r;
  EXPECT_EQ(root.Husk({"delete", "--force", b.Id()}).exit_code, 0);
}

}  // namespace
}  // namespace husk::testing
