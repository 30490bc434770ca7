// runtime/kernel/cgroups/stats: the pure parsers on fixture text copied from real v1 and
// cgroup2 files, the events JSON (runc's key names, order and omitempty), and ReadStats
// against a real cgroup2 directory under <cgroup2 mount>/husk-test (root only), as
// cgroups_v2_test.cc does: on this hybrid host only the core files (cpu.stat,
// cgroup.procs) are there; in the pure v2 guest the memory and pids controllers too.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "runtime/base/fs.h"
#include "runtime/events_json.h"
#include "runtime/kernel/cgroups/cgroups.h"
#include "runtime/kernel/cgroups/stats.h"
#include "tests/support/cgroup_child.h"

namespace husk::kernel::cgroups {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(CgroupStatsParse, CgroupUint) {
  EXPECT_EQ(*ParseCgroupUint("123\n"), 123u);
  EXPECT_EQ(*ParseCgroupUint("max\n"), UINT64_MAX);
  EXPECT_EQ(*ParseCgroupUint("-1"), 0u);  // runc: negative values are 0
  EXPECT_EQ(*ParseCgroupUint("-99999999999999999999999"), 0u);
  EXPECT_EQ(*ParseCgroupUint("9223372036854771712"), 9223372036854771712u);
  EXPECT_FALSE(ParseCgroupUint("").ok());
  EXPECT_FALSE(ParseCgroupUint("12k").ok());
}

TEST(CgroupStatsParse, FlatKeyed) {
  // v1 memory.stat, abridged.
  auto m = ParseFlatKeyed("cache 4096\nrss 102400\nhierarchical_memory_limit 67108864\n"
                          "total_rss 102400\n");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->size(), 4u);
  EXPECT_EQ(m->at("cache"), 4096u);
  EXPECT_EQ(m->at("hierarchical_memory_limit"), 67108864u);
  EXPECT_FALSE(ParseFlatKeyed("cache\n").ok());
  EXPECT_FALSE(ParseFlatKeyed("cache x\n").ok());
  EXPECT_FALSE(ParseFlatKeyed("a 1 2\n").ok());
  EXPECT_TRUE(ParseFlatKeyed("").ok());
}

TEST(CgroupStatsParse, CpuStatV1AndV2) {
  CpuUsage usage;
  Throttling t;
  // v1 cpu.stat (Linux 6.x has the burst lines too).
  ApplyCpuStat(*ParseFlatKeyed("nr_periods 10\nnr_throttled 3\nthrottled_time 4500\n"
                               "nr_bursts 0\nburst_time 0\n"),
               false, &usage, &t);
  EXPECT_EQ(t.periods, 10u);
  EXPECT_EQ(t.throttled_periods, 3u);
  EXPECT_EQ(t.throttled_time, 4500u);
  EXPECT_EQ(usage.total, 0u);  // v1: cpuacct's
  // v2 cpu.stat: microseconds, reported in nanoseconds.
  ApplyCpuStat(*ParseFlatKeyed("usage_usec 2500\nuser_usec 2000\nsystem_usec 500\n"
                               "nr_periods 7\nnr_throttled 1\nthrottled_usec 12\n"),
               true, &usage, &t);
  EXPECT_EQ(usage.total, 2500000u);
  EXPECT_EQ(usage.user, 2000000u);
  EXPECT_EQ(usage.kernel, 500000u);
  EXPECT_EQ(t.periods, 7u);
  EXPECT_EQ(t.throttled_time, 12000u);
}

TEST(CgroupStatsParse, CpuacctFiles) {
  std::vector<uint64_t> kernel, user;
  ASSERT_TRUE(ParseCpuacctUsageAll("cpu user system\n0 4000000 1000\n1 0 5\n", &kernel, &user).ok());
  EXPECT_THAT(user, ElementsAre(4000000u, 0u));
  EXPECT_THAT(kernel, ElementsAre(1000u, 5u));
  EXPECT_FALSE(ParseCpuacctUsageAll("cpu user system\n0 x 1\n", &kernel, &user).ok());
  EXPECT_THAT(*ParseUintList("7724836 3047668 \n"), ElementsAre(7724836u, 3047668u));
  EXPECT_FALSE(ParseUintList("1 a").ok());
}

TEST(CgroupStatsParse, CpuList) {
  EXPECT_THAT(*ParseCpuList("0-3,5\n"), ElementsAre(0, 1, 2, 3, 5));
  EXPECT_THAT(*ParseCpuList("0\n"), ElementsAre(0));
  EXPECT_TRUE(ParseCpuList("\n")->empty());
  EXPECT_FALSE(ParseCpuList("3-1").ok());
  EXPECT_FALSE(ParseCpuList("1-2-3").ok());
  EXPECT_FALSE(ParseCpuList("70000").ok());
}

