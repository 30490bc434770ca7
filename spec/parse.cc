#include "spec/parse.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"
#include "runtime/base/status.h"
#include "spec/pointer.h"

namespace husk::spec {
namespace {

using rapidjson::SizeType;
using rapidjson::Value;

absl::Status Error(absl::string_view pointer, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(pointer, ": ", message));
}

// ---------------------------------------------------------------------------------------
// Scalars. Each converter has the shape (value, pointer, out) so the container helpers
// below can take any of them.

absl::Status ToString(const Value& v, const std::string& ptr, std::string* out) {
  if (!v.IsString()) return Error(ptr, "expected a string");
  out->assign(v.GetString(), v.GetStringLength());
  // A NUL would silently truncate the value once it reaches a system call.
  if (out->find('\0') != std::string::npos) return Error(ptr, "contains a NUL byte");
  return absl::OkStatus();
}

absl::Status ToBool(const Value& v, const std::string& ptr, bool* out) {
  if (!v.IsBool()) return Error(ptr, "expected a boolean");
  *out = v.GetBool();
  return absl::OkStatus();
}

template <typename T>
constexpr const char* IntTypeName() {
  if constexpr (std::is_same_v<T, uint16_t>) return "uint16";
  if constexpr (std::is_same_v<T, uint32_t>) return "uint32";
  if constexpr (std::is_same_v<T, uint64_t>) return "uint64";
  if constexpr (std::is_same_v<T, int32_t>) return "int32";
  if constexpr (std::is_same_v<T, int64_t>) return "int64";
  return "integer";
}

// Integers must be written as integers (Go's decoder also refuses 1.0 or 1e3 for an int
// field) and fit T.
template <typename T>
absl::Status ToInt(const Value& v, const std::string& ptr, T* out) {
  static_assert(std::is_integral_v<T>);
  if (!v.IsNumber()) return Error(ptr, "expected an integer");
  auto out_of_range = [&](auto shown) {
    return Error(ptr, absl::StrCat(shown, " is out of range for ", IntTypeName<T>()));
  };
  if (v.IsInt64()) {
    int64_t x = v.GetInt64();
    if constexpr (std::is_unsigned_v<T>) {
      if (x < 0 || static_cast<uint64_t>(x) > std::numeric_limits<T>::max()) {
        return out_of_range(x);
      }
    } else {
      if (x < std::numeric_limits<T>::min() || x > std::numeric_limits<T>::max()) {
        return out_of_range(x);
      }
    }
    *out = static_cast<T>(x);
    return absl::OkStatus();
  }
  if (v.IsUint64()) {  // Above INT64_MAX.
    uint64_t x = v.GetUint64();
    if (x > static_cast<uint64_t>(std::numeric_limits<T>::max())) return out_of_range(x);
    *out = static_cast<T>(x);
    return absl::OkStatus();
  }
  double d = v.GetDouble();
  if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) >= 9.2e18) {
    return out_of_range(d);
  }
  return Error(ptr, "expected an integer");
}

// ---------------------------------------------------------------------------------------
// Objects.

// A JSON object at a known pointer, checked once for duplicate member names.
class Obj {
 public:
  static absl::StatusOr<Obj> Of(const Value& v, const std::string& ptr) {
    if (!v.IsObject()) return Error(ptr, "expected an object");
    std::vector<absl::string_view> names;
    names.reserve(v.MemberCount());
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
      names.emplace_back(it->name.GetString(), it->name.GetStringLength());
    }
    std::sort(names.begin(), names.end());
    auto dup = std::adjacent_find(names.begin(), names.end());
    if (dup != names.end()) return Error(PointerJoin(ptr, *dup), "duplicate member name");
    return Obj(&v, ptr);
  }

  // The member's value; nullptr when absent or JSON null (Go semantics: null = unset).
  const Value* Find(absl::string_view key) const {
    auto it = v_->FindMember(Value(rapidjson::StringRef(key.data(), key.size())));
    if (it == v_->MemberEnd() || it->value.IsNull()) return nullptr;
    return &it->value;
  }
  std::string At(absl::string_view key) const { return PointerJoin(ptr_, key); }
  const Value& value() const { return *v_; }
  const std::string& ptr() const { return ptr_; }

 private:
  Obj(const Value* v, std::string ptr) : v_(v), ptr_(std::move(ptr)) {}
  const Value* v_;
  std::string ptr_;
};

