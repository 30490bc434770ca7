// Config variants of husk_bench: the config.json of each container, built from `runc spec`'s
// default (spec::DefaultConfigJson) without a tty, read-only, with the variant's changes:
// no netns, no cgroup mount, no masks, the heavy mounts and limits, Docker's seccomp profile.

#include <iterator>
#include <string>
#include <vector>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "conformance/bench/bench.h"
#include "spec/default_config.h"

namespace husk::bench {
namespace {

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

}  // namespace

size_t SeccompSyscallCount() { return std::size(kSeccompSyscalls); }

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

}  // namespace husk::bench
