#include "runtime/cli/exec_flags.h"

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "runtime/base/status.h"

namespace husk::cli {
namespace {

absl::StatusOr<uint32_t> ParseId(absl::string_view text, absl::string_view what) {
  uint64_t id;
  if (text.empty() || !absl::ascii_isdigit(static_cast<unsigned char>(text[0])) ||
      !absl::SimpleAtoi(text, &id) || id > 4294967294u) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad ", what, ": ", Quote(text), " is not a valid id"));
  }
  return static_cast<uint32_t>(id);
}

}  // namespace

absl::Status ParsePreserveFds(const ScanResult& flags, int* out) {
  if (auto fds = flags.Value("preserve-fds")) {
    if (!absl::SimpleAtoi(*fds, out) || *out < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid value ", Quote(*fds), " for flag -preserve-fds: parse error"));
    }
  }
  return absl::OkStatus();
}

absl::Status ApplyExecFlags(const ScanResult& flags, absl::string_view cwd, ExecOptions& exec) {
  exec.process_file = flags.Value("process").value_or("");
  if (!exec.process_file.empty()) exec.process_file = AbsoluteTo(cwd, exec.process_file);
  exec.console_socket = flags.Value("console-socket").value_or("");
  exec.pidfd_socket = flags.Value("pidfd-socket").value_or("");
  if (auto pid_file = flags.Value("pid-file"); pid_file && !pid_file->empty()) {
    exec.pid_file = AbsoluteTo(cwd, *pid_file);
  }
  exec.cwd = flags.Value("cwd").value_or("");
  exec.env = flags.Values("env");
  exec.tty = flags.Bool("tty");
  if (auto user = flags.Value("user"); user && !user->empty()) {
    RETURN_IF_ERROR(ParseExecUser(*user, exec));
  }
  for (const std::string& g : flags.Values("additional-gids")) {
    int64_t gid;
    if (!absl::SimpleAtoi(g, &gid)) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid value ", Quote(g), " for flag -additional-gids: parse error"));
    }
    if (gid < 0 || gid > 4294967294) {
      return absl::InvalidArgumentError(
          absl::StrCat("additional-gids must be a positive number ", gid));
    }
    exec.additional_gids.push_back(static_cast<uint32_t>(gid));
  }
  exec.process_label = flags.Value("process-label").value_or("");
  exec.apparmor = flags.Value("apparmor").value_or("");
  if (flags.Has("no-new-privs")) exec.no_new_privs = flags.Bool("no-new-privs");
  exec.caps = flags.Values("cap");
  exec.cgroups = flags.Values("cgroup");
  exec.ignore_paused = flags.Bool("ignore-paused");
  exec.detach = flags.Bool("detach");
  return ParsePreserveFds(flags, &exec.preserve_fds);
}

absl::Status ParseExecUser(absl::string_view text, ExecOptions& exec) {
  absl::string_view uid = text, gid;
  bool has_gid = false;
  if (size_t colon = text.find(':'); colon != absl::string_view::npos) {
    uid = text.substr(0, colon);
    gid = text.substr(colon + 1);
    has_gid = true;
  }
  ASSIGN_OR_RETURN(exec.uid, ParseId(uid, "uid"));
  if (has_gid) {
    ASSIGN_OR_RETURN(exec.gid, ParseId(gid, "gid"));
  }
  return absl::OkStatus();
}

}  // namespace husk::cli
