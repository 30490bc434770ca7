// Unit tests for runtime/state/store: claim/lock semantics, atomic save, removal, listing
// and the per-container lock serializing two processes. Runs without root.
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/state/store.h"

namespace husk::state {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/husk-state-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    base_ = tmpl;
    root_ = base_ + "/root/nested";
  }
  void TearDown() override {
    std::string cmd = "rm -rf '" + base_ + "'";
    ASSERT_EQ(system(cmd.c_str()), 0);
  }

  static Record SampleRecord() {
    Record r;
    r.id = "c1";
    r.oci_version = "1.0.2-dev";
    r.bundle = "/b/with \"quotes\" and \\ backslash";
    r.rootfs = "/b/rootfs";
    r.created = "2026-11-27T18:22:34.501759264Z";
    r.owner = "";
    r.pid = 4242;
    r.start_time = 18446744073709551000ull;
    r.annotations = {{"a", "1"}, {"org.example/key", "välue\nline"}};
    r.cgroup_dirs_created = {"/sys/fs/cgroup/memory/husk/c1"};
    r.cgroup_dirs = {"/sys/fs/cgroup/memory/husk/c1", "/sys/fs/cgroup/pids/husk/c1"};
    r.private_pid_ns = false;
    r.systemd_cgroup = true;
    return r;
  }

  std::string base_;
  std::string root_;
};

std::vector<std::string> ListDir(const std::string& path) {
  std::vector<std::string> names;
  DIR* d = opendir(path.c_str());
  if (d == nullptr) return names;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  closedir(d);
  return names;
}

