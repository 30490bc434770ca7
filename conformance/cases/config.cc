// Cases for config.md (root, mounts, process, user, hostname/domainname) and
// runtime-linux.md (file descriptors, /dev symlinks). Most run the probe and compare its
// report with the configuration.
#include <filesystem>
#include <set>
#include <string>
#include <tuple>

#include "conformance/cases/util.h"

namespace husk::conformance {
namespace {

bool EnvHas(const rapidjson::Value& report, const std::string& entry) {
  const rapidjson::Value* env = Get(report, "/env");
  if (!env || !env->IsArray()) return false;
  for (const auto& e : env->GetArray()) {
    if (e.IsString() && entry == e.GetString()) return true;
  }
  return false;
}

Register root_readonly{{
    "root_readonly", "config.md#root",
    "",
    [](Ctx& ctx) {
      auto r = ctx.RunProbe({"--write=/probe-write-test"});
      std::string w = GetString(r, "/writes/~1probe-write-test");
      Check(w == "Read-only file system", "write to / with root.readonly: " + w);
    }}};

Register root_writable{{
    "root_writable", "config.md#root",
    "",
    [](Ctx& ctx) {
      ctx.Set("/root/readonly", "false");
      auto r = ctx.RunProbe({"--write=/probe-write-test"});
      std::string w = GetString(r, "/writes/~1probe-write-test");
      Check(w == "ok", "write to / without root.readonly: " + w);
    }}};

Register root_absolute{{
    "root_path_absolute", "config.md#root",
    "",
    [](Ctx& ctx) {
      ctx.Set("/root/path", "\"" + ctx.rootfs() + "\"");
      auto r = ctx.RunProbe();
      Check(GetInt(r, "/probe", 0) == 1, "probe did not run");
    }}};

Register mounts_tmpfs{{
    "mounts_tmpfs_options", "config.md#mounts",
    "",
    [](Ctx& ctx) {
      ctx.AddMount(R"({"destination": "/mnt", "type": "tmpfs", "source": "tmpfs",
                       "options": ["nosuid", "nodev", "size=1m", "mode=1777"]})");
      auto r = ctx.RunProbe({"--path=/mnt"});
      std::string line = MountinfoLine(r, "/mnt");
      Check(!line.empty(), "no mount at /mnt");
      Check(line.find(" - tmpfs ") != std::string::npos, "/mnt is not tmpfs: " + line);
      Check(line.find("nosuid") != std::string::npos && line.find("nodev") != std::string::npos,
            "/mnt lacks nosuid,nodev: " + line);
      Check(line.find("size=1024k") != std::string::npos, "/mnt lacks size=1m: " + line);
    }}};

Register mounts_bind_ro{{
    "mounts_bind_readonly", "config.md#mounts",
    "",
    [](Ctx& ctx) {
      std::string dir = ctx.MakeDir("bindsrc");
      WriteFileText(dir + "/hello", "hello from the host\n");
      std::filesystem::create_directories(ctx.rootfs() + "/data");
      ctx.AddMount(R"({"destination": "/data", "type": "bind", "source": ")" + dir +
                   R"(", "options": ["rbind", "ro"]})");
      auto r = ctx.RunProbe({"--file=/data/hello", "--path=/data/hello", "--write=/data/new"});
      Check(GetString(r, "/files/~1data~1hello") == "hello from the host\n",
            "bind-mounted file not visible");
      Check(GetString(r, "/writes/~1data~1new") == "Read-only file system",
            "write to ro bind: " + GetString(r, "/writes/~1data~1new"));
    }}};

