// File helpers: bounded reads, single-write writes for /proc and cgroup files, atomic
// replace (pid file), lexical path cleaning, and resolution of paths INSIDE an untrusted
// root to fds (openat2 RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS; design.md §5): callers then
// act only on the fd. Both processes (the child uses the in-root helpers before pivot_root).
#ifndef HUSK_RUNTIME_BASE_FS_H_
#define HUSK_RUNTIME_BASE_FS_H_

#include <sys/types.h>

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/base/unique_fd.h"

namespace husk {

absl::StatusOr<std::string> ReadFileAt(int dirfd, const std::string& path,
                                       size_t limit = 1 << 20);
inline absl::StatusOr<std::string> ReadFile(const std::string& path, size_t limit = 1 << 20) {
  return ReadFileAt(-100 /* AT_FDCWD */, path, limit);
}
// open(O_WRONLY|O_CLOEXEC) + one write(2): what /proc and cgroup files expect.
absl::Status WriteFileAt(int dirfd, const std::string& path, absl::string_view content);
// Writes `.<basename>` next to `path` (O_EXCL), fsyncs it and renames it over `path`.
absl::Status WriteFileAtomic(const std::string& path, absl::string_view content, mode_t mode);

// Lexically cleaned absolute-or-relative path: no "//", "." or trailing "/"; ".." kept
// only where it cannot be folded (leading in a relative path; dropped at "/").
std::string CleanPath(absl::string_view path);
// `path` made absolute against the current directory (then cleaned).
absl::StatusOr<std::string> AbsolutePath(absl::string_view path);

struct InRootOptions {
  bool no_symlinks = false;  // refuse any symlink on the way (RESOLVE_NO_SYMLINKS)
};
// Opens `path` (absolute or relative, taken as inside the root) below `root_fd`.
absl::StatusOr<UniqueFd> OpenInRoot(int root_fd, absl::string_view path, int flags,
                                    InRootOptions options = {});
// mkdir -p inside the root without ever leaving it; returns an O_PATH|O_DIRECTORY fd of the
// final directory. Existing symlinks are followed inside the root unless no_symlinks.
absl::StatusOr<UniqueFd> MkdirAllInRoot(int root_fd, absl::string_view path, mode_t mode,
                                        InRootOptions options = {});
// Makes sure a non-directory exists at `path` (creating parents and an empty regular file
// if needed, never following a final symlink) and returns an O_PATH fd to it.
absl::StatusOr<UniqueFd> EnsureFileInRoot(int root_fd, absl::string_view path, mode_t mode,
                                          InRootOptions options = {});

}  // namespace husk

#endif  // HUSK_RUNTIME_BASE_FS_H_
