// `ps` and `events`: looking at a container's cgroup from outside (its pids, the host's
// ps filtered to them, resource statistics and OOM notifications). Parent only.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "runtime/base/log.h"
#include "runtime/base/status.h"
#include "runtime/base/unique_fd.h"
#include "runtime/container.h"
#include "runtime/container_internal.h"
#include "runtime/events_json.h"
#include "runtime/kernel/cgroups/cgroups.h"
#include "runtime/kernel/cgroups/stats.h"

extern char** environ;

namespace husk {
namespace {

// The host's ps: from PATH when set, else /usr/bin:/bin (podman runs the runtime with
// nothing but XDG_RUNTIME_DIR in the environment).
absl::StatusOr<std::string> FindPs() {
  const char* path = getenv("PATH");
  std::string search = path != nullptr && *path != '\0' ? path : "/usr/bin:/bin";
  for (absl::string_view dir : absl::StrSplit(search, ':', absl::SkipEmpty())) {
    std::string candidate = absl::StrCat(dir, "/ps");
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return absl::NotFoundError(absl::StrCat("exec: \"ps\": executable file not found in ",
                                          path != nullptr ? "$PATH" : "/usr/bin:/bin"));
}

// Runs argv with stdout and stderr into one pipe (Go's CombinedOutput); the output, or
// "exit status N: output" as runc reports a failed ps.
absl::StatusOr<std::string> CombinedOutput(const std::vector<std::string>& argv) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return ErrnoError("pipe");
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), STDERR_FILENO);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return ErrnoError(rc, absl::StrCat("exec ", Quote(argv[0])));
  write_end.Reset();
  std::string out;
  char buf[8192];
  while (true) {
    ssize_t n = read(read_end.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return ErrnoError(absl::StrCat("wait for ", Quote(argv[0])));
  }
  if (WIFSIGNALED(status)) {
    return absl::InternalError(absl::StrCat("signal: ", strsignal(WTERMSIG(status)), ": ", out));
  }
  if (WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat("exit status ", WEXITSTATUS(status), ": ", out));
  }
  return out;
}

// runc's table: the header, then each line whose PID column is one of `pids`.
absl::StatusOr<std::string> FilterPsOutput(absl::string_view output, const std::vector<int>& pids) {
  std::vector<absl::string_view> lines = absl::StrSplit(output, '\n');
  std::vector<absl::string_view> titles =
      absl::StrSplit(lines[0], absl::ByAnyChar(" \t"), absl::SkipEmpty());
  size_t pid_index = titles.size();
  for (size_t i = 0; i < titles.size(); ++i) {
    if (titles[i] == "PID") {
      pid_index = i;
      break;
    }
  }
  if (pid_index == titles.size()) {
    return absl::InvalidArgumentError("couldn't find PID field in ps output");
  }
  std::string out = absl::StrCat(lines[0], "\n");
  for (size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    std::vector<absl::string_view> fields =
        absl::StrSplit(lines[i], absl::ByAnyChar(" \t"), absl::SkipEmpty());
    int pid = 0;
    if (pid_index >= fields.size() || !absl::SimpleAtoi(fields[pid_index], &pid)) {
      return absl::InvalidArgumentError(
          absl::StrCat("unable to parse pid: ", Quote(lines[i])));
    }
    if (std::find(pids.begin(), pids.end(), pid) != pids.end()) absl::StrAppend(&out, lines[i], "\n");
  }
  return out;
}

int64_t NowNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

