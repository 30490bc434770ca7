#include "runtime/cli/update_flags.h"

#include <cstring>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "runtime/base/status.h"

namespace husk::cli {
namespace {

// update's individual flags (runc's names) and where each lands in linux.resources.
enum class UpdateValue { kBytes, kInt, kUint, kString };
struct UpdateFlag {
  absl::string_view name;
  absl::string_view pointer;  // "" = refused (intelRdt)
  UpdateValue kind;
};
constexpr UpdateFlag kUpdateFlags[] = {
    {"memory", "/memory/limit", UpdateValue::kBytes},
    {"memory-reservation", "/memory/reservation", UpdateValue::kBytes},
    {"memory-swap", "/memory/swap", UpdateValue::kBytes},
    {"kernel-memory", "/memory/kernel", UpdateValue::kBytes},
    {"kernel-memory-tcp", "/memory/kernelTCP", UpdateValue::kBytes},
    {"cpu-period", "/cpu/period", UpdateValue::kUint},
    {"cpu-quota", "/cpu/quota", UpdateValue::kInt},
    {"cpu-share", "/cpu/shares", UpdateValue::kUint},
    {"cpu-rt-period", "/cpu/realtimePeriod", UpdateValue::kUint},
    {"cpu-rt-runtime", "/cpu/realtimeRuntime", UpdateValue::kInt},
    {"cpuset-cpus", "/cpu/cpus", UpdateValue::kString},
    {"cpuset-mems", "/cpu/mems", UpdateValue::kString},
    {"blkio-weight", "/blockIO/weight", UpdateValue::kUint},
    {"pids-limit", "/pids/limit", UpdateValue::kInt},
    {"l3-cache-schema", "", UpdateValue::kString},
    {"mem-bw-schema", "", UpdateValue::kString},
};

}  // namespace

// Go's units.RAMInBytes as runc's update uses it: a number (decimals allowed) and an
// optional k/m/g/t/p suffix in powers of 1024, an optional "i" and "b"; "-1" is unlimited.
std::optional<int64_t> ParseBytes(absl::string_view text) {
  if (text == "-1") return -1;
  size_t i = 0;
  while (i < text.size() && (absl::ascii_isdigit(text[i]) || text[i] == '.')) ++i;
  double number = 0;
  if (i == 0 || !absl::SimpleAtod(text.substr(0, i), &number)) return std::nullopt;
  absl::string_view suffix = absl::StripLeadingAsciiWhitespace(text.substr(i));
  double scale = 1;
  if (!suffix.empty()) {
    const char* units = "kmgtp";
    const char* at = strchr(units, absl::ascii_tolower(suffix[0]));
    if (at != nullptr && *at != '\0') {
      for (const char* u = units; u <= at; ++u) scale *= 1024;
      suffix.remove_prefix(1);
      if (!suffix.empty() && absl::ascii_tolower(suffix[0]) == 'i') suffix.remove_prefix(1);
    }
    if (!suffix.empty() && absl::ascii_tolower(suffix[0]) == 'b') suffix.remove_prefix(1);
    if (!suffix.empty()) return std::nullopt;
  }
  double bytes = number * scale;
  if (bytes > 9.2e18) return std::nullopt;
  return static_cast<int64_t>(bytes);
}

absl::Status ApplyUpdateFlags(const ScanResult& flags, UpdateOptions& update) {
  update.resources = flags.Value("resources").value_or("");
  for (const UpdateFlag& f : kUpdateFlags) {
    std::optional<std::string> value = flags.Value(f.name);
    if (!value) continue;
    auto invalid = [&] {
      return absl::InvalidArgumentError(absl::StrCat("invalid value ", Quote(*value), " for flag -", f.name));
    };
    if (f.pointer.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", f.name, ": linux/intelRdt: not supported yet"));
    }
    std::string json;
    switch (f.kind) {
      case UpdateValue::kBytes: {
        std::optional<int64_t> bytes = ParseBytes(*value);
        if (!bytes) return invalid();
        json = absl::StrCat(*bytes);
        break;
      }
      case UpdateValue::kInt: {
        int64_t n;
        if (!absl::SimpleAtoi(*value, &n)) return invalid();
        json = absl::StrCat(n);
        break;
      }
      case UpdateValue::kUint: {
        uint64_t n;
        if (!absl::SimpleAtoi(*value, &n)) return invalid();
        json = absl::StrCat(n);
        break;
      }
      case UpdateValue::kString:
        json = absl::StrCat("\"", absl::CEscape(*value), "\"");
        break;
    }
    update.set.emplace_back(std::string(f.pointer), json);
  }
  return absl::OkStatus();
}

}  // namespace husk::cli
