// Container statistics from cgroup files (v1 and cgroup2), and the OOM watch. Which file
// feeds which field follows runc 1.1's libcontainer/cgroups/fs and fs2 (the notes beside
// each reader say where husk and runc differ).
#include "runtime/kernel/cgroups/stats.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "runtime/base/fs.h"
#include "runtime/base/status.h"

namespace husk::kernel::cgroups {
namespace {

absl::Status ParseError(absl::string_view what, absl::string_view text) {
  return absl::InvalidArgumentError(
      absl::StrCat("parse ", what, ": unexpected ", Quote(text.substr(0, 80))));
}

bool Gone(const absl::Status& status) {
  std::optional<int> err = StatusErrno(status);
  return err && (*err == ENOENT || *err == ENODEV || *err == ENOTSUP || *err == EOPNOTSUPP);
}

// A cgroup file's text, or nullopt when the kernel (or the dir) does not have it.
absl::StatusOr<std::optional<std::string>> ReadOptional(const std::string& dir,
                                                        absl::string_view file) {
  absl::StatusOr<std::string> text = husk::ReadFile(absl::StrCat(dir, "/", file), 4 << 20);
  if (!text.ok()) {
    if (Gone(text.status())) return std::optional<std::string>();
    return text.status();
  }
  return std::optional<std::string>(*std::move(text));
}

// A number file; 0 when absent.
absl::StatusOr<uint64_t> ReadUint(const std::string& dir, absl::string_view file) {
  ASSIGN_OR_RETURN(std::optional<std::string> text, ReadOptional(dir, file));
  if (!text) return 0;
  absl::StatusOr<uint64_t> value = ParseCgroupUint(*text);
  if (!value.ok()) return Annotate(value.status(), absl::StrCat(dir, "/", file));
  return value;
}

// A "key value" file; empty when absent.
absl::StatusOr<std::map<std::string, uint64_t>> ReadKeyed(const std::string& dir,
                                                          absl::string_view file) {
  ASSIGN_OR_RETURN(std::optional<std::string> text, ReadOptional(dir, file));
  if (!text) return std::map<std::string, uint64_t>();
  absl::StatusOr<std::map<std::string, uint64_t>> map = ParseFlatKeyed(*text);
  if (!map.ok()) return Annotate(map.status(), absl::StrCat(dir, "/", file));
  return map;
}

bool ParseUint64(absl::string_view s, uint64_t* out) { return absl::SimpleAtoi(s, out); }

}  // namespace

// ---- Pure parsers.

absl::StatusOr<uint64_t> ParseCgroupUint(absl::string_view text) {
  absl::string_view s = absl::StripAsciiWhitespace(text);
  if (s == "max") return UINT64_MAX;
  uint64_t value = 0;
  if (ParseUint64(s, &value)) return value;
  int64_t negative = 0;
  if (absl::SimpleAtoi(s, &negative) && negative < 0) return 0;
  // Below INT64_MIN: still a negative number, still 0 (runc's ParseUint).
  if (absl::ConsumePrefix(&s, "-") && !s.empty() &&
      std::all_of(s.begin(), s.end(), [](char c) { return absl::ascii_isdigit(c); })) {
    return 0;
  }
  return ParseError("cgroup value", text);
}

absl::StatusOr<std::map<std::string, uint64_t>> ParseFlatKeyed(absl::string_view text) {
  std::map<std::string, uint64_t> out;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipWhitespace())) {
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (fields.size() != 2) return ParseError("key value line", line);
    ASSIGN_OR_RETURN(out[std::string(fields[0])], ParseCgroupUint(fields[1]));
  }
  return out;
}

absl::StatusOr<std::vector<uint16_t>> ParseCpuList(absl::string_view text) {
  std::vector<uint16_t> out;
  for (absl::string_view part :
       absl::StrSplit(absl::StripAsciiWhitespace(text), ',', absl::SkipEmpty())) {
    std::vector<absl::string_view> range = absl::StrSplit(part, '-');
    uint32_t lo = 0, hi = 0;
    if (range.size() > 2 || !absl::SimpleAtoi(range[0], &lo) ||
        !absl::SimpleAtoi(range.back(), &hi) || lo > hi || hi > UINT16_MAX) {
      return ParseError("cpu list", text);
    }
    for (uint32_t i = lo; i <= hi; ++i) out.push_back(static_cast<uint16_t>(i));
  }
  return out;
}

