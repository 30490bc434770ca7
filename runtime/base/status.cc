#include "runtime/base/status.h"

#include <cstring>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"

namespace husk {
namespace {
constexpr char kErrnoPayload[] = "husk.errno";

absl::StatusCode CodeForErrno(int err) {
  switch (err) {
    case ENOENT: return absl::StatusCode::kNotFound;
    case EPERM:
    case EACCES: return absl::StatusCode::kPermissionDenied;
    case EEXIST: return absl::StatusCode::kAlreadyExists;
    case EINVAL: return absl::StatusCode::kInvalidArgument;
    case ENOSYS:
    case EOPNOTSUPP: return absl::StatusCode::kUnimplemented;
    case ETIMEDOUT: return absl::StatusCode::kDeadlineExceeded;
    case EBUSY:
    case EAGAIN: return absl::StatusCode::kUnavailable;
    default: return absl::StatusCode::kInternal;
  }
}
}  // namespace

std::string Quote(absl::string_view s) { return absl::StrCat("\"", s, "\""); }

absl::Status StatusWithErrno(int err, absl::string_view message) {
  absl::Status status(CodeForErrno(err), message);
  status.SetPayload(kErrnoPayload, absl::Cord(absl::StrCat(err)));
  return status;
}

std::string ErrnoText(int err) {
  // Go's spelling ("no such file or directory"), which Docker and podman match on to
  // map errors to exit codes 126/127 (cli-contract.md §3, §5.5).
  std::string text = strerror(err);
  if (!text.empty() && text[0] >= 'A' && text[0] <= 'Z') text[0] = static_cast<char>(text[0] - 'A' + 'a');
  return text;
}

absl::Status ErrnoError(int err, absl::string_view what) {
  return StatusWithErrno(err, absl::StrCat(what, ": ", ErrnoText(err)));
}

std::optional<int> StatusErrno(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kErrnoPayload);
  int err = 0;
  if (!payload || !absl::SimpleAtoi(std::string(*payload), &err)) return std::nullopt;
  return err;
}

absl::Status Annotate(const absl::Status& status, absl::string_view context) {
  if (status.ok()) return status;
  absl::Status out(status.code(), absl::StrCat(context, ": ", status.message()));
  status.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
    out.SetPayload(url, payload);
  });
  return out;
}

}  // namespace husk
