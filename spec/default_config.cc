#include "spec/default_config.h"

#include <initializer_list>
#include <vector>

#include "rapidjson/prettywriter.h"
#include "rapidjson/stringbuffer.h"

namespace husk::spec {
namespace {

using Writer = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

void Strings(Writer& w, std::initializer_list<const char*> list) {
  w.StartArray();
  for (const char* s : list) w.String(s);
  w.EndArray();
}

void KeyString(Writer& w, const char* key, const char* value) {
  w.Key(key);
  w.String(value);
}

void Mount(Writer& w, const char* destination, const char* type, const char* source,
           std::initializer_list<const char*> options) {
  w.StartObject();
  KeyString(w, "destination", destination);
  KeyString(w, "type", type);
  KeyString(w, "source", source);
  if (options.size() != 0) {
    w.Key("options");
    Strings(w, options);
  }
  w.EndObject();
}

void IdMap(Writer& w, const char* key, uint32_t host_id) {
  w.Key(key);
  w.StartArray();
  w.StartObject();
  w.Key("containerID");
  w.Uint(0);
  w.Key("hostID");
  w.Uint(host_id);
  w.Key("size");
  w.Uint(1);
  w.EndObject();
  w.EndArray();
}

void Process(Writer& w) {
  w.Key("process");
  w.StartObject();
  w.Key("terminal");
  w.Bool(true);
  w.Key("user");
  w.StartObject();
  w.Key("uid");
  w.Uint(0);
  w.Key("gid");
  w.Uint(0);
  w.EndObject();
  w.Key("args");
  Strings(w, {"sh"});
  w.Key("env");
  Strings(w, {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"});
  KeyString(w, "cwd", "/");
  w.Key("capabilities");
  w.StartObject();
  for (const char* set : {"bounding", "effective", "permitted", "ambient"}) {
    w.Key(set);
    Strings(w, {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"});
  }
  w.EndObject();
  w.Key("rlimits");
  w.StartArray();
  w.StartObject();
  KeyString(w, "type", "RLIMIT_NOFILE");
  w.Key("hard");
  w.Uint(1024);
  w.Key("soft");
  w.Uint(1024);
  w.EndObject();
  w.EndArray();
  w.Key("noNewPrivileges");
  w.Bool(true);
  w.EndObject();
}

void Mounts(Writer& w, bool rootless) {
  w.Key("mounts");
  w.StartArray();
  Mount(w, "/proc", "proc", "proc", {});
  Mount(w, "/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"});
  if (rootless) {
    // No gid=5: group 5 is usually unmapped in a single-id user namespace.
    Mount(w, "/dev/pts", "devpts", "devpts",
          {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"});
  } else {
    Mount(w, "/dev/pts", "devpts", "devpts",
          {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"});
  }
  Mount(w, "/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"});
  Mount(w, "/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"});
  if (rootless) {
    // A fresh sysfs needs a network namespace owned by our user namespace; rootless
    // configs keep the host's network, so bind the host's /sys instead.
    Mount(w, "/sys", "none", "/sys", {"rbind", "nosuid", "noexec", "nodev", "ro"});
  } else {
    Mount(w, "/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"});
  }
  Mount(w, "/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"});
  w.EndArray();
}

void Linux(Writer& w, bool rootless, uint32_t host_uid, uint32_t host_gid) {
  w.Key("linux");
  w.StartObject();
  if (rootless) {
    IdMap(w, "uidMappings", host_uid);
    IdMap(w, "gidMappings", host_gid);
  } else {
    w.Key("resources");
    w.StartObject();
    w.Key("devices");
    w.StartArray();
    w.StartObject();
    w.Key("allow");
    w.Bool(false);
    KeyString(w, "access", "rwm");
    w.EndObject();
    w.EndArray();
    w.EndObject();
  }
  w.Key("namespaces");
  w.StartArray();
  // Rootless keeps the host network (nothing could configure a new one) and adds user.
  const std::vector<const char*> namespaces =
      rootless ? std::vector<const char*>{"pid", "ipc", "uts", "mount", "user"}
               : std::vector<const char*>{"pid", "network", "ipc", "uts", "mount"};
  for (const char* type : namespaces) {
    w.StartObject();
    KeyString(w, "type", type);
    w.EndObject();
  }
  w.EndArray();
  w.Key("maskedPaths");
  Strings(w, {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
              "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
              "/proc/scsi"});
  w.Key("readonlyPaths");
  Strings(w, {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"});
  w.EndObject();
}

}  // namespace

std::string DefaultConfigJson(bool rootless, uint32_t host_uid, uint32_t host_gid) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.SetIndent('\t', 1);
  w.StartObject();
  KeyString(w, "ociVersion", "1.3.0");
  Process(w);
  w.Key("root");
  w.StartObject();
  KeyString(w, "path", "rootfs");
  w.Key("readonly");
  w.Bool(true);
  w.EndObject();
  KeyString(w, "hostname", "husk");
  Mounts(w, rootless);
  Linux(w, rootless, host_uid, host_gid);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace husk::spec
