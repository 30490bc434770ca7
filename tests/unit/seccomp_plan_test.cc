// kernel/seccomp and state/bpf_cache: profiles checked as data. Each compiled program is
// run through a classic-BPF interpreter (tests/support/bpf_sim) for chosen syscalls and
// arguments, so every action, operator, rule grouping and the -ENOSYS stub is checked
// without loading anything into the kernel. Docker's and Podman's real default profiles
// are the fixtures for the engine cases.
#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/syscall.h>

#include <filesystem>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/kernel/seccomp.h"
#include "runtime/kernel/seccomp_stub.h"
#include "runtime/state/bpf_cache.h"
#include "runtime/state/store.h"
#include "spec/parse.h"
#include "spec/validate.h"
#include "tests/support/bpf_sim.h"
#include "tests/support/harness.h"
#include "tests/support/seccomp_profiles.h"

namespace husk::kernel {
namespace {

using ::husk::testing::Eval;
using ::testing::HasSubstr;

constexpr uint32_t kX86_64 = AUDIT_ARCH_X86_64;
constexpr uint32_t kI386 = AUDIT_ARCH_I386;
constexpr uint32_t kX32Bit = 0x40000000;
constexpr uint32_t kAllow = SECCOMP_RET_ALLOW;
constexpr uint32_t kKillThread = SECCOMP_RET_KILL_THREAD;
uint32_t Errno(int e) { return SECCOMP_RET_ERRNO | static_cast<uint32_t>(e); }

// linux.seccomp from JSON, through the real parser and validator.
spec::Seccomp Profile(const std::string& json) {
  std::string doc = R"({"ociVersion": "1.0.0", "root": {"path": "rootfs"}, "linux": {"seccomp": )" +
                    json + "}}";
  auto c = spec::ParseConfig(doc);
  EXPECT_TRUE(c.ok()) << c.status() << "\n" << json;
  if (!c.ok()) return {};
  absl::Status v = spec::ValidateConfig(*c);
  EXPECT_TRUE(v.ok()) << v;
  return *c->linux_config->seccomp;
}

std::vector<sock_filter> Compile(const std::string& json) {
  auto program = CompileSeccomp(Profile(json));
  EXPECT_TRUE(program.ok()) << program.status();
  return program.ok() ? *program : std::vector<sock_filter>{};
}

std::string PlanError(const std::string& json) {
  auto plan = PlanSeccomp(Profile(json));
  return plan.ok() ? "OK" : std::string(plan.status().message());
}

TEST(SeccompTest, ErrnoRuleWithAndWithoutErrnoRet) {
  auto p = Compile(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
      {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 33},
      {"names": ["rmdir"], "action": "SCMP_ACT_ERRNO"}]})");
  EXPECT_EQ(Eval(p, kX86_64, SYS_mkdir), Errno(33));
  EXPECT_EQ(Eval(p, kX86_64, SYS_rmdir), Errno(EPERM));  // the spec's default
  EXPECT_EQ(Eval(p, kX86_64, SYS_read), kAllow);
  EXPECT_EQ(Eval(p, kX86_64, 1000), kAllow);  // permissive default: no -ENOSYS stub
}

