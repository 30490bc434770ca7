#include "runtime/kernel/seccomp.h"

#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "absl/strings/str_cat.h"
#include "runtime/base/log.h"
#include "runtime/base/status.h"
#include "runtime/base/unique_fd.h"
#include "runtime/kernel/seccomp_stub.h"

#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

namespace husk::kernel {
namespace {

// Bump when the program for an unchanged profile changes (stub layout, rule grouping):
// it is part of every cache key.
constexpr char kFormat[] = "husk-seccomp-1";
constexpr uint32_t kMaxErrno = 4095;  // the kernel clamps larger SECCOMP_RET_ERRNO data
constexpr int kMaxArgs = 6;

struct Action {
  const char* name;
  uint32_t value;  // errno-taking actions: the value with data 0
  bool takes_errno;
};
const Action kActions[] = {
    {"SCMP_ACT_KILL", SCMP_ACT_KILL, false},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP, false},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), true},
    {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), true},
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG, false},
    {"SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY, false},
};

struct Operator {
  const char* name;
  scmp_compare op;
};
const Operator kOperators[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT}, {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ}, {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

// The architectures this libseccomp build knows. The spec also names LOONGARCH64, M68K,
// SH and SHEB, which need libseccomp 2.6 (Debian 12 ships 2.5.4): a config naming them
// gets an error instead of a filter that silently lacks them.
struct Arch {
  const char* name;
  uint32_t token;
};
const Arch kArchs[] = {
    {"SCMP_ARCH_X86", SCMP_ARCH_X86},
    {"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64},
    {"SCMP_ARCH_X32", SCMP_ARCH_X32},
    {"SCMP_ARCH_ARM", SCMP_ARCH_ARM},
    {"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64},
    {"SCMP_ARCH_MIPS", SCMP_ARCH_MIPS},
    {"SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64},
    {"SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32},
    {"SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL},
    {"SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64},
    {"SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32},
    {"SCMP_ARCH_PPC", SCMP_ARCH_PPC},
    {"SCMP_ARCH_PPC64", SCMP_ARCH_PPC64},
    {"SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE},
    {"SCMP_ARCH_S390", SCMP_ARCH_S390},
    {"SCMP_ARCH_S390X", SCMP_ARCH_S390X},
    {"SCMP_ARCH_PARISC", SCMP_ARCH_PARISC},
    {"SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64},
    {"SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64},
#ifdef SCMP_ARCH_LOONGARCH64
    {"SCMP_ARCH_LOONGARCH64", SCMP_ARCH_LOONGARCH64},
#endif
#ifdef SCMP_ARCH_M68K
    {"SCMP_ARCH_M68K", SCMP_ARCH_M68K},
#endif
#ifdef SCMP_ARCH_SH
    {"SCMP_ARCH_SH", SCMP_ARCH_SH},
    {"SCMP_ARCH_SHEB", SCMP_ARCH_SHEB},
#endif
};

struct Flag {
  const char* name;
  unsigned int value;
};
const Flag kFlags[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
};

template <typename T, size_t N>
const T* Find(const T (&table)[N], absl::string_view name) {
  for (const T& entry : table) {
    if (name == entry.name) return &entry;
  }
  return nullptr;
}

std::string LibseccompVersion() {
  const scmp_version* v = seccomp_version();
  return absl::StrCat(v->major, ".", v->minor, ".", v->micro);
}

// The kernel knows a flag when loading a NULL program with it fails with EFAULT (an
// unknown flag is EINVAL); nothing is loaded either way. WAIT_KILLABLE_RECV is only
// valid together with NEW_LISTENER.
bool KernelHasFlag(unsigned int flag) {
  if (flag == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) flag |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
  return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flag, nullptr) < 0 && errno == EFAULT;
}

// The kernel action for `name` with `errno_ret` (absent: EPERM, config-linux.md).
// `action_at` and `errno_at` are the JSON pointers of the two fields, for errors.
absl::StatusOr<uint32_t> ActionValue(absl::string_view name, std::optional<uint32_t> errno_ret,
                                     absl::string_view action_at, absl::string_view errno_at) {
  const Action* a = Find(kActions, name);
  if (a == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(action_at, ": unknown seccomp action ", Quote(name)));
  }
  if (errno_ret && !a->takes_errno) {
    return absl::InvalidArgumentError(absl::StrCat(
        errno_at, ": ", name, " does not return an errno (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE do)"));
  }
  if (errno_ret && *errno_ret > kMaxErrno) {
    return absl::InvalidArgumentError(
        absl::StrCat(errno_at, ": ", *errno_ret, " is not an errno (at most ", kMaxErrno, ")"));
  }
  return a->takes_errno ? a->value | errno_ret.value_or(EPERM) : a->value;
}

constexpr char kAt[] = "linux/seccomp";

std::string SyscallAt(size_t i) { return absl::StrCat(kAt, "/syscalls/", i); }

// Appends a length-prefixed field, so no two different profiles serialise alike.
void Field(std::string& out, absl::string_view value) {
  absl::StrAppend(&out, value.size(), ":", value, ";");
}

struct CtxDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};

absl::Status RuleError(int rc, size_t i, absl::string_view name) {
  return ErrnoError(-rc, absl::StrCat(SyscallAt(i), ": add seccomp rule for ", Quote(name)));
}

// Adds the rules of one syscalls[] entry for one name. Several conditions on the same
// argument cannot be ANDed by libseccomp: like runc, each then becomes a rule of its own
// (so they OR). Otherwise all conditions form one rule (they AND).
absl::Status AddRules(scmp_filter_ctx ctx, uint32_t action, int nr, size_t i,
                      absl::string_view name, const std::vector<scmp_arg_cmp>& conds) {
  int per_arg[kMaxArgs] = {};
  bool shared = false;
  for (const scmp_arg_cmp& c : conds) shared = shared || ++per_arg[c.arg] > 1;
  if (!shared) {
    int rc = seccomp_rule_add_array(ctx, action, nr, conds.size(), conds.data());
    return rc == 0 ? absl::OkStatus() : RuleError(rc, i, name);
  }
  for (const scmp_arg_cmp& c : conds) {
    int rc = seccomp_rule_add_array(ctx, action, nr, 1, &c);
    if (rc != 0) return RuleError(rc, i, name);
  }
  return absl::OkStatus();
}

// No stub for a permissive default (ALLOW, LOG, TRACE: a tracer handles new syscalls
// itself) or when the default already is ENOSYS (Podman's profile).
bool NeedsStub(const spec::Seccomp& p) {
  const std::string& a = p.default_action;
  if (a == "SCMP_ACT_ALLOW" || a == "SCMP_ACT_LOG" || a == "SCMP_ACT_TRACE") return false;
  return !(a == "SCMP_ACT_ERRNO" && p.default_errno_ret.value_or(EPERM) == ENOSYS);
}

// The architectures of the filter: the native one (libseccomp always includes it) first,
// then the configured ones.
std::vector<uint32_t> FilterArchs(const spec::Seccomp& p) {
  std::vector<uint32_t> out = {seccomp_arch_native()};
  for (const std::string& name : p.architectures) {
    const Arch* a = Find(kArchs, name);
    if (a != nullptr && a->token != out[0]) out.push_back(a->token);
  }
  return out;
}

absl::StatusOr<std::vector<sock_filter>> Stub(const spec::Seccomp& p) {
  std::vector<ArchMaxSyscall> maxes;
  for (uint32_t arch : FilterArchs(p)) {
    int max = -1;
    for (const spec::SeccompSyscall& sc : p.syscalls) {
      for (const std::string& name : sc.names) {
        // Negative: unknown, or a libseccomp pseudo-syscall absent on this arch.
        max = std::max(max, seccomp_syscall_resolve_name_arch(arch, name.c_str()));
      }
    }
    if (max < 0) continue;  // nothing named for this arch: the filter decides alone
    maxes.push_back({arch, static_cast<uint32_t>(max)});
  }
  return EnosysStub(maxes);
}

absl::StatusOr<std::vector<sock_filter>> Export(scmp_filter_ctx ctx) {
  UniqueFd fd(memfd_create("husk-seccomp", MFD_CLOEXEC));
  if (!fd) return ErrnoError("seccomp: create memfd");
  if (int rc = seccomp_export_bpf(ctx, fd.get()); rc != 0) {
    return ErrnoError(-rc, "seccomp: export the filter");
  }
  off_t size = lseek(fd.get(), 0, SEEK_END);
  if (size < 0 || size % sizeof(sock_filter) != 0) {
    return absl::InternalError("seccomp: libseccomp exported a truncated program");
  }
  std::vector<sock_filter> program(static_cast<size_t>(size) / sizeof(sock_filter));
  if (pread(fd.get(), program.data(), static_cast<size_t>(size), 0) != size) {
    return ErrnoError("seccomp: read the exported filter");
  }
  return program;
}

}  // namespace

absl::StatusOr<SeccompPlan> PlanSeccomp(const spec::Seccomp& p) {
  SeccompPlan plan;
  ASSIGN_OR_RETURN(uint32_t def, ActionValue(p.default_action, p.default_errno_ret,
                                             "linux/seccomp/defaultAction",
                                             "linux/seccomp/defaultErrnoRet"));
  if (def == SCMP_ACT_NOTIFY) {
    // Every syscall, among them the ones husk makes to hand the notify fd over, would
    // wait for an agent that does not have the fd yet.
    return absl::InvalidArgumentError(
        "linux/seccomp/defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
  }
  for (size_t i = 0; i < p.architectures.size(); ++i) {
    if (Find(kArchs, p.architectures[i]) == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          absl::StrCat(kAt, "/architectures/", i), ": ",
          p.architectures[i], " is not supported by libseccomp ", LibseccompVersion()));
    }
  }
  for (size_t i = 0; i < p.syscalls.size(); ++i) {
    const spec::SeccompSyscall& sc = p.syscalls[i];
    std::string at = SyscallAt(i);
    ASSIGN_OR_RETURN(uint32_t action,
                     ActionValue(sc.action, sc.errno_ret, at + "/action", at + "/errnoRet"));
    if (action == SCMP_ACT_NOTIFY) {
      plan.listener = true;
      for (const std::string& name : sc.names) {
        // husk's init hands the notify fd to `create` with sendmsg(2) right after loading
        // the filter (runc refuses "write" for the same reason).
        if (name == "sendmsg") {
          return absl::InvalidArgumentError(absl::StrCat(
              at, "/names: SCMP_ACT_NOTIFY cannot be used for \"sendmsg\": husk needs it "
                  "to pass the notify fd to the seccomp agent"));
        }
      }
    }
    for (size_t j = 0; j < sc.args.size(); ++j) {
      const spec::SeccompArg& arg = sc.args[j];
      std::string aat = absl::StrCat(at, "/args/", j);
      if (arg.index >= kMaxArgs) {
        return absl::InvalidArgumentError(absl::StrCat(
            aat, "/index: ", arg.index, " is out of range (syscalls have 6 arguments, 0-5)"));
      }
      if (Find(kOperators, arg.op) == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat(aat, "/op: unknown seccomp operator ", Quote(arg.op)));
      }
      if (arg.value_two.value_or(0) != 0 && arg.op != "SCMP_CMP_MASKED_EQ") {
        return absl::InvalidArgumentError(absl::StrCat(
            aat, "/valueTwo: only SCMP_CMP_MASKED_EQ uses a second value, not ", arg.op));
      }
    }
  }
  if (plan.listener) {
    if (!p.listener_path || p.listener_path->empty()) {
      return absl::InvalidArgumentError(
          "linux/seccomp/listenerPath: required when a rule uses SCMP_ACT_NOTIFY");
    }
    plan.listener_path = *p.listener_path;
    plan.listener_metadata = p.listener_metadata.value_or("");
    plan.flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
  }
  for (size_t i = 0; i < p.flags.size(); ++i) {
    std::string at = absl::StrCat(kAt, "/flags/", i);
    const Flag* f = Find(kFlags, p.flags[i]);
    if (f == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(at, ": unknown seccomp flag ", Quote(p.flags[i])));
    }
    if (f->value == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV && !plan.listener) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ": ", f->name, " needs a rule with SCMP_ACT_NOTIFY"));
    }
    if (!KernelHasFlag(f->value)) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ": ", f->name, " is not supported by this kernel"));
    }
    plan.flags |= f->value;
  }
  // TSYNC with a listener is refused (EINVAL) unless TSYNC_ESRCH says how to report a
  // thread that cannot sync; the init is single-threaded, so either way TSYNC holds.
  if ((plan.flags & SECCOMP_FILTER_FLAG_TSYNC) && plan.listener) {
    plan.flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
  }
  return plan;
}

