// spec/validate: the spec's MUSTs on a parsed config, each error naming its pointer.
#include <fstream>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "spec/default_config.h"
#include "spec/parse.h"
#include "spec/validate.h"

namespace husk::spec {
namespace {

std::string ReadSpecFile(const std::string& rel) {
  std::ifstream in(std::string(HUSK_SPEC_TESTDATA) + "/" + rel);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A valid document: process, a uts namespace, plus `extra` top-level members.
std::string Doc(const std::string& extra, const std::string& version = "1.3.0") {
  std::string doc = R"({"ociVersion": ")" + version + R"(", "root": {"path": "rootfs"})";
  if (!extra.empty()) doc += ", " + extra;
  return doc + "}";
}
std::string WithLinux(const std::string& members) { return Doc(R"("linux": {)" + members + "}"); }
std::string WithProcess(const std::string& extra) {
  std::string p = R"({"cwd": "/", "args": ["sh"], "user": {"uid": 0, "gid": 0}})";
  if (!extra.empty()) p.insert(p.size() - 1, ", " + extra);
  return Doc(R"("process": )" + p);
}

// "OK", the parse error prefixed with "parse: ", or the validation error.
std::string Check(const std::string& json) {
  absl::StatusOr<Config> config = ParseConfig(json);
  if (!config.ok()) return "parse: " + std::string(config.status().message());
  absl::Status status = ValidateConfig(*config);
  if (status.ok()) return "OK";
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  return std::string(status.message());
}

struct Case {
  std::string json;
  std::string error;
};

void ExpectAll(const std::vector<Case>& cases) {
  for (const Case& c : cases) EXPECT_EQ(Check(c.json), c.error) << c.json;
}

TEST(SpecValidateTest, GoodSchemaExamplesValidate) {
  for (const char* name :
       {"minimal.json", "minimal-for-start.json", "linux-netdevice.json", "linux-rdma.json"}) {
    EXPECT_EQ(Check(ReadSpecFile(std::string("config/good/") + name)), "OK") << name;
  }
  // spec-example.json predates 1.0 ("0.5.0-dev"), which husk refuses by design; with the
  // version updated everything else in it must pass.
  std::string example = ReadSpecFile("config/good/spec-example.json");
  EXPECT_EQ(Check(example), "ociVersion: unsupported version \"0.5.0-dev\" (husk implements 1.x)");
  size_t at = example.find("0.5.0-dev");
  ASSERT_NE(at, std::string::npos);
  example.replace(at, 9, "1.0.0");
  EXPECT_EQ(Check(example), "OK");
}

TEST(SpecValidateTest, BadSchemaExamplesFail) {
  EXPECT_EQ(Check(ReadSpecFile("config/bad/linux-hugepage.json")),
            "linux/resources/hugepageLimits/0/pageSize: invalid page size \"64kB\"");
  EXPECT_EQ(Check(ReadSpecFile("config/bad/linux-netdevice.json")),
            "parse: linux/netDevices/eth0/name: expected a string");
  EXPECT_EQ(Check(ReadSpecFile("config/bad/linux-rdma.json")),
            "parse: linux/resources/rdma/mlx5_1/hcaHandles: expected an integer");
  EXPECT_THAT(Check(ReadSpecFile("config/bad/invalid-json.json")),
              ::testing::StartsWith("parse: config.json: invalid JSON"));
}

TEST(SpecValidateTest, DefaultConfigsValidate) {
  EXPECT_EQ(Check(DefaultConfigJson(false)), "OK");
  EXPECT_EQ(Check(DefaultConfigJson(true, 1000, 1000)), "OK");
}

TEST(SpecValidateTest, OciVersion) {
  for (const char* good :
       {"1.0.0", "1.3.0", "1.0.2-dev", "1.1.0-rc.1", "1.2.0+build.5", "1.0.0-alpha-1+x"}) {
    EXPECT_EQ(Check(Doc("", good)), "OK") << good;
  }
  ExpectAll({
      {Doc("", "1.0"), "ociVersion: \"1.0\" is not a SemVer 2.0.0 version"},
      {Doc("", ""), "ociVersion: \"\" is not a SemVer 2.0.0 version"},
      {Doc("", "v1.0.0"), "ociVersion: \"v1.0.0\" is not a SemVer 2.0.0 version"},
      {Doc("", "01.0.0"), "ociVersion: \"01.0.0\" is not a SemVer 2.0.0 version"},
      {Doc("", "1.0.0-"), "ociVersion: \"1.0.0-\" is not a SemVer 2.0.0 version"},
      {Doc("", "1.0.0.1"), "ociVersion: \"1.0.0.1\" is not a SemVer 2.0.0 version"},
      {Doc("", "1.0.0-a b"), "ociVersion: \"1.0.0-a b\" is not a SemVer 2.0.0 version"},
      {Doc("", "2.0.0"), "ociVersion: unsupported version \"2.0.0\" (husk implements 1.x)"},
      {Doc("", "0.9.0"), "ociVersion: unsupported version \"0.9.0\" (husk implements 1.x)"},
  });
}

TEST(SpecValidateTest, RootAndMounts) {
  ExpectAll({
      {R"({"ociVersion": "1.0.0"})", "root: missing required field"},
      {R"({"ociVersion": "1.0.0", "root": {"path": ""}})", "root/path: must not be empty"},
      {Doc(R"("mounts": [{"destination": "/a"}, {"destination": ""}])"),
       "mounts/1/destination: must not be empty"},
      {Doc(R"("mounts": [{"destination": "/a", "uidMappings": [{"containerID": 0, "hostID": 1,
           "size": 1}]}])"),
       "mounts/0/gidMappings: required together with uidMappings"},
      {Doc(R"("mounts": [{"destination": "/a", "gidMappings": [{"containerID": 0, "hostID": 1,
           "size": 1}]}])"),
       "mounts/0/uidMappings: required together with gidMappings"},
      // Relative destinations are deprecated but allowed on Linux (config.md).
      {Doc(R"("mounts": [{"destination": "data", "type": "tmpfs"}])"), "OK"},
  });
}

