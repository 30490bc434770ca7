// The six OCI hook phases (runtime.md "Lifecycle") and their failure policy: every phase
// but poststop stops at the first failing hook and fails the operation; a failing
// poststop hook is only a warning and the remaining ones still run. Any process that may
// run hooks (see runner.h).
#ifndef HUSK_HOOKS_PHASES_H_
#define HUSK_HOOKS_PHASES_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "hooks/runner.h"
#include "spec/config.h"

namespace husk::hooks {

enum class Phase {
  kPrestart,
  kCreateRuntime,
  kCreateContainer,
  kStartContainer,
  kPoststart,
  kPoststop
};

// The config.json name: "prestart", "createRuntime", ...
const char* PhaseName(Phase phase);
// The hooks of `phase` in `hooks`.
const std::vector<spec::Hook>& HooksOf(const spec::Hooks& hooks, Phase phase);

// Runs the hooks of one phase in array order with `state_json` on each one's stdin.
// A failure reads `<phase> hook <index> ("<path>"): <RunHook error>`. For kPoststop every
// hook runs, each failure is appended to `warnings` and the result is OK; for the other
// phases the first failure is returned and the later hooks do not run.
absl::Status RunPhase(Phase phase, const std::vector<spec::Hook>& hooks,
                      absl::string_view state_json, std::vector<std::string>* warnings,
                      const RunOptions& options = {});

}  // namespace husk::hooks

#endif  // HUSK_HOOKS_PHASES_H_