Register mounts_bind_fs_options{{
    "mounts_bind_unknown_options_accepted", "config.md#mounts",
    "the kernel ignores mount data on a bind (MS_BIND); husk logs a warning naming them",
    [](Ctx& ctx) {
      // Options the runtime does not know go to mount(2) as data (config.md); on a bind
      // they have no effect, and the mount must still be made.
      std::string dir = ctx.MakeDir("bindsrc");
      WriteFileText(dir + "/hello", "hi\n");
      std::filesystem::create_directories(ctx.rootfs() + "/data");
      ctx.AddMount(R"({"destination": "/data", "type": "bind", "source": ")" + dir +
                   R"(", "options": ["rbind", "ro", "mode=755", "size=1m"]})");
      auto r = ctx.RunProbe({"--file=/data/hello", "--write=/data/new"});
      Check(GetString(r, "/files/~1data~1hello") == "hi\n", "bind-mounted file not visible");
      Check(GetString(r, "/writes/~1data~1new") == "Read-only file system",
            "ro lost next to unknown options: " + GetString(r, "/writes/~1data~1new"));
    }}};

Register mounts_dev_readonly{{
    "mounts_dev_readonly", "config.md#mounts",
    "",
    [](Ctx& ctx) {
      // "ro" on the /dev tmpfs: /dev still gets its nodes and /dev/pts, and is read-only.
      ctx.Set("/mounts/1/options", R"(["nosuid", "strictatime", "mode=755", "size=65536k", "ro"])");
      auto r = ctx.RunProbe({"--write=/dev/new", "--path=/dev/null"});
      Check(GetString(r, "/writes/~1dev~1new") == "Read-only file system",
            "write to /dev: " + GetString(r, "/writes/~1dev~1new"));
      Check(MountinfoHas(r, "/dev/pts", "devpts"), "/dev/pts is not mounted");
      Check(GetString(r, "/paths/~1dev~1null/type") == "char", "/dev/null is missing");
    }}};

Register mounts_proc_bind{{
    "mounts_proc_bind_of_procfs", "config.md#mounts",
    "",
    [](Ctx& ctx) {
      // A bind of a real procfs on /proc is a proc mount (runc's checkProcMount allows it).
      ctx.Set("/mounts/0", R"({"destination": "/proc", "type": "bind", "source": "/proc",
                                "options": ["rbind", "nosuid", "noexec", "nodev"]})");
      auto r = ctx.RunProbe();
      Check(MountinfoHas(r, "/proc", "proc"), "no procfs on /proc: " + MountinfoLine(r, "/proc"));
    }}};

Register mounts_order{{
    "mounts_in_listed_order", "config.md#mounts",
    "",
    [](Ctx& ctx) {
      std::string dir = ctx.MakeDir("bindsrc");
      WriteFileText(dir + "/second", "2");
      ctx.AddMount(R"({"destination": "/mnt", "type": "tmpfs", "source": "tmpfs",
                       "options": ["size=1m"]})");
      ctx.AddMount(R"({"destination": "/mnt", "type": "bind", "source": ")" + dir +
                   R"(", "options": ["rbind", "ro"]})");
      auto r = ctx.RunProbe({"--file=/mnt/second"});
      Check(GetString(r, "/files/~1mnt~1second") == "2",
            "the later mount is not on top of the earlier one");
    }}};

Register default_fs{{
    "default_filesystems", "config-linux.md#default-filesystems",
    "SHOULD; the default config lists them as mounts",
    [](Ctx& ctx) {
      auto r = ctx.RunProbe();
      for (const auto& [mp, type] : std::vector<std::pair<std::string, std::string>>{
               {"/proc", "proc"}, {"/sys", "sysfs"}, {"/dev/pts", "devpts"},
               {"/dev/shm", "tmpfs"}, {"/dev", "tmpfs"}, {"/dev/mqueue", "mqueue"}}) {
        Check(MountinfoHas(r, mp, " - " + type + " "), mp + " is not " + type);
      }
    }}};

Register process_env{{
    "process_env", "config.md#process",
    "",
    [](Ctx& ctx) {
      ctx.Set("/process/env",
              R"(["PATH=/bin:/usr/bin", "CONFORMANCE=yes", "SPACED=a b  c"])");
      auto r = ctx.RunProbe({"--sysctl=kernel.ostype"});
      Check(EnvHas(r, "CONFORMANCE=yes") && EnvHas(r, "SPACED=a b  c") &&
                EnvHas(r, "PATH=/bin:/usr/bin"),
            "env: " + ToJson(r["env"]));
      Check(GetString(r, "/argv/1") == "--sysctl=kernel.ostype", "argv not passed");
    }}};

