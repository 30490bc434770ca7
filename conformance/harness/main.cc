// husk-conformance: runs every registered case against each runtime named on the command
// line, prints a case x runtime table with totals, and writes report.md and report.json.
//
//   husk-conformance [--build-dir B] [--report-dir D] [--filter SUBSTR] [--strict NAME]
//                    RUNTIME...
// RUNTIME is husk, runc, crun or NAME=/path/to/binary. The exit status is 1 when a case
// fails for a runtime named by --strict (unsupported never fails), 77 when not root.
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "conformance/harness/command.h"
#include "conformance/harness/suite.h"
#include "rapidjson/prettywriter.h"
#include "rapidjson/stringbuffer.h"

#ifndef HUSK_CONF_BUILD_DIR
#define HUSK_CONF_BUILD_DIR "."
#endif

namespace husk::conformance {
namespace {

// `runc spec` (1.1.5) output; the harness sets terminal false, args, hostname and
// cgroupsPath per case.
constexpr char kRuncSpec[] = R"json({"ociVersion": "1.0.2-dev", "process": {"terminal": true, "user": {"uid": 0, "gid": 0}, "args": ["sh"], "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"], "cwd": "/", "capabilities": {"bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"], "effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"], "permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"], "ambient": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]}, "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}], "noNewPrivileges": true}, "root": {"path": "rootfs", "readonly": true}, "hostname": "runc", "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}, {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]}, {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]}, {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]}, {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]}, {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]}, {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}], "linux": {"resources": {"devices": [{"allow": false, "access": "rwm"}]}, "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}], "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"], "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]}})json";

struct Cell {
  Result result;
  double ms = 0;
};

std::string Which(const std::string& name) {
  for (const char* dir : {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin",
                          "/bin"}) {
    std::string p = std::string(dir) + "/" + name;
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return "";
}

bool IsMountPoint(const std::string& path) {
  struct stat a, b;
  if (::stat(path.c_str(), &a) != 0) return false;
  if (::stat((path + "/..").c_str(), &b) != 0) return false;
  return a.st_dev != b.st_dev;
}

// Single-line, table-safe text.
std::string Flat(std::string s, size_t max) {
  for (char& c : s) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    if (c == '|') c = '/';
  }
  if (s.size() > max) s = s.substr(0, max - 3) + "...";
  return s;
}

std::string CellText(const Cell& c, size_t max) {
  std::string name = OutcomeName(c.result.outcome);
  if (c.result.outcome == Outcome::kPass) return name;
  return Flat(name + ": " + c.result.reason, max);
}

void JsonString(rapidjson::PrettyWriter<rapidjson::StringBuffer>& w, const std::string& s) {
  w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size()));
}

