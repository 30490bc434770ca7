#include "runtime/state/store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <utility>

#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "runtime/base/status.h"

namespace husk::state {
namespace {

constexpr char kStateFile[] = "state.json";
constexpr char kStateTmpFile[] = "state.json.tmp";
constexpr char kNotExist[] = "container does not exist";

// The store only guards against path tricks (the CLI validates runc's character set):
// an ID is one path component.
absl::Status CheckIdIsComponent(const std::string& id) {
  if (id.empty() || id == "." || id == ".." || id.find('/') != std::string::npos ||
      id.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("invalid container id ", Quote(id)));
  }
  return absl::OkStatus();
}

absl::Status MkdirAll(const std::string& path, mode_t mode) {
  // Walk the components; EEXIST on each is fine as long as it is a directory.
  for (size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos != path.size() && path[pos] != '/') continue;
    std::string prefix = path.substr(0, pos);
    if (prefix.empty() || prefix.back() == '/') continue;
    if (mkdir(prefix.c_str(), mode) == 0) continue;
    if (errno != EEXIST) return ErrnoError(absl::StrCat("mkdir ", Quote(prefix)));
    struct stat st;
    if (stat(prefix.c_str(), &st) != 0) return ErrnoError(absl::StrCat("stat ", Quote(prefix)));
    if (!S_ISDIR(st.st_mode)) return ErrnoError(ENOTDIR, absl::StrCat("mkdir ", Quote(prefix)));
  }
  return absl::OkStatus();
}

absl::Status WriteAll(int fd, absl::string_view data, absl::string_view what) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(what);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadAll(int fd, absl::string_view what) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(what);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// Removes everything below the directory `fd` (it owns nothing but plain files and the
// exec socket today, but a stray subdirectory must not make delete fail forever).
absl::Status RemoveContents(int fd, const std::string& path, int depth) {
  // A fresh open description: a dup would share (and move) the caller's offset.
  int dup_fd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dup_fd < 0) return ErrnoError(absl::StrCat("open ", Quote(path)));
  DIR* dir = fdopendir(dup_fd);
  if (dir == nullptr) {
    int err = errno;
    close(dup_fd);
    return ErrnoError(err, absl::StrCat("opendir ", Quote(path)));
  }
  absl::Status status;
  while (struct dirent* entry = readdir(dir)) {
    absl::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    if (unlinkat(fd, entry->d_name, 0) == 0 || errno == ENOENT) continue;
    if (errno != EISDIR && errno != EPERM) {
      status = ErrnoError(absl::StrCat("remove ", Quote(absl::StrCat(path, "/", name))));
      break;
    }
    std::string sub = absl::StrCat(path, "/", name);
    if (depth > 16) {
      status = ErrnoError(ELOOP, absl::StrCat("remove ", Quote(sub)));
      break;
    }
    UniqueFd sub_fd(openat(fd, entry->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!sub_fd) {
      status = ErrnoError(absl::StrCat("open ", Quote(sub)));
      break;
    }
    status = RemoveContents(sub_fd.get(), sub, depth + 1);
    if (!status.ok()) break;
    if (unlinkat(fd, entry->d_name, AT_REMOVEDIR) != 0 && errno != ENOENT) {
      status = ErrnoError(absl::StrCat("remove ", Quote(sub)));
      break;
    }
  }
  closedir(dir);
  return status;
}

// JSON helpers: missing members keep their defaults; a member of the wrong type is an
// error naming it (a corrupt state file must not be half-read silently).
absl::Status TypeError(absl::string_view key, absl::string_view want) {
  return absl::InvalidArgumentError(
      absl::StrCat("parse state: field ", Quote(key), ": expected ", want));
}

absl::Status GetString(const rapidjson::Value& obj, const char* key, std::string* out) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || it->value.IsNull()) return absl::OkStatus();
  if (!it->value.IsString()) return TypeError(key, "a string");
  out->assign(it->value.GetString(), it->value.GetStringLength());
  return absl::OkStatus();
}

absl::Status GetBool(const rapidjson::Value& obj, const char* key, bool* out) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || it->value.IsNull()) return absl::OkStatus();
  if (!it->value.IsBool()) return TypeError(key, "a boolean");
  *out = it->value.GetBool();
  return absl::OkStatus();
}

absl::Status GetStrings(const rapidjson::Value& obj, const char* key,
                        std::vector<std::string>* out) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || it->value.IsNull()) return absl::OkStatus();
  if (!it->value.IsArray()) return TypeError(key, "an array of strings");
  for (const auto& v : it->value.GetArray()) {
    if (!v.IsString()) return TypeError(key, "an array of strings");
    out->emplace_back(v.GetString(), v.GetStringLength());
  }
  return absl::OkStatus();
}

