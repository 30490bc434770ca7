// config.json `mounts` (config.md "Mounts"; design.md §5): bind/rbind, filesystem options,
// mount attributes, propagation, recursive read-only, file binds, idmapped binds, and
// destinations resolved inside the root (S-04, S-05, S-06).
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/config_util.h"
#include "tests/support/harness.h"

namespace husk::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A host directory with `sub/` on which a tmpfs holding `sub/marker` is mounted; the
// tmpfs is detached when this goes out of scope (before the Bundle checks for leaks).
class DirWithSubmount {
 public:
  DirWithSubmount() : dir_("submount") {
    WriteFile(dir_.Path() + "/top", "top\n");
    ::mkdir((dir_.Path() + "/sub").c_str(), 0755);
    mounted_ = ::mount("tmpfs", (dir_.Path() + "/sub").c_str(), "tmpfs", 0, "size=1m") == 0;
    if (mounted_) WriteFile(dir_.Path() + "/sub/marker", "sub\n");
  }
  ~DirWithSubmount() {
    if (mounted_) ::umount2((dir_.Path() + "/sub").c_str(), MNT_DETACH);
  }
  bool ok() const { return mounted_; }
  const std::string& Path() const { return dir_.Path(); }

 private:
  TempDir dir_;
  bool mounted_ = false;
};

// The host's /proc/self/mountinfo lines whose mount point is at or under one of `under`,
// or is exactly one of `exact`. Other tests may mount things concurrently, so checks for
// leaks compare only the part of the mount table this test could have changed.
std::string HostMountLines(const std::vector<std::string>& under,
                           const std::vector<std::string>& exact = {}) {
  std::string out;
  for (const std::string& line : SplitLines(ReadFile("/proc/self/mountinfo"))) {
    std::istringstream f(line);
    std::string id, parent, dev, root, mount_point;
    if (!(f >> id >> parent >> dev >> root >> mount_point)) continue;
    bool keep = std::find(exact.begin(), exact.end(), mount_point) != exact.end();
    for (const std::string& u : under) {
      keep = keep || mount_point == u || mount_point.rfind(u + "/", 0) == 0;
    }
    if (keep) out += line + "\n";
  }
  return out;
}

class ConfigMountsTest : public ::testing::Test {
 protected:
  void SetUp() override { HUSK_REQUIRE_CONTAINERS(); }
  // Appends a mount entry (JSON object text).
  static void AddMount(Bundle& b, const std::string& json) { b.SetJson("/mounts/-", json); }
  static std::string Bind(const std::string& source, const std::string& dest,
                          const std::string& options) {
    return R"({"destination":")" + dest + R"(","type":"bind","source":")" + source +
           R"(","options":[)" + options + "]}";
  }
  TestRoot root_;
};

TEST_F(ConfigMountsTest, ReadOnlyBindRefusesWrites) {
  Bundle b;
  TempDir src("bind-ro");
  WriteFile(src.Path() + "/hello", "hello from host\n");
  AddMount(b, Bind(src.Path(), "/run", R"("bind","ro")"));
  CmdResult r = RunScript(root_, b, "cat /run/hello; touch /run/x 2>&1; echo rc=$?");
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_THAT(r.out, HasSubstr("hello from host")) << r;
  EXPECT_THAT(r.out, HasSubstr("Read-only file system")) << r;
  EXPECT_THAT(r.out, HasSubstr("rc=1")) << r;
  EXPECT_NE(::access((src.Path() + "/x").c_str(), F_OK), 0);
}

