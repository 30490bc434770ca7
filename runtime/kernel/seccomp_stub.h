// The -ENOSYS stub put in front of libseccomp's program (the behaviour of runc's
// libcontainer/seccomp/patchbpf, written anew): per architecture, a syscall numbered
// above the largest syscall the profile names returns ENOSYS; everything else falls
// through to the filter, which reloads arch and number itself. Pure; parent only.
//
// Layout (all conditional jumps are short; `ja` reaches the filter from anywhere):
//
//   ld  [arch]
//   jeq AUDIT_ARCH_a, -> section a     one line per architecture
//   jeq AUDIT_ARCH_b, -> section b
//   ja  filter                         an architecture the profile does not name
//   section: ld [nr]
//            [s390/s390x: jeq 0 -> ret ENOSYS]   (setup(2) multiplexes unknown numbers)
//            [x86_64: jset 0x40000000 -> the x32 half, or to the filter if x32 is absent]
//            jgt MAX, 0, 1 ; ret ERRNO(ENOSYS) ; ja filter
//   filter:  libseccomp's program
#ifndef HUSK_RUNTIME_KERNEL_SECCOMP_STUB_H_
#define HUSK_RUNTIME_KERNEL_SECCOMP_STUB_H_

#include <linux/filter.h>

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"

namespace husk::kernel {

// The largest syscall number the profile names on one libseccomp architecture
// (SCMP_ARCH_* token; x32 numbers include the 0x40000000 bit, as libseccomp gives them).
struct ArchMaxSyscall {
  uint32_t scmp_arch = 0;
  uint32_t max_nr = 0;
};

// The stub for these architectures; empty when `archs` is empty. Fails only if the
// dispatch table would need a jump longer than BPF's 8-bit conditional offsets.
absl::StatusOr<std::vector<sock_filter>> EnosysStub(const std::vector<ArchMaxSyscall>& archs);

}  // namespace husk::kernel

#endif  // HUSK_RUNTIME_KERNEL_SECCOMP_STUB_H_
