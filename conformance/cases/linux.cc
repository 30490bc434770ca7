// Cases for config-linux.md: namespaces (new, inherited, joined, errors), user namespace
// mappings, devices, cgroups (path and resources, checked on the host side after create),
// sysctl, masked and readonly paths, rootfs propagation, seccomp and personality.
#include <sys/stat.h>

#include <filesystem>
#include <set>
#include <string>

#include "conformance/cases/util.h"
#include "tests/support/background_process.h"

namespace husk::conformance {
namespace {

unsigned long long NsOf(const rapidjson::Value& r, const std::string& type) {
  return static_cast<unsigned long long>(GetInt(r, "/ns/" + type, 0));
}

Register ns_new{{
    "namespaces_new", "config-linux.md#namespaces",
    "",
    [](Ctx& ctx) {
      ctx.AddNamespace("cgroup");
      auto r = ctx.RunProbe();
      for (const char* t : {"pid", "net", "ipc", "uts", "mnt", "cgroup"}) {
        Check(NsOf(r, t) != 0 && NsOf(r, t) != HostNs(t), std::string(t) + " namespace not new");
      }
      Check(NsOf(r, "user") == HostNs("user"), "user namespace changed without being asked");
      Check(GetInt(r, "/pid", 0) == 1, "pid in a new pid namespace is not 1");
    }}};

Register ns_inherit{{
    "namespaces_unlisted_inherited", "config-linux.md#namespaces",
    "",
    [](Ctx& ctx) {
      ctx.RemoveNamespace("network");
      ctx.RemoveNamespace("ipc");
      auto r = ctx.RunProbe();
      Check(NsOf(r, "net") == HostNs("net"), "net namespace not inherited");
      Check(NsOf(r, "ipc") == HostNs("ipc"), "ipc namespace not inherited");
    }}};

Register ns_cgroup{{
    "namespace_cgroup_root", "config-linux.md#namespaces",
    "",
    [](Ctx& ctx) {
      ctx.AddNamespace("cgroup");
      auto r = ctx.RunProbe();
      for (const auto& l : r["cgroup"].GetArray()) {
        std::string line = l.GetString();
        if (line.empty() || line.find("name=systemd") != std::string::npos) continue;
        if (line.rfind("0::", 0) == 0) continue;  // hugetlb-only v2 on hybrid hosts
        Check(line.substr(line.rfind(':') + 1) == "/",
              "cgroup path not '/' in a cgroup namespace: " + line);
      }
    }}};

Register ns_join{{
    "namespaces_join_path", "config-linux.md#namespaces",
    "",
    [](Ctx& ctx) {
      // Container A holds the namespaces; container B joins its ipc, uts and net.
      ctx.SetArgs({"/bin/sleep", "30"});
      std::string a = ctx.NewId();
      ctx.MustCreate(a);
      pid_t pid = ctx.Pid(a);
      std::string base = "/proc/" + std::to_string(pid) + "/ns/";
      ctx.Set("/linux/cgroupsPath", "\"" + ctx.cgroups_path() + "-b\"");
      ctx.AddNamespace("ipc", base + "ipc");
      ctx.AddNamespace("uts", base + "uts");
      ctx.AddNamespace("network", base + "net");
      ctx.Remove("/hostname");
      auto r = ctx.RunProbe();
      for (const char* t : {"ipc", "uts", "net"}) {
        struct stat st;
        ::stat((base + t).c_str(), &st);
        Check(NsOf(r, t) == st.st_ino, std::string(t) + " namespace not joined");
      }
      ctx.Delete(true, a);
    }}};

// A process of the harness's in new mount and uts namespaces (unshare(1)) for containers
// to join.
class NamespaceHolder : public husk::testing::BackgroundProcess {
 public:
  NamespaceHolder() : BackgroundProcess(husk::testing::NamespaceHolderArgv()) {
    for (int i = 0; i < 300 && Ns("mnt") == HostNs("mnt"); ++i) SleepMs(10);
    if (Ns("mnt") == HostNs("mnt")) Fail("harness: unshare did not make a mount namespace");
  }
  std::string Path(const std::string& type) const { return NsPath(type); }
  unsigned long long Ns(const std::string& type) const {
    struct stat st;
    return ::stat(Path(type).c_str(), &st) == 0 ? st.st_ino : 0;
  }
};

Register ns_join_mount{{
    "namespace_mount_joined_by_path", "config-linux.md#namespaces",
    "",
    [](Ctx& ctx) {
      NamespaceHolder holder;
      ctx.AddNamespace("mount", holder.Path("mnt"));
      auto r = ctx.RunProbe();
      Check(NsOf(r, "mnt") == holder.Ns("mnt"), "mount namespace not joined");
      Check(MountinfoHas(r, "/proc", "proc"), "the container's /proc is missing");
    }}};

Register ns_join_uts_hostname{{
    "namespace_uts_joined_with_hostname", "config-linux.md#namespaces",
    "config.md#hostname: the container's UTS namespace may be shared; runc sets the name in it",
    [](Ctx& ctx) {
      NamespaceHolder holder;
      ctx.AddNamespace("uts", holder.Path("uts"));
      ctx.Set("/hostname", R"("joined-uts-name")");
      auto r = ctx.RunProbe();
      Check(NsOf(r, "uts") == holder.Ns("uts"), "uts namespace not joined");
      Check(GetString(r, "/hostname") == "joined-uts-name",
            "hostname in the joined uts namespace: " + GetString(r, "/hostname"));
    }}};

Register ns_wrong_type{{
    "namespace_path_wrong_type_fails", "config-linux.md#namespaces",
    "",
    [](Ctx& ctx) {
      ctx.AddNamespace("ipc", "/proc/self/ns/uts");
      auto r = ctx.Create();
      Check(!r.ok(), "create joined a uts namespace file as ipc");
    }}};

Register ns_dup{{
    "namespace_duplicate_fails", "config-linux.md#namespaces",
    "",
    [](Ctx& ctx) {
      ctx.AddNamespace("ipc");
      auto& a = ctx.config().GetAllocator();
      rapidjson::Value ns(rapidjson::kObjectType);
      ns.AddMember("type", "ipc", a);
      ctx.config()["linux"]["namespaces"].PushBack(ns, a);
      auto r = ctx.Create();
      Check(!r.ok(), "create accepted two ipc namespace entries");
    }}};

Register userns{{
    "user_namespace_mappings", "config-linux.md#user-namespace-mappings",
    "",
    [](Ctx& ctx) {
      ctx.AddNamespace("user");
      ctx.Set("/linux/uidMappings", R"([{"containerID": 0, "hostID": 100000, "size": 65536}])");
      ctx.Set("/linux/gidMappings", R"([{"containerID": 0, "hostID": 100000, "size": 65536}])");
      // sysfs cannot be mounted from a user namespace that does not own the net namespace
      // of the host; the default config has a new net namespace, so that is fine.
      auto r = ctx.RunProbe();
      std::string uid_map = GetString(r, "/uid_map");
      Check(uid_map.find("100000") != std::string::npos && uid_map.find("65536") != std::string::npos,
            "uid_map: " + uid_map);
      std::string gid_map = GetString(r, "/gid_map");
      Check(gid_map.find("100000") != std::string::npos, "gid_map: " + gid_map);
      Check(NsOf(r, "user") != HostNs("user"), "user namespace not new");
      Check(GetInt(r, "/uid", -1) == 0, "uid in the container is not 0");
    }}};

Register devices{{
    "devices_extra", "config-linux.md#devices",
    "",
    [](Ctx& ctx) {
      ctx.Set("/linux/devices", R"([{"path": "/dev/fuse", "type": "c", "major": 10,
          "minor": 229, "fileMode": 438, "uid": 0, "gid": 0},
          {"path": "/dev/conformance-loop", "type": "b", "major": 7, "minor": 200,
          "fileMode": 384, "uid": 1000, "gid": 1000}])");
      auto r = ctx.RunProbe();
      const rapidjson::Value* fuse = Get(r, "/devices/~1dev~1fuse");
      Check(fuse != nullptr, "/dev/fuse missing");
      Check(GetString(*fuse, "/type") == "char" && GetInt(*fuse, "/major", 0) == 10 &&
                GetInt(*fuse, "/minor", 0) == 229 && GetInt(*fuse, "/mode", 0) == 0666,
            "/dev/fuse: " + ToJson(*fuse));
      const rapidjson::Value* loop = Get(r, "/devices/~1dev~1conformance-loop");
      Check(loop != nullptr, "/dev/conformance-loop missing");
      Check(GetString(*loop, "/type") == "block" && GetInt(*loop, "/minor", 0) == 200 &&
                GetInt(*loop, "/mode", 0) == 0600 && GetInt(*loop, "/uid", 0) == 1000,
            "/dev/conformance-loop: " + ToJson(*loop));
    }}};

