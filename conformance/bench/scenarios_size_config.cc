// Scenarios f-h of husk_bench (perf-notes.md): f. peak RSS per CLI call, memory of a created
// init, binary and library sizes, `--version` start-up; g. the heavy config (seccomp, bind
// mounts, limits) and h. ablations of the default config, both as `run` b2b of variants.

#include <elf.h>
#include <sys/stat.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "conformance/bench/bench.h"

namespace husk::bench {

// ---------------------------------------------------------------------------------------
// f. memory, size, start-up

namespace {

struct ElfSize {
  double file_mb = kNaN, load_mb = kNaN;
};
ElfSize SizeOf(const std::string& path) {
  ElfSize e;
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return e;
  e.file_mb = double(st.st_size) / (1 << 20);
  std::string data = ReadFile(path, size_t(st.st_size));
  if (data.size() >= sizeof(Elf64_Ehdr) && memcmp(data.data(), ELFMAG, SELFMAG) == 0) {
    Elf64_Ehdr eh;
    memcpy(&eh, data.data(), sizeof eh);
    uint64_t sum = 0;
    for (int i = 0; i < eh.e_phnum; i++) {
      size_t off = eh.e_phoff + size_t(i) * eh.e_phentsize;
      if (off + sizeof(Elf64_Phdr) > data.size()) break;
      Elf64_Phdr ph;
      memcpy(&ph, data.data() + off, sizeof ph);
      if (ph.p_type == PT_LOAD) sum += ph.p_filesz;
    }
    e.load_mb = double(sum) / (1 << 20);
  }
  return e;
}

// Shared libraries of a binary (transitively, via ldd) except glibc's own.
std::vector<std::string> NonLibcLibs(const std::string& bin) {
  std::vector<std::string> libs;
  CallResult r = Call({"/usr/bin/ldd", bin});
  std::istringstream in(r.out);
  std::string line;
  static const std::vector<std::string> glibc = {"libc.so", "libm.so", "libpthread.so",
                                                 "libdl.so", "librt.so", "ld-linux",
                                                 "linux-vdso", "libresolv.so"};
  while (std::getline(in, line)) {
    auto arrow = line.find("=> ");
    if (arrow == std::string::npos) continue;
    std::string path = line.substr(arrow + 3);
    path = path.substr(0, path.find(" ("));
    path = Trim(path);
    if (path.empty() || path[0] != '/') continue;
    bool skip = false;
    for (auto& gl : glibc)
      if (line.find(gl) != std::string::npos) skip = true;
    if (!skip) libs.push_back(path);
  }
  return libs;
}

}  // namespace

void ScenarioF(Section& f) {
  f.notes.push_back("peak RSS = wait4 ru_maxrss of the CLI process (max over it and the children "
                    "it reaped). created init = /proc/<pid>/smaps_rollup of the init of a created, "
                    "not started container (from b). Sizes: the binary plus its non-glibc shared "
                    "libraries (ldd, transitive); file = bytes on disk, loaded = sum of PT_LOAD "
                    "segments (what a stripped build would ship; the two differ when a build carries debug info).");
  {
    CallResult r;
    double floor_kb = PeakRssKb({"/bin/true"}, &r);
    f.notes.push_back("Peak RSS is measured by spawning each call from a tiny static helper "
                      "(husk_bench_rss), since ru_maxrss survives execve; its floor, /bin/true "
                      "through it, is " + Fmt("%.2f", floor_kb / 1024) + " MB.");
  }
  Variant v;
  for (int i = 0; i < g.n.f_version; i++) {
    for (auto& rt : g.rts) {
      CheckStop();
      // Peak RSS of each CLI call of a lifecycle, and of `run`.
      auto rss = [&](const std::string& call, std::vector<std::string> argv) {
        CallResult pr;
        double kb = PeakRssKb(argv, &pr);
        if (!pr.ok()) Fail(f, rt, call + " via rss probe: " + pr.Describe());
        f.R("peak RSS: " + call, "MB").v[rt.name].push_back(kb / 1024);
        return pr.ok();
      };
      ReapOrphans();
      Container c = MakeBundle("f", v);
      rss("run", Args(rt, {"run", "--bundle", c.bundle, c.id}));
      ReapOrphans();
      Dispose(rt, c, false);
      c = MakeBundle("f", v);
      std::string pidfile = c.bundle + "/pid";
      bool ok = rss("create", Args(rt, {"create", "--bundle", c.bundle, "--pid-file", pidfile, c.id}));
      ok = ok && rss("state", Args(rt, {"state", c.id}));
      ok = ok && rss("start", Args(rt, {"start", c.id}));
      pid_t init = pid_t(std::atoi(ReadFile(pidfile).c_str()));
      if (ok && init > 0) WaitOrphan(init, 20000);
      ok = ok && rss("delete", Args(rt, {"delete", c.id}));
      Dispose(rt, c, !ok);
      rss("--version", {rt.path, "--version"});
      CallResult r = Call({rt.path, "--version"});
      if (!r.ok()) Fail(f, rt, r.Describe());
      f.R("--version wall", "ms").v[rt.name].push_back(r.ok() ? r.wall_ms : kNaN);
      f.R("--version CPU", "ms").v[rt.name].push_back(r.ok() ? r.cpu_ms : kNaN);
    }
  }
  for (auto& rt : g.rts) {
    ElfSize b = SizeOf(rt.path);
    double lf = 0, ll = 0;
    auto libs = NonLibcLibs(rt.path);
    for (auto& l : libs) {
      ElfSize e = SizeOf(l);
      lf += e.file_mb;
      ll += e.load_mb;
    }
    f.R("binary file size", "MB").v[rt.name] = {b.file_mb};
    f.R("binary loaded size", "MB").v[rt.name] = {b.load_mb};
    f.R("non-glibc libraries (count)", "").v[rt.name] = {double(libs.size())};
    f.R("non-glibc libraries (count)", "").no_ratio = true;
    f.R("non-glibc libraries file size", "MB").v[rt.name] = {lf};
    f.R("binary + libraries, file", "MB").v[rt.name] = {b.file_mb + lf};
    f.R("binary + libraries, loaded", "MB").v[rt.name] = {b.load_mb + ll};
  }
}

// ---------------------------------------------------------------------------------------
// g. heavy config, h. ablations: `run` b2b of config variants

namespace {

void RunVariants(Section& s, const std::vector<Variant>& vars, int iters) {
  std::map<std::string, std::map<std::string, std::string>> na;  // variant -> rt -> why
  for (auto& v : vars)
    for (auto& rt : g.rts) {
      CheckStop();
      std::string raw;
      if (auto err = Probe(rt, v, &raw)) {
        if (rt.name == "husk" && LooksUnsupported(raw)) {
          na[v.name][rt.name] = "unsupported (" + CleanErr(raw) + ")";
        } else {
          Fail(s, rt, v.name + ": " + *err);
          na[v.name][rt.name] = "failed";
        }
      }
    }
  for (auto& v : vars)
    for (auto& [rt, why] : na[v.name]) {
      s.R(v.name + " run wall", "ms").na[rt] = why;
      s.R(v.name + " run CPU", "ms").na[rt] = why;
    }
  for (int i = 0; i < iters; i++)
    for (auto& v : vars)
      for (auto& rt : g.rts) {
        if (na[v.name].count(rt.name)) continue;
        CheckStop();
        double w = kNaN, c = kNaN;
        std::string err;
        if (!RunOnce(rt, s.id, v, &w, &c, &err)) Fail(s, rt, v.name + ": " + err);
        s.R(v.name + " run wall", "ms").v[rt.name].push_back(w);
        s.R(v.name + " run CPU", "ms").v[rt.name].push_back(c);
      }
}

}  // namespace

void ScenarioG() {
  Section s{"g", "g. heavy config `run` of /bin/true (b2b)"};
  s.notes.push_back("heavy = Docker-like seccomp profile (" +
                    std::to_string(SeccompSyscallCount() + 5) +
                    " rules incl. conditional personality/clone ones, 3 architectures), a tmpfs "
                    "on /tmp plus 10 read-only bind mounts, memory 256M / cpu shares+quota / "
                    "pids limits; heavy-noseccomp = the same without the seccomp profile.");
  std::vector<Variant> vars(3);
  vars[0].name = "default";
  vars[1].name = "heavy-noseccomp";
  vars[1].heavy = true;
  vars[2].name = "heavy";
  vars[2].heavy = true;
  vars[2].seccomp = true;
  RunVariants(s, vars, g.n.g);
  g.sections.push_back(std::move(s));
}

void ScenarioH() {
  Section s{"h", "h. ablations: `run` of /bin/true (b2b) without one piece of the default config"};
  std::vector<Variant> vars(4);
  vars[0].name = "default";
  vars[1].name = "no-netns";
  vars[1].netns = false;
  vars[2].name = "no-cgroup-mount";
  vars[2].cgroup_mount = false;
  vars[3].name = "no-masks";
  vars[3].masks = false;
  s.notes.push_back("no-netns: no network namespace; no-cgroup-mount: no /sys/fs/cgroup mount; "
                    "no-masks: empty maskedPaths and readonlyPaths. The \"saved\" rows are "
                    "median(default) - median(variant) per runtime.");
  RunVariants(s, vars, g.n.h);
  for (size_t k = 1; k < vars.size(); k++) {
    for (std::string kind : {"wall", "CPU"}) {
      Row& base = s.R("default run " + kind, "ms");
      Row& var = s.R(vars[k].name + " run " + kind, "ms");
      Row out{"saved by " + vars[k].name + ", " + kind, "ms"};
      out.no_ratio = true;
      for (auto& rt : g.rts) {
        if (var.na.count(rt.name) || base.na.count(rt.name)) {
          out.na[rt.name] = "-";
          continue;
        }
        out.v[rt.name] = {Median(base.v[rt.name]) - Median(var.v[rt.name])};
      }
      s.rows.push_back(out);
    }
  }
  g.sections.push_back(std::move(s));
}

}  // namespace husk::bench
