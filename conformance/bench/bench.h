// What the files of husk_bench share: the small helpers (util.cc), spawning and reaping
// runtime calls and the per-container bundles (runner.cc, config.cc), rows, sections and
// ratios (stats.cc), the scenarios (scenarios_*.cc), the targets (targets.cc) and the
// report (report.cc). main.cc says how the bench measures. Internal to the bench.
#ifndef HUSK_CONFORMANCE_BENCH_BENCH_H_
#define HUSK_CONFORMANCE_BENCH_BENCH_H_

#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <csignal>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace husk::bench {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// ---------------------------------------------------------------------------------------
// Small helpers (util.cc)

extern volatile sig_atomic_t g_stop;  // set by SIGINT/SIGTERM
struct Stopped : std::runtime_error {
  Stopped() : std::runtime_error("interrupted") {}
};
// Throws Stopped once a stop was requested.
void CheckStop();

int64_t NowNs();  // CLOCK_MONOTONIC
double Ms(int64_t ns);
double CpuMs(const rusage& ru);  // user + sys
void SleepMs(int ms);

std::string ReadFile(const std::string& path, size_t max = 1 << 20);  // "" when unreadable
void WriteFile(const std::string& path, const std::string& data);     // throws on error
std::string Trim(std::string s);
std::string FirstLine(const std::string& s);
// Trimmed, on one line and without '|' (fits a table cell), cut at max.
std::string Excerpt(const std::string& s, size_t max = 300);
std::string Fmt(const char* fmt, double v);

// ---------------------------------------------------------------------------------------
// Runtime calls (runner.cc)

struct Reaped {
  int status = 0;
  rusage ru{};
  int64_t t_ns = 0;
};

struct CallResult {
  double wall_ms = kNaN, cpu_ms = kNaN, maxrss_kb = kNaN;
  int status = -1;
  bool timed_out = false;
  std::string out, err, cmd;
  bool ok() const { return !timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0; }
  std::string Describe() const {
    std::string s = "`" + cmd + "` ";
    if (timed_out)
      s += "timed out";
    else if (WIFSIGNALED(status))
      s += "killed by signal " + std::to_string(WTERMSIG(status));
    else
      s += "exited " + std::to_string(WEXITSTATUS(status));
    std::string t = Excerpt(err.empty() ? out : err);
    if (!t.empty()) s += ": " + t;
    return s;
  }
};

struct Spawned {
  pid_t pid = -1;
  int64_t t0 = 0;
  std::string out_path, err_path, cmd;
};

// Reaps every exited child not waited for yet; returns the CPU ms they used.
double ReapOrphans();
// Starts a command with stdin /dev/null and stdout/stderr in files under g.io_dir.
Spawned Spawn(const std::vector<std::string>& argv);
// Spawns a command and waits for it (killed after timeout_ms).
CallResult Call(const std::vector<std::string>& argv, int timeout_ms = 30000);
// Runs a command through the static RSS probe; returns its peak RSS in KiB (NaN on error).
double PeakRssKb(const std::vector<std::string>& argv, CallResult* r);
// Waits for an orphan (a container init reparented to us) to exit; returns its exit info.
std::optional<Reaped> WaitOrphan(pid_t pid, int timeout_ms);

// ---------------------------------------------------------------------------------------
// Runtimes, bundles, config variants (runner.cc, config.cc)

struct Runtime {
  std::string name, path, root;
  bool required = true;
  std::string version;
};

// rt's binary with --root and the rest of the arguments.
std::vector<std::string> Args(const Runtime& rt, std::initializer_list<std::string> rest);

// Config variants (the base is `runc spec` of runc 1.1.5, made read-only and non-terminal).
struct Variant {
  std::string name = "default";
  std::vector<std::string> args{"/bin/true"};
  bool netns = true, cgroup_mount = true, masks = true;
  bool heavy = false;   // 10 bind mounts + memory/cpu/pids limits
  bool seccomp = false; // Docker-like default seccomp profile
};

// The config.json of a variant with the given cgroupsPath.
std::string ConfigFor(const Variant& v, const std::string& cgpath);
// How many syscall names the heavy variant's seccomp allow list has.
size_t SeccompSyscallCount();

struct Container {
  std::string id, bundle, cgpath;
  pid_t init = -1;
};

// A fresh bundle (config.json only) with a unique id and cgroupsPath.
Container MakeBundle(const std::string& prefix, const Variant& v);
// Removes whatever a container left: state (delete --force), its cgroups, its bundle.
void Dispose(const Runtime& rt, const Container& c, bool force_delete);

// ---------------------------------------------------------------------------------------
// Results (stats.cc)

