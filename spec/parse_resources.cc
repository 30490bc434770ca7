// config-linux.md "Control groups" resources (linux.resources and `update -r`): memory,
// cpu, blockIO, hugepages, network, pids, rdma, unified and the device rules.

#include "spec/parse_members.h"

namespace husk::spec::parse_internal {

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

}  // namespace husk::spec::parse_internal
