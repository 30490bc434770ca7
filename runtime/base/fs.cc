#include "runtime/base/fs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <deque>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "runtime/base/status.h"
#include "runtime/base/syscalls.h"

namespace husk {

absl::StatusOr<std::string> ReadFileAt(int dirfd, const std::string& path, size_t limit) {
  UniqueFd fd(openat(dirfd, path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return ErrnoError(absl::StrCat("open ", Quote(path)));
  std::string out;
  char buf[8192];
  while (true) {
    ssize_t n = read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(absl::StrCat("read ", Quote(path)));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > limit) {
      return absl::InvalidArgumentError(
          absl::StrCat("read ", Quote(path), ": larger than ", limit, " bytes"));
    }
  }
  return out;
}

absl::Status WriteFileAt(int dirfd, const std::string& path, absl::string_view content) {
  UniqueFd fd(openat(dirfd, path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return ErrnoError(absl::StrCat("open ", Quote(path)));
  ssize_t n = write(fd.get(), content.data(), content.size());
  if (n < 0) return ErrnoError(absl::StrCat("write ", Quote(path)));
  if (static_cast<size_t>(n) != content.size()) {
    return absl::InternalError(absl::StrCat("write ", Quote(path), ": short write"));
  }
  return absl::OkStatus();
}

absl::Status WriteFileAtomic(const std::string& path, absl::string_view content, mode_t mode) {
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  std::string tmp = absl::StrCat(dir == "." ? "" : dir, ".", base);
  UniqueFd fd(open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (!fd && errno == EEXIST) {  // a stale temp file from a crashed writer
    unlink(tmp.c_str());
    fd.Reset(open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  }
  if (!fd) return ErrnoError(absl::StrCat("create ", Quote(tmp)));
  if (write(fd.get(), content.data(), content.size()) != static_cast<ssize_t>(content.size()) ||
      fsync(fd.get()) != 0) {
    absl::Status status = ErrnoError(absl::StrCat("write ", Quote(tmp)));
    unlink(tmp.c_str());
    return status;
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    absl::Status status = ErrnoError(absl::StrCat("rename ", Quote(tmp), " to ", Quote(path)));
    unlink(tmp.c_str());
    return status;
  }
  return absl::OkStatus();
}

std::string CleanPath(absl::string_view path) {
  bool absolute = !path.empty() && path[0] == '/';
  std::vector<absl::string_view> parts;
  for (absl::string_view part : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    if (part == ".") continue;
    if (part == "..") {
      if (!parts.empty() && parts.back() != "..") {
        parts.pop_back();
        continue;
      }
      if (absolute) continue;
    }
    parts.push_back(part);
  }
  std::string joined = absl::StrJoin(parts, "/");
  if (absolute) return absl::StrCat("/", joined);
  return joined.empty() ? "." : joined;
}

absl::StatusOr<std::string> AbsolutePath(absl::string_view path) {
  if (!path.empty() && path[0] == '/') return CleanPath(path);
  char cwd[4096];
  if (getcwd(cwd, sizeof(cwd)) == nullptr) return ErrnoError("getcwd");
  return CleanPath(absl::StrCat(cwd, "/", path));
}

namespace {
uint64_t ResolveFlags(InRootOptions options) {
  uint64_t resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  if (options.no_symlinks) resolve |= RESOLVE_NO_SYMLINKS;
  return resolve;
}

absl::string_view Relative(absl::string_view path) {
  while (!path.empty() && path[0] == '/') path.remove_prefix(1);
  return path;
}
}  // namespace

absl::StatusOr<UniqueFd> OpenInRoot(int root_fd, absl::string_view path, int flags,
                                    InRootOptions options) {
  std::string rel(Relative(path));
  if (rel.empty()) rel = ".";
  int fd = sys::Openat2(root_fd, rel.c_str(), static_cast<uint64_t>(flags | O_CLOEXEC), 0,
                        ResolveFlags(options));
  if (fd < 0) return ErrnoError(absl::StrCat("open ", Quote(path), " in container root"));
  return UniqueFd(fd);
}

absl::StatusOr<UniqueFd> MkdirAllInRoot(int root_fd, absl::string_view path, mode_t mode,
                                        InRootOptions options) {
  // Walk one component at a time below fds we hold. Symlinks are substituted into the
  // remaining path (absolute ones restart at the root) and ".." pops back at most to the
  // root, so like RESOLVE_IN_ROOT nothing ever leaves the root; missing directories,
  // including a dangling symlink's target, are created inside it.
  std::vector<UniqueFd> stack;
  stack.emplace_back(openat(root_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!stack.back()) return ErrnoError("open container root");
  std::deque<std::string> parts;
  for (absl::string_view p : absl::StrSplit(path, '/', absl::SkipEmpty())) parts.emplace_back(p);
  int links = 0;
  auto where = [&] { return Quote(path); };
  while (!parts.empty()) {
    std::string name = std::move(parts.front());
    parts.pop_front();
    if (name == ".") continue;
    if (name == "..") {
      if (stack.size() > 1) stack.pop_back();
      continue;
    }
    int dir = stack.back().get();
    struct stat st;
    if (fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno != ENOENT) return ErrnoError(absl::StrCat("stat ", where(), " in container root"));
      if (mkdirat(dir, name.c_str(), mode) != 0 && errno != EEXIST) {
        return ErrnoError(absl::StrCat("mkdir ", where(), " in container root"));
      }
      parts.push_front(name);  // look again: it may have changed under us
      continue;
    }
    if (S_ISLNK(st.st_mode)) {
      if (options.no_symlinks || ++links > 40) {
        return ErrnoError(ELOOP, absl::StrCat("open ", where(), " in container root"));
      }
      char target[4096];
      ssize_t n = readlinkat(dir, name.c_str(), target, sizeof(target) - 1);
      if (n < 0) return ErrnoError(absl::StrCat("readlink in ", where()));
      std::vector<std::string> sub;
      for (absl::string_view p : absl::StrSplit(absl::string_view(target, static_cast<size_t>(n)),
                                                '/', absl::SkipEmpty())) {
        sub.emplace_back(p);
      }
      parts.insert(parts.begin(), sub.begin(), sub.end());
      if (target[0] == '/') stack.resize(1);
      continue;
    }
    if (!S_ISDIR(st.st_mode)) {
      return ErrnoError(ENOTDIR, absl::StrCat("mkdir ", where(), " in container root"));
    }
    UniqueFd next(openat(dir, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next) return ErrnoError(absl::StrCat("open ", where(), " in container root"));
    stack.push_back(std::move(next));
  }
  return std::move(stack.back());
}

absl::StatusOr<UniqueFd> EnsureFileInRoot(int root_fd, absl::string_view path, mode_t mode,
                                          InRootOptions options) {
  std::string clean = CleanPath(absl::StrCat("/", path));
  for (int links = 0; links <= 40; ++links) {
    size_t slash = clean.rfind('/');
    std::string parent = clean.substr(0, slash);
    std::string name = clean.substr(slash + 1);
    if (name.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("path ", Quote(path), " names the root"));
    }
    ASSIGN_OR_RETURN(UniqueFd dir, MkdirAllInRoot(root_fd, parent, 0755, options));
    // O_PATH dirs cannot be used with O_CREAT: reopen the directory for real.
    UniqueFd real_dir(openat(dir.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!real_dir) return ErrnoError(absl::StrCat("open ", Quote(parent), " in container root"));
    UniqueFd created(openat(real_dir.get(), name.c_str(),
                            O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
    if (!created && errno != EEXIST) {
      return ErrnoError(absl::StrCat("create ", Quote(clean), " in container root"));
    }
    UniqueFd out(openat(real_dir.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!out) return ErrnoError(absl::StrCat("open ", Quote(clean), " in container root"));
    struct stat st;
    if (fstat(out.get(), &st) != 0) return ErrnoError(absl::StrCat("stat ", Quote(clean)));
    if (S_ISLNK(st.st_mode)) {
      if (options.no_symlinks) {
        return absl::PermissionDeniedError(absl::StrCat("mount target ", Quote(clean), " is a symlink"));
      }
      // Images ship files like /etc/resolv.conf as symlinks: follow, inside the root.
      char target[4096];
      ssize_t n = readlinkat(real_dir.get(), name.c_str(), target, sizeof(target) - 1);
      if (n < 0) return ErrnoError(absl::StrCat("readlink ", Quote(clean)));
      std::string t(target, static_cast<size_t>(n));
      clean = CleanPath(t[0] == '/' ? t : absl::StrCat(parent, "/", t));
      continue;
    }
    if (S_ISDIR(st.st_mode)) {
      return absl::InvalidArgumentError(
          absl::StrCat("mount target ", Quote(clean), ": is a directory, source is not"));
    }
    return out;
  }
  return ErrnoError(ELOOP, absl::StrCat("open ", Quote(path), " in container root"));
}

}  // namespace husk
