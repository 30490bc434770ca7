#include "conformance/harness/command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace husk::conformance {
namespace {

using Clock = std::chrono::steady_clock;

std::string Excerpt(const std::string& s, size_t max = 400) {
  std::string t = s;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
  if (t.size() > max) t = t.substr(0, max) + "...";
  return t;
}

}  // namespace

std::string Quote(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) {
    if (!s.empty()) s += ' ';
    bool plain = !a.empty() && a.find_first_of(" \t\n'\"\\$&;|") == std::string::npos;
    s += plain ? a : "'" + a + "'";
  }
  return s;
}

std::string CmdResult::Describe() const {
  std::ostringstream os;
  os << "`" << command << "` ";
  if (timed_out) {
    os << "timed out";
  } else if (term_signal) {
    os << "killed by signal " << term_signal;
  } else {
    os << "exited " << exit_code;
  }
  std::string text = Excerpt(err.empty() ? out : err);
  if (!text.empty()) os << ": " << text;
  return os.str();
}

CmdResult RunCmd(const std::vector<std::string>& argv, const CmdOptions& opts) {
  CmdResult r;
  r.command = Quote(argv);
  int out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
  bool cap_out = opts.stdout_file.empty(), cap_err = opts.stderr_file.empty();
  if ((cap_out && ::pipe2(out_pipe, O_CLOEXEC) != 0) ||
      (cap_err && ::pipe2(err_pipe, O_CLOEXEC) != 0)) {
    r.err = std::string("pipe: ") + std::strerror(errno);
    return r;
  }
  auto start = Clock::now();
  pid_t pid = ::fork();
  if (pid < 0) {
    r.err = std::string("fork: ") + std::strerror(errno);
    return r;
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, 0);
    auto target = [](const std::string& file, int pipe_w) {
      if (file.empty()) return pipe_w;
      return ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    };
    int o = target(opts.stdout_file, out_pipe[1]);
    int e = target(opts.stderr_file, err_pipe[1]);
    ::dup2(o, 1);
    ::dup2(e, 2);
    ::closefrom(3);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::dprintf(2, "exec %s: %s\n", args[0], std::strerror(errno));
    ::_exit(127);
  }
  if (cap_out) ::close(out_pipe[1]);
  if (cap_err) ::close(err_pipe[1]);
  int fds[2] = {cap_out ? out_pipe[0] : -1, cap_err ? err_pipe[0] : -1};
  std::string* sinks[2] = {&r.out, &r.err};
  for (int fd : fds) {
    if (fd >= 0) ::fcntl(fd, F_SETFL, O_NONBLOCK);
  }
  auto deadline = start + opts.timeout;
  int status = 0;
  bool exited = false;
  while (!exited) {
    struct pollfd p[2];
    int n = 0;
    int idx[2];
    for (int i = 0; i < 2; ++i) {
      if (fds[i] >= 0) {
        p[n] = {fds[i], POLLIN, 0};
        idx[n++] = i;
      }
    }
    ::poll(p, n, 10);
    for (int k = 0; k < n; ++k) {
      if (!(p[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[8192];
      ssize_t got;
      while ((got = ::read(fds[idx[k]], buf, sizeof buf)) > 0) sinks[idx[k]]->append(buf, got);
      if (got == 0) {
        ::close(fds[idx[k]]);
        fds[idx[k]] = -1;
      }
    }
    pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) exited = true;
    if (!exited && Clock::now() > deadline) {
      r.timed_out = true;
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      exited = true;
    }
  }
  // Drain what is already buffered; a container still holding the pipe is not waited for.
  for (int i = 0; i < 2; ++i) {
    if (fds[i] < 0) continue;
    char buf[8192];
    ssize_t got;
    while ((got = ::read(fds[i], buf, sizeof buf)) > 0) sinks[i]->append(buf, got);
    ::close(fds[i]);
  }
  r.ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.term_signal = WTERMSIG(status);
  return r;
}

void BecomeSubreaper() { ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }

void ReapOrphans() {
  while (::waitpid(-1, nullptr, WNOHANG) > 0) {
  }
}

bool WaitPidGone(pid_t pid, std::chrono::milliseconds timeout) {
  if (pid <= 0) return true;
  auto deadline = Clock::now() + timeout;
  for (;;) {
    int status;
    pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) return true;
    std::string stat = ReadFileOr("/proc/" + std::to_string(pid) + "/stat", "");
    if (stat.empty()) return true;
    size_t close_paren = stat.rfind(')');
    if (close_paren != std::string::npos && close_paren + 2 < stat.size()) {
      char state = stat[close_paren + 2];
      if (state == 'Z' || state == 'X') return true;
    }
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
  }
}

std::string ReadFileOr(const std::string& path, const std::string& fallback) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fallback;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool WriteFileText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return false;
  out << text;
  return static_cast<bool>(out);
}

bool HasMountsUnder(const std::string& path) {
  std::string info = ReadFileOr("/proc/self/mountinfo");
  size_t pos = 0;
  while (pos < info.size()) {
    size_t nl = info.find('\n', pos);
    if (nl == std::string::npos) nl = info.size();
    std::string line = info.substr(pos, nl - pos);
    pos = nl + 1;
    // Field 5 is the mount point.
    size_t f = 0;
    for (int i = 0; i < 4 && f != std::string::npos; ++i) {
      f = line.find(' ', f);
      if (f != std::string::npos) ++f;
    }
    if (f == std::string::npos) continue;
    std::string mp = line.substr(f, line.find(' ', f) - f);
    if (mp == path || mp.rfind(path + "/", 0) == 0) return true;
  }
  return false;
}

}  // namespace husk::conformance
