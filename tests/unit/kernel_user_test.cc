// passwd/group parsing (never NSS in container context) and exec path lookup.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "gtest/gtest.h"
#include "runtime/base/status.h"
#include "runtime/kernel/user.h"
#include "runtime/process/init.h"

namespace husk {
namespace {

TEST(PasswdTest, ParsesEntriesAndSkipsMalformedLines) {
  auto entries = kernel::ParsePasswd(
      "root:x:0:0:root:/root:/bin/sh\n"
      "# comment\n"
      "\n"
      "broken:x:notanumber:0::/:/bin/sh\n"
      "short:x:1\n"
      "tester:x:1000:1000:Test User:/home/tester:/bin/sh\r\n");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].name, "root");
  EXPECT_EQ(entries[1].uid, 1000u);
  EXPECT_EQ(entries[1].home, "/home/tester");
  EXPECT_EQ(entries[1].shell, "/bin/sh");
  EXPECT_EQ(kernel::FindUser(entries, "tester")->uid, 1000u);
  EXPECT_FALSE(kernel::FindUser(entries, 42).has_value());
}

TEST(PasswdTest, HomeFallsBackToRoot) {
  EXPECT_EQ(kernel::HomeForUid("a:x:5:5::/home/a:/bin/sh\n", 5), "/home/a");
  EXPECT_EQ(kernel::HomeForUid("a:x:5:5::/home/a:/bin/sh\n", 6), "/");
  EXPECT_EQ(kernel::HomeForUid("a:x:5:5:::/bin/sh\n", 5), "/");
  EXPECT_EQ(kernel::HomeForUid("", 0), "/");
}

TEST(GroupTest, ParsesMembers) {
  auto groups = kernel::ParseGroup("root:x:0:\nextra:x:2000:tester,other\nbad:x:y:\n");
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[1].gid, 2000u);
  EXPECT_EQ(groups[1].members, (std::vector<std::string>{"tester", "other"}));
  EXPECT_TRUE(groups[0].members.empty());
}

class LookPathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/husk-lookpath-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    Make(dir_ + "/tool", 0755);
    Make(dir_ + "/data", 0644);
  }
  void TearDown() override {
    unlink((dir_ + "/tool").c_str());
    unlink((dir_ + "/data").c_str());
    rmdir(dir_.c_str());
  }
  void Make(const std::string& path, mode_t mode) {
    std::ofstream(path) << "#!/bin/sh\n";
    chmod(path.c_str(), mode);
  }
  std::string dir_;
};

TEST_F(LookPathTest, FindsInPath) {
  auto p = process::LookPath("tool", {"PATH=/nonexistent:" + dir_});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(*p, dir_ + "/tool");
}

TEST_F(LookPathTest, NotFoundUsesRuncWording) {
  auto p = process::LookPath("nonexistent-binary", {"PATH=" + dir_});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(),
            "exec: \"nonexistent-binary\": executable file not found in $PATH");
  EXPECT_EQ(StatusErrno(p.status()), ENOENT);
}

TEST_F(LookPathTest, AbsolutePathMissing) {
  auto p = process::LookPath(dir_ + "/missing", {});
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("no such file or directory"), std::string::npos)
      << p.status();
}

TEST_F(LookPathTest, NotExecutableIsPermissionDenied) {
  if (geteuid() == 0) {
    // root passes X_OK for any file with at least one x bit; "data" has none.
  }
  auto p = process::LookPath(dir_ + "/data", {});
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("permission denied"), std::string::npos) << p.status();
  auto q = process::LookPath("data", {"PATH=" + dir_});
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.status().message().find("permission denied"), std::string::npos) << q.status();
}

}  // namespace
}  // namespace husk
