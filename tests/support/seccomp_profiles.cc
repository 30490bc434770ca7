#include "tests/support/seccomp_profiles.h"

#include <sys/utsname.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace husk::testing {
namespace {

using rapidjson::Value;

bool Contains(const std::vector<std::string>& list, const std::string& s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

std::vector<std::string> Strings(const Value& obj, const char* key) {
  std::vector<std::string> out;
  if (!obj.IsObject() || !obj.HasMember(key) || !obj[key].IsArray()) return out;
  for (const Value& v : obj[key].GetArray()) out.emplace_back(v.GetString());
  return out;
}

// "5.8" against the running kernel's major.minor.
bool KernelAtLeast(const std::string& version) {
  int want_major = 0, want_minor = 0, major = 0, minor = 0;
  struct utsname u;
  if (sscanf(version.c_str(), "%d.%d", &want_major, &want_minor) < 1 || uname(&u) != 0 ||
      sscanf(u.release, "%d.%d", &major, &minor) < 1) {
    throw std::runtime_error("cannot compare kernel version " + version);
  }
  return major != want_major ? major > want_major : minor >= want_minor;
}

std::string MinKernel(const Value& filter) {
  if (!filter.IsObject() || !filter.HasMember("minKernel") || !filter["minKernel"].IsString()) {
    return "";
  }
  return filter["minKernel"].GetString();
}

// moby's filter: excludes first (any match drops the rule), then includes (all must hold).
bool Keep(const Value& rule, const std::vector<std::string>& bounding) {
  static const char kArch[] = "amd64";
  const Value empty(rapidjson::kObjectType);
  const Value& ex = rule.HasMember("excludes") ? rule["excludes"] : empty;
  const Value& in = rule.HasMember("includes") ? rule["includes"] : empty;
  if (Contains(Strings(ex, "arches"), kArch)) return false;
  for (const std::string& c : Strings(ex, "caps")) {
    if (Contains(bounding, c)) return false;
  }
  if (std::string k = MinKernel(ex); !k.empty() && KernelAtLeast(k)) return false;
  std::vector<std::string> arches = Strings(in, "arches");
  if (!arches.empty() && !Contains(arches, kArch)) return false;
  for (const std::string& c : Strings(in, "caps")) {
    if (!Contains(bounding, c)) return false;
  }
  if (std::string k = MinKernel(in); !k.empty() && !KernelAtLeast(k)) return false;
  return true;
}

}  // namespace

std::vector<std::string> DockerDefaultCaps() {
  return {"CAP_CHOWN",      "CAP_DAC_OVERRIDE", "CAP_FSETID",    "CAP_FOWNER",
          "CAP_MKNOD",      "CAP_NET_RAW",      "CAP_SETGID",    "CAP_SETUID",
          "CAP_SETFCAP",    "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
          "CAP_KILL",       "CAP_AUDIT_WRITE"};
}

std::string SeccompFixture(const std::string& source_dir, const std::string& name) {
  return source_dir + "/tests/fixtures/seccomp/" + name;
}

std::string EngineProfileToOci(const std::string& path, const std::vector<std::string>& bounding) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  rapidjson::Document src;
  src.Parse(ss.str().c_str());
  if (src.HasParseError() || !src.IsObject()) throw std::runtime_error("bad profile " + path);

  rapidjson::Document out(rapidjson::kObjectType);
  auto& alloc = out.GetAllocator();
  out.AddMember("defaultAction", Value(src["defaultAction"], alloc), alloc);
  if (src.HasMember("defaultErrnoRet")) {
    out.AddMember("defaultErrnoRet", Value(src["defaultErrnoRet"], alloc), alloc);
  }
  Value archs(rapidjson::kArrayType);
  if (src.HasMember("archMap")) {
    for (const Value& m : src["archMap"].GetArray()) {
      if (std::string(m["architecture"].GetString()) != "SCMP_ARCH_X86_64") continue;
      archs.PushBack(Value(m["architecture"], alloc), alloc);
      for (const Value& sub : m["subArchitectures"].GetArray()) {
        archs.PushBack(Value(sub, alloc), alloc);
      }
    }
  }
  out.AddMember("architectures", archs, alloc);
  Value syscalls(rapidjson::kArrayType);
  for (const Value& rule : src["syscalls"].GetArray()) {
    if (!Keep(rule, bounding)) continue;
    Value r(rapidjson::kObjectType);
    Value names(rapidjson::kArrayType);
    if (rule.HasMember("name")) {
      names.PushBack(Value(rule["name"], alloc), alloc);
    } else {
      names.CopyFrom(rule["names"], alloc);
    }
    r.AddMember("names", names, alloc);
    r.AddMember("action", Value(rule["action"], alloc), alloc);
    if (rule.HasMember("errnoRet")) r.AddMember("errnoRet", Value(rule["errnoRet"], alloc), alloc);
    if (rule.HasMember("args") && rule["args"].IsArray()) {
      r.AddMember("args", Value(rule["args"], alloc), alloc);
    }
    syscalls.PushBack(r, alloc);
  }
  out.AddMember("syscalls", syscalls, alloc);
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  out.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace husk::testing