TEST(CgroupStatsParse, BlkioV1) {
  auto e = ParseBlkioV1("8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Async 12288\n"
                        "8:0 Discard 0\n8:0 Total 12288\nTotal 12288\n");
  ASSERT_TRUE(e.ok()) << e.status();
  ASSERT_EQ(e->size(), 6u);
  EXPECT_EQ((*e)[0], (BlkioEntry{8, 0, "Read", 4096}));
  EXPECT_EQ((*e)[5], (BlkioEntry{8, 0, "Total", 12288}));
  // blkio.sectors_recursive has no op column.
  EXPECT_THAT(*ParseBlkioV1("253:1 42\n"), ElementsAre(BlkioEntry{253, 1, "", 42}));
  EXPECT_FALSE(ParseBlkioV1("8:0 Read\n").ok());
  EXPECT_FALSE(ParseBlkioV1("x:0 Read 1\n").ok());
}

TEST(CgroupStatsParse, IoStatV2) {
  auto b = ParseIoStatV2(
      "8:0 rbytes=1048576 wbytes=4096 rios=12 wios=1 dbytes=0 dios=0\n"
      "253:0 rbytes=0 wbytes=0 rios=0 wios=0 dbytes=0 dios=0 cost.vrate=100.00\n");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_THAT(b->service_bytes,
              ElementsAre(BlkioEntry{8, 0, "Read", 1048576}, BlkioEntry{8, 0, "Write", 4096},
                          BlkioEntry{253, 0, "Read", 0}, BlkioEntry{253, 0, "Write", 0}));
  EXPECT_THAT(b->serviced,
              ElementsAre(BlkioEntry{8, 0, "Read", 12}, BlkioEntry{8, 0, "Write", 1},
                          BlkioEntry{253, 0, "Read", 0}, BlkioEntry{253, 0, "Write", 0}));
  EXPECT_TRUE(b->sectors.empty());
  EXPECT_FALSE(ParseIoStatV2("8 rbytes=1\n").ok());
  EXPECT_FALSE(ParseIoStatV2("8:0 rbytes=x\n").ok());
}

TEST(CgroupStatsParse, HugePageSizeName) {
  EXPECT_EQ(HugePageSizeName("hugepages-2048kB"), "2MB");
  EXPECT_EQ(HugePageSizeName("hugepages-1048576kB"), "1GB");
  EXPECT_EQ(HugePageSizeName("hugepages-64kB"), "64KB");
  EXPECT_EQ(HugePageSizeName("hugepages-2048"), "");
  EXPECT_EQ(HugePageSizeName("."), "");
}

TEST(CgroupStatsParse, CountNewOoms) {
  uint64_t oom = 0, kill = 0;
  auto events = [](const char* text) { return *ParseFlatKeyed(text); };
  EXPECT_EQ(CountNewOoms(events("low 0\nhigh 0\nmax 5\noom 0\noom_kill 0\n"), &oom, &kill), 0u);
  // One OOM that killed a task bumps both counters: one event.
  EXPECT_EQ(CountNewOoms(events("max 9\noom 1\noom_kill 1\n"), &oom, &kill), 1u);
  EXPECT_EQ(CountNewOoms(events("max 9\noom 1\noom_kill 1\n"), &oom, &kill), 0u);
  // An OOM with nothing to kill (oom only), then two kills.
  EXPECT_EQ(CountNewOoms(events("oom 2\noom_kill 1\n"), &oom, &kill), 1u);
  EXPECT_EQ(CountNewOoms(events("oom 4\noom_kill 3\n"), &oom, &kill), 2u);
}

// --- JSON ----------------------------------------------------------------------------

TEST(EventsJson, EmptyStatsFollowGoOmitempty) {
  EXPECT_EQ(StatsEventJson("c1", Stats{}),
            R"({"type":"stats","id":"c1","data":{"cpu":{"usage":{"kernel":0,"user":0},)"
            R"("throttling":{}},"cpuset":{"cpu_exclusive":0,"mem_hardwall":0,)"
            R"("mem_exclusive":0,"memory_migrate":0,"memory_spread_page":0,)"
            R"("memory_spread_slab":0,"memory_pressure":0,"sched_load_balance":0,)"
            R"("sched_relax_domain_level":0},"memory":{"usage":{"limit":0,"failcnt":0},)"
            R"("swap":{"limit":0,"failcnt":0},"kernel":{"limit":0,"failcnt":0},)"
            R"("kernelTCP":{"limit":0,"failcnt":0}},"pids":{},"blkio":{},"hugetlb":{},)"
            R"("intel_rdt":{},"network_interfaces":null}})");
  EXPECT_EQ(OomEventJson("c1"), R"({"type":"oom","id":"c1"})");
  EXPECT_EQ(PidsJson({}), "null");
  EXPECT_EQ(PidsJson({2180, 2201}), "[2180,2201]");
}

