#include "tests/support/harness.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "rapidjson/pointer.h"
#include "rapidjson/prettywriter.h"
#include "rapidjson/stringbuffer.h"

#ifndef HUSK_BINARY
#error "HUSK_BINARY must be defined by tests/CMakeLists.txt"
#endif
#ifndef HUSK_ROOTFS
#error "HUSK_ROOTFS must be defined by tests/CMakeLists.txt"
#endif

namespace husk::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr char kTopDir[] = "/tmp/husk-it";
constexpr char kCgroupParent[] = "/husk-test";

// `runc spec` (1.1.5) with the changes the tests want: no tty, /bin/true, PATH only.
// root.path and linux.cgroupsPath are filled in by Bundle().
constexpr char kDefaultConfig[] = R"json({
  "ociVersion": "1.0.2-dev",
  "process": {
    "terminal": false,
    "user": {"uid": 0, "gid": 0},
    "args": ["/bin/true"],
    "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
    "cwd": "/",
    "capabilities": {
      "bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "ambient": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    },
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
    "noNewPrivileges": true
  },
  "root": {"path": "", "readonly": true},
  "hostname": "husk-test",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
     "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
     "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
    {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
     "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
    {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
     "options": ["nosuid", "noexec", "nodev"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs",
     "options": ["nosuid", "noexec", "nodev", "ro"]},
    {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
     "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}
  ],
  "linux": {
    "cgroupsPath": "",
    "resources": {"devices": [{"allow": false, "access": "rwm"}]},
    "namespaces": [
      {"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}
    ],
    "maskedPaths": [
      "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
      "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
      "/proc/scsi"
    ],
    "readonlyPaths": [
      "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"
    ]
  }
})json";

std::string Errno(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

void EnsureTopDir() {
  if (::mkdir(kTopDir, 0755) != 0 && errno != EEXIST) {
    throw std::runtime_error(Errno(std::string("mkdir ") + kTopDir));
  }
}

// mkdtemp under kTopDir, chmod 0755 so processes in user namespaces can traverse it.
std::string MakeTempDirIn(const std::string& name) {
  EnsureTopDir();
  std::string templ = std::string(kTopDir) + "/" + name + "-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error(Errno("mkdtemp " + templ));
  ::chmod(templ.c_str(), 0755);
  return templ;
}

std::string Join(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) {
    if (!s.empty()) s += ' ';
    bool plain = !a.empty() && a.find_first_of(" \t\n'\"\\$") == std::string::npos;
    s += plain ? a : "'" + a + "'";
  }
  return s;
}

void SetNonBlocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Reads what is available now; returns false at EOF or on a hard error.
bool Drain(int fd, std::string& into) {
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      into.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return true;
    return false;
  }
}

int PidfdOpen(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
  errno = ENOSYS;
  return -1;
#endif
}

// In the forked child: only async-signal-safe calls from here to execve.
[[noreturn]] void ExecChild(const std::vector<std::pair<int, int>>& moves, char* const* argv,
                            char* const* envp, const char* cwd) {
  ::signal(SIGPIPE, SIG_DFL);  // the harness ignores SIGPIPE; ignored signals survive exec
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::setpgid(0, 0);  // a terminal's ^C goes to the test, not straight to husk
  // Everything the test process has open (gtest, other tests' fds) must not leak.
  if (::syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */) != 0) {
    struct rlimit rl;
    int max = ::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536
                  ? static_cast<int>(rl.rlim_cur)
                  : 65536;
    for (int fd = 3; fd < max; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  // Sources are all above every target (see RunCommand), so the order does not matter.
  for (const auto& [target, source] : moves) {
    if (::dup2(source, target) < 0) ::_exit(126);
  }
  if (cwd != nullptr && ::chdir(cwd) != 0) ::_exit(126);
  ::execve(argv[0], argv, envp);
  ::_exit(127);
}

}  // namespace

std::string MakeTempDir(std::string_view name) { return MakeTempDirIn(std::string(name)); }

std::string HuskBinary() {
  const char* override_bin = ::getenv("HUSK_TEST_BINARY");
  return override_bin != nullptr && *override_bin != '\0' ? override_bin : HUSK_BINARY;
}
std::string RootfsPath() { return HUSK_ROOTFS; }
bool BinaryAvailable() { return ::access(HuskBinary().c_str(), X_OK) == 0; }
bool RootfsAvailable() { return ::access((RootfsPath() + "/bin/busybox").c_str(), X_OK) == 0; }

std::ostream& operator<<(std::ostream& os, const CmdResult& r) {
  os << "`" << r.command << "` ";
  if (r.timed_out) os << "timed out and was killed";
  else if (r.term_signal != 0) os << "was killed by signal " << r.term_signal;
  else os << "exited " << r.exit_code;
  os << "\n--- stdout ---\n" << r.out << "\n--- stderr ---\n" << r.err << "\n---";
  return os;
}

CmdResult RunCommand(const std::vector<std::string>& argv, const RunOptions& opts) {
  CmdResult result;
  result.command = Join(argv);
  if (argv.empty()) throw std::invalid_argument("RunCommand: empty argv");
  static const bool sigpipe_ignored = [] {
    ::signal(SIGPIPE, SIG_IGN);  // a child that exits early must not kill the test
    return true;
  }();
  (void)sigpipe_ignored;

  // Parent ends and child sources. Child sources get moved above every target fd number
  // so that the dup2 sequence in the child cannot clobber a source it still needs.
  int pipes_out[2] = {-1, -1}, pipes_err[2] = {-1, -1}, pipes_in[2] = {-1, -1};
  auto make_pipe = [](int p[2]) {
    if (::pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error(Errno("pipe2"));
  };
  husk::UniqueFd out_r, err_r, in_w, devnull;
  std::vector<husk::UniqueFd> child_ends;  // closed in the parent after fork
  std::vector<std::pair<int, int>> moves;  // (target, source)
  int max_target = 2;
  for (const auto& [target, source] : opts.extra_fds) max_target = std::max(max_target, target);
  auto high = [&](int fd) {
    int dup = ::fcntl(fd, F_DUPFD_CLOEXEC, max_target + 1);
    if (dup < 0) throw std::runtime_error(Errno("F_DUPFD_CLOEXEC"));
    child_ends.emplace_back(dup);
    return dup;
  };

  if (opts.stdin_data.has_value()) {
    make_pipe(pipes_in);
    in_w.Reset(pipes_in[1]);
    husk::UniqueFd r(pipes_in[0]);
    moves.emplace_back(0, high(r.get()));
    SetNonBlocking(in_w.get());
  } else {
    devnull.Reset(::open("/dev/null", O_RDWR | O_CLOEXEC));
    if (!devnull) throw std::runtime_error(Errno("open /dev/null"));
    moves.emplace_back(0, high(devnull.get()));
  }
  if (opts.stdout_fd >= 0) {
    moves.emplace_back(1, high(opts.stdout_fd));
  } else {
    make_pipe(pipes_out);
    out_r.Reset(pipes_out[0]);
    husk::UniqueFd w(pipes_out[1]);
    moves.emplace_back(1, high(w.get()));
    SetNonBlocking(out_r.get());
  }
  if (opts.stderr_fd >= 0) {
    moves.emplace_back(2, high(opts.stderr_fd));
  } else {
    make_pipe(pipes_err);
    err_r.Reset(pipes_err[0]);
    husk::UniqueFd w(pipes_err[1]);
    moves.emplace_back(2, high(w.get()));
    SetNonBlocking(err_r.get());
  }
  for (const auto& [target, source] : opts.extra_fds) moves.emplace_back(target, high(source));

  // argv/envp prepared before fork: the child must not allocate.
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  std::vector<std::string> env_strings;
  if (opts.inherit_env) {
    for (char** e = environ; *e != nullptr; ++e) {
      std::string_view kv(*e);
      std::string_view key = kv.substr(0, kv.find('='));
      bool overridden = std::any_of(opts.env.begin(), opts.env.end(), [&](const std::string& o) {
        return std::string_view(o).substr(0, o.find('=')) == key;
      });
      if (!overridden) env_strings.emplace_back(kv);
    }
  }
  env_strings.insert(env_strings.end(), opts.env.begin(), opts.env.end());
  std::vector<char*> cenv;
  for (auto& e : env_strings) cenv.push_back(e.data());
  cenv.push_back(nullptr);
  const char* cwd = opts.cwd.empty() ? nullptr : opts.cwd.c_str();

  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(Errno("fork"));
  if (pid == 0) ExecChild(moves, cargv.data(), cenv.data(), cwd);
  child_ends.clear();
  devnull.Reset();

  husk::UniqueFd pidfd(PidfdOpen(pid));
  const auto deadline = Clock::now() + opts.timeout;
  size_t written = 0;
  const std::string& input = opts.stdin_data ? *opts.stdin_data : std::string();
  if (in_w && input.empty()) in_w.Reset();
  int status = 0;
  bool exited = false;
  while (!exited) {
    pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) {
      exited = true;
      break;
    }
    auto now = Clock::now();
    if (now >= deadline) {
      ::kill(pid, SIGKILL);  // only the pid we started
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      result.timed_out = true;
      exited = true;
      break;
    }
    std::vector<pollfd> pfds;
    if (out_r) pfds.push_back({out_r.get(), POLLIN, 0});
    if (err_r) pfds.push_back({err_r.get(), POLLIN, 0});
    if (in_w) pfds.push_back({in_w.get(), POLLOUT, 0});
    if (pidfd) pfds.push_back({pidfd.get(), POLLIN, 0});
    auto left = std::chrono::duration_cast<milliseconds>(deadline - now).count() + 1;
    // Without a pidfd, poll in short slices so the exit is noticed promptly.
    int slice = pidfd ? static_cast<int>(std::min<long long>(left, 1000)) : 10;
    int n = ::poll(pfds.data(), pfds.size(), slice);
    if (n < 0 && errno != EINTR) throw std::runtime_error(Errno("poll"));
    for (const auto& p : pfds) {
      if (p.revents == 0) continue;
      if (out_r && p.fd == out_r.get() && !Drain(out_r.get(), result.out)) out_r.Reset();
      if (err_r && p.fd == err_r.get() && !Drain(err_r.get(), result.err)) err_r.Reset();
      if (in_w && p.fd == in_w.get()) {
        ssize_t k = ::write(in_w.get(), input.data() + written, input.size() - written);
        if (k > 0) written += static_cast<size_t>(k);
        if ((k < 0 && errno != EAGAIN && errno != EINTR) || written == input.size()) {
          in_w.Reset();
        }
      }
    }
  }
  // What the command wrote before exiting is in the pipes now. Do not wait for EOF: a
  // container started by `create`/`run -d` may hold the write ends for its whole life.
  if (out_r) Drain(out_r.get(), result.out);
  if (err_r) Drain(err_r.get(), result.err);

  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.term_signal = WTERMSIG(status);
  }
  if (result.timed_out) {
    ADD_FAILURE() << "timeout after " << opts.timeout.count() << " ms: " << result;
  }
  return result;
}

