// Unit tests for runtime/state/status: /proc/<pid>/stat parsing, liveness (zombies, reaped
// and reused pids), status derivation and the exact predicate texts callers match.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "runtime/state/status.h"
#include "runtime/state/store.h"

namespace husk::state {
namespace {

// A stat line in the kernel's format with the given comm, state and start time (field 22).
std::string StatLine(const std::string& comm, char state, uint64_t start) {
  std::string line = "1234 (" + comm + ") ";
  line += state;
  // fields 4..21 (18 values), then 22 = start, then a few more.
  for (int field = 4; field <= 21; ++field) line += " " + std::to_string(field * 10);
  line += " " + std::to_string(start) + " 4096 100 18446744073709551615\n";
  return line;
}

TEST(ParseProcStat, Simple) {
  absl::StatusOr<ProcStat> stat = ParseProcStat(StatLine("sleep", 'S', 987654));
  ASSERT_TRUE(stat.ok()) << stat.status();
  EXPECT_EQ(stat->state, 'S');
  EXPECT_EQ(stat->start_time, 987654u);
}

TEST(ParseProcStat, CommWithParenthesesAndSpaces) {
  absl::StatusOr<ProcStat> stat = ParseProcStat(StatLine("a) (Z b) 7 ", 'R', 42));
  ASSERT_TRUE(stat.ok()) << stat.status();
  EXPECT_EQ(stat->state, 'R');
  EXPECT_EQ(stat->start_time, 42u);
}

TEST(ParseProcStat, Malformed) {
  EXPECT_FALSE(ParseProcStat("").ok());
  EXPECT_FALSE(ParseProcStat("1234 (x S 1 2 3").ok());
  EXPECT_FALSE(ParseProcStat("1234 (x) S 1 2 3").ok());
  std::string bad_start = StatLine("x", 'S', 1);
  bad_start.replace(bad_start.find(" 1 4096"), 2, " z");
  EXPECT_FALSE(ParseProcStat(bad_start).ok());
}

TEST(ReadProcStat, SelfAndMissing) {
  absl::StatusOr<ProcStat> self = ReadProcStat(getpid());
  ASSERT_TRUE(self.ok()) << self.status();
  EXPECT_EQ(self->state, 'R');
  EXPECT_GT(self->start_time, 0u);
  EXPECT_EQ(ReadProcStat(0).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ReadProcStat(-5).status().code(), absl::StatusCode::kNotFound);
}

TEST(ProcessAlive, SelfAndWrongStartTime) {
  absl::StatusOr<ProcStat> self = ReadProcStat(getpid());
  ASSERT_TRUE(self.ok());
  EXPECT_TRUE(ProcessAlive(getpid(), self->start_time));
  EXPECT_FALSE(ProcessAlive(getpid(), self->start_time + 1));
  EXPECT_FALSE(ProcessAlive(0, 0));
}

TEST(ProcessAlive, ReapedChildIsGone) {
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(0);
  absl::StatusOr<ProcStat> stat = ReadProcStat(child);  // may race with exit; fine
  int status;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_FALSE(ProcessAlive(child, stat.ok() ? stat->start_time : 0));
}

TEST(ProcessAlive, ZombieChildIsNotAlive) {
  int ready[2];
  ASSERT_EQ(pipe2(ready, O_CLOEXEC), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(ready[1]);
    char c;
    (void)!read(ready[0], &c, 1);  // wait until the parent recorded the start time
    _exit(0);
  }
  close(ready[0]);
  absl::StatusOr<ProcStat> stat = ReadProcStat(child);
  ASSERT_TRUE(stat.ok());
  uint64_t start = stat->start_time;
  EXPECT_TRUE(ProcessAlive(child, start));
  close(ready[1]);
  // Wait (without reaping) until it is a zombie.
  siginfo_t info{};
  ASSERT_EQ(waitid(P_PID, child, &info, WEXITED | WNOWAIT), 0);
  absl::StatusOr<ProcStat> zombie = ReadProcStat(child);
  ASSERT_TRUE(zombie.ok());
  EXPECT_EQ(zombie->state, 'Z');
  EXPECT_FALSE(ProcessAlive(child, start));
  int status;
  ASSERT_EQ(waitpid(child, &status, 0), child);
}

class DeriveStatusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/husk-status-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    base_ = tmpl;
  }
  void TearDown() override {
    std::string cmd = "rm -rf '" + base_ + "'";
    ASSERT_EQ(system(cmd.c_str()), 0);
  }
  std::string base_;
};

