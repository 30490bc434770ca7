// `exec` integration tests (cli-contract.md §2.6, §4, §5.4, §6; security-bar.md S-02,
// S-07, H-01): every flag checked from inside a real container, the --process file,
// --detach under a subreaper caller, --pid-file, the console socket, exit codes, the
// container states, fds, and concurrent execs. Needs root.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/config_util.h"
#include "tests/support/harness.h"
#include "tests/support/lifecycle_util.h"

namespace husk::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kPath[] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::string ProcFile(pid_t pid, const std::string& name) {
  return ReadFile("/proc/" + std::to_string(pid) + "/" + name);
}

std::string NsLink(pid_t pid, const std::string& ns) {
  char buf[128];
  std::string path = "/proc/" + std::to_string(pid) + "/ns/" + ns;
  ssize_t n = ::readlink(path.c_str(), buf, sizeof(buf));
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

class ExecTest : public ContainerTest {
 protected:
  // `run -d` of the bundle with `sleep 1000`; the init's host pid.
  pid_t StartRunning(Bundle& b) {
    b.SetArgs({"/bin/sleep", "1000"});
    b.Write();
    CmdResult r = HuskDetached(root_, {"run", "-d", "--bundle", b.Path(), b.Id()});
    EXPECT_TRUE(r.ok()) << r;
    return StatePid(root_, b.Id());
  }
  CmdResult Exec(const std::vector<std::string>& args, const RunOptions& opts = {}) {
    std::vector<std::string> full = {"exec"};
    full.insert(full.end(), args.begin(), args.end());
    return root_.Husk(full, opts);
  }
  // A process file in a temporary directory.
  std::string ProcessFile(const std::string& json) {
    std::string path = dir_.Path() + "/process-" + std::to_string(++files_) + ".json";
    WriteFile(path, json);
    return path;
  }

  TestRoot root_;
  TempDir dir_{"exec"};
  int files_ = 0;
};

TEST_F(ExecTest, JoinsEveryNamespaceAndTheCgroupOfTheInit) {
  Bundle b;
  pid_t init = StartRunning(b);
  ASSERT_GT(init, 0);
  CmdResult r = Exec({b.Id(), "sh", "-c",
                      "for n in pid net ipc uts mnt cgroup user; do readlink /proc/self/ns/$n; "
                      "done; cat /proc/self/cgroup"});
  ASSERT_TRUE(r.ok()) << r;
  std::string want;
  for (const char* ns : {"pid", "net", "ipc", "uts", "mnt", "cgroup", "user"}) {
    want += NsLink(init, ns) + "\n";
  }
  want += ProcFile(init, "cgroup");
  EXPECT_EQ(r.out, want);
  EXPECT_NE(NsLink(init, "pid"), NsLink(getpid(), "pid"));
}

// With cgroup and time namespaces: the process sees the init's cgroup root and clocks.
TEST_F(ExecTest, JoinsCgroupAndTimeNamespaces) {
  Bundle b;
  b.SetJson("/linux/namespaces",
            R"([{"type":"pid"},{"type":"network"},{"type":"ipc"},{"type":"uts"},
                {"type":"mount"},{"type":"cgroup"},{"type":"time"}])");
  b.SetJson("/linux/timeOffsets", R"({"boottime":{"secs":864000,"nanosecs":0}})");
  pid_t init = StartRunning(b);
  ASSERT_GT(init, 0);
  CmdResult r =
      Exec({b.Id(), "sh", "-c",
            "cat /proc/uptime; readlink /proc/self/ns/time; readlink /proc/self/ns/cgroup; "
            "echo; cat /proc/self/cgroup; echo; cat /proc/1/cgroup"});
  ASSERT_TRUE(r.ok()) << r;
  std::vector<std::string> lines = LinesOf(r.out);
  ASSERT_GE(lines.size(), 3u) << r;
  EXPECT_GE(std::stod(lines[0]), 864000.0) << r;
  EXPECT_EQ(lines[1], NsLink(init, "time"));
  EXPECT_EQ(lines[2], NsLink(init, "cgroup"));
  // The same cgroup as the init, relative to the namespace's root: "/".
  std::vector<std::string> parts = absl::StrSplit(r.out, "\n\n");
  ASSERT_EQ(parts.size(), 3u) << r;
  EXPECT_EQ(parts[1] + "\n", parts[2]) << r;
  EXPECT_THAT(parts[2], HasSubstr(":/\n")) << r;
}

