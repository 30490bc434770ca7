// Sending an fd over a unix socket: one sendmsg with exactly one SCM_RIGHTS control
// message carrying one int (what conmon and go-runc require of the console socket, and
// what the sync channel and the seccomp agent socket use), and connecting to such a
// socket by path. Both processes; no allocation.
#ifndef HUSK_RUNTIME_BASE_FD_PASSING_H_
#define HUSK_RUNTIME_BASE_FD_PASSING_H_

#include <sys/socket.h>
#include <sys/types.h>

namespace husk {

// Like sendmsg(2) (retrying EINTR, never raising SIGPIPE); `fd` < 0 sends no fd.
ssize_t SendMsgWithFd(int sock, struct iovec* iov, size_t iovlen, int fd);

// A connected AF_UNIX SOCK_STREAM socket (close-on-exec) to `path`; a path longer than
// sun_path is reached through its directory's fd. Returns -1 with errno set.
int ConnectUnixStream(const char* path);

}  // namespace husk

#endif  // HUSK_RUNTIME_BASE_FD_PASSING_H_
