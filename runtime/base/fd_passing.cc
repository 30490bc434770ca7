#include "runtime/base/fd_passing.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace husk {

ssize_t SendMsgWithFd(int sock, struct iovec* iov, size_t iovlen, int fd) {
  struct msghdr msg = {};
  msg.msg_iov = iov;
  msg.msg_iovlen = iovlen;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
  }
  ssize_t n;
  do {
    n = sendmsg(sock, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return n;
}

int ConnectUnixStream(const char* path) {
  int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return -1;
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  size_t len = strlen(path);
  int dir = -1;
  if (len < sizeof(addr.sun_path)) {
    memcpy(addr.sun_path, path, len);
  } else {
    const char* slash = strrchr(path, '/');
    if (slash == nullptr || slash == path) {
      close(sock);
      errno = ENAMETOOLONG;
      return -1;
    }
    char parent[4096];
    size_t plen = static_cast<size_t>(slash - path);
    if (plen >= sizeof(parent)) {
      close(sock);
      errno = ENAMETOOLONG;
      return -1;
    }
    memcpy(parent, path, plen);
    parent[plen] = '\0';
    dir = open(parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
    int n = dir < 0 ? -1
                    : snprintf(addr.sun_path, sizeof(addr.sun_path), "/proc/self/fd/%d/%s", dir,
                               slash + 1);
    if (n < 0 || static_cast<size_t>(n) >= sizeof(addr.sun_path)) {
      int err = dir < 0 ? errno : ENAMETOOLONG;
      if (dir >= 0) close(dir);
      close(sock);
      errno = err;
      return -1;
    }
  }
  int rc;
  do {
    rc = connect(sock, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr));
  } while (rc < 0 && errno == EINTR);
  int err = errno;
  if (dir >= 0) close(dir);
  if (rc < 0) {
    close(sock);
    errno = err;
    return -1;
  }
  return sock;
}

}  // namespace husk
