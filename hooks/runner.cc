#include "hooks/runner.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "runtime/base/status.h"
#include "runtime/base/syscalls.h"
#include "runtime/base/unique_fd.h"

extern char** environ;

namespace husk::hooks {
namespace {

// How many reads of leftover output after the hook exited: a grandchild that keeps
// writing must not keep us here.
constexpr int kDrainReads = 16;

struct Pipe {
  UniqueFd read, write;
};

absl::StatusOr<Pipe> MakePipe() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return ErrnoError("create hook pipe");
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// One stream of the hook's output: the first kKeptOutput bytes are kept.
struct Capture {
  UniqueFd fd;
  std::string data;
  bool truncated = false;

  // One read(2). False once the stream is done (EOF or error): the fd is closed then.
  bool ReadOnce() {
    char buf[4096];
    ssize_t n = read(fd.get(), buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
    if (n <= 0) {
      fd.Reset();
      return false;
    }
    size_t keep = std::min(static_cast<size_t>(n), kKeptOutput - data.size());
    data.append(buf, keep);
    truncated = truncated || keep < static_cast<size_t>(n);
    return true;
  }
  // What is already in the pipe, without waiting for writers that are still alive.
  void Drain() {
    for (int i = 0; i < kDrainReads && fd; ++i) {
      struct pollfd p = {fd.get(), POLLIN, 0};
      if (poll(&p, 1, 0) <= 0 || !ReadOnce()) break;
    }
  }
};

int64_t NowMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

std::string DescribeExit(int status) {
  if (WIFEXITED(status)) return absl::StrCat("exit status ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return absl::StrCat("killed by signal ", WTERMSIG(status), " (", strsignal(WTERMSIG(status)),
                        ")");
  }
  return absl::StrCat("wait status ", status);
}

void AppendOutput(std::string* message, const char* name, const Capture& c) {
  absl::string_view text = absl::StripTrailingAsciiWhitespace(c.data);
  if (text.empty()) return;
  absl::StrAppend(message, ", ", name, ": ", text, c.truncated ? " [truncated]" : "");
}

// Moves fd to `target` without the close-on-exec flag, whatever number it has now.
void PlaceFd(int fd, int target) {
  if (fd == target) {
    fcntl(fd, F_SETFD, 0);
  } else {
    dup2(fd, target);
  }
}

// The hook process: its own group, the pipes as 0/1/2, default signals, nothing else
// inherited. Reports an exec failure's errno on `report_fd` (close-on-exec: EOF means
// the execve worked).
[[noreturn]] void ExecHook(const char* path, char* const* argv, char* const* envp, int in_fd,
                           int out_fd, int err_fd, int report_fd) {
  setpgid(0, 0);
  // Above 2 first, so placing one cannot overwrite another (husk may run with 0-2 closed).
  int in = fcntl(in_fd, F_DUPFD_CLOEXEC, 3);
  int out = fcntl(out_fd, F_DUPFD_CLOEXEC, 3);
  int err = fcntl(err_fd, F_DUPFD_CLOEXEC, 3);
  int failure = 0;
  if (in < 0 || out < 0 || err < 0) failure = errno;
  if (failure == 0) {
    PlaceFd(in, 0);
    PlaceFd(out, 1);
    PlaceFd(err, 2);
    // The caller may have blocked or ignored signals (SIGPIPE, run's forwarding); the
    // hook starts with defaults like any program.
    struct sigaction dfl = {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) {
      if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &dfl, nullptr);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    // Nothing of husk's (state dir, log, cgroup and namespace fds) reaches the hook.
    if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) failure = errno;
  }
  if (failure == 0) {
    execve(path, argv, envp);
    failure = errno;
  }
  (void)!write(report_fd, &failure, sizeof(failure));
  _exit(127);
}

// Writes the state without blocking; EPIPE (the hook does not read) just ends it. The
// SIGPIPE that goes with EPIPE is blocked by the caller.
void FeedStdin(UniqueFd& fd, absl::string_view data, size_t* written) {
  ssize_t n = write(fd.get(), data.data() + *written, data.size() - *written);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n > 0) *written += static_cast<size_t>(n);
  if (n <= 0 || *written == data.size()) fd.Reset();
}

// Blocks SIGPIPE for the scope; on exit discards one raised meanwhile (it was ours).
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    sigprocmask(SIG_BLOCK, &set_, &old_);
  }
  ~SigpipeGuard() {
    if (!was_pending_) {
      struct timespec zero = {0, 0};
      while (sigtimedwait(&set_, nullptr, &zero) < 0 && errno == EINTR) {
      }
    }
    sigprocmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t set_, old_;
  bool was_pending_ = false;
};

}  // namespace

