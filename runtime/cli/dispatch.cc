#include "runtime/cli/dispatch.h"
#include "runtime/process/sealed_exe.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "runtime/base/log.h"
#include "runtime/base/status.h"
#include "runtime/base/unique_fd.h"
#include "runtime/container.h"
#include "runtime/kernel/seccomp.h"
#include "spec/default_config.h"
#include "spec/features.h"

namespace husk::cli {
namespace {

absl::Status WriteAllTo(int fd, absl::string_view data, absl::string_view what) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(absl::StrCat("write ", what));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status Print(absl::string_view text) { return WriteAllTo(STDOUT_FILENO, text, "stdout"); }

absl::StatusOr<int> Done(const absl::Status& status) {
  if (!status.ok()) return status;
  return 0;
}

}  // namespace

absl::Status WriteSpecFile(const std::string& bundle, absl::string_view content) {
  UniqueFd dir(::open(bundle.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return ErrnoError(absl::StrCat("open bundle ", Quote(bundle)));
  // O_EXCL also refuses a dangling symlink, so nothing outside the bundle is written.
  UniqueFd file(::openat(dir.get(), "config.json",
                         O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666));
  if (!file) {
    if (errno == EEXIST) {
      return absl::AlreadyExistsError("File config.json exists. Remove it first");
    }
    return ErrnoError(absl::StrCat("create ", Quote(bundle + "/config.json")));
  }
  absl::Status written = WriteAllTo(file.get(), content, Quote(bundle + "/config.json"));
  if (!written.ok()) unlinkat(dir.get(), "config.json", 0);  // no half-written spec
  return written;
}

absl::StatusOr<int> Dispatch(const Invocation& inv) {
  const GlobalOptions& global = inv.global;
  switch (inv.command) {
    case Command::kHelp: {
      std::string text = UsageText(inv.help_topic);
      if (inv.help_to_stderr) {
        return Done(WriteAllTo(STDERR_FILENO, text, "stderr"));
      }
      return Done(Print(text));
    }
    case Command::kVersion:
      return Done(Print(VersionText()));
    case Command::kCreate:
      return Done(Create(global, inv.run.create));
    case Command::kStart:
      return Done(Start(global, inv.id));
    case Command::kState: {
      ASSIGN_OR_RETURN(std::string state, State(global, inv.id));
      return Done(Print(state));
    }
    case Command::kKill:
      return Done(Kill(global, inv.id, inv.signal, inv.all));
    case Command::kDelete:
      return Done(Delete(global, inv.id, inv.force));
    case Command::kRun:
      return Run(global, inv.run);
    case Command::kList: {
      ASSIGN_OR_RETURN(std::string text, List(global, inv.list_format, inv.quiet));
      return Done(Print(text));
    }
    case Command::kSpec:
      // A rootless config maps container root to whoever runs `husk spec --rootless`.
      return Done(WriteSpecFile(inv.spec_bundle,
                                spec::DefaultConfigJson(inv.spec_rootless, geteuid(), getegid())));
    case Command::kPause:
      return Done(Pause(global, inv.id));
    case Command::kResume:
      return Done(Resume(global, inv.id));
    case Command::kUpdate:
      return Done(Update(global, inv.id, inv.update));
    case Command::kPs: {
      ASSIGN_OR_RETURN(std::string text, Ps(global, inv.ps));
      return Done(Print(text));
    }
    case Command::kEvents:
      return Done(Events(global, inv.events, Print));
    case Command::kExec: {
      // runc: 255 when exec itself fails, so callers tell it from the process's own status.
      absl::StatusOr<int> code = Exec(global, inv.exec);
      if (!code.ok()) return WithExitCode(code.status(), kExecFailureExitCode);
      return code;
    }
    case Command::kFeatures: {
      std::string json = spec::FeaturesJson(kernel::GetSeccompFeatures());
      if (!absl::EndsWith(json, "\n")) json.push_back('\n');
      return Done(Print(json));
    }
  }
  return absl::InternalError("unhandled command");
}

int Main(int argc, char** argv) {
  // A closed fd 0, 1 or 2 would be reused by husk's own files (the locked state dir...),
  // which the container would then inherit as stdio: put /dev/null there first.
  while (true) {
    int fd = open("/dev/null", O_RDWR);
    if (fd < 0) break;
    if (fd > 2) {
      close(fd);
      break;
    }
  }
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);

  // Open the log before anything else can fail, so that even a usage error reaches
  // containerd's log.json (cli-contract.md §3, §8.1).
  LogOptions log_options = PreScanLog(args);
  if (absl::Status status = log::Init(log_options.path, log_options.format, log_options.debug);
      !status.ok()) {
    log::Error(status.message());  // the log is stderr now
    return 1;
  }

  absl::StatusOr<Invocation> invocation = ParseCommandLine(args, ParseEnv::FromProcess());
  // Commands that leave a husk clone inside a container run from a sealed copy of the
  // binary (CVE-2019-5736); on success this execs and never returns. The command line
  // is logged after it, so the process that does the work logs it once.
  absl::Status sealed;
  if (invocation.ok() &&
      (invocation->command == Command::kCreate || invocation->command == Command::kRun ||
       invocation->command == Command::kExec)) {
    sealed = process::EnsureSealedExe(argv);
  }
  log::Debug(absl::StrCat("husk ", absl::StrJoin(args, " ")));
  if (!invocation.ok()) {
    log::Error(invocation.status().message());
    return ExitCodeOf(invocation.status());
  }
  if (!sealed.ok()) {
    log::Error(sealed.message());
    return 1;
  }
  absl::StatusOr<int> exit_code = Dispatch(*invocation);
  if (!exit_code.ok()) {
    log::Error(exit_code.status().message());
    return ExitCodeOf(exit_code.status());
  }
  return *exit_code;
}

}  // namespace husk::cli
