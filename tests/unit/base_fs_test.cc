// Path cleaning, atomic writes and in-root resolution that never escapes the root.
#include "runtime/base/fs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "gtest/gtest.h"
#include "runtime/base/status.h"

namespace husk {
namespace {

TEST(CleanPathTest, Cases) {
  EXPECT_EQ(CleanPath("/a//b/./c/"), "/a/b/c");
  EXPECT_EQ(CleanPath("/a/../../b"), "/b");
  EXPECT_EQ(CleanPath("a/../.."), "..");
  EXPECT_EQ(CleanPath(""), ".");
  EXPECT_EQ(CleanPath("/"), "/");
  EXPECT_EQ(CleanPath("./x/"), "x");
}

TEST(ErrnoErrorTest, GoSpellingAndPayload) {
  absl::Status s = ErrnoError(ENOENT, "open \"x\"");
  EXPECT_EQ(s.message(), "open \"x\": no such file or directory");
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(StatusErrno(Annotate(s, "create \"c1\"")), ENOENT);
  EXPECT_EQ(Annotate(s, "create \"c1\"").message(), "create \"c1\": open \"x\": no such file or directory");
  EXPECT_FALSE(StatusErrno(absl::InternalError("plain")).has_value());
}

class InRootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/husk-inroot-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    root_ = dir_ + "/root";
    outside_ = dir_ + "/outside";
    ASSERT_EQ(mkdir(root_.c_str(), 0755), 0);
    ASSERT_EQ(mkdir(outside_.c_str(), 0755), 0);
    // Symlinks inside the root that point "outside": absolute and via "..".
    ASSERT_EQ(symlink(outside_.c_str(), (root_ + "/abs").c_str()), 0);
    ASSERT_EQ(symlink("../../..", (root_ + "/up").c_str()), 0);
    root_fd_.Reset(open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(root_fd_.valid());
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }
  std::string dir_, root_, outside_;
  UniqueFd root_fd_;
};

TEST_F(InRootTest, MkdirThroughAbsoluteSymlinkStaysInside) {
  auto fd = MkdirAllInRoot(root_fd_.get(), "/abs/new/dir", 0755);
  ASSERT_TRUE(fd.ok()) << fd.status();
  struct stat st;
  // Created below the root (the symlink's target re-rooted), never in the host dir.
  EXPECT_NE(stat((outside_ + "/new").c_str(), &st), 0);
  EXPECT_EQ(stat((root_ + dir_ + "/outside/new/dir").c_str(), &st), 0);
}

TEST_F(InRootTest, DotDotSymlinkClampsAtRoot) {
  auto fd = MkdirAllInRoot(root_fd_.get(), "/up/etc", 0755);
  ASSERT_TRUE(fd.ok()) << fd.status();
  struct stat st;
  EXPECT_EQ(stat((root_ + "/etc").c_str(), &st), 0);
  EXPECT_NE(stat((dir_ + "/etc").c_str(), &st), 0);
}

TEST_F(InRootTest, NoSymlinksRefusesAnySymlink) {
  auto fd = OpenInRoot(root_fd_.get(), "/abs", O_PATH, {.no_symlinks = true});
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(StatusErrno(fd.status()), ELOOP);
}

TEST_F(InRootTest, EnsureFileFollowsFinalSymlinkInsideRoot) {
  ASSERT_EQ(symlink("/etc/passwd", (root_ + "/file-link").c_str()), 0);
  auto refused = EnsureFileInRoot(root_fd_.get(), "/file-link", 0644, {.no_symlinks = true});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("is a symlink"), std::string::npos) << refused.status();
  auto fd = EnsureFileInRoot(root_fd_.get(), "/file-link", 0644);
  ASSERT_TRUE(fd.ok()) << fd.status();
  struct stat st;
  EXPECT_EQ(stat((root_ + "/etc/passwd").c_str(), &st), 0);  // made inside, host untouched
  auto made = EnsureFileInRoot(root_fd_.get(), "/a/b/file", 0644);
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_EQ(stat((root_ + "/a/b/file").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
}

TEST_F(InRootTest, DotDotNeverLeavesRoot) {
  auto fd = MkdirAllInRoot(root_fd_.get(), "/../../a/../b", 0755);
  ASSERT_TRUE(fd.ok()) << fd.status();
  struct stat st;
  EXPECT_EQ(stat((root_ + "/b").c_str(), &st), 0);
  EXPECT_EQ(stat((root_ + "/a").c_str(), &st), 0);
}

TEST_F(InRootTest, SymlinkLoopIsAnError) {
  ASSERT_EQ(symlink("loop", (root_ + "/loop").c_str()), 0);
  auto fd = MkdirAllInRoot(root_fd_.get(), "/loop/x", 0755);
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(StatusErrno(fd.status()), ELOOP);
}

TEST_F(InRootTest, FileInPathIsNotADirectory) {
  ASSERT_TRUE(EnsureFileInRoot(root_fd_.get(), "/plain", 0644).ok());
  auto fd = MkdirAllInRoot(root_fd_.get(), "/plain/x", 0755);
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(StatusErrno(fd.status()), ENOTDIR);
}

TEST(WriteFileAtomicTest, ReplacesLongerContent) {
  char tmpl[] = "/tmp/husk-atomic-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string path = std::string(tmpl) + "/pid";
  ASSERT_TRUE(WriteFileAtomic(path, "123456789", 0644).ok());
  ASSERT_TRUE(WriteFileAtomic(path, "42", 0644).ok());
  auto content = ReadFile(path);
  ASSERT_TRUE(content.ok());
  EXPECT_EQ(*content, "42");
  struct stat st;
  EXPECT_NE(stat((std::string(tmpl) + "/.pid").c_str(), &st), 0);  // no temp file left
  std::system((std::string("rm -rf ") + tmpl).c_str());
}

}  // namespace
}  // namespace husk
