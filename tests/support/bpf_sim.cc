#include "tests/support/bpf_sim.h"

#include <cstring>

#include "gtest/gtest.h"

namespace husk::testing {

SimResult RunBpf(const std::vector<sock_filter>& program, const seccomp_data& data) {
  SimResult r;
  uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {};
  unsigned char bytes[sizeof(seccomp_data)];
  memcpy(bytes, &data, sizeof(data));
  size_t pc = 0;
  while (pc < program.size()) {
    const sock_filter& in = program[pc++];
    ++r.steps;
    uint32_t src = BPF_SRC(in.code) == BPF_X ? x : in.k;
    switch (BPF_CLASS(in.code)) {
      case BPF_LD:
        if (BPF_MODE(in.code) == BPF_ABS && BPF_SIZE(in.code) == BPF_W) {
          if (in.k % 4 != 0 || in.k + 4 > sizeof(bytes)) {
            r.error = "load out of seccomp_data at " + std::to_string(pc - 1);
            return r;
          }
          memcpy(&a, bytes + in.k, 4);
        } else if (BPF_MODE(in.code) == BPF_IMM) {
          a = in.k;
        } else if (BPF_MODE(in.code) == BPF_MEM && in.k < BPF_MEMWORDS) {
          a = mem[in.k];
        } else if (BPF_MODE(in.code) == BPF_LEN) {
          a = sizeof(seccomp_data);
        } else {
          r.error = "bad load at " + std::to_string(pc - 1);
          return r;
        }
        break;
      case BPF_LDX:
        if (BPF_MODE(in.code) == BPF_IMM) {
          x = in.k;
        } else if (BPF_MODE(in.code) == BPF_MEM && in.k < BPF_MEMWORDS) {
          x = mem[in.k];
        } else if (BPF_MODE(in.code) == BPF_LEN) {
          x = sizeof(seccomp_data);
        } else {
          r.error = "bad ldx at " + std::to_string(pc - 1);
          return r;
        }
        break;
      case BPF_ST:
      case BPF_STX:
        if (in.k >= BPF_MEMWORDS) {
          r.error = "bad store at " + std::to_string(pc - 1);
          return r;
        }
        mem[in.k] = BPF_CLASS(in.code) == BPF_ST ? a : x;
        break;
      case BPF_ALU:
        switch (BPF_OP(in.code)) {
          case BPF_ADD: a += src; break;
          case BPF_SUB: a -= src; break;
          case BPF_MUL: a *= src; break;
          case BPF_DIV:
            if (src == 0) return r;  // the kernel returns 0 (kill)
            a /= src;
            break;
          case BPF_MOD:
            if (src == 0) return r;
            a %= src;
            break;
          case BPF_AND: a &= src; break;
          case BPF_OR: a |= src; break;
          case BPF_XOR: a ^= src; break;
          case BPF_LSH: a = src < 32 ? a << src : 0; break;
          case BPF_RSH: a = src < 32 ? a >> src : 0; break;
          case BPF_NEG: a = -a; break;
          default: r.error = "bad alu at " + std::to_string(pc - 1); return r;
        }
        break;
      case BPF_JMP: {
        size_t target;
        if (BPF_OP(in.code) == BPF_JA) {
          target = pc + in.k;
        } else {
          bool cond;
          switch (BPF_OP(in.code)) {
            case BPF_JEQ: cond = a == src; break;
            case BPF_JGT: cond = a > src; break;
            case BPF_JGE: cond = a >= src; break;
            case BPF_JSET: cond = (a & src) != 0; break;
            default: r.error = "bad jump at " + std::to_string(pc - 1); return r;
          }
          target = pc + (cond ? in.jt : in.jf);
        }
        if (target >= program.size()) {
          r.error = "jump out of the program at " + std::to_string(pc - 1);
          return r;
        }
        pc = target;
        break;
      }
      case BPF_RET:
        r.action = BPF_RVAL(in.code) == BPF_A ? a : in.k;
        return r;
      case BPF_MISC:
        if (BPF_MISCOP(in.code) == BPF_TAX) {
          x = a;
        } else {
          a = x;
        }
        break;
      default: r.error = "bad instruction at " + std::to_string(pc - 1); return r;
    }
  }
  r.error = "fell off the end of the program";
  return r;
}

seccomp_data SyscallData(uint32_t arch, int nr, std::initializer_list<uint64_t> args) {
  seccomp_data d = {};
  d.nr = nr;
  d.arch = arch;
  size_t i = 0;
  for (uint64_t v : args) {
    if (i < 6) d.args[i++] = v;
  }
  return d;
}

uint32_t Eval(const std::vector<sock_filter>& program, uint32_t arch, int nr,
              std::initializer_list<uint64_t> args) {
  SimResult r = RunBpf(program, SyscallData(arch, nr, args));
  if (!r.action) {
    ADD_FAILURE_AT(__FILE__, __LINE__) << "BPF program error: " << r.error;
    return 0xdeadbeef;
  }
  return *r.action;
}

}  // namespace husk::testing
