// Cases for config-linux.md "Seccomp": every action, every operator, argument grouping,
// the flags, unknown syscall names, the listener (SCMP_ACT_NOTIFY with a real agent,
// conformance/agent) and the engines' default profiles. Raw syscalls are made by the
// probe (--syscall=NR,ARGS --syscalls-only) on syscalls whose real effect is harmless
// and whose arguments the kernel ignores (sched_yield, getppid...), so a rule's match is
// visible as its errno and a miss as success.
#include <signal.h>
#include <sys/syscall.h>

#include <filesystem>
#include <string>
#include <thread>

#include "conformance/cases/util.h"
#include "tests/support/background_process.h"
#include "tests/support/seccomp_profiles.h"

namespace husk::conformance {
namespace {

struct Call {
  long long ret = 0, err = 0;
};

// Runs the probe making these syscalls (each "NR[,ARG...]") under the configured profile.
std::vector<Call> Syscalls(Ctx& ctx, const std::vector<std::string>& calls) {
  std::vector<std::string> args = {"--syscalls-only"};
  for (const std::string& c : calls) args.push_back("--syscall=" + c);
  rapidjson::Document r = ctx.RunProbe(args);
  std::vector<Call> out;
  const rapidjson::Value* list = Get(r, "/syscalls");
  if (list == nullptr || !list->IsArray()) Fail("probe report without syscalls");
  for (const auto& s : list->GetArray()) out.push_back({s["ret"].GetInt64(), s["errno"].GetInt64()});
  if (out.size() != calls.size()) Fail("probe made " + Str(out.size()) + " syscalls");
  return out;
}

std::string N(long nr) { return std::to_string(nr); }

// One rule on sched_yield (nr 24) with one condition on arg 0, errno 42 on a match.
std::string OneCondition(const std::string& op, unsigned long long value,
                         unsigned long long value_two = 0) {
  return R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["sched_yield"],
      "action": "SCMP_ACT_ERRNO", "errnoRet": 42, "args": [{"index": 0, "value": )" +
         std::to_string(value) + R"(, "valueTwo": )" + std::to_string(value_two) +
         R"(, "op": ")" + op + R"("}]}]})";
}

// Checks that sched_yield(arg) matched (errno 42) exactly for the `match` arguments.
void CheckOperator(Ctx& ctx, const std::string& op, unsigned long long value,
                   unsigned long long value_two,
                   const std::vector<std::pair<unsigned long long, bool>>& args) {
  ctx.Set("/linux/seccomp", OneCondition(op, value, value_two));
  std::vector<std::string> calls;
  for (auto [arg, match] : args) calls.push_back(N(SYS_sched_yield) + "," + std::to_string(arg));
  std::vector<Call> got = Syscalls(ctx, calls);
  for (size_t i = 0; i < args.size(); ++i) {
    bool matched = got[i].err == 42;
    Check(matched == args[i].second && (matched || got[i].err == 0),
          op + " " + std::to_string(value) + " with arg " + std::to_string(args[i].first) +
              ": errno " + Str(got[i].err) + (args[i].second ? " (should match)" : " (should not)"));
  }
}

Register errno_action{{
    "seccomp_action_errno", "config-linux.md#seccomp",
    "",
    [](Ctx& ctx) {
      ctx.Set("/linux/seccomp", R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
          {"names": ["sched_yield"], "action": "SCMP_ACT_ERRNO", "errnoRet": 95},
          {"names": ["getppid"], "action": "SCMP_ACT_ERRNO"}]})");
      std::vector<Call> got = Syscalls(ctx, {N(SYS_sched_yield), N(SYS_getppid), N(SYS_getpid)});
      Check(got[0].err == 95, "errnoRet 95 gave errno " + Str(got[0].err));
      Check(got[1].err == EPERM, "no errnoRet must give EPERM, got " + Str(got[1].err));
      Check(got[2].err == 0, "an unlisted syscall failed: errno " + Str(got[2].err));
    }}};

// The three killing actions and TRAP end the process with SIGSYS.
void CheckKilled(Ctx& ctx, const std::string& action) {
  ctx.Set("/linux/seccomp", R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
      {"names": ["sched_yield"], "action": ")" + action + R"("}]})");
  ctx.ProbeArgs({"--syscalls-only", "--syscall=" + N(SYS_sched_yield)});
  CmdResult r = ctx.RunForeground();
  ctx.EndIfUnsupported(r);
  Check(r.exit_code == 128 + SIGSYS,
        action + ": run exited " + Str(r.exit_code) + " (want 159, SIGSYS): " + r.Describe());
}