TEST_F(ExecTest, TakesTheConfigProcessAttributes) {
  Bundle b;
  b.SetJson("/process/env", std::string("[\"") + kPath + "\",\"A=1\"]");
  StartRunning(b);
  CmdResult r =
      Exec({b.Id(), "sh", "-c", "env; echo; id; pwd; cat /proc/self/status /proc/self/limits"});
  ASSERT_TRUE(r.ok()) << r;
  std::vector<std::string> env = LinesOf(r.out.substr(0, r.out.find("\n\n")));
  // Exactly the config's env and HOME from the container's passwd (nothing of husk's);
  // busybox sh adds PWD, SHLVL.
  EXPECT_THAT(env, ::testing::IsSupersetOf(
                       {std::string(kPath), std::string("A=1"), std::string("HOME=/root")}));
  for (const std::string& e : env) {
    EXPECT_THAT(e, Not(HasSubstr("HUSK"))) << e;
    EXPECT_THAT(e, Not(::testing::StartsWith("LISTEN_"))) << e;
  }
  EXPECT_THAT(r.out, HasSubstr("uid=0(root) gid=0(root)"));
  EXPECT_THAT(r.out, HasSubstr("\n/\n"));
  EXPECT_EQ(StatusField(r.out, "CapBnd"), "0000000020000420");  // AUDIT_WRITE, KILL, NET_BIND
  EXPECT_EQ(StatusField(r.out, "CapEff"), "0000000020000420");
  EXPECT_EQ(StatusField(r.out, "CapInh"), "0000000000000000");
  EXPECT_EQ(StatusField(r.out, "NoNewPrivs"), "1");
  EXPECT_THAT(r.out, ::testing::ContainsRegex("Max open files +1024 +1024"));
}

TEST_F(ExecTest, FlagsOverrideUserCwdEnvCapsAndNoNewPrivs) {
  Bundle b;
  b.SetJson("/process/noNewPrivileges", "false");
  StartRunning(b);
  CmdResult r = Exec({"--user", "1000:1000", "-g", "5", "--additional-gids", "6", "--cwd", "/tmp",
                      "-e", "FOO=bar", "--env", "BAZ=qux", b.Id(), "sh", "-c",
                      "id; pwd; echo $FOO $BAZ; grep NoNewPrivs /proc/self/status"});
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_THAT(r.out, HasSubstr("uid=1000(tester) gid=1000(tester) groups=5(tty),6"));
  EXPECT_THAT(r.out, HasSubstr("/tmp\nbar qux\nNoNewPrivs:\t0\n"));

  r = Exec({"--no-new-privs", "--cap", "CAP_SYS_ADMIN", "-c", "CAP_CHOWN", b.Id(), "cat",
            "/proc/self/status"});
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(StatusField(r.out, "NoNewPrivs"), "1");
  EXPECT_EQ(StatusField(r.out, "CapBnd"), "0000000020200421");
  EXPECT_EQ(StatusField(r.out, "CapPrm"), "0000000020200421");
  // --cap never sets inheritable (CVE-2022-29162); so no ambient either.
  EXPECT_EQ(StatusField(r.out, "CapInh"), "0000000000000000");

  // A user id is a number: never looked up as a name (security-bar.md S-17).
  r = Exec({"--user", "1", b.Id(), "id", "-u"});
  EXPECT_EQ(r.out, "1\n") << r;
  for (const char* bad : {"abc", "4294967296", "-1", "1:x"}) {
    r = Exec({"--user", bad, b.Id(), "id"});
    EXPECT_NE(r.exit_code, 0) << r;
    EXPECT_THAT(r.err, HasSubstr("bad ")) << r;
  }
}

