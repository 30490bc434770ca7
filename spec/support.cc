#include "spec/support.h"

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "spec/pointer.h"

namespace husk::spec {
namespace {

enum class Verdict { kNotYet, kNotOnLinux };

// One refused field: where it is (relative to its table's object) and whether a config
// uses it. A field "uses" the feature only when it asks for something: empty lists,
// empty strings and empty objects are accepted, since Go callers emit them.
template <typename T>
struct Rule {
  const char* field;
  Verdict verdict;
  bool (*used)(const T&);
};

bool Set(const std::optional<std::string>& s) { return s && !s->empty(); }

// ======================== THE TABLE: everything husk refuses ==========================
// Keep features.cc in mind when editing: it derives hooks, seccomp, apparmor, selinux,
// intelRdt, netDevices and cgroup.rdma from IsImplemented().

const Rule<Config> kConfigRules[] = {
    {"windows", Verdict::kNotOnLinux, [](const Config& c) { return c.has_windows; }},
    {"solaris", Verdict::kNotOnLinux, [](const Config& c) { return c.has_solaris; }},
    {"vm", Verdict::kNotOnLinux, [](const Config& c) { return c.has_vm; }},
    {"zos", Verdict::kNotOnLinux, [](const Config& c) { return c.has_zos; }},
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

// linux/resources is not in the table: every field is implemented, and which ones a host
// can apply depends on its cgroup layout, so runtime/kernel/cgroups refuses those (naming
// the field) when it plans the writes for the host it runs on.

constexpr char kProcessPrefix[] = "process";
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

absl::Status CheckSupported(const Config& config) {
  if (absl::Status s = Check(kConfigRules, config, ""); !s.ok()) return s;
  if (config.process) return CheckSupportedProcess(*config.process, kProcessPrefix);
  return absl::OkStatus();
}

bool IsImplemented(absl::string_view pointer) {
  return !InTable(kConfigRules, "", pointer) && !InTable(kProcessRules, kProcessPrefix, pointer);
}

}  // namespace husk::spec
