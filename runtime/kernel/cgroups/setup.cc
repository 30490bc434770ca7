// Creating, configuring (create and update), joining and removing a container's cgroups on
// every layout; the cgroup2-only steps are in v2.cc, the plans in plan_v1.cc/plan_v2.cc.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/match.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "runtime/base/fs.h"
#include "runtime/base/status.h"
#include "runtime/base/unique_fd.h"
#include "runtime/kernel/cgroups/cgroups.h"

namespace husk::kernel::cgroups {
namespace {

absl::StatusOr<std::string> ReadSmallFile(int dir_fd, const std::string& dir, const char* file) {
  absl::StatusOr<std::string> text = ReadFileAt(dir_fd, file);
  if (!text.ok()) return Annotate(text.status(), absl::StrCat("cgroup ", Quote(dir)));
  return text;
}

bool HasFileAt(int dir_fd, const char* file) { return faccessat(dir_fd, file, F_OK, 0) == 0; }

// One write(2) of the whole value: cgroup files take one value per write.
absl::Status WriteFile(int dir_fd, const std::string& dir, const std::string& file,
                       const std::string& value) {
  UniqueFd fd(openat(dir_fd, file.c_str(), O_WRONLY | O_CLOEXEC));
  ssize_t n = -1;
  if (fd) {
    do {
      n = write(fd.get(), value.data(), value.size());
    } while (n < 0 && errno == EINTR);
  }
  if (n < 0) {
    return ErrnoError(absl::StrCat("write ", Quote(file), " = ", Quote(value), " in ", Quote(dir)));
  }
  return absl::OkStatus();
}

// cpuset.cpus/mems start empty in a new v1 cpuset dir, and no task may join until both
// are set: copy them from the parent where empty.
absl::Status SeedCpuset(const std::string& parent, const std::string& dir) {
  UniqueFd parent_fd(open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!parent_fd) return ErrnoError(absl::StrCat("open ", Quote(parent)));
  UniqueFd dir_fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd) return ErrnoError(absl::StrCat("open ", Quote(dir)));
  for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
    ASSIGN_OR_RETURN(std::string current, ReadSmallFile(dir_fd.get(), dir, file));
    if (!absl::StripAsciiWhitespace(current).empty()) continue;
    ASSIGN_OR_RETURN(std::string value, ReadSmallFile(parent_fd.get(), parent, file));
    value = std::string(absl::StripAsciiWhitespace(value));
    if (value.empty()) continue;  // the kernel will refuse the join and say so
    RETURN_IF_ERROR(WriteFile(dir_fd.get(), dir, file, value));
  }
  return absl::OkStatus();
}

// mkdir -p of mount_point + path; reports whether the leaf was made here.
absl::Status MakeCgroupDir(const Hierarchy& h, const std::string& path, bool* created) {
  *created = false;
  bool cpuset = h.Has("cpuset");
  std::string dir = h.mount_point;
  for (absl::string_view part : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    std::string parent = dir;
    absl::StrAppend(&dir, "/", part);
    bool made = mkdir(dir.c_str(), 0755) == 0;
    if (!made && errno != EEXIST) return ErrnoError(absl::StrCat("mkdir ", Quote(dir)));
    *created = made;
    if (cpuset) RETURN_IF_ERROR(SeedCpuset(parent, dir));
  }
  return absl::OkStatus();
}

// Writes that the kernel may refuse in one order but accept in the other when an
// existing cgroup is updated (e.g. lowering memory and memsw together).
bool IsRetryPair(const FileWrite& first, const FileWrite& second) {
  return (first.file == "memory.limit_in_bytes" && second.file == "memory.memsw.limit_in_bytes") ||
         (first.file == "cpu.cfs_period_us" && second.file == "cpu.cfs_quota_us") ||
         (first.file == "cpu.rt_period_us" && second.file == "cpu.rt_runtime_us");
}

struct Target {
  const Hierarchy* hierarchy;
  std::string dir;
  int fd;
};

