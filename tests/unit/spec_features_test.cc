// spec/features and spec/default_config: `husk features` and `husk spec` output.
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "spec/default_config.h"
#include "spec/features.h"
#include "spec/parse.h"
#include "spec/support.h"
#include "spec/validate.h"

namespace husk::spec {
namespace {

std::vector<std::string> StringArray(const rapidjson::Value& v) {
  std::vector<std::string> out;
  for (const auto& item : v.GetArray()) out.emplace_back(item.GetString());
  return out;
}

TEST(SpecFeaturesTest, FeaturesJsonHasTheExpectedShape) {
  SeccompFeatures seccomp;
  seccomp.actions = {"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO"};
  seccomp.operators = {"SCMP_CMP_EQ"};
  seccomp.archs = {"SCMP_ARCH_X86_64"};
  seccomp.known_flags = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_TSYNC"};
  seccomp.supported_flags = {"SECCOMP_FILTER_FLAG_LOG"};
  std::string json = FeaturesJson(seccomp);
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  ASSERT_FALSE(doc.HasParseError()) << json;
  EXPECT_EQ(std::string(doc["ociVersionMin"].GetString()), "1.0.0");
  EXPECT_EQ(std::string(doc["ociVersionMax"].GetString()), "1.3.0");
  ASSERT_TRUE(doc["hooks"].IsArray());
  EXPECT_EQ(StringArray(doc["hooks"]),
            (std::vector<std::string>{"prestart", "createRuntime", "createContainer",
                                      "startContainer", "poststart", "poststop"}));
  EXPECT_EQ(StringArray(doc["mountOptions"]), KnownMountOptions());
  std::set<std::string> options(KnownMountOptions().begin(), KnownMountOptions().end());
  for (const char* o : {"rro", "idmap", "ridmap", "rbind", "nosuid", "rnoatime"}) {
    EXPECT_TRUE(options.count(o)) << o;
  }
  EXPECT_FALSE(options.count("tmpcopyup"));

  const rapidjson::Value& l = doc["linux"];
  EXPECT_EQ(StringArray(l["namespaces"]),
            (std::vector<std::string>{"pid", "network", "mount", "ipc", "uts", "user", "cgroup",
                                      "time"}));
  std::vector<std::string> caps = StringArray(l["capabilities"]);
  ASSERT_EQ(caps.size(), 41u);
  EXPECT_EQ(caps[0], "CAP_CHOWN");
  EXPECT_EQ(caps[21], "CAP_SYS_ADMIN");
  EXPECT_EQ(caps[40], "CAP_CHECKPOINT_RESTORE");
  EXPECT_TRUE(l["cgroup"]["v1"].GetBool());
  EXPECT_TRUE(l["cgroup"]["v2"].GetBool());
  EXPECT_FALSE(l["cgroup"]["systemd"].GetBool());
  EXPECT_FALSE(l["cgroup"]["systemdUser"].GetBool());
  EXPECT_TRUE(l["cgroup"]["rdma"].GetBool());
  // features-linux.md "Seccomp": the lists come from the caller as given.
  const rapidjson::Value& sc = l["seccomp"];
  EXPECT_TRUE(sc["enabled"].GetBool());
  EXPECT_EQ(StringArray(sc["actions"]), seccomp.actions);
  EXPECT_EQ(StringArray(sc["operators"]), seccomp.operators);
  EXPECT_EQ(StringArray(sc["archs"]), seccomp.archs);
  EXPECT_EQ(StringArray(sc["knownFlags"]), seccomp.known_flags);
  EXPECT_EQ(StringArray(sc["supportedFlags"]), seccomp.supported_flags);
  for (const char* off : {"apparmor", "selinux", "intelRdt", "netDevices"}) {
    EXPECT_FALSE(l[off]["enabled"].GetBool()) << off;
  }
  EXPECT_TRUE(l["mountExtensions"]["idmap"]["enabled"].GetBool());
  EXPECT_TRUE(doc["annotations"]["org.husk.version"].IsString());
  EXPECT_TRUE(doc["annotations"]["org.husk.commit"].IsString());
  EXPECT_EQ(doc["potentiallyUnsafeConfigAnnotations"].Size(), 0u);
  // Pretty-printed with two spaces.
  EXPECT_EQ(json.substr(0, 21), "{\n  \"ociVersionMin\": ");
}

TEST(SpecFeaturesTest, KnownRlimitsAreLinuxNumbered) {
  ASSERT_EQ(KnownRlimits().size(), 16u);
  EXPECT_EQ(IndexOf(KnownRlimits(), "RLIMIT_NOFILE"), 7);
  EXPECT_EQ(IndexOf(KnownRlimits(), "RLIMIT_RTTIME"), 15);
  EXPECT_EQ(IndexOf(KnownRlimits(), "RLIMIT_NOPE"), -1);
}

TEST(SpecDefaultConfigTest, RoundTripsThroughParseValidateSupport) {
  for (bool rootless : {false, true}) {
    std::string json = DefaultConfigJson(rootless, 1000, 1001);
    absl::StatusOr<Config> c = ParseConfig(json);
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_TRUE(ValidateConfig(*c).ok()) << ValidateConfig(*c);
    EXPECT_TRUE(CheckSupported(*c).ok()) << CheckSupported(*c);
    EXPECT_EQ(c->oci_version, "1.3.0");
    EXPECT_TRUE(c->process->terminal);
    EXPECT_EQ(c->process->args, std::vector<std::string>{"sh"});
    EXPECT_EQ(c->root->path, "rootfs");
    EXPECT_TRUE(c->root->readonly);
    EXPECT_EQ(c->mounts.size(), 7u);
    EXPECT_EQ(c->process->capabilities->ambient->size(), 3u);
    EXPECT_FALSE(c->process->capabilities->inheritable.has_value());
    EXPECT_EQ(c->linux_config->masked_paths.size(), 10u);
    EXPECT_EQ(c->linux_config->readonly_paths.size(), 5u);
    EXPECT_EQ(c->linux_config->namespaces.size(), 5u);
    EXPECT_EQ(json.substr(0, 3), "{\n\t");
    EXPECT_NE(json.back(), '\n');
    if (rootless) {
      EXPECT_EQ(c->linux_config->uid_mappings[0].host_id, 1000u);
      EXPECT_EQ(c->linux_config->gid_mappings[0].host_id, 1001u);
      EXPECT_EQ(c->linux_config->namespaces[4].type, NamespaceType::kUser);
      EXPECT_FALSE(c->linux_config->resources.has_value());
      EXPECT_EQ(c->mounts[5].type, "none");
      EXPECT_EQ(c->mounts[5].options[0], "rbind");
      EXPECT_EQ(c->mounts[2].options.size(), 5u);
    } else {
      EXPECT_TRUE(c->linux_config->uid_mappings.empty());
      EXPECT_EQ(c->linux_config->namespaces[1].type, NamespaceType::kNetwork);
      ASSERT_EQ(c->linux_config->resources->devices.size(), 1u);
      EXPECT_EQ(c->linux_config->resources->devices[0].access, "rwm");
      EXPECT_EQ(c->mounts[5].type, "sysfs");
      EXPECT_EQ(c->mounts[2].options.back(), "gid=5");
    }
  }
}

}  // namespace
}  // namespace husk::spec
