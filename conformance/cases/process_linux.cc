// config.md "Linux process": more rlimits, oom_score_adj left alone, ambient
// capabilities of a non-root user, scheduler, ioPriority and execCPUAffinity.
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

}  // namespace
}  // namespace husk::conformance