Register devices_cgroup{{
    "devices_cgroup_allow", "config-linux.md#allowed-device-list",
    "",
    [](Ctx& ctx) {
      ctx.Set("/linux/resources/devices", R"([{"allow": false, "access": "rwm"},
          {"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rw"}])");
      ctx.SetArgs({"/bin/sleep", "30"});
      ctx.MustCreate();
      // Skip only on hosts without the v1 devices hierarchy; with it, a container cgroup
      // without a devices.list (or an empty one) is a failure.
      if (!std::filesystem::exists(ctx.env().cgroup_mount + "/devices/devices.list")) {
        Skip("no v1 devices cgroup hierarchy at " + ctx.env().cgroup_mount + "/devices");
      }
      std::string list = ctx.CgroupFile("devices", "devices.list");
      Check(!list.empty(), "no devices.list for the container's cgroup " + ctx.cgroups_path());
      Check(list.find("c 10:229 rw") != std::string::npos, "devices.list: " + list);
      Check(list.find("a *:* rwm") == std::string::npos, "devices.list allows all: " + list);
    }}};

Register cgroups_path{{
    "cgroups_path_absolute", "config-linux.md#cgroups-path",
    "",
    [](Ctx& ctx) {
      ctx.SetArgs({"/bin/sleep", "30"});
      ctx.MustCreate();
      std::string cg = ReadFileOr("/proc/" + std::to_string(ctx.Pid()) + "/cgroup");
      if (ctx.env().cgroup2_only) {
        Check(cg == "0::" + ctx.cgroups_path() + "\n",
              "init not in " + ctx.cgroups_path() + " after create: " + cg);
        return;
      }
      // "N:ctrl[,ctrl]:path" lines; every v1 controller the runtime manages must hold it.
      std::set<std::string> seen;
      size_t pos = 0;
      while (pos < cg.size()) {
        size_t nl = cg.find('\n', pos);
        if (nl == std::string::npos) nl = cg.size();
        std::string line = cg.substr(pos, nl - pos);
        pos = nl + 1;
        size_t a = line.find(':'), b = line.find(':', a + 1);
        if (a == std::string::npos || b == std::string::npos) continue;
        std::string ctrls = "," + line.substr(a + 1, b - a - 1) + ",";
        for (const char* ctrl : {"memory", "pids", "cpu", "devices", "freezer"}) {
          if (ctrls.find(std::string(",") + ctrl + ",") == std::string::npos) continue;
          seen.insert(ctrl);
          Check(line.substr(b + 1) == ctx.cgroups_path(),
                "init not in " + ctx.cgroups_path() + " after create: " + line);
        }
      }
      Check(seen.size() == 5, "missing v1 controllers in /proc/<pid>/cgroup: " + cg);
    }}};

