// config.json -> spec::Config: JSON syntax, member types, required members and integer
// ranges. Semantic rules (absolute paths, duplicates, enums) live in spec/validate.h and
// what husk implements in spec/support.h. Errors name the JSON pointer of the field at
// fault: `process/user/uid: expected an integer`. Pure (LoadConfig only reads the file);
// meant for the parent, never the cloned child.
#ifndef HUSK_SPEC_PARSE_H_
#define HUSK_SPEC_PARSE_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "spec/config.h"

namespace husk::spec {

// Inputs larger than this are refused before parsing.
inline constexpr size_t kMaxConfigBytes = 16 << 20;
// Deepest array/object nesting accepted (the deepest real config member is ~7 levels).
inline constexpr int kMaxJsonDepth = 64;

// A whole config.json document. Unknown members are ignored (config.md "Extensibility");
// JSON null counts as absent. Duplicate member names in one object are an error, since
// other parsers (Go's keeps the last) would read a different config than ours.
absl::StatusOr<Config> ParseConfig(absl::string_view json);

// Reads and parses `path`. Errors: "open config.json: <strerror>" (or "read ..."),
// "config.json: larger than 16 MiB", then ParseConfig's.
absl::StatusOr<Config> LoadConfig(const std::string& path);

// A bare `process` object (`exec --process FILE`); pointers start with "process/".
absl::StatusOr<Process> ParseProcess(absl::string_view json);

// A bare `linux.resources` object (`update -r FILE`); pointers start with "resources/".
absl::StatusOr<Resources> ParseResources(absl::string_view json);

// A bare `hooks` object (the copy `create` keeps in the state dir for `start` and
// `delete`); pointers start with "hooks/".
absl::StatusOr<Hooks> ParseHooksJson(absl::string_view json);

}  // namespace husk::spec

#endif  // HUSK_SPEC_PARSE_H_
