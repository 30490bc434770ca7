// husk_bench: drives OCI runtime binaries (husk, runc, crun, ...) through the scenarios of
// shared/perf-notes.md and writes a markdown + JSON report of medians, p90s and medians of
// per-iteration ratios.
//
//   husk_bench --rootfs DIR --out DIR --runtime husk=PATH [--runtime|--optional NAME=PATH]...
//              [--quick] [--only a,b,...]
//
// How it measures (perf-notes.md "How to benchmark"):
// - Runtimes are interleaved A B C A B C ...; every row keeps the per-iteration values so
//   ratios are medians (and p90s) of per-iteration ratios, never ratios of medians.
// - Every container gets its own bundle (config.json only; root.path is the shared
//   read-only busybox rootfs) and a unique absolute cgroupsPath /husk-test/bench-<pid>-<n>.
// - Bundles and state dirs live on a private tmpfs mounted in the harness's own mount
//   namespace. On a hybrid cgroup host the harness unmounts /sys/fs/cgroup/unified in that
//   namespace once at start (crun 1.8.1 fails otherwise); every runtime runs in it.
// - The harness is a child subreaper: a created container's init is reparented to it, so
//   it reaps the init and gets its CPU time (wait4 rusage), and no process can escape.
// - Commands are started with posix_spawn; wall time is CLOCK_MONOTONIC around spawn+wait4,
//   CPU is user+sys of the rusage of wait4 (the process plus the children it reaped).
//
// Exit status: 0 when every scenario ran for every runtime without an unexpected error,
// 1 otherwise, 77 (skip) when not root. It never judges absolute times.

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <elf.h>
#include <linux/magic.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include "spec/default_config.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// ---------------------------------------------------------------------------------------
// Small helpers

volatile sig_atomic_t g_stop = 0;
volatile sig_atomic_t g_alarm = 0;
struct Stopped : std::runtime_error {
  Stopped() : std::runtime_error("interrupted") {}
};
void CheckStop() {
  if (g_stop) throw Stopped();
}

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}
double Ms(int64_t ns) { return double(ns) / 1e6; }
double CpuMs(const rusage& ru) {
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}
void SleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

std::string ReadFile(const std::string& path, size_t max = 1 << 20) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return "";
  std::string s(max, '\0');
  f.read(s.data(), std::streamsize(max));
  s.resize(size_t(f.gcount()));
  return s;
}
void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) throw std::runtime_error("cannot write " + path);
  f << data;
}
std::string Trim(std::string s) {
  while (!s.empty() && std::isspace((unsigned char)s.back())) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace((unsigned char)s[i])) i++;
  return s.substr(i);
}
std::string FirstLine(const std::string& s) {
  std::string t = Trim(s);
  auto nl = t.find('\n');
  return nl == std::string::npos ? t : t.substr(0, nl);
}
std::string Excerpt(const std::string& s, size_t max = 300) {
  std::string t = Trim(s);
  for (auto& c : t)
    if (c == '\n' || c == '|') c = ' ';
  if (t.size() > max) t = t.substr(0, max) + "...";
  return t;
}
std::string Fmt(const char* fmt, double v) {
  char b[64];
  std::snprintf(b, sizeof b, fmt, v);
  return b;
}

// Percentile with linear interpolation between closest ranks; NaNs are ignored.
double Pct(std::vector<double> v, double p) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return !std::isfinite(x); }),
          v.end());
  if (v.empty()) return kNaN;
  std::sort(v.begin(), v.end());
  double pos = p * double(v.size() - 1);
  size_t lo = size_t(std::floor(pos)), hi = size_t(std::ceil(pos));
  return v[lo] + (v[hi] - v[lo]) * (pos - double(lo));
}
double Median(const std::vector<double>& v) { return Pct(v, 0.5); }
double P90(const std::vector<double>& v) { return Pct(v, 0.9); }

// ---------------------------------------------------------------------------------------
// Processes

struct Reaped {
  int status = 0;
  rusage ru{};
  int64_t t_ns = 0;
};
std::map<pid_t, Reaped> g_reaped;  // orphans (container inits) reaped by the subreaper

// Reaps every exited child not waited for yet; returns the CPU ms they used.
double ReapOrphans() {
  double cpu = 0;
  for (;;) {
    int st;
    rusage ru;
    pid_t p = wait4(-1, &st, WNOHANG, &ru);
    if (p <= 0) break;
    g_reaped[p] = Reaped{st, ru, NowNs()};
    cpu += CpuMs(ru);
  }
  return cpu;
}

struct CallResult {
  double wall_ms = kNaN, cpu_ms = kNaN, maxrss_kb = kNaN;
  int status = -1;
  bool timed_out = false;
  std::string out, err, cmd;
  bool ok() const { return !timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0; }
  std::string Describe() const {
    std::string s = "`" + cmd + "` ";
    if (timed_out)
      s += "timed out";
    else if (WIFSIGNALED(status))
      s += "killed by signal " + std::to_string(WTERMSIG(status));
    else
      s += "exited " + std::to_string(WEXITSTATUS(status));
    std::string t = Excerpt(err.empty() ? out : err);
    if (!t.empty()) s += ": " + t;
    return s;
  }
};

std::string g_io_dir;  // where stdout/stderr of commands go (tmpfs)
int g_io_seq = 0;

std::string Join(const std::vector<std::string>& argv) {
  std::string s;
  for (auto& a : argv) s += (s.empty() ? "" : " ") + a;
  return s;
}

struct Spawned {
  pid_t pid = -1;
  int64_t t0 = 0;
  std::string out_path, err_path, cmd;
};

