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

// "key": {body()}. Go never omits a struct, so every object is written even when empty.
template <typename Body>
void Object(Writer& w, const char* key, Body body) {
  w.Key(key);
  w.StartObject();
  body();
  w.EndObject();
}

void WriteCpu(Writer& w, const cg::CpuUsage& u, const cg::Throttling& t) {
  Object(w, "cpu", [&] {
    Object(w, "usage", [&] {
      NumOmit(w, "total", u.total);
      ListOmit(w, "percpu", u.percpu);
      ListOmit(w, "percpu_kernel", u.percpu_kernel);
      ListOmit(w, "percpu_user", u.percpu_user);
      Num(w, "kernel", u.kernel);
      Num(w, "user", u.user);
    });
    Object(w, "throttling", [&] {
      NumOmit(w, "periods", t.periods);
      NumOmit(w, "throttledPeriods", t.throttled_periods);
      NumOmit(w, "throttledTime", t.throttled_time);
    });
  });
}

void WriteCpuset(Writer& w, const cg::CpusetStats& c) {
  Object(w, "cpuset", [&] {
    ListOmit(w, "cpus", c.cpus);
    bool first = true;
    for (const cg::CpusetFlag& f : cg::kCpusetFlags) {
      Num(w, f.name, c.*f.field);
      if (first) ListOmit(w, "mems", c.mems);  // runc's field order: mems after cpu_exclusive
      first = false;
    }
    w.Key("sched_relax_domain_level");
    w.Int64(c.sched_relax_domain_level);
  });
}

void WriteMemoryEntry(Writer& w, const char* key, const cg::MemoryEntry& e) {
  Object(w, key, [&] {
    Num(w, "limit", e.limit);
    NumOmit(w, "usage", e.usage);
    NumOmit(w, "max", e.max);
    Num(w, "failcnt", e.failcnt);
  });
}

void WriteMemory(Writer& w, const cg::MemoryStats& m) {
  Object(w, "memory", [&] {
    NumOmit(w, "cache", m.cache);
    WriteMemoryEntry(w, "usage", m.usage);
    WriteMemoryEntry(w, "swap", m.swap);
    WriteMemoryEntry(w, "kernel", m.kernel);
    WriteMemoryEntry(w, "kernelTCP", m.kernel_tcp);
    if (m.raw.empty()) return;
    Object(w, "raw", [&] {
      for (const auto& [key, value] : m.raw) Num(w, key.c_str(), value);  // std::map: sorted
    });
  });
}

void WriteBlkio(Writer& w, const cg::BlkioStats& b) {
  struct Table {
    const char* key;
    const std::vector<cg::BlkioEntry>* entries;
  };
  Object(w, "blkio", [&] {
    for (const Table& t : {Table{"ioServiceBytesRecursive", &b.service_bytes},
                           Table{"ioServicedRecursive", &b.serviced},
                           Table{"ioQueueRecursive", &b.queued},
                           Table{"ioServiceTimeRecursive", &b.service_time},
                           Table{"ioWaitTimeRecursive", &b.wait_time},
                           Table{"ioMergedRecursive", &b.merged},
                           Table{"ioTimeRecursive", &b.time},
                           Table{"sectorsRecursive", &b.sectors}}) {
      if (t.entries->empty()) continue;
      w.Key(t.key);
      w.StartArray();
      for (const cg::BlkioEntry& e : *t.entries) {
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
  });
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
  Object(w, "data", [&] {
    WriteCpu(w, s.cpu, s.throttling);
    WriteCpuset(w, s.cpuset);
    WriteMemory(w, s.memory);
    Object(w, "pids", [&] {
      NumOmit(w, "current", s.pids.current);
      NumOmit(w, "limit", s.pids.limit);
    });
    WriteBlkio(w, s.blkio);
    Object(w, "hugetlb", [&] {  // runc always makes the map: {} when empty
      for (const auto& [size, h] : s.hugetlb) {
        Object(w, size.c_str(), [&] {
          NumOmit(w, "usage", h.usage);
          NumOmit(w, "max", h.max);
          Num(w, "failcnt", h.failcnt);
        });
      }
    });
    Object(w, "intel_rdt", [] {});
    w.Key("network_interfaces");
    w.Null();
  });
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
