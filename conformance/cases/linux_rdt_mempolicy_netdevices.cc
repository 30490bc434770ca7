// config-linux.md "intelRdt", "memoryPolicy" and "netDevices": kernel interfaces a
// runtime must apply or refuse with a clear error (never ignore).
#include <fcntl.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>


#include "conformance/cases/util.h"

namespace husk::conformance {
namespace {

Register intel_rdt{{
    "linux_intel_rdt_without_resctrl_fails", "config-linux.md#intelrdt",
    "runc 1.1.5 and crun 1.8.1 ignore intelRdt with only closID when resctrl is absent",
    [](Ctx& ctx) {
      if (ReadFileOr("/proc/self/mountinfo").find(" - resctrl ") != std::string::npos) {
        Skip("resctrl is mounted on this host; the case only checks the error path");
      }
      ctx.Set("/linux/intelRdt", R"({"closID": "conformance"})");
      CmdResult r = CreateSleeping(ctx);
      ExpectClearRefusal(ctx, r, "no resctrl filesystem is mounted", {"rdt", "resctrl"});
    }}};

Register memory_policy{{
    "linux_memory_policy", "config-linux.md#memory-policy",
    "runc 1.1.5 and crun 1.8.1 predate memoryPolicy and ignore it",
    [](Ctx& ctx) {
      ctx.Set("/linux/memoryPolicy", R"({"mode": "MPOL_BIND", "nodes": "0"})");
      auto r = ctx.RunProbe();
      long long mode = GetInt(r, "/mempolicy", -1);
      Check(mode >= 0 && (mode & 0xff) == 2,
            "get_mempolicy mode: " + Str(mode) + ", want MPOL_BIND (2)");
    }}};

// A veth pair on the host; one end is handed to the container. Deleting the end that
// stays on the host removes both.
class Veth {
 public:
  Veth() {
    std::string tag = std::to_string(::getpid() % 100000);
    a_ = "hc" + tag + "a";
    b_ = "hc" + tag + "b";
    CmdResult r = RunCmd({"ip", "link", "add", a_, "type", "veth", "peer", "name", b_});
    ok_ = r.ok();
    error_ = r.Describe();
  }
  ~Veth() {
    for (const auto& n : {b_, a_}) {
      if (Exists("/sys/class/net/" + n)) RunCmd({"ip", "link", "del", n});
    }
  }
  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  const std::string& moved() const { return a_; }

 private:
  std::string a_, b_, error_;
  bool ok_ = false;
};

Register net_devices{{
    "linux_net_devices", "config-linux.md#network-devices",
    "runc 1.1.5 and crun 1.8.1 predate netDevices and ignore it",
    [](Ctx& ctx) {
      Veth veth;
      if (!veth.ok()) Skip("cannot create a veth pair: " + veth.error());
      ctx.Set("/linux/netDevices", "{\"" + veth.moved() + "\": {\"name\": \"confnet0\"}}");
      auto r = ctx.RunProbe({"--path=/sys/class/net/confnet0",
                             "--file=/sys/class/net/confnet0/flags"});
      Check(GetInt(r, "/paths/~1sys~1class~1net~1confnet0/uid", -1) >= 0,
            "no confnet0 in the container's network namespace");
      std::string flags = GetString(r, "/files/~1sys~1class~1net~1confnet0~1flags");
      Check(!flags.empty() && (std::stoul(flags, nullptr, 16) & 1) == 1,
            "confnet0 is not up: flags " + flags);
    }}};

}  // namespace
}  // namespace husk::conformance
