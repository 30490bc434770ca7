#include "runtime/process/sealed_exe.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "runtime/base/status.h"
#include "runtime/base/unique_fd.h"

extern char** environ;

namespace husk::process {
namespace {
constexpr int kSeals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
}  // namespace

namespace {

// A read-only overlayfs view of the directory holding husk, on a detached mount: no
// copy of the binary, and the file it gives cannot be opened for writing by anyone
// (overlayfs without an upper layer never writes to its lower ones). overlayfs wants
// two lower layers without an upper one: the second is an empty detached tmpfs.
absl::StatusOr<UniqueFd> OverlayView(int exe_fd) {
  char path[4096];
  ssize_t n = readlink(absl::StrCat("/proc/self/fd/", exe_fd).c_str(), path, sizeof(path) - 1);
  if (n <= 0 || path[0] != '/') return absl::UnavailableError("husk binary has no path");
  std::string exe(path, static_cast<size_t>(n));
  size_t slash = exe.rfind('/');
  std::string dir = slash == 0 ? "/" : exe.substr(0, slash);
  std::string name = exe.substr(slash + 1);
  if (dir.find_first_of(":,\\") != std::string::npos) {
    return absl::UnavailableError("husk's directory cannot be an overlay layer");
  }
  UniqueFd tmpfs_ctx(fsopen("tmpfs", FSOPEN_CLOEXEC));
  if (!tmpfs_ctx || fsconfig(tmpfs_ctx.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) {
    return ErrnoError("empty layer for the husk overlay");
  }
  UniqueFd empty(fsmount(tmpfs_ctx.get(), FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY));
  if (!empty) return ErrnoError("empty layer for the husk overlay");
  UniqueFd ctx(fsopen("overlay", FSOPEN_CLOEXEC));
  if (!ctx) return ErrnoError("fsopen overlay");
  std::string lower = absl::StrCat(dir, ":/proc/self/fd/", empty.get());
  if (fsconfig(ctx.get(), FSCONFIG_SET_STRING, "lowerdir", lower.c_str(), 0) != 0 ||
      fsconfig(ctx.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) {
    return ErrnoError("create husk overlay");
  }
  UniqueFd mnt(fsmount(ctx.get(), FSMOUNT_CLOEXEC,
                       MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV));
  if (!mnt) return ErrnoError("mount husk overlay");
  UniqueFd view(openat(mnt.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!view) return ErrnoError("open husk in its overlay");
  return view;
}

}  // namespace

absl::Status EnsureSealedExe(char** argv) {
  UniqueFd exe(open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  if (!exe) return ErrnoError("open /proc/self/exe");
  int seals = fcntl(exe.get(), F_GET_SEALS);
  if (seals >= 0 && (seals & kSeals) == kSeals) return absl::OkStatus();
  struct statvfs vfs;
  if (fstatvfs(exe.get(), &vfs) == 0 && (vfs.f_flag & ST_RDONLY)) return absl::OkStatus();
  // Preferred: re-exec through a read-only overlay view (no copy). Fallback: a sealed
  // memfd copy, e.g. where overlayfs is unavailable.
  if (auto view = OverlayView(exe.get()); view.ok()) {
    syscall(SYS_execveat, view->get(), "", argv, environ, AT_EMPTY_PATH);
  }
  struct stat st;
  if (fstat(exe.get(), &st) != 0) return ErrnoError("stat /proc/self/exe");
  // MFD_EXEC: kernels with vm.memfd_noexec would otherwise make the copy non-executable.
  UniqueFd mem(memfd_create("husk", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC));
  if (!mem && errno == EINVAL) mem.Reset(memfd_create("husk", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!mem) return ErrnoError("memfd_create for the sealed husk copy");
  off_t offset = 0;
  while (offset < st.st_size) {
    ssize_t n = sendfile(mem.get(), exe.get(), &offset, static_cast<size_t>(st.st_size - offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ErrnoError("copy husk into memfd");
  }
  if (fcntl(mem.get(), F_ADD_SEALS, kSeals) != 0) return ErrnoError("seal husk memfd");
  fexecve(mem.get(), argv, environ);
  return ErrnoError("re-exec husk from sealed memfd");
}

}  // namespace husk::process
