#include "runtime/kernel/namespaces.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "runtime/base/fs.h"
#include "runtime/base/status.h"
#include "runtime/base/syscalls.h"

namespace husk::kernel {

int CloneFlag(spec::NamespaceType type) {
  switch (type) {
    case spec::NamespaceType::kPid: return CLONE_NEWPID;
    case spec::NamespaceType::kNetwork: return CLONE_NEWNET;
    case spec::NamespaceType::kMount: return CLONE_NEWNS;
    case spec::NamespaceType::kIpc: return CLONE_NEWIPC;
    case spec::NamespaceType::kUts: return CLONE_NEWUTS;
    case spec::NamespaceType::kUser: return CLONE_NEWUSER;
    case spec::NamespaceType::kCgroup: return CLONE_NEWCGROUP;
    case spec::NamespaceType::kTime: return CLONE_NEWTIME;
  }
  return 0;
}

bool NamespacePlan::Creates(spec::NamespaceType type) const {
  return (create & static_cast<uint64_t>(CloneFlag(type))) != 0;
}
bool NamespacePlan::Joins(spec::NamespaceType type) const {
  for (const NamespaceJoin& j : join) {
    if (j.type == type) return true;
  }
  return false;
}
bool NamespacePlan::Has(spec::NamespaceType type) const { return Creates(type) || Joins(type); }

absl::StatusOr<NamespacePlan> PlanNamespaces(const spec::Linux& linux_cfg) {
  NamespacePlan plan;
  for (size_t i = 0; i < linux_cfg.namespaces.size(); ++i) {
    const spec::Namespace& ns = linux_cfg.namespaces[i];
    if (!ns.path || ns.path->empty()) {
      plan.create |= static_cast<uint64_t>(CloneFlag(ns.type));
      continue;
    }
    std::string pointer = absl::StrCat("linux/namespaces/", i, "/path");
    UniqueFd fd(open(ns.path->c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return ErrnoError(absl::StrCat(pointer, ": open ", Quote(*ns.path)));
    int kind = ioctl(fd.get(), NS_GET_NSTYPE);
    if (kind < 0 || kind != CloneFlag(ns.type)) {
      return absl::InvalidArgumentError(absl::StrCat(pointer, ": ", Quote(*ns.path),
                                                     " is not a ", spec::NamespaceTypeName(ns.type),
                                                     " namespace"));
    }
    NamespaceJoin join{ns.type, std::move(fd)};
    if (ns.type == spec::NamespaceType::kUser) {
      plan.join.insert(plan.join.begin(), std::move(join));
    } else {
      plan.join.push_back(std::move(join));
    }
  }
  return plan;
}

namespace {
std::string MapText(const std::vector<spec::IdMapping>& maps) {
  std::string text;
  for (const spec::IdMapping& m : maps) {
    absl::StrAppend(&text, m.container_id, " ", m.host_id, " ", m.size, "\n");
  }
  return text;
}
}  // namespace

absl::Status WriteIdMappings(pid_t pid, const std::vector<spec::IdMapping>& uid_mappings,
                             const std::vector<spec::IdMapping>& gid_mappings) {
  std::string dir = absl::StrCat("/proc/", pid, "/");
  if (!uid_mappings.empty()) {
    RETURN_IF_ERROR(Annotate(WriteFileAt(AT_FDCWD, dir + "uid_map", MapText(uid_mappings)),
                             "write uid mappings"));
  }
  if (!gid_mappings.empty()) {
    RETURN_IF_ERROR(Annotate(WriteFileAt(AT_FDCWD, dir + "gid_map", MapText(gid_mappings)),
                             "write gid mappings"));
  }
  return absl::OkStatus();
}

absl::StatusOr<UniqueFd> NewUsernsFd(const std::vector<spec::IdMapping>& uid_mappings,
                                     const std::vector<spec::IdMapping>& gid_mappings) {
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) return ErrnoError("pipe for user namespace helper");
  UniqueFd read_end(pipefd[0]), write_end(pipefd[1]);
  pid_t pid = sys::Clone3(CLONE_NEWUSER, SIGCHLD);
  if (pid < 0) return ErrnoError("create user namespace for idmapped mount");
  if (pid == 0) {
    write_end.Reset();
    char c;
    (void)!read(read_end.get(), &c, 1);  // returns at EOF, when the parent is done
    _exit(0);
  }
  read_end.Reset();
  absl::Status status = WriteIdMappings(pid, uid_mappings, gid_mappings);
  UniqueFd ns;
  if (status.ok()) {
    ns.Reset(open(absl::StrCat("/proc/", pid, "/ns/user").c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns) status = ErrnoError("open user namespace of idmap helper");
  }
  write_end.Reset();
  while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  if (!status.ok()) return Annotate(status, "idmapped mount");
  return ns;
}

absl::Status WriteTimeOffsets(pid_t pid, const std::map<std::string, spec::TimeOffset>& offsets) {
  std::string text;
  for (const auto& [clock, off] : offsets) {
    absl::StrAppend(&text, clock, " ", off.secs, " ", off.nanosecs, "\n");
  }
  if (text.empty()) return absl::OkStatus();
  return Annotate(WriteFileAt(AT_FDCWD, absl::StrCat("/proc/", pid, "/timens_offsets"), text),
                  "write time namespace offsets");
}

}  // namespace husk::kernel
