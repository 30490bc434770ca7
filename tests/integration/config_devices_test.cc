// /dev in the container (config-linux.md "Devices", "Default Devices", "Default
// Filesystems"): the default nodes, linux.devices entries, the /dev symlinks, devpts,
// /dev/shm and /dev/mqueue, and the device cgroup denying what it does not allow.
#include <sys/stat.h>
#include <unistd.h>

#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/config_util.h"
#include "tests/support/harness.h"

namespace husk::testing {
namespace {

using ::testing::HasSubstr;

class ConfigDevicesTest : public ::testing::Test {
 protected:
  void SetUp() override { HUSK_REQUIRE_CONTAINERS(); }
  TestRoot root_;
};

TEST_F(ConfigDevicesTest, DefaultDevicesExist) {
  Bundle b;
  CmdResult r = RunScript(
      root_, b,
      "for d in null zero full random urandom tty; do stat -c '%n %F %t:%T %a %u:%g' /dev/$d; done; "
      "head -c 4 /dev/zero | od -An -tx1; echo x > /dev/null && echo null-ok");
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.out,
            "/dev/null character special file 1:3 666 0:0\n"
            "/dev/zero character special file 1:5 666 0:0\n"
            "/dev/full character special file 1:7 666 0:0\n"
            "/dev/random character special file 1:8 666 0:0\n"
            "/dev/urandom character special file 1:9 666 0:0\n"
            "/dev/tty character special file 5:0 666 0:0\n"
            " 00 00 00 00\n"
            "null-ok\n")
      << r;
}

TEST_F(ConfigDevicesTest, ConfiguredDeviceHasModeAndOwner) {
  Bundle b;
  b.SetJson("/linux/devices",
            R"([{"path":"/dev/mynull","type":"c","major":1,"minor":3,"fileMode":384,
                 "uid":1000,"gid":1000}])");
  b.SetJson("/process/user", R"({"uid":1000,"gid":1000})");
  b.SetJson("/linux/resources/devices",
            R"([{"allow":false,"access":"rwm"},
                {"allow":true,"type":"c","major":1,"minor":3,"access":"rw"}])");
  CmdResult r = RunScript(root_, b, "stat -c '%F %t:%T %a %u:%g' /dev/mynull; "
                                    "echo hi > /dev/mynull && echo write-ok");
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.out, "character special file 1:3 600 1000:1000\nwrite-ok\n") << r;
}

// /dev/fuse (10:229) is neither in linux.devices nor in the runtime's default allow list,
// and opening it needs no capability, so only the device cgroup can refuse the open. It
// is bind-mounted from the host so the node exists without a linux.devices entry (which
// would be auto-allowed).
constexpr char kFuseMount[] =
    R"({"destination":"/dev/fuse","type":"bind","source":"/dev/fuse","options":["bind"]})";
constexpr char kFuseScript[] =
    "stat -c '%t:%T' /dev/fuse; (exec 3</dev/fuse) 2>&1; echo rc=$?; "
    "cat /dev/null && echo null-ok";

TEST_F(ConfigDevicesTest, DeviceCgroupDeniesUnlistedDevice) {
  struct stat st;
  if (::stat("/dev/fuse", &st) != 0 || !S_ISCHR(st.st_mode)) {
    GTEST_SKIP() << "host has no /dev/fuse";
  }
  Bundle b;
  b.SetJson("/mounts/-", kFuseMount);
  CmdResult r = RunScript(root_, b, kFuseScript);
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_THAT(r.out, HasSubstr("a:e5\n")) << r;
  EXPECT_THAT(r.out, HasSubstr("Operation not permitted")) << r;
  EXPECT_THAT(r.out, HasSubstr("rc=1")) << r;
  EXPECT_THAT(r.out, HasSubstr("null-ok")) << r;
}

// Control: the same open succeeds once resources.devices allows 10:229.
TEST_F(ConfigDevicesTest, DeviceCgroupAllowsListedDevice) {
  struct stat st;
  if (::stat("/dev/fuse", &st) != 0 || !S_ISCHR(st.st_mode)) {
    GTEST_SKIP() << "host has no /dev/fuse";
  }
  Bundle b;
  b.SetJson("/mounts/-", kFuseMount);
  b.SetJson("/linux/resources/devices",
            R"([{"allow":false,"access":"rwm"},
                {"allow":true,"type":"c","major":10,"minor":229,"access":"rw"}])");
  CmdResult r = RunScript(root_, b, kFuseScript);
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.out, "a:e5\nrc=0\nnull-ok\n") << r;
}

// config-linux.md "devices": a different file at the path is an error, never replaced.
TEST_F(ConfigDevicesTest, ExistingDifferentFileAtDevicePathIsAnError) {
  Bundle b;
  std::string rootfs = b.UsePrivateRootfs(true);
  std::string before = ReadFile(rootfs + "/etc/group");
  b.SetJson("/linux/devices", R"([{"path":"/etc/group","type":"c","major":1,"minor":3}])");
  CmdResult r = RunScript(root_, b, "echo ran");
  EXPECT_NE(r.exit_code, 0) << r;
  EXPECT_THAT(r.err, HasSubstr("linux/devices/0")) << r;
  EXPECT_EQ(ReadFile(rootfs + "/etc/group"), before);
  EXPECT_TRUE(NoLeftovers(root_, b.Id(), b));
}

// A device path with ".." stays inside the root.
TEST_F(ConfigDevicesTest, DotDotDevicePathStaysInsideRoot) {
  Bundle b;
  std::string rootfs = b.UsePrivateRootfs(true);
  b.SetJson("/linux/devices",
            R"([{"path":"/dev/../../../etc/husk-null","type":"c","major":1,"minor":3}])");
  CmdResult r = RunScript(root_, b, "stat -c '%t:%T' /etc/husk-null");
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.out, "1:3\n");
  EXPECT_NE(::access("/etc/husk-null", F_OK), 0);
  struct stat st;
  EXPECT_EQ(::lstat((rootfs + "/etc/husk-null").c_str(), &st), 0);
}

