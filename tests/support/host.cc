// Host-side helpers: files, JSON, pid files, process and cgroup/mount inspection, and the
// leftover check run after failed commands.
#include <fcntl.h>
#include <poll.h>
#include <ftw.h>
#include <glob.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "rapidjson/error/en.h"
#include "rapidjson/pointer.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "tests/support/harness.h"

namespace husk::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

}  // namespace

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(Errno("open " + path));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw std::runtime_error(Errno("read " + path));
  return ss.str();
}

void WriteFile(const std::string& path, std::string_view content, mode_t mode) {
  husk::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
  if (!fd) throw std::runtime_error(Errno("open " + path));
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(fd.get(), content.data() + off, content.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::runtime_error(Errno("write " + path));
    off += static_cast<size_t>(n);
  }
  ::fchmod(fd.get(), mode);
}

rapidjson::Document ParseJson(std::string_view text) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError()) {
    throw std::runtime_error("JSON parse error at offset " + std::to_string(doc.GetErrorOffset()) +
                             ": " + rapidjson::GetParseError_En(doc.GetParseError()) + " in: " +
                             std::string(text));
  }
  return doc;
}

std::string ToJson(const rapidjson::Value& value) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buf);
  value.Accept(writer);
  return std::string(buf.GetString(), buf.GetSize());
}

std::string ReadUntil(int fd, const std::string& needle, std::chrono::milliseconds timeout) {
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.find(needle) == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    struct pollfd p = {fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    char buf[4096];
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

int ReadPidFile(const std::string& path) {
  std::string text;
  try {
    text = ReadFile(path);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "pid file: " << e.what();
    return -1;
  }
  if (text.empty() || text.size() > 10 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    ADD_FAILURE() << "pid file " << path << " must hold only decimal digits, got \"" << text
                  << "\"";
    return -1;
  }
  long pid = std::stol(text);
  if (pid <= 0 || pid > 0x3fffffff) {
    ADD_FAILURE() << "pid file " << path << " holds an impossible pid " << text;
    return -1;
  }
  return static_cast<int>(pid);
}

bool WaitForPidGone(pid_t pid, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    int status;
    pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) return true;  // our child (we are its parent or subreaper): reaped
    if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
    std::string stat;
    try {
      stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
    } catch (const std::exception&) {
      return true;  // raced with its exit
    }
    // "pid (comm) S ..." — comm may contain ") ", so look after the last ')'.
    auto close = stat.rfind(')');
    if (close != std::string::npos && close + 2 < stat.size()) {
      char state = stat[close + 2];
      if (state == 'Z' || state == 'X') return true;
    }
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(5));
  }
}

void BecomeSubreaper() {
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
    throw std::runtime_error(Errno("PR_SET_CHILD_SUBREAPER"));
  }
}

std::vector<std::string> CgroupDirs(const std::string& cgroups_path) {
  std::vector<std::string> found;
  if (cgroups_path.empty() || cgroups_path.find("..") != std::string::npos) return found;
  std::string rel = cgroups_path[0] == '/' ? cgroups_path : "/" + cgroups_path;
  for (const std::string& pattern : {"/sys/fs/cgroup" + rel, "/sys/fs/cgroup/*" + rel}) {
    glob_t g{};
    if (::glob(pattern.c_str(), GLOB_NOSORT, nullptr, &g) == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i) {
        struct stat st;
        if (::lstat(g.gl_pathv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
          found.emplace_back(g.gl_pathv[i]);
        }
      }
    }
    ::globfree(&g);
  }
  return found;
}

std::vector<std::string> MountsMentioning(const std::string& path) {
  std::vector<std::string> found;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.find(path) == std::string::npos) continue;
    // Fields: id parent major:minor root mountpoint ...
    std::istringstream fields(line);
    std::string id, parent, dev, root, mountpoint;
    fields >> id >> parent >> dev >> root >> mountpoint;
    found.push_back(mountpoint);
  }
  return found;
}

::testing::AssertionResult NoLeftovers(const TestRoot& root, const std::string& id,
                                       Bundle& bundle) {
  std::string problems;
  struct stat st;
  std::string state_dir = root.Path() + "/" + id;
  if (::lstat(state_dir.c_str(), &st) == 0) problems += "\n  state dir " + state_dir + " exists";
  std::string cgroups_path = bundle.CgroupsPath();
  rapidjson::Value* cg = rapidjson::Pointer("/linux/cgroupsPath").Get(bundle.Config());
  if (cg != nullptr && cg->IsString()) cgroups_path = cg->GetString();
  for (const auto& dir : CgroupDirs(cgroups_path)) problems += "\n  cgroup " + dir + " exists";
  for (const auto& m : MountsMentioning(bundle.Path())) {
    problems += "\n  mount " + m + " mentions the bundle";
  }
  if (problems.empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "leftovers of container " << id << ":" << problems;
}

bool RemoveTree(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return errno == ENOENT;
  static thread_local bool ok;
  ok = true;
  // FTW_MOUNT: stay on this filesystem; FTW_PHYS: never follow symlinks; FTW_DEPTH:
  // children before their directory.
  int rc = ::nftw(
      path.c_str(),
      [](const char* p, const struct stat*, int type, FTW*) -> int {
        int r = (type == FTW_DP || type == FTW_D) ? ::rmdir(p) : ::unlink(p);
        if (r != 0) ok = false;
        return 0;
      },
      64, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
  return rc == 0 && ok;
}

}  // namespace husk::testing
