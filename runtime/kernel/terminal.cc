#include "runtime/kernel/terminal.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "runtime/base/fd_passing.h"
#include "runtime/base/fs.h"
#include "runtime/base/status.h"
#include "runtime/kernel/mounts.h"

namespace husk::kernel {

absl::StatusOr<Pty> OpenPty(const std::optional<spec::ConsoleSize>& size, uid_t uid,
                            bool mount_console) {
  Pty pty;
  pty.master.Reset(open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!pty.master) return ErrnoError("open \"/dev/ptmx\"");
  int unlock = 0;
  if (ioctl(pty.master.get(), TIOCSPTLCK, &unlock) != 0) return ErrnoError("unlock pty");
  // TIOCGPTPEER opens the slave from the master itself: no path, no race.
  pty.slave.Reset(ioctl(pty.master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!pty.slave) return ErrnoError("open pty slave");
  if (size && (size->height != 0 || size->width != 0)) {
    struct winsize ws = {};
    ws.ws_row = static_cast<unsigned short>(size->height);
    ws.ws_col = static_cast<unsigned short>(size->width);
    if (ioctl(pty.master.get(), TIOCSWINSZ, &ws) != 0) return ErrnoError("set console size");
  }
  if (fchown(pty.slave.get(), uid, static_cast<gid_t>(-1)) != 0) return ErrnoError("chown pty slave");
  if (mount_console) {
    // Our own file at /dev/console, never an image's symlink (CVE-2025-52565).
    UniqueFd root(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) return ErrnoError("open \"/\"");
    ASSIGN_OR_RETURN(UniqueFd console, EnsureFileInRoot(root.get(), "/dev/console", 0600,
                                                        {.no_symlinks = true}));
    RETURN_IF_ERROR(BindFd(pty.slave.get(), console.get(), false, 0, "mount pty on \"/dev/console\""));
  }
  return pty;
}

absl::Status AttachPty(int slave_fd) {
  for (int fd = 0; fd < 3; ++fd) {
    if (dup2(slave_fd, fd) < 0) return ErrnoError("dup pty slave to stdio");
  }
  if (ioctl(0, TIOCSCTTY, 0) != 0) return ErrnoError("set controlling terminal");
  return absl::OkStatus();
}

absl::Status SendConsoleFd(const std::string& socket_path, int master_fd) {
  std::string where = absl::StrCat("send console to ", Quote(socket_path));
  UniqueFd sock(ConnectUnixStream(socket_path.c_str()));
  if (!sock) return ErrnoError(where);
  // runc's payload: the master's name, 9 bytes, no NUL. One control message, one fd.
  char payload[] = "/dev/ptmx";
  struct iovec iov = {payload, sizeof(payload) - 1};
  if (SendMsgWithFd(sock.get(), &iov, 1, master_fd) < 0) return ErrnoError(where);
  return absl::OkStatus();
}

}  // namespace husk::kernel
