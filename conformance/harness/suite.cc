#include "conformance/harness/suite.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "rapidjson/pointer.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace husk::conformance {
namespace {

constexpr char kNotSupported[] = "not supported yet";

std::atomic<int> g_seq{0};

std::string Unique(const std::string& case_name) {
  std::string s = "conf-" + std::to_string(::getpid()) + "-" + std::to_string(++g_seq);
  (void)case_name;
  return s;
}

// The message around "not supported yet" (the line holding it), or "".
std::string UnsupportedMessage(const std::string& text) {
  size_t at = text.find(kNotSupported);
  if (at == std::string::npos) return "";
  size_t begin = text.rfind('\n', at);
  begin = begin == std::string::npos ? 0 : begin + 1;
  size_t end = text.find('\n', at);
  std::string line = text.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
  // Prefer the "msg" of a JSON log line.
  rapidjson::Document d;
  if (ParseJson(line, &d) && d.IsObject() && d.HasMember("msg") && d["msg"].IsString()) {
    return d["msg"].GetString();
  }
  return line;
}

// Removes a tree without following symlinks or crossing into other filesystems' mounts.
void RemoveTree(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

}  // namespace

const char* OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kPass: return "pass";
    case Outcome::kFail: return "fail";
    case Outcome::kSkip: return "skip";
    case Outcome::kUnsupported: return "unsupported";
  }
  return "?";
}

std::vector<Case>& Registry() {
  static std::vector<Case> cases;
  return cases;
}

void Fail(const std::string& reason) { throw CaseEnd{{Outcome::kFail, reason}}; }
void Skip(const std::string& reason) { throw CaseEnd{{Outcome::kSkip, reason}}; }

bool ParseJson(const std::string& text, rapidjson::Document* doc) {
  doc->Parse(text.c_str(), text.size());
  return !doc->HasParseError();
}

std::string ToJson(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return buf.GetString();
}

const rapidjson::Value* Get(const rapidjson::Value& doc, const std::string& pointer) {
  return rapidjson::Pointer(pointer.c_str()).Get(doc);
}

std::string GetString(const rapidjson::Value& doc, const std::string& pointer) {
  const rapidjson::Value* v = Get(doc, pointer);
  return v && v->IsString() ? v->GetString() : "";
}

long long GetInt(const rapidjson::Value& doc, const std::string& pointer, long long fallback) {
  const rapidjson::Value* v = Get(doc, pointer);
  return v && v->IsInt64() ? v->GetInt64() : fallback;
}

Ctx::Ctx(const Runtime& rt, const Env& env, const std::string& case_name)
    : rt_(rt), env_(env) {
  id_ = Unique(case_name);
  ids_.push_back(id_);
  cgroups_path_ = "/husk-test/" + id_;
  bundle_ = env_.work_dir + "/" + rt_.name + "-" + id_;
  std::filesystem::create_directories(bundle_);
  ::chmod(bundle_.c_str(), 0755);
  // A private copy of the busybox rootfs plus the probe at /probe.
  std::filesystem::create_directories(rootfs());
  CmdResult cp = RunCmd({"cp", "-a", env_.rootfs + "/.", rootfs()});
  if (!cp.ok()) throw CaseEnd{{Outcome::kFail, "harness: " + cp.Describe()}};
  std::filesystem::copy_file(env_.probe, rootfs() + "/probe",
                             std::filesystem::copy_options::overwrite_existing);
  ::chmod((rootfs() + "/probe").c_str(), 0755);

  ParseJson(env_.base_config, &config_);
  Set("/process/terminal", "false");
  Set("/process/args", R"(["/probe"])");
  Set("/hostname", R"("conformance")");
  Set("/linux/cgroupsPath", "\"" + cgroups_path_ + "\"");
}

Ctx::~Ctx() { Cleanup(); }

void Ctx::Cleanup() {
  for (const auto& id : ids_) {
    if (std::filesystem::exists(rt_.root + "/" + id) || Pid(id) > 0) {
      Invoke({"delete", "--force", id});
      WaitPidGone(Pid(id), std::chrono::milliseconds(2000));
    }
  }
  ReapOrphans();
  // rmdir (never rm -r) leftover cgroups of this case ("/husk-test/<id>" and
  // "/husk-test/<id>-*"), deepest first.
  std::vector<std::string> hierarchies;
  if (env_.cgroup2_only) {
    hierarchies.push_back(env_.cgroup_mount);
  } else {
    for (const auto& entry : std::filesystem::directory_iterator(env_.cgroup_mount)) {
      hierarchies.push_back(entry.path().string());
    }
  }
  for (const std::string& hierarchy : hierarchies) {
    std::string parent = hierarchy + "/husk-test";
    std::error_code ec;
    if (!std::filesystem::is_directory(parent, ec)) continue;
    for (const auto& child : std::filesystem::directory_iterator(parent, ec)) {
      std::string name = child.path().filename().string();
      bool ours = false;
      for (const auto& id : ids_) ours |= name == id || name.rfind(id + "-", 0) == 0;
      if (!ours || !child.is_directory()) continue;
      std::vector<std::string> subdirs;
      std::error_code ec2;
      for (auto it = std::filesystem::recursive_directory_iterator(child.path(), ec2);
           !ec2 && it != std::filesystem::recursive_directory_iterator(); it.increment(ec2)) {
        if (it->is_directory()) subdirs.push_back(it->path().string());
      }
      for (auto s = subdirs.rbegin(); s != subdirs.rend(); ++s) ::rmdir(s->c_str());
      ::rmdir(child.path().c_str());
    }
  }
  // Never descend into a leaked mount: remove_all would then delete host files.
  if (!HasMountsUnder(bundle_)) {
    RemoveTree(bundle_);
  } else {
    std::fprintf(stderr, "conformance: leaving %s: mounts still reference it\n", bundle_.c_str());
  }
}

