// config-linux.md outside the resources: namespaces, id mappings, time offsets, devices,
// netDevices, intelRdt, memoryPolicy, seccomp and personality, as ParseLinux.

#include "spec/parse_members.h"

namespace husk::spec::parse_internal {

absl::Status ParseIdMapping(const Value& v, const std::string& ptr, IdMapping* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  RETURN_IF_ERROR(Req(o, "containerID", &out->container_id, ToInt<uint32_t>));
  RETURN_IF_ERROR(Req(o, "hostID", &out->host_id, ToInt<uint32_t>));
  return Req(o, "size", &out->size, ToInt<uint32_t>);
}

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

}  // namespace husk::spec::parse_internal
