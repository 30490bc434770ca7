#include "runtime/state/status.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <string_view>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "runtime/base/status.h"
#include "runtime/base/unique_fd.h"

namespace husk::state {

const char* StatusName(Status status) {
  switch (status) {
    case Status::kCreating:
      return "creating";
    case Status::kCreated:
      return "created";
    case Status::kRunning:
      return "running";
    case Status::kPaused:
      return "paused";
    case Status::kStopped:
      return "stopped";
  }
  return "unknown";
}

absl::StatusOr<ProcStat> ParseProcStat(std::string_view std_content) {
  absl::string_view content(std_content.data(), std_content.size());
  // "pid (comm) S ppid ...": comm is free text (up to 16 bytes, may hold ") " itself),
  // so the fixed fields start after the LAST ')'.
  size_t close = content.rfind(')');
  if (close == absl::string_view::npos) {
    return absl::InvalidArgumentError("parse /proc/<pid>/stat: no \")\" after comm");
  }
  std::vector<absl::string_view> fields =
      absl::StrSplit(content.substr(close + 1), ' ', absl::SkipEmpty());
  // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
  if (fields.size() < 20 || fields[0].size() != 1) {
    return absl::InvalidArgumentError("parse /proc/<pid>/stat: too few fields");
  }
  ProcStat stat;
  stat.state = fields[0][0];
  absl::string_view start = fields[19];
  while (!start.empty() && (start.back() == '\n' || start.back() == ' ')) start.remove_suffix(1);
  if (!absl::SimpleAtoi(start, &stat.start_time)) {
    return absl::InvalidArgumentError(
        absl::StrCat("parse /proc/<pid>/stat: bad start time ", Quote(start)));
  }
  return stat;
}

absl::StatusOr<ProcStat> ReadProcStat(int pid) {
  if (pid <= 0) return absl::NotFoundError(absl::StrCat("process ", pid, " not found"));
  std::string path = absl::StrCat("/proc/", pid, "/stat");
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT || errno == ESRCH) {
      return absl::NotFoundError(absl::StrCat("process ", pid, " not found"));
    }
    return ErrnoError(absl::StrCat("open ", Quote(path)));
  }
  char buf[1024];  // the whole line is well under 1 KiB
  ssize_t n;
  do {
    n = read(fd.get(), buf, sizeof(buf) - 1);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == ESRCH) return absl::NotFoundError(absl::StrCat("process ", pid, " not found"));
    return ErrnoError(absl::StrCat("read ", Quote(path)));
  }
  absl::StatusOr<ProcStat> stat = ParseProcStat(std::string_view(buf, static_cast<size_t>(n)));
  if (!stat.ok()) return Annotate(stat.status(), Quote(path));
  return stat;
}

bool ProcessAlive(int pid, uint64_t start_time) {
  absl::StatusOr<ProcStat> stat = ReadProcStat(pid);
  if (!stat.ok()) return false;
  // A zombie has exited: nothing will ever run again (the caller may not be its parent
  // and cannot wait for it). A different start time means the pid was reused.
  if (stat->state == 'Z' || stat->state == 'X' || stat->state == 'x') return false;
  return stat->start_time == start_time;
}

Status DeriveStatus(const ContainerDir& dir, const Record& record, bool frozen) {
  // runc's order: the freezer first (a paused container may have a dead init when it
  // shares the pid namespace; it still needs resume/kill), then liveness.
  if (frozen) return Status::kPaused;
  if (!ProcessAlive(record.pid, record.start_time)) return Status::kStopped;
  if (faccessat(dir.fd(), kExecSocketName, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
    return Status::kCreated;
  }
  return Status::kRunning;
}

absl::Status CanStart(Status status) {
  switch (status) {
    case Status::kCreated:
      return absl::OkStatus();
    case Status::kRunning:
      return absl::FailedPreconditionError("cannot start an already running container");
    case Status::kStopped:
      return absl::FailedPreconditionError("cannot start a container that has stopped");
    default:
      return absl::FailedPreconditionError(
          absl::StrCat("cannot start a container in the ", StatusName(status), " state"));
  }
}

absl::Status CanKill(Status status) {
  if (status == Status::kStopped) return absl::FailedPreconditionError("container not running");
  return absl::OkStatus();
}

absl::Status CanDelete(const std::string& id, Status status, bool force) {
  // Created is deletable without --force: runc (and containerd's shim) kill it first.
  if (force || status == Status::kStopped || status == Status::kCreated ||
      status == Status::kCreating) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(
      absl::StrCat("cannot delete container ", id, " that is not stopped: ", StatusName(status)));
}

}  // namespace husk::state