CmdResult RunHusk(const std::vector<std::string>& args, const RunOptions& opts) {
  std::vector<std::string> argv{HuskBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, opts);
}

std::string UniqueName(std::string_view prefix) {
  static std::atomic<int> counter{0};
  std::string name(prefix);
  if (const auto* info = ::testing::UnitTest::GetInstance()->current_test_info()) {
    if (!name.empty()) name += '-';
    name += info->name();
  }
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
  }
  if (name.size() > 40) name.resize(40);
  if (name.empty()) name = "t";
  return name + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
}

// ---------------------------------------------------------------------------------------

Bundle::Bundle() {
  path_ = MakeTempDir(UniqueName());
  id_ = path_.substr(path_.rfind('/') + 1);
  cgroups_path_ = std::string(kCgroupParent) + "/" + id_;
  config_.Parse(kDefaultConfig);
  if (config_.HasParseError()) throw std::logic_error("kDefaultConfig does not parse");
  auto& a = config_.GetAllocator();
  config_["root"]["path"].SetString(RootfsPath().c_str(), a);
  config_["linux"]["cgroupsPath"].SetString(cgroups_path_.c_str(), a);
  Write();
}

Bundle::~Bundle() {
  std::string leaks;
  std::vector<std::string> mounts = MountsMentioning(path_);
  // Deepest first, detached: never leave a mount for RemoveTree to trip over.
  std::sort(mounts.rbegin(), mounts.rend());
  for (const auto& m : mounts) {
    leaks += " " + m;
    ::umount2(m.c_str(), MNT_DETACH);
  }
  if (!leaks.empty()) ADD_FAILURE() << "mounts leaked under bundle " << path_ << ":" << leaks;
  // Leftover (empty) cgroups of this bundle; a populated one stays and is reported by
  // NoLeftovers in tests that care. Nested dirs first.
  for (auto& dir : CgroupDirs(cgroups_path_)) {
    std::vector<std::string> dirs;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_directory(ec)) dirs.push_back(it->path());
    }
    std::sort(dirs.rbegin(), dirs.rend());
    for (const auto& d : dirs) ::rmdir(d.c_str());
    ::rmdir(dir.c_str());
  }
  RemoveTree(path_);
}

