// spec/parse: the schema's example configs, and malformed input at every depth with the
// exact JSON pointer in the message.
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "spec/parse.h"

namespace husk::spec {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string ReadSpecFile(const std::string& rel) {
  std::ifstream in(std::string(HUSK_SPEC_TESTDATA) + "/" + rel);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A minimal valid document with `extra` members appended at the top level.
std::string Doc(const std::string& extra) {
  std::string doc = R"({"ociVersion": "1.0.0", "root": {"path": "rootfs"}})";
  if (!extra.empty()) doc.insert(doc.size() - 1, ", " + extra);
  return doc;
}

// A document whose process object has `extra` members after valid cwd/args/user.
std::string ProcessDoc(const std::string& extra) {
  std::string process = R"({"cwd": "/", "args": ["sh"], "user": {"uid": 0, "gid": 0}})";
  if (!extra.empty()) process.insert(process.size() - 1, ", " + extra);
  return Doc(R"("process": )" + process);
}

std::string ErrorOf(const std::string& json) {
  absl::StatusOr<Config> config = ParseConfig(json);
  if (config.ok()) return "OK";
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(config.status().message());
}

TEST(SpecParseTest, GoodSchemaExamplesParse) {
  for (const char* name : {"minimal.json", "minimal-for-start.json", "spec-example.json",
                           "linux-netdevice.json", "linux-rdma.json"}) {
    std::string json = ReadSpecFile(std::string("config/good/") + name);
    ASSERT_FALSE(json.empty()) << name;
    absl::StatusOr<Config> config = ParseConfig(json);
    EXPECT_TRUE(config.ok()) << name << ": " << config.status();
  }
}

TEST(SpecParseTest, BadSchemaExamplesFailAtParseWithPointer) {
  EXPECT_THAT(ErrorOf(ReadSpecFile("config/bad/invalid-json.json")),
              StartsWith("config.json: invalid JSON at offset 1: "));
  EXPECT_EQ(ErrorOf(ReadSpecFile("config/bad/linux-netdevice.json")),
            "linux/netDevices/eth0/name: expected a string");
  EXPECT_EQ(ErrorOf(ReadSpecFile("config/bad/linux-rdma.json")),
            "linux/resources/rdma/mlx5_1/hcaHandles: expected an integer");
  // linux-hugepage.json is well-typed; spec_validate_test checks it fails validation.
  EXPECT_EQ(ErrorOf(ReadSpecFile("config/bad/linux-hugepage.json")), "OK");
}

TEST(SpecParseTest, SpecExampleFieldsLandInTheModel) {
  absl::StatusOr<Config> c = ParseConfig(ReadSpecFile("config/good/spec-example.json"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->oci_version, "0.5.0-dev");
  ASSERT_TRUE(c->root.has_value());
  EXPECT_EQ(c->root->path, "rootfs");
  EXPECT_TRUE(c->root->readonly);
  EXPECT_EQ(c->hostname, "slartibartfast");
  EXPECT_EQ(c->domainname, "foobarbaz.test");

  ASSERT_TRUE(c->process.has_value());
  const Process& p = *c->process;
  EXPECT_TRUE(p.terminal);
  EXPECT_EQ(p.user.uid, 1u);
  EXPECT_EQ(p.user.gid, 1u);
  EXPECT_EQ(p.user.additional_gids, (std::vector<uint32_t>{5, 6}));
  EXPECT_EQ(p.args, std::vector<std::string>{"sh"});
  EXPECT_EQ(p.env.size(), 2u);
  EXPECT_EQ(p.cwd, "/");
  ASSERT_TRUE(p.capabilities.has_value());
  EXPECT_EQ(p.capabilities->bounding->size(), 3u);
  EXPECT_EQ(p.capabilities->effective->size(), 2u);
  EXPECT_EQ(p.capabilities->ambient, std::vector<std::string>{"CAP_NET_BIND_SERVICE"});
  ASSERT_EQ(p.rlimits.size(), 2u);
  EXPECT_EQ(p.rlimits[1].type, "RLIMIT_NOFILE");
  EXPECT_EQ(p.rlimits[1].soft, 1024u);
  EXPECT_EQ(p.apparmor_profile, "acme_secure_profile");
  EXPECT_TRUE(p.no_new_privileges);

  ASSERT_EQ(c->mounts.size(), 7u);
  EXPECT_EQ(c->mounts[2].destination, "/dev/pts");
  EXPECT_EQ(c->mounts[2].type, "devpts");
  EXPECT_EQ(c->mounts[2].options.size(), 6u);
  EXPECT_FALSE(c->mounts[0].options.size());

  ASSERT_TRUE(c->hooks.has_value());
  EXPECT_EQ(c->hooks->prestart.size(), 2u);
  EXPECT_EQ(c->hooks->prestart[0].args.size(), 3u);
  EXPECT_EQ(c->hooks->poststart[0].timeout, 5);
  EXPECT_EQ(c->hooks->poststop[0].path, "/usr/sbin/cleanup.sh");

  ASSERT_TRUE(c->linux_config.has_value());
  const Linux& l = *c->linux_config;
  ASSERT_EQ(l.devices.size(), 2u);
  EXPECT_EQ(l.devices[0].major, 10);
  EXPECT_EQ(l.devices[0].file_mode, 438u);
  EXPECT_EQ(l.uid_mappings[0].host_id, 1000u);
  EXPECT_EQ(l.gid_mappings[0].size, 32000u);
  EXPECT_EQ(l.sysctl.at("net.core.somaxconn"), "256");
  EXPECT_EQ(l.cgroups_path, "/myRuntime/myContainer");
  EXPECT_EQ(l.rootfs_propagation, "slave");
  ASSERT_EQ(l.namespaces.size(), 8u);
  EXPECT_EQ(l.namespaces[1].type, NamespaceType::kNetwork);
  EXPECT_EQ(l.namespaces[7].type, NamespaceType::kTime);
  EXPECT_EQ(l.time_offsets.at("monotonic").secs, 172800);
  EXPECT_EQ(l.masked_paths.size(), 4u);
  EXPECT_EQ(l.readonly_paths.size(), 6u);
  EXPECT_TRUE(l.mount_label.has_value());
  ASSERT_TRUE(l.seccomp.has_value());
  EXPECT_EQ(l.seccomp->default_action, "SCMP_ACT_ALLOW");
  EXPECT_EQ(l.seccomp->syscalls[0].names.size(), 2u);

  ASSERT_TRUE(l.resources.has_value());
  const Resources& r = *l.resources;
  EXPECT_EQ(r.network->class_id, 1048577u);
  EXPECT_EQ(r.network->priorities[1].priority, 1000u);
  EXPECT_EQ(r.pids->limit, 32771);
  EXPECT_EQ(r.hugepage_limits[0].limit, 9223372036854772000u);
  EXPECT_EQ(r.memory->kernel, -1);
  EXPECT_EQ(r.memory->use_hierarchy, false);
  EXPECT_EQ(r.cpu->realtime_runtime, 950000);
  EXPECT_EQ(r.cpu->cpus, "2-3");
  ASSERT_EQ(r.devices.size(), 3u);
  EXPECT_FALSE(r.devices[0].allow);
  EXPECT_FALSE(r.devices[0].type.has_value());
  EXPECT_EQ(r.devices[1].major, 10);
  EXPECT_EQ(r.block_io->weight, 10);
  EXPECT_EQ(r.block_io->weight_device[0].leaf_weight, 300);
  EXPECT_FALSE(r.block_io->weight_device[1].leaf_weight.has_value());
  EXPECT_EQ(r.block_io->throttle_read_bps_device[0].rate, 600u);
  EXPECT_EQ(r.block_io->throttle_write_iops_device[0].minor, 16);

  EXPECT_EQ(c->annotations.at("com.example.key2"), "value2");
  EXPECT_FALSE(c->has_windows);
}

TEST(SpecParseTest, EveryRemainingFieldParses) {
  absl::StatusOr<Config> c = ParseConfig(Doc(R"(
    "process": {"cwd": "/", "args": ["a"], "commandLine": "a b",
      "user": {"uid": 1, "gid": 2, "umask": 18, "username": "u"},
      "consoleSize": {"height": 24, "width": 80}, "oomScoreAdj": -1000,
      "scheduler": {"policy": "SCHED_DEADLINE", "nice": -5, "priority": 3,
                    "flags": ["SCHED_FLAG_RECLAIM"], "runtime": 1, "deadline": 2, "period": 3},
      "selinuxLabel": "l", "ioPriority": {"class": "IOPRIO_CLASS_BE", "priority": 4},
      "execCPUAffinity": {"initial": "0-1", "final": "2"}},
    "mounts": [{"destination": "/m", "source": "/s", "type": "none", "options": ["idmap"],
                "uidMappings": [{"containerID": 0, "hostID": 100, "size": 10}],
                "gidMappings": [{"containerID": 1, "hostID": 200, "size": 20}]}],
    "windows": {}, "solaris": {}, "vm": {}, "zos": {},
    "linux": {
      "namespaces": [{"type": "user", "path": "/proc/1/ns/user"}, {"type": "cgroup"}],
      "netDevices": {"eth0": {"name": "c0"}},
      "devices": [{"type": "p", "path": "/dev/fifo", "uid": 3, "gid": 4}],
      "intelRdt": {"closID": "c", "l3CacheSchema": "L3:0=f", "memBwSchema": "MB:0=50",
                   "schemata": ["L2:0=1"], "enableCMT": true, "enableMBM": false,
                   "enableMonitoring": true},
      "memoryPolicy": {"mode": "MPOL_BIND", "nodes": "0-3", "flags": ["MPOL_F_STATIC_NODES"]},
      "personality": {"domain": "LINUX32", "flags": []},
      "seccomp": {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
                  "architectures": ["SCMP_ARCH_X86_64"], "flags": ["SECCOMP_FILTER_FLAG_LOG"],
                  "listenerPath": "/run/l.sock", "listenerMetadata": "m",
                  "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "errnoRet": 5,
                                "args": [{"index": 1, "value": 2, "valueTwo": 3,
                                          "op": "SCMP_CMP_MASKED_EQ"}]}]},
      "resources": {
        "memory": {"kernelTCP": 5, "swappiness": 60, "disableOOMKiller": true,
                   "checkBeforeUpdate": true},
        "cpu": {"burst": 7, "idle": 1, "mems": "0", "period": 100000, "quota": -1,
                "shares": 2, "realtimePeriod": 9},
        "blockIO": {"leafWeight": 9, "throttleWriteBpsDevice": [{"major": 1, "minor": 2,
                    "rate": 3}], "throttleReadIOPSDevice": [{"major": 4, "minor": 5}]},
        "unified": {"memory.high": "max"}, "pids": {}}
    })"));
  ASSERT_TRUE(c.ok()) << c.status();
  const Process& p = *c->process;
  EXPECT_EQ(p.command_line, "a b");
  EXPECT_EQ(p.user.umask, 18u);
  EXPECT_EQ(p.user.username, "u");
  EXPECT_EQ(p.console_size->width, 80u);
  EXPECT_EQ(p.oom_score_adj, -1000);
  EXPECT_EQ(p.scheduler->nice, -5);
  EXPECT_EQ(p.scheduler->period, 3u);
  EXPECT_EQ(p.scheduler->flags.size(), 1u);
  EXPECT_EQ(p.selinux_label, "l");
  EXPECT_EQ(p.io_priority->io_class, "IOPRIO_CLASS_BE");
  EXPECT_EQ(p.io_priority->priority, 4);
  EXPECT_EQ(p.exec_cpu_affinity->final, "2");
  EXPECT_EQ(c->mounts[0].gid_mappings[0].host_id, 200u);
  EXPECT_EQ(c->mounts[0].uid_mappings[0].size, 10u);
  EXPECT_TRUE(c->has_windows && c->has_solaris && c->has_vm && c->has_zos);
  const Linux& l = *c->linux_config;
  EXPECT_EQ(l.namespaces[0].path, "/proc/1/ns/user");
  EXPECT_EQ(l.net_devices.at("eth0").name, "c0");
  EXPECT_FALSE(l.devices[0].major.has_value());
  EXPECT_EQ(l.devices[0].gid, 4u);
  EXPECT_EQ(l.intel_rdt->clos_id, "c");
  EXPECT_EQ(l.intel_rdt->enable_mbm, false);
  EXPECT_EQ(l.intel_rdt->enable_monitoring, true);
  EXPECT_EQ(l.memory_policy->nodes, "0-3");
  EXPECT_EQ(l.personality->domain, "LINUX32");
  EXPECT_EQ(l.seccomp->default_errno_ret, 1u);
  EXPECT_EQ(l.seccomp->listener_metadata, "m");
  EXPECT_EQ(l.seccomp->syscalls[0].errno_ret, 5u);
  EXPECT_EQ(l.seccomp->syscalls[0].args[0].value_two, 3u);
  EXPECT_EQ(l.seccomp->syscalls[0].args[0].op, "SCMP_CMP_MASKED_EQ");
  const Resources& r = *l.resources;
  EXPECT_EQ(r.memory->kernel_tcp, 5);
  EXPECT_EQ(r.memory->swappiness, 60u);
  EXPECT_EQ(r.memory->disable_oom_killer, true);
  EXPECT_EQ(r.cpu->burst, 7);
  EXPECT_EQ(r.cpu->quota, -1);
  EXPECT_EQ(r.cpu->realtime_period, 9u);
  EXPECT_EQ(r.block_io->throttle_write_bps_device[0].rate, 3u);
  EXPECT_EQ(r.block_io->throttle_read_iops_device[0].rate, 0u);
  EXPECT_EQ(r.unified.at("memory.high"), "max");
  ASSERT_TRUE(r.pids.has_value());
  EXPECT_FALSE(r.pids->limit.has_value());
}

struct Case {
  std::string json;
  std::string error;
};

TEST(SpecParseTest, WrongTypesNameThePointer) {
  const Case cases[] = {
      {R"({"ociVersion": 1})", "ociVersion: expected a string"},
      {R"({"ociVersion": "1.0.0", "root": []})", "root: expected an object"},
      {R"({"ociVersion": "1.0.0", "root": {"path": "r", "readonly": "yes"}})",
       "root/readonly: expected a boolean"},
      {Doc(R"("hostname": false)"), "hostname: expected a string"},
      {Doc(R"("mounts": {})"), "mounts: expected an array"},
      {Doc(R"("mounts": [{"destination": "/a"}, {"destination": "/b", "options": ["x", 3]}])"),
       "mounts/1/options/1: expected a string"},
      {Doc(R"("mounts": [{"destination": "/a", "uidMappings": [{"containerID": 0,
           "hostID": "0", "size": 1}]}])"),
       "mounts/0/uidMappings/0/hostID: expected an integer"},
      {ProcessDoc(R"("capabilities": {"bounding": ["CAP_KILL", "CAP_CHOWN", 7]})"),
       "process/capabilities/bounding/2: expected a string"},
      {ProcessDoc(R"("capabilities": {"ambient": "CAP_KILL"})"),
       "process/capabilities/ambient: expected an array"},
      {ProcessDoc(R"("terminal": 1)"), "process/terminal: expected a boolean"},
      {ProcessDoc(R"("env": ["A=1", null])"), "process/env/1: expected a string"},
      {ProcessDoc(R"("rlimits": [{"type": "RLIMIT_CORE", "soft": 1, "hard": "2"}])"),
       "process/rlimits/0/hard: expected an integer"},
      {ProcessDoc(R"("consoleSize": {"height": 1, "width": true})"),
       "process/consoleSize/width: expected an integer"},
      {ProcessDoc(R"("scheduler": {"policy": "SCHED_RR", "flags": [1]})"),
       "process/scheduler/flags/0: expected a string"},
      {Doc(R"("process": {"cwd": "/", "user": {"uid": 0, "gid": 0, "additionalGids": [1, "2"]}})"),
       "process/user/additionalGids/1: expected an integer"},
      {Doc(R"("hooks": {"poststop": [{"path": "/a"}, {"path": "/b", "timeout": "1"}]})"),
       "hooks/poststop/1/timeout: expected an integer"},
      {Doc(R"("annotations": {"a": "b", "c/d": 1})"), "annotations/c~1d: expected a string"},
      {Doc(R"("annotations": {"x~y": {}})"), "annotations/x~0y: expected a string"},
      {Doc(R"("linux": [])"), "linux: expected an object"},
      {Doc(R"("linux": {"namespaces": [{"type": "pid"}, {"type": 5}]})"),
       "linux/namespaces/1/type: expected a string"},
      {Doc(R"("linux": {"sysctl": {"kernel.x": 1}})"), "linux/sysctl/kernel.x: expected a string"},
      {Doc(R"("linux": {"timeOffsets": {"boottime": {"secs": "1"}}})"),
       "linux/timeOffsets/boottime/secs: expected an integer"},
      {Doc(R"("linux": {"devices": [{"type": "c", "path": "/dev/x", "major": 1.5}]})"),
       "linux/devices/0/major: expected an integer"},
      {Doc(R"("linux": {"resources": {"devices": [{"allow": "true"}]}})"),
       "linux/resources/devices/0/allow: expected a boolean"},
      {Doc(R"("linux": {"resources": {"memory": {"limit": "1G"}}})"),
       "linux/resources/memory/limit: expected an integer"},
      {Doc(R"("linux": {"resources": {"cpu": {"cpus": 3}}})"),
       "linux/resources/cpu/cpus: expected a string"},
      {Doc(R"("linux": {"resources": {"blockIO": {"weightDevice": [{"major": 8, "minor": 0,
           "weight": []}]}}})"),
       "linux/resources/blockIO/weightDevice/0/weight: expected an integer"},
      {Doc(R"("linux": {"resources": {"network": {"priorities": [{"name": 1, "priority": 2}]}}})"),
       "linux/resources/network/priorities/0/name: expected a string"},
      {Doc(R"("linux": {"resources": {"unified": {"a": ["b"]}}})"),
       "linux/resources/unified/a: expected a string"},
      {Doc(R"("linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names":
           ["a"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "op": 2}]}]}})"),
       "linux/seccomp/syscalls/0/args/0/op: expected a string"},
      {Doc(R"("linux": {"maskedPaths": "/proc"})"), "linux/maskedPaths: expected an array"},
      {Doc(R"("linux": {"intelRdt": {"enableMonitoring": "no"}})"),
       "linux/intelRdt/enableMonitoring: expected a boolean"},
      {Doc(R"("linux": {"personality": {"domain": "LINUX", "flags": [true]}})"),
       "linux/personality/flags/0: expected a string"},
  };
  for (const Case& c : cases) EXPECT_EQ(ErrorOf(c.json), c.error) << c.json;
}

