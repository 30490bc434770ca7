#include "runtime/exec_process.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "runtime/base/status.h"
#include "spec/parse.h"
#include "spec/support.h"
#include "spec/validate.h"

namespace husk::internal {
namespace {

void Append(std::optional<std::vector<std::string>>& set, const std::string& cap) {
  if (!set) set.emplace();
  set->push_back(cap);
}

// runc's getProcess without --process: the config's process, args from the command
// line, and each flag that was given.
absl::StatusOr<spec::Process> FromFlags(const ExecOptions& options, const spec::Process& config) {
  spec::Process p = config;
  if (options.args.empty()) return absl::InvalidArgumentError("exec args cannot be empty");
  p.args = options.args;
  if (!options.cwd.empty()) p.cwd = options.cwd;
  if (!options.apparmor.empty()) p.apparmor_profile = options.apparmor;
  if (!options.process_label.empty()) p.selinux_label = options.process_label;
  if (!options.caps.empty()) {
    if (!p.capabilities) p.capabilities.emplace();
    spec::Capabilities& c = *p.capabilities;
    for (const std::string& cap : options.caps) {
      Append(c.bounding, cap);
      Append(c.effective, cap);
      Append(c.permitted, cap);
      // Ambient needs inheritable, which --cap never sets (CVE-2022-29162): only when
      // the config already has inheritable capabilities.
      if (c.inheritable) Append(c.ambient, cap);
    }
  }
  p.env.insert(p.env.end(), options.env.begin(), options.env.end());
  // Always false unless asked for (runc): the config's terminal is for the init.
  p.terminal = options.tty;
  if (options.no_new_privs) p.no_new_privileges = *options.no_new_privs;
  if (options.uid) p.user.uid = *options.uid;
  if (options.gid) p.user.gid = *options.gid;
  p.user.additional_gids.insert(p.user.additional_gids.end(), options.additional_gids.begin(),
                                options.additional_gids.end());
  return p;
}

}  // namespace

absl::StatusOr<spec::Process> ExecProcess(const ExecOptions& options,
                                          const std::optional<std::string>& process_json,
                                          const spec::Process* config) {
  return ExecProcess(options, process_json, [config] { return config; });
}

absl::StatusOr<spec::Process> ExecProcess(const ExecOptions& options,
                                          const std::optional<std::string>& process_json,
                                          absl::FunctionRef<const spec::Process*()> load_config) {
  spec::Process p;
  if (process_json) {
    ASSIGN_OR_RETURN(p, spec::ParseProcess(*process_json));
    // runc's newInitConfig: what the process leaves out comes from the container. The
    // engines' files name all three, so the bundle's config is usually not read at all.
    const spec::Process* config = nullptr;
    if (!p.capabilities || p.rlimits.empty() || !p.oom_score_adj) config = load_config();
    if (config != nullptr && !p.capabilities) p.capabilities = config->capabilities;
    if (config != nullptr && p.rlimits.empty()) p.rlimits = config->rlimits;
    if (config != nullptr && !p.oom_score_adj) p.oom_score_adj = config->oom_score_adj;
    if (config == nullptr && !p.capabilities) {
      // Without capabilities husk would keep every one it has: refuse instead.
      return absl::FailedPreconditionError(
          "the process has no capabilities and the bundle's config.json cannot be read for "
          "the container's");
    }
  } else {
    const spec::Process* config = load_config();
    if (config == nullptr) {
      return absl::FailedPreconditionError("the bundle's config.json has no process");
    }
    ASSIGN_OR_RETURN(p, FromFlags(options, *config));
  }
  // runc's validateProcessSpec, then the same rules and refusals as create.
  if (p.cwd.empty()) return absl::InvalidArgumentError("Cwd property must not be empty");
  if (p.cwd[0] != '/') return absl::InvalidArgumentError("Cwd must be an absolute path");
  if (p.args.empty()) return absl::InvalidArgumentError("args must not be empty");
  RETURN_IF_ERROR(spec::ValidateProcess(p));
  RETURN_IF_ERROR(spec::CheckSupportedProcess(p));
  return p;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseSubCgroups(
    const std::vector<std::string>& values) {
  std::vector<std::pair<std::string, std::string>> out;
  auto taken = [&](const std::string& ctrl) {
    for (const auto& [c, path] : out) {
      if (c == ctrl) return true;
    }
    return false;
  };
  for (const std::string& v : values) {
    size_t colon = v.find(':');
    if (colon == std::string::npos) {
      if (values.size() != 1) {
        return absl::InvalidArgumentError(
            absl::StrCat("invalid --cgroup argument: ", v, " (missing <controller>: prefix)"));
      }
      out.emplace_back("", v);
      continue;
    }
    std::string path = v.substr(colon + 1);
    for (absl::string_view ctrl : absl::StrSplit(absl::string_view(v).substr(0, colon), ',')) {
      if (ctrl.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("invalid --cgroup argument: ", v, " (empty <controller> prefix)"));
      }
      if (taken(std::string(ctrl))) {
        return absl::InvalidArgumentError(absl::StrCat("invalid --cgroup argument(s): controller ",
                                                       ctrl, " specified multiple times"));
      }
      out.emplace_back(std::string(ctrl), path);
    }
  }
  return out;
}

}  // namespace husk::internal
