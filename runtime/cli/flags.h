// The flag scanner behind husk's runc-compatible grammar: every flag may be written
// --name, -name, --name=value, -name=value or --name value; booleans take =true/=false;
// repeated flags keep the last value. It knows nothing about commands (parse.cc supplies
// the tables). Pure: never prints, never exits. Parent process only.
#ifndef HUSK_RUNTIME_CLI_FLAGS_H_
#define HUSK_RUNTIME_CLI_FLAGS_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace husk::cli {

enum class FlagKind { kBool, kValue };

struct FlagDef {
  absl::string_view name;   // long name without dashes, e.g. "pid-file"
  absl::string_view alias;  // short alias without dash ("b"), or empty
  FlagKind kind;
};

// Where scanning stops.
enum class ScanMode {
  kUntilPositional,  // global flags: stop at the first non-flag (the command)
  kInterleaved,      // command flags: flags may also follow positionals, until "--"
};

struct ScanResult {
  std::map<std::string, std::string, std::less<>> values;  // canonical name -> last value
  std::map<std::string, std::vector<std::string>, std::less<>> lists;  // every value given
  std::vector<std::string> positionals;  // kUntilPositional: the first one and all after

  bool Has(absl::string_view name) const { return values.find(name) != values.end(); }
  // Booleans are stored as "true"/"false"; unset is false.
  bool Bool(absl::string_view name) const;
  std::optional<std::string> Value(absl::string_view name) const;
  // Every value of a repeated value flag, in command-line order; empty when unset.
  std::vector<std::string> Values(absl::string_view name) const;
};

// One row of an OPTIONS table, urfave/cli style: "--bundle value, -b value" then usage.
struct OptionHelp {
  absl::string_view flags;
  absl::string_view usage;
};

// filepath.Abs, for flag values that are paths: join with cwd, then clean "//", "." and
// ".." lexically (no symlinks).
std::string AbsoluteTo(absl::string_view cwd, absl::string_view path);

// Go's strconv.ParseBool, which runc's flags use: 1 t T TRUE true True, 0 f F FALSE ...
std::optional<bool> ParseBool(absl::string_view s);

// Scans `args` against `defs`. Errors use Go's flag package wording, which users of runc
// know: `flag provided but not defined: -foo`, `flag needs an argument: -bundle`.
absl::StatusOr<ScanResult> ScanFlags(absl::Span<const FlagDef> defs,
                                     absl::Span<const std::string> args, ScanMode mode);

}  // namespace husk::cli

#endif  // HUSK_RUNTIME_CLI_FLAGS_H_
