// Cases for `ps --format json` (containerd's Pids, docker top) and `events --stats`
// (containerd's Stats through go-runc), commands the runtime spec leaves to runc's CLI:
// runc 1.1.5 is the reference for the output shape.
#include <string>
#include <vector>

#include "conformance/cases/util.h"

namespace husk::conformance {
namespace {

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Creates and starts a container running `sleep 30`.
void StartSleeper(Ctx& ctx) {
  ctx.SetArgs({"/bin/sleep", "30"});
  ctx.MustCreate();
  ctx.MustStart();
}

// Creates and starts a container running /bin/true and waits for it to exit.
void RunToExit(Ctx& ctx) {
  ctx.SetArgs({"/bin/true"});
  ctx.MustCreate();
  ctx.MustStart();
  ctx.WaitExit();
}

// The pids of `ps --format json`, failing the case on anything but an array or null.
std::vector<long long> PsJson(Ctx& ctx) {
  CmdResult r = ctx.Invoke({"ps", "--format", "json", ctx.id()});
  Check(r.ok(), r.Describe());
  Check(!r.out.empty() && r.out.back() == '\n', "ps output does not end in a newline");
  rapidjson::Document d;
  Check(ParseJson(r.out, &d), "ps output is not JSON: " + r.out.substr(0, 200));
  std::vector<long long> pids;
  if (d.IsNull()) return pids;
  Check(d.IsArray(), "ps output is not an array: " + r.out.substr(0, 200));
  for (const auto& v : d.GetArray()) {
    Check(v.IsInt64(), "ps array holds a non-integer: " + r.out.substr(0, 200));
    pids.push_back(v.GetInt64());
  }
  return pids;
}

Register ps_json{{
    "ps_events_ps_json", "runc ps --format json", "",
    [](Ctx& ctx) {
      StartSleeper(ctx);
      std::vector<long long> pids = PsJson(ctx);
      Check(pids.size() == 1 && pids[0] == ctx.Pid(),
            "ps does not list exactly the init's host pid " + Str(ctx.Pid()));
      ctx.MustDelete(true);
    }}};

Register ps_json_stopped{{
    "ps_events_ps_json_stopped", "runc ps --format json",
    "runc prints null, [] decodes as well; crun 1.8.1 crashes (SIGSEGV) on a stopped container",
    [](Ctx& ctx) {
      RunToExit(ctx);
      Check(PsJson(ctx).empty(), "a stopped container has processes");
      ctx.MustDelete();
    }}};

Register events_stats{{
    "ps_events_events_stats_shape", "runc events --stats",
    "crun 1.8.1 has no events command",
    [](Ctx& ctx) {
      ctx.Set("/linux/resources", R"({"memory": {"limit": 67108864}})");
      StartSleeper(ctx);
      CmdResult r = ctx.Invoke({"events", "--stats", ctx.id()});
      Check(r.ok(), r.Describe());
      Check(!r.out.empty() && r.out.back() == '\n' && r.out.find('\n') == r.out.size() - 1,
            "not exactly one line: " + r.out.substr(0, 200));
      rapidjson::Document d;
      Check(ParseJson(r.out, &d) && d.IsObject(), "not a JSON object: " + r.out.substr(0, 200));
      Check(GetString(d, "/type") == "stats", "type is not \"stats\"");
      Check(GetString(d, "/id") == ctx.id(), "id is not the container's");
      for (const char* p : {"/data/cpu/usage", "/data/cpu/throttling", "/data/cpuset",
                            "/data/memory/usage", "/data/memory/swap", "/data/memory/kernel",
                            "/data/memory/kernelTCP", "/data/pids", "/data/blkio",
                            "/data/hugetlb", "/data/intel_rdt", "/data/network_interfaces"}) {
        Check(Get(d, p) != nullptr, std::string("missing ") + p);
      }
      Check(GetInt(d, "/data/memory/usage/limit", -1) == 67108864,
            "memory.usage.limit is not the configured 64 MiB");
      Check(GetInt(d, "/data/memory/usage/usage", 0) > 0, "memory.usage.usage is 0");
      Check(GetInt(d, "/data/pids/current", 0) >= 1, "pids.current is 0");
      Check(GetInt(d, "/data/cpu/usage/total", 0) > 0, "cpu.usage.total is 0");
      ctx.MustDelete(true);
    }}};

Register events_stopped{{
    "ps_events_events_stopped", "runc events",
    "crun 1.8.1 has no events command",
    [](Ctx& ctx) {
      RunToExit(ctx);
      CmdResult r = ctx.Invoke({"events", "--stats", ctx.id()});
      Check(r.exit_code == 1, "events on a stopped container: " + r.Describe());
      std::string text = r.err + r.out + ctx.last_log();
      Check(Contains(text, "container with id " + ctx.id() + " is not running"),
            "error does not say the container is not running: " + text.substr(0, 300));
      ctx.MustDelete();
    }}};

}  // namespace
}  // namespace husk::conformance
