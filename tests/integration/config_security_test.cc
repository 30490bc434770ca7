// Regression tests from security-bar.md that need a whole container: S-01 (read-only init
// binary, non-dumpable init), S-07 (no host fd or cwd reaches the container), S-10 (masks
// only ever bind the real null device), S-13 (image /dev is a symlink), S-14 (host
// /dev/null untouched), S-20 (no bare procfs reachable, with and without --no-pivot).
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/config_util.h"
#include "tests/support/harness.h"

namespace husk::testing {
namespace {

using ::testing::HasSubstr;

class ConfigSecurityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (::geteuid() == 0) BecomeSubreaper();
  }
  void SetUp() override { HUSK_REQUIRE_CONTAINERS(); }
  TestRoot root_;
};

// S-01: while created, the init runs from a read-only view of husk (overlay or sealed
// memfd), not the husk file on disk.
TEST_F(ConfigSecurityTest, InitExeIsAReadOnlyView) {
  Bundle b;
  b.SetArgs({"/bin/true"});
  Created c = CreateContainer(root_, b);
  ASSERT_TRUE(c.ok()) << c.result;
  std::string exe = "/proc/" + std::to_string(c.pid) + "/exe";
  int fd = ::open(exe.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0) << exe;
  struct stat running, on_disk;
  ASSERT_EQ(::fstat(fd, &running), 0);
  ASSERT_EQ(::stat(HuskBinary().c_str(), &on_disk), 0);
  EXPECT_FALSE(running.st_dev == on_disk.st_dev && running.st_ino == on_disk.st_ino)
      << "the init runs the husk binary on disk";
  // Either protection is fine: a read-only overlay view (preferred) or a sealed memfd.
  int seals = ::fcntl(fd, F_GET_SEALS);
  struct statvfs vfs;
  ASSERT_EQ(::fstatvfs(fd, &vfs), 0);
  int want = F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL;
  bool sealed = seals >= 0 && (seals & want) == want;
  bool read_only = (vfs.f_flag & ST_RDONLY) != 0;
  EXPECT_TRUE(sealed || read_only) << "seals " << seals << ", mount flags " << vfs.f_flag;
  // The attack itself: reopen the init's exe for writing (CVE-2019-5736).
  int w = ::open(exe.c_str(), O_WRONLY | O_CLOEXEC);
  EXPECT_LT(w, 0) << "the init's exe can be opened for writing";
  if (w >= 0) ::close(w);
  EXPECT_LT(::write(fd, "x", 1), 0);
  ::close(fd);
  CmdResult d = root_.Husk({"delete", "--force", b.Id()});
  EXPECT_TRUE(d.ok()) << d;
  EXPECT_TRUE(WaitForPidGone(c.pid));
}

