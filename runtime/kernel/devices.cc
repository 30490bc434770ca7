#include "runtime/kernel/devices.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "runtime/base/fs.h"
#include "runtime/base/status.h"
#include "runtime/kernel/mounts.h"

namespace husk::kernel {

absl::StatusOr<DevSetup> PlanDevices(const spec::Config& config) {
  DevSetup setup;
  for (const spec::Mount& m : config.mounts) {
    std::string dest = CleanPath(m.destination);
    bool bind = m.type == "bind";
    for (const std::string& o : m.options) bind = bind || o == "bind" || o == "rbind";
    if (dest == "/dev" && bind) setup.setup_dev = false;
    if (dest == "/dev/pts" && m.type == "devpts") setup.ptmx_symlink = true;
  }
  // The spec's default devices (config-linux.md "Default Devices").
  const struct { const char* path; unsigned major, minor; } kDefaults[] = {
      {"/dev/null", 1, 3},   {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
      {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
  };
  std::vector<DevicePlan> configured;
  if (config.linux_config) {
    for (size_t i = 0; i < config.linux_config->devices.size(); ++i) {
      const spec::Device& d = config.linux_config->devices[i];
      DevicePlan p;
      p.path = CleanPath(d.path);
      if (d.type == "c" || d.type == "u") p.type = S_IFCHR;
      else if (d.type == "b") p.type = S_IFBLK;
      else if (d.type == "p") p.type = S_IFIFO;
      else return absl::InvalidArgumentError(absl::StrCat("linux/devices/", i, "/type: unknown device type ", Quote(d.type)));
      p.major = static_cast<unsigned>(d.major.value_or(0));
      p.minor = static_cast<unsigned>(d.minor.value_or(0));
      p.mode = d.file_mode.value_or(0666) & 07777;
      p.uid = d.uid.value_or(0);
      p.gid = d.gid.value_or(0);
      p.index = static_cast<int>(i);
      configured.push_back(p);
    }
  }
  if (setup.setup_dev) {
    for (const auto& d : kDefaults) {
      bool overridden = false;
      for (const DevicePlan& c : configured) overridden = overridden || c.path == d.path;
      if (!overridden) setup.devices.push_back({d.path, S_IFCHR, d.major, d.minor, 0666, 0, 0});
    }
  }
  for (DevicePlan& c : configured) setup.devices.push_back(std::move(c));
  return setup;
}

namespace {

absl::Status MakeNode(int root_fd, const DevicePlan& d, bool bind_host_nodes) {
  std::string parent = d.path.substr(0, d.path.rfind('/'));
  std::string name = d.path.substr(d.path.rfind('/') + 1);
  ASSIGN_OR_RETURN(UniqueFd dir_path, MkdirAllInRoot(root_fd, parent.empty() ? "/" : parent, 0755,
                                                     {.no_symlinks = true}));
  UniqueFd dir(openat(dir_path.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return ErrnoError(absl::StrCat("open ", Quote(parent)));
  std::string what = absl::StrCat("create device ", Quote(d.path));
  if (bind_host_nodes && d.type != S_IFIFO) {
    ASSIGN_OR_RETURN(UniqueFd target, EnsureFileInRoot(root_fd, d.path, 0644, {.no_symlinks = true}));
    UniqueFd host(open(d.path.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!host) return ErrnoError(absl::StrCat(what, ": open host node"));
    return BindFd(host.get(), target.get(), false, 0, what);
  }
  struct stat st;
  if (fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if ((st.st_mode & S_IFMT) == d.type && st.st_rdev == makedev(d.major, d.minor)) {
      // already the right node (an image that ships /dev): just fix owner and mode below
    } else if (d.index >= 0) {
      // config-linux.md "devices": a file at path that does not match MUST be an error.
      return ErrnoError(EEXIST, absl::StrCat("linux/devices/", d.index, "/path: ", what,
                                             ": a different file exists there"));
    } else if (unlinkat(dir.get(), name.c_str(), 0) != 0) {
      return ErrnoError(absl::StrCat(what, ": remove existing"));
    }
  }
  if (mknodat(dir.get(), name.c_str(), d.type | d.mode, makedev(d.major, d.minor)) != 0 &&
      errno != EEXIST) {
    return ErrnoError(what);
  }
  // Owner and mode are set through an fd of the node itself, checked to be the node we
  // made: the rootfs may be shared with a running container that swaps the name for a
  // symlink to a host file in between (we are still below the host root here).
  UniqueFd node(openat(dir.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!node) return ErrnoError(absl::StrCat(what, ": open"));
  if (fstat(node.get(), &st) != 0) return ErrnoError(absl::StrCat(what, ": stat"));
  if ((st.st_mode & S_IFMT) != d.type ||
      (d.type != S_IFIFO && st.st_rdev != makedev(d.major, d.minor))) {
    return ErrnoError(EEXIST, absl::StrCat(what, ": the node was replaced while being made"));
  }
  if (fchownat(node.get(), "", d.uid, d.gid, AT_EMPTY_PATH) != 0) {
    return ErrnoError(absl::StrCat(what, ": chown"));
  }
  // mknod honours the umask; set the exact mode on the same inode via its fd.
  if (chmod(absl::StrCat("/proc/self/fd/", node.get()).c_str(), d.mode) != 0) {
    return ErrnoError(absl::StrCat(what, ": chmod"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ApplyDevices(int root_fd, const DevSetup& setup, bool bind_host_nodes) {
  for (const DevicePlan& d : setup.devices) RETURN_IF_ERROR(MakeNode(root_fd, d, bind_host_nodes));
  if (!setup.setup_dev) return absl::OkStatus();
  ASSIGN_OR_RETURN(UniqueFd dev_path, MkdirAllInRoot(root_fd, "/dev", 0755, {.no_symlinks = true}));
  UniqueFd dev(openat(dev_path.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dev) return ErrnoError("open \"/dev\"");
  const struct { const char* target; const char* name; } kLinks[] = {
      {"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"},
      {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"},
  };
  for (const auto& l : kLinks) {
    if (symlinkat(l.target, dev.get(), l.name) != 0 && errno != EEXIST) {
      return ErrnoError(absl::StrCat("symlink ", Quote(l.target), " to /dev/", l.name));
    }
  }
  if (access("/proc/kcore", F_OK) == 0 && symlinkat("/proc/kcore", dev.get(), "core") != 0 &&
      errno != EEXIST) {
    return ErrnoError("symlink /dev/core");
  }
  if (setup.ptmx_symlink) {
    if (unlinkat(dev.get(), "ptmx", 0) != 0 && errno != ENOENT) return ErrnoError("remove /dev/ptmx");
    if (symlinkat("pts/ptmx", dev.get(), "ptmx") != 0) return ErrnoError("symlink /dev/ptmx");
  }
  return absl::OkStatus();
}

}  // namespace husk::kernel