TEST(SpecParseTest, MissingRequiredFields) {
  const Case cases[] = {
      {R"({"root": {"path": "rootfs"}})", "ociVersion: missing required field"},
      {R"({"ociVersion": null})", "ociVersion: missing required field"},
      {Doc(R"("process": {"args": ["sh"], "user": {"uid": 0, "gid": 0}})"),
       "process/cwd: missing required field"},
      {Doc(R"("process": {"cwd": "/", "args": ["sh"]})"), "process/user: missing required field"},
      {Doc(R"("process": {"cwd": "/", "user": {"gid": 0}})"),
       "process/user/uid: missing required field"},
      {Doc(R"("process": {"cwd": "/", "user": {"uid": 0}})"),
       "process/user/gid: missing required field"},
      {R"({"ociVersion": "1.0.0", "root": {"readonly": true}})",
       "root/path: missing required field"},
      {Doc(R"("mounts": [{"destination": "/a"}, {"source": "x"}])"),
       "mounts/1/destination: missing required field"},
      {Doc(R"("mounts": [{"destination": "/a", "gidMappings": [{"containerID": 0, "size": 1}]}])"),
       "mounts/0/gidMappings/0/hostID: missing required field"},
      {Doc(R"("hooks": {"prestart": [{"args": ["x"]}]})"),
       "hooks/prestart/0/path: missing required field"},
      {ProcessDoc(R"("rlimits": [{"type": "RLIMIT_CORE", "hard": 1}])"),
       "process/rlimits/0/soft: missing required field"},
      {ProcessDoc(R"("consoleSize": {"width": 1})"),
       "process/consoleSize/height: missing required field"},
      {ProcessDoc(R"("ioPriority": {"priority": 1})"),
       "process/ioPriority/class: missing required field"},
      {ProcessDoc(R"("scheduler": {"nice": 1})"),
       "process/scheduler/policy: missing required field"},
      {Doc(R"("linux": {"namespaces": [{"path": "/proc/1/ns/pid"}]})"),
       "linux/namespaces/0/type: missing required field"},
      {Doc(R"("linux": {"uidMappings": [{"containerID": 0, "hostID": 0}]})"),
       "linux/uidMappings/0/size: missing required field"},
      {Doc(R"("linux": {"devices": [{"path": "/dev/x"}]})"),
       "linux/devices/0/type: missing required field"},
      {Doc(R"("linux": {"devices": [{"type": "c"}]})"),
       "linux/devices/0/path: missing required field"},
      {Doc(R"("linux": {"resources": {"devices": [{"access": "rwm"}]}})"),
       "linux/resources/devices/0/allow: missing required field"},
      {Doc(R"("linux": {"resources": {"hugepageLimits": [{"pageSize": "2MB"}]}})"),
       "linux/resources/hugepageLimits/0/limit: missing required field"},
      {Doc(R"("linux": {"resources": {"blockIO": {"throttleReadBpsDevice": [{"major": 1}]}}})"),
       "linux/resources/blockIO/throttleReadBpsDevice/0/minor: missing required field"},
      {Doc(R"("linux": {"resources": {"network": {"priorities": [{"name": "eth0"}]}}})"),
       "linux/resources/network/priorities/0/priority: missing required field"},
      {Doc(R"("linux": {"seccomp": {"syscalls": []}})"),
       "linux/seccomp/defaultAction: missing required field"},
      {Doc(R"("linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW",
           "syscalls": [{"action": "SCMP_ACT_ERRNO"}]}})"),
       "linux/seccomp/syscalls/0/names: missing required field"},
      {Doc(R"("linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW",
           "syscalls": [{"names": ["a"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0,
           "op": "SCMP_CMP_EQ"}]}]}})"),
       "linux/seccomp/syscalls/0/args/0/value: missing required field"},
      {Doc(R"("linux": {"memoryPolicy": {"nodes": "0"}})"),
       "linux/memoryPolicy/mode: missing required field"},
      {Doc(R"("linux": {"personality": {}})"), "linux/personality/domain: missing required field"},
  };
  for (const Case& c : cases) EXPECT_EQ(ErrorOf(c.json), c.error) << c.json;
}