Register process_path_lookup{{
    "process_args0_path_lookup", "config.md#process",
    "",
    [](Ctx& ctx) {
      ctx.Set("/process/env", R"(["PATH=/bin:/"])");
      ctx.SetArgs({"probe"});
      auto r = ctx.RunToCompletion();
      Check(GetInt(r, "/probe", 0) == 1, "probe not found via PATH");
    }}};

Register process_cwd{{
    "process_cwd", "config.md#process",
    "",
    [](Ctx& ctx) {
      ctx.Set("/process/cwd", R"("/tmp")");
      auto r = ctx.RunProbe();
      Check(GetString(r, "/cwd") == "/tmp", "cwd: " + GetString(r, "/cwd"));
    }}};

Register process_cwd_root_only{{
    "process_cwd_only_root_can_enter", "config.md#process",
    "runc enters the cwd before switching user and retries after on EACCES/EPERM",
    [](Ctx& ctx) {
      // /root is 0700 in the rootfs: the user could not chdir there itself.
      std::filesystem::permissions(ctx.rootfs() + "/root", std::filesystem::perms::owner_all);
      ctx.Set("/process/user", R"({"uid": 1000, "gid": 1000})");
      ctx.Set("/process/cwd", R"("/root")");
      auto r = ctx.RunProbe();
      Check(GetString(r, "/cwd") == "/root", "cwd: " + GetString(r, "/cwd"));
      Check(GetInt(r, "/uid", -1) == 1000, "uid: " + Str(GetInt(r, "/uid", -1)));
    }}};

Register process_user{{
    "process_user_ids", "config.md#user",
    "",
    [](Ctx& ctx) {
      ctx.Set("/process/user", R"({"uid": 1000, "gid": 1000, "additionalGids": [2000, 3000]})");
      auto r = ctx.RunProbe();
      Check(GetInt(r, "/uid", -1) == 1000 && GetInt(r, "/euid", -1) == 1000,
            "uid: " + Str(GetInt(r, "/uid", -1)));
      Check(GetInt(r, "/gid", -1) == 1000 && GetInt(r, "/egid", -1) == 1000,
            "gid: " + Str(GetInt(r, "/gid", -1)));
      std::set<long long> groups;
      for (const auto& g : r["groups"].GetArray()) groups.insert(g.GetInt64());
      Check(groups.count(2000) && groups.count(3000), "groups: " + ToJson(r["groups"]));
    }}};

Register process_umask{{
    "process_umask", "config.md#user",
    "",
    [](Ctx& ctx) {
      ctx.Set("/process/user/umask", "63");  // 0077
      auto r = ctx.RunProbe();
      Check(GetInt(r, "/umask", -1) == 077, "umask: " + Str(GetInt(r, "/umask", -1)));
    }}};

Register process_caps{{
    "process_capabilities", "config.md#linux-process",
    "",
    [](Ctx& ctx) {
      ctx.Set("/process/capabilities", R"({
          "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"],
          "effective": ["CAP_CHOWN", "CAP_KILL"],
          "permitted": ["CAP_CHOWN", "CAP_KILL"],
          "inheritable": ["CAP_KILL"],
          "ambient": ["CAP_KILL"]})");
      auto r = ctx.RunProbe();
      auto expect = [&](const char* field, std::vector<std::string> caps) {
        unsigned long long got = ParseHex(GetString(r, std::string("/caps/") + field));
        Check(got == CapMask(caps), std::string(field) + " = " +
                                        GetString(r, std::string("/caps/") + field));
      };
      expect("CapBnd", {"CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"});
      expect("CapEff", {"CAP_CHOWN", "CAP_KILL"});
      expect("CapPrm", {"CAP_CHOWN", "CAP_KILL"});
      expect("CapInh", {"CAP_KILL"});
      expect("CapAmb", {"CAP_KILL"});
    }}};