int Main(int argc, char** argv) {
  std::string build_dir = HUSK_CONF_BUILD_DIR;
  std::string report_dir, filter;
  std::set<std::string> strict;
  std::vector<std::string> runtime_args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "missing value for %s\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--build-dir") {
      build_dir = next();
    } else if (a == "--report-dir") {
      report_dir = next();
    } else if (a == "--filter") {
      filter = next();
    } else if (a == "--strict") {
      strict.insert(next());
    } else if (a == "--list") {
      for (const auto& c : Registry()) std::printf("%-36s %s\n", c.name.c_str(), c.spec.c_str());
      return 0;
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "unknown flag %s\n", a.c_str());
      return 2;
    } else {
      runtime_args.push_back(a);
    }
  }
  if (runtime_args.empty()) runtime_args = {"husk", "runc", "crun"};
  if (::geteuid() != 0) {
    std::fprintf(stderr, "husk-conformance: needs root; skipping\n");
    return 77;
  }
  build_dir = std::filesystem::absolute(build_dir).lexically_normal().string();
  if (report_dir.empty()) report_dir = build_dir + "/conformance";

  Env env;
  env.rootfs = std::filesystem::weakly_canonical(build_dir + "/rootfs").string();
  env.probe = build_dir + "/conformance/husk-probe";
  env.base_config = kRuncSpec;
  env.cgroup_mount = "/sys/fs/cgroup";
  if (struct statfs fs; ::statfs(env.cgroup_mount.c_str(), &fs) == 0) {
    env.cgroup2_only = fs.f_type == 0x63677270;  // CGROUP2_SUPER_MAGIC
  }
  for (const auto& p : {env.rootfs + "/bin/busybox", env.probe}) {
    if (::access(p.c_str(), X_OK) != 0) {
      std::fprintf(stderr, "husk-conformance: %s missing (build and `make rootfs` first)\n",
                   p.c_str());
      return 2;
    }
  }
  std::filesystem::create_directories("/tmp/husk-conf");
  char templ[] = "/tmp/husk-conf/run-XXXXXX";
  if (!::mkdtemp(templ)) {
    std::perror("mkdtemp");
    return 2;
  }
  env.work_dir = templ;
  ::chmod("/tmp/husk-conf", 0755);
  ::chmod(templ, 0755);

  // Hybrid hosts: crun 1.8.1 trips over the hugetlb-only cgroup2 mount at
  // /sys/fs/cgroup/unified, so it runs in its own mount namespace without it. "slave" (not
  // "private") keeps host mount events flowing in, which the propagation cases rely on;
  // nothing flows back.
  bool hybrid = IsMountPoint("/sys/fs/cgroup/unified");
  std::vector<Runtime> runtimes;
  for (const auto& arg : runtime_args) {
    Runtime rt;
    size_t eq = arg.find('=');
    rt.name = eq == std::string::npos ? arg : arg.substr(0, eq);
    if (eq != std::string::npos) {
      rt.binary = arg.substr(eq + 1);
    } else if (rt.name == "husk") {
      rt.binary = build_dir + "/runtime/cli/husk";
    } else {
      rt.binary = Which(rt.name);
    }
    if (rt.binary.empty() || ::access(rt.binary.c_str(), X_OK) != 0) {
      std::fprintf(stderr, "husk-conformance: runtime %s: binary %s not found\n",
                   rt.name.c_str(), rt.binary.c_str());
      return 2;
    }
    if (hybrid && std::filesystem::path(rt.binary).filename() == "crun") {
      rt.prefix = {"unshare", "-m", "--propagation", "slave", "sh", "-c",
                   "umount /sys/fs/cgroup/unified && exec \"$0\" \"$@\""};
    }
    rt.root = env.work_dir + "/root-" + rt.name;
    std::filesystem::create_directories(rt.root);
    ::chmod(rt.root.c_str(), 0700);
    runtimes.push_back(rt);
  }

  BecomeSubreaper();
  std::vector<const Case*> cases;
  for (const auto& c : Registry()) {
    if (filter.empty() || c.name.find(filter) != std::string::npos) cases.push_back(&c);
  }
  std::map<std::string, std::map<std::string, Cell>> cells;  // case -> runtime -> cell
  auto t0 = std::chrono::steady_clock::now();
  for (const Case* c : cases) {
    for (const auto& rt : runtimes) {
      Cell cell;
      auto start = std::chrono::steady_clock::now();
      try {
        Ctx ctx(rt, env, c->name);
        try {
          c->body(ctx);
        } catch (const CaseEnd& e) {
          cell.result = e.result;
        } catch (const std::exception& e) {
          cell.result = {Outcome::kFail, std::string("harness exception: ") + e.what()};
        }
      } catch (const CaseEnd& e) {
        cell.result = e.result;
      } catch (const std::exception& e) {
        cell.result = {Outcome::kFail, std::string("harness exception: ") + e.what()};
      }
      ReapOrphans();
      cell.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                         start)
                    .count();
      std::fprintf(stderr, "%-34s %-6s %s (%.0f ms)\n", c->name.c_str(), rt.name.c_str(),
                   CellText(cell, 160).c_str(), cell.ms);
      cells[c->name][rt.name] = cell;
    }
  }
  double total_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // Totals.
  std::map<std::string, std::map<Outcome, int>> totals;
  for (const Case* c : cases) {
    for (const auto& rt : runtimes) totals[rt.name][cells[c->name][rt.name].result.outcome]++;
  }

  // Console table.
  size_t w0 = 10;
  for (const Case* c : cases) w0 = std::max(w0, c->name.size());
  const size_t kCol = 40;
  std::printf("\n%-*s", static_cast<int>(w0), "case");
  for (const auto& rt : runtimes) std::printf(" | %-*s", static_cast<int>(kCol), rt.name.c_str());
  std::printf("\n%s\n", std::string(w0 + runtimes.size() * (kCol + 3), '-').c_str());
  for (const Case* c : cases) {
    std::printf("%-*s", static_cast<int>(w0), c->name.c_str());
    for (const auto& rt : runtimes) {
      std::printf(" | %-*s", static_cast<int>(kCol), CellText(cells[c->name][rt.name], kCol).c_str());
    }
    std::printf("\n");
  }
  std::printf("%s\n", std::string(w0 + runtimes.size() * (kCol + 3), '-').c_str());
  auto totals_text = [&](const std::string& name) {
    auto& t = totals[name];
    char buf[160];
    std::snprintf(buf, sizeof buf, "%d pass, %d fail, %d unsupported, %d skip",
                  t[Outcome::kPass], t[Outcome::kFail], t[Outcome::kUnsupported],
                  t[Outcome::kSkip]);
    return std::string(buf);
  };
  std::printf("%-*s", static_cast<int>(w0), "totals");
  for (const auto& rt : runtimes) {
    std::printf(" | %-*s", static_cast<int>(kCol), totals_text(rt.name).c_str());
  }
  std::printf("\n\n%zu cases x %zu runtimes in %.1f s\n", cases.size(), runtimes.size(), total_s);

  // Details of every non-pass cell.
  std::printf("\nNon-pass details:\n");
  for (const Case* c : cases) {
    for (const auto& rt : runtimes) {
      const Cell& cell = cells[c->name][rt.name];
      if (cell.result.outcome == Outcome::kPass) continue;
      std::printf("  %s [%s] %s: %s\n", c->name.c_str(), rt.name.c_str(),
                  OutcomeName(cell.result.outcome), Flat(cell.result.reason, 600).c_str());
    }
  }

  // report.md
  std::filesystem::create_directories(report_dir);
  std::string md = "# OCI conformance report\n\n";
  md += "Command: `husk-conformance";
  for (const auto& a : runtime_args) md += " " + a;
  md += "`. Kernel: " + Flat(ReadFileOr("/proc/sys/kernel/osrelease"), 80) +
        ". Cgroups: " + (hybrid ? "hybrid (v1 + hugetlb-only v2)" : "v1/v2") + ".\n\n";
  md += "| case | spec |";
  for (const auto& rt : runtimes) md += " " + rt.name + " |";
  md += "\n|---|---|";
  for (size_t i = 0; i < runtimes.size(); ++i) md += "---|";
  md += "\n";
  for (const Case* c : cases) {
    md += "| " + c->name + " | " + c->spec + " |";
    for (const auto& rt : runtimes) md += " " + CellText(cells[c->name][rt.name], 300) + " |";
    md += "\n";
  }
  md += "| **totals** | |";
  for (const auto& rt : runtimes) md += " " + totals_text(rt.name) + " |";
  md += "\n\n## Notes on deliberate runtime differences\n\n";
  for (const Case* c : cases) {
    if (!c->note.empty()) md += "- **" + c->name + "**: " + c->note + "\n";
  }
  WriteFileText(report_dir + "/report.md", md);

  // report.json
  rapidjson::StringBuffer buf;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("runtimes");
  w.StartArray();
  for (const auto& rt : runtimes) {
    w.StartObject();
    w.Key("name");
    JsonString(w, rt.name);
    w.Key("binary");
    JsonString(w, rt.binary);
    w.Key("totals");
    w.StartObject();
    for (Outcome o : {Outcome::kPass, Outcome::kFail, Outcome::kUnsupported, Outcome::kSkip}) {
      w.Key(OutcomeName(o));
      w.Int(totals[rt.name][o]);
    }
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  w.Key("cases");
  w.StartArray();
  for (const Case* c : cases) {
    w.StartObject();
    w.Key("name");
    JsonString(w, c->name);
    w.Key("spec");
    JsonString(w, c->spec);
    w.Key("note");
    JsonString(w, c->note);
    w.Key("results");
    w.StartObject();
    for (const auto& rt : runtimes) {
      const Cell& cell = cells[c->name][rt.name];
      w.Key(rt.name.c_str());
      w.StartObject();
      w.Key("outcome");
      w.String(OutcomeName(cell.result.outcome));
      w.Key("reason");
      JsonString(w, cell.result.reason);
      w.Key("ms");
      w.Double(cell.ms);
      w.EndObject();
    }
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  WriteFileText(report_dir + "/report.json", buf.GetString());
  std::printf("\nReports: %s/report.md, %s/report.json\n", report_dir.c_str(),
              report_dir.c_str());

  std::error_code ec;
  if (!HasMountsUnder(env.work_dir)) std::filesystem::remove_all(env.work_dir, ec);

  int rc = 0;
  for (const auto& name : strict) {
    if (totals.count(name) && totals[name][Outcome::kFail] > 0) {
      std::printf("FAILED: %d case(s) fail for %s\n", totals[name][Outcome::kFail],
                  name.c_str());
      rc = 1;
    }
  }
  return rc;
}

}  // namespace
}  // namespace husk::conformance

int main(int argc, char** argv) { return husk::conformance::Main(argc, argv); }
