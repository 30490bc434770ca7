// OCI hooks in real containers (cli-contract.md §7): when each of the six kinds runs
// (order across create/start/delete), in which namespaces, with which state on stdin,
// and the failure policy: a failing or timed-out hook before the user program aborts and
// leaves nothing behind; poststart failure stops the container; poststop failure is a
// warning. Hooks are /bin/sh scripts written by the test. Needs root.
#include <signal.h>
#include <unistd.h>

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

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A recorder: `<script> <kind> [exit-code]` saves its stdin to <d>/<kind>.json, appends
// <kind> to <d>/order, saves its mount and net namespace links, prints a line on stdout
// and stderr and exits with the code. The prestart one also records what the init (the
// state's pid) looks like at that moment.
std::string RecorderScript(const std::string& d) {
  return "#!/bin/sh\n"
         "d=" +
         d +
         "\n"
         "umask 0\n"  // a hook in a user namespace may append to what a host hook made
         "cat > $d/$1.json\n"
         "echo $1 >> $d/order\n"
         "readlink /proc/self/ns/mnt > $d/$1.mnt\n"
         "readlink /proc/self/ns/net > $d/$1.net\n"
         "if [ \"$1\" = prestart ]; then\n"
         "  pid=$(sed -n 's/.*\"pid\":\\([0-9]*\\).*/\\1/p' $d/$1.json)\n"
         "  readlink /proc/$pid/ns/mnt > $d/prestart.init-mnt\n"
         "  readlink /proc/$pid/ns/net > $d/prestart.init-net\n"
         "  cat /proc/$pid/mountinfo > $d/prestart.init-mountinfo\n"
         "fi\n"
         "echo \"out of $1\"\n"
         "echo \"err of $1\" >&2\n"
         "exit ${2:-0}\n";
}

