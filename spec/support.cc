#include "spec/support.h"

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "spec/pointer.h"

namespace husk::spec {
namespace {

enum class Verdict { kNotYet, kNotOnLinux };

// One refused field: where it is (relative to its table's object) and whether a config
// uses it. A field "uses" the feature only when it asks for something: empty lists,
// empty strings and empty objects are accepted, since Go callers emit them (Docker
// writes "blockIO": {"weight": 0} for every container).
template <typename T>
struct Rule {
  const char* field;
  Verdict verdict;
  bool (*used)(const T&);
};

bool Set(const std::optional<std::string>& s) { return s && !s->empty(); }

// A blkio weight of 0 means "not set" (runc and crun skip it; the kernel's range starts
// at 10): Docker writes "blockIO": {"weight": 0} for every container, and 0 per device
// for `--blkio-weight-device X:0`.
bool Weighted(const std::optional<uint16_t>& w) { return w && *w != 0; }

bool BlockIoUsed(const BlockIo& b) {
  if (Weighted(b.weight) || Weighted(b.leaf_weight)) return true;
  for (const WeightDevice& d : b.weight_device) {
    if (Weighted(d.weight) || Weighted(d.leaf_weight)) return true;
  }
  return !b.throttle_read_bps_device.empty() || !b.throttle_write_bps_device.empty() ||
         !b.throttle_read_iops_device.empty() || !b.throttle_write_iops_device.empty();
}

// ======================== THE TABLE: everything husk refuses ==========================
// Keep features.cc in mind when editing: it derives hooks, seccomp, apparmor, selinux,
// intelRdt, netDevices and cgroup.rdma from IsImplemented().

const Rule<Config> kConfigRules[] = {
    {"windows", Verdict::kNotOnLinux, [](const Config& c) { return c.has_windows; }},
    {"solaris", Verdict::kNotOnLinux, [](const Config& c) { return c.has_solaris; }},
    {"vm", Verdict::kNotOnLinux, [](const Config& c) { return c.has_vm; }},
    {"zos", Verdict::kNotOnLinux, [](const Config& c) { return c.has_zos; }},
    {"hooks/prestart", Verdict::kNotYet,
     [](const Config& c) { return c.hooks && !c.hooks->prestart.empty(); }},
    {"hooks/createRuntime", Verdict::kNotYet,
     [](const Config& c) { return c.hooks && !c.hooks->create_runtime.empty(); }},
    {"hooks/createContainer", Verdict::kNotYet,
     [](const Config& c) { return c.hooks && !c.hooks->create_container.empty(); }},
    {"hooks/startContainer", Verdict::kNotYet,
     [](const Config& c) { return c.hooks && !c.hooks->start_container.empty(); }},
    {"hooks/poststart", Verdict::kNotYet,
     [](const Config& c) { return c.hooks && !c.hooks->poststart.empty(); }},
    {"hooks/poststop", Verdict::kNotYet,
     [](const Config& c) { return c.hooks && !c.hooks->poststop.empty(); }},
    {"linux/mountLabel", Verdict::kNotYet,
     [](const Config& c) { return c.linux_config && Set(c.linux_config->mount_label); }},
    {"linux/personality", Verdict::kNotYet,
     [](const Config& c) { return c.linux_config && c.linux_config->personality.has_value(); }},
    {"linux/intelRdt", Verdict::kNotYet,
     [](const Config& c) { return c.linux_config && c.linux_config->intel_rdt.has_value(); }},
    {"linux/memoryPolicy", Verdict::kNotYet,
     [](const Config& c) { return c.linux_config && c.linux_config->memory_policy.has_value(); }},
    {"linux/netDevices", Verdict::kNotYet,
     [](const Config& c) { return c.linux_config && !c.linux_config->net_devices.empty(); }},
};

const Rule<Process> kProcessRules[] = {
    {"user/username", Verdict::kNotOnLinux, [](const Process& p) { return Set(p.user.username); }},
    {"commandLine", Verdict::kNotOnLinux, [](const Process& p) { return Set(p.command_line); }},
    {"apparmorProfile", Verdict::kNotYet, [](const Process& p) { return Set(p.apparmor_profile); }},
    {"selinuxLabel", Verdict::kNotYet, [](const Process& p) { return Set(p.selinux_label); }},
    {"scheduler", Verdict::kNotYet, [](const Process& p) { return p.scheduler.has_value(); }},
    {"ioPriority", Verdict::kNotYet, [](const Process& p) { return p.io_priority.has_value(); }},
    {"execCPUAffinity", Verdict::kNotYet,
     [](const Process& p) {
       return p.exec_cpu_affinity &&
              (Set(p.exec_cpu_affinity->initial) || Set(p.exec_cpu_affinity->final));
     }},
};

const Rule<Resources> kResourceRules[] = {
    {"blockIO", Verdict::kNotYet,
     [](const Resources& r) { return r.block_io && BlockIoUsed(*r.block_io); }},
    {"hugepageLimits", Verdict::kNotYet,
     [](const Resources& r) { return !r.hugepage_limits.empty(); }},
    {"network", Verdict::kNotYet,
     [](const Resources& r) {
       return r.network && (r.network->class_id || !r.network->priorities.empty());
     }},
    {"rdma", Verdict::kNotYet, [](const Resources& r) { return !r.rdma.empty(); }},
    {"unified", Verdict::kNotYet, [](const Resources& r) { return !r.unified.empty(); }},
    {"memory/kernel", Verdict::kNotYet,
     [](const Resources& r) { return r.memory && r.memory->kernel.has_value(); }},
    {"memory/kernelTCP", Verdict::kNotYet,
     [](const Resources& r) { return r.memory && r.memory->kernel_tcp.has_value(); }},
    {"memory/checkBeforeUpdate", Verdict::kNotYet,
     [](const Resources& r) { return r.memory && r.memory->check_before_update.has_value(); }},
    // Hierarchical accounting is always on (v2, and v1 since Linux 5.x): only "false"
    // asks for something husk cannot give.
    {"memory/useHierarchy", Verdict::kNotYet,
     [](const Resources& r) {
       return r.memory && r.memory->use_hierarchy.has_value() && !*r.memory->use_hierarchy;
     }},
    {"cpu/burst", Verdict::kNotYet,
     [](const Resources& r) { return r.cpu && r.cpu->burst.has_value(); }},
    {"cpu/realtimeRuntime", Verdict::kNotYet,
     [](const Resources& r) { return r.cpu && r.cpu->realtime_runtime.has_value(); }},
    {"cpu/realtimePeriod", Verdict::kNotYet,
     [](const Resources& r) { return r.cpu && r.cpu->realtime_period.has_value(); }},
    {"cpu/idle", Verdict::kNotYet,
     [](const Resources& r) { return r.cpu && r.cpu->idle.has_value(); }},
};

constexpr char kProcessPrefix[] = "process";
constexpr char kResourcesPrefix[] = "linux/resources";
// =======================================================================================

absl::Status Refuse(absl::string_view prefix, const char* field, Verdict verdict) {
  std::string pointer = prefix.empty() ? field : absl::StrCat(prefix, "/", field);
  return absl::InvalidArgumentError(absl::StrCat(
      pointer, verdict == Verdict::kNotYet ? ": not supported yet" : ": not supported on Linux"));
}

template <typename T, size_t N>
absl::Status Check(const Rule<T> (&rules)[N], const T& value, absl::string_view prefix) {
  for (const Rule<T>& rule : rules) {
    if (rule.used(value)) return Refuse(prefix, rule.field, rule.verdict);
  }
  return absl::OkStatus();
}

template <typename T, size_t N>
bool InTable(const Rule<T> (&rules)[N], absl::string_view prefix, absl::string_view pointer) {
  for (const Rule<T>& rule : rules) {
    std::string full = prefix.empty() ? rule.field : absl::StrCat(prefix, "/", rule.field);
    if (full == pointer) return true;
  }
  return false;
}

}  // namespace

absl::Status CheckSupportedProcess(const Process& process, absl::string_view pointer) {
  return Check(kProcessRules, process, pointer);
}

absl::Status CheckSupportedResources(const Resources& resources, absl::string_view pointer) {
  return Check(kResourceRules, resources, pointer);
}

absl::Status CheckSupported(const Config& config) {
  if (absl::Status s = Check(kConfigRules, config, ""); !s.ok()) return s;
  if (config.process) {
    if (absl::Status s = CheckSupportedProcess(*config.process, kProcessPrefix); !s.ok()) {
      return s;
    }
  }
  if (config.linux_config && config.linux_config->resources) {
    return CheckSupportedResources(*config.linux_config->resources, kResourcesPrefix);
  }
  return absl::OkStatus();
}

bool IsImplemented(absl::string_view pointer) {
  return !InTable(kConfigRules, "", pointer) && !InTable(kProcessRules, kProcessPrefix, pointer) &&
         !InTable(kResourceRules, kResourcesPrefix, pointer);
}

}  // namespace husk::spec
