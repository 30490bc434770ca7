// A helper program the test starts in the background (a seccomp agent, a process holding
// namespaces): fork + exec of an absolute path, SIGKILLed and reaped when this goes out of
// scope, so only a pid the test started is ever signalled. Plain C++ (no gtest): used by
// the tests and by the conformance harness. Test-process code only.
#ifndef HUSK_TESTS_SUPPORT_BACKGROUND_PROCESS_H_
#define HUSK_TESTS_SUPPORT_BACKGROUND_PROCESS_H_

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace husk::testing {

class BackgroundProcess {
 public:
  explicit BackgroundProcess(const std::vector<std::string>& argv) {
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::execv(args[0], args.data());
      ::_exit(127);
    }
  }
  ~BackgroundProcess() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;
  pid_t pid() const { return pid_; }
  // /proc/<pid>/ns/<type>
  std::string NsPath(const std::string& type) const {
    return "/proc/" + std::to_string(pid_) + "/ns/" + type;
  }

 private:
  pid_t pid_ = -1;
};

// argv for a process in new mount and uts namespaces that sleeps (unshare(1)).
inline std::vector<std::string> NamespaceHolderArgv() {
  return {"/usr/bin/unshare", "--mount", "--uts", "--propagation", "private", "/bin/sleep", "60"};
}

}  // namespace husk::testing

#endif  // HUSK_TESTS_SUPPORT_BACKGROUND_PROCESS_H_