std::string SeccompProgramKey(const spec::Seccomp& p) {
  std::string key;
  Field(key, kFormat);
  Field(key, LibseccompVersion());
  Field(key, absl::StrCat(seccomp_arch_native()));
  struct utsname u;
  Field(key, uname(&u) == 0 ? u.release : "");
  Field(key, p.default_action);
  Field(key, p.default_errno_ret ? absl::StrCat(*p.default_errno_ret) : "-");
  Field(key, absl::StrCat(p.architectures.size()));
  for (const std::string& a : p.architectures) Field(key, a);
  Field(key, absl::StrCat(p.syscalls.size()));
  for (const spec::SeccompSyscall& sc : p.syscalls) {
    Field(key, absl::StrCat(sc.names.size()));
    for (const std::string& n : sc.names) Field(key, n);
    Field(key, sc.action);
    Field(key, sc.errno_ret ? absl::StrCat(*sc.errno_ret) : "-");
    Field(key, absl::StrCat(sc.args.size()));
    for (const spec::SeccompArg& a : sc.args) {
      Field(key, absl::StrCat(a.index, ",", a.value, ",",
                              a.value_two ? absl::StrCat(*a.value_two) : "-", ",", a.op));
    }
  }
  return key;
}

absl::StatusOr<std::vector<sock_filter>> CompileSeccomp(const spec::Seccomp& p) {
  ASSIGN_OR_RETURN(uint32_t def, ActionValue(p.default_action, p.default_errno_ret,
                                             "linux/seccomp/defaultAction",
                                             "linux/seccomp/defaultErrnoRet"));
  std::unique_ptr<void, CtxDeleter> ctx(seccomp_init(def));
  if (!ctx) return absl::InvalidArgumentError(absl::StrCat(
      "linux/seccomp/defaultAction: libseccomp refused ", p.default_action));
  for (uint32_t arch : FilterArchs(p)) {
    int rc = seccomp_arch_add(ctx.get(), arch);
    if (rc != 0 && rc != -EEXIST) return ErrnoError(-rc, "seccomp: add architecture");
  }
  // libseccomp's binary-tree layout for long profiles (runc's threshold: 2.5.x
  // misbehaves with it on very short ones). An older libseccomp just keeps the list.
  if (p.syscalls.size() > 32) (void)seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2);
  for (size_t i = 0; i < p.syscalls.size(); ++i) {
    const spec::SeccompSyscall& sc = p.syscalls[i];
    std::string at = SyscallAt(i);
    ASSIGN_OR_RETURN(uint32_t action, ActionValue(sc.action, sc.errno_ret, at + "/action",
                                                  at + "/errnoRet"));
    if (action == def) continue;  // redundant; libseccomp would refuse it
    std::vector<scmp_arg_cmp> conds;
    for (const spec::SeccompArg& a : sc.args) {
      const Operator* op = Find(kOperators, a.op);
      if (op == nullptr || a.index >= kMaxArgs) {
        return absl::InvalidArgumentError(absl::StrCat(SyscallAt(i), ": invalid argument condition"));
      }
      // MASKED_EQ: (arg & value) == valueTwo; the others compare with value.
      conds.push_back({a.index, op->op, a.value, a.value_two.value_or(0)});
    }
    for (const std::string& name : sc.names) {
      int nr = seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR) {
        log::Debug(absl::StrCat("seccomp: unknown syscall ", Quote(name), " ignored"));
        continue;
      }
      RETURN_IF_ERROR(AddRules(ctx.get(), action, nr, i, name, conds));
    }
  }
  ASSIGN_OR_RETURN(std::vector<sock_filter> filter, Export(ctx.get()));
  std::vector<sock_filter> program;
  if (NeedsStub(p)) {
    ASSIGN_OR_RETURN(program, Stub(p));
  }
  program.insert(program.end(), filter.begin(), filter.end());
  if (program.size() > BPF_MAXINSNS) {
    return absl::InvalidArgumentError(absl::StrCat(
        "linux/seccomp: the compiled filter has ", program.size(),
        " instructions, more than the kernel's limit of ", BPF_MAXINSNS));
  }
  return program;
}

absl::StatusOr<int> InstallSeccomp(const SeccompPlan& plan) {
  struct sock_fprog prog = {static_cast<unsigned short>(plan.program.size()),
                            const_cast<sock_filter*>(plan.program.data())};
  long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, plan.flags, &prog);
  if (rc < 0) return ErrnoError("load seccomp filter");
  return plan.listener ? static_cast<int>(rc) : -1;
}

spec::SeccompFeatures GetSeccompFeatures() {
  spec::SeccompFeatures f;
  for (const Action& a : kActions) f.actions.push_back(a.name);
  for (const Operator& o : kOperators) f.operators.push_back(o.name);
  for (const Arch& a : kArchs) f.archs.push_back(a.name);
  for (const Flag& fl : kFlags) {
    f.known_flags.push_back(fl.name);
    if (KernelHasFlag(fl.value)) f.supported_flags.push_back(fl.name);
  }
  return f;
}

}  // namespace husk::kernel
