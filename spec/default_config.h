// The config.json `husk spec` writes: the same content as `runc spec` (and `runc spec
// --rootless`), with ociVersion 1.3.0. Pure: the caller supplies the host ids that a
// rootless config maps to root. Parent only.
#ifndef HUSK_SPEC_DEFAULT_CONFIG_H_
#define HUSK_SPEC_DEFAULT_CONFIG_H_

#include <cstdint>
#include <string>

namespace husk::spec {

// Tab-indented JSON, no trailing newline. With `rootless`, the config gets a user
// namespace mapping container root to host_uid/host_gid (pass geteuid()/getegid()),
// no network namespace, no cgroup device rules, no gid=5 on /dev/pts and a bind-mounted
// /sys, as runc does.
std::string DefaultConfigJson(bool rootless, uint32_t host_uid = 0, uint32_t host_gid = 0);

}  // namespace husk::spec

#endif  // HUSK_SPEC_DEFAULT_CONFIG_H_
