// Cases for runtime.md (state, operations, lifecycle, errors) and the CLI conventions the
// callers depend on (cli-contract.md §2, §5). Each case names the heading it checks.
#include <cctype>
#include <filesystem>
#include <string>

#include "conformance/cases/util.h"

namespace husk::conformance {
namespace {

const std::vector<std::string> kSleep = {"/bin/sleep", "30"};

// A long-running container that has been created and started.
void CreateRunning(Ctx& ctx) {
  ctx.SetArgs(kSleep);
  ctx.MustCreate();
  ctx.MustStart();
}

Register state_after_create{{
    "state_after_create", "runtime.md#state",
    "",
    [](Ctx& ctx) {
      ctx.SetArgs(kSleep);
      ctx.MustCreate();
      auto st = ctx.MustState();
      Check(!GetString(st, "/ociVersion").empty(), "state.ociVersion missing: " + ToJson(st));
      Check(GetString(st, "/id") == ctx.id(), "state.id != id: " + ToJson(st));
      Check(GetString(st, "/status") == "created", "status is not created: " + ToJson(st));
      Check(GetInt(st, "/pid", -1) == ctx.Pid(),
            "state.pid != pid file " + Str(ctx.Pid()) + ": " + ToJson(st));
      Check(GetInt(st, "/pid", -1) > 0, "state.pid not > 0");
      Check(GetString(st, "/bundle") == ctx.bundle(),
            "state.bundle is not the absolute bundle path: " + ToJson(st));
    }}};

Register state_running{{
    "state_running_after_start", "runtime.md#start",
    "",
    [](Ctx& ctx) {
      CreateRunning(ctx);
      auto st = ctx.MustState();
      Check(GetString(st, "/status") == "running", "status after start: " + ToJson(st));
      Check(GetInt(st, "/pid", -1) == ctx.Pid(), "pid changed after start: " + ToJson(st));
    }}};

Register state_stopped{{
    "state_stopped_after_exit", "runtime.md#state",
    "",
    [](Ctx& ctx) {
      ctx.ProbeArgs({});
      ctx.MustCreate();
      ctx.MustStart();
      ctx.WaitExit();
      Check(ctx.Status() == "stopped", "status after the process exited is not stopped");
    }}};

Register state_unknown{{
    "state_unknown_id_fails", "runtime.md#query-state",
    "",
    [](Ctx& ctx) {
      auto r = ctx.State("no-such-container");
      Check(!r.ok(), "state of an unknown id succeeded: " + r.out);
    }}};

Register create_duplicate{{
    "create_duplicate_id_fails", "runtime.md#create",
    "",
    [](Ctx& ctx) {
      ctx.SetArgs(kSleep);
      ctx.MustCreate();
      pid_t pid = ctx.Pid();
      std::string other = ctx.MakeDir("second");
      auto r = ctx.Invoke({"create", "--bundle", ctx.bundle(), "--pid-file", other + "/pid",
                           ctx.id()});
      Check(!r.ok(), "second create with the same id succeeded");
      auto st = ctx.MustState();
      Check(GetString(st, "/status") == "created" && GetInt(st, "/pid", -1) == pid,
            "failed create changed the existing container: " + ToJson(st));
    }}};

Register create_invalid_id{{
    "create_invalid_id_fails", "runtime.md#create",
    "IDs are runtime-defined; runc and crun reject '/' and '..'",
    [](Ctx& ctx) {
      auto r = ctx.Create("../escape");
      Check(!r.ok(), "create with id '../escape' succeeded");
      Check(!std::filesystem::exists(ctx.runtime().root + "/../escape"),
            "a state dir was made outside --root");
    }}};

Register create_no_run{{
    "create_does_not_run_process", "runtime.md#create",
    "",
    [](Ctx& ctx) {
      // The process records whether /out/started (made between create and start)
      // existed when it ran, so a run during create shows up without a timing guess.
      std::string out = AddOutDir(ctx);
      ctx.SetArgs({"/bin/sh", "-c",
                   "if [ -e /out/started ]; then echo after-start; else echo before-start; fi "
                   ">> /out/marker"});
      ctx.MustCreate();
      Check(ctx.Status() == "created", "status is not created");
      Check(WriteFileText(out + "/started", "1\n"), "cannot write " + out + "/started");
      ctx.MustStart();
      ctx.WaitExit();
      Check(ReadFileOr(out + "/marker") == "after-start\n",
            "marker after start: '" + ReadFileOr(out + "/marker") + "'");
    }}};

Register start_twice{{
    "start_twice_fails", "runtime.md#start",
    "",
    [](Ctx& ctx) {
      // The process runs until /out/go exists; the markers are counted after it exited.
      std::string out = AddOutDir(ctx);
      ctx.SetArgs({"/bin/sh", "-c",
                   "echo ran >> /out/marker; while [ ! -e /out/go ]; do sleep 0.05; done"});
      ctx.MustCreate();
      ctx.MustStart();
      auto r = ctx.Start();
      Check(!r.ok(), "second start succeeded");
      Check(ctx.Status() == "running", "failed start changed the state");
      Check(WriteFileText(out + "/go", "1\n"), "cannot write " + out + "/go");
      ctx.WaitExit();
      Check(ReadFileOr(out + "/marker") == "ran\n",
            "process ran other than once: '" + ReadFileOr(out + "/marker") + "'");
    }}};

Register start_stopped{{
    "start_stopped_fails", "runtime.md#start",
    "",
    [](Ctx& ctx) {
      ctx.ProbeArgs({});
      ctx.MustCreate();
      ctx.MustStart();
      ctx.WaitExit();
      auto r = ctx.Start();
      Check(!r.ok(), "start of a stopped container succeeded");
      Check(ctx.Status() == "stopped", "failed start changed the state");
    }}};

Register start_unknown{{
    "start_unknown_id_fails", "runtime.md#start",
    "",
    [](Ctx& ctx) { Check(!ctx.Start("no-such-container").ok(), "start of unknown id succeeded"); }}};

Register kill_created{{
    "kill_created", "runtime.md#kill",
    "",
    [](Ctx& ctx) {
      std::string out = AddOutDir(ctx);
      ctx.SetArgs({"/bin/sh", "-c", "echo ran >> /out/marker"});
      ctx.MustCreate();
      auto r = ctx.Kill("KILL");
      Check(r.ok(), "kill KILL of a created container: " + r.Describe());
      ctx.WaitExit();
      Check(ctx.Status() == "stopped", "not stopped after SIGKILL");
      Check(!std::filesystem::exists(out + "/marker"), "process.args ran after kill");
    }}};

Register kill_running{{
    "kill_running_delivers_signal", "runtime.md#kill",
    "",
    [](Ctx& ctx) {
      std::string out = AddOutDir(ctx);
      ctx.SetArgs({"/bin/sh", "-c",
                   "trap 'echo term > /out/sig; exit 0' TERM; echo up > /out/ready; "
                   "while :; do sleep 0.05; done"});
      ctx.MustCreate();
      ctx.MustStart();
      Check(WaitForFile(out + "/ready"), "container never became ready");
      auto r = ctx.Kill("TERM");
      Check(r.ok(), "kill TERM: " + r.Describe());
      ctx.WaitExit();
      Check(ReadFileOr(out + "/sig") == "term\n", "SIGTERM was not delivered to the process");
    }}};

Register kill_numeric{{
    "kill_numeric_signal", "runtime.md#kill",
    "cli-contract.md §2.4: callers send numbers",
    [](Ctx& ctx) {
      CreateRunning(ctx);
      auto r = ctx.Kill("9");
      Check(r.ok(), "kill 9: " + r.Describe());
      ctx.WaitExit();
      Check(ctx.Status() == "stopped", "not stopped after kill 9");
    }}};

Register kill_stopped{{
    "kill_stopped_fails", "runtime.md#kill",
    "runc/crun say 'container not running' (cli-contract.md §2.4)",
    [](Ctx& ctx) {
      ctx.ProbeArgs({});
      ctx.MustCreate();
      ctx.MustStart();
      ctx.WaitExit();
      auto st = ctx.MustState();
      std::string before = ToJson(st);
      Check(GetString(st, "/status") == "stopped", "not stopped: " + before);
      auto r = ctx.Kill("KILL");
      Check(!r.ok(), "kill of a stopped container succeeded");
      std::string after = ToJson(ctx.MustState());
      Check(before == after, "state changed after failed kill: " + before + " -> " + after);
    }}};

Register kill_unknown{{
    "kill_unknown_id_fails", "runtime.md#kill",
    "",
    [](Ctx& ctx) {
      auto r = ctx.Kill("KILL", "no-such-container");
      Check(!r.ok(), "kill of unknown id succeeded");
    }}};

Register delete_running{{
    "delete_running_fails", "runtime.md#delete",
    "",
    [](Ctx& ctx) {
      CreateRunning(ctx);
      auto r = ctx.Delete();
      Check(!r.ok(), "delete of a running container succeeded");
      Check(ctx.Status() == "running", "failed delete changed the container");
      Check(!ctx.CgroupDirs().empty(), "failed delete removed the cgroup");
    }}};

Register delete_created{{
    "delete_created", "runtime.md#delete",
    "spec: error for a non-stopped container; runc and crun kill and delete a created "
    "container (containerd relies on it, cli-contract.md §2.5). Either behaviour passes if it "
    "is complete.",
    [](Ctx& ctx) {
      ctx.SetArgs(kSleep);
      ctx.MustCreate();
      pid_t pid = ctx.Pid();
      auto r = ctx.Delete();
      if (r.ok()) {
        Check(WaitPidGone(pid, std::chrono::milliseconds(3000)), "init survived delete");
        Check(!ctx.State().ok(), "state still works after delete");
        Check(ctx.CgroupDirs().empty(), "cgroup left after delete");
      } else {
        Check(ctx.Status() == "created", "failed delete changed the container");
      }
    }}};

Register delete_stopped{{
    "delete_stopped_removes_all", "runtime.md#delete",
    "",
    [](Ctx& ctx) {
      ctx.ProbeArgs({});
      ctx.MustCreate();
      ctx.MustStart();
      ctx.WaitExit();
      Check(!ctx.CgroupDirs().empty(), "no cgroup for the container before delete");
      ctx.MustDelete();
      Check(!ctx.State().ok(), "state still works after delete");
      auto dirs = ctx.CgroupDirs();
      Check(dirs.empty(), "cgroup left after delete: " + (dirs.empty() ? "" : dirs[0]));
      Check(!std::filesystem::exists(ctx.runtime().root + "/" + ctx.id()),
            "state dir left after delete");
      // The id can be reused.
      std::filesystem::remove(ctx.bundle() + "/" + ctx.id() + ".out");
      ctx.MustCreate();
      ctx.MustDelete(true);
    }}};

Register delete_force{{
    "delete_force_running", "runtime.md#delete",
    "--force is a runc CLI extension (cli-contract.md §2.5)",
    [](Ctx& ctx) {
      CreateRunning(ctx);
      pid_t pid = ctx.Pid();
      ctx.MustDelete(true);
      Check(WaitPidGone(pid, std::chrono::milliseconds(3000)), "init survived delete --force");
      Check(!ctx.State().ok(), "state still works after delete --force");
      Check(ctx.CgroupDirs().empty(), "cgroup left after delete --force");
    }}};

Register delete_unknown{{
    "delete_unknown_id_fails", "runtime.md#delete",
    "",
    [](Ctx& ctx) {
      auto r = ctx.Delete(false, "no-such-container");
      Check(!r.ok(), "delete of unknown id succeeded");
    }}};

Register unknown_id_text{{
    "unknown_id_error_text", "cli-contract.md#5.5",
    "callers match 'does not exist' (containerd, podman); not a runtime-spec requirement",
    [](Ctx& ctx) {
      for (const char* op : {"state", "delete", "kill", "start"}) {
        auto r = ctx.Invoke({op, "no-such-container"});
        Check(!r.ok(), std::string(op) + " of unknown id succeeded");
        Check((r.err + r.out + ctx.last_log()).find("does not exist") != std::string::npos,
              "error lacks 'does not exist': " + r.Describe());
      }
    }}};

Register create_error_leaves_nothing{{
    "create_error_leaves_nothing", "runtime.md#errors",
    "",
    [](Ctx& ctx) {
      ctx.AddMount(R"({"destination": "/mnt", "type": "bind",
                       "source": "/nonexistent/conformance-source", "options": ["rbind"]})");
      auto r = ctx.Create();
      Check(!r.ok(), "create with a missing bind source succeeded");
      Check(!ctx.State().ok(), "state works after failed create");
      Check(!std::filesystem::exists(ctx.runtime().root + "/" + ctx.id()),
            "state dir left after failed create");
      auto dirs = ctx.CgroupDirs();
      Check(dirs.empty(), "cgroup left after failed create: " + (dirs.empty() ? "" : dirs[0]));
      Check(!HasMountsUnder(ctx.bundle()), "mounts left after failed create");
    }}};

Register config_edit{{
    "config_change_after_create_ignored", "runtime.md#create",
    "",
    [](Ctx& ctx) {
      std::string out = AddOutDir(ctx);
      ctx.SetArgs({"/bin/sh", "-c", "echo original > /out/marker"});
      ctx.MustCreate();
      ctx.SetArgs({"/bin/sh", "-c", "echo changed > /out/marker"});
      ctx.WriteConfig();
      ctx.MustStart();
      ctx.WaitExit();
      Check(ReadFileOr(out + "/marker") == "original\n",
            "marker: '" + ReadFileOr(out + "/marker") + "'");
    }}};

Register missing_exe{{
    "create_missing_executable_fails", "config.md#process",
    "runc/crun fail in create with 'executable file not found' (cli-contract.md §2.1)",
    [](Ctx& ctx) {
      ctx.SetArgs({"/no/such/binary"});
      auto r = ctx.Create();
      ctx.EndIfUnsupported(r);
      std::string text = r.err + r.out + ctx.last_log();
      std::string what = r.Describe();
      if (r.ok()) {
        auto s = ctx.Start();
        Check(!s.ok(), "create and start of a missing executable both succeeded");
        text = s.err + s.out + ctx.last_log();
        what = s.Describe();
      }
      std::string lower = text;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      Check(text.find("/no/such/binary") != std::string::npos &&
                (lower.find("not found") != std::string::npos ||
                 lower.find("no such file") != std::string::npos),
            "error does not say /no/such/binary is missing: " + what + " log: " +
                ctx.last_log());
    }}};

Register pid_file{{
    "pid_file_matches_state", "runtime.md#state",
    "--pid-file is a runc CLI convention (cli-contract.md §5.1)",
    [](Ctx& ctx) {
      ctx.SetArgs(kSleep);
      ctx.MustCreate();
      std::string raw = ReadFileOr(ctx.bundle() + "/" + ctx.id() + ".pid");
      Check(!raw.empty() && raw.find_first_not_of("0123456789") == std::string::npos,
            "pid file is not bare decimal digits: '" + raw + "'");
      Check(GetInt(ctx.MustState(), "/pid", -1) == std::stoll(raw), "pid file != state.pid");
    }}};

Register run_exit{{
    "run_exit_status", "runtime.md#lifecycle",
    "`run` is a runc CLI combination of create+start+wait+delete (cli-contract.md §5.4)",
    [](Ctx& ctx) {
      ctx.ProbeArgs({"--exit=3"});
      auto r = ctx.RunForeground();
      ctx.EndIfUnsupported(r);
      Check(r.exit_code == 3, "run: " + r.Describe());
      Check(!ctx.State().ok(), "container left after run");
    }}};

Register annotations{{
    "annotations_in_state", "config.md#annotations",
    "",
    [](Ctx& ctx) {
      ctx.Set("/annotations", R"({"org.opencontainers.conformance": "yes", "x.y": "z"})");
      ctx.SetArgs(kSleep);
      ctx.MustCreate();
      auto st = ctx.MustState();
      Check(GetString(st, "/annotations/org.opencontainers.conformance") == "yes" &&
                GetString(st, "/annotations/x.y") == "z",
            "annotations not in state: " + ToJson(st));
    }}};

Register unknown_props{{
    "unknown_properties_ignored", "config.md#extensibility",
    "",
    [](Ctx& ctx) {
      ctx.Set("/org.example.unknown", R"({"a": [1, 2]})");
      ctx.Set("/process/org.example.x", R"("y")");
      ctx.Set("/linux/org.example.z", "7");
      ctx.Set("/root/org.example.w", "true");
      auto report = ctx.RunProbe();
      Check(GetInt(report, "/probe", 0) == 1, "probe did not run");
    }}};

Register oci_version{{
    "oci_version_1_0_0_accepted", "config.md#specification-version",
    "",
    [](Ctx& ctx) {
      ctx.Set("/ociVersion", R"("1.0.0")");
      auto report = ctx.RunProbe();
      Check(GetInt(report, "/probe", 0) == 1, "probe did not run");
    }}};

Register lifecycle_probe{{
    "lifecycle_create_start_delete", "runtime.md#lifecycle",
    "",
    [](Ctx& ctx) {
      auto report = ctx.RunProbe();
      Check(GetString(report, "/argv/0") == "/probe", "probe argv: " + ToJson(report["argv"]));
      Check(ctx.CgroupDirs().empty(), "cgroup left after delete");
    }}};

}  // namespace
}  // namespace husk::conformance
