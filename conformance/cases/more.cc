// More cases for config.md and config-linux.md: the console socket and console size,
// idmapped and per-mount propagation of bind mounts, rootfsPropagation "slave", more
// rlimits, oom_score_adj left alone, ambient capabilities of a non-root user, the cgroup
// resources husk does not implement yet (checked in the cgroup files, or skipped when the
// host lacks the controller), and the process/linux fields that need an LSM, a scheduler
// or another kernel interface (applied, or refused with a clear error).
#include <fcntl.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "conformance/cases/util.h"

namespace husk::conformance {
namespace {

// ---------------------------------------------------------------------------------------
// Host helpers.

std::vector<std::string> Fields(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> f;
  for (std::string x; in >> x;) f.push_back(x);
  return f;
}

// The mount point of the cgroup hierarchy (fstype "cgroup" with `ctrl` among its super
// options, or "cgroup2" when ctrl is "") in the harness's mount namespace, or "".
std::string CgroupMount(const std::string& ctrl) {
  std::istringstream in(ReadFileOr("/proc/self/mountinfo"));
  for (std::string line; std::getline(in, line);) {
    size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::vector<std::string> pre = Fields(line.substr(0, dash));
    std::vector<std::string> post = Fields(line.substr(dash + 3));
    if (pre.size() < 5 || post.size() < 3) continue;
    if (ctrl.empty()) {
      if (post[0] == "cgroup2") return pre[4];
      continue;
    }
    if (post[0] != "cgroup") continue;
    std::string opts = "," + post[2] + ",";
    if (opts.find("," + ctrl + ",") != std::string::npos) return pre[4];
  }
  return "";
}

// True if the cgroup2 hierarchy lists `ctrl` in its root cgroup.controllers.
bool V2Has(const std::string& ctrl) {
  std::string mp = CgroupMount("");
  if (mp.empty()) return false;
  std::string list = " " + ReadFileOr(mp + "/cgroup.controllers") + " ";
  for (char& c : list) {
    if (c == '\n') c = ' ';
  }
  return list.find(" " + ctrl + " ") != std::string::npos;
}

std::string TrimNl(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// A container cgroup file under a hierarchy mount point; "" if missing.
std::string CgFile(Ctx& ctx, const std::string& mount, const std::string& file) {
  return TrimNl(ReadFileOr(mount + ctx.cgroups_path() + "/" + file));
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// crun runs in its own mount namespace without /sys/fs/cgroup/unified (see main.cc).
bool HidesUnified(Ctx& ctx) { return !ctx.runtime().prefix.empty(); }

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Creates the container (process sleeps) for a resource check; "not supported yet" ends
// the case as unsupported. The caller inspects the result.
CmdResult CreateSleeping(Ctx& ctx) {
  ctx.SetArgs({"/bin/sleep", "30"});
  CmdResult r = ctx.Create();
  ctx.EndIfUnsupported(r);
  return r;
}

// For fields the host cannot honour: the runtime must refuse them with an error that
// names the feature (one of `words`, case-insensitive), not ignore them.
void ExpectClearRefusal(Ctx& ctx, const CmdResult& r, const std::string& why,
                        const std::vector<std::string>& words) {
  Check(!r.ok(), "create succeeded although " + why + ": the field was silently ignored");
  std::string text = Lower(r.err + "\n" + r.out + "\n" + ctx.last_log());
  bool named = false;
  for (const auto& w : words) named |= text.find(Lower(w)) != std::string::npos;
  Check(named, "create failed without naming the feature: " + r.Describe());
}

// A bind mount of `dir` onto itself in the harness's mount namespace, made shared, so
// mounts the harness makes below it propagate to the container's slave copies. Detached
// (with everything below it) when the case ends.
class SharedBind {
 public:
  explicit SharedBind(const std::string& dir) : dir_(dir) {
    if (::mount(dir.c_str(), dir.c_str(), nullptr, MS_BIND, nullptr) != 0) {
      Fail("harness: bind " + dir + ": " + std::strerror(errno));
    }
    if (::mount(nullptr, dir.c_str(), nullptr, MS_SHARED, nullptr) != 0) {
      int e = errno;
      ::umount2(dir.c_str(), MNT_DETACH);
      Fail("harness: make-shared " + dir + ": " + std::strerror(e));
    }
  }
  ~SharedBind() { ::umount2(dir_.c_str(), MNT_DETACH); }
  SharedBind(const SharedBind&) = delete;
  SharedBind& operator=(const SharedBind&) = delete;

 private:
  std::string dir_;
};

// The optional-fields part of a mountinfo line (between the mount options and " - ").
std::string OptionalFields(const std::string& line) {
  std::vector<std::string> f = Fields(line.substr(0, line.find(" - ")));
  std::string out;
  for (size_t i = 6; i < f.size(); ++i) out += f[i] + " ";
  return out;
}

// ---------------------------------------------------------------------------------------
// Console socket.

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

// Creates the container with --console-socket and returns the pty master it sent: exactly
// one SCM_RIGHTS fd on one connection.
void CreateWithConsole(Ctx& ctx, Fd* master) {
  std::string sock = ctx.bundle() + "/console.sock";
  Fd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (sock.size() >= sizeof addr.sun_path) Fail("harness: console socket path too long");
  std::strncpy(addr.sun_path, sock.c_str(), sizeof addr.sun_path - 1);
  if (listener.get() < 0 ||
      ::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener.get(), 4) != 0) {
    Fail(std::string("harness: console socket: ") + std::strerror(errno));
  }
  ctx.WriteConfig();
  CmdOptions o;
  o.stdout_file = ctx.bundle() + "/" + ctx.id() + ".out";
  o.stderr_file = ctx.bundle() + "/" + ctx.id() + ".err";
  // The runtime connects and sends during create; the backlog holds the connection, so
  // it is accepted once create has returned.
  CmdResult r = ctx.Invoke({"create", "--bundle", ctx.bundle(), "--console-socket", sock,
                            "--pid-file", ctx.bundle() + "/" + ctx.id() + ".pid", ctx.id()},
                           o);
  if (!r.ok() && r.err.empty()) r.err = ctx.ContainerErr();
  ctx.EndIfUnsupported(r);
  if (!r.ok()) Fail("create --console-socket: " + r.Describe());
  pollfd p{listener.get(), POLLIN, 0};
  if (::poll(&p, 1, 1000) != 1) Fail("nothing connected to the console socket");
  Fd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (conn.get() < 0) Fail(std::string("accept: ") + std::strerror(errno));
  pollfd c{conn.get(), POLLIN, 0};
  if (::poll(&c, 1, 1000) != 1) Fail("the console socket connection sent nothing");
  char data[512];
  iovec iov{data, sizeof data};
  alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(int) * 8)];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = cbuf;
  msg.msg_controllen = sizeof cbuf;
  if (::recvmsg(conn.get(), &msg, MSG_CMSG_CLOEXEC) < 0) {
    Fail(std::string("recvmsg: ") + std::strerror(errno));
  }
  std::vector<int> fds;
  for (cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
    if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) continue;
    size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < n; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof fd);
      fds.push_back(fd);
    }
  }
  if (fds.size() != 1) {
    for (int fd : fds) ::close(fd);
    Fail("console socket carried " + Str(static_cast<long long>(fds.size())) +
         " fds, want exactly 1");
  }
  master->reset(fds[0]);
  Check(::isatty(master->get()), "the received fd is not a terminal");
  pollfd extra{listener.get(), POLLIN, 0};
  Check(::poll(&extra, 1, 0) == 0, "a second connection on the console socket");
}