// Required member: parse(value, pointer, out), or "missing required field".
template <typename T, typename F>
absl::Status Req(const Obj& o, absl::string_view key, T* out, F parse) {
  const Value* v = o.Find(key);
  if (v == nullptr) return Error(o.At(key), "missing required field");
  return parse(*v, o.At(key), out);
}

// Optional member with a default: left untouched when absent.
template <typename T, typename F>
absl::Status Maybe(const Obj& o, absl::string_view key, T* out, F parse) {
  const Value* v = o.Find(key);
  if (v == nullptr) return absl::OkStatus();
  return parse(*v, o.At(key), out);
}

// Optional member kept as std::optional so absent and zero stay distinct.
template <typename T, typename F>
absl::Status Opt(const Obj& o, absl::string_view key, std::optional<T>* out, F parse) {
  const Value* v = o.Find(key);
  if (v == nullptr) return absl::OkStatus();
  T tmp{};
  RETURN_IF_ERROR(parse(*v, o.At(key), &tmp));
  *out = std::move(tmp);
  return absl::OkStatus();
}

// Array converter from an element converter.
template <typename T, typename F>
auto ArrayOf(F elem) {
  return [elem](const Value& v, const std::string& ptr, std::vector<T>* out) -> absl::Status {
    if (!v.IsArray()) return Error(ptr, "expected an array");
    out->clear();
    out->reserve(v.Size());
    for (SizeType i = 0; i < v.Size(); ++i) {
      T item{};
      RETURN_IF_ERROR(elem(v[i], PointerJoin(ptr, i), &item));
      out->push_back(std::move(item));
    }
    return absl::OkStatus();
  };
}

// Object-as-map converter (annotations, sysctl, rdma ...) from a value converter.
template <typename T, typename F>
auto MapOf(F elem) {
  return [elem](const Value& v, const std::string& ptr,
                std::map<std::string, T>* out) -> absl::Status {
    ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
    out->clear();
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
      std::string key(it->name.GetString(), it->name.GetStringLength());
      T item{};
      RETURN_IF_ERROR(elem(it->value, o.At(key), &item));
      out->emplace(std::move(key), std::move(item));
    }
    return absl::OkStatus();
  };
}

const auto kStrings = ArrayOf<std::string>(ToString);
const auto kStringMap = MapOf<std::string>(ToString);

// ---------------------------------------------------------------------------------------
// Platform-neutral part.

absl::Status ParseIdMapping(const Value& v, const std::string& ptr, IdMapping* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  RETURN_IF_ERROR(Req(o, "containerID", &out->container_id, ToInt<uint32_t>));
  RETURN_IF_ERROR(Req(o, "hostID", &out->host_id, ToInt<uint32_t>));
  return Req(o, "size", &out->size, ToInt<uint32_t>);
}
const auto kIdMappings = ArrayOf<IdMapping>(ParseIdMapping);

absl::Status ParseMount(const Value& v, const std::string& ptr, Mount* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  RETURN_IF_ERROR(Req(o, "destination", &out->destination, ToString));
  RETURN_IF_ERROR(Opt(o, "source", &out->source, ToString));
  RETURN_IF_ERROR(Opt(o, "type", &out->type, ToString));
  RETURN_IF_ERROR(Maybe(o, "options", &out->options, kStrings));
  RETURN_IF_ERROR(Maybe(o, "uidMappings", &out->uid_mappings, kIdMappings));
  return Maybe(o, "gidMappings", &out->gid_mappings, kIdMappings);
}

absl::Status ParseRoot(const Value& v, const std::string& ptr, Root* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  RETURN_IF_ERROR(Req(o, "path", &out->path, ToString));
  return Maybe(o, "readonly", &out->readonly, ToBool);
}

