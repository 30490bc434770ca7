#include "runtime/container.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "runtime/base/fs.h"
#include "runtime/base/log.h"
#include "runtime/base/status.h"
#include "runtime/base/syscalls.h"
#include "runtime/container_internal.h"
#include "runtime/kernel/cgroups/cgroups.h"
#include "runtime/kernel/terminal.h"
#include "runtime/kernel/user.h"
#include "runtime/process/init_plan.h"
#include "runtime/process/launcher.h"
#include "runtime/state/status.h"
#include "runtime/state/store.h"
#include "spec/parse.h"
#include "spec/state.h"
#include "spec/support.h"
#include "spec/validate.h"

namespace husk {
namespace internal {

// exec.sock is reached through the directory fd: --root may be longer than sun_path.
std::string SocketPath(const state::ContainerDir& dir) {
  return absl::StrCat("/proc/self/fd/", dir.fd(), "/", state::kExecSocketName);
}

namespace {

absl::StatusOr<UniqueFd> ListenExecSocket(const state::ContainerDir& dir) {
  UniqueFd sock(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock) return ErrnoError("create exec socket");
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  std::string path = SocketPath(dir);
  memcpy(addr.sun_path, path.data(), path.size());
  if (bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return ErrnoError("bind exec socket");
  }
  if (listen(sock.get(), 1) != 0) return ErrnoError("listen on exec socket");
  return sock;
}

// Socket activation (cli-contract.md §6): LISTEN_FDS counts only when LISTEN_PID is us.
int ListenFds() {
  const char* pid = getenv("LISTEN_PID");
  const char* fds = getenv("LISTEN_FDS");
  int p = 0, n = 0;
  if (pid == nullptr || fds == nullptr || !absl::SimpleAtoi(pid, &p) || p != getpid() ||
      !absl::SimpleAtoi(fds, &n) || n < 0) {
    return 0;
  }
  return n;
}

std::vector<kernel::CgroupMountSource> CgroupMounts(const kernel::cgroups::Layout& layout,
                                                    const std::vector<std::string>& dirs) {
  std::vector<kernel::CgroupMountSource> out;
  for (size_t i = 0; i < layout.hierarchies.size() && i < dirs.size(); ++i) {
    const auto& h = layout.hierarchies[i];
    kernel::CgroupMountSource m;
    m.name = h.mount_point.substr(h.mount_point.rfind('/') + 1);
    m.host_dir = dirs[i];
    m.controllers = h.controllers;
    m.unified = h.unified;
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace

absl::StatusOr<Created> CreateContainer(const GlobalOptions& global, const CreateOptions& options,
                                        bool foreground) {
  RETURN_IF_ERROR(ValidateContainerId(options.id));
  ASSIGN_OR_RETURN(std::string bundle, AbsolutePath(options.bundle.empty() ? "." : options.bundle));
  ASSIGN_OR_RETURN(spec::Config config, spec::LoadConfig(bundle + "/config.json"));
  RETURN_IF_ERROR(spec::ValidateConfig(config));
  RETURN_IF_ERROR(spec::CheckSupported(config));
  bool terminal = config.process && config.process->terminal;
  if (terminal && options.console_socket.empty() && !foreground) {
    return absl::InvalidArgumentError(
        "cannot allocate tty if husk will detach without setting console socket");
  }
  if (!terminal && !options.console_socket.empty()) {
    return absl::InvalidArgumentError(
        "cannot use console socket if husk will not detach or allocate tty");
  }
  std::string pid_file;
  if (!options.pid_file.empty()) {
    ASSIGN_OR_RETURN(pid_file, AbsolutePath(options.pid_file));
  }

  // fds 3 .. 3+n-1 go to the container: each must be open now, or husk's own files
  // (the locked state dir, cgroup dirs...) would take the free numbers and leak in.
  int listen_fds = ListenFds();
  if (options.preserve_fds < 0) {
    return absl::InvalidArgumentError("--preserve-fds: must not be negative");
  }
  struct rlimit nofile;
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 &&
      static_cast<rlim_t>(3) + listen_fds + options.preserve_fds > nofile.rlim_cur) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--preserve-fds ", options.preserve_fds, ": more fds than the open file limit"));
  }
  for (int fd = 3; fd < 3 + listen_fds + options.preserve_fds; ++fd) {
    if (fcntl(fd, F_GETFD) < 0) {
      return ErrnoError(absl::StrCat("fd ", fd, " to pass to the container (",
                                     fd < 3 + listen_fds ? "LISTEN_FDS" : "--preserve-fds",
                                     ") is not open"));
    }
  }

  if (global.systemd_cgroup) {
    // Before anything exists: nothing to undo. The path is checked first so a malformed
    // one is reported as such on any host.
    const std::optional<std::string> path =
        config.linux_config ? config.linux_config->cgroups_path : std::nullopt;
    ASSIGN_OR_RETURN(kernel::cgroups::SystemdUnit unit,
                     kernel::cgroups::ParseSystemdPath(path, options.id, geteuid() != 0));
    RETURN_IF_ERROR(kernel::cgroups::CheckSystemdDriver(unit));
  }

  ASSIGN_OR_RETURN(state::Store store, state::Store::Open(global.root));
  ASSIGN_OR_RETURN(state::ContainerDir dir, store.Claim(options.id));
  Created created{std::move(dir)};
  // From here on every failure must undo what was made: the state dir, the cgroups and
  // the init (Launch reaps its own children on failure).
  std::vector<std::string> cgroups_created;
  spec::StateDoc creating;  // what the seccomp agent and the create hooks read
  creating.oci_version = config.oci_version;
  creating.id = options.id;
  creating.status = "creating";  // runc's status here too
  creating.bundle = bundle;
  creating.annotations = config.annotations;
  bool launched = false;
  auto undo = [&](const absl::Status& status) {
    if (!cgroups_created.empty()) (void)kernel::cgroups::Destroy(cgroups_created);
    (void)created.dir.Remove();
    // Like runc's destroy: once the init existed, poststop runs (lifecycle step 13).
    if (launched && config.hooks) RunPoststop("create", creating, config.hooks->poststop);
    return status;
  };

  std::vector<std::string> warnings;
  auto plan = process::BuildInitPlan(config, options.id, bundle, &warnings);
  if (!plan.ok()) return undo(plan.status());
  for (const std::string& w : warnings) log::Warning(w);
  plan->no_pivot = options.no_pivot;
  plan->no_new_keyring = options.no_new_keyring;
  if (config.linux_config && config.linux_config->seccomp) {
    auto seccomp = PlanContainerSeccomp(store, created.dir, *config.linux_config->seccomp);
    if (!seccomp.ok()) return undo(seccomp.status());
    plan->seccomp = *std::move(seccomp);
  }

  auto layout = kernel::cgroups::Detect();
  if (!layout.ok()) return undo(layout.status());
  const spec::Linux* lx = config.linux_config ? &*config.linux_config : nullptr;
  auto cg_path = kernel::cgroups::ResolvePath(lx ? lx->cgroups_path : std::nullopt, options.id);
  if (!cg_path.ok()) return undo(cg_path.status());
  std::vector<std::string> cgroup_warnings;
  auto cg = kernel::cgroups::CreateAndApply(*layout, *cg_path, lx, &cgroup_warnings);
  if (!cg.ok()) return undo(cg.status());
  for (const std::string& w : cgroup_warnings) log::Warning(w);
  cgroups_created = cg->created;
  for (const kernel::cgroups::JoinTarget& t : kernel::cgroups::JoinTargets(*cg, false)) {
    plan->cgroup_fds.push_back(t.dir_fd);
    plan->cgroup_unified.push_back(t.unified ? 1 : 0);
  }
  plan->clone_cgroup_fd = kernel::cgroups::UnifiedDirFd(*cg);
  plan->cgroup_mounts = CgroupMounts(*layout, cg->dirs);

  auto listener = ListenExecSocket(created.dir);
  if (!listener.ok()) return undo(listener.status());
  plan->listen_fd = listener->get();
  plan->preserve_fds = listen_fds + options.preserve_fds;
  if (listen_fds > 0) {
    plan->env.push_back(absl::StrCat("LISTEN_FDS=", listen_fds));
    plan->env.push_back("LISTEN_PID=1");
  }

  process::LaunchOptions launch;
  launch.on_console = [&](UniqueFd master) -> absl::Status {
    if (options.console_socket.empty()) {
      created.console = std::move(master);
      return absl::OkStatus();
    }
    return kernel::SendConsoleFd(options.console_socket, master.get());
  };
  launch.on_seccomp_listener = [&](UniqueFd notify_fd, pid_t init) -> absl::Status {
    spec::StateDoc state = creating;
    state.pid = init;
    return SendToSeccompAgent(plan->seccomp, state, notify_fd.get());
  };
  if (config.hooks) {
    launch.on_create_hooks = [&](pid_t init) -> absl::Status {
      spec::StateDoc state = creating;
      state.pid = init;
      return RunCreateRuntimeHooks(*config.hooks, state);
    };
  }
  launched = true;
  auto pid = process::Launch(*plan, launch);
  if (!pid.ok()) return undo(pid.status());
  created.pid = *pid;
  auto fail = [&](const absl::Status& status) {
    kill(created.pid, SIGKILL);
    waitpid(created.pid, nullptr, 0);
    return undo(status);
  };

  if (config.process->oom_score_adj) {
    absl::Status s = WriteFileAt(AT_FDCWD, absl::StrCat("/proc/", created.pid, "/oom_score_adj"),
                                 absl::StrCat(*config.process->oom_score_adj));
    if (!s.ok()) return fail(Annotate(s, "set oom_score_adj"));
  }
  auto stat = state::ReadProcStat(created.pid);
  if (!stat.ok()) return fail(stat.status());

  state::Record record;
  record.id = options.id;
  record.oci_version = config.oci_version;
  record.bundle = bundle;
  record.rootfs = plan->rootfs;
  record.created = log::Rfc3339Now();
  record.pid = created.pid;
  record.start_time = stat->start_time;
  record.annotations = config.annotations;
  record.cgroup_dirs_created = cg->created;
  record.cgroup_dirs = cg->dirs;
  record.private_pid_ns = plan->ns.Creates(spec::NamespaceType::kPid);
  record.systemd_cgroup = global.systemd_cgroup;
  absl::Status kept = SaveHooks(created.dir, config.hooks);
  if (!kept.ok()) return fail(kept);
  absl::Status saved = created.dir.Save(record);
  if (!saved.ok()) return fail(saved);
  if (!pid_file.empty()) {
    absl::Status s = WriteFileAtomic(pid_file, absl::StrCat(created.pid), 0644);
    if (!s.ok()) return fail(Annotate(s, "write pid file"));
  }
  created.record = std::move(record);
  return created;
}

absl::StatusOr<Loaded> LoadContainer(const GlobalOptions& global, const std::string& id) {
  RETURN_IF_ERROR(ValidateContainerId(id));
  ASSIGN_OR_RETURN(state::Store store, state::Store::Open(global.root));
  return LoadFrom(store, id);
}

absl::StatusOr<Loaded> LoadFrom(const state::Store& store, const std::string& id) {
  ASSIGN_OR_RETURN(state::ContainerDir dir, store.Lock(id));
  auto record = dir.Load();
  if (!record.ok()) {
    if (record.status().code() == absl::StatusCode::kNotFound) {
      return absl::NotFoundError("container does not exist");
    }
    return record.status();
  }
  Loaded loaded{std::move(dir), *std::move(record), state::Status::kStopped};
  bool frozen = false;
  auto is_frozen = kernel::cgroups::IsFrozen(loaded.record.cgroup_dirs);
  if (is_frozen.ok()) frozen = *is_frozen;
  loaded.status = state::DeriveStatus(loaded.dir, loaded.record, frozen);
  return loaded;
}

// pidfd first, then the start time check: the pidfd pins the process, so a recycled pid
// can never be signalled (crun#1200).
absl::StatusOr<UniqueFd> OpenInit(const state::Record& record) {
  UniqueFd pidfd(sys::PidfdOpen(record.pid));
  if (!pidfd) return ErrnoError(ESRCH, "container not running");
  if (!state::ProcessAlive(record.pid, record.start_time)) {
    return absl::FailedPreconditionError("container not running");
  }
  return pidfd;
}

absl::Status KillAndWait(const state::Record& record) {
  auto pidfd = OpenInit(record);
  if (!pidfd.ok()) return absl::OkStatus();  // already gone
  if (sys::PidfdSendSignal(pidfd->get(), SIGKILL) != 0 && errno != ESRCH) {
    return ErrnoError("kill container init");
  }
  // A pidfd turns readable when the process exits (zombie or reaped).
  struct pollfd p = {pidfd->get(), POLLIN, 0};
  int rc;
  do {
    rc = poll(&p, 1, 10000);
  } while (rc < 0 && errno == EINTR);
  if (rc == 0) return absl::DeadlineExceededError("container init still running");
  return absl::OkStatus();
}

absl::Status Destroy(Loaded& loaded) {
  if (!loaded.record.private_pid_ns) {
    RETURN_IF_ERROR(kernel::cgroups::SignalAll(loaded.record.cgroup_dirs, SIGKILL));
  }
  RETURN_IF_ERROR(KillAndWait(loaded.record));
  RETURN_IF_ERROR(kernel::cgroups::Destroy(loaded.record.cgroup_dirs_created));
  return loaded.dir.Remove();
}

}  // namespace internal

using internal::LoadContainer;

absl::Status ValidateContainerId(absl::string_view id) {
  bool ok = !id.empty() && id != "." && id != "..";
  for (char c : id) {
    ok = ok && (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '+' ||
                c == ',' || c == '.' || c == '-');
  }
  if (!ok) return absl::InvalidArgumentError("invalid container ID format");
  return absl::OkStatus();
}

absl::Status Create(const GlobalOptions& global, const CreateOptions& options) {
  return internal::CreateContainer(global, options, false).status();
}

absl::Status Start(const GlobalOptions& global, const std::string& id) {
  state::Record record;
  spec::Hooks saved;
  {
    ASSIGN_OR_RETURN(internal::Loaded c, LoadContainer(global, id));
    RETURN_IF_ERROR(state::CanStart(c.status));
    ASSIGN_OR_RETURN(saved, internal::LoadSavedHooks(c.dir));
    RETURN_IF_ERROR(internal::ReleaseInit(c));
    record = std::move(c.record);
  }  // unlocked: a poststart hook may run `husk state` (which then reports running)
  return internal::RunPoststart(record, saved);
}

namespace internal {

absl::Status ReleaseInit(const Loaded& c) {
  UniqueFd sock(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock) return ErrnoError("start: socket");
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  std::string path = internal::SocketPath(c.dir);
  memcpy(addr.sun_path, path.data(), path.size());
  if (connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (errno == ECONNREFUSED) return absl::FailedPreconditionError("container process is already dead");
    return ErrnoError("start: connect to container init");
  }
  // Wait for the init's acknowledgement (after its startContainer hooks), checking that
  // it is still alive.
  char ack;
  while (true) {
    struct pollfd p = {sock.get(), POLLIN, 0};
    int rc = poll(&p, 1, 100);
    if (rc > 0) {
      if (read(sock.get(), &ack, 1) == 1) break;
      return absl::FailedPreconditionError("container process is already dead");
    }
    if (rc < 0 && errno != EINTR) return ErrnoError("start: wait for container init");
    if (!state::ProcessAlive(c.record.pid, c.record.start_time)) {
      // It may have written its answer (a hook's error) just before exiting.
      struct pollfd last = {sock.get(), POLLIN, 0};
      if (poll(&last, 1, 0) > 0) continue;
      return absl::FailedPreconditionError("container process is already dead");
    }
  }
  // Gone socket = running (or, after a failed hook, stopped) for every later `state`
  // (cli-contract.md §5.2).
  if (unlinkat(c.dir.fd(), state::kExecSocketName, 0) != 0 && errno != ENOENT) {
    return ErrnoError("start: remove exec socket");
  }
  if (ack == 'E') {  // a startContainer hook failed: its error follows, then the init exits
    std::string text;
    char buf[4096];
    ssize_t n;
    while (text.size() < (64 << 10) && (n = read(sock.get(), buf, sizeof(buf))) != 0) {
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) break;
      text.append(buf, static_cast<size_t>(n));
    }
    return absl::FailedPreconditionError(text.empty() ? "startContainer hook failed" : text);
  }
  return absl::OkStatus();
}

}  // namespace internal

absl::StatusOr<std::string> State(const GlobalOptions& global, const std::string& id) {
  ASSIGN_OR_RETURN(internal::Loaded c, LoadContainer(global, id));
  spec::StateDoc doc;
  doc.oci_version = c.record.oci_version;
  doc.id = c.record.id;
  doc.status = state::StatusName(c.status);
  doc.pid = c.status == state::Status::kStopped ? 0 : c.record.pid;
  doc.bundle = c.record.bundle;
  doc.rootfs = c.record.rootfs;
  doc.created = c.record.created;
  doc.owner = "";
  doc.annotations = c.record.annotations;
  return spec::SerializeState(doc);
}

absl::Status Kill(const GlobalOptions& global, const std::string& id, int signal, bool all) {
  ASSIGN_OR_RETURN(internal::Loaded c, LoadContainer(global, id));
  if (all) {
    if (c.status == state::Status::kStopped) return absl::OkStatus();
    return kernel::cgroups::SignalAll(c.record.cgroup_dirs, signal);
  }
  RETURN_IF_ERROR(state::CanKill(c.status));
  ASSIGN_OR_RETURN(UniqueFd pidfd, internal::OpenInit(c.record));
  if (sys::PidfdSendSignal(pidfd.get(), signal) != 0) {
    if (errno == ESRCH) return absl::FailedPreconditionError("container not running");
    return ErrnoError(absl::StrCat("kill container init with signal ", signal));
  }
  // runc thaws a paused container on SIGKILL so the kill can take effect (cgroup v1).
  if (signal == SIGKILL && c.status == state::Status::kPaused) {
    RETURN_IF_ERROR(kernel::cgroups::Thaw(c.record.cgroup_dirs));
  }
  return absl::OkStatus();
}

absl::Status Delete(const GlobalOptions& global, const std::string& id, bool force) {
  RETURN_IF_ERROR(ValidateContainerId(id));
  ASSIGN_OR_RETURN(state::Store store, state::Store::Open(global.root));
  auto dir = store.Lock(id);
  if (!dir.ok()) {
    if (force && dir.status().code() == absl::StatusCode::kNotFound) return absl::OkStatus();
    return dir.status();
  }
  auto record = dir->Load();
  if (!record.ok()) {
    if (record.status().code() != absl::StatusCode::kNotFound) return record.status();
    // A directory without state: a create that died half-way. --force clears it.
    if (force) return dir->Remove();
    return absl::NotFoundError("container does not exist");
  }
  internal::Loaded c{*std::move(dir), *std::move(record), state::Status::kStopped};
  auto frozen = kernel::cgroups::IsFrozen(c.record.cgroup_dirs);
  c.status = state::DeriveStatus(c.dir, c.record, frozen.ok() && *frozen);
  RETURN_IF_ERROR(state::CanDelete(id, c.status, force));
  if (c.status == state::Status::kPaused) RETURN_IF_ERROR(kernel::cgroups::Thaw(c.record.cgroup_dirs));
  // Read before Destroy removes the dir; a damaged copy must not keep the container.
  auto saved = internal::LoadSavedHooks(c.dir);
  if (!saved.ok()) {
    log::Warning(
        absl::StrCat("delete ", Quote(id), ": poststop hooks: ", saved.status().message()));
  }
  RETURN_IF_ERROR(internal::Destroy(c));
  if (saved.ok()) {
    internal::RunPoststop("delete", internal::HookState(c.record, "stopped"), saved->poststop);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> List(const GlobalOptions& global, ListFormat format, bool quiet) {
  ASSIGN_OR_RETURN(state::Store store, state::Store::Open(global.root));
  ASSIGN_OR_RETURN(std::vector<std::string> ids, store.Ids());
  auto passwd = ReadFile("/etc/passwd", 4 << 20);
  std::vector<kernel::PasswdEntry> users = kernel::ParsePasswd(passwd.ok() ? *passwd : "");
  std::vector<spec::StateDoc> docs;
  for (const std::string& id : ids) {
    auto c = internal::LoadFrom(store, id);
    if (!c.ok()) {
      // No state.json: a create in progress or one that died half-way, or a container
      // deleted since Ids(). Not a container; nothing to warn about.
      if (c.status().code() == absl::StatusCode::kNotFound) continue;
      log::Warning(absl::StrCat("list: skipping ", Quote(id), ": ", c.status().message()));
      continue;
    }
    spec::StateDoc doc;
    doc.oci_version = c->record.oci_version;
    doc.id = id;
    doc.status = state::StatusName(c->status);
    doc.pid = c->status == state::Status::kStopped ? 0 : c->record.pid;
    doc.bundle = c->record.bundle;
    doc.rootfs = c->record.rootfs;
    doc.created = c->record.created;
    doc.annotations = c->record.annotations;
    struct stat st;
    if (fstat(c->dir.fd(), &st) == 0) {
      auto user = kernel::FindUser(users, st.st_uid);
      doc.owner = user ? user->name : absl::StrCat("#", st.st_uid);
    }
    docs.push_back(std::move(doc));
  }
  if (quiet) {
    std::string out;
    for (const spec::StateDoc& d : docs) absl::StrAppend(&out, d.id, "\n");
    return out;
  }
  if (format == ListFormat::kJson) return absl::StrCat(spec::SerializeStateList(docs), "\n");
  // runc's tabwriter layout: columns padded to the widest cell plus 3 spaces... simplified
  // to fixed minimum widths that line up for typical IDs.
  std::vector<std::vector<std::string>> rows = {{"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"}};
  for (const spec::StateDoc& d : docs) {
    rows.push_back({d.id, absl::StrCat(d.pid), d.status, d.bundle, d.created, d.owner});
  }
  std::vector<size_t> width(6, 0);
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  std::string out;
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) {
      absl::StrAppend(&out, r[i]);
      if (i + 1 < r.size()) out.append(width[i] - r[i].size() + 3, ' ');
    }
    out += "\n";
  }
  return out;
}

}  // namespace husk
