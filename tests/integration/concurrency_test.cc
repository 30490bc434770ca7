// `list` output (cli-contract.md §2.8) and concurrent commands on one --root: parallel
// starts, parallel creates, a create racing `state`, and half-made container directories
// (§2.5). Real containers; needs root.
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <regex>
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

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class ConcurrencyTest : public ::testing::Test {
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

const std::regex kRfc3339(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))");

TEST_F(ConcurrencyTest, ListFormats) {
  TestRoot root;
  CmdResult empty_json = root.Husk({"list", "--format", "json"});
  ASSERT_EQ(empty_json.exit_code, 0) << empty_json;
  rapidjson::Document none = ParseJson(empty_json.out);
  EXPECT_TRUE(none.IsNull() || (none.IsArray() && none.Empty())) << empty_json.out;
  CmdResult empty_q = root.Husk({"list", "-q"});
  EXPECT_EQ(empty_q.exit_code, 0) << empty_q;
  EXPECT_EQ(empty_q.out, "");
  CmdResult empty_table = root.Husk({"list"});
  ASSERT_EQ(empty_table.exit_code, 0) << empty_table;
  EXPECT_EQ(LinesOf(empty_table.out).size(), 1u) << empty_table.out;

  Bundle a, b;
  b.SetArgs({"/bin/sleep", "1000"});
  b.Write();
  ASSERT_EQ(CreateOk(root, a, a.Id()).exit_code, 0);
  ASSERT_EQ(CreateOk(root, b, b.Id()).exit_code, 0);
  ASSERT_EQ(root.Husk({"start", b.Id()}).exit_code, 0);

  CmdResult table = root.Husk({"list"});
  ASSERT_EQ(table.exit_code, 0) << table;
  EXPECT_EQ(table.err, "");
  std::vector<std::string> lines = LinesOf(table.out);
  ASSERT_EQ(lines.size(), 3u) << table.out;
  EXPECT_TRUE(std::regex_match(lines[0], std::regex(R"(ID +PID +STATUS +BUNDLE +CREATED +OWNER)")))
      << lines[0];
  std::string a_line = lines[1].rfind(a.Id(), 0) == 0 ? lines[1] : lines[2];
  std::string b_line = lines[1].rfind(a.Id(), 0) == 0 ? lines[2] : lines[1];
  EXPECT_THAT(a_line, HasSubstr(" created ")) << a_line;
  EXPECT_THAT(a_line, HasSubstr(a.Path())) << a_line;
  EXPECT_THAT(b_line, HasSubstr(" running ")) << b_line;

  CmdResult json = root.Husk({"list", "--format=json"});
  ASSERT_EQ(json.exit_code, 0) << json;
  rapidjson::Document docs = ParseJson(json.out);
  ASSERT_TRUE(docs.IsArray()) << json.out;
  ASSERT_EQ(docs.Size(), 2u) << json.out;
  for (const auto& d : docs.GetArray()) {
    ASSERT_TRUE(d.IsObject());
    for (const char* key : {"ociVersion", "id", "status", "bundle", "created", "owner"}) {
      EXPECT_TRUE(d.HasMember(key) && d[key].IsString()) << key << " in " << json.out;
    }
    EXPECT_TRUE(d.HasMember("pid") && d["pid"].IsInt() && d["pid"].GetInt() > 0) << json.out;
    EXPECT_TRUE(std::regex_match(d["created"].GetString(), kRfc3339)) << json.out;
    EXPECT_STREQ(d["owner"].GetString(), "root");
    std::string id = d["id"].GetString();
    EXPECT_STREQ(d["status"].GetString(), id == a.Id() ? "created" : "running");
  }

  CmdResult quiet = root.Husk({"list", "-q"});
  ASSERT_EQ(quiet.exit_code, 0) << quiet;
  std::vector<std::string> ids = {a.Id(), b.Id()};
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(LinesOf(quiet.out), ids) << quiet.out;

  for (Bundle* x : {&a, &b}) {
    EXPECT_EQ(root.Husk({"delete", "--force", x->Id()}).exit_code, 0);
    EXPECT_TRUE(NoLeftovers(root, x->Id(), *x));
  }
}

// Two `start`s at once: exactly one wins and the command runs once.
TEST_F(ConcurrencyTest, TwoStartsAtOnce) {
  TestRoot root;
  for (int round = 0; round < 3; ++round) {
    TempDir out("out");
    Bundle b;
    AddBindMount(b, out.Path(), "/tmp");
    // Runs until /tmp/go exists; the markers are counted after it exited.
    b.SetArgs({"/bin/sh", "-c",
               "echo ran >> /tmp/ran; while [ ! -e /tmp/go ]; do sleep 0.05; done"});
    b.Write();
    ASSERT_EQ(CreateOk(root, b, b.Id()).exit_code, 0);
    CmdResult r[2];
    std::thread t0([&] { r[0] = root.Husk({"start", b.Id()}); });
    std::thread t1([&] { r[1] = root.Husk({"start", b.Id()}); });
    t0.join();
    t1.join();
    EXPECT_EQ(r[0].ok() + r[1].ok(), 1) << r[0] << r[1];
    const CmdResult& loser = r[0].ok() ? r[1] : r[0];
    EXPECT_EQ(loser.exit_code, 1) << loser;
    EXPECT_THAT(loser.err, HasSubstr("cannot start an already running container")) << loser;
    EXPECT_EQ(root.Status(b.Id()), "running");
    WriteFile(out.Path() + "/go", "");
    EXPECT_TRUE(WaitForStatus(root, b.Id(), "stopped"));
    EXPECT_EQ(ReadFile(out.Path() + "/ran"), "ran\n");
    EXPECT_EQ(root.Husk({"delete", "--force", b.Id()}).exit_code, 0);
    EXPECT_TRUE(NoLeftovers(root, b.Id(), b));
  }
}

