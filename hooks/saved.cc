#include "hooks/saved.h"

#include "hooks/phases.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace husk::hooks {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void String(Writer& w, const std::string& s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void Strings(Writer& w, const char* key, const std::vector<std::string>& list) {
  if (list.empty()) return;
  w.Key(key);
  w.StartArray();
  for (const std::string& s : list) String(w, s);
  w.EndArray();
}

}  // namespace

spec::Hooks HooksAfterCreate(const spec::Hooks& hooks) {
  spec::Hooks out;
  out.poststart = hooks.poststart;
  out.poststop = hooks.poststop;
  return out;
}

std::string SerializeHooks(const spec::Hooks& hooks) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  for (Phase phase : {Phase::kPrestart, Phase::kCreateRuntime, Phase::kCreateContainer,
                      Phase::kStartContainer, Phase::kPoststart, Phase::kPoststop}) {
    const std::vector<spec::Hook>& list = HooksOf(hooks, phase);
    if (list.empty()) continue;
    w.Key(PhaseName(phase));
    w.StartArray();
    for (const spec::Hook& hook : list) {
      w.StartObject();
      w.Key("path");
      String(w, hook.path);
      Strings(w, "args", hook.args);
      Strings(w, "env", hook.env);
      if (hook.timeout) {
        w.Key("timeout");
        w.Int(*hook.timeout);
      }
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace husk::hooks
