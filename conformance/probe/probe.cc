// husk-probe: a static binary that runs as a conformance container's process and prints,
// as one JSON object on stdout, what that process sees: ids, capabilities, no_new_privs,
// seccomp, rlimits, cwd, env, umask, uts names, namespaces, mounts, devices, sysctls,
// cgroups, oom_score_adj, open fds, tty state (name, window size), scheduling (nice,
// policy, I/O priority, NUMA policy, CPU affinity), the LSM label, and the behaviour of
// paths named on the command line. It changes nothing except through the explicit write tests below.
//
// Usage: probe [--path=P]... [--sysctl=a.b.c]... [--file=P]... [--write=P]...
//            [--wait-signal] [--exit=N]
//   --path=P     report P: lstat, open for reading (bytes read), open O_WRONLY (no write
//                is done), statvfs read-only flag, directory entry count.
//   --file=P     include the first 4 KiB of P as text.
//   --write=P    try to create and remove the file P (for read-only root checks).
//   --sysctl=S   read /proc/sys/<S with dots as slashes>.
//   --exit=N     exit with status N after printing.
//   --syscall=NR[,ARG...]  make raw syscall NR (args decimal or 0x hex) before anything
//                else and report {"nr","ret","errno"} under "syscalls" (up to 16).
//   --syscalls-only  report only argv and syscalls (for seccomp profiles that would
//                refuse the rest of the probe's work).
#include <dirent.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

extern char** environ;

namespace {

// Minimal JSON writer: the caller emits keys and values in order; commas are automatic.
class Json {
 public:
  void BeginObject() { Sep(); out_ += '{'; first_.push_back(true); }
  void EndObject() { out_ += '}'; first_.pop_back(); }
  void BeginArray() { Sep(); out_ += '['; first_.push_back(true); }
  void EndArray() { out_ += ']'; first_.pop_back(); }
  void Key(std::string_view k) {
    Sep();
    Quote(k);
    out_ += ':';
    after_key_ = true;
  }
  void Str(std::string_view s) { Sep(); Quote(s); }
  void Int(long long v) { Sep(); out_ += std::to_string(v); }
  void Uint(unsigned long long v) { Sep(); out_ += std::to_string(v); }
  void Bool(bool b) { Sep(); out_ += b ? "true" : "false"; }
  void Null() { Sep(); out_ += "null"; }
  const std::string& Text() const { return out_; }

 private:
  void Sep() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (!first_.empty()) {
      if (!first_.back()) out_ += ',';
      first_.back() = false;
    }
  }
  void Quote(std::string_view s) {
    out_ += '"';
    for (unsigned char c : s) {
      switch (c) {
        case '"': out_ += "\\\""; break;
        case '\\': out_ += "\\\\"; break;
        case '\n': out_ += "\\n"; break;
        case '\t': out_ += "\\t"; break;
        case '\r': out_ += "\\r"; break;
        default:
          if (c < 0x20 || c >= 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out_ += buf;
          } else {
            out_ += static_cast<char>(c);
          }
      }
    }
    out_ += '"';
  }

  std::string out_;
  std::vector<bool> first_;
  bool after_key_ = false;
};

