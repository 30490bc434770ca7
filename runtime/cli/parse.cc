#include "runtime/cli/parse.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "runtime/base/fs.h"
#include "runtime/base/status.h"
#include "runtime/cli/duration.h"
#include "runtime/cli/exec_flags.h"
#include "runtime/cli/flags.h"
#include "runtime/cli/signal.h"
#include "runtime/cli/update_flags.h"

#ifndef HUSK_VERSION
#define HUSK_VERSION "unknown"
#endif
#ifndef HUSK_COMMIT
#define HUSK_COMMIT "unknown"
#endif

namespace husk::cli {
namespace {

using K = FlagKind;

constexpr FlagDef kGlobalFlags[] = {
    {"root", "", K::kValue},          {"log", "", K::kValue},
    {"log-format", "", K::kValue},    {"debug", "", K::kBool},
    {"systemd-cgroup", "", K::kBool}, {"rootless", "", K::kValue},
    {"criu", "", K::kValue},          {"cgroup-manager", "", K::kValue},
    {"version", "v", K::kBool},       {"help", "h", K::kBool},
};

constexpr FlagDef kHelpOnly[] = {{"help", "h", K::kBool}};

constexpr FlagDef kCreateFlags[] = {
    {"bundle", "b", K::kValue},        {"pid-file", "", K::kValue},
    {"console-socket", "", K::kValue}, {"no-pivot", "", K::kBool},
    {"no-new-keyring", "", K::kBool},  {"preserve-fds", "", K::kValue},
    {"no-subreaper", "", K::kBool},  // crun's; create never becomes a subreaper anyway
    {"help", "h", K::kBool},
};

constexpr FlagDef kRunFlags[] = {
    {"bundle", "b", K::kValue},
    {"pid-file", "", K::kValue},
    {"console-socket", "", K::kValue},
    {"no-pivot", "", K::kBool},
    {"no-new-keyring", "", K::kBool},
    {"preserve-fds", "", K::kValue},
    {"no-subreaper", "", K::kBool},
    {"detach", "d", K::kBool},
    {"keep", "", K::kBool},
    {"help", "h", K::kBool},
};

constexpr FlagDef kKillFlags[] = {{"all", "a", K::kBool}, {"help", "h", K::kBool}};
constexpr FlagDef kDeleteFlags[] = {{"force", "f", K::kBool}, {"help", "h", K::kBool}};
constexpr FlagDef kListFlags[] = {
    {"format", "f", K::kValue}, {"quiet", "q", K::kBool}, {"help", "h", K::kBool}};
constexpr FlagDef kPsFlags[] = {{"format", "f", K::kValue}, {"help", "h", K::kBool}};
constexpr FlagDef kEventsFlags[] = {
    {"stats", "", K::kBool}, {"interval", "", K::kValue}, {"help", "h", K::kBool}};
constexpr FlagDef kSpecFlags[] = {
    {"bundle", "b", K::kValue}, {"rootless", "", K::kBool}, {"help", "h", K::kBool}};


constexpr OptionHelp kCreateHelp[] = {
    {"--bundle value, -b value", "bundle directory (default: the current directory)"},
    {"--console-socket value", "send the pty master to this AF_UNIX socket"},
    {"--pid-file value", "write the init's host pid to this file"},
    {"--no-pivot", "use MS_MOVE+chroot instead of pivot_root"},
    {"--no-new-keyring", "keep the caller's session keyring"},
    {"--preserve-fds value", "pass N more fds (from fd 3) to the container (default: 0)"},
};
constexpr OptionHelp kRunHelp[] = {
    {"--bundle value, -b value", "bundle directory (default: the current directory)"},
    {"--console-socket value", "send the pty master to this AF_UNIX socket"},
    {"--detach, -d", "exit once the container has started"},
    {"--keep", "do not delete the container after it exits"},
    {"--pid-file value", "write the init's host pid to this file"},
    {"--no-subreaper", "do not become a subreaper"},
    {"--no-pivot", "use MS_MOVE+chroot instead of pivot_root"},
    {"--no-new-keyring", "keep the caller's session keyring"},
    {"--preserve-fds value", "pass N more fds (from fd 3) to the container (default: 0)"},
};
constexpr OptionHelp kKillHelp[] = {
    {"--all, -a", "send the signal to every process in the container's cgroup"}};
constexpr OptionHelp kDeleteHelp[] = {
    {"--force, -f", "kill the container first if it is still running"}};
constexpr OptionHelp kListHelp[] = {
    {"--format value, -f value", "output format: table or json (default: \"table\")"},
    {"--quiet, -q", "print only the container IDs"},
};
constexpr OptionHelp kSpecHelp[] = {
    {"--bundle value, -b value", "bundle directory (default: the current directory)"},
    {"--rootless", "a configuration for unprivileged users"},
};
constexpr OptionHelp kPsHelp[] = {
    {"--format value, -f value", "output format: table or json (default: \"table\")"}};
constexpr OptionHelp kEventsHelp[] = {
    {"--interval value", "time between stats objects (default: 5s)"},
    {"--stats", "print the container's stats once, then exit"},
};
constexpr OptionHelp kGlobalHelp[] = {
    {"--debug", "enable debug logging"},
    {"--log value", "append log lines to this file (default: stderr)"},
    {"--log-format value", "log line format: text or json (default: \"text\")"},
    {"--root value",
     "state directory (default: \"/run/husk\", or $XDG_RUNTIME_DIR/husk when unprivileged)"},
    {"--criu value", "accepted for compatibility; checkpoint/restore is not supported"},
    {"--systemd-cgroup", "manage cgroups through systemd (cgroupsPath \"slice:prefix:name\")"},
    {"--cgroup-manager value", "cgroupfs or systemd (crun's flag)"},
    {"--rootless value", "rootless cgroup handling: true, false or auto (default: \"auto\")"},
    {"--help, -h", "show help"},
    {"--version, -v", "print the version"},
};

struct CommandDef {
  absl::string_view name;
  Command command;
  absl::Span<const FlagDef> flags;
  absl::string_view synopsis;  // after "husk <name> "
  absl::string_view summary;
  absl::Span<const OptionHelp> options;
};

constexpr CommandDef kCommands[] = {
    {"create", Command::kCreate, kCreateFlags, "[command options] <container-id>",
     "create a container from a bundle; it waits for `start`", kCreateHelp},
    {"start", Command::kStart, kHelpOnly, "<container-id>",
     "run the user process of a created container"},
    {"state", Command::kState, kHelpOnly, "<container-id>",
     "print the state of a container as JSON"},
    {"kill", Command::kKill, kKillFlags, "[command options] <container-id> [signal]",
     "send a signal (default: SIGTERM) to the container's init", kKillHelp},
    {"delete", Command::kDelete, kDeleteFlags, "[command options] <container-id>",
     "delete a container and everything it holds", kDeleteHelp},
    {"run", Command::kRun, kRunFlags, "[command options] <container-id>",
     "create and start a container", kRunHelp},
    {"list", Command::kList, kListFlags, "[command options]", "list the containers under --root",
     kListHelp},
    {"spec", Command::kSpec, kSpecFlags, "[command options]",
     "write a default config.json into the bundle", kSpecHelp},
    {"pause", Command::kPause, kHelpOnly, "<container-id>",
     "freeze every process of the container"},
    {"resume", Command::kResume, kHelpOnly, "<container-id>",
     "thaw a paused container"},
    {"update", Command::kUpdate, kUpdateFlagDefs, "[command options] <container-id>",
     "change the cgroup resources of a container", kUpdateHelp},
    {"features", Command::kFeatures, kHelpOnly, "",
     "print the features this build supports as JSON"},
    {"ps", Command::kPs, kPsFlags, "[command options] <container-id> [ps options]",
     "list the processes running in a container", kPsHelp},
    {"exec", Command::kExec, kExecFlags,
     "[command options] <container-id> <command> [args...] || -p process.json <container-id>",
     "run a new process inside the container", kExecHelp},
    {"events", Command::kEvents, kEventsFlags, "[command options] <container-id>",
     "print a container's resource statistics and OOM events as JSON", kEventsHelp},
};

constexpr absl::string_view kHelpSummary = "Shows a list of commands or help for one command";

constexpr absl::string_view kUnsupportedCommands[] = {"checkpoint", "restore"};

constexpr char kSpecVersion[] = "1.3.0";
constexpr char kExitCodeUrl[] = "husk/exit-code";

// Rows indented by 3, the first column padded to the widest plus 2 (urfave/cli's
// tabwriter layout).
std::string HelpTable(absl::Span<const OptionHelp> rows) {
  size_t width = 0;
  for (const OptionHelp& row : rows) width = std::max(width, row.flags.size());
  std::string text;
  for (const OptionHelp& row : rows) {
    absl::StrAppend(&text, "   ", row.flags, std::string(width - row.flags.size() + 2, ' '),
                    row.usage, "\n");
  }
  return text;
}

const CommandDef* FindCommand(absl::string_view name) {
  for (const CommandDef& def : kCommands) {
    if (def.name == name) return &def;
  }
  return nullptr;
}

absl::Status UsageError(absl::string_view message) { return absl::InvalidArgumentError(message); }

absl::Status CheckArgCount(absl::string_view command, const std::vector<std::string>& args,
                           size_t min, size_t max) {
  if (min == max && args.size() != min) {
    return UsageError(absl::StrCat(Quote(command), " requires exactly ", min, " argument(s)"));
  }
  if (args.size() < min) {
    return UsageError(absl::StrCat(Quote(command), " requires a minimum of ", min, " argument(s)"));
  }
  if (args.size() > max) {
    return UsageError(absl::StrCat(Quote(command), " requires a maximum of ", max, " argument(s)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<log::Format> ParseLogFormat(absl::string_view value) {
  if (value == "text") return log::Format::kText;
  if (value == "json") return log::Format::kJson;
  return UsageError(absl::StrCat("invalid log-format ", Quote(value), ": must be text or json"));
}

absl::Status ApplyGlobalFlags(const ScanResult& flags, const ParseEnv& env, Invocation& inv) {
  if (auto format = flags.Value("log-format")) {
    ASSIGN_OR_RETURN(inv.log.format, ParseLogFormat(*format));
  }
  inv.log.path = flags.Value("log").value_or("");
  inv.log.debug = flags.Bool("debug");

  if (auto root = flags.Value("root")) {
    if (root->empty()) return UsageError("invalid --root \"\": must not be empty");
    inv.global.root = AbsoluteTo(env.cwd, *root);
  } else {
    inv.global.root = DefaultRoot(env);
  }

  inv.global.systemd_cgroup = flags.Bool("systemd-cgroup");
  if (auto manager = flags.Value("cgroup-manager")) {
    // crun's extension; podman sends `--cgroup-manager disabled` for --cgroups=disabled.
    if (*manager == "systemd") {
      inv.global.systemd_cgroup = true;
    } else if (*manager == "disabled") {
      return UsageError("--cgroup-manager \"disabled\" is not supported yet");
    } else if (*manager != "cgroupfs") {
      return UsageError(absl::StrCat("invalid --cgroup-manager ", Quote(*manager),
                                     ": must be cgroupfs, systemd or disabled"));
    }
  }

  if (auto rootless = flags.Value("rootless")) {
    if (*rootless == "auto") {
      inv.global.rootless = "auto";
    } else if (std::optional<bool> value = ParseBool(*rootless)) {
      inv.global.rootless = *value ? "true" : "false";
    } else {
      return UsageError(absl::StrCat("invalid --rootless value ", Quote(*rootless),
                                     ": must be true, false or auto"));
    }
  }
  // --criu is accepted for go-runc's sake and ignored: no checkpoint/restore yet.
  return absl::OkStatus();
}

absl::Status ApplyCreateFlags(const ScanResult& flags, const ParseEnv& env, CreateOptions& create) {
  create.bundle = AbsoluteTo(env.cwd, flags.Value("bundle").value_or("."));
  if (auto pid_file = flags.Value("pid-file"); pid_file && !pid_file->empty()) {
    // Relative to the caller's cwd, never the bundle (cli-contract.md §2.1).
    create.pid_file = AbsoluteTo(env.cwd, *pid_file);
  }
  // Left as given: sun_path holds only 108 bytes, so do not lengthen it.
  create.console_socket = flags.Value("console-socket").value_or("");
  create.no_pivot = flags.Bool("no-pivot");
  create.no_new_keyring = flags.Bool("no-new-keyring");
  return ParsePreserveFds(flags, &create.preserve_fds);
}


absl::StatusOr<std::string> TakeId(absl::string_view command, const std::vector<std::string>& args,
                                   size_t max) {
  RETURN_IF_ERROR(CheckArgCount(command, args, 1, max));
  RETURN_IF_ERROR(ValidateContainerId(args[0]));
  return args[0];
}

absl::Status ApplyCommand(const CommandDef& def, const ScanResult& flags, const ParseEnv& env,
                          Invocation& inv) {
  const std::vector<std::string>& args = flags.positionals;
  switch (def.command) {
    case Command::kCreate:
    case Command::kRun: {
      ASSIGN_OR_RETURN(inv.id, TakeId(def.name, args, 1));
      inv.run.create.id = inv.id;
      RETURN_IF_ERROR(ApplyCreateFlags(flags, env, inv.run.create));
      inv.run.detach = flags.Bool("detach");
      inv.run.keep = flags.Bool("keep");
      inv.run.no_subreaper = flags.Bool("no-subreaper");
      return absl::OkStatus();
    }
    case Command::kUpdate: {
      ASSIGN_OR_RETURN(inv.id, TakeId(def.name, args, 1));
      return ApplyUpdateFlags(flags, inv.update);
    }
    case Command::kStart:
    case Command::kPause:
    case Command::kResume:
    case Command::kState: {
      ASSIGN_OR_RETURN(inv.id, TakeId(def.name, args, 1));
      return absl::OkStatus();
    }
    case Command::kKill: {
      ASSIGN_OR_RETURN(inv.id, TakeId(def.name, args, 2));
      if (args.size() == 2) {
        ASSIGN_OR_RETURN(inv.signal, ParseSignal(args[1]));
      }
      inv.all = flags.Bool("all");
      return absl::OkStatus();
    }
    case Command::kDelete: {
      ASSIGN_OR_RETURN(inv.id, TakeId(def.name, args, 1));
      inv.force = flags.Bool("force");
      return absl::OkStatus();
    }
    case Command::kList: {
      RETURN_IF_ERROR(CheckArgCount(def.name, args, 0, 0));
      std::string format = flags.Value("format").value_or("table");
      if (format == "table") {
        inv.list_format = ListFormat::kTable;
      } else if (format == "json") {
        inv.list_format = ListFormat::kJson;
      } else {
        return UsageError(
            absl::StrCat("invalid format option ", Quote(format), ": must be table or json"));
      }
      inv.quiet = flags.Bool("quiet");
      return absl::OkStatus();
    }
    case Command::kSpec: {
      RETURN_IF_ERROR(CheckArgCount(def.name, args, 0, 0));
      inv.spec_bundle = AbsoluteTo(env.cwd, flags.Value("bundle").value_or("."));
      inv.spec_rootless = flags.Bool("rootless");
      return absl::OkStatus();
    }
    case Command::kFeatures:
      return CheckArgCount(def.name, args, 0, 0);
    case Command::kPs: {
      // Everything after the ID is for the host's ps (runc's SkipArgReorder).
      ASSIGN_OR_RETURN(inv.id, TakeId(def.name, args, SIZE_MAX));
      inv.ps.id = inv.id;
      inv.ps.ps_args.assign(args.begin() + 1, args.end());
      std::string format = flags.Value("format").value_or("table");
      if (format != "table" && format != "json") return UsageError("invalid format option");
      inv.ps.format = format == "json" ? PsFormat::kJson : PsFormat::kTable;
      return absl::OkStatus();
    }
    case Command::kEvents: {
      ASSIGN_OR_RETURN(inv.id, TakeId(def.name, args, 1));
      inv.events.id = inv.id;
      inv.events.stats = flags.Bool("stats");
      if (auto interval = flags.Value("interval")) {
        absl::StatusOr<int64_t> ns = ParseGoDuration(*interval);
        if (!ns.ok()) {
          return UsageError(
              absl::StrCat("invalid value ", Quote(*interval), " for flag -interval: parse error"));
        }
        inv.events.interval_ns = *ns;
      }
      return absl::OkStatus();
    }
    case Command::kExec: {
      // runc stops reading exec's flags at the ID: what follows is the command's.
      ASSIGN_OR_RETURN(inv.id, TakeId(def.name, args, SIZE_MAX));
      inv.exec.id = inv.id;
      RETURN_IF_ERROR(ApplyExecFlags(flags, env.cwd, inv.exec));
      inv.exec.args.assign(args.begin() + 1, args.end());
      if (inv.exec.args.empty() && inv.exec.process_file.empty()) {
        return UsageError("exec args cannot be empty");
      }
      return absl::OkStatus();
    }
    case Command::kHelp:
    case Command::kVersion:
      break;
  }
  return absl::InternalError(absl::StrCat("command ", Quote(def.name), " has no parser"));
}

}  // namespace

ParseEnv ParseEnv::FromProcess() {
  ParseEnv env;
  if (char* cwd = getcwd(nullptr, 0)) {
    env.cwd = cwd;
    free(cwd);
  } else {
    env.cwd = "/";  // deleted cwd: only relative --root/--bundle would need it
  }
  env.euid = geteuid();
  if (const char* xdg = getenv("XDG_RUNTIME_DIR")) env.xdg_runtime_dir = xdg;
  if (const char* user = getenv("USER")) env.user = user;
  // The initial user namespace maps all 2^32-1 ids onto themselves.
  int fd = open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    char buf[256];
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    unsigned long long inside = 0, outside = 0, count = 0;
    if (n > 0) {
      buf[n] = '\0';
      if (sscanf(buf, "%llu %llu %llu", &inside, &outside, &count) == 3) {
        env.in_user_namespace = !(inside == 0 && outside == 0 && count == 4294967295ull);
      }
    }
  }
  return env;
}

std::string DefaultRoot(const ParseEnv& env) {
  bool use_xdg = !env.xdg_runtime_dir.empty() &&
                 (env.euid != 0 || (env.in_user_namespace && env.user != "root"));
  if (use_xdg) return AbsoluteTo("/", absl::StrCat(env.xdg_runtime_dir, "/husk"));
  return "/run/husk";
}

LogOptions PreScanLog(const std::vector<std::string>& args) {
  LogOptions options;
  for (size_t i = 0; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    if (arg == "--" || FindCommand(arg) != nullptr) break;  // global flags end here
    if (arg.size() < 2 || arg[0] != '-') continue;          // e.g. an unknown flag's value
    absl::string_view body = arg.substr(arg[1] == '-' ? 2 : 1);
    std::optional<absl::string_view> value;
    if (size_t eq = body.find('='); eq != absl::string_view::npos) {
      value = body.substr(eq + 1);
      body = body.substr(0, eq);
    }
    if (body == "debug") {
      options.debug = !value || ParseBool(*value).value_or(false);
      continue;
    }
    if (body != "log" && body != "log-format") {
      // Skip the value of a known value flag so `--root create` style values can't stop
      // the scan early; unknown flags are left to the full parse.
      const FlagDef* def = nullptr;
      for (const FlagDef& d : kGlobalFlags) {
        if (d.name == body || d.alias == body) def = &d;
      }
      if (def != nullptr && def->kind == FlagKind::kValue && !value) ++i;
      continue;
    }
    if (!value) {
      if (i + 1 >= args.size()) break;
      value = args[++i];
    }
    if (body == "log") {
      options.path = std::string(*value);
    } else {
      options.format = ParseLogFormat(*value).value_or(log::Format::kText);
    }
  }
  return options;
}

absl::StatusOr<Invocation> ParseCommandLine(const std::vector<std::string>& args,
                                            const ParseEnv& env) {
  Invocation inv;
  ASSIGN_OR_RETURN(ScanResult globals, ScanFlags(kGlobalFlags, args, ScanMode::kUntilPositional));
  RETURN_IF_ERROR(ApplyGlobalFlags(globals, env, inv));

  if (globals.Bool("version")) {
    inv.command = Command::kVersion;
    return inv;
  }
  const std::vector<std::string>& rest = globals.positionals;
  if (globals.Bool("help") || rest.empty()) {
    inv.command = Command::kHelp;
    inv.help_to_stderr = !globals.Bool("help");
    return inv;
  }

  absl::string_view name = rest[0];
  if (name == "help" || name == "h") {
    inv.command = Command::kHelp;
    if (rest.size() > 1) {
      absl::string_view topic = rest[1];
      if (FindCommand(topic) == nullptr && topic != "help" && topic != "h") {
        // urfave/cli's text and exit status, as `runc help FOO` gives them.
        return WithExitCode(UsageError(absl::StrCat("No help topic for '", topic, "'")),
                            kHelpTopicExitCode);
      }
      inv.help_topic = topic == "h" ? "help" : std::string(topic);
    }
    return inv;
  }
  for (absl::string_view unsupported : kUnsupportedCommands) {
    if (name == unsupported) {
      return absl::UnimplementedError(
          absl::StrCat("husk: command ", Quote(name), " is not supported yet"));
    }
  }
  const CommandDef* def = FindCommand(name);
  if (def == nullptr) return UsageError(absl::StrCat("unknown command ", Quote(name)));

  ASSIGN_OR_RETURN(ScanResult flags,
                   ScanFlags(def->flags, absl::MakeConstSpan(rest).subspan(1),
                             def->command == Command::kPs || def->command == Command::kExec
                                 ? ScanMode::kUntilPositional
                                 : ScanMode::kInterleaved));
  if (flags.Bool("help")) {
    inv.command = Command::kHelp;
    inv.help_topic = std::string(def->name);
    return inv;
  }
  inv.command = def->command;
  RETURN_IF_ERROR(ApplyCommand(*def, flags, env, inv));
  return inv;
}

std::string VersionText() {
  return absl::StrCat("husk version ", HUSK_VERSION, "\ncommit: ", HUSK_COMMIT,
                      "\nspec: ", kSpecVersion, "\n");
}

std::string UsageText(absl::string_view topic) {
  if (topic == "help") {
    return absl::StrCat("NAME:\n   husk help - ", kHelpSummary,
                        "\n\nUSAGE:\n   husk help [command]\n");
  }
  if (const CommandDef* def = FindCommand(topic)) {
    std::string text =
        absl::StrCat("NAME:\n   husk ", def->name, " - ", def->summary, "\n\nUSAGE:\n   husk ",
                     def->name, def->synopsis.empty() ? "" : " ", def->synopsis, "\n");
    if (!def->options.empty()) {
      absl::StrAppend(&text, "\nOPTIONS:\n", HelpTable(def->options));
    }
    return text;
  }
  // urfave/cli's application help, as `runc --help` prints it.
  std::vector<OptionHelp> commands;
  for (const CommandDef& def : kCommands) commands.push_back({def.name, def.summary});
  commands.push_back({"help, h", kHelpSummary});
  std::string full_version = VersionText();
  absl::string_view version = full_version;
  absl::ConsumePrefix(&version, "husk version ");
  return absl::StrCat(
      "NAME:\n"
      "   husk - an OCI container runtime with runc's command line\n\n"
      "husk runs containers from OCI bundles: a directory holding config.json and the\n"
      "root filesystem. It speaks runc's commands, flags, outputs and error texts, so\n"
      "containerd, Docker, Podman/conmon and scripts written for runc can drive it.\n\n"
      "To start a new instance of a container:\n\n"
      "    # husk run [ -b bundle ] <container-id>\n\n"
      "USAGE:\n"
      "   husk [global options] command [command options] [arguments...]\n\n"
      "VERSION:\n   ",
      version, "\nCOMMANDS:\n", HelpTable(commands), "\nGLOBAL OPTIONS:\n", HelpTable(kGlobalHelp));
}

absl::Status WithExitCode(absl::Status status, int code) {
  status.SetPayload(kExitCodeUrl, absl::Cord(absl::StrCat(code)));
  return status;
}

int ExitCodeOf(const absl::Status& status) {
  if (status.ok()) return 0;
  int code = 1;
  if (auto payload = status.GetPayload(kExitCodeUrl)) {
    if (!absl::SimpleAtoi(std::string(*payload), &code) || code == 0) code = 1;
  }
  return code;
}

}  // namespace husk::cli
