// Targets of husk_bench (issue 3): each a ratio of husk to crun in this run (wall, CPU,
// throughput, peak RSS) or an absolute bound (binary size), with a met / missed verdict;
// the p90 of every latency row is checked against crun's.

#include <cmath>
#include <string>
#include <vector>

#include "conformance/bench/bench.h"

namespace husk::bench {

namespace {

const Row* FindRow(const std::string& sec, const std::string& metric) {
  for (auto& s : g.sections)
    if (s.id == sec)
      for (auto& r : s.rows)
        if (r.metric == metric) return &r;
  return nullptr;
}

}  // namespace

void EvalTargets() {
  const std::string me = g.rts.front().name, ref = "crun";
  bool have_ref = Find(ref) != nullptr;
  auto ratio_target = [&](const std::string& what, const std::string& sec,
                          const std::string& metric, double limit, bool le) {
    TargetResult t{what};
    const Row* r = FindRow(sec, metric);
    if (!have_ref) {
      t.value = "-";
      t.verdict = "not measured (no crun)";
    } else if (!r) {
      t.value = "-";
      t.verdict = "not measured";
    } else if (r->na.count(me)) {
      t.value = "n/a";
      t.verdict = "not measured: " + r->na.at(me);
    } else {
      Ratio q = RatioOf(*r, me, ref);
      if (q.n == 0) {
        t.value = "-";
        t.verdict = "not measured";
      } else {
        t.value = Fmt("%.2fx", q.med) + " (p90 " + Fmt("%.2fx", q.p90) + ")";
        bool met = le ? q.med <= limit : q.med >= limit;
        t.verdict = met ? "met" : "missed by " + Fmt("%.2fx", le ? q.med / limit : limit / q.med) +
                                      " (" + Fmt("%+.2f", q.med - limit) + ")";
      }
    }
    g.targets.push_back(t);
  };
  ratio_target("`run` back-to-back wall <= 0.70x crun", "a", "run b2b wall", 0.70, true);
  ratio_target("paced (isolated) `run` wall <= 0.35x crun", "a", "run paced wall", 0.35, true);
  ratio_target("create+start+delete CPU <= 0.50x crun", "b", "create+start+delete CPU", 0.50, true);
  ratio_target("`exec` wall b2b <= 0.60x crun", "d", "default exec b2b wall", 0.60, true);
  ratio_target("`exec` wall paced <= 0.35x crun", "d", "default exec paced wall", 0.35, true);
  ratio_target("`state` <= 0.40x crun", "e", "state wall M=" + std::to_string(g.n.e_m.front()), 0.40, true);
  ratio_target("`list` with " + std::to_string(g.n.e_m.back()) + " containers <= 0.50x crun", "e",
               "list wall M=" + std::to_string(g.n.e_m.back()), 0.50, true);
  for (int j : g.n.c_j)
    ratio_target("parallel throughput J=" + std::to_string(j) + " >= 1.5x crun", "c",
                 "J=" + std::to_string(j) + " throughput", 1.5, false);
  // Peak RSS per CLI call: the worst of the measured calls.
  {
    TargetResult t{"peak RSS per CLI call <= 0.60x crun (worst call)"};
    double worst = kNaN;
    std::string which;
    for (auto& s : g.sections)
      for (auto& r : s.rows)
        if (r.metric.rfind("peak RSS", 0) == 0 && have_ref && !r.na.count(me)) {
          Ratio q = RatioOf(r, me, ref);
          if (q.n && (!std::isfinite(worst) || q.med > worst)) {
            worst = q.med;
            which = r.metric;
          }
        }
    if (!std::isfinite(worst)) {
      t.value = "-";
      t.verdict = "not measured";
    } else {
      t.value = Fmt("%.2fx", worst) + " (" + which + ")";
      t.verdict = worst <= 0.60 ? "met" : "missed by " + Fmt("%.2fx", worst / 0.60);
    }
    g.targets.push_back(t);
  }
  {
    TargetResult t{"binary + non-libc libraries <= 2 MB (loaded size; file size in f)"};
    const Row* r = FindRow("f", "binary + libraries, loaded");
    double v = r && r->v.count(me) ? Median(r->v.at(me)) : kNaN;
    const Row* rf = FindRow("f", "binary + libraries, file");
    double vf = rf && rf->v.count(me) ? Median(rf->v.at(me)) : kNaN;
    t.value = Num(v) + " MB (file " + Num(vf) + " MB)";
    t.verdict = !std::isfinite(v) ? "not measured"
                : v <= 2.0        ? "met"
                                  : "missed by " + Fmt("%.2f", v - 2.0) + " MB (" + Fmt("%.2fx", v / 2.0) + ")";
    g.targets.push_back(t);
  }
  ratio_target("heavy config `run` CPU <= 0.45x crun", "g", "heavy run CPU", 0.45, true);
  ratio_target("(info) heavy-noseccomp `run` CPU vs crun's heavy-noseccomp, same 0.45x bar", "g",
               "heavy-noseccomp run CPU", 0.45, true);
  // p90 of every latency no worse than crun's.
  {
    TargetResult t{"p90 of every latency (wall rows) no worse than crun's"};
    std::vector<std::string> worse;
    int checked = 0;
    if (have_ref)
      for (auto& s : g.sections)
        for (auto& r : s.rows) {
          bool latency = r.unit == "ms" && (r.metric.find("wall") != std::string::npos ||
                                            r.metric.find("latency") != std::string::npos);
          if (!latency || r.metric.rfind("saved", 0) == 0 || r.na.count(me) || !r.v.count(me) ||
              !r.v.count(ref))
            continue;
          double a = P90(r.v.at(me)), b = P90(r.v.at(ref));
          if (!std::isfinite(a) || !std::isfinite(b)) continue;
          checked++;
          if (a > b) worse.push_back(s.id + ": " + r.metric + " " + Num(a) + " vs " + Num(b));
        }
    t.value = std::to_string(checked - int(worse.size())) + "/" + std::to_string(checked) + " rows";
    t.verdict = checked == 0 ? "not measured" : worse.empty() ? "met" : "missed in " + std::to_string(worse.size()) + " rows: ";
    for (size_t i = 0; i < worse.size(); i++) t.verdict += (i ? "; " : "") + worse[i];
    g.targets.push_back(t);
  }
}

}  // namespace husk::bench