// Starts the container and collects what it writes to the pty until the slave side is
// closed; returns the probe report.
rapidjson::Document StartAndReadConsole(Ctx& ctx, int master) {
  ctx.MustStart();
  std::string out;
  pid_t pid = ctx.Pid();
  for (int waited = 0; waited < 4000;) {
    pollfd p{master, POLLIN, 0};
    int n = ::poll(&p, 1, 50);
    if (n == 1) {
      char buf[8192];
      ssize_t got = ::read(master, buf, sizeof buf);
      if (got <= 0) break;  // EIO: every slave fd is closed
      out.append(buf, static_cast<size_t>(got));
      continue;
    }
    waited += 50;
    if (WaitPidGone(pid, std::chrono::milliseconds(0)) && waited > 300) break;
  }
  ctx.WaitExit();
  ctx.MustDelete();
  out.erase(std::remove(out.begin(), out.end(), '\r'), out.end());
  rapidjson::Document d;
  size_t brace = out.find('{');
  if (brace == std::string::npos || !ParseJson(out.substr(brace), &d) || !d.IsObject()) {
    Fail("no probe report on the console: " + out.substr(0, 300));
  }
  return d;
}

Register console_socket{{
    "terminal_console_socket", "config.md#process",
    "the --console-socket protocol is a runc CLI convention (one SCM_RIGHTS fd)",
    [](Ctx& ctx) {
      ctx.Set("/process/terminal", "true");
      ctx.ProbeArgs({});
      Fd master;
      CreateWithConsole(ctx, &master);
      auto r = StartAndReadConsole(ctx, master.get());
      Check(Get(r, "/stdin_tty") && r["stdin_tty"].GetBool(), "stdin is not a tty");
      Check(Get(r, "/stdout_tty") && r["stdout_tty"].GetBool(), "stdout is not a tty");
      Check(GetString(r, "/tty_name").rfind("/dev/pts/", 0) == 0,
            "stdin tty: '" + GetString(r, "/tty_name") + "'");
    }}};

Register console_size{{
    "terminal_console_size", "config.md#process",
    "",
    [](Ctx& ctx) {
      ctx.Set("/process/terminal", "true");
      ctx.Set("/process/consoleSize", R"({"height": 37, "width": 111})");
      ctx.ProbeArgs({});
      Fd master;
      CreateWithConsole(ctx, &master);
      auto r = StartAndReadConsole(ctx, master.get());
      Check(GetInt(r, "/winsize/rows", -1) == 37 && GetInt(r, "/winsize/cols", -1) == 111,
            "TIOCGWINSZ: " + Str(GetInt(r, "/winsize/rows", -1)) + "x" +
                Str(GetInt(r, "/winsize/cols", -1)) + ", want 37x111");
    }}};