Register kill_process{{"seccomp_action_kill_process", "config-linux.md#seccomp", "",
                       [](Ctx& ctx) { CheckKilled(ctx, "SCMP_ACT_KILL_PROCESS"); }}};
Register kill_thread{{"seccomp_action_kill_thread", "config-linux.md#seccomp", "",
                      [](Ctx& ctx) { CheckKilled(ctx, "SCMP_ACT_KILL_THREAD"); }}};
Register kill{{"seccomp_action_kill", "config-linux.md#seccomp", "",
               [](Ctx& ctx) { CheckKilled(ctx, "SCMP_ACT_KILL"); }}};
Register trap{{"seccomp_action_trap", "config-linux.md#seccomp", "",
               [](Ctx& ctx) { CheckKilled(ctx, "SCMP_ACT_TRAP"); }}};

Register trace{{
    "seccomp_action_trace", "config-linux.md#seccomp",
    "",
    [](Ctx& ctx) {
      // With no tracer attached the kernel fails a TRACE'd syscall with ENOSYS.
      ctx.Set("/linux/seccomp", R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
          {"names": ["sched_yield"], "action": "SCMP_ACT_TRACE"}]})");
      std::vector<Call> got = Syscalls(ctx, {N(SYS_sched_yield)});
      Check(got[0].err == ENOSYS, "TRACE without a tracer: errno " + Str(got[0].err));
    }}};

Register log_action{{
    "seccomp_action_log", "config-linux.md#seccomp",
    "",
    [](Ctx& ctx) {
      ctx.Set("/linux/seccomp", R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
          {"names": ["sched_yield"], "action": "SCMP_ACT_LOG"}]})");
      // The full report this time: the filter is in force (mode 2) and LOG allowed.
      rapidjson::Document r = ctx.RunProbe({"--syscall=" + N(SYS_sched_yield)});
      Check(GetInt(r, "/syscalls/0/errno", -1) == 0, "LOG must allow: errno " +
                                                         Str(GetInt(r, "/syscalls/0/errno", -1)));
      Check(GetInt(r, "/seccomp", -1) == 2, "Seccomp mode: " + Str(GetInt(r, "/seccomp", -1)));
    }}};

Register op_eq{{"seccomp_operator_eq", "config-linux.md#seccomp", "", [](Ctx& ctx) {
  CheckOperator(ctx, "SCMP_CMP_EQ", 10, 0, {{9, false}, {10, true}, {11, false}});
}}};
Register op_ne{{"seccomp_operator_ne", "config-linux.md#seccomp", "", [](Ctx& ctx) {
  CheckOperator(ctx, "SCMP_CMP_NE", 10, 0, {{9, true}, {10, false}, {11, true}});
}}};
Register op_lt{{"seccomp_operator_lt", "config-linux.md#seccomp", "", [](Ctx& ctx) {
  CheckOperator(ctx, "SCMP_CMP_LT", 10, 0, {{9, true}, {10, false}, {11, false}});
}}};
Register op_le{{"seccomp_operator_le", "config-linux.md#seccomp", "", [](Ctx& ctx) {
  CheckOperator(ctx, "SCMP_CMP_LE", 10, 0, {{9, true}, {10, true}, {11, false}});
}}};
Register op_gt{{"seccomp_operator_gt", "config-linux.md#seccomp", "", [](Ctx& ctx) {
  CheckOperator(ctx, "SCMP_CMP_GT", 10, 0, {{9, false}, {10, false}, {11, true}});
}}};
Register op_ge{{"seccomp_operator_ge", "config-linux.md#seccomp", "", [](Ctx& ctx) {
  CheckOperator(ctx, "SCMP_CMP_GE", 10, 0, {{9, false}, {10, true}, {11, true}});
}}};
Register op_masked_eq{{"seccomp_operator_masked_eq", "config-linux.md#seccomp", "",
                       [](Ctx& ctx) {
  // (arg & 0xf0) == 0x20
  CheckOperator(ctx, "SCMP_CMP_MASKED_EQ", 0xf0, 0x20, {{0x25, true}, {0x35, false}, {0x20, true}});
}}};