TEST(SpecParseTest, IntegerRanges) {
  const Case cases[] = {
      {Doc(R"("process": {"cwd": "/", "user": {"uid": 4294967296, "gid": 0}})"),
       "process/user/uid: 4294967296 is out of range for uint32"},
      {Doc(R"("process": {"cwd": "/", "user": {"uid": -1, "gid": 0}})"),
       "process/user/uid: -1 is out of range for uint32"},
      {ProcessDoc(R"("oomScoreAdj": 2147483648)"),
       "process/oomScoreAdj: 2147483648 is out of range for int32"},
      {ProcessDoc(R"("rlimits": [{"type": "RLIMIT_CORE", "soft": 18446744073709551616,
           "hard": 1}])"),
       "process/rlimits/0/soft: 1.84467e+19 is out of range for uint64"},
      {ProcessDoc(R"("rlimits": [{"type": "RLIMIT_CORE", "soft": -1, "hard": 1}])"),
       "process/rlimits/0/soft: -1 is out of range for uint64"},
      {Doc(R"("linux": {"resources": {"blockIO": {"weight": 65536}}})"),
       "linux/resources/blockIO/weight: 65536 is out of range for uint16"},
      {Doc(R"("linux": {"resources": {"memory": {"limit": 9223372036854775808}}})"),
       "linux/resources/memory/limit: 9223372036854775808 is out of range for int64"},
      {Doc(R"("linux": {"timeOffsets": {"monotonic": {"nanosecs": -5}}})"),
       "linux/timeOffsets/monotonic/nanosecs: -5 is out of range for uint32"},
      {Doc(R"("hooks": {"poststart": [{"path": "/a", "timeout": 1.0}]})"),
       "hooks/poststart/0/timeout: expected an integer"},
      {Doc(R"("hooks": {"poststart": [{"path": "/a", "timeout": 1e3}]})"),
       "hooks/poststart/0/timeout: expected an integer"},
  };
  for (const Case& c : cases) EXPECT_EQ(ErrorOf(c.json), c.error) << c.json;

  // Edges that fit.
  absl::StatusOr<Config> c = ParseConfig(ProcessDoc(
      R"("user": {"uid": 4294967295, "gid": 0}, "rlimits": [{"type": "RLIMIT_CORE",
         "soft": 18446744073709551615, "hard": 18446744073709551615}],
         "oomScoreAdj": -2147483648)"));
  // `user` appears twice in this document: that alone must be refused.
  EXPECT_FALSE(c.ok());
  c = ParseConfig(Doc(R"("process": {"cwd": "/", "user": {"uid": 4294967295, "gid": 0},
      "rlimits": [{"type": "RLIMIT_CORE", "soft": 18446744073709551615,
                   "hard": 18446744073709551615}], "oomScoreAdj": -2147483648},
      "linux": {"resources": {"memory": {"limit": -9223372036854775808}}})"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->process->user.uid, 4294967295u);
  EXPECT_EQ(c->process->rlimits[0].soft, UINT64_MAX);
  EXPECT_EQ(c->process->oom_score_adj, INT32_MIN);
  EXPECT_EQ(c->linux_config->resources->memory->limit, INT64_MIN);
}