void Ctx::Set(const std::string& pointer, const std::string& json) {
  rapidjson::Document v(&config_.GetAllocator());
  v.Parse(json.c_str());
  if (v.HasParseError()) throw CaseEnd{{Outcome::kFail, "harness: bad JSON for " + pointer}};
  rapidjson::Value copy(v, config_.GetAllocator());
  rapidjson::Pointer(pointer.c_str()).Set(config_, copy);
}

void Ctx::Remove(const std::string& pointer) { rapidjson::Pointer(pointer.c_str()).Erase(config_); }

void Ctx::SetArgs(const std::vector<std::string>& args) {
  rapidjson::Value arr(rapidjson::kArrayType);
  for (const auto& a : args) {
    arr.PushBack(rapidjson::Value(a.c_str(), config_.GetAllocator()), config_.GetAllocator());
  }
  rapidjson::Pointer("/process/args").Set(config_, arr);
}

void Ctx::ProbeArgs(const std::vector<std::string>& probe_args) {
  std::vector<std::string> args = {"/probe"};
  args.insert(args.end(), probe_args.begin(), probe_args.end());
  SetArgs(args);
}

void Ctx::AddMount(const std::string& json) {
  rapidjson::Document m(&config_.GetAllocator());
  m.Parse(json.c_str());
  if (m.HasParseError()) throw CaseEnd{{Outcome::kFail, "harness: bad mount JSON"}};
  rapidjson::Value copy(m, config_.GetAllocator());
  config_["mounts"].PushBack(copy, config_.GetAllocator());
}

void Ctx::AddNamespace(const std::string& type, const std::string& path) {
  RemoveNamespace(type);
  auto& a = config_.GetAllocator();
  rapidjson::Value ns(rapidjson::kObjectType);
  ns.AddMember("type", rapidjson::Value(type.c_str(), a), a);
  if (!path.empty()) ns.AddMember("path", rapidjson::Value(path.c_str(), a), a);
  config_["linux"]["namespaces"].PushBack(ns, a);
}

void Ctx::RemoveNamespace(const std::string& type) {
  auto& list = config_["linux"]["namespaces"];
  for (auto it = list.Begin(); it != list.End();) {
    if (type == (*it)["type"].GetString()) {
      it = list.Erase(it);
    } else {
      ++it;
    }
  }
}

void Ctx::WriteConfig() {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  config_.Accept(w);
  WriteFileText(bundle_ + "/config.json", buf.GetString());
}

std::string Ctx::NewId() {
  std::string id = Unique("");
  ids_.push_back(id);
  return id;
}

std::string Ctx::MakeDir(const std::string& name) {
  std::string dir = bundle_ + "/" + name;
  std::filesystem::create_directories(dir);
  ::chmod(dir.c_str(), 0777);
  return dir;
}

CmdResult Ctx::Invoke(const std::vector<std::string>& args, const CmdOptions& opts) {
  std::string log = bundle_ + "/log-" + std::to_string(++log_seq_) + ".json";
  std::vector<std::string> argv = rt_.prefix;
  argv.push_back(rt_.binary);
  for (const auto& a : {std::string("--root"), rt_.root, std::string("--log"), log,
                        std::string("--log-format"), std::string("json")}) {
    argv.push_back(a);
  }
  argv.insert(argv.end(), args.begin(), args.end());
  CmdResult r = RunCmd(argv, opts);
  r.command = rt_.name + " " + (args.empty() ? "" : args[0]);  // short form for reasons
  last_log_ = ReadFileOr(log);
  if (!r.ok() && r.err.empty() && r.out.empty()) r.err = last_log_;
  return r;
}

CmdResult Ctx::Create(const std::string& id, const std::string& bundle) {
  WriteConfig();
  std::string cid = IdOr(id);
  CmdOptions o;
  o.stdout_file = bundle_ + "/" + cid + ".out";
  o.stderr_file = bundle_ + "/" + cid + ".err";
  std::string pidfile = bundle_ + "/" + cid + ".pid";
  CmdResult r = Invoke(
      {"create", "--bundle", bundle.empty() ? bundle_ : bundle, "--pid-file", pidfile, cid}, o);
  // The runtime's own stderr went to the container's .err file.
  if (!r.ok() && r.err.empty()) r.err = ReadFileOr(o.stderr_file);
  return r;
}