TEST_F(StoreTest, OpenRequiresAbsoluteRoot) {
  absl::StatusOr<Store> store = Store::Open("relative/root");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(StoreTest, OpenCreatesRootWithMode0700) {
  absl::StatusOr<Store> store = Store::Open(root_);
  ASSERT_TRUE(store.ok()) << store.status();
  struct stat st;
  ASSERT_EQ(stat(root_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  // Opening again is fine.
  EXPECT_TRUE(Store::Open(root_).ok());
}

TEST_F(StoreTest, ClaimTwiceIsAlreadyExists) {
  absl::StatusOr<Store> store = Store::Open(root_);
  ASSERT_TRUE(store.ok());
  absl::StatusOr<ContainerDir> first = store->Claim("c1");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->path(), root_ + "/c1");
  struct stat st;
  ASSERT_EQ(stat(first->path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  absl::StatusOr<ContainerDir> second = store->Claim("c1");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(second.status().message(), "container with given ID already exists");
}

TEST_F(StoreTest, ClaimRejectsPathComponents) {
  absl::StatusOr<Store> store = Store::Open(root_);
  ASSERT_TRUE(store.ok());
  for (const char* bad : {"", ".", "..", "a/b", "../x"}) {
    EXPECT_FALSE(store->Claim(bad).ok()) << bad;
    EXPECT_EQ(store->Lock(bad).status().code(), absl::StatusCode::kNotFound) << bad;
  }
}

TEST_F(StoreTest, LockMissingDoesNotExist) {
  absl::StatusOr<Store> store = Store::Open(root_);
  ASSERT_TRUE(store.ok());
  absl::StatusOr<ContainerDir> dir = store->Lock("nope");
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(dir.status().message(), "container does not exist");
}

TEST_F(StoreTest, LoadWithoutStateFileDoesNotExist) {
  absl::StatusOr<Store> store = Store::Open(root_);
  ASSERT_TRUE(store.ok());
  absl::StatusOr<ContainerDir> dir = store->Claim("half");
  ASSERT_TRUE(dir.ok());
  absl::StatusOr<Record> rec = dir->Load();
  ASSERT_FALSE(rec.ok());
  EXPECT_EQ(rec.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(rec.status().message(), "container does not exist");
}

TEST_F(StoreTest, SaveLoadRoundTripAndAtomic) {
  absl::StatusOr<Store> store = Store::Open(root_);
  ASSERT_TRUE(store.ok());
  Record want = SampleRecord();
  {
    absl::StatusOr<ContainerDir> dir = store->Claim("c1");
    ASSERT_TRUE(dir.ok());
    ASSERT_TRUE(dir->Save(want).ok());
    // Overwrite once more: the rename replaces the old file.
    want.pid = 4243;
    ASSERT_TRUE(dir->Save(want).ok());
  }
  EXPECT_EQ(ListDir(root_ + "/c1"), std::vector<std::string>{"state.json"});
  absl::StatusOr<ContainerDir> dir = store->Lock("c1");
  ASSERT_TRUE(dir.ok()) << dir.status();
  absl::StatusOr<Record> got = dir->Load();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->id, want.id);
  EXPECT_EQ(got->oci_version, want.oci_version);
  EXPECT_EQ(got->bundle, want.bundle);
  EXPECT_EQ(got->rootfs, want.rootfs);
  EXPECT_EQ(got->created, want.created);
  EXPECT_EQ(got->owner, want.owner);
  EXPECT_EQ(got->pid, 4243);
  EXPECT_EQ(got->start_time, want.start_time);
  EXPECT_EQ(got->annotations, want.annotations);
  EXPECT_EQ(got->cgroup_dirs_created, want.cgroup_dirs_created);
  EXPECT_EQ(got->cgroup_dirs, want.cgroup_dirs);
  EXPECT_EQ(got->private_pid_ns, want.private_pid_ns);
  EXPECT_EQ(got->systemd_cgroup, want.systemd_cgroup);
}

TEST_F(StoreTest, RecordJsonRoundTripAndErrors) {
  Record want = SampleRecord();
  absl::StatusOr<std::string> json = SerializeRecord(want);
  ASSERT_TRUE(json.ok());
  absl::StatusOr<Record> got = ParseRecord(*json);
  ASSERT_TRUE(got.ok()) << got.status();
  absl::StatusOr<std::string> again = SerializeRecord(*got);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *json);

  EXPECT_FALSE(ParseRecord("{").ok());
  EXPECT_FALSE(ParseRecord("[]").ok());
  absl::StatusOr<Record> bad = ParseRecord(R"({"id":"x","pid":"12"})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("\"pid\""), std::string_view::npos);
  // Unknown members are ignored (a newer husk may add fields).
  EXPECT_TRUE(ParseRecord(R"({"id":"x","future":[1,2]})").ok());
}

TEST_F(StoreTest, RemoveDeletesEverything) {
  absl::StatusOr<Store> store = Store::Open(root_);
  ASSERT_TRUE(store.ok());
  absl::StatusOr<ContainerDir> dir = store->Claim("c1");
  ASSERT_TRUE(dir.ok());
  ASSERT_TRUE(dir->Save(SampleRecord()).ok());
  int fd = openat(dir->fd(), "exec.sock", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  close(fd);
  ASSERT_EQ(mkdirat(dir->fd(), "sub", 0700), 0);
  fd = openat(dir->fd(), "sub/file", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  close(fd);
  ASSERT_TRUE(dir->Remove().ok());
  EXPECT_TRUE(ListDir(root_).empty());
  EXPECT_EQ(store->Lock("c1").status().code(), absl::StatusCode::kNotFound);
  // The ID can be claimed again.
  EXPECT_TRUE(store->Claim("c1").ok());
}

TEST_F(StoreTest, IdsAreSortedDirectoriesOnly) {
  absl::StatusOr<Store> store = Store::Open(root_);
  ASSERT_TRUE(store.ok());
  absl::StatusOr<std::vector<std::string>> empty = store->Ids();
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  for (const char* id : {"zeta", "alpha", "mid-1", "Mid"}) ASSERT_TRUE(store->Claim(id).ok());
  int fd = open((root_ + "/stray-file").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  close(fd);
  absl::StatusOr<std::vector<std::string>> ids = store->Ids();
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<std::string>{"Mid", "alpha", "mid-1", "zeta"}));
}

// True once /proc/locks shows `pid` waiting ("->") for an FLOCK on inode `ino`.
bool WaitUntilBlockedOnFlock(pid_t pid, ino_t ino,
                             std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const std::string pid_s = std::to_string(pid), ino_s = ":" + std::to_string(ino);
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in("/proc/locks");
    std::string line;
    while (std::getline(in, line)) {
      // "2: -> FLOCK  ADVISORY  WRITE 1234 00:2a:5678 0 EOF"
      std::istringstream f(line);
      std::string n, arrow, type, adv, mode, p, dev;
      if (!(f >> n >> arrow >> type >> adv >> mode >> p >> dev)) continue;
      if (arrow == "->" && type == "FLOCK" && p == pid_s && dev.size() >= ino_s.size() &&
          dev.compare(dev.size() - ino_s.size(), ino_s.size(), ino_s) == 0) {
        return true;
      }
    }
    usleep(2000);
  }
  return false;
}

// True if fd becomes readable within timeout_ms.
bool Readable(int fd, int timeout_ms) {
  struct pollfd p = {fd, POLLIN, 0};
  return poll(&p, 1, timeout_ms) == 1;
}

// A holder keeps the lock until told to release it; a second process waits on it
// (seen in /proc/locks) and acquires it only after the release.
TEST_F(StoreTest, LockSerializesProcesses) {
  absl::StatusOr<Store> store = Store::Open(root_);
  ASSERT_TRUE(store.ok());
  {
    absl::StatusOr<ContainerDir> dir = store->Claim("c1");
    ASSERT_TRUE(dir.ok());
    ASSERT_TRUE(dir->Save(SampleRecord()).ok());
  }
  struct stat st;
  ASSERT_EQ(stat((root_ + "/c1").c_str(), &st), 0);
  int ready[2], release[2], acquired[2];
  ASSERT_EQ(pipe2(ready, O_CLOEXEC), 0);
  ASSERT_EQ(pipe2(release, O_CLOEXEC), 0);
  ASSERT_EQ(pipe2(acquired, O_CLOEXEC), 0);
  pid_t holder = fork();
  ASSERT_GE(holder, 0);
  if (holder == 0) {
    absl::StatusOr<ContainerDir> dir = store->Lock("c1");
    if (!dir.ok()) _exit(1);
    char c = 'x';
    if (write(ready[1], &c, 1) != 1) _exit(2);
    close(release[1]);
    if (read(release[0], &c, 1) != 1) _exit(3);  // hold until the parent says so
    _exit(0);  // the lock goes with the process
  }
  close(ready[1]);
  close(release[0]);
  char c;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  close(ready[0]);
  pid_t waiter = fork();
  ASSERT_GE(waiter, 0);
  if (waiter == 0) {
    absl::StatusOr<ContainerDir> dir = store->Lock("c1");
    if (!dir.ok()) _exit(1);
    char a = 'a';
    _exit(write(acquired[1], &a, 1) == 1 ? 0 : 2);
  }
  close(acquired[1]);
  EXPECT_TRUE(WaitUntilBlockedOnFlock(waiter, st.st_ino)) << "waiter never blocked on the lock";
  EXPECT_FALSE(Readable(acquired[0], 50)) << "waiter got the lock while it was held";
  ASSERT_EQ(write(release[1], "r", 1), 1);
  close(release[1]);
  EXPECT_TRUE(Readable(acquired[0], 5000)) << "waiter never got the lock after release";
  close(acquired[0]);
  int status = 0;
  ASSERT_EQ(waitpid(holder, &status, 0), holder);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  ASSERT_EQ(waitpid(waiter, &status, 0), waiter);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_TRUE(store->Lock("c1").ok());
}

TEST_F(StoreTest, WaiterAfterRemoveSeesDoesNotExist) {
  absl::StatusOr<Store> store = Store::Open(root_);
  ASSERT_TRUE(store.ok());
  absl::StatusOr<ContainerDir> holder = store->Claim("c1");
  ASSERT_TRUE(holder.ok());
  ASSERT_TRUE(holder->Save(SampleRecord()).ok());
  struct stat st;
  ASSERT_EQ(fstat(holder->fd(), &st), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // flock belongs to the open file description: drop the inherited one first, or the
    // child would wait on a lock it holds itself.
    close(holder->fd());
    // Blocks until the parent removes the directory, then must report NotFound.
    absl::StatusOr<ContainerDir> dir = store->Lock("c1");
    _exit(!dir.ok() && dir.status().code() == absl::StatusCode::kNotFound ? 0 : 1);
  }
  // Remove only once the child really waits on the lock (not before it got there).
  bool blocked = WaitUntilBlockedOnFlock(child, st.st_ino);
  EXPECT_TRUE(blocked) << "child never blocked on the lock";
  ASSERT_TRUE(holder->Remove().ok());
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

}  // namespace
}  // namespace husk::state
