// linux.seccomp on real containers: the filter is loaded (Seccomp: 2 in /proc/self/status)
// with and without noNewPrivileges, each action does what the kernel documents, Docker's
// and Podman's default profiles run a container and refuse what they should (with ENOSYS
// for syscalls newer than the profile), SCMP_ACT_NOTIFY reaches a real agent
// (conformance/agent) with the container process state, the compiled program is cached
// under --root, and bad profiles fail create with the field named and nothing left behind.
// Raw syscalls are made by the conformance probe (copied into a private rootfs).
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "tests/support/background_process.h"
#include "tests/support/config_util.h"
#include "tests/support/harness.h"
#include "tests/support/lifecycle_util.h"
#include "tests/support/seccomp_profiles.h"

namespace husk::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The agent binary in the background, stopped when the test ends.
class Agent {
 public:
  Agent()
      : dir_("agent"),
        socket_(dir_.Path() + "/agent.sock"),
        log_(dir_.Path() + "/agent.log"),
        process_({HUSK_SECCOMP_AGENT, socket_, log_}) {
    for (int i = 0; i < 500 && !std::filesystem::exists(socket_); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_TRUE(std::filesystem::exists(socket_)) << "the seccomp agent did not start";
  }
  const std::string& Socket() const { return socket_; }
  std::string Log() const {
    std::error_code ec;
    return std::filesystem::exists(log_, ec) ? ReadFile(log_) : "";
  }
  // The JSON of the first "state" line.
  std::string State() const {
    for (const std::string& line : SplitLines(Log())) {
      if (line.rfind("state ", 0) == 0) return line.substr(6);
    }
    return "";
  }

 private:
  TempDir dir_;
  std::string socket_, log_;
  BackgroundProcess process_;
};

class SeccompTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (::geteuid() == 0) BecomeSubreaper();
  }
  void SetUp() override { HUSK_REQUIRE_CONTAINERS(); }

  // A bundle with the probe at /probe in a private rootfs.
  static void AddProbe(Bundle& b) {
    std::string rootfs = b.UsePrivateRootfs();
    ASSERT_EQ(std::system(("cp " HUSK_PROBE " " + rootfs + "/probe").c_str()), 0);
  }
  // Runs the probe with --syscall=... --syscalls-only under the current config and
  // returns {nr: (ret, errno)} from its report.
  std::vector<std::pair<long long, long long>> Syscalls(Bundle& b,
                                                        const std::vector<std::string>& calls) {
    std::vector<std::string> args = {"/probe", "--syscalls-only"};
    for (const std::string& c : calls) args.push_back("--syscall=" + c);
    b.SetArgs(args);
    b.Write();
    CmdResult r = root_.Husk({"run", "--bundle", b.Path(), b.Id()});
    EXPECT_TRUE(r.ok()) << r;
    std::vector<std::pair<long long, long long>> out;
    try {
      rapidjson::Document d = ParseJson(r.out);
      for (const auto& s : d["syscalls"].GetArray()) {
        out.emplace_back(s["ret"].GetInt64(), s["errno"].GetInt64());
      }
    } catch (const std::exception& e) {
      ADD_FAILURE() << e.what() << "\n" << r;
    }
    return out;
  }
  void SetSeccomp(Bundle& b, const std::string& json) { b.SetJson("/linux/seccomp", json); }

  TestRoot root_;
};

constexpr char kMkdirErrno33[] = R"({"defaultAction": "SCMP_ACT_ALLOW",
    "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 33}]})";

TEST_F(SeccompTest, FilterLoadedWithAndWithoutNoNewPrivileges) {
  for (bool nnp : {true, false}) {
    Bundle b;
    SetSeccomp(b, kMkdirErrno33);
    b.SetJson("/process/noNewPrivileges", nnp ? "true" : "false");
    CmdResult r = RunScript(root_, b,
                            "grep -E '^(Seccomp|Seccomp_filters|NoNewPrivs):' /proc/self/status; "
                            "mkdir /dev/shm/d 2>&1; echo rc=$?; touch /dev/shm/f && echo touch-ok");
    ASSERT_TRUE(r.ok()) << r;
    EXPECT_THAT(r.out, HasSubstr("Seccomp:\t2\n")) << nnp;
    EXPECT_THAT(r.out, HasSubstr("Seccomp_filters:\t1\n")) << nnp;
    EXPECT_THAT(r.out, HasSubstr(nnp ? "NoNewPrivs:\t1" : "NoNewPrivs:\t0"));
    EXPECT_THAT(r.out, HasSubstr("Numerical argument out of domain")) << r.out;  // EDOM = 33
    EXPECT_THAT(r.out, HasSubstr("rc=1\ntouch-ok\n"));
  }
}