// The init is not dumpable before start: with a user namespace its /proc/<pid> is then
// owned by the host's root, and by the container's root (100000) once it has exec'd.
// S-01 fallback: where the overlay view cannot be made (here: a ':' in husk's directory,
// which overlayfs cannot take as a layer) husk re-execs from a sealed memfd copy.
TEST_F(ConfigSecurityTest, InitExeFallsBackToSealedMemfd) {
  TempDir dir("fallback:dir");
  std::string copy = dir.Path() + "/husk";
  ASSERT_EQ(std::system(("cp " + HuskBinary() + " '" + copy + "'").c_str()), 0);
  Bundle b;
  b.SetArgs({"/bin/true"});
  b.Write();
  CmdResult r = RunCommand({copy, "--root", root_.Path(), "create", "--bundle", b.Path(),
                            "--pid-file", b.Path() + "/pid", b.Id()});
  ASSERT_TRUE(r.ok()) << r;
  int pid = ReadPidFile(b.Path() + "/pid");
  int fd = ::open(("/proc/" + std::to_string(pid) + "/exe").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  int want = F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL;
  EXPECT_EQ(::fcntl(fd, F_GET_SEALS) & want, want);
  ::close(fd);
  EXPECT_TRUE(root_.Husk({"delete", "--force", b.Id()}).ok());
  EXPECT_TRUE(WaitForPidGone(pid));
}

TEST_F(ConfigSecurityTest, InitIsNotDumpableBeforeStart) {
  Bundle b;
  UseUserNamespace(b);  // container root = host uid/gid 100000
  b.SetArgs({"/bin/sleep", "30"});
  Created c = CreateContainer(root_, b);
  ASSERT_TRUE(c.ok()) << c.result;
  std::string dir = "/proc/" + std::to_string(c.pid);
  struct stat st;
  ASSERT_EQ(::stat((dir + "/status").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u) << "init is dumpable while created";
  CmdResult r = root_.Husk({"start", b.Id()});
  ASSERT_TRUE(r.ok()) << r;
  bool mapped = false;
  for (int i = 0; i < 300 && !mapped; ++i) {
    mapped = ::stat((dir + "/status").c_str(), &st) == 0 && st.st_uid == 100000;
    if (!mapped) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(mapped) << "owner after exec " << st.st_uid;
  CmdResult d = root_.Husk({"delete", "--force", b.Id()});
  EXPECT_TRUE(d.ok()) << d;
  EXPECT_TRUE(WaitForPidGone(c.pid));
}

// S-07 (a, b): cwd through an fd: never a cwd outside the container. Every variant is
// refused with a cwd error (the fd is either outside the root or gone after the setup).
TEST_F(ConfigSecurityTest, CwdThroughProcSelfFdNeverLeaves) {
  int dirfd = ::open("/", O_RDONLY | O_DIRECTORY);  // leaked on purpose, no O_CLOEXEC
  ASSERT_GE(dirfd, 0);
  RunOptions opts;
  opts.extra_fds = {{9, dirfd}};
  {
    // Control: the same setup with a normal cwd runs.
    Bundle b;
    b.SetJson("/process/cwd", R"("/etc")");
    CmdResult r = RunScript(root_, b, "pwd -P; hostname", opts);
    EXPECT_TRUE(r.ok()) << r;
    EXPECT_EQ(r.out, "/etc\nhusk-test\n") << r;
  }
  for (int n = 3; n <= 9; ++n) {
    SCOPED_TRACE(n);
    Bundle b;
    std::string cwd = "/proc/self/fd/" + std::to_string(n);
    b.SetJson("/process/cwd", "\"" + cwd + "\"");
    CmdResult r = RunScript(root_, b, "pwd -P; echo ran", opts);
    EXPECT_NE(r.exit_code, 0) << r;
    EXPECT_EQ(r.out, "") << r;
    EXPECT_THAT(r.err, ::testing::AnyOf(
                           HasSubstr("chdir to cwd (\\\"" + cwd + "\\\") set in config.json failed"),
                           HasSubstr("cwd \\\"" + cwd + "\\\" is outside the container root")))
        << r;
    EXPECT_TRUE(NoLeftovers(root_, b.Id(), b)) << r;
  }
  Bundle b;
  b.SetArgs({"/proc/self/fd/9/bin/true"});
  b.Write();
  CmdResult r = root_.Husk({"run", "--bundle", b.Path(), b.Id()}, opts);
  EXPECT_NE(r.exit_code, 0) << r;
  EXPECT_THAT(r.err, HasSubstr("stat /proc/self/fd/9/bin/true: no such file or directory")) << r;
  ::close(dirfd);
}

// S-10: the image's /dev is used (no /dev tmpfs). Whatever /dev/null is in the image,
// every masked file ends up the real 1:3 device.
TEST_F(ConfigSecurityTest, MasksUseTheRealNullDevice) {
  std::string core_pattern = ReadFile("/proc/sys/kernel/core_pattern");
  const char* variants[] = {"symlink-core", "symlink-sysrq", "missing", "regular", "zero"};
  for (const char* v : variants) {
    SCOPED_TRACE(v);
    Bundle b;
    std::string rootfs = b.UsePrivateRootfs(true);
    std::string null = rootfs + "/dev/null";
    std::string variant = v;
    if (variant == "symlink-core") ASSERT_EQ(::symlink("/proc/sys/kernel/core_pattern", null.c_str()), 0);
    if (variant == "symlink-sysrq") ASSERT_EQ(::symlink("/proc/sysrq-trigger", null.c_str()), 0);
    if (variant == "regular") WriteFile(null, "not a device");
    if (variant == "zero") ASSERT_EQ(::mknod(null.c_str(), S_IFCHR | 0666, makedev(1, 5)), 0);
    // Keep /proc, /sys and the cgroup mount; drop /dev and what lives under it.
    for (int i = 4; i >= 1; --i) b.Remove("/mounts/" + std::to_string(i));
    // husk masks with its own null device whatever the image has at /dev/null: every
    // variant runs and both masked files are 1:3.
    CmdResult r = RunScript(root_, b, "stat -c %t:%T /proc/keys /proc/timer_list");
    EXPECT_TRUE(r.ok()) << r;
    EXPECT_EQ(r.out, "1:3\n1:3\n") << r;
    if (!r.ok()) EXPECT_TRUE(NoLeftovers(root_, b.Id(), b));
    EXPECT_EQ(ReadFile("/proc/sys/kernel/core_pattern"), core_pattern);
  }
}

// S-10 with /dev bind-mounted from the host side: a regular file there is never bound
// over a masked path.
TEST_F(ConfigSecurityTest, MaskRefusesFakeNullInBoundDev) {
  Bundle b;
  TempDir dev("fake-dev");
  WriteFile(dev.Path() + "/null", "fake\n");
  b.SetJson("/mounts/1", R"({"destination":"/dev","type":"bind","source":")" + dev.Path() +
                             R"(","options":["rbind"]})");
  for (int i = 4; i >= 2; --i) b.Remove("/mounts/" + std::to_string(i));
  CmdResult r = RunScript(root_, b, "stat -c %F /proc/keys");
  EXPECT_NE(r.exit_code, 0) << r;
  EXPECT_THAT(r.err, HasSubstr("null device")) << r;
  EXPECT_EQ(ReadFile(dev.Path() + "/null"), "fake\n");
  EXPECT_TRUE(NoLeftovers(root_, b.Id(), b));
}

// S-13: rootfs/dev -> OUT on the host: nothing is created in OUT.
TEST_F(ConfigSecurityTest, SymlinkedDevDoesNotPopulateHost) {
  Bundle b;
  TempDir out("dev-out");
  WriteFile(out.Path() + "/ptmx", "marker\n");
  std::string rootfs = b.UsePrivateRootfs(true);
  std::filesystem::remove_all(rootfs + "/dev");
  ASSERT_EQ(::symlink(out.Path().c_str(), (rootfs + "/dev").c_str()), 0);
  b.SetJson("/mounts", R"([{"destination":"/proc","type":"proc","source":"proc"}])");
  b.Remove("/linux/maskedPaths");
  b.Remove("/linux/readonlyPaths");
  CmdResult r = RunScript(root_, b, "ls /dev");
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(out.Path())) {
    names.push_back(e.path().filename());
  }
  EXPECT_EQ(names, std::vector<std::string>{"ptmx"}) << r;
  EXPECT_EQ(ReadFile(out.Path() + "/ptmx"), "marker\n");
  EXPECT_NE(r.exit_code, 0) << r;
  EXPECT_THAT(r.err, HasSubstr("open \\\"/dev\\\" in container root: too many levels of symbolic links"))
      << r;
  EXPECT_TRUE(NoLeftovers(root_, b.Id(), b));
}

