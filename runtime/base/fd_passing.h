// Sending an fd over a unix socket: one sendmsg with exactly one SCM_RIGHTS control
// message carrying one int (what conmon and go-runc require of the console socket, and
// what the sync channel uses). Both processes; no allocation.
#ifndef HUSK_RUNTIME_BASE_FD_PASSING_H_
#define HUSK_RUNTIME_BASE_FD_PASSING_H_

#include <sys/socket.h>
#include <sys/types.h>

namespace husk {

// Like sendmsg(2) (retrying EINTR, never raising SIGPIPE); `fd` < 0 sends no fd.
ssize_t SendMsgWithFd(int sock, struct iovec* iov, size_t iovlen, int fd);

}  // namespace husk

#endif  // HUSK_RUNTIME_BASE_FD_PASSING_H_