// Reads up to `limit` bytes; returns false (errno set) if the file cannot be opened/read.
bool ReadFile(const std::string& path, std::string* out, size_t limit = 1 << 20) {
  out->clear();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[4096];
  while (out->size() < limit) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      errno = e;
      return false;
    }
    if (n == 0) break;
    out->append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  if (out->size() > limit) out->resize(limit);
  return true;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return s.substr(i);
}

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < s.size()) {
    size_t nl = s.find('\n', start);
    if (nl == std::string::npos) nl = s.size();
    lines.push_back(s.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

// "value" of the "Key:\tvalue" line in /proc/self/status, or "".
std::string StatusField(const std::string& status, std::string_view key) {
  for (const auto& line : Lines(status)) {
    if (line.size() > key.size() && line.compare(0, key.size(), key) == 0 &&
        line[key.size()] == ':') {
      return Trim(line.substr(key.size() + 1));
    }
  }
  return "";
}

std::string ErrName(int e) { return std::strerror(e); }

const char* TypeName(mode_t m) {
  if (S_ISREG(m)) return "file";
  if (S_ISDIR(m)) return "dir";
  if (S_ISLNK(m)) return "symlink";
  if (S_ISCHR(m)) return "char";
  if (S_ISBLK(m)) return "block";
  if (S_ISFIFO(m)) return "fifo";
  if (S_ISSOCK(m)) return "socket";
  return "unknown";
}

std::string LinkTarget(const std::string& path) {
  char buf[4096];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
  if (n < 0) return "";
  return std::string(buf, static_cast<size_t>(n));
}

void EmitIds(Json& j) {
  j.Key("uid"); j.Uint(::getuid());
  j.Key("euid"); j.Uint(::geteuid());
  j.Key("gid"); j.Uint(::getgid());
  j.Key("egid"); j.Uint(::getegid());
  gid_t groups[256];
  int n = ::getgroups(256, groups);
  j.Key("groups");
  j.BeginArray();
  for (int i = 0; i < n; ++i) j.Uint(groups[i]);
  j.EndArray();
}

void EmitStatus(Json& j) {
  std::string status;
  ReadFile("/proc/self/status", &status);
  j.Key("caps");
  j.BeginObject();
  for (const char* k : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}) {
    j.Key(k);
    j.Str(StatusField(status, k));
  }
  j.EndObject();
  j.Key("no_new_privs");
  j.Int(::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
  j.Key("seccomp");
  std::string sc = StatusField(status, "Seccomp");
  j.Int(sc.empty() ? -1 : std::atoi(sc.c_str()));
  j.Key("uid_map");
  std::string map;
  j.Str(ReadFile("/proc/self/uid_map", &map) ? map : "");
  j.Key("gid_map");
  j.Str(ReadFile("/proc/self/gid_map", &map) ? map : "");
  j.Key("personality");
  j.Int(::personality(0xffffffff));
  struct utsname u;
  j.Key("machine");
  j.Str(::uname(&u) == 0 ? u.machine : "");
}

void EmitRlimits(Json& j) {
  static const struct {
    const char* name;
    int resource;
  } kLimits[] = {
      {"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_CORE", RLIMIT_CORE},
      {"RLIMIT_CPU", RLIMIT_CPU},         {"RLIMIT_DATA", RLIMIT_DATA},
      {"RLIMIT_FSIZE", RLIMIT_FSIZE},     {"RLIMIT_LOCKS", RLIMIT_LOCKS},
      {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
      {"RLIMIT_NICE", RLIMIT_NICE},       {"RLIMIT_NOFILE", RLIMIT_NOFILE},
      {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_RSS", RLIMIT_RSS},
      {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},   {"RLIMIT_RTTIME", RLIMIT_RTTIME},
      {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING}, {"RLIMIT_STACK", RLIMIT_STACK},
  };
  j.Key("rlimits");
  j.BeginObject();
  for (const auto& l : kLimits) {
    struct rlimit r;
    if (::getrlimit(l.resource, &r) != 0) continue;
    j.Key(l.name);
    j.BeginObject();
    // RLIM_INFINITY is reported as -1.
    j.Key("soft");
    j.Int(r.rlim_cur == RLIM_INFINITY ? -1 : static_cast<long long>(r.rlim_cur));
    j.Key("hard");
    j.Int(r.rlim_max == RLIM_INFINITY ? -1 : static_cast<long long>(r.rlim_max));
    j.EndObject();
  }
  j.EndObject();
}

void EmitProcessEnv(Json& j) {
  char cwd[4096];
  j.Key("cwd");
  j.Str(::getcwd(cwd, sizeof cwd) ? cwd : "");
  j.Key("env");
  j.BeginArray();
  for (char** e = environ; e && *e; ++e) j.Str(*e);
  j.EndArray();
  mode_t old = ::umask(0);
  ::umask(old);
  j.Key("umask");
  j.Uint(old);
  struct utsname u;
  if (::uname(&u) == 0) {
    j.Key("hostname");
    j.Str(u.nodename);
    j.Key("domainname");
    j.Str(u.domainname);
  }
  std::string s;
  j.Key("oom_score_adj");
  j.Int(ReadFile("/proc/self/oom_score_adj", &s) ? std::atoi(s.c_str()) : -9999);
  j.Key("stdin_tty");
  j.Bool(::isatty(0));
  j.Key("stdout_tty");
  j.Bool(::isatty(1));
  if (::isatty(0)) {
    const char* name = ::ttyname(0);
    j.Key("tty_name");
    j.Str(name ? name : "");
    struct winsize ws;
    if (::ioctl(0, TIOCGWINSZ, &ws) == 0) {
      j.Key("winsize");
      j.BeginObject();
      j.Key("rows");
      j.Uint(ws.ws_row);
      j.Key("cols");
      j.Uint(ws.ws_col);
      j.EndObject();
    }
  }
  j.Key("pid");
  j.Int(::getpid());
  j.Key("ppid");
  j.Int(::getppid());
  j.Key("sid");
  j.Int(::getsid(0));
}

// Scheduling and LSM state: nice, policy, ioprio_get (class << 13 | level), the
// get_mempolicy mode (flags included), Cpus_allowed_list, /proc/self/attr/current.
void EmitSched(Json& j) {
  errno = 0;
  int nice = ::getpriority(PRIO_PROCESS, 0);
  j.Key("nice");
  j.Int(errno == 0 ? nice : -100);
  j.Key("sched_policy");
  j.Int(::sched_getscheduler(0));
  j.Key("ioprio");
  j.Int(::syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, 0));
  int mode = -1;
  j.Key("mempolicy");
  j.Int(::syscall(SYS_get_mempolicy, &mode, nullptr, 0UL, nullptr, 0UL) == 0 ? mode : -1);
  std::string s;
  ReadFile("/proc/self/status", &s);
  j.Key("cpus_allowed");
  j.Str(StatusField(s, "Cpus_allowed_list"));
  j.Key("attr_current");
  j.Str(ReadFile("/proc/self/attr/current", &s) ? Trim(s) : "");
}

void EmitNamespaces(Json& j) {
  j.Key("ns");
  j.BeginObject();
  for (const char* n : {"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"}) {
    struct stat st;
    std::string p = std::string("/proc/self/ns/") + n;
    if (::stat(p.c_str(), &st) != 0) continue;
    j.Key(n);
    j.Uint(st.st_ino);
  }
  j.EndObject();
}

void EmitLines(Json& j, const char* key, const char* path) {
  std::string s;
  j.Key(key);
  j.BeginArray();
  if (ReadFile(path, &s)) {
    for (const auto& l : Lines(s)) j.Str(l);
  }
  j.EndArray();
}

void EmitDevice(Json& j, const std::string& path, const std::string& name) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return;
  j.Key(name);
  j.BeginObject();
  j.Key("type");
  j.Str(TypeName(st.st_mode));
  j.Key("mode");
  j.Uint(st.st_mode & 07777);
  j.Key("uid");
  j.Uint(st.st_uid);
  j.Key("gid");
  j.Uint(st.st_gid);
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
    j.Key("major");
    j.Uint(major(st.st_rdev));
    j.Key("minor");
    j.Uint(minor(st.st_rdev));
  }
  if (S_ISLNK(st.st_mode)) {
    j.Key("target");
    j.Str(LinkTarget(path));
  }
  j.EndObject();
}

void EmitDevices(Json& j) {
  j.Key("devices");
  j.BeginObject();
  for (const char* dir : {"/dev", "/dev/pts"}) {
    DIR* d = ::opendir(dir);
    if (!d) continue;
    while (struct dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      std::string path = std::string(dir) + "/" + name;
      EmitDevice(j, path, path);
    }
    ::closedir(d);
  }
  j.EndObject();
}

void EmitFds(Json& j) {
  j.Key("fds");
  j.BeginObject();
  DIR* d = ::opendir("/proc/self/fd");
  if (d) {
    int self = ::dirfd(d);
    while (struct dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name == "." || name == ".." || std::atoi(name.c_str()) == self) continue;
      j.Key(name);
      j.Str(LinkTarget("/proc/self/fd/" + name));
    }
    ::closedir(d);
  }
  j.EndObject();
}

