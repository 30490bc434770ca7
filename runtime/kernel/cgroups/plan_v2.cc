// linux.resources -> ordered cgroup2 file writes, with the v1-style fields converted the
// way runc and crun convert them, and the per-host choice between the v1 and v2 plans.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "runtime/base/status.h"
#include "runtime/kernel/cgroups/cgroups.h"

namespace husk::kernel::cgroups {
namespace {

constexpr char kRes[] = "linux/resources/";

absl::Status Invalid(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(kRes, field, ": ", what));
}

absl::Status NoV2(absl::string_view field, absl::string_view why) {
  return Invalid(field, absl::StrCat("cannot be applied on cgroup v2: ", why));
}

// Collects the writes of one controller group, each tagged with its field.
class Plan {
 public:
  explicit Plan(const std::vector<std::string>& only) : only_(only) {}
  bool Wants(absl::string_view controller) const {
    return only_.empty() ||
           std::find(only_.begin(), only_.end(), std::string(controller)) != only_.end();
  }
  void Add(const char* controller, std::string file, std::string value, std::string field,
           std::string alt_file = "", std::string alt_value = "") {
    FileWrite w;
    w.controller = controller;
    w.file = std::move(file);
    w.value = std::move(value);
    w.v2 = true;
    w.field = absl::StrCat(kRes, field);
    w.alt_file = std::move(alt_file);
    w.alt_value = std::move(alt_value);
    out_.push_back(std::move(w));
  }
  std::vector<FileWrite> Take() { return std::move(out_); }

