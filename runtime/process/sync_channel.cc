#include "runtime/process/sync_channel.h"

#include <sys/socket.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "runtime/base/fd_passing.h"
#include "runtime/base/status.h"

namespace husk::process {
namespace {
struct Header {
  uint32_t type;
  int32_t err;
  int64_t value;
  uint32_t text_len;
  uint32_t reserved;
};
}  // namespace

absl::StatusOr<std::pair<SyncChannel, SyncChannel>> SyncChannel::Pair() {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
    return ErrnoError("create sync channel");
  }
  return std::make_pair(SyncChannel(UniqueFd(fds[0])), SyncChannel(UniqueFd(fds[1])));
}

absl::Status SyncChannel::Send(MsgType type, int64_t value, absl::string_view text, int err,
                               int pass_fd) const {
  if (text.size() > kMaxText) text = text.substr(0, kMaxText);
  Header h = {static_cast<uint32_t>(type), err, value, static_cast<uint32_t>(text.size()), 0};
  struct iovec iov[2] = {{&h, sizeof(h)}, {const_cast<char*>(text.data()), text.size()}};
  if (SendMsgWithFd(fd_.get(), iov, text.empty() ? 1 : 2, pass_fd) < 0) {
    return ErrnoError("send on sync channel");
  }
  return absl::OkStatus();
}

absl::StatusOr<Message> SyncChannel::Receive() const {
  char buf[sizeof(Header) + kMaxText];
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {buf, sizeof(buf)};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n;
  while ((n = recvmsg(fd_.get(), &msg, MSG_CMSG_CLOEXEC)) < 0) {
    if (errno != EINTR) return ErrnoError("receive on sync channel");
  }
  Message out;
  struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  if (cmsg != nullptr && cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS &&
      cmsg->cmsg_len == CMSG_LEN(sizeof(int))) {
    int fd;
    memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
    out.fd.Reset(fd);
  }
  if (n == 0) return absl::NotFoundError("sync channel closed");
  // Every length is checked against what arrived: a bad peer cannot make us over-read
  // (the bug class of CVE-2021-43784).
  Header h;
  if (static_cast<size_t>(n) < sizeof(h) || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
    return absl::DataLossError("malformed message on sync channel");
  }
  memcpy(&h, buf, sizeof(h));
  if (h.text_len > kMaxText || sizeof(h) + h.text_len != static_cast<size_t>(n) ||
      h.type < static_cast<uint32_t>(MsgType::kError) ||
      h.type > static_cast<uint32_t>(MsgType::kLast)) {
    return absl::DataLossError("malformed message on sync channel");
  }
  out.type = static_cast<MsgType>(h.type);
  out.err = h.err;
  out.value = h.value;
  out.text.assign(buf + sizeof(h), h.text_len);
  return out;
}

absl::Status ErrorFromMessage(const Message& message) {
  if (message.err != 0) return StatusWithErrno(message.err, message.text);
  return absl::InternalError(message.text);
}

absl::StatusOr<Message> SyncChannel::Expect(MsgType want) const {
  ASSIGN_OR_RETURN(Message m, Receive());
  if (m.type == MsgType::kError) return ErrorFromMessage(m);
  if (m.type != want) {
    return absl::DataLossError(absl::StrCat("unexpected message ", static_cast<int>(m.type),
                                            " on sync channel"));
  }
  return m;
}

}  // namespace husk::process