TEST_F(ExecTest, RefusesWhatCreateRefuses) {
  Bundle b;
  StartRunning(b);
  CmdResult r = Exec({"--apparmor", "unconfined", b.Id(), "true"});
  EXPECT_EQ(r.exit_code, 255) << r;
  EXPECT_THAT(r.err, HasSubstr("process/apparmorProfile: not supported yet"));
  r = Exec({"--process-label", "system_u:system_r:container_t:s0", b.Id(), "true"});
  EXPECT_EQ(r.exit_code, 255) << r;
  EXPECT_THAT(r.err, HasSubstr("process/selinuxLabel: not supported yet"));
  std::string file = ProcessFile(
      R"({"args":["true"],"cwd":"/","user":{"uid":0,"gid":0},"execCPUAffinity":{"initial":"0"}})");
  r = Exec({"--process", file, b.Id()});
  EXPECT_EQ(r.exit_code, 255) << r;
  EXPECT_THAT(r.err, HasSubstr("process/execCPUAffinity: not supported yet"));
  r = Exec({"--process", ProcessFile(R"({"args":["true"],"cwd":"rel","user":{"uid":0,"gid":0}})"),
            b.Id()});
  EXPECT_EQ(r.exit_code, 255) << r;
  EXPECT_THAT(r.err, HasSubstr("Cwd must be an absolute path"));
}

TEST_F(ExecTest, SeccompIsTheSavedProgramNotTheEditedConfig) {
  Bundle b;
  b.SetJson("/linux/seccomp", R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
      {"names":["mkdirat","mkdir"],"action":"SCMP_ACT_ERRNO","errnoRet":38}]})");
  StartRunning(b);
  // Edited after create: exec keeps the container's own filter.
  b.Remove("/linux/seccomp");
  b.Write();
  CmdResult r =
      Exec({b.Id(), "sh", "-c", "grep ^Seccomp: /proc/self/status; mkdir /dev/x; echo rc=$?"});
  EXPECT_THAT(r.out, HasSubstr("Seccomp:\t2\n")) << r;
  EXPECT_THAT(r.out, HasSubstr("rc=1")) << r;
  EXPECT_THAT(r.err, HasSubstr("not implemented")) << r;  // ENOSYS (38)
}

