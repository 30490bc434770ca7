#include "runtime/kernel/mounts.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "runtime/base/fs.h"
#include "runtime/base/status.h"
#include "runtime/base/syscalls.h"

namespace husk::kernel {
namespace {

std::string Where(const MountPlan& plan) {
  return absl::StrCat("mount ", Quote(plan.source.empty() ? plan.type : plan.source), " on ",
                      Quote(plan.destination));
}

// The kernel explains fsconfig failures through the fs context fd; add that text.
std::string FsContextMessage(int fsfd) {
  char buf[512];
  std::string out;
  while (true) {
    ssize_t n = read(fsfd, buf, sizeof(buf) - 1);
    if (n <= 0) break;
    buf[n] = '\0';
    if (!out.empty()) out += "; ";
    out += std::string(buf, static_cast<size_t>(n)).substr(0, strnlen(buf, n));
    while (!out.empty() && out.back() == '\n') out.pop_back();
  }
  return out;
}

absl::Status SetAttrs(int mount_fd, const MountOptions& o, const std::string& where) {
  if (o.attr_set || o.attr_clr) {
    if (sys::MountSetattr(mount_fd, "", AT_EMPTY_PATH, o.attr_set, o.attr_clr, 0) != 0) {
      return ErrnoError(absl::StrCat(where, ": set mount attributes"));
    }
  }
  if (o.rec_attr_set || o.rec_attr_clr) {
    if (sys::MountSetattr(mount_fd, "", AT_EMPTY_PATH | AT_RECURSIVE, o.rec_attr_set,
                          o.rec_attr_clr, 0) != 0) {
      return ErrnoError(absl::StrCat(where, ": set recursive mount attributes"));
    }
  }
  return absl::OkStatus();
}

absl::Status SetPropagation(int mount_fd, const MountOptions& o, const std::string& where) {
  if (o.propagation == 0) return absl::OkStatus();
  unsigned flags = AT_EMPTY_PATH | (o.propagation_recursive ? AT_RECURSIVE : 0);
  if (sys::MountSetattr(mount_fd, "", flags, 0, 0, o.propagation) != 0) {
    return ErrnoError(absl::StrCat(where, ": set propagation"));
  }
  return absl::OkStatus();
}

absl::Status Attach(int mount_fd, int target_fd, const std::string& where) {
  if (move_mount(mount_fd, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) !=
      0) {
    return ErrnoError(where);
  }
  return absl::OkStatus();
}

// A fresh filesystem instance as a detached mount.
absl::StatusOr<UniqueFd> NewFilesystem(const std::string& type, const std::string& source,
                                       const MountOptions& o, const std::string& where) {
  UniqueFd fsfd(fsopen(type.c_str(), FSOPEN_CLOEXEC));
  if (!fsfd) return ErrnoError(absl::StrCat(where, ": fsopen ", Quote(type)));
  auto fail = [&](const std::string& step) {
    int err = errno;
    std::string detail = FsContextMessage(fsfd.get());
    return ErrnoError(err, absl::StrCat(where, ": ", step, detail.empty() ? "" : " (", detail,
                                        detail.empty() ? "" : ")"));
  };
  if (!source.empty() &&
      fsconfig(fsfd.get(), FSCONFIG_SET_STRING, "source", source.c_str(), 0) != 0) {
    return fail("set source");
  }
  for (const std::string& flag : o.sb_flags) {
    if (fsconfig(fsfd.get(), FSCONFIG_SET_FLAG, flag.c_str(), nullptr, 0) != 0) {
      return fail(absl::StrCat("option ", Quote(flag)));
    }
  }
  for (const auto& [key, value] : o.data) {
    int rc = value.empty() && key.find('=') == std::string::npos
                 ? fsconfig(fsfd.get(), FSCONFIG_SET_FLAG, key.c_str(), nullptr, 0)
                 : fsconfig(fsfd.get(), FSCONFIG_SET_STRING, key.c_str(), value.c_str(), 0);
    if (rc != 0) {
      return fail(absl::StrCat("option ", Quote(value.empty() ? key : key + "=" + value)));
    }
  }
  if (fsconfig(fsfd.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) {
    return fail("create filesystem");
  }
  UniqueFd mnt(fsmount(fsfd.get(), FSMOUNT_CLOEXEC, 0));
  if (!mnt) return fail("fsmount");
  return mnt;
}

unsigned BindTreeFlags(const MountOptions& o) {
  return OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (o.recursive ? AT_RECURSIVE : 0);
}

bool IsProcfs(int fd) {
  struct statfs fs;
  return fstatfs(fd, &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC;
}

absl::StatusOr<UniqueFd> Target(int root_fd, const MountPlan& plan) {
  InRootOptions opts{.no_symlinks = plan.no_symlinks};
  auto target = plan.source_is_dir ? MkdirAllInRoot(root_fd, plan.destination, 0755, opts)
                                   : EnsureFileInRoot(root_fd, plan.destination, 0644, opts);
  // S-04: proc and sysfs only ever go on a real directory; say it as runc does (its
  // "must be mounted on ordinary directory" is what users and tests match).
  std::optional<int> err = target.ok() ? std::nullopt : StatusErrno(target.status());
  if ((plan.type == "proc" || plan.type == "sysfs") && (err == ELOOP || err == ENOTDIR)) {
    return ErrnoError(*err, absl::StrCat(Where(plan), ": filesystem ", Quote(plan.type),
                                         " must be mounted on ordinary directory"));
  }
  return target;
}

absl::Status MountCgroups(int root_fd, const MountPlan& plan, int target_fd,
                          const std::vector<CgroupMountSource>& cgroups, bool cgroupns) {
  std::string where = Where(plan);
  // Pure v2 host: one cgroup2 mount (fresh in a cgroup namespace, else a bind).
  if (cgroups.size() == 1 && cgroups[0].unified) {
    MountOptions o = plan.options;
    o.data.clear();
    UniqueFd mnt;
    if (cgroupns) {
      ASSIGN_OR_RETURN(mnt, NewFilesystem("cgroup2", "cgroup", o, where));
    } else {
      mnt.Reset(open_tree(AT_FDCWD, cgroups[0].host_dir.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
      if (!mnt) return ErrnoError(absl::StrCat(where, ": open_tree ", Quote(cgroups[0].host_dir)));
    }
    RETURN_IF_ERROR(SetAttrs(mnt.get(), o, where));
    return Attach(mnt.get(), target_fd, where);
  }
  // v1 / hybrid: a tmpfs holding one directory per hierarchy, read-only at the end.
  MountOptions tmpfs_opts;
  tmpfs_opts.data = {{"mode", "755"}};
  tmpfs_opts.attr_set = plan.options.attr_set & ~static_cast<uint64_t>(MOUNT_ATTR_RDONLY);
  tmpfs_opts.attr_clr = plan.options.attr_clr;
  ASSIGN_OR_RETURN(UniqueFd tmpfs, NewFilesystem("tmpfs", "tmpfs", tmpfs_opts, where));
  RETURN_IF_ERROR(SetAttrs(tmpfs.get(), tmpfs_opts, where));
  RETURN_IF_ERROR(Attach(tmpfs.get(), target_fd, where));
  for (const CgroupMountSource& cg : cgroups) {
    if (cg.unified) continue;  // hybrid: like runc, only the v1 hierarchies are shown
    std::string dest = absl::StrCat(plan.destination, "/", cg.name);
    std::string sub_where = absl::StrCat("mount cgroup ", Quote(cg.name), " on ", Quote(dest));
    ASSIGN_OR_RETURN(UniqueFd dir, MkdirAllInRoot(root_fd, dest, 0755, {.no_symlinks = true}));
    UniqueFd mnt;
    if (cgroupns) {
      MountOptions o;
      for (const std::string& c : cg.controllers) {
        if (c.rfind("name=", 0) == 0) {
          o.data.emplace_back("name", c.substr(5));
          o.data.emplace_back("none", "");
        } else {
          o.data.emplace_back(c, "");
        }
      }
      ASSIGN_OR_RETURN(mnt, NewFilesystem("cgroup", "cgroup", o, sub_where));
    } else {
      mnt.Reset(open_tree(AT_FDCWD, cg.host_dir.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
      if (!mnt) return ErrnoError(absl::StrCat(sub_where, ": open_tree ", Quote(cg.host_dir)));
    }
    MountOptions attrs;
    attrs.attr_set = plan.options.attr_set;
    attrs.attr_clr = plan.options.attr_clr;
    RETURN_IF_ERROR(SetAttrs(mnt.get(), attrs, sub_where));
    RETURN_IF_ERROR(Attach(mnt.get(), dir.get(), sub_where));
  }
  if (plan.options.attr_set & MOUNT_ATTR_RDONLY) {
    if (sys::MountSetattr(tmpfs.get(), "", AT_EMPTY_PATH, MOUNT_ATTR_RDONLY, 0, 0) != 0) {
      return ErrnoError(absl::StrCat(where, ": make read-only"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ApplyMount(int root_fd, const MountPlan& plan,
                        const std::vector<CgroupMountSource>& cgroups, bool cgroupns) {
  std::string where = Where(plan);
  ASSIGN_OR_RETURN(UniqueFd target, Target(root_fd, plan));
  if (plan.type == "cgroup" || plan.type == "cgroup2") {
    return MountCgroups(root_fd, plan, target.get(), cgroups, cgroupns);
  }
  UniqueFd opened;
  int mnt = plan.source_tree.get();  // binds in a user namespace: cloned by the parent
  if (!plan.options.bind) {
    ASSIGN_OR_RETURN(opened, NewFilesystem(plan.type, plan.source, plan.options, where));
    mnt = opened.get();
  } else if (mnt < 0) {
    opened.Reset(open_tree(AT_FDCWD, plan.source.c_str(), BindTreeFlags(plan.options)));
    if (!opened) return ErrnoError(where);
    mnt = opened.get();
  }
  if (plan.destination == "/proc" && plan.options.bind && !IsProcfs(mnt)) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": it is not of type proc (S-03: only procfs goes on /proc)"));
  }
  RETURN_IF_ERROR(SetAttrs(mnt, plan.options, where));
  if (plan.options.idmap) {
    unsigned flags = AT_EMPTY_PATH | (plan.options.idmap_recursive ? AT_RECURSIVE : 0);
    if (sys::MountSetattr(mnt, "", flags, MOUNT_ATTR_IDMAP, 0, 0, plan.userns_fd) != 0) {
      return ErrnoError(absl::StrCat(where, ": idmap"));
    }
  }
  RETURN_IF_ERROR(SetPropagation(mnt, plan.options, where));
  return Attach(mnt, target.get(), where);
}

absl::Status BindFd(int source_fd, int target_fd, bool recursive, uint64_t attr_set,
                    absl::string_view what) {
  unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
  UniqueFd mnt(open_tree(source_fd, "", flags));
  if (!mnt) return ErrnoError(what);
  if (attr_set != 0 && sys::MountSetattr(mnt.get(), "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0),
                                         attr_set, 0, 0) != 0) {
    return ErrnoError(what);
  }
  if (move_mount(mnt.get(), "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0) {
    return ErrnoError(what);
  }
  return absl::OkStatus();
}

namespace {
// security-bar.md S-03 (CVE-2019-16884): anything mounted on /proc must be procfs, and
// nothing may be mounted inside it (LSM labels, sysctls and /proc/self/fd are used
// through it) except the files lxcfs-style tools override, as runc allows.
absl::Status CheckProcMount(const MountPlan& plan, const std::string& pointer) {
  static const char* kAllowedInsideProc[] = {
      "/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo",  "/proc/stat",
      "/proc/swaps",   "/proc/uptime",    "/proc/loadavg",  "/proc/slabinfo",
      "/proc/sys/kernel/ns_last_pid",     "/proc/sys/crypto/fips_enabled",
  };
  const std::string& dest = plan.destination;
  if (dest == "/proc") {
    // A bind of a real procfs is allowed (runc too). Checked here for an early error and
    // again by ApplyMount on the very tree it attaches.
    struct statfs fs;
    bool procfs_bind =
        plan.options.bind && (plan.source_tree ? IsProcfs(plan.source_tree.get())
                                               : statfs(plan.source.c_str(), &fs) == 0 &&
                                                     fs.f_type == PROC_SUPER_MAGIC);
    if (plan.type != "proc" && !procfs_bind) {
      return absl::InvalidArgumentError(absl::StrCat(
          pointer, ": ", Quote(dest), " cannot be mounted: it is not of type proc"));
    }
    return absl::OkStatus();
  }
  if (dest.rfind("/proc/", 0) != 0) return absl::OkStatus();
  for (const char* allowed : kAllowedInsideProc) {
    if (dest == allowed) return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat(pointer, ": ", Quote(dest), " cannot be mounted: it is inside /proc"));
}
}  // namespace

namespace {
// config.md passes options the runtime does not know to mount(2) as data, and runc does
// so for binds too; but MS_BIND ignores the data argument (and a bind remount only
// changes per-mount flags), so such options never reach a filesystem. Say so once.
void WarnIgnoredBindOptions(MountPlan& plan, const std::string& pointer,
                            std::vector<std::string>* warnings) {
  std::vector<std::string> ignored = plan.options.sb_flags;
  for (const auto& [key, value] : plan.options.data) {
    ignored.push_back(value.empty() ? key : absl::StrCat(key, "=", value));
  }
  if (ignored.empty()) return;
  warnings->push_back(absl::StrCat(pointer, "/options: ", absl::StrJoin(ignored, ","),
                                   " ignored: a bind mount takes no filesystem options "
                                   "(the kernel ignores mount data with MS_BIND)"));
  plan.options.sb_flags.clear();
  plan.options.data.clear();
}
}  // namespace

absl::StatusOr<std::vector<MountPlan>> PlanMounts(const spec::Config& config,
                                                  const std::string& bundle,
                                                  bool open_bind_sources,
                                                  std::vector<std::string>* warnings) {
  std::vector<MountPlan> plans;
  for (size_t i = 0; i < config.mounts.size(); ++i) {
    const spec::Mount& m = config.mounts[i];
    std::string pointer = absl::StrCat("mounts/", i);
    MountPlan plan;
    plan.index = static_cast<int>(i);
    plan.destination = CleanPath(m.destination);
    plan.type = m.type.value_or("");
    auto options = ParseMountOptions(m.options);
    if (!options.ok()) return Annotate(options.status(), absl::StrCat(pointer, "/options"));
    plan.options = *std::move(options);
    if (plan.type == "bind") plan.options.bind = true;
    if (plan.options.bind) {
      if (!m.source || m.source->empty()) {
        return absl::InvalidArgumentError(absl::StrCat(pointer, "/source: required for a bind mount"));
      }
      plan.source = m.source->front() == '/' ? CleanPath(*m.source)
                                              : CleanPath(absl::StrCat(bundle, "/", *m.source));
      if (open_bind_sources) {
        plan.source_tree.Reset(open_tree(AT_FDCWD, plan.source.c_str(), BindTreeFlags(plan.options)));
        if (!plan.source_tree) {
          return ErrnoError(absl::StrCat(pointer, "/source: open ", Quote(plan.source)));
        }
      }
      struct stat st;
      if ((plan.source_tree ? fstat(plan.source_tree.get(), &st)
                            : stat(plan.source.c_str(), &st)) != 0) {
        return ErrnoError(absl::StrCat(pointer, "/source: stat ", Quote(plan.source)));
      }
      plan.source_is_dir = S_ISDIR(st.st_mode);
      WarnIgnoredBindOptions(plan, pointer, warnings);
    } else {
      if (plan.type.empty()) {
        return absl::InvalidArgumentError(absl::StrCat(pointer, "/type: required unless the mount is a bind mount"));
      }
      plan.source = m.source.value_or("");
    }
    RETURN_IF_ERROR(CheckProcMount(plan, pointer));
    // A read-only /dev is made read-only once populated: nodes, /dev/pts, the console.
    if (plan.destination == "/dev") {
      if (plan.options.attr_set & MOUNT_ATTR_RDONLY) {
        plan.options.attr_set &= ~static_cast<uint64_t>(MOUNT_ATTR_RDONLY);
        plan.readonly_after_setup = true;
      }
      if (plan.options.rec_attr_set & MOUNT_ATTR_RDONLY) {
        plan.options.rec_attr_set &= ~static_cast<uint64_t>(MOUNT_ATTR_RDONLY);
        plan.readonly_after_setup = plan.readonly_after_setup_recursive = true;
      }
    }
    if (plan.type == "proc" || plan.type == "sysfs") plan.no_symlinks = true;
    if (plan.destination == "/dev") plan.no_symlinks = true;
    if (!m.uid_mappings.empty() || !m.gid_mappings.empty()) plan.options.idmap = true;
    if (plan.options.idmap && !plan.options.bind) {
      return absl::InvalidArgumentError(absl::StrCat(pointer, ": idmapped mounts must be bind mounts"));
    }
    plans.push_back(std::move(plan));
  }
  return plans;
}

}  // namespace husk::kernel
