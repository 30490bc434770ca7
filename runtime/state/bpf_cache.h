// Compiled seccomp programs kept under <root>/@seccomp/ ('@' is not allowed in container
// IDs, so no container can take the name; Store::Ids skips it), so the next container with
// the same profile skips libseccomp (~5 ms for Docker's profile). Each file holds its
// whole key and is checked byte for byte when read: the 64-bit hash in the file name only
// picks the file, so a collision is a miss, never somebody else's filter. Files are
// written under a temporary name and renamed; a reader sees a whole old or new file, and
// a torn one (a crash) fails the checks and is recompiled. The payload is opaque here
// (kernel/seccomp encodes the program). Parent only.
#ifndef HUSK_RUNTIME_STATE_BPF_CACHE_H_
#define HUSK_RUNTIME_STATE_BPF_CACHE_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "runtime/base/unique_fd.h"
#include "runtime/state/store.h"

namespace husk::state {

inline constexpr char kBpfCacheDir[] = "@seccomp";
// The copy each container keeps in its own state directory (for exec).
inline constexpr char kSeccompProgramFile[] = "seccomp.bpf";
// Entries kept; a save beyond this removes the least recently written ones.
inline constexpr size_t kBpfCacheMaxEntries = 64;

// One program file in the cache's format: magic, key, payload. Reads check all three;
// nullopt when the file is missing, malformed or has another key.
std::optional<std::string> ReadProgramFile(int dir_fd, const char* name, absl::string_view key);
// Written to a temporary name in the same directory, then renamed over `name`.
absl::Status WriteProgramFile(int dir_fd, const char* name, absl::string_view key,
                              absl::string_view payload);

class BpfCache {
 public:
  // Opens <store root>/@seccomp, creating it (0700) if needed.
  static absl::StatusOr<BpfCache> Open(const Store& store);

  std::optional<std::string> Load(absl::string_view key) const;
  absl::Status Save(absl::string_view key, absl::string_view payload) const;
  // The file name a key is stored under ("<16 hex digits>.bpf").
  static std::string FileName(absl::string_view key);
  int fd() const { return fd_.get(); }

 private:
  explicit BpfCache(UniqueFd fd) : fd_(std::move(fd)) {}
  void Evict() const;
  UniqueFd fd_;
};

}  // namespace husk::state

#endif  // HUSK_RUNTIME_STATE_BPF_CACHE_H_
