#include "conformance/cases/util.h"

#include <sys/stat.h>

#include <cctype>

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

// ---------------------------------------------------------------------------------------
// Host-side helpers for the cgroup, process and LSM cases.

std::vector<std::string> Fields(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> f;
  for (std::string x; in >> x;) f.push_back(x);
  return f;
}

// The mount point of the cgroup hierarchy (fstype "cgroup" with `ctrl` among its super
// options, or "cgroup2" when ctrl is "") in the harness's mount namespace, or "".
std::string CgroupMount(const std::string& ctrl) {
  std::istringstream in(ReadFileOr("/proc/self/mountinfo"));
  for (std::string line; std::getline(in, line);) {
    size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::vector<std::string> pre = Fields(line.substr(0, dash));
    std::vector<std::string> post = Fields(line.substr(dash + 3));
    if (pre.size() < 5 || post.size() < 3) continue;
    if (ctrl.empty()) {
      if (post[0] == "cgroup2") return pre[4];
      continue;
    }
    if (post[0] != "cgroup") continue;
    std::string opts = "," + post[2] + ",";
    if (opts.find("," + ctrl + ",") != std::string::npos) return pre[4];
  }
  return "";
}

// True if the cgroup2 hierarchy lists `ctrl` in its root cgroup.controllers.
bool V2Has(const std::string& ctrl) {
  std::string mp = CgroupMount("");
  if (mp.empty()) return false;
  std::string list = " " + ReadFileOr(mp + "/cgroup.controllers") + " ";
  for (char& c : list) {
    if (c == '\n') c = ' ';
  }
  return list.find(" " + ctrl + " ") != std::string::npos;
}

std::string TrimNl(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// A container cgroup file under a hierarchy mount point; "" if missing.
std::string CgFile(Ctx& ctx, const std::string& mount, const std::string& file) {
  return TrimNl(ReadFileOr(mount + ctx.cgroups_path() + "/" + file));
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// crun runs in its own mount namespace without /sys/fs/cgroup/unified (see main.cc).
bool HidesUnified(Ctx& ctx) { return !ctx.runtime().prefix.empty(); }

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Creates the container (process sleeps) for a resource check; "not supported yet" ends
// the case as unsupported. The caller inspects the result.
CmdResult CreateSleeping(Ctx& ctx) {
  ctx.SetArgs({"/bin/sleep", "30"});
  CmdResult r = ctx.Create();
  ctx.EndIfUnsupported(r);
  return r;
}

// For fields the host cannot honour: the runtime must refuse them with an error that
// names the feature (one of `words`, case-insensitive), not ignore them.
void ExpectClearRefusal(Ctx& ctx, const CmdResult& r, const std::string& why,
                        const std::vector<std::string>& words) {
  Check(!r.ok(), "create succeeded although " + why + ": the field was silently ignored");
  std::string text = Lower(r.err + "\n" + r.out + "\n" + ctx.last_log());
  bool named = false;
  for (const auto& w : words) named |= text.find(Lower(w)) != std::string::npos;
  Check(named, "create failed without naming the feature: " + r.Describe());
}

// A bind mount of `dir` onto itself in the harness's mount namespace, made shared, so
// mounts the harness makes below it propagate to the container's slave copies. Detached
// (with everything below it) when the case ends.

}  // namespace husk::conformance
