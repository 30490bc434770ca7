// Device access for cgroup v2: compiles a DeviceState (device_rules.h) into a
// BPF_PROG_TYPE_CGROUP_DEVICE program that answers like the v1 controller would, loads it
// and swaps it onto a cgroup2 directory without a window. Raw bpf(2), no libbpf. Parent
// process only (needs CAP_SYS_ADMIN / CAP_BPF). Does not plan the rules or make cgroups.
#ifndef HUSK_RUNTIME_KERNEL_CGROUPS_DEVICE_BPF_H_
#define HUSK_RUNTIME_KERNEL_CGROUPS_DEVICE_BPF_H_

#include <linux/bpf.h>

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/base/unique_fd.h"
#include "runtime/kernel/cgroups/device_rules.h"

namespace husk::kernel::cgroups {

// Pure. The program returns 1 (allow) or 0 (deny) for a struct bpf_cgroup_dev_ctx
// request. Each exception is tested in turn: type ('a' matches both), major and minor
// (a wildcard skips the comparison) and access; the first that matches decides
// !default_allow, none: default_allow. "Matches" on access is the kernel's v1 rule: with
// default deny the request's access must be a subset of the exception's; with default
// allow any shared bit is enough (see DeviceState).
std::vector<bpf_insn> DeviceProgram(const DeviceState& state);

// bpf(BPF_PROG_LOAD) of a cgroup device program. On failure the verifier log is in the
// message.
absl::StatusOr<UniqueFd> LoadDeviceProgram(const std::vector<bpf_insn>& insns);

// Attaches `prog_fd` to the cgroup2 directory (BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI) and
// only then detaches every device program attached to it before (BPF_PROG_QUERY +
// BPF_PROG_GET_FD_BY_ID), so an update never leaves the cgroup unprotected or allowing
// everything. A program already attached without BPF_F_ALLOW_MULTI (a single slot) is
// replaced in one attach instead. Attaching the program that is already there is a no-op.
absl::Status AttachDeviceProgram(int cgroup_dir_fd, int prog_fd);

// The ids of the device programs attached to the cgroup itself (not inherited ones).
absl::StatusOr<std::vector<uint32_t>> AttachedDevicePrograms(int cgroup_dir_fd);

}  // namespace husk::kernel::cgroups

#endif  // HUSK_RUNTIME_KERNEL_CGROUPS_DEVICE_BPF_H_
