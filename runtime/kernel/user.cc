#include "runtime/kernel/user.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace husk::kernel {

std::vector<PasswdEntry> ParsePasswd(absl::string_view content) {
  std::vector<PasswdEntry> out;
  for (absl::string_view line : absl::StrSplit(content, '\n')) {
    line = absl::StripTrailingAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<absl::string_view> f = absl::StrSplit(line, ':');
    if (f.size() != 7 || f[0].empty()) continue;
    PasswdEntry e;
    uint32_t uid, gid;
    if (!absl::SimpleAtoi(f[2], &uid) || !absl::SimpleAtoi(f[3], &gid)) continue;
    e.name = std::string(f[0]);
    e.uid = uid;
    e.gid = gid;
    e.home = std::string(f[5]);
    e.shell = std::string(f[6]);
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<GroupEntry> ParseGroup(absl::string_view content) {
  std::vector<GroupEntry> out;
  for (absl::string_view line : absl::StrSplit(content, '\n')) {
    line = absl::StripTrailingAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<absl::string_view> f = absl::StrSplit(line, ':');
    if (f.size() != 4 || f[0].empty()) continue;
    GroupEntry e;
    uint32_t gid;
    if (!absl::SimpleAtoi(f[2], &gid)) continue;
    e.name = std::string(f[0]);
    e.gid = gid;
    for (absl::string_view m : absl::StrSplit(f[3], ',', absl::SkipEmpty())) {
      e.members.emplace_back(m);
    }
    out.push_back(std::move(e));
  }
  return out;
}

std::optional<PasswdEntry> FindUser(const std::vector<PasswdEntry>& entries, uid_t uid) {
  for (const PasswdEntry& e : entries) {
    if (e.uid == uid) return e;
  }
  return std::nullopt;
}

std::optional<PasswdEntry> FindUser(const std::vector<PasswdEntry>& entries, absl::string_view name) {
  for (const PasswdEntry& e : entries) {
    if (e.name == name) return e;
  }
  return std::nullopt;
}

std::string HomeForUid(absl::string_view passwd_content, uid_t uid) {
  std::optional<PasswdEntry> e = FindUser(ParsePasswd(passwd_content), uid);
  if (!e || e->home.empty()) return "/";
  return e->home;
}

}  // namespace husk::kernel
