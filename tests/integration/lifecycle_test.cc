// Lifecycle integration tests: the quick self-test of cli-contract.md, the state
// transition table (§5.3) with its error texts (§5.5), start/create semantics (§2.1, §2.2,
// §5.2), status derivation (§2.3), the pid file (§5.1), the process tree after create (§6)
// and recycled-pid protection (§2.4). Real containers; needs root.
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
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

using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

class LifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HUSK_REQUIRE_CONTAINERS();
    // As under containerd's shim and conmon: detached inits become our children.
    BecomeSubreaper();
  }
  void TearDown() override {
    // Reap the inits of deleted containers (zombies of ours); nothing alive is waited for.
    while (::waitpid(-1, nullptr, WNOHANG | __WALL) > 0) {
    }
  }
};

// The quick self-test at the end of cli-contract.md, step by step.
TEST_F(LifecycleTest, QuickSelfTest) {
  TempDir spec_dir("spec");
  CmdResult spec = RunHusk({"spec", "--bundle", spec_dir.Path()});
  ASSERT_EQ(spec.exit_code, 0) << spec;

  TestRoot root;
  Bundle b;
  b.SetArgs({"/bin/sleep", "1000"});
  b.Write();
  TempDir log_dir("log");
  const std::string log = log_dir.Path() + "/r.json";
  const std::string pid_file = b.Path() + "/p";

  CmdResult create = HuskDetached(root, {"--log", log, "--log-format", "json", "create",
                                         "--bundle", b.Path(), "--pid-file", pid_file, "c1"});
  ASSERT_EQ(create.exit_code, 0) << create;
  EXPECT_EQ(create.err, "") << create;
  int pid = ReadPidFile(pid_file);
  ASSERT_GT(pid, 0);
  EXPECT_EQ(root.Status("c1"), "created");

  CmdResult start = root.Husk({"start", "c1"});
  ASSERT_EQ(start.exit_code, 0) << start;
  EXPECT_EQ(root.Status("c1"), "running");

  CmdResult kill1 = root.Husk({"kill", "c1", "9"});
  EXPECT_EQ(kill1.exit_code, 0) << kill1;
  ASSERT_TRUE(WaitForStatus(root, "c1", "stopped"));

  CmdResult kill2 = root.Husk({"kill", "c1", "9"});
  EXPECT_EQ(kill2.exit_code, 1) << kill2;
  EXPECT_THAT(kill2.err, HasSubstr("container not running")) << kill2;

  CmdResult kill_all = root.Husk({"kill", "--all", "c1", "9"});
  EXPECT_EQ(kill_all.exit_code, 0) << kill_all;
  EXPECT_EQ(kill_all.err, "") << kill_all;

  CmdResult del = root.Husk({"delete", "c1"});
  EXPECT_EQ(del.exit_code, 0) << del;
  CmdResult del_force = root.Husk({"delete", "--force", "c1"});
  EXPECT_EQ(del_force.exit_code, 0) << del_force;
  EXPECT_EQ(del_force.err, "") << del_force;

  CmdResult state = root.Husk({"state", "c1"});
  EXPECT_EQ(state.exit_code, 1) << state;
  EXPECT_THAT(state.err, HasSubstr("container does not exist")) << state;
  EXPECT_TRUE(NoLeftovers(root, "c1", b));
  EXPECT_TRUE(WaitForPidGone(pid));
}

// §5.3 row "(no such ID)": every command fails with "does not exist" except delete --force.
TEST_F(LifecycleTest, NoSuchIdRow) {
  TestRoot root;
  const std::vector<std::vector<std::string>> commands = {
      {"start", "nosuch"},          {"state", "nosuch"},  {"kill", "nosuch", "9"},
      {"kill", "--all", "nosuch", "9"}, {"delete", "nosuch"}};
  for (const auto& cmd : commands) {
    CmdResult r = root.Husk(cmd);
    EXPECT_EQ(r.exit_code, 1) << r;
    EXPECT_THAT(r.err, HasSubstr("container does not exist")) << r;
    EXPECT_EQ(r.out, "") << r;
  }
  CmdResult force = root.Husk({"delete", "--force", "nosuch"});
  EXPECT_EQ(force.exit_code, 0) << force;
  EXPECT_EQ(force.err, "") << force;
}