TEST(EventsJson, FullStats) {
  Stats s;
  s.cpu.total = 10;
  s.cpu.percpu = {7, 3};
  s.cpu.user = 5;
  s.throttling.periods = 2;
  s.cpuset.cpus = {0, 1};
  s.cpuset.sched_relax_domain_level = -1;
  s.memory.cache = 4096;
  s.memory.usage = {33554432, 1000, 2000, 4};
  s.memory.swap.limit = UINT64_MAX;
  s.memory.raw = {{"rss", 1}, {"cache", 4096}};
  s.pids = {3, 0};
  s.blkio.service_bytes = {{8, 0, "Read", 4096}};
  s.blkio.sectors = {{8, 0, "", 0}};
  s.hugetlb["2MB"] = {0, 0, 1};
  std::string json = StatsEventJson("x", s);
  rapidjson::Document d;
  d.Parse(json.c_str());
  ASSERT_FALSE(d.HasParseError()) << json;
  const rapidjson::Value& data = d["data"];
  EXPECT_EQ(data["cpu"]["usage"]["total"].GetUint64(), 10u);
  EXPECT_EQ(data["cpu"]["usage"]["percpu"].Size(), 2u);
  EXPECT_FALSE(data["cpu"]["usage"].HasMember("percpu_kernel"));
  EXPECT_EQ(data["cpu"]["throttling"]["periods"].GetUint64(), 2u);
  EXPECT_FALSE(data["cpu"]["throttling"].HasMember("throttledPeriods"));
  EXPECT_EQ(data["cpuset"]["sched_relax_domain_level"].GetInt64(), -1);
  EXPECT_EQ(data["memory"]["usage"]["limit"].GetUint64(), 33554432u);
  EXPECT_EQ(data["memory"]["usage"]["failcnt"].GetUint64(), 4u);
  EXPECT_EQ(data["memory"]["swap"]["limit"].GetUint64(), UINT64_MAX);
  EXPECT_THAT(json, HasSubstr(R"("raw":{"cache":4096,"rss":1})"));  // keys sorted
  EXPECT_THAT(json, HasSubstr(R"("pids":{"current":3})"));
  EXPECT_THAT(json, HasSubstr(R"("ioServiceBytesRecursive":[{"major":8,"op":"Read","value":4096}])"));
  EXPECT_THAT(json, HasSubstr(R"("sectorsRecursive":[{"major":8}])"));
  EXPECT_THAT(json, HasSubstr(R"("hugetlb":{"2MB":{"failcnt":1}})"));
}

// --- Reading fixture files laid out as a v1 hierarchy ---------------------------------

// A v1 "hierarchy" in a temp dir: <tmp>/blkio (controller blkio), container dir <tmp>/blkio/c.
class CgroupStatsV1FixtureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/husk-stats-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    Hierarchy h;
    h.mount_point = root_ + "/blkio";
    h.controllers = {"blkio"};
    layout_.hierarchies = {h};
    dir_ = h.mount_point + "/c";
    ASSERT_EQ(mkdir(h.mount_point.c_str(), 0755), 0);
    ASSERT_EQ(mkdir(dir_.c_str(), 0755), 0);
  }
  void TearDown() override {
    for (const std::string& f : files_) unlink((dir_ + "/" + f).c_str());
    rmdir(dir_.c_str());
    rmdir(layout_.hierarchies[0].mount_point.c_str());
    rmdir(root_.c_str());
  }
  void Put(const std::string& file, const std::string& text) {
    ASSERT_TRUE(WriteFileAtomic(dir_ + "/" + file, text, 0644).ok());
    files_.push_back(file);
  }
  Layout layout_;
  std::string root_, dir_;
  std::vector<std::string> files_;
};

TEST_F(CgroupStatsV1FixtureTest, BlkioSkipsAGroupWithoutEntries) {
  // This host: BFQ files that only say "Total 0", the throttle files that count.
  Put("blkio.bfq.io_serviced_recursive", "Total 0\n");
  Put("blkio.bfq.io_service_bytes_recursive", "Total 0\n");
  Put("blkio.throttle.io_serviced_recursive", "254:0 Read 71\n254:0 Write 0\nTotal 71\n");
  Put("blkio.throttle.io_service_bytes_recursive", "254:0 Read 2256896\nTotal 2256896\n");
  absl::StatusOr<Stats> s = ReadStats(layout_, {dir_});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_THAT(s->blkio.serviced,
              ElementsAre(BlkioEntry{254, 0, "Read", 71}, BlkioEntry{254, 0, "Write", 0}));
  EXPECT_THAT(s->blkio.service_bytes, ElementsAre(BlkioEntry{254, 0, "Read", 2256896}));
  // Controllers without a hierarchy read as zeros.
  EXPECT_EQ(s->memory.usage.limit, 0u);
  EXPECT_EQ(s->cpu.total, 0u);
}

