// Helpers for the lifecycle/error/run integration tests (tests/integration/lifecycle_test.cc,
// errors_test.cc, run_test.cc, concurrency_test.cc), on top of harness.h. Test-process
// code only; may use gtest assertions (non-fatal) and throw.
#ifndef HUSK_TESTS_SUPPORT_LIFECYCLE_UTIL_H_
#define HUSK_TESTS_SUPPORT_LIFECYCLE_UTIL_H_

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "tests/support/harness.h"

namespace husk::testing {

// A fixture for tests that run real containers: skips unless root with husk and the
// rootfs built, makes this process a subreaper (detached inits become its children, as
// under containerd's shim and conmon) and reaps the exited ones after each test.
class ContainerTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
};

// Splits on '\n'; a trailing newline does not make an empty last line.
std::vector<std::string> LinesOf(const std::string& text);

// Bind-mounts the host directory `host_dir` read-write at `container_dir` (which must exist
// in the rootfs: the shared rootfs is read-only; /tmp is a good choice). Call Write() after.
void AddBindMount(Bundle& bundle, const std::string& host_dir, const std::string& container_dir);

// Runs `husk --root R args...` with stdout/stderr redirected to files (so a container
// that inherits them never writes into a closed pipe) and reads the files back after the
// command exited into out/err. Use for create and run -d.
CmdResult HuskDetached(const TestRoot& root, const std::vector<std::string>& args,
                       const RunOptions& base = {});

// `create --bundle B [--pid-file P] id` via HuskDetached; asserts (non-fatally) success.
CmdResult CreateOk(const TestRoot& root, const Bundle& bundle, const std::string& id,
                   const std::vector<std::string>& extra = {});

// `state id` parsed, or a Null document (with a non-fatal failure) if it did not work.
rapidjson::Document StateDoc(const TestRoot& root, const std::string& id);
// The state's "pid" (-1 on error).
int StatePid(const TestRoot& root, const std::string& id);

// Polls `state` until the status is `want` (true) or the timeout passes (false).
bool WaitForStatus(const TestRoot& root, const std::string& id, const std::string& want,
                   std::chrono::milliseconds timeout = std::chrono::seconds(10));
// Polls until `path` exists and holds at least `min_lines` lines.
bool WaitForFileLines(const std::string& path, size_t min_lines,
                      std::chrono::milliseconds timeout = std::chrono::seconds(10));

// /proc/<pid>/stat field 3 ('?' when gone) and field 4 (ppid, -1 when gone).
char ProcState(pid_t pid);
pid_t ParentPid(pid_t pid);
// Field 22 (start time in clock ticks), 0 when gone.
unsigned long long ProcStartTime(pid_t pid);
// Waits until pid is a zombie ('Z') without reaping it.
bool WaitForZombie(pid_t pid, std::chrono::milliseconds timeout = std::chrono::seconds(10));
// Pids whose parent is this test process.
std::vector<pid_t> ChildrenOfThisProcess();

// Every new line appended to a --log file since `offset` bytes, each checked to be one
// JSON object {"level":"error","msg":...,"time":RFC3339}; exactly one line is required and
// stderr must equal msg + "\n". Returns the msg ("" on failure).
std::string ExpectOneErrorLine(const std::string& log_path, size_t offset, const CmdResult& r);
// Size of the file (0 if missing).
size_t FileSize(const std::string& path);

// A husk command running in the background (run in the foreground, with signals to send).
// stdout/stderr go to files; the destructor SIGKILLs and reaps it if still running.
class BackgroundHusk {
 public:
  BackgroundHusk(const TestRoot& root, const std::vector<std::string>& args);
  ~BackgroundHusk();
  BackgroundHusk(const BackgroundHusk&) = delete;
  BackgroundHusk& operator=(const BackgroundHusk&) = delete;
  pid_t pid() const { return pid_; }
  // Sends sig to the husk process (our child).
  void Signal(int sig);
  // Waits for the exit; timed_out set (and the process killed) after the timeout.
  CmdResult Wait(std::chrono::milliseconds timeout = std::chrono::seconds(20));

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  std::string dir_;
  std::string command_;
};

// A host process (/bin/sleep 1000) this test started; killed and reaped on destruction.
class Sleeper {
 public:
  Sleeper();
  ~Sleeper();
  Sleeper(const Sleeper&) = delete;
  Sleeper& operator=(const Sleeper&) = delete;
  pid_t pid() const { return pid_; }
  bool Alive() const;  // not gone, not a zombie

 private:
  pid_t pid_ = -1;
};

// Kills (SIGKILL) and reaps a container init that is this process's child (we are a
// subreaper), e.g. after a test that broke its state.json on purpose.
void KillOwnChild(pid_t pid);

}  // namespace husk::testing

#endif  // HUSK_TESTS_SUPPORT_LIFECYCLE_UTIL_H_
