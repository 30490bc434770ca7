// Runs one OCI hook (config.md "POSIX-platform Hooks"): fork + execve of `path` with
// `args` and `env` exactly, the state JSON on its stdin, in its own process group, killed
// with that group when `timeout` passes, its stdout/stderr captured (bounded) for the
// error. No threads and no state: callable from the parent (create, start, delete) and
// from the container init before it execs the user program.
#ifndef HUSK_HOOKS_RUNNER_H_
#define HUSK_HOOKS_RUNNER_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "spec/config.h"

namespace husk::hooks {

// Bytes of each of stdout and stderr kept for the error message; the rest is read and
// dropped so a chatty hook never blocks on a full pipe.
inline constexpr size_t kKeptOutput = 4096;

struct RunOptions {
  // The environment when the hook's `env` is empty. nullptr: this process's environ,
  // which is what runc's Go exec does with an empty Env.
  const std::vector<std::string>* fallback_env = nullptr;
};

// Runs `hook` to completion with `state_json` on its stdin (then closed; a hook that
// does not read it is fine). argv is `args` (just `path` when args is empty, as Go's
// exec does); fds 0/1/2 are the stdin pipe and the capture pipes, nothing else is
// inherited. Returns once the hook itself has exited: a grandchild that keeps the output
// pipes open is not waited for. Errors, with the captured output appended as
// ", stdout: ..., stderr: ..." when there is any:
//   "exit status 3", "killed by signal 9 (Killed)", "timed out after 5s (killed)",
//   "exec \"/x\": no such file or directory".
absl::Status RunHook(const spec::Hook& hook, absl::string_view state_json,
                     const RunOptions& options = {});

}  // namespace husk::hooks

#endif  // HUSK_HOOKS_RUNNER_H_
