// ConsoleSocket: the caller's end of --console-socket, checked as strictly as conmon and
// go-runc check it (cli-contract.md §4).
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/support/harness.h"

namespace husk::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

}  // namespace

ConsoleSocket::ConsoleSocket() {
  dir_ = MakeTempDir("console");
  ::chmod(dir_.c_str(), 0700);
  socket_path_ = dir_ + "/sock";
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path_.size() >= sizeof addr.sun_path) throw std::runtime_error("socket path too long");
  std::memcpy(addr.sun_path, socket_path_.c_str(), socket_path_.size() + 1);
  listener_.Reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listener_) throw std::runtime_error(Errno("socket"));
  if (::bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    throw std::runtime_error(Errno("bind " + socket_path_));
  }
  if (::listen(listener_.get(), 4) != 0) throw std::runtime_error(Errno("listen"));
}

ConsoleSocket::~ConsoleSocket() {
  listener_.Reset();
  RemoveTree(dir_);
}

ConsoleSocket::Received ConsoleSocket::Receive(milliseconds timeout, bool require_eof) {
  Received r;
  const auto deadline = Clock::now() + timeout;
  auto wait_in = [&](int fd) {
    for (;;) {
      auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return false;
      pollfd p{fd, POLLIN, 0};
      int n = ::poll(&p, 1, static_cast<int>(left));
      if (n > 0) return true;
      if (n < 0 && errno != EINTR) return false;
    }
  };
  if (!wait_in(listener_.get())) {
    r.error = "no connection on the console socket within " + std::to_string(timeout.count()) + " ms";
    return r;
  }
  husk::UniqueFd conn(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!conn) {
    r.error = Errno("accept");
    return r;
  }
  if (!wait_in(conn.get())) {
    r.error = "no message on the console socket within " + std::to_string(timeout.count()) + " ms";
    return r;
  }
  char data[4096];
  // Room for several fds, to detect a runtime that sends more than one.
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 8)];
  iovec iov{data, sizeof data};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(conn.get(), &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    r.error = Errno("recvmsg");
    return r;
  }
  // Take ownership of every fd received before judging, so none leaks.
  std::vector<husk::UniqueFd> fds;
  int cmsg_count = 0;
  std::string problems;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    ++cmsg_count;
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
        fds.emplace_back(fd);
      }
      if (c->cmsg_len != CMSG_LEN(sizeof(int))) {
        problems += "; cmsg_len " + std::to_string(c->cmsg_len) + " != CMSG_LEN(sizeof(int)) " +
                    std::to_string(CMSG_LEN(sizeof(int)));
      }
    } else {
      problems += "; unexpected control message level " + std::to_string(c->cmsg_level) +
                  " type " + std::to_string(c->cmsg_type);
    }
  }
  if (msg.msg_flags & MSG_CTRUNC) problems += "; control data truncated (too many fds)";
  if (cmsg_count != 1) problems += "; " + std::to_string(cmsg_count) + " control messages, want 1";
  if (fds.size() != 1) problems += "; " + std::to_string(fds.size()) + " fds, want 1";
  if (n == 0) problems += "; empty data part (SOCK_STREAM drops fds sent with no bytes)";
  r.payload.assign(data, static_cast<size_t>(n));
  if (fds.size() == 1) {
    unsigned int ptn;
    if (::ioctl(fds[0].get(), TIOCGPTN, &ptn) != 0) {
      problems += "; the fd is not a pty master (" + std::string(std::strerror(errno)) + ")";
    }
  }
  if (require_eof && problems.empty()) {
    // The runtime must send once and close: anything more, or no EOF, is a bug.
    for (;;) {
      if (!wait_in(conn.get())) {
        problems += "; the runtime did not close the connection within " +
                    std::to_string(timeout.count()) + " ms (fd leaked to the container?)";
        break;
      }
      char more[4096];
      alignas(cmsghdr) char more_control[CMSG_SPACE(sizeof(int) * 8)];
      iovec iov2{more, sizeof more};
      msghdr m2{};
      m2.msg_iov = &iov2;
      m2.msg_iovlen = 1;
      m2.msg_control = more_control;
      m2.msg_controllen = sizeof more_control;
      ssize_t k = ::recvmsg(conn.get(), &m2, MSG_CMSG_CLOEXEC);
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0) break;  // EOF (or reset): done
      for (cmsghdr* c = CMSG_FIRSTHDR(&m2); c != nullptr; c = CMSG_NXTHDR(&m2, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
          size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
          for (size_t i = 0; i < count; ++i) {
            int fd;
            std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            ::close(fd);
          }
          problems += "; a second control message arrived";
        }
      }
      r.payload.append(more, static_cast<size_t>(k));
    }
  }
  if (r.payload.size() >= 4096) problems += "; data part is 4096 bytes or more";
  if (!problems.empty()) {
    r.error = problems.substr(2);
    return r;
  }
  r.master = std::move(fds[0]);
  return r;
}

}  // namespace husk::testing
