#include "spec/validate.h"

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "runtime/base/status.h"
#include "spec/names.h"
#include "spec/pointer.h"

namespace husk::spec {
namespace {

absl::Status Error(absl::string_view pointer, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(pointer, ": ", message));
}

bool OneOf(absl::string_view value, std::initializer_list<absl::string_view> allowed) {
  return std::find(allowed.begin(), allowed.end(), value) != allowed.end();
}

absl::Status CheckAbsolute(absl::string_view pointer, absl::string_view path) {
  if (path.empty() || path[0] != '/') {
    return Error(pointer, absl::StrCat(Quote(path), " is not an absolute path"));
  }
  return absl::OkStatus();
}

absl::Status CheckEnum(absl::string_view pointer, absl::string_view what, absl::string_view value,
                       std::initializer_list<absl::string_view> allowed) {
  if (!OneOf(value, allowed)) {
    return Error(pointer, absl::StrCat("unknown ", what, " ", Quote(value)));
  }
  return absl::OkStatus();
}

absl::Status CheckAbsolutePaths(absl::string_view pointer, const std::vector<std::string>& paths) {
  for (size_t i = 0; i < paths.size(); ++i) {
    RETURN_IF_ERROR(CheckAbsolute(PointerJoin(pointer, i), paths[i]));
  }
  return absl::OkStatus();
}

absl::Status CheckNonEmptyKeys(absl::string_view pointer,
                               const std::map<std::string, std::string>& map) {
  if (map.count("") != 0) return Error(PointerJoin(pointer, ""), "key must not be empty");
  return absl::OkStatus();
}

// SemVer 2.0.0: MAJOR.MINOR.PATCH without leading zeros, then optional -pre and +build
// of [0-9A-Za-z-.] identifiers. Returns the major version or -1.
int SemverMajor(absl::string_view v) {
  size_t end = v.find_first_of("-+");
  absl::string_view core = v.substr(0, end);
  int major = -1;
  int parts = 0;
  size_t pos = 0;
  while (true) {
    size_t dot = core.find('.', pos);
    absl::string_view num = core.substr(pos, dot == absl::string_view::npos ? dot : dot - pos);
    if (num.empty() || num.size() > 9 ||
        !std::all_of(num.begin(), num.end(), absl::ascii_isdigit) ||
        (num.size() > 1 && num[0] == '0')) {
      return -1;
    }
    if (parts == 0 && !absl::SimpleAtoi(num, &major)) return -1;
    ++parts;
    if (dot == absl::string_view::npos) break;
    pos = dot + 1;
  }
  if (parts != 3) return -1;
  if (end != absl::string_view::npos) {
    absl::string_view rest = v.substr(end + 1);
    if (rest.empty()) return -1;
    for (char c : rest) {
      if (!absl::ascii_isalnum(c) && c != '-' && c != '.' && c != '+') return -1;
    }
    if (absl::StrContains(rest, "..") || rest.front() == '.' || rest.back() == '.') return -1;
  }
  return major;
}

// ---------------------------------------------------------------------------------------
// process

absl::Status CheckCapabilitySet(absl::string_view pointer,
                                const std::optional<std::vector<std::string>>& set) {
  if (!set) return absl::OkStatus();
  for (size_t i = 0; i < set->size(); ++i) {
    const std::string& name = (*set)[i];
    // Unknown but well-formed names are the runtime's business (it warns, per config.md:
    // "capabilities that cannot be granted ... MUST be logged as a warning").
    bool ok = name.size() > 4 && absl::StartsWith(name, "CAP_") &&
              std::all_of(name.begin() + 4, name.end(),
                          [](char c) { return absl::ascii_isupper(c) || c == '_'; });
    if (!ok) {
      return Error(PointerJoin(pointer, i), absl::StrCat("invalid capability name ", Quote(name)));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckCpuList(absl::string_view pointer, const std::optional<std::string>& list) {
  if (!list) return absl::OkStatus();
  for (char c : *list) {
    if (!absl::ascii_isdigit(c) && c != ',' && c != ' ' && c != '-') {
      return Error(pointer, absl::StrCat("invalid CPU list ", Quote(*list)));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateProcessAt(const Process& p, absl::string_view ptr) {
  RETURN_IF_ERROR(CheckAbsolute(PointerJoin(ptr, "cwd"), p.cwd));
  if (p.args.empty()) {
    return Error(PointerJoin(ptr, "args"), "must contain at least one entry");
  }
  for (size_t i = 0; i < p.env.size(); ++i) {
    const std::string& kv = p.env[i];
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Error(PointerJoin(PointerJoin(ptr, "env"), i),
                   absl::StrCat(Quote(kv), " is not in NAME=value form"));
    }
  }
  if (p.capabilities) {
    std::string caps = PointerJoin(ptr, "capabilities");
    RETURN_IF_ERROR(CheckCapabilitySet(PointerJoin(caps, "bounding"), p.capabilities->bounding));
    RETURN_IF_ERROR(CheckCapabilitySet(PointerJoin(caps, "effective"), p.capabilities->effective));
    RETURN_IF_ERROR(
        CheckCapabilitySet(PointerJoin(caps, "inheritable"), p.capabilities->inheritable));
    RETURN_IF_ERROR(CheckCapabilitySet(PointerJoin(caps, "permitted"), p.capabilities->permitted));
    RETURN_IF_ERROR(CheckCapabilitySet(PointerJoin(caps, "ambient"), p.capabilities->ambient));
  }
  std::set<std::string> seen_rlimits;
  for (size_t i = 0; i < p.rlimits.size(); ++i) {
    const Rlimit& r = p.rlimits[i];
    std::string at = PointerJoin(PointerJoin(ptr, "rlimits"), i);
    if (IndexOf(KnownRlimits(), r.type) < 0) {
      return Error(PointerJoin(at, "type"), absl::StrCat("unknown rlimit ", Quote(r.type)));
    }
    if (!seen_rlimits.insert(r.type).second) {
      return Error(PointerJoin(at, "type"), absl::StrCat("duplicate rlimit ", Quote(r.type)));
    }
    if (r.soft > r.hard) {
      return Error(at, absl::StrCat("soft limit ", r.soft, " exceeds hard limit ", r.hard));
    }
  }
  if (p.scheduler) {
    std::string at = PointerJoin(ptr, "scheduler");
    RETURN_IF_ERROR(CheckEnum(PointerJoin(at, "policy"), "scheduler policy", p.scheduler->policy,
                              {"SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH", "SCHED_ISO",
                               "SCHED_IDLE", "SCHED_DEADLINE"}));
    for (size_t i = 0; i < p.scheduler->flags.size(); ++i) {
      RETURN_IF_ERROR(CheckEnum(
          PointerJoin(PointerJoin(at, "flags"), i), "scheduler flag", p.scheduler->flags[i],
          {"SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM", "SCHED_FLAG_DL_OVERRUN",
           "SCHED_FLAG_KEEP_POLICY", "SCHED_FLAG_KEEP_PARAMS", "SCHED_FLAG_UTIL_CLAMP_MIN",
           "SCHED_FLAG_UTIL_CLAMP_MAX"}));
    }
  }
  if (p.io_priority) {
    RETURN_IF_ERROR(CheckEnum(PointerJoin(PointerJoin(ptr, "ioPriority"), "class"),
                              "I/O priority class", p.io_priority->io_class,
                              {"IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE"}));
  }
  if (p.exec_cpu_affinity) {
    std::string at = PointerJoin(ptr, "execCPUAffinity");
    RETURN_IF_ERROR(CheckCpuList(PointerJoin(at, "initial"), p.exec_cpu_affinity->initial));
    RETURN_IF_ERROR(CheckCpuList(PointerJoin(at, "final"), p.exec_cpu_affinity->final));
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------
// Platform-neutral parts.

absl::Status ValidateMounts(const std::vector<Mount>& mounts) {
  for (size_t i = 0; i < mounts.size(); ++i) {
    const Mount& m = mounts[i];
    std::string at = PointerJoin("mounts", i);
    // config.md v1.3: on Linux a relative destination is deprecated but allowed (taken
    // relative to "/"); only an empty one is meaningless.
    if (m.destination.empty()) {
      return Error(PointerJoin(at, "destination"), "must not be empty");
    }
    if (m.uid_mappings.empty() != m.gid_mappings.empty()) {
      const char* missing = m.uid_mappings.empty() ? "uidMappings" : "gidMappings";
      const char* given = m.uid_mappings.empty() ? "gidMappings" : "uidMappings";
      return Error(PointerJoin(at, missing), absl::StrCat("required together with ", given));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateHooks(const Hooks& hooks) {
  const std::pair<const char*, const std::vector<Hook>*> phases[] = {
      {"prestart", &hooks.prestart},
      {"createRuntime", &hooks.create_runtime},
      {"createContainer", &hooks.create_container},
      {"startContainer", &hooks.start_container},
      {"poststart", &hooks.poststart},
      {"poststop", &hooks.poststop},
  };
  for (const auto& [name, list] : phases) {
    for (size_t i = 0; i < list->size(); ++i) {
      const Hook& hook = (*list)[i];
      std::string at = PointerJoin(PointerJoin("hooks", name), i);
      RETURN_IF_ERROR(CheckAbsolute(PointerJoin(at, "path"), hook.path));
      if (hook.timeout && *hook.timeout <= 0) {
        return Error(PointerJoin(at, "timeout"), "must be greater than zero");
      }
    }
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------
// linux

absl::Status ValidateResourcesAt(const Resources& r, absl::string_view ptr) {
  for (size_t i = 0; i < r.devices.size(); ++i) {
    const DeviceCgroupRule& rule = r.devices[i];
    std::string at = PointerJoin(PointerJoin(ptr, "devices"), i);
    if (rule.type) {
      RETURN_IF_ERROR(
          CheckEnum(PointerJoin(at, "type"), "device type", *rule.type, {"a", "c", "b"}));
    }
    if (rule.access) {
      for (char c : *rule.access) {
        if (c != 'r' && c != 'w' && c != 'm') {
          return Error(PointerJoin(at, "access"),
                       absl::StrCat("invalid access ", Quote(*rule.access),
                                    " (only r, w and m are allowed)"));
        }
      }
    }
  }
  if (r.block_io) {
    std::string at = PointerJoin(PointerJoin(ptr, "blockIO"), "weightDevice");
    for (size_t i = 0; i < r.block_io->weight_device.size(); ++i) {
      const WeightDevice& d = r.block_io->weight_device[i];
      if (!d.weight && !d.leaf_weight) {
        return Error(PointerJoin(at, i), "needs weight or leafWeight");
      }
    }
  }
  for (size_t i = 0; i < r.hugepage_limits.size(); ++i) {
    // Schema pattern ^[1-9][0-9]*[KMG]B$: the cgroup file names use "2MB", not "2mB".
    const std::string& size = r.hugepage_limits[i].page_size;
    bool ok = size.size() >= 3 && size[0] >= '1' && size[0] <= '9' && size.back() == 'B' &&
              OneOf(absl::string_view(&size[size.size() - 2], 1), {"K", "M", "G"}) &&
              std::all_of(size.begin() + 1, size.end() - 2, absl::ascii_isdigit);
    if (!ok) {
      return Error(PointerJoin(PointerJoin(PointerJoin(ptr, "hugepageLimits"), i), "pageSize"),
                   absl::StrCat("invalid page size ", Quote(size)));
    }
  }
  for (const auto& [name, rdma] : r.rdma) {
    std::string at = PointerJoin(PointerJoin(ptr, "rdma"), name);
    if (name.empty()) return Error(at, "device name must not be empty");
    if (!rdma.hca_handles && !rdma.hca_objects) {
      return Error(at, "needs hcaHandles or hcaObjects");
    }
  }
  return CheckNonEmptyKeys(PointerJoin(ptr, "unified"), r.unified);
}

absl::Status ValidateSeccomp(const Seccomp& s) {
  const std::initializer_list<absl::string_view> kActions = {
      "SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
      "SCMP_ACT_TRAP",  "SCMP_ACT_ERRNO",        "SCMP_ACT_TRACE",
      "SCMP_ACT_ALLOW", "SCMP_ACT_LOG",          "SCMP_ACT_NOTIFY"};
  const std::string at = "linux/seccomp";
  RETURN_IF_ERROR(
      CheckEnum(PointerJoin(at, "defaultAction"), "seccomp action", s.default_action, kActions));
  for (size_t i = 0; i < s.architectures.size(); ++i) {
    RETURN_IF_ERROR(CheckEnum(
        PointerJoin(PointerJoin(at, "architectures"), i), "seccomp architecture",
        s.architectures[i],
        {"SCMP_ARCH_X86",         "SCMP_ARCH_X86_64",      "SCMP_ARCH_X32",    "SCMP_ARCH_ARM",
         "SCMP_ARCH_AARCH64",     "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K",   "SCMP_ARCH_MIPS",
         "SCMP_ARCH_MIPS64",      "SCMP_ARCH_MIPS64N32",   "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64",
         "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",         "SCMP_ARCH_PPC64",  "SCMP_ARCH_PPC64LE",
         "SCMP_ARCH_S390",        "SCMP_ARCH_S390X",       "SCMP_ARCH_SH",     "SCMP_ARCH_SHEB",
         "SCMP_ARCH_PARISC",      "SCMP_ARCH_PARISC64",    "SCMP_ARCH_RISCV64"}));
  }
  for (size_t i = 0; i < s.flags.size(); ++i) {
    RETURN_IF_ERROR(
        CheckEnum(PointerJoin(PointerJoin(at, "flags"), i), "seccomp flag", s.flags[i],
                  {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                   "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"}));
  }
  if (s.listener_metadata && !s.listener_path) {
    return Error(PointerJoin(at, "listenerMetadata"), "requires listenerPath");
  }
  for (size_t i = 0; i < s.syscalls.size(); ++i) {
    const SeccompSyscall& sc = s.syscalls[i];
    std::string sat = PointerJoin(PointerJoin(at, "syscalls"), i);
    if (sc.names.empty()) {
      return Error(PointerJoin(sat, "names"), "must contain at least one entry");
    }
    RETURN_IF_ERROR(CheckEnum(PointerJoin(sat, "action"), "seccomp action", sc.action, kActions));
    for (size_t j = 0; j < sc.args.size(); ++j) {
      RETURN_IF_ERROR(CheckEnum(PointerJoin(PointerJoin(PointerJoin(sat, "args"), j), "op"),
                                "seccomp operator", sc.args[j].op,
                                {"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ",
                                 "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"}));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateNamespaces(const Config& config, const Linux& l) {
  std::set<NamespaceType> seen;
  bool new_userns = false, any_userns = false, any_timens = false;
  for (size_t i = 0; i < l.namespaces.size(); ++i) {
    const Namespace& ns = l.namespaces[i];
    std::string at = PointerJoin("linux/namespaces", i);
    if (!seen.insert(ns.type).second) {
      return Error(PointerJoin(at, "type"),
                   absl::StrCat("duplicate namespace ", Quote(NamespaceTypeName(ns.type))));
    }
    if (ns.path) RETURN_IF_ERROR(CheckAbsolute(PointerJoin(at, "path"), *ns.path));
    if (ns.type == NamespaceType::kUser) {
      any_userns = true;
      new_userns = !ns.path.has_value();
    }
    if (ns.type == NamespaceType::kTime) any_timens = true;
  }
  if (new_userns) {
    if (l.uid_mappings.empty()) {
      return Error("linux/uidMappings", "required with a new user namespace");
    }
    if (l.gid_mappings.empty()) {
      return Error("linux/gidMappings", "required with a new user namespace");
    }
  } else if (!any_userns) {
    if (!l.uid_mappings.empty()) return Error("linux/uidMappings", "requires a user namespace");
    if (!l.gid_mappings.empty()) return Error("linux/gidMappings", "requires a user namespace");
  }
  if (!l.time_offsets.empty() && !any_timens) {
    return Error("linux/timeOffsets", "requires a time namespace");
  }
  // runc and crun refuse these too: without a private UTS namespace they would rename
  // the host.
  if (config.hostname && !config.hostname->empty() && !seen.count(NamespaceType::kUts)) {
    return Error("hostname", "requires a uts namespace");
  }
  if (config.domainname && !config.domainname->empty() && !seen.count(NamespaceType::kUts)) {
    return Error("domainname", "requires a uts namespace");
  }
  return absl::OkStatus();
}

absl::Status ValidateLinux(const Config& config, const Linux& l) {
  RETURN_IF_ERROR(ValidateNamespaces(config, l));
  for (const auto& [clock, offset] : l.time_offsets) {
    std::string at = PointerJoin("linux/timeOffsets", clock);
    RETURN_IF_ERROR(CheckEnum(at, "clock", clock, {"monotonic", "boottime"}));
    if (offset.nanosecs >= 1000000000u) {
      return Error(PointerJoin(at, "nanosecs"), "must be less than 1000000000");
    }
  }
  for (size_t i = 0; i < l.devices.size(); ++i) {
    const Device& d = l.devices[i];
    std::string at = PointerJoin("linux/devices", i);
    RETURN_IF_ERROR(
        CheckEnum(PointerJoin(at, "type"), "device type", d.type, {"c", "b", "u", "p"}));
    RETURN_IF_ERROR(CheckAbsolute(PointerJoin(at, "path"), d.path));
    if (d.type != "p") {
      if (!d.major) {
        return Error(PointerJoin(at, "major"),
                     absl::StrCat("required for device type ", Quote(d.type)));
      }
      if (!d.minor) {
        return Error(PointerJoin(at, "minor"),
                     absl::StrCat("required for device type ", Quote(d.type)));
      }
    }
  }
  for (const auto& [name, dev] : l.net_devices) {
    if (name.empty()) return Error("linux/netDevices/", "key must not be empty");
  }
  if (l.rootfs_propagation) {
    // The schema lists the four plain modes; runc also takes the recursive spellings,
    // which callers emit, so accept both.
    RETURN_IF_ERROR(CheckEnum("linux/rootfsPropagation", "propagation", *l.rootfs_propagation,
                              {"private", "shared", "slave", "unbindable", "rprivate", "rshared",
                               "rslave", "runbindable"}));
  }
  if (l.resources) RETURN_IF_ERROR(ValidateResourcesAt(*l.resources, "linux/resources"));
  if (l.intel_rdt) {
    const IntelRdt& rdt = *l.intel_rdt;
    if (rdt.mem_bw_schema && (!absl::StartsWith(*rdt.mem_bw_schema, "MB:") ||
                              absl::StrContains(*rdt.mem_bw_schema, "\n"))) {
      return Error("linux/intelRdt/memBwSchema", "must start with \"MB:\" and contain no newline");
    }
    for (size_t i = 0; i < rdt.schemata.size(); ++i) {
      if (absl::StrContains(rdt.schemata[i], "\n")) {
        return Error(PointerJoin("linux/intelRdt/schemata", i), "must not contain a newline");
      }
    }
  }
  if (l.memory_policy) {
    RETURN_IF_ERROR(
        CheckEnum("linux/memoryPolicy/mode", "memory policy mode", l.memory_policy->mode,
                  {"MPOL_DEFAULT", "MPOL_BIND", "MPOL_INTERLEAVE", "MPOL_WEIGHTED_INTERLEAVE",
                   "MPOL_PREFERRED", "MPOL_PREFERRED_MANY", "MPOL_LOCAL"}));
    for (size_t i = 0; i < l.memory_policy->flags.size(); ++i) {
      RETURN_IF_ERROR(
          CheckEnum(PointerJoin("linux/memoryPolicy/flags", i), "memory policy flag",
                    l.memory_policy->flags[i],
                    {"MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES", "MPOL_F_STATIC_NODES"}));
    }
  }
  RETURN_IF_ERROR(CheckNonEmptyKeys("linux/sysctl", l.sysctl));
  if (l.seccomp) RETURN_IF_ERROR(ValidateSeccomp(*l.seccomp));
  RETURN_IF_ERROR(CheckAbsolutePaths("linux/maskedPaths", l.masked_paths));
  RETURN_IF_ERROR(CheckAbsolutePaths("linux/readonlyPaths", l.readonly_paths));
  if (l.personality) {
    RETURN_IF_ERROR(CheckEnum("linux/personality/domain", "personality domain",
                              l.personality->domain, {"LINUX", "LINUX32"}));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateProcess(const Process& process, absl::string_view pointer) {
  return ValidateProcessAt(process, pointer);
}

absl::Status ValidateResources(const Resources& resources, absl::string_view pointer) {
  return ValidateResourcesAt(resources, pointer);
}

absl::Status ValidateConfig(const Config& config) {
  int major = SemverMajor(config.oci_version);
  if (major < 0) {
    return Error("ociVersion",
                 absl::StrCat(Quote(config.oci_version), " is not a SemVer 2.0.0 version"));
  }
  if (major != 1) {
    return Error("ociVersion", absl::StrCat("unsupported version ", Quote(config.oci_version),
                                            " (husk implements 1.x)"));
  }
  // Optional in the schema, but a Linux container has nothing to run without it.
  if (!config.root) return Error("root", "missing required field");
  if (config.root->path.empty()) return Error("root/path", "must not be empty");
  RETURN_IF_ERROR(ValidateMounts(config.mounts));
  if (config.process) RETURN_IF_ERROR(ValidateProcessAt(*config.process, "process"));
  if (config.hooks) RETURN_IF_ERROR(ValidateHooks(*config.hooks));
  RETURN_IF_ERROR(CheckNonEmptyKeys("annotations", config.annotations));
  // With no `linux` section the namespace rules still apply (e.g. hostname needs uts).
  const Linux empty;
  return ValidateLinux(config, config.linux_config ? *config.linux_config : empty);
}

}  // namespace husk::spec
