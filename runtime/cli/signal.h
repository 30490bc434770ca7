// Signal names and numbers as `kill` accepts them: a decimal number 0-64 (0 checks that
// the process exists and sends nothing), or a name with or without "SIG" in any case
// (KILL, SIGKILL, kill, RTMIN+3). Pure; parent process only.
#ifndef HUSK_RUNTIME_CLI_SIGNAL_H_
#define HUSK_RUNTIME_CLI_SIGNAL_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace husk::cli {

// Errors read `unknown signal "FOO"`, quoting the argument as given.
absl::StatusOr<int> ParseSignal(absl::string_view text);

}  // namespace husk::cli

#endif  // HUSK_RUNTIME_CLI_SIGNAL_H_
