// Protection of the host husk binary against /proc/<pid>/exe overwrites (CVE-2019-5736,
// security-bar.md S-01). The container init is a clone of husk until it execs the user
// program, so its /proc/<pid>/exe is husk's binary. Commands that start container
// processes therefore first re-exec husk through a read-only view: a detached, read-only
// overlayfs over husk's directory (no copy), or, where that fails, a sealed memfd copy.
// /proc/<pid>/exe then names a file nobody can open for writing, never the installed
// binary. Skipped when the binary already is a sealed memfd or sits on a read-only mount
// (as it does after the re-exec). Parent only, first thing.
#ifndef HUSK_RUNTIME_PROCESS_SEALED_EXE_H_
#define HUSK_RUNTIME_PROCESS_SEALED_EXE_H_

#include "absl/status/status.h"

namespace husk::process {

// Returns OK when already protected; otherwise does not return on success (execs).
absl::Status EnsureSealedExe(char** argv);

}  // namespace husk::process

#endif  // HUSK_RUNTIME_PROCESS_SEALED_EXE_H_