const Target* TargetFor(const std::vector<Target>& targets, const FileWrite& w) {
  for (const Target& t : targets) {
    if (w.v2 ? t.hierarchy->unified : (!t.hierarchy->unified && t.hierarchy->Has(w.controller))) {
      return &t;
    }
  }
  return nullptr;
}

absl::Status ApplyOne(const std::vector<Target>& targets, const FileWrite& w) {
  const Target* t = TargetFor(targets, w);
  if (t == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat(w.field, ": cgroup controller ", Quote(w.controller), " is not mounted"));
  }
  absl::Status status = WriteFile(t->fd, t->dir, w.file, w.value);
  if (!status.ok() && StatusErrno(status) == ENOENT && !w.alt_file.empty()) {
    status = WriteFile(t->fd, t->dir, w.alt_file, w.alt_value);
  }
  if (!status.ok() && StatusErrno(status) == ENOENT) {
    return Annotate(status, absl::StrCat(w.field, ": not supported by this kernel"));
  }
  if (!status.ok()) return Annotate(status, w.field);
  if (w.file == "cpu.shares") {
    // The kernel clamps shares to [2, 262144] silently; say so instead (as runc does).
    ASSIGN_OR_RETURN(std::string got, ReadSmallFile(t->fd, t->dir, "cpu.shares"));
    got = std::string(absl::StripAsciiWhitespace(got));
    if (got != w.value) {
      return absl::InvalidArgumentError(absl::StrCat(w.field, ": write \"cpu.shares\" = ",
                                                     Quote(w.value), " in ", Quote(t->dir),
                                                     ": the kernel set ", got,
                                                     " (allowed range 2-262144)"));
    }
  }
  return absl::OkStatus();
}

absl::Status ApplyAll(const std::vector<Target>& targets, const std::vector<FileWrite>& plan) {
  std::vector<bool> done(plan.size(), false);
  for (size_t i = 0; i < plan.size(); ++i) {
    if (done[i]) continue;
    absl::Status status = ApplyOne(targets, plan[i]);
    if (!status.ok() && StatusErrno(status) == EINVAL) {
      for (size_t j = i + 1; j < plan.size(); ++j) {
        if (done[j] || !IsRetryPair(plan[i], plan[j])) continue;
        if (ApplyOne(targets, plan[j]).ok() && ApplyOne(targets, plan[i]).ok()) {
          done[j] = true;
          status = absl::OkStatus();
        }
        break;
      }
    }
    RETURN_IF_ERROR(status);
    done[i] = true;
  }
  return absl::OkStatus();
}

struct HostPlan {
  std::vector<std::string> v2_available;  // the cgroup2 root's cgroup.controllers
  std::vector<FileWrite> writes;
};
absl::StatusOr<HostPlan> PlanForHost(const Layout& layout, const spec::Resources& resources,
                                     const std::vector<spec::Device>& devices,
                                     std::vector<std::string>* warnings) {
  HostPlan plan;
  if (const Hierarchy* unified = layout.Unified(); unified != nullptr) {
    ASSIGN_OR_RETURN(plan.v2_available, AvailableControllers(unified->mount_point));
  }
  ASSIGN_OR_RETURN(plan.writes,
                   PlanResources(layout, plan.v2_available, resources, devices, warnings));
  return plan;
}

// The cgroup2 controllers the writes need (core cgroup.* files need none).
std::vector<std::string> V2ControllersOf(const std::vector<FileWrite>& plan) {
  std::vector<std::string> out;
  for (const FileWrite& w : plan) {
    if (w.v2 && w.controller != "cgroup" &&
        std::find(out.begin(), out.end(), w.controller) == out.end()) {
      out.push_back(w.controller);
    }
  }
  return out;
}