// ---------------------------------------------------------------------------------------
// Mounts.

Register idmap_mount{{
    "mounts_bind_idmapped", "config.md#posix-platform-mounts",
    "runc 1.1.5 predates idmapped mounts (runc 1.2) and ignores the mappings",
    [](Ctx& ctx) {
      std::string dir = ctx.MakeDir("idmapsrc");
      // Linux idmaps tmpfs only from 6.3 and overlayfs later still (the pure v2 guest's
      // 6.1 kernel, whose /tmp is an overlay): no runtime can pass there.
      struct statfs fs;
      struct utsname un;
      if (::statfs(dir.c_str(), &fs) == 0 && ::uname(&un) == 0) {
        int major = 0, minor = 0;
        std::sscanf(un.release, "%d.%d", &major, &minor);
        bool old_kernel = major < 6 || (major == 6 && minor < 3);
        if (fs.f_type == 0x794c7630 || (fs.f_type == 0x01021994 && old_kernel)) {
          Skip(std::string("this kernel cannot idmap the ") +
               (fs.f_type == 0x794c7630 ? "overlayfs" : "tmpfs") + " holding the source (" +
               un.release + ")");
        }
      }
      WriteFileText(dir + "/owned-by-0", "x");  // the harness is root: uid 0, gid 0
      std::filesystem::create_directories(ctx.rootfs() + "/idm");
      ctx.AddMount(R"({"destination": "/idm", "type": "bind", "source": ")" + dir +
                   R"(", "options": ["rbind", "idmap"],
                   "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
                   "gidMappings": [{"containerID": 0, "hostID": 200000, "size": 65536}]})");
      auto r = ctx.RunProbe({"--path=/idm/owned-by-0"});
      const rapidjson::Value* p = Get(r, "/paths/~1idm~1owned-by-0");
      Check(p && GetInt(*p, "/uid", -1) == 100000 && GetInt(*p, "/gid", -1) == 200000,
            "file owned by 0:0 in the source shows as " + (p ? ToJson(*p) : "nothing") +
                ", want 100000:200000");
      Check(MountinfoHas(r, "/idm", "idmapped"), "/idm is not an idmapped mount: " +
                                                     MountinfoLine(r, "/idm"));
    }}};

Register mount_propagation{{
    "mounts_bind_rshared_rprivate", "config.md#linux-mount-options",
    "crun 1.8.1 leaves every mount private when rootfsPropagation is unset",
    [](Ctx& ctx) {
      std::string a = ctx.MakeDir("src-a"), b = ctx.MakeDir("src-b");
      for (const char* d : {"/m-shared", "/m-private"}) {
        std::filesystem::create_directories(ctx.rootfs() + d);
      }
      ctx.AddMount(R"({"destination": "/m-shared", "type": "bind", "source": ")" + a +
                   R"(", "options": ["rbind", "rshared"]})");
      ctx.AddMount(R"({"destination": "/m-private", "type": "bind", "source": ")" + b +
                   R"(", "options": ["rbind", "rprivate"]})");
      auto r = ctx.RunProbe();
      std::string shared = MountinfoLine(r, "/m-shared");
      std::string priv = MountinfoLine(r, "/m-private");
      Check(!shared.empty() && !priv.empty(), "bind mounts missing");
      Check(OptionalFields(shared).find("shared:") != std::string::npos,
            "rshared bind is not shared: " + shared);
      Check(OptionalFields(priv).empty(), "rprivate bind is not private: " + priv);
    }}};

Register mount_rslave{{
    "mounts_bind_rslave", "config.md#linux-mount-options",
    "crun 1.8.1 leaves every mount private when rootfsPropagation is unset",
    [](Ctx& ctx) {
      // The source is a shared mount on the host; a mount made there after start must show
      // up in the container (slave), and the bind must not be shared back.
      std::string src = ctx.MakeDir("src-slave");
      SharedBind host(src);
      std::filesystem::create_directories(ctx.rootfs() + "/m-slave");
      ctx.AddMount(R"({"destination": "/m-slave", "type": "bind", "source": ")" + src +
                   R"(", "options": ["rbind", "rslave"]})");
      ctx.SetArgs({"/bin/sleep", "30"});
      ctx.MustCreate();
      ctx.MustStart();
      std::filesystem::create_directories(src + "/late");
      if (::mount("conf-late", (src + "/late").c_str(), "tmpfs", 0, "size=64k") != 0) {
        Fail(std::string("harness: mount tmpfs: ") + std::strerror(errno));
      }
      std::string mi = ReadFileOr("/proc/" + std::to_string(ctx.Pid()) + "/mountinfo");
      std::string line, late;
      std::istringstream in(mi);
      for (std::string l; std::getline(in, l);) {
        std::vector<std::string> f = Fields(l);
        if (f.size() > 4 && f[4] == "/m-slave") line = l;
        if (f.size() > 4 && f[4] == "/m-slave/late") late = l;
      }
      ctx.Delete(true);
      Check(!line.empty(), "no /m-slave mount in the container");
      Check(OptionalFields(line).find("master:") != std::string::npos &&
                OptionalFields(line).find("shared:") == std::string::npos,
            "rslave bind is not a slave: " + line);
      Check(!late.empty(), "a host mount below the source did not propagate into the container");
    }}};

