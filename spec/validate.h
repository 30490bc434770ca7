// The runtime-spec's MUSTs that a parsed Config can be checked against without touching
// the host: versions, absolute paths, duplicates, enum values, cross-field rules (a new
// user namespace needs mappings ...). Not here: what husk implements (spec/support.h) and
// anything needing the filesystem. Pure; parent only. Errors name the JSON pointer:
// `linux/namespaces/2/type: duplicate namespace "pid"`.
#ifndef HUSK_SPEC_VALIDATE_H_
#define HUSK_SPEC_VALIDATE_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "spec/config.h"

namespace husk::spec {

// A whole config.json for a Linux container. `root` is required; `process` is not (the
// spec only needs it at start; create should insist on it itself), but when present its
// args must be non-empty.
absl::Status ValidateConfig(const Config& config);

// The process-local rules (cwd, args, env, capabilities, rlimits ...), for `exec
// --process`. `pointer` prefixes error pointers ("process").
absl::Status ValidateProcess(const Process& process, absl::string_view pointer = "process");

// linux.resources on its own, for `update`. `pointer` prefixes error pointers.
absl::Status ValidateResources(const Resources& resources,
                               absl::string_view pointer = "linux/resources");

}  // namespace husk::spec

#endif  // HUSK_SPEC_VALIDATE_H_
