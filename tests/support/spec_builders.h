// Builders for spec structs in cgroup tests (field by field: designated initializers
// would leave members unnamed). Header-only; tests only.
#ifndef HUSK_TESTS_SUPPORT_SPEC_BUILDERS_H_
#define HUSK_TESTS_SUPPORT_SPEC_BUILDERS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "spec/config.h"

namespace husk::testing {

inline spec::DeviceCgroupRule Rule(bool allow, std::optional<std::string> type,
                                   std::optional<int64_t> major, std::optional<int64_t> minor,
                                   std::optional<std::string> access) {
  spec::DeviceCgroupRule r;
  r.allow = allow;
  r.type = std::move(type);
  r.major = major;
  r.minor = minor;
  r.access = std::move(access);
  return r;
}

inline spec::Device Dev(std::string type, std::string path, std::optional<int64_t> major,
                        std::optional<int64_t> minor) {
  spec::Device d;
  d.type = std::move(type);
  d.path = std::move(path);
  d.major = major;
  d.minor = minor;
  return d;
}

}  // namespace husk::testing

#endif  // HUSK_TESTS_SUPPORT_SPEC_BUILDERS_H_
