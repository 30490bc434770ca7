// Results of husk_bench: percentiles, the median and p90 of per-iteration ratios between two
// runtimes, and the cells of the report's tables (median (p90) of a row, of a ratio).

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "conformance/bench/bench.h"

namespace husk::bench {

double Pct(std::vector<double> v, double p) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return !std::isfinite(x); }),
          v.end());
  if (v.empty()) return kNaN;
  std::sort(v.begin(), v.end());
  double pos = p * double(v.size() - 1);
  size_t lo = size_t(std::floor(pos)), hi = size_t(std::ceil(pos));
  return v[lo] + (v[hi] - v[lo]) * (pos - double(lo));
}
double Median(const std::vector<double>& v) { return Pct(v, 0.5); }
double P90(const std::vector<double>& v) { return Pct(v, 0.9); }

Ratio RatioOf(const Row& r, const std::string& a, const std::string& b) {
  Ratio out;
  auto ia = r.v.find(a), ib = r.v.find(b);
  if (ia == r.v.end() || ib == r.v.end()) return out;
  std::vector<double> q;
  size_t n = std::min(ia->second.size(), ib->second.size());
  for (size_t i = 0; i < n; i++) {
    double x = ia->second[i], y = ib->second[i];
    if (std::isfinite(x) && std::isfinite(y) && y > 0) q.push_back(x / y);
  }
  out.n = q.size();
  if (!q.empty()) {
    out.med = Median(q);
    out.p90 = P90(q);
  }
  return out;
}

std::string Num(double v) {
  if (!std::isfinite(v)) return "-";
  if (v == std::floor(v) && std::fabs(v) < 1000) return Fmt("%.0f", v);
  double a = std::fabs(v);
  if (a >= 1000) return Fmt("%.0f", v);
  if (a >= 100) return Fmt("%.1f", v);
  if (a >= 10) return Fmt("%.2f", v);
  return Fmt("%.3f", v);
}

std::string Cell(const Row& r, const std::string& rt) {
  if (auto it = r.na.find(rt); it != r.na.end()) return "n/a: " + it->second;
  auto it = r.v.find(rt);
  if (it == r.v.end()) return "-";
  size_t finite = std::count_if(it->second.begin(), it->second.end(),
                                [](double x) { return std::isfinite(x); });
  if (finite == 0) return "-";
  if (finite == 1) return Num(Median(it->second));
  return Num(Median(it->second)) + " (" + Num(P90(it->second)) + ")";
}

std::string RatioCell(const Row& r, const std::string& a, const std::string& b) {
  if (r.no_ratio) return "";
  if (r.na.count(a) || r.na.count(b)) return "n/a";
  Ratio q = RatioOf(r, a, b);
  if (q.n == 0) return "-";
  if (q.n == 1) return Fmt("%.2fx", q.med);
  return Fmt("%.2fx", q.med) + " (" + Fmt("%.2fx", q.p90) + ")";
}

const Runtime* Find(const std::string& name) {
  for (auto& r : g.rts)
    if (r.name == name) return &r;
  return nullptr;
}

}  // namespace husk::bench