TEST_F(ExecTest, ProcessFileWinsAndMayBeDeletedRightAfter) {
  Bundle b;
  StartRunning(b);
  // No capabilities and no rlimits: the container's (runc's newInitConfig). terminal
  // false wins over --tty (no console socket needed).
  std::string file = ProcessFile(std::string(R"({"args":["sh","-c","umask; id; pwd; echo $X; )"
                                             R"(grep -E '^Cap(Bnd|Eff)' /proc/self/status; )"
                                             R"(grep 'open files' /proc/self/limits"],)"
                                             R"("env":[")") +
                                 kPath +
                                 R"(","X=from-file"],)"
                                 R"("cwd":"/etc","terminal":false,)"
                                 R"("user":{"uid":1000,"gid":1000,"umask":23}})");
  CmdResult r = Exec({"--tty", "--process", file, b.Id()});
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_THAT(r.out, HasSubstr("0027\nuid=1000(tester) gid=1000(tester)"));
  EXPECT_THAT(r.out, HasSubstr("\n/etc\nfrom-file\n"));
  EXPECT_THAT(r.out, HasSubstr("CapBnd:\t0000000020000420"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("Max open files +1024 +1024"));

  // containerd removes the file as soon as exec returns: husk has read it by then.
  std::string pid_file = dir_.Path() + "/pf";
  std::string file2 =
      ProcessFile(R"({"args":["/bin/sleep","1"],"cwd":"/","user":{"uid":0,"gid":0}})");
  r = Exec({"--detach", "--pid-file", pid_file, "--process", file2, b.Id()});
  ASSERT_TRUE(r.ok()) << r;
  ASSERT_EQ(::unlink(file2.c_str()), 0);
  pid_t pid = ReadPidFile(pid_file);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST_F(ExecTest, DetachReparentsToTheSubreaperCaller) {
  Bundle b;
  // The exec'd process blocks on a fifo until the test writes to it: `exec -d` must have
  // returned while it still runs (no timing involved).
  TempDir shared("exec-fifo");
  ASSERT_EQ(::mkfifo((shared.Path() + "/go").c_str(), 0666), 0);
  AddBindMount(b, shared.Path(), "/tmp");
  StartRunning(b);
  std::string pid_file = dir_.Path() + "/exec.pid";
  CmdResult r =
      Exec({"-d", "--pid-file", pid_file, b.Id(), "sh", "-c", "read x < /tmp/go; exit 3"});
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.out, "");
  pid_t pid = ReadPidFile(pid_file);
  ASSERT_GT(pid, 0);
  EXPECT_NE(ProcState(pid), 'Z') << "exec -d returned only after the process ended";
  EXPECT_NE(ProcState(pid), '?') << "exec -d returned only after the process ended";
  // Our child now (we are the subreaper), and no husk process is left: the only children
  // of this test process are the container init and the exec'd process.
  EXPECT_EQ(ParentPid(pid), getpid());
  for (pid_t child : ChildrenOfThisProcess()) {
    std::string exe = ProcFile(child, "cmdline");
    EXPECT_THAT(exe, Not(HasSubstr("husk"))) << child;
  }
  // A session leader (setsid), in the container's pid namespace.
  std::string stat = ProcFile(pid, "stat");
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string state, ppid, pgrp, session;
  fields >> state >> ppid >> pgrp >> session;
  EXPECT_EQ(session, std::to_string(pid));
  std::string nspid = StatusField(ProcFile(pid, "status"), "NSpid");
  EXPECT_THAT(nspid, ::testing::MatchesRegex(std::to_string(pid) + "\t[0-9]+")) << nspid;
  {
    std::ofstream go(shared.Path() + "/go");
    go << "now\n";
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 3);
}