TEST(SpecValidateTest, Process) {
  ExpectAll({
      {Doc(R"("process": {"cwd": "tmp", "args": ["sh"], "user": {"uid": 0, "gid": 0}})"),
       "process/cwd: \"tmp\" is not an absolute path"},
      {Doc(R"("process": {"cwd": "", "args": ["sh"], "user": {"uid": 0, "gid": 0}})"),
       "process/cwd: \"\" is not an absolute path"},
      {Doc(R"("process": {"cwd": "/", "user": {"uid": 0, "gid": 0}})"),
       "process/args: must contain at least one entry"},
      {Doc(R"("process": {"cwd": "/", "args": [], "user": {"uid": 0, "gid": 0}})"),
       "process/args: must contain at least one entry"},
      {WithProcess(R"("env": ["A=1", "B"])"), "process/env/1: \"B\" is not in NAME=value form"},
      {WithProcess(R"("env": ["=x"])"), "process/env/0: \"=x\" is not in NAME=value form"},
      {WithProcess(R"("env": ["A="])"), "OK"},
      {WithProcess(R"("capabilities": {"bounding": ["CAP_KILL", "CAP_CHOWN", "kill"]})"),
       "process/capabilities/bounding/2: invalid capability name \"kill\""},
      {WithProcess(R"("capabilities": {"ambient": ["CAP_"]})"),
       "process/capabilities/ambient/0: invalid capability name \"CAP_\""},
      {WithProcess(R"("capabilities": {"permitted": ["CAP_SYS_ADMIN2"]})"),
       "process/capabilities/permitted/0: invalid capability name \"CAP_SYS_ADMIN2\""},
      // Well-formed but unknown: the runtime warns, validation does not refuse.
      {WithProcess(R"("capabilities": {"effective": ["CAP_FUTURE_THING"]})"), "OK"},
      {WithProcess(R"("rlimits": [{"type": "RLIMIT_FOO", "soft": 1, "hard": 1}])"),
       "process/rlimits/0/type: unknown rlimit \"RLIMIT_FOO\""},
      {WithProcess(R"("rlimits": [{"type": "RLIMIT_NOFILE", "soft": 1, "hard": 1},
                              {"type": "RLIMIT_NOFILE", "soft": 2, "hard": 2}])"),
       "process/rlimits/1/type: duplicate rlimit \"RLIMIT_NOFILE\""},
      {WithProcess(R"("rlimits": [{"type": "RLIMIT_CORE", "soft": 10, "hard": 5}])"),
       "process/rlimits/0: soft limit 10 exceeds hard limit 5"},
      {WithProcess(R"("rlimits": [{"type": "RLIMIT_RTTIME", "soft": 5, "hard": 5}])"), "OK"},
      {WithProcess(R"("scheduler": {"policy": "SCHED_FAST"})"),
       "process/scheduler/policy: unknown scheduler policy \"SCHED_FAST\""},
      {WithProcess(R"("scheduler": {"policy": "SCHED_RR", "flags": ["SCHED_FLAG_X"]})"),
       "process/scheduler/flags/0: unknown scheduler flag \"SCHED_FLAG_X\""},
      {WithProcess(R"("ioPriority": {"class": "IOPRIO_CLASS_NONE"})"),
       "process/ioPriority/class: unknown I/O priority class \"IOPRIO_CLASS_NONE\""},
      {WithProcess(R"("execCPUAffinity": {"initial": "0-3", "final": "a"})"),
       "process/execCPUAffinity/final: invalid CPU list \"a\""},
      // consoleSize without terminal is ignored, not an error.
      {WithProcess(R"("consoleSize": {"height": 1, "width": 2})"), "OK"},
  });
}