Register process_caps_nonroot{{
    "process_capabilities_nonroot", "config.md#linux-process",
    "",
    [](Ctx& ctx) {
      ctx.Set("/process/user", R"({"uid": 1000, "gid": 1000})");
      ctx.Set("/process/capabilities", R"({
          "bounding": ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
          "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"],
          "inheritable": ["CAP_KILL"], "ambient": ["CAP_KILL"]})");
      auto r = ctx.RunProbe();
      Check(ParseHex(GetString(r, "/caps/CapEff")) == CapMask({"CAP_KILL"}),
            "CapEff for uid 1000: " + GetString(r, "/caps/CapEff"));
      Check(ParseHex(GetString(r, "/caps/CapBnd")) ==
                CapMask({"CAP_KILL", "CAP_NET_BIND_SERVICE"}),
            "CapBnd: " + GetString(r, "/caps/CapBnd"));
    }}};

Register process_rlimits{{
    "process_rlimits", "config.md#posix-process",
    "",
    [](Ctx& ctx) {
      ctx.Set("/process/rlimits", R"([
          {"type": "RLIMIT_NOFILE", "soft": 512, "hard": 1024},
          {"type": "RLIMIT_CORE", "soft": 0, "hard": 0},
          {"type": "RLIMIT_NPROC", "soft": 1000, "hard": 2000},
          {"type": "RLIMIT_MSGQUEUE", "soft": 4096, "hard": 8192}])");
      auto r = ctx.RunProbe();
      auto expect = [&](const char* name, long long soft, long long hard) {
        std::string p = std::string("/rlimits/") + name;
        Check(GetInt(r, p + "/soft", -2) == soft && GetInt(r, p + "/hard", -2) == hard,
              std::string(name) + ": " + Str(GetInt(r, p + "/soft", -2)) + "/" +
                  Str(GetInt(r, p + "/hard", -2)));
      };
      expect("RLIMIT_NOFILE", 512, 1024);
      expect("RLIMIT_CORE", 0, 0);
      expect("RLIMIT_NPROC", 1000, 2000);
      expect("RLIMIT_MSGQUEUE", 4096, 8192);
    }}};

Register rlimit_invalid{{
    "process_rlimit_unknown_fails", "config.md#posix-process",
    "",
    [](Ctx& ctx) {
      ctx.Set("/process/rlimits", R"([{"type": "RLIMIT_CONFORMANCE", "soft": 1, "hard": 1}])");
      auto r = ctx.Create();
      Check(!r.ok(), "create with an unknown rlimit succeeded");
      Check(ctx.CgroupDirs().empty(), "cgroup left after failed create");
    }}};

Register no_new_privs{{
    "process_no_new_privileges", "config.md#linux-process",
    "",
    [](Ctx& ctx) {
      ctx.Set("/process/noNewPrivileges", "true");
      auto r = ctx.RunProbe();
      Check(GetInt(r, "/no_new_privs", -1) == 1, "no_new_privs not set");
    }}};

Register no_new_privs_off{{
    "process_no_new_privileges_off", "config.md#linux-process",
    "",
    [](Ctx& ctx) {
      ctx.Set("/process/noNewPrivileges", "false");
      auto r = ctx.RunProbe();
      Check(GetInt(r, "/no_new_privs", -1) == 0, "no_new_privs set without being asked");
    }}};

Register oom_score{{
    "process_oom_score_adj", "config.md#linux-process",
    "",
    [](Ctx& ctx) {
      ctx.Set("/process/oomScoreAdj", "432");
      auto r = ctx.RunProbe();
      Check(GetInt(r, "/oom_score_adj", 0) == 432,
            "oom_score_adj: " + Str(GetInt(r, "/oom_score_adj", 0)));
    }}};

Register hostname{{
    "hostname", "config.md#hostname",
    "",
    [](Ctx& ctx) {
      ctx.Set("/hostname", R"("conformance-host")");
      auto r = ctx.RunProbe();
      Check(GetString(r, "/hostname") == "conformance-host", "hostname: " + GetString(r, "/hostname"));
    }}};

