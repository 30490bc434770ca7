// Internal to spec/parse*.cc: the member converters every section parser is built from
// (scalars with range checks, objects checked for duplicate names, required / defaulted /
// optional members, arrays and maps) and the section parsers one file calls in another.
// Each converter has the shape (value, pointer, out); errors name the JSON pointer.
// Pure; parent only.
#ifndef HUSK_SPEC_PARSE_MEMBERS_H_
#define HUSK_SPEC_PARSE_MEMBERS_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "rapidjson/document.h"
#include "runtime/base/status.h"
#include "spec/config.h"
#include "spec/pointer.h"

namespace husk::spec::parse_internal {

using rapidjson::SizeType;
using rapidjson::Value;

inline absl::Status Error(absl::string_view pointer, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(pointer, ": ", message));
}

// ---------------------------------------------------------------------------------------
// Scalars. Each converter has the shape (value, pointer, out) so the container helpers
// below can take any of them.

inline absl::Status ToString(const Value& v, const std::string& ptr, std::string* out) {
  if (!v.IsString()) return Error(ptr, "expected a string");
  out->assign(v.GetString(), v.GetStringLength());
  // A NUL would silently truncate the value once it reaches a system call.
  if (out->find('\0') != std::string::npos) return Error(ptr, "contains a NUL byte");
  return absl::OkStatus();
}

inline absl::Status ToBool(const Value& v, const std::string& ptr, bool* out) {
  if (!v.IsBool()) return Error(ptr, "expected a boolean");
  *out = v.GetBool();
  return absl::OkStatus();
}

template <typename T>
constexpr const char* IntTypeName() {
  if constexpr (std::is_same_v<T, uint16_t>) return "uint16";
  if constexpr (std::is_same_v<T, uint32_t>) return "uint32";
  if constexpr (std::is_same_v<T, uint64_t>) return "uint64";
  if constexpr (std::is_same_v<T, int32_t>) return "int32";
  if constexpr (std::is_same_v<T, int64_t>) return "int64";
  return "integer";
}

// Integers must be written as integers (Go's decoder also refuses 1.0 or 1e3 for an int
// field) and fit T.
template <typename T>
absl::Status ToInt(const Value& v, const std::string& ptr, T* out) {
  static_assert(std::is_integral_v<T>);
  if (!v.IsNumber()) return Error(ptr, "expected an integer");
  auto out_of_range = [&](auto shown) {
    return Error(ptr, absl::StrCat(shown, " is out of range for ", IntTypeName<T>()));
  };
  if (v.IsInt64()) {
    int64_t x = v.GetInt64();
    if constexpr (std::is_unsigned_v<T>) {
      if (x < 0 || static_cast<uint64_t>(x) > std::numeric_limits<T>::max()) {
        return out_of_range(x);
      }
    } else {
      if (x < std::numeric_limits<T>::min() || x > std::numeric_limits<T>::max()) {
        return out_of_range(x);
      }
    }
    *out = static_cast<T>(x);
    return absl::OkStatus();
  }
  if (v.IsUint64()) {  // Above INT64_MAX.
    uint64_t x = v.GetUint64();
    if (x > static_cast<uint64_t>(std::numeric_limits<T>::max())) return out_of_range(x);
    *out = static_cast<T>(x);
    return absl::OkStatus();
  }
  double d = v.GetDouble();
  if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) >= 9.2e18) {
    return out_of_range(d);
  }
  return Error(ptr, "expected an integer");
}

// ---------------------------------------------------------------------------------------
// Objects.