// The host mountinfo line of the mount holding `path` (longest mount point prefix).
std::string HostHolderLine(const std::string& path) {
  std::istringstream in(ReadFileOr("/proc/self/mountinfo"));
  std::string best, best_mp;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> f = Fields(line);
    if (f.size() < 5) continue;
    const std::string& mp = f[4];
    bool holds = mp == "/" || path == mp || path.rfind(mp + "/", 0) == 0;
    if (holds && mp.size() >= best_mp.size()) {
      best = line;
      best_mp = mp;
    }
  }
  return best;
}

// Detaches a mount the harness made when the case ends.
class HostMount {
 public:
  explicit HostMount(const std::string& target) : target_(target) {
    if (::mount("conf-late", target.c_str(), "tmpfs", 0, "size=64k") != 0) {
      Fail("harness: mount tmpfs on " + target + ": " + std::strerror(errno));
    }
  }
  ~HostMount() { ::umount2(target_.c_str(), MNT_DETACH); }
  HostMount(const HostMount&) = delete;
  HostMount& operator=(const HostMount&) = delete;

 private:
  std::string target_;
};

Register rootfs_slave{{
    "rootfs_propagation_slave", "config-linux.md#rootfs-mount-propagation",
    "observable only where the host mount holding the bundle is shared (systemd hosts)",
    [](Ctx& ctx) {
      // A host mount made below the rootfs after start must appear in the container, and
      // "/" must not be shared back. Runtimes make the mount holding the rootfs private
      // when it is still shared (runc's rootfsParentMountPrivate), so a shared bind of the
      // bundle made by the harness would not show it: the host's own mount must be shared.
      std::string holder = HostHolderLine(ctx.rootfs());
      if (OptionalFields(holder).find("shared:") == std::string::npos) {
        Skip("the host mount holding the bundle is not shared: " +
             (holder.empty() ? std::string("?") : Fields(holder)[4]));
      }
      ctx.Set("/linux/rootfsPropagation", R"("slave")");
      ctx.SetArgs({"/bin/sleep", "30"});
      ctx.MustCreate();
      ctx.MustStart();
      std::string target = ctx.rootfs() + "/mnt";
      std::filesystem::create_directories(target);
      HostMount late_mount(target);
      std::string mi = ReadFileOr("/proc/" + std::to_string(ctx.Pid()) + "/mountinfo");
      std::string root, late;
      std::istringstream in(mi);
      for (std::string l; std::getline(in, l);) {
        std::vector<std::string> f = Fields(l);
        if (f.size() > 4 && f[4] == "/") root = l;
        if (f.size() > 4 && f[4] == "/mnt") late = l;
      }
      ctx.Delete(true);
      Check(OptionalFields(root).find("master:") != std::string::npos &&
                OptionalFields(root).find("shared:") == std::string::npos,
            "/ is not a slave: " + root);
      Check(!late.empty(), "a host mount below the rootfs did not propagate into the container");
    }}};

// ---------------------------------------------------------------------------------------
// Process.

Register rlimits_more{{
    "process_rlimits_more_types", "config.md#posix-process",
    "",
    [](Ctx& ctx) {
      // All within the hard limits the harness passes on: the
      // container process has no CAP_SYS_RESOURCE to raise a hard limit.
      ctx.Set("/process/rlimits", R"([
          {"type": "RLIMIT_STACK", "soft": 4194304, "hard": 16777216},
          {"type": "RLIMIT_MEMLOCK", "soft": 65536, "hard": 131072},
          {"type": "RLIMIT_SIGPENDING", "soft": 100, "hard": 200},
          {"type": "RLIMIT_FSIZE", "soft": 1048576, "hard": 18446744073709551615},
          {"type": "RLIMIT_DATA", "soft": 536870912, "hard": 18446744073709551615},
          {"type": "RLIMIT_LOCKS", "soft": 77, "hard": 88},
          {"type": "RLIMIT_CPU", "soft": 18446744073709551615,
           "hard": 18446744073709551615}])");
      auto r = ctx.RunProbe();
      auto expect = [&](const char* name, long long soft, long long hard) {
        std::string p = std::string("/rlimits/") + name;
        Check(GetInt(r, p + "/soft", -2) == soft && GetInt(r, p + "/hard", -2) == hard,
              std::string(name) + ": " + Str(GetInt(r, p + "/soft", -2)) + "/" +
                  Str(GetInt(r, p + "/hard", -2)) + ", want " + Str(soft) + "/" + Str(hard));
      };
      expect("RLIMIT_STACK", 4194304, 16777216);
      expect("RLIMIT_MEMLOCK", 65536, 131072);
      expect("RLIMIT_SIGPENDING", 100, 200);
      expect("RLIMIT_FSIZE", 1048576, -1);  // -1: RLIM_INFINITY
      expect("RLIMIT_DATA", 536870912, -1);
      expect("RLIMIT_LOCKS", 77, 88);
      expect("RLIMIT_CPU", -1, -1);
    }}};

