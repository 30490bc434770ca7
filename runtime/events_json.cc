#include "runtime/events_json.h"

#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace husk {
namespace {

namespace cg = kernel::cgroups;
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void Str(Writer& w, absl::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}
// Go's `json:"name"` and `json:"name,omitempty"` for an integer.
void Num(Writer& w, const char* key, uint64_t value) {
  w.Key(key);
  w.Uint64(value);
}
void NumOmit(Writer& w, const char* key, uint64_t value) {
  if (value != 0) Num(w, key, value);
}
template <typename T>
void ListOmit(Writer& w, const char* key, const std::vector<T>& values) {
  if (values.empty()) return;
  w.Key(key);
  w.StartArray();
  for (T v : values) w.Uint64(v);
  w.EndArray();
}

void WriteCpu(Writer& w, const cg::CpuUsage& u, const cg::Throttling& t) {
  w.Key("cpu");
  w.StartObject();
  w.Key("usage");
  w.StartObject();
  NumOmit(w, "total", u.total);
  ListOmit(w, "percpu", u.percpu);
  ListOmit(w, "percpu_kernel", u.percpu_kernel);
  ListOmit(w, "percpu_user", u.percpu_user);
  Num(w, "kernel", u.kernel);
  Num(w, "user", u.user);
  w.EndObject();
  w.Key("throttling");
  w.StartObject();
  NumOmit(w, "periods", t.periods);
  NumOmit(w, "throttledPeriods", t.throttled_periods);
  NumOmit(w, "throttledTime", t.throttled_time);
  w.EndObject();
  w.EndObject();
}

void WriteCpuset(Writer& w, const cg::CpusetStats& c) {
  w.Key("cpuset");
  w.StartObject();
  ListOmit(w, "cpus", c.cpus);
  Num(w, "cpu_exclusive", c.cpu_exclusive);
  ListOmit(w, "mems", c.mems);
  Num(w, "mem_hardwall", c.mem_hardwall);
  Num(w, "mem_exclusive", c.mem_exclusive);
  Num(w, "memory_migrate", c.memory_migrate);
  Num(w, "memory_spread_page", c.memory_spread_page);
  Num(w, "memory_spread_slab", c.memory_spread_slab);
  Num(w, "memory_pressure", c.memory_pressure);
  Num(w, "sched_load_balance", c.sched_load_balance);
  w.Key("sched_relax_domain_level");
  w.Int64(c.sched_relax_domain_level);
  w.EndObject();
}

void WriteMemoryEntry(Writer& w, const char* key, const cg::MemoryEntry& e) {
  w.Key(key);
  w.StartObject();
  Num(w, "limit", e.limit);
  NumOmit(w, "usage", e.usage);
  NumOmit(w, "max", e.max);
  Num(w, "failcnt", e.failcnt);
  w.EndObject();
}

void WriteMemory(Writer& w, const cg::MemoryStats& m) {
  w.Key("memory");
  w.StartObject();
  NumOmit(w, "cache", m.cache);
  WriteMemoryEntry(w, "usage", m.usage);
  WriteMemoryEntry(w, "swap", m.swap);
  WriteMemoryEntry(w, "kernel", m.kernel);
  WriteMemoryEntry(w, "kernelTCP", m.kernel_tcp);
  if (!m.raw.empty()) {
    w.Key("raw");
    w.StartObject();
    for (const auto& [key, value] : m.raw) Num(w, key.c_str(), value);  // std::map: sorted
    w.EndObject();
  }
  w.EndObject();
}

void WriteBlkioTable(Writer& w, const char* key, const std::vector<cg::BlkioEntry>& table) {
  if (table.empty()) return;
  w.Key(key);
  w.StartArray();
  for (const cg::BlkioEntry& e : table) {
    w.StartObject();
    NumOmit(w, "major", e.major);
    NumOmit(w, "minor", e.minor);
    if (!e.op.empty()) {
      w.Key("op");
      Str(w, e.op);
    }
    NumOmit(w, "value", e.value);
    w.EndObject();
  }
  w.EndArray();
}

void WriteBlkio(Writer& w, const cg::BlkioStats& b) {
  w.Key("blkio");
  w.StartObject();
  WriteBlkioTable(w, "ioServiceBytesRecursive", b.service_bytes);
  WriteBlkioTable(w, "ioServicedRecursive", b.serviced);
  WriteBlkioTable(w, "ioQueueRecursive", b.queued);
  WriteBlkioTable(w, "ioServiceTimeRecursive", b.service_time);
  WriteBlkioTable(w, "ioWaitTimeRecursive", b.wait_time);
  WriteBlkioTable(w, "ioMergedRecursive", b.merged);
  WriteBlkioTable(w, "ioTimeRecursive", b.time);
  WriteBlkioTable(w, "sectorsRecursive", b.sectors);
  w.EndObject();
}

void StartEvent(Writer& w, const char* type, absl::string_view id) {
  w.StartObject();
  w.Key("type");
  w.String(type);
  w.Key("id");
  Str(w, id);
}

std::string Done(const rapidjson::StringBuffer& buffer) {
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace

std::string StatsEventJson(absl::string_view id, const cg::Stats& s) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  StartEvent(w, "stats", id);
  w.Key("data");
  w.StartObject();
  WriteCpu(w, s.cpu, s.throttling);
  WriteCpuset(w, s.cpuset);
  WriteMemory(w, s.memory);
  w.Key("pids");
  w.StartObject();
  NumOmit(w, "current", s.pids.current);
  NumOmit(w, "limit", s.pids.limit);
  w.EndObject();
  WriteBlkio(w, s.blkio);
  w.Key("hugetlb");
  w.StartObject();  // runc always makes the map: {} when empty
  for (const auto& [size, h] : s.hugetlb) {
    w.Key(size.c_str());
    w.StartObject();
    NumOmit(w, "usage", h.usage);
    NumOmit(w, "max", h.max);
    Num(w, "failcnt", h.failcnt);
    w.EndObject();
  }
  w.EndObject();
  w.Key("intel_rdt");
  w.StartObject();
  w.EndObject();
  w.Key("network_interfaces");
  w.Null();
  w.EndObject();
  w.EndObject();
  return Done(buffer);
}

std::string OomEventJson(absl::string_view id) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  StartEvent(w, "oom", id);
  w.EndObject();
  return Done(buffer);
}

std::string PidsJson(const std::vector<int>& pids) {
  if (pids.empty()) return "null";
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartArray();
  for (int pid : pids) w.Int(pid);
  w.EndArray();
  return Done(buffer);
}

}  // namespace husk