absl::StatusOr<std::vector<BlkioEntry>> ParseBlkioV1(absl::string_view text) {
  std::vector<BlkioEntry> out;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipWhitespace())) {
    // Fields are split on spaces and the ':' of MAJ:MIN, as runc does.
    std::vector<absl::string_view> f = absl::StrSplit(line, absl::ByAnyChar(" :\t"), absl::SkipEmpty());
    if (f.size() == 2 && f[0] == "Total") continue;
    BlkioEntry e;
    size_t value_field = f.size() == 4 ? 3 : 2;
    if ((f.size() != 3 && f.size() != 4) || !ParseUint64(f[0], &e.major) ||
        !ParseUint64(f[1], &e.minor) || !ParseUint64(f[value_field], &e.value)) {
      return ParseError("blkio line", line);
    }
    if (f.size() == 4) e.op = std::string(f[2]);
    out.push_back(std::move(e));
  }
  return out;
}

absl::StatusOr<BlkioStats> ParseIoStatV2(absl::string_view text) {
  BlkioStats out;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipWhitespace())) {
    std::vector<absl::string_view> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
    std::vector<absl::string_view> dev = absl::StrSplit(f[0], ':');
    BlkioEntry base;
    if (dev.size() != 2 || !ParseUint64(dev[0], &base.major) || !ParseUint64(dev[1], &base.minor)) {
      return ParseError("io.stat line", line);
    }
    for (size_t i = 1; i < f.size(); ++i) {
      std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(f[i], '=');
      std::vector<BlkioEntry>* table = nullptr;
      const char* op = nullptr;
      if (kv.first == "rbytes") {
        table = &out.service_bytes, op = "Read";
      } else if (kv.first == "wbytes") {
        table = &out.service_bytes, op = "Write";
      } else if (kv.first == "rios") {
        table = &out.serviced, op = "Read";
      } else if (kv.first == "wios") {
        table = &out.serviced, op = "Write";
      } else {
        continue;  // dbytes, dios, cost.*: nothing in the v1-shaped record
      }
      BlkioEntry e = base;
      e.op = op;
      if (!ParseUint64(kv.second, &e.value)) return ParseError("io.stat line", line);
      table->push_back(std::move(e));
    }
  }
  return out;
}

void ApplyCpuStat(const std::map<std::string, uint64_t>& cpu_stat, bool v2, CpuUsage* usage,
                  Throttling* throttling) {
  auto get = [&](const char* key) {
    auto it = cpu_stat.find(key);
    return it == cpu_stat.end() ? uint64_t{0} : it->second;
  };
  throttling->periods = get("nr_periods");
  throttling->throttled_periods = get("nr_throttled");
  if (!v2) {
    throttling->throttled_time = get("throttled_time");
    return;
  }
  throttling->throttled_time = get("throttled_usec") * 1000;
  usage->total = get("usage_usec") * 1000;
  usage->user = get("user_usec") * 1000;
  usage->kernel = get("system_usec") * 1000;
}