TEST(SeccompTest, EveryActionGivesItsKernelValue) {
  struct Case {
    std::string action, extra;
    uint32_t want;
  } cases[] = {
      {"SCMP_ACT_KILL", "", SECCOMP_RET_KILL_THREAD},
      {"SCMP_ACT_KILL_THREAD", "", SECCOMP_RET_KILL_THREAD},
      {"SCMP_ACT_KILL_PROCESS", "", SECCOMP_RET_KILL_PROCESS},
      {"SCMP_ACT_TRAP", "", SECCOMP_RET_TRAP},
      {"SCMP_ACT_ERRNO", "", Errno(EPERM)},
      {"SCMP_ACT_ERRNO", R"(, "errnoRet": 7)", Errno(7)},
      {"SCMP_ACT_TRACE", "", SECCOMP_RET_TRACE | EPERM},
      {"SCMP_ACT_TRACE", R"(, "errnoRet": 9)", SECCOMP_RET_TRACE | 9},
      {"SCMP_ACT_LOG", "", SECCOMP_RET_LOG},
      {"SCMP_ACT_NOTIFY", "", SECCOMP_RET_USER_NOTIF},
  };
  for (const Case& c : cases) {
    auto p = Compile(R"({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/x",
        "syscalls": [{"names": ["getpid"], "action": ")" + c.action + "\"" + c.extra + "}]}");
    EXPECT_EQ(Eval(p, kX86_64, SYS_getpid), c.want) << c.action << c.extra;
    EXPECT_EQ(Eval(p, kX86_64, SYS_getppid), kAllow) << c.action;
  }
  // ALLOW as a rule needs a non-allow default.
  auto p = Compile(R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
      "syscalls": [{"names": ["getpid"], "action": "SCMP_ACT_ALLOW"}]})");
  EXPECT_EQ(Eval(p, kX86_64, SYS_getpid), kAllow);
  EXPECT_EQ(Eval(p, kX86_64, SYS_getppid), Errno(ENOSYS));
}

TEST(SeccompTest, EveryOperatorAtItsBoundaries) {
  struct Case {
    std::string op;
    uint64_t value, value_two;
    std::vector<std::pair<uint64_t, bool>> args;  // arg0 -> matches
  } cases[] = {
      {"SCMP_CMP_EQ", 10, 0, {{9, false}, {10, true}, {11, false}, {0x10000000aull, false}}},
      {"SCMP_CMP_NE", 10, 0, {{9, true}, {10, false}, {0x10000000aull, true}}},
      {"SCMP_CMP_LT", 10, 0, {{9, true}, {10, false}, {11, false}}},
      {"SCMP_CMP_LE", 10, 0, {{9, true}, {10, true}, {11, false}}},
      {"SCMP_CMP_GT", 10, 0, {{9, false}, {10, false}, {11, true}, {0x100000000ull, true}}},
      {"SCMP_CMP_GE", 10, 0, {{9, false}, {10, true}, {11, true}}},
      // (arg & value) == valueTwo
      {"SCMP_CMP_MASKED_EQ", 0xf0, 0x20, {{0x25, true}, {0x35, false}, {0x120, true}}},
  };
  for (const Case& c : cases) {
    auto p = Compile(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["getpid"],
        "action": "SCMP_ACT_ERRNO", "errnoRet": 42, "args": [{"index": 0, "value": )" +
                     std::to_string(c.value) + R"(, "valueTwo": )" + std::to_string(c.value_two) +
                     R"(, "op": ")" + c.op + R"("}]}]})");
    for (auto [arg, match] : c.args) {
      EXPECT_EQ(Eval(p, kX86_64, SYS_getpid, {arg}), match ? Errno(42) : kAllow)
          << c.op << " " << c.value << " with arg " << arg;
    }
  }
}

TEST(SeccompTest, ConditionsOnDifferentArgsAndOnTheSameArgOr) {
  // Different arguments: one rule, all must hold.
  auto p = Compile(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["getpid"],
      "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
                                           {"index": 2, "value": 3, "op": "SCMP_CMP_EQ"}]}]})");
  EXPECT_EQ(Eval(p, kX86_64, SYS_getpid, {1, 0, 3}), Errno(EPERM));
  EXPECT_EQ(Eval(p, kX86_64, SYS_getpid, {1, 0, 4}), kAllow);
  EXPECT_EQ(Eval(p, kX86_64, SYS_getpid, {2, 0, 3}), kAllow);
  // The same argument twice: runc makes each condition its own rule, so either matches.
  p = Compile(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["getpid"],
      "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
                                           {"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}]}]})");
  EXPECT_EQ(Eval(p, kX86_64, SYS_getpid, {1}), Errno(EPERM));
  EXPECT_EQ(Eval(p, kX86_64, SYS_getpid, {2}), Errno(EPERM));
  EXPECT_EQ(Eval(p, kX86_64, SYS_getpid, {3}), kAllow);
}

TEST(SeccompTest, UnknownSyscallNamesAreSkipped) {
  auto p = Compile(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
      {"names": ["no_such_syscall_in_libseccomp", "mkdir"], "action": "SCMP_ACT_ERRNO"}]})");
  EXPECT_EQ(Eval(p, kX86_64, SYS_mkdir), Errno(EPERM));
}

