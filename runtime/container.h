// The container lifecycle as short narrative functions: Create, Start, State, Kill,
// Delete, Run, Exec, List, Pause, Resume, Update. Each takes parsed options (cli/ does the parsing) and returns a Status
// whose message is the user-facing error (cli/ prints and logs it). Parent process only.
#ifndef HUSK_RUNTIME_CONTAINER_H_
#define HUSK_RUNTIME_CONTAINER_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace husk {

// Global flags that matter to the lifecycle (cli/ handles --log/--log-format/--debug).
struct GlobalOptions {
  std::string root = "/run/husk";  // state directory, absolute
  bool systemd_cgroup = false;
  std::string rootless = "auto";  // "true" | "false" | "auto"
};

struct CreateOptions {
  std::string id;
  std::string bundle;          // absolute or relative to cwd; default cwd
  std::string pid_file;        // empty = none; relative to cwd
  std::string console_socket;  // empty = none
  bool no_pivot = false;
  bool no_new_keyring = false;
  int preserve_fds = 0;
};

struct RunOptions {
  CreateOptions create;
  bool detach = false;
  bool keep = false;
  bool no_subreaper = false;
};

// Validates the ID (runc's character set, not "." or ".."): "invalid container ID format".
absl::Status ValidateContainerId(absl::string_view id);

absl::Status Create(const GlobalOptions& global, const CreateOptions& options);
absl::Status Start(const GlobalOptions& global, const std::string& id);
// The state document, pretty-printed JSON (runc style), without trailing newline.
absl::StatusOr<std::string> State(const GlobalOptions& global, const std::string& id);
absl::Status Kill(const GlobalOptions& global, const std::string& id, int signal, bool all);
absl::Status Delete(const GlobalOptions& global, const std::string& id, bool force);
// Returns the exit code husk should exit with: the container's status (128+N for signal
// N) in the foreground, 0 for --detach.
absl::StatusOr<int> Run(const GlobalOptions& global, const RunOptions& options);

// `exec` (container_exec.cc): runc's flags. Without --process the process is the
// bundle's config.json process with args = `args` and the flags' overrides (runc's
// getProcess); with it the file's object as is (terminal from the file, --tty ignored).
struct ExecOptions {
  std::string id;
  std::string process_file;             // --process/-p; read before Exec returns
  std::string console_socket;           // --console-socket
  std::string pidfd_socket;             // --pidfd-socket: receives a pidfd of the process
  std::string pid_file;                 // --pid-file, absolute ("" = none)
  std::string cwd;                      // --cwd
  std::vector<std::string> env;         // --env/-e, appended to the config's
  bool tty = false;                     // --tty/-t
  std::optional<uint32_t> uid, gid;     // --user/-u uid[:gid]
  std::vector<uint32_t> additional_gids;  // --additional-gids/-g, appended
  std::string process_label, apparmor;  // --process-label, --apparmor
  std::optional<bool> no_new_privs;     // --no-new-privs, when given
  std::vector<std::string> caps;        // --cap/-c: added to bounding/effective/permitted
  std::vector<std::string> cgroups;     // --cgroup [ctrl[,ctrl]:]path (sub-cgroups)
  bool ignore_paused = false;
  int preserve_fds = 0;
  bool detach = false;
  std::vector<std::string> args;  // COMMAND [ARGS...]
};
// Runs a process in the container's namespaces and cgroup. Returns the exit code husk
// exits with: 0 with --detach once the process has called execve, else the process's
// status (128+N for signal N). Every failure message starts with runc's "exec failed: ";
// cli/ exits 255 for them.
absl::StatusOr<int> Exec(const GlobalOptions& global, const ExecOptions& options);

// Freeze / thaw the container's cgroup and wait until the kernel reports it
// (container_cgroups.cc). Pause: "container not running" unless created or running;
// Resume: "container not paused".
absl::Status Pause(const GlobalOptions& global, const std::string& id);
absl::Status Resume(const GlobalOptions& global, const std::string& id);

struct UpdateOptions {
  std::string resources;  // --resources/-r: a linux.resources JSON file; "-" = stdin
  // runc's individual flags (--memory ...), already converted by cli/: a JSON pointer
  // below linux.resources ("/memory/limit") and the JSON value to set there ("1048576").
  std::vector<std::pair<std::string, std::string>> set;
};
// Merges the request into the container's current resources (the last update's, else
// the bundle's), applies the result to the live cgroup and saves it for the next update.
absl::Status Update(const GlobalOptions& global, const std::string& id,
                    const UpdateOptions& options);

enum class ListFormat { kTable, kJson };
// The text `list` prints on stdout (table, JSON array or `null`, or IDs with quiet).
absl::StatusOr<std::string> List(const GlobalOptions& global, ListFormat format, bool quiet);

// `ps` and `events` (container_observe.cc): what runs in the container's cgroup.
enum class PsFormat { kTable, kJson };
struct PsOptions {
  std::string id;
  PsFormat format = PsFormat::kTable;
  std::vector<std::string> ps_args;  // for the host's ps; empty = {"-ef"}
};
// The text `ps` prints: json, the cgroup's pids as a JSON array (`null` when none) and a
// newline; table, the host ps's header and the lines of the container's processes.
absl::StatusOr<std::string> Ps(const GlobalOptions& global, const PsOptions& options);

struct EventsOptions {
  std::string id;
  bool stats = false;                       // one stats object, then return
  int64_t interval_ns = 5'000'000'000;      // between stats objects when streaming
};
// Receives each line `events` prints (one JSON object and "\n"); an error stops Events.
using EventSink = std::function<absl::Status(absl::string_view line)>;
// runc's `events`: a stopped container is "container with id X is not running". With
// `stats` one stats event; otherwise a stats event every interval and an oom event for
// each OOM notification, until the container's processes are gone. Does not hold the
// container's lock while streaming.
absl::Status Events(const GlobalOptions& global, const EventsOptions& options,
                    const EventSink& emit);

}  // namespace husk

#endif  // HUSK_RUNTIME_CONTAINER_H_