// S-11: the image's /dev/console is a symlink or a directory, and no /dev tmpfs: a clean
// error naming the problem (never a pty bound through the symlink or over the dir).
TEST_F(ConfigSecurityTest, ConsoleIsNeverRedirected) {
  const char* variants[] = {"sysrq", "passwd", "dir"};
  std::string passwd_before = ReadFile("/etc/passwd");
  for (const char* v : variants) {
    SCOPED_TRACE(v);
    Bundle b;
    std::string rootfs = b.UsePrivateRootfs(true);
    std::string console = rootfs + "/dev/console";
    std::string variant = v;
    if (variant == "sysrq") ASSERT_EQ(::symlink("/proc/sysrq-trigger", console.c_str()), 0);
    if (variant == "passwd") ASSERT_EQ(::symlink("../../etc/passwd", console.c_str()), 0);
    if (variant == "dir") ASSERT_EQ(::mkdir(console.c_str(), 0755), 0);
    b.Remove("/mounts/1");  // /dev tmpfs; devpts and the rest stay
    b.SetTerminal(true);
    b.SetArgs({"/bin/sh", "-c",
               "stat -c @@%t %F /dev/console; grep -c ' /dev/console .* - proc ' /proc/self/mountinfo"});
    b.Write();
    ConsoleSocket sock;
    std::string pid_file = b.Path() + "/init.pid";
    ConsoleSocket::Received got;
    std::thread receiver([&] { got = sock.Receive(std::chrono::seconds(10), false); });
    CmdResult r = root_.Husk({"create", "--bundle", b.Path(), "--pid-file", pid_file,
                              "--console-socket", sock.Path(), b.Id()});
    // husk refuses all three: a symlink is never a mount target, a directory never gets
    // the pty bound over it.
    EXPECT_NE(r.exit_code, 0) << r;
    if (!r.ok()) {
      // Unblock the receiver: connect and hang up.
      int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      struct sockaddr_un addr = {};
      addr.sun_family = AF_UNIX;
      std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock.Path().c_str());
      (void)::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
      ::close(fd);
      receiver.join();
      EXPECT_THAT(r.err, HasSubstr(variant == "dir"
                                       ? "mount target \\\"/dev/console\\\": is a directory"
                                       : "mount target \\\"/dev/console\\\" is a symlink"))
          << r;
      EXPECT_TRUE(NoLeftovers(root_, b.Id(), b)) << r;
      continue;
    }
    receiver.join();
    ASSERT_TRUE(got.ok()) << got.error;
    pid_t pid = ReadPidFile(pid_file);
    CmdResult s = root_.Husk({"start", b.Id()});
    ASSERT_TRUE(s.ok()) << s;
    std::string out;
    char buf[4096];
    for (int i = 0; i < 100 && out.find("\n", out.find("@@")) == std::string::npos; ++i) {
      struct pollfd p = {got.master.get(), POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      ssize_t n = ::read(got.master.get(), buf, sizeof(buf));
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    EXPECT_THAT(out, HasSubstr("@@88 character special file")) << out;
    EXPECT_TRUE(WaitForPidGone(pid));
    root_.Husk({"delete", "--force", b.Id()});
  }
  EXPECT_EQ(ReadFile("/etc/passwd"), passwd_before);
}

// S-14: running as a user with stdin on the host's /dev/null never chowns it.
TEST_F(ConfigSecurityTest, HostDevNullKeepsOwner) {
  struct stat before, after;
  ASSERT_EQ(::stat("/dev/null", &before), 0);
  Bundle b;
  b.SetJson("/process/user", R"({"uid":1000,"gid":1000})");
  CmdResult r = RunScript(root_, b, "id -u");
  ASSERT_TRUE(r.ok()) << r;
  ASSERT_EQ(::stat("/dev/null", &after), 0);
  EXPECT_EQ(after.st_uid, before.st_uid);
  EXPECT_EQ(after.st_gid, before.st_gid);
  EXPECT_EQ(after.st_mode, before.st_mode);
}

// S-20: a container root that unshares user/mount/pid namespaces must not be able to
// mount a fresh, unmasked procfs: the kernel allows it only when a fully visible procfs
// exists in its mount namespace, which pivot_root (and --no-pivot's MS_MOVE) must not leave.
class NoBareProcTest : public ConfigSecurityTest, public ::testing::WithParamInterface<bool> {};

TEST_P(NoBareProcTest, FreshProcMountIsRefused) {
  Bundle b;
  b.SetArgs({"/bin/unshare", "-mrpf", "/bin/sh", "-c",
             "mount -t proc none /proc && echo h > /proc/sysrq-trigger"});
  for (const char* set : {"bounding", "effective", "permitted"}) {
    b.SetJson(std::string("/process/capabilities/") + set + "/-", R"("CAP_SETFCAP")");
  }
  b.Write();
  std::vector<std::string> args = {"run", "--bundle", b.Path()};
  if (GetParam()) args.push_back("--no-pivot");
  args.push_back(b.Id());
  CmdResult r = root_.Husk(args);
  EXPECT_NE(r.exit_code, 0) << r;
  EXPECT_THAT(r.err + r.out, HasSubstr("mount")) << r;
}

INSTANTIATE_TEST_SUITE_P(PivotAndNoPivot, NoBareProcTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "NoPivot" : "Pivot"; });

}  // namespace
}  // namespace husk::testing
