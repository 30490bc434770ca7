// husk's command line, runc's grammar: `husk [global flags] COMMAND [flags] [ID] [args]`.
// Turns argv into an Invocation (which command, with which options) or a user-facing
// error. Pure: never prints, never exits, reads no process state except through ParseEnv.
// Doing the work is dispatch.h's job. Parent process only.
#ifndef HUSK_RUNTIME_CLI_PARSE_H_
#define HUSK_RUNTIME_CLI_PARSE_H_

#include <sys/types.h>

#include <csignal>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/base/log.h"
#include "runtime/container.h"

namespace husk::cli {

enum class Command {
  kHelp,  // -h/--help, `help [command]`, or bare `husk`
  kVersion,
  kCreate,
  kStart,
  kState,
  kKill,
  kDelete,
  kRun,
  kList,
  kSpec,
  kFeatures,
  kPause,
  kResume,
  kUpdate,
  kPs,
  kEvents,
  kExec,
};

struct LogOptions {
  std::string path;  // empty = stderr
  log::Format format = log::Format::kText;
  bool debug = false;
};

struct Invocation {
  Command command = Command::kHelp;
  GlobalOptions global;
  LogOptions log;

  // kHelp: which command's usage ("" = the overview), and whether it goes to stderr
  // (bare `husk`: help nobody asked for stays off stdout).
  std::string help_topic;
  bool help_to_stderr = false;

  std::string id;        // start, state, kill, delete (create/run: run.create.id as well)
  RunOptions run;        // create uses run.create only
  int signal = SIGTERM;  // kill
  bool all = false;      // kill --all
  bool force = false;    // delete --force
  ListFormat list_format = ListFormat::kTable;
  bool quiet = false;       // list --quiet
  std::string spec_bundle;  // spec --bundle; empty = cwd
  bool spec_rootless = false;
  UpdateOptions update;  // update
  PsOptions ps;          // ps (id in ps.id)
  EventsOptions events;  // events (id in events.id)
  ExecOptions exec;      // exec (id in exec.id)
};

// What the defaults depend on, gathered once so parsing stays a pure function.
struct ParseEnv {
  std::string cwd;  // for making --root absolute
  uid_t euid = 0;
  bool in_user_namespace = false;  // /proc/self/uid_map is not the identity map
  std::string xdg_runtime_dir;     // empty when unset or set to "" (rootful podman)
  std::string user;                // $USER

  static ParseEnv FromProcess();
};

// The default --root. Like runc: $XDG_RUNTIME_DIR/husk for an unprivileged user, or for
// euid 0 inside a user namespace unless USER=root (rootless podman runs `state`/`kill`
// with nothing but XDG_RUNTIME_DIR set); /run/husk otherwise.
std::string DefaultRoot(const ParseEnv& env);

// Finds --log/--log-format/--debug among the global flags without judging anything else,
// so even a usage error can be reported in the caller's log (cli-contract.md §3, §8.1).
// Last one wins; an invalid --log-format yields kText (the full parse reports it).
LogOptions PreScanLog(const std::vector<std::string>& args);

// args excludes argv[0]. Error messages are the text the user sees.
absl::StatusOr<Invocation> ParseCommandLine(const std::vector<std::string>& args,
                                            const ParseEnv& env);

// Help text in urfave/cli's layout, as runc prints it: for `topic` (a command name, or
// "help") NAME / USAGE / OPTIONS; for "" the overview NAME / USAGE / VERSION / COMMANDS /
// GLOBAL OPTIONS. Ends in "\n".
std::string UsageText(absl::string_view topic);

// The --version text: three lines, the first "husk version X" (go-runc and Docker parse it).
std::string VersionText();

// `help TOPIC` with an unknown topic: urfave/cli's "No help topic for 'TOPIC'", exit 3.
inline constexpr int kHelpTopicExitCode = 3;
// What `exec` exits with when the runtime fails (runc's fatalWithCode(..., 255)).
inline constexpr int kExecFailureExitCode = 255;
// Attaches the exit code a failure exits with (a Status payload); ExitCodeOf reads it
// back: 1 when none is attached, 0 for OK.
absl::Status WithExitCode(absl::Status status, int code);
int ExitCodeOf(const absl::Status& status);

}  // namespace husk::cli

#endif  // HUSK_RUNTIME_CLI_PARSE_H_
