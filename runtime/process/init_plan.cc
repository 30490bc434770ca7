#include "runtime/process/init_plan.h"

#include <sched.h>

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
  if (!plan.ns.Creates(NS::kMount)) {
    return absl::InvalidArgumentError(
        "linux/namespaces: a new mount namespace is required to set up the rootfs");
  }
  plan.two_stage = !plan.ns.join.empty() || plan.ns.Creates(NS::kTime);
  plan.clone_flags = plan.two_stage ? 0 : (plan.ns.create & ~static_cast<uint64_t>(CLONE_NEWCGROUP));
  plan.uid_mappings = lx.uid_mappings;
  plan.gid_mappings = lx.gid_mappings;
  plan.time_offsets = lx.time_offsets;

  // ValidateConfig already refused a hostname without any uts namespace.
  if (config.hostname && !plan.ns.Creates(NS::kUts) && !config.hostname->empty()) {
    return absl::InvalidArgumentError("hostname: cannot set the hostname of a joined uts namespace");
  }
  plan.hostname = config.hostname.value_or("");
  plan.domainname = config.domainname.value_or("");
  if (!plan.domainname.empty() && !plan.ns.Creates(NS::kUts)) {
    return absl::InvalidArgumentError("domainname: setting the domainname requires a new uts namespace");
  }

  ASSIGN_OR_RETURN(plan.mounts, kernel::PlanMounts(config, bundle));
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
  ASSIGN_OR_RETURN(plan.rlimits, kernel::PlanRlimits(p.rlimits));
  ASSIGN_OR_RETURN(plan.caps, kernel::PlanCapabilities(p.capabilities, kernel::LastCap(), warnings));
  plan.no_new_privileges = p.no_new_privileges;
  plan.uid = p.user.uid;
  plan.gid = p.user.gid;
  plan.additional_gids.assign(p.user.additional_gids.begin(), p.user.additional_gids.end());
  if (p.user.umask) plan.umask = static_cast<mode_t>(*p.user.umask);
  plan.args = p.args;
  plan.env = p.env;
  plan.cwd = p.cwd.empty() ? "/" : p.cwd;
  plan.terminal = p.terminal;
  plan.console_size = p.console_size;
  return plan;
}

}  // namespace husk::process
