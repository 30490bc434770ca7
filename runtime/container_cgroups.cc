// The commands that act on a live container's cgroup: pause, resume and update.
// Declared in container.h.
#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "rapidjson/document.h"
#include "rapidjson/pointer.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "runtime/base/fs.h"
#include "runtime/base/log.h"
#include "runtime/base/status.h"
#include "runtime/container.h"
#include "runtime/container_internal.h"
#include "runtime/kernel/cgroups/cgroups.h"
#include "spec/parse.h"

namespace husk {
namespace {

// Where update keeps the container's current linux.resources (JSON), so a later update
// starts from it. Absent until the first update: the bundle's config says it then.
constexpr char kResourcesFile[] = "resources.json";
constexpr size_t kMaxResourcesJson = 1 << 20;

absl::StatusOr<rapidjson::Document> ParseObject(const std::string& text, absl::string_view what) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": not a JSON object"));
  }
  return doc;
}

// Objects merge key by key (recursively); anything else in `overlay` replaces the value.
void Merge(rapidjson::Value& base, const rapidjson::Value& overlay,
           rapidjson::Document::AllocatorType& alloc) {
  for (auto it = overlay.MemberBegin(); it != overlay.MemberEnd(); ++it) {
    auto found = base.FindMember(it->name);
    if (found != base.MemberEnd() && found->value.IsObject() && it->value.IsObject()) {
      Merge(found->value, it->value, alloc);
    } else if (found != base.MemberEnd()) {
      found->value.CopyFrom(it->value, alloc);
    } else {
      base.AddMember(rapidjson::Value(it->name, alloc), rapidjson::Value(it->value, alloc), alloc);
    }
  }
}

std::string ToJson(const rapidjson::Value& v) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  v.Accept(w);
  return std::string(buffer.GetString(), buffer.GetSize());
}

absl::StatusOr<std::string> ReadAllStdin() {
  std::string text;
  char buf[65536];
  for (;;) {
    ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("read resources from stdin");
    if (n == 0) return text;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMaxResourcesJson) {
      return absl::InvalidArgumentError("resources from stdin: larger than 1 MiB");
    }
  }
}

}  // namespace

absl::Status Pause(const GlobalOptions& global, const std::string& id) {
  ASSIGN_OR_RETURN(internal::Loaded c, internal::LoadContainer(global, id));
  // runc pauses a created container too (containerd refuses that itself).
  if (c.status != state::Status::kRunning && c.status != state::Status::kCreated) {
    return absl::FailedPreconditionError("container not running");
  }
  return kernel::cgroups::Freeze(c.record.cgroup_dirs);
}

absl::Status Resume(const GlobalOptions& global, const std::string& id) {
  ASSIGN_OR_RETURN(internal::Loaded c, internal::LoadContainer(global, id));
  if (c.status != state::Status::kPaused) return absl::FailedPreconditionError("container not paused");
  return kernel::cgroups::Thaw(c.record.cgroup_dirs);
}

absl::Status Update(const GlobalOptions& global, const std::string& id,
                    const UpdateOptions& options) {
  ASSIGN_OR_RETURN(internal::Loaded c, internal::LoadContainer(global, id));
  if (c.status == state::Status::kStopped) return absl::FailedPreconditionError("container not running");

  // What the caller asks for: the --resources JSON, then the individual flags on top.
  rapidjson::Document overlay(rapidjson::kObjectType);
  if (!options.resources.empty()) {
    std::string text;
    if (options.resources == "-") {
      ASSIGN_OR_RETURN(text, ReadAllStdin());
    } else {
      ASSIGN_OR_RETURN(text, ReadFile(options.resources, kMaxResourcesJson));
    }
    ASSIGN_OR_RETURN(overlay, ParseObject(text, absl::StrCat("--resources ", Quote(options.resources))));
  }
  for (const auto& [pointer, json] : options.set) {
    rapidjson::Document value;
    value.Parse(json.data(), json.size());
    if (value.HasParseError()) return absl::InternalError(absl::StrCat("update: bad value ", json));
    rapidjson::Pointer(pointer.c_str()).Set(overlay, value, overlay.GetAllocator());
  }

  // What the container has now: the last update's result, else the bundle's config.
  absl::StatusOr<std::string> saved = ReadFileAt(c.dir.fd(), kResourcesFile);
  rapidjson::Document current(rapidjson::kObjectType);
  rapidjson::Document config;
  std::string config_text;
  absl::StatusOr<std::string> config_read = ReadFile(c.record.bundle + "/config.json", 4 << 20);
  if (config_read.ok()) {
    config_text = *config_read;
    config.Parse(config_text.data(), config_text.size());
  }
  if (saved.ok()) {
    ASSIGN_OR_RETURN(current, ParseObject(*saved, kResourcesFile));
  } else if (config.IsObject()) {
    if (const rapidjson::Value* r = rapidjson::Pointer("/linux/resources").Get(config);
        r != nullptr && r->IsObject()) {
      current.CopyFrom(*r, current.GetAllocator());
    }
  }
  Merge(current, overlay, current.GetAllocator());
  std::string merged = ToJson(current);
  ASSIGN_OR_RETURN(spec::Resources resources, spec::ParseResources(merged));

  // Device rules are rewritten only when the update names them; they combine with the
  // config's linux.devices (each allowed rwm), as at create.
  bool update_devices = overlay.HasMember("devices");
  std::vector<spec::Device> devices;
  if (update_devices && !config_text.empty()) {
    absl::StatusOr<spec::Config> cfg = spec::ParseConfig(config_text);
    if (cfg.ok() && cfg->linux_config) devices = cfg->linux_config->devices;
  }
  ASSIGN_OR_RETURN(kernel::cgroups::Layout layout, kernel::cgroups::Detect());
  std::vector<std::string> warnings;
  RETURN_IF_ERROR(kernel::cgroups::UpdateResources(layout, c.record.cgroup_dirs, resources, devices,
                                                   update_devices, &warnings));
  for (const std::string& w : warnings) log::Warning(w);
  return WriteFileAtomic(absl::StrCat(c.dir.path(), "/", kResourcesFile), merged, 0600);
}

}  // namespace husk
