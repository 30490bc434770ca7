// config.md "mounts" and config-linux.md "rootfsPropagation": idmapped bind mounts,
// per-mount propagation flags and a slave rootfs, seen from both sides.
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

}  // namespace
}  // namespace husk::conformance