void Bundle::Write() const {
  rapidjson::StringBuffer buf;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> writer(buf);
  writer.SetIndent(' ', 2);
  config_.Accept(writer);
  WriteFile(ConfigPath(), std::string_view(buf.GetString(), buf.GetSize()) , 0644);
}

void Bundle::SetJson(const std::string& pointer, std::string_view json) {
  rapidjson::Document value = ParseJson(json);
  rapidjson::Value copy(value, config_.GetAllocator());
  rapidjson::Pointer p(pointer.c_str());
  if (!p.IsValid()) throw std::invalid_argument("bad JSON pointer " + pointer);
  p.Set(config_, copy);
}

void Bundle::Remove(const std::string& pointer) {
  rapidjson::Pointer p(pointer.c_str());
  if (!p.IsValid()) throw std::invalid_argument("bad JSON pointer " + pointer);
  p.Erase(config_);
}

void Bundle::SetArgs(const std::vector<std::string>& args) {
  auto& a = config_.GetAllocator();
  rapidjson::Value arr(rapidjson::kArrayType);
  for (const auto& s : args) arr.PushBack(rapidjson::Value(s.c_str(), a), a);
  rapidjson::Pointer("/process/args").Set(config_, arr);
}

void Bundle::SetTerminal(bool terminal) {
  rapidjson::Pointer("/process/terminal").Set(config_, terminal);
}