Register args_grouping{{
    "seccomp_args_and_or", "config-linux.md#seccomp",
    "",
    [](Ctx& ctx) {
      // Conditions on different arguments all hold (AND); two on the same argument are
      // separate rules (OR), as runc has always done and Docker's profiles rely on.
      ctx.Set("/linux/seccomp", R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
          {"names": ["sched_yield"], "action": "SCMP_ACT_ERRNO", "errnoRet": 42,
           "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
                    {"index": 1, "value": 2, "op": "SCMP_CMP_EQ"}]},
          {"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 43,
           "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
                    {"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}]}]})");
      std::string y = N(SYS_sched_yield), p = N(SYS_getppid);
      std::vector<Call> got = Syscalls(ctx, {y + ",1,2", y + ",1,3", y + ",2,2", p + ",1",
                                             p + ",2", p + ",3"});
      Check(got[0].err == 42, "AND: (1,2) did not match");
      Check(got[1].err == 0 && got[2].err == 0, "AND: a half match matched");
      Check(got[3].err == 43 && got[4].err == 43, "OR: arg0 1 or 2 did not match");
      Check(got[5].err == 0, "OR: arg0 3 matched");
    }}};

Register unknown_names{{
    "seccomp_unknown_syscall_name", "config-linux.md#seccomp",
    "",
    [](Ctx& ctx) {
      // A name libseccomp does not know (a newer syscall, another OS) is skipped; the
      // rest of the entry still applies.
      ctx.Set("/linux/seccomp", R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
          {"names": ["no_such_syscall_anywhere", "sched_yield"], "action": "SCMP_ACT_ERRNO",
           "errnoRet": 42}]})");
      std::vector<Call> got = Syscalls(ctx, {N(SYS_sched_yield)});
      Check(got[0].err == 42, "sched_yield not refused: errno " + Str(got[0].err));
    }}};

Register getcwd_denied{{
    "seccomp_getcwd_denied_without_nnp", "config-linux.md#seccomp",
    "runtime-tools' linux_seccomp profile; runc 1.1.5 and crun call getcwd after loading the "
    "filter and fail create",
    [](Ctx& ctx) {
      // The container's program is what the profile is for, not the runtime's init.
      ctx.Set("/process/noNewPrivileges", "false");
      ctx.Set("/linux/seccomp", R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
          {"names": ["getcwd"], "action": "SCMP_ACT_ERRNO"}]})");
      std::vector<Call> got = Syscalls(ctx, {N(SYS_getcwd) + ",0,0"});
      Check(got[0].err == EPERM, "getcwd in the container: errno " + Str(got[0].err));
    }}};

Register errno_on_wrong_action{{
    "seccomp_errnoret_needs_errno_action", "config-linux.md#seccomp",
    "runc and crun ignore errnoRet on actions without an errno; the spec says MUST fail",
    [](Ctx& ctx) {
      ctx.Set("/linux/seccomp", R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
          {"names": ["sched_yield"], "action": "SCMP_ACT_KILL", "errnoRet": 5}]})");
      ctx.SetArgs({"/bin/true"});
      CmdResult r = ctx.Create();
      Check(!r.ok(), "create accepted errnoRet on SCMP_ACT_KILL");
    }}};

