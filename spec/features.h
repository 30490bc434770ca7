// `husk features` output (features.md, cli-contract.md §2.12): what this binary was built
// to support, derived from spec/names.h (mount options, capabilities) and spec/support.h
// (refused fields), never from the host. Pure; parent only.
#ifndef HUSK_SPEC_FEATURES_H_
#define HUSK_SPEC_FEATURES_H_

#include <string>

#include "spec/names.h"  // KnownMountOptions(), KnownCapabilities(): the shared tables.

namespace husk::spec {

inline constexpr char kOciVersionMin[] = "1.0.0";
inline constexpr char kOciVersionMax[] = "1.3.0";

// The features document, pretty-printed (two-space indent), no trailing newline.
std::string FeaturesJson();

}  // namespace husk::spec

#endif  // HUSK_SPEC_FEATURES_H_