 private:
  const std::vector<std::string>& only_;
  std::vector<FileWrite> out_;
};

std::string MaxOr(int64_t v) { return v < 0 ? "max" : absl::StrCat(v); }

// runc's ConvertCPUSharesToCgroupV2Value (and crun's): the v1 range [2, 262144] mapped
// linearly onto cpu.weight's [1, 10000]: weight = 1 + (shares - 2) * 9999 / 262142.
// The default 1024 becomes 39 (not v2's default of 100), as in runc 1.1 and crun 1.8.
uint64_t SharesToWeight(uint64_t shares) { return 1 + ((shares - 2) * 9999) / 262142; }

// runc's ConvertBlkIOToIOWeightValue: blkio's [10, 1000] onto io.weight's [1, 10000]:
// weight = 1 + (blkio - 10) * 9999 / 990. BFQ's io.bfq.weight takes the blkio value as
// is (its range is v1's), so that file is tried first.
uint64_t BlkioToIoWeight(uint64_t w) { return 1 + ((w - 10) * 9999) / 990; }

absl::Status PlanCpu(const spec::Cpu& c, Plan* p) {
  if (p->Wants("cpu")) {
    if (c.shares && *c.shares != 0) {
      if (*c.shares < 2 || *c.shares > 262144) {
        return Invalid("cpu/shares", absl::StrCat("invalid value ", *c.shares, " (want 2-262144)"));
      }
      p->Add("cpu", "cpu.weight", absl::StrCat(SharesToWeight(*c.shares)), "cpu/shares");
    }
    // cpu.max is "QUOTA PERIOD": quota "max" when unlimited (-1) or unset; without a
    // period the kernel keeps the current one.
    bool quota = c.quota && *c.quota != 0;
    bool period = c.period && *c.period != 0;
    if (quota || period) {
      std::string value = quota && *c.quota > 0 ? absl::StrCat(*c.quota) : "max";
      if (period) absl::StrAppend(&value, " ", *c.period);
      p->Add("cpu", "cpu.max", value, quota ? "cpu/quota" : "cpu/period");
    }
    if (c.burst) {
      if (*c.burst < 0) return Invalid("cpu/burst", absl::StrCat("invalid value ", *c.burst));
      if (c.quota && *c.quota > 0 && *c.burst > *c.quota) {
        return Invalid("cpu/burst",
                       absl::StrCat("burst ", *c.burst, " is larger than quota ", *c.quota));
      }
      p->Add("cpu", "cpu.max.burst", absl::StrCat(*c.burst), "cpu/burst");
    }
    if (c.idle) p->Add("cpu", "cpu.idle", absl::StrCat(*c.idle), "cpu/idle");
    if (c.realtime_runtime && *c.realtime_runtime != 0) {
      return NoV2("cpu/realtimeRuntime", "cgroup v2 has no real-time group scheduling");
    }
    if (c.realtime_period && *c.realtime_period != 0) {
      return NoV2("cpu/realtimePeriod", "cgroup v2 has no real-time group scheduling");
    }
  }
  if (p->Wants("cpuset")) {
    if (c.cpus && !c.cpus->empty()) p->Add("cpuset", "cpuset.cpus", *c.cpus, "cpu/cpus");
    if (c.mems && !c.mems->empty()) p->Add("cpuset", "cpuset.mems", *c.mems, "cpu/mems");
  }
  return absl::OkStatus();
}

absl::Status PlanMemory(const spec::Memory& m, Plan* p) {
  if (!p->Wants("memory")) return absl::OkStatus();
  for (auto [field, v] : {std::pair{"memory/limit", m.limit}, {"memory/reservation", m.reservation},
                          {"memory/swap", m.swap}}) {
    if (v && *v < -1) return Invalid(field, absl::StrCat("invalid value ", *v, " (want bytes or -1)"));
  }
  int64_t limit = m.limit.value_or(0);
  int64_t swap = m.swap.value_or(0);
  if (limit != 0) p->Add("memory", "memory.max", MaxOr(limit), "memory/limit");
  // memory.swap.max is swap only; OCI's swap is memory+swap (v1's memsw). runc's
  // ConvertMemorySwapToCgroupV2Value: swap.max = swap - limit; -1 stays "max"; an
  // unlimited limit with swap unset also makes swap unlimited (v1 compatibility).
  if (limit == -1 && swap == 0) {
    p->Add("memory", "memory.swap.max", "max", "memory/limit");
  } else if (swap == -1) {
    p->Add("memory", "memory.swap.max", "max", "memory/swap");
  } else if (swap > 0) {
    if (limit <= 0) return Invalid("memory/swap", "a swap limit needs a memory limit on cgroup v2");
    if (swap < limit) {
      return Invalid("memory/swap", absl::StrCat("memory+swap limit ", swap,
                                                 " is below the memory limit ", limit));
    }
    p->Add("memory", "memory.swap.max", absl::StrCat(swap - limit), "memory/swap");
  }
  // v1's soft limit is v2's memory.low (best-effort protection), as in runc and crun.
  if (m.reservation && *m.reservation != 0) {
    p->Add("memory", "memory.low", MaxOr(*m.reservation), "memory/reservation");
  }
  if (m.swappiness && *m.swappiness != std::numeric_limits<uint64_t>::max()) {
    return NoV2("memory/swappiness", "cgroup v2 has no per-cgroup swappiness");
  }
  if (m.disable_oom_killer.value_or(false)) {
    return NoV2("memory/disableOOMKiller", "cgroup v2 cannot disable the OOM killer");
  }
  if (m.kernel_tcp && *m.kernel_tcp != 0) {
    return NoV2("memory/kernelTCP", "cgroup v2 has no separate TCP memory limit");
  }
  return absl::OkStatus();
}

absl::Status PlanIo(const spec::BlockIo& b, Plan* p) {
  if (!p->Wants("io")) return absl::OkStatus();
  auto set = [](const std::optional<uint16_t>& w) { return w && *w != 0; };
  auto check = [](const std::string& field, uint16_t w) -> absl::Status {
    if (w < 10 || w > 1000) return Invalid(field, absl::StrCat("invalid weight ", w, " (want 10-1000)"));
    return absl::OkStatus();
  };
  if (set(b.weight)) {
    RETURN_IF_ERROR(check("blockIO/weight", *b.weight));
    p->Add("io", "io.bfq.weight", absl::StrCat(*b.weight), "blockIO/weight", "io.weight",
           absl::StrCat(BlkioToIoWeight(*b.weight)));
  }
  if (set(b.leaf_weight)) return NoV2("blockIO/leafWeight", "cgroup v2 has no leaf weight");
  for (size_t i = 0; i < b.weight_device.size(); ++i) {
    const spec::WeightDevice& d = b.weight_device[i];
    std::string field = absl::StrCat("blockIO/weightDevice/", i);
    if (set(d.leaf_weight)) {
      return NoV2(absl::StrCat(field, "/leafWeight"), "cgroup v2 has no leaf weight");
    }
    if (!set(d.weight)) continue;
    RETURN_IF_ERROR(check(absl::StrCat(field, "/weight"), *d.weight));
    std::string dev = absl::StrCat(d.major, ":", d.minor, " ");
    p->Add("io", "io.bfq.weight", absl::StrCat(dev, *d.weight), field, "io.weight",
           absl::StrCat(dev, BlkioToIoWeight(*d.weight)));
  }
  // io.max takes one "MAJ:MIN key=value" per write and keeps the device's other keys.
  auto throttle = [&](const char* name, const char* key,
                      const std::vector<spec::ThrottleDevice>& list) {
    for (size_t i = 0; i < list.size(); ++i) {
      const spec::ThrottleDevice& d = list[i];
      p->Add("io", "io.max", absl::StrCat(d.major, ":", d.minor, " ", key, "=", d.rate),
             absl::StrCat("blockIO/", name, "/", i));
    }
  };
  throttle("throttleReadBpsDevice", "rbps", b.throttle_read_bps_device);
  throttle("throttleWriteBpsDevice", "wbps", b.throttle_write_bps_device);
  throttle("throttleReadIOPSDevice", "riops", b.throttle_read_iops_device);
  throttle("throttleWriteIOPSDevice", "wiops", b.throttle_write_iops_device);
  return absl::OkStatus();
}

// Files husk itself drives: a config must not move processes, kill or freeze them, or
// change the cgroup's type or children.
bool ManagedByHusk(absl::string_view key) {
  for (absl::string_view k : {"cgroup.procs", "cgroup.threads", "cgroup.subtree_control",
                              "cgroup.freeze", "cgroup.kill", "cgroup.type"}) {
    if (key == k) return true;
  }
  return false;
}

absl::Status PlanUnified(const std::map<std::string, std::string>& unified, Plan* p) {
  for (const auto& [key, value] : unified) {
    std::string field = absl::StrCat("unified/", key);
    size_t dot = key.find('.');
    bool ok = dot != std::string::npos && dot > 0 && dot + 1 < key.size();
    for (size_t i = 0; ok && i < key.size(); ++i) {
      char c = key[i];
      if (i < dot) {
        ok = absl::ascii_islower(c) || c == '_';
      } else {
        ok = absl::ascii_isalnum(c) || c == '_' || c == '.' || c == '-';
      }
    }
    if (ok) ok = key.find("..") == std::string::npos && key.back() != '.';
    if (!ok) {
      return Invalid(field, "invalid key (want CONTROLLER.FILE, e.g. \"memory.high\")");
    }
    if (ManagedByHusk(key)) return Invalid(field, "this file is managed by the runtime");
    if (value.find('\0') != std::string::npos) return Invalid(field, "value contains a NUL byte");
    std::string controller = key.substr(0, dot);
    if (!p->Wants(controller)) continue;
    p->Add(controller.c_str(), key, value, field);
  }
  return absl::OkStatus();
}

}  // namespace