// config.md passes unknown options to mount(2) as data; on a bind the kernel ignores
// them (MS_BIND), so the mount is made and the options are named in a warning.
TEST_F(ConfigMountsTest, FilesystemOptionsOnABindAreIgnoredWithAWarning) {
  Bundle b;
  TempDir src("bind-opts");
  WriteFile(src.Path() + "/hello", "hi\n");
  AddMount(b, Bind(src.Path(), "/run", R"("bind","ro","mode=755","size=1m")"));
  CmdResult r = RunScript(root_, b, "cat /run/hello; touch /run/x 2>&1; echo rc=$?");
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_THAT(r.out, HasSubstr("hi\n")) << r;
  EXPECT_THAT(r.out, HasSubstr("Read-only file system")) << r;  // "ro" still applied
  EXPECT_THAT(r.err, HasSubstr("level=warning"));
  EXPECT_THAT(r.err, HasSubstr("mounts/7/options: mode=755,size=1m ignored: a bind mount "
                               "takes no filesystem options"));
}

// A "ro" /dev is populated first (nodes, /dev/pts, /dev/shm) and made read-only last.
TEST_F(ConfigMountsTest, ReadOnlyDevIsPopulatedFirst) {
  Bundle b;
  b.SetJson("/mounts/1/options", R"(["nosuid","strictatime","mode=755","size=65536k","ro"])");
  CmdResult r = RunScript(root_, b,
                          "echo x > /dev/null && echo null-ok; test -d /dev/pts && echo pts-ok; "
                          "touch /dev/new 2>&1; grep ' /dev ' /proc/self/mountinfo");
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_THAT(r.out, HasSubstr("null-ok\npts-ok\n")) << r;
  EXPECT_THAT(r.out, HasSubstr("Read-only file system")) << r;
  EXPECT_THAT(MountOptionsOf(r.out, "/dev"), HasSubstr("ro")) << r;
}

// A bind of the host's procfs onto /proc is a procfs (runc accepts it); a bind of
// anything else there is still refused (S-03).
TEST_F(ConfigMountsTest, BindOfProcfsOnProc) {
  Bundle b;
  b.SetJson("/mounts/0", R"({"destination":"/proc","type":"bind","source":"/proc",
                             "options":["rbind","nosuid","noexec","nodev"]})");
  CmdResult r = RunScript(root_, b, "grep -c . /proc/self/status >/dev/null && echo ok");
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.out, "ok\n");
  Bundle bad;
  TempDir src("not-proc");
  bad.SetJson("/mounts/0", R"({"destination":"/proc","type":"bind","source":")" + src.Path() +
                                R"(","options":["rbind"]})");
  bad.Write();
  CmdResult c = root_.Husk({"run", "--bundle", bad.Path(), bad.Id()});
  EXPECT_NE(c.exit_code, 0) << c;
  EXPECT_THAT(c.err, HasSubstr("cannot be mounted: it is not of type proc")) << c;
  EXPECT_TRUE(NoLeftovers(root_, bad.Id(), bad));
}

// Bind sources are opened by husk with its own credentials before the init enters the
// user namespace: a source below a 0700 directory works for a container whose root is
// an unprivileged host uid (runc opens such sources on the host side too).
TEST_F(ConfigMountsTest, BindSourceUnderAPrivateDirectoryWithAUserNamespace) {
  TempDir top("private-parent");
  ASSERT_EQ(::chmod(top.Path().c_str(), 0700), 0);
  std::string inner = top.Path() + "/shared";
  ASSERT_EQ(::mkdir(inner.c_str(), 0755), 0);
  WriteFile(inner + "/file", "reachable\n");
  Bundle b;
  UseUserNamespace(b);  // container root = host uid/gid 100000
  b.Remove("/linux/resources");
  b.Remove("/mounts/6");  // the cgroup mount: not ours to mount in a user namespace
  AddMount(b, Bind(inner, "/run", R"("rbind","ro")"));
  CmdResult r = RunScript(root_, b, "cat /run/file");
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.out, "reachable\n");
}

// Mounts appear in /proc/self/mountinfo in the config's order (runtime-tools checks it;
// on Linux 6.8+ mountinfo is ordered by mount id, so a bind source cloned early would
// jump ahead).
TEST_F(ConfigMountsTest, MountinfoFollowsTheConfigOrder) {
  Bundle b;
  TempDir one("order-1"), two("order-2");
  AddMount(b, Bind(one.Path(), "/run", R"("bind")"));
  AddMount(b, R"({"destination":"/tmp","type":"tmpfs","source":"tmpfs","options":["size=64k"]})");
  AddMount(b, Bind(two.Path(), "/home", R"("bind")"));
  CmdResult r = RunScript(root_, b, "cut -d' ' -f5 /proc/self/mountinfo | grep -E '^/(run|tmp|home)$'");
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.out, "/run\n/tmp\n/home\n");
}

