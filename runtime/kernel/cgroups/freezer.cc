// The v1 freezer, listing a cgroup's processes and signalling all of them (kill --all).
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "runtime/base/fs.h"
#include "runtime/base/status.h"
#include "runtime/base/unique_fd.h"
#include "runtime/kernel/cgroups/cgroups.h"

namespace husk::kernel::cgroups {
namespace {

bool HasFile(const std::string& dir, const char* file) {
  return access(absl::StrCat(dir, "/", file).c_str(), F_OK) == 0;
}

// The dir whose hierarchy has `marker` (a controller file), or "". Hierarchies are
// usually mounted under their controller's name, so those dirs are tried first: one
// access(2) instead of one per hierarchy (this runs for every container `list` shows).
std::string DirWith(const std::vector<std::string>& dirs, const char* marker) {
  absl::string_view m(marker);
  std::string named = absl::StrCat("/", m.substr(0, m.find('.')), "/");
  for (const std::string& dir : dirs) {
    if (dir.find(named) != std::string::npos && HasFile(dir, marker)) return dir;
  }
  for (const std::string& dir : dirs) {
    if (dir.find(named) == std::string::npos && HasFile(dir, marker)) return dir;
  }
  return "";
}

absl::Status WriteState(const std::string& dir, const char* state) {
  std::string path = absl::StrCat(dir, "/freezer.state");
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
  ssize_t n = -1;
  if (fd) n = write(fd.get(), state, strlen(state));
  if (n < 0) {
    return ErrnoError(absl::StrCat("write \"freezer.state\" = ", Quote(state), " in ", Quote(dir)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadState(const std::string& dir) {
  ASSIGN_OR_RETURN(std::string state, husk::ReadFile(absl::StrCat(dir, "/freezer.state")));
  return std::string(absl::StripAsciiWhitespace(state));
}

// Writes `want` and polls until the kernel reports it. FREEZING can last while tasks are
// in uninterruptible sleep; re-writing FROZEN nudges the kernel to retry them.
absl::Status SetState(const std::string& dir, const char* want) {
  RETURN_IF_ERROR(WriteState(dir, want));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  auto delay = std::chrono::microseconds(100);
  for (int attempt = 1;; ++attempt) {
    ASSIGN_OR_RETURN(std::string state, ReadState(dir));
    if (state == want) return absl::OkStatus();
    if (std::chrono::steady_clock::now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat("set \"freezer.state\" = ", Quote(want),
                                                      " in ", Quote(dir), ": still ", state));
    }
    std::this_thread::sleep_for(delay);
    if (delay < std::chrono::milliseconds(10)) delay *= 2;
    if (attempt % 10 == 0) RETURN_IF_ERROR(WriteState(dir, want));
  }
}

int PidfdOpen(int pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }
int PidfdSendSignal(int pidfd, int sig) {
  return static_cast<int>(syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

}  // namespace

absl::StatusOr<std::vector<int>> Pids(const std::vector<std::string>& dirs) {
  std::string dir = DirWith(dirs, "pids.max");
  if (dir.empty()) dir = DirWith(dirs, "freezer.state");
  if (dir.empty()) dir = DirWith(dirs, "memory.limit_in_bytes");
  if (dir.empty()) dir = DirWith(dirs, "cgroup.procs");
  std::vector<int> pids;
  if (dir.empty()) return pids;  // every dir is gone
  absl::StatusOr<std::string> text = husk::ReadFile(absl::StrCat(dir, "/cgroup.procs"));
  if (!text.ok()) {
    if (StatusErrno(text.status()) == ENOENT || StatusErrno(text.status()) == ENODEV) return pids;
    return text.status();
  }
  for (absl::string_view line : absl::StrSplit(*text, '\n', absl::SkipWhitespace())) {
    int pid = 0;
    if (absl::SimpleAtoi(line, &pid) && pid > 0) pids.push_back(pid);
  }
  return pids;
}

namespace {

// The freezer of the container: the v1 freezer hierarchy when mounted (hybrid hosts
// too: runc freezes through v1 there), else cgroup2's cgroup.freeze. Empty if neither.
struct FreezerDir {
  std::string dir;
  bool v2 = false;
};
FreezerDir FindFreezer(const std::vector<std::string>& dirs) {
  if (std::string dir = DirWith(dirs, "freezer.state"); !dir.empty()) return {dir, false};
  return {DirWith(dirs, "cgroup.freeze"), true};
}

// "frozen 0|1" of cgroup.events: the kernel's answer to cgroup.freeze, once every task
// has stopped (or been let go).
absl::StatusOr<bool> EventsFrozen(const std::string& dir) {
  ASSIGN_OR_RETURN(std::string events, husk::ReadFile(absl::StrCat(dir, "/cgroup.events")));
  for (absl::string_view line : absl::StrSplit(events, '\n', absl::SkipWhitespace())) {
    line = absl::StripAsciiWhitespace(line);
    if (absl::ConsumePrefix(&line, "frozen ")) return line == "1";
  }
  return absl::FailedPreconditionError(
      absl::StrCat("cgroup ", Quote(dir), ": no \"frozen\" in cgroup.events"));
}

// cgroup2: write cgroup.freeze and wait for cgroup.events to agree.
absl::Status SetFreezeV2(const std::string& dir, bool freeze) {
  const char* value = freeze ? "1" : "0";
  RETURN_IF_ERROR(WriteFileAt(AT_FDCWD, absl::StrCat(dir, "/cgroup.freeze"), value));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  auto delay = std::chrono::microseconds(100);
  for (;;) {
    ASSIGN_OR_RETURN(bool frozen, EventsFrozen(dir));
    if (frozen == freeze) return absl::OkStatus();
    if (std::chrono::steady_clock::now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat("set \"cgroup.freeze\" = ", value, " in ",
                                                      Quote(dir), ": cgroup.events still says frozen ",
                                                      frozen ? 1 : 0));
    }
    std::this_thread::sleep_for(delay);
    if (delay < std::chrono::milliseconds(10)) delay *= 2;
  }
}

}  // namespace

absl::Status Freeze(const std::vector<std::string>& dirs) {
  FreezerDir f = FindFreezer(dirs);
  if (f.dir.empty()) return absl::FailedPreconditionError("no freezer cgroup for the container");
  absl::Status status = f.v2 ? SetFreezeV2(f.dir, true) : SetState(f.dir, "FROZEN");
  // Never leave a half-frozen cgroup behind.
  if (!status.ok()) {
    if (f.v2) {
      (void)WriteFileAt(AT_FDCWD, absl::StrCat(f.dir, "/cgroup.freeze"), "0");
    } else {
      (void)WriteState(f.dir, "THAWED");
    }
  }
  return status;
}

absl::Status Thaw(const std::vector<std::string>& dirs) {
  FreezerDir f = FindFreezer(dirs);
  if (f.dir.empty()) return absl::FailedPreconditionError("no freezer cgroup for the container");
  return f.v2 ? SetFreezeV2(f.dir, false) : SetState(f.dir, "THAWED");
}

absl::StatusOr<bool> IsFrozen(const std::vector<std::string>& dirs) {
  FreezerDir f = FindFreezer(dirs);
  if (f.dir.empty()) return false;
  auto gone = [](const absl::Status& s) {
    return StatusErrno(s) == ENOENT || StatusErrno(s) == ENODEV;
  };
  if (f.v2) {
    // cgroup.freeze is what was asked (runc's answer too): a freeze in progress is a pause.
    absl::StatusOr<std::string> want = husk::ReadFile(absl::StrCat(f.dir, "/cgroup.freeze"));
    if (!want.ok()) return gone(want.status()) ? absl::StatusOr<bool>(false) : want.status();
    return absl::StripAsciiWhitespace(*want) == "1";
  }
  for (int i = 0;; ++i) {
    absl::StatusOr<std::string> state = ReadState(f.dir);
    if (!state.ok()) {
      if (gone(state.status())) return false;
      return state.status();
    }
    if (*state != "FREEZING") return *state == "FROZEN";
    // A pause is in progress: give it a moment, then call it paused.
    if (i == 50) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

absl::Status RefuseFrozen(const Setup& setup) {
  constexpr char kFrozen[] = "container's cgroup unexpectedly frozen";
  // v1: freezer.state reads FROZEN (or FREEZING) when the cgroup or an ancestor is frozen.
  if (std::string dir = DirWith(setup.dirs, "freezer.state"); !dir.empty()) {
    absl::StatusOr<std::string> state = ReadState(dir);
    if (!state.ok()) return Annotate(state.status(), "check the container's freezer cgroup");
    if (*state != "THAWED") {
      return absl::FailedPreconditionError(
          absl::StrCat(kFrozen, ": freezer.state in ", Quote(dir), " is ", *state));
    }
  }
  // cgroup2 (the unified dir of a hybrid host, which the init is cloned into): frozen
  // itself (cgroup.freeze) or through an ancestor ("frozen 1" in cgroup.events).
  for (size_t i = 0; i < setup.dirs.size() && i < setup.unified.size(); ++i) {
    if (!setup.unified[i]) continue;
    const std::string& dir = setup.dirs[i];
    absl::StatusOr<std::string> freeze = husk::ReadFile(absl::StrCat(dir, "/cgroup.freeze"));
    if (freeze.ok() && absl::StripAsciiWhitespace(*freeze) == "1") {
      return absl::FailedPreconditionError(
          absl::StrCat(kFrozen, ": cgroup.freeze in ", Quote(dir), " is 1"));
    }
    absl::StatusOr<std::string> events = husk::ReadFile(absl::StrCat(dir, "/cgroup.events"));
    if (!events.ok()) continue;  // the root cgroup, or a kernel without the v2 freezer
    for (absl::string_view line : absl::StrSplit(*events, '\n', absl::SkipWhitespace())) {
      if (absl::StripAsciiWhitespace(line) == "frozen 1") {
        return absl::FailedPreconditionError(
            absl::StrCat(kFrozen, ": ", Quote(dir), " is frozen (cgroup.events)"));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status SignalAll(const std::vector<std::string>& dirs, int sig) {
  // Frozen, no process can fork or exit between listing and signalling, so every pid
  // we signal is still the one we listed (pid reuse is impossible).
  // Signal 0 delivers nothing, so a recycled pid cannot be hurt: no freeze/thaw cycle.
  FreezerDir freezer = FindFreezer(dirs);
  // cgroup2's cgroup.kill (Linux 5.14) kills every task, frozen ones included, without
  // a list to race with: the pure v2 way for SIGKILL.
  if (sig == SIGKILL && freezer.v2 && HasFile(freezer.dir, "cgroup.kill")) {
    absl::Status status = WriteFileAt(AT_FDCWD, absl::StrCat(freezer.dir, "/cgroup.kill"), "1");
    if (StatusErrno(status) == ENOENT || StatusErrno(status) == ENODEV) return absl::OkStatus();
    RETURN_IF_ERROR(status);
    // The tasks die frozen or not, but a cgroup left with cgroup.freeze = 1 would still
    // read as "paused"; thaw it, as runc does for SIGKILL on a paused container.
    absl::StatusOr<bool> frozen = IsFrozen(dirs);
    if (frozen.ok() && *frozen) {
      absl::Status thaw = WriteFileAt(AT_FDCWD, absl::StrCat(freezer.dir, "/cgroup.freeze"), "0");
      if (!thaw.ok() && StatusErrno(thaw) != ENOENT && StatusErrno(thaw) != ENODEV) return thaw;
    }
    return absl::OkStatus();
  }
  bool has_freezer = sig != 0 && !freezer.dir.empty();
  bool was_frozen = false;
  if (has_freezer) {
    absl::StatusOr<bool> frozen = IsFrozen(dirs);
    was_frozen = frozen.ok() && *frozen;
  }
  bool froze = has_freezer && !was_frozen && Freeze(dirs).ok();
  absl::Status first_error;
  absl::StatusOr<std::vector<int>> pids = Pids(dirs);
  if (!pids.ok()) {
    first_error = pids.status();
  } else {
    for (int pid : *pids) {
      UniqueFd pidfd(PidfdOpen(pid));
      int rc;
      if (pidfd) {
        rc = PidfdSendSignal(pidfd.get(), sig);
      } else if (errno == ENOSYS) {
        rc = kill(pid, sig);
      } else {
        rc = -1;
      }
      if (rc != 0 && errno != ESRCH && first_error.ok()) {
        first_error = ErrnoError(absl::StrCat("signal ", sig, " to pid ", pid));
      }
    }
  }
  // Thaw what we froze; a paused container stays paused, except that SIGKILL must be
  // able to take effect (frozen tasks do not die until thawed).
  if (froze || (was_frozen && sig == SIGKILL)) {
    absl::Status thaw = Thaw(dirs);
    bool gone = thaw.code() == absl::StatusCode::kFailedPrecondition ||
                StatusErrno(thaw) == ENOENT || StatusErrno(thaw) == ENODEV;
    if (!thaw.ok() && !gone && first_error.ok()) first_error = thaw;
  }
  return first_error;
}

}  // namespace husk::kernel::cgroups
