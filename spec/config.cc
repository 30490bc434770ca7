#include "spec/config.h"

namespace husk::spec {

const char* NamespaceTypeName(NamespaceType type) {
  switch (type) {
    case NamespaceType::kPid:
      return "pid";
    case NamespaceType::kNetwork:
      return "network";
    case NamespaceType::kMount:
      return "mount";
    case NamespaceType::kIpc:
      return "ipc";
    case NamespaceType::kUts:
      return "uts";
    case NamespaceType::kUser:
      return "user";
    case NamespaceType::kCgroup:
      return "cgroup";
    case NamespaceType::kTime:
      return "time";
  }
  return "unknown";
}

std::optional<NamespaceType> NamespaceTypeFromName(absl::string_view name) {
  for (NamespaceType type : kAllNamespaceTypes) {
    if (name == NamespaceTypeName(type)) return type;
  }
  return std::nullopt;
}

}  // namespace husk::spec