TEST_F(ConfigMountsTest, RbindCarriesSubmountsBindDoesNot) {
  Bundle b;
  DirWithSubmount src;
  ASSERT_TRUE(src.ok());
  AddMount(b, Bind(src.Path(), "/run", R"("rbind")"));
  AddMount(b, Bind(src.Path(), "/home", R"("bind")"));
  CmdResult r = RunScript(root_, b, "cat /run/top /run/sub/marker; ls -A /home/sub; echo end");
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.out, "top\nsub\nend\n") << r;
}

TEST_F(ConfigMountsTest, RecursiveReadOnlyCoversSubmounts) {
  Bundle b;
  DirWithSubmount src;
  ASSERT_TRUE(src.ok());
  AddMount(b, Bind(src.Path(), "/run", R"("rbind","rro")"));
  CmdResult r = RunScript(root_, b,
                          "touch /run/x 2>&1; touch /run/sub/x 2>&1; cat /run/sub/marker");
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.out,
            "touch: /run/x: Read-only file system\ntouch: /run/sub/x: Read-only file system\nsub\n")
      << r;
}

TEST_F(ConfigMountsTest, TmpfsSizeModeAndFlags) {
  Bundle b;
  AddMount(b, R"({"destination":"/run","type":"tmpfs","source":"tmpfs",
                  "options":["nosuid","nodev","noexec","size=1m","mode=1770"]})");
  CmdResult r = RunScript(root_, b, "cat /proc/self/mountinfo; echo @@mode; stat -c %a /run");
  ASSERT_TRUE(r.ok()) << r;
  std::string opts = MountOptionsOf(r.out, "/run");
  EXPECT_TRUE(HasOption(opts, "nosuid")) << opts;
  EXPECT_TRUE(HasOption(opts, "nodev")) << opts;
  EXPECT_TRUE(HasOption(opts, "noexec")) << opts;
  EXPECT_TRUE(HasOption(opts, "rw")) << opts;
  std::string super = MountSuperOf(r.out, "/run");
  EXPECT_THAT(super, HasSubstr("tmpfs ")) << super;
  EXPECT_THAT(super, HasSubstr("size=1024k")) << super;
  EXPECT_THAT(super, HasSubstr("mode=1770")) << super;
  EXPECT_EQ(Section(r.out, "mode"), "1770");
}

TEST_F(ConfigMountsTest, BindPropagationOptions) {
  Bundle b;
  TempDir shared("prop-shared"), priv("prop-private");
  AddMount(b, Bind(shared.Path(), "/run", R"("rbind","rshared")"));
  AddMount(b, Bind(priv.Path(), "/home", R"("rbind","rprivate")"));
  CmdResult r = RunScript(root_, b, "cat /proc/self/mountinfo");
  ASSERT_TRUE(r.ok()) << r;
  std::string run = MountInfoLine(r.out, "/run"), home = MountInfoLine(r.out, "/home");
  EXPECT_THAT(run, HasSubstr(" shared:")) << run;
  EXPECT_THAT(home, Not(HasSubstr(" shared:"))) << home;
  EXPECT_THAT(home, Not(HasSubstr(" master:"))) << home;
  EXPECT_TRUE(MountsMentioning(shared.Path()).empty());
}

TEST_F(ConfigMountsTest, RootfsPropagationPrivate) {
  Bundle b;
  b.SetJson("/linux/rootfsPropagation", R"("rprivate")");
  CmdResult r = RunScript(root_, b, "cat /proc/self/mountinfo");
  ASSERT_TRUE(r.ok()) << r;
  std::string line = MountInfoLine(r.out, "/");
  ASSERT_NE(line, "") << r;
  EXPECT_THAT(line, Not(HasSubstr(" shared:"))) << line;
  EXPECT_THAT(line, Not(HasSubstr(" master:"))) << line;
}

