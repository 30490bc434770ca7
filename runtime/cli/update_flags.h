// `update`'s command line (runc's flags) for parse.cc: the flag and help tables and the
// conversion of scanned flags into UpdateOptions (JSON pointers into linux.resources with
// their values). Pure: never prints, never exits. Parent process only.
#ifndef HUSK_RUNTIME_CLI_UPDATE_FLAGS_H_
#define HUSK_RUNTIME_CLI_UPDATE_FLAGS_H_

#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "runtime/cli/flags.h"
#include "runtime/container.h"

namespace husk::cli {

inline constexpr FlagDef kUpdateFlagDefs[] = {
    {"resources", "r", FlagKind::kValue},
    {"memory", "m", FlagKind::kValue},
    {"memory-reservation", "", FlagKind::kValue},
    {"memory-swap", "", FlagKind::kValue},
    {"kernel-memory", "", FlagKind::kValue},
    {"kernel-memory-tcp", "", FlagKind::kValue},
    {"cpu-period", "", FlagKind::kValue},
    {"cpu-quota", "", FlagKind::kValue},
    {"cpu-share", "", FlagKind::kValue},
    {"cpu-rt-period", "", FlagKind::kValue},
    {"cpu-rt-runtime", "", FlagKind::kValue},
    {"cpuset-cpus", "", FlagKind::kValue},
    {"cpuset-mems", "", FlagKind::kValue},
    {"blkio-weight", "", FlagKind::kValue},
    {"pids-limit", "", FlagKind::kValue},
    {"l3-cache-schema", "", FlagKind::kValue},
    {"mem-bw-schema", "", FlagKind::kValue},
    {"help", "h", FlagKind::kBool},
};

inline constexpr OptionHelp kUpdateHelp[] = {
    {"--resources value, -r value",
     "a linux.resources JSON file to merge in (\"-\" reads stdin)"},
    {"--memory value, -m value", "memory limit, in bytes or with a k/m/g/t suffix"},
    {"--memory-reservation value", "memory soft limit"},
    {"--memory-swap value", "memory+swap limit (-1: unlimited)"},
    {"--kernel-memory value", "kernel memory limit (ignored by Linux: a warning)"},
    {"--kernel-memory-tcp value", "kernel TCP buffer limit (cgroup v1)"},
    {"--cpu-period value", "CPU CFS period in microseconds"},
    {"--cpu-quota value", "CPU CFS quota in microseconds (-1: unlimited)"},
    {"--cpu-share value", "CPU shares (relative weight)"},
    {"--cpu-rt-period value", "real-time period in microseconds (cgroup v1)"},
    {"--cpu-rt-runtime value", "real-time runtime in microseconds (cgroup v1)"},
    {"--cpuset-cpus value", "CPUs allowed, e.g. 0-3"},
    {"--cpuset-mems value", "memory nodes allowed"},
    {"--blkio-weight value", "block IO weight, 10 to 1000"},
    {"--pids-limit value", "maximum number of processes (-1 or 0: unlimited)"},
};

// Every flag of kUpdateFlagDefs into `update`; intelRdt's are refused.
absl::Status ApplyUpdateFlags(const ScanResult& flags, UpdateOptions& update);

// Go's units.RAMInBytes as runc's update uses it; nullopt when malformed or too large.
std::optional<int64_t> ParseBytes(absl::string_view text);

}  // namespace husk::cli

#endif  // HUSK_RUNTIME_CLI_UPDATE_FLAGS_H_
