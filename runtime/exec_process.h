// The process `husk exec` runs, from its flags, the --process file and the bundle's
// config.json: runc's getProcess (the file as is, or the config's process with the
// flags' overrides), then the container-config defaults runc's newInitConfig fills in
// (capabilities when the process has none, rlimits when it has none). Pure; parent only.
#ifndef HUSK_RUNTIME_EXEC_PROCESS_H_
#define HUSK_RUNTIME_EXEC_PROCESS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "runtime/container.h"
#include "spec/config.h"

namespace husk::internal {

// `process_json`: the --process file's content (nullopt without --process). `config`:
// the bundle's config.json process (null when it could not be read: then only a
// --process file that names capabilities works). Errors use runc's texts
// ("exec args cannot be empty", "Cwd must be an absolute path") or name the pointer of
// a field husk refuses (process/apparmorProfile: not supported yet).
absl::StatusOr<spec::Process> ExecProcess(const ExecOptions& options,
                                          const std::optional<std::string>& process_json,
                                          const spec::Process* config);
// The same with the config read only when it is needed (`load_config` returns the
// process or null): without --process, or when the file leaves out capabilities, rlimits
// or oomScoreAdj.
absl::StatusOr<spec::Process> ExecProcess(const ExecOptions& options,
                                          const std::optional<std::string>& process_json,
                                          absl::FunctionRef<const spec::Process*()> load_config);

// --cgroup values as runc reads them: "path" alone (the same sub-cgroup of every
// hierarchy; only once) or "ctrl[,ctrl...]:path" per controller. Map: controller ("" for
// all) -> path.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseSubCgroups(
    const std::vector<std::string>& values);

}  // namespace husk::internal

#endif  // HUSK_RUNTIME_EXEC_PROCESS_H_