void CheckFlags(Ctx& ctx, const std::string& flags, const std::string& extra = "") {
  ctx.Set("/linux/seccomp", R"({"defaultAction": "SCMP_ACT_ALLOW", "flags": )" + flags + extra +
                                R"(, "syscalls": [{"names": ["sched_yield"], "action":
      "SCMP_ACT_ERRNO", "errnoRet": 42}]})");
  std::vector<Call> got = Syscalls(ctx, {N(SYS_sched_yield)});
  Check(got[0].err == 42, "filter with flags " + flags + " not in force: " + Str(got[0].err));
}

constexpr char kRuncFlags[] = "runc 1.1.5 refuses every seccomp flag (\"not yet supported\"; runc 1.2 has them)";
Register flag_log{{"seccomp_flag_log", "config-linux.md#seccomp", kRuncFlags, [](Ctx& ctx) {
  CheckFlags(ctx, R"(["SECCOMP_FILTER_FLAG_LOG"])");
}}};
Register flag_spec_allow{{"seccomp_flag_spec_allow", "config-linux.md#seccomp", kRuncFlags,
                          [](Ctx& ctx) { CheckFlags(ctx, R"(["SECCOMP_FILTER_FLAG_SPEC_ALLOW"])"); }}};
Register flag_tsync{{"seccomp_flag_tsync", "config-linux.md#seccomp", kRuncFlags, [](Ctx& ctx) {
  CheckFlags(ctx, R"(["SECCOMP_FILTER_FLAG_TSYNC"])");
}}};

// The notify agent, started for one case and stopped when it ends.
class AgentProcess {
 public:
  explicit AgentProcess(Ctx& ctx)
      : socket_(ctx.MakeDir("agent") + "/agent.sock"),
        log_(ctx.bundle() + "/agent/agent.log"),
        process_({std::string(HUSK_CONF_BUILD_DIR) + "/conformance/husk-seccomp-agent", socket_,
                  log_}) {
    for (int i = 0; i < 300 && !std::filesystem::exists(socket_); ++i) SleepMs(10);
    if (!std::filesystem::exists(socket_)) Fail("harness: the seccomp agent did not start");
  }
  const std::string& socket() const { return socket_; }
  std::string Log() const { return ReadFileOr(log_); }

 private:
  std::string socket_, log_;
  husk::testing::BackgroundProcess process_;
};

void CheckNotify(Ctx& ctx, bool nnp, const std::string& flags) {
  AgentProcess agent(ctx);
  ctx.Set("/process/noNewPrivileges", nnp ? "true" : "false");
  ctx.Set("/annotations", R"({"org.example.key": "v"})");
  ctx.Set("/linux/seccomp", R"({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": ")" +
                                agent.socket() + R"(", "listenerMetadata": "meta")" + flags +
                                R"(, "syscalls": [{"names": ["mkdir", "mkdirat"],
      "action": "SCMP_ACT_NOTIFY"}]})");
  ctx.SetArgs({"/bin/sh", "-c", "mkdir /dev/shm/n && echo mkdir-ok; test -d /dev/shm/n || "
                                "echo not-created"});
  ctx.MustCreate();
  ctx.MustStart();
  ctx.WaitExit();
  std::string out = ctx.ContainerOut();
  Check(out == "mkdir-ok\nnot-created\n",
        "the agent's answer did not reach the container: '" + out + "' " + ctx.ContainerErr() +
            " agent log: " + agent.Log());
  std::string log = agent.Log();
  size_t at = log.find("state ");
  Check(at != std::string::npos, "the agent got no state: " + log);
  rapidjson::Document st;
  Check(ParseJson(log.substr(at + 6, log.find('\n', at) - at - 6), &st), "state JSON: " + log);
  Check(GetString(st, "/fds/0") == "seccompFd", "fds[0] is not seccompFd: " + log);
  Check(GetString(st, "/metadata") == "meta", "metadata: " + log);
  Check(GetString(st, "/state/id") == ctx.id(), "state.id: " + log);
  Check(GetString(st, "/state/bundle") == ctx.bundle(), "state.bundle: " + log);
  Check(GetInt(st, "/pid", -1) == ctx.Pid() && GetInt(st, "/state/pid", -1) == ctx.Pid(),
        "pid is not the init's host pid " + Str(ctx.Pid()) + ": " + log);
  Check(GetString(st, "/state/annotations/org.example.key") == "v", "annotations: " + log);
  Check(log.find("fds 1\n") != std::string::npos, "not exactly one fd: " + log);
}