// §5.3 row "created": kill (SIGKILL) stops it, kill --all signals all, delete without
// --force kills and destroys (runc), delete --force too.
TEST_F(LifecycleTest, CreatedRow) {
  TestRoot root;
  for (const std::vector<std::string>& op :
       std::vector<std::vector<std::string>>{{"kill", "ID", "KILL"},
                                             {"kill", "--all", "ID", "9"},
                                             {"delete", "ID"},
                                             {"delete", "--force", "ID"}}) {
    SCOPED_TRACE(op[0] + " " + op[1]);
    Bundle b;
    const std::string id = b.Id();
    const std::string pid_file = b.Path() + "/init.pid";
    ASSERT_EQ(CreateOk(root, b, id, {"--pid-file", pid_file}).exit_code, 0);
    int pid = ReadPidFile(pid_file);
    ASSERT_EQ(root.Status(id), "created");
    std::vector<std::string> args = op;
    std::replace(args.begin(), args.end(), std::string("ID"), id);
    CmdResult r = root.Husk(args);
    EXPECT_EQ(r.exit_code, 0) << r;
    EXPECT_EQ(r.err, "") << r;
    if (op[0] == "kill") {
      EXPECT_TRUE(WaitForStatus(root, id, "stopped"));
      CmdResult del = root.Husk({"delete", id});
      EXPECT_EQ(del.exit_code, 0) << del;
    } else {
      CmdResult state = root.Husk({"state", id});
      EXPECT_THAT(state.err, HasSubstr("does not exist")) << state;
    }
    EXPECT_TRUE(WaitForPidGone(pid));
    EXPECT_TRUE(NoLeftovers(root, id, b));
  }
}

// §5.3 row "running", with §2.2 (start twice runs the command once) and §2.1 (create
// never runs process.args).
TEST_F(LifecycleTest, RunningRowAndStartRunsOnce) {
  TestRoot root;
  TempDir out("out");
  Bundle b;
  AddBindMount(b, out.Path(), "/tmp");
  // The process notes whether /tmp/started (made by the test after create) existed when
  // it ran, and runs until /tmp/go exists; the markers are counted after it exited.
  b.SetArgs({"/bin/sh", "-c",
             "trap 'echo usr1 >> /tmp/sig' USR1; "
             "if [ -e /tmp/started ]; then echo ran >> /tmp/ran; else echo early >> /tmp/ran; fi; "
             "while [ ! -e /tmp/go ]; do sleep 0.05; done"});
  b.Write();
  const std::string id = b.Id();
  const std::string ran = out.Path() + "/ran";

  ASSERT_EQ(CreateOk(root, b, id).exit_code, 0);
  EXPECT_FALSE(std::filesystem::exists(ran)) << "create ran process.args";
  ASSERT_EQ(root.Status(id), "created");
  WriteFile(out.Path() + "/started", "");

  CmdResult start = root.Husk({"start", id});
  ASSERT_EQ(start.exit_code, 0) << start;
  EXPECT_EQ(start.err, "") << start;
  EXPECT_EQ(root.Status(id), "running");
  ASSERT_TRUE(WaitForFileLines(ran, 1)) << "start did not run process.args";

  std::string before = root.Husk({"state", id}).out;
  CmdResult again = root.Husk({"start", id});
  EXPECT_EQ(again.exit_code, 1) << again;
  EXPECT_THAT(again.err, HasSubstr("cannot start an already running container")) << again;
  CmdResult del = root.Husk({"delete", id});
  EXPECT_EQ(del.exit_code, 1) << del;
  EXPECT_THAT(del.err,
              HasSubstr("cannot delete container " + id + " that is not stopped: running"))
      << del;
  EXPECT_EQ(root.Husk({"state", id}).out, before) << "a failed command changed the state";

  // kill without --all reaches the init (which traps USR1).
  CmdResult usr1 = root.Husk({"kill", id, "USR1"});
  EXPECT_EQ(usr1.exit_code, 0) << usr1;
  EXPECT_TRUE(WaitForFileLines(out.Path() + "/sig", 1)) << "SIGUSR1 did not arrive";
  EXPECT_EQ(root.Status(id), "running");

  WriteFile(out.Path() + "/go", "");
  EXPECT_TRUE(WaitForStatus(root, id, "stopped"));
  EXPECT_EQ(ReadFile(ran), "ran\n") << "process.args ran other than once, after start";
  EXPECT_EQ(root.Husk({"delete", id}).exit_code, 0);
  EXPECT_TRUE(NoLeftovers(root, id, b));
}

