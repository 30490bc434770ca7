// Runs a parsed Invocation: calls the lifecycle in runtime/container.h, prints what the
// command prints on stdout (state/list JSON, version, help, features), and hands errors
// back unprinted. Main() is the whole program: log pre-scan, parse, dispatch, and the one
// error report (cli-contract.md §3, §5.4). Parent process only; the only place that prints.
#ifndef HUSK_RUNTIME_CLI_DISPATCH_H_
#define HUSK_RUNTIME_CLI_DISPATCH_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "runtime/cli/parse.h"

namespace husk::cli {

// The exit code on success (0, or the container's status for a foreground `run`).
absl::StatusOr<int> Dispatch(const Invocation& invocation);

// `spec`: creates <bundle>/config.json exclusively; an existing file (or symlink) gives
// "File config.json exists. Remove it first".
absl::Status WriteSpecFile(const std::string& bundle, absl::string_view content);

// The program. Every failure is reported exactly once through log::Error and exits 1
// (3 for an unknown `help TOPIC`, as runc).
int Main(int argc, char** argv);

}  // namespace husk::cli

#endif  // HUSK_RUNTIME_CLI_DISPATCH_H_