absl::Status VerifyDevices(const std::vector<Target>& targets, const std::vector<FileWrite>& plan) {
  FileWrite devices;
  devices.controller = "devices";
  const Target* t = TargetFor(targets, devices);
  if (t == nullptr) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::string text, ReadSmallFile(t->fd, t->dir, "devices.list"));
  std::vector<std::string> got;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipWhitespace())) {
    got.emplace_back(absl::StripAsciiWhitespace(line));
  }
  std::sort(got.begin(), got.end());
  std::vector<std::string> want = ExpectedDevicesList(plan);
  if (got == want) return absl::OkStatus();
  std::vector<std::string> missing, extra;
  std::set_difference(want.begin(), want.end(), got.begin(), got.end(),
                      std::back_inserter(missing));
  std::set_difference(got.begin(), got.end(), want.begin(), want.end(), std::back_inserter(extra));
  return absl::InternalError(absl::StrCat("verify \"devices.list\" in ", Quote(t->dir),
                                          ": missing [", absl::StrJoin(missing, ", "),
                                          "], unexpected [", absl::StrJoin(extra, ", "), "]"));
}

}  // namespace

std::vector<JoinTarget> JoinTargets(const Setup& setup, bool include_unified) {
  std::vector<JoinTarget> out;
  for (size_t i = 0; i < setup.dir_fds.size() && i < setup.unified.size(); ++i) {
    if (setup.unified[i] && !include_unified) continue;
    out.push_back({setup.dir_fds[i].get(), setup.unified[i]});
  }
  return out;
}

int UnifiedDirFd(const Setup& setup) {
  for (size_t i = 0; i < setup.dir_fds.size() && i < setup.unified.size(); ++i) {
    if (setup.unified[i]) return setup.dir_fds[i].get();
  }
  return -1;
}

absl::StatusOr<Setup> CreateAndApply(const Layout& layout, const std::string& path,
                                     const spec::Linux* linux_cfg,
                                     std::vector<std::string>* warnings) {
  if (path.empty() || path[0] != '/' || path == "/") {
    return absl::InvalidArgumentError(absl::StrCat("invalid cgroup path ", Quote(path)));
  }
  static const spec::Resources kNoResources;
  static const std::vector<spec::Device> kNoDevices;
  const spec::Resources& resources =
      linux_cfg && linux_cfg->resources ? *linux_cfg->resources : kNoResources;
  const std::vector<spec::Device>& devices = linux_cfg ? linux_cfg->devices : kNoDevices;
  const Hierarchy* unified = layout.Unified();
  ASSIGN_OR_RETURN(HostPlan host, PlanForHost(layout, resources, devices, warnings));
  std::vector<FileWrite>& plan = host.writes;
  // cgroup2 controllers to delegate down to the container: on a pure v2 host all of them
  // (as runc and crun do: stats, pids.max and `update` need them); on a hybrid host only
  // what the plan writes there, so the usual create touches no subtree_control.
  std::vector<std::string> v2_wanted =
      layout.mode == Mode::kUnified ? host.v2_available : V2ControllersOf(plan);
  // No v1 devices controller: the device rules are an eBPF program on the cgroup2 dir.
  bool device_program = layout.Find("devices") == nullptr && unified != nullptr;

  Setup setup;
  std::vector<Target> targets;
  // Undo on failure; the user sees the original error, plus the cleanup's if that failed.
  auto fail = [&setup](absl::Status status) {
    setup.dir_fds.clear();
    absl::Status cleanup = Destroy(setup.created);
    if (cleanup.ok()) return status;
    absl::Status both(status.code(),
                      absl::StrCat(status.message(), " (cleanup: ", cleanup.message(), ")"));
    status.ForEachPayload([&both](absl::string_view url, const absl::Cord& payload) {
      both.SetPayload(url, payload);
    });
    return both;
  };
  for (const Hierarchy& h : layout.hierarchies) {
    std::string dir = absl::StrCat(h.mount_point, path);
    bool created = false;
    absl::Status status = MakeCgroupDir(h, path, &created);
    if (created) setup.created.push_back(dir);
    if (!status.ok()) return fail(status);
    if (h.unified) {
      status = EnableControllers(h.mount_point, path, v2_wanted);
      if (!status.ok()) return fail(status);
    }
    UniqueFd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) return fail(ErrnoError(absl::StrCat("open ", Quote(dir))));
    setup.dirs.push_back(dir);
    setup.unified.push_back(h.unified);
    setup.dir_fds.push_back(std::move(fd));
  }
  for (size_t i = 0; i < layout.hierarchies.size(); ++i) {
    targets.push_back({&layout.hierarchies[i], setup.dirs[i], setup.dir_fds[i].get()});
  }
  // Before any write into a cgroup that may not be ours, and before the init exists.
  absl::Status status = RefuseFrozen(setup);
  if (status.ok()) status = RefuseBusy(setup);
  if (status.ok()) status = ApplyAll(targets, plan);
  if (status.ok() && !device_program) status = VerifyDevices(targets, plan);
  if (status.ok() && device_program) {
    for (size_t i = 0; i < setup.dirs.size(); ++i) {
      if (!setup.unified[i]) continue;
      status = ApplyDeviceProgram(setup.dir_fds[i].get(), setup.dirs[i], resources, devices);
    }
  }
  if (!status.ok()) return fail(status);
  return setup;
}

