#include "tests/support/ebpf_sim.h"

#include <cstring>
#include <string>

namespace husk::testing {
namespace {

// What a register holds: nothing yet, the context pointer, or a number.
enum class Kind { kUnset, kCtx, kScalar };

struct Machine {
  Kind kind[MAX_BPF_REG] = {};
  uint64_t value[MAX_BPF_REG] = {};
};

}  // namespace

EbpfResult RunEbpf(const std::vector<bpf_insn>& program, const bpf_cgroup_dev_ctx& ctx) {
  EbpfResult r;
  Machine m;
  m.kind[BPF_REG_1] = Kind::kCtx;
  unsigned char bytes[sizeof(ctx)];
  memcpy(bytes, &ctx, sizeof(ctx));
  auto fail = [&r](size_t pc, const std::string& what) {
    r.error = what + " at " + std::to_string(pc);
    return r;
  };
  size_t pc = 0;
  while (pc < program.size()) {
    const bpf_insn& in = program[pc];
    ++r.steps;
    if (in.dst_reg >= MAX_BPF_REG || in.src_reg >= MAX_BPF_REG) return fail(pc, "bad register");
    const uint8_t code = in.code;
    // Operands a scalar instruction reads must be set numbers.
    auto scalar = [&m](uint8_t reg) { return m.kind[reg] == Kind::kScalar; };
    uint32_t dst32 = static_cast<uint32_t>(m.value[in.dst_reg]);
    uint32_t src32 = BPF_SRC(code) == BPF_X ? static_cast<uint32_t>(m.value[in.src_reg])
                                            : static_cast<uint32_t>(in.imm);
    bool src_ok = BPF_SRC(code) == BPF_K ? in.src_reg == 0 : scalar(in.src_reg);
    if (code == (BPF_LDX | BPF_MEM | BPF_W)) {
      if (m.kind[in.src_reg] != Kind::kCtx) return fail(pc, "load through a non-context register");
      if (in.off < 0 || in.off % 4 != 0 || in.off + 4 > static_cast<int>(sizeof(bytes))) {
        return fail(pc, "load outside the context");
      }
      uint32_t word;
      memcpy(&word, bytes + in.off, 4);
      m.value[in.dst_reg] = word;  // zero-extended
      m.kind[in.dst_reg] = Kind::kScalar;
      ++pc;
    } else if (code == (BPF_ALU | BPF_MOV | BPF_K) || code == (BPF_ALU | BPF_MOV | BPF_X)) {
      if (!src_ok || in.off != 0) return fail(pc, "bad mov");
      m.value[in.dst_reg] = src32;
      m.kind[in.dst_reg] = Kind::kScalar;
      ++pc;
    } else if (code == (BPF_ALU | BPF_AND | BPF_K) || code == (BPF_ALU | BPF_RSH | BPF_K)) {
      if (!scalar(in.dst_reg) || !src_ok || in.off != 0) return fail(pc, "bad alu operand");
      if (BPF_OP(code) == BPF_RSH && src32 >= 32) return fail(pc, "shift out of range");
      m.value[in.dst_reg] = BPF_OP(code) == BPF_AND ? (dst32 & src32) : (dst32 >> src32);
      ++pc;
    } else if (BPF_CLASS(code) == BPF_JMP32 &&
               (BPF_OP(code) == BPF_JEQ || BPF_OP(code) == BPF_JNE)) {
      if (!scalar(in.dst_reg) || !src_ok) return fail(pc, "bad jump operand");
      if (in.off < 0) return fail(pc, "backward jump");
      if (pc + 1 + in.off >= program.size()) return fail(pc, "jump out of the program");
      bool equal = dst32 == src32;
      pc += 1 + ((BPF_OP(code) == BPF_JEQ) == equal ? in.off : 0);
    } else if (code == (BPF_JMP | BPF_EXIT)) {
      if (!scalar(BPF_REG_0)) return fail(pc, "exit with R0 unset");
      r.r0 = m.value[BPF_REG_0];
      return r;
    } else {
      return fail(pc, "unsupported instruction " + std::to_string(code));
    }
  }
  r.error = "fell off the end of the program";
  return r;
}

}  // namespace husk::testing
