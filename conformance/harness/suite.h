// The conformance suite's model: a Runtime (one binary and how to invoke it), a Case
// (name, the spec file#heading it checks, a note on deliberate runc differences, and a
// body), the global case registry, and Ctx — one case run against one runtime: it owns
// the temp bundle, the container ids it created, their cgroups, and cleans all of it up.
// Case bodies throw CaseEnd (via Check/Fail/Skip) to finish early; anything else passes.
#ifndef HUSK_CONFORMANCE_HARNESS_SUITE_H_
#define HUSK_CONFORMANCE_HARNESS_SUITE_H_

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "conformance/harness/command.h"
#include "rapidjson/document.h"

namespace husk::conformance {

enum class Outcome { kPass, kFail, kSkip, kUnsupported };
const char* OutcomeName(Outcome o);

struct Result {
  Outcome outcome = Outcome::kPass;
  std::string reason;
};

// Thrown by case bodies to end with a non-pass result.
struct CaseEnd {
  Result result;
};

struct Runtime {
  std::string name;                 // column name: husk, runc, crun
  std::string binary;               // absolute path
  std::vector<std::string> prefix;  // argv before the runtime's own flags
  std::string root;                 // --root dir (per runtime, under the run's temp dir)
};

// Paths shared by every case of one harness run.
struct Env {
  std::string work_dir;      // per-run temp dir (0755)
  std::string rootfs;        // the busybox rootfs to copy
  std::string probe;         // the static probe binary
  std::string base_config;   // `runc spec` output, as JSON text
  std::string cgroup_mount;  // "/sys/fs/cgroup"
  bool cgroup2_only = false;  // cgroup_mount is itself cgroup2 (a pure v2 host)
};

class Ctx;
struct Case {
  std::string name;
  std::string spec;  // "runtime.md#start" — file and heading checked
  std::string note;  // where runc/crun deliberately differ, or ""
  std::function<void(Ctx&)> body;
};

std::vector<Case>& Registry();
// `static Register r{{...}};` in a cases file adds a case.
struct Register {
  explicit Register(Case c) { Registry().push_back(std::move(c)); }
};

[[noreturn]] void Fail(const std::string& reason);
[[noreturn]] void Skip(const std::string& reason);
inline void Check(bool cond, const std::string& reason) {
  if (!cond) Fail(reason);
}

class Ctx {
 public:
  Ctx(const Runtime& rt, const Env& env, const std::string& case_name);
  ~Ctx();
  Ctx(const Ctx&) = delete;
  Ctx& operator=(const Ctx&) = delete;

  const Runtime& runtime() const { return rt_; }
  const Env& env() const { return env_; }
  const std::string& bundle() const { return bundle_; }
  const std::string& id() const { return id_; }
  const std::string& cgroups_path() const { return cgroups_path_; }  // "/husk-test/conf-..."
  std::string rootfs() const { return bundle_ + "/rootfs"; }
  rapidjson::Document& config() { return config_; }

  // Config edits: JSON pointer ("/process/args") and JSON text.
  void Set(const std::string& pointer, const std::string& json);
  void Remove(const std::string& pointer);
  void SetArgs(const std::vector<std::string>& args);
  // process.args = ["/probe", probe_args...].
  void ProbeArgs(const std::vector<std::string>& probe_args);
  void AddMount(const std::string& json);
  void AddNamespace(const std::string& type, const std::string& path = "");
  void RemoveNamespace(const std::string& type);
  void WriteConfig();  // also done by Create/RunForeground

  // A fresh unique id (for second containers); the Ctx cleans it up too.
  std::string NewId();
  // A directory under the bundle (0777) for bind mounts and markers.
  std::string MakeDir(const std::string& name);

  // Raw runtime invocation with --root, --log <bundle>/log-N.json --log-format json.
  CmdResult Invoke(const std::vector<std::string>& args, const CmdOptions& opts = {});
  // The JSON log lines of the last Invoke.
  const std::string& last_log() const { return last_log_; }

  // create --bundle B --pid-file P <id>; container stdio goes to <bundle>/<id>.out/.err.
  CmdResult Create(const std::string& id = "", const std::string& bundle = "");
  CmdResult Start(const std::string& id = "");
  CmdResult State(const std::string& id = "");
  CmdResult Kill(const std::string& signal, const std::string& id = "");
  CmdResult Delete(bool force = false, const std::string& id = "");
  // run --bundle B <id> in the foreground (stdio to files as for create).
  CmdResult RunForeground(const std::string& id = "");

  // Like the above but a failure ends the case: "not supported yet" in the output or the
  // log → unsupported, anything else → fail with the command's description.
  void MustCreate(const std::string& id = "");
  void MustStart(const std::string& id = "");
  void MustDelete(bool force = false, const std::string& id = "");
  // state parsed; fails the case if the command or the JSON is bad.
  rapidjson::Document MustState(const std::string& id = "");
  std::string Status(const std::string& id = "");

  pid_t Pid(const std::string& id = "");  // from the pid file
  // Waits until the init from the pid file is gone; fails the case on timeout.
  void WaitExit(const std::string& id = "", int timeout_ms = 5000);
  std::string ContainerOut(const std::string& id = "");  // what the container wrote to stdout
  std::string ContainerErr(const std::string& id = "");

  // Runs the probe to completion (create, start, wait, delete) and returns its report.
  rapidjson::Document RunProbe(const std::vector<std::string>& probe_args = {});
  // Same, but the already-configured process.args are kept.
  rapidjson::Document RunToCompletion();

  // Unsupported check for a failed command (also used by cases that expect success).
  void EndIfUnsupported(const CmdResult& r);

  // Host-side cgroup directories for cgroups_path() ("<mount>/<controller>/<path>", or
  // "<mount>/<path>" on a pure v2 host).
  std::vector<std::string> CgroupDirs() const;
  // Content of a cgroup file for the container ("memory", "memory.limit_in_bytes");
  // "" if missing. On a pure v2 host the controller is ignored ("memory", "memory.max").
  std::string CgroupFile(const std::string& controller, const std::string& file) const;

 private:
  std::string IdOr(const std::string& id) const { return id.empty() ? id_ : id; }
  void Cleanup();

  const Runtime& rt_;
  const Env& env_;
  std::string bundle_, id_, cgroups_path_;
  rapidjson::Document config_;
  std::vector<std::string> ids_;
  std::string last_log_;
  int log_seq_ = 0;
};

// Finds a field by JSON pointer; nullptr if absent.
const rapidjson::Value* Get(const rapidjson::Value& doc, const std::string& pointer);
std::string GetString(const rapidjson::Value& doc, const std::string& pointer);
long long GetInt(const rapidjson::Value& doc, const std::string& pointer, long long fallback);
bool ParseJson(const std::string& text, rapidjson::Document* doc);
std::string ToJson(const rapidjson::Value& v);

}  // namespace husk::conformance

#endif  // HUSK_CONFORMANCE_HARNESS_SUITE_H_
