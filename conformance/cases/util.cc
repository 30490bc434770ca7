#include "conformance/cases/util.h"

#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <sstream>
#include <thread>

namespace husk::conformance {

std::string AddOutDir(Ctx& ctx) {
  std::string dir = ctx.MakeDir("out");
  std::filesystem::create_directories(ctx.rootfs() + "/out");
  ctx.AddMount(R"({"destination": "/out", "type": "bind", "source": ")" + dir +
               R"(", "options": ["rbind", "rw"]})");
  return dir;
}

bool WaitForFile(const std::string& path, int timeout_ms) {
  for (int waited = 0; waited <= timeout_ms; waited += 5) {
    struct stat st;
    if (::stat(path.c_str(), &st) == 0 && st.st_size > 0) return true;
    SleepMs(5);
  }
  return false;
}

void SleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

unsigned long long CapMask(const std::vector<std::string>& names) {
  static const std::map<std::string, int> kCaps = {
      {"CAP_CHOWN", 0}, {"CAP_DAC_OVERRIDE", 1}, {"CAP_DAC_READ_SEARCH", 2},
      {"CAP_FOWNER", 3}, {"CAP_FSETID", 4}, {"CAP_KILL", 5}, {"CAP_SETGID", 6},
      {"CAP_SETUID", 7}, {"CAP_SETPCAP", 8}, {"CAP_LINUX_IMMUTABLE", 9},
      {"CAP_NET_BIND_SERVICE", 10}, {"CAP_NET_BROADCAST", 11}, {"CAP_NET_ADMIN", 12},
      {"CAP_NET_RAW", 13}, {"CAP_IPC_LOCK", 14}, {"CAP_IPC_OWNER", 15},
      {"CAP_SYS_MODULE", 16}, {"CAP_SYS_RAWIO", 17}, {"CAP_SYS_CHROOT", 18},
      {"CAP_SYS_PTRACE", 19}, {"CAP_SYS_PACCT", 20}, {"CAP_SYS_ADMIN", 21},
      {"CAP_SYS_BOOT", 22}, {"CAP_SYS_NICE", 23}, {"CAP_SYS_RESOURCE", 24},
      {"CAP_SYS_TIME", 25}, {"CAP_SYS_TTY_CONFIG", 26}, {"CAP_MKNOD", 27},
      {"CAP_LEASE", 28}, {"CAP_AUDIT_WRITE", 29}, {"CAP_AUDIT_CONTROL", 30},
      {"CAP_SETFCAP", 31}, {"CAP_MAC_OVERRIDE", 32}, {"CAP_MAC_ADMIN", 33},
      {"CAP_SYSLOG", 34}, {"CAP_WAKE_ALARM", 35}, {"CAP_BLOCK_SUSPEND", 36},
      {"CAP_AUDIT_READ", 37}, {"CAP_PERFMON", 38}, {"CAP_BPF", 39},
      {"CAP_CHECKPOINT_RESTORE", 40}};
  unsigned long long mask = 0;
  for (const auto& n : names) {
    auto it = kCaps.find(n);
    if (it != kCaps.end()) mask |= 1ULL << it->second;
  }
  return mask;
}

unsigned long long ParseHex(const std::string& s) {
  return s.empty() ? ~0ULL : std::stoull(s, nullptr, 16);
}

unsigned long long HostNs(const std::string& type) {
  struct stat st;
  if (::stat(("/proc/self/ns/" + type).c_str(), &st) != 0) return 0;
  return st.st_ino;
}

std::string MountinfoLine(const rapidjson::Value& report, const std::string& mp) {
  const rapidjson::Value* lines = Get(report, "/mountinfo");
  std::string found;
  if (!lines || !lines->IsArray()) return found;
  for (const auto& l : lines->GetArray()) {
    if (!l.IsString()) continue;
    std::istringstream in(l.GetString());
    std::string f[5];
    for (auto& x : f) in >> x;
    if (f[4] == mp) found = l.GetString();
  }
  return found;
}

bool MountinfoHas(const rapidjson::Value& report, const std::string& mp,
                  const std::string& needle) {
  const rapidjson::Value* lines = Get(report, "/mountinfo");
  if (!lines || !lines->IsArray()) return false;
  for (const auto& l : lines->GetArray()) {
    if (!l.IsString()) continue;
    std::string line = l.GetString();
    std::istringstream in(line);
    std::string f[5];
    for (auto& x : f) in >> x;
    if (f[4] == mp && (needle.empty() || line.find(needle) != std::string::npos)) return true;
  }
  return false;
}

std::string Str(long long v) { return std::to_string(v); }

}  // namespace husk::conformance