Register domainname{{
    "domainname", "config.md#domainname",
    "",
    [](Ctx& ctx) {
      ctx.Set("/domainname", R"("conformance.example")");
      auto r = ctx.RunProbe();
      Check(GetString(r, "/domainname") == "conformance.example",
            "domainname: " + GetString(r, "/domainname"));
    }}};

Register stdio_fds{{
    "fds_only_stdio", "runtime-linux.md#file-descriptors",
    "",
    [](Ctx& ctx) {
      auto r = ctx.RunProbe();
      std::set<std::string> fds;
      for (const auto& m : r["fds"].GetObject()) fds.insert(m.name.GetString());
      Check(fds == std::set<std::string>{"0", "1", "2"}, "open fds: " + ToJson(r["fds"]));
    }}};

Register dev_symlinks{{
    "dev_symlinks", "runtime-linux.md#dev-symbolic-links",
    "",
    [](Ctx& ctx) {
      auto r = ctx.RunProbe();
      for (const auto& [dev, target] : std::vector<std::pair<std::string, std::string>>{
               {"/dev/fd", "/proc/self/fd"}, {"/dev/stdin", "/proc/self/fd/0"},
               {"/dev/stdout", "/proc/self/fd/1"}, {"/dev/stderr", "/proc/self/fd/2"}}) {
        const rapidjson::Value* d = Get(r, "/devices/" + std::string("~1dev~1") + dev.substr(5));
        Check(d != nullptr, dev + " missing");
        Check(GetString(*d, "/type") == "symlink" && GetString(*d, "/target") == target,
              dev + ": " + ToJson(*d));
      }
    }}};

Register default_devices{{
    "default_devices", "config-linux.md#default-devices",
    "",
    [](Ctx& ctx) {
      auto r = ctx.RunProbe({"--path=/dev/null", "--path=/dev/zero", "--path=/dev/urandom"});
      for (const auto& [name, major, minor] : std::vector<std::tuple<std::string, int, int>>{
               {"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8},
               {"urandom", 1, 9}, {"tty", 5, 0}}) {
        const rapidjson::Value* d = Get(r, "/devices/~1dev~1" + name);
        Check(d != nullptr, "/dev/" + name + " missing");
        Check(GetString(*d, "/type") == "char" && GetInt(*d, "/major", -1) == major &&
                  GetInt(*d, "/minor", -1) == minor,
              "/dev/" + name + ": " + ToJson(*d));
      }
      const rapidjson::Value* ptmx = Get(r, "/devices/~1dev~1ptmx");
      Check(ptmx != nullptr, "/dev/ptmx missing");
      bool ok = (GetString(*ptmx, "/type") == "symlink" &&
                 GetString(*ptmx, "/target").find("pts/ptmx") != std::string::npos) ||
                (GetString(*ptmx, "/type") == "char" && GetInt(*ptmx, "/major", -1) == 5 &&
                 GetInt(*ptmx, "/minor", -1) == 2);
      Check(ok, "/dev/ptmx: " + ToJson(*ptmx));
      // The devices cgroup must let the process use them.
      for (const char* p : {"~1dev~1null", "~1dev~1zero", "~1dev~1urandom"}) {
        Check(GetString(r, std::string("/paths/") + p + "/read") == "ok" &&
                  GetString(r, std::string("/paths/") + p + "/open_write") == "ok",
              std::string("cannot use ") + p + ": " + ToJson(*Get(r, std::string("/paths/") + p)));
      }
    }}};

Register stdin_not_tty{{
    "terminal_false_no_tty", "config.md#process",
    "",
    [](Ctx& ctx) {
      auto r = ctx.RunProbe();
      const rapidjson::Value* v = Get(r, "/stdin_tty");
      Check(v && v->IsBool() && !v->GetBool(), "stdin is a tty with terminal false");
    }}};

}  // namespace
}  // namespace husk::conformance
