// Typed model of an OCI runtime-spec v1.3.0 config.json (Linux and platform-neutral parts).
// Pure data: no syscalls, no policy about what husk implements (see spec/support.h).
// Field names follow the JSON names in CamelCase; optional JSON members are std::optional
// so "absent" and "zero" stay distinguishable. Used by parent and child alike.
#ifndef HUSK_SPEC_CONFIG_H_
#define HUSK_SPEC_CONFIG_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace husk::spec {

struct IdMapping {
  uint32_t container_id = 0;
  uint32_t host_id = 0;
  uint32_t size = 0;
};

struct Mount {
  std::string destination;
  std::optional<std::string> source;
  std::optional<std::string> type;
  std::vector<std::string> options;
  std::vector<IdMapping> uid_mappings;
  std::vector<IdMapping> gid_mappings;
};

struct Root {
  std::string path;
  bool readonly = false;
};

struct User {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::optional<uint32_t> umask;
  std::vector<uint32_t> additional_gids;
  std::optional<std::string> username;  // Windows only; rejected on Linux if set.
};

struct Capabilities {
  // Each set is std::nullopt when absent (the spec treats an absent set as empty).
  std::optional<std::vector<std::string>> bounding, effective, inheritable, permitted,
      ambient;
};

struct Rlimit {
  std::string type;  // "RLIMIT_NOFILE"...
  uint64_t soft = 0;
  uint64_t hard = 0;
};

struct ConsoleSize {
  uint32_t height = 0;
  uint32_t width = 0;
};

struct Scheduler {
  std::string policy;
  std::optional<int32_t> nice;
  std::optional<int32_t> priority;
  std::vector<std::string> flags;
  std::optional<uint64_t> runtime, deadline, period;
};

struct IoPriority {
  std::string io_class;  // JSON "class"
  int32_t priority = 0;
};

struct ExecCpuAffinity {
  std::optional<std::string> initial;
  std::optional<std::string> final;
};

struct Process {
  bool terminal = false;
  std::optional<ConsoleSize> console_size;
  User user;
  std::vector<std::string> args;
  std::optional<std::string> command_line;  // Windows only.
  std::vector<std::string> env;
  std::string cwd;
  std::optional<Capabilities> capabilities;
  std::vector<Rlimit> rlimits;
  bool no_new_privileges = false;
  std::optional<std::string> apparmor_profile;
  std::optional<int32_t> oom_score_adj;
  std::optional<Scheduler> scheduler;
  std::optional<std::string> selinux_label;
  std::optional<IoPriority> io_priority;
  std::optional<ExecCpuAffinity> exec_cpu_affinity;
};

struct Hook {
  std::string path;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::optional<int32_t> timeout;
};

struct Hooks {
  std::vector<Hook> prestart, create_runtime, create_container, start_container, poststart,
      poststop;
};

// Namespace types by their config.json names.
enum class NamespaceType { kPid, kNetwork, kMount, kIpc, kUts, kUser, kCgroup, kTime };
inline constexpr NamespaceType kAllNamespaceTypes[] = {
    NamespaceType::kPid, NamespaceType::kNetwork, NamespaceType::kMount,
    NamespaceType::kIpc, NamespaceType::kUts,     NamespaceType::kUser,
    NamespaceType::kCgroup, NamespaceType::kTime};

struct Namespace {
  NamespaceType type = NamespaceType::kPid;
  std::optional<std::string> path;
};

struct TimeOffset {
  int64_t secs = 0;
  uint32_t nanosecs = 0;
};

struct Device {
  std::string type;  // "c", "b", "u", "p"
  std::string path;
  std::optional<int64_t> major, minor;
  std::optional<uint32_t> file_mode;
  std::optional<uint32_t> uid, gid;
};

struct DeviceCgroupRule {
  bool allow = false;
  std::optional<std::string> type;  // "a", "c", "b"; absent = "a"
  std::optional<int64_t> major, minor;  // absent = wildcard
  std::optional<std::string> access;    // subset of "rwm"; absent = "rwm"
};

struct Memory {
  std::optional<int64_t> limit, reservation, swap, kernel, kernel_tcp;
  std::optional<uint64_t> swappiness;
  std::optional<bool> disable_oom_killer, use_hierarchy, check_before_update;
};

