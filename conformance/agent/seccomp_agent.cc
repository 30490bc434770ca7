// husk-seccomp-agent: a small seccomp notify agent for the tests and the conformance
// suite (config-linux.md "listenerPath", "The Container Process State").
//
// Usage: husk-seccomp-agent SOCKET LOG
//   Listens on the unix stream socket SOCKET. For each connection it reads one container
//   process state (JSON) with one SCM_RIGHTS fd, appends "state <json>" and
//   "fds <count>" lines to LOG, and serves that notify fd: mkdir and mkdirat succeed
//   without creating anything (a "notify <nr> fake" line), every other notified syscall
//   continues in the kernel ("notify <nr> continue"). Runs until SIGTERM/SIGINT. The
//   socket exists once it accepts connections. Runs on the host, never in a container.
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

FILE* g_log = nullptr;

void Log(const std::string& line) {
  std::fprintf(g_log, "%s\n", line.c_str());
  std::fflush(g_log);
}

// One connection: the state JSON (possibly in several reads; the fd comes with the
// first) until the runtime closes it.
void Accept(int listener, std::vector<int>* notify_fds) {
  int conn = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  if (conn < 0) return;
  std::string json;
  int fds = 0;
  for (;;) {
    char buf[65536];
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)];
    struct iovec iov = {buf, sizeof(buf)};
    struct msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    ssize_t n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int fd;
        memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        notify_fds->push_back(fd);
        ++fds;
      }
    }
    json.append(buf, static_cast<size_t>(n));
  }
  close(conn);
  // One line: JSON whitespace (a pretty-printing runtime's newlines) is insignificant.
  for (char& c : json) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  Log("state " + json);
  Log("fds " + std::to_string(fds));
}

// Answers one notification; false when the fd is finished (the filter has no users).
bool Serve(int fd) {
  struct seccomp_notif req;
  memset(&req, 0, sizeof(req));
  if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &req) != 0) return errno == EINTR || errno == ENOENT;
  struct seccomp_notif_resp resp;
  memset(&resp, 0, sizeof(resp));
  resp.id = req.id;
  bool fake = req.data.nr == SYS_mkdir || req.data.nr == SYS_mkdirat;
  if (!fake) resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;  // val and error stay 0
  // ENOENT: the target died or was interrupted meanwhile; nothing to answer.
  if (ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) != 0 && errno != ENOENT) return false;
  Log("notify " + std::to_string(req.data.nr) + (fake ? " fake" : " continue"));
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s SOCKET LOG\n", argv[0]);
    return 2;
  }
  g_log = std::fopen(argv[2], "a");
  if (g_log == nullptr) {
    std::perror(argv[2]);
    return 1;
  }
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (listener < 0 || std::strlen(argv[1]) >= sizeof(addr.sun_path)) {
    std::fprintf(stderr, "seccomp agent: bad socket %s\n", argv[1]);
    return 1;
  }
  std::strcpy(addr.sun_path, argv[1]);
  unlink(argv[1]);
  // Bound under a temporary name and renamed: the socket appears only once it listens.
  std::string tmp = std::string(argv[1]) + ".tmp";
  if (tmp.size() >= sizeof(addr.sun_path)) tmp = argv[1];
  std::strcpy(addr.sun_path, tmp.c_str());
  if (bind(listener, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(listener, 16) != 0 || (tmp != argv[1] && rename(tmp.c_str(), argv[1]) != 0)) {
    std::perror("seccomp agent: listen");
    return 1;
  }

  std::vector<int> notify_fds;
  while (!g_stop) {
    std::vector<struct pollfd> fds = {{listener, POLLIN, 0}};
    for (int fd : notify_fds) fds.push_back({fd, POLLIN, 0});
    int n = poll(fds.data(), fds.size(), 1000);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    std::vector<int> keep;
    if (fds[0].revents & POLLIN) Accept(listener, &keep);
    for (size_t i = 1; i < fds.size(); ++i) {
      bool alive = true;
      if (fds[i].revents & POLLIN) alive = Serve(fds[i].fd);
      if (fds[i].revents & (POLLHUP | POLLERR | POLLNVAL)) alive = false;
      if (alive) {
        keep.push_back(fds[i].fd);
      } else {
        close(fds[i].fd);
      }
    }
    notify_fds = keep;
  }
  unlink(argv[1]);
  return 0;
}