absl::Status ParseUser(const Value& v, const std::string& ptr, User* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  RETURN_IF_ERROR(Req(o, "uid", &out->uid, ToInt<uint32_t>));
  RETURN_IF_ERROR(Req(o, "gid", &out->gid, ToInt<uint32_t>));
  RETURN_IF_ERROR(Opt(o, "umask", &out->umask, ToInt<uint32_t>));
  RETURN_IF_ERROR(
      Maybe(o, "additionalGids", &out->additional_gids, ArrayOf<uint32_t>(ToInt<uint32_t>)));
  return Opt(o, "username", &out->username, ToString);
}

absl::Status ParseConsoleSize(const Value& v, const std::string& ptr, ConsoleSize* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  RETURN_IF_ERROR(Req(o, "height", &out->height, ToInt<uint32_t>));
  return Req(o, "width", &out->width, ToInt<uint32_t>);
}

absl::Status ParseCapabilities(const Value& v, const std::string& ptr, Capabilities* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  RETURN_IF_ERROR(Opt(o, "bounding", &out->bounding, kStrings));
  RETURN_IF_ERROR(Opt(o, "effective", &out->effective, kStrings));
  RETURN_IF_ERROR(Opt(o, "inheritable", &out->inheritable, kStrings));
  RETURN_IF_ERROR(Opt(o, "permitted", &out->permitted, kStrings));
  return Opt(o, "ambient", &out->ambient, kStrings);
}

absl::Status ParseRlimit(const Value& v, const std::string& ptr, Rlimit* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  RETURN_IF_ERROR(Req(o, "type", &out->type, ToString));
  RETURN_IF_ERROR(Req(o, "soft", &out->soft, ToInt<uint64_t>));
  return Req(o, "hard", &out->hard, ToInt<uint64_t>);
}

absl::Status ParseScheduler(const Value& v, const std::string& ptr, Scheduler* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  RETURN_IF_ERROR(Req(o, "policy", &out->policy, ToString));
  RETURN_IF_ERROR(Opt(o, "nice", &out->nice, ToInt<int32_t>));
  RETURN_IF_ERROR(Opt(o, "priority", &out->priority, ToInt<int32_t>));
  RETURN_IF_ERROR(Maybe(o, "flags", &out->flags, kStrings));
  RETURN_IF_ERROR(Opt(o, "runtime", &out->runtime, ToInt<uint64_t>));
  RETURN_IF_ERROR(Opt(o, "deadline", &out->deadline, ToInt<uint64_t>));
  return Opt(o, "period", &out->period, ToInt<uint64_t>);
}

absl::Status ParseIoPriority(const Value& v, const std::string& ptr, IoPriority* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  RETURN_IF_ERROR(Req(o, "class", &out->io_class, ToString));
  return Maybe(o, "priority", &out->priority, ToInt<int32_t>);
}

absl::Status ParseExecCpuAffinity(const Value& v, const std::string& ptr, ExecCpuAffinity* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  RETURN_IF_ERROR(Opt(o, "initial", &out->initial, ToString));
  return Opt(o, "final", &out->final, ToString);
}

absl::Status ParseProcessAt(const Value& v, const std::string& ptr, Process* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  RETURN_IF_ERROR(Maybe(o, "terminal", &out->terminal, ToBool));
  RETURN_IF_ERROR(Opt(o, "consoleSize", &out->console_size, ParseConsoleSize));
  // Go-generated configs always carry `user` (no omitempty), and uid/gid are REQUIRED
  // on POSIX: an absent user must not quietly mean root.
  RETURN_IF_ERROR(Req(o, "user", &out->user, ParseUser));
  RETURN_IF_ERROR(Maybe(o, "args", &out->args, kStrings));
  RETURN_IF_ERROR(Opt(o, "commandLine", &out->command_line, ToString));
  RETURN_IF_ERROR(Maybe(o, "env", &out->env, kStrings));
  RETURN_IF_ERROR(Req(o, "cwd", &out->cwd, ToString));
  RETURN_IF_ERROR(Opt(o, "capabilities", &out->capabilities, ParseCapabilities));
  RETURN_IF_ERROR(Maybe(o, "rlimits", &out->rlimits, ArrayOf<Rlimit>(ParseRlimit)));
  RETURN_IF_ERROR(Maybe(o, "noNewPrivileges", &out->no_new_privileges, ToBool));
  RETURN_IF_ERROR(Opt(o, "apparmorProfile", &out->apparmor_profile, ToString));
  RETURN_IF_ERROR(Opt(o, "oomScoreAdj", &out->oom_score_adj, ToInt<int32_t>));
  RETURN_IF_ERROR(Opt(o, "scheduler", &out->scheduler, ParseScheduler));
  RETURN_IF_ERROR(Opt(o, "selinuxLabel", &out->selinux_label, ToString));
  RETURN_IF_ERROR(Opt(o, "ioPriority", &out->io_priority, ParseIoPriority));
  return Opt(o, "execCPUAffinity", &out->exec_cpu_affinity, ParseExecCpuAffinity);
}

