// Helpers shared by the case files: a host directory bind-mounted into the container at
// /out for side-effect markers, waiting for marker files, capability masks as the kernel
// prints them in /proc/self/status, small probe-report accessors, and host-side cgroup
// and refusal checks.
#ifndef HUSK_CONFORMANCE_CASES_UTIL_H_
#define HUSK_CONFORMANCE_CASES_UTIL_H_

#include <string>
#include <vector>

#include "conformance/harness/suite.h"

namespace husk::conformance {

// Creates <bundle>/out (0777), /out in the private rootfs, and a bind mount of the former
// onto the latter. Returns the host path.
std::string AddOutDir(Ctx& ctx);
// Waits until the file exists (and is non-empty); false on timeout.
bool WaitForFile(const std::string& path, int timeout_ms = 3000);
// Sleeps for the given milliseconds.
void SleepMs(int ms);
// The /proc/self/status hex mask of capability names ("CAP_KILL" ...).
unsigned long long CapMask(const std::vector<std::string>& names);
unsigned long long ParseHex(const std::string& s);
// The inode of /proc/self/ns/<type> for this (the harness) process.
unsigned long long HostNs(const std::string& type);
// True if some line of the probe's mountinfo has mount point `mp` and contains `needle`.
bool MountinfoHas(const rapidjson::Value& report, const std::string& mp,
                  const std::string& needle = "");
// The mountinfo line for mount point `mp` (last one), or "".
std::string MountinfoLine(const rapidjson::Value& report, const std::string& mp);
std::string Str(long long v);

// Whitespace-separated fields of a line.
std::vector<std::string> Fields(const std::string& line);
// The mount point of the cgroup hierarchy (fstype "cgroup" with `ctrl` among its super
// options, or "cgroup2" when ctrl is "") in the harness's mount namespace, or "".
std::string CgroupMount(const std::string& ctrl);
// True if the cgroup2 hierarchy lists `ctrl` in its root cgroup.controllers.
bool V2Has(const std::string& ctrl);
// Without trailing newlines and spaces.
std::string TrimNl(std::string s);
// A container cgroup file under a hierarchy mount point; "" if missing.
std::string CgFile(Ctx& ctx, const std::string& mount, const std::string& file);
bool Exists(const std::string& path);
// crun runs in its own mount namespace without /sys/fs/cgroup/unified (see main.cc).
bool HidesUnified(Ctx& ctx);
std::string Lower(std::string s);
// Creates the container (process sleeps) for a resource check; "not supported yet" ends
// the case as unsupported. The caller inspects the result.
CmdResult CreateSleeping(Ctx& ctx);
// For fields the host cannot honour: the runtime must refuse them with an error that
// names the feature (one of `words`, case-insensitive), not ignore them.
void ExpectClearRefusal(Ctx& ctx, const CmdResult& r, const std::string& why,
                        const std::vector<std::string>& words);

}  // namespace husk::conformance

#endif  // HUSK_CONFORMANCE_CASES_UTIL_H_