namespace {

// memory.checkBeforeUpdate: a new limit below the current usage would make the kernel
// reclaim hard or OOM-kill the container; refuse it instead (runc's v2 behaviour, here on
// both layouts).
absl::Status CheckMemoryUsage(const std::vector<Target>& targets, const spec::Resources& r) {
  if (!r.memory || !r.memory->check_before_update.value_or(false)) return absl::OkStatus();
  int64_t limit = r.memory->limit.value_or(0);
  if (limit <= 0) return absl::OkStatus();
  for (const Target& t : targets) {
    const char* file = nullptr;
    if (t.hierarchy->unified && HasFileAt(t.fd, "memory.current")) file = "memory.current";
    if (!t.hierarchy->unified && t.hierarchy->Has("memory")) file = "memory.usage_in_bytes";
    if (file == nullptr) continue;
    ASSIGN_OR_RETURN(std::string text, ReadSmallFile(t.fd, t.dir, file));
    int64_t usage = 0;
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &usage) && usage > limit) {
      return absl::FailedPreconditionError(
          absl::StrCat("linux/resources/memory/limit: rejecting memory limit ", limit,
                       " below the current usage ", usage, " (memory.checkBeforeUpdate)"));
    }
    return absl::OkStatus();
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status UpdateResources(const Layout& layout, const std::vector<std::string>& dirs,
                             const spec::Resources& resources,
                             const std::vector<spec::Device>& devices, bool update_devices,
                             std::vector<std::string>* warnings) {
  const Hierarchy* unified = layout.Unified();
  ASSIGN_OR_RETURN(HostPlan host, PlanForHost(layout, resources, devices, warnings));
  std::vector<FileWrite>& plan = host.writes;
  if (!update_devices) {
    plan.erase(std::remove_if(plan.begin(), plan.end(),
                              [](const FileWrite& w) { return w.controller == "devices"; }),
               plan.end());
  }
  // The container's dirs, matched to this host's hierarchies by their mount point.
  std::vector<UniqueFd> fds;
  std::vector<Target> targets;
  for (const std::string& dir : dirs) {
    for (const Hierarchy& h : layout.hierarchies) {
      if (!absl::StartsWith(dir, h.mount_point + "/")) continue;
      UniqueFd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (!fd) return ErrnoError(absl::StrCat("open ", Quote(dir)));
      targets.push_back({&h, dir, fd.get()});
      fds.push_back(std::move(fd));
      break;
    }
  }
  // A v2 write whose controller is not delegated to the container (hybrid: create only
  // enabled what its own plan needed).
  if (unified != nullptr) {
    std::vector<std::string> wanted = V2ControllersOf(plan);
    for (const Target& t : targets) {
      if (!t.hierarchy->unified) continue;
      RETURN_IF_ERROR(
          EnableControllers(unified->mount_point, t.dir.substr(unified->mount_point.size()), wanted));
    }
  }
  RETURN_IF_ERROR(CheckMemoryUsage(targets, resources));
  RETURN_IF_ERROR(ApplyAll(targets, plan));
  if (!update_devices) return absl::OkStatus();
  if (layout.Find("devices") != nullptr) return VerifyDevices(targets, plan);
  for (const Target& t : targets) {
    if (t.hierarchy->unified) RETURN_IF_ERROR(ApplyDeviceProgram(t.fd, t.dir, resources, devices));
  }
  return absl::OkStatus();
}

absl::Status RefuseBusy(const Setup& setup) {
  // A cgroup that already holds processes is someone else's (or a leftover): the
  // container's limits, freezer and kill --all would reach them too.
  for (const std::string& dir : setup.dirs) {
    // A dir this create made is empty: only pre-existing ones need the read (hot path).
    if (std::find(setup.created.begin(), setup.created.end(), dir) != setup.created.end()) {
      continue;
    }
    ASSIGN_OR_RETURN(std::string procs, husk::ReadFile(absl::StrCat(dir, "/cgroup.procs")));
    size_t n = 0;
    for (absl::string_view line : absl::StrSplit(procs, '\n', absl::SkipWhitespace())) {
      (void)line;
      ++n;
    }
    if (n > 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "container's cgroup is not empty: ", n, " process(es) found in ", Quote(dir)));
    }
  }
  return absl::OkStatus();
}