absl::Status ParseHook(const Value& v, const std::string& ptr, Hook* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  RETURN_IF_ERROR(Req(o, "path", &out->path, ToString));
  RETURN_IF_ERROR(Maybe(o, "args", &out->args, kStrings));
  RETURN_IF_ERROR(Maybe(o, "env", &out->env, kStrings));
  return Opt(o, "timeout", &out->timeout, ToInt<int32_t>);
}

absl::Status ParseHooks(const Value& v, const std::string& ptr, Hooks* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  const auto hooks = ArrayOf<Hook>(ParseHook);
  RETURN_IF_ERROR(Maybe(o, "prestart", &out->prestart, hooks));
  RETURN_IF_ERROR(Maybe(o, "createRuntime", &out->create_runtime, hooks));
  RETURN_IF_ERROR(Maybe(o, "createContainer", &out->create_container, hooks));
  RETURN_IF_ERROR(Maybe(o, "startContainer", &out->start_container, hooks));
  RETURN_IF_ERROR(Maybe(o, "poststart", &out->poststart, hooks));
  return Maybe(o, "poststop", &out->poststop, hooks);
}

// ---------------------------------------------------------------------------------------
// linux.resources.

absl::Status ParseDeviceCgroupRule(const Value& v, const std::string& ptr, DeviceCgroupRule* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  RETURN_IF_ERROR(Req(o, "allow", &out->allow, ToBool));
  RETURN_IF_ERROR(Opt(o, "type", &out->type, ToString));
  RETURN_IF_ERROR(Opt(o, "major", &out->major, ToInt<int64_t>));
  RETURN_IF_ERROR(Opt(o, "minor", &out->minor, ToInt<int64_t>));
  return Opt(o, "access", &out->access, ToString);
}

absl::Status ParseMemory(const Value& v, const std::string& ptr, Memory* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  RETURN_IF_ERROR(Opt(o, "limit", &out->limit, ToInt<int64_t>));
  RETURN_IF_ERROR(Opt(o, "reservation", &out->reservation, ToInt<int64_t>));
  RETURN_IF_ERROR(Opt(o, "swap", &out->swap, ToInt<int64_t>));
  RETURN_IF_ERROR(Opt(o, "kernel", &out->kernel, ToInt<int64_t>));
  RETURN_IF_ERROR(Opt(o, "kernelTCP", &out->kernel_tcp, ToInt<int64_t>));
  RETURN_IF_ERROR(Opt(o, "swappiness", &out->swappiness, ToInt<uint64_t>));
  RETURN_IF_ERROR(Opt(o, "disableOOMKiller", &out->disable_oom_killer, ToBool));
  RETURN_IF_ERROR(Opt(o, "useHierarchy", &out->use_hierarchy, ToBool));
  return Opt(o, "checkBeforeUpdate", &out->check_before_update, ToBool);
}

absl::Status ParseCpu(const Value& v, const std::string& ptr, Cpu* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  RETURN_IF_ERROR(Opt(o, "shares", &out->shares, ToInt<uint64_t>));
  RETURN_IF_ERROR(Opt(o, "quota", &out->quota, ToInt<int64_t>));
  // The schema says uint64; the model keeps int64 (the cgroup file takes no more), so
  // values above INT64_MAX are reported out of range.
  RETURN_IF_ERROR(Opt(o, "burst", &out->burst, ToInt<int64_t>));
  RETURN_IF_ERROR(Opt(o, "period", &out->period, ToInt<uint64_t>));
  RETURN_IF_ERROR(Opt(o, "realtimeRuntime", &out->realtime_runtime, ToInt<int64_t>));
  RETURN_IF_ERROR(Opt(o, "realtimePeriod", &out->realtime_period, ToInt<uint64_t>));
  RETURN_IF_ERROR(Opt(o, "cpus", &out->cpus, ToString));
  RETURN_IF_ERROR(Opt(o, "mems", &out->mems, ToString));
  return Opt(o, "idle", &out->idle, ToInt<int64_t>);
}