TEST_F(ExecTest, TtyGoesToTheConsoleSocketWithItsSize) {
  Bundle b;
  StartRunning(b);
  ConsoleSocket console;
  std::string pid_file = dir_.Path() + "/tty.pid";
  std::string file = ProcessFile(
      R"({"args":["sh","-c","stty size; tty; [ -t 0 ] && [ -t 2 ] && echo all-tty; sleep 1"],)"
      R"("cwd":"/","user":{"uid":0,"gid":0},"terminal":true,"env":[")" +
      std::string(kPath) +
      R"("],)"
      R"("consoleSize":{"height":40,"width":120}})");
  CmdResult r =
      Exec({"-d", "--console-socket", console.Path(), "--pid-file", pid_file, "-p", file, b.Id()});
  ASSERT_TRUE(r.ok()) << r;
  // Nothing of husk's on its own stdout/stderr: the process has only the pty.
  EXPECT_EQ(r.out, "");
  ConsoleSocket::Received got = console.Receive();
  ASSERT_TRUE(got.ok()) << got.error;
  EXPECT_EQ(got.payload, "/dev/ptmx");
  std::string out;
  char buf[512];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (out.find("all-tty") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    struct pollfd p = {got.master.get(), POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    ssize_t n = ::read(got.master.get(), buf, sizeof(buf));
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  EXPECT_THAT(out, HasSubstr("40 120"));
  EXPECT_THAT(out, ::testing::ContainsRegex("/dev/pts/[0-9]+"));
  EXPECT_THAT(out, HasSubstr("all-tty"));
  pid_t pid = ReadPidFile(pid_file);
  ASSERT_GT(pid, 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);

  // runc's rules for the flags.
  r = Exec({"-d", "-t", b.Id(), "true"});
  EXPECT_EQ(r.exit_code, 255) << r;
  EXPECT_THAT(r.err,
              HasSubstr("cannot allocate tty if husk will detach without setting console socket"));
  r = Exec({"--console-socket", console.Path(), b.Id(), "true"});
  EXPECT_EQ(r.exit_code, 255) << r;
  EXPECT_THAT(r.err, HasSubstr("cannot use console socket"));
}

TEST_F(ExecTest, ForegroundExitStatusAndSignals) {
  Bundle b;
  StartRunning(b);
  EXPECT_EQ(Exec({b.Id(), "sh", "-c", "exit 7"}).exit_code, 7);
  EXPECT_EQ(Exec({b.Id(), "sh", "-c", "kill -KILL $$"}).exit_code, 128 + SIGKILL);
  CmdResult out = Exec({b.Id(), "echo", "hello"});
  EXPECT_EQ(out.out, "hello\n") << out;

  // A signal to husk exec reaches the process, which decides the exit status.
  std::string ready = "/dev/shm/ready";
  BackgroundHusk fg(root_, {"exec", b.Id(), "sh", "-c",
                            "trap 'exit 42' TERM; touch /dev/shm/ready; "
                            "while true; do sleep 0.05; done"});
  pid_t init = StatePid(root_, b.Id());
  std::string marker = "/proc/" + std::to_string(init) + "/root" + ready;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (::access(marker.c_str(), F_OK) != 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(::access(marker.c_str(), F_OK), 0);
  fg.Signal(SIGTERM);
  CmdResult r = fg.Wait();
  EXPECT_EQ(r.exit_code, 42) << r;
}

TEST_F(ExecTest, MissingBinaryExits255WithTheNotFoundText) {
  Bundle b;
  StartRunning(b);
  for (bool detach : {false, true}) {
    std::vector<std::string> args;
    if (detach) args.push_back("-d");
    args.insert(args.end(), {b.Id(), "no-such-binary"});
    CmdResult r = Exec(args);
    EXPECT_EQ(r.exit_code, 255) << r;
    // The text log format escapes the quotes around the name.
    EXPECT_THAT(r.err, HasSubstr("exec failed: unable to start container process: exec: "));
    EXPECT_THAT(r.err, HasSubstr("no-such-binary\\\": executable file not found in $PATH"));
  }
  CmdResult r = Exec({b.Id(), "/no/such/file"});
  EXPECT_EQ(r.exit_code, 255) << r;
  EXPECT_THAT(r.err, HasSubstr("no such file or directory")) << r;
  // Nothing left behind: only the init is our live child (zombies of the containers of
  // earlier tests may wait for TearDown).
  pid_t init = StatePid(root_, b.Id());
  for (pid_t c : ChildrenOfThisProcess()) {
    if (c != init && ProcState(c) != 'Z') ADD_FAILURE() << "left behind: " << ProcFile(c, "stat");
  }
}

TEST_F(ExecTest, ContainerStates) {
  CmdResult r = Exec({"no-such-container", "true"});
  EXPECT_EQ(r.exit_code, 255) << r;
  EXPECT_THAT(r.err, HasSubstr("container does not exist"));

  // created: allowed (runc).
  Bundle created;
  created.SetArgs({"/bin/sleep", "1000"});
  created.Write();
  CreateOk(root_, created, created.Id());
  r = Exec({created.Id(), "echo", "in-created"});
  EXPECT_EQ(r.out, "in-created\n") << r;
  EXPECT_EQ(root_.Status(created.Id()), "created");

  // paused: refused unless --ignore-paused, which then runs once resumed.
  Bundle paused;
  StartRunning(paused);
  ASSERT_TRUE(root_.Husk({"pause", paused.Id()}).ok());
  r = Exec({paused.Id(), "true"});
  EXPECT_EQ(r.exit_code, 255) << r;
  EXPECT_THAT(r.err,
              HasSubstr("cannot exec in a paused container (use --ignore-paused to override)"));
  {
    BackgroundHusk waiting(root_, {"exec", "--ignore-paused", paused.Id(), "echo", "thawed"});
    // The stage froze as it joined the cgroup: it holds no fd of husk's state directory
    // (security-bar.md S-02), only stdio, the channel, namespaces and cgroup dirs.
    std::string children_file = "/proc/" + std::to_string(waiting.pid()) + "/task/" +
                                std::to_string(waiting.pid()) + "/children";
    std::string stage;
    for (int i = 0; i < 200 && stage.empty(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      std::istringstream(ReadFile(children_file)) >> stage;
    }
    ASSERT_FALSE(stage.empty());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    for (int fd = 0; fd < 64; ++fd) {
      char target[512];
      std::string link = "/proc/" + stage + "/fd/" + std::to_string(fd);
      ssize_t n = ::readlink(link.c_str(), target, sizeof(target));
      if (n <= 0) continue;
      std::string t(target, static_cast<size_t>(n));
      EXPECT_THAT(t, Not(HasSubstr(root_.Path()))) << link;
    }
    ASSERT_TRUE(root_.Husk({"resume", paused.Id()}).ok());
    r = waiting.Wait();
    EXPECT_EQ(r.exit_code, 0) << r;
    EXPECT_EQ(r.out, "thawed\n") << r;
  }

  // stopped.
  Bundle stopped;
  stopped.SetArgs({"/bin/true"});
  stopped.Write();
  ASSERT_TRUE(HuskDetached(root_, {"run", "-d", "--bundle", stopped.Path(), stopped.Id()}).ok());
  ASSERT_TRUE(WaitForStatus(root_, stopped.Id(), "stopped"));
  r = Exec({stopped.Id(), "true"});
  EXPECT_EQ(r.exit_code, 255) << r;
  EXPECT_THAT(r.err, HasSubstr("cannot exec in a stopped container"));
}

TEST_F(ExecTest, PreserveFdsPassesExactlyThoseAndNoHostFdLeaks) {
  Bundle b;
  StartRunning(b);
  std::string data = dir_.Path() + "/data";
  WriteFile(data, "hello\n");
  // Opened without O_CLOEXEC on purpose (CVE-2024-21626 style leak).
  UniqueFd a(::open(data.c_str(), O_RDONLY));
  UniqueFd leak(::open("/", O_RDONLY | O_DIRECTORY));
  ASSERT_TRUE(a && leak);
  RunOptions opts;
  opts.extra_fds = {{3, a.get()}, {4, a.get()}, {9, leak.get()}};
  CmdResult r =
      Exec({"--preserve-fds", "2", b.Id(), "sh", "-c", "cat <&3; ls /proc/self/fd"}, opts);
  ASSERT_TRUE(r.ok()) << r;
  // ls's own directory fd is the lowest free one, 5.
  EXPECT_EQ(r.out, "hello\n0\n1\n2\n3\n4\n5\n");

  r = Exec({b.Id(), "ls", "/proc/self/fd"}, opts);
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.out, "0\n1\n2\n3\n");

  // A cwd through a leaked fd never reaches the host (security-bar.md S-07 d).
  r = Exec({"--cwd", "/proc/self/fd/9", b.Id(), "pwd"}, opts);
  EXPECT_EQ(r.exit_code, 255) << r;

  opts.extra_fds = {};
  r = Exec({"--preserve-fds", "1", b.Id(), "true"}, opts);
  EXPECT_EQ(r.exit_code, 255) << r;
  EXPECT_THAT(r.err, HasSubstr("preserved-fd 0")) << r;
}

TEST_F(ExecTest, CgroupFlagJoinsASubCgroup) {
  Bundle b;
  pid_t init = StartRunning(b);
  std::vector<std::string> dirs = CgroupDirs(b.CgroupsPath());
  ASSERT_FALSE(dirs.empty());
  for (const std::string& d : dirs) {
    ASSERT_EQ(::mkdir((d + "/sub").c_str(), 0755), 0) << d;
    // A new v1 cpuset group is empty: it takes no task until given cpus and mems.
    for (const char* f : {"cpuset.cpus", "cpuset.mems"}) {
      if (::access((d + "/" + f).c_str(), F_OK) == 0 && d.find("/cpuset") != std::string::npos) {
        WriteFile(d + "/sub/" + f, ReadFile(d + "/" + f));
      }
    }
  }
  CmdResult r = Exec({"--cgroup", "sub", b.Id(), "cat", "/proc/self/cgroup"});
  ASSERT_TRUE(r.ok()) << r;
  for (const std::string& line : LinesOf(ProcFile(init, "cgroup"))) {
    EXPECT_THAT(r.out, HasSubstr(line + "/sub\n"));
  }
  // Per controller: only memory moves (where memory has a v1 hierarchy).
  bool v1_memory = false;
  for (const std::string& d : dirs)
    v1_memory = v1_memory || d.find("/memory/") != std::string::npos;
  if (v1_memory) {
    r = Exec({"--cgroup", "memory:sub", b.Id(), "cat", "/proc/self/cgroup"});
    ASSERT_TRUE(r.ok()) << r;
    EXPECT_THAT(r.out, ::testing::ContainsRegex(":memory:" + b.CgroupsPath() + "/sub\n"));
    EXPECT_THAT(r.out, ::testing::ContainsRegex(":pids:" + b.CgroupsPath() + "\n"));
  }
  r = Exec({"--cgroup", "nosuch", b.Id(), "true"});
  EXPECT_EQ(r.exit_code, 255) << r;
  r = Exec({"--cgroup", "a", "--cgroup", "b", b.Id(), "true"});
  EXPECT_EQ(r.exit_code, 255) << r;
  EXPECT_THAT(r.err, HasSubstr("missing <controller>: prefix"));
  for (const std::string& d : dirs) ::rmdir((d + "/sub").c_str());
}

TEST_F(ExecTest, JoinsAUserNamespaceFirst) {
  Bundle b;
  UseUserNamespace(b);  // container root = host uid/gid 100000
  pid_t init = StartRunning(b);
  ASSERT_GT(init, 0);
  CmdResult r = Exec({"-u", "1000:1000", b.Id(), "sh", "-c", "id -u; readlink /proc/self/ns/user"});
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.out, "1000\n" + NsLink(init, "user") + "\n");
  std::string pid_file = dir_.Path() + "/u.pid";
  r = Exec({"-d", "--pid-file", pid_file, b.Id(), "sleep", "1"});
  ASSERT_TRUE(r.ok()) << r;
  pid_t pid = ReadPidFile(pid_file);
  EXPECT_THAT(ProcFile(pid, "uid_map"), ::testing::MatchesRegex(" *0 +100000 +65536\n"));
  EXPECT_EQ(::waitpid(pid, nullptr, 0), pid);
}

TEST_F(ExecTest, TtyWithoutConsoleSocketIsProxied) {
  Bundle b;
  StartRunning(b);
  RunOptions opts;
  opts.stdin_data = "hello\n";
  CmdResult r = Exec({"-t", b.Id(), "sh", "-c", "read x; echo got $x; tty; exit 4"}, opts);
  EXPECT_EQ(r.exit_code, 4) << r;
  EXPECT_THAT(r.out, HasSubstr("got hello")) << r;
  EXPECT_THAT(r.out, ::testing::ContainsRegex("/dev/pts/[0-9]+")) << r;
}

TEST_F(ExecTest, OomScoreAdjFromTheProcessOrTheConfig) {
  Bundle b;
  b.SetJson("/process/oomScoreAdj", "300");
  StartRunning(b);
  CmdResult r = Exec({b.Id(), "cat", "/proc/self/oom_score_adj"});
  EXPECT_EQ(r.out, "300\n") << r;
  std::string file = ProcessFile(R"({"args":["/bin/cat","/proc/self/oom_score_adj"],"cwd":"/",)"
                                 R"("user":{"uid":0,"gid":0},"oomScoreAdj":500})");
  r = Exec({"-p", file, b.Id()});
  EXPECT_EQ(r.out, "500\n") << r;
}

TEST_F(ExecTest, WithoutAPidNamespaceNoForkIsNeeded) {
  Bundle b;
  b.SetJson("/linux/namespaces",
            R"([{"type":"network"},{"type":"ipc"},{"type":"uts"},{"type":"mount"}])");
  StartRunning(b);
  std::string pid_file = dir_.Path() + "/nopidns.pid";
  CmdResult r = Exec({"-d", "--pid-file", pid_file, b.Id(), "sleep", "1"});
  ASSERT_TRUE(r.ok()) << r;
  pid_t pid = ReadPidFile(pid_file);
  ASSERT_GT(pid, 0);
  EXPECT_EQ(StatusField(ProcFile(pid, "status"), "NSpid"), std::to_string(pid));
  EXPECT_EQ(ParentPid(pid), getpid());
  EXPECT_EQ(::waitpid(pid, nullptr, 0), pid);
}

// runc's --pidfd-socket: one SCM_RIGHTS message carrying a pidfd of the exec'd process.
TEST_F(ExecTest, PidfdSocketReceivesAPidfdOfTheProcess) {
  Bundle b;
  StartRunning(b);
  std::string path = dir_.Path() + "/pidfd.sock";
  UniqueFd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(path.size(), sizeof(addr.sun_path));
  memcpy(addr.sun_path, path.c_str(), path.size());
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(listener.get(), 1), 0);
  std::string pid_file = dir_.Path() + "/pidfd.pid";
  CmdResult r = Exec({"-d", "--pidfd-socket", path, "--pid-file", pid_file, b.Id(), "sleep", "1"});
  ASSERT_TRUE(r.ok()) << r;
  pid_t pid = ReadPidFile(pid_file);
  UniqueFd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(conn);
  char data[64];
  char control[CMSG_SPACE(sizeof(int))] = {};
  struct iovec iov = {data, sizeof(data)};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ASSERT_GT(::recvmsg(conn.get(), &msg, MSG_CMSG_CLOEXEC), 0);
  struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  ASSERT_NE(cmsg, nullptr);
  ASSERT_EQ(cmsg->cmsg_type, SCM_RIGHTS);
  int fd;
  memcpy(&fd, CMSG_DATA(cmsg), sizeof(fd));
  UniqueFd pidfd(fd);
  std::string fdinfo = ReadFile("/proc/self/fdinfo/" + std::to_string(fd));
  EXPECT_EQ(StatusField(fdinfo, "Pid"), std::to_string(pid)) << fdinfo;
  EXPECT_EQ(::waitpid(pid, nullptr, 0), pid);
}

TEST_F(ExecTest, TwentyConcurrentExecsIntoOneContainer) {
  Bundle b;
  StartRunning(b);
  constexpr int kExecs = 20;
  std::vector<CmdResult> results(kExecs);
  std::vector<std::thread> threads;
  for (int i = 0; i < kExecs; ++i) {
    threads.emplace_back([&, i] {
      results[i] = Exec({b.Id(), "echo", "exec-" + std::to_string(i)});
    });
  }
  for (std::thread& t : threads) t.join();
  for (int i = 0; i < kExecs; ++i) {
    EXPECT_TRUE(results[i].ok()) << results[i];
    EXPECT_EQ(results[i].out, "exec-" + std::to_string(i) + "\n");
  }
}

}  // namespace
}  // namespace husk::testing
