#include "runtime/process/process_plan.h"

#include "runtime/base/status.h"

namespace husk::process {

absl::Status PlanProcess(const spec::Process& p, ProcessPlan* plan,
                         std::vector<std::string>* warnings) {
  ASSIGN_OR_RETURN(plan->rlimits, kernel::PlanRlimits(p.rlimits));
  ASSIGN_OR_RETURN(plan->caps,
                   kernel::PlanCapabilities(p.capabilities, kernel::LastCap(), warnings));
  plan->no_new_privileges = p.no_new_privileges;
  plan->uid = p.user.uid;
  plan->gid = p.user.gid;
  plan->additional_gids.assign(p.user.additional_gids.begin(), p.user.additional_gids.end());
  if (p.user.umask) plan->umask = static_cast<mode_t>(*p.user.umask);
  plan->args = p.args;
  plan->env = p.env;
  plan->cwd = p.cwd.empty() ? "/" : p.cwd;
  plan->terminal = p.terminal;
  plan->console_size = p.console_size;
  return absl::OkStatus();
}

}  // namespace husk::process