absl::Status ParseWeightDevice(const Value& v, const std::string& ptr, WeightDevice* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  RETURN_IF_ERROR(Req(o, "major", &out->major, ToInt<int64_t>));
  RETURN_IF_ERROR(Req(o, "minor", &out->minor, ToInt<int64_t>));
  RETURN_IF_ERROR(Opt(o, "weight", &out->weight, ToInt<uint16_t>));
  return Opt(o, "leafWeight", &out->leaf_weight, ToInt<uint16_t>);
}

absl::Status ParseThrottleDevice(const Value& v, const std::string& ptr, ThrottleDevice* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  RETURN_IF_ERROR(Req(o, "major", &out->major, ToInt<int64_t>));
  RETURN_IF_ERROR(Req(o, "minor", &out->minor, ToInt<int64_t>));
  return Maybe(o, "rate", &out->rate, ToInt<uint64_t>);
}

absl::Status ParseBlockIo(const Value& v, const std::string& ptr, BlockIo* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  const auto throttles = ArrayOf<ThrottleDevice>(ParseThrottleDevice);
  RETURN_IF_ERROR(Opt(o, "weight", &out->weight, ToInt<uint16_t>));
  RETURN_IF_ERROR(Opt(o, "leafWeight", &out->leaf_weight, ToInt<uint16_t>));
  RETURN_IF_ERROR(
      Maybe(o, "weightDevice", &out->weight_device, ArrayOf<WeightDevice>(ParseWeightDevice)));
  RETURN_IF_ERROR(Maybe(o, "throttleReadBpsDevice", &out->throttle_read_bps_device, throttles));
  RETURN_IF_ERROR(Maybe(o, "throttleWriteBpsDevice", &out->throttle_write_bps_device, throttles));
  RETURN_IF_ERROR(Maybe(o, "throttleReadIOPSDevice", &out->throttle_read_iops_device, throttles));
  return Maybe(o, "throttleWriteIOPSDevice", &out->throttle_write_iops_device, throttles);
}

absl::Status ParseHugepageLimit(const Value& v, const std::string& ptr, HugepageLimit* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  RETURN_IF_ERROR(Req(o, "pageSize", &out->page_size, ToString));
  return Req(o, "limit", &out->limit, ToInt<uint64_t>);
}

absl::Status ParseNetworkPriority(const Value& v, const std::string& ptr, NetworkPriority* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  RETURN_IF_ERROR(Req(o, "name", &out->name, ToString));
  return Req(o, "priority", &out->priority, ToInt<uint32_t>);
}

absl::Status ParseNetwork(const Value& v, const std::string& ptr, Network* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  RETURN_IF_ERROR(Opt(o, "classID", &out->class_id, ToInt<uint32_t>));
  return Maybe(o, "priorities", &out->priorities, ArrayOf<NetworkPriority>(ParseNetworkPriority));
}

absl::Status ParsePids(const Value& v, const std::string& ptr, Pids* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  // OPTIONAL in config-linux.md v1.3 although the schema still lists it as required.
  return Opt(o, "limit", &out->limit, ToInt<int64_t>);
}

absl::Status ParseRdma(const Value& v, const std::string& ptr, Rdma* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  RETURN_IF_ERROR(Opt(o, "hcaHandles", &out->hca_handles, ToInt<uint32_t>));
  return Opt(o, "hcaObjects", &out->hca_objects, ToInt<uint32_t>);
}