TEST(SpecValidateTest, Hooks) {
  ExpectAll({
      {Doc(R"("hooks": {"prestart": [{"path": "/bin/true"}, {"path": "true"}]})"),
       "hooks/prestart/1/path: \"true\" is not an absolute path"},
      {Doc(R"("hooks": {"createContainer": [{"path": "/bin/true", "timeout": 0}]})"),
       "hooks/createContainer/0/timeout: must be greater than zero"},
      {Doc(R"("hooks": {"poststop": [{"path": "/bin/true", "timeout": -3}]})"),
       "hooks/poststop/0/timeout: must be greater than zero"},
      {Doc(R"("hooks": {"startContainer": [{"path": "/bin/true", "timeout": 1}]})"), "OK"},
  });
}

TEST(SpecValidateTest, AnnotationsAndSysctl) {
  ExpectAll({
      {Doc(R"("annotations": {"": "x"})"), "annotations/: key must not be empty"},
      {WithLinux(R"("sysctl": {"": "1"})"), "linux/sysctl/: key must not be empty"},
      {WithLinux(R"("sysctl": {"net.ipv4.ip_forward": "1"})"), "OK"},
  });
}

TEST(SpecValidateTest, Namespaces) {
  ExpectAll({
      {WithLinux(R"("namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "pid"}])"),
       "linux/namespaces/2/type: duplicate namespace \"pid\""},
      {WithLinux(R"("namespaces": [{"type": "network", "path": "/run/netns/a"},
                               {"type": "network"}])"),
       "linux/namespaces/1/type: duplicate namespace \"network\""},
      {WithLinux(R"("namespaces": [{"type": "network", "path": "netns/a"}])"),
       "linux/namespaces/0/path: \"netns/a\" is not an absolute path"},
      {WithLinux(R"("namespaces": [{"type": "user"}])"),
       "linux/uidMappings: required with a new user namespace"},
      {WithLinux(R"("namespaces": [{"type": "user"}],
                "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}])"),
       "linux/gidMappings: required with a new user namespace"},
      {WithLinux(R"("namespaces": [{"type": "user"}],
                "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
                "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}])"),
       "OK"},
      // Joining an existing user namespace needs no mappings.
      {WithLinux(R"("namespaces": [{"type": "user", "path": "/proc/1/ns/user"}])"), "OK"},
      {WithLinux(R"("uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}])"),
       "linux/uidMappings: requires a user namespace"},
      {WithLinux(R"("gidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}])"),
       "linux/gidMappings: requires a user namespace"},
      {WithLinux(R"("timeOffsets": {"monotonic": {"secs": 1}})"),
       "linux/timeOffsets: requires a time namespace"},
      {WithLinux(R"("namespaces": [{"type": "time"}], "timeOffsets": {"realtime": {"secs": 1}})"),
       "linux/timeOffsets/realtime: unknown clock \"realtime\""},
      {WithLinux(R"("namespaces": [{"type": "time"}],
                "timeOffsets": {"boottime": {"nanosecs": 1000000000}})"),
       "linux/timeOffsets/boottime/nanosecs: must be less than 1000000000"},
      {WithLinux(R"("namespaces": [{"type": "time"}],
                "timeOffsets": {"boottime": {"secs": -5, "nanosecs": 999999999}})"),
       "OK"},
      {Doc(R"("hostname": "h")"), "hostname: requires a uts namespace"},
      {Doc(R"("domainname": "d", "linux": {"namespaces": [{"type": "pid"}]})"),
       "domainname: requires a uts namespace"},
      {Doc(R"("hostname": "h", "linux": {"namespaces": [{"type": "uts"}]})"), "OK"},
      {Doc(R"("hostname": "")"), "OK"},
  });
}

