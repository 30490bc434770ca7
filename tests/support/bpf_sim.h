// A classic-BPF interpreter for seccomp programs, so tests can check a compiled filter as
// data: the action it returns for a chosen (arch, syscall, args) without the kernel.
// Implements every instruction the kernel's seccomp checker accepts (loads from
// seccomp_data, ALU, jumps, scratch memory, returns); anything else is an error.
// Test-process code only.
#ifndef HUSK_TESTS_SUPPORT_BPF_SIM_H_
#define HUSK_TESTS_SUPPORT_BPF_SIM_H_

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

namespace husk::testing {

struct SimResult {
  std::optional<uint32_t> action;  // the SECCOMP_RET_* value returned
  std::string error;               // what made the program invalid (out of bounds...)
  size_t steps = 0;                // instructions executed
};

SimResult RunBpf(const std::vector<sock_filter>& program, const seccomp_data& data);

// seccomp_data for a syscall; arch is an AUDIT_ARCH_* value.
seccomp_data SyscallData(uint32_t arch, int nr, std::initializer_list<uint64_t> args = {});

// The action for a syscall, or 0xdeadbeef if the program is invalid (the test then
// fails on the value with the error printed by the caller's message).
uint32_t Eval(const std::vector<sock_filter>& program, uint32_t arch, int nr,
              std::initializer_list<uint64_t> args = {});

}  // namespace husk::testing

#endif  // HUSK_TESTS_SUPPORT_BPF_SIM_H_
