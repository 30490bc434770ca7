#include "runtime/process/sealed_exe.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

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

bool ExeIsSealed() {
  UniqueFd exe(open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  if (!exe) return false;
  int seals = fcntl(exe.get(), F_GET_SEALS);
  return seals >= 0 && (seals & kSeals) == kSeals;
}

absl::Status EnsureSealedExe(char** argv) {
  UniqueFd exe(open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  if (!exe) return ErrnoError("open /proc/self/exe");
  int seals = fcntl(exe.get(), F_GET_SEALS);
  if (seals >= 0 && (seals & kSeals) == kSeals) return absl::OkStatus();
  struct statvfs vfs;
  if (fstatvfs(exe.get(), &vfs) == 0 && (vfs.f_flag & ST_RDONLY)) return absl::OkStatus();
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