absl::Status ParseResourcesAt(const Value& v, const std::string& ptr, Resources* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  RETURN_IF_ERROR(
      Maybe(o, "devices", &out->devices, ArrayOf<DeviceCgroupRule>(ParseDeviceCgroupRule)));
  RETURN_IF_ERROR(Opt(o, "memory", &out->memory, ParseMemory));
  RETURN_IF_ERROR(Opt(o, "cpu", &out->cpu, ParseCpu));
  RETURN_IF_ERROR(Opt(o, "blockIO", &out->block_io, ParseBlockIo));
  RETURN_IF_ERROR(Maybe(o, "hugepageLimits", &out->hugepage_limits,
                        ArrayOf<HugepageLimit>(ParseHugepageLimit)));
  RETURN_IF_ERROR(Opt(o, "network", &out->network, ParseNetwork));
  RETURN_IF_ERROR(Opt(o, "pids", &out->pids, ParsePids));
  RETURN_IF_ERROR(Maybe(o, "rdma", &out->rdma, MapOf<Rdma>(ParseRdma)));
  return Maybe(o, "unified", &out->unified, kStringMap);
}

// ---------------------------------------------------------------------------------------
// The rest of `linux`.

absl::Status ParseNamespace(const Value& v, const std::string& ptr, Namespace* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  std::string type;
  RETURN_IF_ERROR(Req(o, "type", &type, ToString));
  std::optional<NamespaceType> parsed = NamespaceTypeFromName(type);
  if (!parsed) return Error(o.At("type"), absl::StrCat("unknown namespace type ", Quote(type)));
  out->type = *parsed;
  return Opt(o, "path", &out->path, ToString);
}

absl::Status ParseTimeOffset(const Value& v, const std::string& ptr, TimeOffset* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  RETURN_IF_ERROR(Maybe(o, "secs", &out->secs, ToInt<int64_t>));
  return Maybe(o, "nanosecs", &out->nanosecs, ToInt<uint32_t>);
}

absl::Status ParseDevice(const Value& v, const std::string& ptr, Device* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  RETURN_IF_ERROR(Req(o, "type", &out->type, ToString));
  RETURN_IF_ERROR(Req(o, "path", &out->path, ToString));
  RETURN_IF_ERROR(Opt(o, "major", &out->major, ToInt<int64_t>));
  RETURN_IF_ERROR(Opt(o, "minor", &out->minor, ToInt<int64_t>));
  RETURN_IF_ERROR(Opt(o, "fileMode", &out->file_mode, ToInt<uint32_t>));
  RETURN_IF_ERROR(Opt(o, "uid", &out->uid, ToInt<uint32_t>));
  return Opt(o, "gid", &out->gid, ToInt<uint32_t>);
}

absl::Status ParseNetDevice(const Value& v, const std::string& ptr, NetDevice* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  return Opt(o, "name", &out->name, ToString);
}

absl::Status ParseIntelRdt(const Value& v, const std::string& ptr, IntelRdt* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  RETURN_IF_ERROR(Opt(o, "closID", &out->clos_id, ToString));
  RETURN_IF_ERROR(Opt(o, "l3CacheSchema", &out->l3_cache_schema, ToString));
  RETURN_IF_ERROR(Opt(o, "memBwSchema", &out->mem_bw_schema, ToString));
  RETURN_IF_ERROR(Maybe(o, "schemata", &out->schemata, kStrings));
  RETURN_IF_ERROR(Opt(o, "enableCMT", &out->enable_cmt, ToBool));
  RETURN_IF_ERROR(Opt(o, "enableMBM", &out->enable_mbm, ToBool));
  return Opt(o, "enableMonitoring", &out->enable_monitoring, ToBool);
}

absl::Status ParseMemoryPolicy(const Value& v, const std::string& ptr, MemoryPolicy* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  RETURN_IF_ERROR(Req(o, "mode", &out->mode, ToString));
  RETURN_IF_ERROR(Opt(o, "nodes", &out->nodes, ToString));
  return Maybe(o, "flags", &out->flags, kStrings);
}

absl::Status ParseSeccompArg(const Value& v, const std::string& ptr, SeccompArg* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  RETURN_IF_ERROR(Req(o, "index", &out->index, ToInt<uint32_t>));
  RETURN_IF_ERROR(Req(o, "value", &out->value, ToInt<uint64_t>));
  RETURN_IF_ERROR(Opt(o, "valueTwo", &out->value_two, ToInt<uint64_t>));
  return Req(o, "op", &out->op, ToString);
}

