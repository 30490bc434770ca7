#include "hooks/phases.h"

#include "absl/strings/str_cat.h"
#include "runtime/base/status.h"

namespace husk::hooks {

const char* PhaseName(Phase phase) {
  switch (phase) {
    case Phase::kPrestart:
      return "prestart";
    case Phase::kCreateRuntime:
      return "createRuntime";
    case Phase::kCreateContainer:
      return "createContainer";
    case Phase::kStartContainer:
      return "startContainer";
    case Phase::kPoststart:
      return "poststart";
    case Phase::kPoststop:
      return "poststop";
  }
  return "unknown";
}

const std::vector<spec::Hook>& HooksOf(const spec::Hooks& hooks, Phase phase) {
  switch (phase) {
    case Phase::kPrestart:
      return hooks.prestart;
    case Phase::kCreateRuntime:
      return hooks.create_runtime;
    case Phase::kCreateContainer:
      return hooks.create_container;
    case Phase::kStartContainer:
      return hooks.start_container;
    case Phase::kPoststart:
      return hooks.poststart;
    case Phase::kPoststop:
      break;
  }
  return hooks.poststop;
}

absl::Status RunPhase(Phase phase, const std::vector<spec::Hook>& hooks,
                      absl::string_view state_json, std::vector<std::string>* warnings,
                      const RunOptions& options) {
  for (size_t i = 0; i < hooks.size(); ++i) {
    absl::Status status = RunHook(hooks[i], state_json, options);
    if (status.ok()) continue;
    status = Annotate(status,
                      absl::StrCat(PhaseName(phase), " hook ", i, " (", Quote(hooks[i].path), ")"));
    if (phase != Phase::kPoststop) return status;
    if (warnings != nullptr) warnings->push_back(std::string(status.message()));
  }
  return absl::OkStatus();
}

}  // namespace husk::hooks
