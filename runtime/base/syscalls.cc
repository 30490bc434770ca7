#include "runtime/base/syscalls.h"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace husk::sys {
namespace {
// The clone3 argument block (linux/sched.h), declared here because that header's CLONE_*
// macros collide with glibc's <sched.h>.
struct CloneArgs {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls,
      set_tid, set_tid_size, cgroup;
};
constexpr uint64_t kCloneIntoCgroup = 0x200000000ULL;
}  // namespace

pid_t Clone3(uint64_t flags, int exit_signal, int cgroup_fd) {
  CloneArgs args = {};
  args.flags = flags;
  args.exit_signal = static_cast<uint64_t>(exit_signal);
  if (cgroup_fd >= 0) {
    args.flags |= kCloneIntoCgroup;
    args.cgroup = static_cast<uint64_t>(cgroup_fd);
  }
  return static_cast<pid_t>(syscall(SYS_clone3, &args, sizeof(args)));
}

int PivotRoot(const char* new_root, const char* put_old) {
  return static_cast<int>(syscall(SYS_pivot_root, new_root, put_old));
}

int Openat2(int dirfd, const char* path, uint64_t flags, uint64_t mode, uint64_t resolve) {
  struct open_how how = {};
  how.flags = flags;
  how.mode = mode;
  how.resolve = resolve;
  return static_cast<int>(syscall(SYS_openat2, dirfd, path, &how, sizeof(how)));
}

int PidfdOpen(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

int PidfdSendSignal(int pidfd, int sig) {
  return static_cast<int>(syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

int MountSetattr(int dirfd, const char* path, unsigned int flags, uint64_t attr_set,
                 uint64_t attr_clr, uint64_t propagation, int userns_fd) {
  struct mount_attr attr = {};
  attr.attr_set = attr_set;
  attr.attr_clr = attr_clr;
  attr.propagation = propagation;
  if (userns_fd >= 0) attr.userns_fd = static_cast<uint64_t>(userns_fd);
  return static_cast<int>(syscall(SYS_mount_setattr, dirfd, path, flags, &attr, sizeof(attr)));
}

}  // namespace husk::sys
