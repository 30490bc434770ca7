// config.md "process": the user, capabilities, rlimits, console size and the Linux
// process fields, as ParseProcessAt for config.json and `exec --process`.

#include "spec/parse_members.h"

namespace husk::spec::parse_internal {

absl::Status ParseUser(const Value& v, const std::string& ptr, User* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  RETURN_IF_ERROR(Req(o, "uid", &out->uid, ToInt<uint32_t>));
  RETURN_IF_ERROR(Req(o, "gid", &out->gid, ToInt<uint32_t>));
  RETURN_IF_ERROR(Opt(o, "umask", &out->umask, ToInt<uint32_t>));
  RETURN_IF_ERROR(
      Maybe(o, "additionalGids", &out->additional_gids, ArrayOf<uint32_t>(ToInt<uint32_t>)));
  return Opt(o, "username", &out->username, ToString);
}

absl::Status ParseConsoleSize(const Value& v, const std::string& ptr, ConsoleSize* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  RETURN_IF_ERROR(Req(o, "height", &out->height, ToInt<uint32_t>));
  return Req(o, "width", &out->width, ToInt<uint32_t>);
}

absl::Status ParseCapabilities(const Value& v, const std::string& ptr, Capabilities* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  RETURN_IF_ERROR(Opt(o, "bounding", &out->bounding, kStrings));
  RETURN_IF_ERROR(Opt(o, "effective", &out->effective, kStrings));
  RETURN_IF_ERROR(Opt(o, "inheritable", &out->inheritable, kStrings));
  RETURN_IF_ERROR(Opt(o, "permitted", &out->permitted, kStrings));
  return Opt(o, "ambient", &out->ambient, kStrings);
}

absl::Status ParseRlimit(const Value& v, const std::string& ptr, Rlimit* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  RETURN_IF_ERROR(Req(o, "type", &out->type, ToString));
  RETURN_IF_ERROR(Req(o, "soft", &out->soft, ToInt<uint64_t>));
  return Req(o, "hard", &out->hard, ToInt<uint64_t>);
}

absl::Status ParseScheduler(const Value& v, const std::string& ptr, Scheduler* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  RETURN_IF_ERROR(Req(o, "policy", &out->policy, ToString));
  RETURN_IF_ERROR(Opt(o, "nice", &out->nice, ToInt<int32_t>));
  RETURN_IF_ERROR(Opt(o, "priority", &out->priority, ToInt<int32_t>));
  RETURN_IF_ERROR(Maybe(o, "flags", &out->flags, kStrings));
  RETURN_IF_ERROR(Opt(o, "runtime", &out->runtime, ToInt<uint64_t>));
  RETURN_IF_ERROR(Opt(o, "deadline", &out->deadline, ToInt<uint64_t>));
  return Opt(o, "period", &out->period, ToInt<uint64_t>);
}

absl::Status ParseIoPriority(const Value& v, const std::string& ptr, IoPriority* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  RETURN_IF_ERROR(Req(o, "class", &out->io_class, ToString));
  return Maybe(o, "priority", &out->priority, ToInt<int32_t>);
}

absl::Status ParseExecCpuAffinity(const Value& v, const std::string& ptr, ExecCpuAffinity* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  RETURN_IF_ERROR(Opt(o, "initial", &out->initial, ToString));
  return Opt(o, "final", &out->final, ToString);
}

absl::Status ParseProcessAt(const Value& v, const std::string& ptr, Process* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  RETURN_IF_ERROR(Maybe(o, "terminal", &out->terminal, ToBool));
  RETURN_IF_ERROR(Opt(o, "consoleSize", &out->console_size, ParseConsoleSize));
  // Go-generated configs always carry `user` (no omitempty), and uid/gid are REQUIRED
  // on POSIX: an absent user must not quietly mean root.
  RETURN_IF_ERROR(Req(o, "user", &out->user, ParseUser));
  RETURN_IF_ERROR(Maybe(o, "args", &out->args, kStrings));
  RETURN_IF_ERROR(Opt(o, "commandLine", &out->command_line, ToString));
  RETURN_IF_ERROR(Maybe(o, "env", &out->env, kStrings));
  RETURN_IF_ERROR(Req(o, "cwd", &out->cwd, ToString));
  RETURN_IF_ERROR(Opt(o, "capabilities", &out->capabilities, ParseCapabilities));
  RETURN_IF_ERROR(Maybe(o, "rlimits", &out->rlimits, ArrayOf<Rlimit>(ParseRlimit)));
  RETURN_IF_ERROR(Maybe(o, "noNewPrivileges", &out->no_new_privileges, ToBool));
  RETURN_IF_ERROR(Opt(o, "apparmorProfile", &out->apparmor_profile, ToString));
  RETURN_IF_ERROR(Opt(o, "oomScoreAdj", &out->oom_score_adj, ToInt<int32_t>));
  RETURN_IF_ERROR(Opt(o, "scheduler", &out->scheduler, ParseScheduler));
  RETURN_IF_ERROR(Opt(o, "selinuxLabel", &out->selinux_label, ToString));
  RETURN_IF_ERROR(Opt(o, "ioPriority", &out->io_priority, ParseIoPriority));
  return Opt(o, "execCPUAffinity", &out->exec_cpu_affinity, ParseExecCpuAffinity);
}

}  // namespace husk::spec::parse_internal