TEST_F(SeccompTest, ActionsKillTrapTraceLogErrno) {
  Bundle b;
  AddProbe(b);
  // One rule per action on distinct harmless syscalls (their arguments are ignored).
  SetSeccomp(b, R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
      {"names": ["getppid"], "action": "SCMP_ACT_TRACE"},
      {"names": ["getpgrp"], "action": "SCMP_ACT_LOG"},
      {"names": ["sched_yield"], "action": "SCMP_ACT_ERRNO", "errnoRet": 95},
      {"names": ["getpriority"], "action": "SCMP_ACT_KILL_PROCESS"},
      {"names": ["getsid"], "action": "SCMP_ACT_TRAP"},
      {"names": ["setsid"], "action": "SCMP_ACT_KILL_THREAD"},
      {"names": ["getuid"], "action": "SCMP_ACT_KILL"}]})");
  auto got = Syscalls(b, {std::to_string(SYS_getppid), std::to_string(SYS_getpgrp),
                          std::to_string(SYS_sched_yield)});
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], std::make_pair(-1LL, static_cast<long long>(ENOSYS)))
      << "TRACE without a tracer fails with ENOSYS";
  EXPECT_EQ(got[1].second, 0) << "LOG allows";
  EXPECT_EQ(got[2], std::make_pair(-1LL, 95LL));
  // The killing actions end the process with SIGSYS: `run` exits 128+31.
  for (int nr : {SYS_getpriority, SYS_getsid, SYS_setsid, SYS_getuid}) {
    b.SetArgs({"/probe", "--syscalls-only", "--syscall=" + std::to_string(nr)});
    b.Write();
    CmdResult r = root_.Husk({"run", "--bundle", b.Path(), b.Id()});
    EXPECT_EQ(r.exit_code, 128 + SIGSYS) << "syscall " << nr << ": " << r;
  }
}

TEST_F(SeccompTest, DockerDefaultProfile) {
  Bundle b;
  AddProbe(b);
  std::vector<std::string> caps = DockerDefaultCaps();
  std::string list = "[";
  for (size_t i = 0; i < caps.size(); ++i) list += (i ? ",\"" : "\"") + caps[i] + "\"";
  list += "]";
  for (const char* set : {"bounding", "effective", "permitted"}) {
    b.SetJson(std::string("/process/capabilities/") + set, list);
  }
  b.Remove("/process/capabilities/ambient");
  b.SetJson("/process/noNewPrivileges", "false");  // Docker's default
  SetSeccomp(b, EngineProfileToOci(SeccompFixture(HUSK_SOURCE_DIR, "docker-default.json"), caps));
  auto got = Syscalls(b, {std::to_string(SYS_getpid), std::to_string(SYS_kexec_load),
                          std::to_string(SYS_add_key), "1000",
                          std::to_string(SYS_personality) + ",0xffffffff",
                          std::to_string(SYS_personality) + ",0x1234"});
  ASSERT_EQ(got.size(), 6u);
  EXPECT_EQ(got[0].second, 0);
  EXPECT_EQ(got[1].second, EPERM) << "kexec_load";
  EXPECT_EQ(got[2].second, EPERM) << "add_key";
  EXPECT_EQ(got[3].second, ENOSYS) << "a syscall newer than the profile";
  EXPECT_EQ(got[4].second, 0) << "personality query";
  EXPECT_EQ(got[5].second, EPERM) << "personality 0x1234";
  // And a real shell works under it.
  b.SetArgs({"/bin/sh", "-c", "ls / >/dev/null && echo ok"});
  b.Write();
  CmdResult r = root_.Husk({"run", "--bundle", b.Path(), b.Id()});
  EXPECT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.out, "ok\n");
}

TEST_F(SeccompTest, PodmanDefaultProfile) {
  Bundle b;
  AddProbe(b);
  SetSeccomp(b, EngineProfileToOci(SeccompFixture(HUSK_SOURCE_DIR, "podman-default.json"),
                                   {"CAP_CHOWN", "CAP_KILL", "CAP_SETUID", "CAP_SETGID"}));
  auto got = Syscalls(b, {std::to_string(SYS_getpid), std::to_string(SYS_kexec_load), "1000",
                          std::to_string(SYS_socket) + ",16,3,9"});
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].second, 0);
  EXPECT_EQ(got[1].second, EPERM);
  EXPECT_EQ(got[2].second, ENOSYS);
  EXPECT_EQ(got[3].second, EINVAL) << "audit netlink socket without CAP_AUDIT_WRITE";
}