Register cgroups_memory{{
    "cgroups_memory", "config-linux.md#memory",
    "",
    [](Ctx& ctx) {
      ctx.Set("/linux/resources/memory",
              R"({"limit": 67108864, "reservation": 33554432, "swap": 134217728})");
      ctx.SetArgs({"/bin/sleep", "30"});
      ctx.MustCreate();
      if (ctx.env().cgroup2_only) {
        // config-linux.md: the runtime MAY convert; runc and crun do: memory.max, memory.low,
        // memory.swap.max = swap - limit.
        auto expect = [&](const char* file, const char* want) {
          std::string got = ctx.CgroupFile("memory", file);
          Check(got == want, std::string(file) + " = '" + got + "', want " + want);
        };
        expect("memory.max", "67108864");
        expect("memory.low", "33554432");
        expect("memory.swap.max", "67108864");
        return;
      }
      Check(ctx.CgroupFile("memory", "memory.limit_in_bytes") == "67108864",
            "memory.limit_in_bytes = " + ctx.CgroupFile("memory", "memory.limit_in_bytes"));
      Check(ctx.CgroupFile("memory", "memory.soft_limit_in_bytes") == "33554432",
            "memory.soft_limit_in_bytes = " +
                ctx.CgroupFile("memory", "memory.soft_limit_in_bytes"));
      std::string swap = ctx.CgroupFile("memory", "memory.memsw.limit_in_bytes");
      if (!swap.empty()) Check(swap == "134217728", "memory.memsw.limit_in_bytes = " + swap);
    }}};

