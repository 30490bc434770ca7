// The hooks the runtime-namespace commands run (cli-contract.md §7): prestart and
// createRuntime in `create`, poststart in `start`, poststop in `delete`, with the state
// each reads on stdin, and hooks.json, the copy of the later ones kept in the state dir.
// createContainer and startContainer are the init's (runtime/process/init.cc).
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "hooks/phases.h"
#include "hooks/saved.h"
#include "runtime/base/fs.h"
#include "runtime/base/log.h"
#include "runtime/base/status.h"
#include "runtime/container_internal.h"
#include "runtime/kernel/cgroups/cgroups.h"
#include "spec/parse.h"

namespace husk::internal {

spec::StateDoc HookState(const state::Record& record, const char* status) {
  spec::StateDoc state;
  state.oci_version = record.oci_version;
  state.id = record.id;
  state.status = status;
  state.pid = record.pid;
  state.bundle = record.bundle;
  state.annotations = record.annotations;
  return state;
}

absl::Status RunCreateRuntimeHooks(const spec::Hooks& hooks, const spec::StateDoc& state) {
  std::string json = spec::SerializeHookState(state, true);
  for (hooks::Phase phase : {hooks::Phase::kPrestart, hooks::Phase::kCreateRuntime}) {
    absl::Status s = hooks::RunPhase(phase, hooks::HooksOf(hooks, phase), json, nullptr);
    if (!s.ok()) return Annotate(s, absl::StrCat("create ", Quote(state.id)));
  }
  return absl::OkStatus();
}

absl::Status SaveHooks(const state::ContainerDir& dir, const std::optional<spec::Hooks>& hooks) {
  if (!hooks || (hooks->poststart.empty() && hooks->poststop.empty())) return absl::OkStatus();
  std::string json = hooks::SerializeHooks(hooks::HooksAfterCreate(*hooks));
  UniqueFd fd(
      openat(dir.fd(), hooks::kSavedHooksFile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd) return ErrnoError(absl::StrCat("create ", Quote(hooks::kSavedHooksFile)));
  if (write(fd.get(), json.data(), json.size()) != static_cast<ssize_t>(json.size())) {
    return ErrnoError(absl::StrCat("write ", Quote(hooks::kSavedHooksFile)));
  }
  return absl::OkStatus();
}

absl::StatusOr<spec::Hooks> LoadSavedHooks(const state::ContainerDir& dir) {
  auto json = ReadFileAt(dir.fd(), hooks::kSavedHooksFile, spec::kMaxConfigBytes);
  if (!json.ok()) {
    if (StatusErrno(json.status()) == ENOENT) return spec::Hooks{};  // none configured
    return json.status();
  }
  auto parsed = spec::ParseHooksJson(*json);
  if (!parsed.ok()) return Annotate(parsed.status(), hooks::kSavedHooksFile);
  return parsed;
}

// Spec v1.1+: a failing poststart hook is an error and the container is stopped.
absl::Status RunPoststart(const state::Record& record, const spec::Hooks& saved) {
  if (saved.poststart.empty()) return absl::OkStatus();
  std::string json = spec::SerializeHookState(HookState(record, "running"), true);
  absl::Status s = hooks::RunPhase(hooks::Phase::kPoststart, saved.poststart, json, nullptr);
  if (s.ok()) return s;
  if (!record.private_pid_ns) (void)kernel::cgroups::SignalAll(record.cgroup_dirs, SIGKILL);
  (void)KillAndWait(record);
  return Annotate(s, absl::StrCat("start ", Quote(record.id)));
}

void RunPoststop(absl::string_view op, const spec::StateDoc& state,
                 const std::vector<spec::Hook>& poststop) {
  if (poststop.empty()) return;
  spec::StateDoc stopped = state;
  stopped.status = "stopped";
  std::vector<std::string> warnings;
  (void)hooks::RunPhase(hooks::Phase::kPoststop, poststop, spec::SerializeHookState(stopped, false),
                        &warnings);
  for (const std::string& w : warnings)
    log::Warning(absl::StrCat(op, " ", Quote(state.id), ": ", w));
}

}  // namespace husk::internal