TEST(SeccompTest, EnosysStubAboveTheLargestNamedSyscall) {
  auto p = Compile(R"({"defaultAction": "SCMP_ACT_ERRNO",
      "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
      "syscalls": [{"names": ["read", "write", "mkdir", "exit_group"],
                    "action": "SCMP_ACT_ALLOW"}]})");
  int max = SYS_exit_group;  // 231, the largest named
  EXPECT_EQ(Eval(p, kX86_64, SYS_read), kAllow);
  EXPECT_EQ(Eval(p, kX86_64, SYS_getpid), Errno(EPERM));  // below the max: the default
  EXPECT_EQ(Eval(p, kX86_64, max + 1), Errno(ENOSYS));    // newer than the profile
  EXPECT_EQ(Eval(p, kX86_64, 1000), Errno(ENOSYS));
  // x32 numbers carry bit 30 and have their own maximum.
  EXPECT_EQ(Eval(p, kX86_64, static_cast<int>(kX32Bit | 0)), kAllow);  // x32 read
  EXPECT_EQ(Eval(p, kX86_64, static_cast<int>(kX32Bit | 39)), Errno(EPERM));
  EXPECT_EQ(Eval(p, kX86_64, static_cast<int>(kX32Bit | 1000)), Errno(ENOSYS));
  // i386: read is 3, exit_group 252.
  EXPECT_EQ(Eval(p, kI386, 3), kAllow);
  EXPECT_EQ(Eval(p, kI386, 20), Errno(EPERM));
  EXPECT_EQ(Eval(p, kI386, 2000), Errno(ENOSYS));
  // An architecture the filter lacks gets libseccomp's bad-arch action.
  EXPECT_EQ(Eval(p, AUDIT_ARCH_AARCH64, 63), kKillThread);
}

TEST(SeccompTest, EnosysStubWithoutX32LeavesX32CallsToTheFilter) {
  auto p = Compile(R"({"defaultAction": "SCMP_ACT_KILL_PROCESS",
      "syscalls": [{"names": ["read", "exit_group"], "action": "SCMP_ACT_ALLOW"}]})");
  EXPECT_EQ(Eval(p, kX86_64, 1000), Errno(ENOSYS));
  EXPECT_EQ(Eval(p, kX86_64, SYS_getpid), SECCOMP_RET_KILL_PROCESS);
  EXPECT_EQ(Eval(p, kX86_64, static_cast<int>(kX32Bit | 1000)), kKillThread);  // bad arch
}

TEST(SeccompTest, NoStubForPermissiveOrEnosysDefaults) {
  for (const char* def : {R"("SCMP_ACT_LOG")", R"("SCMP_ACT_TRACE")"}) {
    auto p = Compile(std::string(R"({"defaultAction": )") + def +
                     R"(, "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO"}]})");
    uint32_t got = Eval(p, kX86_64, 1000);
    EXPECT_NE(got, Errno(ENOSYS)) << def;
    EXPECT_EQ(got & SECCOMP_RET_ACTION_FULL,
              std::string(def) == R"("SCMP_ACT_LOG")" ? SECCOMP_RET_LOG : SECCOMP_RET_TRACE);
  }
  // A default of ENOSYS needs no stub: the program is libseccomp's alone.
  spec::Seccomp enosys = Profile(R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
      "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]})");
  spec::Seccomp eperm = enosys;
  eperm.default_errno_ret = 1;
  auto a = CompileSeccomp(enosys), b = CompileSeccomp(eperm);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_LT(a->size(), b->size());
  EXPECT_EQ(Eval(*a, kX86_64, 1000), Errno(ENOSYS));
}

TEST(SeccompTest, StubGeneratorLayout) {
  // Empty input: no stub at all.
  auto none = EnosysStub({});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  // A stub alone, followed by an "allow" filter: above max -> ENOSYS, else the filter.
  auto stub = EnosysStub({{SCMP_ARCH_X86_64, 100}, {SCMP_ARCH_S390X, 50}});
  ASSERT_TRUE(stub.ok()) << stub.status();
  std::vector<sock_filter> p = *stub;
  p.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  EXPECT_EQ(Eval(p, kX86_64, 100), kAllow);
  EXPECT_EQ(Eval(p, kX86_64, 101), Errno(ENOSYS));
  EXPECT_EQ(Eval(p, kX86_64, static_cast<int>(kX32Bit | 5000)), kAllow);  // no x32 entry
  EXPECT_EQ(Eval(p, AUDIT_ARCH_S390X, 0), Errno(ENOSYS));  // setup(2) multiplexer
  EXPECT_EQ(Eval(p, AUDIT_ARCH_S390X, 50), kAllow);
  EXPECT_EQ(Eval(p, AUDIT_ARCH_S390X, 51), Errno(ENOSYS));
  EXPECT_EQ(Eval(p, kI386, 5000), kAllow);  // not in the stub
  // x32 only.
  stub = EnosysStub({{SCMP_ARCH_X32, kX32Bit | 10}});
  ASSERT_TRUE(stub.ok());
  p = *stub;
  p.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  EXPECT_EQ(Eval(p, kX86_64, 5000), kAllow);
  EXPECT_EQ(Eval(p, kX86_64, static_cast<int>(kX32Bit | 11)), Errno(ENOSYS));
  EXPECT_EQ(Eval(p, kX86_64, static_cast<int>(kX32Bit | 10)), kAllow);
}