// The container has nothing left to report on: its cgroup is gone, or it holds no process
// but (maybe) the init's zombie, which waits for its parent to reap it.
bool Finished(const state::Record& record) {
  absl::StatusOr<std::vector<int>> pids = kernel::cgroups::Pids(record.cgroup_dirs);
  if (!pids.ok()) return false;
  for (int pid : *pids) {
    if (pid != record.pid) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::string> Ps(const GlobalOptions& global, const PsOptions& options) {
  std::vector<int> pids;
  {
    ASSIGN_OR_RETURN(internal::Loaded c, internal::LoadContainer(global, options.id));
    ASSIGN_OR_RETURN(pids, kernel::cgroups::Pids(c.record.cgroup_dirs));
  }
  if (options.format == PsFormat::kJson) return absl::StrCat(PidsJson(pids), "\n");
  ASSIGN_OR_RETURN(std::string ps, FindPs());
  std::vector<std::string> argv = {ps};
  if (options.ps_args.empty()) {
    argv.push_back("-ef");
  } else {
    argv.insert(argv.end(), options.ps_args.begin(), options.ps_args.end());
  }
  ASSIGN_OR_RETURN(std::string output, CombinedOutput(argv));
  return FilterPsOutput(output, pids);
}

absl::Status Events(const GlobalOptions& global, const EventsOptions& options,
                    const EventSink& emit) {
  state::Record record;
  {
    // Not locked while streaming: kill and delete must still work on the container.
    ASSIGN_OR_RETURN(internal::Loaded c, internal::LoadContainer(global, options.id));
    if (c.status == state::Status::kStopped) {
      return absl::FailedPreconditionError(
          absl::StrCat("container with id ", options.id, " is not running"));
    }
    record = std::move(c.record);
  }
  if (options.interval_ns <= 0) {
    return absl::InvalidArgumentError("duration interval must be greater than 0");
  }
  ASSIGN_OR_RETURN(kernel::cgroups::Layout layout, kernel::cgroups::Detect());
  auto stats_line = [&]() -> absl::StatusOr<std::string> {
    ASSIGN_OR_RETURN(kernel::cgroups::Stats stats,
                     kernel::cgroups::ReadStats(layout, record.cgroup_dirs));
    return absl::StrCat(StatsEventJson(record.id, stats), "\n");
  };
  if (options.stats) {
    ASSIGN_OR_RETURN(std::string line, stats_line());
    return emit(line);
  }

  // Woken by the init's exit (its pidfd), an OOM notification, or the next tick.
  absl::StatusOr<UniqueFd> init = internal::OpenInit(record);
  absl::StatusOr<kernel::cgroups::OomWatch> oom =
      kernel::cgroups::OomWatch::Open(layout, record.cgroup_dirs);
  if (!oom.ok()) log::Warning(absl::StrCat("events: no oom notifications: ", oom.status().message()));
  bool init_gone = !init.ok();
  auto report_ooms = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(int n, oom->Consume());
    if (n > 0) RETURN_IF_ERROR(emit(absl::StrCat(OomEventJson(record.id), "\n")));
    return absl::OkStatus();
  };
  int64_t next_tick = NowNs() + options.interval_ns;
  while (true) {
    std::vector<struct pollfd> fds;
    if (oom.ok()) fds.push_back({oom->fd(), POLLIN, 0});
    if (!init_gone) fds.push_back({init->get(), POLLIN, 0});
    int64_t wait_ns = std::max<int64_t>(0, next_tick - NowNs());
    // Once the init is gone, look at the cgroup every 100 ms until its last task exits.
    if (init_gone) wait_ns = std::min<int64_t>(wait_ns, 100'000'000);
    int timeout_ms = static_cast<int>(std::min<int64_t>((wait_ns + 999'999) / 1'000'000, 60'000));
    int rc = poll(fds.data(), fds.size(), timeout_ms);
    if (rc < 0 && errno != EINTR) return ErrnoError("events: poll");
    if (rc > 0) {
      for (const struct pollfd& p : fds) {
        if (p.revents == 0) continue;
        if (oom.ok() && p.fd == oom->fd()) {
          absl::Status s = report_ooms();
          if (!s.ok()) return s;
        } else {
          init_gone = true;
        }
      }
    }
    if (init_gone && Finished(record)) {
      // An OOM kill that ended the container is reported before the stream ends.
      if (oom.ok()) {
        struct pollfd p = {oom->fd(), POLLIN, 0};
        if (poll(&p, 1, 0) > 0) RETURN_IF_ERROR(report_ooms());
      }
      return absl::OkStatus();
    }
    if (NowNs() >= next_tick) {
      next_tick += options.interval_ns;
      // A failed reading is logged and the stream goes on, as in runc.
      absl::StatusOr<std::string> line = stats_line();
      if (line.ok()) {
        RETURN_IF_ERROR(emit(*line));
      } else {
        log::Warning(absl::StrCat("events: ", line.status().message()));
      }
    }
  }
}

}  // namespace husk
