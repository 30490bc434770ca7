// A small eBPF interpreter for cgroup device programs, so tests can check a generated
// program as data: its answer for a chosen bpf_cgroup_dev_ctx without the kernel. Runs
// only the instructions DeviceProgram emits (32-bit mov/and/rsh, word loads from the
// context, 32-bit jeq/jne, exit) and refuses anything else, as well as reads of unset
// registers, backward or out-of-range jumps and loads outside the context.
// Test-process code only.
#ifndef HUSK_TESTS_SUPPORT_EBPF_SIM_H_
#define HUSK_TESTS_SUPPORT_EBPF_SIM_H_

#include <linux/bpf.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace husk::testing {

struct EbpfResult {
  std::optional<uint64_t> r0;  // the return value, if the program exited cleanly
  std::string error;           // why it did not (unsupported instruction, bad jump...)
  size_t steps = 0;
};

// Runs `program` with R1 pointing to `ctx` (the only register set at entry).
EbpfResult RunEbpf(const std::vector<bpf_insn>& program, const bpf_cgroup_dev_ctx& ctx);

}  // namespace husk::testing

#endif  // HUSK_TESTS_SUPPORT_EBPF_SIM_H_
