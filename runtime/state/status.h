// Container status derived from the real process, never from a stored flag
// (cli-contract.md §2.3, §5.3) and the predicates each command checks. Parent only.
#ifndef HUSK_RUNTIME_STATE_STATUS_H_
#define HUSK_RUNTIME_STATE_STATUS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/state/store.h"

namespace husk::state {

enum class Status { kCreating, kCreated, kRunning, kPaused, kStopped };
const char* StatusName(Status status);  // "created", "running", ...

struct ProcStat {
  char state = '?';         // field 3: R, S, D, Z, X ...
  uint64_t start_time = 0;  // field 22
};
// Parses /proc/<pid>/stat; NotFound if the process is gone. The comm field may contain
// spaces and parentheses: parse from the last ')'.
absl::StatusOr<ProcStat> ReadProcStat(int pid);
absl::StatusOr<ProcStat> ParseProcStat(std::string_view content);

// True while pid exists, is not a zombie/dead ('Z'/'X') and has the recorded start time.
bool ProcessAlive(int pid, uint64_t start_time);

// Name of the file whose presence means "created, not yet started" (the init waits on the
// socket bound there; start removes it).
inline constexpr char kExecSocketName[] = "exec.sock";

// status: paused if the freezer says FROZEN (`frozen` argument), stopped if the init is
// not alive, created while <dir>/exec.sock exists, else running.
Status DeriveStatus(const ContainerDir& dir, const Record& record, bool frozen);

// Predicates returning the runc error text when the operation is not allowed.
absl::Status CanStart(Status status);   // "cannot start an already running container" ...
absl::Status CanKill(Status status);    // stopped: "container not running"
absl::Status CanDelete(const std::string& id, Status status, bool force);
// "cannot delete container <id> that is not stopped: running"

}  // namespace husk::state

#endif  // HUSK_RUNTIME_STATE_STATUS_H_
