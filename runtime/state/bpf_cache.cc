#include "runtime/state/bpf_cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "runtime/base/status.h"

namespace husk::state {
namespace {

constexpr char kMagic[8] = {'H', 'U', 'S', 'K', 'B', 'P', 'F', '1'};
// A 4096-instruction program plus a key for a few thousand syscall names.
constexpr size_t kMaxFile = 1 << 20;

uint64_t Fnv1a(absl::string_view data) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

std::optional<std::string> ReadProgramFile(int dir_fd, const char* name, absl::string_view key) {
  UniqueFd fd(openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return std::nullopt;
  std::string data;
  char buf[16384];
  ssize_t n;
  while ((n = read(fd.get(), buf, sizeof(buf))) != 0) {
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::nullopt;
    }
    data.append(buf, static_cast<size_t>(n));
    if (data.size() > kMaxFile) return std::nullopt;
  }
  uint32_t key_len;
  if (data.size() < sizeof(kMagic) + sizeof(key_len) ||
      memcmp(data.data(), kMagic, sizeof(kMagic)) != 0) {
    return std::nullopt;
  }
  memcpy(&key_len, data.data() + sizeof(kMagic), sizeof(key_len));
  size_t header = sizeof(kMagic) + sizeof(key_len);
  if (key_len != key.size() || data.size() - header < key_len ||
      absl::string_view(data).substr(header, key_len) != key) {
    return std::nullopt;
  }
  return data.substr(header + key_len);
}

absl::Status WriteProgramFile(int dir_fd, const char* name, absl::string_view key,
                              absl::string_view payload) {
  std::string data(kMagic, sizeof(kMagic));
  uint32_t key_len = static_cast<uint32_t>(key.size());
  data.append(reinterpret_cast<const char*>(&key_len), sizeof(key_len));
  absl::StrAppend(&data, key, payload);
  std::string tmp = absl::StrCat(".", name, ".", getpid(), ".tmp");
  UniqueFd fd(openat(dir_fd, tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
                     0600));
  if (!fd) return ErrnoError(absl::StrCat("create ", Quote(tmp)));
  absl::string_view rest = data;
  while (!rest.empty()) {
    ssize_t n = write(fd.get(), rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      absl::Status s = ErrnoError(absl::StrCat("write ", Quote(tmp)));
      unlinkat(dir_fd, tmp.c_str(), 0);
      return s;
    }
    rest.remove_prefix(static_cast<size_t>(n));
  }
  if (renameat(dir_fd, tmp.c_str(), dir_fd, name) != 0) {
    absl::Status s = ErrnoError(absl::StrCat("rename ", Quote(tmp), " to ", Quote(name)));
    unlinkat(dir_fd, tmp.c_str(), 0);
    return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<BpfCache> BpfCache::Open(const Store& store) {
  std::string path = absl::StrCat(store.root(), "/", kBpfCacheDir);
  if (mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
    return ErrnoError(absl::StrCat("mkdir ", Quote(path)));
  }
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return ErrnoError(absl::StrCat("open ", Quote(path)));
  return BpfCache(std::move(fd));
}

std::string BpfCache::FileName(absl::string_view key) {
  return absl::StrFormat("%016x.bpf", Fnv1a(key));
}

std::optional<std::string> BpfCache::Load(absl::string_view key) const {
  return ReadProgramFile(fd_.get(), FileName(key).c_str(), key);
}

absl::Status BpfCache::Save(absl::string_view key, absl::string_view payload) const {
  RETURN_IF_ERROR(WriteProgramFile(fd_.get(), FileName(key).c_str(), key, payload));
  Evict();
  return absl::OkStatus();
}

// Only after a save (a compile, which costs far more than this directory read).
void BpfCache::Evict() const {
  int dup_fd = openat(fd_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dup_fd < 0) return;
  DIR* dir = fdopendir(dup_fd);
  if (dir == nullptr) {
    close(dup_fd);
    return;
  }
  std::vector<std::pair<struct timespec, std::string>> entries;
  while (struct dirent* e = readdir(dir)) {
    struct stat st;
    if (e->d_name[0] == '.' && (e->d_name[1] == '\0' || strcmp(e->d_name, "..") == 0)) continue;
    if (fstatat(fd_.get(), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
      entries.emplace_back(st.st_mtim, e->d_name);
    }
  }
  closedir(dir);
  if (entries.size() <= kBpfCacheMaxEntries) return;
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    return a.first.tv_sec != b.first.tv_sec ? a.first.tv_sec < b.first.tv_sec
                                            : a.first.tv_nsec < b.first.tv_nsec;
  });
  for (size_t i = 0; i + kBpfCacheMaxEntries < entries.size(); ++i) {
    unlinkat(fd_.get(), entries[i].second.c_str(), 0);
  }
}

}  // namespace husk::state
