// The child-side steps shared by the container init (init.cc) and exec'd processes
// (exec_child.cc): failure reporting, the uid/gid/capability switch, the environment,
// the fds passed on, the cwd check, the seccomp load and the signal reset before execve.
// Child only: each runs in a cloned, single-threaded process that ends in execve or _exit.
#ifndef HUSK_RUNTIME_PROCESS_INIT_STEPS_H_
#define HUSK_RUNTIME_PROCESS_INIT_STEPS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "runtime/kernel/capabilities.h"
#include "runtime/kernel/seccomp.h"
#include "runtime/process/sync_channel.h"

namespace husk::process {

// Reports `status` to the parent over `channel` (kError); when nobody listens any more
// (after create has returned) writes "<who>: <text>" to stderr instead. Then _exit(1).
[[noreturn]] void Die(const SyncChannel& channel, const absl::Status& status,
                      const char* who = "husk init");

#define CHILD_CHECK(channel, expr)                                  \
  do {                                                              \
    ::absl::Status husk_child_status_ = (expr);                     \
    if (!husk_child_status_.ok()) Die(channel, husk_child_status_); \
  } while (0)

// setresgid/setresuid to 0: the creds a process has just after joining or making a
// user namespace are not mapped as root until it asks.
absl::Status BecomeRootInUserns();

// Drops the bounding set, sets the groups, switches uid/gid keeping capabilities, then
// applies the other four sets. `in_user_ns`: setgroups may be denied there (EPERM),
// which is fine when no additional groups were asked for.
absl::Status SwitchUser(const kernel::CapPlan& caps, uid_t uid, gid_t gid,
                        const std::vector<gid_t>& additional_gids, bool in_user_ns);

// `env` plus HOME from the container's /etc/passwd when `env` has none (runc).
std::vector<std::string> FinalEnv(const std::vector<std::string>& env, uid_t uid);

// Closes every fd >= `first` but those in `keep` (the clone inherited all of the
// parent's: the locked state dir, whose flock would block other commands, the log...).
void CloseFdsExcept(unsigned first, std::vector<int> keep);

// Clears CLOEXEC on fds 3 .. 3+preserve_fds-1 and sets it on every fd above.
absl::Status PassFds(int preserve_fds);

// chdir(cwd) and the check that the result is inside the container's root
// (CVE-2024-21626). With `as_root`, a permission error is left for a second call made
// after the uid switch; *entered says whether the chdir happened.
absl::Status EnterCwd(const std::string& cwd, bool as_root, bool* entered);

// Loads the filter; with a listener, hands the notify fd to the parent (kSeccompListener)
// and waits for kSeccompDone.
absl::Status LoadSeccomp(const kernel::SeccompPlan& seccomp, const SyncChannel& channel);

// Default dispositions for every signal and an empty mask: the user program must not
// inherit husk's handlers or its caller's ignored/blocked signals.
void ResetSignals();

// NULL-terminated pointers into `strings`, for execve.
std::vector<char*> CStrings(const std::vector<std::string>& strings);

}  // namespace husk::process

#endif  // HUSK_RUNTIME_PROCESS_INIT_STEPS_H_
