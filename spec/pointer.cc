#include "spec/pointer.h"

#include "absl/strings/str_cat.h"

namespace husk::spec {

std::string PointerJoin(absl::string_view base, absl::string_view token) {
  std::string out(base);
  if (!out.empty()) out.push_back('/');
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string PointerJoin(absl::string_view base, size_t index) {
  if (base.empty()) return absl::StrCat(index);
  return absl::StrCat(base, "/", index);
}

}  // namespace husk::spec
