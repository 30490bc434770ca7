// Helpers for the config_<area> integration tests: run a shell script in a container and
// collect what it prints, create a container that waits for `start`, and read the host's
// view of a container process (namespace inodes, mountinfo, /proc/<pid>/status fields).
// Test-process code only.
#ifndef HUSK_TESTS_SUPPORT_CONFIG_UTIL_H_
#define HUSK_TESTS_SUPPORT_CONFIG_UTIL_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "tests/support/harness.h"

namespace husk::testing {

// Sets args to ["/bin/sh", "-c", script], writes the config and runs
// `husk --root R run --bundle B <id>` (15 s timeout unless opts say otherwise).
CmdResult RunScript(const TestRoot& root, Bundle& bundle, const std::string& script,
                    RunOptions opts = {});

// A container made with `husk create` (stdout/stderr go to <bundle>/out.txt); pid is the
// init's host pid, or -1 when create failed (result says why).
struct Created {
  CmdResult result;
  pid_t pid = -1;
  std::string out_path;
  bool ok() const { return pid > 0; }
};
// Writes the config first. `extra` goes after "create" (e.g. {"--preserve-fds", "2"}).
Created CreateContainer(const TestRoot& root, Bundle& bundle,
                        const std::vector<std::string>& extra = {}, RunOptions opts = {});
// `start`s it, waits for the init to exit (10 s) and returns what it printed.
std::string StartAndCollect(const TestRoot& root, Bundle& bundle, const Created& created);

// st_ino of /proc/<pid>/ns/<ns> ("self" allowed as pid = 0); 0 if it cannot be read.
ino_t NsInode(pid_t pid, const std::string& ns);

// The default namespaces plus a new user namespace mapping container ids 0..65535 to
// host ids 100000.. (uid and gid). Call Write() after.
void UseUserNamespace(Bundle& bundle);

// Lines of `text`, without the newlines.
std::vector<std::string> SplitLines(const std::string& text);
// The value after "<key>:" in /proc/<pid>/status-like text, whitespace trimmed; "" if none.
std::string StatusField(const std::string& status, const std::string& key);
// The last mountinfo line whose mount point (field 5) is `mountpoint`; "" if none.
std::string MountInfoLine(const std::string& mountinfo, const std::string& mountpoint);
// Per-mount options (field 6) of that line, e.g. "ro,nosuid,nodev"; "" if none.
std::string MountOptionsOf(const std::string& mountinfo, const std::string& mountpoint);
// Text after " - " of that line: "fstype source superoptions".
std::string MountSuperOf(const std::string& mountinfo, const std::string& mountpoint);
// Whether `opts` (comma separated) contains `opt` exactly.
bool HasOption(const std::string& opts, const std::string& opt);

// The section of `out` between "<name>:" markers printed by Section() in shell scripts:
// a script prints "@@name" lines; Section(out, "name") returns the text up to the next
// "@@" line (without a trailing newline).
std::string Section(const std::string& out, const std::string& name);

}  // namespace husk::testing

#endif  // HUSK_TESTS_SUPPORT_CONFIG_UTIL_H_