// H-12: with the bundle on a shared mount, nothing the runtime mounts propagates back to
// the host, whatever rootfsPropagation says; with "rshared" the root is shared inside.
TEST_F(ConfigMountsTest, NoMountLeaksFromASharedParent) {
  for (const char* propagation : {"", "rslave", "rprivate", "rshared", "shared"}) {
    SCOPED_TRACE(propagation);
    Bundle b;
    b.UsePrivateRootfs(true);
    ASSERT_EQ(::mount(b.Path().c_str(), b.Path().c_str(), nullptr, MS_BIND, nullptr), 0);
    ASSERT_EQ(::mount(nullptr, b.Path().c_str(), nullptr, MS_SHARED, nullptr), 0);
    if (*propagation != '\0') b.SetJson("/linux/rootfsPropagation", std::string("\"") + propagation + "\"");
    // Anything propagating back would appear under the shared bundle mount.
    std::string before = HostMountLines({b.Path()});
    ASSERT_NE(before, "");
    CmdResult r = RunScript(root_, b, "cat /proc/self/mountinfo");
    std::string after = HostMountLines({b.Path()});
    EXPECT_TRUE(r.ok()) << r;
    if (std::string(propagation).find("shared") != std::string::npos) {
      EXPECT_THAT(MountInfoLine(r.out, "/"), HasSubstr(" shared:")) << r;
    }
    EXPECT_EQ(after, before) << "host mounts changed";
    while (::umount2(b.Path().c_str(), MNT_DETACH) == 0) {
    }
  }
}

TEST_F(ConfigMountsTest, BindOfAFile) {
  Bundle b;
  TempDir src("bind-file");
  WriteFile(src.Path() + "/group", "only:x:4242:\n");
  AddMount(b, Bind(src.Path() + "/group", "/etc/group", R"("bind","ro")"));
  CmdResult r = RunScript(root_, b, "cat /etc/group; stat -c %F /etc/group");
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.out, "only:x:4242:\nregular file\n") << r;
}

TEST_F(ConfigMountsTest, RelativeBindSourceIsBundleRelative) {
  Bundle b;
  ASSERT_EQ(::mkdir((b.Path() + "/data").c_str(), 0755), 0);
  WriteFile(b.Path() + "/data/f", "bundle data\n");
  AddMount(b, Bind("data", "/run", R"("bind","ro")"));
  CmdResult r = RunScript(root_, b, "cat /run/f");
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.out, "bundle data\n") << r;
}

