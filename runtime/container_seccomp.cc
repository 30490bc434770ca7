// The parent's part of a container's seccomp filter: the program from the cache or from
// libseccomp, its copy in the state directory, and the hand-over of the notify fd to the
// seccomp agent. Declared in container_internal.h.
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/stat.h>
#include <sys/socket.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "runtime/base/fd_passing.h"
#include "runtime/base/log.h"
#include "runtime/base/status.h"
#include "runtime/container_internal.h"
#include "runtime/state/bpf_cache.h"
#include "spec/features.h"
#include "spec/state.h"

namespace husk::internal {
namespace {

std::string Encode(const std::vector<sock_filter>& program) {
  return std::string(reinterpret_cast<const char*>(program.data()),
                     program.size() * sizeof(sock_filter));
}

std::optional<std::vector<sock_filter>> Decode(absl::string_view bytes) {
  if (bytes.empty() || bytes.size() % sizeof(sock_filter) != 0 ||
      bytes.size() / sizeof(sock_filter) > BPF_MAXINSNS) {
    return std::nullopt;
  }
  std::vector<sock_filter> program(bytes.size() / sizeof(sock_filter));
  memcpy(program.data(), bytes.data(), bytes.size());
  return program;
}

// The container's copy is only ever read by exec of the same husk build.
constexpr char kExecProgramKey[] = "husk exec program v1: uint32 flags, sock_filter[]";

}  // namespace

absl::StatusOr<kernel::SeccompPlan> LoadContainerSeccomp(const state::ContainerDir& dir) {
  kernel::SeccompPlan plan;
  struct stat st;
  if (fstatat(dir.fd(), state::kSeccompProgramFile, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return plan;  // the container has no filter
    return ErrnoError("stat the saved seccomp program");
  }
  std::optional<std::string> saved =
      state::ReadProgramFile(dir.fd(), state::kSeccompProgramFile, kExecProgramKey);
  uint32_t flags = 0;
  std::optional<std::vector<sock_filter>> program;
  if (saved && saved->size() > sizeof(flags)) {
    memcpy(&flags, saved->data(), sizeof(flags));
    program = Decode(absl::string_view(*saved).substr(sizeof(flags)));
  }
  if (!program) {
    return absl::DataLossError(absl::StrCat("the saved seccomp program ",
                                            Quote(state::kSeccompProgramFile), " is corrupt"));
  }
  plan.flags = flags;
  plan.program = *std::move(program);
  if (flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) {
    // runc hands an exec'd process's notify fd to the agent too; husk does not yet.
    return absl::UnimplementedError(
        "the container's seccomp profile notifies an agent (SCMP_ACT_NOTIFY): exec with a "
        "seccomp listener is not supported yet");
  }
  return plan;
}

absl::StatusOr<kernel::SeccompPlan> PlanContainerSeccomp(const state::Store& store,
                                                         const state::ContainerDir& dir,
                                                         const spec::Seccomp& profile) {
  ASSIGN_OR_RETURN(kernel::SeccompPlan plan, kernel::PlanSeccomp(profile));
  log::Debug(absl::StrCat("seccomp filter flags: ", plan.flags));
  std::string key = kernel::SeccompProgramKey(profile);
  // The cache is an optimisation: when it cannot be used the filter is compiled anyway.
  auto cache = state::BpfCache::Open(store);
  if (!cache.ok()) log::Debug(absl::StrCat("seccomp cache: ", cache.status().message()));
  std::optional<std::vector<sock_filter>> program;
  if (cache.ok()) {
    if (auto bytes = cache->Load(key)) program = Decode(*bytes);
  }
  std::string bytes;
  if (program) {
    log::Debug(absl::StrCat("seccomp: program from the cache (", program->size(),
                            " instructions)"));
    bytes = Encode(*program);
  } else {
    ASSIGN_OR_RETURN(std::vector<sock_filter> compiled, kernel::CompileSeccomp(profile));
    log::Debug(absl::StrCat("seccomp: compiled ", compiled.size(), " instructions"));
    bytes = Encode(compiled);
    if (cache.ok()) {
      absl::Status saved = cache->Save(key, bytes);
      if (!saved.ok()) log::Debug(absl::StrCat("seccomp cache: ", saved.message()));
    }
    program = std::move(compiled);
  }
  // exec loads the container's own copy: it outlives any cache eviction and any later
  // edit of config.json. The seccomp(2) flags go in front of the program.
  uint32_t flags = plan.flags;
  std::string saved(reinterpret_cast<const char*>(&flags), sizeof(flags));
  saved += bytes;
  RETURN_IF_ERROR(Annotate(
      state::WriteProgramFile(dir.fd(), state::kSeccompProgramFile, kExecProgramKey, saved),
      "save the seccomp program"));
  plan.program = *std::move(program);
  return plan;
}

absl::Status SendToSeccompAgent(const kernel::SeccompPlan& plan, const spec::StateDoc& state,
                                int notify_fd) {
  std::string where = absl::StrCat("send the seccomp fd to the agent at ",
                                   Quote(plan.listener_path));
  spec::ContainerProcessState cps;
  cps.oci_version = spec::kOciVersionMax;
  cps.fds = {"seccompFd"};
  cps.pid = state.pid;
  cps.metadata = plan.listener_metadata;
  cps.state = state;
  std::string json = spec::SerializeContainerProcessState(cps);
  // One connection, one state, then closed (config-linux.md "listenerPath"); the fd goes
  // with the first sendmsg, the rest of a long state follows without one.
  UniqueFd sock(ConnectUnixStream(plan.listener_path.c_str()));
  if (!sock) return ErrnoError(where);
  size_t off = 0;
  int fd = notify_fd;
  while (off < json.size()) {
    struct iovec iov = {json.data() + off, json.size() - off};
    ssize_t n = SendMsgWithFd(sock.get(), &iov, 1, fd);
    if (n < 0) return ErrnoError(where);
    off += static_cast<size_t>(n);
    fd = -1;
  }
  return absl::OkStatus();
}

}  // namespace husk::internal