Spawned Spawn(const std::vector<std::string>& argv) {
  Spawned s;
  s.cmd = Join(argv);
  int seq = g_io_seq++ % 64;  // a small ring of files; parallel batches stay below it
  s.out_path = g_io_dir + "/out." + std::to_string(seq);
  s.err_path = g_io_dir + "/err." + std::to_string(seq);
  int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int out = open(s.out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int err = open(s.err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (in < 0 || out < 0 || err < 0) throw std::runtime_error("open io files: " + std::string(strerror(errno)));
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in, 0);
  posix_spawn_file_actions_adddup2(&fa, out, 1);
  posix_spawn_file_actions_adddup2(&fa, err, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  s.t0 = NowNs();
  int rc = posix_spawn(&s.pid, cargv[0], &fa, &attr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  close(in);
  close(out);
  close(err);
  if (rc != 0) throw std::runtime_error("spawn " + argv[0] + ": " + strerror(rc));
  return s;
}

// Waits for a child with a timeout (pidfd + poll, then wait4). Returns false on timeout.
bool WaitChild(pid_t pid, int timeout_ms, int* st, rusage* ru) {
  int pfd = int(syscall(SYS_pidfd_open, pid, 0));
  if (pfd >= 0) {
    pollfd p{pfd, POLLIN, 0};
    int rc;
    do rc = poll(&p, 1, timeout_ms);
    while (rc < 0 && errno == EINTR && !g_stop);
    close(pfd);
    if (rc == 0) return false;
  }
  while (wait4(pid, st, 0, ru) < 0) {
    if (errno != EINTR) return false;
  }
  return true;
}

CallResult Finish(const Spawned& s, int timeout_ms = 30000) {
  CallResult r;
  r.cmd = s.cmd;
  rusage ru{};
  int st = 0;
  if (!WaitChild(s.pid, timeout_ms, &st, &ru)) {
    kill(s.pid, SIGKILL);  // our own child
    wait4(s.pid, &st, 0, &ru);
    r.timed_out = true;
  }
  int64_t t1 = NowNs();
  r.status = st;
  r.wall_ms = Ms(t1 - s.t0);
  r.cpu_ms = CpuMs(ru);
  r.maxrss_kb = double(ru.ru_maxrss);
  r.out = ReadFile(s.out_path, 1 << 16);
  r.err = ReadFile(s.err_path, 1 << 16);
  return r;
}

CallResult Call(const std::vector<std::string>& argv, int timeout_ms = 30000) {
  return Finish(Spawn(argv), timeout_ms);
}

std::string g_rss_probe;  // husk_bench_rss next to husk_bench

// Runs a command through the static RSS probe; returns its peak RSS in KiB (NaN on error).
double PeakRssKb(const std::vector<std::string>& argv, CallResult* r) {
  std::string out = g_io_dir + "/maxrss";
  unlink(out.c_str());
  std::vector<std::string> a{g_rss_probe, out};
  a.insert(a.end(), argv.begin(), argv.end());
  *r = Call(a);
  std::string v = Trim(ReadFile(out));
  return r->ok() && !v.empty() ? std::stod(v) : kNaN;
}

// Waits for an orphan (a container init reparented to us) to exit; returns its exit info.
std::optional<Reaped> WaitOrphan(pid_t pid, int timeout_ms) {
  if (auto it = g_reaped.find(pid); it != g_reaped.end()) {
    Reaped r = it->second;
    g_reaped.erase(it);
    return r;
  }
  int st;
  rusage ru;
  int pfd = int(syscall(SYS_pidfd_open, pid, 0));
  if (pfd < 0) return std::nullopt;
  pollfd p{pfd, POLLIN, 0};
  int rc;
  do rc = poll(&p, 1, timeout_ms);
  while (rc < 0 && errno == EINTR && !g_stop);
  close(pfd);
  if (rc <= 0) return std::nullopt;
  if (wait4(pid, &st, WNOHANG, &ru) == pid) return Reaped{st, ru, NowNs()};
  // Not our child (the runtime kept it): it exited, but we have no rusage.
  return Reaped{0, rusage{}, NowNs()};
}

// ---------------------------------------------------------------------------------------
// Runtimes, bundles, cgroups

struct Runtime {
  std::string name, path, root;
  bool required = true;
  std::string version;
};

struct Env {
  std::string rootfs, out_dir, work, bundles, binds;
  bool quick = false;
  std::vector<std::string> cg_mounts;   // cgroup hierarchy mount points (in our mount ns)
  std::set<std::string> cg_parent_preexisting;
  std::string cgroup_mode_host, cgroup_mode_bench;
  bool unified_unmounted = false;
  int seq = 0;
  std::string tag;
} g;

std::vector<std::string> Args(const Runtime& rt, std::initializer_list<std::string> rest) {
  std::vector<std::string> a{rt.path, "--root", rt.root};
  a.insert(a.end(), rest.begin(), rest.end());
  return a;
}

// Config variants (the base is `runc spec` of runc 1.1.5, made read-only and non-terminal).
struct Variant {
  std::string name = "default";
  std::vector<std::string> args{"/bin/true"};
  bool netns = true, cgroup_mount = true, masks = true;
  bool heavy = false;   // 10 bind mounts + memory/cpu/pids limits
  bool seccomp = false; // Docker-like default seccomp profile
};

// The base config is `runc spec`'s (spec::DefaultConfigJson reproduces it) without a tty.

// Docker's default seccomp allow list (x86_64 names), ~300 rules with the conditional ones.
const char* kSeccompSyscalls[] = {
    "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "capget", "capset",
    "chdir", "chmod", "chown", "clock_adjtime", "clock_getres", "clock_gettime",
    "clock_nanosleep", "close", "close_range", "connect", "copy_file_range", "creat", "dup",
    "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old",
    "epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2",
    "execve", "execveat", "exit", "exit_group", "faccessat", "faccessat2", "fadvise64",
    "fallocate", "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchown", "fchownat",
    "fcntl", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr",
    "fsetxattr", "fstat", "fstatfs", "fsync", "ftruncate", "futex", "futex_waitv",
    "futimesat", "getcpu", "getcwd", "getdents", "getdents64", "getegid", "geteuid", "getgid",
    "getgroups", "getitimer", "getpeername", "getpgid", "getpgrp", "getpid", "getppid",
    "getpriority", "getrandom", "getresgid", "getresuid", "getrlimit", "get_robust_list",
    "getrusage", "getsid", "getsockname", "getsockopt", "get_thread_area", "gettid",
    "gettimeofday", "getuid", "getxattr", "inotify_add_watch", "inotify_init",
    "inotify_init1", "inotify_rm_watch", "io_cancel", "ioctl", "io_destroy", "io_getevents",
    "io_pgetevents", "ioprio_get", "ioprio_set", "io_setup", "io_submit", "io_uring_enter",
    "io_uring_register", "io_uring_setup", "kill", "landlock_add_rule",
    "landlock_create_ruleset", "landlock_restrict_self", "lchown", "lgetxattr", "link",
    "linkat", "listen", "listxattr", "llistxattr", "lremovexattr", "lseek", "lsetxattr",
    "lstat", "madvise", "membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir",
    "mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap", "mprotect",
    "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive", "mq_timedsend", "mq_unlink",
    "mremap", "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock", "munlockall",
    "munmap", "name_to_handle_at", "nanosleep", "newfstatat", "open", "openat", "openat2",
    "pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free",
    "pkey_mprotect", "poll", "ppoll", "prctl", "pread64", "preadv", "preadv2", "prlimit64",
    "process_mrelease", "pselect6", "pwrite64", "pwritev", "pwritev2", "read", "readahead",
    "readlink", "readlinkat", "readv", "recvfrom", "recvmmsg", "recvmsg", "remap_file_pages",
    "removexattr", "rename", "renameat", "renameat2", "restart_syscall", "rmdir", "rseq",
    "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn",
    "rt_sigsuspend", "rt_sigtimedwait", "rt_tgsigqueueinfo", "sched_getaffinity",
    "sched_getattr", "sched_getparam", "sched_get_priority_max", "sched_get_priority_min",
    "sched_getscheduler", "sched_rr_get_interval", "sched_setaffinity", "sched_setattr",
    "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select", "semctl",
    "semget", "semop", "semtimedop", "sendfile", "sendmmsg", "sendmsg", "sendto", "setfsgid",
    "setfsuid", "setgid", "setgroups", "setitimer", "setpgid", "setpriority", "setregid",
    "setresgid", "setresuid", "setreuid", "setrlimit", "set_robust_list", "setsid",
    "setsockopt", "set_thread_area", "set_tid_address", "setuid", "setxattr", "shmat",
    "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd", "signalfd4", "socket",
    "socketpair", "splice", "stat", "statfs", "statx", "symlink", "symlinkat", "sync",
    "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create",
    "timer_delete", "timer_getoverrun", "timer_gettime", "timer_settime", "timerfd_create",
    "timerfd_gettime", "timerfd_settime", "times", "tkill", "truncate", "umask", "uname",
    "unlink", "unlinkat", "utime", "utimensat", "utimes", "vfork", "vmsplice", "wait4",
    "waitid", "write", "writev", "arch_prctl", "modify_ldt", "clone", "clone3", "chroot",
    "setdomainname", "sethostname", "ptrace", "process_vm_readv", "process_vm_writev"};

using JV = rapidjson::Value;

JV Str(const std::string& s, rapidjson::Document::AllocatorType& a) {
  return JV(s.c_str(), rapidjson::SizeType(s.size()), a);
}
JV StrArray(const std::vector<std::string>& v, rapidjson::Document::AllocatorType& a) {
  JV arr(rapidjson::kArrayType);
  for (auto& s : v) arr.PushBack(Str(s, a), a);
  return arr;
}

void AddSeccomp(rapidjson::Document& d) {
  auto& a = d.GetAllocator();
  JV sc(rapidjson::kObjectType);
  sc.AddMember("defaultAction", "SCMP_ACT_ERRNO", a);
  sc.AddMember("defaultErrnoRet", 1, a);
  sc.AddMember("architectures",
               StrArray({"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}, a), a);
  JV rules(rapidjson::kArrayType);
  std::vector<std::string> names;
  for (auto* n : kSeccompSyscalls) {
    std::string s = n;
    if (s == "clone" || s == "clone3") continue;  // conditional below
    names.push_back(s);
  }
  JV allow(rapidjson::kObjectType);
  allow.AddMember("names", StrArray(names, a), a);
  allow.AddMember("action", "SCMP_ACT_ALLOW", a);
  rules.PushBack(allow, a);
  // personality(2) with Docker's allowed personas.
  for (uint64_t persona : {uint64_t(0), uint64_t(8), uint64_t(131072), uint64_t(131080), uint64_t(4294967295u)}) {
    JV r(rapidjson::kObjectType);
    r.AddMember("names", StrArray({"personality"}, a), a);
    r.AddMember("action", "SCMP_ACT_ALLOW", a);
    JV args(rapidjson::kArrayType), arg(rapidjson::kObjectType);
    arg.AddMember("index", 0, a);
    arg.AddMember("value", persona, a);
    arg.AddMember("op", "SCMP_CMP_EQ", a);
    args.PushBack(arg, a);
    r.AddMember("args", args, a);
    rules.PushBack(r, a);
  }
  // clone(2) without namespace flags; clone3 gets ENOSYS so libcs fall back to clone.
  {
    JV r(rapidjson::kObjectType);
    r.AddMember("names", StrArray({"clone"}, a), a);
    r.AddMember("action", "SCMP_ACT_ALLOW", a);
    JV args(rapidjson::kArrayType), arg(rapidjson::kObjectType);
    arg.AddMember("index", 0, a);
    arg.AddMember("value", uint64_t(2114060288u), a);
    arg.AddMember("valueTwo", 0, a);
    arg.AddMember("op", "SCMP_CMP_MASKED_EQ", a);
    args.PushBack(arg, a);
    r.AddMember("args", args, a);
    rules.PushBack(r, a);
    JV r3(rapidjson::kObjectType);
    r3.AddMember("names", StrArray({"clone3"}, a), a);
    r3.AddMember("action", "SCMP_ACT_ERRNO", a);
    r3.AddMember("errnoRet", 38, a);
    rules.PushBack(r3, a);
  }
  sc.AddMember("syscalls", rules, a);
  d["linux"].AddMember("seccomp", sc, a);
}

std::string ConfigFor(const Variant& v, const std::string& cgpath) {
  rapidjson::Document d;
  d.Parse(husk::spec::DefaultConfigJson(false).c_str());
  auto& a = d.GetAllocator();
  d["process"]["terminal"] = false;
  d["hostname"] = "bench";
  d["ociVersion"] = "1.0.2-dev";  // crun 1.8.1 refuses newer versions ("unknown version")
  d["root"]["path"] = Str(g.rootfs, a);
  d["process"]["args"] = StrArray(v.args, a);
  auto& lin = d["linux"];
  lin.AddMember("cgroupsPath", Str(cgpath, a), a);
  if (!v.netns) {
    auto& ns = lin["namespaces"];
    for (auto it = ns.Begin(); it != ns.End(); ++it)
      if (std::string((*it)["type"].GetString()) == "network") {
        ns.Erase(it);
        break;
      }
  }
  if (!v.cgroup_mount) {
    auto& m = d["mounts"];
    for (auto it = m.Begin(); it != m.End(); ++it)
      if (std::string((*it)["destination"].GetString()) == "/sys/fs/cgroup") {
        m.Erase(it);
        break;
      }
  }
  if (!v.masks) {
    lin["maskedPaths"].Clear();
    lin["readonlyPaths"].Clear();
  }
  if (v.heavy) {
    auto& m = d["mounts"];
    JV t(rapidjson::kObjectType);
    t.AddMember("destination", "/tmp", a);
    t.AddMember("type", "tmpfs", a);
    t.AddMember("source", "tmpfs", a);
    t.AddMember("options", StrArray({"nosuid", "nodev", "mode=1777", "size=65536k"}, a), a);
    m.PushBack(t, a);
    for (int i = 0; i < 10; i++) {
      JV b(rapidjson::kObjectType);
      b.AddMember("destination", Str("/tmp/b" + std::to_string(i), a), a);
      b.AddMember("type", "bind", a);
      b.AddMember("source", Str(g.binds + "/b" + std::to_string(i), a), a);
      b.AddMember("options", StrArray({"rbind", "ro", "nosuid", "nodev"}, a), a);
      m.PushBack(b, a);
    }
    auto& res = lin["resources"];
    JV mem(rapidjson::kObjectType);
    mem.AddMember("limit", int64_t(256) << 20, a);
    res.AddMember("memory", mem, a);
    JV cpu(rapidjson::kObjectType);
    cpu.AddMember("shares", 512, a);
    cpu.AddMember("quota", 50000, a);
    cpu.AddMember("period", 100000, a);
    res.AddMember("cpu", cpu, a);
    JV pids(rapidjson::kObjectType);
    pids.AddMember("limit", 1024, a);
    res.AddMember("pids", pids, a);
  }
  if (v.seccomp) AddSeccomp(d);
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  d.Accept(w);
  return sb.GetString();
}

struct Container {
  std::string id, bundle, cgpath;
  pid_t init = -1;
};

Container MakeBundle(const std::string& prefix, const Variant& v) {
  Container c;
  int n = g.seq++;
  c.id = prefix + "-" + std::to_string(n);
  c.bundle = g.bundles + "/" + c.id;
  c.cgpath = "/husk-test/bench-" + g.tag + "-" + std::to_string(n);
  fs::create_directory(c.bundle);
  WriteFile(c.bundle + "/config.json", ConfigFor(v, c.cgpath));
  return c;
}

std::vector<std::string> g_leaks;  // cgroup dirs that a runtime left behind

// Removes whatever a container left: state (delete --force), its cgroups, its bundle.
void Dispose(const Runtime& rt, const Container& c, bool force_delete) {
  if (force_delete || fs::exists(rt.root + "/" + c.id)) {
    Call(Args(rt, {"delete", "--force", c.id}), 20000);
  }
  ReapOrphans();
  for (auto& mp : g.cg_mounts) {
    std::string dir = mp + c.cgpath;
    if (rmdir(dir.c_str()) == 0) {
      // The runtime did not remove its cgroup (rmdir succeeded only because it was empty).
      g_leaks.push_back(rt.name + ": " + dir);
    }
  }
  std::error_code ec;
  fs::remove_all(c.bundle, ec);
}

// ---------------------------------------------------------------------------------------
// Results

struct Row {
  std::string metric, unit;
  std::map<std::string, std::vector<double>> v;  // runtime -> per-iteration values
  std::map<std::string, std::string> na;         // runtime -> why there is no value
  bool higher_better = false;
  bool no_ratio = false;  // differences and counts: ratios would mean nothing
};

struct Section {
  std::string id, title;
  std::vector<std::string> notes;
  std::vector<Row> rows;
  std::vector<std::string> errors;
  Row& R(const std::string& metric, const std::string& unit, bool higher_better = false) {
    for (auto& r : rows)
      if (r.metric == metric) return r;
    rows.push_back(Row{metric, unit, {}, {}, higher_better});
    return rows.back();
  }
};

std::vector<Runtime> g_rts;
std::vector<Section> g_sections;

struct Ratio {
  double med = kNaN, p90 = kNaN;
  size_t n = 0;
};
Ratio RatioOf(const Row& r, const std::string& a, const std::string& b) {
  Ratio out;
  auto ia = r.v.find(a), ib = r.v.find(b);
  if (ia == r.v.end() || ib == r.v.end()) return out;
  std::vector<double> q;
  size_t n = std::min(ia->second.size(), ib->second.size());
  for (size_t i = 0; i < n; i++) {
    double x = ia->second[i], y = ib->second[i];
    if (std::isfinite(x) && std::isfinite(y) && y > 0) q.push_back(x / y);
  }
  out.n = q.size();
  if (!q.empty()) {
    out.med = Median(q);
    out.p90 = P90(q);
  }
  return out;
}

std::string Num(double v) {
  if (!std::isfinite(v)) return "-";
  if (v == std::floor(v) && std::fabs(v) < 1000) return Fmt("%.0f", v);
  double a = std::fabs(v);
  if (a >= 1000) return Fmt("%.0f", v);
  if (a >= 100) return Fmt("%.1f", v);
  if (a >= 10) return Fmt("%.2f", v);
  return Fmt("%.3f", v);
}

std::string Cell(const Row& r, const std::string& rt) {
  if (auto it = r.na.find(rt); it != r.na.end()) return "n/a: " + it->second;
  auto it = r.v.find(rt);
  if (it == r.v.end()) return "-";
  size_t finite = std::count_if(it->second.begin(), it->second.end(),
                                [](double x) { return std::isfinite(x); });
  if (finite == 0) return "-";
  if (finite == 1) return Num(Median(it->second));
  return Num(Median(it->second)) + " (" + Num(P90(it->second)) + ")";
}

std::string RatioCell(const Row& r, const std::string& a, const std::string& b) {
  if (r.no_ratio) return "";
  if (r.na.count(a) || r.na.count(b)) return "n/a";
  Ratio q = RatioOf(r, a, b);
  if (q.n == 0) return "-";
  if (q.n == 1) return Fmt("%.2fx", q.med);
  return Fmt("%.2fx", q.med) + " (" + Fmt("%.2fx", q.p90) + ")";
}

const Runtime* Find(const std::string& name) {
  for (auto& r : g_rts)
    if (r.name == name) return &r;
  return nullptr;
}

// ---------------------------------------------------------------------------------------
// Scenario building blocks

struct Counts {
  int a_b2b, a_paced, b, c_n, c_rounds, d_b2b, d_paced, e_state, e_list, f_version, g, h;
  std::vector<int> c_j, e_m;
  int gap_ms;
};
Counts g_n;

// Records a failure of a runtime in a section; husk failures on unsupported features are
// the caller's business (they are not errors).
void Fail(Section& s, const Runtime& rt, const std::string& what) {
  s.errors.push_back(rt.name + ": " + what);
  std::cerr << "bench: [" << s.id << "] " << rt.name << ": " << what << "\n";
}

// One foreground `run`: wall, CPU (the CLI and everything it reaped, plus orphans we
// reaped), peak RSS. Returns false on failure.
bool RunOnce(const Runtime& rt, const std::string& prefix, const Variant& v, double* wall,
             double* cpu, std::string* err, std::string* raw_err = nullptr) {
  Container c = MakeBundle(prefix, v);
  ReapOrphans();
  CallResult r = Call(Args(rt, {"run", "--bundle", c.bundle, c.id}));
  double orphan_cpu = ReapOrphans();
  bool ok = r.ok();
  if (ok) {
    *wall = r.wall_ms;
    *cpu = r.cpu_ms + orphan_cpu;
  } else {
    if (err) *err = r.Describe();
    if (raw_err) *raw_err = r.err + r.out;
  }
  Dispose(rt, c, !ok);
  return ok;
}

// Probes whether a runtime can run a variant; returns the error text if not.
std::optional<std::string> Probe(const Runtime& rt, const Variant& v, std::string* raw = nullptr) {
  double w, c;
  std::string err;
  if (RunOnce(rt, "probe", v, &w, &c, &err, raw)) return std::nullopt;
  return err;
}

// The message of a runtime's error output: the msg="..." of a logrus-style line if any.
std::string CleanErr(const std::string& err) {
  std::string line = FirstLine(err);
  for (const std::string& l : {err}) {
    auto p = l.find("msg=\"");
    if (p == std::string::npos) break;
    std::string m;
    for (size_t i = p + 5; i < l.size() && l[i] != '"'; i++) {
      if (l[i] == '\\' && i + 1 < l.size()) i++;
      m += l[i];
    }
    line = m;
  }
  return Excerpt(line, 160);
}

bool LooksUnsupported(const std::string& err) {
  std::string e = err;
  std::transform(e.begin(), e.end(), e.begin(), ::tolower);
  return e.find("not supported") != std::string::npos ||
         e.find("unsupported") != std::string::npos ||
         e.find("not implemented") != std::string::npos ||
         e.find("unknown command") != std::string::npos;
}

// ---------------------------------------------------------------------------------------
// a. sequential run

void ScenarioA() {
  Section s{"a", "a. sequential `run` of /bin/true (default config)"};
  s.notes.push_back("back-to-back: one `run` right after the other; paced: " +
                    std::to_string(g_n.gap_ms) +
                    " ms idle before each run (isolated start, shows blocking such as the "
                    "cgroup.procs RCU grace period). CPU = the CLI and all it reaped.");
  Variant v;
  for (int paced = 0; paced < 2; paced++) {
    int iters = paced ? g_n.a_paced : g_n.a_b2b;
    std::string mode = paced ? "paced" : "b2b";
    for (int i = 0; i < iters; i++) {
      for (auto& rt : g_rts) {
        CheckStop();
        if (paced) SleepMs(g_n.gap_ms);
        double w = kNaN, c = kNaN;
        std::string err;
        if (!RunOnce(rt, "a", v, &w, &c, &err)) Fail(s, rt, err);
        s.R("run " + mode + " wall", "ms").v[rt.name].push_back(w);
        s.R("run " + mode + " CPU", "ms").v[rt.name].push_back(c);
      }
    }
  }
  g_sections.push_back(std::move(s));
}

// ---------------------------------------------------------------------------------------
// b. create / start / wait / delete

struct InitMem {
  double rss_kb = kNaN, pss_kb = kNaN;
};
InitMem SmapsRollup(pid_t pid) {
  InitMem m;
  std::istringstream in(ReadFile("/proc/" + std::to_string(pid) + "/smaps_rollup"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Rss:", 0) == 0) m.rss_kb = std::stod(line.substr(4));
    if (line.rfind("Pss:", 0) == 0) m.pss_kb = std::stod(line.substr(4));
  }
  return m;
}

void ScenarioB(Section& f) {
  Section s{"b", "b. phased lifecycle: create / start / wait / state / delete"};
  s.notes.push_back(
      "create (with --pid-file), start, wait = from `start` returning until the init is reaped "
      "by the harness (subreaper), state of the stopped container, delete. CPU per CLI call "
      "from wait4 rusage; init CPU = the container process (its rusage when reaped).");
  Variant v;
  for (int i = 0; i < g_n.b; i++) {
    for (auto& rt : g_rts) {
      CheckStop();
      Container c = MakeBundle("b", v);
      std::string pidfile = c.bundle + "/pid";
      ReapOrphans();
      double cw = kNaN, cc = kNaN, sw = kNaN, sc = kNaN, ww = kNaN, ic = kNaN, tw = kNaN,
             tc = kNaN, dw = kNaN, dc = kNaN;
      bool ok = false;
      CallResult r = Call(Args(rt, {"create", "--bundle", c.bundle, "--pid-file", pidfile, c.id}));
      if (!r.ok()) {
        Fail(s, rt, r.Describe());
      } else {
        cw = r.wall_ms;
        cc = r.cpu_ms;
                pid_t init = pid_t(std::atoi(ReadFile(pidfile).c_str()));
        InitMem mem = init > 0 ? SmapsRollup(init) : InitMem{};
        f.R("created init RSS", "MB").v[rt.name].push_back(mem.rss_kb / 1024);
        f.R("created init PSS", "MB").v[rt.name].push_back(mem.pss_kb / 1024);
        r = Call(Args(rt, {"start", c.id}));
        int64_t t_started = NowNs();
        if (!r.ok()) {
          Fail(s, rt, r.Describe());
        } else {
          sw = r.wall_ms;
          sc = r.cpu_ms;
                    auto ex = init > 0 ? WaitOrphan(init, 20000) : std::nullopt;
          if (!ex) {
            Fail(s, rt, "init " + std::to_string(init) + " did not exit");
          } else {
            ww = Ms(std::max<int64_t>(0, ex->t_ns - t_started));
            ic = CpuMs(ex->ru);
            r = Call(Args(rt, {"state", c.id}));
            if (!r.ok() || r.out.find("stopped") == std::string::npos) {
              Fail(s, rt, "state of a stopped container: " + r.Describe() + " " + Excerpt(r.out, 120));
            } else {
              tw = r.wall_ms;
              tc = r.cpu_ms;
                          }
            r = Call(Args(rt, {"delete", c.id}));
            if (!r.ok()) {
              Fail(s, rt, r.Describe());
            } else {
              dw = r.wall_ms;
              dc = r.cpu_ms;
              ok = true;
                          }
          }
        }
      }
      Dispose(rt, c, !ok);
      s.R("create wall", "ms").v[rt.name].push_back(cw);
      s.R("start wall", "ms").v[rt.name].push_back(sw);
      s.R("wait wall (start returned -> init reaped)", "ms").v[rt.name].push_back(ww);
      s.R("state wall", "ms").v[rt.name].push_back(tw);
      s.R("delete wall", "ms").v[rt.name].push_back(dw);
      s.R("create CPU", "ms").v[rt.name].push_back(cc);
      s.R("start CPU", "ms").v[rt.name].push_back(sc);
      s.R("state CPU", "ms").v[rt.name].push_back(tc);
      s.R("delete CPU", "ms").v[rt.name].push_back(dc);
      s.R("init CPU (container process)", "ms").v[rt.name].push_back(ic);
      s.R("create+start+delete CPU", "ms").v[rt.name].push_back(cc + sc + dc);
      s.R("create+start+state+delete CPU (4 calls)", "ms").v[rt.name].push_back(cc + sc + tc + dc);
      s.R("total wall create..delete", "ms").v[rt.name].push_back(cw + sw + ww + tw + dw);
    }
  }
  g_sections.push_back(std::move(s));
}

// ---------------------------------------------------------------------------------------
// c. parallel run

void OnAlarm(int) { g_alarm = 1; }

void ScenarioC() {
  Section s{"c", "c. parallel `run` of /bin/true: N containers, J in flight"};
  s.notes.push_back("N = " + std::to_string(g_n.c_n) + " foreground `run`s per batch, " +
                    std::to_string(g_n.c_rounds) +
                    " batches per runtime and J, interleaved; throughput = N / batch wall; "
                    "latency = per-run wall; values are per batch (throughput, p50, p90).");
  Variant v;
  for (int j : g_n.c_j) {
    for (int round = 0; round < g_n.c_rounds; round++) {
      for (auto& rt : g_rts) {
        CheckStop();
        ReapOrphans();
        std::vector<Container> cs;
        for (int k = 0; k < g_n.c_n; k++) cs.push_back(MakeBundle("c", v));
        std::map<pid_t, std::pair<int64_t, int>> active;  // pid -> (t0, index)
        std::vector<double> lat;
        int launched = 0, failed = 0;
        std::string first_err;
        std::map<pid_t, Spawned> spawned;
        g_alarm = 0;
        itimerval it{};
        it.it_value.tv_sec = 120;
        setitimer(ITIMER_REAL, &it, nullptr);
        int64_t t0 = NowNs();
        while (launched < g_n.c_n || !active.empty()) {
          while (launched < g_n.c_n && int(active.size()) < j) {
            auto& c = cs[size_t(launched)];
            Spawned sp = Spawn(Args(rt, {"run", "--bundle", c.bundle, c.id}));
            active[sp.pid] = {sp.t0, launched};
            spawned[sp.pid] = sp;
            launched++;
          }
          int st;
          rusage ru;
          pid_t p = wait4(-1, &st, 0, &ru);
          if (p < 0) {
            if (errno == EINTR && (g_alarm || g_stop)) {
              for (auto& [pid, _] : active) kill(pid, SIGKILL);  // our own children
              failed += int(active.size());
              first_err = "batch timed out";
              while (!active.empty()) {
                pid_t q = wait4(-1, &st, 0, &ru);
                if (q < 0 && errno == ECHILD) break;
                active.erase(q);
              }
              break;
            }
            if (errno == ECHILD) break;
            continue;
          }
          int64_t t1 = NowNs();
          auto a = active.find(p);
          if (a == active.end()) continue;  // an orphan
          lat.push_back(Ms(t1 - a->second.first));
          if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
            failed++;
            if (first_err.empty()) {
              CallResult r;
              r.cmd = spawned[p].cmd;
              r.status = st;
              r.err = ReadFile(spawned[p].err_path, 4096);
              first_err = r.Describe();
            }
          }
          active.erase(a);
        }
        int64_t t_end = NowNs();
        it.it_value.tv_sec = 0;
        setitimer(ITIMER_REAL, &it, nullptr);
        if (g_stop) throw Stopped();
        std::string js = "J=" + std::to_string(j);
        double thr = failed ? kNaN : g_n.c_n / (Ms(t_end - t0) / 1000.0);
        if (failed) Fail(s, rt, std::to_string(failed) + " of " + std::to_string(g_n.c_n) + " failed: " + first_err);
        s.R(js + " throughput", "containers/s", true).v[rt.name].push_back(thr);
        s.R(js + " latency p50", "ms").v[rt.name].push_back(failed ? kNaN : Median(lat));
        s.R(js + " latency p90", "ms").v[rt.name].push_back(failed ? kNaN : P90(lat));
        for (auto& c : cs) Dispose(rt, c, false);
      }
    }
  }
  g_sections.push_back(std::move(s));
}

// ---------------------------------------------------------------------------------------
// d. exec

void ScenarioD() {
  Section s{"d", "d. `exec /bin/true` into a running container"};
  s.notes.push_back("the container runs `/bin/sleep 1000000`; b2b = back-to-back execs, paced = " +
                    std::to_string(g_n.gap_ms) + " ms idle before each exec. " +
                    "heavy = g's config (seccomp + 10 binds + limits); heavy-noseccomp without "
                    "the seccomp profile. A runtime without `exec` is probed every run and "
                    "measured as soon as it works.");
  std::vector<Variant> vars(3);
  vars[1].name = "heavy-noseccomp";
  vars[1].heavy = true;
  vars[2].name = "heavy";
  vars[2].heavy = true;
  vars[2].seccomp = true;
  for (auto& v : vars) v.args = {"/bin/sleep", "1000000"};
  for (auto& v : vars) {
    std::map<std::string, Container> cont;
    std::map<std::string, std::string> na;
    for (auto& rt : g_rts) {
      CheckStop();
      Container c = MakeBundle("d", v);
      CallResult r = Call(Args(rt, {"run", "--detach", "--bundle", c.bundle, c.id}));
      if (!r.ok()) {
        if (rt.name == "husk" && LooksUnsupported(r.err)) {
          na[rt.name] = "config unsupported (" + CleanErr(r.err) + ")";
        } else {
          Fail(s, rt, "set-up: " + r.Describe());
          na[rt.name] = "set-up failed";
        }
        Dispose(rt, c, true);
        continue;
      }
      cont[rt.name] = c;
      r = Call(Args(rt, {"exec", c.id, "/bin/true"}));
      if (!r.ok()) {
        if (LooksUnsupported(r.err + r.out) && rt.name == "husk") {
          na[rt.name] = "exec not implemented (" + CleanErr(r.err + r.out) + ")";
        } else {
          Fail(s, rt, r.Describe());
          na[rt.name] = "exec failed";
        }
      }
    }
    for (int paced = 0; paced < 2; paced++) {
      std::string mode = paced ? "paced" : "b2b";
      std::string pre = v.name + " exec " + mode;
      for (auto& rt : g_rts) {
        if (na.count(rt.name)) {
          s.R(pre + " wall", "ms").na[rt.name] = na[rt.name];
          s.R(pre + " CPU", "ms").na[rt.name] = na[rt.name];
        }
      }
      int iters = paced ? g_n.d_paced : g_n.d_b2b;
      for (int i = 0; i < iters; i++) {
        for (auto& rt : g_rts) {
          if (na.count(rt.name)) continue;
          CheckStop();
          if (paced) SleepMs(g_n.gap_ms);
          ReapOrphans();
          CallResult r = Call(Args(rt, {"exec", cont[rt.name].id, "/bin/true"}));
          double orphan = ReapOrphans();
          if (!r.ok()) Fail(s, rt, r.Describe());
          s.R(pre + " wall", "ms").v[rt.name].push_back(r.ok() ? r.wall_ms : kNaN);
          s.R(pre + " CPU", "ms").v[rt.name].push_back(r.ok() ? r.cpu_ms + orphan : kNaN);
        }
      }
    }
    for (auto& [name, c] : cont) Dispose(*Find(name), c, true);
  }
  g_sections.push_back(std::move(s));
}

// ---------------------------------------------------------------------------------------
// e. state and list with M containers

void ScenarioE(Section& f) {
  Section s{"e", "e. `state` and `list` with M running containers"};
  s.notes.push_back("M containers per runtime (each `run --detach` of /bin/sleep), all "
                    "runtimes' containers present at once; `state` of one of them, `list` "
                    "(table format) of all.");
  Variant v;
  v.args = {"/bin/sleep", "1000000"};
  std::map<std::string, std::vector<Container>> cont;
  bool setup_failed = false;
  for (int m : g_n.e_m) {
    // Grow every runtime to m containers, interleaved.
    while (!setup_failed) {
      bool grew = false;
      for (auto& rt : g_rts) {
        if (int(cont[rt.name].size()) >= m) continue;
        CheckStop();
        Container c = MakeBundle("e", v);
        CallResult r = Call(Args(rt, {"run", "--detach", "--bundle", c.bundle, c.id}));
        if (!r.ok()) {
          Fail(s, rt, "set-up: " + r.Describe());
          Dispose(rt, c, true);
          setup_failed = true;
          break;
        }
        cont[rt.name].push_back(c);
        grew = true;
      }
      if (!grew) break;
    }
    if (setup_failed) break;
    std::string ms = "M=" + std::to_string(m);
    for (int i = 0; i < std::max(g_n.e_state, g_n.e_list); i++) {
      for (auto& rt : g_rts) {
        CheckStop();
        if (i < g_n.e_state) {
          CallResult r = Call(Args(rt, {"state", cont[rt.name].front().id}));
          if (!r.ok() || r.out.find("running") == std::string::npos)
            Fail(s, rt, "state: " + r.Describe());
          s.R("state wall " + ms, "ms").v[rt.name].push_back(r.ok() ? r.wall_ms : kNaN);
          s.R("state CPU " + ms, "ms").v[rt.name].push_back(r.ok() ? r.cpu_ms : kNaN);
        }
        if (i < g_n.e_list) {
          CallResult r = Call(Args(rt, {"list"}));
          size_t lines = size_t(std::count(r.out.begin(), r.out.end(), '\n'));
          if (!r.ok() || lines < size_t(m))
            Fail(s, rt, "list: " + r.Describe() + " (" + std::to_string(lines) + " lines)");
          s.R("list wall " + ms, "ms").v[rt.name].push_back(r.ok() ? r.wall_ms : kNaN);
          s.R("list CPU " + ms, "ms").v[rt.name].push_back(r.ok() ? r.cpu_ms : kNaN);
          if (m == g_n.e_m.back()) {
            CallResult pr;
            double kb = PeakRssKb(Args(rt, {"list"}), &pr);
            if (!pr.ok()) Fail(f, rt, "list via rss probe: " + pr.Describe());
            f.R("peak RSS: list " + ms, "MB").v[rt.name].push_back(kb / 1024);
          }
        }
      }
    }
  }
  for (auto& rt : g_rts)
    for (auto& c : cont[rt.name]) Dispose(rt, c, true);
  g_sections.push_back(std::move(s));
}

// ---------------------------------------------------------------------------------------
// f. memory, size, start-up

struct ElfSize {
  double file_mb = kNaN, load_mb = kNaN;
};
ElfSize SizeOf(const std::string& path) {
  ElfSize e;
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return e;
  e.file_mb = double(st.st_size) / (1 << 20);
  std::string data = ReadFile(path, size_t(st.st_size));
  if (data.size() >= sizeof(Elf64_Ehdr) && memcmp(data.data(), ELFMAG, SELFMAG) == 0) {
    Elf64_Ehdr eh;
    memcpy(&eh, data.data(), sizeof eh);
    uint64_t sum = 0;
    for (int i = 0; i < eh.e_phnum; i++) {
      size_t off = eh.e_phoff + size_t(i) * eh.e_phentsize;
      if (off + sizeof(Elf64_Phdr) > data.size()) break;
      Elf64_Phdr ph;
      memcpy(&ph, data.data() + off, sizeof ph);
      if (ph.p_type == PT_LOAD) sum += ph.p_filesz;
    }
    e.load_mb = double(sum) / (1 << 20);
  }
  return e;
}

// Shared libraries of a binary (transitively, via ldd) except glibc's own.
std::vector<std::string> NonLibcLibs(const std::string& bin) {
  std::vector<std::string> libs;
  CallResult r = Call({"/usr/bin/ldd", bin});
  std::istringstream in(r.out);
  std::string line;
  static const std::vector<std::string> glibc = {"libc.so", "libm.so", "libpthread.so",
                                                 "libdl.so", "librt.so", "ld-linux",
                                                 "linux-vdso", "libresolv.so"};
  while (std::getline(in, line)) {
    auto arrow = line.find("=> ");
    if (arrow == std::string::npos) continue;
    std::string path = line.substr(arrow + 3);
    path = path.substr(0, path.find(" ("));
    path = Trim(path);
    if (path.empty() || path[0] != '/') continue;
    bool skip = false;
    for (auto& gl : glibc)
      if (line.find(gl) != std::string::npos) skip = true;
    if (!skip) libs.push_back(path);
  }
  return libs;
}

void ScenarioF(Section& f) {
  f.notes.push_back("peak RSS = wait4 ru_maxrss of the CLI process (max over it and the children "
                    "it reaped). created init = /proc/<pid>/smaps_rollup of the init of a created, "
                    "not started container (from b). Sizes: the binary plus its non-glibc shared "
                    "libraries (ldd, transitive); file = bytes on disk, loaded = sum of PT_LOAD "
                    "segments (what a stripped build would ship; the two differ when a build carries debug info).");
  {
    CallResult r;
    double floor_kb = PeakRssKb({"/bin/true"}, &r);
    f.notes.push_back("Peak RSS is measured by spawning each call from a tiny static helper "
                      "(husk_bench_rss), since ru_maxrss survives execve; its floor, /bin/true "
                      "through it, is " + Fmt("%.2f", floor_kb / 1024) + " MB.");
  }
  Variant v;
  for (int i = 0; i < g_n.f_version; i++) {
    for (auto& rt : g_rts) {
      CheckStop();
      // Peak RSS of each CLI call of a lifecycle, and of `run`.
      auto rss = [&](const std::string& call, std::vector<std::string> argv) {
        CallResult pr;
        double kb = PeakRssKb(argv, &pr);
        if (!pr.ok()) Fail(f, rt, call + " via rss probe: " + pr.Describe());
        f.R("peak RSS: " + call, "MB").v[rt.name].push_back(kb / 1024);
        return pr.ok();
      };
      ReapOrphans();
      Container c = MakeBundle("f", v);
      rss("run", Args(rt, {"run", "--bundle", c.bundle, c.id}));
      ReapOrphans();
      Dispose(rt, c, false);
      c = MakeBundle("f", v);
      std::string pidfile = c.bundle + "/pid";
      bool ok = rss("create", Args(rt, {"create", "--bundle", c.bundle, "--pid-file", pidfile, c.id}));
      ok = ok && rss("state", Args(rt, {"state", c.id}));
      ok = ok && rss("start", Args(rt, {"start", c.id}));
      pid_t init = pid_t(std::atoi(ReadFile(pidfile).c_str()));
      if (ok && init > 0) WaitOrphan(init, 20000);
      ok = ok && rss("delete", Args(rt, {"delete", c.id}));
      Dispose(rt, c, !ok);
      rss("--version", {rt.path, "--version"});
      CallResult r = Call({rt.path, "--version"});
      if (!r.ok()) Fail(f, rt, r.Describe());
      f.R("--version wall", "ms").v[rt.name].push_back(r.ok() ? r.wall_ms : kNaN);
      f.R("--version CPU", "ms").v[rt.name].push_back(r.ok() ? r.cpu_ms : kNaN);
    }
  }
  for (auto& rt : g_rts) {
    ElfSize b = SizeOf(rt.path);
    double lf = 0, ll = 0;
    auto libs = NonLibcLibs(rt.path);
    for (auto& l : libs) {
      ElfSize e = SizeOf(l);
      lf += e.file_mb;
      ll += e.load_mb;
    }
    f.R("binary file size", "MB").v[rt.name] = {b.file_mb};
    f.R("binary loaded size", "MB").v[rt.name] = {b.load_mb};
    f.R("non-glibc libraries (count)", "").v[rt.name] = {double(libs.size())};
    f.R("non-glibc libraries (count)", "").no_ratio = true;
    f.R("non-glibc libraries file size", "MB").v[rt.name] = {lf};
    f.R("binary + libraries, file", "MB").v[rt.name] = {b.file_mb + lf};
    f.R("binary + libraries, loaded", "MB").v[rt.name] = {b.load_mb + ll};
  }
}

// ---------------------------------------------------------------------------------------
// g. heavy config, h. ablations: `run` b2b of config variants

void RunVariants(Section& s, const std::vector<Variant>& vars, int iters) {
  std::map<std::string, std::map<std::string, std::string>> na;  // variant -> rt -> why
  for (auto& v : vars)
    for (auto& rt : g_rts) {
      CheckStop();
      std::string raw;
      if (auto err = Probe(rt, v, &raw)) {
        if (rt.name == "husk" && LooksUnsupported(raw)) {
          na[v.name][rt.name] = "unsupported (" + CleanErr(raw) + ")";
        } else {
          Fail(s, rt, v.name + ": " + *err);
          na[v.name][rt.name] = "failed";
        }
      }
    }
  for (auto& v : vars)
    for (auto& [rt, why] : na[v.name]) {
      s.R(v.name + " run wall", "ms").na[rt] = why;
      s.R(v.name + " run CPU", "ms").na[rt] = why;
    }
  for (int i = 0; i < iters; i++)
    for (auto& v : vars)
      for (auto& rt : g_rts) {
        if (na[v.name].count(rt.name)) continue;
        CheckStop();
        double w = kNaN, c = kNaN;
        std::string err;
        if (!RunOnce(rt, s.id, v, &w, &c, &err)) Fail(s, rt, v.name + ": " + err);
        s.R(v.name + " run wall", "ms").v[rt.name].push_back(w);
        s.R(v.name + " run CPU", "ms").v[rt.name].push_back(c);
      }
}

void ScenarioG() {
  Section s{"g", "g. heavy config `run` of /bin/true (b2b)"};
  s.notes.push_back("heavy = Docker-like seccomp profile (" +
                    std::to_string(std::size(kSeccompSyscalls) + 5) +
                    " rules incl. conditional personality/clone ones, 3 architectures), a tmpfs "
                    "on /tmp plus 10 read-only bind mounts, memory 256M / cpu shares+quota / "
                    "pids limits; heavy-noseccomp = the same without the seccomp profile.");
  std::vector<Variant> vars(3);
  vars[0].name = "default";
  vars[1].name = "heavy-noseccomp";
  vars[1].heavy = true;
  vars[2].name = "heavy";
  vars[2].heavy = true;
  vars[2].seccomp = true;
  RunVariants(s, vars, g_n.g);
  g_sections.push_back(std::move(s));
}

void ScenarioH() {
  Section s{"h", "h. ablations: `run` of /bin/true (b2b) without one piece of the default config"};
  std::vector<Variant> vars(4);
  vars[0].name = "default";
  vars[1].name = "no-netns";
  vars[1].netns = false;
  vars[2].name = "no-cgroup-mount";
  vars[2].cgroup_mount = false;
  vars[3].name = "no-masks";
  vars[3].masks = false;
  s.notes.push_back("no-netns: no network namespace; no-cgroup-mount: no /sys/fs/cgroup mount; "
                    "no-masks: empty maskedPaths and readonlyPaths. The \"saved\" rows are "
                    "median(default) - median(variant) per runtime.");
  RunVariants(s, vars, g_n.h);
  for (size_t k = 1; k < vars.size(); k++) {
    for (std::string kind : {"wall", "CPU"}) {
      Row& base = s.R("default run " + kind, "ms");
      Row& var = s.R(vars[k].name + " run " + kind, "ms");
      Row out{"saved by " + vars[k].name + ", " + kind, "ms"};
      out.no_ratio = true;
      for (auto& rt : g_rts) {
        if (var.na.count(rt.name) || base.na.count(rt.name)) {
          out.na[rt.name] = "-";
          continue;
        }
        out.v[rt.name] = {Median(base.v[rt.name]) - Median(var.v[rt.name])};
      }
      s.rows.push_back(out);
    }
  }
  g_sections.push_back(std::move(s));
}

// ---------------------------------------------------------------------------------------
// Targets (issue 3), evaluated as husk / crun from this run

struct TargetResult {
  std::string what, value, verdict;
};
std::vector<TargetResult> g_targets;

const Row* FindRow(const std::string& sec, const std::string& metric) {
  for (auto& s : g_sections)
    if (s.id == sec)
      for (auto& r : s.rows)
        if (r.metric == metric) return &r;
  return nullptr;
}

void EvalTargets() {
  const std::string me = g_rts.front().name, ref = "crun";
  bool have_ref = Find(ref) != nullptr;
  auto ratio_target = [&](const std::string& what, const std::string& sec,
                          const std::string& metric, double limit, bool le) {
    TargetResult t{what};
    const Row* r = FindRow(sec, metric);
    if (!have_ref) {
      t.value = "-";
      t.verdict = "not measured (no crun)";
    } else if (!r) {
      t.value = "-";
      t.verdict = "not measured";
    } else if (r->na.count(me)) {
      t.value = "n/a";
      t.verdict = "not measured: " + r->na.at(me);
    } else {
      Ratio q = RatioOf(*r, me, ref);
      if (q.n == 0) {
        t.value = "-";
        t.verdict = "not measured";
      } else {
        t.value = Fmt("%.2fx", q.med) + " (p90 " + Fmt("%.2fx", q.p90) + ")";
        bool met = le ? q.med <= limit : q.med >= limit;
        t.verdict = met ? "met" : "missed by " + Fmt("%.2fx", le ? q.med / limit : limit / q.med) +
                                      " (" + Fmt("%+.2f", q.med - limit) + ")";
      }
    }
    g_targets.push_back(t);
  };
  ratio_target("`run` back-to-back wall <= 0.70x crun", "a", "run b2b wall", 0.70, true);
  ratio_target("paced (isolated) `run` wall <= 0.35x crun", "a", "run paced wall", 0.35, true);
  ratio_target("create+start+delete CPU <= 0.50x crun", "b", "create+start+delete CPU", 0.50, true);
  ratio_target("`exec` wall b2b <= 0.60x crun", "d", "default exec b2b wall", 0.60, true);
  ratio_target("`exec` wall paced <= 0.35x crun", "d", "default exec paced wall", 0.35, true);
  ratio_target("`state` <= 0.40x crun", "e", "state wall M=" + std::to_string(g_n.e_m.front()), 0.40, true);
  ratio_target("`list` with " + std::to_string(g_n.e_m.back()) + " containers <= 0.50x crun", "e",
               "list wall M=" + std::to_string(g_n.e_m.back()), 0.50, true);
  for (int j : g_n.c_j)
    ratio_target("parallel throughput J=" + std::to_string(j) + " >= 1.5x crun", "c",
                 "J=" + std::to_string(j) + " throughput", 1.5, false);
  // Peak RSS per CLI call: the worst of the measured calls.
  {
    TargetResult t{"peak RSS per CLI call <= 0.60x crun (worst call)"};
    double worst = kNaN;
    std::string which;
    for (auto& s : g_sections)
      for (auto& r : s.rows)
        if (r.metric.rfind("peak RSS", 0) == 0 && have_ref && !r.na.count(me)) {
          Ratio q = RatioOf(r, me, ref);
          if (q.n && (!std::isfinite(worst) || q.med > worst)) {
            worst = q.med;
            which = r.metric;
          }
        }
    if (!std::isfinite(worst)) {
      t.value = "-";
      t.verdict = "not measured";
    } else {
      t.value = Fmt("%.2fx", worst) + " (" + which + ")";
      t.verdict = worst <= 0.60 ? "met" : "missed by " + Fmt("%.2fx", worst / 0.60);
    }
    g_targets.push_back(t);
  }
  {
    TargetResult t{"binary + non-libc libraries <= 2 MB (loaded size; file size in f)"};
    const Row* r = FindRow("f", "binary + libraries, loaded");
    double v = r && r->v.count(me) ? Median(r->v.at(me)) : kNaN;
    const Row* rf = FindRow("f", "binary + libraries, file");
    double vf = rf && rf->v.count(me) ? Median(rf->v.at(me)) : kNaN;
    t.value = Num(v) + " MB (file " + Num(vf) + " MB)";
    t.verdict = !std::isfinite(v) ? "not measured"
                : v <= 2.0        ? "met"
                                  : "missed by " + Fmt("%.2f", v - 2.0) + " MB (" + Fmt("%.2fx", v / 2.0) + ")";
    g_targets.push_back(t);
  }
  ratio_target("heavy config `run` CPU <= 0.45x crun", "g", "heavy run CPU", 0.45, true);
  ratio_target("(info) heavy-noseccomp `run` CPU vs crun's heavy-noseccomp, same 0.45x bar", "g",
               "heavy-noseccomp run CPU", 0.45, true);
  // p90 of every latency no worse than crun's.
  {
    TargetResult t{"p90 of every latency (wall rows) no worse than crun's"};
    std::vector<std::string> worse;
    int checked = 0;
    if (have_ref)
      for (auto& s : g_sections)
        for (auto& r : s.rows) {
          bool latency = r.unit == "ms" && (r.metric.find("wall") != std::string::npos ||
                                            r.metric.find("latency") != std::string::npos);
          if (!latency || r.metric.rfind("saved", 0) == 0 || r.na.count(me) || !r.v.count(me) ||
              !r.v.count(ref))
            continue;
          double a = P90(r.v.at(me)), b = P90(r.v.at(ref));
          if (!std::isfinite(a) || !std::isfinite(b)) continue;
          checked++;
          if (a > b) worse.push_back(s.id + ": " + r.metric + " " + Num(a) + " vs " + Num(b));
        }
    t.value = std::to_string(checked - int(worse.size())) + "/" + std::to_string(checked) + " rows";
    t.verdict = checked == 0 ? "not measured" : worse.empty() ? "met" : "missed in " + std::to_string(worse.size()) + " rows: ";
    for (size_t i = 0; i < worse.size(); i++) t.verdict += (i ? "; " : "") + worse[i];
    g_targets.push_back(t);
  }
}

// ---------------------------------------------------------------------------------------
// Environment (i) and report

std::map<std::string, std::string> g_env;
std::vector<std::pair<std::string, std::string>> g_env_order;
void EnvSet(const std::string& k, const std::string& v) {
  if (!g_env.count(k)) g_env_order.push_back({k, ""});
  g_env[k] = v;
}

std::string FsType(const std::string& path) {
  struct statfs s;
  if (statfs(path.c_str(), &s) != 0) return "?";
  switch (s.f_type) {
    case TMPFS_MAGIC: return "tmpfs";
    case EXT4_SUPER_MAGIC: return "ext4";
    case 0x9123683E: return "btrfs";
    case 0x58465342: return "xfs";
    case OVERLAYFS_SUPER_MAGIC: return "overlayfs";
    case CGROUP2_SUPER_MAGIC: return "cgroup2";
    default: return Fmt("0x%.0f", double(s.f_type));
  }
}

std::string LoadAvg() { return FirstLine(ReadFile("/proc/loadavg")); }

void CollectEnv() {
  utsname u;
  uname(&u);
  EnvSet("kernel", std::string(u.release) + " (" + u.machine + ")");
  std::string os = ReadFile("/etc/os-release");
  auto p = os.find("PRETTY_NAME=\"");
  if (p != std::string::npos) EnvSet("os", os.substr(p + 13, os.find('"', p + 13) - p - 13));
  std::string cpu = ReadFile("/proc/cpuinfo");
  p = cpu.find("model name");
  if (p != std::string::npos) EnvSet("cpu", Trim(cpu.substr(cpu.find(':', p) + 1, cpu.find('\n', p) - cpu.find(':', p) - 1)));
  EnvSet("cpus online", std::to_string(get_nprocs()));
  struct sysinfo si;
  sysinfo(&si);
  EnvSet("memory", std::to_string(si.totalram * si.mem_unit >> 20) + " MiB");
  EnvSet("cgroup mode (host)", g.cgroup_mode_host);
  EnvSet("cgroup mode (bench mount ns)", g.cgroup_mode_bench);
  EnvSet("state dirs + bundles", g.work + " on " + FsType(g.work));
  EnvSet("rootfs", g.rootfs + " on " + FsType(g.rootfs) + " (shared, root.readonly=true)");
  EnvSet("cgroupsPath", "/husk-test/bench-" + g.tag + "-<n> (unique per container)");
}

std::string Markdown(double elapsed_s) {
  std::ostringstream o;
  const std::string me = g_rts.front().name;
  std::vector<std::string> others;
  for (size_t i = 1; i < g_rts.size(); i++) others.push_back(g_rts[i].name);
  // crun first, then runc, as the issue reads them.
  std::sort(others.begin(), others.end());
  o << "# husk benchmark report" << (g.quick ? " (quick mode: smoke only, few iterations)" : "") << "\n\n";
  o << "Cells: median (p90) over iterations. Ratio columns: median (p90) of per-iteration "
       "ratios, runtimes interleaved A B C A B C. Lower is better except throughput. Only "
       "ratios from the same run mean anything; absolute times on this shared 2-vCPU VM are "
       "noisy (other builds may have run concurrently).\n\n";
  o << "## Environment (i)\n\n| | |\n|---|---|\n";
  for (auto& [k, _] : g_env_order) o << "| " << k << " | " << g_env[k] << " |\n";
  for (auto& rt : g_rts) o << "| " << rt.name << " | `" << rt.path << "`: " << rt.version << " |\n";
  o << "| iterations | a " << g_n.a_b2b << " b2b / " << g_n.a_paced << " paced, b " << g_n.b
    << ", c " << g_n.c_rounds << "x" << g_n.c_n << " per J, d " << g_n.d_b2b << "/" << g_n.d_paced
    << ", e " << g_n.e_state << " state / " << g_n.e_list << " list, f " << g_n.f_version
    << ", g " << g_n.g << ", h " << g_n.h << " |\n";
  o << "| duration | " << Fmt("%.0f", elapsed_s) << " s |\n\n";

  o << "## Targets (issue 3; husk / crun, this run)\n\n| target | husk | verdict |\n|---|---|---|\n";
  for (auto& t : g_targets) o << "| " << t.what << " | " << t.value << " | " << t.verdict << " |\n";
  o << "\n";

  std::vector<std::string> order = {"a", "b", "c", "d", "e", "f", "g", "h"};
  for (auto& id : order)
    for (auto& s : g_sections) {
      if (s.id != id) continue;
      o << "## " << s.title << "\n\n";
      for (auto& n : s.notes) o << n << "\n\n";
      o << "| metric | unit |";
      for (auto& rt : g_rts) o << " " << rt.name << " |";
      for (auto& x : others) o << " " << me << "/" << x << " |";
      o << "\n|---|---|";
      for (size_t i = 0; i < g_rts.size() + others.size(); i++) o << "---|";
      o << "\n";
      for (auto& r : s.rows) {
        o << "| " << r.metric << " | " << r.unit << " |";
        for (auto& rt : g_rts) o << " " << Cell(r, rt.name) << " |";
        for (auto& x : others) o << " " << RatioCell(r, me, x) << " |";
        o << "\n";
      }
      if (!s.errors.empty()) {
        o << "\nErrors:\n";
        size_t shown = 0;
        for (auto& e : s.errors) {
          if (shown++ == 10) {
            o << "- ... " << s.errors.size() - 10 << " more\n";
            break;
          }
          o << "- " << Excerpt(e, 400) << "\n";
        }
      }
      o << "\n";
    }
  if (!g_leaks.empty()) {
    o << "## Cleanup notes\n\nCgroup directories a runtime left behind after delete (removed by "
         "the harness):\n";
    std::map<std::string, int> per;
    for (auto& l : g_leaks) per[l.substr(0, l.find(':'))]++;
    for (auto& [rt, n] : per) o << "- " << rt << ": " << n << " dirs\n";
    o << "\n";
  }
  return o.str();
}

std::string Json(double elapsed_s) {
  rapidjson::StringBuffer sb;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(sb);
  auto num = [&](double v) {
    if (std::isfinite(v))
      w.Double(v);
    else
      w.Null();
  };
  const std::string me = g_rts.front().name;
  w.StartObject();
  w.Key("quick");
  w.Bool(g.quick);
  w.Key("elapsed_s");
  w.Double(elapsed_s);
  w.Key("environment");
  w.StartObject();
  for (auto& [k, _] : g_env_order) {
    w.Key(k.c_str());
    w.String(g_env[k].c_str());
  }
  w.EndObject();
  w.Key("runtimes");
  w.StartArray();
  for (auto& rt : g_rts) {
    w.StartObject();
    w.Key("name");
    w.String(rt.name.c_str());
    w.Key("path");
    w.String(rt.path.c_str());
    w.Key("version");
    w.String(rt.version.c_str());
    w.EndObject();
  }
  w.EndArray();
  w.Key("targets");
  w.StartArray();
  for (auto& t : g_targets) {
    w.StartObject();
    w.Key("target");
    w.String(t.what.c_str());
    w.Key("value");
    w.String(t.value.c_str());
    w.Key("verdict");
    w.String(t.verdict.c_str());
    w.EndObject();
  }
  w.EndArray();
  w.Key("scenarios");
  w.StartArray();
  for (auto& s : g_sections) {
    w.StartObject();
    w.Key("id");
    w.String(s.id.c_str());
    w.Key("title");
    w.String(s.title.c_str());
    w.Key("errors");
    w.StartArray();
    for (auto& e : s.errors) w.String(e.c_str());
    w.EndArray();
    w.Key("rows");
    w.StartArray();
    for (auto& r : s.rows) {
      w.StartObject();
      w.Key("metric");
      w.String(r.metric.c_str());
      w.Key("unit");
      w.String(r.unit.c_str());
      w.Key("runtimes");
      w.StartObject();
      for (auto& rt : g_rts) {
        w.Key(rt.name.c_str());
        w.StartObject();
        if (r.na.count(rt.name)) {
          w.Key("na");
          w.String(r.na.at(rt.name).c_str());
        } else if (r.v.count(rt.name)) {
          auto& v = r.v.at(rt.name);
          w.Key("median");
          num(Median(v));
          w.Key("p90");
          num(P90(v));
          w.Key("values");
          w.StartArray();
          for (double x : v) num(x);
          w.EndArray();
        }
        if (rt.name != me) {
          Ratio q = RatioOf(r, me, rt.name);
          w.Key(("ratio_" + me + "_over_this").c_str());
          w.StartObject();
          w.Key("median");
          num(q.med);
          w.Key("p90");
          num(q.p90);
          w.EndObject();
        }
        w.EndObject();
      }
      w.EndObject();
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return sb.GetString();
}

// ---------------------------------------------------------------------------------------
// Set-up and tear-down

std::vector<std::pair<std::string, std::string>> CgroupMounts() {  // (mountpoint, fstype)
  std::vector<std::pair<std::string, std::string>> out;
  std::istringstream in(ReadFile("/proc/self/mountinfo"));
  std::string line;
  while (std::getline(in, line)) {
    auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream l(line.substr(0, dash)), r(line.substr(dash + 3));
    std::string id, parent, dev, root, mp, type;
    l >> id >> parent >> dev >> root >> mp;
    r >> type;
    if (type == "cgroup" || type == "cgroup2") out.push_back({mp, type});
  }
  return out;
}

std::string DescribeCgroupMode() {
  bool v1 = false, v2 = false;
  std::string v2mp;
  for (auto& [mp, t] : CgroupMounts()) {
    if (t == "cgroup") v1 = true;
    if (t == "cgroup2") {
      v2 = true;
      v2mp = mp;
    }
  }
  if (v2 && !v1) return "unified (cgroup v2 only)";
  if (v1 && v2) return "hybrid (cgroup v1 controllers + cgroup2 at " + v2mp + ")";
  if (v1) return "legacy (cgroup v1 only)";
  return "no cgroups mounted";
}

void SetupNamespace() {
  g.cgroup_mode_host = DescribeCgroupMode();
  if (unshare(CLONE_NEWNS) != 0) throw std::runtime_error(std::string("unshare(CLONE_NEWNS): ") + strerror(errno));
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    throw std::runtime_error(std::string("make / rprivate: ") + strerror(errno));
  bool v1 = false;
  for (auto& [mp, t] : CgroupMounts())
    if (t == "cgroup") v1 = true;
  if (v1) {
    for (auto& [mp, t] : CgroupMounts())
      if (t == "cgroup2") {
        if (umount2(mp.c_str(), MNT_DETACH) == 0) g.unified_unmounted = true;
        else std::cerr << "bench: umount " << mp << ": " << strerror(errno) << "\n";
      }
  }
  g.cgroup_mode_bench = DescribeCgroupMode() +
                        (g.unified_unmounted ? "; /sys/fs/cgroup/unified unmounted in the bench's "
                                               "private mount ns (crun 1.8.1 needs it), same for all "
                                               "runtimes"
                                             : "");
  for (auto& [mp, t] : CgroupMounts()) {
    g.cg_mounts.push_back(mp);
    if (fs::exists(mp + "/husk-test")) g.cg_parent_preexisting.insert(mp);
  }
}

void SetupWorkdir() {
  char tmpl[] = "/tmp/husk-bench-XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  g.work = tmpl;
  // Private mount namespace: the tmpfs is invisible outside and dies with the harness.
  if (mount("husk-bench", g.work.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=512m") != 0)
    throw std::runtime_error("mount tmpfs on " + g.work + ": " + strerror(errno));
  g.bundles = g.work + "/bundles";
  g.binds = g.work + "/binds";
  g_io_dir = g.work + "/io";
  fs::create_directories(g.bundles);
  fs::create_directories(g_io_dir);
  for (int i = 0; i < 10; i++) {
    fs::create_directories(g.binds + "/b" + std::to_string(i));
    WriteFile(g.binds + "/b" + std::to_string(i) + "/file", "bench\n");
  }
  for (auto& rt : g_rts) {
    rt.root = g.work + "/state-" + rt.name;
    fs::create_directories(rt.root);
  }
}

// Deletes every container still known to a runtime, kills what is left of our children,
// removes our cgroups and the workdir.
void Teardown() {
  for (auto& rt : g_rts) {
    if (rt.root.empty() || !fs::exists(rt.root)) continue;
    std::error_code ec;
    for (auto& e : fs::directory_iterator(rt.root, ec)) {
      if (!e.is_directory()) continue;
      Call(Args(rt, {"delete", "--force", e.path().filename().string()}), 20000);
    }
  }
  ReapOrphans();
  // Children still alive (only ever our descendants: we are their subreaper).
  for (int round = 0; round < 3; round++) {
    std::string kids = ReadFile("/proc/self/task/" + std::to_string(getpid()) + "/children");
    std::istringstream in(kids);
    pid_t p;
    bool any = false;
    while (in >> p) {
      kill(p, SIGKILL);
      any = true;
    }
    if (!any) break;
    SleepMs(50);
    ReapOrphans();
  }
  for (auto& mp : g.cg_mounts) {
    std::string parent = mp + "/husk-test";
    std::error_code ec;
    if (fs::exists(parent, ec)) {
      std::string pre = "bench-" + g.tag + "-";
      for (auto& e : fs::directory_iterator(parent, ec))
        if (e.path().filename().string().rfind(pre, 0) == 0) rmdir(e.path().c_str());
      if (!g.cg_parent_preexisting.count(mp)) rmdir(parent.c_str());  // only if empty
    }
  }
  if (!g.work.empty()) {
    umount2(g.work.c_str(), MNT_DETACH);
    rmdir(g.work.c_str());
  }
}

void Usage() {
  std::cerr << "usage: husk_bench --rootfs DIR --out DIR --runtime NAME=PATH "
               "[--runtime|--optional NAME=PATH]... [--quick] [--only a,b,...] [--gap-ms N]\n"
               "The first runtime is the one reported against the others (husk).\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::pair<Runtime, bool>> want;
  std::string only;
  int gap_ms = 100;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        Usage();
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--rootfs") g.rootfs = next();
    else if (a == "--out") g.out_dir = next();
    else if (a == "--quick") g.quick = true;
    else if (a == "--only") only = next();
    else if (a == "--gap-ms") gap_ms = std::stoi(next());
    else if (a == "--runtime" || a == "--optional") {
      std::string spec = next();
      auto eq = spec.find('=');
      if (eq == std::string::npos) {
        Usage();
        return 2;
      }
      Runtime rt;
      rt.name = spec.substr(0, eq);
      rt.path = spec.substr(eq + 1);
      rt.required = a == "--runtime";
      want.push_back({rt, rt.required});
    } else if (a == "-h" || a == "--help") {
      Usage();
      return 0;
    } else {
      Usage();
      return 2;
    }
  }
  if (const char* q = getenv("BENCH_QUICK"); q && *q && std::string(q) != "0") g.quick = true;
  if (want.empty() || g.rootfs.empty() || g.out_dir.empty()) {
    Usage();
    return 2;
  }
  if (geteuid() != 0) {
    std::cerr << "bench: needs root (namespaces, cgroups); skipping\n";
    return 77;
  }
  if (!fs::exists(g.rootfs + "/bin/busybox")) {
    std::cerr << "bench: no busybox rootfs at " << g.rootfs << " (make rootfs)\n";
    return 1;
  }
  g.rootfs = fs::canonical(g.rootfs).string();
  g_rss_probe = fs::read_symlink("/proc/self/exe").parent_path().string() + "/husk_bench_rss";
  if (access(g_rss_probe.c_str(), X_OK) != 0) {
    std::cerr << "bench: " << g_rss_probe << " missing (build target husk_bench_rss)\n";
    return 1;
  }
  if (g.quick)
    g_n = {4, 3, 3, 6, 1, 3, 2, 3, 2, 4, 3, 3, {2}, {1, 5}, gap_ms};
  else
    g_n = {100, 40, 60, 32, 3, 50, 25, 40, 20, 50, 60, 50, {2, 4, 8}, {1, 50, 200}, gap_ms};

  struct sigaction sa {};
  sa.sa_handler = [](int) { g_stop = 1; };
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  struct sigaction al {};
  al.sa_handler = OnAlarm;  // no SA_RESTART: wait4 returns EINTR
  sigaction(SIGALRM, &al, nullptr);

  g.tag = std::to_string(getpid());
  int rc = 0;
  auto t_start = NowNs();
  std::string load_start = LoadAvg();
  try {
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) throw std::runtime_error("PR_SET_CHILD_SUBREAPER failed");
    SetupNamespace();
    for (auto& [rt, req] : want) g_rts.push_back(rt);
    SetupWorkdir();
    CollectEnv();
    EnvSet("load average at start", load_start);

    // Keep the runtimes that work; a required one that does not is an error.
    std::vector<Runtime> ok;
    std::vector<std::string> dropped;
    for (auto& rt : g_rts) {
      std::string why;
      if (access(rt.path.c_str(), X_OK) != 0) {
        why = "not installed";
      } else {
        CallResult v = Call({rt.path, "--version"});
        rt.version = Excerpt(v.out, 200);
        if (!v.ok()) why = v.Describe();
        else if (auto err = Probe(rt, Variant{})) why = *err;
      }
      if (why.empty()) {
        ok.push_back(rt);
      } else if (rt.required) {
        throw std::runtime_error(rt.name + " does not work: " + why);
      } else {
        dropped.push_back(rt.name + " (" + Excerpt(why, 200) + ")");
        std::cerr << "bench: skipping optional runtime " << rt.name << ": " << why << "\n";
      }
    }
    g_rts = ok;
    if (!dropped.empty()) {
      std::string d;
      for (auto& x : dropped) d += (d.empty() ? "" : "; ") + x;
      EnvSet("runtimes skipped", d);
    }

    auto want_s = [&](char c) { return only.empty() || only.find(c) != std::string::npos; };
    Section f{"f", "f. memory per call, created init, binary size, `--version` start-up"};
    auto step = [&](char id, const std::function<void()>& fn) {
      if (!want_s(id)) return;
      auto t0 = NowNs();
      std::cerr << "bench: scenario " << id << " ...\n";
      fn();
      std::cerr << "bench: scenario " << id << " done in " << Fmt("%.1f", Ms(NowNs() - t0) / 1000) << " s\n";
    };
    step('a', ScenarioA);
    step('b', [&] { ScenarioB(f); });
    step('c', ScenarioC);
    step('d', ScenarioD);
    step('e', [&] { ScenarioE(f); });
    step('f', [&] { ScenarioF(f); });
    if (want_s('f') || want_s('b') || want_s('e')) g_sections.push_back(std::move(f));
    step('g', ScenarioG);
    step('h', ScenarioH);
  } catch (const Stopped&) {
    std::cerr << "bench: interrupted; cleaning up\n";
    rc = 130;
  } catch (const std::exception& e) {
    std::cerr << "bench: error: " << e.what() << "\n";
    rc = 1;
  }
  Teardown();
  if (rc == 0 || !g_sections.empty()) {
    EnvSet("load average at end", LoadAvg());
    double elapsed = Ms(NowNs() - t_start) / 1000;
    if (!g_rts.empty()) EvalTargets();
    std::error_code ec;
    fs::create_directories(g.out_dir, ec);
    std::string md = Markdown(elapsed);
    WriteFile(g.out_dir + "/report.md", md);
    WriteFile(g.out_dir + "/report.json", Json(elapsed));
    std::cout << md;
    size_t errors = 0;
    for (auto& s : g_sections) errors += s.errors.size();
    std::cerr << "bench: report in " << g.out_dir << "/report.md (" << errors << " errors, "
              << Fmt("%.0f", elapsed) << " s)\n";
    if (errors && rc == 0) rc = 1;
  }
  return rc;
}
