// linux.resources -> ordered cgroup v1 file writes, and the devices.list they produce.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "runtime/base/status.h"
#include "runtime/kernel/cgroups/cgroups.h"
#include "runtime/kernel/cgroups/device_rules.h"

namespace husk::kernel::cgroups {
namespace {

absl::Status Invalid(absl::string_view pointer, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(pointer, ": ", what));
}

// Device rules as devices.allow/devices.deny writes. The leading deny-all is written in
// the kernel's short form "a".
absl::Status PlanDevices(const spec::Resources& r, const std::vector<spec::Device>& devices,
                         std::vector<FileWrite>* out) {
  ASSIGN_OR_RETURN(std::vector<DeviceRule> rules, PlanDeviceRules(r, devices));
  for (size_t i = 0; i < rules.size(); ++i) {
    out->push_back({"devices", rules[i].allow ? "devices.allow" : "devices.deny",
                    i == 0 ? "a" : V1Line(rules[i])});
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<FileWrite>> PlanV1Resources(const spec::Resources& r,
                                                       const std::vector<spec::Device>& devices) {
  std::vector<FileWrite> out;
  // `field` is relative to linux/resources; it names the setting in error messages.
  auto add = [&out](const char* controller, std::string file, std::string value,
                    absl::string_view field, std::string alt_file = "") {
    FileWrite w;
    w.controller = controller;
    w.file = std::move(file);
    w.value = std::move(value);
    w.field = absl::StrCat("linux/resources/", field);
    if (!alt_file.empty()) w.alt_value = w.value;
    w.alt_file = std::move(alt_file);
    out.push_back(std::move(w));
  };

  if (!r.unified.empty()) {
    return Invalid("linux/resources/unified", "needs cgroup v2 (husk drives cgroup v1 here)");
  }

  if (r.cpu) {
    const spec::Cpu& c = *r.cpu;
    if (c.cpus && !c.cpus->empty()) add("cpuset", "cpuset.cpus", *c.cpus, "cpu/cpus");
    if (c.mems && !c.mems->empty()) add("cpuset", "cpuset.mems", *c.mems, "cpu/mems");
  }

  if (r.memory) {
    const spec::Memory& m = *r.memory;
    // 0 means "not set" for the limits (runc); -1 is "unlimited".
    auto check = [](const char* field, std::optional<int64_t> v) -> absl::Status {
      if (v && *v < -1) {
        return Invalid(absl::StrCat("linux/resources/memory/", field),
                       absl::StrCat("invalid value ", *v, " (want bytes or -1)"));
      }
      return absl::OkStatus();
    };
    RETURN_IF_ERROR(check("limit", m.limit));
    RETURN_IF_ERROR(check("reservation", m.reservation));
    RETURN_IF_ERROR(check("swap", m.swap));
    RETURN_IF_ERROR(check("kernelTCP", m.kernel_tcp));
    if (m.limit && m.swap && *m.limit > 0 && *m.swap > 0 && *m.swap < *m.limit) {
      return Invalid(
          "linux/resources/memory/swap",
          absl::StrCat("memory+swap limit ", *m.swap, " is below the memory limit ", *m.limit));
    }
    // limit before memsw: memsw must stay >= limit, and both start unlimited. When an
    // update lowers both, the apply step retries in the other order on EINVAL.
    if (m.limit && *m.limit != 0) {
      add("memory", "memory.limit_in_bytes", absl::StrCat(*m.limit), "memory/limit");
    }
    if (m.swap && *m.swap != 0) {
      add("memory", "memory.memsw.limit_in_bytes", absl::StrCat(*m.swap), "memory/swap");
    }
    if (m.reservation && *m.reservation != 0) {
      add("memory", "memory.soft_limit_in_bytes", absl::StrCat(*m.reservation),
          "memory/reservation");
    }
    // memory.kmem.limit_in_bytes (`kernel`): see PlanResources (a warning, not a write).
    if (m.kernel_tcp && *m.kernel_tcp != 0) {
      add("memory", "memory.kmem.tcp.limit_in_bytes", absl::StrCat(*m.kernel_tcp),
          "memory/kernelTCP");
    }
    // Docker has sent -1 (as uint64) for "unset".
    if (m.swappiness && *m.swappiness != std::numeric_limits<uint64_t>::max()) {
      if (*m.swappiness > 100) {
        return Invalid("linux/resources/memory/swappiness",
                       absl::StrCat("invalid value ", *m.swappiness, " (want 0-100)"));
      }
      add("memory", "memory.swappiness", absl::StrCat(*m.swappiness), "memory/swappiness");
    }
    if (m.disable_oom_killer.value_or(false)) {
      add("memory", "memory.oom_control", "1", "memory/disableOOMKiller");
    }
  }

  if (r.cpu) {
    const spec::Cpu& c = *r.cpu;
    if (c.quota && c.burst && *c.quota > 0 && *c.burst > *c.quota) {
      return Invalid("linux/resources/cpu/burst",
                     absl::StrCat("burst ", *c.burst, " is larger than quota ", *c.quota));
    }
    if (c.shares && *c.shares != 0) add("cpu", "cpu.shares", absl::StrCat(*c.shares), "cpu/shares");
    // Period first: the kernel checks quota against the current period.
    if (c.period && *c.period != 0) {
      add("cpu", "cpu.cfs_period_us", absl::StrCat(*c.period), "cpu/period");
    }
    if (c.quota && *c.quota != 0) add("cpu", "cpu.cfs_quota_us", absl::StrCat(*c.quota), "cpu/quota");
    if (c.burst) add("cpu", "cpu.cfs_burst_us", absl::StrCat(*c.burst), "cpu/burst");
    if (c.realtime_period && *c.realtime_period != 0) {
      add("cpu", "cpu.rt_period_us", absl::StrCat(*c.realtime_period), "cpu/realtimePeriod");
    }
    if (c.realtime_runtime && *c.realtime_runtime != 0) {
      add("cpu", "cpu.rt_runtime_us", absl::StrCat(*c.realtime_runtime), "cpu/realtimeRuntime");
    }
    if (c.idle) add("cpu", "cpu.idle", absl::StrCat(*c.idle), "cpu/idle");
  }

  if (r.pids && r.pids->limit) {
    add("pids", "pids.max", *r.pids->limit > 0 ? absl::StrCat(*r.pids->limit) : "max",
        "pids/limit");
  }

  if (r.block_io) {
    const spec::BlockIo& b = *r.block_io;
    // A weight of 0 means "not set" (Docker's {"weight": 0}); the kernel refuses 0.
    // Kernels with BFQ (and no CFQ, since 5.0) name the weights blkio.bfq.weight*.
    auto set = [](const std::optional<uint16_t>& w) { return w && *w != 0; };
    if (set(b.weight)) {
      add("blkio", "blkio.weight", absl::StrCat(*b.weight), "blockIO/weight", "blkio.bfq.weight");
    }
    if (set(b.leaf_weight)) {
      add("blkio", "blkio.leaf_weight", absl::StrCat(*b.leaf_weight), "blockIO/leafWeight");
    }
    for (size_t i = 0; i < b.weight_device.size(); ++i) {
      const spec::WeightDevice& d = b.weight_device[i];
      std::string field = absl::StrCat("blockIO/weightDevice/", i);
      if (set(d.weight)) {
        add("blkio", "blkio.weight_device", absl::StrCat(d.major, ":", d.minor, " ", *d.weight),
            absl::StrCat(field, "/weight"), "blkio.bfq.weight_device");
      }
      if (set(d.leaf_weight)) {
        add("blkio", "blkio.leaf_weight_device",
            absl::StrCat(d.major, ":", d.minor, " ", *d.leaf_weight),
            absl::StrCat(field, "/leafWeight"));
      }
    }
    auto throttle = [&](const char* file, const char* name,
                        const std::vector<spec::ThrottleDevice>& list) {
      for (size_t i = 0; i < list.size(); ++i) {
        const spec::ThrottleDevice& d = list[i];
        add("blkio", file, absl::StrCat(d.major, ":", d.minor, " ", d.rate),
            absl::StrCat("blockIO/", name, "/", i));
      }
    };
    throttle("blkio.throttle.read_bps_device", "throttleReadBpsDevice", b.throttle_read_bps_device);
    throttle("blkio.throttle.write_bps_device", "throttleWriteBpsDevice",
             b.throttle_write_bps_device);
    throttle("blkio.throttle.read_iops_device", "throttleReadIOPSDevice",
             b.throttle_read_iops_device);
    throttle("blkio.throttle.write_iops_device", "throttleWriteIOPSDevice",
             b.throttle_write_iops_device);
  }

  for (size_t i = 0; i < r.hugepage_limits.size(); ++i) {
    const spec::HugepageLimit& h = r.hugepage_limits[i];
    if (h.page_size.empty() || h.page_size.find('/') != std::string::npos ||
        h.page_size.find('.') != std::string::npos) {
      return Invalid(absl::StrCat("linux/resources/hugepageLimits/", i, "/pageSize"),
                     absl::StrCat("invalid page size ", Quote(h.page_size)));
    }
    add("hugetlb", absl::StrCat("hugetlb.", h.page_size, ".limit_in_bytes"), absl::StrCat(h.limit),
        absl::StrCat("hugepageLimits/", i));
  }

  if (r.network) {
    if (r.network->class_id) {
      add("net_cls", "net_cls.classid", absl::StrCat(*r.network->class_id), "network/classID");
    }
    for (size_t i = 0; i < r.network->priorities.size(); ++i) {
      const spec::NetworkPriority& p = r.network->priorities[i];
      add("net_prio", "net_prio.ifpriomap", absl::StrCat(p.name, " ", p.priority),
          absl::StrCat("network/priorities/", i));
    }
  }

  for (const auto& [device, limit] : r.rdma) {
    std::string value = device;
    if (limit.hca_handles) absl::StrAppend(&value, " hca_handle=", *limit.hca_handles);
    if (limit.hca_objects) absl::StrAppend(&value, " hca_object=", *limit.hca_objects);
    if (value != device) add("rdma", "rdma.max", value, absl::StrCat("rdma/", device));
  }

  RETURN_IF_ERROR(PlanDevices(r, devices, &out));
  return out;
}

std::vector<std::string> ExpectedDevicesList(const std::vector<FileWrite>& plan) {
  std::vector<DeviceRule> rules;
  for (const FileWrite& w : plan) {
    if (w.controller != "devices") continue;
    std::optional<DeviceRule> rule = ParseV1Line(w.value, w.file == "devices.allow");
    if (rule) rules.push_back(*rule);
  }
  DeviceState state = EmulateDeviceRules(rules);
  // With allow-all the kernel lists just that, whatever exceptions it keeps.
  if (state.default_allow) return {"a *:* rwm"};
  std::vector<std::string> list;
  for (const DeviceRule& e : state.exceptions) list.push_back(V1Line(e));
  std::sort(list.begin(), list.end());
  return list;
}

}  // namespace husk::kernel::cgroups
