// Go's time.ParseDuration, which urfave/cli's DurationFlag (runc's `events --interval`)
// uses: "5s", "500ms", "1m30s", "1.5h", "-2s", "0". Pure.
#ifndef HUSK_RUNTIME_CLI_DURATION_H_
#define HUSK_RUNTIME_CLI_DURATION_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace husk::cli {

// Nanoseconds. Units ns, us (also µs, μs), ms, s, m, h; every number needs a unit except a
// lone "0". InvalidArgument (Go's text: `time: invalid duration "x"`, `time: missing unit
// in duration "1"`, `time: unknown unit "d" in duration "1d"`) or on int64 overflow.
absl::StatusOr<int64_t> ParseGoDuration(absl::string_view text);

}  // namespace husk::cli

#endif  // HUSK_RUNTIME_CLI_DURATION_H_