// Percentile with linear interpolation between closest ranks; NaNs are ignored.
double Pct(std::vector<double> v, double p);
double Median(const std::vector<double>& v);
double P90(const std::vector<double>& v);

struct Row {
  std::string metric, unit;
  std::map<std::string, std::vector<double>> v;  // runtime -> per-iteration values
  std::map<std::string, std::string> na;         // runtime -> why there is no value
  bool higher_better = false;
  bool no_ratio = false;  // differences and counts: ratios would mean nothing
};

struct Section {
  std::string id, title;
  std::vector<std::string> notes;
  std::vector<Row> rows;
  std::vector<std::string> errors;
  Row& R(const std::string& metric, const std::string& unit, bool higher_better = false) {
    for (auto& r : rows)
      if (r.metric == metric) return r;
    rows.push_back(Row{metric, unit, {}, {}, higher_better});
    return rows.back();
  }
};

struct Ratio {
  double med = kNaN, p90 = kNaN;
  size_t n = 0;
};
// Median and p90 of the per-iteration ratios a/b of a row.
Ratio RatioOf(const Row& r, const std::string& a, const std::string& b);
std::string Num(double v);
// A runtime's cell: median (p90), or n/a with the reason.
std::string Cell(const Row& r, const std::string& rt);
// A ratio column's cell: median (p90) of a/b.
std::string RatioCell(const Row& r, const std::string& a, const std::string& b);
const Runtime* Find(const std::string& name);

// ---------------------------------------------------------------------------------------
// Scenario building blocks (runner.cc) and the scenarios (scenarios_*.cc)

struct Counts {
  int a_b2b, a_paced, b, c_n, c_rounds, d_b2b, d_paced, e_state, e_list, f_version, g, h;
  std::vector<int> c_j, e_m;
  int gap_ms;
};

// Records a failure of a runtime in a section; husk failures on unsupported features are
// the caller's business (they are not errors).
void Fail(Section& s, const Runtime& rt, const std::string& what);
// One foreground `run`: wall, CPU (the CLI and everything it reaped, plus orphans we
// reaped), peak RSS. Returns false on failure.
bool RunOnce(const Runtime& rt, const std::string& prefix, const Variant& v, double* wall,
             double* cpu, std::string* err, std::string* raw_err = nullptr);
// Probes whether a runtime can run a variant; returns the error text if not.
std::optional<std::string> Probe(const Runtime& rt, const Variant& v, std::string* raw = nullptr);
// The message of a runtime's error output: the msg="..." of a logrus-style line if any.
std::string CleanErr(const std::string& err);
bool LooksUnsupported(const std::string& err);

// Each adds its section to g.sections; b, e and f add rows to f (memory, size, start-up).
void ScenarioA();
void ScenarioB(Section& f);
void ScenarioC();
void ScenarioD();
void ScenarioE(Section& f);
void ScenarioF(Section& f);
void ScenarioG();
void ScenarioH();
// SIGALRM handler: ends a parallel batch of c that takes too long.
void OnAlarm(int);

// ---------------------------------------------------------------------------------------
// Targets (targets.cc) and report (report.cc)

struct TargetResult {
  std::string what, value, verdict;
};
// Evaluates the targets of issue 3 as husk / crun ratios of this run into g.targets.
void EvalTargets();

// Adds or replaces a line of the report's environment table.
void EnvSet(const std::string& k, const std::string& v);
std::string LoadAvg();
// The environment (i): kernel, OS, CPU, memory, cgroup modes, where bundles and state live.
void CollectEnv();
std::string Markdown(double elapsed_s);
std::string Json(double elapsed_s);

// ---------------------------------------------------------------------------------------
// The run (one instance, g, defined in main.cc): main's options and set-up, and what the
// runner and the scenarios add to it.

struct Bench {
  std::string rootfs, out_dir, work, bundles, binds;
  std::string io_dir;     // where stdout/stderr of commands go (tmpfs)
  std::string rss_probe;  // husk_bench_rss next to husk_bench
  bool quick = false;
  Counts n{};                           // iterations per scenario
  std::vector<Runtime> rts;             // the first is reported against the others
  std::vector<std::string> cg_mounts;   // cgroup hierarchy mount points (in our mount ns)
  std::set<std::string> cg_parent_preexisting;
  std::string cgroup_mode_host, cgroup_mode_bench;
  bool unified_unmounted = false;
  int seq = 0;
  std::string tag;
  std::vector<Section> sections;
  std::vector<TargetResult> targets;
  std::vector<std::string> leaks;  // cgroup dirs that a runtime left behind
};
extern Bench g;

}  // namespace husk::bench

#endif  // HUSK_CONFORMANCE_BENCH_BENCH_H_
