// Runtime calls of husk_bench: spawning commands (posix_spawn, output in files on the
// tmpfs), timing and reaping them (wall, rusage CPU, peak RSS through husk_bench_rss),
// reaping orphaned container inits, one bundle and cgroupsPath per container and its
// disposal, and the building blocks of the scenarios (one `run`, a probe, failures).

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <string>
#include <vector>

#include "conformance/bench/bench.h"

extern char** environ;

namespace husk::bench {

namespace fs = std::filesystem;

namespace {

std::map<pid_t, Reaped> g_reaped;  // orphans (container inits) reaped by the subreaper

int g_io_seq = 0;

std::string Join(const std::vector<std::string>& argv) {
  std::string s;
  for (auto& a : argv) s += (s.empty() ? "" : " ") + a;
  return s;
}

// Waits for a child with a timeout (pidfd + poll, then wait4). Returns false on timeout.
bool WaitChild(pid_t pid, int timeout_ms, int* st, rusage* ru) {
  int pfd = int(syscall(SYS_pidfd_open, pid, 0));
  if (pfd >= 0) {
    pollfd p{pfd, POLLIN, 0};
    int rc;
    do rc = poll(&p, 1, timeout_ms);
    while (rc < 0 && errno == EINTR && !g_stop);
    close(pfd);
    if (rc == 0) return false;
  }
  while (wait4(pid, st, 0, ru) < 0) {
    if (errno != EINTR) return false;
  }
  return true;
}

CallResult Finish(const Spawned& s, int timeout_ms) {
  CallResult r;
  r.cmd = s.cmd;
  rusage ru{};
  int st = 0;
  if (!WaitChild(s.pid, timeout_ms, &st, &ru)) {
    kill(s.pid, SIGKILL);  // our own child
    wait4(s.pid, &st, 0, &ru);
    r.timed_out = true;
  }
  int64_t t1 = NowNs();
  r.status = st;
  r.wall_ms = Ms(t1 - s.t0);
  r.cpu_ms = CpuMs(ru);
  r.maxrss_kb = double(ru.ru_maxrss);
  r.out = ReadFile(s.out_path, 1 << 16);
  r.err = ReadFile(s.err_path, 1 << 16);
  return r;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Processes

double ReapOrphans() {
  double cpu = 0;
  for (;;) {
    int st;
    rusage ru;
    pid_t p = wait4(-1, &st, WNOHANG, &ru);
    if (p <= 0) break;
    g_reaped[p] = Reaped{st, ru, NowNs()};
    cpu += CpuMs(ru);
  }
  return cpu;
}

Spawned Spawn(const std::vector<std::string>& argv) {
  Spawned s;
  s.cmd = Join(argv);
  int seq = g_io_seq++ % 64;  // a small ring of files; parallel batches stay below it
  s.out_path = g.io_dir + "/out." + std::to_string(seq);
  s.err_path = g.io_dir + "/err." + std::to_string(seq);
  int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int out = open(s.out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int err = open(s.err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (in < 0 || out < 0 || err < 0) throw std::runtime_error("open io files: " + std::string(strerror(errno)));
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in, 0);
  posix_spawn_file_actions_adddup2(&fa, out, 1);
  posix_spawn_file_actions_adddup2(&fa, err, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  s.t0 = NowNs();
  int rc = posix_spawn(&s.pid, cargv[0], &fa, &attr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  close(in);
  close(out);
  close(err);
  if (rc != 0) throw std::runtime_error("spawn " + argv[0] + ": " + strerror(rc));
  return s;
}

CallResult Call(const std::vector<std::string>& argv, int timeout_ms) {
  return Finish(Spawn(argv), timeout_ms);
}

double PeakRssKb(const std::vector<std::string>& argv, CallResult* r) {
  std::string out = g.io_dir + "/maxrss";
  unlink(out.c_str());
  std::vector<std::string> a{g.rss_probe, out};
  a.insert(a.end(), argv.begin(), argv.end());
  *r = Call(a);
  std::string v = Trim(ReadFile(out));
  return r->ok() && !v.empty() ? std::stod(v) : kNaN;
}

std::optional<Reaped> WaitOrphan(pid_t pid, int timeout_ms) {
  if (auto it = g_reaped.find(pid); it != g_reaped.end()) {
    Reaped r = it->second;
    g_reaped.erase(it);
    return r;
  }
  int st;
  rusage ru;
  int pfd = int(syscall(SYS_pidfd_open, pid, 0));
  if (pfd < 0) return std::nullopt;
  pollfd p{pfd, POLLIN, 0};
  int rc;
  do rc = poll(&p, 1, timeout_ms);
  while (rc < 0 && errno == EINTR && !g_stop);
  close(pfd);
  if (rc <= 0) return std::nullopt;
  if (wait4(pid, &st, WNOHANG, &ru) == pid) return Reaped{st, ru, NowNs()};
  // Not our child (the runtime kept it): it exited, but we have no rusage.
  return Reaped{0, rusage{}, NowNs()};
}

// ---------------------------------------------------------------------------------------
// Runtimes, bundles, cgroups

std::vector<std::string> Args(const Runtime& rt, std::initializer_list<std::string> rest) {
  std::vector<std::string> a{rt.path, "--root", rt.root};
  a.insert(a.end(), rest.begin(), rest.end());
  return a;
}

Container MakeBundle(const std::string& prefix, const Variant& v) {
  Container c;
  int n = g.seq++;
  c.id = prefix + "-" + std::to_string(n);
  c.bundle = g.bundles + "/" + c.id;
  c.cgpath = "/husk-test/bench-" + g.tag + "-" + std::to_string(n);
  fs::create_directory(c.bundle);
  WriteFile(c.bundle + "/config.json", ConfigFor(v, c.cgpath));
  return c;
}

void Dispose(const Runtime& rt, const Container& c, bool force_delete) {
  if (force_delete || fs::exists(rt.root + "/" + c.id)) {
    Call(Args(rt, {"delete", "--force", c.id}), 20000);
  }
  ReapOrphans();
  for (auto& mp : g.cg_mounts) {
    std::string dir = mp + c.cgpath;
    if (rmdir(dir.c_str()) == 0) {
      // The runtime did not remove its cgroup (rmdir succeeded only because it was empty).
      g.leaks.push_back(rt.name + ": " + dir);
    }
  }
  std::error_code ec;
  fs::remove_all(c.bundle, ec);
}

// ---------------------------------------------------------------------------------------
// Scenario building blocks

void Fail(Section& s, const Runtime& rt, const std::string& what) {
  s.errors.push_back(rt.name + ": " + what);
  std::cerr << "bench: [" << s.id << "] " << rt.name << ": " << what << "\n";
}

bool RunOnce(const Runtime& rt, const std::string& prefix, const Variant& v, double* wall,
             double* cpu, std::string* err, std::string* raw_err) {
  Container c = MakeBundle(prefix, v);
  ReapOrphans();
  CallResult r = Call(Args(rt, {"run", "--bundle", c.bundle, c.id}));
  double orphan_cpu = ReapOrphans();
  bool ok = r.ok();
  if (ok) {
    *wall = r.wall_ms;
    *cpu = r.cpu_ms + orphan_cpu;
  } else {
    if (err) *err = r.Describe();
    if (raw_err) *raw_err = r.err + r.out;
  }
  Dispose(rt, c, !ok);
  return ok;
}

std::optional<std::string> Probe(const Runtime& rt, const Variant& v, std::string* raw) {
  double w, c;
  std::string err;
  if (RunOnce(rt, "probe", v, &w, &c, &err, raw)) return std::nullopt;
  return err;
}

std::string CleanErr(const std::string& err) {
  std::string line = FirstLine(err);
  for (const std::string& l : {err}) {
    auto p = l.find("msg=\"");
    if (p == std::string::npos) break;
    std::string m;
    for (size_t i = p + 5; i < l.size() && l[i] != '"'; i++) {
      if (l[i] == '\\' && i + 1 < l.size()) i++;
      m += l[i];
    }
    line = m;
  }
  return Excerpt(line, 160);
}

bool LooksUnsupported(const std::string& err) {
  std::string e = err;
  std::transform(e.begin(), e.end(), e.begin(), ::tolower);
  return e.find("not supported") != std::string::npos ||
         e.find("unsupported") != std::string::npos ||
         e.find("not implemented") != std::string::npos ||
         e.find("unknown command") != std::string::npos;
}

}  // namespace husk::bench