struct Cpu {
  std::optional<uint64_t> shares;
  std::optional<int64_t> quota, burst;
  std::optional<uint64_t> period;
  std::optional<int64_t> realtime_runtime;
  std::optional<uint64_t> realtime_period;
  std::optional<std::string> cpus, mems;
  std::optional<int64_t> idle;
};

struct WeightDevice {
  int64_t major = 0, minor = 0;
  std::optional<uint16_t> weight, leaf_weight;
};

struct ThrottleDevice {
  int64_t major = 0, minor = 0;
  uint64_t rate = 0;
};

struct BlockIo {
  std::optional<uint16_t> weight, leaf_weight;
  std::vector<WeightDevice> weight_device;
  std::vector<ThrottleDevice> throttle_read_bps_device, throttle_write_bps_device,
      throttle_read_iops_device, throttle_write_iops_device;
};

struct HugepageLimit {
  std::string page_size;
  uint64_t limit = 0;
};

struct NetworkPriority {
  std::string name;
  uint32_t priority = 0;
};

struct Network {
  std::optional<uint32_t> class_id;
  std::vector<NetworkPriority> priorities;
};

struct Pids {
  std::optional<int64_t> limit;
};

struct Rdma {
  std::optional<uint32_t> hca_handles, hca_objects;
};

struct Resources {
  std::vector<DeviceCgroupRule> devices;
  std::optional<Memory> memory;
  std::optional<Cpu> cpu;
  std::optional<BlockIo> block_io;
  std::vector<HugepageLimit> hugepage_limits;
  std::optional<Network> network;
  std::optional<Pids> pids;
  std::map<std::string, Rdma> rdma;
  std::map<std::string, std::string> unified;
};

struct SeccompArg {
  uint32_t index = 0;
  uint64_t value = 0;
  std::optional<uint64_t> value_two;
  std::string op;
};

struct SeccompSyscall {
  std::vector<std::string> names;
  std::string action;
  std::optional<uint32_t> errno_ret;
  std::vector<SeccompArg> args;
};

struct Seccomp {
  std::string default_action;
  std::optional<uint32_t> default_errno_ret;
  std::vector<std::string> architectures;
  std::vector<std::string> flags;
  std::optional<std::string> listener_path;
  std::optional<std::string> listener_metadata;
  std::vector<SeccompSyscall> syscalls;
};

struct IntelRdt {
  std::optional<std::string> clos_id, l3_cache_schema, mem_bw_schema;
  std::vector<std::string> schemata;
  std::optional<bool> enable_cmt, enable_mbm;  // v1.1-v1.2 names, replaced by:
  std::optional<bool> enable_monitoring;
};

struct MemoryPolicy {
  std::string mode;
  std::optional<std::string> nodes;
  std::vector<std::string> flags;
};

struct Personality {
  std::string domain;
  std::vector<std::string> flags;
};

struct NetDevice {
  std::optional<std::string> name;
};

struct Linux {
  std::vector<Namespace> namespaces;
  std::vector<IdMapping> uid_mappings, gid_mappings;
  std::map<std::string, TimeOffset> time_offsets;  // "monotonic", "boottime"
  std::vector<Device> devices;
  std::map<std::string, NetDevice> net_devices;
  std::optional<std::string> cgroups_path;
  std::optional<std::string> rootfs_propagation;
  std::optional<Resources> resources;
  std::optional<IntelRdt> intel_rdt;
  std::optional<MemoryPolicy> memory_policy;
  std::map<std::string, std::string> sysctl;
  std::optional<Seccomp> seccomp;
  std::vector<std::string> masked_paths, readonly_paths;
  std::optional<std::string> mount_label;
  std::optional<Personality> personality;
};

struct Config {
  std::string oci_version;
  std::optional<Root> root;
  std::vector<Mount> mounts;
  std::optional<Process> process;
  std::optional<std::string> hostname;
  std::optional<std::string> domainname;
  std::optional<Hooks> hooks;
  std::map<std::string, std::string> annotations;
  std::optional<Linux> linux_config;  // JSON "linux" ("linux" itself is a macro).
  // Other platforms' sections: their presence is recorded so they can be refused.
  bool has_windows = false, has_solaris = false, has_vm = false, has_zos = false;
};

// Name of a namespace type as written in config.json ("network", "mount" ...).
const char* NamespaceTypeName(NamespaceType type);
// The inverse; std::nullopt for a name the spec does not define.
std::optional<NamespaceType> NamespaceTypeFromName(absl::string_view name);

}  // namespace husk::spec

#endif  // HUSK_SPEC_CONFIG_H_
