// The child side of create: the stage process and the container init. Everything here
// runs in the cloned child (single-threaded, never returns into parent frames: it ends in
// execve or _exit). Errors go to the parent over the sync channel while it listens, and
// to the container's stderr after create has returned.
#ifndef HUSK_RUNTIME_PROCESS_INIT_H_
#define HUSK_RUNTIME_PROCESS_INIT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/process/init_plan.h"
#include "runtime/process/sync_channel.h"

namespace husk::process {

// `join_unified_fd` >= 0: clone3 could not place the child in its cgroup2 dir
// (CLONE_INTO_CGROUP unsupported), so the child writes itself into that dir's
// cgroup.procs with the v1 joins (the slower path: the global threadgroup rwsem).
[[noreturn]] void RunChild(const InitPlan& plan, SyncChannel& channel, int join_unified_fd = -1);

// exec.LookPath semantics: a name with a "/" is checked as is; otherwise each PATH entry
// (from the container env) is tried. Errors use runc's wording, which Docker and podman
// map to exit codes 126/127:  exec: "x": executable file not found in $PATH
absl::StatusOr<std::string> LookPath(const std::string& file, const std::vector<std::string>& env);

}  // namespace husk::process

#endif  // HUSK_RUNTIME_PROCESS_INIT_H_