Register rlimits_dup{{
    "process_rlimit_duplicate_fails", "config.md#posix-process",
    "runc 1.1.5 and crun 1.8.1 accept duplicate entries",
    [](Ctx& ctx) {
      ctx.Set("/process/rlimits", R"([{"type": "RLIMIT_NOFILE", "soft": 512, "hard": 1024},
          {"type": "RLIMIT_NOFILE", "soft": 256, "hard": 512}])");
      auto r = ctx.Create();
      ctx.EndIfUnsupported(r);
      Check(!r.ok(), "create accepted two RLIMIT_NOFILE entries");
    }}};

// Raises this process's oom_score_adj (inherited by the runtime) for the case's duration.
class OomScoreAdj {
 public:
  explicit OomScoreAdj(int v) : old_(ReadFileOr("/proc/self/oom_score_adj")) {
    if (!WriteFileText("/proc/self/oom_score_adj", std::to_string(v))) {
      Fail("harness: cannot set oom_score_adj");
    }
  }
  ~OomScoreAdj() { WriteFileText("/proc/self/oom_score_adj", TrimNl(old_)); }

 private:
  std::string old_;
};

Register oom_unset{{
    "process_oom_score_adj_unset_unchanged", "config.md#linux-process",
    "",
    [](Ctx& ctx) {
      OomScoreAdj inherited(123);
      ctx.Remove("/process/oomScoreAdj");
      auto r = ctx.RunProbe();
      Check(GetInt(r, "/oom_score_adj", 0) == 123,
            "oom_score_adj without oomScoreAdj: " + Str(GetInt(r, "/oom_score_adj", 0)) +
                ", want the inherited 123");
    }}};

Register caps_ambient{{
    "process_capabilities_ambient_nonroot", "config.md#linux-process",
    "",
    [](Ctx& ctx) {
      ctx.Set("/process/user", R"({"uid": 1000, "gid": 1000})");
      ctx.Set("/process/capabilities", R"({
          "bounding": ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_CHOWN"],
          "effective": ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
          "permitted": ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
          "inheritable": ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
          "ambient": ["CAP_KILL", "CAP_NET_BIND_SERVICE"]})");
      auto r = ctx.RunProbe();
      unsigned long long want = CapMask({"CAP_KILL", "CAP_NET_BIND_SERVICE"});
      for (const char* f : {"CapAmb", "CapInh", "CapPrm", "CapEff"}) {
        Check(ParseHex(GetString(r, std::string("/caps/") + f)) == want,
              std::string(f) + " for uid 1000 after exec: " +
                  GetString(r, std::string("/caps/") + f));
      }
      Check(GetInt(r, "/uid", -1) == 1000, "uid: " + Str(GetInt(r, "/uid", -1)));
    }}};

Register scheduler{{
    "process_scheduler_nice", "config.md#linux-process",
    "runc 1.1.5 and crun 1.8.1 predate process.scheduler and ignore it",
    [](Ctx& ctx) {
      ctx.Set("/process/scheduler", R"({"policy": "SCHED_OTHER", "nice": 5})");
      auto r = ctx.RunProbe();
      Check(GetInt(r, "/sched_policy", -1) == 0,
            "policy: " + Str(GetInt(r, "/sched_policy", -1)) + ", want SCHED_OTHER");
      Check(GetInt(r, "/nice", -100) == 5, "nice: " + Str(GetInt(r, "/nice", -100)));
    }}};

Register io_priority{{
    "process_io_priority", "config.md#linux-process",
    "runc 1.1.5 and crun 1.8.1 predate process.ioPriority and ignore it",
    [](Ctx& ctx) {
      ctx.Set("/process/ioPriority", R"({"class": "IOPRIO_CLASS_BE", "priority": 4})");
      auto r = ctx.RunProbe();
      long long want = (2 << 13) | 4;  // IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, 4)
      long long got = GetInt(r, "/ioprio", -1);
      Check(got == want, "ioprio_get: class " + Str(got >> 13) + " level " + Str(got & 0x1fff) +
                             ", want class 2 (BE) level 4");
    }}};

Register exec_affinity{{
    "process_exec_cpu_affinity", "config.md#linux-process",
    "runc 1.1.5 and crun 1.8.1 predate process.execCPUAffinity and ignore it",
    [](Ctx& ctx) {
      if (::sysconf(_SC_NPROCESSORS_ONLN) < 2) Skip("needs two online CPUs");
      ctx.SetArgs({"/bin/sleep", "30"});
      ctx.MustCreate();
      ctx.MustStart();
      // execCPUAffinity applies to exec'd processes, not to the init.
      rapidjson::Document proc;
      proc.CopyFrom(ctx.config()["process"], proc.GetAllocator());
      rapidjson::Value args(rapidjson::kArrayType);
      args.PushBack("/probe", proc.GetAllocator());
      proc["args"] = args;
      rapidjson::Value aff(rapidjson::kObjectType);
      aff.AddMember("final", "1", proc.GetAllocator());
      proc.AddMember("execCPUAffinity", aff, proc.GetAllocator());
      std::string path = ctx.bundle() + "/exec-process.json";
      WriteFileText(path, ToJson(proc));
      CmdResult r = ctx.Invoke({"exec", "--process", path, ctx.id()});
      ctx.EndIfUnsupported(r);
      Check(r.ok(), "exec: " + r.Describe());
      rapidjson::Document d;
      Check(ParseJson(r.out, &d) && d.IsObject(), "no probe report from exec: " + r.out.substr(0, 200));
      Check(GetString(d, "/cpus_allowed") == "1",
            "exec'd process Cpus_allowed_list: " + GetString(d, "/cpus_allowed") + ", want 1");
      ctx.Delete(true);
    }}};