Register notify{{"seccomp_notify_listener", "config-linux.md#seccomp", "",
                 [](Ctx& ctx) { CheckNotify(ctx, false, ""); }}};
Register notify_nnp{{"seccomp_notify_listener_no_new_privileges", "config-linux.md#seccomp", "",
                     [](Ctx& ctx) { CheckNotify(ctx, true, ""); }}};
Register notify_wait_killable{{
    "seccomp_flag_wait_killable_recv", "config-linux.md#seccomp",
    "runc 1.1.5 refuses every seccomp flag; later runc needs libseccomp >= 2.6 for this one",
    [](Ctx& ctx) {
      CheckNotify(ctx, false, R"(, "flags": ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"])");
    }}};

Register notify_no_agent{{
    "seccomp_notify_listener_unreachable", "config-linux.md#seccomp",
    "",
    [](Ctx& ctx) {
      // "If sending to this socket fails, the runtime MUST generate an error."
      ctx.Set("/linux/seccomp", R"({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": ")" +
                                    ctx.bundle() + R"(/nobody.sock", "syscalls": [{"names":
          ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]})");
      ctx.SetArgs({"/bin/true"});
      CmdResult r = ctx.Create();
      Check(!r.ok(), "create succeeded without an agent to send the seccomp fd to");
      Check(!ctx.State().ok(), "a failed create left a container behind");
    }}};

// The engines' default profiles, converted as each engine does for amd64.
void CheckEngineProfile(Ctx& ctx, const std::string& fixture, int default_errno,
                        const std::vector<std::string>& caps) {
  std::string json = husk::testing::EngineProfileToOci(
      husk::testing::SeccompFixture(HUSK_CONF_SOURCE_DIR, fixture), caps);
  ctx.Set("/linux/seccomp", json);
  std::vector<Call> got =
      Syscalls(ctx, {N(SYS_getpid), N(SYS_add_key), N(SYS_personality) + ",0xffffffff",
                     N(SYS_personality) + ",0x1234", "1000"});
  Check(got[0].err == 0, "getpid refused");
  Check(got[1].err == default_errno, "add_key: errno " + Str(got[1].err) + ", want the default " +
                                         Str(default_errno));
  Check(got[2].err == 0, "personality(0xffffffff) refused");
  Check(got[3].err == default_errno, "personality(0x1234): errno " + Str(got[3].err));
  Check(got[4].err == ENOSYS,
        "a syscall newer than the profile must fail with ENOSYS (runc's -ENOSYS stub), got " +
            Str(got[4].err));
}

Register docker_profile{{
    "seccomp_docker_default_profile", "config-linux.md#seccomp",
    "crun 1.8.1 has no -ENOSYS stub: syscalls newer than the profile get the default errno",
    [](Ctx& ctx) {
      CheckEngineProfile(ctx, "docker-default.json", EPERM, husk::testing::DockerDefaultCaps());
    }}};
Register podman_profile{{
    "seccomp_podman_default_profile", "config-linux.md#seccomp",
    "",
    [](Ctx& ctx) {
      CheckEngineProfile(ctx, "podman-default.json", ENOSYS, {"CAP_CHOWN", "CAP_KILL"});
    }}};

}  // namespace
}  // namespace husk::conformance
