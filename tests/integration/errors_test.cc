// Error contract integration tests: every failure writes exactly one JSON error line to
// --log and the same text to stderr (cli-contract.md §3), with the texts callers match
// (§5.5), and a failed create leaves nothing behind (§2.1, §7). Real containers; root.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
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
  // `run -d` in a frozen cgroup: refused at once (not hung) with runc's text, no state
  // dir and no process left.
  void ExpectFrozenRefusal(Bundle& b) {
    size_t offset = FileSize(log_);
    RunOptions opts;
    opts.timeout = std::chrono::seconds(15);
    CmdResult r = HuskDetached(
        root_, {"--log", log_, "--log-format", "json", "run", "-d", "--bundle", b.Path(), b.Id()},
        opts);
    ASSERT_FALSE(r.timed_out) << "run -d hangs on a frozen cgroup";
    EXPECT_EQ(r.exit_code, 1) << r;
    std::string msg = ExpectOneErrorLine(log_, offset, r);
    EXPECT_THAT(msg, HasSubstr("container's cgroup unexpectedly frozen")) << msg;
    EXPECT_FALSE(std::filesystem::exists(root_.Path() + "/" + b.Id()));
    EXPECT_THAT(ChildrenOfThisProcess(), IsEmpty()) << "a failed create left a process";
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

// A cgroup the test makes and freezes itself before husk sees it: <dir> in one hierarchy
// (v1 freezer: freezer.state FROZEN; cgroup2: cgroup.freeze 1). The destructor thaws it,
// force-deletes the container in case husk made one (a husk without the check leaves
// an init hanging in the frozen cgroup), then removes `cleanup_path` (and, deepest first,
// anything below it) from every hierarchy.
class FrozenCgroup {
 public:
  FrozenCgroup(const TestRoot& root, std::string id, std::string dir, std::string file,
               std::string frozen, std::string thawed, std::string cleanup_path)
      : root_(root),
        id_(std::move(id)),
        dir_(std::move(dir)),
        file_(std::move(file)),
        thawed_(std::move(thawed)),
        cleanup_path_(std::move(cleanup_path)) {
    std::filesystem::create_directories(dir_);
    WriteFile(dir_ + "/" + file_, frozen);
  }
  ~FrozenCgroup() {
    std::error_code ec;
    if (std::filesystem::exists(dir_ + "/" + file_, ec)) {
      try {
        WriteFile(dir_ + "/" + file_, thawed_);
      } catch (const std::exception&) {
      }
    }
    root_.Husk({"delete", "--force", id_});
    std::vector<std::string> dirs;
    for (const std::string& top : CgroupDirs(cleanup_path_)) {
      for (auto it = std::filesystem::recursive_directory_iterator(top, ec);
           !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_directory(ec)) dirs.push_back(it->path().string());
      }
      dirs.push_back(top);
    }
    std::sort(dirs.begin(), dirs.end(), [](const std::string& a, const std::string& b) {
      return std::count(a.begin(), a.end(), '/') > std::count(b.begin(), b.end(), '/');
    });
    for (const std::string& d : dirs) {
      for (int i = 0; i < 100 && ::rmdir(d.c_str()) != 0 && errno == EBUSY; ++i) {
        ::usleep(20000);
      }
    }
    EXPECT_TRUE(CgroupDirs(cleanup_path_).empty()) << "could not remove " << cleanup_path_;
  }
  FrozenCgroup(const FrozenCgroup&) = delete;
  FrozenCgroup& operator=(const FrozenCgroup&) = delete;

 private:
  const TestRoot& root_;
  std::string id_, dir_, file_, thawed_, cleanup_path_;
};

// Issue 12 item 1: an existing, frozen cgroup made `run -d` hang for ever (the init
// blocks in its first join). husk refuses it at create, before any init exists, with
// runc's "container's cgroup unexpectedly frozen", and leaves nothing it made.
TEST_F(ErrorsTest, FrozenV1CgroupIsRefusedAtCreate) {
  const std::string freezer = "/sys/fs/cgroup/freezer";
  if (!std::filesystem::exists(freezer + "/freezer.state") &&
      !std::filesystem::exists(freezer + "/cgroup.procs")) {
    GTEST_SKIP() << "no v1 freezer hierarchy";
  }
  Bundle b;
  b.SetArgs({"/bin/sleep", "1000"});
  b.Write();
  FrozenCgroup frozen(root_, b.Id(), freezer + b.CgroupsPath(), "freezer.state", "FROZEN", "THAWED",
                      b.CgroupsPath());
  ASSERT_EQ(ReadFile(freezer + b.CgroupsPath() + "/freezer.state"), "FROZEN\n");
  ExpectFrozenRefusal(b);
  // Of the container's cgroup only the (still frozen) freezer dir the test made is left.
  EXPECT_THAT(CgroupDirs(b.CgroupsPath()), ::testing::ElementsAre(freezer + b.CgroupsPath()));
  EXPECT_EQ(ReadFile(freezer + b.CgroupsPath() + "/cgroup.procs"), "");
  EXPECT_EQ(ReadFile(freezer + b.CgroupsPath() + "/freezer.state"), "FROZEN\n");
  EXPECT_TRUE(MountsMentioning(b.Path()).empty());
}