std::string HookJson(const std::string& path, const std::string& kind, int code = 0,
                     int timeout = 0) {
  std::string json = "{\"path\": \"" + path + "\", \"args\": [\"rec\", \"" + kind + "\", \"" +
                     std::to_string(code) + "\"]";
  if (timeout > 0) json += ", \"timeout\": " + std::to_string(timeout);
  return json + "}";
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string NsLink(pid_t pid, const char* ns) {
  std::error_code ec;
  auto target = std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/ns/" + ns, ec);
  return ec ? "" : target.string();
}

// stderr's logrus text line with its \" turned back into ", for matching messages.
std::string Message(const CmdResult& r) {
  std::string out;
  for (size_t i = 0; i < r.err.size(); ++i) {
    if (r.err[i] == '\\' && i + 1 < r.err.size() && r.err[i + 1] == '"') continue;
    out += r.err[i];
  }
  return out;
}

bool Running(pid_t pid) {
  char state = ProcState(pid);
  return state != '?' && state != 'Z';
}

// A container whose hooks record into a shared dir: host hooks write it directly, the
// startContainer hook (a copy of the script in the private rootfs) through a bind mount
// at /tmp. The user program records that it ran in <dir>/program.
class HooksTest : public ContainerTest {
 protected:
  void SetUp() override {
    ContainerTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    rootfs_ = bundle_.UsePrivateRootfs();
    host_hook_ = dir_.Path() + "/rec.sh";
    WriteFile(host_hook_, RecorderScript(dir_.Path()), 0755);
    WriteFile(rootfs_ + "/hook.sh", RecorderScript("/tmp"), 0755);
    AddBindMount(bundle_, dir_.Path(), "/tmp");
    bundle_.SetArgs({"/bin/sh", "-c", "echo ran > /tmp/program; exec sleep 1000"});
  }
  std::string Host(const std::string& kind, int code = 0, int timeout = 0) {
    return HookJson(host_hook_, kind, code, timeout);
  }
  std::string InContainer(const std::string& kind, int code = 0) {
    return HookJson("/hook.sh", kind, code);
  }
  // One recorder of each kind, named after it.
  std::string EveryKind() {
    std::string json = "{";
    for (const char* kind : {"prestart", "createRuntime", "createContainer", "startContainer",
                             "poststart", "poststop"}) {
      std::string hook = std::string(kind) == "startContainer" ? InContainer(kind) : Host(kind);
      json += std::string(json.size() > 1 ? ", " : "") + "\"" + kind + "\": [" + hook + "]";
    }
    return json + "}";
  }
  std::string Order() { return Read("order"); }
  std::string Read(const std::string& name) {
    std::error_code ec;
    if (!std::filesystem::exists(dir_.Path() + "/" + name, ec)) return "";
    return ReadFile(dir_.Path() + "/" + name);
  }
  rapidjson::Document StateOf(const std::string& kind) { return ParseJson(Read(kind + ".json")); }
  bool ProgramRan() { return std::filesystem::exists(dir_.Path() + "/program"); }

  TestRoot root_;
  Bundle bundle_;
  TempDir dir_{"hooks"};
  std::string rootfs_, host_hook_;
};

TEST_F(HooksTest, EveryKindRunsInOrderWithItsStateAndNamespaces) {
  bundle_.SetJson("/annotations", R"({"org.test/a": "b"})");
  bundle_.SetJson("/hooks", EveryKind());
  bundle_.Write();
  const std::string id = bundle_.Id();
  const std::string pid_file = dir_.Path() + "/pid";

  CreateOk(root_, bundle_, id, {"--pid-file", pid_file});
  EXPECT_EQ(Order(), "prestart\ncreateRuntime\ncreateContainer\n");
  EXPECT_FALSE(ProgramRan());
  const pid_t pid = ReadPidFile(pid_file);
  ASSERT_GT(pid, 0);
  const std::string host_mnt = NsLink(getpid(), "mnt"), host_net = NsLink(getpid(), "net");
  const std::string ctr_mnt = NsLink(pid, "mnt"), ctr_net = NsLink(pid, "net");
  ASSERT_NE(host_mnt, ctr_mnt);
  ASSERT_NE(host_net, ctr_net);

  // prestart ran once the init's namespaces and mounts existed, before pivot_root: the
  // container's /proc is mounted below the rootfs path.
  EXPECT_EQ(Trim(Read("prestart.init-mnt")), ctr_mnt);
  EXPECT_EQ(Trim(Read("prestart.init-net")), ctr_net);
  EXPECT_THAT(Read("prestart.init-mountinfo"), HasSubstr(" " + rootfs_ + "/proc "));

  ASSERT_EQ(root_.Husk({"start", id}).exit_code, 0);
  EXPECT_EQ(Order(), "prestart\ncreateRuntime\ncreateContainer\nstartContainer\npoststart\n");
  EXPECT_TRUE(WaitForFileLines(dir_.Path() + "/program", 1));
  ASSERT_EQ(root_.Husk({"kill", id, "KILL"}).exit_code, 0);
  ASSERT_TRUE(WaitForStatus(root_, id, "stopped"));
  EXPECT_EQ(Order(), "prestart\ncreateRuntime\ncreateContainer\nstartContainer\npoststart\n");
  CmdResult del = root_.Husk({"delete", id});
  EXPECT_EQ(del.exit_code, 0) << del;
  EXPECT_EQ(Order(),
            "prestart\ncreateRuntime\ncreateContainer\nstartContainer\npoststart\npoststop\n");

  // Namespaces: runtime hooks in the host's, createContainer/startContainer in the
  // container's.
  for (const char* kind : {"prestart", "createRuntime", "poststart", "poststop"}) {
    EXPECT_EQ(Trim(Read(std::string(kind) + ".mnt")), host_mnt) << kind;
    EXPECT_EQ(Trim(Read(std::string(kind) + ".net")), host_net) << kind;
  }
  for (const char* kind : {"createContainer", "startContainer"}) {
    EXPECT_EQ(Trim(Read(std::string(kind) + ".mnt")), ctr_mnt) << kind;
    EXPECT_EQ(Trim(Read(std::string(kind) + ".net")), ctr_net) << kind;
  }

  // The state on stdin: status and pid as seen where the hook runs.
  struct Want {
    const char* kind;
    const char* status;
    int pid;  // -1: no pid member
  };
  for (const Want& w :
       {Want{"prestart", "creating", pid}, Want{"createRuntime", "creating", pid},
        Want{"createContainer", "creating", 1}, Want{"startContainer", "created", 1},
        Want{"poststart", "running", pid}, Want{"poststop", "stopped", -1}}) {
    SCOPED_TRACE(w.kind);
    rapidjson::Document st = StateOf(w.kind);
    ASSERT_TRUE(st.IsObject());
    EXPECT_STREQ(st["id"].GetString(), id.c_str());
    EXPECT_STREQ(st["bundle"].GetString(), bundle_.Path().c_str());
    EXPECT_STREQ(st["status"].GetString(), w.status);
    EXPECT_STREQ(st["ociVersion"].GetString(), "1.0.2-dev");
    ASSERT_TRUE(st.HasMember("annotations"));
    EXPECT_STREQ(st["annotations"]["org.test/a"].GetString(), "b");
    if (w.pid < 0) {
      EXPECT_FALSE(st.HasMember("pid"));
    } else {
      ASSERT_TRUE(st.HasMember("pid"));
      EXPECT_EQ(st["pid"].GetInt(), w.pid);
    }
  }
  EXPECT_TRUE(NoLeftovers(root_, id, bundle_));
}

// Two-stage create (a time namespace makes the init a sibling forked after the
// namespaces are made) and a user namespace: the create hooks still get the init's host
// pid and run at the same points.
TEST_F(HooksTest, CreateHooksWithTimeAndUserNamespaces) {
  ASSERT_EQ(::chmod(dir_.Path().c_str(), 0777), 0);  // container root is uid 100000 on the host
  for (const char* extra : {"time", "user"}) {
    SCOPED_TRACE(extra);
    for (const auto& entry : std::filesystem::directory_iterator(dir_.Path())) {
      if (entry.path() != host_hook_) std::filesystem::remove(entry.path());
    }
    Bundle b;
    std::string rootfs = b.UsePrivateRootfs();
    WriteFile(rootfs + "/hook.sh", RecorderScript("/tmp"), 0755);
    AddBindMount(b, dir_.Path(), "/tmp");
    b.SetArgs({"/bin/sleep", "1000"});
    b.SetJson("/linux/namespaces",
              std::string(R"([{"type":"pid"},{"type":"network"},{"type":"ipc"},{"type":"uts"},)") +
                  R"({"type":"mount"},{"type":")" + extra + R"("}])");
    if (std::string(extra) == "user") {
      b.SetJson("/linux/uidMappings", R"([{"containerID":0,"hostID":100000,"size":65536}])");
      b.SetJson("/linux/gidMappings", R"([{"containerID":0,"hostID":100000,"size":65536}])");
    }
    b.SetJson("/hooks", "{\"prestart\": [" + Host("prestart") + "], \"createRuntime\": [" +
                            Host("createRuntime") + "], \"createContainer\": [" +
                            Host("createContainer") + "], \"startContainer\": [" +
                            InContainer("startContainer") + "]}");
    b.Write();
    const std::string pid_file = dir_.Path() + "/pid";
    CreateOk(root_, b, b.Id(), {"--pid-file", pid_file});
    EXPECT_EQ(Order(), "prestart\ncreateRuntime\ncreateContainer\n");
    const pid_t pid = ReadPidFile(pid_file);
    EXPECT_EQ(StateOf("createRuntime")["pid"].GetInt(), pid);
    EXPECT_EQ(StateOf("createContainer")["pid"].GetInt(), 1);
    EXPECT_EQ(Trim(Read("prestart.init-mnt")), NsLink(pid, "mnt"));
    EXPECT_EQ(Trim(Read("createContainer.mnt")), NsLink(pid, "mnt"));
    CmdResult start = root_.Husk({"start", b.Id()});
    EXPECT_EQ(start.exit_code, 0) << start;
    EXPECT_EQ(Order(), "prestart\ncreateRuntime\ncreateContainer\nstartContainer\n");
    EXPECT_EQ(root_.Husk({"delete", "--force", b.Id()}).exit_code, 0);
  }
}

// Failure before the user program: create fails naming the hook, the init, cgroup and
// state dir are gone, the program never ran, and poststop still runs (lifecycle step 13).
class CreateHookFailureTest : public HooksTest,
                              public ::testing::WithParamInterface<const char*> {};

TEST_P(CreateHookFailureTest, FailsCreateAndLeavesNothing) {
  const std::string kind = GetParam();
  // A prestart recorder first (it saves the init's host pid), unless prestart is the
  // one that fails.
  std::string hooks = "{\"prestart\": [" + Host("prestart", kind == "prestart" ? 3 : 0) + "]";
  if (kind != "prestart") hooks += ", \"" + kind + "\": [" + Host(kind, 3) + "]";
  hooks += ", \"startContainer\": [" + InContainer("startContainer") + "]";
  hooks += ", \"poststop\": [" + Host("poststop") + "]}";
  bundle_.SetJson("/hooks", hooks);
  bundle_.Write();
  const std::string id = bundle_.Id();
  CmdResult r = HuskDetached(root_, {"create", "--bundle", bundle_.Path(), id});
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_THAT(Message(r), HasSubstr("create \"" + id + "\": " + kind + " hook 0 (\"" + host_hook_ +
                                    "\"): exit status 3"));
  EXPECT_THAT(Message(r), HasSubstr("stdout: out of " + kind)) << r;
  EXPECT_THAT(Message(r), HasSubstr("stderr: err of " + kind)) << r;
  EXPECT_TRUE(NoLeftovers(root_, id, bundle_));
  rapidjson::Document pre = StateOf("prestart");
  ASSERT_TRUE(pre.IsObject() && pre.HasMember("pid"));
  EXPECT_FALSE(Running(pre["pid"].GetInt())) << "the init survived";
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(ProgramRan());
  std::string expected = kind == "prestart" ? "prestart\n" : "prestart\n" + kind + "\n";
  EXPECT_EQ(Order(), expected + "poststop\n");
  EXPECT_STREQ(StateOf("poststop")["status"].GetString(), "stopped");
}

INSTANTIATE_TEST_SUITE_P(Kinds, CreateHookFailureTest,
                         ::testing::Values("prestart", "createRuntime", "createContainer"));

TEST_F(HooksTest, TimeoutKillsTheHookAndFailsCreate) {
  const std::string gc = dir_.Path() + "/grandchild";
  const std::string slow = dir_.Path() + "/slow.sh";
  WriteFile(slow, "#!/bin/sh\ncat > /dev/null\nsleep 100 & printf %s $! > " + gc + "\nsleep 100\n",
            0755);
  bundle_.SetJson("/hooks", "{\"prestart\": [" + Host("prestart") +
                                "], \"createRuntime\": [{\"path\": \"" + slow +
                                "\", \"timeout\": 1}]}");
  bundle_.Write();
  const std::string id = bundle_.Id();
  auto start = std::chrono::steady_clock::now();
  CmdResult r = HuskDetached(root_, {"create", "--bundle", bundle_.Path(), id});
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_LT(took, std::chrono::seconds(10));
  EXPECT_THAT(Message(r), HasSubstr("createRuntime hook 0 (\"" + slow + "\"): timed out after 1s"))
      << r;
  EXPECT_TRUE(NoLeftovers(root_, id, bundle_));
  rapidjson::Document pre = StateOf("prestart");
  ASSERT_TRUE(pre.IsObject() && pre.HasMember("pid"));
  EXPECT_FALSE(Running(pre["pid"].GetInt())) << "the init survived";
  int grandchild = ReadPidFile(gc);
  ASSERT_GT(grandchild, 0);
  EXPECT_TRUE(WaitForPidGone(grandchild)) << "the hook's child survived the timeout";
  EXPECT_FALSE(ProgramRan());
}

TEST_F(HooksTest, StartContainerFailureFailsStartAndStopsTheContainer) {
  bundle_.SetJson("/hooks", "{\"startContainer\": [" + InContainer("startContainer", 5) +
                                "], \"poststart\": [" + Host("poststart") + "], \"poststop\": [" +
                                Host("poststop") + "]}");
  bundle_.Write();
  const std::string id = bundle_.Id();
  CreateOk(root_, bundle_, id);
  CmdResult start = root_.Husk({"start", id});
  EXPECT_EQ(start.exit_code, 1) << start;
  EXPECT_THAT(Message(start), HasSubstr("start \"" + id +
                                        "\": startContainer hook 0 (\"/hook.sh\"): exit status 5"))
      << start;
  EXPECT_THAT(Message(start), HasSubstr("stdout: out of startContainer")) << start;
  EXPECT_TRUE(WaitForStatus(root_, id, "stopped"));
  EXPECT_FALSE(ProgramRan());
  EXPECT_EQ(Order(), "startContainer\n");  // no poststart
  CmdResult del = root_.Husk({"delete", id});
  EXPECT_EQ(del.exit_code, 0) << del;
  EXPECT_EQ(Order(), "startContainer\npoststop\n");
  EXPECT_TRUE(NoLeftovers(root_, id, bundle_));
}

TEST_F(HooksTest, PoststartFailureFailsStartAndKillsTheContainer) {
  bundle_.SetJson("/hooks",
                  "{\"poststart\": [" + Host("poststart", 7) + ", " + Host("second") + "]}");
  bundle_.Write();
  const std::string id = bundle_.Id();
  CreateOk(root_, bundle_, id);
  const int pid = StatePid(root_, id);
  CmdResult start = root_.Husk({"start", id});
  EXPECT_EQ(start.exit_code, 1) << start;
  EXPECT_THAT(Message(start), HasSubstr("start \"" + id + "\": poststart hook 0 (\"" + host_hook_ +
                                        "\"): exit status 7"))
      << start;
  EXPECT_EQ(Order(), "poststart\n");  // the later poststart hook does not run
  EXPECT_TRUE(WaitForStatus(root_, id, "stopped"));
  EXPECT_TRUE(WaitForPidGone(pid));
  CmdResult del = root_.Husk({"delete", id});
  EXPECT_EQ(del.exit_code, 0) << del;
  EXPECT_TRUE(NoLeftovers(root_, id, bundle_));
}

TEST_F(HooksTest, PoststopFailureIsAWarningAndLaterHooksRun) {
  bundle_.SetJson("/hooks", "{\"poststop\": [" + Host("first", 1) + ", " + Host("second") + ", " +
                                Host("third", 2) + ", " + Host("fourth") + "]}");
  bundle_.Write();
  const std::string id = bundle_.Id();
  CreateOk(root_, bundle_, id);
  ASSERT_EQ(root_.Husk({"start", id}).exit_code, 0);
  ASSERT_EQ(root_.Husk({"kill", id, "KILL"}).exit_code, 0);
  ASSERT_TRUE(WaitForStatus(root_, id, "stopped"));
  CmdResult del = root_.Husk({"delete", id});
  EXPECT_EQ(del.exit_code, 0) << del;
  EXPECT_EQ(Order(), "first\nsecond\nthird\nfourth\n");
  EXPECT_THAT(Message(del), HasSubstr("poststop hook 0 (\"" + host_hook_ + "\"): exit status 1"))
      << del;
  EXPECT_THAT(Message(del), HasSubstr("poststop hook 2 (\"" + host_hook_ + "\"): exit status 2"))
      << del;
  EXPECT_THAT(Message(del), HasSubstr("warn")) << del;
  EXPECT_FALSE(root_.Husk({"state", id}).ok());
  EXPECT_TRUE(NoLeftovers(root_, id, bundle_));
}

// runtime.md: later edits to config.json have no effect.
TEST_F(HooksTest, HooksAfterCreateAreTheOnesConfiguredAtCreate) {
  bundle_.SetJson("/hooks", "{\"poststart\": [" + Host("poststart") + "], \"poststop\": [" +
                                Host("poststop") + "]}");
  bundle_.Write();
  const std::string id = bundle_.Id();
  CreateOk(root_, bundle_, id);
  bundle_.SetJson("/hooks", "{\"poststart\": [" + Host("edited-poststart") + "], \"poststop\": [" +
                                Host("edited-poststop") + "]}");
  bundle_.Write();
  ASSERT_EQ(root_.Husk({"start", id}).exit_code, 0);
  CmdResult del = root_.Husk({"delete", "--force", id});
  EXPECT_EQ(del.exit_code, 0) << del;
  EXPECT_EQ(Order(), "poststart\npoststop\n");
}

TEST_F(HooksTest, RunRunsEveryKind) {
  bundle_.SetArgs({"/bin/sh", "-c", "echo ran > /tmp/program; exit 4"});
  bundle_.SetJson("/hooks", EveryKind());
  bundle_.Write();
  const std::string id = bundle_.Id();
  CmdResult run = root_.Husk({"run", "--bundle", bundle_.Path(), id});
  EXPECT_EQ(run.exit_code, 4) << run;
  EXPECT_EQ(Order(),
            "prestart\ncreateRuntime\ncreateContainer\nstartContainer\npoststart\npoststop\n");
  EXPECT_TRUE(ProgramRan());
  EXPECT_TRUE(NoLeftovers(root_, id, bundle_));
}

TEST_F(HooksTest, RunWithAFailingHookFailsAndLeavesNothing) {
  bundle_.SetJson("/hooks", "{\"createContainer\": [" + Host("createContainer", 9) +
                                "], \"poststop\": [" + Host("poststop") + "]}");
  bundle_.Write();
  const std::string id = bundle_.Id();
  CmdResult run = root_.Husk({"run", "--bundle", bundle_.Path(), id});
  EXPECT_EQ(run.exit_code, 1) << run;
  EXPECT_THAT(Message(run), HasSubstr("createContainer hook 0")) << run;
  EXPECT_FALSE(ProgramRan());
  EXPECT_EQ(Order(), "createContainer\npoststop\n");
  EXPECT_TRUE(NoLeftovers(root_, id, bundle_));
}

// The failing startContainer hook's error reaches the user once: from `start`, not again
// from the init on the container's stderr (which `run` shares).
TEST_F(HooksTest, RunWithAFailingStartContainerHookReportsItOnce) {
  bundle_.SetJson("/hooks", "{\"startContainer\": [" + InContainer("startContainer", 6) +
                                "], \"poststop\": [" + Host("poststop") + "]}");
  bundle_.Write();
  const std::string id = bundle_.Id();
  CmdResult run = root_.Husk({"run", "--bundle", bundle_.Path(), id});
  EXPECT_EQ(run.exit_code, 1) << run;
  const std::string msg = Message(run);
  const std::string what = "startContainer hook 0 (\"/hook.sh\"): exit status 6";
  ASSERT_THAT(msg, HasSubstr(what)) << run;
  EXPECT_EQ(msg.find(what), msg.rfind(what)) << run;
  EXPECT_FALSE(ProgramRan());
  EXPECT_EQ(Order(), "startContainer\npoststop\n");
  EXPECT_TRUE(NoLeftovers(root_, id, bundle_));
}

}  // namespace
}  // namespace husk::testing
