// The systemd cgroup driver's side of a container: parsing "slice:prefix:name" and
// finding out whether a systemd manager could create the scope unit. Creating units over
// D-Bus is not implemented: with systemd present that is a clear "not supported yet".
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "runtime/base/status.h"
#include "runtime/base/unique_fd.h"
#include "runtime/kernel/cgroups/cgroups.h"

namespace husk::kernel::cgroups {
namespace {

bool ValidUnitPart(absl::string_view s) {
  for (char c : s) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ||
          c == '.' || c == ':' || c == '@' || c == '\\')) {
      return false;
    }
  }
  return true;
}

bool SocketAnswers(const char* path) {
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return false;
  sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  strncpy(addr.sun_path, path, sizeof(addr.sun_path) - 1);
  return connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
}

}  // namespace

absl::StatusOr<SystemdUnit> ParseSystemdPath(const std::optional<std::string>& cgroups_path,
                                             std::string_view id, bool rootless) {
  std::string slice = rootless ? "user.slice" : "system.slice";
  if (!cgroups_path || cgroups_path->empty()) {
    return SystemdUnit{slice, absl::StrCat("husk-", absl::string_view(id.data(), id.size()), ".scope")};
  }
  std::vector<std::string> parts = absl::StrSplit(*cgroups_path, ':');
  auto invalid = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("linux/cgroupsPath: ", Quote(*cgroups_path),
                                                   ": ", why));
  };
  if (parts.size() != 3) {
    return invalid("with --systemd-cgroup it must be \"slice:prefix:name\"");
  }
  for (const std::string& p : parts) {
    if (!ValidUnitPart(p) || p.find("..") != std::string::npos) {
      return invalid(absl::StrCat("invalid systemd unit name part ", Quote(p)));
    }
  }
  if (!parts[0].empty()) slice = parts[0];
  if (!absl::EndsWith(slice, ".slice")) return invalid("the slice must end in \".slice\"");
  if (parts[2].empty()) return invalid("the name part is empty");
  // A name that is itself a slice is used as is (runc); otherwise a scope unit.
  std::string unit = absl::EndsWith(parts[2], ".slice")
                         ? parts[2]
                         : absl::StrCat(parts[1].empty() ? "" : parts[1] + "-", parts[2], ".scope");
  return SystemdUnit{slice, unit};
}

absl::Status CheckSystemdDriver(const SystemdUnit& unit) {
  struct stat st;
  // sd_booted(3): systemd is the running manager exactly when this directory exists.
  bool booted = stat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode);
  if (!booted || (!SocketAnswers("/run/systemd/private") &&
                  !SocketAnswers("/run/dbus/system_bus_socket"))) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--systemd-cgroup: no systemd answers on this host (",
        booted ? "neither /run/systemd/private nor the D-Bus system bus accepts a connection"
               : "/run/systemd/system does not exist: systemd is not the init",
        "), so unit ", Quote(unit.unit), " in ", Quote(unit.slice),
        " cannot be created; run without --systemd-cgroup (the cgroupfs driver)"));
  }
  return absl::UnimplementedError(
      absl::StrCat("--systemd-cgroup: creating unit ", Quote(unit.unit), " in ",
                   Quote(unit.slice), " through systemd is not supported yet; run without "
                   "--systemd-cgroup (the cgroupfs driver)"));
}

}  // namespace husk::kernel::cgroups