TEST(SpecParseTest, DuplicateMemberNamesAreRefused) {
  EXPECT_EQ(ErrorOf(R"({"ociVersion": "1.0.0", "ociVersion": "2.0.0"})"),
            "ociVersion: duplicate member name");
  EXPECT_EQ(ErrorOf(ProcessDoc(R"("cwd": "/tmp")")), "process/cwd: duplicate member name");
  EXPECT_EQ(ErrorOf(Doc(R"("annotations": {"a": "1", "a": "2"})")),
            "annotations/a: duplicate member name");
}

TEST(SpecParseTest, UnknownPropertiesAndNullsAreIgnored) {
  absl::StatusOr<Config> c = ParseConfig(Doc(R"(
      "future": {"anything": [1, 2, {"x": null}]},
      "hostname": null, "mounts": null, "hooks": {"prestart": null, "newPhase": [1]},
      "freebsd": {"jail": true},
      "process": {"cwd": "/", "args": ["sh"], "user": {"uid": 0, "gid": 0, "sid": "x"},
                  "capabilities": {"bounding": null, "other": 3}, "newField": 1},
      "linux": {"resources": {"oomScoreAdj": 100, "memory": {"future": "x"}},
                "newThing": {}})"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->hostname.has_value());
  EXPECT_TRUE(c->mounts.empty());
  EXPECT_TRUE(c->hooks->prestart.empty());
  EXPECT_FALSE(c->process->capabilities->bounding.has_value());
  EXPECT_TRUE(c->linux_config->resources->memory.has_value());
}

TEST(SpecParseTest, NamespaceTypes) {
  EXPECT_EQ(ErrorOf(Doc(R"("linux": {"namespaces": [{"type": "pid"}, {"type": "foo"}]})")),
            "linux/namespaces/1/type: unknown namespace type \"foo\"");
  absl::StatusOr<Config> c = ParseConfig(Doc(R"("linux": {"namespaces": [
      {"type": "mount"}, {"type": "pid"}, {"type": "network"}, {"type": "uts"},
      {"type": "ipc"}, {"type": "user"}, {"type": "cgroup"}, {"type": "time"}]})"));
  ASSERT_TRUE(c.ok()) << c.status();
  for (const Namespace& ns : c->linux_config->namespaces) {
    EXPECT_EQ(NamespaceTypeFromName(NamespaceTypeName(ns.type)), ns.type);
  }
}

