#include "spec/names.h"

namespace husk::spec {

const std::vector<std::string>& KnownMountOptions() {
  // Heap-allocated once and never destroyed: safe to use from exit paths.
  static const auto* const kOptions = new std::vector<std::string>{
      "defaults",
      "rw",
      "ro",
      "suid",
      "nosuid",
      "dev",
      "nodev",
      "exec",
      "noexec",
      "sync",
      "async",
      "dirsync",
      "remount",
      "mand",
      "nomand",
      "atime",
      "noatime",
      "diratime",
      "nodiratime",
      "relatime",
      "norelatime",
      "strictatime",
      "nostrictatime",
      "lazytime",
      "nolazytime",
      "bind",
      "rbind",
      "private",
      "rprivate",
      "shared",
      "rshared",
      "slave",
      "rslave",
      "unbindable",
      "runbindable",
      "rro",
      "rrw",
      "rnosuid",
      "rsuid",
      "rnodev",
      "rdev",
      "rnoexec",
      "rexec",
      "rnoatime",
      "ratime",
      "rnodiratime",
      "rdiratime",
      "rrelatime",
      "rnorelatime",
      "rstrictatime",
      "rnostrictatime",
      "idmap",
      "ridmap",
  };
  return *kOptions;
}

const std::vector<std::string>& KnownCapabilities() {
  static const auto* const kCaps = new std::vector<std::string>{
      "CAP_CHOWN",               // 0
      "CAP_DAC_OVERRIDE",        // 1
      "CAP_DAC_READ_SEARCH",     // 2
      "CAP_FOWNER",              // 3
      "CAP_FSETID",              // 4
      "CAP_KILL",                // 5
      "CAP_SETGID",              // 6
      "CAP_SETUID",              // 7
      "CAP_SETPCAP",             // 8
      "CAP_LINUX_IMMUTABLE",     // 9
      "CAP_NET_BIND_SERVICE",    // 10
      "CAP_NET_BROADCAST",       // 11
      "CAP_NET_ADMIN",           // 12
      "CAP_NET_RAW",             // 13
      "CAP_IPC_LOCK",            // 14
      "CAP_IPC_OWNER",           // 15
      "CAP_SYS_MODULE",          // 16
      "CAP_SYS_RAWIO",           // 17
      "CAP_SYS_CHROOT",          // 18
      "CAP_SYS_PTRACE",          // 19
      "CAP_SYS_PACCT",           // 20
      "CAP_SYS_ADMIN",           // 21
      "CAP_SYS_BOOT",            // 22
      "CAP_SYS_NICE",            // 23
      "CAP_SYS_RESOURCE",        // 24
      "CAP_SYS_TIME",            // 25
      "CAP_SYS_TTY_CONFIG",      // 26
      "CAP_MKNOD",               // 27
      "CAP_LEASE",               // 28
      "CAP_AUDIT_WRITE",         // 29
      "CAP_AUDIT_CONTROL",       // 30
      "CAP_SETFCAP",             // 31
      "CAP_MAC_OVERRIDE",        // 32
      "CAP_MAC_ADMIN",           // 33
      "CAP_SYSLOG",              // 34
      "CAP_WAKE_ALARM",          // 35
      "CAP_BLOCK_SUSPEND",       // 36
      "CAP_AUDIT_READ",          // 37
      "CAP_PERFMON",             // 38
      "CAP_BPF",                 // 39
      "CAP_CHECKPOINT_RESTORE",  // 40
  };
  return *kCaps;
}

const std::vector<std::string>& KnownRlimits() {
  static const auto* const kRlimits = new std::vector<std::string>{
      "RLIMIT_CPU",      "RLIMIT_FSIZE", "RLIMIT_DATA",   "RLIMIT_STACK",
      "RLIMIT_CORE",     "RLIMIT_RSS",   "RLIMIT_NPROC",  "RLIMIT_NOFILE",
      "RLIMIT_MEMLOCK",  "RLIMIT_AS",    "RLIMIT_LOCKS",  "RLIMIT_SIGPENDING",
      "RLIMIT_MSGQUEUE", "RLIMIT_NICE",  "RLIMIT_RTPRIO", "RLIMIT_RTTIME",
  };
  return *kRlimits;
}

int IndexOf(const std::vector<std::string>& table, absl::string_view name) {
  for (size_t i = 0; i < table.size(); ++i) {
    if (table[i] == name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace husk::spec
