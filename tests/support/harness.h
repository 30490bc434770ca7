// Integration-test harness: drives the real husk binary (HUSK_BINARY) as a subprocess and
// owns the temporary bundles, --root dirs and console sockets a test needs. Everything it
// creates lives under /tmp/husk-it and is removed in destructors, also after failed
// assertions. Test-process code only (uses gtest, may throw); never linked into husk.
// Rules it enforces: every container cgroup is /husk-test/<unique>; only PIDs this process
// started are ever signalled.
#ifndef HUSK_TESTS_SUPPORT_HARNESS_H_
#define HUSK_TESTS_SUPPORT_HARNESS_H_

#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "runtime/base/unique_fd.h"

namespace husk::testing {

// Skips the current test unless running as root (containers need it).
#define HUSK_REQUIRE_ROOT()                                               \
  do {                                                                    \
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (euid " << ::geteuid() << ")"; \
  } while (0)

// Skips unless root; fails if the husk binary or the shared rootfs is missing.
#define HUSK_REQUIRE_CONTAINERS()                                         \
  do {                                                                    \
    HUSK_REQUIRE_ROOT();                                                  \
    ASSERT_TRUE(::husk::testing::BinaryAvailable()) << ::husk::testing::HuskBinary() \
        << " is missing: build it first";                                 \
    ASSERT_TRUE(::husk::testing::RootfsAvailable()) << ::husk::testing::RootfsPath() \
        << " is missing: run 'make rootfs'";                              \
  } while (0)

std::string HuskBinary();  // HUSK_BINARY, or $HUSK_TEST_BINARY when set (e.g. runc).
std::string RootfsPath();  // HUSK_ROOTFS (absolute).
bool BinaryAvailable();
bool RootfsAvailable();

// ---------------------------------------------------------------------------------------
// Running commands.

struct CmdResult {
  int exit_code = -1;    // WEXITSTATUS; -1 when killed by a signal.
  int term_signal = 0;   // WTERMSIG when killed by a signal, else 0.
  bool timed_out = false;
  std::string out, err;  // captured stdout/stderr (empty when redirected by RunOptions).
  std::string command;   // the argv joined, for messages.
  bool ok() const { return exit_code == 0; }
};
// "`husk --root R state c1` exited 1; stdout: ...; stderr: ..." — for `<< r` in asserts.
std::ostream& operator<<(std::ostream& os, const CmdResult& r);

struct RunOptions {
  // Bytes fed to stdin then closed; nullopt means stdin is /dev/null.
  std::optional<std::string> stdin_data;
  // The child is SIGKILLed, the test fails (non-fatally) and timed_out is set after this.
  std::chrono::milliseconds timeout{30000};
  // "KEY=VALUE" entries added to (or replacing in) the environment.
  std::vector<std::string> env;
  // When false the child gets exactly `env` (e.g. podman's XDG_RUNTIME_DIR-only env).
  bool inherit_env = true;
  // Extra fds: child fd number -> fd in this process (still owned by the caller). Every
  // other fd >= 3 is closed in the child, so `--preserve-fds` tests see exactly these.
  std::map<int, int> extra_fds;
  // When >= 0 the child's stdout/stderr is this fd instead of a capture pipe. Use a file
  // for `create`: the container inherits stdio and outlives the command.
  int stdout_fd = -1;
  int stderr_fd = -1;
  std::string cwd;  // empty: inherit.
};

// Runs argv (argv[0] is an absolute path) and collects its output. Output that arrives
// after the direct child exited (from a container holding the pipe) is not waited for.
CmdResult RunCommand(const std::vector<std::string>& argv, const RunOptions& opts = {});
// RunCommand({HuskBinary(), args...}).
CmdResult RunHusk(const std::vector<std::string>& args, const RunOptions& opts = {});

// ---------------------------------------------------------------------------------------
// Temporary state.

// mkdtemp("/tmp/husk-it/<name>-XXXXXX"), mode 0755; the caller removes it (RemoveTree).
std::string MakeTempDir(std::string_view name);

// A unique name "<test-name>-<pid>-<n>" made of container-ID-safe characters.
std::string UniqueName(std::string_view prefix = "");

// A bundle directory /tmp/husk-it/<unique> with a default config (see kDefaultConfig in
// harness.cc: runc-spec defaults, busybox rootfs read-only, args ["/bin/true"], no tty,
// cgroupsPath "/husk-test/<unique>"). Edit Config() then call Write() before use.
class Bundle {
 public:
  Bundle();
  ~Bundle();
  Bundle(const Bundle&) = delete;
  Bundle& operator=(const Bundle&) = delete;

  const std::string& Path() const { return path_; }
  std::string ConfigPath() const { return path_ + "/config.json"; }
  // The unique name; also a good container ID.
  const std::string& Id() const { return id_; }
  // "/husk-test/<unique>" as initially configured.
  const std::string& CgroupsPath() const { return cgroups_path_; }

  rapidjson::Document& Config() { return config_; }
  // Writes Config() to config.json (pretty-printed).
  void Write() const;

  // Convenience setters over Config(). `pointer` is a JSON pointer ("/process/terminal").
  void SetJson(const std::string& pointer, std::string_view json);  // parse and set
  void Remove(const std::string& pointer);
  void SetArgs(const std::vector<std::string>& args);
  void SetTerminal(bool terminal);
  // Copies the shared rootfs to <bundle>/rootfs and points root.path at it (absolute), so
  // the test may modify it. Returns the new rootfs path.
  std::string UsePrivateRootfs(bool readonly = false);

 private:
  std::string id_;
  std::string path_;
  std::string cgroups_path_;
  rapidjson::Document config_;
};

// A plain temporary directory /tmp/husk-it/<prefix>-<unique>, removed with its contents.
class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "tmp");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& Path() const { return path_; }