TEST_F(LifecycleTest, ForceDeleteOfRunningContainer) {
  TestRoot root;
  Bundle b;
  b.SetArgs({"/bin/sleep", "1000"});
  b.Write();
  const std::string id = b.Id();
  ASSERT_EQ(CreateOk(root, b, id, {"--pid-file", b.Path() + "/init.pid"}).exit_code, 0);
  int pid = ReadPidFile(b.Path() + "/init.pid");
  ASSERT_EQ(root.Husk({"start", id}).exit_code, 0);
  CmdResult del = root.Husk({"delete", "--force", id});
  EXPECT_EQ(del.exit_code, 0) << del;
  EXPECT_EQ(del.err, "") << del;
  EXPECT_TRUE(WaitForPidGone(pid));
  EXPECT_TRUE(NoLeftovers(root, id, b));
}

// §5.3 row "stopped"; kill on a stopped container leaves the state byte-for-byte alone
// (conformance kill_no_effect).
TEST_F(LifecycleTest, StoppedRow) {
  TestRoot root;
  for (bool force : {false, true}) {
    SCOPED_TRACE(force ? "delete --force" : "delete");
    Bundle b;
    const std::string id = b.Id();
    ASSERT_EQ(CreateOk(root, b, id, {"--pid-file", b.Path() + "/init.pid"}).exit_code, 0);
    int pid = ReadPidFile(b.Path() + "/init.pid");
    ASSERT_EQ(root.Husk({"start", id}).exit_code, 0);
    ASSERT_TRUE(WaitForStatus(root, id, "stopped"));

    std::string before = root.Husk({"state", id}).out;
    rapidjson::Document doc = ParseJson(before);
    EXPECT_EQ(doc["pid"].GetInt(), 0) << before;
    CmdResult start = root.Husk({"start", id});
    EXPECT_EQ(start.exit_code, 1) << start;
    EXPECT_THAT(start.err, HasSubstr("cannot start a container that has stopped")) << start;
    CmdResult kill = root.Husk({"kill", id, "TERM"});
    EXPECT_EQ(kill.exit_code, 1) << kill;
    EXPECT_THAT(kill.err, HasSubstr("container not running")) << kill;
    CmdResult kill_all = root.Husk({"kill", "--all", id, "KILL"});
    EXPECT_EQ(kill_all.exit_code, 0) << kill_all;
    EXPECT_EQ(root.Husk({"state", id}).out, before);

    CmdResult del = force ? root.Husk({"delete", "--force", id}) : root.Husk({"delete", id});
    EXPECT_EQ(del.exit_code, 0) << del;
    EXPECT_EQ(del.err, "") << del;
    EXPECT_TRUE(WaitForPidGone(pid));
    EXPECT_TRUE(NoLeftovers(root, id, b));
  }
}

