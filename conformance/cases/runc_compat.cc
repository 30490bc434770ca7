// Cases for runc behaviours callers rely on that the spec leaves open (issue 12, found by a
// runc-compatibility suite): Docker's zero blkio weight, a frozen cgroup at create, signal
// 0, and urfave/cli's help texts. Each runs against every runtime; runc 1.1.5 is the
// reference.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "conformance/cases/util.h"

namespace husk::conformance {
namespace {

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// The runtime's own name as its help and version texts spell it ("husk", "runc", "crun").
std::string ProgramName(const Ctx& ctx) {
  return std::filesystem::path(ctx.runtime().binary).filename().string();
}

Register blockio_weight_zero{{
    "runc_compat_blockio_weight_zero", "config-linux.md#block-io",
    "Docker 20.10 writes exactly this linux.resources for every container; a 0 weight "
    "means unset",
    [](Ctx& ctx) {
      ctx.Set("/linux/resources", R"({
          "devices": [{"allow": false, "access": "rwm"}],
          "memory": {"disableOOMKiller": false},
          "cpu": {"shares": 0},
          "blockIO": {"weight": 0}})");
      auto r = ctx.RunProbe();
      Check(GetInt(r, "/probe", 0) == 1, "probe did not run");
    }}};

// Thaws (and so releases) the freezer cgroup the case froze, whatever the outcome; the
// Ctx removes the directory afterwards.
class ThawOnExit {
 public:
  explicit ThawOnExit(std::string dir) : dir_(std::move(dir)) {}
  ~ThawOnExit() { WriteFileText(dir_ + "/freezer.state", "THAWED"); }
  ThawOnExit(const ThawOnExit&) = delete;
  ThawOnExit& operator=(const ThawOnExit&) = delete;

 private:
  std::string dir_;
};

Register frozen_cgroup{{
    "runc_compat_frozen_cgroup_refused", "runtime.md#create",
    "runc refuses a frozen cgroup at create (\"container's cgroup unexpectedly frozen\"); "
    "crun 1.8.1 has no such check and hangs until the harness's timeout",
    [](Ctx& ctx) {
      std::string freezer = ctx.env().cgroup_mount + "/freezer";
      if (::access((freezer + "/freezer.state").c_str(), F_OK) != 0 &&
          ::access((freezer + "/cgroup.procs").c_str(), F_OK) != 0) {
        Skip("no v1 freezer hierarchy");
      }
      std::string dir = freezer + ctx.cgroups_path();
      std::filesystem::create_directories(dir);
      ThawOnExit thaw(dir);
      Check(WriteFileText(dir + "/freezer.state", "FROZEN"), "harness: cannot freeze " + dir);
      ctx.SetArgs({"/bin/sleep", "30"});
      ctx.WriteConfig();
      CmdOptions o;
      o.timeout = std::chrono::milliseconds(8000);
      o.stdout_file = ctx.bundle() + "/" + ctx.id() + ".out";
      o.stderr_file = ctx.bundle() + "/" + ctx.id() + ".err";
      CmdResult r = ctx.Invoke({"create", "--bundle", ctx.bundle(), "--pid-file",
                                ctx.bundle() + "/" + ctx.id() + ".pid", ctx.id()},
                               o);
      Check(!r.timed_out, "create hangs on a frozen cgroup");
      Check(!r.ok(), "create in a frozen cgroup succeeded");
      std::string text = r.err + r.out + ctx.last_log() + ctx.ContainerErr();
      Check(Contains(text, "unexpectedly frozen"),
            "error does not say the cgroup is unexpectedly frozen: " + text.substr(0, 300));
      CmdResult state = ctx.State();
      Check(!state.ok(), "a container was left after the failed create: " + state.out);
      Check(ReadFileOr(dir + "/cgroup.procs") == "", "a process was left in the frozen cgroup");
    }}};

Register kill_signal_zero{{
    "runc_compat_kill_signal_zero", "runtime.md#kill",
    "signal 0 (existence check) is accepted as a number, as by kill(1)",
    [](Ctx& ctx) {
      ctx.SetArgs({"/bin/sleep", "30"});
      ctx.MustCreate();
      ctx.MustStart();
      CmdResult zero = ctx.Kill("0");
      Check(zero.ok(), "kill 0 on a running container: " + zero.Describe());
      CmdResult all = ctx.Invoke({"kill", "--all", ctx.id(), "0"});
      Check(all.ok(), "kill --all 0 on a running container: " + all.Describe());
      SleepMs(100);
      Check(ctx.Status() == "running", "signal 0 changed the container: " + ctx.Status());

      CmdResult kill = ctx.Kill("KILL");
      Check(kill.ok(), "kill KILL: " + kill.Describe());
      ctx.WaitExit();
      CmdResult stopped = ctx.Kill("0");
      Check(!stopped.ok(), "kill 0 on a stopped container succeeded");
      CmdResult stopped_all = ctx.Invoke({"kill", "--all", ctx.id(), "0"});
      Check(stopped_all.ok(), "kill --all 0 on a stopped container: " + stopped_all.Describe());
      ctx.MustDelete();
    }}};

Register help_layout{{
    "runc_compat_help_layout", "runtime.md#operations",
    "urfave/cli's help layout (runc); crun prints argp's \"Usage:\" help instead",
    [](Ctx& ctx) {
      const std::string name = ProgramName(ctx);
      CmdResult version = ctx.Invoke({"--version"});
      Check(version.ok(), "--version: " + version.Describe());
      Check(version.out.rfind(name + " version ", 0) == 0,
            "--version does not start with \"" + name + " version \": " + version.out);
      std::string value = version.out.substr(name.size() + 9);
      value = value.substr(0, value.find('\n'));
      for (const std::string& flag : {"--help", "-h", "help"}) {
        CmdResult r = ctx.Invoke({flag});
        Check(r.ok(), flag + ": " + r.Describe());
        size_t at = 0;
        for (const std::string& section :
             {"NAME:\n   " + name + " - ", "\nUSAGE:\n   " + name + " [global options] command",
              "\nVERSION:\n   " + value + "\n", std::string("\nCOMMANDS:\n"),
              std::string("\n   help, h "), std::string("\nGLOBAL OPTIONS:\n")}) {
          size_t found = r.out.find(section, at);
          Check(found != std::string::npos,
                flag + ": no \"" + section + "\" (in order): " + r.out.substr(0, 200));
          at = found + section.size();
        }
      }
      CmdResult kill = ctx.Invoke({"help", "kill"});
      Check(kill.ok() && kill.out.rfind("NAME:\n   " + name + " kill - ", 0) == 0 &&
                Contains(kill.out, "\nUSAGE:\n   " + name + " kill ") &&
                Contains(kill.out, "\nOPTIONS:\n   --all, -a "),
            "help kill: " + kill.out.substr(0, 200));
    }}};

Register help_unknown_topic{{
    "runc_compat_help_unknown_topic", "runtime.md#operations",
    "urfave/cli (runc) exits 3 with \"No help topic for 'TOPIC'\"; crun has no help command",
    [](Ctx& ctx) {
      CmdResult r = ctx.Invoke({"help", "frobnicate"});
      Check(r.exit_code == 3, "help frobnicate exited " + Str(r.exit_code) + ", want 3");
      Check(r.out.empty(), "help frobnicate printed on stdout: " + r.out.substr(0, 200));
      Check(Contains(r.err + ctx.last_log(), "No help topic for 'frobnicate'"),
            "no \"No help topic for 'frobnicate'\": " + (r.err + ctx.last_log()).substr(0, 200));
    }}};

}  // namespace
}  // namespace husk::conformance
