#include "runtime/kernel/process_attrs.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "runtime/base/status.h"
#include "runtime/base/syscalls.h"
#include "runtime/base/unique_fd.h"
#include "spec/names.h"

namespace husk::kernel {

absl::StatusOr<std::vector<RlimitPlan>> PlanRlimits(const std::vector<spec::Rlimit>& rlimits) {

  std::vector<RlimitPlan> plans;
  for (size_t i = 0; i < rlimits.size(); ++i) {
    const spec::Rlimit& r = rlimits[i];
    // spec::KnownRlimits() is indexed by the kernel's resource number.
    int resource = spec::IndexOf(spec::KnownRlimits(), r.type);
    if (resource < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("process/rlimits/", i, "/type: unknown rlimit ", Quote(r.type)));
    }
    RlimitPlan p;
    p.resource = resource;
    p.name = r.type;
    p.limit.rlim_cur = r.soft;
    p.limit.rlim_max = r.hard;
    plans.push_back(p);
  }
  return plans;
}

absl::Status ApplyRlimits(const std::vector<RlimitPlan>& plans) {
  for (const RlimitPlan& p : plans) {
    if (setrlimit(static_cast<__rlimit_resource>(p.resource), &p.limit) != 0) {
      return ErrnoError(absl::StrCat("set rlimit ", p.name, " to soft ", p.limit.rlim_cur,
                                     ", hard ", p.limit.rlim_max));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<SysctlPlan>> PlanSysctls(const std::map<std::string, std::string>& sysctl,
                                                    bool new_ipc, bool new_uts, bool new_net) {
  static const char* kIpcKeys[] = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",
                                   "kernel.sem",    "kernel.shmall", "kernel.shmmax",
                                   "kernel.shmmni", "kernel.shm_rmid_forced"};
  std::vector<SysctlPlan> plans;
  for (const auto& [key, value] : sysctl) {
    std::string pointer = absl::StrCat("linux/sysctl/", key);
    // "net/ipv4/ip_forward" and "net.ipv4.ip_forward" name the same file.
    std::string path = absl::StrReplaceAll(key, {{".", "/"}});
    if (path.empty() || path[0] == '/' || absl::StrContains(path, "//") ||
        absl::StrContains(key, "..") || absl::StrContains(key, "/.") ) {
      return absl::InvalidArgumentError(absl::StrCat(pointer, ": invalid sysctl name"));
    }
    std::string dotted = absl::StrReplaceAll(key, {{"/", "."}});
    bool allowed = false;
    std::string why = "is not in a separate kernel namespace";
    for (const char* k : kIpcKeys) {
      if (dotted == k) allowed = new_ipc, why = "requires a new ipc namespace";
    }
    if (absl::StartsWith(dotted, "fs.mqueue.")) allowed = new_ipc, why = "requires a new ipc namespace";
    if (absl::StartsWith(dotted, "net.")) {
      allowed = new_net;
      why = "is not allowed in the host's network namespace";
    }
    if (dotted == "kernel.domainname") allowed = new_uts, why = "requires a new uts namespace";
    if (dotted == "kernel.hostname") {
      allowed = false;
      why = "conflicts with the config's hostname field; set hostname instead";
    }
    if (!allowed) {
      return absl::InvalidArgumentError(absl::StrCat(pointer, ": sysctl ", Quote(key), " ", why));
    }
    plans.push_back({key, path, value});
  }
  return plans;
}

absl::Status ApplySysctls(const std::vector<SysctlPlan>& plans) {
  if (plans.empty()) return absl::OkStatus();
  UniqueFd procsys(open("/proc/sys", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!procsys) return ErrnoError("open \"/proc/sys\"");
  struct statfs sfs;
  if (fstatfs(procsys.get(), &sfs) != 0) return ErrnoError("statfs \"/proc/sys\"");
  if (sfs.f_type != PROC_SUPER_MAGIC) {
    return absl::PermissionDeniedError("set sysctls: \"/proc/sys\" is not on a procfs mount");
  }
  for (const SysctlPlan& p : plans) {
    // No symlinks and no crossing into other mounts: a bind over a sysctl file is refused.
    UniqueFd fd(sys::Openat2(procsys.get(), p.path.c_str(), O_WRONLY | O_CLOEXEC, 0,
                             RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV));
    if (!fd) return ErrnoError(absl::StrCat("set sysctl ", Quote(p.key)));
    if (write(fd.get(), p.value.data(), p.value.size()) < 0) {
      return ErrnoError(absl::StrCat("set sysctl ", Quote(p.key), " to ", Quote(p.value)));
    }
  }
  return absl::OkStatus();
}

absl::Status SetHostname(const std::string& hostname, const std::string& domainname) {
  if (!hostname.empty() && sethostname(hostname.data(), hostname.size()) != 0) {
    return ErrnoError(absl::StrCat("set hostname ", Quote(hostname)));
  }
  if (!domainname.empty() && setdomainname(domainname.data(), domainname.size()) != 0) {
    return ErrnoError(absl::StrCat("set domainname ", Quote(domainname)));
  }
  return absl::OkStatus();
}

absl::Status LoopbackUp() {
  UniqueFd sock(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) return ErrnoError("socket for loopback setup");
  struct ifreq ifr = {};
  strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (ioctl(sock.get(), SIOCGIFFLAGS, &ifr) != 0) return ErrnoError("get flags of \"lo\"");
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(sock.get(), SIOCSIFFLAGS, &ifr) != 0) return ErrnoError("bring \"lo\" up");
  return absl::OkStatus();
}

}  // namespace husk::kernel