// A new cgroup under a frozen parent is born frozen (v1 freezer.state reads FROZEN): the
// same hang, the same refusal. (runc 1.1.5 hangs here: it only looks at self_freezing.)
TEST_F(ErrorsTest, CgroupUnderFrozenV1ParentIsRefusedAtCreate) {
  const std::string freezer = "/sys/fs/cgroup/freezer";
  if (!std::filesystem::exists(freezer + "/cgroup.procs")) GTEST_SKIP() << "no v1 freezer";
  Bundle b;
  const std::string parent = b.CgroupsPath();
  const std::string path = parent + "/c";
  b.SetJson("/linux/cgroupsPath", "\"" + path + "\"");
  b.Write();
  FrozenCgroup frozen(root_, b.Id(), freezer + parent, "freezer.state", "FROZEN", "THAWED", parent);
  ExpectFrozenRefusal(b);
  EXPECT_THAT(CgroupDirs(path), IsEmpty()) << "the container's cgroup dirs were left";
}

// The cgroup2 side of a hybrid host (the init is cloned straight into it): frozen with
// cgroup.freeze = 1.
TEST_F(ErrorsTest, FrozenCgroup2IsRefusedAtCreate) {
  std::string unified = "/sys/fs/cgroup/unified";
  if (!std::filesystem::exists(unified + "/cgroup.procs")) unified = "/sys/fs/cgroup";
  if (!std::filesystem::exists(unified + "/cgroup.procs") ||
      std::filesystem::exists(unified + "/tasks")) {
    GTEST_SKIP() << "no cgroup2 hierarchy";
  }
  Bundle b;
  b.Write();
  FrozenCgroup frozen(root_, b.Id(), unified + b.CgroupsPath(), "cgroup.freeze", "1", "0",
                      b.CgroupsPath());
  if (!std::filesystem::exists(unified + b.CgroupsPath() + "/cgroup.freeze")) {
    GTEST_SKIP() << "kernel without the cgroup2 freezer";
  }
  ExpectFrozenRefusal(b);
  EXPECT_THAT(CgroupDirs(b.CgroupsPath()), ::testing::ElementsAre(unified + b.CgroupsPath()));
}

// --systemd-cgroup: the path must be "slice:prefix:name"; with it, a host where no
// systemd answers (this one, and CI's: the init is not systemd) gets a clear refusal
// naming the unit, before anything is made.
TEST_F(ErrorsTest, SystemdCgroupWithoutSystemd) {
  if (::access("/run/systemd/system", F_OK) == 0) GTEST_SKIP() << "systemd runs this host";
  Bundle b;
  b.SetJson("/linux/cgroupsPath", R"("system.slice:docker:)" + b.Id() + R"(")");
  b.Write();
  std::vector<std::string> args{"--systemd-cgroup", "create", "--bundle", b.Path(), b.Id()};
  std::string msg = Fail(args);
  EXPECT_EQ(msg, "--systemd-cgroup: no systemd answers on this host (/run/systemd/system does "
                 "not exist: systemd is not the init), so unit \"docker-" + b.Id() +
                 ".scope\" in \"system.slice\" cannot be created; run without "
                 "--systemd-cgroup (the cgroupfs driver)");
  EXPECT_FALSE(std::filesystem::exists(root_.Path() + "/" + b.Id()));
  Bundle plain;
  plain.Write();
  msg = Fail({"--systemd-cgroup", "create", "--bundle", plain.Path(), plain.Id()});
  EXPECT_EQ(msg, "linux/cgroupsPath: \"" + plain.CgroupsPath() +
                     "\": with --systemd-cgroup it must be \"slice:prefix:name\"");
  EXPECT_TRUE(NoLeftovers(root_, plain.Id(), plain));
}

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