std::string V2Controller(std::string_view v1) {
  if (v1 == "blkio") return "io";
  for (std::string_view same : {"memory", "cpu", "cpuset", "pids", "hugetlb", "rdma", "misc"}) {
    if (v1 == same) return std::string(v1);
  }
  if (v1 == "cpuacct") return "cpu";
  return "";  // devices (eBPF), freezer (core), net_cls/net_prio, perf_event, name=...
}

absl::StatusOr<std::vector<FileWrite>> PlanV2Resources(const spec::Resources& r,
                                                       const std::vector<std::string>& only) {
  Plan p(only);
  if (r.cpu) RETURN_IF_ERROR(PlanCpu(*r.cpu, &p));
  if (r.memory) RETURN_IF_ERROR(PlanMemory(*r.memory, &p));
  if (r.pids && r.pids->limit && p.Wants("pids")) {
    p.Add("pids", "pids.max", *r.pids->limit > 0 ? absl::StrCat(*r.pids->limit) : "max",
          "pids/limit");
  }
  if (r.block_io) RETURN_IF_ERROR(PlanIo(*r.block_io, &p));
  if (p.Wants("hugetlb")) {
    for (size_t i = 0; i < r.hugepage_limits.size(); ++i) {
      const spec::HugepageLimit& h = r.hugepage_limits[i];
      std::string field = absl::StrCat("hugepageLimits/", i);
      if (h.page_size.empty() || h.page_size.find('/') != std::string::npos ||
          h.page_size.find('.') != std::string::npos) {
        return Invalid(absl::StrCat(field, "/pageSize"),
                       absl::StrCat("invalid page size ", Quote(h.page_size)));
      }
      p.Add("hugetlb", absl::StrCat("hugetlb.", h.page_size, ".max"), absl::StrCat(h.limit), field);
    }
  }
  if (r.network && (r.network->class_id || !r.network->priorities.empty()) && only.empty()) {
    return NoV2(r.network->class_id ? "network/classID" : "network/priorities",
                "cgroup v2 has no net_cls/net_prio controllers");
  }
  if (p.Wants("rdma")) {
    for (const auto& [device, limit] : r.rdma) {
      std::string value = device;
      if (limit.hca_handles) absl::StrAppend(&value, " hca_handle=", *limit.hca_handles);
      if (limit.hca_objects) absl::StrAppend(&value, " hca_object=", *limit.hca_objects);
      if (value != device) p.Add("rdma", "rdma.max", value, absl::StrCat("rdma/", device));
    }
  }
  // Last, so an explicit unified value wins over a converted one (runc's order).
  RETURN_IF_ERROR(PlanUnified(r.unified, &p));
  return p.Take();
}

