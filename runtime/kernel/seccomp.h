// Seccomp (config-linux.md "Seccomp"): the profile is checked and compiled in the parent
// (libseccomp turns it into classic BPF, husk puts runc's -ENOSYS stub in front and
// resolves the seccomp(2) flags, probing the kernel only for flags the profile names);
// the child loads the finished program with one raw seccomp(2) call, so libseccomp never
// runs in the container's process. Compiled programs are cached by runtime/state
// (bpf_cache.h) under SeccompProgramKey(). Parent: everything but InstallSeccomp (child).
#ifndef HUSK_RUNTIME_KERNEL_SECCOMP_H_
#define HUSK_RUNTIME_KERNEL_SECCOMP_H_

#include <linux/filter.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "spec/config.h"
#include "spec/features.h"

namespace husk::kernel {

struct SeccompPlan {
  std::vector<sock_filter> program;  // empty: no filter
  unsigned int flags = 0;            // SECCOMP_FILTER_FLAG_* for seccomp(2)
  // A rule uses SCMP_ACT_NOTIFY: flags include NEW_LISTENER and the notify fd goes to
  // the agent at listener_path with the container process state (config-linux.md).
  bool listener = false;
  std::string listener_path, listener_metadata;
  bool Enabled() const { return !program.empty(); }
};

// Checks what the spec leaves to the runtime (errnoRet only with ERRNO/TRACE, NOTIFY
// placement, architectures libseccomp knows, flags this kernel has) and fills in
// everything but `program`. Errors name the JSON pointer.
absl::StatusOr<SeccompPlan> PlanSeccomp(const spec::Seccomp& profile);

// Everything CompileSeccomp's output depends on, as bytes: the profile fields that reach
// the program, libseccomp's version, the native architecture, the kernel release and the
// stub's format version. Equal keys give equal programs (the cache compares whole keys).
std::string SeccompProgramKey(const spec::Seccomp& profile);

// The profile compiled by libseccomp, with the -ENOSYS stub in front (runc's
// patchbpf): a syscall numbered above every syscall the profile names, for its
// architecture, fails with ENOSYS instead of the default action, so programs fall back
// from syscalls newer than the profile (clone3, openat2...) as on an older kernel.
// Syscall names libseccomp does not know are skipped with a debug log line, as runc does.
absl::StatusOr<std::vector<sock_filter>> CompileSeccomp(const spec::Seccomp& profile);

// Child: loads the filter. Returns the notify fd when plan.listener, -1 otherwise.
absl::StatusOr<int> InstallSeccomp(const SeccompPlan& plan);

// What `features` lists under linux.seccomp (supported flags: probed on this kernel).
spec::SeccompFeatures GetSeccompFeatures();

}  // namespace husk::kernel

#endif  // HUSK_RUNTIME_KERNEL_SECCOMP_H_
