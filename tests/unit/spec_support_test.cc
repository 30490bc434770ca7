// spec/support: the fields husk refuses, each named by pointer, and nothing else.
#include <string>

#include "gtest/gtest.h"
#include "spec/parse.h"
#include "spec/support.h"
#include "spec/validate.h"

namespace husk::spec {
namespace {

std::string Doc(const std::string& extra) {
  std::string doc = R"({"ociVersion": "1.3.0", "root": {"path": "rootfs"})";
  if (!extra.empty()) doc += ", " + extra;
  return doc + "}";
}
std::string WithProcess(const std::string& extra) {
  return Doc(R"("process": {"cwd": "/", "args": ["sh"], "user": {"uid": 0, "gid": 0})" +
             (extra.empty() ? "" : ", " + extra) + "}");
}
std::string WithResources(const std::string& members) {
  return Doc(R"("linux": {"resources": {)" + members + "}}");
}

// "OK" or CheckSupported's message; the input must parse and validate first.
std::string Supported(const std::string& json) {
  absl::StatusOr<Config> config = ParseConfig(json);
  if (!config.ok()) return "parse: " + std::string(config.status().message());
  absl::Status valid = ValidateConfig(*config);
  if (!valid.ok()) return "validate: " + std::string(valid.message());
  absl::Status status = CheckSupported(*config);
  return status.ok() ? "OK" : std::string(status.message());
}

struct Case {
  std::string json;
  std::string error;
};

TEST(SpecSupportTest, RefusedFieldsNameThePointer) {
  const Case cases[] = {
      {WithProcess(R"("apparmorProfile": "p")"), "process/apparmorProfile: not supported yet"},
      {WithProcess(R"("selinuxLabel": "l")"), "process/selinuxLabel: not supported yet"},
      {WithProcess(R"("scheduler": {"policy": "SCHED_OTHER"})"),
       "process/scheduler: not supported yet"},
      {WithProcess(R"("ioPriority": {"class": "IOPRIO_CLASS_BE"})"),
       "process/ioPriority: not supported yet"},
      {WithProcess(R"("execCPUAffinity": {"initial": "0"})"),
       "process/execCPUAffinity: not supported yet"},
      {WithProcess(R"("user": {"uid": 0, "gid": 0, "username": "Administrator"})"),
       "parse: process/user: duplicate member name"},
      {Doc(R"("process": {"cwd": "/", "args": ["sh"], "user": {"uid": 0, "gid": 0,
           "username": "ContainerUser"}})"),
       "process/user/username: not supported on Linux"},
      {WithProcess(R"("commandLine": "cmd.exe /c dir")"),
       "process/commandLine: not supported on Linux"},
      {Doc(R"("linux": {"mountLabel": "system_u:object_r:x:s0"})"),
       "linux/mountLabel: not supported yet"},
      {Doc(R"("linux": {"personality": {"domain": "LINUX"}})"),
       "linux/personality: not supported yet"},
      {Doc(R"("linux": {"intelRdt": {"closID": "x"}})"), "linux/intelRdt: not supported yet"},
      {Doc(R"("linux": {"memoryPolicy": {"mode": "MPOL_DEFAULT"}})"),
       "linux/memoryPolicy: not supported yet"},
      {Doc(R"("linux": {"netDevices": {"eth0": {}}})"), "linux/netDevices: not supported yet"},
      {Doc(R"("windows": {"layerFolders": []})"), "windows: not supported on Linux"},
      {Doc(R"("solaris": {})"), "solaris: not supported on Linux"},
      {Doc(R"("vm": {"hypervisor": {}})"), "vm: not supported on Linux"},
      {Doc(R"("zos": {})"), "zos: not supported on Linux"},
  };
  for (const Case& c : cases) EXPECT_EQ(Supported(c.json), c.error) << c.json;
}

