// The runtime's own log: the `--log` file (or stderr) in logrus-compatible text or JSON
// lines, which containerd and podman parse (cli-contract.md §3). Owns the log fd and the
// line format; it does not decide what is an error (cli/ does). Parent process only: it
// allocates and keeps global state, so the cloned init must not call it (it closes Fd()).
#ifndef HUSK_RUNTIME_BASE_LOG_H_
#define HUSK_RUNTIME_BASE_LOG_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace husk::log {

enum class Format { kText, kJson };
enum class Level { kDebug, kInfo, kWarning, kError };

// Opens `path` for appending (O_CREAT|O_WRONLY|O_APPEND|O_CLOEXEC, 0644, never truncated)
// and makes it the log. An empty path logs to stderr. May be called again (tests); a log
// file opened by an earlier call is closed.
absl::Status Init(absl::string_view path, Format format, bool debug);

// Appends one line; debug lines only when Init was given debug=true. Never writes stdout.
void Write(Level level, absl::string_view msg);
inline void Debug(absl::string_view msg) { Write(Level::kDebug, msg); }
inline void Info(absl::string_view msg) { Write(Level::kInfo, msg); }
inline void Warning(absl::string_view msg) { Write(Level::kWarning, msg); }

// A failure the user must see: one error line in the log and, unless the log already is
// stderr, `msg` + "\n" to stderr in a single write(2) (conmon reads stderr once).
void Error(absl::string_view msg);

// The log file's fd, or -1 when logging to stderr (the init closes it before execve).
int Fd();

// One formatted line including the trailing newline; exposed for tests.
std::string FormatLine(Format format, Level level, absl::string_view msg, absl::string_view time);
// The current UTC time in RFC 3339 with nanoseconds: 2026-11-27T18:22:37.123456789Z.
std::string Rfc3339Now();

}  // namespace husk::log

#endif  // HUSK_RUNTIME_BASE_LOG_H_