TEST_F(SeccompTest, NotifyReachesTheAgentWithTheContainerState) {
  for (bool nnp : {false, true}) {
    Agent agent;
    Bundle b;
    b.SetJson("/process/noNewPrivileges", nnp ? "true" : "false");
    b.SetJson("/annotations", R"({"org.example.key": "value"})");
    SetSeccomp(b, R"({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": ")" + agent.Socket() +
                      R"(", "listenerMetadata": "meta-data",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]})");
    b.SetArgs({"/bin/sh", "-c", "mkdir /dev/shm/notified && echo mkdir-ok; "
                                "test -e /dev/shm/notified || echo not-created"});
    Created c = CreateContainer(root_, b);
    ASSERT_TRUE(c.ok()) << c.result;
    std::string out = StartAndCollect(root_, b, c);
    // The agent answered mkdir with success without running it.
    EXPECT_EQ(out, "mkdir-ok\nnot-created\n") << "nnp " << nnp << "\n" << agent.Log();
    EXPECT_THAT(agent.Log(), HasSubstr("fds 1\n"));
    EXPECT_THAT(agent.Log(), HasSubstr("fake"));
    rapidjson::Document st = ParseJson(agent.State());
    EXPECT_STREQ(st["ociVersion"].GetString(), "1.3.0");
    ASSERT_TRUE(st["fds"].IsArray());
    ASSERT_EQ(st["fds"].Size(), 1u);
    EXPECT_STREQ(st["fds"][0].GetString(), "seccompFd");
    EXPECT_EQ(st["pid"].GetInt(), c.pid);
    EXPECT_STREQ(st["metadata"].GetString(), "meta-data");
    const rapidjson::Value& s = st["state"];
    EXPECT_STREQ(s["id"].GetString(), b.Id().c_str());
    EXPECT_STREQ(s["status"].GetString(), "creating");
    EXPECT_EQ(s["pid"].GetInt(), c.pid);
    EXPECT_STREQ(s["bundle"].GetString(), b.Path().c_str());
    EXPECT_STREQ(s["annotations"]["org.example.key"].GetString(), "value");
    EXPECT_TRUE(root_.Husk({"delete", b.Id()}).ok());
  }
}

// Syscalls husk's init still makes after loading the filter may be notified too (runc's
// "important syscalls" case): the agent has the fd before any of them.
TEST_F(SeccompTest, NotifyOnSyscallsTheInitUses) {
  for (bool nnp : {false, true}) {
    Agent agent;
    Bundle b;
    b.SetJson("/process/noNewPrivileges", nnp ? "true" : "false");
    SetSeccomp(b, R"({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": ")" + agent.Socket() +
                      R"(", "syscalls": [{"names": ["execve", "openat", "read", "close", "fcntl",
        "recvmsg", "write", "accept4", "setresuid", "capset"], "action": "SCMP_ACT_NOTIFY"}]})");
    CmdResult r = RunScript(root_, b, "echo hello");
    EXPECT_TRUE(r.ok()) << r << agent.Log();
    EXPECT_EQ(r.out, "hello\n");
    EXPECT_THAT(agent.Log(), HasSubstr("continue"));
  }
}

TEST_F(SeccompTest, NotifyWithoutAReachableAgentFailsCreateCleanly) {
  TempDir dir("no-agent");
  Bundle b;
  std::string sock = dir.Path() + "/nobody.sock";
  SetSeccomp(b, R"({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": ")" + sock +
                    R"(", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]})");
  Created c = CreateContainer(root_, b);
  EXPECT_FALSE(c.ok());
  EXPECT_THAT(c.result.err, HasSubstr("send the seccomp fd to the agent at"));
  EXPECT_THAT(c.result.err, HasSubstr(sock));
  EXPECT_THAT(c.result.err, HasSubstr("no such file or directory"));
  EXPECT_TRUE(NoLeftovers(root_, b.Id(), b));
}