void EmitSysctls(Json& j, const std::vector<std::string>& extra) {
  std::vector<std::string> names = {"kernel.hostname", "kernel.domainname",
                                    "net.ipv4.ip_forward", "kernel.shm_rmid_forced",
                                    "kernel.shmmax"};
  names.insert(names.end(), extra.begin(), extra.end());
  j.Key("sysctls");
  j.BeginObject();
  for (const auto& name : names) {
    std::string path = "/proc/sys/" + name;
    for (char& c : path) {
      if (c == '.') c = '/';
    }
    std::string v;
    if (!ReadFile(path, &v)) continue;
    j.Key(name);
    j.Str(Trim(v));
  }
  j.EndObject();
}

void EmitPath(Json& j, const std::string& path) {
  j.Key(path);
  j.BeginObject();
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    j.Key("exists");
    j.Bool(false);
    j.Key("error");
    j.Str(ErrName(errno));
    j.EndObject();
    return;
  }
  j.Key("exists");
  j.Bool(true);
  j.Key("type");
  j.Str(TypeName(st.st_mode));
  j.Key("uid");
  j.Uint(st.st_uid);
  j.Key("gid");
  j.Uint(st.st_gid);
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
    j.Key("major");
    j.Uint(major(st.st_rdev));
    j.Key("minor");
    j.Uint(minor(st.st_rdev));
  }
  struct statvfs vfs;
  if (::statvfs(path.c_str(), &vfs) == 0) {
    j.Key("readonly_mount");
    j.Bool((vfs.f_flag & ST_RDONLY) != 0);
  }
  if (S_ISDIR(st.st_mode)) {
    DIR* d = ::opendir(path.c_str());
    j.Key("entries");
    if (d) {
      int n = 0;
      while (struct dirent* e = ::readdir(d)) {
        if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) ++n;
      }
      ::closedir(d);
      j.Int(n);
    } else {
      j.Int(-1);
      j.Key("open_error");
      j.Str(ErrName(errno));
    }
  } else if (S_ISREG(st.st_mode) || S_ISCHR(st.st_mode)) {
    // Read a little (never /dev/zero-style forever); kcore is huge, so cap at 4 KiB.
    int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    j.Key("read");
    if (fd < 0) {
      j.Str(ErrName(errno));
    } else {
      char buf[4096];
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0) {
        j.Str(ErrName(errno));
      } else {
        j.Str("ok");
        j.Key("read_bytes");
        j.Int(n);
      }
      ::close(fd);
    }
    // Open for writing only; nothing is written (sysrq-trigger and friends are safe).
    fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    j.Key("open_write");
    if (fd < 0) {
      j.Str(ErrName(errno));
    } else {
      j.Str("ok");
      ::close(fd);
    }
  }
  j.EndObject();
}

