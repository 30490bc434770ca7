#include "runtime/kernel/rootfs.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "runtime/base/fs.h"
#include "runtime/base/status.h"
#include "runtime/base/syscalls.h"
#include "runtime/kernel/mounts.h"

namespace husk::kernel {

namespace {

// The root of the mount that holds `path` (mount_setattr only accepts a mount's root):
// walks up through ".." from an fd until statx reports a mount root.
absl::StatusOr<UniqueFd> MountRootOf(const std::string& path) {
  UniqueFd cur(open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!cur) return ErrnoError(absl::StrCat("open rootfs ", Quote(path)));
  for (int depth = 0; depth < 4096; ++depth) {
    struct statx stx = {};
    if (statx(cur.get(), "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_INO, &stx) != 0) {
      return ErrnoError(absl::StrCat("statx in ", Quote(path)));
    }
    if (!(stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)) {
      return ErrnoError(ENOTSUP, "statx: no mount root attribute");
    }
    if (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) return cur;
    UniqueFd parent(openat(cur.get(), "..", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!parent) return ErrnoError(absl::StrCat("open parent in ", Quote(path)));
    cur = std::move(parent);
  }
  return ErrnoError(ELOOP, absl::StrCat("find the mount holding ", Quote(path)));
}

}  // namespace

absl::StatusOr<UniqueFd> PrepareRoot(const std::string& rootfs, unsigned long propagation) {
  unsigned long flags = (propagation != 0 ? propagation : MS_SLAVE) | MS_REC;
  if (mount(nullptr, "/", nullptr, flags, nullptr) != 0) {
    return ErrnoError("make \"/\" a private propagation domain");
  }
  // With "/" made shared, the mount holding the rootfs must be private (runc's
  // rootfsParentMountPrivate): a bind onto it would propagate to its peers on the host,
  // and pivot_root refuses a shared parent of the new root. An unbindable one cannot be
  // bind-mounted at all. A slave (the default) stays a slave: making it private would
  // cut the container off from the host's mount events that rootfsPropagation asked for.
  bool make_private = (flags & (MS_SHARED | MS_UNBINDABLE)) != 0;
  if (make_private) {
    auto holder = MountRootOf(rootfs);
    if (!holder.ok()) return holder.status();
    if (sys::MountSetattr(holder->get(), "", AT_EMPTY_PATH, 0, 0, MS_PRIVATE) != 0) {
      return ErrnoError(absl::StrCat("make the mount holding rootfs ", Quote(rootfs), " private"));
    }
  }
  // The rootfs gets its own mount (pivot_root needs a mount point); the requested
  // propagation is applied to the new "/" after the switch (SetRootPropagation).
  if (mount(rootfs.c_str(), rootfs.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
    return ErrnoError(absl::StrCat("bind mount rootfs ", Quote(rootfs)));
  }
  if (make_private && mount(nullptr, rootfs.c_str(), nullptr, MS_PRIVATE, nullptr) != 0) {
    return ErrnoError(absl::StrCat("make rootfs ", Quote(rootfs), " private"));
  }
  UniqueFd fd(open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return ErrnoError(absl::StrCat("open rootfs ", Quote(rootfs)));
  return fd;
}

namespace {
// S-20 for --no-pivot: detach (or, failing that, cover with an empty tmpfs) every proc
// and sysfs mount that is not inside the rootfs.
absl::Status HideHostProcAndSys(const std::string& rootfs) {
  ASSIGN_OR_RETURN(std::string info, ReadFile("/proc/self/mountinfo", 4 << 20));
  std::vector<std::string> targets;
  for (absl::string_view line : absl::StrSplit(info, '\n', absl::SkipEmpty())) {
    size_t dash = line.find(" - ");
    if (dash == absl::string_view::npos) continue;
    std::vector<absl::string_view> f = absl::StrSplit(line.substr(0, dash), ' ');
    std::vector<absl::string_view> g = absl::StrSplit(line.substr(dash + 3), ' ');
    if (f.size() < 5 || g.empty() || (g[0] != "proc" && g[0] != "sysfs")) continue;
    std::string point(f[4]);
    bool inside = point == rootfs || (point.size() > rootfs.size() &&
                                      point.compare(0, rootfs.size(), rootfs) == 0 &&
                                      point[rootfs.size()] == '/');
    if (!inside) targets.push_back(point);
  }
  for (const std::string& point : targets) {
    if (umount2(point.c_str(), MNT_DETACH) == 0 || errno == EINVAL || errno == ENOENT) continue;
    if (mount("tmpfs", point.c_str(), "tmpfs", MS_RDONLY, "size=0") != 0) {
      return ErrnoError(absl::StrCat("hide host mount ", Quote(point)));
    }
  }
  return absl::OkStatus();
}
}  // namespace

absl::Status EnterRoot(int root_fd, const std::string& rootfs, bool no_pivot) {
  if (no_pivot) RETURN_IF_ERROR(HideHostProcAndSys(rootfs));
  if (fchdir(root_fd) != 0) return ErrnoError("chdir to rootfs");
  if (no_pivot) {
    if (mount(".", "/", nullptr, MS_MOVE, nullptr) != 0) return ErrnoError("move rootfs to \"/\"");
    if (chroot(".") != 0) return ErrnoError("chroot");
  } else {
    // pivot_root(".", ".") stacks the old root on top of the new one; detaching "."
    // then removes it without needing a directory for it inside the container.
    // The old root is reached through an fd opened before: mount(2) on "." resolves to
    // the new root (a trailing "." does not cross the mount stacked on it), and an
    // rslave there would undo the propagation of every configured mount.
    UniqueFd old_root(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!old_root) return ErrnoError("open old root");
    if (sys::PivotRoot(".", ".") != 0) return ErrnoError("pivot_root");
    if (sys::MountSetattr(old_root.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, 0, 0, MS_SLAVE) != 0) {
      return ErrnoError("make old root a slave");
    }
    if (umount2(".", MNT_DETACH) != 0) return ErrnoError("detach old root");
  }
  if (chdir("/") != 0) return ErrnoError("chdir \"/\"");
  return absl::OkStatus();
}

absl::Status SetRootPropagation(unsigned long propagation, bool recursive) {
  if (mount(nullptr, "/", nullptr, propagation | (recursive ? MS_REC : 0), nullptr) != 0) {
    return ErrnoError("set propagation of \"/\"");
  }
  return absl::OkStatus();
}

namespace {
absl::StatusOr<UniqueFd> RootFd() {
  UniqueFd root(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return ErrnoError("open \"/\"");
  return root;
}

// Opens the final object of `path` without following a final symlink; NotFound if absent.
absl::StatusOr<UniqueFd> OpenNoFollow(int root_fd, const std::string& path) {
  int fd = sys::Openat2(root_fd, path.c_str() + (path[0] == '/' ? 1 : 0),
                        O_PATH | O_NOFOLLOW | O_CLOEXEC, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  if (fd < 0) return ErrnoError(absl::StrCat("open ", Quote(path)));
  return UniqueFd(fd);
}
}  // namespace

absl::Status MaskPaths(const std::vector<std::string>& paths) {
  if (paths.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(UniqueFd root, RootFd());
  UniqueFd null_fd;
  for (const std::string& path : paths) {
    auto target = OpenNoFollow(root.get(), path);
    if (!target.ok()) {
      if (StatusErrno(target.status()) == ENOENT) continue;
      return Annotate(target.status(), "mask path");
    }
    struct stat st;
    if (fstat(target->get(), &st) != 0) return ErrnoError(absl::StrCat("stat ", Quote(path)));
    std::string what = absl::StrCat("mask ", Quote(path));
    if (S_ISLNK(st.st_mode)) continue;  // a symlink is not followed; its target is masked by name
    if (S_ISDIR(st.st_mode)) {
      UniqueFd fsfd(fsopen("tmpfs", FSOPEN_CLOEXEC));
      if (!fsfd || fsconfig(fsfd.get(), FSCONFIG_SET_STRING, "source", "tmpfs", 0) != 0 ||
          fsconfig(fsfd.get(), FSCONFIG_SET_STRING, "size", "0", 0) != 0 ||
          fsconfig(fsfd.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) {
        return ErrnoError(what);
      }
      UniqueFd mnt(fsmount(fsfd.get(), FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY));
      if (!mnt || move_mount(mnt.get(), "", target->get(), "",
                             MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0) {
        return ErrnoError(what);
      }
      continue;
    }
    if (!null_fd) {
      null_fd.Reset(open("/dev/null", O_PATH | O_NOFOLLOW | O_CLOEXEC));
      struct stat ns;
      if (!null_fd || fstat(null_fd.get(), &ns) != 0) return ErrnoError("open \"/dev/null\"");
      if (!S_ISCHR(ns.st_mode) || major(ns.st_rdev) != 1 || minor(ns.st_rdev) != 3) {
        return absl::PermissionDeniedError(
            "mask paths: \"/dev/null\" in the container is not the null device");
      }
    }
    RETURN_IF_ERROR(BindFd(null_fd.get(), target->get(), false, 0, what));
  }
  return absl::OkStatus();
}

absl::Status ReadonlyPaths(const std::vector<std::string>& paths) {
  if (paths.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(UniqueFd root, RootFd());
  for (const std::string& path : paths) {
    auto target = OpenNoFollow(root.get(), path);
    if (!target.ok()) {
      if (StatusErrno(target.status()) == ENOENT) continue;
      return Annotate(target.status(), "readonly path");
    }
    RETURN_IF_ERROR(BindFd(target->get(), target->get(), true,
                           MOUNT_ATTR_RDONLY,
                           absl::StrCat("make ", Quote(path), " read-only")));
  }
  return absl::OkStatus();
}

absl::Status RemountReadonly(const std::string& path, bool recursive) {
  ASSIGN_OR_RETURN(UniqueFd target, RootFd());
  if (path != "/") {
    ASSIGN_OR_RETURN(target, OpenNoFollow(target.get(), path));
  }
  if (sys::MountSetattr(target.get(), "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0),
                        MOUNT_ATTR_RDONLY, 0, 0) != 0) {
    return ErrnoError(absl::StrCat("make ", Quote(path), " read-only"));
  }
  return absl::OkStatus();
}

}  // namespace husk::kernel
