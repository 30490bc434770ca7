#include "runtime/supervise.h"

#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <optional>

#include "runtime/base/status.h"
#include "runtime/base/unique_fd.h"

namespace husk::internal {
namespace {

// Raw mode for the caller's terminal while proxying; restored on destruction.
class RawTerminal {
 public:
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;
  RawTerminal() {
    if (isatty(0) && tcgetattr(0, &saved_) == 0) {
      struct termios raw = saved_;
      cfmakeraw(&raw);
      active_ = tcsetattr(0, TCSANOW, &raw) == 0;
    }
  }
  ~RawTerminal() {
    if (active_) tcsetattr(0, TCSANOW, &saved_);
  }

 private:
  struct termios saved_ = {};
  bool active_ = false;
};

bool Copy(int from, int to) {
  char buf[8192];
  ssize_t n = read(from, buf, sizeof(buf));
  if (n <= 0) return false;
  for (ssize_t off = 0; off < n;) {
    ssize_t w = write(to, buf + off, static_cast<size_t>(n - off));
    if (w <= 0) return false;
    off += w;
  }
  return true;
}

// The signals `run` forwards: all but the synchronous ones and those nobody can catch.
sigset_t ForwardedSignals() {
  sigset_t set;
  sigfillset(&set);
  for (int s : {SIGILL, SIGFPE, SIGSEGV, SIGBUS, SIGTRAP, SIGKILL, SIGSTOP}) sigdelset(&set, s);
  return set;
}

// A signal sent to `husk run` (or `exec`) while it creates and starts the container must neither
// kill husk half-way (that leaked the cgroup, the state dir and the init) nor be lost: it is
// recorded here and forwarded once the init runs, as runc does. Signals cannot simply be
// blocked that early: the container init would inherit the mask. The handler is inherited
// by the clone too; there (another pid) it behaves as the default action would.
pid_t g_run_pid = 0;
volatile sig_atomic_t g_pending[NSIG];

void RecordSignal(int sig) {
  if (getpid() != g_run_pid) {
    signal(sig, SIG_DFL);
    raise(sig);
    return;
  }
  g_pending[sig] = 1;
}

}  // namespace

void RecordSignalsUntilSupervised() {
  g_run_pid = getpid();
  sigset_t forwarded = ForwardedSignals();
  struct sigaction sa = {};
  sa.sa_handler = RecordSignal;
  sa.sa_flags = SA_RESTART;
  sigfillset(&sa.sa_mask);
  for (int s = 1; s < NSIG; ++s) {
    if (s == SIGCHLD || sigismember(&forwarded, s) != 1) continue;
    (void)sigaction(s, &sa, nullptr);  // glibc's internal signals refuse: fine
  }
}

absl::StatusOr<int> Supervise(pid_t init, int console) {
  sigset_t set = ForwardedSignals();
  sigprocmask(SIG_BLOCK, &set, nullptr);
  UniqueFd sfd(signalfd(-1, &set, SFD_CLOEXEC));
  if (!sfd) return ErrnoError("signalfd");
  // Now blocked: what arrived during create/start is forwarded first.
  for (int s = 1; s < NSIG; ++s) {
    if (!g_pending[s]) continue;
    g_pending[s] = 0;
    if (s == SIGWINCH) {
      struct winsize ws;
      if (console >= 0 && ioctl(0, TIOCGWINSZ, &ws) == 0) ioctl(console, TIOCSWINSZ, &ws);
    } else {
      kill(init, s);
    }
  }
  std::optional<RawTerminal> raw;
  if (console >= 0) {
    raw.emplace();
    struct winsize ws;  // like runc: the container's pty starts with our terminal's size
    if (ioctl(0, TIOCGWINSZ, &ws) == 0) ioctl(console, TIOCSWINSZ, &ws);
  }
  bool stdin_open = console >= 0;
  bool console_open = console >= 0;
  while (true) {
    int status;
    pid_t r = waitpid(init, &status, WNOHANG);
    if (r == init) {
      while (console_open && Copy(console, 1)) {
      }
      return status;
    }
    struct pollfd fds[3] = {{sfd.get(), POLLIN, 0},
                            {stdin_open ? 0 : -1, POLLIN, 0},
                            {console_open ? console : -1, POLLIN, 0}};
    if (poll(fds, 3, -1) < 0 && errno != EINTR) return ErrnoError("poll");
    if (fds[0].revents & POLLIN) {
      struct signalfd_siginfo si;
      if (read(sfd.get(), &si, sizeof(si)) == sizeof(si)) {
        int sig = static_cast<int>(si.ssi_signo);
        if (sig == SIGCHLD) {
          // Reap orphans re-parented to us (we are a subreaper); the init is handled above.
          while (true) {
            pid_t other = waitpid(-1, &status, WNOHANG | __WALL);
            if (other <= 0) break;
            if (other == init) {
              while (console_open && Copy(console, 1)) {
              }
              return status;
            }
          }
        } else if (sig == SIGWINCH && console >= 0) {
          struct winsize ws;
          if (ioctl(0, TIOCGWINSZ, &ws) == 0) ioctl(console, TIOCSWINSZ, &ws);
        } else {
          kill(init, sig);
        }
      }
    }
    if (stdin_open && (fds[1].revents & (POLLIN | POLLHUP))) stdin_open = Copy(0, console);
    if (console_open && (fds[2].revents & (POLLIN | POLLHUP))) console_open = Copy(console, 1);
  }
}

int ExitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 1;
}

}  // namespace husk::internal