absl::StatusOr<std::vector<FileWrite>> PlanResources(const Layout& layout,
                                                     const std::vector<std::string>& v2_controllers,
                                                     const spec::Resources& r,
                                                     const std::vector<spec::Device>& devices,
                                                     std::vector<std::string>* warnings) {
  // memory.kmem.limit_in_bytes still takes a write on v1 but reads back "max" and limits
  // nothing since Linux 5.16 (and v2 never had it): runc 1.1 skips it with a warning.
  if (r.memory && r.memory->kernel && *r.memory->kernel != 0 && warnings != nullptr) {
    warnings->push_back(
        "linux/resources/memory/kernel: ignored: Linux no longer enforces kernel memory limits");
  }
  if (r.memory && r.memory->use_hierarchy && !*r.memory->use_hierarchy) {
    return absl::InvalidArgumentError(
        "linux/resources/memory/useHierarchy: false cannot be applied: Linux always accounts "
        "memory hierarchically");
  }
  auto has_v2 = [&](const std::string& c) {
    return std::find(v2_controllers.begin(), v2_controllers.end(), c) != v2_controllers.end();
  };
  auto missing = [](const FileWrite& w) {
    return absl::FailedPreconditionError(
        absl::StrCat(w.field.empty() ? "linux/resources" : w.field, ": needs the ",
                     Quote(w.controller), " cgroup controller, which this host does not have"));
  };
  if (layout.mode == Mode::kUnified) {
    ASSIGN_OR_RETURN(std::vector<FileWrite> plan, PlanV2Resources(r));
    for (const FileWrite& w : plan) {
      if (w.controller != "cgroup" && !has_v2(w.controller)) return missing(w);
    }
    return plan;
  }
  // unified keys name files of the cgroup2 hierarchy: on a hybrid host they go there
  // (core cgroup.* files, and controllers bound to cgroup2 such as hugetlb here).
  if (!r.unified.empty() && layout.Unified() == nullptr) {
    return absl::InvalidArgumentError(
        "linux/resources/unified: needs a cgroup2 hierarchy (this host has only cgroup v1)");
  }
  std::vector<FileWrite> unified;
  if (!r.unified.empty()) {
    spec::Resources only_unified;
    only_unified.unified = r.unified;
    ASSIGN_OR_RETURN(unified, PlanV2Resources(only_unified));
    for (const FileWrite& w : unified) {
      if (w.controller != "cgroup" && !has_v2(w.controller)) return missing(w);
    }
  }
  spec::Resources v1_part = r;
  v1_part.unified.clear();
  ASSIGN_OR_RETURN(std::vector<FileWrite> v1, PlanV1Resources(v1_part, devices));
  std::vector<FileWrite> out;
  std::vector<std::string> to_v2;
  for (FileWrite& w : v1) {
    // No v1 devices mount but a cgroup2 one: the rules become an eBPF program there.
    if (w.controller == "devices" && layout.Find("devices") == nullptr && layout.Unified()) continue;
    if (layout.Find(w.controller) != nullptr) {
      out.push_back(std::move(w));
      continue;
    }
    std::string v2 = V2Controller(w.controller);
    if (v2.empty() || layout.Unified() == nullptr || !has_v2(v2)) return missing(w);
    if (std::find(to_v2.begin(), to_v2.end(), v2) == to_v2.end()) to_v2.push_back(v2);
  }
  if (!to_v2.empty()) {
    ASSIGN_OR_RETURN(std::vector<FileWrite> v2, PlanV2Resources(r, to_v2));
    for (FileWrite& w : v2) out.push_back(std::move(w));
  }
  for (FileWrite& w : unified) out.push_back(std::move(w));  // last, as on pure v2
  return out;
}

}  // namespace husk::kernel::cgroups
