#include "spec/state.h"

#include "rapidjson/prettywriter.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace husk::spec {
namespace {

template <typename Writer>
void String(Writer& w, const std::string& s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// `runtime_spec`: only the fields of runtime.md's state (no rootfs, created, owner),
// as hooks and seccomp agents receive it. `with_pid` false leaves out pid (poststop).
template <typename Writer>
void WriteState(Writer& w, const StateDoc& s, bool runtime_spec = false, bool with_pid = true) {
  w.StartObject();
  w.Key("ociVersion");
  String(w, s.oci_version);
  w.Key("id");
  String(w, s.id);
  if (with_pid) {
    w.Key("pid");
    w.Int(s.pid);
  }
  w.Key("status");
  String(w, s.status);
  w.Key("bundle");
  String(w, s.bundle);
  if (!runtime_spec) {
    w.Key("rootfs");
    String(w, s.rootfs);
    w.Key("created");
    String(w, s.created);
    w.Key("owner");
    String(w, s.owner);
  }
  if (!s.annotations.empty()) {
    w.Key("annotations");
    w.StartObject();
    for (const auto& [key, value] : s.annotations) {
      String(w, key);
      String(w, value);
    }
    w.EndObject();
  }
  w.EndObject();
}

}  // namespace

std::string SerializeState(const StateDoc& state) {
  rapidjson::StringBuffer buffer;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> writer(buffer);
  writer.SetIndent(' ', 2);
  WriteState(writer, state);
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string SerializeStateList(const std::vector<StateDoc>& states) {
  if (states.empty()) return "null";
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartArray();
  for (const StateDoc& state : states) WriteState(writer, state);
  writer.EndArray();
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string SerializeHookState(const StateDoc& state, bool with_pid) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  WriteState(writer, state, true, with_pid);
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string SerializeContainerProcessState(const ContainerProcessState& s) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("ociVersion");
  String(w, s.oci_version);
  w.Key("fds");
  w.StartArray();
  for (const std::string& name : s.fds) String(w, name);
  w.EndArray();
  w.Key("pid");
  w.Int(s.pid);
  if (!s.metadata.empty()) {
    w.Key("metadata");
    String(w, s.metadata);
  }
  w.Key("state");
  WriteState(w, s.state, true);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace husk::spec