TEST_F(DeriveStatusTest, CreatedRunningPausedStopped) {
  absl::StatusOr<Store> store = Store::Open(base_ + "/root");
  ASSERT_TRUE(store.ok());
  absl::StatusOr<ContainerDir> dir = store->Claim("c1");
  ASSERT_TRUE(dir.ok());
  absl::StatusOr<ProcStat> self = ReadProcStat(getpid());
  ASSERT_TRUE(self.ok());
  Record record;
  record.id = "c1";
  record.pid = getpid();
  record.start_time = self->start_time;

  EXPECT_EQ(DeriveStatus(*dir, record, false), Status::kRunning);
  int fd = openat(dir->fd(), kExecSocketName, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  close(fd);
  EXPECT_EQ(DeriveStatus(*dir, record, false), Status::kCreated);
  EXPECT_EQ(DeriveStatus(*dir, record, true), Status::kPaused);
  ASSERT_EQ(unlinkat(dir->fd(), kExecSocketName, 0), 0);
  EXPECT_EQ(DeriveStatus(*dir, record, false), Status::kRunning);

  Record reused = record;
  reused.start_time += 1;
  EXPECT_EQ(DeriveStatus(*dir, reused, false), Status::kStopped);
  Record gone = record;
  gone.pid = 0;
  EXPECT_EQ(DeriveStatus(*dir, gone, false), Status::kStopped);
}

TEST(StatusName, Names) {
  EXPECT_STREQ(StatusName(Status::kCreating), "creating");
  EXPECT_STREQ(StatusName(Status::kCreated), "created");
  EXPECT_STREQ(StatusName(Status::kRunning), "running");
  EXPECT_STREQ(StatusName(Status::kPaused), "paused");
  EXPECT_STREQ(StatusName(Status::kStopped), "stopped");
}

TEST(Predicates, CanStart) {
  EXPECT_TRUE(CanStart(Status::kCreated).ok());
  EXPECT_EQ(CanStart(Status::kRunning).message(), "cannot start an already running container");
  EXPECT_EQ(CanStart(Status::kStopped).message(), "cannot start a container that has stopped");
  EXPECT_EQ(CanStart(Status::kPaused).message(), "cannot start a container in the paused state");
}

TEST(Predicates, CanKill) {
  EXPECT_TRUE(CanKill(Status::kCreated).ok());
  EXPECT_TRUE(CanKill(Status::kRunning).ok());
  EXPECT_TRUE(CanKill(Status::kPaused).ok());
  absl::Status stopped = CanKill(Status::kStopped);
  EXPECT_FALSE(stopped.ok());
  EXPECT_EQ(stopped.message(), "container not running");
}

TEST(Predicates, CanDelete) {
  EXPECT_TRUE(CanDelete("c1", Status::kStopped, false).ok());
  EXPECT_TRUE(CanDelete("c1", Status::kCreated, false).ok());
  EXPECT_EQ(CanDelete("c1", Status::kRunning, false).message(),
            "cannot delete container c1 that is not stopped: running");
  EXPECT_EQ(CanDelete("c1", Status::kPaused, false).message(),
            "cannot delete container c1 that is not stopped: paused");
  EXPECT_TRUE(CanDelete("c1", Status::kRunning, true).ok());
  EXPECT_TRUE(CanDelete("c1", Status::kPaused, true).ok());
  EXPECT_TRUE(CanDelete("c1", Status::kStopped, true).ok());
}

}  // namespace
}  // namespace husk::state