TEST(SeccompTest, PlanErrorsNameTheField) {
  EXPECT_EQ(PlanError(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"],
                "action": "SCMP_ACT_KILL", "errnoRet": 1}]})"),
            "linux/seccomp/syscalls/0/errnoRet: SCMP_ACT_KILL does not return an errno (only "
            "SCMP_ACT_ERRNO and SCMP_ACT_TRACE do)");
  EXPECT_THAT(PlanError(R"({"defaultAction": "SCMP_ACT_ALLOW", "defaultErrnoRet": 3})"),
              HasSubstr("linux/seccomp/defaultErrnoRet: SCMP_ACT_ALLOW does not return an errno"));
  EXPECT_EQ(PlanError(R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 5000})"),
            "linux/seccomp/defaultErrnoRet: 5000 is not an errno (at most 4095)");
  EXPECT_EQ(PlanError(R"({"defaultAction": "SCMP_ACT_NOTIFY", "listenerPath": "/x"})"),
            "linux/seccomp/defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
  EXPECT_EQ(PlanError(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"],
                "action": "SCMP_ACT_NOTIFY"}]})"),
            "linux/seccomp/listenerPath: required when a rule uses SCMP_ACT_NOTIFY");
  EXPECT_THAT(PlanError(R"({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/x",
                  "syscalls": [{"names": ["mkdir", "sendmsg"], "action": "SCMP_ACT_NOTIFY"}]})"),
              HasSubstr("linux/seccomp/syscalls/0/names: SCMP_ACT_NOTIFY cannot be used for \"sendmsg\""));
  EXPECT_EQ(PlanError(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"],
                "action": "SCMP_ACT_ERRNO", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]})"),
            "linux/seccomp/syscalls/0/args/0/index: 6 is out of range (syscalls have 6 arguments, 0-5)");
  EXPECT_EQ(PlanError(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"],
                "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "valueTwo": 2,
                "op": "SCMP_CMP_EQ"}]}]})"),
            "linux/seccomp/syscalls/0/args/0/valueTwo: only SCMP_CMP_MASKED_EQ uses a second "
            "value, not SCMP_CMP_EQ");
  EXPECT_EQ(PlanError(R"({"defaultAction": "SCMP_ACT_ALLOW",
                "flags": ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]})"),
            "linux/seccomp/flags/0: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs a rule with "
            "SCMP_ACT_NOTIFY");
#ifndef SCMP_ARCH_LOONGARCH64
  EXPECT_THAT(PlanError(R"({"defaultAction": "SCMP_ACT_ALLOW",
                  "architectures": ["SCMP_ARCH_X86", "SCMP_ARCH_LOONGARCH64"]})"),
              HasSubstr("linux/seccomp/architectures/1: SCMP_ARCH_LOONGARCH64 is not supported "
                        "by libseccomp"));
#endif
  // A zero valueTwo (Docker and Podman write one on every argument) is fine.
  EXPECT_EQ(PlanError(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"],
                "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "valueTwo": 0,
                "op": "SCMP_CMP_EQ"}]}]})"),
            "OK");
  // listenerPath without a NOTIFY rule is ignored (config-linux.md).
  EXPECT_EQ(PlanError(R"({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/nowhere"})"), "OK");
}

