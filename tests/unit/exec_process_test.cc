// ExecProcess and ParseSubCgroups (runtime/exec_process.h): runc's getProcess merge of
// exec's flags into the config's process, the --process file with the container's
// defaults, the validation and refusals, and --cgroup parsing. Pure.
#include "runtime/exec_process.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace husk::internal {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

spec::Process ConfigProcess() {
  spec::Process p;
  p.args = {"/bin/sleep", "1000"};
  p.env = {"PATH=/bin", "A=1"};
  p.cwd = "/";
  p.terminal = true;  // the init's: exec must not inherit it
  p.user.uid = 0;
  p.user.gid = 0;
  p.user.additional_gids = {10};
  p.capabilities = spec::Capabilities{};
  p.capabilities->bounding = std::vector<std::string>{"CAP_KILL"};
  p.capabilities->effective = std::vector<std::string>{"CAP_KILL"};
  p.capabilities->permitted = std::vector<std::string>{"CAP_KILL"};
  p.rlimits = {{"RLIMIT_NOFILE", 1024, 1024}};
  p.no_new_privileges = true;
  p.oom_score_adj = 100;
  return p;
}

TEST(ExecProcess, FlagsOverrideTheConfigProcess) {
  spec::Process config = ConfigProcess();
  ExecOptions o;
  o.args = {"sh", "-c", "id"};
  o.cwd = "/tmp";
  o.env = {"B=2"};
  o.uid = 1000;
  o.gid = 1001;
  o.additional_gids = {5, 6};
  o.caps = {"CAP_CHOWN"};
  o.no_new_privs = false;
  absl::StatusOr<spec::Process> p = ExecProcess(o, std::nullopt, &config);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(p->args, ElementsAre("sh", "-c", "id"));
  EXPECT_EQ(p->cwd, "/tmp");
  EXPECT_THAT(p->env, ElementsAre("PATH=/bin", "A=1", "B=2"));
  EXPECT_EQ(p->user.uid, 1000u);
  EXPECT_EQ(p->user.gid, 1001u);
  EXPECT_THAT(p->user.additional_gids, ElementsAre(10u, 5u, 6u));
  EXPECT_THAT(*p->capabilities->bounding, ElementsAre("CAP_KILL", "CAP_CHOWN"));
  EXPECT_THAT(*p->capabilities->effective, ElementsAre("CAP_KILL", "CAP_CHOWN"));
  EXPECT_THAT(*p->capabilities->permitted, ElementsAre("CAP_KILL", "CAP_CHOWN"));
  // No inheritable in the config: --cap sets neither it nor ambient (CVE-2022-29162).
  EXPECT_FALSE(p->capabilities->inheritable.has_value());
  EXPECT_FALSE(p->capabilities->ambient.has_value());
  EXPECT_FALSE(p->no_new_privileges);
  EXPECT_FALSE(p->terminal);
  EXPECT_EQ(p->rlimits.size(), 1u);
  EXPECT_EQ(p->oom_score_adj, 100);
}

TEST(ExecProcess, UnsetFlagsKeepTheConfig) {
  spec::Process config = ConfigProcess();
  ExecOptions o;
  o.args = {"true"};
  o.tty = true;
  absl::StatusOr<spec::Process> p = ExecProcess(o, std::nullopt, &config);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->no_new_privileges);
  EXPECT_TRUE(p->terminal);
  EXPECT_EQ(p->user.uid, 0u);
  EXPECT_THAT(p->user.additional_gids, ElementsAre(10u));
  EXPECT_THAT(*p->capabilities->bounding, ElementsAre("CAP_KILL"));
  // Only the uid given: the config's gid stays.
  o.uid = 7;
  p = ExecProcess(o, std::nullopt, &config);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->user.uid, 7u);
  EXPECT_EQ(p->user.gid, 0u);
}

TEST(ExecProcess, CapAddsAmbientOnlyWithInheritable) {
  spec::Process config = ConfigProcess();
  config.capabilities->inheritable = std::vector<std::string>{"CAP_KILL"};
  ExecOptions o;
  o.args = {"true"};
  o.caps = {"CAP_CHOWN"};
  absl::StatusOr<spec::Process> p = ExecProcess(o, std::nullopt, &config);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(*p->capabilities->ambient, ElementsAre("CAP_CHOWN"));
  EXPECT_THAT(*p->capabilities->inheritable, ElementsAre("CAP_KILL"));
}

