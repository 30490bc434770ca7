#include "tests/support/cgroup_child.h"

#include <fcntl.h>
#include <cerrno>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <vector>

namespace husk::testing {

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

std::string MakeV2TestLayout(kernel::cgroups::Layout* layout) {
  absl::StatusOr<kernel::cgroups::Layout> host = kernel::cgroups::Detect();
  if (!host.ok() || host->Unified() == nullptr) return "";
  std::string base = host->Unified()->mount_point + "/husk-test";
  if (mkdir(base.c_str(), 0755) != 0 && errno != EEXIST) return "";
  layout->mode = kernel::cgroups::Mode::kUnified;
  kernel::cgroups::Hierarchy h;
  h.mount_point = base;
  h.unified = true;
  layout->hierarchies = {h};
  return base;
}

JoinedChild::JoinedChild(const kernel::cgroups::Setup& setup) {
  std::vector<kernel::cgroups::JoinTarget> targets = kernel::cgroups::JoinTargets(setup);
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) return;
  pid_ = fork();
  if (pid_ == 0) {
    close(report[0]);
    int err = kernel::cgroups::JoinSelf(targets.data(), targets.size());
    (void)!write(report[1], &err, sizeof(err));
    for (;;) pause();
  }
  close(report[1]);
  if (read(report[0], &join_errno_, sizeof(join_errno_)) != sizeof(join_errno_)) {
    join_errno_ = -1;
  }
  close(report[0]);
}

int JoinedChild::Kill() {
  if (pid_ <= 0) return status_;
  kill(pid_, SIGKILL);
  return Reap();
}

int JoinedChild::Reap() {
  if (pid_ > 0 && waitpid(pid_, &status_, 0) == pid_) pid_ = -1;
  return status_;
}

}  // namespace husk::testing