bool SelinuxEnabled() { return Exists("/sys/fs/selinux/enforce"); }
bool ApparmorEnabled() {
  return TrimNl(ReadFileOr("/sys/module/apparmor/parameters/enabled")) == "Y";
}

Register selinux_label{{
    "process_selinux_label", "config.md#linux-process",
    "on a host without SELinux the label must be refused, not dropped",
    [](Ctx& ctx) {
      ctx.Set("/process/selinuxLabel", R"("system_u:system_r:container_t:s0:c1,c2")");
      CmdResult r = CreateSleeping(ctx);
      if (SelinuxEnabled()) Skip("host has SELinux: applying a label is not checked here");
      ExpectClearRefusal(ctx, r, "SELinux is not enabled on this host",
                         {"selinux", "label", "/attr/", "container_t"});
    }}};

Register mount_label{{
    "linux_mount_label", "config-linux.md#mount-label",
    "without SELinux runc 1.1.5 passes context= to mount(2), which fails; crun 1.8.1 ignores mountLabel",
    [](Ctx& ctx) {
      ctx.Set("/linux/mountLabel", R"("system_u:object_r:container_file_t:s0:c1,c2")");
      CmdResult r = CreateSleeping(ctx);
      if (SelinuxEnabled()) Skip("host has SELinux: applying a label is not checked here");
      ExpectClearRefusal(ctx, r, "SELinux is not enabled on this host",
                         {"selinux", "label", "context=", "container_file_t"});
    }}};

Register apparmor{{
    "process_apparmor_profile", "config.md#linux-process",
    "",
    [](Ctx& ctx) {
      ctx.Set("/process/apparmorProfile", R"("unconfined")");
      if (ApparmorEnabled()) {
        auto r = ctx.RunProbe();
        Check(GetString(r, "/attr_current").find("unconfined") != std::string::npos,
              "/proc/self/attr/current: " + GetString(r, "/attr_current"));
        return;
      }
      CmdResult r = CreateSleeping(ctx);
      ExpectClearRefusal(ctx, r, "AppArmor is not enabled on this host", {"apparmor", "/attr/"});
    }}};

Register intel_rdt{{
    "linux_intel_rdt_without_resctrl_fails", "config-linux.md#intelrdt",
    "runc 1.1.5 and crun 1.8.1 ignore intelRdt with only closID when resctrl is absent",
    [](Ctx& ctx) {
      if (ReadFileOr("/proc/self/mountinfo").find(" - resctrl ") != std::string::npos) {
        Skip("resctrl is mounted on this host; the case only checks the error path");
      }
      ctx.Set("/linux/intelRdt", R"({"closID": "conformance"})");
      CmdResult r = CreateSleeping(ctx);
      ExpectClearRefusal(ctx, r, "no resctrl filesystem is mounted", {"rdt", "resctrl"});
    }}};

Register memory_policy{{
    "linux_memory_policy", "config-linux.md#memory-policy",
    "runc 1.1.5 and crun 1.8.1 predate memoryPolicy and ignore it",
    [](Ctx& ctx) {
      ctx.Set("/linux/memoryPolicy", R"({"mode": "MPOL_BIND", "nodes": "0"})");
      auto r = ctx.RunProbe();
      long long mode = GetInt(r, "/mempolicy", -1);
      Check(mode >= 0 && (mode & 0xff) == 2,
            "get_mempolicy mode: " + Str(mode) + ", want MPOL_BIND (2)");
    }}};

// A veth pair on the host; one end is handed to the container. Deleting the end that
// stays on the host removes both.
class Veth {
 public:
  Veth() {
    std::string tag = std::to_string(::getpid() % 100000);
    a_ = "hc" + tag + "a";
    b_ = "hc" + tag + "b";
    CmdResult r = RunCmd({"ip", "link", "add", a_, "type", "veth", "peer", "name", b_});
    ok_ = r.ok();
    error_ = r.Describe();
  }
  ~Veth() {
    for (const auto& n : {b_, a_}) {
      if (Exists("/sys/class/net/" + n)) RunCmd({"ip", "link", "del", n});
    }
  }
  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  const std::string& moved() const { return a_; }

 private:
  std::string a_, b_, error_;
  bool ok_ = false;
};

