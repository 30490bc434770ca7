// The parent<->child channel: typed messages, fd passing, malformed input refused.
#include "runtime/process/sync_channel.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gtest/gtest.h"
#include "runtime/base/status.h"

namespace husk::process {
namespace {

TEST(SyncChannelTest, RoundTripWithTextValueAndErrno) {
  auto pair = SyncChannel::Pair();
  ASSERT_TRUE(pair.ok());
  ASSERT_TRUE(pair->first.Send(MsgType::kInitPid, 4242, "hello", 7).ok());
  auto m = pair->second.Receive();
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->type, MsgType::kInitPid);
  EXPECT_EQ(m->value, 4242);
  EXPECT_EQ(m->text, "hello");
  EXPECT_EQ(m->err, 7);
  EXPECT_FALSE(m->fd.valid());
}

// The create-hooks pair is the last type: the range check must accept it.
TEST(SyncChannelTest, CreateHooksRequestAndReply) {
  auto pair = SyncChannel::Pair();
  ASSERT_TRUE(pair.ok());
  ASSERT_TRUE(pair->second.Send(MsgType::kCreateHooks).ok());
  ASSERT_TRUE(pair->first.Expect(MsgType::kCreateHooks).ok());
  ASSERT_TRUE(pair->first.Send(MsgType::kCreateHooksDone).ok());
  ASSERT_TRUE(pair->second.Expect(MsgType::kCreateHooksDone).ok());
  // A failed hook comes back as kError with the text.
  ASSERT_TRUE(
      pair->first.Send(MsgType::kError, 0, "createRuntime hook 0 (\"/h\"): exit status 1").ok());
  auto m = pair->second.Expect(MsgType::kCreateHooksDone);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message(), "createRuntime hook 0 (\"/h\"): exit status 1");
}

TEST(SyncChannelTest, PassesOneFd) {
  auto pair = SyncChannel::Pair();
  ASSERT_TRUE(pair.ok());
  int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(pair->first.Send(MsgType::kConsole, 0, {}, 0, fd).ok());
  close(fd);
  auto m = pair->second.Receive();
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(m->fd.valid());
  struct stat st;
  ASSERT_EQ(fstat(m->fd.get(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(fcntl(m->fd.get(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
}

TEST(SyncChannelTest, ErrorMessageBecomesStatusWithErrno) {
  auto pair = SyncChannel::Pair();
  ASSERT_TRUE(pair.ok());
  ASSERT_TRUE(pair->first.Send(MsgType::kError, 0, "mount \"proc\": permission denied", EACCES).ok());
  auto m = pair->second.Expect(MsgType::kReady);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message(), "mount \"proc\": permission denied");
  EXPECT_EQ(StatusErrno(m.status()), EACCES);
}

TEST(SyncChannelTest, UnexpectedTypeIsAnError) {
  auto pair = SyncChannel::Pair();
  ASSERT_TRUE(pair.ok());
  ASSERT_TRUE(pair->first.Send(MsgType::kReady).ok());
  EXPECT_FALSE(pair->second.Expect(MsgType::kIdMapDone).ok());
}

TEST(SyncChannelTest, EofIsNotFound) {
  auto pair = SyncChannel::Pair();
  ASSERT_TRUE(pair.ok());
  pair->first.Close();
  auto m = pair->second.Receive();
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), absl::StatusCode::kNotFound);
}

TEST(SyncChannelTest, MalformedMessagesAreRefused) {
  auto pair = SyncChannel::Pair();
  ASSERT_TRUE(pair.ok());
  // Too short for a header.
  ASSERT_EQ(send(pair->first.fd(), "abc", 3, 0), 3);
  EXPECT_EQ(pair->second.Receive().status().code(), absl::StatusCode::kDataLoss);
  // A header claiming more text than was sent (the CVE-2021-43784 bug class).
  struct {
    uint32_t type;
    int32_t err;
    int64_t value;
    uint32_t text_len;
    uint32_t reserved;
  } h = {static_cast<uint32_t>(MsgType::kReady), 0, 0, 100, 0};
  ASSERT_EQ(send(pair->first.fd(), &h, sizeof(h), 0), static_cast<ssize_t>(sizeof(h)));
  EXPECT_EQ(pair->second.Receive().status().code(), absl::StatusCode::kDataLoss);
  // An unknown type.
  h.type = 99;
  h.text_len = 0;
  ASSERT_EQ(send(pair->first.fd(), &h, sizeof(h), 0), static_cast<ssize_t>(sizeof(h)));
  EXPECT_EQ(pair->second.Receive().status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace husk::process
