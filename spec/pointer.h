// JSON-pointer text for error messages: "process/capabilities/bounding/2" (RFC 6901 tokens,
// written without the leading slash, as design.md's error style wants).
// Internal to spec/; pure string code, callable from any process.
#ifndef HUSK_SPEC_POINTER_H_
#define HUSK_SPEC_POINTER_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace husk::spec {

// `base` + "/" + `token` with "~" -> "~0" and "/" -> "~1" in the token, so that an
// annotation key like "com.example/x" stays one token. An empty base gives the token alone.
std::string PointerJoin(absl::string_view base, absl::string_view token);
std::string PointerJoin(absl::string_view base, size_t index);

}  // namespace husk::spec

#endif  // HUSK_SPEC_POINTER_H_
