// `husk features` output (features.md, cli-contract.md §2.12): what this binary was built
// to support, derived from spec/names.h (mount options, capabilities) and spec/support.h
// (refused fields); the only host facts (seccomp flags the kernel has) are passed in.
// Pure; parent only.
#ifndef HUSK_SPEC_FEATURES_H_
#define HUSK_SPEC_FEATURES_H_

#include <string>
#include <vector>

#include "spec/names.h"  // KnownMountOptions(), KnownCapabilities(): the shared tables.

namespace husk::spec {

inline constexpr char kOciVersionMin[] = "1.0.0";
inline constexpr char kOciVersionMax[] = "1.3.0";

// linux.seccomp of the document (features-linux.md "Seccomp"): what this build's
// libseccomp and this kernel offer, filled in by runtime/kernel/seccomp.
struct SeccompFeatures {
  std::vector<std::string> actions, operators, archs, known_flags, supported_flags;
};

// The features document, pretty-printed (two-space indent), no trailing newline.
std::string FeaturesJson(const SeccompFeatures& seccomp);

}  // namespace husk::spec

#endif  // HUSK_SPEC_FEATURES_H_