TEST(SpecParseTest, DocumentLevelErrors) {
  EXPECT_EQ(ErrorOf("[]"), "config.json: expected a JSON object");
  EXPECT_EQ(ErrorOf(""), "config.json: invalid JSON at offset 0: The document is empty.");
  EXPECT_THAT(ErrorOf(R"({"ociVersion": "1.0.0"} x)"),
              StartsWith("config.json: invalid JSON at offset 24: "));
  EXPECT_THAT(ErrorOf(R"({"ociVersion": "1.0.0", })"), StartsWith("config.json: invalid JSON"));
  EXPECT_EQ(ErrorOf(R"({"ociVersion": "1.0\u0000"})"), "ociVersion: contains a NUL byte");
  EXPECT_THAT(ErrorOf("{\"ociVersion\": \"\xff\"}"), StartsWith("config.json: invalid JSON"));
}

TEST(SpecParseTest, NestingDepthIsLimited) {
  std::string deep = std::string(100, '[') + std::string(100, ']');
  EXPECT_THAT(ErrorOf(Doc(R"("x": )" + deep)),
              HasSubstr("config.json: JSON nested deeper than 64 levels at offset"));
  // Brackets inside strings do not count.
  std::string in_string = "\"" + std::string(100, '[') + "\\\"\"";
  EXPECT_EQ(ErrorOf(Doc(R"("x": )" + in_string)), "OK");
  // Deep but within the limit is fine.
  std::string ok = std::string(60, '[') + std::string(60, ']');
  EXPECT_EQ(ErrorOf(Doc(R"("x": )" + ok)), "OK");
  // Very deep input does not overflow the stack.
  std::string huge = std::string(1 << 20, '[') + std::string(1 << 20, ']');
  EXPECT_THAT(ErrorOf(Doc(R"("x": )" + huge)), HasSubstr("nested deeper than 64"));
}

