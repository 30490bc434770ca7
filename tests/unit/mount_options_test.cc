// The mount option table: attributes, recursive forms, propagation, fs data.
#include "runtime/kernel/mount_options.h"

#include <sys/mount.h>

#include "gtest/gtest.h"

namespace husk::kernel {
namespace {

TEST(MountOptionsTest, PlainAttributes) {
  auto o = ParseMountOptions({"nosuid", "noexec", "nodev", "ro"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->attr_set, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NODEV | MOUNT_ATTR_RDONLY);
  EXPECT_EQ(o->rec_attr_set, 0u);
  EXPECT_FALSE(o->bind);
}

TEST(MountOptionsTest, LaterOptionWins) {
  auto o = ParseMountOptions({"ro", "rw", "nosuid", "suid"});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->attr_set, 0u);
  EXPECT_EQ(o->attr_clr, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID);
}

TEST(MountOptionsTest, AtimeIsOneField) {
  auto o = ParseMountOptions({"noatime", "strictatime"});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->attr_set & MOUNT_ATTR__ATIME, MOUNT_ATTR_STRICTATIME);
  EXPECT_EQ(o->attr_clr & MOUNT_ATTR__ATIME, MOUNT_ATTR__ATIME);
  auto r = ParseMountOptions({"relatime"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->attr_set & MOUNT_ATTR__ATIME, MOUNT_ATTR_RELATIME);
}

TEST(MountOptionsTest, RecursiveForms) {
  auto o = ParseMountOptions({"rbind", "rro", "rnosuid"});
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->bind);
  EXPECT_TRUE(o->recursive);
  EXPECT_EQ(o->rec_attr_set, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID);
  EXPECT_EQ(o->attr_set, 0u);
}

TEST(MountOptionsTest, Propagation) {
  auto o = ParseMountOptions({"bind", "rslave"});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->propagation, static_cast<uint64_t>(MS_SLAVE));
  EXPECT_TRUE(o->propagation_recursive);
  auto p = ParseMountOptions({"private"});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->propagation, static_cast<uint64_t>(MS_PRIVATE));
  EXPECT_FALSE(p->propagation_recursive);
}

TEST(MountOptionsTest, UnknownOptionsBecomeFilesystemData) {
  auto o = ParseMountOptions({"mode=755", "size=65536k", "newinstance", "sync"});
  ASSERT_TRUE(o.ok());
  ASSERT_EQ(o->data.size(), 3u);
  EXPECT_EQ(o->data[0], std::make_pair(std::string("mode"), std::string("755")));
  EXPECT_EQ(o->data[1], std::make_pair(std::string("size"), std::string("65536k")));
  EXPECT_EQ(o->data[2], std::make_pair(std::string("newinstance"), std::string("")));
  EXPECT_EQ(o->sb_flags, std::vector<std::string>{"sync"});
}

TEST(MountOptionsTest, IdmapAndRefusedOptions) {
  auto o = ParseMountOptions({"bind", "ridmap"});
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->idmap);
  EXPECT_TRUE(o->idmap_recursive);
  auto t = ParseMountOptions({"tmpcopyup"});
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(), "mount option \"tmpcopyup\" is not supported yet");
}

TEST(MountOptionsTest, RootfsPropagation) {
  bool recursive = false;
  auto p = ParsePropagation("rshared", &recursive);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, static_cast<unsigned long>(MS_SHARED));
  EXPECT_TRUE(recursive);
  auto bad = ParsePropagation("nosuid", &recursive);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "linux/rootfsPropagation: unknown propagation \"nosuid\"");
}

}  // namespace
}  // namespace husk::kernel