TEST_F(CgroupStatsV1FixtureTest, BadFileNamesIt) {
  Put("blkio.throttle.io_serviced_recursive", "254:0 Read many\n");
  absl::StatusOr<Stats> s = ReadStats(layout_, {dir_});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("blkio.throttle.io_serviced_recursive"));
}

// --- Reading a real cgroup2 directory --------------------------------------------------

class CgroupStatsV2Test : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to create cgroups";
    if (::husk::testing::MakeV2TestLayout(&layout_).empty()) GTEST_SKIP() << "no cgroup2 mount";
    static std::atomic<int> counter{0};
    path_ = "/unit-stats-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
  }
  void TearDown() override {
    if (child_ > 0) {
      kill(child_, SIGKILL);
      waitpid(child_, nullptr, 0);
    }
    if (!created_.empty()) EXPECT_TRUE(Destroy(created_).ok());
  }
  // A child that joins `dir`, burns ~100 ms of CPU, then sleeps.
  void StartBusyChild(const std::string& dir) {
    int ready[2];
    ASSERT_EQ(pipe(ready), 0);
    child_ = fork();
    ASSERT_GE(child_, 0);
    if (child_ == 0) {
      close(ready[0]);
      bool ok = WriteFileAt(AT_FDCWD, dir + "/cgroup.procs", "0").ok();
      struct timespec start, now;
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start);
      do {
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
      } while ((now.tv_sec - start.tv_sec) * 1000000000L + (now.tv_nsec - start.tv_nsec) <
               100000000L);
      char c = ok ? 'y' : 'n';
      (void)!write(ready[1], &c, 1);
      pause();
      _exit(0);
    }
    close(ready[1]);
    char c = 0;
    ASSERT_EQ(read(ready[0], &c, 1), 1);
    close(ready[0]);
    ASSERT_EQ(c, 'y') << "child could not join " << dir;
  }

  Layout layout_;
  std::string path_;
  std::vector<std::string> created_;
  pid_t child_ = -1;
};

TEST_F(CgroupStatsV2Test, CpuAndPidsOfARealCgroup) {
  absl::StatusOr<::husk::kernel::cgroups::Setup> setup = CreateAndApply(layout_, path_, nullptr);
  ASSERT_TRUE(setup.ok()) << setup.status();
  created_ = setup->created;
  ASSERT_EQ(setup->dirs.size(), 1u);
  StartBusyChild(setup->dirs[0]);
  absl::StatusOr<Stats> s = ReadStats(layout_, setup->dirs);
  ASSERT_TRUE(s.ok()) << s.status();
  // cpu.stat is in every cgroup2 dir; without the pids controller the processes are counted.
  EXPECT_GE(s->cpu.total, 50000000u);
  EXPECT_GT(s->cpu.user + s->cpu.kernel, 0u);
  EXPECT_EQ(s->pids.current, 1u);
  std::vector<std::string> controllers = *AvailableControllers(setup->dirs[0]);
  auto have = [&](const char* c) {
    return std::find(controllers.begin(), controllers.end(), c) != controllers.end();
  };
  if (have("memory")) {
    EXPECT_GT(s->memory.usage.usage, 0u);
    EXPECT_EQ(s->memory.usage.limit, UINT64_MAX);
    EXPECT_FALSE(s->memory.raw.empty());
    EXPECT_TRUE(OomWatch::Open(layout_, setup->dirs).ok());
  } else {
    absl::StatusOr<OomWatch> w = OomWatch::Open(layout_, setup->dirs);
    EXPECT_EQ(w.status().code(), absl::StatusCode::kFailedPrecondition) << w.status();
  }
  // A dir that is gone reads as zeros, not an error (a container stopping mid-read).
  kill(child_, SIGKILL);
  waitpid(child_, nullptr, 0);
  child_ = -1;
  ASSERT_TRUE(Destroy(created_).ok());
  created_.clear();
  absl::StatusOr<Stats> gone = ReadStats(layout_, setup->dirs);
  ASSERT_TRUE(gone.ok()) << gone.status();
  EXPECT_EQ(gone->cpu.total, 0u);
}

}  // namespace
}  // namespace husk::kernel::cgroups
