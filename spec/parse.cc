#include "spec/parse.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"
#include "runtime/base/status.h"
#include "spec/parse_members.h"
#include "spec/pointer.h"

namespace husk::spec {
namespace {

using namespace parse_internal;  // NOLINT: the converters are this file's vocabulary

// ---------------------------------------------------------------------------------------
// Platform-neutral part.

absl::Status ParseMount(const Value& v, const std::string& ptr, Mount* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  RETURN_IF_ERROR(Req(o, "destination", &out->destination, ToString));
  RETURN_IF_ERROR(Opt(o, "source", &out->source, ToString));
  RETURN_IF_ERROR(Opt(o, "type", &out->type, ToString));
  RETURN_IF_ERROR(Maybe(o, "options", &out->options, kStrings));
  RETURN_IF_ERROR(Maybe(o, "uidMappings", &out->uid_mappings, kIdMappings));
  return Maybe(o, "gidMappings", &out->gid_mappings, kIdMappings);
}

absl::Status ParseRoot(const Value& v, const std::string& ptr, Root* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  RETURN_IF_ERROR(Req(o, "path", &out->path, ToString));
  return Maybe(o, "readonly", &out->readonly, ToBool);
}

absl::Status ParseHook(const Value& v, const std::string& ptr, Hook* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  RETURN_IF_ERROR(Req(o, "path", &out->path, ToString));
  RETURN_IF_ERROR(Maybe(o, "args", &out->args, kStrings));
  RETURN_IF_ERROR(Maybe(o, "env", &out->env, kStrings));
  return Opt(o, "timeout", &out->timeout, ToInt<int32_t>);
}

absl::Status ParseHooks(const Value& v, const std::string& ptr, Hooks* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ptr));
  const auto hooks = ArrayOf<Hook>(ParseHook);
  RETURN_IF_ERROR(Maybe(o, "prestart", &out->prestart, hooks));
  RETURN_IF_ERROR(Maybe(o, "createRuntime", &out->create_runtime, hooks));
  RETURN_IF_ERROR(Maybe(o, "createContainer", &out->create_container, hooks));
  RETURN_IF_ERROR(Maybe(o, "startContainer", &out->start_container, hooks));
  RETURN_IF_ERROR(Maybe(o, "poststart", &out->poststart, hooks));
  return Maybe(o, "poststop", &out->poststop, hooks);
}

absl::Status ParseConfigAt(const Value& v, Config* out) {
  ASSIGN_OR_RETURN(Obj o, Obj::Of(v, ""));
  RETURN_IF_ERROR(Req(o, "ociVersion", &out->oci_version, ToString));
  RETURN_IF_ERROR(Opt(o, "root", &out->root, ParseRoot));
  RETURN_IF_ERROR(Maybe(o, "mounts", &out->mounts, ArrayOf<Mount>(ParseMount)));
  RETURN_IF_ERROR(Opt(o, "process", &out->process, ParseProcessAt));
  RETURN_IF_ERROR(Opt(o, "hostname", &out->hostname, ToString));
  RETURN_IF_ERROR(Opt(o, "domainname", &out->domainname, ToString));
  RETURN_IF_ERROR(Opt(o, "hooks", &out->hooks, ParseHooks));
  RETURN_IF_ERROR(Maybe(o, "annotations", &out->annotations, kStringMap));
  RETURN_IF_ERROR(Opt(o, "linux", &out->linux_config, ParseLinux));
  out->has_windows = o.Find("windows") != nullptr;
  out->has_solaris = o.Find("solaris") != nullptr;
  out->has_vm = o.Find("vm") != nullptr;
  out->has_zos = o.Find("zos") != nullptr;
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------
// Documents.

// Deepest array/object nesting of syntactically valid JSON text, stopping early once it
// passes kMaxJsonDepth; `offset` gets where that happened.
int NestingDepth(absl::string_view json, size_t* offset) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
      if (deepest > kMaxJsonDepth) {
        *offset = i;
        return deepest;
      }
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return deepest;
}

// Parses `json` into `doc`. `label` names the input in messages ("config.json").
absl::Status ParseDocument(absl::string_view json, absl::string_view label,
                           rapidjson::Document* doc) {
  if (json.size() > kMaxConfigBytes) {
    return absl::InvalidArgumentError(absl::StrCat(label, ": larger than 16 MiB"));
  }
  // Iterative parsing: no recursion, so the depth check below is a policy limit rather
  // than the only thing standing between hostile input and a stack overflow.
  constexpr unsigned kFlags =
      rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;
  doc->Parse<kFlags>(json.data(), json.size());
  if (doc->HasParseError()) {
    return absl::InvalidArgumentError(
        absl::StrCat(label, ": invalid JSON at offset ", doc->GetErrorOffset(), ": ",
                     rapidjson::GetParseError_En(doc->GetParseError())));
  }
  size_t offset = 0;
  if (NestingDepth(json, &offset) > kMaxJsonDepth) {
    return absl::InvalidArgumentError(absl::StrCat(label, ": JSON nested deeper than ",
                                                   kMaxJsonDepth, " levels at offset ", offset));
  }
  if (!doc->IsObject()) {
    return absl::InvalidArgumentError(absl::StrCat(label, ": expected a JSON object"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Config> ParseConfig(absl::string_view json) {
  rapidjson::Document doc;
  RETURN_IF_ERROR(ParseDocument(json, "config.json", &doc));
  Config config;
  RETURN_IF_ERROR(ParseConfigAt(doc, &config));
  return config;
}

absl::StatusOr<Config> LoadConfig(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open config.json");
  std::string data;
  char buf[65536];
  while (true) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      absl::Status status = ErrnoError("read config.json");
      close(fd);
      return status;
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
    if (data.size() > kMaxConfigBytes) {
      close(fd);
      return absl::InvalidArgumentError("config.json: larger than 16 MiB");
    }
  }
  close(fd);
  return ParseConfig(data);
}

namespace {

// A bare member object (`process`, `resources`, `hooks`) given as a whole document;
// pointers start with `label`.
template <typename T>
absl::StatusOr<T> ParseBare(absl::string_view json, const char* label,
                            absl::Status (*parse)(const Value&, const std::string&, T*)) {
  rapidjson::Document doc;
  RETURN_IF_ERROR(ParseDocument(json, label, &doc));
  T out;
  RETURN_IF_ERROR(parse(doc, label, &out));
  return out;
}

}  // namespace

absl::StatusOr<Process> ParseProcess(absl::string_view json) {
  return ParseBare<Process>(json, "process", ParseProcessAt);
}

absl::StatusOr<Resources> ParseResources(absl::string_view json) {
  return ParseBare<Resources>(json, "resources", ParseResourcesAt);
}

absl::StatusOr<Hooks> ParseHooksJson(absl::string_view json) {
  return ParseBare<Hooks>(json, "hooks", ParseHooks);
}

}  // namespace husk::spec