absl::Status RunHook(const spec::Hook& hook, absl::string_view state_json,
                     const RunOptions& options) {
  // Everything the child needs is built before fork: it only makes system calls.
  std::vector<std::string> args =
      hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args;
  std::vector<char*> argv, envp;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_copy = hook.env;
  if (env_copy.empty() && options.fallback_env != nullptr) env_copy = *options.fallback_env;
  if (env_copy.empty() && options.fallback_env == nullptr) {
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) env_copy.emplace_back(*e);
  }
  for (std::string& e : env_copy) envp.push_back(e.data());
  envp.push_back(nullptr);

  ASSIGN_OR_RETURN(Pipe in, MakePipe());
  ASSIGN_OR_RETURN(Pipe out, MakePipe());
  ASSIGN_OR_RETURN(Pipe err, MakePipe());
  ASSIGN_OR_RETURN(Pipe report, MakePipe());
  pid_t pid = fork();
  if (pid < 0) return ErrnoError(absl::StrCat("fork hook ", Quote(hook.path)));
  if (pid == 0) {
    ExecHook(hook.path.c_str(), argv.data(), envp.data(), in.read.get(), out.write.get(),
             err.write.get(), report.write.get());
  }
  // Also from here: whichever runs first, the group exists before we may kill it.
  setpgid(pid, pid);
  in.read.Reset();
  out.write.Reset();
  err.write.Reset();
  report.write.Reset();
  auto reap = [pid]() {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return status;
  };

  int exec_errno = 0;
  ssize_t n;
  do {
    n = read(report.read.get(), &exec_errno, sizeof(exec_errno));
  } while (n < 0 && errno == EINTR);
  if (n == sizeof(exec_errno)) {
    reap();
    return ErrnoError(exec_errno, absl::StrCat("exec ", Quote(hook.path)));
  }

  UniqueFd pidfd(sys::PidfdOpen(pid));  // our unreaped child: the pid cannot be reused
  if (!pidfd) {
    absl::Status status = ErrnoError(absl::StrCat("pidfd_open hook ", Quote(hook.path)));
    kill(-pid, SIGKILL);
    reap();
    return status;
  }
  Capture captures[2];
  captures[0].fd = std::move(out.read);
  captures[1].fd = std::move(err.read);
  for (Capture& c : captures) fcntl(c.fd.get(), F_SETFL, O_NONBLOCK);
  UniqueFd stdin_fd = std::move(in.write);
  fcntl(stdin_fd.get(), F_SETFL, O_NONBLOCK);
  size_t written = 0;
  if (state_json.empty()) stdin_fd.Reset();

  const std::optional<int64_t> deadline =
      hook.timeout ? std::optional<int64_t>(NowMs() + int64_t{*hook.timeout} * 1000) : std::nullopt;
  bool timed_out = false;
  {
    SigpipeGuard no_sigpipe;
    while (true) {
      struct pollfd fds[4] = {{pidfd.get(), POLLIN, 0},
                              {stdin_fd.get(), POLLOUT, 0},
                              {captures[0].fd.get(), POLLIN, 0},
                              {captures[1].fd.get(), POLLIN, 0}};
      int wait_ms = -1;
      if (deadline) {  // a timeout of years must not overflow poll's int
        wait_ms = static_cast<int>(std::clamp<int64_t>(*deadline - NowMs(), 0, INT_MAX));
      }
      int rc = poll(fds, 4, wait_ms);
      if (rc < 0 && errno != EINTR) {
        absl::Status status = ErrnoError("wait for hook");
        kill(-pid, SIGKILL);
        reap();
        return status;
      }
      if (deadline && NowMs() >= *deadline && !(rc > 0 && (fds[0].revents & POLLIN))) {
        timed_out = true;
        break;
      }
      if (rc <= 0) continue;
      if (fds[1].revents != 0) FeedStdin(stdin_fd, state_json, &written);
      for (int i = 0; i < 2; ++i) {
        if (fds[2 + i].revents != 0) captures[i].ReadOnce();
      }
      if (fds[0].revents & POLLIN) break;  // the hook exited; its children do not count
    }
  }
  if (timed_out) {
    // The whole group: a hook's `sleep` must not outlive it (it would hold the pipes).
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
  }
  int status = reap();
  for (Capture& c : captures) c.Drain();

  std::string message;
  if (timed_out) {
    message = absl::StrCat("timed out after ", *hook.timeout, "s (killed)");
  } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    return absl::OkStatus();
  } else {
    message = DescribeExit(status);
  }
  AppendOutput(&message, "stdout", captures[0]);
  AppendOutput(&message, "stderr", captures[1]);
  if (timed_out) return absl::DeadlineExceededError(message);
  return absl::InternalError(message);
}

}  // namespace husk::hooks