// A JSON object at a known pointer, checked once for duplicate member names.
class Obj {
 public:
  static absl::StatusOr<Obj> Of(const Value& v, const std::string& ptr) {
    if (!v.IsObject()) return Error(ptr, "expected an object");
    std::vector<absl::string_view> names;
    names.reserve(v.MemberCount());
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
      names.emplace_back(it->name.GetString(), it->name.GetStringLength());
    }
    std::sort(names.begin(), names.end());
    auto dup = std::adjacent_find(names.begin(), names.end());
    if (dup != names.end()) return Error(PointerJoin(ptr, *dup), "duplicate member name");
    return Obj(&v, ptr);
  }

  // The member's value; nullptr when absent or JSON null (Go semantics: null = unset).
  const Value* Find(absl::string_view key) const {
    auto it = v_->FindMember(Value(rapidjson::StringRef(key.data(), key.size())));
    if (it == v_->MemberEnd() || it->value.IsNull()) return nullptr;
    return &it->value;
  }
  std::string At(absl::string_view key) const { return PointerJoin(ptr_, key); }
  const Value& value() const { return *v_; }
  const std::string& ptr() const { return ptr_; }

 private:
  Obj(const Value* v, std::string ptr) : v_(v), ptr_(std::move(ptr)) {}
  const Value* v_;
  std::string ptr_;
};

// Required member: parse(value, pointer, out), or "missing required field".
template <typename T, typename F>
absl::Status Req(const Obj& o, absl::string_view key, T* out, F parse) {
  const Value* v = o.Find(key);
  if (v == nullptr) return Error(o.At(key), "missing required field");
  return parse(*v, o.At(key), out);
}

// Optional member with a default: left untouched when absent.
template <typename T, typename F>
absl::Status Maybe(const Obj& o, absl::string_view key, T* out, F parse) {
  const Value* v = o.Find(key);
  if (v == nullptr) return absl::OkStatus();
  return parse(*v, o.At(key), out);
}

// Optional member kept as std::optional so absent and zero stay distinct.
template <typename T, typename F>
absl::Status Opt(const Obj& o, absl::string_view key, std::optional<T>* out, F parse) {
  const Value* v = o.Find(key);
  if (v == nullptr) return absl::OkStatus();
  T tmp{};
  RETURN_IF_ERROR(parse(*v, o.At(key), &tmp));
  *out = std::move(tmp);
  return absl::OkStatus();
}

// Array converter from an element converter.
template <typename T, typename F>
auto ArrayOf(F elem) {
  return [elem](const Value& v, const std::string& ptr, std::vector<T>* out) -> absl::Status {
    if (!v.IsArray()) return Error(ptr, "expected an array");
    out->clear();
    out->reserve(v.Size());
    for (SizeType i = 0; i < v.Size(); ++i) {
      T item{};
      RETURN_IF_ERROR(elem(v[i], PointerJoin(ptr, i), &item));
      out->push_back(std::move(item));
    }
    return absl::OkStatus();
  };
}

// Object-as-map converter (annotations, sysctl, rdma ...) from a value converter.
template <typename T, typename F>
auto MapOf(F elem) {
  return [elem](const Value& v, const std::string& ptr,
                std::map<std::string, T>* out) -> absl::Status {
    ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
    out->clear();
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
      std::string key(it->name.GetString(), it->name.GetStringLength());
      T item{};
      RETURN_IF_ERROR(elem(it->value, o.At(key), &item));
      out->emplace(std::move(key), std::move(item));
    }
    return absl::OkStatus();
  };
}

inline const auto kStrings = ArrayOf<std::string>(ToString);
inline const auto kStringMap = MapOf<std::string>(ToString);

// Section parsers defined in one parse*.cc and used by another.
absl::Status ParseIdMapping(const Value& v, const std::string& ptr, IdMapping* out);
inline const auto kIdMappings = ArrayOf<IdMapping>(ParseIdMapping);
absl::Status ParseProcessAt(const Value& v, const std::string& ptr, Process* out);  // parse_process.cc
absl::Status ParseResourcesAt(const Value& v, const std::string& ptr, Resources* out);  // parse_resources.cc
absl::Status ParseLinux(const Value& v, const std::string& ptr, Linux* out);  // parse_linux.cc

}  // namespace husk::spec::parse_internal

#endif  // HUSK_SPEC_PARSE_MEMBERS_H_