// Signal 0 is kill(2)'s existence check (runc accepts `kill ID 0`): it succeeds on a
// created or running container and delivers nothing; on a stopped one it fails like any
// signal ("container not running"), except with --all, which is a no-op there (§2.4).
TEST_F(LifecycleTest, SignalZeroChecksExistence) {
  TestRoot root;
  Bundle b;
  b.SetArgs({"/bin/sleep", "1000"});
  b.Write();
  const std::string id = b.Id();
  ASSERT_EQ(CreateOk(root, b, id, {"--pid-file", b.Path() + "/init.pid"}).exit_code, 0);
  int pid = ReadPidFile(b.Path() + "/init.pid");
  ASSERT_GT(pid, 0);

  CmdResult created = root.Husk({"kill", id, "0"});
  EXPECT_EQ(created.exit_code, 0) << created;
  EXPECT_EQ(created.err, "") << created;
  EXPECT_EQ(root.Status(id), "created");

  ASSERT_EQ(root.Husk({"start", id}).exit_code, 0);
  for (const std::vector<std::string>& cmd : std::vector<std::vector<std::string>>{
           {"kill", id, "0"}, {"kill", "--all", id, "0"}, {"kill", "-a", id, "0"}}) {
    CmdResult r = root.Husk(cmd);
    EXPECT_EQ(r.exit_code, 0) << r;
    EXPECT_EQ(r.err, "") << r;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(root.Status(id), "running");
  EXPECT_EQ(ProcState(pid), 'S') << "signal 0 did something to the init";
  // Nothing delivered, so nothing to freeze the cgroup for.
  for (const std::string& dir : CgroupDirs(b.CgroupsPath())) {
    if (std::filesystem::exists(dir + "/freezer.state")) {
      EXPECT_EQ(ReadFile(dir + "/freezer.state"), "THAWED\n");
    }
  }

  ASSERT_EQ(root.Husk({"kill", id, "KILL"}).exit_code, 0);
  ASSERT_TRUE(WaitForStatus(root, id, "stopped"));
  std::string before = root.Husk({"state", id}).out;
  CmdResult stopped = root.Husk({"kill", id, "0"});
  EXPECT_EQ(stopped.exit_code, 1) << stopped;
  EXPECT_THAT(stopped.err, HasSubstr("container not running")) << stopped;
  CmdResult stopped_all = root.Husk({"kill", "--all", id, "0"});
  EXPECT_EQ(stopped_all.exit_code, 0) << stopped_all;
  EXPECT_EQ(root.Husk({"state", id}).out, before);

  EXPECT_EQ(root.Husk({"delete", id}).exit_code, 0);
  EXPECT_TRUE(WaitForPidGone(pid));
  EXPECT_TRUE(NoLeftovers(root, id, b));
}

// `--debug` logs the command line once: create and run re-exec husk through its read-only
// view (CVE-2019-5736), and the line used to be written before and after that exec.
TEST_F(LifecycleTest, DebugLogsTheCommandLineOnce) {
  TestRoot root;
  TempDir log_dir("debug");
  for (bool detach : {false, true}) {
    SCOPED_TRACE(detach ? "run -d" : "run");
    Bundle b;
    b.Write();
    const std::string log = log_dir.Path() + "/" + b.Id() + ".json";
    std::vector<std::string> args{"--debug", "--log", log, "--log-format", "json", "run"};
    if (detach) args.push_back("-d");
    for (const std::string& a : {std::string("--bundle"), b.Path(), b.Id()}) args.push_back(a);
    CmdResult r = HuskDetached(root, args);
    ASSERT_EQ(r.exit_code, 0) << r;
    std::string command_line = "husk --root " + root.Path();
    for (const std::string& a : args) command_line += " " + a;
    int debug_lines = 0, command_lines = 0;
    for (const std::string& line : LinesOf(ReadFile(log))) {
      rapidjson::Document d = ParseJson(line);
      ASSERT_TRUE(d.IsObject() && d.HasMember("level") && d.HasMember("msg")) << line;
      if (std::string(d["level"].GetString()) != "debug") continue;
      ++debug_lines;
      if (d["msg"].GetString() == command_line) ++command_lines;
    }
    EXPECT_EQ(command_lines, 1) << ReadFile(log);
    EXPECT_EQ(debug_lines, 1) << ReadFile(log);
    if (detach) {
      EXPECT_TRUE(WaitForStatus(root, b.Id(), "stopped"));
      EXPECT_EQ(root.Husk({"delete", b.Id()}).exit_code, 0);
    }
    EXPECT_TRUE(NoLeftovers(root, b.Id(), b));
  }
}

// §2.2: after start returns, state never says created again.
TEST_F(LifecycleTest, StateIsRunningRightAfterStart) {
  TestRoot root;
  for (int i = 0; i < 3; ++i) {
    Bundle b;
    b.SetArgs({"/bin/sleep", "1000"});
    b.Write();
    ASSERT_EQ(CreateOk(root, b, b.Id()).exit_code, 0);
    ASSERT_EQ(root.Husk({"start", b.Id()}).exit_code, 0);
    EXPECT_EQ(root.Status(b.Id()), "running");
    EXPECT_EQ(root.Husk({"delete", "--force", b.Id()}).exit_code, 0);
    EXPECT_TRUE(NoLeftovers(root, b.Id(), b));
  }
}

// §2.3: a zombie init is stopped, and state does not need to (and must not) reap it.
TEST_F(LifecycleTest, ZombieInitIsStopped) {
  TestRoot root;
  Bundle b;  // /bin/true
  const std::string id = b.Id();
  ASSERT_EQ(CreateOk(root, b, id, {"--pid-file", b.Path() + "/init.pid"}).exit_code, 0);
  pid_t pid = ReadPidFile(b.Path() + "/init.pid");
  ASSERT_GT(pid, 0);
  ASSERT_EQ(ParentPid(pid), ::getpid()) << "init was not reparented to the subreaper";
  ASSERT_EQ(root.Husk({"start", id}).exit_code, 0);
  ASSERT_TRUE(WaitForZombie(pid)) << "init did not exit";

  rapidjson::Document doc = StateDoc(root, id);
  ASSERT_TRUE(doc.IsObject());
  EXPECT_STREQ(doc["status"].GetString(), "stopped");
  EXPECT_EQ(doc["pid"].GetInt(), 0);
  EXPECT_EQ(ProcState(pid), 'Z') << "state reaped (or otherwise touched) our child";
  CmdResult kill = root.Husk({"kill", id, "9"});
  EXPECT_THAT(kill.err, HasSubstr("container not running")) << kill;
  EXPECT_EQ(ProcState(pid), 'Z');

  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(root.Status(id), "stopped");
  EXPECT_EQ(root.Husk({"delete", id}).exit_code, 0);
  EXPECT_TRUE(NoLeftovers(root, id, b));
}

// §5.1: digits only, equal to state.pid, atomically replacing older longer content, and a
// relative path is resolved against the caller's working directory.
TEST_F(LifecycleTest, PidFile) {
  TestRoot root;
  Bundle b;
  TempDir dir("pid");
  const std::string abs_file = dir.Path() + "/init.pid";
  WriteFile(abs_file, "12345678901234567890\n");
  ASSERT_EQ(CreateOk(root, b, b.Id(), {"--pid-file", abs_file}).exit_code, 0);
  int pid = ReadPidFile(abs_file);
  EXPECT_EQ(pid, StatePid(root, b.Id()));
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir.Path())) {
    names.push_back(e.path().filename());
  }
  EXPECT_THAT(names, UnorderedElementsAre("init.pid")) << "temporary pid files left behind";

  Bundle b2;
  TempDir cwd("cwd");
  RunOptions in_cwd;
  in_cwd.cwd = cwd.Path();
  CmdResult r = HuskDetached(
      root, {"create", "--bundle", b2.Path(), "--pid-file", "rel.pid", b2.Id()}, in_cwd);
  ASSERT_EQ(r.exit_code, 0) << r;
  ASSERT_TRUE(std::filesystem::exists(cwd.Path() + "/rel.pid")) << "not relative to the cwd";
  EXPECT_FALSE(std::filesystem::exists(b2.Path() + "/rel.pid"));
  EXPECT_EQ(ReadPidFile(cwd.Path() + "/rel.pid"), StatePid(root, b2.Id()));

  for (Bundle* x : {&b, &b2}) {
    EXPECT_EQ(root.Husk({"delete", x->Id()}).exit_code, 0);
    EXPECT_TRUE(NoLeftovers(root, x->Id(), *x));
  }
  EXPECT_TRUE(WaitForPidGone(pid));
}