Register cgroups_memory_probe{{
    "cgroups_memory_visible_inside", "config-linux.md#memory",
    "",
    [](Ctx& ctx) {
      ctx.Set("/linux/resources/memory", R"({"limit": 67108864})");
      auto r = ctx.RunProbe();
      // Inside, /sys/fs/cgroup is the container's own cgroup (v2) or holds its v1 dirs.
      std::string v = ctx.env().cgroup2_only
                          ? GetString(r, "/files/~1sys~1fs~1cgroup~1memory.max")
                          : GetString(r, "/files/~1sys~1fs~1cgroup~1memory~1memory.limit_in_bytes");
      Check(v == "67108864\n", "container's memory limit file: '" + v + "'");
    }}};

Register cgroups_cpu{{
    "cgroups_cpu", "config-linux.md#cpu",
    "",
    [](Ctx& ctx) {
      ctx.Set("/linux/resources/cpu",
              R"({"shares": 512, "quota": 50000, "period": 100000, "cpus": "0", "mems": "0"})");
      ctx.SetArgs({"/bin/sleep", "30"});
      ctx.MustCreate();
      auto expect = [&](const char* ctrl, const char* file, const char* want) {
        std::string got = ctx.CgroupFile(ctrl, file);
        Check(got == want, std::string(file) + " = '" + got + "', want " + want);
      };
      if (ctx.env().cgroup2_only) {
        // runc's and crun's conversion: weight = 1 + (shares - 2) * 9999 / 262142.
        expect("cpu", "cpu.weight", "20");
        expect("cpu", "cpu.max", "50000 100000");
      } else {
        expect("cpu", "cpu.shares", "512");
        expect("cpu", "cpu.cfs_quota_us", "50000");
        expect("cpu", "cpu.cfs_period_us", "100000");
      }
      expect("cpuset", "cpuset.cpus", "0");
      expect("cpuset", "cpuset.mems", "0");
    }}};

Register cgroups_pids{{
    "cgroups_pids", "config-linux.md#pids",
    "",
    [](Ctx& ctx) {
      ctx.Set("/linux/resources/pids", R"({"limit": 42})");
      ctx.SetArgs({"/bin/sleep", "30"});
      ctx.MustCreate();
      Check(ctx.CgroupFile("pids", "pids.max") == "42",
            "pids.max = " + ctx.CgroupFile("pids", "pids.max"));
    }}};

Register sysctl{{
    "sysctl", "config-linux.md#sysctl",
    "",
    [](Ctx& ctx) {
      ctx.Set("/linux/sysctl", R"({"net.ipv4.ip_forward": "1", "kernel.shm_rmid_forced": "1"})");
      auto r = ctx.RunProbe();
      Check(GetString(r, "/sysctls/net.ipv4.ip_forward") == "1",
            "net.ipv4.ip_forward = " + GetString(r, "/sysctls/net.ipv4.ip_forward"));
      Check(GetString(r, "/sysctls/kernel.shm_rmid_forced") == "1",
            "kernel.shm_rmid_forced = " + GetString(r, "/sysctls/kernel.shm_rmid_forced"));
    }}};

Register masked{{
    "masked_paths", "config-linux.md#masked-paths",
    "",
    [](Ctx& ctx) {
      ctx.Set("/linux/maskedPaths", R"(["/proc/kcore", "/proc/keys", "/sys/firmware",
          "/proc/conformance-missing"])");
      auto r = ctx.RunProbe({"--path=/proc/kcore", "--path=/proc/keys", "--path=/sys/firmware"});
      for (const char* p : {"~1proc~1kcore", "~1proc~1keys"}) {
        std::string base = std::string("/paths/") + p;
        Check(GetString(r, base + "/read") != "ok" || GetInt(r, base + "/read_bytes", -1) == 0,
              std::string(p) + " readable: " + ToJson(*Get(r, base)));
      }
      Check(GetInt(r, "/paths/~1sys~1firmware/entries", -1) <= 0,
            "/sys/firmware not empty: " + ToJson(*Get(r, "/paths/~1sys~1firmware")));
    }}};

