// Name tables shared by spec/ (validation, features output) and the runtime (mount
// flags, capability and rlimit numbers), so that what `husk features` advertises and
// what the runtime accepts cannot drift apart. Pure data; any process may call.
#ifndef HUSK_SPEC_NAMES_H_
#define HUSK_SPEC_NAMES_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace husk::spec {

// Every mount option string husk's mount code recognises (as opposed to passing it on
// to the filesystem as data), in the order `husk features` prints them.
const std::vector<std::string>& KnownMountOptions();

// Capability names; index i is capability number i (CAP_CHOWN = 0 ...
// CAP_CHECKPOINT_RESTORE = 40).
const std::vector<std::string>& KnownCapabilities();

// RLIMIT_* names; index i is the Linux resource number (RLIMIT_CPU = 0 ... RLIMIT_RTTIME
// = 15).
const std::vector<std::string>& KnownRlimits();

// Index of `name` in `table`, or -1.
int IndexOf(const std::vector<std::string>& table, absl::string_view name);

}  // namespace husk::spec

#endif  // HUSK_SPEC_NAMES_H_