TEST(SpecValidateTest, Devices) {
  ExpectAll({
      {WithLinux(R"("devices": [{"type": "x", "path": "/dev/x", "major": 1, "minor": 1}])"),
       "linux/devices/0/type: unknown device type \"x\""},
      {WithLinux(R"("devices": [{"type": "c", "path": "dev/x", "major": 1, "minor": 1}])"),
       "linux/devices/0/path: \"dev/x\" is not an absolute path"},
      {WithLinux(R"("devices": [{"type": "p", "path": "/dev/p"},
                            {"type": "b", "path": "/dev/b", "minor": 1}])"),
       "linux/devices/1/major: required for device type \"b\""},
      {WithLinux(R"("devices": [{"type": "u", "path": "/dev/u", "major": 1}])"),
       "linux/devices/0/minor: required for device type \"u\""},
      {WithLinux(R"("resources": {"devices": [{"allow": true, "type": "p"}]})"),
       "linux/resources/devices/0/type: unknown device type \"p\""},
      {WithLinux(R"("resources": {"devices": [{"allow": false, "access": "rwx"}]})"),
       "linux/resources/devices/0/access: invalid access \"rwx\" (only r, w and m are allowed)"},
      {WithLinux(R"("resources": {"devices": [{"allow": true, "type": "a", "access": "m"}]})"),
       "OK"},
  });
}

TEST(SpecValidateTest, PathsAndPropagation) {
  ExpectAll({
      {WithLinux(R"("maskedPaths": ["/proc/kcore", "proc/keys"])"),
       "linux/maskedPaths/1: \"proc/keys\" is not an absolute path"},
      {WithLinux(R"("readonlyPaths": [""])"),
       "linux/readonlyPaths/0: \"\" is not an absolute path"},
      {WithLinux(R"("rootfsPropagation": "recursive")"),
       "linux/rootfsPropagation: unknown propagation \"recursive\""},
      {WithLinux(R"("rootfsPropagation": "rslave")"), "OK"},
      {WithLinux(R"("rootfsPropagation": "unbindable")"), "OK"},
  });
}

