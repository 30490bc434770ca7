#include "runtime/process/init_plan.h"

#include <sched.h>
#include <sys/stat.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "runtime/base/fs.h"
#include "runtime/base/status.h"

namespace husk::process {

absl::StatusOr<InitPlan> BuildInitPlan(const spec::Config& config, const std::string& id,
                                       const std::string& bundle,
                                       std::vector<std::string>* warnings) {
  InitPlan plan;
  plan.id = id;
  if (!config.root) return absl::InvalidArgumentError("root: required");
  plan.rootfs = config.root->path[0] == '/' ? CleanPath(config.root->path)
                                            : CleanPath(absl::StrCat(bundle, "/", config.root->path));
  plan.readonly_root = config.root->readonly;
  if (!config.process) return absl::InvalidArgumentError("process: required");
  const spec::Process& p = *config.process;
  static const spec::Linux kEmptyLinux;
  const spec::Linux& lx = config.linux_config ? *config.linux_config : kEmptyLinux;

  ASSIGN_OR_RETURN(plan.ns, kernel::PlanNamespaces(lx));
  using NS = spec::NamespaceType;
  if (!plan.ns.Has(NS::kMount)) {
    // config-linux.md: a namespace type left out means the container "MUST inherit the
    // runtime namespace of that type". Building the root (the mounts, /dev, pivot_root)
    // in husk's own mount namespace would change the host's mounts and leave them behind
    // after the container; runc does that (and leaks the mounts). husk refuses instead.
    return absl::InvalidArgumentError(
        "linux/namespaces: no mount namespace: the container would inherit husk's own "
        "(config-linux.md: \"If a namespace type is not specified in the namespaces array, "
        "the container MUST inherit the runtime namespace of that type\"), and setting up "
        "its root there would mount on the host and outlive the container; add "
        "{\"type\": \"mount\"} (new) or a mount namespace path to join");
  }
  for (const kernel::NamespaceJoin& j : plan.ns.join) {
    struct stat joined, own;
    if (j.type == NS::kMount && fstat(j.fd.get(), &joined) == 0 &&
        stat("/proc/self/ns/mnt", &own) == 0 && joined.st_ino == own.st_ino &&
        joined.st_dev == own.st_dev) {
      return absl::InvalidArgumentError(
          "linux/namespaces: the mount namespace to join is husk's own: setting up the "
          "container's root there would mount on the host");
    }
  }
  plan.two_stage = !plan.ns.join.empty() || plan.ns.Creates(NS::kTime);
  plan.clone_flags = plan.two_stage ? 0 : (plan.ns.create & ~static_cast<uint64_t>(CLONE_NEWCGROUP));
  plan.uid_mappings = lx.uid_mappings;
  plan.gid_mappings = lx.gid_mappings;
  plan.time_offsets = lx.time_offsets;

  // ValidateConfig already refused a hostname or domainname without any uts namespace; a
  // joined one gets them set (config.md: the container's UTS namespace "may be" shared).
  plan.hostname = config.hostname.value_or("");
  plan.domainname = config.domainname.value_or("");

  ASSIGN_OR_RETURN(plan.mounts, kernel::PlanMounts(config, bundle, plan.ns.Has(NS::kUser), warnings));
  for (kernel::MountPlan& m : plan.mounts) {
    if (!m.options.idmap) continue;
    // An idmap option without mappings of its own uses the container's user namespace
    // mappings (runtime-spec config.md, "idmap").
    const spec::Mount& src = config.mounts[static_cast<size_t>(m.index)];
    const auto& uids = src.uid_mappings.empty() ? lx.uid_mappings : src.uid_mappings;
    const auto& gids = src.gid_mappings.empty() ? lx.gid_mappings : src.gid_mappings;
    if (uids.empty() || gids.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "mounts/", m.index, ": an idmapped mount needs uidMappings and gidMappings "
          "(on the mount or in linux)"));
    }
    auto ns = kernel::NewUsernsFd(uids, gids);
    if (!ns.ok()) return Annotate(ns.status(), absl::StrCat("mounts/", m.index));
    m.userns_fd = ns->get();
    plan.idmap_userns.push_back(*std::move(ns));
  }
  ASSIGN_OR_RETURN(plan.devices, kernel::PlanDevices(config));
  if (lx.rootfs_propagation) {
    ASSIGN_OR_RETURN(plan.root_propagation,
                     kernel::ParsePropagation(*lx.rootfs_propagation, &plan.root_propagation_recursive));
  }
  plan.masked_paths = lx.masked_paths;
  plan.readonly_paths = lx.readonly_paths;

  ASSIGN_OR_RETURN(plan.sysctls, kernel::PlanSysctls(lx.sysctl, plan.ns.Creates(NS::kIpc),
                                                     plan.ns.Creates(NS::kUts),
                                                     plan.ns.Creates(NS::kNetwork)));
  RETURN_IF_ERROR(PlanProcess(p, &plan, warnings));
  if (config.hooks) {
    plan.parent_create_hooks =
        !config.hooks->prestart.empty() || !config.hooks->create_runtime.empty();
    plan.create_container_hooks = config.hooks->create_container;
    plan.start_container_hooks = config.hooks->start_container;
  }
  plan.hook_state.oci_version = config.oci_version;
  plan.hook_state.id = id;
  plan.hook_state.bundle = bundle;
  plan.hook_state.annotations = config.annotations;
  return plan;
}

}  // namespace husk::process