TEST_F(ConfigDevicesTest, DevSymlinks) {
  Bundle b;
  CmdResult r = RunScript(root_, b,
                          "for l in fd stdin stdout stderr ptmx; do echo $l=$(readlink /dev/$l); done");
  ASSERT_TRUE(r.ok()) << r;
  EXPECT_EQ(r.out,
            "fd=/proc/self/fd\nstdin=/proc/self/fd/0\nstdout=/proc/self/fd/1\n"
            "stderr=/proc/self/fd/2\nptmx=pts/ptmx\n")
      << r;
}

TEST_F(ConfigDevicesTest, DevptsIsANewInstance) {
  Bundle b;
  CmdResult r = RunScript(root_, b, "cat /proc/self/mountinfo; echo @@ptmx; stat -c '%t:%T %a' /dev/pts/ptmx");
  ASSERT_TRUE(r.ok()) << r;
  std::string pts = MountInfoLine(r.out, "/dev/pts");
  ASSERT_NE(pts, "") << r;
  std::string super = MountSuperOf(r.out, "/dev/pts");
  EXPECT_EQ(super.rfind("devpts devpts ", 0), 0u) << super;
  EXPECT_THAT(super, HasSubstr("gid=5")) << super;
  EXPECT_THAT(super, HasSubstr("mode=620")) << super;
  EXPECT_THAT(super, HasSubstr("ptmxmode=666")) << super;
  std::string opts = MountOptionsOf(r.out, "/dev/pts");
  EXPECT_TRUE(HasOption(opts, "nosuid") && HasOption(opts, "noexec")) << opts;
  // A new instance has its own device number, unlike the host's /dev/pts.
  std::string host = ReadFile("/proc/self/mountinfo");
  std::string host_pts = MountInfoLine(host, "/dev/pts");
  if (!host_pts.empty()) {
    auto dev = [](const std::string& line) {
      std::istringstream f(line);
      std::string a, b, d;
      f >> a >> b >> d;
      return d;
    };
    EXPECT_NE(dev(pts), dev(host_pts));
  }
  EXPECT_EQ(Section(r.out, "ptmx"), "5:2 666");
}

TEST_F(ConfigDevicesTest, ShmAndMqueueMounted) {
  Bundle b;
  CmdResult r = RunScript(root_, b, "cat /proc/self/mountinfo; echo @@shm; stat -c %a /dev/shm");
  ASSERT_TRUE(r.ok()) << r;
  std::string shm = MountOptionsOf(r.out, "/dev/shm");
  EXPECT_TRUE(HasOption(shm, "nosuid") && HasOption(shm, "nodev") && HasOption(shm, "noexec"))
      << shm;
  EXPECT_EQ(MountSuperOf(r.out, "/dev/shm").rfind("tmpfs shm ", 0), 0u) << r;
  EXPECT_THAT(MountSuperOf(r.out, "/dev/shm"), HasSubstr("size=65536k"));
  EXPECT_EQ(Section(r.out, "shm"), "1777");
  std::string mq = MountOptionsOf(r.out, "/dev/mqueue");
  EXPECT_TRUE(HasOption(mq, "nosuid") && HasOption(mq, "nodev") && HasOption(mq, "noexec")) << mq;
  EXPECT_EQ(MountSuperOf(r.out, "/dev/mqueue").rfind("mqueue mqueue ", 0), 0u) << r;
  std::string dev = MountSuperOf(r.out, "/dev");
  EXPECT_EQ(dev.rfind("tmpfs tmpfs ", 0), 0u) << dev;
  EXPECT_THAT(dev, HasSubstr("mode=755")) << dev;
}

// Docker 20.10 writes this linux.resources for every container (no option avoids it):
// the default device rules, then "memory": {"disableOOMKiller": false}, "cpu":
// {"shares": 0} and "blockIO": {"weight": 0}. A zero weight means "not set" (runc and crun
// skip it), so the container runs and husk writes no blkio file; with
// `--blkio-weight-device X:0` Docker adds per-device entries of weight 0 as well.
TEST_F(ConfigDevicesTest, DockerZeroBlockIoWeightRuns) {
  constexpr const char* kShapes[] = {
      R"({"weight": 0})",
      R"({"weight": 0, "leafWeight": 0, "weightDevice": [{"major": 8, "minor": 0, "weight": 0}]})"};
  for (const char* block_io : kShapes) {
    Bundle b;
    b.SetJson("/linux/resources", std::string(R"({
        "devices": [
          {"allow": false, "access": "rwm"},
          {"allow": true, "type": "c", "major": 1, "minor": 5, "access": "rwm"},
          {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
          {"allow": true, "type": "c", "major": 1, "minor": 9, "access": "rwm"},
          {"allow": true, "type": "c", "major": 1, "minor": 8, "access": "rwm"},
          {"allow": true, "type": "c", "major": 5, "minor": 0, "access": "rwm"},
          {"allow": true, "type": "c", "major": 5, "minor": 1, "access": "rwm"},
          {"allow": false, "type": "c", "major": 10, "minor": 229, "access": "rwm"}],
        "memory": {"disableOOMKiller": false},
        "cpu": {"shares": 0},
        "blockIO": )") + block_io + "}");
    CmdResult r = RunScript(root_, b, "echo docker-shape-ok");
    EXPECT_TRUE(r.ok()) << block_io << ": " << r;
    EXPECT_EQ(r.out, "docker-shape-ok\n") << r;
  }
}

}  // namespace
}  // namespace husk::testing