void PutString(rapidjson::Writer<rapidjson::StringBuffer>& w, const char* key,
               const std::string& value) {
  w.Key(key);
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

void PutStrings(rapidjson::Writer<rapidjson::StringBuffer>& w, const char* key,
                const std::vector<std::string>& values) {
  w.Key(key);
  w.StartArray();
  for (const std::string& v : values)
    w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  w.EndArray();
}

}  // namespace

absl::StatusOr<std::string> SerializeRecord(const Record& record) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  PutString(w, "id", record.id);
  PutString(w, "ociVersion", record.oci_version);
  PutString(w, "bundle", record.bundle);
  PutString(w, "rootfs", record.rootfs);
  PutString(w, "created", record.created);
  PutString(w, "owner", record.owner);
  w.Key("pid");
  w.Int(record.pid);
  w.Key("startTime");
  w.Uint64(record.start_time);
  w.Key("annotations");
  w.StartObject();
  for (const auto& [key, value] : record.annotations) {
    w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
    w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  }
  w.EndObject();
  PutStrings(w, "cgroupDirsCreated", record.cgroup_dirs_created);
  PutStrings(w, "cgroupDirs", record.cgroup_dirs);
  w.Key("privatePidNs");
  w.Bool(record.private_pid_ns);
  w.Key("systemdCgroup");
  w.Bool(record.systemd_cgroup);
  w.EndObject();
  if (!w.IsComplete()) return absl::InternalError("serialize state: incomplete document");
  return std::string(buffer.GetString(), buffer.GetSize());
}

absl::StatusOr<Record> ParseRecord(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError()) {
    return absl::InvalidArgumentError(
        absl::StrCat("parse state: invalid JSON at offset ", doc.GetErrorOffset()));
  }
  if (!doc.IsObject()) return absl::InvalidArgumentError("parse state: not a JSON object");
  Record r;
  RETURN_IF_ERROR(GetString(doc, "id", &r.id));
  RETURN_IF_ERROR(GetString(doc, "ociVersion", &r.oci_version));
  RETURN_IF_ERROR(GetString(doc, "bundle", &r.bundle));
  RETURN_IF_ERROR(GetString(doc, "rootfs", &r.rootfs));
  RETURN_IF_ERROR(GetString(doc, "created", &r.created));
  RETURN_IF_ERROR(GetString(doc, "owner", &r.owner));
  if (auto it = doc.FindMember("pid"); it != doc.MemberEnd()) {
    if (!it->value.IsInt()) return TypeError("pid", "an integer");
    r.pid = it->value.GetInt();
  }
  if (auto it = doc.FindMember("startTime"); it != doc.MemberEnd()) {
    if (!it->value.IsUint64()) return TypeError("startTime", "an unsigned integer");
    r.start_time = it->value.GetUint64();
  }
  if (auto it = doc.FindMember("annotations"); it != doc.MemberEnd() && !it->value.IsNull()) {
    if (!it->value.IsObject()) return TypeError("annotations", "an object of strings");
    for (const auto& m : it->value.GetObject()) {
      if (!m.value.IsString()) return TypeError("annotations", "an object of strings");
      r.annotations.emplace(std::string(m.name.GetString(), m.name.GetStringLength()),
                            std::string(m.value.GetString(), m.value.GetStringLength()));
    }
  }
  RETURN_IF_ERROR(GetStrings(doc, "cgroupDirsCreated", &r.cgroup_dirs_created));
  RETURN_IF_ERROR(GetStrings(doc, "cgroupDirs", &r.cgroup_dirs));
  RETURN_IF_ERROR(GetBool(doc, "privatePidNs", &r.private_pid_ns));
  RETURN_IF_ERROR(GetBool(doc, "systemdCgroup", &r.systemd_cgroup));
  return r;
}