void EmitWrite(Json& j, const std::string& path) {
  j.Key(path);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    j.Str(ErrName(errno));
    return;
  }
  ::close(fd);
  ::unlink(path.c_str());
  j.Str("ok");
}

// --syscall=NR[,ARG...]: a raw syscall made before anything else, for seccomp cases.
struct SyscallProbe {
  long nr = 0;
  long args[6] = {};
  long ret = 0;
  int err = 0;
};

bool ParseSyscall(const char* spec, SyscallProbe* out) {
  char* end = nullptr;
  out->nr = std::strtol(spec, &end, 0);
  for (int i = 0; i < 6 && *end == ','; ++i) out->args[i] = static_cast<long>(std::strtoull(end + 1, &end, 0));
  return *end == '\0';
}

void EmitSyscalls(Json& j, const std::vector<SyscallProbe>& calls) {
  j.Key("syscalls");
  j.BeginArray();
  for (const SyscallProbe& c : calls) {
    j.BeginObject();
    j.Key("nr");
    j.Int(c.nr);
    j.Key("ret");
    j.Int(c.ret);
    j.Key("errno");
    j.Int(c.err);
    j.EndObject();
  }
  j.EndArray();
}

}  // namespace

int main(int argc, char** argv) {
  // Syscalls first, with nothing allocated yet: a seccomp case sees exactly these.
  SyscallProbe calls[16];
  int ncalls = 0;
  bool syscalls_only = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--syscall=", 10) == 0 && ncalls < 16) {
      if (!ParseSyscall(argv[i] + 10, &calls[ncalls])) {
        std::fprintf(stderr, "probe: bad %s\n", argv[i]);
        return 2;
      }
      ++ncalls;
    } else if (std::strcmp(argv[i], "--syscalls-only") == 0) {
      syscalls_only = true;
    }
  }
  for (int i = 0; i < ncalls; ++i) {
    SyscallProbe& c = calls[i];
    errno = 0;
    c.ret = syscall(c.nr, c.args[0], c.args[1], c.args[2], c.args[3], c.args[4], c.args[5]);
    c.err = c.ret < 0 ? errno : 0;
  }
  std::vector<SyscallProbe> syscall_results(calls, calls + ncalls);
  std::vector<std::string> paths, sysctls, writes;
  // A few cgroup v1 and v2 limit files, as the container sees its own cgroup mount.
  std::vector<std::string> files = {"/sys/fs/cgroup/memory/memory.limit_in_bytes",
                                    "/sys/fs/cgroup/pids/pids.max",
                                    "/sys/fs/cgroup/cpu/cpu.shares",
                                    "/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/pids.max"};
  int exit_code = 0;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&](std::string_view prefix) -> const char* {
      return a.substr(0, prefix.size()) == prefix ? argv[i] + prefix.size() : nullptr;
    };
    if (const char* v = value("--path=")) {
      paths.emplace_back(v);
    } else if (const char* v = value("--sysctl=")) {
      sysctls.emplace_back(v);
    } else if (const char* v = value("--file=")) {
      files.emplace_back(v);
    } else if (const char* v = value("--write=")) {
      writes.emplace_back(v);
    } else if (const char* v = value("--exit=")) {
      exit_code = std::atoi(v);
    } else if (value("--syscall=") != nullptr || a == "--syscalls-only") {
      // handled above
    } else {
      std::fprintf(stderr, "probe: unknown argument %s\n", argv[i]);
      return 2;
    }
  }

  Json j;
  j.BeginObject();
  j.Key("probe");
  j.Int(1);
  j.Key("argv");
  j.BeginArray();
  for (int i = 0; i < argc; ++i) j.Str(argv[i]);
  j.EndArray();
  EmitSyscalls(j, syscall_results);
  if (!syscalls_only) {
  EmitIds(j);
  EmitStatus(j);
  EmitRlimits(j);
  EmitProcessEnv(j);
  EmitSched(j);
  EmitNamespaces(j);
  EmitLines(j, "mountinfo", "/proc/self/mountinfo");
  EmitLines(j, "cgroup", "/proc/self/cgroup");
  EmitDevices(j);
  EmitFds(j);
  EmitSysctls(j, sysctls);
  j.Key("paths");
  j.BeginObject();
  for (const auto& p : paths) EmitPath(j, p);
  j.EndObject();
  j.Key("files");
  j.BeginObject();
  for (const auto& f : files) {
    std::string s;
    j.Key(f);
    if (ReadFile(f, &s, 4096)) {
      j.Str(s);
    } else {
      j.Null();
    }
  }
  j.EndObject();
  j.Key("writes");
  j.BeginObject();
  for (const auto& w : writes) EmitWrite(j, w);
  j.EndObject();
  }  // !syscalls_only
  j.EndObject();

  std::string out = j.Text() + "\n";
  size_t off = 0;
  while (off < out.size()) {
    ssize_t n = ::write(1, out.data() + off, out.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return 3;
    }
    off += static_cast<size_t>(n);
  }
  return exit_code;
}