TEST(SpecParseTest, SizeLimit) {
  std::string big = Doc(R"("x": ")" + std::string(kMaxConfigBytes, 'a') + "\"");
  EXPECT_EQ(ErrorOf(big), "config.json: larger than 16 MiB");
}

TEST(SpecParseTest, LoadConfig) {
  absl::StatusOr<Config> missing = LoadConfig("/nonexistent/husk/config.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "open config.json: no such file or directory");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);

  char dir[] = "/tmp/spec_parse_test.XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/config.json";
  {
    std::ofstream out(path);
    out << ReadSpecFile("config/good/minimal-for-start.json");
  }
  absl::StatusOr<Config> c = LoadConfig(path);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->process->args, std::vector<std::string>{"sh"});

  {
    std::ofstream out(path, std::ios::trunc);
    out << std::string(kMaxConfigBytes + 1, ' ');
  }
  EXPECT_EQ(LoadConfig(path).status().message(), "config.json: larger than 16 MiB");

  absl::StatusOr<Config> is_dir = LoadConfig(dir);
  ASSERT_FALSE(is_dir.ok());
  EXPECT_EQ(is_dir.status().message(), "read config.json: is a directory");
  unlink(path.c_str());
  rmdir(dir);
}

TEST(SpecParseTest, ParseProcess) {
  absl::StatusOr<Process> p = ParseProcess(
      R"({"cwd": "/w", "args": ["ls", "-l"], "user": {"uid": 5, "gid": 6}, "terminal": true,
          "env": ["A=B"], "capabilities": {"bounding": ["CAP_KILL"]}})");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->cwd, "/w");
  EXPECT_EQ(p->args.size(), 2u);
  EXPECT_EQ(p->user.gid, 6u);
  EXPECT_TRUE(p->terminal);

  EXPECT_EQ(ParseProcess(R"({"cwd": "/", "user": {"uid": "0", "gid": 0}})").status().message(),
            "process/user/uid: expected an integer");
  EXPECT_EQ(ParseProcess(R"({"user": {"uid": 0, "gid": 0}})").status().message(),
            "process/cwd: missing required field");
  EXPECT_THAT(std::string(ParseProcess("{").status().message()),
              StartsWith("process: invalid JSON at offset 1"));
  EXPECT_EQ(ParseProcess("3").status().message(), "process: expected a JSON object");
}

TEST(SpecParseTest, ParseResources) {
  absl::StatusOr<Resources> r = ParseResources(
      R"({"memory": {"limit": 1048576, "swap": -1}, "cpu": {"shares": 512},
          "pids": {"limit": 10}, "blockIO": {"weight": 100}})");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->memory->limit, 1048576);
  EXPECT_EQ(r->memory->swap, -1);
  EXPECT_EQ(r->cpu->shares, 512u);
  EXPECT_EQ(r->pids->limit, 10);
  EXPECT_EQ(r->block_io->weight, 100);

  EXPECT_EQ(ParseResources(R"({"cpu": {"quota": "x"}})").status().message(),
            "resources/cpu/quota: expected an integer");
  EXPECT_EQ(ParseResources(R"({"memory": []})").status().message(),
            "resources/memory: expected an object");
  EXPECT_THAT(std::string(ParseResources("nope").status().message()),
              StartsWith("resources: invalid JSON at offset 1: Invalid value."));
}

}  // namespace
}  // namespace husk::spec
