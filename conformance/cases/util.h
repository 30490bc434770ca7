// Helpers shared by the case files: a host directory bind-mounted into the container at
// /out for side-effect markers, waiting for marker files, capability masks as the kernel
// prints them in /proc/self/status, and small probe-report accessors.
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

}  // namespace husk::conformance

#endif  // HUSK_CONFORMANCE_CASES_UTIL_H_