TEST(SpecValidateTest, ResourcesAndOtherSections) {
  ExpectAll({
      {WithLinux(R"("resources": {"blockIO": {"weightDevice": [{"major": 8, "minor": 0}]}})"),
       "linux/resources/blockIO/weightDevice/0: needs weight or leafWeight"},
      // Docker's shape: a zero weight is given (it means "not set"), which the spec's
      // "at least one of weight or leafWeight" accepts.
      {WithLinux(R"("resources": {"blockIO": {"weight": 0, "weightDevice": [
           {"major": 8, "minor": 0, "weight": 0}, {"major": 8, "minor": 1, "leafWeight": 0}]}})"),
       "OK"},
      {WithLinux(R"("resources": {"rdma": {"mlx": {}}})"),
       "linux/resources/rdma/mlx: needs hcaHandles or hcaObjects"},
      {WithLinux(R"("resources": {"hugepageLimits": [{"pageSize": "0MB", "limit": 1}]})"),
       "linux/resources/hugepageLimits/0/pageSize: invalid page size \"0MB\""},
      {WithLinux(R"("resources": {"hugepageLimits": [{"pageSize": "1GB", "limit": 1}]})"), "OK"},
      {WithLinux(R"("resources": {"unified": {"": "1"}})"),
       "linux/resources/unified/: key must not be empty"},
      {WithLinux(R"("seccomp": {"defaultAction": "SCMP_ACT_MAYBE"})"),
       "linux/seccomp/defaultAction: unknown seccomp action \"SCMP_ACT_MAYBE\""},
      {WithLinux(R"("seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["X86"]})"),
       "linux/seccomp/architectures/0: unknown seccomp architecture \"X86\""},
      {WithLinux(R"("seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "flags": ["TSYNC"]})"),
       "linux/seccomp/flags/0: unknown seccomp flag \"TSYNC\""},
      {WithLinux(R"("seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "listenerMetadata": "x"})"),
       "linux/seccomp/listenerMetadata: requires listenerPath"},
      {WithLinux(R"("seccomp": {"defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [{"names": [], "action": "SCMP_ACT_ERRNO"}]})"),
       "linux/seccomp/syscalls/0/names: must contain at least one entry"},
      {WithLinux(R"("seccomp": {"defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [{"names": ["a"], "action": "SCMP_ACT_ERRNO", "args": [
                  {"index": 0, "value": 1, "op": "SCMP_CMP_XX"}]}]})"),
       "linux/seccomp/syscalls/0/args/0/op: unknown seccomp operator \"SCMP_CMP_XX\""},
      {WithLinux(R"("intelRdt": {"memBwSchema": "L3:0=1"})"),
       "linux/intelRdt/memBwSchema: must start with \"MB:\" and contain no newline"},
      {WithLinux(R"("intelRdt": {"schemata": ["a\nb"]})"),
       "linux/intelRdt/schemata/0: must not contain a newline"},
      {WithLinux(R"("memoryPolicy": {"mode": "MPOL_ANY"})"),
       "linux/memoryPolicy/mode: unknown memory policy mode \"MPOL_ANY\""},
      {WithLinux(R"("memoryPolicy": {"mode": "MPOL_BIND", "flags": ["X"]})"),
       "linux/memoryPolicy/flags/0: unknown memory policy flag \"X\""},
      {WithLinux(R"("personality": {"domain": "LINUX64"})"),
       "linux/personality/domain: unknown personality domain \"LINUX64\""},
      {WithLinux(R"("netDevices": {"": {}})"), "linux/netDevices/: key must not be empty"},
  });
}

TEST(SpecValidateTest, StandaloneProcessAndResources) {
  absl::StatusOr<Process> p = ParseProcess(R"({"cwd": "rel", "user": {"uid": 0, "gid": 0}})");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(ValidateProcess(*p).message(), "process/cwd: \"rel\" is not an absolute path");
  absl::StatusOr<Resources> r = ParseResources(R"({"devices": [{"allow": true, "access": "q"}]})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(ValidateResources(*r, "resources").message(),
            "resources/devices/0/access: invalid access \"q\" (only r, w and m are allowed)");
}

}  // namespace
}  // namespace husk::spec
