#include "runtime/base/log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "runtime/base/status.h"

namespace husk::log {
namespace {

// Keep the log fd away from the low numbers: fds 3..3+N-1 may be LISTEN_FDS or
// --preserve-fds that the container must receive, and runc was seen passing its own log
// fd on as "preserved" when fd 3 happened to be free (cli-contract.md §6).
constexpr int kLogFdFloor = 100;

struct Logger {
  int fd = STDERR_FILENO;
  bool owned = false;  // fd is a file we opened (not stderr)
  bool is_stderr = true;
  Format format = Format::kText;
  bool debug = false;
};

Logger& Global() {
  static Logger* logger = new Logger();
  return *logger;
}

absl::string_view LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarning:
      return "warning";
    case Level::kError:
      return "error";
  }
  return "error";
}

// Go's %q as logrus uses it for text values: quotes, backslashes and control characters
// escaped; other bytes (UTF-8 included) verbatim.
void AppendQuoted(std::string& out, absl::string_view s) {
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          absl::StrAppendFormat(&out, "\\x%02x", c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

// Writes all of `data` with as few write(2) calls as the kernel allows (one for a regular
// file opened O_APPEND or a pipe under PIPE_BUF), so concurrent writers never interleave
// within a line.
void WriteAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // nowhere left to report a failing log
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
}

bool SameFileAsStderr(int fd) {
  struct stat a, b;
  if (fstat(fd, &a) != 0 || fstat(STDERR_FILENO, &b) != 0) return false;
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

}  // namespace

std::string Rfc3339Now() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  return absl::StrFormat("%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                         static_cast<long>(ts.tv_nsec));
}

std::string FormatLine(Format format, Level level, absl::string_view msg, absl::string_view time) {
  if (format == Format::kJson) {
    // RapidJSON escapes quotes, backslashes and every control character (\u00XX).
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    absl::string_view level_name = LevelName(level);
    writer.StartObject();
    writer.Key("level");
    writer.String(level_name.data(), static_cast<rapidjson::SizeType>(level_name.size()));
    writer.Key("msg");
    writer.String(msg.data(), static_cast<rapidjson::SizeType>(msg.size()));
    writer.Key("time");
    writer.String(time.data(), static_cast<rapidjson::SizeType>(time.size()));
    writer.EndObject();
    return absl::StrCat(absl::string_view(buffer.GetString(), buffer.GetSize()), "\n");
  }
  std::string line = "time=";
  AppendQuoted(line, time);
  absl::StrAppend(&line, " level=", LevelName(level), " msg=");
  AppendQuoted(line, msg);
  line.push_back('\n');
  return line;
}

absl::Status Init(absl::string_view path, Format format, bool debug) {
  Logger& logger = Global();
  if (logger.owned) ::close(logger.fd);
  logger = Logger{};
  logger.format = format;
  logger.debug = debug;
  if (path.empty()) return absl::OkStatus();

  std::string path_str(path);
  int fd = ::open(path_str.c_str(), O_CREAT | O_WRONLY | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError(absl::StrCat("open log file ", Quote(path)));
  if (fd < kLogFdFloor) {
    int high = ::fcntl(fd, F_DUPFD_CLOEXEC, kLogFdFloor);
    if (high >= 0) {
      ::close(fd);
      fd = high;
    }  // else (tiny RLIMIT_NOFILE): keep the low fd rather than fail
  }
  logger.fd = fd;
  logger.owned = true;
  logger.is_stderr = SameFileAsStderr(fd);  // e.g. --log /dev/stderr
  return absl::OkStatus();
}

void Write(Level level, absl::string_view msg) {
  const Logger& logger = Global();
  if (level == Level::kDebug && !logger.debug) return;
  WriteAll(logger.fd, FormatLine(logger.format, level, msg, Rfc3339Now()));
}

void Error(absl::string_view msg) {
  Write(Level::kError, msg);
  if (!Global().is_stderr) WriteAll(STDERR_FILENO, absl::StrCat(msg, "\n"));
}

int Fd() {
  const Logger& logger = Global();
  return logger.owned ? logger.fd : -1;
}

}  // namespace husk::log