absl::Status ParseSeccompSyscall(const Value& v, const std::string& ptr, SeccompSyscall* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  RETURN_IF_ERROR(Req(o, "names", &out->names, kStrings));
  RETURN_IF_ERROR(Req(o, "action", &out->action, ToString));
  RETURN_IF_ERROR(Opt(o, "errnoRet", &out->errno_ret, ToInt<uint32_t>));
  return Maybe(o, "args", &out->args, ArrayOf<SeccompArg>(ParseSeccompArg));
}

absl::Status ParseSeccomp(const Value& v, const std::string& ptr, Seccomp* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  RETURN_IF_ERROR(Req(o, "defaultAction", &out->default_action, ToString));
  RETURN_IF_ERROR(Opt(o, "defaultErrnoRet", &out->default_errno_ret, ToInt<uint32_t>));
  RETURN_IF_ERROR(Maybe(o, "architectures", &out->architectures, kStrings));
  RETURN_IF_ERROR(Maybe(o, "flags", &out->flags, kStrings));
  RETURN_IF_ERROR(Opt(o, "listenerPath", &out->listener_path, ToString));
  RETURN_IF_ERROR(Opt(o, "listenerMetadata", &out->listener_metadata, ToString));
  return Maybe(o, "syscalls", &out->syscalls, ArrayOf<SeccompSyscall>(ParseSeccompSyscall));
}

absl::Status ParsePersonality(const Value& v, const std::string& ptr, Personality* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  RETURN_IF_ERROR(Req(o, "domain", &out->domain, ToString));
  return Maybe(o, "flags", &out->flags, kStrings);
}

absl::Status ParseLinux(const Value& v, const std::string& ptr, Linux* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  RETURN_IF_ERROR(Maybe(o, "namespaces", &out->namespaces, ArrayOf<Namespace>(ParseNamespace)));
  RETURN_IF_ERROR(Maybe(o, "uidMappings", &out->uid_mappings, kIdMappings));
  RETURN_IF_ERROR(Maybe(o, "gidMappings", &out->gid_mappings, kIdMappings));
  RETURN_IF_ERROR(Maybe(o, "timeOffsets", &out->time_offsets, MapOf<TimeOffset>(ParseTimeOffset)));
  RETURN_IF_ERROR(Maybe(o, "devices", &out->devices, ArrayOf<Device>(ParseDevice)));
  RETURN_IF_ERROR(Maybe(o, "netDevices", &out->net_devices, MapOf<NetDevice>(ParseNetDevice)));
  RETURN_IF_ERROR(Opt(o, "cgroupsPath", &out->cgroups_path, ToString));
  RETURN_IF_ERROR(Opt(o, "rootfsPropagation", &out->rootfs_propagation, ToString));
  RETURN_IF_ERROR(Opt(o, "resources", &out->resources, ParseResourcesAt));
  RETURN_IF_ERROR(Opt(o, "intelRdt", &out->intel_rdt, ParseIntelRdt));
  RETURN_IF_ERROR(Opt(o, "memoryPolicy", &out->memory_policy, ParseMemoryPolicy));
  RETURN_IF_ERROR(Maybe(o, "sysctl", &out->sysctl, kStringMap));
  RETURN_IF_ERROR(Opt(o, "seccomp", &out->seccomp, ParseSeccomp));
  RETURN_IF_ERROR(Maybe(o, "maskedPaths", &out->masked_paths, kStrings));
  RETURN_IF_ERROR(Maybe(o, "readonlyPaths", &out->readonly_paths, kStrings));
  RETURN_IF_ERROR(Opt(o, "mountLabel", &out->mount_label, ToString));
  return Opt(o, "personality", &out->personality, ParsePersonality);
}

