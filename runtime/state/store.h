// The state store: <root>/<id>/ directories, claimed atomically (mkdir), locked per
// container (flock on the directory fd) so concurrent commands on one ID serialize, and
// state.json written atomically (tmp + fsync + rename). Parent process only.
// It does not decide container status (see status.h) nor touch cgroups or processes.
#ifndef HUSK_RUNTIME_STATE_STORE_H_
#define HUSK_RUNTIME_STATE_STORE_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/base/unique_fd.h"

namespace husk::state {

// What `create` records and later commands read back (state.json).
struct Record {
  std::string id;
  std::string oci_version;
  std::string bundle;   // absolute
  std::string rootfs;   // absolute
  std::string created;  // RFC 3339 with nanoseconds, UTC
  std::string owner;    // "" (runc) - list fills in the user name
  int pid = 0;          // host pid of the init
  uint64_t start_time = 0;  // field 22 of /proc/<pid>/stat when created
  std::map<std::string, std::string> annotations;
  // cgroup directories (absolute host paths) husk created and must remove on delete,
  // and every directory the init was placed in (for kill --all, freezer, ps).
  std::vector<std::string> cgroup_dirs_created;
  std::vector<std::string> cgroup_dirs;
  bool private_pid_ns = true;  // false: host pid ns or one joined by path
  bool systemd_cgroup = false;
};

absl::StatusOr<std::string> SerializeRecord(const Record& record);
absl::StatusOr<Record> ParseRecord(std::string_view json);

// One container's directory, held locked for the lifetime of this object.
// The flock belongs to the open file description: a forked or cloned child inherits it
// (O_CLOEXEC only drops it at execve), so a child that outlives the command, such as the
// container init waiting for `start`, must close fd() first or `start` blocks forever.
class ContainerDir {
 public:
  ContainerDir(std::string path, UniqueFd dir_fd) : path_(std::move(path)), fd_(std::move(dir_fd)) {}
  const std::string& path() const { return path_; }
  int fd() const { return fd_.get(); }
  absl::Status Save(const Record& record) const;  // atomic: state.json.tmp -> state.json
  absl::StatusOr<Record> Load() const;             // NotFound if no state.json yet
  // Removes the directory and everything in it (the lock goes with it).
  absl::Status Remove();

 private:
  std::string path_;
  UniqueFd fd_;
};

class Store {
 public:
  // Creates root (mkdir -p, 0700) if missing. `root` must be absolute.
  static absl::StatusOr<Store> Open(const std::string& root);
  const std::string& root() const { return root_; }

  // mkdir <root>/<id> (0700) and lock it. AlreadyExists with
  // "container with given ID already exists" if it is there.
  absl::StatusOr<ContainerDir> Claim(const std::string& id) const;
  // Opens and locks an existing container. NotFound with "container does not exist".
  // A directory without state.json (a create in progress or one that died half-way)
  // also counts as not existing for Load().
  absl::StatusOr<ContainerDir> Lock(const std::string& id) const;
  // IDs of every directory under root (sorted) but husk's own "@..." ones, for list.
  absl::StatusOr<std::vector<std::string>> Ids() const;

 private:
  explicit Store(std::string root) : root_(std::move(root)) {}
  std::string root_;
};

}  // namespace husk::state

#endif  // HUSK_RUNTIME_STATE_STORE_H_