TEST(ExecProcess, ProcessFileWinsOverFlags) {
  spec::Process config = ConfigProcess();
  ExecOptions o;
  o.args = {"ignored"};
  o.tty = true;
  o.cwd = "/ignored";
  o.uid = 5;
  std::string json = R"({"args":["/bin/ls"],"cwd":"/etc","env":["X=1"],"terminal":false,
                         "user":{"uid":1000,"gid":1000,"umask":18}})";
  absl::StatusOr<spec::Process> p = ExecProcess(o, json, &config);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(p->args, ElementsAre("/bin/ls"));
  EXPECT_EQ(p->cwd, "/etc");
  EXPECT_THAT(p->env, ElementsAre("X=1"));
  EXPECT_FALSE(p->terminal);
  EXPECT_EQ(p->user.uid, 1000u);
  EXPECT_EQ(p->user.umask, 18u);
  // runc's newInitConfig: no capabilities / rlimits / oomScoreAdj -> the container's.
  ASSERT_TRUE(p->capabilities.has_value());
  EXPECT_THAT(*p->capabilities->bounding, ElementsAre("CAP_KILL"));
  EXPECT_EQ(p->rlimits.size(), 1u);
  EXPECT_EQ(p->oom_score_adj, 100);
  // ... but the file's own win; noNewPrivileges is the file's (false when absent).
  json = R"({"args":["/bin/ls"],"cwd":"/","user":{"uid":0,"gid":0},
             "capabilities":{"bounding":["CAP_CHOWN"]},
             "rlimits":[{"type":"RLIMIT_NPROC","soft":5,"hard":5}]})";
  p = ExecProcess(o, json, &config);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(*p->capabilities->bounding, ElementsAre("CAP_CHOWN"));
  EXPECT_EQ(p->rlimits[0].type, "RLIMIT_NPROC");
  EXPECT_FALSE(p->no_new_privileges);
  // Without the config, a file without capabilities is refused (it would keep all).
  json = R"({"args":["/bin/ls"],"cwd":"/","user":{"uid":0,"gid":0}})";
  p = ExecProcess(o, json, nullptr);
  EXPECT_FALSE(p.ok());
}

TEST(ExecProcess, RuncTextsAndRefusals) {
  spec::Process config = ConfigProcess();
  ExecOptions o;
  EXPECT_EQ(ExecProcess(o, std::nullopt, &config).status().message(), "exec args cannot be empty");
  o.args = {"true"};
  o.cwd = "relative";
  EXPECT_EQ(ExecProcess(o, std::nullopt, &config).status().message(),
            "Cwd must be an absolute path");
  o.cwd = "";
  o.apparmor = "p";
  EXPECT_EQ(ExecProcess(o, std::nullopt, &config).status().message(),
            "process/apparmorProfile: not supported yet");
  o.apparmor = "";
  o.process_label = "l";
  EXPECT_EQ(ExecProcess(o, std::nullopt, &config).status().message(),
            "process/selinuxLabel: not supported yet");
  for (const char* field : {R"("scheduler":{"policy":"SCHED_OTHER"})",
                            R"("ioPriority":{"class":"IOPRIO_CLASS_BE","priority":1})",
                            R"("execCPUAffinity":{"final":"0"})"}) {
    std::string json =
        std::string(R"({"args":["a"],"cwd":"/","user":{"uid":0,"gid":0},)") + field + "}";
    absl::StatusOr<spec::Process> p = ExecProcess(o, json, &config);
    ASSERT_FALSE(p.ok()) << field;
    EXPECT_THAT(p.status().message(), HasSubstr(": not supported yet")) << field;
  }
  std::string json = R"({"args":[],"cwd":"/","user":{"uid":0,"gid":0}})";
  EXPECT_FALSE(ExecProcess(o, json, &config).ok());
  EXPECT_FALSE(ExecProcess(o, std::string("{not json"), &config).ok());
}

TEST(ParseSubCgroups, RuncForms) {
  auto r = ParseSubCgroups({});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
  r = ParseSubCgroups({"sub/dir"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(*r, ElementsAre(Pair("", "sub/dir")));
  r = ParseSubCgroups({"cpu,cpuacct:a", "memory:b"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(*r, ElementsAre(Pair("cpu", "a"), Pair("cpuacct", "a"), Pair("memory", "b")));
  EXPECT_EQ(ParseSubCgroups({"a", "b"}).status().message(),
            "invalid --cgroup argument: a (missing <controller>: prefix)");
  EXPECT_EQ(ParseSubCgroups({"cpu,:a"}).status().message(),
            "invalid --cgroup argument: cpu,:a (empty <controller> prefix)");
  EXPECT_EQ(ParseSubCgroups({"cpu:a", "cpu:b"}).status().message(),
            "invalid --cgroup argument(s): controller cpu specified multiple times");
}

}  // namespace
}  // namespace husk::internal