Register net_devices{{
    "linux_net_devices", "config-linux.md#network-devices",
    "runc 1.1.5 and crun 1.8.1 predate netDevices and ignore it",
    [](Ctx& ctx) {
      Veth veth;
      if (!veth.ok()) Skip("cannot create a veth pair: " + veth.error());
      ctx.Set("/linux/netDevices", "{\"" + veth.moved() + "\": {\"name\": \"confnet0\"}}");
      auto r = ctx.RunProbe({"--path=/sys/class/net/confnet0",
                             "--file=/sys/class/net/confnet0/flags"});
      Check(GetInt(r, "/paths/~1sys~1class~1net~1confnet0/uid", -1) >= 0,
            "no confnet0 in the container's network namespace");
      std::string flags = GetString(r, "/files/~1sys~1class~1net~1confnet0~1flags");
      Check(!flags.empty() && (std::stoul(flags, nullptr, 16) & 1) == 1,
            "confnet0 is not up: flags " + flags);
    }}};

// ---------------------------------------------------------------------------------------
// Cgroup resources (cgroup v1 files, or the cgroup2 hierarchy of a hybrid host).

Register blkio_weight{{
    "cgroups_blkio_weight", "config-linux.md#block-io",
    "",
    [](Ctx& ctx) {
      ctx.Set("/linux/resources/blockIO", R"({"weight": 300})");
      CmdResult r = CreateSleeping(ctx);
      std::string mp = CgroupMount("blkio");
      if (mp.empty()) Skip("no blkio cgroup hierarchy");
      // The weight files exist only below the root cgroup: look in the test parent.
      std::string parent = mp + ctx.cgroups_path().substr(0, ctx.cgroups_path().rfind('/'));
      std::string file = Exists(parent + "/blkio.weight")       ? "blkio.weight"
                         : Exists(parent + "/blkio.bfq.weight") ? "blkio.bfq.weight"
                                                                : "";
      if (file.empty()) {
        Skip("no blkio.weight or blkio.bfq.weight on this host (no CFQ/BFQ); create " +
             std::string(r.ok() ? "succeeded" : "failed: " + r.Describe()));
      }
      Check(r.ok(), "create: " + r.Describe());
      std::string got = CgFile(ctx, mp, file);
      Check(got == "300" || got.rfind("default 300", 0) == 0, file + " = '" + got + "'");
    }}};

