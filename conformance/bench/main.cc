// husk_bench: drives OCI runtime binaries (husk, runc, crun, ...) through the scenarios of
// shared/perf-notes.md and writes a markdown + JSON report of medians, p90s and medians of
// per-iteration ratios. This file: the command line, the private mount namespace and the
// workdir, which runtimes work, the order of the scenarios, tear-down and the exit status.
//
//   husk_bench --rootfs DIR --out DIR --runtime husk=PATH [--runtime|--optional NAME=PATH]...
//              [--quick] [--only a,b,...]
//
// How it measures (perf-notes.md "How to benchmark"):
// - Runtimes are interleaved A B C A B C ...; every row keeps the per-iteration values so
//   ratios are medians (and p90s) of per-iteration ratios, never ratios of medians.
// - Every container gets its own bundle (config.json only; root.path is the shared
//   read-only busybox rootfs) and a unique absolute cgroupsPath /husk-test/bench-<pid>-<n>.
// - Bundles and state dirs live on a private tmpfs mounted in the harness's own mount
//   namespace. On a hybrid cgroup host the harness unmounts /sys/fs/cgroup/unified in that
//   namespace once at start (crun 1.8.1 fails otherwise); every runtime runs in it.
// - The harness is a child subreaper: a created container's init is reparented to it, so
//   it reaps the init and gets its CPU time (wait4 rusage), and no process can escape.
// - Commands are started with posix_spawn; wall time is CLOCK_MONOTONIC around spawn+wait4,
//   CPU is user+sys of the rusage of wait4 (the process plus the children it reaped).
//
// Exit status: 0 when every scenario ran for every runtime without an unexpected error,
// 1 otherwise, 77 (skip) when not root. It never judges absolute times.

#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <functional>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "conformance/bench/bench.h"