TEST(SeccompTest, FlagsReachTheKernelCall) {
  auto plan = PlanSeccomp(Profile(R"({"defaultAction": "SCMP_ACT_ALLOW",
      "flags": ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                "SECCOMP_FILTER_FLAG_TSYNC"]})"));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->flags, SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW |
                             SECCOMP_FILTER_FLAG_TSYNC);
  EXPECT_FALSE(plan->listener);
  plan = PlanSeccomp(Profile(R"({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/a.sock",
      "listenerMetadata": "meta", "flags": ["SECCOMP_FILTER_FLAG_TSYNC",
      "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],
      "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]})"));
  ASSERT_TRUE(plan.ok()) << plan.status();  // the 6.18 kernel has WAIT_KILLABLE_RECV (5.19+)
  EXPECT_TRUE(plan->listener);
  EXPECT_EQ(plan->listener_path, "/a.sock");
  EXPECT_EQ(plan->listener_metadata, "meta");
  EXPECT_EQ(plan->flags, SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_TSYNC |
                             SECCOMP_FILTER_FLAG_TSYNC_ESRCH | (1u << 5));
  // Absent flags mean none (the spec); runc adds SPEC_ALLOW on its own.
  plan = PlanSeccomp(Profile(R"({"defaultAction": "SCMP_ACT_ALLOW"})"));
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->flags, 0u);
}

TEST(SeccompTest, FeaturesListWhatWorks) {
  spec::SeccompFeatures f = GetSeccompFeatures();
  EXPECT_EQ(f.actions.size(), 9u);
  EXPECT_EQ(f.operators.size(), 7u);
  EXPECT_THAT(f.archs, ::testing::IsSupersetOf({"SCMP_ARCH_X86_64", "SCMP_ARCH_X86",
                                                "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64"}));
  EXPECT_EQ(f.known_flags.size(), 4u);
  // Kernel 6.1+ has all four.
  EXPECT_EQ(f.supported_flags, f.known_flags);
}

TEST(SeccompTest, ProgramKeyChangesWithEveryFieldThatReachesTheProgram) {
  const std::string base = R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
      {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW",
       "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]}]})";
  std::string key = SeccompProgramKey(Profile(base));
  EXPECT_EQ(key, SeccompProgramKey(Profile(base)));
  for (const char* other : {
           R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1, "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]}]})",
           R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["write", "read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]}]})",
           R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_LOG", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]}]})",
           R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}]}]})",
           R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 1, "value": 1, "op": "SCMP_CMP_EQ"}]}]})",
           R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_NE"}]}]})",
           R"({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86"], "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]}]})",
       }) {
    EXPECT_NE(SeccompProgramKey(Profile(other)), key) << other;
  }
  // Flags and the listener do not change the program.
  EXPECT_EQ(SeccompProgramKey(Profile(R"({"defaultAction": "SCMP_ACT_ERRNO",
      "flags": ["SECCOMP_FILTER_FLAG_LOG"], "listenerPath": "/x", "syscalls": [
      {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW",
       "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]}]})")),
            key);
}

std::vector<std::string> PodmanDefaultCaps() {
  return {"CAP_CHOWN",  "CAP_DAC_OVERRIDE",     "CAP_FOWNER",  "CAP_FSETID",
          "CAP_KILL",   "CAP_NET_BIND_SERVICE", "CAP_SETFCAP", "CAP_SETGID",
          "CAP_SETPCAP", "CAP_SETUID",          "CAP_SYS_CHROOT"};
}

TEST(SeccompTest, DockerDefaultProfile) {
  std::string json = husk::testing::EngineProfileToOci(
      husk::testing::SeccompFixture(HUSK_SOURCE_DIR, "docker-default.json"),
      husk::testing::DockerDefaultCaps());
  spec::Seccomp profile = Profile(json);
  EXPECT_EQ(profile.architectures,
            (std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}));
  auto plan = PlanSeccomp(profile);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->flags, 0u);
  auto p = CompileSeccomp(profile);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(Eval(*p, kX86_64, SYS_read), kAllow);
  EXPECT_EQ(Eval(*p, kX86_64, SYS_execve), kAllow);
  EXPECT_EQ(Eval(*p, kX86_64, SYS_kexec_load), Errno(EPERM));  // needs CAP_SYS_BOOT
  EXPECT_EQ(Eval(*p, kX86_64, SYS_mount), Errno(EPERM));        // needs CAP_SYS_ADMIN
  EXPECT_EQ(Eval(*p, kX86_64, 1000), Errno(ENOSYS));            // newer than the profile
  EXPECT_EQ(Eval(*p, kX86_64, SYS_clone3), Errno(ENOSYS));      // the profile says so
  // clone: allowed without namespace flags (MASKED_EQ 0x7e020000 == 0).
  EXPECT_EQ(Eval(*p, kX86_64, SYS_clone, {SIGCHLD}), kAllow);
  EXPECT_EQ(Eval(*p, kX86_64, SYS_clone, {0x10000000 /* CLONE_NEWUSER */ | SIGCHLD}),
            Errno(EPERM));
  // personality: five exact values (one rule each).
  EXPECT_EQ(Eval(*p, kX86_64, SYS_personality, {0}), kAllow);
  EXPECT_EQ(Eval(*p, kX86_64, SYS_personality, {0xffffffff}), kAllow);
  EXPECT_EQ(Eval(*p, kX86_64, SYS_personality, {0x1234}), Errno(EPERM));
  EXPECT_EQ(Eval(*p, kI386, 3 /* read */), kAllow);
}

