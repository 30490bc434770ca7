// Thin wrappers for the system calls glibc 2.36 lacks (clone3, pivot_root, openat2) plus
// the new mount API re-exported in one place. Each returns -1 and sets errno like libc.
// Safe in both processes: no allocation.
#ifndef HUSK_RUNTIME_BASE_SYSCALLS_H_
#define HUSK_RUNTIME_BASE_SYSCALLS_H_

#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/types.h>

#include <cstdint>

namespace husk::sys {

// clone3 with only the fields husk uses; returns like fork().
pid_t Clone3(uint64_t flags, int exit_signal, int cgroup_fd = -1);
int PivotRoot(const char* new_root, const char* put_old);
int Openat2(int dirfd, const char* path, uint64_t flags, uint64_t mode, uint64_t resolve);
int PidfdOpen(pid_t pid);
int PidfdSendSignal(int pidfd, int sig);
int MountSetattr(int dirfd, const char* path, unsigned int flags, uint64_t attr_set,
                 uint64_t attr_clr, uint64_t propagation, int userns_fd = -1);

}  // namespace husk::sys

#endif  // HUSK_RUNTIME_BASE_SYSCALLS_H_