std::string Bundle::UsePrivateRootfs(bool readonly) {
  namespace fs = std::filesystem;
  std::string dest = path_ + "/rootfs";
  fs::copy(RootfsPath(), dest,
           fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  // fs::copy keeps modes but not owners; tester's home must stay tester's.
  ::chown((dest + "/home/tester").c_str(), 1000, 1000);
  ::chmod(dest.c_str(), 0755);
  auto& a = config_.GetAllocator();
  config_["root"]["path"].SetString(dest.c_str(), a);
  config_["root"]["readonly"].SetBool(readonly);
  return dest;
}

// ---------------------------------------------------------------------------------------

TempDir::TempDir(std::string_view prefix) { path_ = MakeTempDir(UniqueName(prefix)); }
TempDir::~TempDir() { RemoveTree(path_); }

TestRoot::TestRoot() { path_ = MakeTempDir("root-" + UniqueName()); }

TestRoot::~TestRoot() {
  if (DIR* d = ::opendir(path_.c_str())) {
    std::vector<std::string> ids;
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      // "@..." is husk's own (the seccomp program cache), not a container.
      if (name != "." && name != ".." && name[0] != '@') ids.push_back(name);
    }
    ::closedir(d);
    bool kept = false;
    for (const auto& id : ids) {
      RunOptions opts;
      opts.timeout = std::chrono::seconds(20);
      CmdResult r = Husk({"delete", "--force", id}, opts);
      if (r.ok()) continue;
      // Its init may still run: leave the state dir (and so the root) for inspection
      // rather than forgetting a live container.
      struct stat st;
      bool left = ::lstat((path_ + "/" + id).c_str(), &st) == 0;
      kept = kept || left;
      ADD_FAILURE() << "cleanup of container " << id << " failed"
                    << (left ? "; its state dir is left in " + path_ : std::string()) << ": "
                    << r;
    }
    if (kept) return;
  }
  RemoveTree(path_);
}

CmdResult TestRoot::Husk(const std::vector<std::string>& args, const RunOptions& opts) const {
  std::vector<std::string> full{"--root", path_};
  full.insert(full.end(), args.begin(), args.end());
  return RunHusk(full, opts);
}

std::string TestRoot::Status(const std::string& id) const {
  CmdResult r = Husk({"state", id});
  if (!r.ok()) {
    ADD_FAILURE() << r;
    return "";
  }
  rapidjson::Document doc;
  doc.Parse(r.out.c_str());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("status") ||
      !doc["status"].IsString()) {
    ADD_FAILURE() << "state output is not a state object: " << r;
    return "";
  }
  return doc["status"].GetString();
}

}  // namespace husk::testing
