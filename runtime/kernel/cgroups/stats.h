// Resource usage of a container's cgroup, as `events` reports it: the numbers runc 1.1's
// libcontainer/cgroups/fs (v1) and fs2 (cgroup2) collect, gathered into one Stats struct.
// The parsers are pure (kernel file text in, numbers out); ReadStats reads the files of
// the container's dirs on v1, hybrid and pure v2 hosts, and the OOM watch waits for the
// memory controller's OOM notifications. Parent process only.
#ifndef HUSK_RUNTIME_KERNEL_CGROUPS_STATS_H_
#define HUSK_RUNTIME_KERNEL_CGROUPS_STATS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "runtime/base/unique_fd.h"
#include "runtime/kernel/cgroups/cgroups.h"

namespace husk::kernel::cgroups {

struct CpuUsage {
  uint64_t total = 0;  // nanoseconds
  std::vector<uint64_t> percpu, percpu_kernel, percpu_user;
  uint64_t kernel = 0, user = 0;
};
struct Throttling {
  uint64_t periods = 0, throttled_periods = 0, throttled_time = 0;  // time in ns
};
struct CpusetStats {
  std::vector<uint16_t> cpus, mems;
  uint64_t cpu_exclusive = 0, mem_hardwall = 0, mem_exclusive = 0, memory_migrate = 0,
           memory_spread_page = 0, memory_spread_slab = 0, memory_pressure = 0,
           sched_load_balance = 0;
  int64_t sched_relax_domain_level = 0;
};
// The cpuset flag files (v1 "cpuset.<name>"), in the order runc's JSON lists them (after
// "cpus": cpu_exclusive, then "mems", then the rest); `name` is also the JSON key.
struct CpusetFlag {
  const char* name;
  uint64_t CpusetStats::*field;
};
inline constexpr CpusetFlag kCpusetFlags[] = {
    {"cpu_exclusive", &CpusetStats::cpu_exclusive},
    {"mem_hardwall", &CpusetStats::mem_hardwall},
    {"mem_exclusive", &CpusetStats::mem_exclusive},
    {"memory_migrate", &CpusetStats::memory_migrate},
    {"memory_spread_page", &CpusetStats::memory_spread_page},
    {"memory_spread_slab", &CpusetStats::memory_spread_slab},
    {"memory_pressure", &CpusetStats::memory_pressure},
    {"sched_load_balance", &CpusetStats::sched_load_balance},
};
// One memory counter family (memory.*, memory.memsw.*, memory.kmem.*, memory.kmem.tcp.*
// on v1; memory.* and memory.swap.* on v2). "max" limits read as UINT64_MAX.
struct MemoryEntry {
  uint64_t limit = 0, usage = 0, max = 0, failcnt = 0;
};
struct MemoryStats {
  uint64_t cache = 0;  // v1 "cache", v2 "file" of memory.stat
  MemoryEntry usage, swap, kernel, kernel_tcp;
  std::map<std::string, uint64_t> raw;  // memory.stat as read
};
struct PidsStats {
  uint64_t current = 0, limit = 0;  // limit 0 = no limit ("max"), as runc reports it
};
struct BlkioEntry {
  uint64_t major = 0, minor = 0;
  std::string op;  // "Read", "Write", "Sync", "Async", "Discard", "Total", or "" (sectors)
  uint64_t value = 0;
  bool operator==(const BlkioEntry& o) const {
    return major == o.major && minor == o.minor && op == o.op && value == o.value;
  }
};
struct BlkioStats {
  std::vector<BlkioEntry> service_bytes, serviced, queued, service_time, wait_time, merged,
      time, sectors;
};
struct HugetlbStats {
  uint64_t usage = 0, max = 0, failcnt = 0;  // max: peak usage (v1 only)
};
struct Stats {
  CpuUsage cpu;
  Throttling throttling;
  CpusetStats cpuset;
  MemoryStats memory;
  PidsStats pids;
  BlkioStats blkio;
  std::map<std::string, HugetlbStats> hugetlb;  // by page size name, "2MB"
};

// ---- Pure parsers (kernel file text -> numbers).

// One cgroup number: "max" (and "-1" style negatives, which v1 shows for "unlimited"
// in a few files) follow runc: max -> UINT64_MAX, negative -> 0. Whitespace trimmed.
absl::StatusOr<uint64_t> ParseCgroupUint(absl::string_view text);
// "key value" lines (memory.stat, cpu.stat, memory.events, cgroup.events, v1
// cpuacct.stat) in file order. A line that is not two fields with a number is an error.
absl::StatusOr<std::map<std::string, uint64_t>> ParseFlatKeyed(absl::string_view text);
// A cpuset list "0-3,5" -> {0,1,2,3,5}; "" (an unset cpuset) -> {}.
absl::StatusOr<std::vector<uint16_t>> ParseCpuList(absl::string_view text);
// v1 blkio.* files: "MAJ:MIN Op VALUE" or "MAJ:MIN VALUE" lines; "Total N" skipped.
absl::StatusOr<std::vector<BlkioEntry>> ParseBlkioV1(absl::string_view text);
// v2 io.stat: "MAJ:MIN rbytes=.. wbytes=.. rios=.. wios=.. dbytes=.." lines. rbytes/wbytes
// go to service_bytes, rios/wios to serviced, as Read/Write (runc's mapping); the rest
// has no v1 counterpart and is skipped.
absl::StatusOr<BlkioStats> ParseIoStatV2(absl::string_view text);
// cpu.stat into the throttling fields (v1: throttled_time in ns; v2: *_usec * 1000, and
// usage_usec/user_usec/system_usec into `usage`).
void ApplyCpuStat(const std::map<std::string, uint64_t>& cpu_stat, bool v2, CpuUsage* usage,
                  Throttling* throttling);
// v1 cpuacct.usage_all ("cpu user system" header, then one line per cpu, in ns).
absl::Status ParseCpuacctUsageAll(absl::string_view text, std::vector<uint64_t>* percpu_kernel,
                                  std::vector<uint64_t>* percpu_user);
// v1 cpuacct.usage_percpu: space-separated ns per cpu.
absl::StatusOr<std::vector<uint64_t>> ParseUintList(absl::string_view text);
// "hugepages-2048kB" (a /sys/kernel/mm/hugepages entry) -> "2MB" (the cgroup file infix),
// "" for anything else.
std::string HugePageSizeName(absl::string_view dir_name);

// ---- Reading a container's cgroup.

// Reads every statistic the host has for the container whose cgroup directories are
// `dirs` (state::Record::cgroup_dirs): each controller from its v1 hierarchy when one
// holds it, else from the cgroup2 dir (pure v2, or a hybrid controller such as hugetlb).
// A file the kernel does not have (or a dir already gone) leaves its fields zero.
absl::StatusOr<Stats> ReadStats(const Layout& layout, const std::vector<std::string>& dirs);

// OOM notifications of the container's memory cgroup. v1: an eventfd registered for
// memory.oom_control through cgroup.event_control; v2: inotify on memory.events, whose
// "oom_kill" and "oom" counters are compared with the last reading.
class OomWatch {
 public:
  // FailedPrecondition if the container has no memory cgroup.
  static absl::StatusOr<OomWatch> Open(const Layout& layout, const std::vector<std::string>& dirs);
  // The fd to poll for POLLIN.
  int fd() const { return fd_.get(); }
  // After POLLIN: consumes the notification; the number of new OOM events (0 for a
  // memory.events change without one, or for the v1 eventfd firing because the cgroup
  // was removed).
  absl::StatusOr<int> Consume();

 private:
  OomWatch() = default;
  UniqueFd fd_;
  UniqueFd control_;  // v1: memory.oom_control, open for the registration's lifetime
  std::string dir_;
  bool v2_ = false;
  uint64_t last_oom_ = 0, last_kill_ = 0;  // v2: memory.events at the last reading
};

// Pure: memory.events text -> new OOM events since the (oom, oom_kill) counters read
// before, updating them. An OOM that killed a task bumps both counters: one event.
uint64_t CountNewOoms(const std::map<std::string, uint64_t>& events, uint64_t* last_oom,
                      uint64_t* last_kill);

}  // namespace husk::kernel::cgroups

#endif  // HUSK_RUNTIME_KERNEL_CGROUPS_STATS_H_
