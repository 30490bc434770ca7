// config.md "terminal" and "consoleSize" through --console-socket (cli-contract.md §4):
// exactly one SCM_RIGHTS fd on one connection, and the size the container sees.
#include <fcntl.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>


#include "conformance/cases/util.h"

namespace husk::conformance {
namespace {

// ---------------------------------------------------------------------------------------
// Console socket.

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

// Creates the container with --console-socket and returns the pty master it sent: exactly
// one SCM_RIGHTS fd on one connection.
void CreateWithConsole(Ctx& ctx, Fd* master) {
  std::string sock = ctx.bundle() + "/console.sock";
  Fd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (sock.size() >= sizeof addr.sun_path) Fail("harness: console socket path too long");
  std::strncpy(addr.sun_path, sock.c_str(), sizeof addr.sun_path - 1);
  if (listener.get() < 0 ||
      ::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener.get(), 4) != 0) {
    Fail(std::string("harness: console socket: ") + std::strerror(errno));
  }
  ctx.WriteConfig();
  CmdOptions o;
  o.stdout_file = ctx.bundle() + "/" + ctx.id() + ".out";
  o.stderr_file = ctx.bundle() + "/" + ctx.id() + ".err";
  // The runtime connects and sends during create; the backlog holds the connection, so
  // it is accepted once create has returned.
  CmdResult r = ctx.Invoke({"create", "--bundle", ctx.bundle(), "--console-socket", sock,
                            "--pid-file", ctx.bundle() + "/" + ctx.id() + ".pid", ctx.id()},
                           o);
  if (!r.ok() && r.err.empty()) r.err = ctx.ContainerErr();
  ctx.EndIfUnsupported(r);
  if (!r.ok()) Fail("create --console-socket: " + r.Describe());
  pollfd p{listener.get(), POLLIN, 0};
  if (::poll(&p, 1, 1000) != 1) Fail("nothing connected to the console socket");
  Fd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (conn.get() < 0) Fail(std::string("accept: ") + std::strerror(errno));
  pollfd c{conn.get(), POLLIN, 0};
  if (::poll(&c, 1, 1000) != 1) Fail("the console socket connection sent nothing");
  char data[512];
  iovec iov{data, sizeof data};
  alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(int) * 8)];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = cbuf;
  msg.msg_controllen = sizeof cbuf;
  if (::recvmsg(conn.get(), &msg, MSG_CMSG_CLOEXEC) < 0) {
    Fail(std::string("recvmsg: ") + std::strerror(errno));
  }
  std::vector<int> fds;
  for (cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
    if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) continue;
    size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < n; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof fd);
      fds.push_back(fd);
    }
  }
  if (fds.size() != 1) {
    for (int fd : fds) ::close(fd);
    Fail("console socket carried " + Str(static_cast<long long>(fds.size())) +
         " fds, want exactly 1");
  }
  master->reset(fds[0]);
  Check(::isatty(master->get()), "the received fd is not a terminal");
  pollfd extra{listener.get(), POLLIN, 0};
  Check(::poll(&extra, 1, 0) == 0, "a second connection on the console socket");
}

// Starts the container and collects what it writes to the pty until the slave side is
// closed; returns the probe report.
rapidjson::Document StartAndReadConsole(Ctx& ctx, int master) {
  ctx.MustStart();
  std::string out;
  pid_t pid = ctx.Pid();
  for (int waited = 0; waited < 4000;) {
    pollfd p{master, POLLIN, 0};
    int n = ::poll(&p, 1, 50);
    if (n == 1) {
      char buf[8192];
      ssize_t got = ::read(master, buf, sizeof buf);
      if (got <= 0) break;  // EIO: every slave fd is closed
      out.append(buf, static_cast<size_t>(got));
      continue;
    }
    waited += 50;
    if (WaitPidGone(pid, std::chrono::milliseconds(0)) && waited > 300) break;
  }
  ctx.WaitExit();
  ctx.MustDelete();
  out.erase(std::remove(out.begin(), out.end(), '\r'), out.end());
  rapidjson::Document d;
  size_t brace = out.find('{');
  if (brace == std::string::npos || !ParseJson(out.substr(brace), &d) || !d.IsObject()) {
    Fail("no probe report on the console: " + out.substr(0, 300));
  }
  return d;
}

Register console_socket{{
    "terminal_console_socket", "config.md#process",
    "the --console-socket protocol is a runc CLI convention (one SCM_RIGHTS fd)",
    [](Ctx& ctx) {
      ctx.Set("/process/terminal", "true");
      ctx.ProbeArgs({});
      Fd master;
      CreateWithConsole(ctx, &master);
      auto r = StartAndReadConsole(ctx, master.get());
      Check(Get(r, "/stdin_tty") && r["stdin_tty"].GetBool(), "stdin is not a tty");
      Check(Get(r, "/stdout_tty") && r["stdout_tty"].GetBool(), "stdout is not a tty");
      Check(GetString(r, "/tty_name").rfind("/dev/pts/", 0) == 0,
            "stdin tty: '" + GetString(r, "/tty_name") + "'");
    }}};

Register console_size{{
    "terminal_console_size", "config.md#process",
    "",
    [](Ctx& ctx) {
      ctx.Set("/process/terminal", "true");
      ctx.Set("/process/consoleSize", R"({"height": 37, "width": 111})");
      ctx.ProbeArgs({});
      Fd master;
      CreateWithConsole(ctx, &master);
      auto r = StartAndReadConsole(ctx, master.get());
      Check(GetInt(r, "/winsize/rows", -1) == 37 && GetInt(r, "/winsize/cols", -1) == 111,
            "TIOCGWINSZ: " + Str(GetInt(r, "/winsize/rows", -1)) + "x" +
                Str(GetInt(r, "/winsize/cols", -1)) + ", want 37x111");
    }}};

}  // namespace
}  // namespace husk::conformance