 private:
  std::string path_;
};

// A --root directory /tmp/husk-it/root-<unique>. The destructor runs
// `husk --root R delete --force <id>` for every container dir it finds, then removes R.
class TestRoot {
 public:
  TestRoot();
  ~TestRoot();
  TestRoot(const TestRoot&) = delete;
  TestRoot& operator=(const TestRoot&) = delete;

  const std::string& Path() const { return path_; }
  // RunHusk({"--root", Path(), args...}).
  CmdResult Husk(const std::vector<std::string>& args, const RunOptions& opts = {}) const;
  // `state <id>` parsed; fails the test (non-fatally) and returns "" if it did not work.
  std::string Status(const std::string& id) const;

 private:
  std::string path_;
};

// Receiving end of --console-socket (cli-contract.md §4): an AF_UNIX SOCK_STREAM listener.
class ConsoleSocket {
 public:
  struct Received {
    husk::UniqueFd master;  // the pty master, valid when error is empty
    std::string payload;    // the data bytes sent with it (runc: "/dev/ptmx")
    std::string error;      // what was wrong with the message
    bool ok() const { return error.empty(); }
  };

  ConsoleSocket();  // listens at /tmp/husk-it/console-XXXXXX/sock
  ~ConsoleSocket();
  ConsoleSocket(const ConsoleSocket&) = delete;
  ConsoleSocket& operator=(const ConsoleSocket&) = delete;

  const std::string& Path() const { return socket_path_; }
  // Accepts one connection and checks the message as conmon/go-runc do: exactly one
  // SOL_SOCKET/SCM_RIGHTS control message, cmsg_len == CMSG_LEN(sizeof(int)), one fd,
  // 1..4095 data bytes, the fd is a pty master. With require_eof the runtime must also
  // close the connection (nothing else sent) within the timeout.
  Received Receive(std::chrono::milliseconds timeout = std::chrono::seconds(10),
                   bool require_eof = true);

 private:
  std::string dir_;
  std::string socket_path_;
  husk::UniqueFd listener_;
};

// ---------------------------------------------------------------------------------------
// Helpers.

// Whole file; throws std::runtime_error if it cannot be read.
std::string ReadFile(const std::string& path);
// Creates/truncates; throws on failure.
void WriteFile(const std::string& path, std::string_view content, mode_t mode = 0644);
// Parses JSON; throws std::runtime_error with the offset and text on a parse error.
rapidjson::Document ParseJson(std::string_view text);
std::string ToJson(const rapidjson::Value& value);

// The pid in a --pid-file: the content must be decimal digits only (no newline). Adds a
// non-fatal failure and returns -1 otherwise.
int ReadPidFile(const std::string& path);
// Reads `fd` (a pty master, a pipe) until `needle` appears in what was read, EOF or EIO
// (the other side closed), or the timeout passes; returns everything read.
std::string ReadUntil(int fd, const std::string& needle,
                      std::chrono::milliseconds timeout = std::chrono::seconds(10));
// True once pid has exited: gone, a zombie, or (if it is our child) reaped here.
bool WaitForPidGone(pid_t pid, std::chrono::milliseconds timeout = std::chrono::seconds(10));
// Marks this process a child subreaper so detached container inits are reparented to it
// (as under containerd's shim and conmon). WaitForPidGone then reaps them.
void BecomeSubreaper();

// Cgroup directories that exist for cgroupsPath on this host (v1 hierarchies, the v2
// unified mount, or both on hybrid hosts).
std::vector<std::string> CgroupDirs(const std::string& cgroups_path);
// Mountpoints in /proc/self/mountinfo whose mount point or root mentions `path`.
std::vector<std::string> MountsMentioning(const std::string& path);

// After a failed command: no <root>/<id>, no cgroup dir for the bundle's cgroupsPath, and
// no mount that mentions the bundle path. Use as EXPECT_TRUE(NoLeftovers(root, id, b)).
::testing::AssertionResult NoLeftovers(const TestRoot& root, const std::string& id,
                                       Bundle& bundle);

// Removes a tree without crossing into other filesystems (a leaked mount is never
// descended into). Returns false (and leaves what it cannot remove) on error.
bool RemoveTree(const std::string& path);

}  // namespace husk::testing

#endif  // HUSK_TESTS_SUPPORT_HARNESS_H_
