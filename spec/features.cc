#include "spec/features.h"

#include "rapidjson/prettywriter.h"
#include "rapidjson/stringbuffer.h"
#include "spec/config.h"
#include "spec/support.h"

#ifndef HUSK_VERSION
#define HUSK_VERSION "unknown"
#endif
#ifndef HUSK_COMMIT
#define HUSK_COMMIT "unknown"
#endif

namespace husk::spec {
namespace {

using Writer = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

void Strings(Writer& w, const std::vector<std::string>& list) {
  w.StartArray();
  for (const std::string& s : list) w.String(s.c_str());
  w.EndArray();
}

// {"enabled": <implemented>}
void Enabled(Writer& w, const char* key, bool enabled) {
  w.Key(key);
  w.StartObject();
  w.Key("enabled");
  w.Bool(enabled);
  w.EndObject();
}

}  // namespace

std::string FeaturesJson(const SeccompFeatures& seccomp) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.SetIndent(' ', 2);
  w.StartObject();
  w.Key("ociVersionMin");
  w.String(kOciVersionMin);
  w.Key("ociVersionMax");
  w.String(kOciVersionMax);

  w.Key("hooks");
  w.StartArray();
  for (const char* phase : {"prestart", "createRuntime", "createContainer", "startContainer",
                            "poststart", "poststop"}) {
    if (IsImplemented(std::string("hooks/") + phase)) w.String(phase);
  }
  w.EndArray();

  w.Key("mountOptions");
  Strings(w, KnownMountOptions());

  w.Key("linux");
  w.StartObject();
  w.Key("namespaces");
  w.StartArray();
  for (NamespaceType type : kAllNamespaceTypes) w.String(NamespaceTypeName(type));
  w.EndArray();
  w.Key("capabilities");
  Strings(w, KnownCapabilities());
  w.Key("cgroup");
  w.StartObject();
  w.Key("v1");
  w.Bool(true);
  w.Key("v2");
  w.Bool(true);
  w.Key("systemd");
  w.Bool(false);
  w.Key("systemdUser");
  w.Bool(false);
  w.Key("rdma");
  w.Bool(true);  // rdma.max, on hosts with the rdma controller
  w.EndObject();
  w.Key("seccomp");
  w.StartObject();
  w.Key("enabled");
  w.Bool(IsImplemented("linux/seccomp"));
  w.Key("actions");
  Strings(w, seccomp.actions);
  w.Key("operators");
  Strings(w, seccomp.operators);
  w.Key("archs");
  Strings(w, seccomp.archs);
  w.Key("knownFlags");
  Strings(w, seccomp.known_flags);
  w.Key("supportedFlags");
  Strings(w, seccomp.supported_flags);
  w.EndObject();
  Enabled(w, "apparmor", IsImplemented("process/apparmorProfile"));
  Enabled(w, "selinux", IsImplemented("process/selinuxLabel"));
  Enabled(w, "intelRdt", IsImplemented("linux/intelRdt"));
  w.Key("mountExtensions");
  w.StartObject();
  Enabled(w, "idmap", true);
  w.EndObject();
  Enabled(w, "netDevices", IsImplemented("linux/netDevices"));
  w.EndObject();  // linux

  w.Key("annotations");
  w.StartObject();
  w.Key("org.husk.version");
  w.String(HUSK_VERSION);
  w.Key("org.husk.commit");
  w.String(HUSK_COMMIT);
  w.EndObject();
  w.Key("potentiallyUnsafeConfigAnnotations");
  w.StartArray();
  w.EndArray();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace husk::spec
