#include "runtime/kernel/mount_options.h"

#include <sys/mount.h>

#include <map>

#include "absl/strings/str_cat.h"
#include "runtime/base/status.h"

namespace husk::kernel {
namespace {

enum class Kind { kNone, kBind, kAttr, kRecAttr, kPropagation, kSbFlag, kIdmap, kRefused };

struct Entry {
  Kind kind;
  uint64_t set = 0;   // attribute to set / propagation flag
  uint64_t clr = 0;   // attribute to clear
  bool recursive = false;
};

// Atime is one field in the mount attributes: setting any value clears the others.
constexpr uint64_t kAtime = MOUNT_ATTR__ATIME;

const std::map<std::string, Entry>& Table() {
  static const auto* table = new std::map<std::string, Entry>{
      {"defaults", {Kind::kNone}},
      {"remount", {Kind::kNone}},  // every mount is new here; nothing to remount
      {"bind", {Kind::kBind}},
      {"rbind", {Kind::kBind, 0, 0, true}},
      {"ro", {Kind::kAttr, MOUNT_ATTR_RDONLY, 0}},
      {"rw", {Kind::kAttr, 0, MOUNT_ATTR_RDONLY}},
      {"nosuid", {Kind::kAttr, MOUNT_ATTR_NOSUID, 0}},
      {"suid", {Kind::kAttr, 0, MOUNT_ATTR_NOSUID}},
      {"nodev", {Kind::kAttr, MOUNT_ATTR_NODEV, 0}},
      {"dev", {Kind::kAttr, 0, MOUNT_ATTR_NODEV}},
      {"noexec", {Kind::kAttr, MOUNT_ATTR_NOEXEC, 0}},
      {"exec", {Kind::kAttr, 0, MOUNT_ATTR_NOEXEC}},
      {"noatime", {Kind::kAttr, MOUNT_ATTR_NOATIME, kAtime}},
      {"atime", {Kind::kAttr, MOUNT_ATTR_RELATIME, kAtime}},
      {"relatime", {Kind::kAttr, MOUNT_ATTR_RELATIME, kAtime}},
      {"norelatime", {Kind::kAttr, MOUNT_ATTR_STRICTATIME, kAtime}},
      {"strictatime", {Kind::kAttr, MOUNT_ATTR_STRICTATIME, kAtime}},
      {"nostrictatime", {Kind::kAttr, MOUNT_ATTR_RELATIME, kAtime}},
      {"nodiratime", {Kind::kAttr, MOUNT_ATTR_NODIRATIME, 0}},
      {"diratime", {Kind::kAttr, 0, MOUNT_ATTR_NODIRATIME}},
      {"rro", {Kind::kRecAttr, MOUNT_ATTR_RDONLY, 0}},
      {"rrw", {Kind::kRecAttr, 0, MOUNT_ATTR_RDONLY}},
      {"rnosuid", {Kind::kRecAttr, MOUNT_ATTR_NOSUID, 0}},
      {"rsuid", {Kind::kRecAttr, 0, MOUNT_ATTR_NOSUID}},
      {"rnodev", {Kind::kRecAttr, MOUNT_ATTR_NODEV, 0}},
      {"rdev", {Kind::kRecAttr, 0, MOUNT_ATTR_NODEV}},
      {"rnoexec", {Kind::kRecAttr, MOUNT_ATTR_NOEXEC, 0}},
      {"rexec", {Kind::kRecAttr, 0, MOUNT_ATTR_NOEXEC}},
      {"rnoatime", {Kind::kRecAttr, MOUNT_ATTR_NOATIME, kAtime}},
      {"ratime", {Kind::kRecAttr, MOUNT_ATTR_RELATIME, kAtime}},
      {"rrelatime", {Kind::kRecAttr, MOUNT_ATTR_RELATIME, kAtime}},
      {"rnorelatime", {Kind::kRecAttr, MOUNT_ATTR_STRICTATIME, kAtime}},
      {"rstrictatime", {Kind::kRecAttr, MOUNT_ATTR_STRICTATIME, kAtime}},
      {"rnostrictatime", {Kind::kRecAttr, MOUNT_ATTR_RELATIME, kAtime}},
      {"rnodiratime", {Kind::kRecAttr, MOUNT_ATTR_NODIRATIME, 0}},
      {"rdiratime", {Kind::kRecAttr, 0, MOUNT_ATTR_NODIRATIME}},
      {"private", {Kind::kPropagation, MS_PRIVATE}},
      {"rprivate", {Kind::kPropagation, MS_PRIVATE, 0, true}},
      {"shared", {Kind::kPropagation, MS_SHARED}},
      {"rshared", {Kind::kPropagation, MS_SHARED, 0, true}},
      {"slave", {Kind::kPropagation, MS_SLAVE}},
      {"rslave", {Kind::kPropagation, MS_SLAVE, 0, true}},
      {"unbindable", {Kind::kPropagation, MS_UNBINDABLE}},
      {"runbindable", {Kind::kPropagation, MS_UNBINDABLE, 0, true}},
      {"sync", {Kind::kSbFlag}},
      {"dirsync", {Kind::kSbFlag}},
      {"mand", {Kind::kSbFlag}},
      {"lazytime", {Kind::kSbFlag}},
      {"silent", {Kind::kSbFlag}},
      {"iversion", {Kind::kSbFlag}},
      {"noiversion", {Kind::kNone}},  // the default when not asked for
      {"loud", {Kind::kNone}},        // the default: not silent
      {"async", {Kind::kNone}},
      {"nomand", {Kind::kNone}},
      {"nolazytime", {Kind::kNone}},
      {"idmap", {Kind::kIdmap}},
      {"ridmap", {Kind::kIdmap, 0, 0, true}},
      {"tmpcopyup", {Kind::kRefused}},
  };
  return *table;
}

void Apply(uint64_t set, uint64_t clr, uint64_t* attr_set, uint64_t* attr_clr) {
  if (clr & kAtime) {  // an atime choice replaces any earlier one
    *attr_set &= ~kAtime;
  } else {
    *attr_set &= ~clr;
  }
  *attr_clr = (*attr_clr & ~set) | clr;
  *attr_set |= set;
}

}  // namespace

absl::StatusOr<MountOptions> ParseMountOptions(const std::vector<std::string>& options) {
  MountOptions out;
  for (const std::string& option : options) {
    auto it = Table().find(option);
    if (it == Table().end()) {
      size_t eq = option.find('=');
      if (eq == std::string::npos) {
        out.data.emplace_back(option, "");
      } else {
        out.data.emplace_back(option.substr(0, eq), option.substr(eq + 1));
      }
      continue;
    }
    const Entry& e = it->second;
    switch (e.kind) {
      case Kind::kNone: break;
      case Kind::kBind:
        out.bind = true;
        out.recursive = out.recursive || e.recursive;
        break;
      case Kind::kAttr: Apply(e.set, e.clr, &out.attr_set, &out.attr_clr); break;
      case Kind::kRecAttr: Apply(e.set, e.clr, &out.rec_attr_set, &out.rec_attr_clr); break;
      case Kind::kPropagation:
        out.propagation = e.set;
        out.propagation_recursive = e.recursive;
        break;
      case Kind::kSbFlag: out.sb_flags.push_back(option); break;
      case Kind::kIdmap:
        out.idmap = true;
        out.idmap_recursive = e.recursive;
        break;
      case Kind::kRefused:
        return absl::UnimplementedError(
            absl::StrCat("mount option ", Quote(option), " is not supported yet"));
    }
  }
  return out;
}

absl::StatusOr<unsigned long> ParsePropagation(const std::string& value, bool* recursive) {
  auto it = Table().find(value);
  if (it == Table().end() || it->second.kind != Kind::kPropagation) {
    return absl::InvalidArgumentError(
        absl::StrCat("linux/rootfsPropagation: unknown propagation ", Quote(value)));
  }
  *recursive = it->second.recursive;
  return static_cast<unsigned long>(it->second.set);
}

}  // namespace husk::kernel
