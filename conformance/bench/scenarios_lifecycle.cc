// Scenarios a-e of husk_bench (perf-notes.md), the timing of the CLI calls: a. sequential
// `run`, b. the phased lifecycle create / start / wait / state / delete, c. parallel `run`
// with J in flight, d. `exec` into a running container, e. `state` and `list` with M
// running containers. Runtimes are interleaved in every loop.

#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "conformance/bench/bench.h"

namespace husk::bench {

// ---------------------------------------------------------------------------------------
// a. sequential run

void ScenarioA() {
  Section s{"a", "a. sequential `run` of /bin/true (default config)"};
  s.notes.push_back("back-to-back: one `run` right after the other; paced: " +
                    std::to_string(g.n.gap_ms) +
                    " ms idle before each run (isolated start, shows blocking such as the "
                    "cgroup.procs RCU grace period). CPU = the CLI and all it reaped.");
  Variant v;
  for (int paced = 0; paced < 2; paced++) {
    int iters = paced ? g.n.a_paced : g.n.a_b2b;
    std::string mode = paced ? "paced" : "b2b";
    for (int i = 0; i < iters; i++) {
      for (auto& rt : g.rts) {
        CheckStop();
        if (paced) SleepMs(g.n.gap_ms);
        double w = kNaN, c = kNaN;
        std::string err;
        if (!RunOnce(rt, "a", v, &w, &c, &err)) Fail(s, rt, err);
        s.R("run " + mode + " wall", "ms").v[rt.name].push_back(w);
        s.R("run " + mode + " CPU", "ms").v[rt.name].push_back(c);
      }
    }
  }
  g.sections.push_back(std::move(s));
}

// ---------------------------------------------------------------------------------------
// b. create / start / wait / delete

namespace {

struct InitMem {
  double rss_kb = kNaN, pss_kb = kNaN;
};
InitMem SmapsRollup(pid_t pid) {
  InitMem m;
  std::istringstream in(ReadFile("/proc/" + std::to_string(pid) + "/smaps_rollup"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Rss:", 0) == 0) m.rss_kb = std::stod(line.substr(4));
    if (line.rfind("Pss:", 0) == 0) m.pss_kb = std::stod(line.substr(4));
  }
  return m;
}

}  // namespace

void ScenarioB(Section& f) {
  Section s{"b", "b. phased lifecycle: create / start / wait / state / delete"};
  s.notes.push_back(
      "create (with --pid-file), start, wait = from `start` returning until the init is reaped "
      "by the harness (subreaper), state of the stopped container, delete. CPU per CLI call "
      "from wait4 rusage; init CPU = the container process (its rusage when reaped).");
  Variant v;
  for (int i = 0; i < g.n.b; i++) {
    for (auto& rt : g.rts) {
      CheckStop();
      Container c = MakeBundle("b", v);
      std::string pidfile = c.bundle + "/pid";
      ReapOrphans();
      double cw = kNaN, cc = kNaN, sw = kNaN, sc = kNaN, ww = kNaN, ic = kNaN, tw = kNaN,
             tc = kNaN, dw = kNaN, dc = kNaN;
      bool ok = false;
      CallResult r = Call(Args(rt, {"create", "--bundle", c.bundle, "--pid-file", pidfile, c.id}));
      if (!r.ok()) {
        Fail(s, rt, r.Describe());
      } else {
        cw = r.wall_ms;
        cc = r.cpu_ms;
                pid_t init = pid_t(std::atoi(ReadFile(pidfile).c_str()));
        InitMem mem = init > 0 ? SmapsRollup(init) : InitMem{};
        f.R("created init RSS", "MB").v[rt.name].push_back(mem.rss_kb / 1024);
        f.R("created init PSS", "MB").v[rt.name].push_back(mem.pss_kb / 1024);
        r = Call(Args(rt, {"start", c.id}));
        int64_t t_started = NowNs();
        if (!r.ok()) {
          Fail(s, rt, r.Describe());
        } else {
          sw = r.wall_ms;
          sc = r.cpu_ms;
                    auto ex = init > 0 ? WaitOrphan(init, 20000) : std::nullopt;
          if (!ex) {
            Fail(s, rt, "init " + std::to_string(init) + " did not exit");
          } else {
            ww = Ms(std::max<int64_t>(0, ex->t_ns - t_started));
            ic = CpuMs(ex->ru);
            r = Call(Args(rt, {"state", c.id}));
            if (!r.ok() || r.out.find("stopped") == std::string::npos) {
              Fail(s, rt, "state of a stopped container: " + r.Describe() + " " + Excerpt(r.out, 120));
            } else {
              tw = r.wall_ms;
              tc = r.cpu_ms;
                          }
            r = Call(Args(rt, {"delete", c.id}));
            if (!r.ok()) {
              Fail(s, rt, r.Describe());
            } else {
              dw = r.wall_ms;
              dc = r.cpu_ms;
              ok = true;
                          }
          }
        }
      }
      Dispose(rt, c, !ok);
      s.R("create wall", "ms").v[rt.name].push_back(cw);
      s.R("start wall", "ms").v[rt.name].push_back(sw);
      s.R("wait wall (start returned -> init reaped)", "ms").v[rt.name].push_back(ww);
      s.R("state wall", "ms").v[rt.name].push_back(tw);
      s.R("delete wall", "ms").v[rt.name].push_back(dw);
      s.R("create CPU", "ms").v[rt.name].push_back(cc);
      s.R("start CPU", "ms").v[rt.name].push_back(sc);
      s.R("state CPU", "ms").v[rt.name].push_back(tc);
      s.R("delete CPU", "ms").v[rt.name].push_back(dc);
      s.R("init CPU (container process)", "ms").v[rt.name].push_back(ic);
      s.R("create+start+delete CPU", "ms").v[rt.name].push_back(cc + sc + dc);
      s.R("create+start+state+delete CPU (4 calls)", "ms").v[rt.name].push_back(cc + sc + tc + dc);
      s.R("total wall create..delete", "ms").v[rt.name].push_back(cw + sw + ww + tw + dw);
    }
  }
  g.sections.push_back(std::move(s));
}

// ---------------------------------------------------------------------------------------
// c. parallel run

namespace {

volatile sig_atomic_t g_alarm = 0;

}  // namespace

void OnAlarm(int) { g_alarm = 1; }

void ScenarioC() {
  Section s{"c", "c. parallel `run` of /bin/true: N containers, J in flight"};
  s.notes.push_back("N = " + std::to_string(g.n.c_n) + " foreground `run`s per batch, " +
                    std::to_string(g.n.c_rounds) +
                    " batches per runtime and J, interleaved; throughput = N / batch wall; "
                    "latency = per-run wall; values are per batch (throughput, p50, p90).");
  Variant v;
  for (int j : g.n.c_j) {
    for (int round = 0; round < g.n.c_rounds; round++) {
      for (auto& rt : g.rts) {
        CheckStop();
        ReapOrphans();
        std::vector<Container> cs;
        for (int k = 0; k < g.n.c_n; k++) cs.push_back(MakeBundle("c", v));
        std::map<pid_t, std::pair<int64_t, int>> active;  // pid -> (t0, index)
        std::vector<double> lat;
        int launched = 0, failed = 0;
        std::string first_err;
        std::map<pid_t, Spawned> spawned;
        g_alarm = 0;
        itimerval it{};
        it.it_value.tv_sec = 120;
        setitimer(ITIMER_REAL, &it, nullptr);
        int64_t t0 = NowNs();
        while (launched < g.n.c_n || !active.empty()) {
          while (launched < g.n.c_n && int(active.size()) < j) {
            auto& c = cs[size_t(launched)];
            Spawned sp = Spawn(Args(rt, {"run", "--bundle", c.bundle, c.id}));
            active[sp.pid] = {sp.t0, launched};
            spawned[sp.pid] = sp;
            launched++;
          }
          int st;
          rusage ru;
          pid_t p = wait4(-1, &st, 0, &ru);
          if (p < 0) {
            if (errno == EINTR && (g_alarm || g_stop)) {
              for (auto& [pid, _] : active) kill(pid, SIGKILL);  // our own children
              failed += int(active.size());
              first_err = "batch timed out";
              while (!active.empty()) {
                pid_t q = wait4(-1, &st, 0, &ru);
                if (q < 0 && errno == ECHILD) break;
                active.erase(q);
              }
              break;
            }
            if (errno == ECHILD) break;
            continue;
          }
          int64_t t1 = NowNs();
          auto a = active.find(p);
          if (a == active.end()) continue;  // an orphan
          lat.push_back(Ms(t1 - a->second.first));
          if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
            failed++;
            if (first_err.empty()) {
              CallResult r;
              r.cmd = spawned[p].cmd;
              r.status = st;
              r.err = ReadFile(spawned[p].err_path, 4096);
              first_err = r.Describe();
            }
          }
          active.erase(a);
        }
        int64_t t_end = NowNs();
        it.it_value.tv_sec = 0;
        setitimer(ITIMER_REAL, &it, nullptr);
        if (g_stop) throw Stopped();
        std::string js = "J=" + std::to_string(j);
        double thr = failed ? kNaN : g.n.c_n / (Ms(t_end - t0) / 1000.0);
        if (failed) Fail(s, rt, std::to_string(failed) + " of " + std::to_string(g.n.c_n) + " failed: " + first_err);
        s.R(js + " throughput", "containers/s", true).v[rt.name].push_back(thr);
        s.R(js + " latency p50", "ms").v[rt.name].push_back(failed ? kNaN : Median(lat));
        s.R(js + " latency p90", "ms").v[rt.name].push_back(failed ? kNaN : P90(lat));
        for (auto& c : cs) Dispose(rt, c, false);
      }
    }
  }
  g.sections.push_back(std::move(s));
}

// ---------------------------------------------------------------------------------------
// d. exec

void ScenarioD() {
  Section s{"d", "d. `exec /bin/true` into a running container"};
  s.notes.push_back("the container runs `/bin/sleep 1000000`; b2b = back-to-back execs, paced = " +
                    std::to_string(g.n.gap_ms) + " ms idle before each exec. " +
                    "heavy = g's config (seccomp + 10 binds + limits); heavy-noseccomp without "
                    "the seccomp profile. A runtime without `exec` is probed every run and "
                    "measured as soon as it works.");
  std::vector<Variant> vars(3);
  vars[1].name = "heavy-noseccomp";
  vars[1].heavy = true;
  vars[2].name = "heavy";
  vars[2].heavy = true;
  vars[2].seccomp = true;
  for (auto& v : vars) v.args = {"/bin/sleep", "1000000"};
  for (auto& v : vars) {
    std::map<std::string, Container> cont;
    std::map<std::string, std::string> na;
    for (auto& rt : g.rts) {
      CheckStop();
      Container c = MakeBundle("d", v);
      CallResult r = Call(Args(rt, {"run", "--detach", "--bundle", c.bundle, c.id}));
      if (!r.ok()) {
        if (rt.name == "husk" && LooksUnsupported(r.err)) {
          na[rt.name] = "config unsupported (" + CleanErr(r.err) + ")";
        } else {
          Fail(s, rt, "set-up: " + r.Describe());
          na[rt.name] = "set-up failed";
        }
        Dispose(rt, c, true);
        continue;
      }
      cont[rt.name] = c;
      r = Call(Args(rt, {"exec", c.id, "/bin/true"}));
      if (!r.ok()) {
        if (LooksUnsupported(r.err + r.out) && rt.name == "husk") {
          na[rt.name] = "exec not implemented (" + CleanErr(r.err + r.out) + ")";
        } else {
          Fail(s, rt, r.Describe());
          na[rt.name] = "exec failed";
        }
      }
    }
    for (int paced = 0; paced < 2; paced++) {
      std::string mode = paced ? "paced" : "b2b";
      std::string pre = v.name + " exec " + mode;
      for (auto& rt : g.rts) {
        if (na.count(rt.name)) {
          s.R(pre + " wall", "ms").na[rt.name] = na[rt.name];
          s.R(pre + " CPU", "ms").na[rt.name] = na[rt.name];
        }
      }
      int iters = paced ? g.n.d_paced : g.n.d_b2b;
      for (int i = 0; i < iters; i++) {
        for (auto& rt : g.rts) {
          if (na.count(rt.name)) continue;
          CheckStop();
          if (paced) SleepMs(g.n.gap_ms);
          ReapOrphans();
          CallResult r = Call(Args(rt, {"exec", cont[rt.name].id, "/bin/true"}));
          double orphan = ReapOrphans();
          if (!r.ok()) Fail(s, rt, r.Describe());
          s.R(pre + " wall", "ms").v[rt.name].push_back(r.ok() ? r.wall_ms : kNaN);
          s.R(pre + " CPU", "ms").v[rt.name].push_back(r.ok() ? r.cpu_ms + orphan : kNaN);
        }
      }
    }
    for (auto& [name, c] : cont) Dispose(*Find(name), c, true);
  }
  g.sections.push_back(std::move(s));
}

// ---------------------------------------------------------------------------------------
// e. state and list with M containers

void ScenarioE(Section& f) {
  Section s{"e", "e. `state` and `list` with M running containers"};
  s.notes.push_back("M containers per runtime (each `run --detach` of /bin/sleep), all "
                    "runtimes' containers present at once; `state` of one of them, `list` "
                    "(table format) of all.");
  Variant v;
  v.args = {"/bin/sleep", "1000000"};
  std::map<std::string, std::vector<Container>> cont;
  bool setup_failed = false;
  for (int m : g.n.e_m) {
    // Grow every runtime to m containers, interleaved.
    while (!setup_failed) {
      bool grew = false;
      for (auto& rt : g.rts) {
        if (int(cont[rt.name].size()) >= m) continue;
        CheckStop();
        Container c = MakeBundle("e", v);
        CallResult r = Call(Args(rt, {"run", "--detach", "--bundle", c.bundle, c.id}));
        if (!r.ok()) {
          Fail(s, rt, "set-up: " + r.Describe());
          Dispose(rt, c, true);
          setup_failed = true;
          break;
        }
        cont[rt.name].push_back(c);
        grew = true;
      }
      if (!grew) break;
    }
    if (setup_failed) break;
    std::string ms = "M=" + std::to_string(m);
    for (int i = 0; i < std::max(g.n.e_state, g.n.e_list); i++) {
      for (auto& rt : g.rts) {
        CheckStop();
        if (i < g.n.e_state) {
          CallResult r = Call(Args(rt, {"state", cont[rt.name].front().id}));
          if (!r.ok() || r.out.find("running") == std::string::npos)
            Fail(s, rt, "state: " + r.Describe());
          s.R("state wall " + ms, "ms").v[rt.name].push_back(r.ok() ? r.wall_ms : kNaN);
          s.R("state CPU " + ms, "ms").v[rt.name].push_back(r.ok() ? r.cpu_ms : kNaN);
        }
        if (i < g.n.e_list) {
          CallResult r = Call(Args(rt, {"list"}));
          size_t lines = size_t(std::count(r.out.begin(), r.out.end(), '\n'));
          if (!r.ok() || lines < size_t(m))
            Fail(s, rt, "list: " + r.Describe() + " (" + std::to_string(lines) + " lines)");
          s.R("list wall " + ms, "ms").v[rt.name].push_back(r.ok() ? r.wall_ms : kNaN);
          s.R("list CPU " + ms, "ms").v[rt.name].push_back(r.ok() ? r.cpu_ms : kNaN);
          if (m == g.n.e_m.back()) {
            CallResult pr;
            double kb = PeakRssKb(Args(rt, {"list"}), &pr);
            if (!pr.ok()) Fail(f, rt, "list via rss probe: " + pr.Describe());
            f.R("peak RSS: list " + ms, "MB").v[rt.name].push_back(kb / 1024);
          }
        }
      }
    }
  }
  for (auto& rt : g.rts)
    for (auto& c : cont[rt.name]) Dispose(rt, c, true);
  g.sections.push_back(std::move(s));
}

}  // namespace husk::bench
