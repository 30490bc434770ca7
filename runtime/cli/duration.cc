#include "runtime/cli/duration.h"

#include <cstdint>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "runtime/base/status.h"

namespace husk::cli {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Nanoseconds per unit, 0 if unknown.
int64_t UnitNanos(absl::string_view unit) {
  if (unit == "ns") return 1;
  if (unit == "us" || unit == "\xc2\xb5s" || unit == "\xce\xbcs") return 1000;  // µs, μs
  if (unit == "ms") return 1000000;
  if (unit == "s") return 1000000000;
  if (unit == "m") return int64_t{60} * 1000000000;
  if (unit == "h") return int64_t{3600} * 1000000000;
  return 0;
}

}  // namespace

absl::StatusOr<int64_t> ParseGoDuration(absl::string_view text) {
  const std::string quoted = Quote(text);
  auto invalid = [&] {
    return absl::InvalidArgumentError(absl::StrCat("time: invalid duration ", quoted));
  };
  absl::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return 0;
  if (s.empty()) return invalid();
  // Accumulate in unsigned: |INT64_MIN| is one more than INT64_MAX.
  constexpr uint64_t kLimit = uint64_t{1} << 63;
  uint64_t total = 0;
  while (!s.empty()) {
    // [0-9]*(\.[0-9]*)?
    if (!IsDigit(s[0]) && s[0] != '.') return invalid();
    uint64_t whole = 0;
    size_t i = 0;
    bool digits = false;
    for (; i < s.size() && IsDigit(s[i]); ++i) {
      if (whole > kLimit / 10) return invalid();  // overflow
      whole = whole * 10 + static_cast<uint64_t>(s[i] - '0');
      if (whole > kLimit) return invalid();
      digits = true;
    }
    uint64_t frac = 0;
    long double scale = 1;
    if (i < s.size() && s[i] == '.') {
      for (++i; i < s.size() && IsDigit(s[i]); ++i) {
        digits = true;
        if (scale < 1e18L) {  // further digits cannot change the result
          frac = frac * 10 + static_cast<uint64_t>(s[i] - '0');
          scale *= 10;
        }
      }
    }
    if (!digits) return invalid();
    size_t u = i;
    while (u < s.size() && !IsDigit(s[u]) && s[u] != '.') ++u;
    absl::string_view unit_text = s.substr(i, u - i);
    if (unit_text.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("time: missing unit in duration ", quoted));
    }
    int64_t unit = UnitNanos(unit_text);
    if (unit == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("time: unknown unit ", Quote(unit_text), " in duration ", quoted));
    }
    if (whole > kLimit / static_cast<uint64_t>(unit)) return invalid();
    uint64_t v = whole * static_cast<uint64_t>(unit);
    if (frac > 0) {
      v += static_cast<uint64_t>(static_cast<long double>(frac) * unit / scale);
      if (v > kLimit) return invalid();
    }
    total += v;
    if (total > kLimit) return invalid();
    s.remove_prefix(u);
  }
  if (!negative && total == kLimit) return invalid();
  if (negative) return total == kLimit ? std::numeric_limits<int64_t>::min()
                                       : -static_cast<int64_t>(total);
  return static_cast<int64_t>(total);
}

}  // namespace husk::cli
