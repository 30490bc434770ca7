// Engine seccomp profiles (tests/fixtures/seccomp) as the engines hand them to a runtime:
// Docker and Podman keep their defaults in their own format (archMap, per-rule
// includes/excludes) and convert them, per container, to config.json's linux.seccomp.
// This is that conversion for amd64, following moby's profiles/seccomp setupSeccomp (and
// containers/common's copy of it). Plain C++ and RapidJSON: linked into the test support
// library and into the conformance harness. Test-process code only.
#ifndef HUSK_TESTS_SUPPORT_SECCOMP_PROFILES_H_
#define HUSK_TESTS_SUPPORT_SECCOMP_PROFILES_H_

#include <string>
#include <vector>

namespace husk::testing {

// Docker's default capability set (what `docker run` gives a container).
std::vector<std::string> DockerDefaultCaps();

// linux.seccomp JSON for the profile at `path` (an engine-format file) and a container
// whose bounding set is `bounding`; the running kernel decides minKernel rules. Throws
// std::runtime_error on unreadable or malformed input.
std::string EngineProfileToOci(const std::string& path, const std::vector<std::string>& bounding);

// The fixtures' directory (<source>/tests/fixtures/seccomp), given the source tree.
std::string SeccompFixture(const std::string& source_dir, const std::string& name);

}  // namespace husk::testing

#endif  // HUSK_TESTS_SUPPORT_SECCOMP_PROFILES_H_
