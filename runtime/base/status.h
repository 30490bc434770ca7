// Status helpers shared by every module: errno-carrying errors, context prefixes and the
// RETURN_IF_ERROR / ASSIGN_OR_RETURN macros Debian's Abseil 20220623 lacks.
// Pure functions; safe in the parent and (they allocate) in the child before execve,
// since the child is cloned from a single-threaded parent.
#ifndef HUSK_RUNTIME_BASE_STATUS_H_
#define HUSK_RUNTIME_BASE_STATUS_H_

#include <cerrno>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace husk {

// `"s"` with the quotes, for messages like `mount "proc" on "/proc"`.
std::string Quote(absl::string_view s);

// strerror(err) spelled the way Go (runc) does: first letter lower case.
std::string ErrnoText(int err);

// An error for a failed system call: "<what>: <ErrnoText(err)>". The errno is kept as a
// payload so callers can still branch on it (StatusErrno). `what` is already formatted,
// e.g. absl::StrCat("mount ", Quote(src), " on ", Quote(dst)).
absl::Status ErrnoError(int err, absl::string_view what);
// Same, reading errno itself.
inline absl::Status ErrnoError(absl::string_view what) { return ErrnoError(errno, what); }

// A status whose message is already complete (e.g. received from the child) that still
// carries `err` like ErrnoError does.
absl::Status StatusWithErrno(int err, absl::string_view message);

// The errno carried by a status made with ErrnoError (also through Annotate).
std::optional<int> StatusErrno(const absl::Status& status);

// "<context>: <message>", keeping the code and payloads. OK stays OK.
absl::Status Annotate(const absl::Status& status, absl::string_view context);

}  // namespace husk

#define HUSK_CONCAT_INNER_(a, b) a##b
#define HUSK_CONCAT_(a, b) HUSK_CONCAT_INNER_(a, b)

#define RETURN_IF_ERROR(expr)                              \
  do {                                                     \
    ::absl::Status husk_status_ = (expr);                  \
    if (!husk_status_.ok()) return husk_status_;           \
  } while (0)

#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(HUSK_CONCAT_(husk_statusor_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                           \
  if (!tmp.ok()) return tmp.status();          \
  lhs = std::move(tmp).value()

#endif  // HUSK_RUNTIME_BASE_STATUS_H_
