// Subprocess plumbing for the conformance harness: runs one argv with a timeout, captures
// or redirects its stdio, and waits for container inits the harness adopted as a child
// subreaper. Only pids this process started (or adopted) are ever signalled or reaped.
#ifndef HUSK_CONFORMANCE_HARNESS_COMMAND_H_
#define HUSK_CONFORMANCE_HARNESS_COMMAND_H_

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace husk::conformance {

struct CmdResult {
  int exit_code = -1;   // WEXITSTATUS, or -1 when killed by a signal / not started
  int term_signal = 0;  // WTERMSIG when killed by a signal
  bool timed_out = false;
  std::string out, err;  // captured output (empty when redirected to a file)
  std::string command;   // argv joined, for messages
  double ms = 0;         // wall time
  bool ok() const { return exit_code == 0 && !timed_out; }
  // "`cmd` exited 1: <stderr/stdout excerpt>" for failure reasons.
  std::string Describe() const;
};

struct CmdOptions {
  std::chrono::milliseconds timeout{10000};
  // When non-empty the child's stdout/stderr go to these files (appended) instead of a
  // pipe: a container started by `create` inherits them and outlives the command.
  std::string stdout_file;
  std::string stderr_file;
};

// Runs argv (argv[0] absolute or found in PATH). stdin is /dev/null. On timeout the
// child's process group is SIGKILLed.
CmdResult RunCmd(const std::vector<std::string>& argv, const CmdOptions& opts = {});

// Makes this process a child subreaper so detached container inits become its children.
void BecomeSubreaper();
// Reaps any exited adopted children (call only while no RunCmd is in flight).
void ReapOrphans();
// True once pid has exited (gone, zombie or reaped here) within the timeout.
bool WaitPidGone(pid_t pid, std::chrono::milliseconds timeout);

// Small file helpers; ReadFileOr returns `fallback` when the file cannot be read.
std::string ReadFileOr(const std::string& path, const std::string& fallback = "");
bool WriteFileText(const std::string& path, const std::string& text);
std::string Quote(const std::vector<std::string>& argv);
// True if a mount point in this mount namespace lies at or under `path`.
bool HasMountsUnder(const std::string& path);

}  // namespace husk::conformance

#endif  // HUSK_CONFORMANCE_HARNESS_COMMAND_H_