TEST(SpecSupportTest, EmptyOrHarmlessFieldsAreAccepted) {
  const std::string ok[] = {
      Doc(R"("hooks": {"prestart": [], "poststop": []})"),
      // Every hook phase is implemented (hooks/).
      Doc(R"("hooks": {"prestart": [{"path": "/a"}], "createRuntime": [{"path": "/a"}],
          "createContainer": [{"path": "/a"}], "startContainer": [{"path": "/a"}],
          "poststart": [{"path": "/a"}], "poststop": [{"path": "/a", "timeout": 1}]})"),
      WithProcess(R"("apparmorProfile": "", "selinuxLabel": "")"),
      Doc(R"("process": {"cwd": "/", "args": ["sh"], "terminal": true,
          "consoleSize": {"height": 1, "width": 1},
          "oomScoreAdj": 5, "noNewPrivileges": true, "env": ["A=B"], "rlimits": [
          {"type": "RLIMIT_NOFILE", "soft": 1, "hard": 2}],
          "capabilities": {"bounding": ["CAP_KILL"], "ambient": []},
          "user": {"uid": 1, "gid": 1, "umask": 18, "additionalGids": [3]}})"),
      Doc(R"("linux": {"netDevices": {}, "mountLabel": ""})"),
      WithResources(R"("blockIO": {}, "hugepageLimits": [], "rdma": {}, "unified": {},
          "network": {"priorities": []})"),
      WithResources(R"("memory": {"limit": 1, "reservation": 1, "swap": 2, "swappiness": 1,
          "disableOOMKiller": true, "useHierarchy": true},
          "cpu": {"shares": 1, "quota": 1, "period": 1, "cpus": "0", "mems": "0"},
          "pids": {"limit": 5}, "devices": [{"allow": false, "access": "rwm"}])"),
      Doc(R"("mounts": [{"destination": "/m", "type": "bind", "source": "/s",
          "options": ["rbind", "ridmap"], "uidMappings": [{"containerID": 0, "hostID": 1,
          "size": 1}], "gidMappings": [{"containerID": 0, "hostID": 1, "size": 1}]}],
          "annotations": {"a": "b"}, "hostname": "h", "domainname": "d",
          "linux": {"namespaces": [{"type": "uts"}, {"type": "user"}, {"type": "time"},
            {"type": "cgroup"}], "uidMappings": [{"containerID": 0, "hostID": 1, "size": 1}],
            "gidMappings": [{"containerID": 0, "hostID": 1, "size": 1}],
            "timeOffsets": {"monotonic": {"secs": 1}}, "sysctl": {"a.b": "1"},
            "cgroupsPath": "/x", "rootfsPropagation": "rprivate",
            "devices": [{"type": "c", "path": "/dev/null", "major": 1, "minor": 3}],
            "maskedPaths": ["/proc/kcore"], "readonlyPaths": ["/proc/sys"]})"),
  };
  for (const std::string& json : ok) EXPECT_EQ(Supported(json), "OK") << json;
}

TEST(SpecSupportTest, StandaloneProcessAndResources) {
  absl::StatusOr<Process> p = ParseProcess(
      R"({"cwd": "/", "args": ["a"], "user": {"uid": 0, "gid": 0}, "selinuxLabel": "x"})");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(CheckSupportedProcess(*p).message(), "process/selinuxLabel: not supported yet");
  // linux.resources is planned per host layout by runtime/kernel/cgroups, not here.
  absl::StatusOr<Resources> r = ParseResources(
      R"({"cpu": {"shares": 2, "idle": 1, "burst": 5}, "blockIO": {"weight": 10},
          "unified": {"memory.high": "1"}, "memory": {"kernel": 5}})");
  ASSERT_TRUE(r.ok());
  Config c;
  c.linux_config.emplace();
  c.linux_config->resources = *r;
  EXPECT_TRUE(CheckSupported(c).ok());
}

TEST(SpecSupportTest, IsImplementedAgreesWithTheTable) {
  for (const char* refused : {"process/apparmorProfile", "process/selinuxLabel", "linux/intelRdt",
                              "linux/netDevices", "windows"}) {
    EXPECT_FALSE(IsImplemented(refused)) << refused;
  }
  for (const char* implemented :
       {"hooks/prestart", "hooks/poststop", "process/capabilities", "linux/namespaces", "mounts",
        "linux/seccomp", "linux/resources/pids", "linux/resources/memory/limit", "process",
        "linux/resources", "linux/resources/rdma", "linux/resources/unified",
        "linux/resources/memory/kernel"}) {
    EXPECT_TRUE(IsImplemented(implemented)) << implemented;
  }
}

}  // namespace
}  // namespace husk::spec