TEST_F(SeccompTest, BadProfilesFailCreateNamingTheField) {
  struct Case {
    std::string profile, error;
  } cases[] = {
      {R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"],
           "action": "SCMP_ACT_ALLOW", "errnoRet": 1}]})",
       "linux/seccomp/syscalls/0/errnoRet: SCMP_ACT_ALLOW does not return an errno"},
      {R"({"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_NOPE"]})",
       "linux/seccomp/flags/0: unknown seccomp flag"},
      {R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"],
           "action": "SCMP_ACT_NOTIFY"}]})",
       "linux/seccomp/listenerPath: required when a rule uses SCMP_ACT_NOTIFY"},
  };
  for (const Case& c : cases) {
    Bundle b;
    SetSeccomp(b, c.profile);
    Created created = CreateContainer(root_, b);
    EXPECT_FALSE(created.ok());
    EXPECT_THAT(created.result.err, HasSubstr(c.error)) << c.profile;
    EXPECT_TRUE(NoLeftovers(root_, b.Id(), b));
  }
}

TEST_F(SeccompTest, ProgramIsCachedAndKeptForExec) {
  Bundle a, b;
  SetSeccomp(a, kMkdirErrno33);
  SetSeccomp(b, kMkdirErrno33);
  a.Write();
  CmdResult first = root_.Husk({"--debug", "run", "--bundle", a.Path(), a.Id()});
  ASSERT_TRUE(first.ok()) << first;
  EXPECT_THAT(first.err, HasSubstr("seccomp: compiled"));
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(root_.Path() + "/@seccomp")) {
    files.push_back(e.path().filename());
  }
  ASSERT_EQ(files.size(), 1u);
  // The second container with the same profile does not compile, and keeps its own copy.
  Created c = CreateContainer(root_, b, {}, {});
  ASSERT_TRUE(c.ok()) << c.result;
  EXPECT_TRUE(std::filesystem::exists(root_.Path() + "/" + b.Id() + "/seccomp.bpf"));
  EXPECT_TRUE(root_.Husk({"delete", "--force", b.Id()}).ok());
  CmdResult again = root_.Husk({"--debug", "run", "--bundle", b.Path(), b.Id()});
  ASSERT_TRUE(again.ok()) << again;
  EXPECT_THAT(again.err, HasSubstr("seccomp: program from the cache"));
  EXPECT_THAT(again.err, Not(HasSubstr("seccomp: compiled")));
  // `list` does not take the cache for a container.
  CmdResult list = root_.Husk({"list", "-q"});
  EXPECT_TRUE(list.ok()) << list;
  EXPECT_EQ(list.out, "");
  // A corrupt cache file is recompiled, and the container still gets its filter.
  WriteFile(root_.Path() + "/@seccomp/" + files[0], "HUSKBPF1garbage");
  CmdResult fixed = RunScript(root_, a, "mkdir /dev/shm/d 2>&1");
  EXPECT_EQ(fixed.exit_code, 1) << fixed;
  EXPECT_THAT(fixed.out, HasSubstr("Numerical argument out of domain"));
}

// Without noNewPrivileges the filter is loaded before the capability drop, so husk's own
// later syscalls go through it: a profile without close_range (runtime-tools' default,
// older Docker profiles) must still work, and so must runtime-tools' linux_seccomp
// profile, which refuses getcwd (husk verifies the cwd before loading the filter; runc
// 1.1.5 fails this one).
TEST_F(SeccompTest, EarlyFilterDoesNotBreakTheInit) {
  for (const char* denied : {"close_range", "getcwd"}) {
    Bundle b;
    b.SetJson("/process/noNewPrivileges", "false");
    SetSeccomp(b, std::string(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": [")") + denied + R"("], "action": "SCMP_ACT_ERRNO"}]})");
    CmdResult r = RunScript(root_, b, "echo ran");
    EXPECT_TRUE(r.ok()) << denied << ": " << r;
    EXPECT_EQ(r.out, "ran\n") << denied;
  }
}

TEST_F(SeccompTest, FlagsAreAccepted) {
  Bundle b;
  SetSeccomp(b, R"({"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_LOG",
      "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_TSYNC"],
      "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]})");
  b.Write();
  CmdResult r = root_.Husk({"--debug", "run", "--bundle", b.Path(), b.Id()});
  EXPECT_TRUE(r.ok()) << r;
  // LOG (2) | SPEC_ALLOW (4) | TSYNC (1)
  EXPECT_THAT(r.err, HasSubstr("seccomp filter flags: 7"));
}

}  // namespace
}  // namespace husk::testing