absl::Status ContainerDir::Save(const Record& record) const {
  ASSIGN_OR_RETURN(std::string json, SerializeRecord(record));
  std::string tmp_path = absl::StrCat(path_, "/", kStateTmpFile);
  UniqueFd fd(openat(fd_.get(), kStateTmpFile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd) return ErrnoError(absl::StrCat("open ", Quote(tmp_path)));
  RETURN_IF_ERROR(WriteAll(fd.get(), json, absl::StrCat("write ", Quote(tmp_path))));
  // fsync before rename: after a crash the file is either the old or the new state,
  // never an empty one.
  if (fsync(fd.get()) != 0) return ErrnoError(absl::StrCat("fsync ", Quote(tmp_path)));
  fd.Reset();
  if (renameat(fd_.get(), kStateTmpFile, fd_.get(), kStateFile) != 0) {
    int err = errno;
    unlinkat(fd_.get(), kStateTmpFile, 0);
    return ErrnoError(err, absl::StrCat("rename ", Quote(tmp_path), " to ",
                                        Quote(absl::StrCat(path_, "/", kStateFile))));
  }
  return absl::OkStatus();
}

absl::StatusOr<Record> ContainerDir::Load() const {
  std::string state_path = absl::StrCat(path_, "/", kStateFile);
  UniqueFd fd(openat(fd_.get(), kStateFile, O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return absl::NotFoundError(kNotExist);
    return ErrnoError(absl::StrCat("open ", Quote(state_path)));
  }
  ASSIGN_OR_RETURN(std::string json, ReadAll(fd.get(), absl::StrCat("read ", Quote(state_path))));
  absl::StatusOr<Record> record = ParseRecord(json);
  if (!record.ok()) return Annotate(record.status(), Quote(state_path));
  return record;
}

absl::Status ContainerDir::Remove() {
  if (!fd_)
    return absl::FailedPreconditionError(absl::StrCat("remove ", Quote(path_), ": not open"));
  RETURN_IF_ERROR(RemoveContents(fd_.get(), path_, 0));
  if (rmdir(path_.c_str()) != 0 && errno != ENOENT) {
    return ErrnoError(absl::StrCat("remove ", Quote(path_)));
  }
  // Closing the fd drops the lock; a waiter then finds an unlinked directory.
  fd_.Reset();
  return absl::OkStatus();
}

absl::StatusOr<Store> Store::Open(const std::string& root) {
  if (root.empty() || root[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("state root ", Quote(root), " must be an absolute path"));
  }
  std::string clean = root;
  while (clean.size() > 1 && clean.back() == '/') clean.pop_back();
  RETURN_IF_ERROR(MkdirAll(clean, 0700));
  return Store(std::move(clean));
}

absl::StatusOr<ContainerDir> Store::Claim(const std::string& id) const {
  RETURN_IF_ERROR(CheckIdIsComponent(id));
  std::string path = absl::StrCat(root_, "/", id);
  if (mkdir(path.c_str(), 0700) != 0) {
    if (errno == EEXIST) {
      return absl::AlreadyExistsError("container with given ID already exists");
    }
    return ErrnoError(absl::StrCat("mkdir ", Quote(path)));
  }
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    int err = errno;
    rmdir(path.c_str());
    return ErrnoError(err, absl::StrCat("open ", Quote(path)));
  }
  // Nobody can hold it yet unless they raced us between mkdir and here; blocking is fine.
  while (flock(fd.get(), LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    int err = errno;
    rmdir(path.c_str());
    return ErrnoError(err, absl::StrCat("lock ", Quote(path)));
  }
  return ContainerDir(std::move(path), std::move(fd));
}

absl::StatusOr<ContainerDir> Store::Lock(const std::string& id) const {
  if (!CheckIdIsComponent(id).ok()) return absl::NotFoundError(kNotExist);
  std::string path = absl::StrCat(root_, "/", id);
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) {
      return absl::NotFoundError(kNotExist);
    }
    return ErrnoError(absl::StrCat("open ", Quote(path)));
  }
  while (flock(fd.get(), LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    return ErrnoError(absl::StrCat("lock ", Quote(path)));
  }
  // The previous holder may have removed the directory while we waited.
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return ErrnoError(absl::StrCat("stat ", Quote(path)));
  if (st.st_nlink == 0) return absl::NotFoundError(kNotExist);
  return ContainerDir(std::move(path), std::move(fd));
}

absl::StatusOr<std::vector<std::string>> Store::Ids() const {
  UniqueFd fd(open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return ErrnoError(absl::StrCat("open ", Quote(root_)));
  DIR* dir = fdopendir(fd.get());
  if (dir == nullptr) return ErrnoError(absl::StrCat("opendir ", Quote(root_)));
  int dir_fd = fd.Release();  // owned by `dir` now
  std::vector<std::string> ids;
  errno = 0;
  while (struct dirent* entry = readdir(dir)) {
    absl::string_view name = entry->d_name;
    // "@..." is husk's own (bpf_cache.h): '@' is not allowed in container IDs.
    if (name == "." || name == ".." || name[0] == '@') continue;
    bool is_dir = entry->d_type == DT_DIR;
    if (entry->d_type == DT_UNKNOWN) {
      struct stat st;
      is_dir = fstatat(dir_fd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
    }
    if (is_dir) ids.emplace_back(name);
    errno = 0;
  }
  int err = errno;
  closedir(dir);
  if (err != 0) return ErrnoError(err, absl::StrCat("readdir ", Quote(root_)));
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace husk::state
