// `exec`'s command line (runc's flags) for parse.cc: the flag and help tables and the
// conversion of scanned flags into ExecOptions; plus --preserve-fds, which create and run
// share. Pure: never prints, never exits. Parent process only.
#ifndef HUSK_RUNTIME_CLI_EXEC_FLAGS_H_
#define HUSK_RUNTIME_CLI_EXEC_FLAGS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "runtime/cli/flags.h"
#include "runtime/container.h"

namespace husk::cli {

inline constexpr FlagDef kExecFlags[] = {
    {"console-socket", "", FlagKind::kValue},
    {"pidfd-socket", "", FlagKind::kValue},
    {"cwd", "", FlagKind::kValue},
    {"env", "e", FlagKind::kValue},
    {"tty", "t", FlagKind::kBool},
    {"user", "u", FlagKind::kValue},
    {"additional-gids", "g", FlagKind::kValue},
    {"process", "p", FlagKind::kValue},
    {"detach", "d", FlagKind::kBool},
    {"pid-file", "", FlagKind::kValue},
    {"process-label", "", FlagKind::kValue},
    {"apparmor", "", FlagKind::kValue},
    {"no-new-privs", "", FlagKind::kBool},
    {"cap", "c", FlagKind::kValue},
    {"preserve-fds", "", FlagKind::kValue},
    {"cgroup", "", FlagKind::kValue},
    {"ignore-paused", "", FlagKind::kBool},
    {"help", "h", FlagKind::kBool},
};

inline constexpr OptionHelp kExecHelp[] = {
    {"--console-socket value", "send the pty master to this AF_UNIX socket"},
    {"--pidfd-socket value", "send a pidfd of the process to this AF_UNIX socket"},
    {"--cwd value", "working directory in the container"},
    {"--env value, -e value", "add an environment variable (repeatable)"},
    {"--tty, -t", "allocate a pseudo-TTY"},
    {"--user value, -u value", "UID (format: <uid>[:<gid>])"},
    {"--additional-gids value, -g value", "add a supplementary gid (repeatable)"},
    {"--process value, -p value", "a process.json to run (wins over the other flags)"},
    {"--detach, -d", "exit once the process has started"},
    {"--pid-file value", "write the process's host pid to this file"},
    {"--process-label value", "SELinux label (not supported yet: refused)"},
    {"--apparmor value", "AppArmor profile (not supported yet: refused)"},
    {"--no-new-privs", "set no_new_privs for the process"},
    {"--cap value, -c value", "add a capability to the bounding, effective and permitted sets"},
    {"--preserve-fds value", "pass N more fds (from fd 3) to the process (default: 0)"},
    {"--cgroup value", "run in a sub-cgroup of the container's: [<controller>:]<path>"},
    {"--ignore-paused", "allow exec in a paused container"},
};

// Every flag of kExecFlags into `exec` (paths made absolute against `cwd`). The ID and
// the command are the caller's (positionals).
absl::Status ApplyExecFlags(const ScanResult& flags, absl::string_view cwd, ExecOptions& exec);

// exec --user: "uid[:gid]", decimal ids only (runc never looks names up here). Ids above
// 4294967294 are refused ((uid_t)-1 means "unchanged" to the kernel).
absl::Status ParseExecUser(absl::string_view text, ExecOptions& exec);

// --preserve-fds N (create, run, exec); unset leaves *out alone.
absl::Status ParsePreserveFds(const ScanResult& flags, int* out);

}  // namespace husk::cli

#endif  // HUSK_RUNTIME_CLI_EXEC_FLAGS_H_