TEST(SeccompTest, PodmanDefaultProfile) {
  std::string json = husk::testing::EngineProfileToOci(
      husk::testing::SeccompFixture(HUSK_SOURCE_DIR, "podman-default.json"), PodmanDefaultCaps());
  spec::Seccomp profile = Profile(json);
  ASSERT_EQ(profile.default_errno_ret, 38u);
  auto p = CompileSeccomp(profile);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(Eval(*p, kX86_64, SYS_read), kAllow);
  EXPECT_EQ(Eval(*p, kX86_64, SYS_kexec_load), Errno(EPERM));  // errnoRet 1 in the profile
  EXPECT_EQ(Eval(*p, kX86_64, 1000), Errno(ENOSYS));           // its default is ENOSYS
  // Without CAP_AUDIT_WRITE: an audit netlink socket is EINVAL, other sockets work.
  EXPECT_EQ(Eval(*p, kX86_64, SYS_socket, {16 /* AF_NETLINK */, 3, 9 /* NETLINK_AUDIT */}),
            Errno(EINVAL));
  EXPECT_EQ(Eval(*p, kX86_64, SYS_socket, {16, 3, 0}), kAllow);
  EXPECT_EQ(Eval(*p, kX86_64, SYS_socket, {2 /* AF_INET */, 1, 0}), kAllow);
}

// ---- state/bpf_cache -------------------------------------------------------------------

class BpfCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = husk::testing::MakeTempDir("bpf-cache");
    auto store = state::Store::Open(root_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_.emplace(*std::move(store));
  }
  void TearDown() override { husk::testing::RemoveTree(root_); }
  std::string root_;
  std::optional<state::Store> store_;
};

TEST_F(BpfCacheTest, RoundTripAndWholeKeyCheck) {
  auto cache = state::BpfCache::Open(*store_);
  ASSERT_TRUE(cache.ok()) << cache.status();
  EXPECT_FALSE(cache->Load("key-a").has_value());
  ASSERT_TRUE(cache->Save("key-a", std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8)).ok());
  auto got = cache->Load("key-a");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  // Another key stored under key-a's file name (as a hash collision would) is a miss.
  std::string name = state::BpfCache::FileName("key-a");
  ASSERT_TRUE(state::WriteProgramFile(cache->fd(), name.c_str(), "key-b", "payload!").ok());
  EXPECT_FALSE(cache->Load("key-a").has_value());
  // Truncated and garbage files are misses too.
  husk::testing::WriteFile(root_ + "/@seccomp/" + name, "HUSKBPF1\x05");
  EXPECT_FALSE(cache->Load("key-a").has_value());
  husk::testing::WriteFile(root_ + "/@seccomp/" + name, "garbage");
  EXPECT_FALSE(cache->Load("key-a").has_value());
  // The cache is not a container.
  auto ids = store_->Ids();
  ASSERT_TRUE(ids.ok());
  EXPECT_TRUE(ids->empty()) << ids->front();
}

TEST_F(BpfCacheTest, EvictsBeyondItsLimit) {
  auto cache = state::BpfCache::Open(*store_);
  ASSERT_TRUE(cache.ok());
  for (size_t i = 0; i < state::kBpfCacheMaxEntries + 10; ++i) {
    ASSERT_TRUE(cache->Save("key-" + std::to_string(i), "12345678").ok());
  }
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(root_ + "/@seccomp")) {
    (void)e;
    ++n;
  }
  EXPECT_EQ(n, state::kBpfCacheMaxEntries);
  // The newest survive.
  EXPECT_TRUE(cache->Load("key-" + std::to_string(state::kBpfCacheMaxEntries + 9)).has_value());
}

}  // namespace
}  // namespace husk::kernel