TEST_F(ConcurrencyTest, ParallelCreatesWithDistinctIds) {
  TestRoot root;
  constexpr int kN = 6;
  std::vector<std::unique_ptr<Bundle>> bundles;
  for (int i = 0; i < kN; ++i) bundles.push_back(std::make_unique<Bundle>());
  std::vector<CmdResult> results(kN);
  std::vector<std::thread> threads;
  for (int i = 0; i < kN; ++i) {
    threads.emplace_back([&, i] {
      results[i] = HuskDetached(root, {"create", "--bundle", bundles[i]->Path(), bundles[i]->Id()});
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kN; ++i) {
    EXPECT_EQ(results[i].exit_code, 0) << results[i];
    EXPECT_EQ(root.Status(bundles[i]->Id()), "created");
  }
  CmdResult quiet = root.Husk({"list", "-q"});
  EXPECT_EQ(LinesOf(quiet.out).size(), static_cast<size_t>(kN)) << quiet;
  for (auto& b : bundles) {
    EXPECT_EQ(root.Husk({"delete", b->Id()}).exit_code, 0);
    EXPECT_TRUE(NoLeftovers(root, b->Id(), *b));
  }
}

// The same ID created twice at once: one wins, the loser leaves nothing and in particular
// does not remove the winner's state.
TEST_F(ConcurrencyTest, SameIdCreatedTwiceAtOnce) {
  TestRoot root;
  for (int round = 0; round < 3; ++round) {
    Bundle b0, b1;  // distinct cgroups, so the loser's leftovers would show
    const std::string id = "same-" + b0.Id();
    CmdResult r[2];
    std::thread t0([&] { r[0] = HuskDetached(root, {"create", "--bundle", b0.Path(), id}); });
    std::thread t1([&] { r[1] = HuskDetached(root, {"create", "--bundle", b1.Path(), id}); });
    t0.join();
    t1.join();
    ASSERT_EQ(r[0].ok() + r[1].ok(), 1) << r[0] << r[1];
    int winner = r[0].ok() ? 0 : 1;
    Bundle& won = winner == 0 ? b0 : b1;
    Bundle& lost = winner == 0 ? b1 : b0;
    EXPECT_THAT(r[1 - winner].err, HasSubstr("container with given ID already exists"))
        << r[1 - winner];
    EXPECT_TRUE(CgroupDirs(lost.CgroupsPath()).empty()) << "loser left its cgroup";
    EXPECT_TRUE(MountsMentioning(lost.Path()).empty());
    rapidjson::Document doc = StateDoc(root, id);
    ASSERT_TRUE(doc.IsObject()) << "the loser removed the winner's state";
    EXPECT_STREQ(doc["status"].GetString(), "created");
    EXPECT_STREQ(doc["bundle"].GetString(), won.Path().c_str());
    EXPECT_EQ(root.Husk({"delete", id}).exit_code, 0);
    EXPECT_TRUE(NoLeftovers(root, id, won));
  }
}

// While create runs, `state` either does not know the container or reports it created:
// never "creating", "stopped" or another error.
TEST_F(ConcurrencyTest, StateDuringCreate) {
  TestRoot root;
  for (int round = 0; round < 3; ++round) {
    Bundle b;
    BackgroundHusk create(root, {"create", "--bundle", b.Path(), b.Id()});
    int seen_missing = 0, seen_created = 0;
    while (ProcState(create.pid()) != 'Z' && ProcState(create.pid()) != '?') {
      CmdResult s = root.Husk({"state", b.Id()});
      if (s.ok()) {
        rapidjson::Document doc = ParseJson(s.out);
        EXPECT_STREQ(doc["status"].GetString(), "created") << s;
        ++seen_created;
      } else {
        EXPECT_THAT(s.err, HasSubstr("container does not exist")) << s;
        ++seen_missing;
      }
    }
    CmdResult done = create.Wait();
    ASSERT_EQ(done.exit_code, 0) << done;
    EXPECT_EQ(root.Status(b.Id()), "created");
    EXPECT_EQ(root.Husk({"delete", b.Id()}).exit_code, 0);
    EXPECT_TRUE(NoLeftovers(root, b.Id(), b));
  }
}

// A directory without state.json (a create that died half-way, or one in progress) is not
// a container: state/delete say "does not exist", list skips it quietly, delete --force
// removes it.
TEST_F(ConcurrencyTest, HalfMadeDirectory) {
  TestRoot root;
  const std::string dir = root.Path() + "/half";
  ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
  CmdResult state = root.Husk({"state", "half"});
  EXPECT_EQ(state.exit_code, 1) << state;
  EXPECT_THAT(state.err, HasSubstr("container does not exist")) << state;
  CmdResult list = root.Husk({"list", "--format", "json"});
  EXPECT_EQ(list.exit_code, 0) << list;
  EXPECT_EQ(list.err, "") << list;
  rapidjson::Document docs = ParseJson(list.out);
  EXPECT_TRUE(docs.IsNull() || (docs.IsArray() && docs.Empty())) << list.out;
  CmdResult del = root.Husk({"delete", "half"});
  EXPECT_EQ(del.exit_code, 1) << del;
  EXPECT_THAT(del.err, HasSubstr("does not exist")) << del;
  EXPECT_TRUE(std::filesystem::exists(dir));
  CmdResult force = root.Husk({"delete", "--force", "half"});
  EXPECT_EQ(force.exit_code, 0) << force;
  EXPECT_EQ(force.err, "") << force;
  EXPECT_FALSE(std::filesystem::exists(dir));
}

}  // namespace
}  // namespace husk::testing