CmdResult Ctx::RunForeground(const std::string& id) {
  WriteConfig();
  std::string cid = IdOr(id);
  CmdOptions o;
  o.stdout_file = bundle_ + "/" + cid + ".out";
  o.stderr_file = bundle_ + "/" + cid + ".err";
  CmdResult r =
      Invoke({"run", "--bundle", bundle_, "--pid-file", bundle_ + "/" + cid + ".pid", cid}, o);
  if (!r.ok() && r.err.empty()) r.err = ReadFileOr(o.stderr_file);
  return r;
}

CmdResult Ctx::Start(const std::string& id) { return Invoke({"start", IdOr(id)}); }
CmdResult Ctx::State(const std::string& id) { return Invoke({"state", IdOr(id)}); }
CmdResult Ctx::Kill(const std::string& signal, const std::string& id) {
  return Invoke({"kill", IdOr(id), signal});
}
CmdResult Ctx::Delete(bool force, const std::string& id) {
  if (force) return Invoke({"delete", "--force", IdOr(id)});
  return Invoke({"delete", IdOr(id)});
}

void Ctx::EndIfUnsupported(const CmdResult& r) {
  if (r.ok()) return;
  std::string msg = UnsupportedMessage(r.err + "\n" + r.out + "\n" + last_log_);
  if (!msg.empty()) throw CaseEnd{{Outcome::kUnsupported, msg}};
}

void Ctx::MustCreate(const std::string& id) {
  CmdResult r = Create(id);
  EndIfUnsupported(r);
  if (!r.ok()) Fail("create: " + r.Describe());
}

void Ctx::MustStart(const std::string& id) {
  CmdResult r = Start(id);
  EndIfUnsupported(r);
  if (!r.ok()) Fail("start: " + r.Describe());
}

void Ctx::MustDelete(bool force, const std::string& id) {
  CmdResult r = Delete(force, id);
  if (!r.ok()) Fail("delete: " + r.Describe());
}

rapidjson::Document Ctx::MustState(const std::string& id) {
  CmdResult r = State(id);
  if (!r.ok()) Fail("state: " + r.Describe());
  rapidjson::Document d;
  if (!ParseJson(r.out, &d) || !d.IsObject()) Fail("state printed no JSON object: " + r.out);
  return d;
}

std::string Ctx::Status(const std::string& id) {
  return GetString(MustState(id), "/status");
}

pid_t Ctx::Pid(const std::string& id) {
  std::string s = ReadFileOr(bundle_ + "/" + IdOr(id) + ".pid");
  return s.empty() ? -1 : static_cast<pid_t>(std::atoi(s.c_str()));
}

void Ctx::WaitExit(const std::string& id, int timeout_ms) {
  pid_t pid = Pid(id);
  if (pid <= 0) Fail("no pid file for " + IdOr(id));
  if (!WaitPidGone(pid, std::chrono::milliseconds(timeout_ms))) {
    Fail("container process " + std::to_string(pid) + " did not exit within " +
         std::to_string(timeout_ms) + " ms");
  }
}

std::string Ctx::ContainerOut(const std::string& id) {
  return ReadFileOr(bundle_ + "/" + IdOr(id) + ".out");
}
std::string Ctx::ContainerErr(const std::string& id) {
  return ReadFileOr(bundle_ + "/" + IdOr(id) + ".err");
}

rapidjson::Document Ctx::RunProbe(const std::vector<std::string>& probe_args) {
  ProbeArgs(probe_args);
  return RunToCompletion();
}

rapidjson::Document Ctx::RunToCompletion() {
  MustCreate();
  MustStart();
  WaitExit();
  MustDelete();
  rapidjson::Document d;
  std::string out = ContainerOut();
  if (!ParseJson(out, &d) || !d.IsObject()) {
    Fail("no probe report; stdout: " + out.substr(0, 300) + " stderr: " +
         ContainerErr().substr(0, 300));
  }
  return d;
}

std::vector<std::string> Ctx::CgroupDirs() const {
  std::vector<std::string> dirs;
  if (env_.cgroup2_only) {
    std::string dir = env_.cgroup_mount + cgroups_path_;
    if (std::filesystem::is_directory(dir)) dirs.push_back(dir);
    return dirs;
  }
  for (const auto& entry : std::filesystem::directory_iterator(env_.cgroup_mount)) {
    std::string dir = entry.path().string() + cgroups_path_;
    if (std::filesystem::is_directory(dir)) dirs.push_back(dir);
  }
  return dirs;
}

std::string Ctx::CgroupFile(const std::string& controller, const std::string& file) const {
  std::string hierarchy = env_.cgroup2_only ? env_.cgroup_mount : env_.cgroup_mount + "/" + controller;
  std::string v = ReadFileOr(hierarchy + cgroups_path_ + "/" + file);
  while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.pop_back();
  return v;
}

}  // namespace husk::conformance