namespace {
// Async-signal-safe: openat, write, close only.
int JoinOne(int dir_fd, bool unified) {
  int fd = openat(dir_fd, unified ? "cgroup.procs" : "tasks", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  ssize_t written;
  do {
    written = write(fd, "0", 1);
  } while (written < 0 && errno == EINTR);
  int err = written == 1 ? 0 : (written < 0 ? errno : EIO);
  close(fd);
  return err;
}
}  // namespace

int JoinSelf(const JoinTarget* targets, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (int err = JoinOne(targets[i].dir_fd, targets[i].unified); err != 0) return err;
  }
  return 0;
}

int JoinSelf(const int* dir_fds, const bool* unified, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (int err = JoinOne(dir_fds[i], unified[i]); err != 0) return err;
  }
  return 0;
}

namespace {
// Child cgroups the container made inside its own (a cgroup namespace with a writable
// /sys/fs/cgroup allows that): removed deepest first, as runc does, since the kernel
// refuses to remove a cgroup that has children (EBUSY). Only directories: in a cgroup
// filesystem every subdirectory is a cgroup and nothing else can be created there.
void RemoveChildCgroups(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return;
  std::vector<std::string> children;
  while (dirent* e = readdir(d)) {
    if (e->d_type != DT_DIR || strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
      continue;
    }
    children.push_back(absl::StrCat(dir, "/", e->d_name));
  }
  closedir(d);
  for (const std::string& child : children) {
    RemoveChildCgroups(child);
    rmdir(child.c_str());
  }
}
}  // namespace

absl::Status Destroy(const std::vector<std::string>& created) {
  std::vector<std::string> order = created;
  // Deepest first, so a dir that holds another in the list goes after it.
  std::stable_sort(order.begin(), order.end(), [](const std::string& a, const std::string& b) {
    return std::count(a.begin(), a.end(), '/') > std::count(b.begin(), b.end(), '/');
  });
  absl::Status first_error;
  for (const std::string& dir : order) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    for (;;) {
      if (rmdir(dir.c_str()) == 0 || errno == ENOENT) break;
      // EBUSY: child cgroups, or tasks still exiting (or a zombie not yet released),
      // which clears soon.
      if (errno == EBUSY && std::chrono::steady_clock::now() < deadline) {
        RemoveChildCgroups(dir);
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        continue;
      }
      if (first_error.ok()) first_error = ErrnoError(absl::StrCat("remove cgroup ", Quote(dir)));
      break;
    }
  }
  return first_error;
}

}  // namespace husk::kernel::cgroups
