// The container's /etc/passwd and /etc/group, parsed by husk itself: glibc NSS must never
// run in container context (security-bar.md S-22). Pure parsing plus one lookup helper
// used by the child after pivot_root.
#ifndef HUSK_RUNTIME_KERNEL_USER_H_
#define HUSK_RUNTIME_KERNEL_USER_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace husk::kernel {

struct PasswdEntry {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string home;
  std::string shell;
};

struct GroupEntry {
  std::string name;
  gid_t gid = 0;
  std::vector<std::string> members;
};

// Malformed lines are skipped (as libc does); comments and blank lines too.
std::vector<PasswdEntry> ParsePasswd(absl::string_view content);
std::vector<GroupEntry> ParseGroup(absl::string_view content);

std::optional<PasswdEntry> FindUser(const std::vector<PasswdEntry>& entries, uid_t uid);
std::optional<PasswdEntry> FindUser(const std::vector<PasswdEntry>& entries, absl::string_view name);

// HOME for `uid`: its passwd entry's home, or "/" when there is none (runc).
std::string HomeForUid(absl::string_view passwd_content, uid_t uid);

}  // namespace husk::kernel

#endif  // HUSK_RUNTIME_KERNEL_USER_H_