TEST_F(ConfigMountsTest, IdmappedBindShowsMappedOwner) {
  Bundle b;
  TempDir src("idmap");
  WriteFile(src.Path() + "/owned-by-root", "x");
  AddMount(b, R"({"destination":"/run","type":"bind","source":")" + src.Path() +
                  R"(","options":["bind","idmap"],
                  "uidMappings":[{"containerID":0,"hostID":1234,"size":1}],
                  "gidMappings":[{"containerID":0,"hostID":5678,"size":1}]})");
  CmdResult r = RunScript(root_, b, "stat -c '%u %g' /run/owned-by-root");
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.out, "1234 5678\n") << r;
  struct stat st;
  ASSERT_EQ(::stat((src.Path() + "/owned-by-root").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
}

TEST_F(ConfigMountsTest, MissingBindSourceNamesTheEntry) {
  Bundle b;
  AddMount(b, Bind("/nonexistent/husk-missing-source", "/run", R"("bind")"));
  b.Write();
  CmdResult r = root_.Husk({"run", "--bundle", b.Path(), b.Id()});
  EXPECT_NE(r.exit_code, 0) << r;
  EXPECT_THAT(r.err, HasSubstr("mounts/7/source")) << r;
  EXPECT_THAT(r.err, HasSubstr("no such file or directory")) << r;
  EXPECT_TRUE(NoLeftovers(root_, b.Id(), b));
}

// S-05 (deterministic): a destination through a symlink that points outside the root is
// resolved inside the root and never touches the host.
TEST_F(ConfigMountsTest, SymlinkedDestinationStaysInsideRoot) {
  for (const char* target : {"/etc", "../../../../../../etc"}) {
    SCOPED_TRACE(target);
    Bundle b;
    std::string rootfs = b.UsePrivateRootfs(true);
    ASSERT_EQ(::symlink(target, (rootfs + "/link").c_str()), 0);
    std::string leaf = "husk-s05-" + b.Id();
    AddMount(b, R"({"destination":"/link/)" + leaf +
                    R"(","type":"tmpfs","source":"tmpfs","options":["size=64k"]})");
    CmdResult r = RunScript(root_, b, "grep -c ' /etc/" + leaf + " ' /proc/self/mountinfo");
    ASSERT_TRUE(r.ok()) << r;
    EXPECT_EQ(r.out, "1\n") << r;
    EXPECT_NE(::access(("/etc/" + leaf).c_str(), F_OK), 0) << "created on the host";
    struct stat st;
    EXPECT_EQ(::lstat((rootfs + "/link").c_str(), &st), 0);
    EXPECT_TRUE(S_ISLNK(st.st_mode));
    EXPECT_EQ(::stat((rootfs + "/etc/" + leaf).c_str(), &st), 0);
  }
}

// S-06: missing parents of a file mountpoint are created inside the root.
TEST_F(ConfigMountsTest, FileMountpointThroughSymlinkStaysInsideRoot) {
  Bundle b;
  std::string rootfs = b.UsePrivateRootfs(true);
  std::string canary = "/tmp/husk-it/canary-" + b.Id();
  ASSERT_EQ(::symlink(canary.c_str(), (rootfs + "/etc/evil").c_str()), 0);
  TempDir src("s06");
  WriteFile(src.Path() + "/f", "f\n");
  AddMount(b, Bind(src.Path() + "/f", "/etc/evil/sub/f", R"("bind")"));
  CmdResult r = RunScript(root_, b, "cat " + canary + "/sub/f");
  EXPECT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.out, "f\n") << r;
  EXPECT_NE(::access(canary.c_str(), F_OK), 0) << canary << " was created on the host";
  EXPECT_EQ(::access((rootfs + canary + "/sub/f").c_str(), F_OK), 0);
}

// S-04: /proc (or /sys) in the rootfs is a symlink: create fails, nothing is mounted.
TEST_F(ConfigMountsTest, SymlinkedProcOrSysIsRefused) {
  for (const char* dir : {"proc", "sys"}) {
    for (const char* target : {"/bad-proc", "../../../tmp/x", "/"}) {
      SCOPED_TRACE(std::string(dir) + " -> " + target);
      Bundle b;
      // The bundle, the symlink targets, and the host's own /, /proc and /sys.
      auto watched = [&] {
        return HostMountLines({b.Path(), "/bad-proc", "/tmp/x"}, {"/", "/proc", "/sys"});
      };
      std::string before = watched();
      std::string rootfs = b.UsePrivateRootfs(true);
      ASSERT_EQ(::rmdir((rootfs + "/" + dir).c_str()), 0);
      ASSERT_EQ(::symlink(target, (rootfs + "/" + dir).c_str()), 0);
      CmdResult r = RunScript(root_, b, "echo ran");
      EXPECT_NE(r.exit_code, 0) << r;
      EXPECT_THAT(r.out, Not(HasSubstr("ran"))) << r;
      EXPECT_THAT(r.err, HasSubstr(std::string("/") + dir)) << r;
      EXPECT_THAT(r.err, HasSubstr("must be mounted on ordinary directory")) << r;
      EXPECT_TRUE(NoLeftovers(root_, b.Id(), b));
      EXPECT_EQ(watched(), before);
    }
  }
}

}  // namespace
}  // namespace husk::testing
