#include "runtime/process/init_steps.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <climits>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "runtime/base/fs.h"
#include "runtime/base/status.h"
#include "runtime/kernel/user.h"

namespace husk::process {

void Die(const SyncChannel& channel, const absl::Status& status, const char* who) {
  std::string text(status.message());
  int err = StatusErrno(status).value_or(0);
  if (channel.fd() < 0 || !channel.Send(MsgType::kError, 0, text, err).ok()) {
    std::string line = absl::StrCat(who, ": ", text, "\n");
    (void)!write(2, line.data(), line.size());
  }
  _exit(1);
}

absl::Status BecomeRootInUserns() {
  if (setresgid(0, 0, 0) != 0) return ErrnoError("setresgid to root in the user namespace");
  if (setresuid(0, 0, 0) != 0) return ErrnoError("setresuid to root in the user namespace");
  return absl::OkStatus();
}

absl::Status SwitchUser(const kernel::CapPlan& caps, uid_t uid, gid_t gid,
                        const std::vector<gid_t>& additional_gids, bool in_user_ns) {
  RETURN_IF_ERROR(kernel::DropBounding(caps));
  // setgroups is refused in a user namespace whose gid_map was written with setgroups
  // denied; there the supplementary groups stay as the namespace has them.
  if (setgroups(additional_gids.size(), additional_gids.data()) != 0 &&
      !(errno == EPERM && in_user_ns && additional_gids.empty())) {
    return ErrnoError("setgroups");
  }
  if (caps.apply && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return ErrnoError("keep capabilities");
  if (setresgid(gid, gid, gid) != 0) return ErrnoError(absl::StrCat("setresgid ", gid));
  if (setresuid(uid, uid, uid) != 0) return ErrnoError(absl::StrCat("setresuid ", uid));
  if (caps.apply && prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0)
    return ErrnoError("clear keep capabilities");
  return kernel::ApplyCapabilities(caps);
}

std::vector<std::string> FinalEnv(const std::vector<std::string>& env, uid_t uid) {
  std::vector<std::string> out = env;
  bool has_home = false;
  for (const std::string& e : out) has_home = has_home || absl::StartsWith(e, "HOME=");
  if (!has_home) {
    auto passwd = ReadFile("/etc/passwd", 4 << 20);
    out.push_back(absl::StrCat("HOME=", kernel::HomeForUid(passwd.ok() ? *passwd : "", uid)));
  }
  return out;
}

void CloseFdsExcept(unsigned first, std::vector<int> keep) {
  std::sort(keep.begin(), keep.end());
  unsigned next = first;
  for (int fd : keep) {
    if (fd < 0 || static_cast<unsigned>(fd) < next) continue;
    if (static_cast<unsigned>(fd) > next) syscall(SYS_close_range, next, fd - 1, 0);
    next = static_cast<unsigned>(fd) + 1;
  }
  syscall(SYS_close_range, next, ~0U, 0);
}

absl::Status PassFds(int preserve_fds) {
  for (int fd = 3; fd < 3 + preserve_fds; ++fd) {
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0 && fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) != 0) {
      return ErrnoError(absl::StrCat("preserve fd ", fd));
    }
  }
  // Nothing else of ours may reach the container (CVE-2024-21626): mark every other fd
  // close-on-exec, whatever flags it was opened with.
  if (syscall(SYS_close_range, 3 + preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    return ErrnoError("mark fds close-on-exec");
  }
  return absl::OkStatus();
}

// runc's order: the cwd is entered still as root (as_root), so a directory only root may
// enter (/root, 0700) works for a non-root user, who keeps it; one root may not enter
// (root squashed by NFS, a user namespace) is left for a second call as the user.
absl::Status EnterCwd(const std::string& cwd, bool as_root, bool* entered) {
  if (chdir(cwd.c_str()) != 0) {
    if (as_root && (errno == EACCES || errno == EPERM)) return absl::OkStatus();
    return ErrnoError(absl::StrCat("chdir to cwd (", Quote(cwd), ") set in config.json failed"));
  }
  *entered = true;
  // A cwd reached through a host fd (/proc/self/fd/N, CVE-2024-21626) is unreachable
  // from the new root: the kernel prefixes it with "(unreachable)" and glibc fails with
  // ENOENT. The buffer must fit any path, or the kernel reports ERANGE before that.
  // Any other failure is reported as what it is.
  char buf[PATH_MAX];
  bool got_cwd = getcwd(buf, sizeof(buf)) != nullptr;
  if (!got_cwd && errno != ENOENT) {
    return ErrnoError(
        absl::StrCat("verify that cwd ", Quote(cwd), " is inside the container root"));
  }
  if (!got_cwd || buf[0] != '/') {
    return ErrnoError(ENOENT, absl::StrCat("cwd ", Quote(cwd), " is outside the container root"));
  }
  return absl::OkStatus();
}

// With SCMP_ACT_NOTIFY, hands the notify fd to the parent (which passes it to the agent)
// and waits until that is done, so no notified syscall waits for an agent that has no
// fd. sendmsg is the one syscall a profile may not notify (PlanSeccomp).
absl::Status LoadSeccomp(const kernel::SeccompPlan& seccomp, const SyncChannel& channel) {
  ASSIGN_OR_RETURN(int notify_fd, kernel::InstallSeccomp(seccomp));
  if (notify_fd < 0) return absl::OkStatus();
  UniqueFd fd(notify_fd);
  RETURN_IF_ERROR(channel.Send(MsgType::kSeccompListener, 0, {}, 0, fd.get()));
  return channel.Expect(MsgType::kSeccompDone).status();
}

void ResetSignals() {
  // The raw syscall: glibc's signal() refuses its internal real-time signals (32, 33),
  // which a caller may still have set to ignored.
  struct {
    void* handler;
    unsigned long flags;
    void* restorer;
    uint64_t mask;
  } dfl = {};  // SIG_DFL, no flags, empty mask
  for (int sig = 1; sig <= 64; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP)
      syscall(SYS_rt_sigaction, sig, &dfl, nullptr, sizeof(uint64_t));
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
}

std::vector<char*> CStrings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const std::string& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace husk::process
