// config.md apparmorProfile / selinuxLabel and config-linux.md mountLabel: applied when
// the host has the LSM, or refused with an error naming it.
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

bool SelinuxEnabled() { return Exists("/sys/fs/selinux/enforce"); }
bool ApparmorEnabled() {
  return TrimNl(ReadFileOr("/sys/module/apparmor/parameters/enabled")) == "Y";
}

Register selinux_label{{
    "process_selinux_label", "config.md#linux-process",
    "on a host without SELinux the label must be refused, not dropped",
    [](Ctx& ctx) {
      ctx.Set("/process/selinuxLabel", R"("system_u:system_r:container_t:s0:c1,c2")");
      CmdResult r = CreateSleeping(ctx);
      if (SelinuxEnabled()) Skip("host has SELinux: applying a label is not checked here");
      ExpectClearRefusal(ctx, r, "SELinux is not enabled on this host",
                         {"selinux", "label", "/attr/", "container_t"});
    }}};

Register mount_label{{
    "linux_mount_label", "config-linux.md#mount-label",
    "without SELinux runc 1.1.5 passes context= to mount(2), which fails; crun 1.8.1 ignores mountLabel",
    [](Ctx& ctx) {
      ctx.Set("/linux/mountLabel", R"("system_u:object_r:container_file_t:s0:c1,c2")");
      CmdResult r = CreateSleeping(ctx);
      if (SelinuxEnabled()) Skip("host has SELinux: applying a label is not checked here");
      ExpectClearRefusal(ctx, r, "SELinux is not enabled on this host",
                         {"selinux", "label", "context=", "container_file_t"});
    }}};

Register apparmor{{
    "process_apparmor_profile", "config.md#linux-process",
    "",
    [](Ctx& ctx) {
      ctx.Set("/process/apparmorProfile", R"("unconfined")");
      if (ApparmorEnabled()) {
        auto r = ctx.RunProbe();
        Check(GetString(r, "/attr_current").find("unconfined") != std::string::npos,
              "/proc/self/attr/current: " + GetString(r, "/attr_current"));
        return;
      }
      CmdResult r = CreateSleeping(ctx);
      ExpectClearRefusal(ctx, r, "AppArmor is not enabled on this host", {"apparmor", "/attr/"});
    }}};

}  // namespace
}  // namespace husk::conformance
