#include "runtime/kernel/seccomp_stub.h"

#include <linux/seccomp.h>
#include <seccomp.h>
#include <stddef.h>

#include <cerrno>
#include <optional>

#include "absl/strings/str_cat.h"

namespace husk::kernel {
namespace {

// x32 processes share AUDIT_ARCH_X86_64 and mark their syscall numbers with this bit.
constexpr uint32_t kX32Bit = 0x40000000;
constexpr uint32_t kRetEnosys = SECCOMP_RET_ERRNO | ENOSYS;
// Placeholder for "ja to the first instruction of the filter", patched at the end.
constexpr uint32_t kToFilter = 0xffffffff;

struct Group {
  uint32_t audit_arch = 0;
  std::optional<uint32_t> max, x32_max;  // x32_max only on AUDIT_ARCH_X86_64
  bool s390 = false;
};

// SCMP_ARCH_* tokens are the kernel's AUDIT_ARCH_* values, except libseccomp's made-up
// X32 token.
uint32_t AuditArch(uint32_t scmp_arch) {
  return scmp_arch == SCMP_ARCH_X32 ? SCMP_ARCH_X86_64 : scmp_arch;
}

// "nr > max: ENOSYS, else the filter".
void AppendLimit(std::vector<sock_filter>& out, uint32_t max) {
  out.push_back(BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, max, 0, 1));
  out.push_back(BPF_STMT(BPF_RET | BPF_K, kRetEnosys));
  out.push_back(BPF_STMT(BPF_JMP | BPF_JA, kToFilter));
}

std::vector<sock_filter> Section(const Group& g) {
  std::vector<sock_filter> s = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))};
  if (g.s390) {
    s.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1));
    s.push_back(BPF_STMT(BPF_RET | BPF_K, kRetEnosys));
  }
  if (g.audit_arch != SCMP_ARCH_X86_64) {
    AppendLimit(s, *g.max);
  } else if (g.max && g.x32_max) {
    s.push_back(BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, kX32Bit, 3, 0));
    AppendLimit(s, *g.max);
    AppendLimit(s, *g.x32_max);
  } else if (g.max) {  // x32 calls go straight to the filter (its bad-arch action)
    s.push_back(BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, kX32Bit, 2, 0));
    AppendLimit(s, *g.max);
  } else {  // x32 only: native x86_64 calls go to the filter
    s.push_back(BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, kX32Bit, 0, 2));
    AppendLimit(s, *g.x32_max);
  }
  return s;
}

}  // namespace

absl::StatusOr<std::vector<sock_filter>> EnosysStub(const std::vector<ArchMaxSyscall>& archs) {
  std::vector<Group> groups;
  for (const ArchMaxSyscall& a : archs) {
    uint32_t audit = AuditArch(a.scmp_arch);
    Group* g = nullptr;
    for (Group& existing : groups) {
      if (existing.audit_arch == audit) g = &existing;
    }
    if (g == nullptr) {
      g = &groups.emplace_back();
      g->audit_arch = audit;
    }
    if (a.scmp_arch == SCMP_ARCH_X32) {
      g->x32_max = a.max_nr;
    } else {
      g->max = a.max_nr;
    }
    g->s390 = audit == SCMP_ARCH_S390 || audit == SCMP_ARCH_S390X;
  }
  if (groups.empty()) return std::vector<sock_filter>{};

  std::vector<std::vector<sock_filter>> sections;
  for (const Group& g : groups) sections.push_back(Section(g));

  const size_t n = groups.size();
  std::vector<sock_filter> out = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch))};
  size_t before = 0;  // length of the sections before group i
  for (size_t i = 0; i < n; ++i) {
    // From the jeq at 1+i to the section at 1+n+1+before.
    size_t jump = n - i + before;
    if (jump > 255) {
      return absl::InternalError(absl::StrCat("seccomp -ENOSYS stub: ", n,
                                              " architectures need a jump of ", jump));
    }
    out.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, groups[i].audit_arch,
                           static_cast<uint8_t>(jump), 0));
    before += sections[i].size();
  }
  out.push_back(BPF_STMT(BPF_JMP | BPF_JA, kToFilter));
  for (const auto& s : sections) out.insert(out.end(), s.begin(), s.end());
  for (size_t p = 0; p < out.size(); ++p) {
    if (out[p].code == (BPF_JMP | BPF_JA) && out[p].k == kToFilter) {
      out[p].k = static_cast<uint32_t>(out.size() - p - 1);
    }
  }
  return out;
}

}  // namespace husk::kernel