absl::Status ParseCpuacctUsageAll(absl::string_view text, std::vector<uint64_t>* percpu_kernel,
                                  std::vector<uint64_t>* percpu_user) {
  bool header = true;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipWhitespace())) {
    if (header) {  // "cpu user system"
      header = false;
      continue;
    }
    std::vector<absl::string_view> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
    uint64_t user = 0, system = 0;
    if (f.size() != 3 || !ParseUint64(f[1], &user) || !ParseUint64(f[2], &system)) {
      return ParseError("cpuacct.usage_all line", line);
    }
    percpu_user->push_back(user);
    percpu_kernel->push_back(system);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<uint64_t>> ParseUintList(absl::string_view text) {
  std::vector<uint64_t> out;
  for (absl::string_view f : absl::StrSplit(text, absl::ByAnyChar(" \n"), absl::SkipEmpty())) {
    uint64_t v = 0;
    if (!ParseUint64(f, &v)) return ParseError("number list", text);
    out.push_back(v);
  }
  return out;
}

std::string HugePageSizeName(absl::string_view dir_name) {
  absl::string_view s = dir_name;
  uint64_t kb = 0;
  if (!absl::ConsumePrefix(&s, "hugepages-") || !absl::ConsumeSuffix(&s, "kB") ||
      !ParseUint64(s, &kb)) {
    return "";
  }
  // The kernel's own naming (mm/hugetlb_cgroup.c), from a size in kB.
  if (kb >= (1u << 20)) return absl::StrCat(kb >> 20, "GB");
  if (kb >= (1u << 10)) return absl::StrCat(kb >> 10, "MB");
  return absl::StrCat(kb, "KB");
}

uint64_t CountNewOoms(const std::map<std::string, uint64_t>& events, uint64_t* last_oom,
                      uint64_t* last_kill) {
  auto get = [&](const char* key) {
    auto it = events.find(key);
    return it == events.end() ? uint64_t{0} : it->second;
  };
  uint64_t oom = get("oom"), kill = get("oom_kill");
  uint64_t fresh = std::max(oom > *last_oom ? oom - *last_oom : 0,
                            kill > *last_kill ? kill - *last_kill : 0);
  *last_oom = std::max(*last_oom, oom);
  *last_kill = std::max(*last_kill, kill);
  return fresh;
}

// ---- Reading.

namespace {

// Which directory of the container holds a controller's files.
struct Dirs {
  const Layout& layout;
  const std::vector<std::string>& dirs;
  std::string unified;                       // the cgroup2 dir, "" if none
  std::vector<std::string> v2_controllers;   // its cgroup.controllers

  // The dir of the v1 hierarchy mounting `controller`, "" if none.
  std::string V1(absl::string_view controller) const {
    for (const Hierarchy& h : layout.hierarchies) {
      if (h.unified || !h.Has(std::string_view(controller.data(), controller.size()))) continue;
      for (const std::string& d : dirs) {
        if (d == h.mount_point || absl::StartsWith(d, absl::StrCat(h.mount_point, "/"))) return d;
      }
    }
    return "";
  }
  // The cgroup2 dir when it holds `controller` (pure v2 hosts: every enabled one).
  std::string V2(absl::string_view controller) const {
    if (unified.empty()) return "";
    if (std::find(v2_controllers.begin(), v2_controllers.end(), controller) == v2_controllers.end()) {
      return "";
    }
    return unified;
  }
};

Dirs FindDirs(const Layout& layout, const std::vector<std::string>& dirs) {
  Dirs d{layout, dirs, "", {}};
  if (const Hierarchy* h = layout.Unified()) {
    for (const std::string& dir : dirs) {
      if (dir == h->mount_point || absl::StartsWith(dir, absl::StrCat(h->mount_point, "/"))) {
        d.unified = dir;
      }
    }
  }
  if (!d.unified.empty()) {
    absl::StatusOr<std::vector<std::string>> c = AvailableControllers(d.unified);
    if (c.ok()) d.v2_controllers = *std::move(c);
  }
  return d;
}

absl::StatusOr<MemoryEntry> ReadMemoryEntryV1(const std::string& dir, absl::string_view prefix) {
  MemoryEntry e;
  ASSIGN_OR_RETURN(e.usage, ReadUint(dir, absl::StrCat(prefix, ".usage_in_bytes")));
  ASSIGN_OR_RETURN(e.max, ReadUint(dir, absl::StrCat(prefix, ".max_usage_in_bytes")));
  ASSIGN_OR_RETURN(e.failcnt, ReadUint(dir, absl::StrCat(prefix, ".failcnt")));
  ASSIGN_OR_RETURN(e.limit, ReadUint(dir, absl::StrCat(prefix, ".limit_in_bytes")));
  return e;
}

absl::Status ReadMemory(const Dirs& d, MemoryStats* m) {
  if (std::string dir = d.V1("memory"); !dir.empty()) {
    ASSIGN_OR_RETURN(m->raw, ReadKeyed(dir, "memory.stat"));
    if (auto it = m->raw.find("cache"); it != m->raw.end()) m->cache = it->second;
    ASSIGN_OR_RETURN(m->usage, ReadMemoryEntryV1(dir, "memory"));
    ASSIGN_OR_RETURN(m->swap, ReadMemoryEntryV1(dir, "memory.memsw"));
    ASSIGN_OR_RETURN(m->kernel, ReadMemoryEntryV1(dir, "memory.kmem"));
    ASSIGN_OR_RETURN(m->kernel_tcp, ReadMemoryEntryV1(dir, "memory.kmem.tcp"));
    return absl::OkStatus();
  }
  std::string dir = d.V2("memory");
  if (dir.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(m->raw, ReadKeyed(dir, "memory.stat"));
  if (auto it = m->raw.find("file"); it != m->raw.end()) m->cache = it->second;
  ASSIGN_OR_RETURN(m->usage.usage, ReadUint(dir, "memory.current"));
  ASSIGN_OR_RETURN(m->usage.limit, ReadUint(dir, "memory.max"));
  // memory.peak (Linux 5.19) is the v1 max_usage_in_bytes; runc 1.1 leaves max at 0.
  ASSIGN_OR_RETURN(m->usage.max, ReadUint(dir, "memory.peak"));
  ASSIGN_OR_RETURN(auto events, ReadKeyed(dir, "memory.events"));
  if (auto it = events.find("max"); it != events.end()) m->usage.failcnt = it->second;
  ASSIGN_OR_RETURN(std::optional<std::string> swap_current, ReadOptional(dir, "memory.swap.current"));
  if (swap_current) {
    // v1 reports memory+swap; v2 swap alone: add memory, as runc does, for the same meaning.
    ASSIGN_OR_RETURN(uint64_t swap_usage, ParseCgroupUint(*swap_current));
    ASSIGN_OR_RETURN(uint64_t swap_limit, ReadUint(dir, "memory.swap.max"));
    m->swap.usage = swap_usage + m->usage.usage;
    m->swap.limit = swap_limit;
    if (swap_limit != UINT64_MAX) {
      m->swap.limit = m->usage.limit == UINT64_MAX ? UINT64_MAX : swap_limit + m->usage.limit;
    }
  }
  return absl::OkStatus();
}

absl::Status ReadCpu(const Dirs& d, CpuUsage* usage, Throttling* throttling) {
  std::string cpu = d.V1("cpu");
  std::string acct = d.V1("cpuacct");
  if (cpu.empty() && acct.empty()) {
    // cpu.stat exists in every cgroup2 dir, with or without the cpu controller.
    if (d.unified.empty()) return absl::OkStatus();
    ASSIGN_OR_RETURN(auto stat, ReadKeyed(d.unified, "cpu.stat"));
    ApplyCpuStat(stat, true, usage, throttling);
    return absl::OkStatus();
  }
  if (!cpu.empty()) {
    ASSIGN_OR_RETURN(auto stat, ReadKeyed(cpu, "cpu.stat"));
    ApplyCpuStat(stat, false, usage, throttling);
  }
  if (acct.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(usage->total, ReadUint(acct, "cpuacct.usage"));
  ASSIGN_OR_RETURN(std::optional<std::string> percpu, ReadOptional(acct, "cpuacct.usage_percpu"));
  if (percpu) {
    ASSIGN_OR_RETURN(usage->percpu, ParseUintList(*percpu));
  }
  ASSIGN_OR_RETURN(std::optional<std::string> all, ReadOptional(acct, "cpuacct.usage_all"));
  if (all) {
    RETURN_IF_ERROR(ParseCpuacctUsageAll(*all, &usage->percpu_kernel, &usage->percpu_user));
  }
  // cpuacct.stat is in USER_HZ ticks.
  ASSIGN_OR_RETURN(auto stat, ReadKeyed(acct, "cpuacct.stat"));
  long hz = sysconf(_SC_CLK_TCK);
  if (hz <= 0) hz = 100;
  usage->user = stat["user"] * 1000000000ull / static_cast<uint64_t>(hz);
  usage->kernel = stat["system"] * 1000000000ull / static_cast<uint64_t>(hz);
  return absl::OkStatus();
}

absl::Status ReadCpuset(const Dirs& d, CpusetStats* c) {
  // v1 only, as runc: cgroup2's cpuset has none of the flag files.
  std::string dir = d.V1("cpuset");
  if (dir.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::optional<std::string> cpus, ReadOptional(dir, "cpuset.cpus"));
  if (cpus) {
    ASSIGN_OR_RETURN(c->cpus, ParseCpuList(*cpus));
  }
  ASSIGN_OR_RETURN(std::optional<std::string> mems, ReadOptional(dir, "cpuset.mems"));
  if (mems) {
    ASSIGN_OR_RETURN(c->mems, ParseCpuList(*mems));
  }
  for (const CpusetFlag& f : kCpusetFlags) {
    ASSIGN_OR_RETURN(c->*f.field, ReadUint(dir, absl::StrCat("cpuset.", f.name)));
  }
  ASSIGN_OR_RETURN(std::optional<std::string> level,
                   ReadOptional(dir, "cpuset.sched_relax_domain_level"));
  if (level && !absl::SimpleAtoi(absl::StripAsciiWhitespace(*level), &c->sched_relax_domain_level)) {
    return ParseError("cpuset.sched_relax_domain_level", *level);
  }
  return absl::OkStatus();
}

absl::Status ReadPids(const Dirs& d, PidsStats* p) {
  std::string dir = d.V1("pids");
  if (dir.empty()) dir = d.V2("pids");
  if (!dir.empty()) {
    ASSIGN_OR_RETURN(p->current, ReadUint(dir, "pids.current"));
    ASSIGN_OR_RETURN(p->limit, ReadUint(dir, "pids.max"));
    if (p->limit == UINT64_MAX) p->limit = 0;  // runc's "no limit"
    return absl::OkStatus();
  }
  if (d.unified.empty() || d.layout.mode != Mode::kUnified) return absl::OkStatus();
  // Pure v2 without the pids controller: count the processes (runc's fallback).
  ASSIGN_OR_RETURN(std::optional<std::string> procs, ReadOptional(d.unified, "cgroup.procs"));
  if (procs) p->current = static_cast<uint64_t>(std::count(procs->begin(), procs->end(), '\n'));
  return absl::OkStatus();
}

absl::Status ReadBlkio(const Dirs& d, BlkioStats* b) {
  if (std::string dir = d.V1("blkio"); !dir.empty()) {
    // runc's order of preference: BFQ's debug files, BFQ, CFQ, throttle (recursive, then
    // not).
    struct File {
      std::string name;
      std::vector<BlkioEntry>* table;
    };
    // BFQ's debug files and CFQ's: eight tables, "<prefix><name>_recursive".
    auto full = [&](const char* prefix) {
      std::vector<File> group;
      for (const File& f : std::vector<File>{{"sectors", &b->sectors},
                                             {"io_service_time", &b->service_time},
                                             {"io_wait_time", &b->wait_time},
                                             {"io_merged", &b->merged},
                                             {"io_queued", &b->queued},
                                             {"time", &b->time},
                                             {"io_serviced", &b->serviced},
                                             {"io_service_bytes", &b->service_bytes}}) {
        group.push_back({absl::StrCat(prefix, f.name, "_recursive"), f.table});
      }
      return group;
    };
    // BFQ without debug, and the throttle files: requests and bytes only.
    auto serviced = [&](const char* prefix, const char* suffix) {
      return std::vector<File>{{absl::StrCat(prefix, "io_serviced", suffix), &b->serviced},
                               {absl::StrCat(prefix, "io_service_bytes", suffix), &b->service_bytes}};
    };
    const std::vector<std::vector<File>> groups = {
        full("blkio.bfq."), serviced("blkio.bfq.", "_recursive"), full("blkio."),
        serviced("blkio.throttle.", "_recursive"), serviced("blkio.throttle.", "")};
    for (const std::vector<File>& group : groups) {
      for (size_t i = 0; i < group.size(); ++i) {
        ASSIGN_OR_RETURN(std::optional<std::string> text, ReadOptional(dir, group[i].name));
        absl::StatusOr<std::vector<BlkioEntry>> entries =
            text ? ParseBlkioV1(*text) : std::vector<BlkioEntry>();
        if (!entries.ok()) {
          return Annotate(entries.status(), absl::StrCat(dir, "/", group[i].name));
        }
        // A group whose first file has no entries (absent, or only "Total 0", as BFQ's
        // files read when another scheduler does the I/O) gives way to the next, as in
        // runc; a later empty file ends the reading.
        if (entries->empty()) {
          if (i == 0) break;
          return absl::OkStatus();
        }
        *group[i].table = *std::move(entries);
        if (i + 1 == group.size()) return absl::OkStatus();
      }
    }
    return absl::OkStatus();
  }
  std::string dir = d.V2("io");
  if (dir.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::optional<std::string> text, ReadOptional(dir, "io.stat"));
  if (!text) return absl::OkStatus();
  absl::StatusOr<BlkioStats> parsed = ParseIoStatV2(*text);
  if (!parsed.ok()) return Annotate(parsed.status(), absl::StrCat(dir, "/io.stat"));
  *b = *std::move(parsed);
  return absl::OkStatus();
}

std::vector<std::string> HugePageSizes() {
  std::vector<std::string> out;
  DIR* d = opendir("/sys/kernel/mm/hugepages");
  if (d == nullptr) return out;
  while (struct dirent* e = readdir(d)) {
    std::string name = HugePageSizeName(e->d_name);
    if (!name.empty()) out.push_back(std::move(name));
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

absl::Status ReadHugetlb(const Dirs& d, std::map<std::string, HugetlbStats>* out) {
  std::string v1 = d.V1("hugetlb");
  std::string v2 = v1.empty() ? d.V2("hugetlb") : "";
  if (v1.empty() && v2.empty()) return absl::OkStatus();
  for (const std::string& size : HugePageSizes()) {
    HugetlbStats h;
    std::string prefix = absl::StrCat("hugetlb.", size);
    if (!v1.empty()) {
      ASSIGN_OR_RETURN(h.usage, ReadUint(v1, prefix + ".usage_in_bytes"));
      ASSIGN_OR_RETURN(h.max, ReadUint(v1, prefix + ".max_usage_in_bytes"));
      ASSIGN_OR_RETURN(h.failcnt, ReadUint(v1, prefix + ".failcnt"));
    } else {
      ASSIGN_OR_RETURN(h.usage, ReadUint(v2, prefix + ".current"));
      ASSIGN_OR_RETURN(auto events, ReadKeyed(v2, prefix + ".events"));
      h.failcnt = events["max"];  // allocations refused by the limit
    }
    (*out)[size] = h;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Stats> ReadStats(const Layout& layout, const std::vector<std::string>& dirs) {
  Dirs d = FindDirs(layout, dirs);
  Stats s;
  RETURN_IF_ERROR(ReadPids(d, &s.pids));
  RETURN_IF_ERROR(ReadCpu(d, &s.cpu, &s.throttling));
  RETURN_IF_ERROR(ReadCpuset(d, &s.cpuset));
  RETURN_IF_ERROR(ReadMemory(d, &s.memory));
  RETURN_IF_ERROR(ReadBlkio(d, &s.blkio));
  RETURN_IF_ERROR(ReadHugetlb(d, &s.hugetlb));
  return s;
}

// ---- OOM watch.

absl::StatusOr<OomWatch> OomWatch::Open(const Layout& layout, const std::vector<std::string>& dirs) {
  Dirs d = FindDirs(layout, dirs);
  OomWatch w;
  if (std::string dir = d.V1("memory"); !dir.empty()) {
    w.dir_ = dir;
    w.control_ = UniqueFd(open(absl::StrCat(dir, "/memory.oom_control").c_str(), O_RDONLY | O_CLOEXEC));
    if (!w.control_) return ErrnoError(absl::StrCat("open ", Quote(dir + "/memory.oom_control")));
    w.fd_ = UniqueFd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!w.fd_) return ErrnoError("eventfd");
    RETURN_IF_ERROR(Annotate(
        WriteFileAt(AT_FDCWD, absl::StrCat(dir, "/cgroup.event_control"),
                    absl::StrCat(w.fd_.get(), " ", w.control_.get())),
        "register for oom notifications"));
    return w;
  }
  std::string dir = d.V2("memory");
  if (dir.empty()) {
    return absl::FailedPreconditionError("oom notifications: the container has no memory cgroup");
  }
  w.v2_ = true;
  w.dir_ = dir;
  w.fd_ = UniqueFd(inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  if (!w.fd_) return ErrnoError("inotify_init1");
  std::string events = absl::StrCat(dir, "/memory.events");
  if (inotify_add_watch(w.fd_.get(), events.c_str(), IN_MODIFY) < 0) {
    return ErrnoError(absl::StrCat("watch ", Quote(events)));
  }
  // Counters from before the watch are old news.
  ASSIGN_OR_RETURN(auto now, ReadKeyed(dir, "memory.events"));
  CountNewOoms(now, &w.last_oom_, &w.last_kill_);
  return w;
}

absl::StatusOr<int> OomWatch::Consume() {
  if (!v2_) {
    uint64_t count = 0;
    if (read(fd_.get(), &count, sizeof(count)) < 0 && errno != EAGAIN) return ErrnoError("read eventfd");
    // The kernel also signals the eventfd when the cgroup is removed.
    if (access(absl::StrCat(dir_, "/cgroup.event_control").c_str(), F_OK) != 0) return 0;
    return static_cast<int>(count);
  }
  char buf[4096];
  while (read(fd_.get(), buf, sizeof(buf)) > 0) {
  }
  ASSIGN_OR_RETURN(auto now, ReadKeyed(dir_, "memory.events"));
  return static_cast<int>(CountNewOoms(now, &last_oom_, &last_kill_));
}

}  // namespace husk::kernel::cgroups
