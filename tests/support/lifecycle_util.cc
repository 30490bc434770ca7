#include "tests/support/lifecycle_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <regex>
#include <stdexcept>
#include <thread>

#include "rapidjson/pointer.h"

namespace husk::testing {

void ContainerTest::SetUp() {
  HUSK_REQUIRE_CONTAINERS();
  BecomeSubreaper();
}

void ContainerTest::TearDown() {
  // Reap the inits of deleted containers (zombies of ours); nothing alive is waited for.
  while (::waitpid(-1, nullptr, WNOHANG | __WALL) > 0) {
  }
}
namespace {

using Clock = std::chrono::steady_clock;

std::string ReadIfExists(const std::string& path) {
  try {
    return ReadFile(path);
  } catch (const std::exception&) {
    return "";
  }
}

// /proc/<pid>/stat fields after the comm: [0] = state (field 3), [1] = ppid (field 4).
std::vector<std::string> StatFields(pid_t pid) {
  std::string content = ReadIfExists("/proc/" + std::to_string(pid) + "/stat");
  size_t close = content.rfind(')');
  std::vector<std::string> fields;
  if (close == std::string::npos) return fields;
  std::string rest = content.substr(close + 1);
  size_t pos = 0;
  while (pos < rest.size()) {
    while (pos < rest.size() && rest[pos] == ' ') ++pos;
    size_t end = rest.find(' ', pos);
    if (end == std::string::npos) end = rest.size();
    if (end > pos) fields.push_back(rest.substr(pos, end - pos));
    pos = end;
  }
  return fields;
}

[[noreturn]] void ExecInChild(const std::vector<std::string>& argv, int out_fd, int err_fd) {
  signal(SIGPIPE, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  int null_fd = open("/dev/null", O_RDONLY);
  if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0) {
    _exit(126);
  }
  syscall(SYS_close_range, 3U, ~0U, 0U);
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  execv(cargv[0], cargv.data());
  _exit(127);
}

}  // namespace

std::vector<std::string> LinesOf(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

void AddBindMount(Bundle& bundle, const std::string& host_dir, const std::string& container_dir) {
  auto& config = bundle.Config();
  auto& a = config.GetAllocator();
  rapidjson::Value mount(rapidjson::kObjectType);
  mount.AddMember("destination", rapidjson::Value(container_dir.c_str(), a), a);
  mount.AddMember("type", "bind", a);
  mount.AddMember("source", rapidjson::Value(host_dir.c_str(), a), a);
  rapidjson::Value options(rapidjson::kArrayType);
  options.PushBack("rbind", a);
  options.PushBack("rw", a);
  mount.AddMember("options", options, a);
  config["mounts"].PushBack(mount, a);
}

CmdResult HuskDetached(const TestRoot& root, const std::vector<std::string>& args,
                       const RunOptions& base) {
  TempDir io("io");
  std::string out_path = io.Path() + "/out", err_path = io.Path() + "/err";
  husk::UniqueFd out(::open(out_path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  husk::UniqueFd err(::open(err_path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  if (!out || !err) throw std::runtime_error("open output files in " + io.Path());
  RunOptions opts = base;
  opts.stdout_fd = out.get();
  opts.stderr_fd = err.get();
  CmdResult r = root.Husk(args, opts);
  r.out = ReadIfExists(out_path);
  r.err = ReadIfExists(err_path);
  return r;
}

CmdResult CreateOk(const TestRoot& root, const Bundle& bundle, const std::string& id,
                   const std::vector<std::string>& extra) {
  std::vector<std::string> args{"create", "--bundle", bundle.Path()};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back(id);
  CmdResult r = HuskDetached(root, args);
  EXPECT_EQ(r.exit_code, 0) << r;
  return r;
}

rapidjson::Document StateDoc(const TestRoot& root, const std::string& id) {
  CmdResult r = root.Husk({"state", id});
  rapidjson::Document doc;
  if (!r.ok()) {
    ADD_FAILURE() << r;
    return doc;
  }
  EXPECT_EQ(r.err, "") << r;
  doc.Parse(r.out.c_str());
  if (doc.HasParseError() || !doc.IsObject()) {
    ADD_FAILURE() << "state output is not a JSON object: " << r;
    doc.SetNull();
  }
  return doc;
}

int StatePid(const TestRoot& root, const std::string& id) {
  rapidjson::Document doc = StateDoc(root, id);
  if (!doc.IsObject() || !doc.HasMember("pid") || !doc["pid"].IsInt()) return -1;
  return doc["pid"].GetInt();
}

bool WaitForStatus(const TestRoot& root, const std::string& id, const std::string& want,
                   std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::string last;
  while (true) {
    CmdResult r = root.Husk({"state", id});
    if (r.ok()) {
      rapidjson::Document doc;
      doc.Parse(r.out.c_str());
      if (!doc.HasParseError() && doc.IsObject() && doc.HasMember("status") &&
          doc["status"].IsString()) {
        last = doc["status"].GetString();
        if (last == want) return true;
      }
    }
    if (Clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ADD_FAILURE() << "container " << id << " did not become " << want << " (last: " << last << ")";
  return false;
}

bool WaitForFileLines(const std::string& path, size_t min_lines,
                      std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (LinesOf(ReadIfExists(path)).size() >= min_lines) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

char ProcState(pid_t pid) {
  std::vector<std::string> f = StatFields(pid);
  return f.empty() || f[0].empty() ? '?' : f[0][0];
}

pid_t ParentPid(pid_t pid) {
  std::vector<std::string> f = StatFields(pid);
  return f.size() < 2 ? -1 : static_cast<pid_t>(std::stol(f[1]));
}

unsigned long long ProcStartTime(pid_t pid) {
  std::vector<std::string> f = StatFields(pid);
  return f.size() < 20 ? 0 : std::stoull(f[19]);
}

bool WaitForZombie(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (ProcState(pid) == 'Z') return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

std::vector<pid_t> ChildrenOfThisProcess() {
  std::vector<pid_t> out;
  const pid_t self = ::getpid();
  DIR* d = ::opendir("/proc");
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0') continue;
    if (ParentPid(static_cast<pid_t>(pid)) == self) out.push_back(static_cast<pid_t>(pid));
  }
  ::closedir(d);
  return out;
}

size_t FileSize(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<size_t>(st.st_size) : 0;
}

std::string ExpectOneErrorLine(const std::string& log_path, size_t offset, const CmdResult& r) {
  std::string content = ReadIfExists(log_path);
  if (content.size() < offset) {
    ADD_FAILURE() << "log " << log_path << " shrank (truncated?)";
    return "";
  }
  std::string added = content.substr(offset);
  std::vector<std::string> lines = LinesOf(added);
  if (lines.size() != 1 || added.back() != '\n') {
    ADD_FAILURE() << "want exactly one new newline-terminated log line, got:\n" << added << r;
    return "";
  }
  rapidjson::Document line;
  line.Parse(lines[0].c_str());
  if (line.HasParseError() || !line.IsObject()) {
    ADD_FAILURE() << "log line is not a JSON object: " << lines[0];
    return "";
  }
  static const std::regex kRfc3339(
      R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))");
  EXPECT_TRUE(line.HasMember("level") && line["level"].IsString() &&
              std::string(line["level"].GetString()) == "error")
      << lines[0];
  EXPECT_TRUE(line.HasMember("time") && line["time"].IsString() &&
              std::regex_match(line["time"].GetString(), kRfc3339))
      << lines[0];
  if (!line.HasMember("msg") || !line["msg"].IsString()) {
    ADD_FAILURE() << "no msg: " << lines[0];
    return "";
  }
  std::string msg = line["msg"].GetString();
  EXPECT_EQ(r.err, msg + "\n") << "stderr must carry the same text as the log line; " << r;
  return msg;
}

BackgroundHusk::BackgroundHusk(const TestRoot& root, const std::vector<std::string>& args) {
  dir_ = MakeTempDir("bg");
  std::vector<std::string> argv{HuskBinary(), "--root", root.Path()};
  argv.insert(argv.end(), args.begin(), args.end());
  for (const auto& a : argv) command_ += (command_.empty() ? "" : " ") + a;
  husk::UniqueFd out(::open((dir_ + "/out").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  husk::UniqueFd err(::open((dir_ + "/err").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  if (!out || !err) throw std::runtime_error("open output files in " + dir_);
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid_ == 0) ExecInChild(argv, out.get(), err.get());
}

BackgroundHusk::~BackgroundHusk() {
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, SIGKILL);
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  RemoveTree(dir_);
}

void BackgroundHusk::Signal(int sig) {
  if (pid_ > 0 && !reaped_) ::kill(pid_, sig);
}

CmdResult BackgroundHusk::Wait(std::chrono::milliseconds timeout) {
  CmdResult r;
  r.command = command_;
  if (reaped_) return r;
  const auto deadline = Clock::now() + timeout;
  int status = 0;
  while (true) {
    pid_t w = ::waitpid(pid_, &status, WNOHANG);
    if (w == pid_) break;
    if (Clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      r.timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  reaped_ = true;
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.term_signal = WTERMSIG(status);
  r.out = ReadIfExists(dir_ + "/out");
  r.err = ReadIfExists(dir_ + "/err");
  if (r.timed_out) ADD_FAILURE() << "timeout: " << r;
  return r;
}

Sleeper::Sleeper() {
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid_ == 0) {
    int null_fd = ::open("/dev/null", O_RDWR);
    ExecInChild({"/bin/sleep", "1000"}, null_fd, null_fd);
  }
}

Sleeper::~Sleeper() {
  ::kill(pid_, SIGKILL);  // our own child: the pid cannot have been recycled
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
}

bool Sleeper::Alive() const {
  char s = ProcState(pid_);
  return s != '?' && s != 'Z' && s != 'X';
}

void KillOwnChild(pid_t pid) {
  if (pid <= 0 || ParentPid(pid) != ::getpid()) {
    ADD_FAILURE() << "pid " << pid << " is not our child; not killing it";
    return;
  }
  ::kill(pid, SIGKILL);
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace husk::testing