Register blkio_throttle{{
    "cgroups_blkio_throttle", "config-linux.md#block-io",
    "",
    [](Ctx& ctx) {
      // The throttle files take a whole disk: the one holding the host's root.
      struct stat st;
      if (::stat("/", &st) != 0) Fail("harness: stat /");
      std::string dev = Str(major(st.st_dev)) + ":" + Str(minor(st.st_dev));
      if (!Exists("/sys/dev/block/" + dev) || Exists("/sys/dev/block/" + dev + "/partition")) {
        Skip("the root filesystem is not on a whole disk (" + dev + ")");
      }
      ctx.Set("/linux/resources/blockIO",
              R"({"throttleReadBpsDevice": [{"major": )" + Str(major(st.st_dev)) +
                  R"(, "minor": )" + Str(minor(st.st_dev)) + R"(, "rate": 1048576}],
                  "throttleWriteIOPSDevice": [{"major": )" + Str(major(st.st_dev)) +
                  R"(, "minor": )" + Str(minor(st.st_dev)) + R"(, "rate": 300}]})");
      CmdResult r = CreateSleeping(ctx);
      std::string mp = CgroupMount("blkio");
      if (mp.empty()) Skip("no blkio cgroup hierarchy");
      Check(r.ok(), "create: " + r.Describe());
      std::string rbps = CgFile(ctx, mp, "blkio.throttle.read_bps_device");
      std::string wiops = CgFile(ctx, mp, "blkio.throttle.write_iops_device");
      Check(rbps == dev + " 1048576", "blkio.throttle.read_bps_device = '" + rbps + "'");
      Check(wiops == dev + " 300", "blkio.throttle.write_iops_device = '" + wiops + "'");
    }}};

Register hugetlb{{
    "cgroups_hugepage_limits", "config-linux.md#huge-page-limits",
    "on hybrid hosts hugetlb exists only in the cgroup2 hierarchy, where runc 1.1.5 does not "
    "apply v1 resources",
    [](Ctx& ctx) {
      if (!Exists("/sys/kernel/mm/hugepages/hugepages-2048kB")) Skip("no 2MB huge pages");
      ctx.Set("/linux/resources/hugepageLimits", R"([{"pageSize": "2MB", "limit": 4194304}])");
      CmdResult r = CreateSleeping(ctx);
      std::string v1 = CgroupMount("hugetlb");
      if (!v1.empty()) {
        Check(r.ok(), "create: " + r.Describe());
        std::string lim = CgFile(ctx, v1, "hugetlb.2MB.limit_in_bytes");
        std::string rsvd = CgFile(ctx, v1, "hugetlb.2MB.rsvd.limit_in_bytes");
        Check(lim == "4194304" || rsvd == "4194304",
              "hugetlb.2MB.limit_in_bytes = '" + lim + "', rsvd = '" + rsvd + "'");
        return;
      }
      std::string v2 = CgroupMount("");
      if (v2.empty() || !V2Has("hugetlb")) Skip("no hugetlb controller on this host");
      if (HidesUnified(ctx)) Skip("the harness hides the cgroup2 hierarchy from this runtime");
      std::string max = CgFile(ctx, v2, "hugetlb.2MB.max");
      std::string rsvd = CgFile(ctx, v2, "hugetlb.2MB.rsvd.max");
      if (max.empty() && rsvd.empty()) {
        Skip("hugetlb is only in the hybrid cgroup2 hierarchy and not enabled for the "
             "container's cgroup there; create " +
             std::string(r.ok() ? "succeeded" : "failed: " + r.Describe()));
      }
      Check(r.ok(), "create: " + r.Describe());
      Check(max == "4194304" || rsvd == "4194304",
            "hugetlb.2MB.max = '" + max + "', rsvd.max = '" + rsvd + "'");
    }}};

Register net_cls{{
    "cgroups_network_class_id", "config-linux.md#network",
    "",
    [](Ctx& ctx) {
      ctx.Set("/linux/resources/network", R"({"classID": 1048577})");
      CmdResult r = CreateSleeping(ctx);
      std::string mp = CgroupMount("net_cls");
      if (mp.empty()) {
        Skip("no net_cls cgroup hierarchy on this host; create " +
             std::string(r.ok() ? "succeeded" : "failed: " + r.Describe()));
      }
      Check(r.ok(), "create: " + r.Describe());
      std::string got = CgFile(ctx, mp, "net_cls.classid");
      Check(got == "1048577", "net_cls.classid = '" + got + "'");
    }}};

Register rdma{{
    "cgroups_rdma", "config-linux.md#rdma",
    "",
    [](Ctx& ctx) {
      ctx.Set("/linux/resources/rdma", R"({"conf_rdma0": {"hcaHandles": 3, "hcaObjects": 100}})");
      CmdResult r = CreateSleeping(ctx);
      std::string mp = CgroupMount("rdma");
      if (mp.empty()) {
        Skip(std::string(V2Has("rdma") ? "rdma only in the hybrid cgroup2 hierarchy"
                                       : "no rdma cgroup controller on this host") +
             "; create " + (r.ok() ? "succeeded" : "failed: " + r.Describe()));
      }
      // There is no RDMA device conf_rdma0: a runtime must report the write error.
      Check(!r.ok(), "create succeeded with limits for a missing RDMA device");
    }}};

Register unified{{
    "cgroups_unified", "config-linux.md#unified",
    "runc 1.1.5 refuses unified on v1 and hybrid hosts",
    [](Ctx& ctx) {
      ctx.Set("/linux/resources/unified", R"({"cgroup.max.descendants": "7"})");
      CmdResult r = CreateSleeping(ctx);
      std::string v2 = CgroupMount("");
      if (v2.empty()) Skip("no cgroup2 hierarchy on this host");
      if (HidesUnified(ctx)) Skip("the harness hides the cgroup2 hierarchy from this runtime");
      Check(r.ok(), "create: " + r.Describe());
      std::string got = CgFile(ctx, v2, "cgroup.max.descendants");
      Check(got == "7", "cgroup.max.descendants = '" + got + "'");
    }}};

Register cpu_rt{{
    "cgroups_cpu_realtime", "config-linux.md#cpu",
    "",
    [](Ctx& ctx) {
      // The test parent has no RT budget (cpu.rt_runtime_us 0), so runtime 0 is the only
      // value that fits; the period (default 1000000) shows that the fields landed.
      ctx.Set("/linux/resources/cpu", R"({"realtimePeriod": 500000, "realtimeRuntime": 0})");
      CmdResult r = CreateSleeping(ctx);
      std::string mp = CgroupMount("cpu");
      if (mp.empty() || !Exists(mp + "/cpu.rt_period_us")) {
        Skip("no cpu.rt_* files (cgroup v1 cpu without CONFIG_RT_GROUP_SCHED)");
      }
      Check(r.ok(), "create: " + r.Describe());
      std::string period = CgFile(ctx, mp, "cpu.rt_period_us");
      std::string runtime = CgFile(ctx, mp, "cpu.rt_runtime_us");
      Check(period == "500000", "cpu.rt_period_us = '" + period + "'");
      Check(runtime == "0", "cpu.rt_runtime_us = '" + runtime + "'");
    }}};

Register kernel_tcp{{
    "cgroups_memory_kernel_tcp", "config-linux.md#memory",
    "runc 1.1.5 ignores kernelTCP",
    [](Ctx& ctx) {
      ctx.Set("/linux/resources/memory", R"({"kernelTCP": 16777216})");
      CmdResult r = CreateSleeping(ctx);
      std::string mp = CgroupMount("memory");
      if (mp.empty() || !Exists(mp + "/memory.kmem.tcp.limit_in_bytes")) {
        Skip("no memory.kmem.tcp.limit_in_bytes (cgroup v1 memory) on this host");
      }
      Check(r.ok(), "create: " + r.Describe());
      std::string got = CgFile(ctx, mp, "memory.kmem.tcp.limit_in_bytes");
      Check(got == "16777216", "memory.kmem.tcp.limit_in_bytes = '" + got + "'");
    }}};

}  // namespace
}  // namespace husk::conformance
