// Cases for the POSIX-platform hooks of config.md and runtime.md (lifecycle steps 3-13):
// which phase runs which hook, in which order, with the state on stdin, and how hook
// failures are handled. Hooks are host /bin/sh scripts that save their stdin.
#include <filesystem>
#include <string>

#include "conformance/cases/util.h"

namespace husk::conformance {
namespace {

// A hook entry that saves its stdin to <dir>/<name>.json and appends <name> to <dir>/order.
std::string SavingHook(const std::string& dir, const std::string& name, int exit_code = 0) {
  return R"({"path": "/bin/sh", "args": ["sh", "-c", "cat > )" + dir + "/" + name +
         ".json; echo " + name + " >> " + dir + "/order; exit " + std::to_string(exit_code) +
         R"("], "timeout": 10})";
}

// Checks that the saved state has the container's id and bundle.
void CheckHookState(Ctx& ctx, const std::string& dir, const std::string& name) {
  std::string text = ReadFileOr(dir + "/" + name + ".json");
  rapidjson::Document st;
  Check(ParseJson(text, &st) && st.IsObject(), name + " hook got no state JSON: '" + text + "'");
  Check(GetString(st, "/id") == ctx.id(), name + " hook state id: " + text);
  Check(GetString(st, "/bundle") == ctx.bundle(), name + " hook state bundle: " + text);
  Check(!GetString(st, "/ociVersion").empty(), name + " hook state lacks ociVersion: " + text);
}

Register create_phase{{
    "hooks_create_phase_order", "config.md#posix-platform-hooks",
    "runc passes status 'creating' to these hooks (cli-contract.md §7)",
    [](Ctx& ctx) {
      std::string dir = ctx.MakeDir("hooks");
      ctx.Set("/hooks", "{\"prestart\": [" + SavingHook(dir, "prestart") +
                            "], \"createRuntime\": [" + SavingHook(dir, "createRuntime") +
                            "], \"createContainer\": [" + SavingHook(dir, "createContainer") +
                            "]}");
      ctx.SetArgs({"/bin/sleep", "30"});
      ctx.MustCreate();
      std::string order = ReadFileOr(dir + "/order");
      Check(order == "prestart\ncreateRuntime\ncreateContainer\n", "hook order: '" + order + "'");
      for (const char* h : {"prestart", "createRuntime", "createContainer"}) {
        CheckHookState(ctx, dir, h);
      }
      rapidjson::Document st;
      ParseJson(ReadFileOr(dir + "/createRuntime.json"), &st);
      Check(GetInt(st, "/pid", -1) == ctx.Pid(), "createRuntime state pid is not the host pid");
    }}};

Register start_container{{
    "hooks_start_container", "config.md#startcontainer-hooks",
    "",
    [](Ctx& ctx) {
      std::string out = AddOutDir(ctx);
      // Resolved and run in the container: busybox sh writes to the /out bind mount.
      ctx.Set("/hooks", R"({"startContainer": [{"path": "/bin/sh",
          "args": ["sh", "-c", "cat > /out/startContainer.json"]}]})");
      ctx.ProbeArgs({});
      ctx.MustCreate();
      Check(!std::filesystem::exists(out + "/startContainer.json"),
            "startContainer hook ran during create");
      ctx.MustStart();
      ctx.WaitExit();
      CheckHookState(ctx, out, "startContainer");
    }}};

Register poststart{{
    "hooks_poststart", "config.md#poststart",
    "runc <= 1.5 runs poststart at the end of create with status 'created' (cli-contract.md §2.2)",
    [](Ctx& ctx) {
      std::string dir = ctx.MakeDir("hooks");
      ctx.Set("/hooks", "{\"poststart\": [" + SavingHook(dir, "poststart") + "]}");
      ctx.SetArgs({"/bin/sleep", "30"});
      ctx.MustCreate();
      ctx.MustStart();
      Check(std::filesystem::exists(dir + "/poststart.json"), "poststart did not run by start");
      CheckHookState(ctx, dir, "poststart");
    }}};

Register poststop{{
    "hooks_poststop", "config.md#poststop",
    "",
    [](Ctx& ctx) {
      std::string dir = ctx.MakeDir("hooks");
      ctx.Set("/hooks", "{\"poststop\": [" + SavingHook(dir, "poststop") + "]}");
      ctx.ProbeArgs({});
      ctx.MustCreate();
      ctx.MustStart();
      ctx.WaitExit();
      Check(!std::filesystem::exists(dir + "/poststop.json"), "poststop ran before delete");
      ctx.MustDelete();
      CheckHookState(ctx, dir, "poststop");
    }}};

Register create_runtime_fail{{
    "hooks_create_runtime_failure", "runtime.md#lifecycle",
    "",
    [](Ctx& ctx) {
      std::string dir = ctx.MakeDir("hooks");
      std::string out = AddOutDir(ctx);
      ctx.Set("/hooks", "{\"createRuntime\": [" + SavingHook(dir, "createRuntime", 1) + "]}");
      ctx.SetArgs({"/bin/sh", "-c", "echo ran > /out/marker"});
      auto r = ctx.Create();
      ctx.EndIfUnsupported(r);
      Check(!r.ok(), "create succeeded although a createRuntime hook failed");
      Check(!ctx.State().ok(), "container exists after failed createRuntime hook");
      Check(ctx.CgroupDirs().empty(), "cgroup left after failed createRuntime hook");
      SleepMs(100);
      Check(!std::filesystem::exists(out + "/marker"), "process ran");
    }}};

Register poststop_fail{{
    "hooks_poststop_failure_is_warning", "config.md#poststop",
    "runc 1.1.5 stops at the first failing poststop hook (delete still exits 0)",
    [](Ctx& ctx) {
      std::string dir = ctx.MakeDir("hooks");
      ctx.Set("/hooks", "{\"poststop\": [" + SavingHook(dir, "first", 1) + ", " +
                            SavingHook(dir, "second") + "]}");
      ctx.ProbeArgs({});
      ctx.MustCreate();
      ctx.MustStart();
      ctx.WaitExit();
      auto r = ctx.Delete();
      Check(r.ok(), "delete failed because of a poststop hook: " + r.Describe());
      Check(!ctx.State().ok(), "container still exists");
      Check(ReadFileOr(dir + "/order") == "first\nsecond\n",
            "poststop hooks after a failure: '" + ReadFileOr(dir + "/order") + "'");
    }}};

}  // namespace
}  // namespace husk::conformance