namespace husk::bench {

namespace fs = std::filesystem;

Bench g;

namespace {

// ---------------------------------------------------------------------------------------
// Set-up and tear-down

std::vector<std::pair<std::string, std::string>> CgroupMounts() {  // (mountpoint, fstype)
  std::vector<std::pair<std::string, std::string>> out;
  std::istringstream in(ReadFile("/proc/self/mountinfo"));
  std::string line;
  while (std::getline(in, line)) {
    auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream l(line.substr(0, dash)), r(line.substr(dash + 3));
    std::string id, parent, dev, root, mp, type;
    l >> id >> parent >> dev >> root >> mp;
    r >> type;
    if (type == "cgroup" || type == "cgroup2") out.push_back({mp, type});
  }
  return out;
}

std::string DescribeCgroupMode() {
  bool v1 = false, v2 = false;
  std::string v2mp;
  for (auto& [mp, t] : CgroupMounts()) {
    if (t == "cgroup") v1 = true;
    if (t == "cgroup2") {
      v2 = true;
      v2mp = mp;
    }
  }
  if (v2 && !v1) return "unified (cgroup v2 only)";
  if (v1 && v2) return "hybrid (cgroup v1 controllers + cgroup2 at " + v2mp + ")";
  if (v1) return "legacy (cgroup v1 only)";
  return "no cgroups mounted";
}

void SetupNamespace() {
  g.cgroup_mode_host = DescribeCgroupMode();
  if (unshare(CLONE_NEWNS) != 0) throw std::runtime_error(std::string("unshare(CLONE_NEWNS): ") + strerror(errno));
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    throw std::runtime_error(std::string("make / rprivate: ") + strerror(errno));
  bool v1 = false;
  for (auto& [mp, t] : CgroupMounts())
    if (t == "cgroup") v1 = true;
  if (v1) {
    for (auto& [mp, t] : CgroupMounts())
      if (t == "cgroup2") {
        if (umount2(mp.c_str(), MNT_DETACH) == 0) g.unified_unmounted = true;
        else std::cerr << "bench: umount " << mp << ": " << strerror(errno) << "\n";
      }
  }
  g.cgroup_mode_bench = DescribeCgroupMode() +
                        (g.unified_unmounted ? "; /sys/fs/cgroup/unified unmounted in the bench's "
                                               "private mount ns (crun 1.8.1 needs it), same for all "
                                               "runtimes"
                                             : "");
  for (auto& [mp, t] : CgroupMounts()) {
    g.cg_mounts.push_back(mp);
    if (fs::exists(mp + "/husk-test")) g.cg_parent_preexisting.insert(mp);
  }
}

void SetupWorkdir() {
  char tmpl[] = "/tmp/husk-bench-XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  g.work = tmpl;
  // Private mount namespace: the tmpfs is invisible outside and dies with the harness.
  if (mount("husk-bench", g.work.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=512m") != 0)
    throw std::runtime_error("mount tmpfs on " + g.work + ": " + strerror(errno));
  g.bundles = g.work + "/bundles";
  g.binds = g.work + "/binds";
  g.io_dir = g.work + "/io";
  fs::create_directories(g.bundles);
  fs::create_directories(g.io_dir);
  for (int i = 0; i < 10; i++) {
    fs::create_directories(g.binds + "/b" + std::to_string(i));
    WriteFile(g.binds + "/b" + std::to_string(i) + "/file", "bench\n");
  }
  for (auto& rt : g.rts) {
    rt.root = g.work + "/state-" + rt.name;
    fs::create_directories(rt.root);
  }
}

// Deletes every container still known to a runtime, kills what is left of our children,
// removes our cgroups and the workdir.
void Teardown() {
  for (auto& rt : g.rts) {
    if (rt.root.empty() || !fs::exists(rt.root)) continue;
    std::error_code ec;
    for (auto& e : fs::directory_iterator(rt.root, ec)) {
      if (!e.is_directory()) continue;
      Call(Args(rt, {"delete", "--force", e.path().filename().string()}), 20000);
    }
  }
  ReapOrphans();
  // Children still alive (only ever our descendants: we are their subreaper).
  for (int round = 0; round < 3; round++) {
    std::string kids = ReadFile("/proc/self/task/" + std::to_string(getpid()) + "/children");
    std::istringstream in(kids);
    pid_t p;
    bool any = false;
    while (in >> p) {
      kill(p, SIGKILL);
      any = true;
    }
    if (!any) break;
    SleepMs(50);
    ReapOrphans();
  }
  for (auto& mp : g.cg_mounts) {
    std::string parent = mp + "/husk-test";
    std::error_code ec;
    if (fs::exists(parent, ec)) {
      std::string pre = "bench-" + g.tag + "-";
      for (auto& e : fs::directory_iterator(parent, ec))
        if (e.path().filename().string().rfind(pre, 0) == 0) rmdir(e.path().c_str());
      if (!g.cg_parent_preexisting.count(mp)) rmdir(parent.c_str());  // only if empty
    }
  }
  if (!g.work.empty()) {
    umount2(g.work.c_str(), MNT_DETACH);
    rmdir(g.work.c_str());
  }
}

void Usage() {
  std::cerr << "usage: husk_bench --rootfs DIR --out DIR --runtime NAME=PATH "
               "[--runtime|--optional NAME=PATH]... [--quick] [--only a,b,...] [--gap-ms N]\n"
               "The first runtime is the one reported against the others (husk).\n";
}

}  // namespace

int Main(int argc, char** argv) {
  std::vector<std::pair<Runtime, bool>> want;
  std::string only;
  int gap_ms = 100;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        Usage();
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--rootfs") g.rootfs = next();
    else if (a == "--out") g.out_dir = next();
    else if (a == "--quick") g.quick = true;
    else if (a == "--only") only = next();
    else if (a == "--gap-ms") gap_ms = std::stoi(next());
    else if (a == "--runtime" || a == "--optional") {
      std::string spec = next();
      auto eq = spec.find('=');
      if (eq == std::string::npos) {
        Usage();
        return 2;
      }
      Runtime rt;
      rt.name = spec.substr(0, eq);
      rt.path = spec.substr(eq + 1);
      rt.required = a == "--runtime";
      want.push_back({rt, rt.required});
    } else if (a == "-h" || a == "--help") {
      Usage();
      return 0;
    } else {
      Usage();
      return 2;
    }
  }
  if (const char* q = getenv("BENCH_QUICK"); q && *q && std::string(q) != "0") g.quick = true;
  if (want.empty() || g.rootfs.empty() || g.out_dir.empty()) {
    Usage();
    return 2;
  }
  if (geteuid() != 0) {
    std::cerr << "bench: needs root (namespaces, cgroups); skipping\n";
    return 77;
  }
  if (!fs::exists(g.rootfs + "/bin/busybox")) {
    std::cerr << "bench: no busybox rootfs at " << g.rootfs << " (make rootfs)\n";
    return 1;
  }
  g.rootfs = fs::canonical(g.rootfs).string();
  g.rss_probe = fs::read_symlink("/proc/self/exe").parent_path().string() + "/husk_bench_rss";
  if (access(g.rss_probe.c_str(), X_OK) != 0) {
    std::cerr << "bench: " << g.rss_probe << " missing (build target husk_bench_rss)\n";
    return 1;
  }
  if (g.quick)
    g.n = {4, 3, 3, 6, 1, 3, 2, 3, 2, 4, 3, 3, {2}, {1, 5}, gap_ms};
  else
    g.n = {100, 40, 60, 32, 3, 50, 25, 40, 20, 50, 60, 50, {2, 4, 8}, {1, 50, 200}, gap_ms};

  struct sigaction sa {};
  sa.sa_handler = [](int) { g_stop = 1; };
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  struct sigaction al {};
  al.sa_handler = OnAlarm;  // no SA_RESTART: wait4 returns EINTR
  sigaction(SIGALRM, &al, nullptr);

  g.tag = std::to_string(getpid());
  int rc = 0;
  auto t_start = NowNs();
  std::string load_start = LoadAvg();
  try {
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) throw std::runtime_error("PR_SET_CHILD_SUBREAPER failed");
    SetupNamespace();
    for (auto& [rt, req] : want) g.rts.push_back(rt);
    SetupWorkdir();
    CollectEnv();
    EnvSet("load average at start", load_start);

    // Keep the runtimes that work; a required one that does not is an error.
    std::vector<Runtime> ok;
    std::vector<std::string> dropped;
    for (auto& rt : g.rts) {
      std::string why;
      if (access(rt.path.c_str(), X_OK) != 0) {
        why = "not installed";
      } else {
        CallResult v = Call({rt.path, "--version"});
        rt.version = Excerpt(v.out, 200);
        if (!v.ok()) why = v.Describe();
        else if (auto err = Probe(rt, Variant{})) why = *err;
      }
      if (why.empty()) {
        ok.push_back(rt);
      } else if (rt.required) {
        throw std::runtime_error(rt.name + " does not work: " + why);
      } else {
        dropped.push_back(rt.name + " (" + Excerpt(why, 200) + ")");
        std::cerr << "bench: skipping optional runtime " << rt.name << ": " << why << "\n";
      }
    }
    g.rts = ok;
    if (!dropped.empty()) {
      std::string d;
      for (auto& x : dropped) d += (d.empty() ? "" : "; ") + x;
      EnvSet("runtimes skipped", d);
    }

    auto want_s = [&](char c) { return only.empty() || only.find(c) != std::string::npos; };
    Section f{"f", "f. memory per call, created init, binary size, `--version` start-up"};
    auto step = [&](char id, const std::function<void()>& fn) {
      if (!want_s(id)) return;
      auto t0 = NowNs();
      std::cerr << "bench: scenario " << id << " ...\n";
      fn();
      std::cerr << "bench: scenario " << id << " done in " << Fmt("%.1f", Ms(NowNs() - t0) / 1000) << " s\n";
    };
    step('a', ScenarioA);
    step('b', [&] { ScenarioB(f); });
    step('c', ScenarioC);
    step('d', ScenarioD);
    step('e', [&] { ScenarioE(f); });
    step('f', [&] { ScenarioF(f); });
    if (want_s('f') || want_s('b') || want_s('e')) g.sections.push_back(std::move(f));
    step('g', ScenarioG);
    step('h', ScenarioH);
  } catch (const Stopped&) {
    std::cerr << "bench: interrupted; cleaning up\n";
    rc = 130;
  } catch (const std::exception& e) {
    std::cerr << "bench: error: " << e.what() << "\n";
    rc = 1;
  }
  Teardown();
  if (rc == 0 || !g.sections.empty()) {
    EnvSet("load average at end", LoadAvg());
    double elapsed = Ms(NowNs() - t_start) / 1000;
    if (!g.rts.empty()) EvalTargets();
    std::error_code ec;
    fs::create_directories(g.out_dir, ec);
    std::string md = Markdown(elapsed);
    WriteFile(g.out_dir + "/report.md", md);
    WriteFile(g.out_dir + "/report.json", Json(elapsed));
    std::cout << md;
    size_t errors = 0;
    for (auto& s : g.sections) errors += s.errors.size();
    std::cerr << "bench: report in " << g.out_dir << "/report.md (" << errors << " errors, "
              << Fmt("%.0f", elapsed) << " s)\n";
    if (errors && rc == 0) rc = 1;
  }
  return rc;
}

}  // namespace husk::bench

int main(int argc, char** argv) { return husk::bench::Main(argc, argv); }