// §2.1 step 4 / §6: when create returns no husk process is left; the init is an orphan
// below the caller's subreaper.
TEST_F(LifecycleTest, CreateLeavesOnlyTheInit) {
  TestRoot root;
  Bundle b;
  ASSERT_EQ(CreateOk(root, b, b.Id(), {"--pid-file", b.Path() + "/init.pid"}).exit_code, 0);
  pid_t pid = ReadPidFile(b.Path() + "/init.pid");
  EXPECT_EQ(ParentPid(pid), ::getpid());
  EXPECT_THAT(ChildrenOfThisProcess(), ::testing::ElementsAre(pid));
  // The pid file holds the init, which is in the container's final cgroup already.
  std::string cgroup = ReadFile("/proc/" + std::to_string(pid) + "/cgroup");
  EXPECT_THAT(cgroup, HasSubstr(b.CgroupsPath())) << cgroup;
  EXPECT_EQ(root.Husk({"delete", b.Id()}).exit_code, 0);
  EXPECT_TRUE(NoLeftovers(root, b.Id(), b));
}

// §2.4 / crun#1200: a recorded pid whose start time differs is a different process: it
// is never signalled and the container counts as stopped.
TEST_F(LifecycleTest, RecycledPidIsNeverSignalled) {
  TestRoot root;
  Bundle b;
  b.SetArgs({"/bin/sleep", "1000"});
  b.Write();
  const std::string id = b.Id();
  ASSERT_EQ(CreateOk(root, b, id, {"--pid-file", b.Path() + "/init.pid"}).exit_code, 0);
  pid_t init = ReadPidFile(b.Path() + "/init.pid");
  ASSERT_EQ(root.Husk({"start", id}).exit_code, 0);

  Sleeper sleeper;
  ASSERT_TRUE(sleeper.Alive());
  // Point the record at our sleeper with a start time that is not the sleeper's.
  const std::string state_path = root.Path() + "/" + id + "/state.json";
  rapidjson::Document record = ParseJson(ReadFile(state_path));
  ASSERT_TRUE(record.HasMember("pid") && record.HasMember("startTime")) << ToJson(record);
  record["pid"].SetInt(sleeper.pid());
  const unsigned long long real_start = ProcStartTime(sleeper.pid());
  ASSERT_GT(real_start, 0u);
  record["startTime"].SetUint64(real_start + 1000);
  WriteFile(state_path, ToJson(record), 0600);

  EXPECT_EQ(root.Status(id), "stopped");
  for (const std::vector<std::string>& kill :
       {std::vector<std::string>{"kill", id, "9"}, {"kill", id, "TERM"}}) {
    CmdResult r = root.Husk(kill);
    EXPECT_EQ(r.exit_code, 1) << r;
    EXPECT_THAT(r.err, HasSubstr("container not running")) << r;
  }
  EXPECT_EQ(root.Husk({"kill", "--all", id, "9"}).exit_code, 0);
  EXPECT_TRUE(sleeper.Alive()) << "husk signalled a recycled pid";

  KillOwnChild(init);  // the real init; its record no longer points at it
  CmdResult del = root.Husk({"delete", "--force", id});
  EXPECT_EQ(del.exit_code, 0) << del;
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_TRUE(sleeper.Alive()) << "delete signalled a recycled pid";
  EXPECT_TRUE(NoLeftovers(root, id, b));
}

}  // namespace
}  // namespace husk::testing
