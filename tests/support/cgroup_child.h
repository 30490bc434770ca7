// For the real-kernel cgroup tests (tests/unit/cgroups_v*_test.cc): a forked child that
// joins a Setup's cgroups and blocks until killed, and small file helpers. Test-process
// code only; only the child this object forked is ever signalled.
#ifndef HUSK_TESTS_SUPPORT_CGROUP_CHILD_H_
#define HUSK_TESTS_SUPPORT_CGROUP_CHILD_H_

#include <string>

#include "runtime/kernel/cgroups/cgroups.h"

namespace husk::testing {

// The file's text without trailing newlines/spaces ("" if unreadable).
std::string ReadText(const std::string& path);
bool Exists(const std::string& path);

// The pure v2 layout the cgroup2 tests use: one cgroup2 hierarchy "mounted" at
// <cgroup2 mount>/husk-test (created if missing), so container dirs go below it. Returns
// that base dir, or "" (layout untouched) when the host has no cgroup2 mount or the dir
// cannot be made.
std::string MakeV2TestLayout(kernel::cgroups::Layout* layout);

class JoinedChild {
 public:
  // Forks; the child writes "0" into each of the setup's cgroups (JoinSelf) and reports
  // the errno of the join, then pauses for ever.
  explicit JoinedChild(const kernel::cgroups::Setup& setup);
  ~JoinedChild() { Kill(); }
  JoinedChild(const JoinedChild&) = delete;
  JoinedChild& operator=(const JoinedChild&) = delete;
  int pid() const { return pid_; }
  int join_errno() const { return join_errno_; }
  // Kills (if still running) and reaps; returns the wait status.
  int Kill();
  int Reap();

 private:
  int pid_ = -1;
  int join_errno_ = -1;
  int status_ = 0;
};

}  // namespace husk::testing

#endif  // HUSK_TESTS_SUPPORT_CGROUP_CHILD_H_