absl::Status ParseConfigAt(const Value& v, Config* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ""));
  RETURN_IF_ERROR(Req(o, "ociVersion", &out->oci_version, ToString));
  RETURN_IF_ERROR(Opt(o, "root", &out->root, ParseRoot));
  RETURN_IF_ERROR(Maybe(o, "mounts", &out->mounts, ArrayOf<Mount>(ParseMount)));
  RETURN_IF_ERROR(Opt(o, "process", &out->process, ParseProcessAt));
  RETURN_IF_ERROR(Opt(o, "hostname", &out->hostname, ToString));
  RETURN_IF_ERROR(Opt(o, "domainname", &out->domainname, ToString));
  RETURN_IF_ERROR(Opt(o, "hooks", &out->hooks, ParseHooks));
  RETURN_IF_ERROR(Maybe(o, "annotations", &out->annotations, kStringMap));
  RETURN_IF_ERROR(Opt(o, "linux", &out->linux_config, ParseLinux));
  out->has_windows = o.Find("windows") != nullptr;
  out->has_solaris = o.Find("solaris") != nullptr;
  out->has_vm = o.Find("vm") != nullptr;
  out->has_zos = o.Find("zos") != nullptr;
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------
// Documents.

// Deepest array/object nesting of syntactically valid JSON text, stopping early once it
// passes kMaxJsonDepth; `offset` gets where that happened.
int NestingDepth(absl::string_view json, size_t* offset) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
      if (deepest > kMaxJsonDepth) {
        *offset = i;
        return deepest;
      }
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return deepest;
}

// Parses `json` into `doc`. `label` names the input in messages ("config.json").
absl::Status ParseDocument(absl::string_view json, absl::string_view label,
                           rapidjson::Document* doc) {
  if (json.size() > kMaxConfigBytes) {
    return absl::InvalidArgumentError(absl::StrCat(label, ": larger than 16 MiB"));
  }
  // Iterative parsing: no recursion, so the depth check below is a policy limit rather
  // than the only thing standing between hostile input and a stack overflow.
  constexpr unsigned kFlags =
      rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;
  doc->Parse<kFlags>(json.data(), json.size());
  if (doc->HasParseError()) {
    return absl::InvalidArgumentError(
        absl::StrCat(label, ": invalid JSON at offset ", doc->GetErrorOffset(), ": ",
                     rapidjson::GetParseError_En(doc->GetParseError())));
  }
  size_t offset = 0;
  if (NestingDepth(json, &offset) > kMaxJsonDepth) {
    return absl::InvalidArgumentError(absl::StrCat(label, ": JSON nested deeper than ",
                                                   kMaxJsonDepth, " levels at offset ", offset));
  }
  if (!doc->IsObject()) {
    return absl::InvalidArgumentError(absl::StrCat(label, ": expected a JSON object"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Config> ParseConfig(absl::string_view json) {
  rapidjson::Document doc;
  RETURN_IF_ERROR(ParseDocument(json, "config.json", &doc));
  Config config;
  RETURN_IF_ERROR(ParseConfigAt(doc, &config));
  return config;
}

absl::StatusOr<Config> LoadConfig(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open config.json");
  std::string data;
  char buf[65536];
  while (true) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      absl::Status status = ErrnoError("read config.json");
      close(fd);
      return status;
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
    if (data.size() > kMaxConfigBytes) {
      close(fd);
      return absl::InvalidArgumentError("config.json: larger than 16 MiB");
    }
  }
  close(fd);
  return ParseConfig(data);
}

namespace {

// A bare member object (`process`, `resources`, `hooks`) given as a whole document;
// pointers start with `label`.
template <typename T>
absl::StatusOr<T> ParseBare(absl::string_view json, const char* label,
                            absl::Status (*parse)(const Value&, const std::string&, T*)) {
  rapidjson::Document doc;
  RETURN_IF_ERROR(ParseDocument(json, label, &doc));
  T out;
  RETURN_IF_ERROR(parse(doc, label, &out));
  return out;
}

}  // namespace

absl::StatusOr<Process> ParseProcess(absl::string_view json) {
  return ParseBare<Process>(json, "process", ParseProcessAt);
}

absl::StatusOr<Resources> ParseResources(absl::string_view json) {
  return ParseBare<Resources>(json, "resources", ParseResourcesAt);
}

absl::StatusOr<Hooks> ParseHooksJson(absl::string_view json) {
  return ParseBare<Hooks>(json, "hooks", ParseHooks);
}

}  // namespace husk::spec
