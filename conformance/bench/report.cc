// The report of husk_bench: the environment table (i) (kernel, OS, CPU, memory, cgroup
// modes, filesystems, load), then report.md (environment, targets, one table per scenario
// with ratio columns, errors, cleanup notes) and report.json with every per-iteration value.

#include <sys/statfs.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <linux/magic.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include "conformance/bench/bench.h"

namespace husk::bench {
namespace {

// The environment table, in the order the lines were first set.
std::map<std::string, std::string> g_env;
std::vector<std::pair<std::string, std::string>> g_env_order;

std::string FsType(const std::string& path) {
  struct statfs s;
  if (statfs(path.c_str(), &s) != 0) return "?";
  switch (s.f_type) {
    case TMPFS_MAGIC: return "tmpfs";
    case EXT4_SUPER_MAGIC: return "ext4";
    case 0x9123683E: return "btrfs";
    case 0x58465342: return "xfs";
    case OVERLAYFS_SUPER_MAGIC: return "overlayfs";
    case CGROUP2_SUPER_MAGIC: return "cgroup2";
    default: return Fmt("0x%.0f", double(s.f_type));
  }
}

}  // namespace

void EnvSet(const std::string& k, const std::string& v) {
  if (!g_env.count(k)) g_env_order.push_back({k, ""});
  g_env[k] = v;
}

std::string LoadAvg() { return FirstLine(ReadFile("/proc/loadavg")); }

void CollectEnv() {
  utsname u;
  uname(&u);
  EnvSet("kernel", std::string(u.release) + " (" + u.machine + ")");
  std::string os = ReadFile("/etc/os-release");
  auto p = os.find("PRETTY_NAME=\"");
  if (p != std::string::npos) EnvSet("os", os.substr(p + 13, os.find('"', p + 13) - p - 13));
  std::string cpu = ReadFile("/proc/cpuinfo");
  p = cpu.find("model name");
  if (p != std::string::npos) EnvSet("cpu", Trim(cpu.substr(cpu.find(':', p) + 1, cpu.find('\n', p) - cpu.find(':', p) - 1)));
  EnvSet("cpus online", std::to_string(get_nprocs()));
  struct sysinfo si;
  sysinfo(&si);
  EnvSet("memory", std::to_string(si.totalram * si.mem_unit >> 20) + " MiB");
  EnvSet("cgroup mode (host)", g.cgroup_mode_host);
  EnvSet("cgroup mode (bench mount ns)", g.cgroup_mode_bench);
  EnvSet("state dirs + bundles", g.work + " on " + FsType(g.work));
  EnvSet("rootfs", g.rootfs + " on " + FsType(g.rootfs) + " (shared, root.readonly=true)");
  EnvSet("cgroupsPath", "/husk-test/bench-" + g.tag + "-<n> (unique per container)");
}

std::string Markdown(double elapsed_s) {
  std::ostringstream o;
  const std::string me = g.rts.front().name;
  std::vector<std::string> others;
  for (size_t i = 1; i < g.rts.size(); i++) others.push_back(g.rts[i].name);
  // crun first, then runc, as the issue reads them.
  std::sort(others.begin(), others.end());
  o << "# husk benchmark report" << (g.quick ? " (quick mode: smoke only, few iterations)" : "") << "\n\n";
  o << "Cells: median (p90) over iterations. Ratio columns: median (p90) of per-iteration "
       "ratios, runtimes interleaved A B C A B C. Lower is better except throughput. Only "
       "ratios from the same run mean anything; absolute times on this shared 2-vCPU VM are "
       "noisy (other builds may have run concurrently).\n\n";
  o << "## Environment (i)\n\n| | |\n|---|---|\n";
  for (auto& [k, _] : g_env_order) o << "| " << k << " | " << g_env[k] << " |\n";
  for (auto& rt : g.rts) o << "| " << rt.name << " | `" << rt.path << "`: " << rt.version << " |\n";
  o << "| iterations | a " << g.n.a_b2b << " b2b / " << g.n.a_paced << " paced, b " << g.n.b
    << ", c " << g.n.c_rounds << "x" << g.n.c_n << " per J, d " << g.n.d_b2b << "/" << g.n.d_paced
    << ", e " << g.n.e_state << " state / " << g.n.e_list << " list, f " << g.n.f_version
    << ", g " << g.n.g << ", h " << g.n.h << " |\n";
  o << "| duration | " << Fmt("%.0f", elapsed_s) << " s |\n\n";

  o << "## Targets (issue 3; husk / crun, this run)\n\n| target | husk | verdict |\n|---|---|---|\n";
  for (auto& t : g.targets) o << "| " << t.what << " | " << t.value << " | " << t.verdict << " |\n";
  o << "\n";

  std::vector<std::string> order = {"a", "b", "c", "d", "e", "f", "g", "h"};
  for (auto& id : order)
    for (auto& s : g.sections) {
      if (s.id != id) continue;
      o << "## " << s.title << "\n\n";
      for (auto& n : s.notes) o << n << "\n\n";
      o << "| metric | unit |";
      for (auto& rt : g.rts) o << " " << rt.name << " |";
      for (auto& x : others) o << " " << me << "/" << x << " |";
      o << "\n|---|---|";
      for (size_t i = 0; i < g.rts.size() + others.size(); i++) o << "---|";
      o << "\n";
      for (auto& r : s.rows) {
        o << "| " << r.metric << " | " << r.unit << " |";
        for (auto& rt : g.rts) o << " " << Cell(r, rt.name) << " |";
        for (auto& x : others) o << " " << RatioCell(r, me, x) << " |";
        o << "\n";
      }
      if (!s.errors.empty()) {
        o << "\nErrors:\n";
        size_t shown = 0;
        for (auto& e : s.errors) {
          if (shown++ == 10) {
            o << "- ... " << s.errors.size() - 10 << " more\n";
            break;
          }
          o << "- " << Excerpt(e, 400) << "\n";
        }
      }
      o << "\n";
    }
  if (!g.leaks.empty()) {
    o << "## Cleanup notes\n\nCgroup directories a runtime left behind after delete (removed by "
         "the harness):\n";
    std::map<std::string, int> per;
    for (auto& l : g.leaks) per[l.substr(0, l.find(':'))]++;
    for (auto& [rt, n] : per) o << "- " << rt << ": " << n << " dirs\n";
    o << "\n";
  }
  return o.str();
}

std::string Json(double elapsed_s) {
  rapidjson::StringBuffer sb;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(sb);
  auto num = [&](double v) {
    if (std::isfinite(v))
      w.Double(v);
    else
      w.Null();
  };
  const std::string me = g.rts.front().name;
  w.StartObject();
  w.Key("quick");
  w.Bool(g.quick);
  w.Key("elapsed_s");
  w.Double(elapsed_s);
  w.Key("environment");
  w.StartObject();
  for (auto& [k, _] : g_env_order) {
    w.Key(k.c_str());
    w.String(g_env[k].c_str());
  }
  w.EndObject();
  w.Key("runtimes");
  w.StartArray();
  for (auto& rt : g.rts) {
    w.StartObject();
    w.Key("name");
    w.String(rt.name.c_str());
    w.Key("path");
    w.String(rt.path.c_str());
    w.Key("version");
    w.String(rt.version.c_str());
    w.EndObject();
  }
  w.EndArray();
  w.Key("targets");
  w.StartArray();
  for (auto& t : g.targets) {
    w.StartObject();
    w.Key("target");
    w.String(t.what.c_str());
    w.Key("value");
    w.String(t.value.c_str());
    w.Key("verdict");
    w.String(t.verdict.c_str());
    w.EndObject();
  }
  w.EndArray();
  w.Key("scenarios");
  w.StartArray();
  for (auto& s : g.sections) {
    w.StartObject();
    w.Key("id");
    w.String(s.id.c_str());
    w.Key("title");
    w.String(s.title.c_str());
    w.Key("errors");
    w.StartArray();
    for (auto& e : s.errors) w.String(e.c_str());
    w.EndArray();
    w.Key("rows");
    w.StartArray();
    for (auto& r : s.rows) {
      w.StartObject();
      w.Key("metric");
      w.String(r.metric.c_str());
      w.Key("unit");
      w.String(r.unit.c_str());
      w.Key("runtimes");
      w.StartObject();
      for (auto& rt : g.rts) {
        w.Key(rt.name.c_str());
        w.StartObject();
        if (r.na.count(rt.name)) {
          w.Key("na");
          w.String(r.na.at(rt.name).c_str());
        } else if (r.v.count(rt.name)) {
          auto& v = r.v.at(rt.name);
          w.Key("median");
          num(Median(v));
          w.Key("p90");
          num(P90(v));
          w.Key("values");
          w.StartArray();
          for (double x : v) num(x);
          w.EndArray();
        }
        if (rt.name != me) {
          Ratio q = RatioOf(r, me, rt.name);
          w.Key(("ratio_" + me + "_over_this").c_str());
          w.StartObject();
          w.Key("median");
          num(q.med);
          w.Key("p90");
          num(q.p90);
          w.EndObject();
        }
        w.EndObject();
      }
      w.EndObject();
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return sb.GetString();
}

}  // namespace husk::bench