Register readonly{{
    "readonly_paths", "config-linux.md#readonly-paths",
    "",
    [](Ctx& ctx) {
      ctx.Set("/linux/readonlyPaths", R"(["/proc/sys", "/proc/sysrq-trigger", "/proc/irq"])");
      auto r = ctx.RunProbe({"--path=/proc/sys", "--path=/proc/sysrq-trigger",
                             "--path=/proc/sys/kernel/hostname"});
      Check(Get(r, "/paths/~1proc~1sys/readonly_mount") &&
                Get(r, "/paths/~1proc~1sys/readonly_mount")->GetBool(),
            "/proc/sys not read-only");
      Check(GetString(r, "/paths/~1proc~1sysrq-trigger/open_write") != "ok",
            "/proc/sysrq-trigger writable");
      Check(GetString(r, "/paths/~1proc~1sys~1kernel~1hostname/open_write") != "ok",
            "/proc/sys/kernel/hostname writable");
    }}};

Register propagation_private{{
    "rootfs_propagation_private", "config-linux.md#rootfs-mount-propagation",
    "",
    [](Ctx& ctx) {
      ctx.Set("/linux/rootfsPropagation", R"("private")");
      auto r = ctx.RunProbe();
      std::string line = MountinfoLine(r, "/");
      Check(!line.empty(), "no / mount");
      std::string opt = line.substr(0, line.find(" - "));
      Check(opt.find("shared:") == std::string::npos && opt.find("master:") == std::string::npos,
            "/ is not private: " + line);
    }}};

Register propagation_shared{{
    "rootfs_propagation_shared", "config-linux.md#rootfs-mount-propagation",
    "",
    [](Ctx& ctx) {
      ctx.Set("/linux/rootfsPropagation", R"("shared")");
      auto r = ctx.RunProbe();
      std::string line = MountinfoLine(r, "/");
      Check(line.substr(0, line.find(" - ")).find("shared:") != std::string::npos,
            "/ is not shared: " + line);
    }}};

Register seccomp{{
    "seccomp_filter", "config-linux.md#seccomp",
    "",
    [](Ctx& ctx) {
      ctx.Set("/linux/seccomp", R"({"defaultAction": "SCMP_ACT_ALLOW",
          "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
          "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO",
                        "errnoRet": 1}]})");
      // The filter is installed (mode 2) and does what it says: mkdir fails with EPERM
      // (errnoRet 1) on a writable tmpfs, while creating a file there still works.
      ctx.SetArgs({"/bin/sh", "-c",
                   "grep '^Seccomp:' /proc/self/status; mkdir /dev/shm/conf-dir 2>&1; "
                   "echo mkdir-rc=$?; touch /dev/shm/conf-file && echo touch-ok"});
      ctx.MustCreate();
      ctx.MustStart();
      ctx.WaitExit();
      std::string out = ctx.ContainerOut();
      Check(out.find("Seccomp:\t2\n") != std::string::npos, "Seccomp mode: " + out);
      Check(out.find("Operation not permitted") != std::string::npos &&
                out.find("mkdir-rc=1\n") != std::string::npos,
            "mkdir was not refused with EPERM: " + out + ctx.ContainerErr());
      Check(out.find("touch-ok\n") != std::string::npos,
            "file creation failed too (not the filter): " + out + ctx.ContainerErr());
    }}};

Register personality{{
    "personality_linux32", "config-linux.md#personality",
    "runc 1.1.5 predates personality support (runc 1.2)",
    [](Ctx& ctx) {
      ctx.Set("/linux/personality", R"({"domain": "LINUX32"})");
      auto r = ctx.RunProbe();
      Check((GetInt(r, "/personality", -1) & 0xff) == 0x0008,
            "personality: " + Str(GetInt(r, "/personality", -1)));
    }}};

Register time_ns{{
    "namespace_time_offsets", "config-linux.md#offset-for-time-namespace",
    "runc 1.1.5 predates time namespace support",
    [](Ctx& ctx) {
      ctx.AddNamespace("time");
      ctx.Set("/linux/timeOffsets", R"({"monotonic": {"secs": 86400, "nanosecs": 0}})");
      auto r = ctx.RunProbe({"--file=/proc/self/timens_offsets"});
      Check(NsOf(r, "time") != HostNs("time"), "time namespace not new");
      std::string off = GetString(r, "/files/~1proc~1self~1timens_offsets");
      Check(off.find("86400") != std::string::npos, "timens_offsets: " + off);
    }}};

}  // namespace
}  // namespace husk::conformance
